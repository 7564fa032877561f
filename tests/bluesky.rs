//! Bluesky end to end: the real binary, on the console chat, polling a fake PDS
//! (`tests/support/bluesky.rs`) that speaks atproto's XRPC. What reached the PDS is read
//! back from the fake, what the team saw from the console's journal. The last tests drive
//! the publisher on its own against the fake, for what the binary cannot be made to do
//! (a record already at the key).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/background.rs"]
mod background;
#[path = "support/bluesky.rs"]
mod bluesky;
#[path = "support/console.rs"]
mod console;
#[path = "support/run.rs"]
mod run;

use std::sync::Arc;
use std::time::Duration;

use bluesky::{BRAND_PASSWORD, FakeBluesky, Fault, LIKE, POST, REPOST, did_of};
use carebridge::engine::{Author, DraftKind, NetworkAction, PostKind, Reference, StrongRef};
use carebridge::social::bluesky::client::Client;
use carebridge::social::bluesky::publish::BlueskyPublisher;
use carebridge::social::{ActRequest, PublishRequest, Publisher};
use console::Console;
use run::wait_until;
use serde_json::json;

const WAIT: Duration = Duration::from_secs(20);
const PUT: &str = "com.atproto.repo.putRecord";
const NOTIFICATIONS: &str = "app.bsky.notification.listNotifications";
const JANE: &str = "jane.bsky.social";
const FAMILY: &str = "👨‍👩‍👧‍👧";

/// The brand's `[[accounts]]` on `fake`, polling every second.
fn account(fake: &FakeBluesky) -> String {
    format!(
        r#"
[[accounts]]
id = "acme-bsky"
network = "bluesky"
api_url = "{url}"
approval = "always"
poll_interval = "1s"
auth = {{ kind = "app_password", identifier = "acme.bsky.social", password = "{BRAND_PASSWORD}" }}
"#,
        url = fake.api_url()
    )
}

/// A console bot on `fake`, once it has read where the notifications stand (its first poll).
fn started(fake: &FakeBluesky) -> Console {
    let console = Console::new(&account(fake));
    fake.wait_for(NOTIFICATIONS, 1, WAIT);
    console
}

/// A bot on a fresh fake with case 1 opened by Jane's mention; the mention's URI.
async fn jane_case() -> (FakeBluesky, Console, String) {
    let fake = FakeBluesky::start();
    let console = started(&fake);
    let mention = fake.mention(JANE, "my parcel never arrived");
    console.wait_cases(1).await;
    (fake, console, mention)
}

/// The byte range of a record's `n`th facet, and its feature.
fn facet(record: &serde_json::Value, n: usize) -> (u64, u64, serde_json::Value) {
    let f = &record["facets"][n];
    (
        f["index"]["byteStart"].as_u64().unwrap(),
        f["index"]["byteEnd"].as_u64().unwrap(),
        f["features"][0].clone(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mention_is_one_case_and_the_approved_reply_is_put_once_threaded_and_mentioning() {
    let fake = FakeBluesky::start();
    // Before the first start: where the account stands, not a case.
    fake.mention("old.bsky.social", "from last week");
    let mut console = started(&fake);
    let mention = fake.mention(JANE, "my parcel never arrived");
    console.wait_cases(1).await;
    console.reply_and_approve("Sorry about that! Tracking: https://acme.example/t/1.");
    console.wait_text("published as").await;

    let replies = fake.replies_to(&mention);
    assert_eq!(replies.len(), 1, "{replies:#?}");
    let ours = &replies[0];
    let text = "@jane.bsky.social Sorry about that! Tracking: https://acme.example/t/1.";
    assert_eq!(ours.text(), text);
    let parent = fake.record(&mention).unwrap().strong_ref();
    assert_eq!(ours.value["reply"]["parent"], parent);
    assert_eq!(ours.value["reply"]["root"], parent);
    assert_eq!(
        facet(&ours.value, 0),
        (
            0,
            17,
            json!({"$type": "app.bsky.richtext.facet#mention", "did": did_of(JANE)})
        )
    );
    let (start, end, link) = facet(&ours.value, 1);
    assert_eq!(
        &text[start as usize..end as usize],
        "https://acme.example/t/1"
    );
    assert_eq!(link["uri"], "https://acme.example/t/1");
    // A TID derived from the draft, and the approval time as the record's time.
    assert_eq!(ours.rkey.len(), 13);
    assert!(ours.value["createdAt"].as_str().unwrap().ends_with('Z'));
    assert_eq!(fake.wait_for(PUT, 1, WAIT).len(), 1);
    assert_eq!(fake.create_sessions(), 1);
    console.stop();

    assert_eq!(
        console.bot.cases().len(),
        1,
        "the old mention opened a case"
    );
    let case = console.bot.case(1);
    assert_eq!(case["author"]["handle"], JANE);
    assert_eq!(case["author"]["id"], did_of(JANE));
    assert_eq!(case["posts"][0]["id"], mention.as_str());
    assert_eq!(
        case["posts"][0]["text"],
        "@acme.bsky.social my parcel never arrived"
    );
    assert_eq!(case["drafts"][0]["published_id"], ours.uri.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mention_inside_a_thread_is_answered_under_the_threads_root_with_byte_offsets() {
    let fake = FakeBluesky::start();
    let mut console = started(&fake);
    // Bob starts a thread; Jane answers him and mentions us there.
    let root = fake.post("bob.bsky.social", "anyone else's parcel late?", None, false);
    let mention = fake.post(JANE, "same here", Some(&root), true);
    console.wait_cases(1).await;
    // The agent names Jane after emoji ZWJ sequences: no second mention is put first.
    let text = format!("{FAMILY}🏳️‍🌈 Hi @jane.bsky.social, checking now");
    console.reply_and_approve(&text);
    console.wait_text("published as").await;
    let replies = fake.replies_to(&mention);
    assert_eq!(replies.len(), 1);
    let ours = &replies[0].value;
    assert_eq!(ours["text"], text.as_str());
    assert_eq!(
        ours["reply"]["root"],
        fake.record(&root).unwrap().strong_ref()
    );
    assert_eq!(
        ours["reply"]["parent"],
        fake.record(&mention).unwrap().strong_ref()
    );
    // 25 bytes of family, 14 of rainbow flag, a space, "Hi ": the mention starts at 43.
    let (start, end, feature) = facet(ours, 0);
    assert_eq!((start, end), (43, 60));
    assert_eq!(&text.as_bytes()[43..60], b"@jane.bsky.social");
    assert_eq!(feature["did"], did_of(JANE));
    console.stop();
    assert_eq!(console.bot.case(1)["conversation_id"], root.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_keeps_the_session_and_an_expired_token_is_refreshed_not_logged_in() {
    let (fake, mut console, _) = jane_case().await;
    console.stop();
    console.start();
    fake.mention("bob.bsky.social", "and mine?");
    console.wait_cases(2).await;
    assert_eq!(fake.create_sessions(), 1, "the restart logged in again");

    fake.expire_access_tokens();
    fake.mention("carol.bsky.social", "me too");
    console.wait_cases(3).await;
    assert_eq!(fake.create_sessions(), 1, "an expired token led to a login");
    let refreshes = fake.wait_for("com.atproto.server.refreshSession", 1, WAIT);
    assert_eq!(refreshes[0].status, 200);

    // Sessions revoked: only then does it log in.
    fake.end_sessions();
    fake.mention("dan.bsky.social", "hello?");
    console.wait_cases(4).await;
    assert_eq!(fake.create_sessions(), 2);
    console.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_while_the_puts_answer_is_lost_leaves_exactly_one_reply() {
    let (fake, mut console, mention) = jane_case().await;
    fake.fail_next(PUT, Fault::Lost);
    console.reply_and_approve("Sorry, Jane — refund on its way.");
    fake.wait_for(PUT, 1, WAIT);
    console.kill();
    console.start();
    console.wait_text("published as").await;
    console.stop();
    let replies = fake.replies_to(&mention);
    assert_eq!(replies.len(), 1, "{replies:#?}");
    assert_eq!(
        console.bot.case(1)["drafts"][0]["published_id"],
        replies[0].uri.as_str()
    );
    assert_eq!(fake.create_sessions(), 1);
    // The restart looked before it put again, and found it.
    assert_eq!(fake.wait_for(PUT, 1, WAIT).len(), 1);
    assert!(
        fake.calls()
            .iter()
            .any(|c| c.route == "com.atproto.repo.getRecord" && c.status == 200),
        "the restart did not look for the reply"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_delays_the_poll_and_the_reply_but_loses_nothing() {
    let fake = FakeBluesky::start();
    let mut console = started(&fake);
    fake.fail_next(NOTIFICATIONS, Fault::RateLimited { secs: 1 });
    fake.fail_next(NOTIFICATIONS, Fault::Unavailable);
    let mention = fake.mention(JANE, "hello?");
    console.wait_cases(1).await;
    fake.fail_next(PUT, Fault::RateLimited { secs: 1 });
    console.reply_and_approve("On it!");
    console.wait_text("published as").await;
    let puts = fake.wait_for(PUT, 2, WAIT);
    assert_eq!(
        puts.iter().map(|c| c.status).collect::<Vec<_>>(),
        [429, 200]
    );
    assert_eq!(puts[0].body, puts[1].body, "the retry put another record");
    assert_eq!(fake.replies_to(&mention).len(), 1);
    console.stop();
    assert_eq!(console.bot.cases().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_to_our_reply_joins_the_case_is_liked_reposted_and_our_reply_deleted() {
    let (fake, mut console, mention) = jane_case().await;
    console.reply_and_approve("Which order number?");
    console.wait_text("published as").await;
    let ours = fake.replies_to(&mention)[0].uri.clone();
    // A plain reply to our post: a `reply` notification, in the same thread.
    let answer = fake.post(JANE, "It is 4411", Some(&ours), false);
    console.wait_text("It is 4411").await;
    console.say("#1 !like");
    assert!(wait_until(WAIT, || fake.has(LIKE, &answer)), "not liked");
    console.say("#1 !like");
    console.say("#1 !unlike");
    assert!(wait_until(WAIT, || !fake.has(LIKE, &answer)), "still liked");
    console.say("#1 !repost");
    assert!(
        wait_until(WAIT, || fake.has(REPOST, &answer)),
        "not reposted"
    );
    console.say("#1 !delete");
    assert!(
        wait_until(WAIT, || fake.ours(POST).is_empty()),
        "our reply is still there"
    );
    console.stop();
    assert_eq!(console.bot.cases().len(), 1);
    assert_eq!(console.bot.case(1)["posts"].as_array().unwrap().len(), 2);
    assert!(fake.ours(LIKE).is_empty());
    assert_eq!(fake.ours(REPOST).len(), 1);
}

// --- the publisher on its own ---------------------------------------------------------

/// A publisher for the fake's brand account, with a store of its own.
fn publisher(fake: &FakeBluesky, dir: &std::path::Path) -> BlueskyPublisher {
    let config = carebridge::config::Config::from_toml_str(&account(fake), dir, &|_| None).unwrap();
    let account = &config.accounts[0];
    let settings = account.bluesky.as_ref().unwrap();
    let store = carebridge::store::Store::open(dir, Duration::from_millis(100)).unwrap();
    let client = Client::new(
        account,
        &settings.identifier,
        settings.password.clone(),
        store,
        carebridge::health::Health::new(),
    )
    .unwrap();
    BlueskyPublisher::new(Arc::new(client))
}

/// Jane's mention as the case would ask to answer it.
fn request(fake: &FakeBluesky, mention: &str) -> PublishRequest {
    let record = fake.record(mention).unwrap();
    PublishRequest {
        account: "acme-bsky".into(),
        case: 1,
        draft: "1.1".into(),
        kind: DraftKind::Public,
        text: "Thanks!".into(),
        in_reply_to: mention.into(),
        parent: None,
        reference: Some(Reference {
            cid: record.cid.clone(),
            root: StrongRef {
                uri: record.uri.clone(),
                cid: record.cid.clone(),
            },
        }),
        conversation_id: mention.into(),
        author: Author {
            id: did_of(JANE),
            handle: JANE.into(),
            name: None,
        },
        approved_at: Some(chrono::Utc::now()),
        drafted_at: chrono::Utc::now() - chrono::TimeDelta::minutes(5),
        target_kind: PostKind::Mention,
        last_direct_at: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn putting_the_same_reply_again_or_over_a_different_record_publishes_once() {
    let fake = FakeBluesky::start();
    let dir = tempfile::tempdir().unwrap();
    let publisher = publisher(&fake, dir.path());
    let mention = fake.mention(JANE, "hi");
    let request = request(&fake, &mention);
    assert_eq!(
        publisher.find("acme-bsky/1.1", &request).await.unwrap(),
        None
    );
    let first = publisher.publish("acme-bsky/1.1", &request).await.unwrap();
    // The same record again: 200 with what is there.
    let again = publisher.publish("acme-bsky/1.1", &request).await.unwrap();
    assert_eq!(first, again);
    assert_eq!(
        publisher.find("acme-bsky/1.1", &request).await.unwrap(),
        Some(first.clone())
    );
    // Something else at the key (`InvalidSwap`): it went out before; read back.
    let edited = PublishRequest {
        text: "Thanks, edited".into(),
        ..request.clone()
    };
    let over = publisher.publish("acme-bsky/1.1", &edited).await.unwrap();
    assert_eq!(over, first);
    // Approved again after a withdrawal (another createdAt): the same key, so the same reply.
    let reapproved = PublishRequest {
        approved_at: Some(chrono::Utc::now() + chrono::TimeDelta::minutes(1)),
        ..request.clone()
    };
    let again = publisher
        .publish("acme-bsky/1.1", &reapproved)
        .await
        .unwrap();
    assert_eq!(again, first);
    let puts = fake.wait_for(PUT, 4, WAIT);
    assert_eq!(
        puts.iter().map(|c| c.status).collect::<Vec<_>>(),
        [200, 200, 400, 400]
    );
    assert_eq!(fake.replies_to(&mention).len(), 1);
    assert_eq!(fake.create_sessions(), 1);

    // Only our own records are ours to delete.
    let foreign = ActRequest {
        account: "acme-bsky".into(),
        case: 1,
        action: NetworkAction::Delete {
            draft: "1.1".into(),
            id: mention.clone(),
        },
        target: None,
    };
    let refused = publisher.act(&foreign).await.unwrap_err();
    assert!(!refused.retryable);
    assert!(
        refused
            .reason
            .contains("not in the brand account's repository"),
        "{refused:?}"
    );
    assert!(fake.record(&mention).is_some());

    // A wrong password: refused, said so, and not tried in a loop.
    let other = tempfile::tempdir().unwrap();
    let toml = account(&fake).replace(BRAND_PASSWORD, "wrong-password");
    let config = carebridge::config::Config::from_toml_str(&toml, other.path(), &|_| None).unwrap();
    let account = &config.accounts[0];
    let settings = account.bluesky.as_ref().unwrap();
    let client = Client::new(
        account,
        &settings.identifier,
        settings.password.clone(),
        carebridge::store::Store::open(other.path(), Duration::from_millis(100)).unwrap(),
        carebridge::health::Health::new(),
    )
    .unwrap();
    let refused = BlueskyPublisher::new(Arc::new(client))
        .publish("acme-bsky/1.2", &request)
        .await
        .unwrap_err();
    assert!(!refused.retryable);
    assert!(
        refused.reason.contains("app password"),
        "{}",
        refused.reason
    );
    assert!(!refused.reason.contains("wrong-password"));
    assert_eq!(fake.create_sessions(), 2);
}

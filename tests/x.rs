//! X end to end: the real binary, on the console chat, against the fake X API in
//! `tests/support/x.rs`. Customers mention and DM the brand on the fake; the bot polls (or
//! receives webhook deliveries), opens cases, and publishes what approvers approve; what
//! reached X is read back from the fake, what the team saw from the console's journal.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/background.rs"]
mod background;
#[path = "support/console.rs"]
mod console;
#[path = "support/run.rs"]
mod run;
#[path = "support/x.rs"]
mod x;

use std::time::Duration;

use console::Console;
use serde_json::Value;
use x::{Call, FakeAuth, FakeX, Fault};

const WAIT: Duration = Duration::from_secs(20);
const ACCESS: &str = "access-1";
const REFRESH: &str = "refresh-1";
const CLIENT_ID: &str = "client-abc";
const CLIENT_SECRET: &str = "client-secret-xyz";
/// X's documented CRC example (platforms.md §3.3).
const CRC_SECRET: &str = "z3ZX4v7mAAUGykl3EcmkqbartmuW8VFOOzCloLx9Q45P0hLrFu";

fn oauth2() -> FakeAuth {
    FakeAuth::OAuth2 {
        access: ACCESS.to_owned(),
        refresh: REFRESH.to_owned(),
        client_id: CLIENT_ID.to_owned(),
        client_secret: CLIENT_SECRET.to_owned(),
    }
}

/// The `[[accounts]]` entry of an X account on `fake`, with `extra` keys.
fn account(fake: &FakeX, auth: &str, extra: &str) -> String {
    format!(
        r#"
[[accounts]]
id = "acme-x"
network = "x"
api_url = "{url}"
poll_interval = "1s"
approval = "always"
auth = {auth}
{extra}
"#,
        url = fake.url()
    )
}

fn oauth2_auth() -> String {
    format!(
        r#"{{ kind = "oauth2", access_token = "{ACCESS}", refresh_token = "{REFRESH}", client_id = "{CLIENT_ID}", client_secret = "{CLIENT_SECRET}" }}"#
    )
}

/// Waits for the second poll of the endpoint whose path ends with `path`: the first, which
/// only noted where the feed stood, is over.
async fn primed(fake: &FakeX, path: &str) {
    fake.wait_for(&format!("two polls of {path}"), WAIT, |calls| {
        calls.iter().filter(|c| c.path.ends_with(path)).count() >= 2
    })
    .await;
}

fn count(calls: &[Call], method: &str, path: &str) -> usize {
    calls
        .iter()
        .filter(|c| c.method == method && c.path == path)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mentions_become_cases_once_each_and_a_follow_up_joins_its_case() {
    let fake = FakeX::start(oauth2()).await;
    let jane = fake.add_user("jane", "Jane Doe");
    let sam = fake.add_user("sam", "Sam");
    // Before the first start: history, not imported without `backfill`.
    fake.mention(&sam, "@acme old news from last week");
    let mut console = Console::new(&account(&fake, &oauth2_auth(), ""));
    primed(&fake, "/mentions").await;
    let first = fake.mention(&jane, "@acme my order never arrived");
    console.wait_cases(1).await;
    fake.reply(&jane, &first, "@acme hello?? still nothing");
    console.wait_text("hello?? still nothing").await;
    // Overlapping polls and a restart: still one case per conversation, nothing lost.
    console.kill();
    let while_down = fake.mention(&sam, "@acme is the app down?");
    console.start();
    console.wait_cases(2).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    console.stop();

    let cases = console.bot.cases();
    assert_eq!(cases.len(), 2, "{cases:#?}");
    assert_eq!(cases[0]["author"]["handle"], "jane");
    assert_eq!(cases[0]["author"]["name"], "Jane Doe");
    assert_eq!(cases[0]["platform"], "x");
    assert_eq!(cases[0]["kind"], "mention");
    assert_eq!(cases[0]["posts"].as_array().unwrap().len(), 2);
    assert_eq!(cases[0]["posts"][0]["id"], first.as_str());
    assert_eq!(
        cases[0]["posts"][0]["permalink"],
        format!("https://x.com/jane/status/{first}").as_str()
    );
    assert_eq!(cases[1]["posts"][0]["id"], while_down.as_str());
    // The account's id was asked once and remembered across the restart.
    assert_eq!(count(&fake.calls(), "GET", "/2/users/me"), 1);
}

/// Claims case 1 as maria, drafts `text` and has lee approve it.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approved_reply_is_posted_once_under_the_customer_post() {
    let fake = FakeX::start(oauth2()).await;
    let jane = fake.add_user("jane", "Jane Doe");
    let mut console = Console::new(&account(&fake, &oauth2_auth(), ""));
    primed(&fake, "/mentions").await;
    let mention = fake.mention(&jane, "@acme my order never arrived");
    console.wait_cases(1).await;
    console.reply_and_approve("Sorry, Jane! Could you DM us the order number?");
    console.wait_text("published as").await;
    // Like her post, then take our reply down again.
    console.say("as maria");
    console.say("#1 !like");
    console.say("#1 !delete");
    console
        .wait_for("the like and the deletion", |c| {
            c.texts()
                .iter()
                .filter(|t| t.contains("(by @maria)"))
                .count()
                >= 2
        })
        .await;
    console.stop();
    assert_eq!(fake.likes(), vec![mention.clone()]);

    let posted = fake.posted();
    assert_eq!(posted.len(), 1, "{posted:?}");
    assert_eq!(posted[0].in_reply_to.as_deref(), Some(mention.as_str()));
    assert_eq!(
        posted[0].text,
        "Sorry, Jane! Could you DM us the order number?"
    );
    let case = console.bot.case(1);
    assert_eq!(case["drafts"][0]["state"], "published");
    assert_eq!(case["drafts"][0]["published_id"], posted[0].id.as_str());
    assert_eq!(case["status"], "waiting");
    assert!(case["drafts"][0]["deleted_at"].is_string(), "{case:#}");
    let calls = fake.calls();
    assert_eq!(count(&calls, "POST", "/2/tweets"), 1);
    assert_eq!(
        count(&calls, "DELETE", &format!("/2/tweets/{}", posted[0].id)),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_between_send_and_commit_still_publishes_exactly_once() {
    let fake = FakeX::start(oauth2()).await;
    let jane = fake.add_user("jane", "Jane Doe");
    let mut console = Console::new(&account(&fake, &oauth2_auth(), ""));
    primed(&fake, "/mentions").await;
    fake.mention(&jane, "@acme my order never arrived");
    console.wait_cases(1).await;
    // X creates the tweet, and the answer never comes back: the bot dies waiting.
    fake.fail_next("POST", "/2/tweets", Fault::Hang);
    console.reply_and_approve("On it, Jane.");
    fake.wait_for("the reply to reach X", WAIT, |calls| {
        count(calls, "POST", "/2/tweets") == 1
    })
    .await;
    console.kill();
    assert_eq!(fake.posted().len(), 1);

    console.start();
    console.wait_text("published as").await;
    console.stop();
    let posted = fake.posted();
    assert_eq!(posted.len(), 1, "{posted:?}");
    assert_eq!(
        count(&fake.calls(), "POST", "/2/tweets"),
        1,
        "the restart looked before sending again"
    );
    let case = console.bot.case(1);
    assert_eq!(case["drafts"][0]["state"], "published");
    assert_eq!(case["drafts"][0]["published_id"], posted[0].id.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_content_is_already_published_for_the_same_reply_and_a_failure_otherwise() {
    let fake = FakeX::start(oauth2()).await;
    let jane = fake.add_user("jane", "Jane Doe");
    let sam = fake.add_user("sam", "Sam");
    let mut console = Console::new(&account(&fake, &oauth2_auth(), ""));
    primed(&fake, "/mentions").await;
    let mention = fake.mention(&jane, "@acme my order never arrived");
    console.wait_cases(1).await;
    // The same reply went out before the bot knew (as after a lost answer).
    let text = "Sorry Jane, we are on it.";
    let http = reqwest::Client::new();
    let created = http
        .post(format!("{}2/tweets", fake.url()))
        .bearer_auth(fake.tokens().0)
        .json(&serde_json::json!({"text": text, "reply": {"in_reply_to_tweet_id": mention}}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    console.reply_and_approve(text);
    console.wait_text("published as").await;
    assert_eq!(fake.posted().len(), 1, "X holds one reply to Jane");

    // The same words already went to this customer under another post: X refuses the
    // reply as a duplicate, and the owner is told why.
    let earlier = fake.tweet(&sam, "thinking about acme");
    let sent = http
        .post(format!("{}2/tweets", fake.url()))
        .bearer_auth(fake.tokens().0)
        .json(&serde_json::json!({"text": "We are looking into it.", "reply": {"in_reply_to_tweet_id": earlier}}))
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 201);
    let other = fake.mention(&sam, "@acme same problem here");
    console.wait_cases(2).await;
    console.say("as maria");
    console.say("#2 !claim");
    console.say("#2 !reply We are looking into it.");
    console.say("as lee");
    console.say("react ✅ 2.1");
    console.wait_text("Reword").await;
    console.stop();
    let case = console.bot.case(2);
    assert_eq!(case["drafts"][0]["state"], "failed");
    assert!(
        fake.posted()
            .iter()
            .all(|p| p.in_reply_to.as_deref() != Some(other.as_str())),
        "nothing was posted under the second customer's post"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_dm_is_reported_to_the_owner_in_the_thread() {
    let fake = FakeX::start(oauth2()).await;
    let jane = fake.add_user("jane", "Jane Doe");
    fake.refuse_dms(&jane.id);
    let mut console = Console::new(&account(&fake, &oauth2_auth(), ""));
    primed(&fake, "/2/dm_events").await;
    fake.dm(&jane, "hi, my card was charged twice");
    console.wait_cases(1).await;
    console.reply_and_approve("Sorry Jane, which card ends in?");
    console.wait_text("follow").await;
    console.stop();
    let case = console.bot.case(1);
    assert_eq!(case["kind"], "direct_message");
    assert_eq!(case["drafts"][0]["kind"], "direct");
    assert_eq!(case["drafts"][0]["state"], "failed");
    assert!(fake.sent_dms().is_empty());
    let failure = console
        .texts()
        .into_iter()
        .find(|t| t.contains("follow"))
        .unwrap();
    assert!(
        failure.contains("@maria"),
        "addressed to the owner: {failure}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_is_refreshed_and_the_new_one_survives_a_restart() {
    let fake = FakeX::start(oauth2()).await;
    let jane = fake.add_user("jane", "Jane Doe");
    let mut console = Console::new(&account(&fake, &oauth2_auth(), ""));
    primed(&fake, "/mentions").await;
    fake.expire_token();
    fake.mention(&jane, "@acme first");
    console.wait_cases(1).await;
    let (access, refresh) = fake.tokens();
    assert_ne!(access, ACCESS);
    assert_ne!(refresh, REFRESH);
    console.kill();

    // The configured tokens are dead now; the stored ones must be used.
    console.start();
    fake.mention(&jane, "@acme second, new conversation");
    console.wait_cases(2).await;
    console.stop();
    assert_eq!(
        count(&fake.calls(), "POST", "/2/oauth2/token"),
        1,
        "one refresh, kept across the restart"
    );
    let config = std::fs::read_to_string(console.bot.config()).unwrap();
    assert!(config.contains(ACCESS), "bot.toml is not rewritten");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_are_waited_out_until_the_reset() {
    let fake = FakeX::start(oauth2()).await;
    let jane = fake.add_user("jane", "Jane Doe");
    fake.fail_next(
        "GET",
        "/2/users/1000/mentions",
        Fault::RateLimited {
            reset_in: Duration::from_secs(3),
        },
    );
    let mut console = Console::new(&account(&fake, &oauth2_auth(), "dms = false"));
    fake.wait_for("the rate-limited poll", WAIT, |calls| {
        calls.iter().any(|c| c.path.ends_with("/mentions"))
    })
    .await;
    let limited_at = std::time::Instant::now();
    primed(&fake, "/mentions").await;
    assert!(
        limited_at.elapsed() >= Duration::from_secs(2),
        "the bot waited for x-rate-limit-reset"
    );
    fake.mention(&jane, "@acme hello");
    console.wait_cases(1).await;
    // A 429 on publishing is retried after the reset, and publishes once.
    fake.fail_next(
        "POST",
        "/2/tweets",
        Fault::RateLimited {
            reset_in: Duration::from_secs(1),
        },
    );
    console.reply_and_approve("Hello Jane!");
    console.wait_text("published as").await;
    console.stop();
    assert_eq!(fake.posted().len(), 1);
    let late = console
        .texts()
        .into_iter()
        .find(|t| t.contains("is not out yet"))
        .expect("the owner was told the reply is late");
    assert!(
        late.contains("@maria") && late.contains("rate limit"),
        "{late}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listening_queries_open_listening_cases_in_their_own_queue() {
    let fake = FakeX::start(oauth2()).await;
    let sam = fake.add_user("sam", "Sam");
    let mut console = Console::new(&account(
        &fake,
        &oauth2_auth(),
        "mentions = false\ndms = false\n[[accounts.listening]]\nquery = \"acme outage -is:retweet\"\nqueue = \"social\"",
    ));
    primed(&fake, "/2/tweets/search/recent").await;
    fake.tweet(&sam, "is there an acme outage again?");
    fake.tweet(&sam, "lovely weather");
    console.wait_cases(1).await;
    console.stop();
    let cases = console.bot.cases();
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0]["kind"], "listening");
    assert_eq!(cases[0]["queue"], "social");
    let search = fake
        .calls()
        .into_iter()
        .find(|c| c.path == "/2/tweets/search/recent")
        .unwrap();
    assert!(
        search
            .query
            .iter()
            .any(|(k, v)| k == "query" && v == "acme outage -is:retweet")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth1_requests_are_signed() {
    let fake = FakeX::start(FakeAuth::OAuth1 {
        consumer_key: "ck-123".to_owned(),
        consumer_secret: "cs-456".to_owned(),
        token: "tk-789".to_owned(),
        token_secret: "ts-000".to_owned(),
    })
    .await;
    let jane = fake.add_user("jane", "Jane Doe");
    let auth = r#"{ kind = "oauth1", consumer_key = "ck-123", consumer_secret = "cs-456", access_token = "tk-789", access_token_secret = "ts-000" }"#;
    let mut console = Console::new(&account(&fake, auth, ""));
    primed(&fake, "/mentions").await;
    fake.mention(&jane, "@acme signed?");
    console.wait_cases(1).await;
    console.reply_and_approve("Signed and sealed.");
    console.wait_text("published as").await;
    console.stop();
    assert_eq!(fake.posted().len(), 1);
    assert!(
        fake.calls()
            .iter()
            .all(|c| c.auth.starts_with("OAuth ") && c.auth.contains("oauth_signature=")),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webhook_answers_crc_and_refuses_bad_signatures() {
    let fake = FakeX::start(oauth2()).await;
    let jane = fake.add_user("jane", "Jane Doe");
    let mut console = Console::new(&account(
        &fake,
        &oauth2_auth(),
        &format!(
            "webhook = {{ consumer_secret = \"{CRC_SECRET}\" }}\nmentions = false\ndms = false"
        ),
    ));
    let http = reqwest::Client::new();
    // Wait for the listener.
    let mut crc = None;
    for _ in 0..400 {
        if let Ok(r) = http
            .get(console.url("/webhooks/x/acme-x?crc_token=9b4507b3-9040-4669-9ca3-6b94edb50553"))
            .send()
            .await
        {
            crc = Some(r);
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let crc = crc.expect("the webhook listener is up");
    assert_eq!(crc.status(), 200);
    let crc: Value = crc.json().await.unwrap();
    assert_eq!(
        crc,
        serde_json::json!({"response_token": "sha256=Cytd4Sq+NvEcV3MMrXxWJGJx5A+y/lXzzU2Maartkx8="})
    );

    let mention = fake.mention(&jane, "@acme via the webhook");
    let body = fake.activity_mention(&mention);
    let bad = http
        .post(console.url("/webhooks/x/acme-x"))
        .header(
            "x-twitter-webhooks-signature",
            "sha256=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        )
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    let unsigned = http
        .post(console.url("/webhooks/x/acme-x"))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 401);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(console.shown().is_empty(), "nothing was stored or shown");

    // Signed: a case; delivered twice (X retries): still one.
    let signature = carebridge::social::x::signing::sign(CRC_SECRET, &body);
    for _ in 0..2 {
        let ok = http
            .post(console.url("/webhooks/x"))
            .header("x-twitter-webhooks-signature", &signature)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), 200);
    }
    console.wait_cases(1).await;
    let dm = fake.dm(&jane, "and a DM through the webhook");
    let dm_body = fake.activity_dm(&dm);
    let ok = http
        .post(console.url("/webhooks/x/acme-x"))
        .header(
            "x-twitter-webhooks-signature",
            carebridge::social::x::signing::sign(CRC_SECRET, &dm_body),
        )
        .body(dm_body)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    console.wait_cases(2).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    console.stop();
    let cases = console.bot.cases();
    assert_eq!(cases.len(), 2, "{cases:#?}");
    assert_eq!(cases[0]["posts"][0]["id"], mention.as_str());
    assert_eq!(cases[1]["kind"], "direct_message");
    assert_eq!(cases[1]["posts"][0]["id"], dm.as_str());
}

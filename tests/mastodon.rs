//! Mastodon end to end: the real binary, on the console chat, polling and streaming a fake
//! instance (`tests/support/mastodon.rs`) that speaks Mastodon's API. What reached the
//! instance is read back from the fake, what the team saw from the console's journal.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/background.rs"]
mod background;
#[path = "support/console.rs"]
mod console;
#[path = "support/mastodon.rs"]
mod mastodon;
#[path = "support/run.rs"]
mod run;

use std::time::Duration;

use console::Console;
use mastodon::{BRAND_TOKEN, FakeMastodon, Fault, Setup};
use run::wait_until;

const WAIT: Duration = Duration::from_secs(20);
const STATUSES: &str = "/api/v1/statuses";
const JANE: &str = "jane@other.social";

/// The brand's `[[accounts]]` on `fake`, polling every second unless `extra` (more keys)
/// says otherwise.
fn account(fake: &FakeMastodon, extra: &str) -> String {
    let poll = match extra.contains("poll_interval") {
        true => "",
        false => "poll_interval = \"1s\"",
    };
    format!(
        r#"
[[accounts]]
id = "acme-masto"
network = "mastodon"
api_url = "{url}"
approval = "always"
auth = {{ kind = "access_token", access_token = "{BRAND_TOKEN}" }}
{poll}
{extra}
"#,
        url = fake.api_url()
    )
}

/// A console bot on `fake`, once it has read where the mentions stand (its first poll).
fn started(fake: &FakeMastodon, extra: &str) -> Console {
    let console = Console::new(&account(fake, extra));
    fake.wait_for("GET", "/api/v1/notifications", 1, WAIT);
    console
}

/// A bot on a fresh fake with case 1 opened by Jane's public mention; its status id.
async fn jane_case(setup: Setup, extra: &str) -> (FakeMastodon, Console, String) {
    let fake = FakeMastodon::start(setup);
    let console = started(&fake, extra);
    let mention = fake.mention(JANE, "my parcel never arrived", "public", None);
    console.wait_cases(1).await;
    (fake, console, mention)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mention_is_one_case_and_the_approved_reply_is_threaded_under_it_once() {
    let fake = FakeMastodon::start_default();
    // Before the first start: where the account stands, not a case.
    fake.mention("old@other.social", "from last week", "public", None);
    let mut console = started(&fake, "");
    let mention = fake.mention(JANE, "my parcel never arrived", "public", None);
    console.wait_cases(1).await;
    console.reply_and_approve("Sorry about that! Checking with the courier.");
    console.wait_text("published as").await;
    let replies = fake.replies_to(&mention);
    assert_eq!(replies.len(), 1, "{replies:#?}");
    assert_eq!(
        replies[0].text,
        "@jane@other.social Sorry about that! Checking with the courier."
    );
    assert_eq!(replies[0].visibility, "unlisted");
    let posts = fake.wait_for("POST", STATUSES, 1, WAIT);
    assert_eq!(posts.len(), 1);
    assert_eq!(
        posts[0].idempotency_key.as_deref(),
        Some("carebridge-acme-masto/1.1")
    );
    console.stop();
    assert_eq!(
        console.bot.cases().len(),
        1,
        "the old mention opened a case"
    );
    let case = console.bot.case(1);
    assert_eq!(case["author"]["handle"], JANE);
    assert_eq!(case["kind"], "mention");
    assert_eq!(case["posts"][0]["text"], "@acme my parcel never arrived");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_direct_mention_is_a_dm_case_answered_direct() {
    let fake = FakeMastodon::start_default();
    let mut console = started(&fake, "visibility = \"public\"");
    let dm = fake.mention(JANE, "my account number is 4411", "direct", None);
    console.wait_cases(1).await;
    console.reply_and_approve("Thanks, found it.");
    console.wait_text("published as").await;
    let replies = fake.replies_to(&dm);
    assert_eq!(replies.len(), 1);
    assert_eq!(replies[0].visibility, "direct");
    assert_eq!(replies[0].text, "@jane@other.social Thanks, found it.");
    console.stop();
    assert_eq!(console.bot.case(1)["kind"], "direct_message");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_brings_mentions_at_once_and_a_reconnect_catches_up() {
    let fake = FakeMastodon::start_default();
    // Polls an hour apart: only the stream can bring these in time.
    let mut console = started(&fake, "poll_interval = \"1h\"");
    fake.wait_streaming(WAIT);
    fake.mention(JANE, "first", "public", None);
    console.wait_cases(1).await;

    // The stream drops; what comes while it is down arrives after it reconnects.
    fake.drop_streams();
    fake.mention("bob@other.social", "second", "public", None);
    console.wait_cases(2).await;
    assert!(
        wait_until(WAIT, || fake.streams() == 1),
        "the stream did not reconnect"
    );
    console.stop();
    assert_eq!(console.bot.cases().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_without_a_stream_is_polled() {
    let fake = FakeMastodon::start(Setup {
        streaming: false,
        ..Setup::default()
    });
    let mut console = started(&fake, "");
    fake.mention(JANE, "hello?", "public", None);
    console.wait_cases(1).await;
    let tries = fake
        .calls()
        .iter()
        .filter(|c| c.route == "/api/v1/streaming/user/notification")
        .count();
    assert_eq!(tries, 1, "an instance without a stream was asked again");
    console.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_reply_waits_and_goes_out_once() {
    let (fake, mut console, mention) = jane_case(Setup::default(), "").await;
    fake.fail_next("POST", STATUSES, Fault::RateLimited { secs: 1 });
    console.reply_and_approve("On it!");
    console.wait_text("published as").await;
    let posts = fake.wait_for("POST", STATUSES, 2, WAIT);
    assert_eq!(
        posts.iter().map(|c| c.status).collect::<Vec<_>>(),
        [429, 200]
    );
    assert_eq!(posts[0].idempotency_key, posts[1].idempotency_key);
    assert_eq!(fake.replies_to(&mention).len(), 1);
    console.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_after_the_instance_made_the_reply_leaves_exactly_one() {
    let (fake, mut console, mention) = jane_case(Setup::default(), "").await;
    fake.fail_next("POST", STATUSES, Fault::Lost);
    console.reply_and_approve("Sorry, Jane — refund on its way.");
    fake.wait_for("POST", STATUSES, 1, WAIT);
    console.kill();
    console.start();
    console.wait_text("published as").await;
    console.stop();
    let replies = fake.replies_to(&mention);
    assert_eq!(replies.len(), 1, "{replies:#?}");
    // The restart looked before it posted again, and found it.
    assert_eq!(fake.wait_for("POST", STATUSES, 1, WAIT).len(), 1);
    assert!(
        fake.calls()
            .iter()
            .any(|c| c.route == "/api/v1/statuses/{id}/context"),
        "the restart did not look for the reply"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_instances_limits_apply_when_the_reply_is_drafted() {
    let (_fake, mut console, _) = jane_case(
        Setup {
            max_characters: 100,
            characters_reserved_per_url: 30,
            ..Setup::default()
        },
        "",
    )
    .await;
    console.say("#1 !claim");
    // 95 letters and `@jane` (the domain does not count) in front: 101.
    console.say(&format!("#1 !reply {}", "a".repeat(95)));
    // A refusal is told to the agent who drafted, on the console's output.
    let out = console.stop();
    assert!(
        out.contains(
            "Too long for Mastodon: 101/100 characters as Mastodon counts them (links count 30"
        ),
        "{out}"
    );
    assert!(console.bot.case(1)["drafts"].as_array().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_to_our_reply_joins_the_case_and_it_can_be_liked_and_the_reply_deleted() {
    let (fake, mut console, mention) = jane_case(Setup::default(), "").await;
    console.reply_and_approve("Which order number?");
    console.wait_text("published as").await;
    let ours = fake.replies_to(&mention)[0].id.clone();
    let answer = fake.mention(JANE, "It is 4411", "public", Some(&ours));
    console.wait_text("It is 4411").await;
    console.say("#1 !like");
    assert!(wait_until(WAIT, || fake.favourited(&answer)), "not liked");
    console.say("#1 !delete");
    assert!(
        wait_until(WAIT, || fake.ours().is_empty()),
        "our reply is still there"
    );
    console.stop();
    assert_eq!(console.bot.cases().len(), 1);
    assert_eq!(console.bot.case(1)["posts"].as_array().unwrap().len(), 2);
}

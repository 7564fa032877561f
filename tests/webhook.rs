//! The generic signed webhook end to end: the real binary, on the console chat, receiving
//! posts signed as the README documents at `/webhooks/generic/{account}`, and sending approved
//! replies to the fake receiver in `tests/support/callback.rs`. What the sender was answered
//! is asserted from the HTTP answers, what reached the receiver from the fake, what the team
//! saw from the console.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/background.rs"]
mod background;
#[path = "support/callback.rs"]
mod callback;
#[path = "support/console.rs"]
mod console;
#[path = "support/run.rs"]
mod run;

use std::time::Duration;

use callback::{Answer, Receiver, SECRET, deliver, deliver_at, jane_posts, now_secs, post_raw};
use console::Console;
use run::wait_until;
use serde_json::json;

const WAIT: Duration = Duration::from_secs(20);
/// `acme-status` has no callback: its cases can be worked but not answered from here.
const STATUS_SECRET: &str = "whsec_status_0123456789abcdef";

/// `acme-forms` (replies to `receiver`, approval always) and `acme-status` (no callback).
fn accounts(receiver: &Receiver) -> String {
    format!(
        r#"
[[accounts]]
id = "acme-forms"
network = "webhook"
secret = "{SECRET}"
callback_url = "{url}"
replay_window = "2m"
approval = "always"

[[accounts]]
id = "acme-status"
network = "webhook"
secret = "{STATUS_SECRET}"
"#,
        url = receiver.url()
    )
}

/// A fresh receiver, and a console bot replying to it once its listener is up.
fn started() -> (Receiver, Console) {
    let receiver = Receiver::start();
    let console = Console::new(&accounts(&receiver));
    let healthz = console.url("/healthz");
    let up = wait_until(WAIT, || {
        background::blocking(reqwest::Method::GET, &healthz, &[], None).0 != 0
    });
    assert!(up, "the listener did not come up");
    (receiver, console)
}

/// Asserts the answer's `error` starts with `start`.
fn says(answer: &serde_json::Value, start: &str) {
    let error = answer["error"].as_str().unwrap_or_default();
    assert!(error.starts_with(start), "{answer}");
}

/// Stops the bot; asserts that no delivery made a case.
fn stopped_with_nothing_stored(console: &mut Console) {
    console.stop();
    assert!(console.bot.cases().is_empty());
}

fn forms(console: &Console) -> String {
    console.url("/webhooks/generic/acme-forms")
}

/// Jane's first post on `acme-forms`, delivered and accepted; waits for its case.
async fn jane_case(console: &Console) {
    let post = jane_posts("form-8812", "order-1234", "My order never arrived");
    let (status, answer) = deliver(&forms(console), SECRET, &post);
    assert_eq!(
        (status, answer),
        (200, json!({"case": 1, "result": "opened"}))
    );
    console.wait_cases(1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_post_opens_a_case_on_the_console() {
    let (receiver, mut console) = started();
    jane_case(&console).await;
    console.stop();
    let cases = console.bot.cases();
    assert_eq!(cases.len(), 1);
    let case = &cases[0];
    assert_eq!(case["platform"], "webhook");
    assert_eq!(case["account"], "acme-forms");
    assert_eq!(case["conversation_id"], "order-1234");
    assert_eq!(case["author"]["handle"], "jane");
    assert_eq!(case["kind"], "comment");
    assert_eq!(case["posts"][0]["text"], "My order never arrived");
    assert!(receiver.calls().is_empty(), "nothing was answered yet");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redelivery_makes_one_case_and_the_conversation_joins_it() {
    let (_receiver, mut console) = started();
    jane_case(&console).await;
    let again = jane_posts("form-8812", "order-1234", "My order never arrived");
    assert_eq!(
        deliver(&forms(&console), SECRET, &again),
        (200, json!({"case": 1, "result": "duplicate"}))
    );
    let more = jane_posts("form-8813", "order-1234", "Still nothing, by the way");
    assert_eq!(
        deliver(&forms(&console), SECRET, &more),
        (200, json!({"case": 1, "result": "joined"}))
    );
    console.wait_text("Still nothing, by the way").await;
    console.stop();
    let cases = console.bot.cases();
    assert_eq!(cases.len(), 1, "{cases:#?}");
    assert_eq!(cases[0]["posts"].as_array().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_or_missing_signature_is_401_and_stores_nothing() {
    let (_receiver, mut console) = started();
    let url = forms(&console);
    let post = jane_posts("form-1", "c", "hello");
    let (status, answer) = deliver(&url, "whsec_not_the_secret_at_all", &post);
    assert_eq!(status, 401);
    says(&answer, "X-Carebridge-Signature does not match");
    // Another account's secret does not sign for this one.
    assert_eq!(deliver(&url, STATUS_SECRET, &post).0, 401);
    let raw = post.to_string();
    let (status, answer) = post_raw(&url, &[], raw.as_bytes());
    assert_eq!(status, 401);
    assert_eq!(
        answer["error"],
        "missing X-Carebridge-Timestamp header (unix seconds)"
    );
    // Signed, then changed on the way.
    let ts = now_secs().to_string();
    let headers = [
        ("x-carebridge-timestamp", ts.clone()),
        (
            "x-carebridge-signature",
            callback::sign(SECRET, &ts, raw.as_bytes()),
        ),
    ];
    let tampered = raw.replace("hello", "hellO");
    assert_eq!(post_raw(&url, &headers, tampered.as_bytes()).0, 401);
    stopped_with_nothing_stored(&mut console);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_timestamp_is_401() {
    let (_receiver, mut console) = started();
    let body = jane_posts("form-2", "c", "replayed").to_string();
    // The window is 2m either way.
    for at in [now_secs() - 600, now_secs() + 600] {
        let (status, answer) =
            deliver_at(&forms(&console), SECRET, &at.to_string(), body.as_bytes());
        assert_eq!(status, 401);
        says(
            &answer,
            "X-Carebridge-Timestamp is more than 2m away from carebridge's clock (the replay window)",
        );
    }
    let (status, _) = deliver_at(
        &forms(&console),
        SECRET,
        &(now_secs() - 60).to_string(),
        body.as_bytes(),
    );
    assert_eq!(status, 200, "inside the window");
    console.wait_cases(1).await;
    console.stop();
    assert_eq!(console.bot.cases().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_body_is_400_naming_the_field() {
    let (_receiver, mut console) = started();
    let url = forms(&console);
    let no_handle = json!({"id": "form-3", "author": {"id": "cust-42"}, "text": "hi"});
    assert_eq!(
        deliver(&url, SECRET, &no_handle),
        (
            400,
            json!({"error": "author.handle: missing field", "errors": ["author.handle: missing field"]})
        )
    );
    let several =
        json!({"id": 3, "author": {"id": "c", "handle": "j"}, "text": "", "kind": "tweet"});
    let (status, answer) = deliver(&url, SECRET, &several);
    assert_eq!(status, 400);
    assert_eq!(
        answer["errors"],
        json!([
            "id: expected a string, found a number",
            "text: must not be empty",
            "kind: \"tweet\" is not one of mention, comment, direct_message",
        ])
    );
    let ts = now_secs().to_string();
    let (status, answer) = deliver_at(&url, SECRET, &ts, b"{\"id\": \"form-3\",");
    assert_eq!(status, 400);
    says(&answer, "body: not valid JSON");
    stopped_with_nothing_stored(&mut console);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_account_is_404() {
    let (_receiver, mut console) = started();
    let post = jane_posts("form-4", "c", "hello");
    let (status, answer) = deliver(&console.url("/webhooks/generic/acme-x"), SECRET, &post);
    assert_eq!(status, 404);
    assert_eq!(answer["error"], "no webhook account `acme-x` is configured");
    stopped_with_nothing_stored(&mut console);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approved_reply_is_posted_once_signed_with_the_idempotency_key() {
    let (receiver, mut console) = started();
    jane_case(&console).await;
    console.reply_and_approve("Sorry, Jane! It ships today.");
    console.wait_text("published as").await;
    console.stop();
    let calls = receiver.calls();
    assert_eq!(calls.len(), 1, "{calls:#?}");
    let call = &calls[0];
    assert!(call.verified, "{call:?}");
    assert_eq!(call.content_type.as_deref(), Some("application/json"));
    let key = call.idempotency_key.as_deref().unwrap();
    assert!(key.starts_with("acme-forms/1.1@"), "{key}");
    let age = now_secs() - call.timestamp.as_deref().unwrap().parse::<i64>().unwrap();
    assert!((0..60).contains(&age), "signed {age}s ago");
    assert_eq!(
        call.body,
        json!({
            "type": "reply", "account": "acme-forms", "case": 1, "draft": "1.1",
            "in_reply_to": "form-8812", "conversation": "order-1234", "kind": "public",
            "text": "Sorry, Jane! It ships today.",
            "author": {"id": "cust-42", "handle": "jane", "name": "Jane Doe"},
        })
    );
    let case = console.bot.case(1);
    assert_eq!(case["drafts"][0]["state"], "published");
    assert_eq!(case["drafts"][0]["published_id"], "cb-1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_from_the_callback_delays_the_reply_which_still_arrives_once() {
    let (receiver, mut console) = started();
    receiver.answer_next(Answer::rate_limited("1"));
    jane_case(&console).await;
    console.reply_and_approve("Thanks for waiting, Jane.");
    let calls = receiver.wait_calls(2, WAIT);
    console.wait_text("published as").await;
    let out = console.stop();
    assert_eq!(calls[0].status, 429);
    assert_eq!(calls[1].status, 200);
    assert_eq!(calls[0].idempotency_key, calls[1].idempotency_key);
    assert!(calls.iter().all(|c| c.verified));
    let gap = calls[1]
        .timestamp
        .as_deref()
        .unwrap()
        .parse::<i64>()
        .unwrap()
        - calls[0]
            .timestamp
            .as_deref()
            .unwrap()
            .parse::<i64>()
            .unwrap();
    assert!(gap >= 1, "Retry-After was not honoured ({gap}s)");
    assert_eq!(receiver.calls().len(), 2, "nothing after the 200");
    assert_eq!(receiver.taken().len(), 1);
    assert!(
        console
            .texts()
            .iter()
            .any(|t| t.contains("rate-limiting replies")),
        "the owner hears why it is late:\n{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_whose_answer_was_lost_in_a_crash_is_sent_again_under_the_same_key() {
    let (receiver, mut console) = started();
    receiver.answer_next(Answer::lost());
    jane_case(&console).await;
    console.reply_and_approve("Sorry, Jane!");
    receiver.wait_calls(1, WAIT);
    // The receiver took it; the bot dies before it hears so.
    console.kill();
    console.start();
    console.wait_text("published as").await;
    console.stop();
    let calls = receiver.calls();
    assert_eq!(calls.len(), 2, "{calls:#?}");
    assert_eq!(calls[0].idempotency_key, calls[1].idempotency_key);
    assert_eq!(receiver.taken().len(), 1, "the receiver acted once");
    assert_eq!(console.bot.case(1)["drafts"][0]["published_id"], "cb-1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_500_is_retried_and_a_400_fails_with_the_receivers_message() {
    let (receiver, mut console) = started();
    receiver.answer_next(Answer::status(500, "database down"));
    receiver.answer_next(Answer::status(400, "conversation order-1234 is closed"));
    jane_case(&console).await;
    console.reply_and_approve("Sorry, Jane!");
    console.wait_text("conversation order-1234 is closed").await;
    console.stop();
    let statuses: Vec<u16> = receiver.calls().iter().map(|c| c.status).collect();
    assert_eq!(statuses, [500, 400]);
    assert!(receiver.taken().is_empty());
    assert_eq!(console.bot.case(1)["drafts"][0]["state"], "failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_without_callback_url_refuses_reply_with_the_message() {
    let (receiver, mut console) = started();
    let post = json!({"id": "incident-7", "author": {"id": "pager", "handle": "statusbot"},
                      "text": "API latency above 2s"});
    let (status, _) = deliver(
        &console.url("/webhooks/generic/acme-status"),
        STATUS_SECRET,
        &post,
    );
    assert_eq!(status, 200);
    console.wait_cases(1).await;
    console.say("#1 !claim");
    console.say("#1 !reply We're on it");
    console.say("#1 !like");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let out = console.stop();
    for refusal in [
        "`acme-status` is a webhook account without a `callback_url`",
        "Set `callback_url` for it in bot.toml and restart",
        "Webhook doesn't let",
    ] {
        assert!(out.contains(refusal), "{refusal}\n{out}");
    }
    assert!(console.bot.case(1)["drafts"].as_array().unwrap().is_empty());
    assert!(receiver.calls().is_empty());
}

//! X connector costs: the pure work per poll page and per request (translating a page of 100
//! mentions, checking a webhook signature, signing an OAuth 1.0a request), then the real
//! binary's `/webhooks/x` route under load: signed Account Activity deliveries (one new
//! customer DM each, so every one is also ingested as a new case after its ack), at a steady
//! rate and flat out, measured from a load generator on loopback.
//!
//! Run with `cargo bench --bench x`; `CAREBRIDGE_BENCH_SECS` sets each load phase's length
//! (default 10).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/support/background.rs"]
mod background;
#[path = "support/load.rs"]
mod load;
#[path = "../tests/support/run.rs"]
mod run;
#[path = "../tests/support/slack.rs"]
mod slack;

use carebridge::engine::PostKind;
use carebridge::social::x::{oauth1, signing, wire};
use serde_json::json;

const SECRET: &str = "bench-consumer-secret";
const RATE: u64 = 500;

fn mentions_page() -> Vec<u8> {
    let tweets: Vec<_> = (0..100u64)
        .map(|i| {
            json!({
                "id": (1_800_000_000_000_000_000u64 + i).to_string(),
                "text": format!("@acme order #{i} never arrived &amp; nobody answers https://t.co/abc{i}"),
                "author_id": (2000 + i % 40).to_string(),
                "conversation_id": (1_800_000_000_000_000_000u64 + i).to_string(),
                "created_at": "2026-11-23T10:00:00.000Z",
                "entities": {"urls": [{"url": format!("https://t.co/abc{i}"), "expanded_url": "https://acme.example/orders"}]},
            })
        })
        .collect();
    let users: Vec<_> = (0..40u64)
        .map(|i| json!({"id": (2000 + i).to_string(), "username": format!("user{i}"), "name": format!("User {i}")}))
        .collect();
    serde_json::to_vec(&json!({
        "data": tweets,
        "includes": {"users": users},
        "meta": {"result_count": 100, "newest_id": "1800000000000000099", "next_token": "b26v89c19zqg8o3fpds"}
    }))
    .unwrap()
}

fn pure() {
    let page = mentions_page();
    let now = chrono::Utc::now();
    let per_page = load::per_op(2_000, || {
        let parsed: wire::TweetsPage = serde_json::from_slice(&page).unwrap();
        let posts = wire::tweet_posts(&parsed, "acme-x", "1000", PostKind::Mention, now);
        assert_eq!(posts.len(), 100);
    });
    println!(
        "mentions page (100 tweets, {} KiB): parse + translate {:.1} µs/page = {:.0} posts/s",
        page.len() / 1024,
        per_page.as_secs_f64() * 1e6,
        100.0 / per_page.as_secs_f64()
    );
    let body = vec![b'x'; 4096];
    let header = signing::sign(SECRET, &body);
    let verify = load::per_op(100_000, || assert!(signing::verify(SECRET, &body, &header)));
    println!(
        "webhook signature check (4 KiB body): {:.2} µs",
        verify.as_secs_f64() * 1e6
    );
    let url = url::Url::parse(
        "https://api.x.com/2/users/1000/mentions?max_results=100&since_id=1800000000000000099",
    )
    .unwrap();
    let credentials = oauth1::Credentials {
        consumer_key: "ck",
        consumer_secret: "cs",
        token: "tk",
        token_secret: "ts",
    };
    let sign = load::per_op(100_000, || {
        let header = oauth1::authorization("GET", &url, &[], &credentials, "nonce", 1_700_000_000);
        assert!(header.starts_with("OAuth "));
    });
    println!(
        "OAuth 1.0a request signature: {:.2} µs",
        sign.as_secs_f64() * 1e6
    );
}

/// The `n`th delivery: a DM from a customer never seen before (so each is also ingested as
/// a new case after its ack).
fn nth(n: u64) -> Vec<u8> {
    let sender = (3_000_000 + n).to_string();
    json!({
        "for_user_id": "1000",
        "direct_message_events": [{
            "type": "message_create",
            "id": (1_900_000_000_000_000_000u64 + n).to_string(),
            "created_timestamp": "1763892000000",
            "message_create": {
                "target": {"recipient_id": "1000"},
                "sender_id": sender,
                "message_data": {"text": "hi, my card was charged twice"}
            }
        }],
        "users": {
            "1000": {"id": "1000", "screen_name": "acme", "name": "Acme"},
            sender.clone(): {"id": sender, "screen_name": format!("c{n}"), "name": "Customer"}
        }
    })
    .to_string()
    .into_bytes()
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let secs = load::bench_secs();
    pure();

    // Cards go to a fake Slack; X is never called (the user id is configured, polling off).
    let fake = slack::FakeSlack::start_default();
    let account = format!(
        "[[accounts]]\nid = \"acme-x\"\nnetwork = \"x\"\napi_url = \"http://127.0.0.1:9/\"\nuser_id = \"1000\"\nmentions = false\ndms = false\nauth = {{ kind = \"oauth1\", consumer_key = \"ck\", consumer_secret = \"{SECRET}\", access_token = \"tk\", access_token_secret = \"ts\" }}\nwebhook = {{}}\n"
    );
    let hook = load::Webhook {
        account,
        route: "/webhooks/x/acme-x",
        body: nth,
        sign: |body| vec![("x-twitter-webhooks-signature", signing::sign(SECRET, body))],
    };
    load::webhook_load(&fake.api_url(), slack::BOT_TOKEN, hook, RATE, secs);
}

//! Meta connector costs: the pure work per delivery (a batch of 50 page comments parsed and
//! turned into posts, the `X-Hub-Signature-256` check), then the real binary's
//! `/webhooks/meta` under load: signed deliveries of one new customer comment each (so every
//! one is also ingested as a new case after its ack), at a steady rate and flat out,
//! measured from a load generator on loopback.
//!
//! Run with `cargo bench --bench meta`; `CAREBRIDGE_BENCH_SECS` sets each load phase's
//! length (default 10).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/support/background.rs"]
mod background;
#[path = "support/load.rs"]
mod load;
#[path = "../tests/support/run.rs"]
mod run;
#[path = "../tests/support/slack.rs"]
mod slack;

use carebridge::social::meta::wire;
use serde_json::{Value, json};

const SECRET: &str = "bench-app-secret";
const PAGE: &str = "448242228374517";
const RATE: u64 = 500;

/// One page comment from customer `n`, as Meta delivers it (platforms.md §4.2).
fn comment(n: u64) -> Value {
    json!({"field": "feed", "value": {
        "from": {"id": (7_000_000 + n).to_string(), "name": format!("Customer {n}")},
        "post": {"status_type": "mobile_status_update", "is_published": true, "id": format!("{PAGE}_1221")},
        "message": format!("Order #{n} never arrived and nobody answers"),
        "post_id": format!("{PAGE}_1221"),
        "comment_id": format!("1221_{n}"),
        "created_time": 1_763_892_000,
        "item": "comment", "parent_id": format!("{PAGE}_1221"), "verb": "add"
    }})
}

fn delivery(changes: Vec<Value>) -> Vec<u8> {
    serde_json::to_vec(&json!({"object": "page", "entry": [{"id": PAGE, "time": 1_763_892_000, "changes": changes}]}))
        .unwrap()
}

fn pure() {
    let batch = delivery((0..50).map(comment).collect());
    let now = chrono::Utc::now();
    let per_batch = load::per_op(5_000, || {
        let parsed: wire::Delivery = serde_json::from_slice(&batch).unwrap();
        let events = wire::entry_events("page", "acme-fb", PAGE, &parsed.entry[0], now);
        assert_eq!(events.len(), 50);
    });
    println!(
        "delivery of 50 page comments ({} KiB): parse + translate {:.1} µs = {:.0} comments/s",
        batch.len() / 1024,
        per_batch.as_secs_f64() * 1e6,
        50.0 / per_batch.as_secs_f64()
    );
    let header = wire::sign(SECRET, &batch);
    let verify = load::per_op(20_000, || assert!(wire::verify(SECRET, &batch, &header)));
    println!(
        "X-Hub-Signature-256 check ({} KiB body): {:.2} µs",
        batch.len() / 1024,
        verify.as_secs_f64() * 1e6
    );
}

/// The `n`th delivery: a comment from a customer never seen before.
fn nth(n: u64) -> Vec<u8> {
    delivery(vec![comment(n)])
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let secs = load::bench_secs();
    pure();

    // Cards go to a fake Slack; the Graph API is never called (nothing is answered).
    let fake = slack::FakeSlack::start_default();
    let account = format!(
        "[[accounts]]\nid = \"acme-fb\"\nnetwork = \"facebook\"\npage_id = \"{PAGE}\"\napi_url = \"http://127.0.0.1:9/\"\nauth = {{ kind = \"page_token\", page_token = \"t\" }}\nwebhook = {{ app_secret = \"{SECRET}\", verify_token = \"v\" }}\n"
    );
    let hook = load::Webhook {
        account,
        route: "/webhooks/meta",
        body: nth,
        sign: |body| vec![("x-hub-signature-256", wire::sign(SECRET, body))],
    };
    load::webhook_load(&fake.api_url(), slack::BOT_TOKEN, hook, RATE, secs);
}

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

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use carebridge::social::meta::wire;
use serde_json::{Value, json};

const SECRET: &str = "bench-app-secret";
const PAGE: &str = "448242228374517";
const RATE: u64 = 500;

/// Runs `f` `n` times; the mean time per run.
fn per_op(n: u32, mut f: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..n {
        f();
    }
    start.elapsed() / n
}

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
    let per_batch = per_op(5_000, || {
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
    let verify = per_op(20_000, || assert!(wire::verify(SECRET, &batch, &header)));
    println!(
        "X-Hub-Signature-256 check ({} KiB body): {:.2} µs",
        batch.len() / 1024,
        verify.as_secs_f64() * 1e6
    );
}

struct Load {
    client: reqwest::Client,
    url: String,
    next: AtomicU64,
}

impl load::Sender for Load {
    /// One signed delivery: a comment from a customer never seen before. Returns its ack
    /// latency, or `None` when it was not acknowledged with 200 within the client's timeout.
    async fn one(&self) -> Option<Duration> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let body = delivery(vec![comment(n)]);
        let started = Instant::now();
        let response = self
            .client
            .post(&self.url)
            .header("x-hub-signature-256", wire::sign(SECRET, &body))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await;
        match response {
            Ok(r) if r.status() == 200 => Some(started.elapsed()),
            _ => None,
        }
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let secs: u64 = std::env::var("CAREBRIDGE_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    println!(
        "machine: {} cores; each load phase {secs}s",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    pure();

    // Cards go to a fake Slack; the Graph API is never called (nothing is answered).
    let fake = slack::FakeSlack::start_default();
    let account = format!(
        "[[accounts]]\nid = \"acme-fb\"\nnetwork = \"facebook\"\npage_id = \"{PAGE}\"\napi_url = \"http://127.0.0.1:9/\"\nauth = {{ kind = \"page_token\", page_token = \"t\" }}\nwebhook = {{ app_secret = \"{SECRET}\", verify_token = \"v\" }}\n"
    );
    let (_bot, _running, port) = load::webhook_bot(&fake.api_url(), slack::BOT_TOKEN, &account);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let load = Arc::new(Load {
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap(),
        url: format!("http://127.0.0.1:{port}/webhooks/meta"),
        next: AtomicU64::new(0),
    });
    load::report(
        &format!("paced {RATE}/s"),
        load::paced(&runtime, &load, RATE, secs),
    );
    load::report(
        "flat out, 32 senders",
        load::flat_out(&runtime, &load, 32, secs),
    );
}

//! Generic webhook costs: the pure work per delivery (the signature check and reading the
//! post), then the real binary's `/webhooks/generic/{account}` under load: signed posts from
//! new customers (each ingested as a new case before its answer, which names the case), at a
//! steady rate and flat out, measured from a load generator on loopback.
//!
//! Run with `cargo bench --bench webhook`; `CAREBRIDGE_BENCH_SECS` sets each load phase's
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

use std::time::Duration;

use carebridge::social::webhook::{signing, wire};
use serde_json::json;

const SECRET: &str = "whsec_bench_0123456789";
const RATE: u64 = 500;

/// The `n`th delivery: a web-form post from a customer never seen before.
fn nth(n: u64) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "id": format!("form-{n}"),
        "author": {"id": format!("cust-{n}"), "handle": format!("customer{n}"), "name": format!("Customer {n}")},
        "text": format!("Order #{n} arrived broken; I'd like a replacement, please."),
        "url": format!("https://forms.acme.example/submissions/{n}"),
        "kind": "direct_message",
        "created_at": "2026-12-07T10:00:00Z",
    }))
    .unwrap()
}

fn now() -> String {
    chrono::Utc::now().timestamp().to_string()
}

fn pure() {
    let body = nth(1);
    let at = now();
    let header = signing::sign(SECRET, &at, &body);
    let secs: i64 = at.parse().unwrap();
    let verify = load::per_op(20_000, || {
        signing::verify(
            SECRET,
            Some(&at),
            Some(&header),
            &body,
            secs,
            Duration::from_secs(300),
        )
        .unwrap();
    });
    println!(
        "signature check ({} B body): {:.2} µs",
        body.len(),
        verify.as_secs_f64() * 1e6
    );
    let stamp = chrono::Utc::now();
    let read = load::per_op(20_000, || {
        wire::post("acme-forms", &body, stamp).unwrap();
    });
    println!(
        "post read and checked field by field: {:.2} µs",
        read.as_secs_f64() * 1e6
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let secs = load::bench_secs();
    pure();

    // Cards go to a fake Slack; no callback is called (nothing is answered).
    let fake = slack::FakeSlack::start_default();
    let account = format!(
        "[[accounts]]\nid = \"acme-forms\"\nnetwork = \"webhook\"\nsecret = \"{SECRET}\"\n"
    );
    let hook = load::Webhook {
        account,
        route: "/webhooks/generic/acme-forms",
        body: nth,
        sign: |body| {
            let at = now();
            let signature = signing::sign(SECRET, &at, body);
            vec![(signing::TIMESTAMP, at), (signing::SIGNATURE, signature)]
        },
    };
    load::webhook_load(&fake.api_url(), slack::BOT_TOKEN, hook, RATE, secs);
}

//! Mastodon connector costs, in-process: a full page of 80 mention notifications (as
//! `GET /api/v1/notifications` sends them, status HTML with mention and link markup) read
//! and turned into posts, which is the work of one poll page or 80 stream events; and one
//! status's HTML read back as text.
//!
//! Run with `cargo bench --bench mastodon`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/load.rs"]
mod load;
#[path = "../tests/support/run.rs"]
mod run;

use carebridge::social::mastodon::wire;
use serde_json::{Value, json};

/// A status's HTML as Mastodon renders it: the brand's mention as an h-card, a shortened link.
const CONTENT: &str = "<p><span class=\"h-card\"><a href=\"https://acme.social/@acme\" class=\"u-url mention\">@<span>acme</span></a></span> my order never arrived &amp; the tracking page says &quot;delivered&quot;: <a href=\"https://track.example/parcels/7731/history\" rel=\"nofollow noopener\"><span class=\"invisible\">https://</span><span class=\"ellipsis\">track.example/parcels/773</span><span class=\"invisible\">1/history</span></a></p><p>Can someone help?</p>";

fn notification(n: u64) -> Value {
    let account = json!({"id": (200_000 + n).to_string(), "acct": format!("customer{n}@other.social"), "display_name": format!("Customer {n}")});
    json!({
        "id": (34_975_861 + n).to_string(),
        "type": "mention",
        "created_at": "2026-12-07T10:00:00.000Z",
        "account": account,
        "status": {
            "id": (103_270_115_826_048_975u64 + n).to_string(),
            "created_at": "2026-12-07T10:00:00.000Z",
            "in_reply_to_id": null,
            "visibility": "public",
            "content": CONTENT,
            "url": format!("https://other.social/@customer{n}/{n}"),
            "account": account,
            "mentions": [{"id": "1", "acct": "acme", "username": "acme"}],
        }
    })
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let page = serde_json::to_vec(&(0..80).map(notification).collect::<Vec<_>>()).unwrap();
    let per_page = load::per_op(2_000, || {
        let items: Vec<Value> = serde_json::from_slice(&page).unwrap();
        let posts = items
            .into_iter()
            .filter_map(|v| wire::notification(v).ok())
            .filter_map(|n| wire::post(&n, "acme-masto", "1", |s| s.id.clone()).ok())
            .count();
        assert_eq!(posts, 80);
    });
    println!(
        "page of 80 mention notifications ({} KiB): parse + translate {:.1} µs = {:.0} posts/s",
        page.len() / 1024,
        per_page.as_secs_f64() * 1e6,
        80.0 / per_page.as_secs_f64()
    );
    let text = load::per_op(50_000, || {
        assert!(wire::plain_text(CONTENT).ends_with("help?"));
    });
    println!(
        "status HTML ({} B) to text: {:.2} µs",
        CONTENT.len(),
        text.as_secs_f64() * 1e6
    );
}

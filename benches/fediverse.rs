//! Mastodon and Bluesky connector costs, in-process:
//! - Mastodon: a full page of 80 mention notifications (as `GET /api/v1/notifications` sends
//!   them, status HTML with mention and link markup) read and turned into posts, the work of
//!   one poll page or 80 stream events; one status's HTML read back as text.
//! - Bluesky: a page of 50 mention notifications (`listNotifications`) read and turned into
//!   posts; one reply record built with its mention and link facets on multi-byte text, and
//!   its record key derived.
//!
//! Run with `cargo bench --bench fediverse`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/load.rs"]
mod load;
#[path = "../tests/support/run.rs"]
mod run;

use carebridge::engine::{Author, StrongRef};
use carebridge::social::bluesky::wire as bluesky;
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

/// A Bluesky mention notification from customer `n`, with its mention facet.
fn bluesky_mention(n: u64) -> Value {
    json!({
        "uri": format!("at://did:plc:customer{n}/app.bsky.feed.post/3lbfgkmcb{n:04}"),
        "cid": format!("bafyreicustomer{n}"),
        "author": {"did": format!("did:plc:customer{n}"), "handle": format!("customer{n}.bsky.social"), "displayName": format!("Customer {n}")},
        "reason": "mention",
        "record": {
            "$type": "app.bsky.feed.post",
            "text": "@acme.bsky.social my order never arrived 📦 — tracking says delivered",
            "createdAt": "2026-12-07T10:00:00.000Z",
            "facets": [{"index": {"byteStart": 0, "byteEnd": 17}, "features": [{"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:acme"}]}],
        },
        "isRead": false,
        "indexedAt": "2026-12-07T10:00:01.234Z",
    })
}

fn bluesky() {
    let page = serde_json::to_vec(&json!({
        "notifications": (0..50).map(bluesky_mention).collect::<Vec<_>>(),
        "cursor": "2026-12-07T10:00:01.234Z",
    }))
    .unwrap();
    let per_page = load::per_op(2_000, || {
        let body: Value = serde_json::from_slice(&page).unwrap();
        let posts = body["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|v| bluesky::notification(v.clone()).ok())
            .filter_map(|n| bluesky::post(&n, "acme-bsky", "did:plc:acme").ok())
            .count();
        assert_eq!(posts, 50);
    });
    println!(
        "bluesky: page of 50 mention notifications ({} KiB): parse + translate {:.1} µs = {:.0} posts/s",
        page.len() / 1024,
        per_page.as_secs_f64() * 1e6,
        50.0 / per_page.as_secs_f64()
    );
    let posts: Vec<_> = serde_json::from_slice::<Value>(&page).unwrap()["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            bluesky::post(
                &bluesky::notification(v.clone()).unwrap(),
                "acme-bsky",
                "did:plc:acme",
            )
            .unwrap()
        })
        .collect();
    let reference = posts[0].reference.clone().unwrap();
    let parent = StrongRef {
        uri: posts[0].id.clone(),
        cid: reference.cid.clone(),
    };
    let customer = Author {
        id: "did:plc:customer0".to_owned(),
        handle: "customer0.bsky.social".to_owned(),
        name: None,
    };
    let text = "👨‍👩‍👧‍👧 @customer0.bsky.social sorry! Track it at https://track.example/parcels/7731 🏳️‍🌈";
    let at = chrono::Utc::now();
    let per_reply = load::per_op(50_000, || {
        let record = bluesky::reply_record(text, at, &parent, &reference.root, &customer);
        assert_eq!(record["facets"].as_array().unwrap().len(), 2);
        bluesky::record_key("acme-bsky/1.1", at);
    });
    println!(
        "bluesky: reply record with mention and link facets (multi-byte text) + record key: {:.2} µs",
        per_reply.as_secs_f64() * 1e6
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    bluesky();
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
        "mastodon: page of 80 mention notifications ({} KiB): parse + translate {:.1} µs = {:.0} posts/s",
        page.len() / 1024,
        per_page.as_secs_f64() * 1e6,
        80.0 / per_page.as_secs_f64()
    );
    let text = load::per_op(50_000, || {
        assert!(wire::plain_text(CONTENT).ends_with("help?"));
    });
    println!(
        "mastodon: status HTML ({} B) to text: {:.2} µs",
        CONTENT.len(),
        text.as_secs_f64() * 1e6
    );
}

//! Interoperability with real server implementations: the real binary, on the console chat,
//! against servers that are not ours — `mastodon-mock` from PyPI and the reference Bluesky
//! PDS (`@atproto/dev-env` from npm) — installed and started on
//! 127.0.0.1 by `tests/interop/run.sh`, which exports their addresses and accounts and runs
//! these tests (`.ci/run` runs it). A plain `cargo test` lists them as ignored: they need
//! those servers.
//!
//! What crosses the wire is read back through each server's own API; the only thing
//! between the bot and a server is a recording proxy (`tests/support/proxy.rs`), which can
//! lose one answer to stand for a connection that breaks after the server acted.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../support/background.rs"]
mod background;
#[path = "../support/console.rs"]
mod console;
#[path = "../support/proxy.rs"]
mod proxy;
#[path = "../support/run.rs"]
mod run;

mod bluesky;
mod mastodon;

/// One JSON call to a server, as `token`'s holder: a body makes it a POST; the answer must be
/// 2xx and is read as JSON (an empty answer as `null`).
fn call(url: &str, token: Option<&str>, body: Option<serde_json::Value>) -> serde_json::Value {
    let mut headers = Vec::new();
    if let Some(token) = token {
        headers.push(("Authorization", format!("Bearer {token}")));
    }
    let method = match body {
        Some(_) => {
            headers.push(("Content-Type", "application/json".to_owned()));
            reqwest::Method::POST
        }
        None => reqwest::Method::GET,
    };
    let body = body.map(|b| b.to_string().into_bytes());
    let (status, text) = background::blocking(method, url, &headers, body);
    assert!((200..300).contains(&status), "{url}: {status} {text}");
    serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)
}

/// A variable `run.sh` exports.
fn env(name: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} is not set: run these tests with tests/interop/run.sh"))
}

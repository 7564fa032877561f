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

/// A variable `run.sh` exports.
fn env(name: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} is not set: run these tests with tests/interop/run.sh"))
}

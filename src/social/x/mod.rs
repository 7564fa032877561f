//! X (Twitter) through the v2 REST API: mentions, DMs and listening searches in (by polling
//! and the Account Activity webhook), replies, DMs, likes, reposts and deletions out.
//!
//! `wire` holds X's payload shapes and their translation into posts and errors (pure),
//! `oauth1` and `signing` the request and webhook cryptography (pure), `client` the HTTP and
//! authentication, `source` the polling, `webhook` the routes, `publish` the publisher.
//! Nothing here decides workflow: reply limits and approvals are the engine's.

pub mod client;
pub mod oauth1;
pub mod publish;
pub mod signing;
pub mod source;
pub mod webhook;
pub mod wire;

pub use client::Client;
pub use publish::XPublisher;

//! Mastodon through its REST and streaming APIs (platforms.md §5), with reqwest.
//!
//! `wire` reads notifications, statuses, limits and headers (pure), `client`
//! is the REST API as one account, `source` brings mentions in (polling, with
//! the notification stream to wake it), and `publish` sends replies exactly
//! once. Holds no workflow rules: length limits and who may answer are the
//! engine's.

pub mod client;
pub mod publish;
pub mod source;
pub mod wire;

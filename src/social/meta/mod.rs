//! Facebook Pages, Messenger and Instagram through Meta's webhooks and the
//! Graph API (platforms.md §4), with reqwest.
//!
//! `wire` reads deliveries and errors (pure), `webhook` serves
//! `/webhooks/meta`, `client` is the Graph API as one account, and `publish`
//! sends replies exactly once. Holds no workflow rules: messaging windows and
//! the one-private-reply rule are the engine's.

pub mod client;
pub mod publish;
pub mod webhook;
pub mod wire;

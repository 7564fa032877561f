//! Facebook Pages, Messenger and Instagram through Meta's webhooks and the
//! Graph API (platforms.md §4), with reqwest.
//!
//! `wire` reads deliveries and errors (pure). The webhook, the Graph client
//! and the publisher are added beside it. Holds no workflow rules: messaging
//! windows and the one-private-reply rule are the engine's.

pub mod client;
pub mod publish;
pub mod wire;

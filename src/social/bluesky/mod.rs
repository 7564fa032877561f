//! Bluesky through its PDS's XRPC API (platforms.md §6), with reqwest.
//!
//! `wire` reads notifications and writes records, facets and record keys
//! (pure), `client` is the API as one account with its stored session,
//! `source` brings mentions and replies in (polling), and `publish` sends
//! replies exactly once. Holds no workflow rules: the 300-grapheme limit and
//! who may answer are the engine's.

pub mod client;
pub mod publish;
pub mod source;
pub mod wire;

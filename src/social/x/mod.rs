//! The X (Twitter) connector: request signing, webhook crypto and API v2 wire shapes.

pub mod oauth1;
pub mod signing;
pub mod wire;

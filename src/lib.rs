//! carebridge: a brand's social inboxes in team chat.
//!
//! Every customer post becomes a case worked in one chat thread. The crate
//! is laid out as DESIGN.md §2 describes: a pure [`engine`] holding every
//! workflow rule, a sled [`store`] committing state and effects together,
//! the [`service`] that serialises writes, the [`dispatch`]er performing
//! effects, [`chat`] surfaces and [`social`] connectors that only translate,
//! and the [`config`], [`commands`] and [`text`] they share, and the pure
//! [`report`] figures behind `carebridge report` and the digest job.

pub mod chat;
pub mod cli;
pub mod commands;
pub mod config;
pub mod dispatch;
pub mod duration;
pub mod engine;
pub mod health;
pub mod hmac;
pub mod journal;
pub mod metrics;
pub mod report;
pub mod runtime;
pub mod scheduler;
pub mod server;
pub mod service;
pub mod social;
pub mod store;
pub mod text;

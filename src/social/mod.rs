//! The social side: one module per network, each a source of `SocialPost`s
//! and a publisher of replies.
//!
//! Connectors translate; they hold no workflow rules (reply limits, windows
//! and approvals are the engine's). Which connector serves an account is
//! chosen by the account's `network` in bot.toml.

pub mod bluesky;
pub mod demo;
pub mod inbox;
pub mod mastodon;
pub mod meta;
pub mod rate;
pub mod webhook;
pub mod x;

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::dispatch::{BoxFuture, DeliveryError};
use crate::engine::{
    Author, Case, CasePost, DraftKind, NetworkAction, Platform, PostKind, Reference,
};

/// The failure of an action `platform` doesn't offer. The engine refuses these before they
/// are queued; this covers a queue written before the account's network changed.
pub fn unsupported(action: &NetworkAction, platform: Platform) -> DeliveryError {
    DeliveryError::permanent(crate::text::unsupported_action(action.kind(), platform))
}

/// Why a polled notification did not become a post (logged; never fatal).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// Not a mention, or one the brand wrote itself.
    NotForUs,
    /// A shape we do not read.
    Unreadable(String),
}

/// What a publisher needs to send one draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishRequest {
    pub account: String,
    pub case: u64,
    pub draft: String,
    pub kind: DraftKind,
    pub text: String,
    /// The customer post it answers.
    pub in_reply_to: String,
    /// The comment that post answers, when it is itself a reply in a comment thread.
    pub parent: Option<String>,
    /// That post's content id and thread root, where the network wants them (Bluesky).
    pub reference: Option<Reference>,
    pub conversation_id: String,
    pub author: Author,
    /// When the draft was approved: an earlier publication of it cannot be older, which tells
    /// it apart from an identical text sent before.
    pub approved_at: Option<DateTime<Utc>>,
    /// When the draft was written. With the draft's key it names this publication for good:
    /// unlike the approval time, it stays the same when an approval is withdrawn and given
    /// again, and it tells the draft apart from one of the same id in a store started afresh.
    pub drafted_at: DateTime<Utc>,
    /// What the answered post is (a comment, a mention, a DM): on Meta a direct answer to a
    /// comment is a private reply, and to a DM a message.
    pub target_kind: PostKind,
    /// When the customer last wrote privately in this case (for Messenger's windows), if ever.
    pub last_direct_at: Option<DateTime<Utc>>,
}

impl PublishRequest {
    pub fn new(case: &Case, draft: &str) -> Option<PublishRequest> {
        let d = case.draft(draft)?;
        let target = case.post(&d.in_reply_to);
        let conversation_id = target.map_or_else(
            || case.conversation_id.clone(),
            |p| p.conversation_id.clone(),
        );
        Some(PublishRequest {
            account: case.account.clone(),
            case: case.number,
            draft: d.id.clone(),
            kind: d.kind,
            text: d.text.clone(),
            in_reply_to: d.in_reply_to.clone(),
            parent: target.and_then(|p| p.parent.clone()),
            reference: target.and_then(|p| p.reference.clone()),
            conversation_id,
            author: case.author.clone(),
            approved_at: d.decided_at,
            drafted_at: d.created_at,
            target_kind: target.map_or(case.kind, |p| p.kind),
            last_direct_at: case.latest_post_of(true).map(|p| p.at),
        })
    }
}

/// What a publisher needs to perform one network action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActRequest {
    pub account: String,
    pub case: u64,
    pub action: NetworkAction,
    /// The customer post it is about, as the case keeps it (`None` for a delete, or a post
    /// the case no longer has).
    pub target: Option<CasePost>,
}

/// Sends replies to a network as the brand account.
pub trait Publisher: Send + Sync + 'static {
    /// Publishes; returns the network's id for the new post or message.
    /// `key` is stable per draft: the same key must never publish twice.
    fn publish<'a>(
        &'a self,
        key: &'a str,
        request: &'a PublishRequest,
    ) -> BoxFuture<'a, Result<String, DeliveryError>>;
    /// Looks for an earlier publication with this key (after an attempt whose
    /// outcome is unknown).
    fn find<'a>(
        &'a self,
        key: &'a str,
        request: &'a PublishRequest,
    ) -> BoxFuture<'a, Result<Option<String>, DeliveryError>>;
    /// Performs a like, unlike, repost or delete. Must be idempotent: repeating an action that
    /// already happened (after a crash) succeeds without doing it twice.
    fn act<'a>(&'a self, request: &'a ActRequest) -> BoxFuture<'a, Result<(), DeliveryError>>;
}

/// The publishers of all configured accounts, by account id.
#[derive(Default)]
pub struct Networks {
    publishers: HashMap<String, Arc<dyn Publisher>>,
}

impl Networks {
    pub fn insert(&mut self, account: &str, publisher: Arc<dyn Publisher>) {
        self.publishers.insert(account.to_owned(), publisher);
    }

    pub fn get(&self, account: &str) -> Option<Arc<dyn Publisher>> {
        self.publishers.get(account).cloned()
    }
}

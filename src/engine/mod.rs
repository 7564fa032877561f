//! The case engine: every workflow rule of carebridge, as pure functions.
//!
//! `ingest` turns a social post into a new, joined or reopened case;
//! `apply` takes a case and one input (an agent's command, a reaction, the
//! result of an effect, a timed sweep) and returns the new case, the effects to
//! perform and the audit lines to keep — or a [`Refusal`] that says what to
//! change. The engine must not do I/O, read clocks, spawn tasks or know about
//! any chat or network API: time comes in through [`Ctx::now`], and the only
//! outside knowledge it may ask for goes through [`Lookup`].

mod apply;
mod ingest;
pub mod model;
mod routing;
pub mod rules;
pub mod sla;
pub mod twitter_text;

#[cfg(test)]
mod tests;

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::config::Config;

pub use apply::{alert_queues, alerts, apply, still_wanted, sweep_due};
pub use ingest::{Ingested, ingest};
pub use model::*;

/// What the engine may ask about the world outside one case. The store
/// implements it; tests use a set.
pub trait Lookup {
    /// Has this account already published exactly this text (NFC-normalized)?
    fn published_on_account(&self, account: &str, text: &str) -> bool;
}

/// Everything the engine knows besides the case and the input.
pub struct Ctx<'a> {
    pub now: DateTime<Utc>,
    pub config: &'a Config,
    pub lookup: &'a dyn Lookup,
}

/// An agent command, already parsed and typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Claim,
    Unclaim,
    Assign {
        user: String,
    },
    Reply {
        text: String,
    },
    Dm {
        text: String,
    },
    Note {
        text: String,
    },
    Canned {
        name: String,
    },
    Escalate {
        team: String,
        reason: Option<String>,
    },
    Offline {
        channel: OfflineChannel,
        address: Option<String>,
    },
    Close {
        note: Option<String>,
    },
    Reopen,
    Recall,
    Retry,
    Tag {
        label: String,
    },
    Snooze {
        duration: Duration,
    },
    Status,
    Help {
        command: Option<String>,
    },
    /// Like a customer post: the one named, else the latest public one.
    Like {
        post: Option<String>,
    },
    /// Take back a like: of the post named, else of the latest liked one.
    Unlike {
        post: Option<String>,
    },
    /// Repost a customer post: the one named, else the latest public one.
    Repost {
        post: Option<String>,
    },
    /// Delete from the network our published reply (the draft named, else the latest one),
    /// or the customer's comment named by its id.
    Delete {
        target: Option<String>,
    },
    /// Hide a customer comment from the public: the one named, else the latest visible one.
    Hide {
        post: Option<String>,
    },
    /// Show a hidden comment again: the one named, else the latest hidden one.
    Unhide {
        post: Option<String>,
    },
}

impl Command {
    /// Every command name, as in `commands/*.toml`.
    pub const NAMES: [&'static str; 23] = [
        "claim", "unclaim", "assign", "reply", "dm", "note", "canned", "escalate", "offline",
        "close", "reopen", "recall", "retry", "tag", "snooze", "status", "help", "like", "unlike",
        "repost", "delete", "hide", "unhide",
    ];

    pub fn name(&self) -> &'static str {
        match self {
            Command::Claim => "claim",
            Command::Unclaim => "unclaim",
            Command::Assign { .. } => "assign",
            Command::Reply { .. } => "reply",
            Command::Dm { .. } => "dm",
            Command::Note { .. } => "note",
            Command::Canned { .. } => "canned",
            Command::Escalate { .. } => "escalate",
            Command::Offline { .. } => "offline",
            Command::Close { .. } => "close",
            Command::Reopen => "reopen",
            Command::Recall => "recall",
            Command::Retry => "retry",
            Command::Tag { .. } => "tag",
            Command::Snooze { .. } => "snooze",
            Command::Status => "status",
            Command::Help { .. } => "help",
            Command::Like { .. } => "like",
            Command::Unlike { .. } => "unlike",
            Command::Repost { .. } => "repost",
            Command::Delete { .. } => "delete",
            Command::Hide { .. } => "hide",
            Command::Unhide { .. } => "unhide",
        }
    }
}

/// Who may run a command (from its spec in `commands/`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Permission {
    Anyone,
    Agent,
    Approver,
}

/// One thing that happens to a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// An agent's command. `in_thread` is false when it came from outside
    /// the case thread (e.g. `/care note 12 …`), so the thread must be told.
    Command {
        actor: Actor,
        command: Command,
        required: Permission,
        in_thread: bool,
    },
    /// A plain message in the case thread: an internal note, never sent out.
    ThreadMessage { actor: Actor, text: String },
    /// A reaction added to (or removed from) a draft's chat message.
    Reaction {
        actor: Actor,
        draft: String,
        emoji: String,
        added: bool,
    },
    /// The result of an effect the dispatcher performed.
    Outcome(Outcome),
    /// Timed work: wake snoozed cases, mark SLA breaches.
    Sweep,
    /// The network says a customer post the case holds changed.
    PostChanged { post: String, change: PostChange },
}

/// What happened to a customer post after it was ingested.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostChange {
    /// The customer edited it; this is the new text.
    Edited { text: String },
    /// It was removed (by its author or a moderator).
    Removed,
    /// A moderator hid it from everyone but its author, or showed it again.
    Hidden { hidden: bool },
}

/// What the sweep tells a queue's channel about one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Alert {
    DueSoon {
        target: SlaTarget,
        due: DateTime<Utc>,
    },
    Breached {
        target: SlaTarget,
        due: DateTime<Utc>,
    },
    /// New, and nobody claimed it since it opened.
    Unclaimed { since: DateTime<Utc> },
}

/// What the dispatcher reports back after performing an effect.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum Outcome {
    /// The case card was posted for the first time; the thread now exists.
    CardPosted { thread: String, card: String },
    /// A draft is shown in the thread as this chat message.
    DraftShown { draft: String, message: String },
    /// The network accepted the draft.
    Published { draft: String, id: String },
    /// The network refused the draft for good.
    PublishFailed { draft: String, reason: String },
    /// The network could not take the draft yet (rate limit, outage); it is retried.
    PublishDelayed { draft: String, reason: String },
    /// The network did the action (or had already done it).
    Acted { action: NetworkAction, by: String },
    /// The network refused the action for good.
    ActFailed {
        action: NetworkAction,
        by: String,
        reason: String,
    },
}

/// Work for the dispatcher, written to the outbox with the state change that caused it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "effect")]
pub enum Effect {
    /// Post the case card (first time) or update it in place.
    Card,
    /// Post a notice into the case thread.
    Thread { notice: Notice },
    /// Show a draft in the thread (asking approvers to react when it needs approval).
    ShowDraft { draft: String },
    /// Publish an approved draft to the network. Runs only while the draft is still approved.
    Publish { draft: String },
    /// Like, unlike, repost, hide, unhide or delete on the network, as `by` asked.
    Act { action: NetworkAction, by: String },
}

/// Something the thread should be told. Rendered to text by `crate::text`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "notice")]
pub enum Notice {
    CustomerPost {
        post: String,
    },
    /// The customer edited a post (its text is the new one).
    PostEdited {
        post: String,
    },
    /// A customer post was removed from the network.
    PostRemoved {
        post: String,
    },
    /// A customer comment was hidden (or shown again) on the network, not through us.
    PostHidden {
        post: String,
        hidden: bool,
    },
    Reopened {
        by: String,
    },
    Claimed {
        by: String,
    },
    Unclaimed {
        by: String,
        previous: String,
    },
    Assigned {
        by: String,
        to: String,
    },
    Note {
        by: String,
        text: String,
    },
    Escalated {
        by: String,
        team: String,
        reason: Option<String>,
    },
    Approved {
        draft: String,
        by: String,
    },
    Rejected {
        draft: String,
        by: String,
    },
    Withdrawn {
        draft: String,
        by: String,
    },
    Recalled {
        draft: String,
        by: String,
    },
    Published {
        draft: String,
    },
    PublishFailed {
        draft: String,
    },
    /// The first retryable failure of a publication: the owner learns why it is late.
    PublishDelayed {
        draft: String,
        reason: String,
    },
    MovedOffline {
        by: String,
        channel: OfflineChannel,
        address: Option<String>,
    },
    Closed {
        by: String,
        note: Option<String>,
    },
    Tagged {
        by: String,
        label: String,
    },
    Snoozed {
        by: String,
        until: DateTime<Utc>,
    },
    SnoozeOver,
    /// A clock is late. (Cases stored before there were several clocks mean the first
    /// response.)
    SlaBreached {
        #[serde(default)]
        target: SlaTarget,
    },
    /// A clock is due within `[sla] warn_before`.
    SlaDueSoon {
        target: SlaTarget,
        due: DateTime<Utc>,
    },
    /// The case closed without its closing-the-loop reply: the network's rules refuse it.
    LoopSkipped {
        refusal: Refusal,
    },
    /// The network did what `by` asked.
    Acted {
        action: NetworkAction,
        by: String,
    },
    /// The network refused what `by` asked, for good.
    ActFailed {
        action: NetworkAction,
        by: String,
        reason: String,
    },
}

/// An answer for the person who acted only (not the thread), e.g. `status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Status,
    Help { command: Option<String> },
}

/// The result of one engine step.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub case: Case,
    pub effects: Vec<Effect>,
    pub audit: Vec<AuditEntry>,
    pub answer: Option<Answer>,
}

impl Transition {
    /// Nothing to store: the case did not change and nothing is to be done.
    pub fn is_noop(&self, before: &Case) -> bool {
        self.effects.is_empty() && self.audit.is_empty() && self.case == *before
    }
}

/// Why the engine refused an input, with what the person should change.
/// Rendered to text by `crate::text::refusal`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "refusal")]
pub enum Refusal {
    NotAllowed {
        command: String,
        needs: Permission,
    },
    ClaimedBy {
        case: u64,
        owner: String,
    },
    AlreadyYours {
        case: u64,
    },
    AlreadyAssigned {
        case: u64,
        owner: String,
    },
    NotClaimed {
        case: u64,
    },
    NotYours {
        case: u64,
        owner: String,
    },
    Closed {
        case: u64,
    },
    NotClosed {
        case: u64,
    },
    EmptyText,
    TooLong {
        platform: Platform,
        count: usize,
        limit: usize,
        unit: rules::Unit,
    },
    InvalidCharacters {
        platform: Platform,
    },
    DuplicateText {
        platform: Platform,
    },
    DmNotAllowed,
    DmUnsupported {
        platform: Platform,
    },
    WindowClosed {
        platform: Platform,
        hours: i64,
        last: DateTime<Utc>,
    },
    PrivateReplyUsed {
        post: String,
    },
    UnknownCanned {
        name: String,
        available: Vec<String>,
    },
    NoPendingDraft {
        case: u64,
    },
    NoFailedDraft {
        case: u64,
    },
    DraftsPending {
        case: u64,
        drafts: Vec<String>,
    },
    UnknownDraft {
        draft: String,
    },
    SelfApproval {
        draft: String,
    },
    AlreadyOffline {
        case: u64,
        channel: OfflineChannel,
    },
    AlreadyTagged {
        label: String,
    },
    SnoozeOutOfRange,
    UnknownAccount {
        account: String,
    },
    NothingToAnswer {
        case: u64,
    },
    /// The network (as the account's rules platform) can't do this action, or not on this
    /// target (a direct message). `action` is the [`ActionKind`] key.
    ActionUnsupported {
        platform: Platform,
        action: String,
    },
    /// No customer post of the case has this id.
    UnknownPost {
        post: String,
    },
    /// The case has no public customer post to like, unlike or repost.
    NothingToLike {
        case: u64,
    },
    AlreadyLiked {
        post: String,
    },
    NotLiked {
        post: String,
    },
    AlreadyReposted {
        post: String,
    },
    /// The draft never went out, so there is nothing on the network to delete.
    NotPublished {
        draft: String,
    },
    AlreadyDeleted {
        draft: String,
    },
    /// The case has no published reply left to delete.
    NothingToDelete {
        case: u64,
    },
    /// The case has no visible customer comment to hide.
    NothingToHide {
        case: u64,
    },
    /// None of the case's comments is hidden.
    NothingHidden {
        case: u64,
    },
    AlreadyHidden {
        post: String,
    },
    NotHidden {
        post: String,
    },
    /// The customer post is gone from the network: there is nothing to act on.
    PostGone {
        post: String,
    },
    /// A webhook account without a `callback_url`: its replies have nowhere to go.
    NoCallback {
        account: String,
    },
}

//! The case data model: social posts coming in, cases, drafts, audit entries.
//!
//! Owns the shapes that the engine reads and writes and that the store persists
//! as JSON. Must not hold workflow rules (those live in the engine's other
//! modules) and must not do I/O.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A social network a post comes from (and a reply goes back to).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    X,
    Facebook,
    Instagram,
    Mastodon,
    Bluesky,
    Webhook,
    Demo,
}

impl Platform {
    /// The social networks (not the generic webhook or the demo).
    pub const NETWORKS: [Platform; 5] = [
        Platform::X,
        Platform::Facebook,
        Platform::Instagram,
        Platform::Mastodon,
        Platform::Bluesky,
    ];

    /// The config/JSON spelling (`x`, `facebook`, …).
    pub fn key(self) -> &'static str {
        match self {
            Platform::X => "x",
            Platform::Facebook => "facebook",
            Platform::Instagram => "instagram",
            Platform::Mastodon => "mastodon",
            Platform::Bluesky => "bluesky",
            Platform::Webhook => "webhook",
            Platform::Demo => "demo",
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// What kind of post the customer made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PostKind {
    Mention,
    Comment,
    DirectMessage,
    /// A public post found by a listening query: about the brand, not addressed to it.
    Listening,
}

impl PostKind {
    pub fn key(self) -> &'static str {
        match self {
            PostKind::Mention => "mention",
            PostKind::Comment => "comment",
            PostKind::DirectMessage => "direct_message",
            PostKind::Listening => "listening",
        }
    }

    pub fn is_direct(self) -> bool {
        self == PostKind::DirectMessage
    }
}

/// Whether the network lets the brand message the author privately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CanDm {
    Yes,
    No,
    #[default]
    Unknown,
}

/// How urgent a case is; sets its first-response target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Urgency {
    Low,
    Normal,
    High,
    Urgent,
}

impl Urgency {
    /// One step more urgent; `None` for urgent.
    pub fn raised(self) -> Option<Urgency> {
        match self {
            Urgency::Low => Some(Urgency::Normal),
            Urgency::Normal => Some(Urgency::High),
            Urgency::High => Some(Urgency::Urgent),
            Urgency::Urgent => None,
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Urgency::Low => "low",
            Urgency::Normal => "normal",
            Urgency::High => "high",
            Urgency::Urgent => "urgent",
        }
    }
}

/// Per-account approval policy for drafts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalMode {
    /// Every draft waits for an approver (trusted agents excepted).
    Always,
    /// Drafts are published as soon as they pass the reply rules.
    Never,
    /// Only a case's first published reply needs approval.
    FirstReply,
}

/// Where a conversation moves when it goes offline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OfflineChannel {
    Email,
    Sms,
    Dm,
}

impl OfflineChannel {
    pub fn key(self) -> &'static str {
        match self {
            OfflineChannel::Email => "email",
            OfflineChannel::Sms => "sms",
            OfflineChannel::Dm => "dm",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        match key {
            "email" => Some(OfflineChannel::Email),
            "sms" => Some(OfflineChannel::Sms),
            "dm" => Some(OfflineChannel::Dm),
            _ => None,
        }
    }
}

/// The customer as the network knows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Author {
    /// The network's stable id for the person.
    pub id: String,
    /// Handle without a leading `@`.
    pub handle: String,
    /// Display name, if the network gives one.
    #[serde(default)]
    pub name: Option<String>,
}

impl Author {
    /// The name to greet them by: display name, else handle.
    pub fn greeting_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.handle)
    }
}

/// One customer post as a social connector delivers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SocialPost {
    pub platform: Platform,
    /// Id of the configured brand account the post reached.
    pub account: String,
    /// The network's id for this post.
    pub id: String,
    /// The network's conversation/thread id (the root post for public threads).
    pub conversation_id: String,
    pub author: Author,
    pub kind: PostKind,
    pub text: String,
    #[serde(default)]
    pub permalink: Option<String>,
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub can_dm: CanDm,
    /// The latest time the network accepts a reply to this post, if it has such a window.
    #[serde(default)]
    pub reply_by: Option<DateTime<Utc>>,
    /// The queue the source asks for (a listening query's own queue); a matching routing
    /// rule's queue still wins, and without either the account's queue applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    /// The comment this one answers, when it is a reply inside a comment thread (Facebook,
    /// Instagram): where the network files replies to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// What a reply to it must name besides its id, on a network that points at posts by
    /// content (Bluesky): its content id and its thread's root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<Reference>,
}

/// A post as Bluesky points at one (`com.atproto.repo.strongRef`): its `at://` URI and the
/// content id (`cid`) of the version meant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StrongRef {
    pub uri: String,
    pub cid: String,
}

/// What a reply to a post must name besides the post's id on a network that points at posts
/// by content (Bluesky): the post's content id, and the root of the thread it is in (itself
/// when it starts the thread).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reference {
    pub cid: String,
    pub root: StrongRef,
}

impl SocialPost {
    /// Key for deduplication: a post is ingested once per account.
    pub fn dedupe_key(&self) -> String {
        post_key(self.platform, &self.account, &self.id)
    }

    /// Key that groups posts into one case: same author in the same
    /// conversation, or any DM from the same author to the same account.
    pub fn conversation_key(&self) -> String {
        let conversation = if self.kind.is_direct() {
            "dm"
        } else {
            self.conversation_id.as_str()
        };
        format!(
            "{}/{}/{}/{}",
            self.platform, self.account, self.author.id, conversation
        )
    }
}

/// The key a post is known by in the store: the network, the account it reached, its id.
pub fn post_key(platform: Platform, account: &str, id: &str) -> String {
    format!("{platform}/{account}/{id}")
}

/// A case's lifecycle state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Nobody owns it yet.
    New,
    /// Claimed by an agent.
    Open,
    /// We answered; waiting on the customer.
    Waiting,
    /// Moved to a private channel.
    Offline,
    Closed,
}

impl Status {
    pub fn key(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Open => "open",
            Status::Waiting => "waiting",
            Status::Offline => "offline",
            Status::Closed => "closed",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        [
            Status::New,
            Status::Open,
            Status::Waiting,
            Status::Offline,
            Status::Closed,
        ]
        .into_iter()
        .find(|s| s.key() == key)
    }
}

/// Who escalated a case, to whom and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Escalation {
    pub team: String,
    pub reason: Option<String>,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// The SLA clocks of a case: the first response, the next response once the customer wrote
/// again after our answer, and the resolution where the config sets a target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sla {
    /// When the first public answer is due.
    pub first_response_due: DateTime<Utc>,
    /// When we first published an answer (None until then).
    pub first_response_at: Option<DateTime<Utc>>,
    /// Set by the sweep once the due time passed without an answer.
    #[serde(default)]
    pub breached: bool,
    /// Set by the sweep once the first response was reported due soon.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub warned: bool,
    /// Runs from a customer post after our answer until we answer again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<Clock>,
    /// Counts the time the case is open and not waiting on the customer, where
    /// `[sla.resolution]` sets a target for its urgency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<Resolution>,
}

impl Sla {
    /// A fresh first-response clock due at `due`.
    pub fn first(due: DateTime<Utc>) -> Sla {
        Sla {
            first_response_due: due,
            first_response_at: None,
            breached: false,
            warned: false,
            next: None,
            resolution: None,
        }
    }
}

/// Which promise an SLA clock keeps.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum SlaTarget {
    #[default]
    FirstResponse,
    NextResponse,
    Resolution,
}

impl SlaTarget {
    pub fn key(self) -> &'static str {
        match self {
            SlaTarget::FirstResponse => "first response",
            SlaTarget::NextResponse => "next response",
            SlaTarget::Resolution => "resolution",
        }
    }
}

/// A response clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clock {
    pub due: DateTime<Utc>,
    /// The sweep reported it due soon.
    #[serde(default)]
    pub warned: bool,
    /// The sweep found it late.
    #[serde(default)]
    pub breached: bool,
}

/// The resolution clock: stops while the case waits on the customer and once it is closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolution {
    /// The target, in seconds of counted time.
    pub target_secs: u64,
    /// Seconds counted before `running_since`.
    pub spent_secs: u64,
    /// Counting since then; `None` while stopped.
    pub running_since: Option<DateTime<Utc>>,
    /// When it is due if it keeps running; `None` while stopped.
    pub due: Option<DateTime<Utc>>,
    #[serde(default)]
    pub warned: bool,
    #[serde(default)]
    pub breached: bool,
}

/// Where the conversation went when the case moved offline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offline {
    pub channel: OfflineChannel,
    pub address: Option<String>,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// A customer post as kept in the case timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CasePost {
    pub id: String,
    pub kind: PostKind,
    pub text: String,
    pub conversation_id: String,
    pub permalink: Option<String>,
    /// When the customer posted it.
    pub at: DateTime<Utc>,
    /// When we ingested it.
    pub received_at: DateTime<Utc>,
    pub reply_by: Option<DateTime<Utc>>,
    /// The comment it answers, for a reply inside a comment thread.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Its content id and thread root, where the network wants them (Bluesky).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<Reference>,
    /// Removed from the network since (by its author or a moderator).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub removed: bool,
}

/// Whether a draft goes out publicly or privately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DraftKind {
    /// A public reply under the customer's post.
    Public,
    /// A private/direct message.
    Direct,
}

/// Why a draft exists; decides what publishing it means for the case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type", content = "name")]
pub enum Purpose {
    Reply,
    Canned(String),
    OfflineInvite,
    CloseLoop,
    /// The account's automatic answer outside business hours: it tells the customer when
    /// the team is back, so it answers nothing (no SLA met, the case still needs us).
    OffHours,
}

/// Where a draft is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DraftState {
    Pending,
    Approved,
    Rejected,
    Recalled,
    Published,
    Failed,
}

impl DraftState {
    /// An approver may still decide on it.
    pub fn awaits_decision(self) -> bool {
        self == DraftState::Pending
    }
}

/// An outgoing message to the customer. Every one is a draft first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    /// `<case>.<n>`, e.g. `12.3`: short enough to type in the console. Drafts
    /// are never removed, so `n` is the draft's position in the case.
    pub id: String,
    pub kind: DraftKind,
    pub purpose: Purpose,
    pub text: String,
    /// The customer post it answers.
    pub in_reply_to: String,
    pub author: String,
    pub created_at: DateTime<Utc>,
    pub state: DraftState,
    pub needs_approval: bool,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub published_id: Option<String>,
    pub published_at: Option<DateTime<Utc>>,
    pub error: Option<String>,
    /// The chat message that shows the draft (reactions on it decide it).
    pub chat_message: Option<String>,
    /// When the published reply was deleted from the network (it stays `Published`: it went out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<DateTime<Utc>>,
    /// Who asked for the deletion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_by: Option<String>,
}

impl Draft {
    /// Published and still on the network.
    pub fn is_live(&self) -> bool {
        self.state == DraftState::Published && self.deleted_at.is_none()
    }
}

/// The kinds of [`NetworkAction`], for the rules that say which network allows what.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    Like,
    Unlike,
    Repost,
    /// Delete our own published reply.
    Delete,
    Hide,
    Unhide,
    /// Delete a customer's comment (on the brand's own post or media).
    Remove,
}

impl ActionKind {
    pub const ALL: [ActionKind; 7] = [
        ActionKind::Like,
        ActionKind::Unlike,
        ActionKind::Repost,
        ActionKind::Delete,
        ActionKind::Hide,
        ActionKind::Unhide,
        ActionKind::Remove,
    ];

    /// The JSON spelling: `like`, `unlike`, `repost`, `delete`, `hide`, `unhide`, `remove`.
    pub fn key(self) -> &'static str {
        match self {
            ActionKind::Like => "like",
            ActionKind::Unlike => "unlike",
            ActionKind::Repost => "repost",
            ActionKind::Delete => "delete",
            ActionKind::Hide => "hide",
            ActionKind::Unhide => "unhide",
            ActionKind::Remove => "remove",
        }
    }

    /// The command that asks for it: the key, except that `delete` also removes a customer
    /// comment when given its id.
    pub fn command(self) -> &'static str {
        match self {
            ActionKind::Remove => ActionKind::Delete.key(),
            other => other.key(),
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        ActionKind::ALL.into_iter().find(|k| k.key() == key)
    }
}

/// Something done on the network besides publishing a draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum NetworkAction {
    /// Like (favourite) a customer post of the case.
    Like {
        post: String,
    },
    Unlike {
        post: String,
    },
    /// Repost (retweet, boost) a customer post.
    Repost {
        post: String,
    },
    /// Delete our own published reply: the draft and the network id it was published as.
    Delete {
        draft: String,
        id: String,
    },
    /// Hide a customer's comment from everyone but its author (and their friends).
    Hide {
        post: String,
    },
    Unhide {
        post: String,
    },
    /// Delete a customer's comment for good.
    Remove {
        post: String,
    },
}

impl NetworkAction {
    pub fn kind(&self) -> ActionKind {
        match self {
            NetworkAction::Like { .. } => ActionKind::Like,
            NetworkAction::Unlike { .. } => ActionKind::Unlike,
            NetworkAction::Repost { .. } => ActionKind::Repost,
            NetworkAction::Delete { .. } => ActionKind::Delete,
            NetworkAction::Hide { .. } => ActionKind::Hide,
            NetworkAction::Unhide { .. } => ActionKind::Unhide,
            NetworkAction::Remove { .. } => ActionKind::Remove,
        }
    }

    /// The action `kind` on customer post `post`; `None` for a delete (of a draft).
    pub fn on_post(kind: ActionKind, post: String) -> Option<NetworkAction> {
        match kind {
            ActionKind::Like => Some(NetworkAction::Like { post }),
            ActionKind::Unlike => Some(NetworkAction::Unlike { post }),
            ActionKind::Repost => Some(NetworkAction::Repost { post }),
            ActionKind::Hide => Some(NetworkAction::Hide { post }),
            ActionKind::Unhide => Some(NetworkAction::Unhide { post }),
            ActionKind::Remove => Some(NetworkAction::Remove { post }),
            ActionKind::Delete => None,
        }
    }

    /// The JSON spelling of its kind.
    pub fn key(&self) -> &'static str {
        self.kind().key()
    }

    /// The customer post it is about; `None` for a delete (of our draft).
    pub fn post(&self) -> Option<&str> {
        match self {
            NetworkAction::Like { post }
            | NetworkAction::Unlike { post }
            | NetworkAction::Repost { post }
            | NetworkAction::Hide { post }
            | NetworkAction::Unhide { post }
            | NetworkAction::Remove { post } => Some(post),
            NetworkAction::Delete { .. } => None,
        }
    }

    /// What the action is about: the customer post, or for a delete our draft.
    pub fn target(&self) -> &str {
        match self {
            NetworkAction::Delete { draft, .. } => draft,
            other => other.post().unwrap_or_default(),
        }
    }
}

/// The chat thread a case lives in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatThread {
    /// Thread id in the chat (Slack `thread_ts`, Discord thread id, console case tag).
    pub thread: String,
    /// The case card message, updated in place.
    pub card: String,
}

/// A case: one customer conversation, worked in one chat thread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    pub number: u64,
    pub status: Status,
    pub platform: Platform,
    pub account: String,
    pub author: Author,
    /// Conversation of the opening post.
    pub conversation_id: String,
    pub kind: PostKind,
    pub queue: String,
    pub urgency: Urgency,
    pub tags: BTreeSet<String>,
    pub assignee: Option<String>,
    pub escalation: Option<Escalation>,
    pub snoozed_until: Option<DateTime<Utc>>,
    pub sla: Sla,
    pub offline: Option<Offline>,
    pub can_dm: CanDm,
    pub posts: Vec<CasePost>,
    pub drafts: Vec<Draft>,
    /// Customer posts the account likes (as the network confirmed).
    #[serde(default)]
    pub liked: BTreeSet<String>,
    /// Customer posts the account reposted (as the network confirmed).
    #[serde(default)]
    pub reposted: BTreeSet<String>,
    /// Customer comments the account hid (as the network confirmed).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub hidden: BTreeSet<String>,
    pub opened_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub chat: Option<ChatThread>,
    /// The sweep listed it to its queue as unclaimed (once per case).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub nudged: bool,
    /// When the off-hours autoresponder last answered in this case (once per off-hours period).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub off_hours_answered: Option<DateTime<Utc>>,
}

impl Case {
    pub fn draft(&self, id: &str) -> Option<&Draft> {
        self.drafts.iter().find(|d| d.id == id)
    }

    pub fn draft_mut(&mut self, id: &str) -> Option<&mut Draft> {
        self.drafts.iter_mut().find(|d| d.id == id)
    }

    pub fn latest_post(&self) -> Option<&CasePost> {
        self.posts.last()
    }

    pub fn latest_post_of(&self, direct: bool) -> Option<&CasePost> {
        self.posts
            .iter()
            .rev()
            .find(|p| p.kind.is_direct() == direct)
    }

    pub fn post(&self, id: &str) -> Option<&CasePost> {
        self.posts.iter().find(|p| p.id == id)
    }

    /// Whether a person's answer went out (the off-hours autoresponder's doesn't count).
    pub fn has_published(&self) -> bool {
        self.drafts
            .iter()
            .any(|d| d.state == DraftState::Published && d.purpose != Purpose::OffHours)
    }
}

/// One line of a case's audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    /// User id, `customer`, or `carebridge` for the bot itself.
    pub actor: String,
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
}

/// The person acting through a chat surface, with what the chat config says they may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub id: String,
    /// Part of the team (may work cases).
    pub agent: bool,
    /// May approve drafts.
    pub approver: bool,
}

/// Actor names used in audit entries for non-people.
pub const CUSTOMER: &str = "customer";
pub const BOT: &str = "carebridge";

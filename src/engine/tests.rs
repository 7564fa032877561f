//! Unit tests of the case engine, without a network, a store or a clock.
//!
//! - `table`: (state, input, actor) → (state, effects, audit) or the exact refusal, for every
//!   command, reaction, outcome, sweep and reply rule, run as one data table.
//! - `ingest`: opening, joining, reopening, routing and SLA due times.
//! - `actions`: table rows for like, unlike, repost and delete and their outcomes, and the
//!   stored shapes they add.
//! - `props`: property tests of the workflow's invariants over random input sequences.
//!
//! This module holds what they share: configs built from TOML (demo accounts simulating every
//! network), a fake [`Lookup`], and makers of posts, actors and cases in every status.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod actions;
mod clocks;
mod ingest;
mod props;
mod reply_rules;
mod table;

use std::collections::HashSet;
use std::path::Path;
use std::sync::LazyLock;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};

use super::*;
use crate::config::Config;

// ---------------------------------------------------------------------------------------------
// Configs

/// Builds the test config. Accounts (demo accounts simulating a network, and two real generic
/// webhook accounts):
///
/// | id        | network   | approval    | other                                             |
/// |-----------|-----------|-------------|---------------------------------------------------|
/// | x         | X         | always      | trusted `tia`, queue `social`                     |
/// | fb        | Facebook  | always      | close_loop always                                 |
/// | fb-tag    | Facebook  | never       | human_agent_tag                                   |
/// | ig        | Instagram | never       | close_loop never, custom sms template             |
/// | masto     | Mastodon  | first_reply |                                                   |
/// | masto-big | Mastodon  | never       | max_length 1000                                   |
/// | bsky      | Bluesky   | never       |                                                   |
/// | hook      | Webhook   | never       | callback_url set                                  |
/// | hook-mute | Webhook   | never       | no callback_url: nowhere to send replies          |
fn config_toml(self_approval: bool, business_hours: bool) -> String {
    let mut text = String::from(
        r#"
[bot]
timezone = "UTC"
reopen_window = "72h"

[chat.console]
approvers = ["lee", "max"]
agents = ["ana", "bo", "tia"]
"#,
    );
    if self_approval {
        text.push_str("\n[approval]\nallow_self_approval = true\n");
    }
    if business_hours {
        text.push_str(
            r#"
[sla]
business_hours = true

[business_hours]
days = "Mon-Fri"
open = "09:00"
close = "17:00"
"#,
        );
    }
    text.push_str(
        r#"
[sla.first_response]
urgent = "15m"
high = "1h"
normal = "4h"
low = "24h"

[[routing]]
name = "refunds"
keywords = ["refund", "lawyer"]
urgency = "urgent"
queue = "escalations"
tags = ["complaint"]

[[routing]]
name = "bluesky-outage"
platforms = ["bluesky"]
regex = "(?i)\\b(down|outage)\\b"
urgency = "high"
tags = ["outage"]

[[routing]]
name = "instagram-dms"
platforms = ["instagram"]
kinds = ["direct_message"]
urgency = "low"
queue = "dms"

[[routing]]
name = "fb-account"
accounts = ["fb"]
tags = ["facebook"]

[canned]
sorry = "Hi {name} ({handle}), sorry about that. {agent}, case {case}"
thanks = "Thanks for your patience!"

[[accounts]]
id = "x"
network = "demo"
simulate = "x"
approval = "always"
trusted_agents = ["tia"]
queue = "social"

[[accounts]]
id = "fb"
network = "demo"
simulate = "facebook"
approval = "always"
close_loop = "always"

[[accounts]]
id = "fb-tag"
network = "demo"
simulate = "facebook"
approval = "never"
human_agent_tag = true

[[accounts]]
id = "ig"
network = "demo"
simulate = "instagram"
approval = "never"
close_loop = "never"
[accounts.offline]
sms = "Text us on {address}, {name} (case {case})"

[[accounts]]
id = "masto"
network = "demo"
simulate = "mastodon"
approval = "first_reply"

[[accounts]]
id = "masto-big"
network = "demo"
simulate = "mastodon"
approval = "never"
max_length = 1000

[[accounts]]
id = "bsky"
network = "demo"
simulate = "bluesky"
approval = "never"

[[accounts]]
id = "hook"
network = "webhook"
secret = "whsec_engine_tests_only"
callback_url = "https://forms.acme.example/carebridge"
approval = "never"

[[accounts]]
id = "hook-mute"
network = "webhook"
secret = "whsec_engine_tests_only"
approval = "never"
"#,
    );
    text
}

fn build(text: &str) -> Config {
    Config::from_toml_str(text, Path::new("/nonexistent"), &|_| None)
        .unwrap_or_else(|e| panic!("test config rejected:\n{e}"))
}

/// The usual test config.
pub(super) static CONFIG: LazyLock<Config> = LazyLock::new(|| build(&config_toml(false, false)));
/// The same, with `allow_self_approval = true`.
pub(super) static SELF_APPROVAL: LazyLock<Config> =
    LazyLock::new(|| build(&config_toml(true, false)));
/// The same, with the SLA clock counting only Mon-Fri 09:00-17:00 UTC.
pub(super) static BUSINESS_HOURS: LazyLock<Config> =
    LazyLock::new(|| build(&config_toml(false, true)));

/// [`CONFIG`] without due-soon warnings.
pub(super) static NO_WARNINGS: LazyLock<Config> = LazyLock::new(|| {
    let toml = config_toml(false, false).replace(
        "[sla.first_response]",
        "[sla]\nwarn_before = \"0s\"\n\n[sla.first_response]",
    );
    build(&toml)
});

/// [`CONFIG`] with a resolution target for normal cases, breaches that raise urgency and are
/// also told to the `escalations` queue, and
/// cases waiting on the customer for 48h closed by the sweep.
pub(super) static STRICT_SLA: LazyLock<Config> = LazyLock::new(|| {
    let extra = "\n[sla.resolution]\nnormal = \"8h\"\n\n[sla.breach]\nraise_urgency = true\nchannel = \"escalations\"\n";
    let toml = config_toml(false, false).replace(
        "reopen_window = \"72h\"",
        "reopen_window = \"72h\"\nauto_close_after = \"48h\"",
    );
    build(&(toml + extra))
});

/// [`BUSINESS_HOURS`] (Mon-Fri 09:00-17:00 UTC) with the off-hours autoresponder on `x`
/// (direct messages only) and on `masto` (public posts too).
pub(super) static AFTER_HOURS: LazyLock<Config> = LazyLock::new(|| {
    let toml = config_toml(false, true)
        .replace(
            "queue = \"social\"\n",
            "queue = \"social\"\n[accounts.off_hours]\nmessage = \"Hi {name}, we're back {opens}.\"\n",
        )
        .replace(
            "approval = \"first_reply\"\n",
            "approval = \"first_reply\"\n[accounts.off_hours]\npublic = true\n",
        );
    build(&toml)
});

/// Accounts of the test config, by the network they simulate.
pub(super) const ACCOUNTS: [&str; 7] = ["x", "fb", "fb-tag", "ig", "masto", "masto-big", "bsky"];

// ---------------------------------------------------------------------------------------------
// The outside world

/// What accounts have published, as the store would answer: a set of (account, NFC text).
#[derive(Debug, Default, Clone)]
pub(super) struct Sent(pub HashSet<(String, String)>);

impl Sent {
    pub fn with(pairs: &[(&str, &str)]) -> Self {
        Sent(
            pairs
                .iter()
                .map(|(a, t)| ((*a).to_owned(), rules::normalized(t)))
                .collect(),
        )
    }
}

impl Lookup for Sent {
    fn published_on_account(&self, account: &str, text: &str) -> bool {
        self.0.contains(&(account.to_owned(), text.to_owned()))
    }
}

pub(super) fn ctx<'a>(config: &'a Config, lookup: &'a Sent, now: DateTime<Utc>) -> Ctx<'a> {
    Ctx {
        now,
        config,
        lookup,
    }
}

// ---------------------------------------------------------------------------------------------
// Time

/// Monday 23 November 2026, 10:00 UTC: when the customer posts.
pub(super) fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap()
}

pub(super) fn mins(n: i64) -> DateTime<Utc> {
    t0() + TimeDelta::minutes(n)
}

pub(super) fn hours(n: i64) -> DateTime<Utc> {
    t0() + TimeDelta::hours(n)
}

// ---------------------------------------------------------------------------------------------
// People

pub(super) fn actor(id: &str, agent: bool, approver: bool) -> Actor {
    Actor {
        id: id.to_owned(),
        agent,
        approver,
    }
}

/// Agents.
pub(super) fn ana() -> Actor {
    actor("ana", true, false)
}
pub(super) fn bo() -> Actor {
    actor("bo", true, false)
}
/// A trusted agent on the `x` account.
pub(super) fn tia() -> Actor {
    actor("tia", true, false)
}
/// Approvers.
pub(super) fn lee() -> Actor {
    actor("lee", true, true)
}
pub(super) fn max() -> Actor {
    actor("max", true, true)
}
/// Neither agent nor approver.
pub(super) fn olga() -> Actor {
    actor("olga", false, false)
}

pub(super) fn carol() -> Author {
    Author {
        id: "u-carol".to_owned(),
        handle: "carol".to_owned(),
        name: Some("Carol".to_owned()),
    }
}

// ---------------------------------------------------------------------------------------------
// Posts and inputs

/// A post by Carol in conversation `conv-1`, made at [`t0`].
pub(super) fn post(account: &str, id: &str, kind: PostKind, text: &str) -> SocialPost {
    SocialPost {
        platform: Platform::Demo,
        account: account.to_owned(),
        id: id.to_owned(),
        conversation_id: "conv-1".to_owned(),
        author: carol(),
        kind,
        text: text.to_owned(),
        permalink: Some(format!("https://demo.example/{id}")),
        created_at: t0(),
        can_dm: CanDm::Unknown,
        reply_by: None,
        queue: None,
        parent: None,
        reference: None,
    }
}

/// Changes a value in place and hands it back, for one-off variations.
pub(super) fn tweak<T>(mut value: T, f: impl FnOnce(&mut T)) -> T {
    f(&mut value);
    value
}

/// The permission `commands/*.toml` gives each command.
pub(super) fn required(command: &Command) -> Permission {
    match command {
        Command::Status | Command::Help { .. } => Permission::Anyone,
        _ => Permission::Agent,
    }
}

/// A command typed in the case thread.
pub(super) fn cmd(actor: Actor, command: Command) -> Input {
    Input::Command {
        required: required(&command),
        actor,
        command,
        in_thread: true,
    }
}

pub(super) fn reply(actor: Actor, text: &str) -> Input {
    cmd(
        actor,
        Command::Reply {
            text: text.to_owned(),
        },
    )
}

pub(super) fn dm(actor: Actor, text: &str) -> Input {
    cmd(
        actor,
        Command::Dm {
            text: text.to_owned(),
        },
    )
}

pub(super) fn react(actor: Actor, draft: &str, emoji: &str, added: bool) -> Input {
    Input::Reaction {
        actor,
        draft: draft.to_owned(),
        emoji: emoji.to_owned(),
        added,
    }
}

pub(super) fn approve(actor: Actor, draft: &str) -> Input {
    react(actor, draft, "✅", true)
}

pub(super) fn published(draft: &str) -> Input {
    Input::Outcome(Outcome::Published {
        draft: draft.to_owned(),
        id: format!("net-{draft}"),
    })
}

pub(super) fn failed(draft: &str, reason: &str) -> Input {
    Input::Outcome(Outcome::PublishFailed {
        draft: draft.to_owned(),
        reason: reason.to_owned(),
    })
}

pub(super) fn thread(notice: Notice) -> Effect {
    Effect::Thread { notice }
}

// ---------------------------------------------------------------------------------------------
// Cases

/// Case numbers used by the fixtures.
pub(super) const NUMBER: u64 = 7;

/// Opens a case from `post` at [`t0`].
pub(super) fn open_with(post: &SocialPost) -> Case {
    match super::ingest(post, None, NUMBER, &ctx(&CONFIG, &Sent::default(), t0())) {
        Ingested::Opened(t) => t.case,
        other => panic!("expected a new case, got {other:?}"),
    }
}

/// A case in a state, built by feeding the engine real inputs.
#[derive(Debug, Clone)]
pub(super) struct Fixture {
    pub case: Case,
    pub now: DateTime<Utc>,
    pub config: &'static Config,
}

impl Fixture {
    /// A new case: Carol's post `p1` ("My order never arrived") on `account`.
    pub fn on(account: &str, kind: PostKind) -> Self {
        Self::from_post(&post(account, "p1", kind, "My order never arrived"))
    }

    pub fn from_post(post: &SocialPost) -> Self {
        Fixture {
            case: open_with(post),
            now: t0() + TimeDelta::minutes(1),
            config: &CONFIG,
        }
    }

    pub fn config(mut self, config: &'static Config) -> Self {
        self.config = config;
        self
    }

    /// Moves the clock for the next inputs.
    pub fn at(mut self, now: DateTime<Utc>) -> Self {
        self.now = now;
        self
    }

    /// Applies `input`, which must be accepted.
    pub fn then(mut self, input: Input) -> Self {
        let described = format!("{input:?}");
        match super::apply(
            &self.case,
            input,
            &ctx(self.config, &Sent::default(), self.now),
        ) {
            Ok(t) => self.case = t.case,
            Err(r) => panic!("fixture step {described} refused: {r:?}"),
        }
        self.now += TimeDelta::seconds(10);
        self
    }

    /// Ingests another post by the customer, which must join this case.
    pub fn posts(mut self, post: &SocialPost) -> Self {
        match super::ingest(
            post,
            Some(&self.case),
            NUMBER + 1,
            &ctx(self.config, &Sent::default(), self.now),
        ) {
            Ingested::Joined(t) => self.case = t.case,
            other => panic!("expected the post to join, got {other:?}"),
        }
        self.now += TimeDelta::seconds(10);
        self
    }

    /// Edits the case directly (for states no input sequence reaches cheaply).
    pub fn edit(mut self, f: impl FnOnce(&mut Case)) -> Self {
        f(&mut self.case);
        self
    }

    // The statuses, each from a public mention on `x` unless said otherwise.

    pub fn new_case() -> Self {
        Self::on("x", PostKind::Mention)
    }

    /// Claimed by ana.
    pub fn open() -> Self {
        Self::new_case().then(cmd(ana(), Command::Claim))
    }

    /// Claimed by ana, who drafted 7.1 "We're on it", awaiting approval.
    pub fn pending() -> Self {
        Self::open().then(reply(ana(), "We're on it"))
    }

    /// As [`Fixture::pending`], with 7.1 approved by lee (publication queued).
    pub fn approved() -> Self {
        Self::pending().then(approve(lee(), "7.1"))
    }

    /// As [`Fixture::approved`], with 7.1 published: the case waits on the customer.
    pub fn waiting() -> Self {
        Self::approved().then(published("7.1"))
    }

    /// As [`Fixture::approved`], with the publication of 7.1 failed.
    pub fn failed() -> Self {
        Self::approved().then(failed("7.1", "rate limited"))
    }

    /// Claimed by ana, moved offline to email; the invitation 7.1 is published.
    pub fn offline() -> Self {
        Self::open()
            .then(cmd(
                ana(),
                Command::Offline {
                    channel: OfflineChannel::Email,
                    address: Some("care@acme.example".to_owned()),
                },
            ))
            .then(approve(lee(), "7.1"))
            .then(published("7.1"))
    }

    /// Answered, then closed by ana a few minutes ago.
    pub fn closed() -> Self {
        Self::waiting()
            .then(cmd(ana(), Command::Close { note: None }))
            .at(t0() + TimeDelta::minutes(5))
    }

    /// Closed four days ago, beyond the 72h reopen window.
    pub fn closed_long_ago() -> Self {
        let f = Self::closed();
        let closed = f.case.closed_at.unwrap();
        f.at(closed + TimeDelta::hours(96))
    }
}

/// `Err` describing the difference unless `got == want`.
pub(super) fn eq<T: PartialEq + std::fmt::Debug>(
    what: &str,
    got: T,
    want: T,
) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!("{what}: got {got:?}, want {want:?}"))
    }
}

pub(super) fn s(text: &str) -> String {
    text.to_owned()
}

/// Draft ids and states of a case, for comparisons.
pub(super) fn draft_states(case: &Case) -> Vec<(String, DraftState)> {
    case.drafts
        .iter()
        .map(|d| (d.id.clone(), d.state))
        .collect()
}

/// The fields the case card shows (kept apart from the engine's own list on purpose: the
/// tests say what the card must reflect).
pub(super) fn card_view(case: &Case) -> impl PartialEq + std::fmt::Debug + '_ {
    (
        case.status,
        case.assignee.clone(),
        case.urgency,
        case.escalation.as_ref().map(|e| e.team.clone()),
        (
            case.sla.first_response_due,
            case.sla.first_response_at.is_some(),
            case.sla.breached,
        ),
        // What the SLA line shows of the other clocks: when each is due and how it stands.
        (
            case.sla.warned,
            case.sla.next.clone(),
            case.sla
                .resolution
                .as_ref()
                .map(|r| (r.due, r.warned, r.breached)),
        ),
        case.tags.clone(),
        case.snoozed_until,
        case.offline.as_ref().map(|o| o.channel),
    )
}

/// The name of a refusal's variant. The macro makes the match exhaustive, so a new variant
/// does not compile until it is listed here, and `ALL_REFUSALS` is the same list.
macro_rules! variant_names {
    ($fn_name:ident, $list:ident, $ty:ident: $($variant:ident),+ $(,)?) => {
        pub(super) const $list: &[&str] = &[$(stringify!($variant)),+];
        pub(super) fn $fn_name(value: &$ty) -> &'static str {
            match value {
                $($ty::$variant { .. } => stringify!($variant),)+
            }
        }
    };
}

variant_names!(refusal_name, ALL_REFUSALS, Refusal:
    NotAllowed, ClaimedBy, AlreadyYours, AlreadyAssigned, NotClaimed, NotYours, Closed, NotClosed, EmptyText,
    TooLong, InvalidCharacters, DuplicateText, DmNotAllowed, DmUnsupported, WindowClosed,
    PrivateReplyUsed, UnknownCanned, NoPendingDraft, NoFailedDraft, DraftsPending, UnknownDraft,
    SelfApproval, AlreadyOffline, AlreadyTagged, SnoozeOutOfRange, UnknownAccount, NothingToAnswer,
    ActionUnsupported, UnknownPost, NothingToLike, AlreadyLiked, NotLiked, AlreadyReposted,
    NotPublished, AlreadyDeleted, NothingToDelete, NothingToHide, NothingHidden, AlreadyHidden,
    NotHidden, PostGone, NoCallback,
);

variant_names!(notice_name, ALL_NOTICES, Notice:
    CustomerPost, PostEdited, PostRemoved, PostHidden, Reopened, Claimed, Unclaimed, Assigned, Note, Escalated, Approved, Rejected,
    Withdrawn, Recalled, Published, PublishFailed, PublishDelayed, MovedOffline, Closed, Tagged, Snoozed,
    SnoozeOver, SlaBreached, SlaDueSoon, LoopSkipped, Acted, ActFailed,
);

#[test]
fn test_config_has_every_network_simulated() {
    let simulated: HashSet<Platform> = ACCOUNTS
        .iter()
        .map(|id| CONFIG.account(id).unwrap().platform())
        .collect();
    for platform in Platform::NETWORKS {
        assert!(simulated.contains(&platform), "{platform} not simulated");
    }
    assert!(SELF_APPROVAL.approval.allow_self_approval);
    assert!(BUSINESS_HOURS.business_hours.is_some());
}

//! Every sentence carebridge shows to a person: case cards, thread notices,
//! refusals, answers, default customer-facing templates.
//!
//! Chat adapters call these and only format the result for their surface;
//! no other module writes user-visible prose. Pure: no I/O. User mentions are
//! formatted by a callback so each chat can use its own syntax.

pub mod bluesky;
pub mod console;
pub mod discord;
pub mod forms;
pub mod health;
pub mod mastodon;
pub mod meta;
pub mod report;
pub mod slack;
pub mod usage;
pub mod webhook;
pub mod x;

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::engine::rules::{self, Unit};
use crate::engine::{
    ActionKind, Answer, BOT, CUSTOMER, Case, Draft, DraftKind, DraftState, NetworkAction, Notice,
    OfflineChannel, Permission, Platform, Purpose, Refusal, SlaTarget, Status, sla,
};

/// Default customer-facing templates (each can be overridden per account in bot.toml).
pub mod defaults {
    pub const OFFLINE_EMAIL: &str = "Hi {name}, we'd like to sort this out with you directly. Could you email us at {address} with your case number {case}? Thanks, {agent}";
    pub const OFFLINE_SMS: &str = "Hi {name}, we'd like to sort this out with you directly. Could you text us at {address} quoting case {case}? Thanks, {agent}";
    pub const OFFLINE_DM: &str = "Hi {name}, we'd like to sort this out with you privately. Could you send us a direct message quoting case {case}? Thanks, {agent}";
    pub const CLOSE_LOOP: &str = "Hi {name}, following up here: we've sorted this out with you privately. Thanks for your patience! {agent}";
    pub const OFF_HOURS: &str = "Hi {name}, thanks for your message! Our team is away right now and back {opens}; we'll answer you then.";
}

/// Formats a user id as a mention on the current chat surface.
pub type Mention<'a> = &'a dyn Fn(&str) -> String;

/// The console/plain-text mention: `@name`.
pub fn at(user: &str) -> String {
    format!("@{user}")
}

/// Fills a template's placeholders: `{name}`, `{handle}`, `{agent}`, `{case}`, `{address}`.
pub fn fill(template: &str, case: &Case, agent: &str, address: Option<&str>) -> String {
    template
        .replace("{name}", case.author.greeting_name())
        .replace("{handle}", &format!("@{}", case.author.handle))
        .replace("{agent}", agent)
        .replace("{case}", &format!("#{}", case.number))
        .replace("{address}", address.unwrap_or("the address in our profile"))
}

/// The sweep's one message to `queue`: each case with what is due soon, late or unclaimed,
/// naming its owner (who is pinged) or saying nobody owns it, in which case whoever is
/// `on_call` for the queue is pinged once, on the first line.
pub fn queue_alert(
    queue: &str,
    items: &[(&Case, &[crate::engine::Alert])],
    mention: Mention<'_>,
    on_call: Option<&str>,
    tz: Tz,
) -> String {
    use crate::engine::Alert;
    let mut out = format!(
        "🔔 {queue}: {} case{} need{} attention",
        items.len(),
        if items.len() == 1 { "" } else { "s" },
        if items.len() == 1 { "s" } else { "" }
    );
    if let Some(on_call) = on_call
        && items.iter().any(|(case, _)| case.assignee.is_none())
    {
        let _ = write!(out, " · {on_call}, on call");
    }
    for (case, alerts) in items {
        let owner = case
            .assignee
            .as_deref()
            .map_or_else(|| "nobody owns it".to_owned(), mention);
        for alert in *alerts {
            let what = match alert {
                Alert::DueSoon { target, due } => {
                    format!("{} due soon, at {}", target.key(), local(*due, tz))
                }
                Alert::Breached { target, due } => format!(
                    "missed its {} target (due {})",
                    target_adjective(*target),
                    local(*due, tz)
                ),
                Alert::Unclaimed { since } => {
                    format!("nobody has claimed it since {}", local(*since, tz))
                }
            };
            let _ = write!(out, "\n• #{} ({owner}): {what}", case.number);
        }
    }
    out
}

/// The note on a case the sweep closed for waiting on the customer `after` this long.
pub fn auto_closed(after: Option<std::time::Duration>, reopen: std::time::Duration) -> String {
    format!(
        "no answer from the customer in {}; a new post from them within {} reopens it.",
        after.map_or_else(|| "a while".to_owned(), crate::duration::format_duration),
        crate::duration::format_duration(reopen)
    )
}

/// The off-hours message from its template: the customer's placeholders, and `{opens}` as
/// the next opening time in the bot's time zone ("soon" for a calendar that never opens).
pub fn off_hours(template: &str, case: &Case, opens: Option<DateTime<Utc>>, tz: Tz) -> String {
    let opens = opens.map_or_else(
        || "soon".to_owned(),
        |at| at.with_timezone(&tz).format("%A at %H:%M").to_string(),
    );
    fill(template, case, "", None).replace("{opens}", &opens)
}

/// A network `who` (e.g. "Meta", "The Mastodon instance") could not be reached; `detail` is
/// the transport's own words.
pub fn unreachable(who: &str, detail: &str) -> String {
    format!("{who} could not be reached ({detail}); carebridge tries again.")
}

/// `who` answered with something carebridge cannot read.
pub fn bad_response(who: &str, detail: &str) -> String {
    format!("{who}'s answer could not be read ({detail}).")
}

/// `who` answered 429 for `account`'s reply; it goes out once allowed.
pub fn rate_limited(who: &str, account: &str) -> String {
    format!("{who} is rate-limiting `{account}`; carebridge sends it when the limit lifts.")
}

/// The post answered or acted on is gone from `network`.
pub fn post_gone(network: &str) -> String {
    format!(
        "The post is gone from {network} (deleted, or no longer visible to the account); there is nothing to answer."
    )
}

pub fn platform_name(platform: Platform) -> &'static str {
    match platform {
        Platform::X => "X",
        Platform::Facebook => "Facebook",
        Platform::Instagram => "Instagram",
        Platform::Mastodon => "Mastodon",
        Platform::Bluesky => "Bluesky",
        Platform::Webhook => "Webhook",
        Platform::Demo => "Demo",
    }
}

fn kind_name(kind: crate::engine::PostKind) -> &'static str {
    match kind {
        crate::engine::PostKind::Mention => "mention",
        crate::engine::PostKind::Comment => "comment",
        crate::engine::PostKind::DirectMessage => "direct message",
        crate::engine::PostKind::Listening => "post found by listening",
    }
}

fn who(user: &str, mention: Mention<'_>) -> String {
    match user {
        CUSTOMER => "the customer".to_owned(),
        BOT => "carebridge".to_owned(),
        _ => mention(user),
    }
}

fn local(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%a %d %b %H:%M").to_string()
}

/// Who hears about a case's clocks: its owner, else its queue.
fn owner(case: &Case, mention: Mention<'_>) -> String {
    case.assignee
        .as_deref()
        .map_or_else(|| "Queue".to_owned(), mention)
}

/// "first-response", "next-response", "resolution": a target as an adjective.
fn target_adjective(target: SlaTarget) -> String {
    target.key().replace(' ', "-")
}

/// SLA state as the card shows it: the clock due soonest (the first response unnamed), else
/// how the first response went.
pub fn sla_state(case: &Case, now: DateTime<Utc>, tz: Tz) -> String {
    if let Some(clock) = sla::running(case).first() {
        let label = match clock.target {
            SlaTarget::FirstResponse => String::new(),
            other => format!("{} ", other.key()),
        };
        let due = local(clock.due, tz);
        // The sweep marks a clock due soon, so the card changes when its state does.
        return match clock.state(now, std::time::Duration::ZERO) {
            sla::ClockState::Breached => format!("{label}BREACHED (was due {due})"),
            sla::ClockState::DueSoon => format!("{label}due soon: {due}"),
            sla::ClockState::OnTrack => format!("{label}due {due}"),
        };
    }
    match case.sla.first_response_at {
        Some(at) if at <= case.sla.first_response_due => "answered in time".to_owned(),
        Some(_) => "answered late".to_owned(),
        None => "closed unanswered".to_owned(),
    }
}

/// The case card: a title and labelled fields, plus the post that opened the case.
pub struct Card {
    pub title: String,
    pub fields: Vec<(&'static str, String)>,
    pub text: String,
    pub link: Option<String>,
}

pub fn card(
    case: &Case,
    simulated: Option<Platform>,
    now: DateTime<Utc>,
    tz: Tz,
    mention: Mention<'_>,
) -> Card {
    let network = match simulated {
        Some(p) => format!("{} (demo)", platform_name(p)),
        None => platform_name(case.platform).to_owned(),
    };
    let author = match &case.author.name {
        Some(name) => format!("{name} (@{})", case.author.handle),
        None => format!("@{}", case.author.handle),
    };
    let mut fields = vec![
        (
            "Network",
            format!("{network} · {} · {}", case.account, kind_name(case.kind)),
        ),
        ("Customer", author),
        ("Status", status_name(case.status).to_owned()),
        (
            "Owner",
            case.assignee
                .as_deref()
                .map_or_else(|| "nobody yet".to_owned(), mention),
        ),
        ("Urgency", case.urgency.key().to_owned()),
        ("SLA", sla_state(case, now, tz)),
    ];
    if let Some(e) = &case.escalation {
        fields.push(("Escalated", format!("to {} by {}", e.team, mention(&e.by))));
    }
    if let Some(o) = &case.offline {
        fields.push(("Offline", format!("via {}", o.channel.key())));
    }
    if !case.tags.is_empty() {
        fields.push((
            "Tags",
            case.tags.iter().cloned().collect::<Vec<_>>().join(", "),
        ));
    }
    if let Some(until) = case.snoozed_until {
        fields.push(("Snoozed", format!("until {}", local(until, tz))));
    }
    let first = case.posts.first();
    Card {
        title: format!("#{} · {} · {}", case.number, network, author_short(case)),
        fields,
        text: first.map(|p| p.text.clone()).unwrap_or_default(),
        link: first.and_then(|p| p.permalink.clone()),
    }
}

fn author_short(case: &Case) -> String {
    format!("@{}", case.author.handle)
}

pub fn status_name(status: Status) -> &'static str {
    match status {
        Status::New => "new (unclaimed)",
        Status::Open => "open",
        Status::Waiting => "waiting on customer",
        Status::Offline => "offline",
        Status::Closed => "closed",
    }
}

/// A draft as shown in the thread: what it says and what to do about it.
pub fn draft(
    case: &Case,
    draft: &Draft,
    approve: &str,
    reject: &str,
    mention: Mention<'_>,
) -> String {
    let kind = match draft.kind {
        DraftKind::Public => "public reply",
        DraftKind::Direct => "direct message",
    };
    let purpose = match &draft.purpose {
        Purpose::Reply => String::new(),
        Purpose::Canned(name) => format!(" (canned: {name})"),
        Purpose::OfflineInvite => " (invitation to continue offline)".to_owned(),
        Purpose::CloseLoop => " (closing the loop)".to_owned(),
        Purpose::OffHours => " (automatic off-hours answer)".to_owned(),
    };
    let ask = if draft.needs_approval && draft.state == DraftState::Pending {
        format!("Approvers: react {approve} to send or {reject} to reject.")
    } else {
        "No approval needed: sending.".to_owned()
    };
    format!(
        "Draft {} by {} — {kind} to @{}{purpose}:\n> {}\n{ask}",
        draft.id,
        mention(&draft.author),
        case.author.handle,
        draft.text.replace('\n', "\n> "),
    )
}

/// A thread notice.
pub fn notice(case: &Case, notice: &Notice, mention: Mention<'_>) -> String {
    notice_on(case, notice, None, mention)
}

/// A thread notice, naming the network as `simulated` (what a demo account simulates)
/// where given, else as the case's own platform.
pub fn notice_on(
    case: &Case,
    notice: &Notice,
    simulated: Option<Platform>,
    mention: Mention<'_>,
) -> String {
    let network = platform_name(simulated.unwrap_or(case.platform));
    let draft_author = |id: &str| {
        case.draft(id)
            .map(|d| mention(&d.author))
            .unwrap_or_default()
    };
    match notice {
        Notice::CustomerPost { post } => {
            let Some(p) = case.posts.iter().find(|p| p.id == *post) else {
                return format!("The customer posted again ({post}).");
            };
            let link = p
                .permalink
                .as_deref()
                .map(|l| format!("\n{l}"))
                .unwrap_or_default();
            format!(
                "@{} ({}): {}{link}",
                case.author.handle,
                kind_name(p.kind),
                p.text
            )
        }
        Notice::PostEdited { post } => match case.post(post) {
            Some(p) => format!(
                "@{} edited their {} ({post}); it now says: {}",
                case.author.handle,
                kind_name(p.kind),
                p.text
            ),
            None => format!("@{} edited {post}.", case.author.handle),
        },
        Notice::PostHidden { post, hidden: true } => format!(
            "@{}'s comment {post} was hidden on {}, outside carebridge: only they and their friends see it now.",
            case.author.handle,
            platform_name(case.platform)
        ),
        Notice::PostHidden {
            post,
            hidden: false,
        } => format!(
            "@{}'s comment {post} was shown again on {}, outside carebridge.",
            case.author.handle,
            platform_name(case.platform)
        ),
        Notice::PostRemoved { post } => format!(
            "@{}'s {post} was removed from {}; there is nothing there to answer any more.",
            case.author.handle,
            platform_name(case.platform)
        ),
        Notice::Reopened { by } => {
            format!("Case #{} reopened by {}.", case.number, who(by, mention))
        }
        Notice::Claimed { by } => format!("{} claimed #{}.", mention(by), case.number),
        Notice::Unclaimed { by, previous } if by == previous => {
            format!(
                "{} unclaimed #{}; it needs an owner.",
                mention(by),
                case.number
            )
        }
        Notice::Unclaimed { by, previous } => format!(
            "{} took #{} off {}; it needs an owner.",
            mention(by),
            case.number,
            mention(previous)
        ),
        Notice::Assigned { by, to } if by == to => {
            format!("{} took #{}.", mention(by), case.number)
        }
        Notice::Assigned { by, to } => {
            format!(
                "{} assigned #{} to {}.",
                mention(by),
                case.number,
                mention(to)
            )
        }
        Notice::Note { by, text } => format!("Internal note from {}: {text}", mention(by)),
        Notice::Escalated { by, team, reason } => match reason {
            Some(r) => format!("{} escalated #{} to {team}: {r}", mention(by), case.number),
            None => format!("{} escalated #{} to {team}.", mention(by), case.number),
        },
        Notice::Approved { draft, by } => {
            format!("{} approved draft {draft}; sending.", mention(by))
        }
        Notice::Rejected { draft, by } => format!(
            "{} rejected draft {draft}. {}, edit it and `reply` again.",
            mention(by),
            draft_author(draft)
        ),
        Notice::Withdrawn { draft, by } => {
            format!(
                "{} withdrew their decision on draft {draft}; it waits for approval again.",
                mention(by)
            )
        }
        Notice::Recalled { draft, by } => format!("{} recalled draft {draft}.", mention(by)),
        Notice::Published { draft } => {
            let id = case
                .draft(draft)
                .and_then(|d| d.published_id.clone())
                .unwrap_or_default();
            format!("Draft {draft} published as {id}.")
        }
        Notice::PublishFailed { draft } => {
            let reason = case
                .draft(draft)
                .and_then(|d| d.error.clone())
                .unwrap_or_default();
            let owner = case
                .assignee
                .as_deref()
                .map_or_else(|| "Queue".to_owned(), mention);
            format!(
                "{owner}: draft {draft} could not be sent: {}. It is kept; fix what the network objects to and `retry`, or `reply` again.",
                reason.trim_end_matches('.')
            )
        }
        Notice::PublishDelayed { draft, reason } => {
            let owner = case
                .assignee
                .as_deref()
                .map_or_else(|| "Queue".to_owned(), mention);
            format!(
                "{owner}: draft {draft} is not out yet: {}. carebridge keeps trying; nothing to do unless it fails for good.",
                reason.trim_end_matches('.')
            )
        }
        Notice::MovedOffline {
            by,
            channel,
            address,
        } => {
            let place = match (channel, address) {
                (OfflineChannel::Email, Some(a)) => format!("email ({a})"),
                (OfflineChannel::Sms, Some(a)) => format!("SMS ({a})"),
                (OfflineChannel::Email, None) => "email".to_owned(),
                (OfflineChannel::Sms, None) => "SMS".to_owned(),
                (OfflineChannel::Dm, _) => "direct messages".to_owned(),
            };
            format!(
                "{} moved #{} offline to {place}. The invitation above goes out as a normal draft.",
                mention(by),
                case.number
            )
        }
        Notice::Closed { by, note } => match note {
            Some(n) => format!("{} closed #{}: {n}", mention(by), case.number),
            None => format!("{} closed #{}.", mention(by), case.number),
        },
        Notice::Tagged { by, label } => {
            format!("{} tagged #{} `{label}`.", mention(by), case.number)
        }
        Notice::Snoozed { by, until } => format!(
            "{} snoozed #{} until {} UTC.",
            mention(by),
            case.number,
            until.format("%a %d %b %H:%M")
        ),
        Notice::SnoozeOver => format!("Snooze over: #{} needs attention again.", case.number),
        Notice::LoopSkipped { refusal: why } => format!(
            "No closing-the-loop reply was drafted: {}",
            refusal(why, mention)
        ),
        Notice::Acted { action, by } => {
            let target = action_target(case, action);
            let by = who(by, mention);
            match action {
                NetworkAction::Like { .. } => format!("❤️ Liked {target} (by {by})."),
                NetworkAction::Unlike { .. } => {
                    format!("🤍 Took back our like of {target} (by {by}).")
                }
                NetworkAction::Repost { .. } => {
                    format!("🔁 Reposted {target} on {network} (by {by}).")
                }
                NetworkAction::Hide { .. } => format!(
                    "🙈 Hid {target} on {network} (by {by}): only its author and their friends still see it."
                ),
                NetworkAction::Unhide { .. } => {
                    format!("👀 Showed {target} again on {network} (by {by}).")
                }
                NetworkAction::Delete { .. } | NetworkAction::Remove { .. } => {
                    format!("🗑️ Deleted {target} from {network} (by {by}).")
                }
            }
        }
        Notice::ActFailed { action, by, reason } => {
            let target = action_target(case, action);
            let kind = action.kind();
            let (verb, place) = match kind {
                ActionKind::Like => ("like", "on"),
                ActionKind::Unlike => ("take back our like of", "on"),
                ActionKind::Repost => ("repost", "on"),
                ActionKind::Hide => ("hide", "on"),
                ActionKind::Unhide => ("show again", "on"),
                ActionKind::Delete | ActionKind::Remove => ("delete", "from"),
            };
            format!(
                "{}: couldn't {verb} {target} {place} {network}: {reason}. `{} {}` tries again.",
                who(by, mention),
                kind.command(),
                action.target()
            )
        }
        Notice::SlaBreached { target } => format!(
            "🚨 {}: #{} missed its {} target.",
            owner(case, mention),
            case.number,
            target_adjective(*target)
        ),
        Notice::SlaDueSoon { target, due } => format!(
            "⏰ {}: #{}'s {} is due at {} UTC.",
            owner(case, mention),
            case.number,
            target.key(),
            due.format("%a %d %b %H:%M")
        ),
    }
}

/// What an action was about, as a notice names it: "the customer's post" (their latest
/// public one), "the customer's post 123" (another), "the customer's comment" (for a hide or
/// a deletion), "our reply 12.3".
fn action_target(case: &Case, action: &NetworkAction) -> String {
    if let NetworkAction::Delete { draft, .. } = action {
        return match case.draft(draft).map(|d| d.kind) {
            Some(DraftKind::Direct) => format!("our direct message {draft}"),
            _ => format!("our reply {draft}"),
        };
    }
    let post = action.target();
    let noun = match action.kind() {
        ActionKind::Hide | ActionKind::Unhide | ActionKind::Remove => "comment",
        _ => "post",
    };
    if case.latest_post_of(false).is_some_and(|p| p.id == post) {
        format!("the customer's {noun}")
    } else {
        format!("the customer's {noun} {post}")
    }
}

/// What to do instead when a network can't do `action`: at all, or (where it can) not on
/// that target.
fn action_unsupported(platform: Platform, action: &str) -> String {
    let name = platform_name(platform);
    let Some(kind) = ActionKind::from_key(action) else {
        return format!("{name} can't `{action}` from here.");
    };
    let command = kind.command();
    // Where the network does this at all, the refusal is about the target: a direct message,
    // or (for hiding and deleting) anything but a comment on the account's own content.
    let on_target = rules::supports(platform, kind);
    match (kind, on_target) {
        (ActionKind::Like | ActionKind::Unlike, true) => format!(
            "{name} can't like a direct message, only public posts; name a public post of the case (`{command} <post>`), or answer with `reply`."
        ),
        (ActionKind::Repost, true) => format!(
            "{name} can't repost a direct message, only public posts; name a public post of the case (`repost <post>`)."
        ),
        (ActionKind::Delete, true) => format!(
            "{name} can't take back a direct message once it is sent: the customer keeps it. Send a correction with `dm`."
        ),
        (ActionKind::Hide | ActionKind::Unhide | ActionKind::Remove, true) => format!(
            "{name} only lets the account `{command}` comments on its own posts, not mentions or direct messages; name a comment of the case (`{command} <post>`)."
        ),
        (ActionKind::Like | ActionKind::Unlike, false) => format!(
            "{name} doesn't let the account like posts from here; answer with `reply` instead."
        ),
        (ActionKind::Repost, false) => format!(
            "{name} doesn't let the account repost from here; answer with `reply`, or share the post in the {name} app."
        ),
        (ActionKind::Delete, false) => format!(
            "{name} doesn't let us delete a published reply from here; post a correction with `reply`, or remove it in the {name} app."
        ),
        (ActionKind::Hide | ActionKind::Unhide | ActionKind::Remove, false) => format!(
            "{name} doesn't let the account hide or delete other people's posts; answer with `reply`, or report the post in the {name} app."
        ),
    }
}

/// The failure of an action a network doesn't offer, as the thread reads it.
pub fn unsupported_action(action: ActionKind, platform: Platform) -> String {
    format!(
        "{} has no `{}` for the account.",
        platform_name(platform),
        action.command()
    )
}

/// An answer for one person (not the thread).
pub fn answer(
    case: &Case,
    answer: &Answer,
    specs: &crate::commands::Specs,
    now: DateTime<Utc>,
    tz: Tz,
    mention: Mention<'_>,
) -> String {
    match answer {
        Answer::Status => status(case, now, tz, mention),
        Answer::Help { command } => {
            specs.help(command.as_deref(), crate::commands::Invocation::Thread)
        }
    }
}

/// A summary of a case for `status`.
pub fn status(case: &Case, now: DateTime<Utc>, tz: Tz, mention: Mention<'_>) -> String {
    let mut out = String::new();
    let owner = case
        .assignee
        .as_deref()
        .map_or_else(|| "nobody".to_owned(), mention);
    let _ = writeln!(
        out,
        "#{} is {}; owner {owner}; urgency {}; SLA {}.",
        case.number,
        status_name(case.status),
        case.urgency.key(),
        sla_state(case, now, tz)
    );
    let _ = write!(
        out,
        "{} customer post(s), {} draft(s)",
        case.posts.len(),
        case.drafts.len()
    );
    let waiting: Vec<&str> = case
        .drafts
        .iter()
        .filter(|d| d.state == DraftState::Pending)
        .map(|d| d.id.as_str())
        .collect();
    if !waiting.is_empty() {
        let _ = write!(out, "; awaiting approval: {}", waiting.join(", "));
    }
    out.push('.');
    out
}

fn unit_phrase(unit: Unit) -> String {
    match unit {
        Unit::Weighted => {
            "characters as X counts them (links count 23, emoji and CJK count 2)".to_owned()
        }
        Unit::Mastodon { url } => format!(
            "characters as Mastodon counts them (links count {url}; the customer's @mention, added when missing, counts too)"
        ),
        Unit::Graphemes | Unit::Chars => "characters".to_owned(),
    }
}

fn role_name(p: Permission) -> &'static str {
    match p {
        Permission::Anyone => "anyone",
        Permission::Agent => "agents and approvers",
        Permission::Approver => "approvers",
    }
}

/// A refusal, telling the person what to change.
pub fn refusal(r: &Refusal, mention: Mention<'_>) -> String {
    match r {
        Refusal::NotAllowed { command, needs } => {
            format!("Only {} may use `{command}`; ask a lead to add you in bot.toml.", role_name(*needs))
        }
        Refusal::ClaimedBy { case, owner } => {
            format!("#{case} is claimed by {}; use `assign` to take it over.", mention(owner))
        }
        Refusal::AlreadyYours { case } => format!("#{case} is already yours."),
        Refusal::AlreadyAssigned { case, owner } => {
            format!("#{case} is already assigned to {}.", mention(owner))
        }
        Refusal::NotClaimed { case } => format!("Nobody owns #{case}; `claim` it first."),
        Refusal::NotYours { case, owner } => format!(
            "#{case} belongs to {}; only they or an approver can unclaim it (or use `assign`).",
            mention(owner)
        ),
        Refusal::Closed { case } => format!("#{case} is closed; `reopen` it first."),
        Refusal::NotClosed { case } => format!("#{case} is not closed, so there is nothing to reopen."),
        Refusal::EmptyText => "There is nothing to send: add the text after the command.".to_owned(),
        Refusal::TooLong { platform, count, limit, unit } => format!(
            "Too long for {}: {count}/{limit} {}. Cut at least {}.",
            platform_name(*platform),
            unit_phrase(*unit),
            count.saturating_sub(*limit)
        ),
        Refusal::InvalidCharacters { platform } => format!(
            "{} refuses this text: it contains reserved invisible characters (U+FFFE, U+FEFF or U+FFFF); retype it.",
            platform_name(*platform)
        ),
        Refusal::DuplicateText { platform } => format!(
            "This account already sent exactly this text on {}, which refuses duplicates; change the wording.",
            platform_name(*platform)
        ),
        Refusal::DmNotAllowed => {
            "This person doesn't accept direct messages from the account; ask them to follow the account, then try again.".to_owned()
        }
        Refusal::DmUnsupported { platform } => format!(
            "{} has no direct messages we can send; answer with `reply`, or move the case `offline email`.",
            platform_name(*platform)
        ),
        Refusal::WindowClosed { platform, hours, last } => format!(
            "{} only allows this reply within {hours}h of the customer's message (theirs was at {} UTC); answer publicly with `reply`, or move the case `offline email`.",
            platform_name(*platform),
            last.format("%a %d %b %H:%M")
        ),
        Refusal::PrivateReplyUsed { post } => format!(
            "A private reply to comment {post} was already sent; the network allows one. Wait for the customer to answer, or `reply` publicly."
        ),
        Refusal::UnknownCanned { name, available } if available.is_empty() => {
            format!("There is no canned reply `{name}`, and none are configured ([canned] in bot.toml).")
        }
        Refusal::UnknownCanned { name, available } => {
            format!("There is no canned reply `{name}`; available: {}.", available.join(", "))
        }
        Refusal::NoPendingDraft { case } => {
            format!("You have no draft on #{case} waiting for approval, so there is nothing to recall.")
        }
        Refusal::NoFailedDraft { case } => format!("#{case} has no failed draft to retry."),
        Refusal::DraftsPending { case, drafts } => format!(
            "#{case} still has draft(s) {} waiting for approval; get them decided or `recall` them, then close.",
            drafts.join(", ")
        ),
        Refusal::UnknownDraft { draft } => format!("There is no draft {draft}."),
        Refusal::SelfApproval { draft } => {
            format!("You wrote draft {draft}, so you can't approve it; ask another approver.")
        }
        Refusal::AlreadyOffline { case, channel } => {
            format!("#{case} already moved offline ({}); `close` it when you're done.", channel.key())
        }
        Refusal::AlreadyTagged { label } => format!("The case is already tagged `{label}`."),
        Refusal::SnoozeOutOfRange => {
            "Snooze for at least a minute and at most 90 days, e.g. `snooze 30m`.".to_owned()
        }
        Refusal::UnknownAccount { account } => {
            format!("Account `{account}` is no longer in bot.toml, so nothing can be sent from it.")
        }
        Refusal::NothingToAnswer { case } => format!("#{case} has no customer post to answer."),
        Refusal::ActionUnsupported { platform, action } => action_unsupported(*platform, action),
        Refusal::UnknownPost { post } => format!(
            "This case has no customer post `{post}`; leave the id out to use the customer's latest public post."
        ),
        Refusal::NothingToLike { case } => format!(
            "#{case} has no public customer post: direct messages can't be liked or reposted."
        ),
        Refusal::AlreadyLiked { post } => {
            format!("The customer's post {post} is already liked; `unlike {post}` takes it back.")
        }
        Refusal::NotLiked { post } => {
            format!("The customer's post {post} isn't liked, so there is no like to take back.")
        }
        Refusal::AlreadyReposted { post } => {
            format!("The customer's post {post} is already reposted.")
        }
        Refusal::NotPublished { draft } => format!(
            "Draft {draft} was never published, so there is nothing to delete; a draft still waiting for approval can be `recall`ed."
        ),
        Refusal::AlreadyDeleted { draft } => {
            format!("Draft {draft} is already deleted from the network.")
        }
        Refusal::NothingToDelete { case } => {
            format!("#{case} has no published reply left to delete.")
        }
        Refusal::NothingToHide { case } => format!(
            "#{case} has no visible customer comment to hide; only comments on the account's own posts can be hidden."
        ),
        Refusal::NothingHidden { case } => {
            format!("None of #{case}'s comments is hidden, so there is nothing to show again.")
        }
        Refusal::AlreadyHidden { post } => {
            format!("The customer's comment {post} is already hidden; `unhide {post}` shows it again.")
        }
        Refusal::NotHidden { post } => {
            format!("The customer's comment {post} isn't hidden; `hide {post}` hides it.")
        }
        Refusal::PostGone { post } => format!(
            "The customer's post {post} was removed from the network, so there is nothing left to act on."
        ),
        Refusal::NoCallback { account } => webhook::no_callback(account),
    }
}

/// Refusal for an event aimed at a case that doesn't exist.
pub fn no_such_case(number: u64) -> String {
    format!("There is no case #{number}; `cases list` shows them.")
}

/// Refusal for a `!command` typed in a thread that is not a case thread.
pub fn not_a_case_thread() -> String {
    "This thread is not a case thread; use `/care <command> <case> …` instead.".to_owned()
}

/// A slash command whose case could not be told from where it was run.
pub fn case_needed(command: &str) -> String {
    format!(
        "Which case? Run `/care {command}` inside the case's thread, or give its number in the `case` option."
    )
}

/// Generic line shown when something broke on our side (details go to the log).
pub fn internal_error() -> String {
    "Something went wrong on our side; the details are in the bot's log. Try again in a moment."
        .to_owned()
}

/// The reason a publication failed because the account is gone from the config.
pub fn account_missing(account: &str) -> String {
    format!("account `{account}` is not configured any more")
}

//! `apply`: one input on one case → new case, effects, audit — or a refusal.
//!
//! Holds the case state machine, the draft/approval workflow and who may do
//! what. Pure: no I/O, no clock reads.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use super::model::{
    ActionKind, Actor, BOT, CUSTOMER, Case, CasePost, Draft, DraftKind, DraftState, Escalation,
    NetworkAction, Offline, OfflineChannel, PostKind, Purpose, SlaTarget, Status,
};
use super::rules::{
    check_delete, check_direct, check_outlet, check_post_action, check_public, check_text,
    rules_platform, supports, unsupported,
};
use super::sla::{self, ClockState};
use super::{
    Alert, Answer, Command, Ctx, Effect, Input, Notice, Outcome, Permission, PostChange, Refusal,
    Transition,
};
use crate::config::{AccountConfig, ApprovalMode, CloseLoop, Config};
use crate::text;

/// Builds one transition: a working copy of the case plus what to record.
pub(super) struct Step<'c> {
    before: &'c Case,
    case: Case,
    effects: Vec<Effect>,
    audit: Vec<super::AuditEntry>,
    answer: Option<Answer>,
    now: chrono::DateTime<chrono::Utc>,
}

/// The fields the case card shows; a change in any of them refreshes the card.
fn card_fields(case: &Case) -> impl PartialEq + '_ {
    (
        case.status,
        &case.assignee,
        case.urgency,
        case.escalation.as_ref().map(|e| &e.team),
        (
            &case.sla.first_response_due,
            case.sla.first_response_at.is_some(),
            case.sla.breached,
            case.sla.warned,
            &case.sla.next,
            case.sla
                .resolution
                .as_ref()
                .map(|r| (r.due, r.warned, r.breached)),
        ),
        &case.tags,
        case.snoozed_until,
        case.offline.as_ref().map(|o| o.channel),
    )
}

impl<'c> Step<'c> {
    pub(super) fn new(before: &'c Case, ctx: &Ctx<'_>) -> Self {
        Step {
            before,
            case: before.clone(),
            effects: Vec::new(),
            audit: Vec::new(),
            answer: None,
            now: ctx.now,
        }
    }

    pub(super) fn case(&mut self) -> &mut Case {
        &mut self.case
    }

    pub(super) fn audit(&mut self, actor: &str, action: &str, details: Option<String>) {
        self.audit.push(super::AuditEntry {
            at: self.now,
            actor: actor.to_owned(),
            action: action.to_owned(),
            details,
        });
    }

    pub(super) fn effect(&mut self, effect: Effect) {
        self.effects.push(effect);
    }

    fn notice(&mut self, notice: Notice) {
        self.effects.push(Effect::Thread { notice });
    }

    /// Ends a step on an existing case: the SLA clocks follow what it did, and the card is
    /// refreshed if what it shows changed.
    pub(super) fn finish(mut self, config: &Config) -> Transition {
        sla::track(self.before, &mut self.case, self.now, config);
        if card_fields(&self.case) != card_fields(self.before) {
            self.effects.push(Effect::Card);
        }
        self.seal()
    }

    /// Ends the step that created the case (its card effect is already queued).
    pub(super) fn finish_new(mut self, config: &Config) -> Transition {
        sla::track(self.before, &mut self.case, self.now, config);
        self.seal()
    }

    fn seal(mut self) -> Transition {
        if !self.audit.is_empty() {
            self.case.updated_at = self.now;
        }
        Transition {
            case: self.case,
            effects: self.effects,
            audit: self.audit,
            answer: self.answer,
        }
    }
}

/// Applies one input to a case.
pub fn apply(case: &Case, input: Input, ctx: &Ctx<'_>) -> Result<Transition, Refusal> {
    let mut step = Step::new(case, ctx);
    match input {
        Input::Command {
            actor,
            command,
            required,
            in_thread,
        } => {
            if !permitted(&actor, required) {
                return Err(Refusal::NotAllowed {
                    command: command.name().to_owned(),
                    needs: required,
                });
            }
            command_step(&mut step, &actor, command, in_thread, ctx)?;
        }
        Input::ThreadMessage { actor, text } => {
            // Plain thread talk is an internal note: kept, never sent out.
            step.audit(&actor.id, "note", Some(text));
        }
        Input::Reaction {
            actor,
            draft,
            emoji,
            added,
        } => reaction(&mut step, &actor, &draft, &emoji, added, ctx)?,
        Input::Outcome(outcome) => outcome_step(&mut step, outcome),
        Input::Sweep => sweep(&mut step, ctx.config),
        Input::PostChanged { post, change } => post_changed(&mut step, &post, change),
    }
    Ok(step.finish(ctx.config))
}

/// Keeps the case's copy of a customer post in step with the network: an edit replaces
/// the text (the old one stays in the audit), a removal is noted, and so is a comment hidden
/// or shown again by a moderator on the network. Saying the same twice changes nothing (nor
/// does the network's report of a hide we did); a post the case does not hold is none of its
/// business.
fn post_changed(step: &mut Step<'_>, post: &str, change: PostChange) {
    if step.case.post(post).is_none() {
        return;
    }
    let was_hidden = step.case.hidden.contains(post);
    let c = step.case();
    let Some(held) = c.posts.iter_mut().find(|p| p.id == post) else {
        return;
    };
    let (actor, what, details, notice) = match change {
        PostChange::Edited { text } if held.text != text => {
            let old = std::mem::replace(&mut held.text, text);
            let notice = Notice::PostEdited {
                post: post.to_owned(),
            };
            (CUSTOMER, "edited", format!("{post}, was: {old}"), notice)
        }
        PostChange::Removed if !held.removed => {
            held.removed = true;
            let notice = Notice::PostRemoved {
                post: post.to_owned(),
            };
            (CUSTOMER, "removed", post.to_owned(), notice)
        }
        PostChange::Hidden { hidden } if hidden != was_hidden => {
            let verb = if hidden {
                c.hidden.insert(post.to_owned());
                "hidden on the network"
            } else {
                c.hidden.remove(post);
                "shown on the network"
            };
            let notice = Notice::PostHidden {
                post: post.to_owned(),
                hidden,
            };
            (BOT, verb, post.to_owned(), notice)
        }
        _ => return,
    };
    step.audit(actor, what, Some(details));
    step.notice(notice);
}

fn permitted(actor: &Actor, required: Permission) -> bool {
    match required {
        Permission::Anyone => true,
        Permission::Agent => actor.agent || actor.approver,
        Permission::Approver => actor.approver,
    }
}

fn open_case(case: &Case) -> Result<(), Refusal> {
    if case.status == Status::Closed {
        Err(Refusal::Closed { case: case.number })
    } else {
        Ok(())
    }
}

fn command_step(
    step: &mut Step<'_>,
    actor: &Actor,
    command: Command,
    in_thread: bool,
    ctx: &Ctx<'_>,
) -> Result<(), Refusal> {
    let number = step.case.number;
    let who = actor.id.clone();
    match command {
        Command::Claim => {
            open_case(&step.case)?;
            match &step.case.assignee {
                Some(owner) if *owner == who => return Err(Refusal::AlreadyYours { case: number }),
                Some(owner) => {
                    return Err(Refusal::ClaimedBy {
                        case: number,
                        owner: owner.clone(),
                    });
                }
                None => {}
            }
            take(step.case(), &who);
            step.audit(&who, "claimed", None);
            step.notice(Notice::Claimed { by: who });
        }
        Command::Unclaim => {
            open_case(&step.case)?;
            let Some(owner) = step.case.assignee.clone() else {
                return Err(Refusal::NotClaimed { case: number });
            };
            if owner != who && !actor.approver {
                return Err(Refusal::NotYours {
                    case: number,
                    owner,
                });
            }
            let c = step.case();
            c.assignee = None;
            if c.status == Status::Open {
                c.status = Status::New;
            }
            step.audit(&who, "unclaimed", Some(format!("was @{owner}")));
            step.notice(Notice::Unclaimed {
                by: who,
                previous: owner,
            });
        }
        Command::Assign { user } => {
            open_case(&step.case)?;
            if step.case.assignee.as_deref() == Some(user.as_str()) {
                return Err(if user == who {
                    Refusal::AlreadyYours { case: number }
                } else {
                    Refusal::AlreadyAssigned {
                        case: number,
                        owner: user,
                    }
                });
            }
            take(step.case(), &user);
            step.audit(&who, "assigned", Some(format!("to @{user}")));
            step.notice(Notice::Assigned { by: who, to: user });
        }
        Command::Reply { text } => {
            open_case(&step.case)?;
            let target = latest_post(&step.case)?;
            let kind = if target.kind.is_direct() {
                DraftKind::Direct
            } else {
                DraftKind::Public
            };
            draft(step, actor, kind, Purpose::Reply, text, &target, ctx)?;
        }
        Command::Dm { text } => {
            open_case(&step.case)?;
            let target = latest_post(&step.case)?;
            draft(
                step,
                actor,
                DraftKind::Direct,
                Purpose::Reply,
                text,
                &target,
                ctx,
            )?;
        }
        Command::Canned { name } => {
            open_case(&step.case)?;
            let Some(template) = ctx.config.canned.get(&name) else {
                return Err(Refusal::UnknownCanned {
                    name,
                    available: ctx.config.canned.keys().cloned().collect(),
                });
            };
            let text = text::fill(template, &step.case, &who, None);
            let target = latest_post(&step.case)?;
            let kind = if target.kind.is_direct() {
                DraftKind::Direct
            } else {
                DraftKind::Public
            };
            draft(step, actor, kind, Purpose::Canned(name), text, &target, ctx)?;
        }
        Command::Note { text } => {
            step.audit(&who, "note", Some(text.clone()));
            // Inside the thread the note is already there for everyone to read.
            if !in_thread {
                step.notice(Notice::Note { by: who, text });
            }
        }
        Command::Escalate { team, reason } => {
            open_case(&step.case)?;
            step.case().escalation = Some(Escalation {
                team: team.clone(),
                reason: reason.clone(),
                by: who.clone(),
                at: ctx.now,
            });
            let details = match &reason {
                Some(r) => format!("to {team}: {r}"),
                None => format!("to {team}"),
            };
            step.audit(&who, "escalated", Some(details));
            step.notice(Notice::Escalated {
                by: who,
                team,
                reason,
            });
        }
        Command::Offline { channel, address } => offline(step, actor, channel, address, ctx)?,
        Command::Close { note } => close(step, actor, note, ctx)?,
        Command::Reopen => {
            if step.case.status != Status::Closed {
                return Err(Refusal::NotClosed { case: number });
            }
            reopen(step.case());
            step.audit(&who, "reopened", None);
            step.notice(Notice::Reopened { by: who });
        }
        Command::Recall => {
            let Some(draft) = step
                .case
                .drafts
                .iter()
                .rev()
                .find(|d| d.author == who && d.state.awaits_decision())
                .map(|d| d.id.clone())
            else {
                return Err(Refusal::NoPendingDraft { case: number });
            };
            decide(step.case(), &draft, DraftState::Recalled, &who, ctx);
            step.audit(&who, "recalled", Some(format!("draft {draft}")));
            step.notice(Notice::Recalled { draft, by: who });
        }
        Command::Retry => {
            let Some(failed) = step
                .case
                .drafts
                .iter()
                .rev()
                .find(|d| d.state == DraftState::Failed)
                .cloned()
            else {
                return Err(Refusal::NoFailedDraft { case: number });
            };
            // The world may have moved on since: check the rules again.
            let account = ctx.config.account(&step.case.account);
            check_outlet(account)?;
            check_text(&step.case, account, failed.kind, &failed.text, ctx.lookup)?;
            if let Some(target) = step
                .case
                .posts
                .iter()
                .find(|p| p.id == failed.in_reply_to)
                .cloned()
            {
                check_target(&step.case, account, failed.kind, &target, ctx)?;
            }
            if let Some(d) = step.case().draft_mut(&failed.id) {
                d.state = DraftState::Approved;
                d.error = None;
            }
            step.audit(&who, "retried", Some(format!("draft {}", failed.id)));
            step.effect(Effect::Publish { draft: failed.id });
        }
        Command::Tag { label } => {
            if step.case.tags.contains(&label) {
                return Err(Refusal::AlreadyTagged { label });
            }
            step.case().tags.insert(label.clone());
            step.audit(&who, "tagged", Some(label.clone()));
            step.notice(Notice::Tagged { by: who, label });
        }
        Command::Snooze { duration } => {
            open_case(&step.case)?;
            let until = (duration >= MIN_SNOOZE && duration <= MAX_SNOOZE)
                .then(|| TimeDelta::from_std(duration).ok())
                .flatten()
                .and_then(|d| ctx.now.checked_add_signed(d))
                .ok_or(Refusal::SnoozeOutOfRange)?;
            step.case().snoozed_until = Some(until);
            step.audit(
                &who,
                "snoozed",
                Some(format!("until {}", until.to_rfc3339())),
            );
            step.notice(Notice::Snoozed { by: who, until });
        }
        Command::Status => step.answer = Some(Answer::Status),
        Command::Help { command } => step.answer = Some(Answer::Help { command }),
        // Allowed on closed cases too: liking a thank-you after closing is common.
        Command::Like { post } => post_action(step, actor, ActionKind::Like, post, ctx)?,
        Command::Unlike { post } => post_action(step, actor, ActionKind::Unlike, post, ctx)?,
        Command::Repost { post } => post_action(step, actor, ActionKind::Repost, post, ctx)?,
        Command::Hide { post } => post_action(step, actor, ActionKind::Hide, post, ctx)?,
        Command::Unhide { post } => post_action(step, actor, ActionKind::Unhide, post, ctx)?,
        // An id of one of the customer's posts asks to delete their comment; anything else
        // names one of our drafts.
        Command::Delete { target: Some(post) } if step.case.post(&post).is_some() => {
            post_action(step, actor, ActionKind::Remove, Some(post), ctx)?;
        }
        Command::Delete { target } => delete(step, actor, target, ctx)?,
    }
    Ok(())
}

/// Like, unlike, repost, hide, unhide or remove a customer post: the one named, else the
/// one [`default_target`] picks. The case's sets change only when the network confirms
/// ([`Outcome::Acted`]).
fn post_action(
    step: &mut Step<'_>,
    actor: &Actor,
    kind: ActionKind,
    post: Option<String>,
    ctx: &Ctx<'_>,
) -> Result<(), Refusal> {
    let case = &step.case;
    let account = ctx.config.account(&case.account);
    let platform = rules_platform(account, case.platform);
    if !supports(platform, kind) {
        return Err(unsupported(platform, kind));
    }
    let target = match &post {
        Some(id) => case
            .post(id)
            .ok_or_else(|| Refusal::UnknownPost { post: id.clone() })?,
        None => default_target(case, kind)?,
    };
    check_post_action(case, account, kind, target)?;
    let id = target.id.clone();
    let repeat = match kind {
        ActionKind::Like if case.liked.contains(&id) => Some(Refusal::AlreadyLiked { post: id }),
        ActionKind::Unlike if !case.liked.contains(&id) => Some(Refusal::NotLiked { post: id }),
        ActionKind::Repost if case.reposted.contains(&id) => {
            Some(Refusal::AlreadyReposted { post: id })
        }
        ActionKind::Hide if case.hidden.contains(&id) => Some(Refusal::AlreadyHidden { post: id }),
        ActionKind::Unhide if !case.hidden.contains(&id) => Some(Refusal::NotHidden { post: id }),
        _ => None,
    };
    if let Some(refusal) = repeat {
        return Err(refusal);
    }
    let Some(action) = NetworkAction::on_post(kind, target.id.clone()) else {
        // Delete targets a draft (see `delete`), never a customer post.
        return Err(Refusal::UnknownDraft {
            draft: target.id.clone(),
        });
    };
    step.audit(&actor.id, kind.key(), Some(format!("post {}", target.id)));
    step.effect(Effect::Act {
        action,
        by: actor.id.clone(),
    });
    Ok(())
}

/// The customer post an action without an id is about: the latest one still on the network
/// that fits — for unlike the latest liked, for hide the latest visible comment, for unhide
/// the latest hidden one, else the latest public post (or comment).
fn default_target(case: &Case, kind: ActionKind) -> Result<&CasePost, Refusal> {
    let latest =
        |fits: &dyn Fn(&CasePost) -> bool| case.posts.iter().rev().find(|p| !p.removed && fits(p));
    let public = |p: &CasePost| !p.kind.is_direct();
    let comment = |p: &CasePost| p.kind == PostKind::Comment;
    let number = case.number;
    match kind {
        // With every comment hidden, the latest one: refused as already hidden.
        ActionKind::Hide => latest(&|p| comment(p) && !case.hidden.contains(&p.id))
            .or_else(|| latest(&comment))
            .ok_or(Refusal::NothingToHide { case: number }),
        ActionKind::Unhide => {
            latest(&|p| case.hidden.contains(&p.id)).ok_or(Refusal::NothingHidden { case: number })
        }
        ActionKind::Unlike => latest(&|p| case.liked.contains(&p.id))
            .or_else(|| latest(&public))
            .ok_or(Refusal::NothingToLike { case: number }),
        _ => latest(&public).ok_or(Refusal::NothingToLike { case: number }),
    }
}

/// Delete our published reply: the draft named (`12.3`, or `3` for this case's third),
/// else the latest one still on the network.
fn delete(
    step: &mut Step<'_>,
    actor: &Actor,
    draft: Option<String>,
    ctx: &Ctx<'_>,
) -> Result<(), Refusal> {
    let case = &step.case;
    let account = ctx.config.account(&case.account);
    let platform = rules_platform(account, case.platform);
    if !supports(platform, ActionKind::Delete) {
        return Err(unsupported(platform, ActionKind::Delete));
    }
    let target = match draft {
        Some(id) => {
            let id = if id.bytes().all(|b| b.is_ascii_digit()) {
                format!("{}.{id}", case.number)
            } else {
                id
            };
            case.draft(&id).ok_or(Refusal::UnknownDraft { draft: id })?
        }
        None => case
            .drafts
            .iter()
            .rev()
            .find(|d| d.is_live())
            .ok_or(Refusal::NothingToDelete { case: case.number })?,
    };
    check_delete(case, account, target)?;
    let draft = target.id.clone();
    let id = target.published_id.clone().unwrap_or_default();
    step.audit(&actor.id, "delete", Some(format!("draft {draft} ({id})")));
    step.effect(Effect::Act {
        action: NetworkAction::Delete { draft, id },
        by: actor.id.clone(),
    });
    Ok(())
}

/// Snoozes shorter than this are a typo; longer ones hide a case for good.
const MIN_SNOOZE: Duration = Duration::from_secs(60);
const MAX_SNOOZE: Duration = Duration::from_secs(90 * 24 * 3600);

/// The status of a case that needs an answer from us: open when someone owns it.
pub(super) fn needs_us(case: &Case) -> Status {
    if case.assignee.is_some() {
        Status::Open
    } else {
        Status::New
    }
}

/// Starts a new episode on a closed case. Where the last one went offline is
/// history (the audit keeps it).
pub(super) fn reopen(case: &mut Case) {
    case.closed_at = None;
    case.offline = None;
    case.status = needs_us(case);
}

/// The claimer or assignee becomes the owner; a new case becomes open.
fn take(case: &mut Case, user: &str) {
    case.assignee = Some(user.to_owned());
    if case.status == Status::New {
        case.status = Status::Open;
    }
}

fn latest_post(case: &Case) -> Result<CasePost, Refusal> {
    // Every case is opened by a post, so this only fails on a corrupted case.
    case.latest_post()
        .cloned()
        .ok_or(Refusal::NothingToAnswer { case: case.number })
}

fn check_target(
    case: &Case,
    account: Option<&AccountConfig>,
    kind: DraftKind,
    target: &CasePost,
    ctx: &Ctx<'_>,
) -> Result<(), Refusal> {
    match kind {
        DraftKind::Direct => check_direct(case, account, target, ctx.now),
        DraftKind::Public => check_public(case, account, target, ctx.now),
    }
}

/// Whether a draft by `actor` must wait for an approver.
fn needs_approval(case: &Case, account: Option<&AccountConfig>, actor: &Actor) -> bool {
    let Some(account) = account else {
        return true;
    };
    if account.trusted_agents.contains(&actor.id) {
        return false;
    }
    match account.approval {
        ApprovalMode::Always => true,
        ApprovalMode::Never => false,
        ApprovalMode::FirstReply => !case.has_published(),
    }
}

/// Makes a draft: checks the network's rules first, then either asks for
/// approval or approves it at once and queues the publication.
fn draft(
    step: &mut Step<'_>,
    actor: &Actor,
    kind: DraftKind,
    purpose: Purpose,
    text: String,
    target: &CasePost,
    ctx: &Ctx<'_>,
) -> Result<String, Refusal> {
    let account = ctx.config.account(&step.case.account);
    let needs_approval = needs_approval(&step.case, account, actor);
    add_draft(
        step,
        &actor.id,
        kind,
        purpose,
        text,
        target,
        needs_approval,
        ctx,
    )
}

/// Adds a draft by `author` once the network's rules allow it; queues its publication at
/// once unless it `needs_approval`.
#[allow(clippy::too_many_arguments)]
fn add_draft(
    step: &mut Step<'_>,
    author: &str,
    kind: DraftKind,
    purpose: Purpose,
    text: String,
    target: &CasePost,
    needs_approval: bool,
    ctx: &Ctx<'_>,
) -> Result<String, Refusal> {
    let account = ctx.config.account(&step.case.account);
    check_outlet(account)?;
    check_text(&step.case, account, kind, &text, ctx.lookup)?;
    check_target(&step.case, account, kind, target, ctx)?;
    let c = step.case();
    let id = format!("{}.{}", c.number, c.drafts.len() + 1);
    c.drafts.push(Draft {
        id: id.clone(),
        kind,
        purpose,
        text,
        in_reply_to: target.id.clone(),
        author: author.to_owned(),
        created_at: ctx.now,
        state: if needs_approval {
            DraftState::Pending
        } else {
            DraftState::Approved
        },
        needs_approval,
        decided_by: (!needs_approval).then(|| BOT.to_owned()),
        decided_at: (!needs_approval).then_some(ctx.now),
        published_id: None,
        published_at: None,
        error: None,
        chat_message: None,
        deleted_at: None,
        deleted_by: None,
    });
    let kind_key = match kind {
        DraftKind::Public => "public",
        DraftKind::Direct => "direct",
    };
    step.audit(
        author,
        "drafted",
        Some(format!(
            "draft {id} ({kind_key}, {})",
            if needs_approval {
                "awaiting approval"
            } else {
                "no approval needed"
            }
        )),
    );
    step.effect(Effect::ShowDraft { draft: id.clone() });
    if !needs_approval {
        step.effect(Effect::Publish { draft: id.clone() });
    }
    Ok(id)
}

/// The off-hours autoresponder: outside business hours, a customer's `post` (a direct
/// message, or any post where the account opts in) gets the account's off-hours message, once
/// per case in each off-hours period. It goes out without approval: the team wrote it in
/// bot.toml. A network refusal (a closed window, a duplicate text) skips it, noted in the audit.
pub(super) fn off_hours(step: &mut Step<'_>, post: &str, ctx: &Ctx<'_>) {
    let (Some(account), Some(hours)) = (
        ctx.config.account(&step.case.account),
        ctx.config.business_hours.as_ref(),
    ) else {
        return;
    };
    let (Some(off), Some(target)) = (&account.off_hours, step.case.post(post).cloned()) else {
        return;
    };
    let tz = ctx.config.bot.timezone;
    if sla::is_open(hours, tz, ctx.now) || (!target.kind.is_direct() && !off.public) {
        return;
    }
    let period = sla::last_close(hours, tz, ctx.now);
    if step
        .case
        .off_hours_answered
        .is_some_and(|at| period.is_none_or(|start| at >= start))
    {
        return;
    }
    let opens = sla::next_open(hours, tz, ctx.now);
    let message = text::off_hours(&off.message, &step.case, opens, tz);
    let kind = if target.kind.is_direct() {
        DraftKind::Direct
    } else {
        DraftKind::Public
    };
    match add_draft(
        step,
        BOT,
        kind,
        Purpose::OffHours,
        message,
        &target,
        false,
        ctx,
    ) {
        Ok(_) => step.case().off_hours_answered = Some(ctx.now),
        Err(refusal) => step.audit(
            BOT,
            "off-hours answer skipped",
            Some(text::refusal(&refusal, &text::at)),
        ),
    }
}

fn offline(
    step: &mut Step<'_>,
    actor: &Actor,
    channel: OfflineChannel,
    address: Option<String>,
    ctx: &Ctx<'_>,
) -> Result<(), Refusal> {
    open_case(&step.case)?;
    if let Some(current) = &step.case.offline {
        return Err(Refusal::AlreadyOffline {
            case: step.case.number,
            channel: current.channel,
        });
    }
    let account = ctx.config.account(&step.case.account);
    let template = match (account, channel) {
        (Some(a), OfflineChannel::Email) => a.offline.email.as_str(),
        (Some(a), OfflineChannel::Sms) => a.offline.sms.as_str(),
        (Some(a), OfflineChannel::Dm) => a.offline.dm.as_str(),
        (None, _) => {
            return Err(Refusal::UnknownAccount {
                account: step.case.account.clone(),
            });
        }
    };
    let invitation = text::fill(template, &step.case, &actor.id, address.as_deref());
    let target = latest_post(&step.case)?;
    let kind = if target.kind.is_direct() {
        DraftKind::Direct
    } else {
        DraftKind::Public
    };
    draft(
        step,
        actor,
        kind,
        Purpose::OfflineInvite,
        invitation,
        &target,
        ctx,
    )?;
    let c = step.case();
    c.status = Status::Offline;
    c.offline = Some(Offline {
        channel,
        address: address.clone(),
        by: actor.id.clone(),
        at: ctx.now,
    });
    step.audit(&actor.id, "offline", Some(channel.key().to_owned()));
    step.notice(Notice::MovedOffline {
        by: actor.id.clone(),
        channel,
        address,
    });
    Ok(())
}

fn close(
    step: &mut Step<'_>,
    actor: &Actor,
    note: Option<String>,
    ctx: &Ctx<'_>,
) -> Result<(), Refusal> {
    open_case(&step.case)?;
    let pending: Vec<String> = step
        .case
        .drafts
        .iter()
        .filter(|d| d.state.awaits_decision())
        .map(|d| d.id.clone())
        .collect();
    if !pending.is_empty() {
        return Err(Refusal::DraftsPending {
            case: step.case.number,
            drafts: pending,
        });
    }
    let account = ctx.config.account(&step.case.account);
    let close_loop = account.map_or(CloseLoop::Offline, |a| a.close_loop);
    let wants_loop = match close_loop {
        CloseLoop::Never => false,
        CloseLoop::Offline => step.case.offline.is_some(),
        CloseLoop::Always => true,
    };
    if wants_loop {
        // Closing the loop is for the public who saw the complaint: under the
        // customer's latest public post. A conversation that was private all
        // along has no loop to close.
        let target = step.case.latest_post_of(false).cloned();
        if let (Some(target), Some(account)) = (target, account) {
            let text = text::fill(&account.close_loop_text, &step.case, &actor.id, None);
            let kind = DraftKind::Public;
            // The follow-up comes from a template the agent cannot reword, and some
            // refusals never go away (X already has this text from an earlier loop, the
            // messaging window has closed): they must not keep the case open for good.
            // Close without it and say why.
            if let Err(refusal) = draft(step, actor, kind, Purpose::CloseLoop, text, &target, ctx) {
                step.audit(
                    &actor.id,
                    "close loop skipped",
                    Some(text::refusal(&refusal, &text::at)),
                );
                step.notice(Notice::LoopSkipped { refusal });
            }
        }
    }
    shut(step, &actor.id, note);
    Ok(())
}

/// Closes the case for `by`, with an optional note for the thread.
fn shut(step: &mut Step<'_>, by: &str, note: Option<String>) {
    let now = step.now;
    let c = step.case();
    c.status = Status::Closed;
    c.closed_at = Some(now);
    c.snoozed_until = None;
    step.audit(by, "closed", note.clone());
    step.notice(Notice::Closed {
        by: by.to_owned(),
        note,
    });
}

/// When the case started waiting on the customer: our latest published answer.
fn waiting_since(case: &Case) -> Option<DateTime<Utc>> {
    case.drafts
        .iter()
        .filter(|d| d.state == DraftState::Published)
        .filter_map(|d| d.published_at)
        .max()
}

/// Whether the sweep at `now` closes `case` for waiting on the customer longer than
/// `bot.auto_close_after` (never with a draft still to decide or to send).
fn auto_close_due(case: &Case, now: DateTime<Utc>, config: &Config) -> bool {
    let Some(after) = config.bot.auto_close_after else {
        return false;
    };
    let after = TimeDelta::from_std(after).unwrap_or(TimeDelta::MAX);
    case.status == Status::Waiting
        && !case
            .drafts
            .iter()
            .any(|d| matches!(d.state, DraftState::Pending | DraftState::Approved))
        && waiting_since(case).is_some_and(|since| now - since >= after)
}

fn decide(case: &mut Case, draft: &str, state: DraftState, by: &str, ctx: &Ctx<'_>) {
    if let Some(d) = case.draft_mut(draft) {
        d.state = state;
        d.decided_by = Some(by.to_owned());
        d.decided_at = Some(ctx.now);
    }
}

fn reaction(
    step: &mut Step<'_>,
    actor: &Actor,
    draft: &str,
    emoji: &str,
    added: bool,
    ctx: &Ctx<'_>,
) -> Result<(), Refusal> {
    let approval = &ctx.config.approval;
    let approve = approval.approve.iter().any(|e| e == emoji);
    let reject = approval.reject.iter().any(|e| e == emoji);
    let Some(current) = step.case.draft(draft).cloned() else {
        return Err(Refusal::UnknownDraft {
            draft: draft.to_owned(),
        });
    };
    if !approve && !reject {
        return Ok(());
    }
    if !added {
        // Taking a reaction back before publication withdraws that decision.
        let own_decision = current.decided_by.as_deref() == Some(actor.id.as_str());
        let undoable = (approve && current.state == DraftState::Approved && current.needs_approval)
            || (reject && current.state == DraftState::Rejected);
        if own_decision && undoable {
            if let Some(d) = step.case().draft_mut(draft) {
                d.state = DraftState::Pending;
                d.decided_by = None;
                d.decided_at = None;
            }
            step.audit(
                &actor.id,
                "withdrew decision",
                Some(format!("draft {draft}")),
            );
            step.notice(Notice::Withdrawn {
                draft: draft.to_owned(),
                by: actor.id.clone(),
            });
        }
        return Ok(());
    }
    if !current.state.awaits_decision() {
        return Ok(());
    }
    if approve && current.author == actor.id && !approval.allow_self_approval {
        return Err(Refusal::SelfApproval {
            draft: draft.to_owned(),
        });
    }
    // Only configured approvers count; anyone else's reaction is just a reaction.
    if !actor.approver {
        return Ok(());
    }
    if approve {
        decide(step.case(), draft, DraftState::Approved, &actor.id, ctx);
        step.audit(&actor.id, "approved", Some(format!("draft {draft}")));
        step.notice(Notice::Approved {
            draft: draft.to_owned(),
            by: actor.id.clone(),
        });
        step.effect(Effect::Publish {
            draft: draft.to_owned(),
        });
    } else {
        decide(step.case(), draft, DraftState::Rejected, &actor.id, ctx);
        step.audit(&actor.id, "rejected", Some(format!("draft {draft}")));
        step.notice(Notice::Rejected {
            draft: draft.to_owned(),
            by: actor.id.clone(),
        });
    }
    Ok(())
}

fn outcome_step(step: &mut Step<'_>, outcome: Outcome) {
    match outcome {
        Outcome::CardPosted { thread, card } => {
            step.case().chat = Some(super::ChatThread { thread, card });
        }
        Outcome::DraftShown { draft, message } => {
            if let Some(d) = step.case().draft_mut(&draft) {
                d.chat_message = Some(message);
            }
        }
        Outcome::Published { draft, id } => {
            let now = step.now;
            let c = step.case();
            let Some(d) = c.draft_mut(&draft) else {
                return;
            };
            if d.state == DraftState::Published {
                return;
            }
            // The network has it: that is the truth, whatever was decided since.
            d.state = DraftState::Published;
            d.published_id = Some(id.clone());
            d.published_at = Some(now);
            d.error = None;
            let purpose = d.purpose.clone();
            // The autoresponder only says when we are back: nobody answered yet.
            if c.sla.first_response_at.is_none() && purpose != Purpose::OffHours {
                c.sla.first_response_at = Some(now);
            }
            if !matches!(
                purpose,
                Purpose::CloseLoop | Purpose::OfflineInvite | Purpose::OffHours
            ) && matches!(c.status, Status::New | Status::Open)
            {
                c.status = Status::Waiting;
            }
            step.audit(BOT, "published", Some(format!("draft {draft} as {id}")));
            step.notice(Notice::Published { draft });
        }
        Outcome::PublishDelayed { draft, reason } => {
            // Only while it is still on its way; once out, recalled or failed, lateness is moot.
            if step
                .case
                .draft(&draft)
                .is_none_or(|d| d.state != DraftState::Approved)
            {
                return;
            }
            step.audit(
                BOT,
                "publish delayed",
                Some(format!("draft {draft}: {reason}")),
            );
            step.notice(Notice::PublishDelayed { draft, reason });
        }
        Outcome::PublishFailed { draft, reason } => {
            let Some(d) = step.case().draft_mut(&draft) else {
                return;
            };
            // Only an approved draft can fail: if the approval was withdrawn (or the
            // draft recalled or rejected) while the attempt ran, it keeps that state, so
            // `retry` cannot send it without a new approval; a repeated report of the same
            // failure, or one after publication, changes nothing.
            if d.state != DraftState::Approved {
                return;
            }
            d.state = DraftState::Failed;
            d.error = Some(reason.clone());
            step.audit(
                BOT,
                "publish failed",
                Some(format!("draft {draft}: {reason}")),
            );
            step.notice(Notice::PublishFailed { draft });
        }
        Outcome::Acted { action, by } => acted(step, action, by),
        Outcome::ActFailed { action, by, reason } => {
            // The network has what was asked (a later attempt went through, or it had been
            // done all along): a late failure report is history, not news.
            if already_done(&step.case, &action) {
                return;
            }
            step.audit(
                BOT,
                &format!("{} failed", action.key()),
                Some(format!("{}: {reason}", describe(&action))),
            );
            step.notice(Notice::ActFailed { action, by, reason });
        }
    }
}

/// The audit's name for an action's target.
fn describe(action: &NetworkAction) -> String {
    match action {
        NetworkAction::Delete { draft, id } => format!("draft {draft} ({id})"),
        other => format!("post {}", other.target()),
    }
}

/// Whether the case already shows `action` as done.
fn already_done(case: &Case, action: &NetworkAction) -> bool {
    match action {
        NetworkAction::Like { post } => case.liked.contains(post),
        NetworkAction::Unlike { post } => !case.liked.contains(post),
        NetworkAction::Repost { post } => case.reposted.contains(post),
        NetworkAction::Hide { post } => case.hidden.contains(post),
        NetworkAction::Unhide { post } => !case.hidden.contains(post),
        NetworkAction::Remove { post } => case.post(post).is_some_and(|p| p.removed),
        NetworkAction::Delete { draft, .. } => {
            case.draft(draft).is_some_and(|d| d.deleted_at.is_some())
        }
    }
}

/// The network confirmed an action: the case records it (once).
fn acted(step: &mut Step<'_>, action: NetworkAction, by: String) {
    let known = match &action {
        NetworkAction::Delete { draft, .. } => step.case.draft(draft).is_some(),
        other => step.case.post(other.target()).is_some(),
    };
    if !known || already_done(&step.case, &action) {
        return;
    }
    let now = step.now;
    let c = step.case();
    let verb = match &action {
        NetworkAction::Like { post } => {
            c.liked.insert(post.clone());
            "liked"
        }
        NetworkAction::Unlike { post } => {
            c.liked.remove(post);
            "unliked"
        }
        NetworkAction::Repost { post } => {
            c.reposted.insert(post.clone());
            "reposted"
        }
        NetworkAction::Hide { post } => {
            c.hidden.insert(post.clone());
            "hid"
        }
        NetworkAction::Unhide { post } => {
            c.hidden.remove(post);
            "unhid"
        }
        NetworkAction::Remove { post } => {
            if let Some(p) = c.posts.iter_mut().find(|p| p.id == *post) {
                p.removed = true;
            }
            "deleted comment"
        }
        NetworkAction::Delete { draft, .. } => {
            if let Some(d) = c.draft_mut(draft) {
                d.deleted_at = Some(now);
                d.deleted_by = Some(by.clone());
            }
            "deleted"
        }
    };
    step.audit(BOT, verb, Some(format!("{}, for @{by}", describe(&action))));
    step.notice(Notice::Acted { action, by });
}

/// The snooze of `case` is over at `now`.
fn snooze_over(case: &Case, now: DateTime<Utc>) -> bool {
    case.snoozed_until.is_some_and(|until| until <= now)
}

/// The clocks of `case` whose news the team has not heard at `now`: newly due soon or late.
fn clock_news(case: &Case, now: DateTime<Utc>, config: &Config) -> Vec<(sla::Running, ClockState)> {
    sla::running(case)
        .into_iter()
        .map(|clock| (clock, clock.state(now, config.sla.warn_before)))
        .filter(|(clock, state)| match state {
            ClockState::Breached => !clock.breached,
            ClockState::DueSoon => !clock.warned,
            ClockState::OnTrack => false,
        })
        .collect()
}

/// Whether a sweep at `now` has anything to do for `case`.
pub fn sweep_due(case: &Case, now: DateTime<Utc>, config: &Config) -> bool {
    snooze_over(case, now)
        || !clock_news(case, now, config).is_empty()
        || auto_close_due(case, now, config)
        || unclaimed_due(case, now, config)
}

/// What the sweep at `now` tells `case`'s queue about it, in one message with the queue's
/// other cases; the sweep's own step then records that it was told.
pub fn alerts(case: &Case, now: DateTime<Utc>, config: &Config) -> Vec<Alert> {
    if auto_close_due(case, now, config) {
        return Vec::new();
    }
    let mut alerts: Vec<Alert> = clock_news(case, now, config)
        .into_iter()
        .map(|(clock, state)| match state {
            ClockState::Breached => Alert::Breached {
                target: clock.target,
                due: clock.due,
            },
            _ => Alert::DueSoon {
                target: clock.target,
                due: clock.due,
            },
        })
        .collect();
    if unclaimed_due(case, now, config) {
        alerts.push(Alert::Unclaimed {
            since: case.opened_at,
        });
    }
    alerts
}

/// The queues that hear of `case`'s `alerts`: its own, and for a breach the
/// `[sla.breach] channel` queue too.
pub fn alert_queues<'a>(case: &'a Case, alerts: &[Alert], config: &'a Config) -> Vec<&'a str> {
    let mut queues = vec![case.queue.as_str()];
    if let Some(escalations) = config.sla.breach_queue.as_deref()
        && escalations != case.queue
        && alerts.iter().any(|a| matches!(a, Alert::Breached { .. }))
    {
        queues.push(escalations);
    }
    queues
}

/// A new case nobody claimed within `[sla] unclaimed_after`, not listed to its queue yet.
fn unclaimed_due(case: &Case, now: DateTime<Utc>, config: &Config) -> bool {
    config.sla.unclaimed_after.is_some_and(|after| {
        let after = TimeDelta::from_std(after).unwrap_or(TimeDelta::MAX);
        case.status == Status::New
            && case.assignee.is_none()
            && !case.nudged
            && now - case.opened_at >= after
    })
}

/// Whether a queued effect should still run on the case as it is now.
/// Publish only what is still approved: a withdrawn approval or a
/// publication that already happened must not go out (again).
pub fn still_wanted(case: &Case, effect: &Effect) -> bool {
    match effect {
        Effect::Publish { draft } => case
            .draft(draft)
            .is_some_and(|d| d.state == DraftState::Approved),
        // The network is the truth for likes, reposts and deletions: a repeat is harmless
        // (publishers make actions idempotent) and the outcome records what happened.
        Effect::Act { .. } => true,
        Effect::Card | Effect::Thread { .. } | Effect::ShowDraft { .. } => true,
    }
}

fn sweep(step: &mut Step<'_>, config: &Config) {
    let now = step.now;
    if unclaimed_due(&step.case, now, config) {
        // Told in the queue's channel (see `alerts`), not the case thread nobody watches yet.
        step.case().nudged = true;
        step.audit(BOT, "listed as unclaimed", None);
    }
    if snooze_over(&step.case, now) {
        step.case().snoozed_until = None;
        step.audit(BOT, "snooze over", None);
        step.notice(Notice::SnoozeOver);
    }
    if auto_close_due(&step.case, now, config) {
        let note = text::auto_closed(config.bot.auto_close_after, config.bot.reopen_window);
        shut(step, BOT, Some(note));
        return;
    }
    for (clock, state) in clock_news(&step.case, now, config) {
        let target = clock.target;
        let late = state == ClockState::Breached;
        mark(step.case(), target, late);
        if !late {
            let due = clock.due;
            step.audit(
                BOT,
                "sla due soon",
                Some(format!("{}, due {due}", target.key())),
            );
            step.notice(Notice::SlaDueSoon { target, due });
            continue;
        }
        step.audit(BOT, "sla breached", Some(target.key().to_owned()));
        step.notice(Notice::SlaBreached { target });
        let urgency = step.case.urgency;
        if config.sla.raise_urgency
            && let Some(raised) = urgency.raised()
        {
            step.case().urgency = raised;
            step.audit(
                BOT,
                "urgency raised",
                Some(format!(
                    "{} to {} on the breach",
                    urgency.key(),
                    raised.key()
                )),
            );
        }
    }
}

/// Records that the team heard `target` is due soon (and, when `late`, that it is late).
fn mark(case: &mut Case, target: SlaTarget, late: bool) {
    let sla = &mut case.sla;
    let (warned, breached) = match target {
        SlaTarget::FirstResponse => (&mut sla.warned, &mut sla.breached),
        SlaTarget::NextResponse => match sla.next.as_mut() {
            Some(c) => (&mut c.warned, &mut c.breached),
            None => return,
        },
        SlaTarget::Resolution => match sla.resolution.as_mut() {
            Some(r) => (&mut r.warned, &mut r.breached),
            None => return,
        },
    };
    *warned = true;
    *breached |= late;
}

//! Ingest: a customer post opens a new case, joins the author's open case,
//! or reopens a recently closed one.
//!
//! The store finds the candidate case (the latest case for the post's
//! conversation key) and the next case number; this module decides. Pure.

use std::collections::BTreeSet;

use chrono::TimeDelta;

use super::apply::{Step, needs_us, off_hours, reopen};
use super::model::{CUSTOMER, Case, CasePost, SocialPost, Status};
use super::{Ctx, Effect, Notice, Transition, routing, sla};

fn case_post(post: &SocialPost, ctx: &Ctx<'_>) -> CasePost {
    CasePost {
        id: post.id.clone(),
        kind: post.kind,
        text: post.text.clone(),
        conversation_id: post.conversation_id.clone(),
        permalink: post.permalink.clone(),
        at: post.created_at,
        received_at: ctx.now,
        reply_by: post.reply_by,
        parent: post.parent.clone(),
        reference: post.reference.clone(),
        removed: false,
    }
}

/// What ingesting a post did.
#[derive(Debug, Clone, PartialEq)]
pub enum Ingested {
    /// The post was already part of the candidate case: nothing to do.
    Duplicate,
    /// The post opened a new case (numbered `next_number`).
    Opened(Transition),
    /// The post joined an open case, or reopened a recently closed one.
    Joined(Transition),
}

/// Ingests `post`. `candidate` is the latest case with the same conversation
/// key, if any; `next_number` the number a new case would get.
pub fn ingest(
    post: &SocialPost,
    candidate: Option<&Case>,
    next_number: u64,
    ctx: &Ctx<'_>,
) -> Ingested {
    match candidate {
        Some(case) if case.posts.iter().any(|p| p.id == post.id) => Ingested::Duplicate,
        Some(case) if case.status != Status::Closed => Ingested::Joined(join(case, post, ctx)),
        Some(case) if within_reopen_window(case, ctx) => Ingested::Joined(join(case, post, ctx)),
        _ => Ingested::Opened(open(post, next_number, ctx)),
    }
}

fn within_reopen_window(case: &Case, ctx: &Ctx<'_>) -> bool {
    let window = TimeDelta::from_std(ctx.config.bot.reopen_window).unwrap_or(TimeDelta::MAX);
    case.closed_at
        .is_some_and(|closed| ctx.now - closed < window)
}

fn open(post: &SocialPost, number: u64, ctx: &Ctx<'_>) -> Transition {
    let route = routing::route(ctx.config, post);
    let target = sla::first_response_target(ctx.config, route.urgency);
    let case = Case {
        number,
        status: Status::New,
        platform: post.platform,
        account: post.account.clone(),
        author: post.author.clone(),
        conversation_id: post.conversation_id.clone(),
        kind: post.kind,
        queue: route.queue,
        urgency: route.urgency,
        tags: route.tags,
        assignee: None,
        escalation: None,
        snoozed_until: None,
        sla: super::model::Sla::first(sla::due(ctx.config, post.created_at.min(ctx.now), target)),
        offline: None,
        can_dm: post.can_dm,
        posts: vec![case_post(post, ctx)],
        drafts: Vec::new(),
        liked: BTreeSet::new(),
        reposted: BTreeSet::new(),
        hidden: BTreeSet::new(),
        opened_at: ctx.now,
        updated_at: ctx.now,
        closed_at: None,
        chat: None,
        nudged: false,
        off_hours_answered: None,
    };
    let routed = route
        .rule
        .as_ref()
        .map(|rule| format!("routed by {rule}: "))
        .unwrap_or_default();
    let details = format!(
        "{} {} from @{}; {routed}{} to {}",
        post.platform,
        post.kind.key(),
        post.author.handle,
        case.urgency.key(),
        case.queue
    );
    let mut step = Step::new(&case, ctx);
    step.audit(CUSTOMER, "opened", Some(details));
    // A brand-new case has no card yet: always post one.
    step.effect(Effect::Card);
    off_hours(&mut step, &post.id, ctx);
    step.finish_new(ctx.config)
}

fn join(case: &Case, post: &SocialPost, ctx: &Ctx<'_>) -> Transition {
    let mut step = Step::new(case, ctx);
    let reopening = case.status == Status::Closed;
    let c = step.case();
    c.posts.push(case_post(post, ctx));
    if post.can_dm != super::model::CanDm::Unknown {
        c.can_dm = post.can_dm;
    }
    // The customer spoke: a snooze is over and a waiting case needs us again.
    c.snoozed_until = None;
    if reopening {
        reopen(c);
        let target = sla::first_response_target(ctx.config, c.urgency);
        // A reopened case is answered anew; its resolution time keeps counting from where
        // it stopped.
        let resolution = c.sla.resolution.take();
        c.sla = super::model::Sla {
            resolution,
            ..super::model::Sla::first(sla::due(ctx.config, ctx.now, target))
        };
    } else if c.status == Status::Waiting {
        c.status = needs_us(c);
    }
    if reopening {
        step.audit(CUSTOMER, "reopened", Some(format!("post {}", post.id)));
        step.effect(Effect::Thread {
            notice: Notice::Reopened {
                by: CUSTOMER.to_owned(),
            },
        });
    }
    step.audit(
        CUSTOMER,
        "posted",
        Some(format!("{} {}", post.kind.key(), post.id)),
    );
    step.effect(Effect::Thread {
        notice: Notice::CustomerPost {
            post: post.id.clone(),
        },
    });
    off_hours(&mut step, &post.id, ctx);
    step.finish(ctx.config)
}

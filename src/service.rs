//! The service: the one place where a case is read, the engine runs and the
//! result is committed.
//!
//! Every write goes through here, one at a time, so two inputs for the same
//! case can never interleave (bors processes its events serially for the
//! same reason). It translates engine results into store writes (which
//! indexes a step adds) and wakes the dispatcher when effects were queued.
//! Must not hold workflow rules (the engine does) or talk to any network.

use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use tokio::sync::Notify;

use crate::config::Config;
use crate::engine::{
    self, Case, Ctx, DraftKind, Effect, Ingested, Input, Outcome, Platform, Refusal, SocialPost,
    Transition, rules,
};
use crate::store::{Index, OutboxEntry, Store, StoreError, Write};

/// What ingesting one post did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IngestResult {
    /// Seen before: nothing changed (the cursor still advanced).
    Duplicate(u64),
    Opened(u64),
    Joined(u64),
}

/// What applying an input did.
#[derive(Debug, Clone, PartialEq)]
pub enum Applied {
    /// The input changed the case (or queued effects).
    Changed(Box<Transition>),
    /// The input had no effect (e.g. an unrelated reaction, a redelivered event).
    Nothing,
    /// The engine refused; tell the actor why.
    Refused(Refusal),
}

pub struct Service {
    store: Store,
    config: Arc<Config>,
    writer: Mutex<()>,
    wake: Arc<Notify>,
}

impl Service {
    pub fn new(store: Store, config: Arc<Config>) -> Service {
        Service {
            store,
            config,
            writer: Mutex::new(()),
            wake: Arc::new(Notify::new()),
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Notified whenever effects are queued.
    pub fn wake(&self) -> Arc<Notify> {
        Arc::clone(&self.wake)
    }

    fn ctx(&self, now: DateTime<Utc>) -> Ctx<'_> {
        Ctx {
            now,
            config: &self.config,
            lookup: &self.store,
        }
    }

    fn commit(&self, write: &Write<'_>) -> Result<(), StoreError> {
        let queued = self.store.commit(write)?;
        if !queued.is_empty() {
            self.wake.notify_one();
        }
        Ok(())
    }

    /// Ingests one post; `cursor` advances the source's position in the same commit.
    pub fn ingest(
        &self,
        post: &SocialPost,
        cursor: Option<(String, String)>,
        now: DateTime<Utc>,
    ) -> Result<IngestResult, StoreError> {
        let _one_writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let dedupe = post.dedupe_key();
        if let Some(number) = self.store.case_for_post(&dedupe)? {
            if cursor.is_some() {
                self.commit(&Write {
                    cursor,
                    ..Write::default()
                })?;
            }
            return Ok(IngestResult::Duplicate(number));
        }
        let conversation = post.conversation_key();
        let candidate = match self.store.case_for_conversation(&conversation)? {
            Some(n) => self.store.case(n)?,
            None => None,
        };
        let next = self.store.next_case_number()?;
        let (transition, result) =
            match engine::ingest(post, candidate.as_ref(), next, &self.ctx(now)) {
                Ingested::Duplicate => {
                    let number = candidate.map_or(0, |c| c.number);
                    return Ok(IngestResult::Duplicate(number));
                }
                Ingested::Opened(t) => {
                    let n = t.case.number;
                    (t, IngestResult::Opened(n))
                }
                Ingested::Joined(t) => {
                    let n = t.case.number;
                    (t, IngestResult::Joined(n))
                }
            };
        self.commit(&Write {
            case: Some(&transition.case),
            audit: &transition.audit,
            effects: &transition.effects,
            indexes: vec![Index::Post(dedupe), Index::Conversation(conversation)],
            cursor,
            ..Write::default()
        })?;
        tracing::debug!(case = transition.case.number, post = %post.id, ?result, "Post ingested.");
        Ok(result)
    }

    /// Applies one input to case `number`. `seen` is the inbound event id, if
    /// the chat gave one: a redelivered event changes nothing.
    pub fn apply(
        &self,
        number: u64,
        input: Input,
        seen: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Option<Applied>, StoreError> {
        let _one_writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(event) = &seen
            && self.store.seen(event)?
        {
            return Ok(Some(Applied::Nothing));
        }
        let Some(case) = self.store.case(number)? else {
            return Ok(None);
        };
        let indexes = indexes_for(&input, &case);
        let transition = match engine::apply(&case, input, &self.ctx(now)) {
            Ok(t) => t,
            Err(refusal) => return Ok(Some(Applied::Refused(refusal))),
        };
        if transition.is_noop(&case) && transition.answer.is_none() {
            return Ok(Some(Applied::Nothing));
        }
        let mut indexes = indexes;
        indexes.extend(published_indexes(&case, &transition.case, &self.config));
        self.commit(&Write {
            case: Some(&transition.case),
            audit: &transition.audit,
            effects: &transition.effects,
            indexes,
            seen,
            ..Write::default()
        })?;
        Ok(Some(Applied::Changed(Box::new(transition))))
    }

    /// Completes an outbox entry: records its outcome (through the engine) and
    /// removes the entry, in one commit.
    pub fn complete(
        &self,
        entry: &OutboxEntry,
        outcome: Option<Outcome>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let _one_writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let case = self.store.case(entry.case)?;
        let (Some(case), Some(outcome)) = (case, outcome) else {
            return self.commit(&Write {
                done: Some(entry.id),
                ..Write::default()
            });
        };
        let input = Input::Outcome(outcome);
        let mut indexes = indexes_for(&input, &case);
        // Outcomes are facts, never refused; a refusal here would be a bug.
        let transition = match engine::apply(&case, input, &self.ctx(now)) {
            Ok(t) => t,
            Err(refusal) => {
                tracing::error!(
                    case = case.number,
                    ?refusal,
                    "Engine refused an effect outcome."
                );
                return self.commit(&Write {
                    done: Some(entry.id),
                    ..Write::default()
                });
            }
        };
        indexes.extend(published_indexes(&case, &transition.case, &self.config));
        self.commit(&Write {
            case: Some(&transition.case),
            audit: &transition.audit,
            effects: &transition.effects,
            indexes,
            done: Some(entry.id),
            ..Write::default()
        })
    }

    /// Runs the timed sweep over every active case. Returns how many changed.
    pub fn sweep(&self, now: DateTime<Utc>) -> Result<usize, StoreError> {
        let numbers: Vec<u64> = self
            .store
            .active_cases()
            .filter_map(|c| c.ok())
            .filter(|c| needs_sweep(c, now))
            .map(|c| c.number)
            .collect();
        let mut changed = 0;
        for number in numbers {
            if let Some(Applied::Changed(_)) = self.apply(number, Input::Sweep, None, now)? {
                changed += 1;
            }
        }
        Ok(changed)
    }
}

fn needs_sweep(case: &Case, now: DateTime<Utc>) -> bool {
    case.snoozed_until.is_some_and(|u| u <= now)
        || (!case.sla.breached
            && case.sla.first_response_at.is_none()
            && case.sla.first_response_due <= now)
}

/// Index entries an input adds besides the case itself.
fn indexes_for(input: &Input, case: &Case) -> Vec<Index> {
    match input {
        Input::Outcome(Outcome::CardPosted { thread, .. }) => vec![Index::Thread(thread.clone())],
        Input::Outcome(Outcome::DraftShown { draft, message }) if case.draft(draft).is_some() => {
            vec![Index::Message {
                message: message.clone(),
                draft: draft.clone(),
            }]
        }
        _ => Vec::new(),
    }
}

/// Public texts that became published in this step (for X's duplicate rule).
fn published_indexes(before: &Case, after: &Case, config: &Config) -> Vec<Index> {
    let platform = rules::rules_platform(config.account(&after.account), after.platform);
    if platform != Platform::X {
        return Vec::new();
    }
    after
        .drafts
        .iter()
        .filter(|d| d.kind == DraftKind::Public && d.state == engine::DraftState::Published)
        .filter(|d| {
            before
                .draft(&d.id)
                .is_none_or(|b| b.state != engine::DraftState::Published)
        })
        .map(|d| Index::Published {
            account: after.account.clone(),
            text: rules::normalized(&d.text),
        })
        .collect()
}

/// Effects that a dispatcher should skip because the case moved on.
pub fn still_wanted(case: &Case, effect: &Effect) -> bool {
    match effect {
        // Publish only what is still approved: a withdrawn approval or a
        // publication that already happened must not go out (again).
        Effect::Publish { draft } => case
            .draft(draft)
            .is_some_and(|d| d.state == engine::DraftState::Approved),
        _ => true,
    }
}

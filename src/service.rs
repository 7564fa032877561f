//! The service: the one place where a case is read, the engine runs and the
//! result is committed.
//!
//! Every write goes through here, one at a time, so two inputs for the same
//! case can never interleave (bors processes its events serially for the
//! same reason). It translates engine results into store writes (which
//! indexes a step adds) and wakes the dispatcher when effects were queued.
//! Must not hold workflow rules (the engine does) or talk to any network.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use tokio::sync::Notify;

use crate::config::Config;
use crate::engine::{
    self, Case, Ctx, DraftKind, DraftState, Effect, Ingested, Input, Notice, Outcome, Refusal,
    SocialPost, Transition, rules,
};
use crate::metrics;
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
    /// The input changed the case (or queued effects), or has an answer for the actor.
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
        self.commit_all(std::slice::from_ref(write))
    }

    fn commit_all(&self, writes: &[Write<'_>]) -> Result<(), StoreError> {
        let queued = self.store.commit_all(writes)?;
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
        let results = self.ingest_page(std::slice::from_ref(post), cursor, now)?;
        Ok(results
            .first()
            .copied()
            .unwrap_or(IngestResult::Duplicate(0)))
    }

    /// Ingests a page of posts (a poll page, a webhook batch) in one commit,
    /// with the source's cursor; returns what happened to each post, in order.
    pub fn ingest_page(
        &self,
        posts: &[SocialPost],
        cursor: Option<(String, String)>,
        now: DateTime<Utc>,
    ) -> Result<Vec<IngestResult>, StoreError> {
        let _one_writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let store = &self.store;
        let ctx = self.ctx(now);
        // What this page did so far, seen before the store has it.
        let mut page_posts: HashMap<String, u64> = HashMap::new();
        let mut page_conversations: HashMap<String, u64> = HashMap::new();
        let mut page_cases: HashMap<u64, Case> = HashMap::new();
        let mut steps: Vec<(Transition, Vec<Index>)> = Vec::new();
        let mut results = Vec::with_capacity(posts.len());
        let mut next = store.next_case_number()?;
        for post in posts {
            let dedupe = post.dedupe_key();
            let known = match page_posts.get(&dedupe) {
                Some(n) => Some(*n),
                None => store.case_for_post(&dedupe)?,
            };
            if let Some(number) = known {
                results.push(IngestResult::Duplicate(number));
                continue;
            }
            let conversation = post.conversation_key();
            let candidate = match page_conversations.get(&conversation) {
                Some(n) => page_cases.get(n).cloned(),
                None => match store.case_for_conversation(&conversation)? {
                    Some(n) => store.case(n)?,
                    None => None,
                },
            };
            let (transition, result) = match engine::ingest(post, candidate.as_ref(), next, &ctx) {
                Ingested::Duplicate => {
                    results.push(IngestResult::Duplicate(candidate.map_or(0, |c| c.number)));
                    continue;
                }
                Ingested::Opened(t) => {
                    next += 1;
                    let n = t.case.number;
                    (t, IngestResult::Opened(n))
                }
                Ingested::Joined(t) => {
                    let n = t.case.number;
                    (t, IngestResult::Joined(n))
                }
            };
            let number = transition.case.number;
            tracing::debug!(case = number, post = %post.id, ?result, "Post ingested.");
            page_posts.insert(dedupe.clone(), number);
            page_conversations.insert(conversation.clone(), number);
            page_cases.insert(number, transition.case.clone());
            steps.push((
                transition,
                vec![Index::Post(dedupe), Index::Conversation(conversation)],
            ));
            results.push(result);
        }
        let mut writes: Vec<Write<'_>> = steps
            .iter_mut()
            .map(|(t, indexes)| Write {
                case: Some(&t.case),
                audit: &t.audit,
                effects: &t.effects,
                indexes: std::mem::take(indexes),
                ..Write::default()
            })
            .collect();
        if cursor.is_some() {
            writes.push(Write {
                cursor,
                ..Write::default()
            });
        }
        if !writes.is_empty() {
            self.commit_all(&writes)?;
        }
        let new = |(_, r): &(&SocialPost, &IngestResult)| !matches!(r, IngestResult::Duplicate(_));
        posts
            .iter()
            .zip(&results)
            .filter(new)
            .for_each(|(p, _)| metrics::ingested(p.platform));
        Ok(results)
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
            Err(refusal) => {
                // A redelivered event must not be refused (and told) twice.
                if seen.is_some() {
                    self.commit(&Write {
                        seen,
                        ..Write::default()
                    })?;
                }
                return Ok(Some(Applied::Refused(refusal)));
            }
        };
        if transition.is_noop(&case) {
            // Nothing to store but, for a redelivery's sake, the event id.
            if seen.is_some() {
                self.commit(&Write {
                    seen,
                    ..Write::default()
                })?;
            }
            return Ok(Some(match transition.answer {
                Some(_) => Applied::Changed(Box::new(transition)),
                None => Applied::Nothing,
            }));
        }
        self.commit_step(&case, &transition, indexes, seen, None)?;
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
        let indexes = indexes_for(&input, &case);
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
        self.commit_step(&case, &transition, indexes, None, Some(entry.id))
    }

    /// Commits one engine step on an existing case with its index entries,
    /// the inbound event it handled and the outbox entry it completes.
    fn commit_step(
        &self,
        before: &Case,
        transition: &Transition,
        mut indexes: Vec<Index>,
        seen: Option<String>,
        done: Option<u64>,
    ) -> Result<(), StoreError> {
        indexes.extend(published_indexes(before, &transition.case));
        self.commit(&Write {
            case: Some(&transition.case),
            audit: &transition.audit,
            effects: &transition.effects,
            indexes,
            seen,
            done,
            ..Write::default()
        })?;
        observe(before, transition);
        Ok(())
    }

    /// What the sweep at `now` would tell the queues, case by case (only cases with news).
    pub fn alerts(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<(Case, Vec<engine::Alert>)>, StoreError> {
        let mut news = Vec::new();
        for case in self.store.active_cases() {
            let case = case?;
            let alerts = engine::alerts(&case, now, &self.config);
            if !alerts.is_empty() {
                news.push((case, alerts));
            }
        }
        Ok(news)
    }

    /// Runs the timed sweep over every active case but the `untold` ones (whose news the team
    /// has not heard yet: they wait for the next pass). Returns how many changed.
    pub fn sweep(&self, now: DateTime<Utc>, untold: &BTreeSet<u64>) -> Result<usize, StoreError> {
        let numbers: Vec<u64> = self
            .store
            .active_cases()
            .filter_map(|c| c.ok())
            .filter(|c| !untold.contains(&c.number) && engine::sweep_due(c, now, &self.config))
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

/// Counts what a committed step did that the metrics follow. Counted here, from the state
/// change, rather than where the call was made: a step commits once, however many attempts
/// and redeliveries led to it.
fn observe(before: &Case, transition: &Transition) {
    let after = &transition.case;
    if before.sla.first_response_at.is_none()
        && let Some(at) = after.sla.first_response_at
    {
        metrics::first_response((at - after.opened_at).num_milliseconds() as f64 / 1000.0);
    }
    for effect in &transition.effects {
        if let Effect::Thread {
            notice: Notice::SlaBreached { target },
        } = effect
        {
            // The urgency the target was set for, before a breach may raise it.
            metrics::sla_breached(before.urgency, *target);
        }
    }
    for draft in &after.drafts {
        let was = before.draft(&draft.id).map(|d| d.state);
        match draft.state {
            DraftState::Published if was != Some(DraftState::Published) => {
                metrics::published(after.platform)
            }
            DraftState::Failed if was != Some(DraftState::Failed) => {
                metrics::publish_failed(after.platform)
            }
            _ => {}
        }
    }
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

/// What drafts published in this step add: their public texts, so the engine can refuse to
/// send the same text twice where a network forbids that; and their network ids as posts of
/// the case, so that a customer's answer to our reply finds its case (Mastodon gives no
/// thread id) and our own post, if a network delivers it back, is not taken for a new one.
fn published_indexes(before: &Case, after: &Case) -> Vec<Index> {
    let mut indexes = Vec::new();
    let newly = after
        .drafts
        .iter()
        .filter(|d| d.state == engine::DraftState::Published)
        .filter(|d| {
            before
                .draft(&d.id)
                .is_none_or(|b| b.state != engine::DraftState::Published)
        });
    for draft in newly {
        if draft.kind == DraftKind::Public {
            indexes.push(Index::Published {
                account: after.account.clone(),
                text: rules::normalized(&draft.text),
            });
        }
        if let Some(id) = &draft.published_id {
            indexes.push(Index::Post(engine::post_key(
                after.platform,
                &after.account,
                id,
            )));
        }
    }
    indexes
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::engine::{Author, CanDm, Effect, Platform, PostKind};

    fn service(dir: &std::path::Path) -> Service {
        let config = Config::from_toml_str(
            "[[accounts]]\nid = \"a\"\nnetwork = \"demo\"\nsimulate = \"x\"\n",
            dir,
            &|_| None,
        )
        .unwrap();
        let store = Store::open(&dir.join("data"), std::time::Duration::from_millis(100)).unwrap();
        Service::new(store, Arc::new(config))
    }

    fn post(id: &str, author: &str, conversation: &str) -> SocialPost {
        SocialPost {
            platform: Platform::Demo,
            account: "a".into(),
            id: id.into(),
            conversation_id: conversation.into(),
            author: Author {
                id: author.into(),
                handle: author.into(),
                name: None,
            },
            kind: PostKind::Mention,
            text: format!("post {id}"),
            permalink: None,
            created_at: Utc::now(),
            can_dm: CanDm::Unknown,
            reply_by: None,
            queue: None,
            parent: None,
            reference: None,
        }
    }

    #[test]
    fn a_page_joins_follow_ups_and_drops_duplicates_within_itself() {
        let dir = tempfile::tempdir().unwrap();
        let service = service(dir.path());
        let page = [
            post("1", "ann", "c1"),
            post("2", "bob", "c2"),
            post("3", "ann", "c1"),
            post("1", "ann", "c1"),
        ];
        let results = service
            .ingest_page(&page, Some(("src".into(), "4".into())), Utc::now())
            .unwrap();
        assert_eq!(
            results,
            [
                IngestResult::Opened(1),
                IngestResult::Opened(2),
                IngestResult::Joined(1),
                IngestResult::Duplicate(1)
            ]
        );
        let store = service.store();
        assert_eq!(store.case(1).unwrap().unwrap().posts.len(), 2);
        assert_eq!(store.case(2).unwrap().unwrap().posts.len(), 1);
        assert_eq!(store.next_case_number().unwrap(), 3);
        assert_eq!(store.cursor("src").unwrap().as_deref(), Some("4"));
        // Case 1: card + follow-up notice; case 2: card. In order per case.
        let outbox = store.outbox().unwrap();
        let of_case_1: Vec<&Effect> = outbox
            .iter()
            .filter(|e| e.case == 1)
            .map(|e| &e.effect)
            .collect();
        assert!(
            matches!(of_case_1.as_slice(), [Effect::Card, Effect::Thread { .. }]),
            "{of_case_1:?}"
        );
        assert_eq!(outbox.iter().filter(|e| e.case == 2).count(), 1);
        // The same page again changes nothing.
        let again = service.ingest_page(&page, None, Utc::now()).unwrap();
        assert!(
            again
                .iter()
                .all(|r| matches!(r, IngestResult::Duplicate(_)))
        );
        assert_eq!(store.outbox().unwrap().len(), outbox.len());
    }
}

//! The dispatcher: performs the outbox's effects through the chat surface and
//! the social publishers, and records their outcomes.
//!
//! Work on one case is serial and in order (the card exists before anything
//! is posted in its thread); different cases run concurrently. Retryable
//! failures back off exponentially with jitter (or as long as the platform's
//! Retry-After says); an entry leaves the outbox only in the same commit that
//! records its outcome, so a crash at any point repeats at most an attempt
//! whose result is unknown — and before repeating a publication the
//! publisher is asked whether the earlier attempt went through. Must not
//! decide workflow: outcomes go back through the engine.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::chat::{Attempt, ChatSurface};
use crate::engine::still_wanted;
use crate::engine::{Case, Effect, Input, NetworkAction, Outcome};
use crate::service::Service;
use crate::social::{ActRequest, Networks, PublishRequest};
use crate::store::OutboxEntry;
use crate::text;

/// A boxed future, so the surface and publisher traits stay object-safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why an effect could not be performed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryError {
    /// Worth trying again (network trouble, rate limit, 5xx).
    pub retryable: bool,
    /// The platform's reason, as the agent should read it.
    pub reason: String,
    /// How long the platform asked us to wait.
    pub retry_after: Option<Duration>,
    /// A problem with the bot's setup the team must hear about beyond the case thread (a
    /// token the network no longer accepts): raised in the chat's default channel.
    pub alert: Option<String>,
}

impl DeliveryError {
    pub fn retryable(reason: impl Into<String>) -> Self {
        DeliveryError {
            retryable: true,
            reason: reason.into(),
            retry_after: None,
            alert: None,
        }
    }

    pub fn permanent(reason: impl Into<String>) -> Self {
        DeliveryError {
            retryable: false,
            reason: reason.into(),
            retry_after: None,
            alert: None,
        }
    }

    /// The same failure, also raised as an alert for the team.
    pub fn with_alert(mut self, alert: impl Into<String>) -> Self {
        self.alert = Some(alert.into());
        self
    }
}

/// Attempts before a retryable failure is treated as final.
pub const MAX_ATTEMPTS: u32 = 10;
/// How long a wake waits for more work to arrive before the outbox is read again.
const WAKE_GATHER: Duration = Duration::from_millis(10);
/// Concurrently worked cases.
const MAX_IN_FLIGHT: usize = 16;

/// Delay after the `attempts`-th failed attempt: 1 s doubling to at most
/// 10 min, ±20 % jitter; with a Retry-After, that long (plus up to a second).
pub fn backoff(attempts: u32, retry_after: Option<Duration>) -> Duration {
    let doublings = attempts.saturating_sub(1).min(10);
    let base = Duration::from_secs(1u64 << doublings).min(Duration::from_secs(600));
    let jitter = 0.8 + fastrand::f64() * 0.4;
    let delay = base.mul_f64(jitter);
    retry_after.map_or(delay, |r| r.max(delay.min(r + Duration::from_secs(1))))
}

pub struct Dispatcher {
    service: Arc<Service>,
    chat: Arc<dyn ChatSurface>,
    networks: Arc<Networks>,
    /// The newest outbox id left by an earlier process.
    inherited: Option<u64>,
    alerts: Arc<Alerts>,
}

/// How often the same alert may be raised: a broken token fails every publication, and
/// the team needs to hear it once, not once per draft.
const ALERT_REPEAT: std::time::Duration = std::time::Duration::from_secs(3600);

/// Alerts raised lately, by text.
#[derive(Default)]
struct Alerts(std::sync::Mutex<HashMap<String, std::time::Instant>>);

impl Alerts {
    /// True when `text` was not raised within the hour (and is now).
    fn fresh(&self, text: &str) -> bool {
        let mut raised = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if raised
            .get(text)
            .is_some_and(|at| at.elapsed() < ALERT_REPEAT)
        {
            return false;
        }
        raised.insert(text.to_owned(), std::time::Instant::now());
        true
    }
}

impl Dispatcher {
    /// Call before anything new is written: what the outbox holds now was
    /// left by an earlier process, which may have performed it just before
    /// it died, so the first attempt here is an uncertain one.
    pub fn new(service: Arc<Service>, chat: Arc<dyn ChatSurface>, networks: Arc<Networks>) -> Self {
        let inherited = match service.store().outbox() {
            Ok(entries) => entries.iter().map(|e| e.id).max(),
            Err(_) => Some(u64::MAX),
        };
        Dispatcher {
            service,
            chat,
            networks,
            inherited,
            alerts: Arc::default(),
        }
    }

    /// Runs until `shutdown` turns true, then lets in-flight effects finish.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let wake = self.service.wake();
        let inherited = self.inherited;
        let mut in_flight: HashSet<u64> = HashSet::new();
        let mut tasks: JoinSet<u64> = JoinSet::new();
        loop {
            let now = Utc::now();
            let next_due = match self.service.store().outbox() {
                Ok(entries) => {
                    self.start_due(entries, now, inherited, &mut in_flight, &mut tasks)
                        .await
                }
                Err(error) => {
                    tracing::error!(%error, "Cannot read the outbox.");
                    Some(now + TimeDelta::seconds(5))
                }
            };
            let sleep = next_due
                .and_then(|at| (at - Utc::now()).to_std().ok())
                .unwrap_or(Duration::from_secs(60));
            tokio::select! {
                // A burst of commits wakes us once per commit; gather them, since every
                // pass reads the whole outbox.
                _ = wake.notified() => tokio::time::sleep(WAKE_GATHER).await,
                Some(done) = tasks.join_next() => {
                    if let Ok(case) = done {
                        in_flight.remove(&case);
                    }
                }
                _ = tokio::time::sleep(sleep) => {}
                _ = shutdown.changed() => break,
            }
        }
        // Let what is under way finish, so it is recorded rather than repeated.
        let drain = async { while tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(Duration::from_secs(10), drain)
            .await
            .is_err()
        {
            tracing::warn!(
                "Effects still running at shutdown; they will be checked and resumed on restart."
            );
        }
    }

    /// The oldest entry of each idle case, if it is due (at most enough to
    /// fill the free slots); and when the next backed-off entry becomes due.
    fn due(
        entries: Vec<OutboxEntry>,
        now: DateTime<Utc>,
        in_flight: &HashSet<u64>,
    ) -> (Vec<OutboxEntry>, Option<DateTime<Utc>>) {
        let mut heads = HashSet::new();
        let mut next_due: Option<DateTime<Utc>> = None;
        let mut due = Vec::new();
        for entry in entries {
            // Only the oldest entry of a case may run: effects keep their order.
            if !heads.insert(entry.case) || in_flight.contains(&entry.case) {
                continue;
            }
            if let Some(at) = entry.not_before
                && at > now
            {
                next_due = Some(next_due.map_or(at, |n| n.min(at)));
                continue;
            }
            if in_flight.len() + due.len() >= MAX_IN_FLIGHT {
                break;
            }
            due.push(entry);
        }
        (due, next_due)
    }

    /// Starts the due entries; returns when the next backed-off one is due.
    async fn start_due(
        &self,
        entries: Vec<OutboxEntry>,
        now: DateTime<Utc>,
        inherited: Option<u64>,
        in_flight: &mut HashSet<u64>,
        tasks: &mut JoinSet<u64>,
    ) -> Option<DateTime<Utc>> {
        let (due, next_due) = Self::due(entries, now, in_flight);
        if due.is_empty() {
            return next_due;
        }
        // Act only on what is on disk: an effect performed on a state that a
        // crash then loses would be performed again under another id.
        if let Err(error) = self.service.store().flush_async().await {
            tracing::error!(%error, "Cannot flush the store; effects wait.");
            return Some(now + TimeDelta::seconds(1));
        }
        for entry in due {
            in_flight.insert(entry.case);
            let worker = Worker {
                service: Arc::clone(&self.service),
                chat: Arc::clone(&self.chat),
                networks: Arc::clone(&self.networks),
                inherited,
                alerts: Arc::clone(&self.alerts),
            };
            tasks.spawn(async move {
                let case = entry.case;
                worker.run(entry).await;
                case
            });
        }
        next_due
    }
}

struct Worker {
    service: Arc<Service>,
    chat: Arc<dyn ChatSurface>,
    networks: Arc<Networks>,
    /// The newest outbox id left by an earlier process.
    inherited: Option<u64>,
    alerts: Arc<Alerts>,
}

impl Worker {
    async fn run(&self, mut entry: OutboxEntry) {
        let result = self.perform(&entry).await;
        let now = Utc::now();
        if let Err(DeliveryError {
            alert: Some(alert), ..
        }) = &result
            && self.alerts.fresh(alert)
        {
            tracing::error!(case = entry.case, %alert, "Raising an alert for the team.");
            if let Err(error) = self.chat.alert(alert).await {
                tracing::error!(reason = %error.reason, "Cannot raise the alert in the chat.");
            }
        }
        let recorded = match result {
            Ok(outcome) => self.service.complete(&entry, outcome, now),
            Err(error) if error.retryable && entry.attempts + 1 < MAX_ATTEMPTS => {
                entry.attempts += 1;
                let delay = backoff(entry.attempts, error.retry_after);
                entry.not_before = Some(now + TimeDelta::from_std(delay).unwrap_or(TimeDelta::MAX));
                entry.last_error = Some(error.reason.clone());
                tracing::warn!(case = entry.case, entry = entry.id, attempts = entry.attempts, reason = %error.reason, delay_s = delay.as_secs(), "Effect failed; will retry.");
                let rescheduled = self.service.store().reschedule(&entry);
                // A late reply is news for its owner, once: the first time it is held up.
                if entry.attempts == 1
                    && let Effect::Publish { draft } = &entry.effect
                {
                    let late = Outcome::PublishDelayed {
                        draft: draft.clone(),
                        reason: error.reason.clone(),
                    };
                    if let Err(e) = self
                        .service
                        .apply(entry.case, Input::Outcome(late), None, now)
                    {
                        tracing::warn!(case = entry.case, error = %e, "Cannot tell the thread a reply is late.");
                    }
                }
                rescheduled
            }
            Err(error) => {
                tracing::error!(case = entry.case, entry = entry.id, attempts = entry.attempts + 1, reason = %error.reason, "Effect failed for good.");
                let outcome = match &entry.effect {
                    Effect::Publish { draft } => Some(Outcome::PublishFailed {
                        draft: draft.clone(),
                        reason: error.reason,
                    }),
                    Effect::Act { action, by } => Some(Outcome::ActFailed {
                        action: action.clone(),
                        by: by.clone(),
                        reason: error.reason,
                    }),
                    // A chat message that cannot be posted has nowhere else to go.
                    _ => None,
                };
                self.service.complete(&entry, outcome, now)
            }
        };
        if let Err(error) = recorded {
            tracing::error!(case = entry.case, entry = entry.id, %error, "Cannot record an effect's result; it will be retried.");
        }
    }

    async fn perform(&self, entry: &OutboxEntry) -> Result<Option<Outcome>, DeliveryError> {
        let store = self.service.store();
        let case = store
            .case(entry.case)
            .map_err(|e| DeliveryError::retryable(e.to_string()))?;
        let Some(case) = case else {
            return Ok(None);
        };
        if !still_wanted(&case, &entry.effect) {
            tracing::info!(case = case.number, effect = ?entry.effect, "Effect no longer wanted; skipped.");
            return Ok(None);
        }
        let attempt = Attempt {
            key: format!("effect-{}", entry.id),
            uncertain: entry.attempts > 0 || self.inherited.is_some_and(|last| entry.id <= last),
        };
        let mention = |user: &str| self.chat.mention(user);
        let config = self.service.config();
        match &entry.effect {
            Effect::Card => {
                let simulated = config
                    .account(&case.account)
                    .and_then(|a| a.demo().map(|d| d.platform));
                let card = text::card(&case, simulated, Utc::now(), config.bot.timezone, &mention);
                match &case.chat {
                    None => {
                        let thread = self.chat.post_card(&attempt, &case, &card).await?;
                        Ok(Some(Outcome::CardPosted {
                            thread: thread.thread,
                            card: thread.card,
                        }))
                    }
                    Some(thread) => {
                        self.chat
                            .update_card(&attempt, &case, thread, &card)
                            .await?;
                        Ok(None)
                    }
                }
            }
            Effect::Thread { notice } => {
                let thread = thread_of(&case)?;
                let simulated = config
                    .account(&case.account)
                    .and_then(|a| a.demo().map(|d| d.platform));
                let body = text::notice_on(&case, notice, simulated, &mention);
                self.chat.post(&attempt, &case, thread, &body).await?;
                Ok(None)
            }
            Effect::ShowDraft { draft } => {
                let thread = thread_of(&case)?;
                let Some(d) = case.draft(draft) else {
                    return Ok(None);
                };
                let approve = config.approval.approve.first().map_or("✅", String::as_str);
                let reject = config.approval.reject.first().map_or("❌", String::as_str);
                let body = text::draft(&case, d, approve, reject, &mention);
                let message = self.chat.post(&attempt, &case, thread, &body).await?;
                Ok(Some(Outcome::DraftShown {
                    draft: draft.clone(),
                    message,
                }))
            }
            Effect::Publish { draft } => self.publish(&attempt, &case, draft).await,
            Effect::Act { action, by } => self.act(&case, action, by).await,
        }
    }

    /// Likes, unlikes, reposts or deletes. Publishers make actions idempotent, so an
    /// uncertain earlier attempt needs no lookup first.
    async fn act(
        &self,
        case: &Case,
        action: &NetworkAction,
        by: &str,
    ) -> Result<Option<Outcome>, DeliveryError> {
        let Some(publisher) = self.networks.get(&case.account) else {
            return Err(DeliveryError::permanent(text::account_missing(
                &case.account,
            )));
        };
        let request = ActRequest {
            account: case.account.clone(),
            case: case.number,
            action: action.clone(),
            target: action.post().and_then(|p| case.post(p)).cloned(),
        };
        // A refusal goes back to `run`, which records it as ActFailed (and raises its alert).
        publisher.act(&request).await.map(|()| {
            Some(Outcome::Acted {
                action: action.clone(),
                by: by.to_owned(),
            })
        })
    }

    async fn publish(
        &self,
        attempt: &Attempt,
        case: &Case,
        draft: &str,
    ) -> Result<Option<Outcome>, DeliveryError> {
        let Some(publisher) = self.networks.get(&case.account) else {
            return Err(DeliveryError::permanent(text::account_missing(
                &case.account,
            )));
        };
        let Some(request) = PublishRequest::new(case, draft) else {
            return Ok(None);
        };
        // The draft id is the idempotency key: however many outbox entries
        // try to publish it, the network sees one publication.
        let key = format!("{}/{}", case.account, draft);
        if attempt.uncertain
            && let Some(id) = publisher.find(&key, &request).await?
        {
            tracing::info!(
                case = case.number,
                draft,
                id,
                "Earlier attempt had published; recorded."
            );
            return Ok(Some(Outcome::Published {
                draft: draft.to_owned(),
                id,
            }));
        }
        // A refusal goes back to `run`, which records it as PublishFailed (and raises its
        // alert).
        publisher.publish(&key, &request).await.map(|id| {
            Some(Outcome::Published {
                draft: draft.to_owned(),
                id,
            })
        })
    }
}

fn thread_of(case: &Case) -> Result<&crate::engine::ChatThread, DeliveryError> {
    // The card is always the case's first effect; until it is posted there is no thread.
    case.chat
        .as_ref()
        .ok_or_else(|| DeliveryError::retryable("the case card is not posted yet"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_caps_and_honours_retry_after() {
        for attempts in 0..20 {
            let d = backoff(attempts, None);
            assert!(d <= Duration::from_secs(720), "{attempts}: {d:?}");
        }
        assert!(backoff(1, None) < backoff(6, None));
        assert!(backoff(1, Some(Duration::from_secs(30))) >= Duration::from_secs(30));
    }
}

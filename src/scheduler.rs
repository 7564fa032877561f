//! Timed work from `[[jobs]]` cron lines.
//!
//! Each job remembers the last slot it ran for (in the store, as a cursor),
//! so a restart never runs a slot twice, and after downtime the missed slots
//! collapse into a single run. What a job does is the service's (and so the
//! engine's) business, or for a digest the pure [`Report`] posted through the
//! chat surface; this module only decides when, and when a slot counts as done.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use cron::Schedule;
use tokio::sync::watch;

use crate::chat::{Attempt, ChatSurface};
use crate::config::{Config, CrontabError, DigestJob, JobConfig, JobKind, parse_crontab};
use crate::engine::{self, Alert, Case};
use crate::report::Report;
use crate::service::Service;
use crate::store::{StoreError, Write};
use crate::text;

/// Runs every minute when the config has no sweep job: snoozes must end and
/// SLA breaches must show even in a minimal config.
pub const DEFAULT_SWEEP: &str = "* * * * *";

/// The latest slot in `(last, now]`, if any: that slot is due now. Missed
/// slots before it are not run separately.
pub fn due_slot(
    schedule: &Schedule,
    tz: Tz,
    last: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    schedule
        .after(&last.with_timezone(&tz))
        .map(|t| t.with_timezone(&Utc))
        .take_while(|t| *t <= now)
        .last()
}

/// The jobs to run: the configured ones, plus a sweep every minute when
/// none is configured.
pub fn jobs(config: &Config) -> Result<Vec<JobConfig>, CrontabError> {
    let mut jobs = config.jobs.clone();
    if !jobs.iter().any(|j| j.kind == JobKind::Sweep) {
        jobs.push(JobConfig {
            name: "sweep".to_owned(),
            cron: DEFAULT_SWEEP.to_owned(),
            schedule: parse_crontab(DEFAULT_SWEEP)?,
            timezone: config.bot.timezone,
            kind: JobKind::Sweep,
            digest: None,
        });
    }
    Ok(jobs)
}

fn cursor(job: &JobConfig) -> String {
    format!("job:{}", job.name)
}

fn last_run(service: &Service, job: &JobConfig) -> Option<DateTime<Utc>> {
    let raw = service.store().cursor(&cursor(job)).ok().flatten()?;
    DateTime::parse_from_rfc3339(&raw)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn remember(service: &Service, job: &JobConfig, slot: DateTime<Utc>) {
    let write = Write {
        cursor: Some((cursor(job), slot.to_rfc3339())),
        ..Write::default()
    };
    if let Err(error) = service.store().commit(&write) {
        tracing::error!(job = %job.name, %error, "Cannot record a job run; it may run again.");
    }
}

/// Does a job's work for `slot`. Returns whether the slot is done (its cursor may advance);
/// `false` leaves it due, so the next pass tries again.
async fn perform(
    service: &Service,
    chat: &dyn ChatSurface,
    job: &JobConfig,
    slot: DateTime<Utc>,
    now: DateTime<Utc>,
    retrying: &mut HashSet<String>,
) -> bool {
    match (job.kind, &job.digest) {
        (JobKind::Sweep, _) => {
            let swept = match tell_queues(service, chat, job, slot, now, retrying).await {
                Ok(untold) => service.sweep(now, &untold).map(|changed| (changed, untold)),
                Err(error) => Err(error),
            };
            match swept {
                Ok((changed, untold)) => {
                    tracing::debug!(job = %job.name, changed, untold = untold.len(), "Sweep done.");
                    // Cases whose queue did not hear of them wait for the next pass.
                    untold.is_empty()
                }
                Err(error) => {
                    tracing::error!(job = %job.name, %error, "Sweep failed; will retry.");
                    false
                }
            }
        }
        (JobKind::Digest, Some(digest)) => {
            post_digest(service, chat, job, digest, slot, retrying).await
        }
        (JobKind::Digest, None) => {
            // The config check gives every digest job its settings; nothing to post without.
            tracing::error!(job = %job.name, "Digest job without settings; skipped.");
            true
        }
    }
}

/// Computes the report for the `period` ending at `slot` and posts it to the job's queue.
async fn post_digest(
    service: &Service,
    chat: &dyn ChatSurface,
    job: &JobConfig,
    digest: &DigestJob,
    slot: DateTime<Utc>,
    retrying: &mut HashSet<String>,
) -> bool {
    let cases = match service.store().cases().collect::<Result<Vec<Case>, _>>() {
        Ok(cases) => cases,
        Err(error) => {
            tracing::error!(job = %job.name, %error, "Cannot read the cases for a digest; will retry.");
            return false;
        }
    };
    let period = TimeDelta::from_std(digest.period).unwrap_or(TimeDelta::days(1));
    let report = Report::compute(&cases, slot - period, slot);
    let body = text::report::digest(&report, job.timezone);
    // One key per job and slot: the console journal (and Discord's nonce) recognise a repeat.
    let key = format!("digest-{}-{}", job.name, slot.timestamp());
    let done = post_team(chat, retrying, key, &digest.queue, &body, true, job).await;
    if done {
        tracing::info!(job = %job.name, queue = %digest.queue, %slot, opened = report.opened, "Digest handled.");
    }
    done
}

/// Posts `body` (`aligned` for a table, see [`ChatSurface::post_channel`]) to `queue`'s
/// channel as the attempt `key`; whether the slot may count as done (posted, or refused for good), rather than tried again at the next pass.
async fn post_team(
    chat: &dyn ChatSurface,
    retrying: &mut HashSet<String>,
    key: String,
    queue: &str,
    body: &str,
    aligned: bool,
    job: &JobConfig,
) -> bool {
    let attempt = Attempt {
        uncertain: retrying.contains(&key),
        key,
    };
    match chat.post_channel(&attempt, queue, body, aligned).await {
        Ok(()) => {
            retrying.remove(&attempt.key);
            true
        }
        Err(error) if error.retryable => {
            tracing::warn!(job = %job.name, %queue, reason = %error.reason, "Cannot post to the team; will retry.");
            retrying.insert(attempt.key);
            false
        }
        Err(error) => {
            // Refused for good (no such channel, no permission): retrying every minute would
            // only repeat the refusal, so this slot is given up, loudly; the next slot tries
            // again after the setup is fixed.
            tracing::error!(job = %job.name, %queue, reason = %error.reason, "The chat refused a post to the team; skipping this slot.");
            retrying.remove(&attempt.key);
            true
        }
    }
}

/// Tells each queue, in one message per sweep, which of its cases are due soon, late or
/// unclaimed (and the `[sla.breach] channel` queue every breach). Returns the cases whose
/// news did not get through: the sweep leaves them unmarked, so the next pass finds the same
/// news and tries those queues again (and only those).
async fn tell_queues(
    service: &Service,
    chat: &dyn ChatSurface,
    job: &JobConfig,
    slot: DateTime<Utc>,
    now: DateTime<Utc>,
    retrying: &mut HashSet<String>,
) -> Result<BTreeSet<u64>, StoreError> {
    let news = service.alerts(now)?;
    let config = service.config();
    let mut queues: BTreeMap<&str, Vec<(&Case, &[Alert])>> = BTreeMap::new();
    for (case, alerts) in &news {
        for queue in engine::alert_queues(case, alerts, config) {
            queues.entry(queue).or_default().push((case, alerts));
        }
    }
    let mention = |user: &str| chat.mention(user);
    let mut untold = BTreeSet::new();
    for (queue, items) in queues {
        let on_call = chat.on_call(queue);
        let body = text::queue_alert(
            queue,
            &items,
            &mention,
            on_call.as_deref(),
            config.bot.timezone,
        );
        let key = format!("sweep-{}-{}-{queue}", job.name, slot.timestamp());
        if !post_team(chat, retrying, key, queue, &body, false, job).await {
            untold.extend(items.iter().map(|(case, _)| case.number));
        }
    }
    Ok(untold)
}

/// One pass over the jobs at `now`: runs each job whose slot is due and records the slots
/// done. `retrying` carries, between passes, the digest posts that failed and are tried
/// again (as uncertain attempts, which a surface checks before posting twice).
pub async fn run_due(
    service: &Service,
    chat: &dyn ChatSurface,
    jobs: &[JobConfig],
    now: DateTime<Utc>,
    retrying: &mut HashSet<String>,
) {
    for job in jobs {
        match last_run(service, job) {
            // First start: begin from now, don't invent a run for the past.
            None => remember(service, job, now),
            Some(last) => {
                if let Some(slot) = due_slot(&job.schedule, job.timezone, last, now)
                    && perform(service, chat, job, slot, now, retrying).await
                {
                    // Recorded right after the work, not before: a crash or a failed post
                    // leaves the slot due, and the next pass (or start) does it then. The
                    // price is a small window: a crash between a successful post and this
                    // write posts that digest again at the next start (the console's
                    // journal, keyed by job and slot, still shows it once).
                    remember(service, job, slot);
                }
            }
        }
    }
}

/// Where the scheduler reads the time: the system clock when the bot runs; in tests, one
/// that moves as the test says, so a day of slots passes without waiting a day.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Runs the jobs until shutdown, reading the time from `clock`.
pub async fn run(
    service: Arc<Service>,
    chat: Arc<dyn ChatSurface>,
    jobs: Vec<JobConfig>,
    clock: Arc<dyn Clock>,
    mut shutdown: watch::Receiver<bool>,
) {
    if jobs.is_empty() {
        return;
    }
    let mut retrying = HashSet::new();
    loop {
        let now = clock.now();
        run_due(&service, chat.as_ref(), &jobs, now, &mut retrying).await;
        let next = jobs
            .iter()
            .filter_map(|j| j.schedule.after(&now.with_timezone(&j.timezone)).next())
            .map(|t| t.with_timezone(&Utc))
            .min();
        let wait = next
            .and_then(|t| (t - clock.now()).to_std().ok())
            .unwrap_or(Duration::from_secs(60))
            // Wake at least every minute: clock jumps and suspends happen.
            .min(Duration::from_secs(60))
            + Duration::from_millis(5);
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.changed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .map(|d| d.with_timezone(&Utc))
            .unwrap_or_default()
    }

    #[test]
    fn missed_slots_collapse_into_one() -> Result<(), cron::error::Error> {
        let every_hour = Schedule::from_str("0 0 * * * *")?;
        let last = utc("2026-11-23T08:00:00Z");
        // Down from 08:00 to 11:30: one run, for the 11:00 slot.
        assert_eq!(
            due_slot(&every_hour, Tz::UTC, last, utc("2026-11-23T11:30:00Z")),
            Some(utc("2026-11-23T11:00:00Z"))
        );
        // The slot already run is not due again.
        assert_eq!(
            due_slot(
                &every_hour,
                Tz::UTC,
                utc("2026-11-23T11:00:00Z"),
                utc("2026-11-23T11:30:00Z")
            ),
            None
        );
        Ok(())
    }

    #[test]
    fn slots_follow_the_job_time_zone() -> Result<(), cron::error::Error> {
        let nine = Schedule::from_str("0 0 9 * * *")?;
        let tz: Tz = "Europe/Paris".parse().unwrap_or(Tz::UTC);
        let slot = due_slot(
            &nine,
            tz,
            utc("2026-11-23T00:00:00Z"),
            utc("2026-11-23T12:00:00Z"),
        );
        assert_eq!(slot, Some(utc("2026-11-23T08:00:00Z")));
        Ok(())
    }

    /// A chat that records what it is asked to post, failing while told to.
    #[derive(Default)]
    struct Recorder {
        posts: std::sync::Mutex<Vec<(Attempt, String, String)>>,
        fail: std::sync::Mutex<Option<DeliveryError>>,
    }

    use crate::dispatch::{BoxFuture, DeliveryError};
    use crate::engine::ChatThread;

    impl ChatSurface for Recorder {
        fn mention(&self, user: &str) -> String {
            format!("@{user}")
        }
        fn post_card<'a>(
            &'a self,
            _: &'a Attempt,
            _: &'a Case,
            _: &'a text::Card,
        ) -> BoxFuture<'a, Result<ChatThread, DeliveryError>> {
            Box::pin(async { Err(DeliveryError::permanent("not in this test")) })
        }
        fn update_card<'a>(
            &'a self,
            _: &'a Attempt,
            _: &'a Case,
            _: &'a ChatThread,
            _: &'a text::Card,
        ) -> BoxFuture<'a, Result<(), DeliveryError>> {
            Box::pin(async { Err(DeliveryError::permanent("not in this test")) })
        }
        fn post<'a>(
            &'a self,
            _: &'a Attempt,
            _: &'a Case,
            _: &'a ChatThread,
            _: &'a str,
        ) -> BoxFuture<'a, Result<String, DeliveryError>> {
            Box::pin(async { Err(DeliveryError::permanent("not in this test")) })
        }
        fn alert<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<(), DeliveryError>> {
            Box::pin(async { Ok(()) })
        }
        fn post_channel<'a>(
            &'a self,
            attempt: &'a Attempt,
            queue: &'a str,
            text: &'a str,
            _aligned: bool,
        ) -> BoxFuture<'a, Result<(), DeliveryError>> {
            Box::pin(async move {
                if let Some(error) = self.fail.lock().unwrap_or_else(|e| e.into_inner()).clone() {
                    return Err(error);
                }
                self.posts.lock().unwrap_or_else(|e| e.into_inner()).push((
                    attempt.clone(),
                    queue.to_owned(),
                    text.to_owned(),
                ));
                Ok(())
            })
        }
    }

    impl Recorder {
        fn posts(&self) -> Vec<(Attempt, String, String)> {
            self.posts.lock().unwrap_or_else(|e| e.into_inner()).clone()
        }
        fn failing(&self, error: Option<DeliveryError>) {
            *self.fail.lock().unwrap_or_else(|e| e.into_inner()) = error;
        }
    }

    /// The scheduler's world in a test: a service over a fresh store configured by `toml`,
    /// its jobs (with the default sweep where none is written), a chat that records what it
    /// is asked to post, and the posts being retried.
    struct Bench {
        _dir: tempfile::TempDir,
        service: Arc<Service>,
        jobs: Vec<JobConfig>,
        chat: Arc<Recorder>,
        retrying: HashSet<String>,
    }

    impl Bench {
        fn new(toml: &str) -> Bench {
            let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
            let config = Config::from_toml_str(toml, dir.path(), &|_| None)
                .unwrap_or_else(|e| panic!("the test config is valid: {e}"));
            let store = crate::store::Store::open(&config.bot.data_dir, Duration::from_millis(10))
                .unwrap_or_else(|e| panic!("{e}"));
            let jobs = jobs(&config).unwrap_or_else(|e| panic!("{e}"));
            Bench {
                _dir: dir,
                service: Arc::new(Service::new(store, Arc::new(config))),
                jobs,
                chat: Arc::new(Recorder::default()),
                retrying: HashSet::new(),
            }
        }

        /// One scheduler pass at `now` (RFC 3339).
        async fn pass(&mut self, now: &str) {
            let chat = self.chat.as_ref();
            run_due(
                &self.service,
                chat,
                &self.jobs,
                utc(now),
                &mut self.retrying,
            )
            .await;
        }

        /// Customers write `texts` to `acme` at `at`, one new case each.
        fn customers_write(&self, at: DateTime<Utc>, texts: &[&str]) {
            for (n, text) in texts.iter().enumerate() {
                let post = post("acme", &(n + 1).to_string(), text, at);
                let ingested = self.service.ingest(&post, None, at);
                assert!(ingested.is_ok(), "{ingested:?}");
            }
        }

        fn last_run(&self) -> Option<DateTime<Utc>> {
            last_run(&self.service, &self.jobs[0])
        }
    }

    /// A daily 09:00 UTC digest to `billing`.
    const DIGEST: &str = r#"
[[accounts]]
id = "acme"
network = "demo"
simulate = "x"

[[jobs]]
name = "daily"
cron = "0 9 * * *"
kind = "digest"
channel = "billing"
period = "24h"
"#;

    #[tokio::test]
    async fn a_digest_posts_once_per_slot_and_retries_a_failed_post() {
        let mut bench = Bench::new(DIGEST);
        let chat = Arc::clone(&bench.chat);

        // First start at 08:00: remembers now, posts nothing.
        bench.pass("2026-03-02T08:00:00Z").await;
        assert!(chat.posts().is_empty());
        // 08:59: nothing due yet.
        bench.pass("2026-03-02T08:59:00Z").await;
        assert!(chat.posts().is_empty());

        // 09:00 slot, the chat down: nothing posted, the slot stays due.
        chat.failing(Some(DeliveryError::retryable("HTTP 503")));
        bench.pass("2026-03-02T09:00:01Z").await;
        assert!(chat.posts().is_empty());
        assert_eq!(
            bench.last_run(),
            Some(utc("2026-03-02T08:00:00Z")),
            "the cursor did not move"
        );

        // A minute later the chat is back: posted once, as an uncertain retry, for the slot.
        chat.failing(None);
        bench.pass("2026-03-02T09:01:00Z").await;
        let posts = chat.posts();
        assert_eq!(posts.len(), 1);
        let (attempt, queue, body) = &posts[0];
        assert_eq!(queue, "billing");
        assert!(attempt.uncertain);
        assert_eq!(
            attempt.key,
            format!("digest-daily-{}", utc("2026-03-02T09:00:00Z").timestamp())
        );
        assert!(
            body.starts_with("Daily digest · Report 2026-03-01 09:00 → 2026-03-02 09:00 (UTC)"),
            "{body}"
        );
        assert_eq!(bench.last_run(), Some(utc("2026-03-02T09:00:00Z")));

        // The same slot is never posted again.
        bench.pass("2026-03-02T09:30:00Z").await;
        assert_eq!(chat.posts().len(), 1);

        // A permanent refusal gives the slot up (no retry every minute) …
        chat.failing(Some(DeliveryError::permanent("channel_not_found")));
        bench.pass("2026-03-03T09:00:00Z").await;
        assert_eq!(bench.last_run(), Some(utc("2026-03-03T09:00:00Z")));
        // … and after two days down, the missed slots collapse into one digest.
        chat.failing(None);
        bench.pass("2026-03-05T12:00:00Z").await;
        let posts = chat.posts();
        assert_eq!(posts.len(), 2);
        assert!(!posts[1].0.uncertain);
        assert!(
            posts[1].2.contains("2026-03-04 09:00 → 2026-03-05 09:00"),
            "{}",
            posts[1].2
        );
    }

    #[tokio::test]
    async fn the_console_shows_a_digest_once_and_journals_it() {
        let bench = Bench::new(DIGEST);
        let data = bench.service.config().bot.data_dir.clone();
        let console = crate::chat::console::Console::new(Box::new(std::io::sink()), &data)
            .unwrap_or_else(|e| panic!("{e}"));
        let attempt = Attempt {
            key: "digest-daily-1".to_owned(),
            uncertain: false,
        };
        for _ in 0..2 {
            let posted = console
                .post_channel(&attempt, "billing", "Daily digest · x", true)
                .await;
            assert!(posted.is_ok());
        }
        let journal = std::fs::read_to_string(data.join("console-journal.jsonl"))
            .unwrap_or_else(|e| panic!("{e}"));
        let records: Vec<serde_json::Value> = journal
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        assert_eq!(
            records,
            vec![
                serde_json::json!({"key": "digest-daily-1", "shown": "channel",
                "queue": "billing", "text": "Daily digest · x"})
            ]
        );
    }

    /// A customer post on `account` at `at`, routed by its text.
    fn post(account: &str, id: &str, text: &str, at: DateTime<Utc>) -> crate::engine::SocialPost {
        use crate::engine::{Author, CanDm, Platform, PostKind};
        crate::engine::SocialPost {
            platform: Platform::Demo,
            account: account.into(),
            id: id.into(),
            conversation_id: format!("conv-{id}"),
            author: Author {
                id: format!("u-{id}"),
                handle: format!("c{id}"),
                name: None,
            },
            kind: PostKind::Mention,
            text: text.into(),
            permalink: None,
            created_at: at,
            can_dm: CanDm::Unknown,
            reply_by: None,
            queue: None,
            parent: None,
            reference: None,
        }
    }

    #[tokio::test]
    async fn a_sweep_tells_each_queue_once_and_retries_only_the_queue_that_missed_it() {
        let mut bench = Bench::new(
            r#"
[[routing]]
name = "billing"
keywords = ["refund"]
queue = "billing"

[[accounts]]
id = "acme"
network = "demo"
simulate = "x"
queue = "social"
"#,
        );
        let chat = Arc::clone(&bench.chat);
        let service = Arc::clone(&bench.service);
        let opened = utc("2026-03-02T08:00:00Z");
        bench.customers_write(opened, &["where is it", "refund please", "hello?"]);
        bench.pass("2026-03-02T08:00:00Z").await;

        // Half an hour on, the chat down: nothing told, nothing recorded.
        chat.failing(Some(DeliveryError::retryable("HTTP 503")));
        bench.pass("2026-03-02T08:31:00Z").await;
        assert!(chat.posts().is_empty());
        assert!(
            service.store().cases().flatten().all(|c| !c.nudged),
            "unmarked until the queue heard"
        );
        // Back: one message per queue, each case once.
        chat.failing(None);
        bench.pass("2026-03-02T08:32:00Z").await;
        let posts = chat.posts();
        let queues: Vec<&str> = posts.iter().map(|(_, q, _)| q.as_str()).collect();
        assert_eq!(queues, ["billing", "social"]);
        assert!(
            posts[1].2.starts_with("🔔 social: 2 cases need attention"),
            "{}",
            posts[1].2
        );
        assert!(
            posts[1]
                .2
                .contains("#1 (nobody owns it): nobody has claimed it")
        );
        assert!(posts[1].2.contains("#3 (nobody owns it)"));
        assert!(posts[0].2.contains("#2 (nobody owns it)"));
        assert!(service.store().cases().flatten().all(|c| c.nudged));
        // The next sweep has nothing new to say.
        bench.pass("2026-03-02T08:33:00Z").await;
        assert_eq!(chat.posts().len(), 2);
    }

    /// Time as tokio's (paused) clock tells it, from `base`.
    struct TokioClock {
        base: DateTime<Utc>,
        start: tokio::time::Instant,
    }

    impl Clock for TokioClock {
        fn now(&self) -> DateTime<Utc> {
            let elapsed = TimeDelta::from_std(self.start.elapsed()).unwrap_or(TimeDelta::zero());
            self.base + elapsed
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_running_scheduler_batches_a_day_of_news_and_survives_a_restart() {
        let bench = Bench::new(
            r#"
[[accounts]]
id = "acme"
network = "demo"
simulate = "x"
queue = "social"
"#,
        );
        // Monday 10:00: two customers write; nobody claims either.
        let base = utc("2026-11-23T10:00:00Z");
        bench.customers_write(base, &["where is my order", "where is my order"]);
        let (service, chat, jobs) = (&bench.service, &bench.chat, &bench.jobs);
        let start = |clock_base: DateTime<Utc>| {
            let (stop, stopped) = watch::channel(false);
            let clock = Arc::new(TokioClock {
                base: clock_base,
                start: tokio::time::Instant::now(),
            });
            let task = tokio::spawn(run(
                Arc::clone(service),
                Arc::clone(chat) as Arc<dyn ChatSurface>,
                jobs.clone(),
                clock,
                stopped,
            ));
            (stop, task)
        };
        // Five hours of minutes go by in no time.
        let (stop, task) = start(base);
        tokio::time::sleep(Duration::from_secs(5 * 3600)).await;
        let _ = stop.send(true);
        let _ = task.await;
        let said: Vec<String> = chat.posts().into_iter().map(|(_, _, text)| text).collect();
        // Unclaimed at 10:30, due soon at 13:45, late at 14:00: three messages, each naming
        // both cases, never one per case or per minute.
        assert_eq!(said.len(), 3, "{said:#?}");
        for text in &said {
            assert!(
                text.starts_with("🔔 social: 2 cases need attention"),
                "{text}"
            );
        }
        assert!(said[0].contains("nobody has claimed it since"));
        assert!(said[1].contains("first response due soon"));
        assert!(said[2].contains("missed its first-response target"));
        // Down all evening and night; back at 09:00 the next day: the missed minutes are one
        // slot, and there is nothing new to say.
        let (stop, task) = start(utc("2026-11-24T09:00:00Z"));
        tokio::time::sleep(Duration::from_secs(120)).await;
        let _ = stop.send(true);
        let _ = task.await;
        assert_eq!(chat.posts().len(), 3);
        let Some(last) = bench.last_run() else {
            panic!("the sweep ran");
        };
        assert!(last >= utc("2026-11-24T09:00:00Z"), "{last}");
    }
}

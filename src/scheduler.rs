//! Timed work from `[[jobs]]` cron lines.
//!
//! Each job remembers the last slot it ran for (in the store, as a cursor),
//! so a restart never runs a slot twice, and after downtime the missed slots
//! collapse into a single run. What a job does is the service's (and so the
//! engine's) business; this module only decides when.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use cron::Schedule;
use tokio::sync::watch;

use crate::config::{Config, CrontabError, JobConfig, JobKind, parse_crontab};
use crate::service::Service;
use crate::store::Write;

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

fn perform(service: &Service, job: &JobConfig, now: DateTime<Utc>) {
    match job.kind {
        JobKind::Sweep => match service.sweep(now) {
            Ok(changed) => tracing::debug!(job = %job.name, changed, "Sweep done."),
            Err(error) => tracing::error!(job = %job.name, %error, "Sweep failed."),
        },
    }
}

/// Runs the jobs until shutdown.
pub async fn run(service: Arc<Service>, jobs: Vec<JobConfig>, mut shutdown: watch::Receiver<bool>) {
    if jobs.is_empty() {
        return;
    }
    loop {
        let now = Utc::now();
        for job in &jobs {
            match last_run(&service, job) {
                // First start: begin from now, don't invent a run for the past.
                None => remember(&service, job, now),
                Some(last) => {
                    if let Some(slot) = due_slot(&job.schedule, job.timezone, last, now) {
                        perform(&service, job, now);
                        remember(&service, job, slot);
                    }
                }
            }
        }
        let next = jobs
            .iter()
            .filter_map(|j| j.schedule.after(&now.with_timezone(&j.timezone)).next())
            .map(|t| t.with_timezone(&Utc))
            .min();
        let wait = next
            .and_then(|t| (t - Utc::now()).to_std().ok())
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
}

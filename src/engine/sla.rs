//! Service-level clocks: when a response or a resolution is due, counting only
//! business hours when the config says so; which clocks run on a case, and how
//! a step starts, stops and resumes them.
//!
//! Pure: the times, the targets and the calendar are arguments. Must not read
//! the clock or decide what the team is told (that is `apply`'s sweep).

use std::time::Duration;

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

use super::model::{Case, Clock, Resolution, SlaTarget, Status, Urgency};
use crate::config::{BusinessHours, Config};

/// How a running clock stands at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockState {
    OnTrack,
    DueSoon,
    Breached,
}

/// A running clock, as the card, the sweep and reports see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Running {
    pub target: SlaTarget,
    pub due: DateTime<Utc>,
    pub warned: bool,
    pub breached: bool,
}

impl Running {
    /// Where it stands at `now`, warning `warn_before` ahead.
    pub fn state(&self, now: DateTime<Utc>, warn_before: Duration) -> ClockState {
        let warn = TimeDelta::from_std(warn_before).unwrap_or(TimeDelta::zero());
        if self.breached || now >= self.due {
            ClockState::Breached
        } else if self.warned || (warn > TimeDelta::zero() && now >= self.due - warn) {
            ClockState::DueSoon
        } else {
            ClockState::OnTrack
        }
    }
}

/// The clocks running on `case`, soonest due first.
pub fn running(case: &Case) -> Vec<Running> {
    let sla = &case.sla;
    let mut clocks = Vec::new();
    if case.status != Status::Closed && sla.first_response_at.is_none() {
        clocks.push(Running {
            target: SlaTarget::FirstResponse,
            due: sla.first_response_due,
            warned: sla.warned,
            breached: sla.breached,
        });
    }
    if let Some(next) = &sla.next {
        clocks.push(Running {
            target: SlaTarget::NextResponse,
            due: next.due,
            warned: next.warned,
            breached: next.breached,
        });
    }
    if let Some(Resolution {
        due: Some(due),
        warned,
        breached,
        ..
    }) = &sla.resolution
    {
        clocks.push(Running {
            target: SlaTarget::Resolution,
            due: *due,
            warned: *warned,
            breached: *breached,
        });
    }
    clocks.sort_by_key(|c| c.due);
    clocks
}

/// The response clocks wait for us in these states; the resolution clock also runs while
/// the conversation continues offline.
fn awaits_answer(status: Status) -> bool {
    matches!(status, Status::New | Status::Open)
}

fn resolution_runs(status: Status) -> bool {
    matches!(status, Status::New | Status::Open | Status::Offline)
}

/// Keeps `after`'s clocks in step with what the step did to `before` at `now`: a customer
/// post that needs an answer after our first one starts the next-response clock, and one
/// stops when nobody awaits our answer any more; the resolution clock starts with the case,
/// pauses while it waits on the customer and stops when it closes.
pub fn track(before: &Case, after: &mut Case, now: DateTime<Utc>, config: &Config) {
    let answered_before = after.sla.first_response_at.is_some();
    let customer_wrote = after.posts.len() > before.posts.len();
    if !awaits_answer(after.status) {
        after.sla.next = None;
    } else if answered_before && customer_wrote && after.sla.next.is_none() {
        let target = config.sla.next_response.for_urgency(after.urgency);
        after.sla.next = Some(Clock {
            due: due(config, now, target),
            warned: false,
            breached: false,
        });
    }
    let Some(target) = config.sla.resolution.for_urgency(after.urgency) else {
        return;
    };
    // A case that is not counting (waiting, closed) gets its clock when it next counts.
    if after.sla.resolution.is_none() && !resolution_runs(after.status) {
        return;
    }
    let clock = after.sla.resolution.get_or_insert(Resolution {
        target_secs: target.as_secs(),
        spent_secs: 0,
        running_since: None,
        due: None,
        warned: false,
        breached: false,
    });
    match (clock.running_since, resolution_runs(after.status)) {
        (None, true) => {
            let left = clock.target_secs.saturating_sub(clock.spent_secs);
            clock.running_since = Some(now);
            clock.due = Some(due(config, now, Duration::from_secs(left)));
        }
        (Some(since), false) => {
            clock.spent_secs = clock
                .spent_secs
                .saturating_add(elapsed(config, since, now).as_secs());
            clock.running_since = None;
            clock.due = None;
        }
        _ => {}
    }
}

/// The SLA time between `from` and `to`: business time when the SLA counts in business
/// hours, else wall time.
pub fn elapsed(config: &Config, from: DateTime<Utc>, to: DateTime<Utc>) -> Duration {
    if to <= from {
        return Duration::ZERO;
    }
    let spent = match (&config.business_hours, config.sla.business_hours) {
        (Some(hours), true) => business_time(hours, config.bot.timezone, from, to),
        _ => to - from,
    };
    spent.to_std().unwrap_or_default()
}

/// The open time of the calendar between `from` and `to`.
fn business_time(
    hours: &BusinessHours,
    tz: Tz,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> TimeDelta {
    let mut total = TimeDelta::zero();
    let mut date = from.with_timezone(&tz).date_naive();
    let last = to.with_timezone(&tz).date_naive();
    while date <= last {
        if let Some((open, close)) = open_interval(hours, tz, date) {
            let (start, end) = (from.max(open), to.min(close));
            if start < end {
                total += end - start;
            }
        }
        match date.succ_opt() {
            Some(next) => date = next,
            None => break,
        }
    }
    total
}

/// The first-response target for an urgency.
pub fn first_response_target(config: &Config, urgency: Urgency) -> Duration {
    config.sla.first_response.for_urgency(urgency)
}

/// When a response started at `start` with `target` is due.
pub fn due(config: &Config, start: DateTime<Utc>, target: Duration) -> DateTime<Utc> {
    let target = TimeDelta::from_std(target).unwrap_or(TimeDelta::MAX);
    match (&config.business_hours, config.sla.business_hours) {
        (Some(hours), true) => due_in_business_hours(hours, config.bot.timezone, start, target),
        _ => start
            .checked_add_signed(target)
            .unwrap_or(DateTime::<Utc>::MAX_UTC),
    }
}

/// Is `at` inside business hours? (Used by callers that pause or phrase things by it.)
pub fn is_open(hours: &BusinessHours, tz: Tz, at: DateTime<Utc>) -> bool {
    let local = at.with_timezone(&tz);
    open_interval(hours, tz, local.date_naive())
        .is_some_and(|(open, close)| at >= open && at < close)
}

/// The next time the team opens after `at` (`at` itself when open then); `None` for a
/// calendar without a business day in the next ten years.
pub fn next_open(hours: &BusinessHours, tz: Tz, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let mut date = at.with_timezone(&tz).date_naive();
    for _ in 0..3660 {
        if let Some((open, close)) = open_interval(hours, tz, date)
            && at < close
        {
            return Some(open.max(at));
        }
        date = date.succ_opt()?;
    }
    None
}

/// When the team last closed, at or before `at`: the start of the off-hours period `at` is in.
pub fn last_close(hours: &BusinessHours, tz: Tz, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let mut date = at.with_timezone(&tz).date_naive();
    for _ in 0..3660 {
        if let Some((_, close)) = open_interval(hours, tz, date)
            && close <= at
        {
            return Some(close);
        }
        date = date.pred_opt()?;
    }
    None
}

/// The open interval of a local date in UTC, if that date is a business day.
fn open_interval(
    hours: &BusinessHours,
    tz: Tz,
    date: NaiveDate,
) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    if !hours.days.contains(&date.weekday()) || hours.holidays.contains(&date) {
        return None;
    }
    // On a DST change the wall-clock time may not exist or exist twice: take
    // the earliest instant that does, which is what people mean by "9:00".
    let open = tz
        .from_local_datetime(&date.and_time(hours.open))
        .earliest()?
        .with_timezone(&Utc);
    let close = tz
        .from_local_datetime(&date.and_time(hours.close))
        .earliest()?
        .with_timezone(&Utc);
    (open < close).then_some((open, close))
}

/// Walks forward day by day, spending `target` only inside open intervals.
fn due_in_business_hours(
    hours: &BusinessHours,
    tz: Tz,
    start: DateTime<Utc>,
    target: TimeDelta,
) -> DateTime<Utc> {
    let mut remaining = target;
    let mut date = start.with_timezone(&tz).date_naive();
    // Ten years of days is far beyond any target; the bound only guards a
    // calendar with no business day at all.
    for _ in 0..3660 {
        if let Some((open, close)) = open_interval(hours, tz, date) {
            let from = start.max(open);
            if from < close {
                let available = close - from;
                if remaining <= available {
                    return from + remaining;
                }
                remaining -= available;
            }
        }
        match date.succ_opt() {
            Some(next) => date = next,
            None => break,
        }
    }
    start
        .checked_add_signed(target)
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveTime, Weekday};

    fn hours() -> BusinessHours {
        BusinessHours {
            days: vec![
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ],
            open: NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default(),
            close: NaiveTime::from_hms_opt(17, 0, 0).unwrap_or_default(),
            holidays: vec![NaiveDate::from_ymd_opt(2026, 12, 25).unwrap_or_default()],
        }
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .map(|d| d.with_timezone(&Utc))
            .unwrap_or_default()
    }

    #[test]
    fn inside_hours_counts_straight() {
        let due = due_in_business_hours(
            &hours(),
            Tz::UTC,
            utc("2026-11-23T10:00:00Z"),
            TimeDelta::hours(2),
        );
        assert_eq!(due, utc("2026-11-23T12:00:00Z"));
    }

    #[test]
    fn spills_over_to_next_business_day() {
        // Friday 16:00 + 4h = 1h on Friday, 3h on Monday.
        let due = due_in_business_hours(
            &hours(),
            Tz::UTC,
            utc("2026-11-27T16:00:00Z"),
            TimeDelta::hours(4),
        );
        assert_eq!(due, utc("2026-11-30T12:00:00Z"));
    }

    #[test]
    fn starts_counting_at_opening_and_skips_holidays() {
        // Thursday 24 Dec 20:00: Friday 25th is a holiday, so the clock starts Monday 09:00.
        let due = due_in_business_hours(
            &hours(),
            Tz::UTC,
            utc("2026-12-24T20:00:00Z"),
            TimeDelta::minutes(15),
        );
        assert_eq!(due, utc("2026-12-28T09:15:00Z"));
    }

    #[test]
    fn respects_time_zone() {
        // 09:00 in London during BST is 08:00 UTC.
        let tz: Tz = "Europe/London".parse().unwrap_or(Tz::UTC);
        let due = due_in_business_hours(
            &hours(),
            tz,
            utc("2026-06-01T07:00:00Z"),
            TimeDelta::hours(1),
        );
        assert_eq!(due, utc("2026-06-01T09:00:00Z"));
        assert!(is_open(&hours(), tz, utc("2026-06-01T08:30:00Z")));
        assert!(!is_open(&hours(), tz, utc("2026-06-01T07:30:00Z")));
    }
}

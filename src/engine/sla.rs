//! Service-level clocks: when a response is due, counting only business hours
//! when the config says so.
//!
//! Pure: the start time, the target and the calendar are arguments. Must not
//! read the clock.

use std::time::Duration;

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

use super::model::Urgency;
use crate::config::{BusinessHours, Config};

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

//! Ordinary 5-field crontab lines for `[[jobs]]`, translated into the `cron` crate's dialect.
//!
//! Owns the translation only: pure string → [`cron::Schedule`], no I/O, no scheduling loop.
//!
//! Users write `min hour dom month dow` the way every crontab does (`0`/`7` = Sunday, names,
//! ranges, lists, steps, `@daily`...). The `cron` crate 0.17 differs in ways that would silently
//! change meaning (see `research/crates.md` §7), so a line is translated rather than passed on:
//!
//! * it needs a leading seconds field, so `0` is prepended;
//! * it numbers Sunday as 1, so `1-5` would mean Sun–Thu: the day-of-week field is expanded to
//!   the set of days it denotes and written back as names (`MON,TUE,...`), which the crate reads
//!   unambiguously and which also takes care of `0`, `7`, ranges ending on `7` and steps;
//! * it lacks `@midnight` and `@annually` (mapped to `@daily`/`@yearly`);
//! * crontab runs a job when day-of-month OR day-of-week matches (if both are restricted), the
//!   crate only when both match; there is no faithful translation, so such lines are refused.

use std::str::FromStr;

use cron::Schedule;

/// A crontab line that cannot be run (the message says why and what to write instead).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CrontabError(String);

/// Day names in the order crontab numbers them (0 = Sunday), as the `cron` crate spells them.
const DAY_NAMES: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// Parses a 5-field crontab line or an `@` shorthand into a schedule with crontab's meaning.
///
/// # Errors
///
/// A [`CrontabError`] saying what is wrong and what to write instead, for lines this module
/// cannot translate faithfully (`@reboot`, seconds or year fields, day-of-month *and*
/// day-of-week restricted) or that the `cron` crate rejects (out-of-range values, bad syntax).
pub fn parse_crontab(line: &str) -> Result<Schedule, CrontabError> {
    let translated = translate_crontab(line)?;
    Schedule::from_str(&translated).map_err(|e| {
        // The crate's message draws a caret under the *translated* line (with the added seconds
        // field) before the explanation; only the explanation makes sense to the user.
        let text = e.to_string();
        let why = text
            .lines()
            .rev()
            .map(str::trim)
            .find(|l| *l != translated && l.chars().any(char::is_alphabetic))
            .unwrap_or("unrecognised syntax");
        CrontabError(format!(
            "{:?} is not a valid crontab line: {why}",
            line.trim()
        ))
    })
}

/// Translates a crontab line into the `cron` crate's syntax (without checking the fields the
/// crate checks itself: minutes, hours, days of month, months).
///
/// # Errors
///
/// A [`CrontabError`] for the forms refused by [`parse_crontab`] that are detectable without
/// the crate.
pub fn translate_crontab(line: &str) -> Result<String, CrontabError> {
    let text = line.trim();
    if let Some(name) = text.strip_prefix('@') {
        return match name.to_ascii_lowercase().as_str() {
            "hourly" | "daily" | "weekly" | "monthly" | "yearly" => {
                Ok(format!("@{}", name.to_ascii_lowercase()))
            }
            "midnight" => Ok("@daily".to_owned()),
            "annually" => Ok("@yearly".to_owned()),
            "reboot" => Err(CrontabError(
                "@reboot is not supported: jobs run on a schedule, not at start-up".to_owned(),
            )),
            _ => Err(CrontabError(format!(
                "{text:?} is not a known shorthand (use @hourly, @daily, @midnight, @weekly, \
                 @monthly, @yearly or @annually)"
            ))),
        };
    }
    let fields: Vec<&str> = text.split_whitespace().collect();
    let [minute, hour, day_of_month, month, day_of_week] = fields[..] else {
        let hint = match fields.len() {
            0 => "it is empty",
            6 | 7 => "seconds and year fields are not supported",
            _ => "it needs exactly five",
        };
        return Err(CrontabError(format!(
            "{text:?} has {} fields; write a 5-field crontab line \
             (minute hour day-of-month month day-of-week), {hint}",
            fields.len()
        )));
    };
    // Like Vixie cron, a field counts as restricted unless it starts with `*`: for `*/2` both
    // crontab and the crate then require both fields to match, so only the OR case is refused.
    // `?` (Quartz's "no restriction", which the crate also reads) is taken as `*`.
    let unrestricted = |field: &str| field.starts_with('*') || field == "?";
    if !unrestricted(day_of_month) && !unrestricted(day_of_week) {
        return Err(CrontabError(format!(
            "{text:?} restricts both day-of-month ({day_of_month}) and day-of-week \
             ({day_of_week}); crontab runs when either matches but this scheduler would need \
             both, so restrict only one of them and write * for the other"
        )));
    }
    let days = if day_of_week == "?" {
        [true; 7]
    } else {
        day_of_week_set(day_of_week)?
    };
    let day_of_week = if days.iter().all(|&on| on) {
        "*".to_owned()
    } else {
        DAY_NAMES
            .iter()
            .zip(days)
            .filter(|(_, on)| *on)
            .map(|(name, _)| *name)
            .collect::<Vec<_>>()
            .join(",")
    };
    Ok(format!(
        "0 {minute} {hour} {day_of_month} {month} {day_of_week}"
    ))
}

/// Expands a crontab day-of-week field into the set of days it denotes (index 0 = Sunday).
fn day_of_week_set(field: &str) -> Result<[bool; 7], CrontabError> {
    let bad = |why: &str| {
        CrontabError(format!(
            "day-of-week {field:?} {why} (use 0-7 or Sun-Sat, e.g. 1-5, Mon-Fri, Sat,Sun, */2)"
        ))
    };
    let mut days = [false; 7];
    for item in field.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((range, step)) => {
                let step: usize = step
                    .parse()
                    .ok()
                    .filter(|&s| s > 0)
                    .ok_or_else(|| bad("has a bad step"))?;
                (range, Some(step))
            }
            None => (item, None),
        };
        // Days as crontab numbers them, 0..=7 with both 0 and 7 meaning Sunday.
        let sequence: Vec<u8> = if range == "*" {
            (0..=7).collect()
        } else if let Some((first, last)) = range.split_once('-') {
            let first = day_number(first).ok_or_else(|| bad("names an unknown day"))?;
            let last = day_number(last).ok_or_else(|| bad("names an unknown day"))?;
            if first <= last {
                (first..=last).collect()
            } else {
                // A range such as Fri-Mon or 6-1 wraps past Saturday; crontab would reject it,
                // but its meaning is unambiguous and it is how people write weekends.
                let mut wrapped = Vec::new();
                let mut day = first % 7;
                loop {
                    wrapped.push(day);
                    if day == last % 7 {
                        break wrapped;
                    }
                    day = (day + 1) % 7;
                }
            }
        } else {
            let first = day_number(range).ok_or_else(|| bad("names an unknown day"))?;
            // `3/2` means "from Wednesday, every other day", as in cronie.
            if step.is_some() {
                (first..=7).collect()
            } else {
                vec![first]
            }
        };
        for day in sequence.into_iter().step_by(step.unwrap_or(1)) {
            days[usize::from(day % 7)] = true;
        }
    }
    Ok(days)
}

/// A single day: a number 0–7 (0 and 7 are Sunday) or a name, case-insensitive.
fn day_number(text: &str) -> Option<u8> {
    const NAMES: [&str; 7] = [
        "sunday",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
    ];
    if let Ok(number) = text.parse::<u8>() {
        return (number <= 7).then_some(number);
    }
    let lower = text.to_ascii_lowercase();
    NAMES
        .iter()
        .position(|name| lower.len() >= 3 && (lower == *name || lower == name[..3]))
        .and_then(|index| u8::try_from(index).ok())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use chrono::{Datelike, NaiveDate, TimeZone, Timelike, Utc, Weekday};

    /// The next `count` fire times after 2026-01-01 00:00 UTC (a Thursday).
    fn fires(line: &str, count: usize) -> Vec<chrono::DateTime<Utc>> {
        let schedule = match parse_crontab(line) {
            Ok(schedule) => schedule,
            Err(e) => panic!("{line:?} was rejected: {e}"),
        };
        let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        schedule.after(&start).take(count).collect()
    }

    fn weekdays(line: &str, count: usize) -> Vec<Weekday> {
        fires(line, count).iter().map(|t| t.weekday()).collect()
    }

    #[test]
    fn numeric_weekdays_mean_monday_to_friday() {
        let times = fires("0 9 * * 1-5", 10);
        assert_eq!(times.len(), 10);
        for time in &times {
            assert!(
                !matches!(time.weekday(), Weekday::Sat | Weekday::Sun),
                "{time}"
            );
            assert_eq!((time.hour(), time.minute(), time.second()), (9, 0, 0));
        }
        let mut seen: Vec<Weekday> = times.iter().map(|t| t.weekday()).collect();
        seen.sort_by_key(|d| d.num_days_from_monday());
        seen.dedup();
        assert_eq!(
            seen,
            [
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri
            ]
        );
    }

    #[test]
    fn named_weekdays_match_numeric() {
        assert_eq!(fires("0 9 * * Mon-Fri", 20), fires("0 9 * * 1-5", 20));
        assert_eq!(
            fires("0 9 * * mon,TUE,Wednesday", 9),
            fires("0 9 * * 1-3", 9)
        );
    }

    #[test]
    fn zero_and_seven_are_sunday() {
        assert_eq!(weekdays("0 0 * * 0", 4), [Weekday::Sun; 4]);
        assert_eq!(weekdays("0 0 * * 7", 4), [Weekday::Sun; 4]);
        assert_eq!(
            fires("0 0 * * 0", 1)[0].date_naive(),
            NaiveDate::from_ymd_opt(2026, 1, 4).unwrap()
        );
    }

    #[test]
    fn ranges_ending_on_seven_and_wrapping_ranges() {
        assert_eq!(
            weekdays("0 12 * * 5-7", 3),
            [Weekday::Fri, Weekday::Sat, Weekday::Sun]
        );
        assert_eq!(
            translate_crontab("0 12 * * 5-7").unwrap(),
            "0 0 12 * * SUN,FRI,SAT"
        );
        assert_eq!(
            translate_crontab("0 12 * * Sat-Sun").unwrap(),
            "0 0 12 * * SUN,SAT"
        );
        assert_eq!(
            translate_crontab("0 12 * * Fri-Mon").unwrap(),
            "0 0 12 * * SUN,MON,FRI,SAT"
        );
        assert_eq!(translate_crontab("0 12 * * 0-7").unwrap(), "0 0 12 * * *");
    }

    #[test]
    fn steps() {
        // Vixie cron: `*` in day-of-week is 0-7, so */2 is Sun, Tue, Thu, Sat.
        assert_eq!(
            translate_crontab("0 8 * * */2").unwrap(),
            "0 0 8 * * SUN,TUE,THU,SAT"
        );
        assert_eq!(
            translate_crontab("0 8 * * 1-5/2").unwrap(),
            "0 0 8 * * MON,WED,FRI"
        );
        assert_eq!(
            translate_crontab("0 8 * * 3/2").unwrap(),
            "0 0 8 * * SUN,WED,FRI"
        );
        let times = fires("*/15 * * * *", 6);
        let minutes: Vec<u32> = times.iter().map(|t| t.minute()).collect();
        assert_eq!(minutes, [15, 30, 45, 0, 15, 30]);
        assert!(times.iter().all(|t| t.second() == 0));
    }

    #[test]
    fn everyday_fields_pass_through() {
        assert_eq!(
            translate_crontab("*/5 9-17 * * *").unwrap(),
            "0 */5 9-17 * * *"
        );
        let times = fires("30 6 1 Jan,Jul *", 2);
        assert_eq!(
            times[0].date_naive(),
            NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()
        );
        assert_eq!(
            times[1].date_naive(),
            NaiveDate::from_ymd_opt(2026, 7, 1).unwrap()
        );
        assert_eq!((times[0].hour(), times[0].minute()), (6, 30));
    }

    #[test]
    fn day_of_month_with_star_step_and_day_of_week_is_and_in_both_dialects() {
        assert!(parse_crontab("0 0 */2 * Mon").is_ok());
        assert!(parse_crontab("0 0 15 * *").is_ok());
        assert_eq!(translate_crontab("0 9 ? * Mon").unwrap(), "0 0 9 ? * MON");
        assert_eq!(translate_crontab("0 9 1 * ?").unwrap(), "0 0 9 1 * *");
    }

    #[test]
    fn shorthands() {
        assert_eq!(translate_crontab("@midnight").unwrap(), "@daily");
        assert_eq!(translate_crontab("@annually").unwrap(), "@yearly");
        for line in [
            "@hourly",
            "@daily",
            "@midnight",
            "@weekly",
            "@monthly",
            "@yearly",
            "@annually",
        ] {
            assert!(parse_crontab(line).is_ok(), "{line}");
        }
        assert_eq!(weekdays("@weekly", 2), [Weekday::Sun; 2]);
        assert_eq!(fires("@daily", 2), fires("0 0 * * *", 2));
    }

    #[test]
    fn rejected_forms() {
        let message = |line: &str| match parse_crontab(line) {
            Ok(_) => panic!("{line:?} was accepted"),
            Err(e) => e.to_string(),
        };
        assert!(message("@reboot").contains("@reboot is not supported"));
        assert!(message("@fortnightly").contains("not a known shorthand"));
        assert!(message("0 0 9 * * 1").contains("has 6 fields"));
        assert!(message("0 0 9 * * 1 2026").contains("has 7 fields"));
        assert!(message("0 9 * *").contains("has 4 fields"));
        assert!(message("").contains("has 0 fields"));
        assert!(message("0 9 1 * Mon").contains("restrict only one"));
        assert!(message("0 9 1-7 * 1-5").contains("restricts both"));
        assert!(message("0 9 * * 8").contains("day-of-week \"8\""));
        assert!(message("0 9 * * Funday").contains("unknown day"));
        assert!(message("0 9 * * */0").contains("bad step"));
        assert!(message("0 9 * * 1,,2").contains("unknown day"));
        assert!(message("61 9 * * *").contains("not a valid crontab line"));
        assert!(message("0 25 * * *").contains("not a valid crontab line"));
        assert_eq!(
            message("0 9 * 13 *"),
            "\"0 9 * 13 *\" is not a valid crontab line: Months must be less than 12. ('13' specified.)"
        );
        assert_eq!(
            message("1-2-3 * * * *"),
            "\"1-2-3 * * * *\" is not a valid crontab line: unrecognised syntax"
        );
    }
}

//! Human-written durations (`100ms`, `30s`, `15m`, `4h`, `2d`, `1w`, `1h30m`): one syntax
//! for `bot.toml`, command arguments (`snooze 2h`) and the console (`wait 2s`).
//!
//! Owns the duration syntax and nothing else: pure string → [`Duration`] conversion, no I/O,
//! and no opinion on which durations are sensible (callers decide whether zero or very long
//! values are allowed, because that depends on the key).

use std::time::Duration;

/// A string that is not a duration in the `bot.toml` syntax.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not a duration (use e.g. 90s, 15m, 4h, 2d)")]
pub struct DurationError {
    /// The text as written (after `${VAR}` substitution).
    pub input: String,
}

/// The units, largest first; a duration must use them in this order, each at most once,
/// so that `1h30m` is accepted and the likely typo `30m1h` or `1m1m` is not.
const UNITS: &[(&str, u64)] = &[
    ("w", 7 * 24 * 3_600_000),
    ("d", 24 * 3_600_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1_000),
    ("ms", 1),
];

/// Parses `100ms`, `30s`, `15m`, `4h`, `72h`, `2d`, `1w` and combinations such as `1h30m`
/// or `1d 12h` (largest unit first, each unit once). A bare `0` is zero.
///
/// # Errors
///
/// A [`DurationError`] for anything else, including overflow.
pub fn parse_duration(input: &str) -> Result<Duration, DurationError> {
    let error = || DurationError {
        input: input.to_owned(),
    };
    let text = input.trim();
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    if text.is_empty() {
        return Err(error());
    }
    let mut rest = text;
    let mut total_ms: u64 = 0;
    // Index into UNITS of the last unit used: the next one must be strictly smaller.
    let mut previous_unit: Option<usize> = None;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(error());
        }
        let number: u64 = rest[..digits].parse().map_err(|_| error())?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit = &rest[..unit_len];
        rest = rest[unit_len..].trim_start();
        let position = UNITS
            .iter()
            .position(|(name, _)| *name == unit)
            .ok_or_else(error)?;
        if previous_unit.is_some_and(|previous| position <= previous) {
            return Err(error());
        }
        previous_unit = Some(position);
        let millis = number.checked_mul(UNITS[position].1).ok_or_else(error)?;
        total_ms = total_ms.checked_add(millis).ok_or_else(error)?;
    }
    Ok(Duration::from_millis(total_ms))
}

/// Formats a duration in the same syntax, largest units first (`1h30m`, `100ms`, `0s`), so
/// that messages can echo durations the way users write them. Sub-millisecond parts are dropped.
pub fn format_duration(duration: Duration) -> String {
    let mut millis = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
    if millis == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    for (name, size) in UNITS {
        let count = millis / size;
        if count > 0 {
            out.push_str(&count.to_string());
            out.push_str(name);
            millis %= size;
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn accepts_single_units() {
        assert_eq!(parse_duration("100ms"), Ok(ms(100)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(15 * 60)));
        assert_eq!(parse_duration("4h"), Ok(Duration::from_secs(4 * 3600)));
        assert_eq!(parse_duration("72h"), Ok(Duration::from_secs(72 * 3600)));
        assert_eq!(parse_duration("2d"), Ok(Duration::from_secs(2 * 86_400)));
        assert_eq!(parse_duration("1w"), Ok(Duration::from_secs(7 * 86_400)));
    }

    #[test]
    fn accepts_combinations_and_zero() {
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("1d 12h"), Ok(Duration::from_secs(36 * 3600)));
        assert_eq!(parse_duration("1m30s500ms"), Ok(ms(90_500)));
        assert_eq!(parse_duration(" 45s "), Ok(Duration::from_secs(45)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
    }

    #[test]
    fn rejects_everything_else() {
        for bad in [
            "", " ", "4 hours", "4", "h", "1.5h", "-1s", "30m1h", "1m1m", "1H", "10 s", "1h30",
            "5y", "1s ms",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(parse_duration("99999999999999999999s").is_err());
        assert!(parse_duration("9999999999999999w").is_err());
    }

    #[test]
    fn error_message_suggests_the_syntax() {
        let error = parse_duration("4 hours").err();
        assert_eq!(
            error.map(|e| e.to_string()).as_deref(),
            Some(r#""4 hours" is not a duration (use e.g. 90s, 15m, 4h, 2d)"#)
        );
    }

    #[test]
    fn format_round_trips() {
        for text in ["100ms", "30s", "15m", "1h30m", "2d", "1w", "1w1d1h1m1s1ms"] {
            let parsed = parse_duration(text).ok();
            assert_eq!(parsed.map(format_duration).as_deref(), Some(text));
        }
        assert_eq!(format_duration(Duration::ZERO), "0s");
    }
}

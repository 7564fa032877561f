//! Rate limits as the REST networks state them: Mastodon's `X-RateLimit-*` and
//! atproto's `RateLimit-*` headers (the same draft, with and without the
//! `X-`), and what a 429 means for the next poll and for a delivery.
//!
//! Pure: no I/O. Each client reads the headers of its own answers; sources and
//! publishers decide with these how long to wait.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::HeaderMap;

use crate::dispatch::DeliveryError;

/// How long to wait after a 429 that gave no reset time.
const UNSTATED: Duration = Duration::from_secs(60);
/// A longer `Retry-After` is not believed: the dispatcher's own schedule takes over.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// What the rate-limit headers said.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rate {
    pub remaining: Option<u64>,
    pub reset: Option<DateTime<Utc>>,
}

impl Rate {
    /// Reads `{prefix}remaining` and `{prefix}reset` (`x-ratelimit-` or `ratelimit-`).
    pub fn read(headers: &HeaderMap, prefix: &str) -> Rate {
        let header = |name: &str| {
            headers
                .get(format!("{prefix}{name}"))
                .and_then(|v| v.to_str().ok())
        };
        Rate {
            remaining: header("remaining").and_then(|v| v.trim().parse().ok()),
            reset: header("reset").and_then(reset_time),
        }
    }

    /// With no calls left in the window, the next one waits for its reset.
    pub fn wait(self, now: DateTime<Utc>) -> Duration {
        match (self.remaining, self.reset) {
            (Some(0), Some(reset)) => (reset - now).to_std().unwrap_or_default(),
            _ => Duration::ZERO,
        }
    }
}

/// How a poll went, for how long its source waits before the next one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Polled {
    /// It went through; the rate-limit headers of its last call.
    Done(Rate),
    /// A 429, with the reset time the network gave, if any.
    Limited(Option<DateTime<Utc>>),
    /// Any other failure.
    Failed,
}

/// The wait before a source's next poll: its `poll_interval` (at least a second), or longer
/// when the window's calls are spent, a 429 asks for more, or the poll failed (four polls,
/// at most a minute: a network in trouble is not pressed, and a short poll interval
/// recovers soon).
pub fn pause(poll_interval: Duration, polled: Polled, now: DateTime<Utc>) -> Duration {
    let wait = match polled {
        Polled::Done(rate) => rate.wait(now),
        Polled::Limited(reset) => limited_for(reset, now),
        Polled::Failed => (poll_interval * 4).min(Duration::from_secs(60)),
    };
    poll_interval.max(Duration::from_secs(1)).max(wait)
}

/// How long a 429 asks to wait: until `reset`, or a minute when the network did not say.
fn limited_for(reset: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Duration {
    reset.map_or(UNSTATED, |at| (at - now).to_std().unwrap_or_default())
}

/// A 429 on a delivery: tried again once the network allows, `reason` told meanwhile.
pub fn rate_limited(reason: String, reset: Option<DateTime<Utc>>) -> DeliveryError {
    DeliveryError {
        retryable: true,
        reason,
        retry_after: Some(limited_for(reset, Utc::now())),
        alert: None,
    }
}

/// How long a `Retry-After` asks to wait: delay-seconds or an HTTP date, at most an hour.
pub fn retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    let wait = match value.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => {
            let at = DateTime::parse_from_rfc2822(value)
                .ok()?
                .with_timezone(&Utc);
            (at - now).to_std().unwrap_or(Duration::ZERO)
        }
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

/// A reset header: an ISO 8601 time (Mastodon), or Unix seconds (atproto, and some servers
/// that speak Mastodon's API).
pub fn reset_time(header: &str) -> Option<DateTime<Utc>> {
    let header = header.trim();
    match header.parse::<i64>() {
        Ok(secs) => DateTime::from_timestamp(secs, 0),
        Err(_) => DateTime::parse_from_rfc3339(header)
            .ok()
            .map(|t| t.with_timezone(&Utc)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn headers_with_or_without_the_x_are_read_and_waited_for() {
        let mut headers = HeaderMap::new();
        headers.insert("ratelimit-remaining", "0".parse().unwrap());
        headers.insert("ratelimit-reset", "1796637900".parse().unwrap());
        let rate = Rate::read(&headers, "ratelimit-");
        assert_eq!(rate.remaining, Some(0));
        let reset = rate.reset.unwrap();
        assert_eq!(reset.to_rfc3339(), "2026-12-07T10:05:00+00:00");
        let now = reset - chrono::TimeDelta::seconds(30);
        assert_eq!(rate.wait(now), Duration::from_secs(30));
        assert_eq!(Rate::read(&headers, "x-ratelimit-"), Rate::default());
        assert_eq!(limited_for(None, now), UNSTATED);
        assert_eq!(limited_for(Some(now), reset), Duration::ZERO);
    }

    #[test]
    fn retry_after_takes_seconds_or_a_date_and_is_capped() {
        let now = Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap();
        assert_eq!(retry_after("30", now), Some(Duration::from_secs(30)));
        assert_eq!(
            retry_after("Mon, 23 Nov 2026 10:02:00 GMT", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            retry_after("Mon, 23 Nov 2026 09:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after("99999999", now), Some(MAX_RETRY_AFTER));
        assert_eq!(retry_after("soon", now), None);
    }

    #[test]
    fn a_source_waits_its_interval_or_what_the_network_or_a_failure_asks() {
        let now = Utc.with_ymd_and_hms(2026, 12, 7, 10, 0, 0).unwrap();
        let second = Duration::from_secs(1);
        let spent = Rate {
            remaining: Some(0),
            reset: Some(now + chrono::TimeDelta::seconds(90)),
        };
        assert_eq!(
            pause(second * 30, Polled::Done(Rate::default()), now),
            second * 30
        );
        assert_eq!(
            pause(Duration::ZERO, Polled::Done(Rate::default()), now),
            second
        );
        assert_eq!(pause(second * 30, Polled::Done(spent), now), second * 90);
        assert_eq!(pause(second, Polled::Limited(None), now), UNSTATED);
        assert_eq!(pause(second, Polled::Failed, now), second * 4);
        assert_eq!(pause(second * 30, Polled::Failed, now), second * 60);
        assert_eq!(pause(second * 300, Polled::Failed, now), second * 300);
    }
}

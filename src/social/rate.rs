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

/// How long a poll waits after a failure the network gave no time for: four polls, at most a
/// minute, so a network in trouble is not pressed and a short poll interval recovers soon.
pub fn after_failure(poll_interval: Duration) -> Duration {
    (poll_interval * 4).min(Duration::from_secs(60))
}

/// How long a 429 asks to wait: until `reset`, or a minute when the network did not say.
pub fn limited_for(reset: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Duration {
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
}

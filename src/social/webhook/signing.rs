//! The generic webhook's signature, the same in both directions (a delivery to carebridge,
//! a reply to the callback): `X-Carebridge-Timestamp: <unix seconds>` and
//! `X-Carebridge-Signature: sha256=<lowercase hex HMAC-SHA256(secret, "{timestamp}.{body}")>`,
//! the timestamp exactly as the header carries it and the body as raw bytes.
//!
//! Owns the framing and the replay window; the MAC and its constant-time comparison are
//! `crate::hmac`'s. Must not parse the body: a delivery is verified before anything reads it.

use std::fmt;
use std::time::Duration;

/// The header carrying the signing time, in unix seconds.
pub const TIMESTAMP: &str = "x-carebridge-timestamp";
/// The header carrying `sha256=<hex>`; a sender rotating its secret may send several,
/// comma-separated, and one matching is enough.
pub const SIGNATURE: &str = "x-carebridge-signature";
const PREFIX: &str = "sha256=";
/// Signatures read from one header, at most.
const MAX_SIGNATURES: usize = 4;

/// `sha256=` + the hex HMAC-SHA256 of `"{timestamp}.{body}"` under `secret`.
pub fn sign(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let tag = crate::hmac::sha256(secret.as_bytes(), &[timestamp.as_bytes(), b".", body]);
    format!("{PREFIX}{}", hex::encode(tag))
}

/// Why a delivery's signature is refused (each answered 401).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    MissingTimestamp,
    BadTimestamp,
    MissingSignature,
    BadSignature,
    /// Signed, but further from our clock than the replay window.
    Stale {
        window: Duration,
    },
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection::MissingTimestamp => {
                write!(f, "missing X-Carebridge-Timestamp header (unix seconds)")
            }
            Rejection::BadTimestamp => write!(
                f,
                "X-Carebridge-Timestamp is not a whole number of unix seconds"
            ),
            Rejection::MissingSignature => write!(
                f,
                "missing X-Carebridge-Signature header (sha256=<hex HMAC-SHA256 of \"{{timestamp}}.{{body}}\">)"
            ),
            Rejection::BadSignature => write!(
                f,
                "X-Carebridge-Signature does not match: expected sha256=<hex HMAC-SHA256 of \"{{timestamp}}.{{body}}\"> under the account's secret"
            ),
            Rejection::Stale { window } => write!(
                f,
                "X-Carebridge-Timestamp is more than {} away from carebridge's clock (the replay window); sign each delivery when it is sent",
                crate::duration::format_duration(*window)
            ),
        }
    }
}

/// Checks a delivery: a whole-second timestamp, a signature over it and the raw body under
/// `secret` (compared in constant time), then a timestamp within `window` of `now` (unix
/// seconds) either way. The signature comes first, so "stale" is only ever said of a
/// delivery the sender really signed.
pub fn verify(
    secret: &str,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now: i64,
    window: Duration,
) -> Result<(), Rejection> {
    let timestamp = timestamp.ok_or(Rejection::MissingTimestamp)?.trim();
    let at: i64 = timestamp.parse().map_err(|_| Rejection::BadTimestamp)?;
    let signature = signature.ok_or(Rejection::MissingSignature)?;
    let signed = signature
        .split(',')
        .take(MAX_SIGNATURES)
        .filter_map(|s| hex::decode(s.trim().strip_prefix(PREFIX)?).ok())
        .any(|tag| {
            crate::hmac::verify_sha256(secret.as_bytes(), &[timestamp.as_bytes(), b".", body], &tag)
        });
    if !signed {
        return Err(Rejection::BadSignature);
    }
    let window_secs = i64::try_from(window.as_secs()).unwrap_or(i64::MAX);
    if now.abs_diff(at) > window_secs.unsigned_abs() {
        return Err(Rejection::Stale { window });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_5WbX2kV9qLr7TtYp";
    const AT: &str = "1795428000";
    const BODY: &[u8] =
        br#"{"id":"form-8812","author":{"id":"cust-42","handle":"jane"},"text":"My order never arrived"}"#;
    /// README's test vector, computed independently with Python's `hmac`:
    /// `hmac.new(SECRET, b"1795428000." + BODY, hashlib.sha256).hexdigest()`.
    const VECTOR: &str = "sha256=a04f00b50e43a604d07605bec9a9f6c83a7d4895ada8780b306df2b1c8f10707";
    const WINDOW: Duration = Duration::from_secs(300);

    fn check(timestamp: Option<&str>, signature: Option<&str>, now: i64) -> Result<(), Rejection> {
        verify(SECRET, timestamp, signature, BODY, now, WINDOW)
    }

    #[test]
    fn signs_the_documented_test_vector() {
        assert_eq!(sign(SECRET, AT, BODY), VECTOR);
        assert_eq!(check(Some(AT), Some(VECTOR), 1_795_428_000), Ok(()));
    }

    #[test]
    fn accepts_within_the_window_either_way_and_refuses_beyond() {
        let at = 1_795_428_000;
        assert_eq!(check(Some(AT), Some(VECTOR), at + 300), Ok(()));
        assert_eq!(check(Some(AT), Some(VECTOR), at - 300), Ok(()));
        let stale = Err(Rejection::Stale { window: WINDOW });
        assert_eq!(check(Some(AT), Some(VECTOR), at + 301), stale);
        assert_eq!(check(Some(AT), Some(VECTOR), at - 301), stale);
    }

    #[test]
    fn refuses_what_the_secret_did_not_sign() {
        let now = 1_795_428_000;
        assert_eq!(
            check(None, Some(VECTOR), now),
            Err(Rejection::MissingTimestamp)
        );
        assert_eq!(
            check(Some("soon"), Some(VECTOR), now),
            Err(Rejection::BadTimestamp)
        );
        assert_eq!(check(Some(AT), None, now), Err(Rejection::MissingSignature));
        // Another timestamp, another body, another secret, a bare or truncated hex.
        assert_eq!(
            check(Some("1795428001"), Some(VECTOR), now),
            Err(Rejection::BadSignature)
        );
        assert_eq!(
            verify(SECRET, Some(AT), Some(VECTOR), b"{}", now, WINDOW),
            Err(Rejection::BadSignature)
        );
        let other = sign("whsec_another_secret_000", AT, BODY);
        assert_eq!(
            check(Some(AT), Some(&other), now),
            Err(Rejection::BadSignature)
        );
        let bare = VECTOR.trim_start_matches(PREFIX);
        assert_eq!(
            check(Some(AT), Some(bare), now),
            Err(Rejection::BadSignature)
        );
        assert_eq!(
            check(Some(AT), Some(&VECTOR[..40]), now),
            Err(Rejection::BadSignature)
        );
        // A signature checked against a stale timestamp is refused as bad, not stale.
        assert_eq!(
            check(Some(AT), Some("sha256=00"), now + 9999),
            Err(Rejection::BadSignature)
        );
    }

    #[test]
    fn one_of_several_signatures_is_enough() {
        let other = sign("whsec_another_secret_000", AT, BODY);
        let both = format!("{other}, {VECTOR}");
        assert_eq!(check(Some(AT), Some(&both), 1_795_428_000), Ok(()));
        assert_eq!(
            check(
                Some(AT),
                Some(&VECTOR.to_uppercase().replace("SHA256=", "sha256=")),
                1_795_428_000
            ),
            Ok(())
        );
    }
}

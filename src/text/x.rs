//! The X wording: what carebridge tells agents when X refuses a request, and
//! what it logs when an account's access token can no longer be refreshed.
//!
//! Pure: no I/O. Classifying X's answers is `social::x::wire`'s job; this
//! module only says what each outcome means for the agent and what to do.

use crate::social::x::wire::XError;

/// The handle `reason` names when the customer is not known (network actions).
pub const ANYONE: &str = "the customer";

/// Why X refused, as one sentence telling the agent what to do. `handle` is the
/// customer's handle (without `@`).
pub fn reason(error: &XError, handle: &str) -> String {
    match error {
        XError::RateLimited { reset: Some(at) } => format!(
            "X's rate limit is reached; carebridge retries at {} UTC.",
            at.format("%H:%M")
        ),
        XError::RateLimited { reset: None } => {
            "X's rate limit is reached; carebridge retries when it resets (usually within 15 minutes).".to_owned()
        }
        XError::Unauthorized => {
            "X no longer accepts the account's credentials; re-authorize it and update bot.toml."
                .to_owned()
        }
        XError::DuplicateContent => {
            "X refuses the text: this account already posted exactly the same words. Reword the reply and draft it again.".to_owned()
        }
        XError::DmNotAllowed => format!(
            "X won't deliver this DM: @{handle} doesn't accept messages from the brand. Ask them (publicly) to follow the account or open their DMs, then `retry`."
        ),
        XError::ReplyRestricted => format!(
            "@{handle} limited who can reply to this post, so X refuses the reply. Send a DM instead (`dm …`) if they accept messages."
        ),
        XError::PostDeleted => {
            "The post no longer exists on X (deleted, or hidden from the brand account); there is nothing to reply to.".to_owned()
        }
        XError::Suspended => {
            "X says the brand account is suspended or locked; an admin must sort this out on x.com, then `retry`.".to_owned()
        }
        XError::Forbidden { detail } => format!(
            "X refused ({}); the app may lack a permission (tweet.write, dm.write, like.write …): fix it in the X developer console, re-authorize the account, then `retry`.",
            or_forbidden(detail)
        ),
        XError::Server { status } => format!(
            "X had a problem on its side (HTTP {status}); carebridge tries again shortly."
        ),
        XError::Other { status, detail } if detail.is_empty() => format!(
            "X refused the request (HTTP {status}); check the text and `retry`, or draft it again."
        ),
        XError::Other { status, detail } => format!(
            "X refused the request (HTTP {status}: {detail}); fix what it objects to and `retry`, or draft it again."
        ),
    }
}

fn or_forbidden(detail: &str) -> &str {
    if detail.trim().is_empty() {
        "forbidden"
    } else {
        detail
    }
}

/// For the log and the health report: the refresh token was refused, so the
/// account can't act on X until someone re-authorizes it.
/// X could not be reached, or answered something unreadable; the attempt is repeated (after
/// checking whether it went through).
pub fn unreachable(detail: &str) -> String {
    format!(
        "X could not be reached or answered unclearly ({detail}); carebridge checks and tries again."
    )
}

pub fn token_revoked(account: &str) -> String {
    format!(
        "X no longer accepts the credentials of account {account} (revoked, or the token could not be refreshed); re-authorize it and update bot.toml."
    )
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    #[test]
    fn refusals_name_the_customer_and_the_next_step() {
        let dm = reason(&XError::DmNotAllowed, "alice_r");
        assert!(dm.contains("@alice_r doesn't accept messages"));
        assert!(dm.ends_with("then `retry`."));
        let restricted = reason(&XError::ReplyRestricted, "alice_r");
        assert!(restricted.starts_with("@alice_r limited who can reply"));
        assert!(restricted.contains("`dm …`"));
        assert_eq!(
            reason(&XError::DuplicateContent, "alice_r"),
            "X refuses the text: this account already posted exactly the same words. Reword the reply and draft it again."
        );
    }

    #[test]
    fn rate_limits_say_when() {
        let reset = Utc.with_ymd_and_hms(2024, 5, 14, 10, 5, 0).single();
        assert_eq!(
            reason(&XError::RateLimited { reset }, "a"),
            "X's rate limit is reached; carebridge retries at 10:05 UTC."
        );
        assert!(reason(&XError::RateLimited { reset: None }, "a").contains("when it resets"));
    }

    #[test]
    fn permission_and_other_refusals_carry_xs_words() {
        let forbidden = reason(
            &XError::Forbidden {
                detail: "Unsupported Authentication".to_owned(),
            },
            "a",
        );
        assert!(forbidden.starts_with("X refused (Unsupported Authentication);"));
        assert!(
            reason(
                &XError::Forbidden {
                    detail: String::new()
                },
                "a"
            )
            .starts_with("X refused (forbidden);")
        );
        assert!(
            reason(
                &XError::Other {
                    status: 400,
                    detail: "Your media IDs are invalid.".to_owned()
                },
                "a"
            )
            .contains("(HTTP 400: Your media IDs are invalid.)")
        );
        assert!(reason(&XError::Server { status: 503 }, "a").contains("HTTP 503"));
    }

    #[test]
    fn token_revocation_names_the_account() {
        assert_eq!(
            token_revoked("acme"),
            "X no longer accepts the credentials of account acme (revoked, or the token could not be refreshed); re-authorize it and update bot.toml."
        );
    }
}

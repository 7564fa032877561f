//! The generic webhook's wording: what carebridge tells agents when a case's account has no
//! callback, or when the callback's receiver refuses or delays a reply.
//!
//! Pure: no I/O. Sorting the receiver's answers is `social::webhook::publish`'s job; this
//! module says what each outcome means for the agent and what to do. (What the HTTP route
//! answers a sender is protocol, and lives with the route.)

/// How the receiver is named in what agents read.
pub const CALLBACK: &str = "The callback URL";

/// Why a draft on a webhook account without `callback_url` is refused.
pub fn no_callback(account: &str) -> String {
    format!(
        "`{account}` is a webhook account without a `callback_url`, so carebridge has nowhere to send replies. Set `callback_url` for it in bot.toml and restart; until then answer the customer where they wrote and `note` what you said."
    )
}

/// The receiver refused the reply for good; `message` is its own reason.
pub fn refused(status: u16, message: &str) -> String {
    match message.is_empty() {
        true => format!("The callback's receiver refused the reply (HTTP {status})."),
        false => format!("The callback's receiver refused the reply (HTTP {status}): {message}"),
    }
}

/// The receiver refuses our signature: every reply on the account fails until the secrets agree.
pub fn signature_refused(account: &str, status: u16) -> String {
    format!(
        "The callback's receiver for `{account}` refuses carebridge's signature (HTTP {status}): make its secret match `secret` in bot.toml; replies on the account fail until they do."
    )
}

/// The receiver answered with a redirect, which a signed POST does not follow.
pub fn redirected(status: u16, location: &str) -> String {
    format!(
        "The callback URL answered with a redirect (HTTP {status} to {location}); set `callback_url` to the final address."
    )
}

/// The receiver asked us to slow down.
pub fn rate_limited() -> String {
    "The callback's receiver is rate-limiting replies; carebridge sends this one when it allows again.".to_owned()
}

/// The receiver had a temporary problem (a 5xx, a 408, a 409 for a repeat still in progress).
pub fn busy(status: u16) -> String {
    format!(
        "The callback's receiver had a temporary problem (HTTP {status}); carebridge tries again."
    )
}

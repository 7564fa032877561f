//! The Mastodon wording: what carebridge tells agents when an instance refuses
//! a reply or an action.
//!
//! Pure: no I/O. Sorting HTTP answers is `social::mastodon::client`'s job;
//! this module says what each outcome means for the agent and what to do.

/// The status answered is gone (deleted, or no longer visible to the account).
pub const GONE: &str = "The post is gone from Mastodon (deleted, or no longer visible to the account); there is nothing to answer.";

/// 429 from the instance.
pub fn rate_limited(account: &str) -> String {
    format!(
        "The Mastodon instance is rate-limiting `{account}`; carebridge sends it when the instance allows again."
    )
}

/// 401 from the instance: every reply fails until the token is replaced.
pub fn token_refused(account: &str) -> String {
    format!(
        "The Mastodon instance no longer accepts the access token of `{account}`: create a new one (Preferences → Development) with the read and write scopes, set `auth.access_token` in bot.toml and restart."
    )
}

/// Another 4xx, in the instance's own words.
pub fn refused(message: &str) -> String {
    format!("Mastodon refused it: {message}")
}

/// The instance could not be reached; `detail` is the transport's own words.
pub fn unreachable(detail: &str) -> String {
    format!("The Mastodon instance could not be reached ({detail}); carebridge tries again.")
}

/// The instance answered with something carebridge cannot read.
pub fn bad_response(detail: &str) -> String {
    format!("The Mastodon instance's answer could not be read ({detail}).")
}

//! The Mastodon wording: what carebridge tells agents when an instance refuses
//! a reply or an action.
//!
//! Pure: no I/O. Sorting HTTP answers is `social::mastodon::client`'s job;
//! this module says what each outcome means for the agent and what to do.

/// How the instance is named in what agents read.
pub const INSTANCE: &str = "The Mastodon instance";

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

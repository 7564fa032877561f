//! The Facebook/Instagram wording: what carebridge tells agents when Meta
//! refuses a reply or an action.
//!
//! Pure: no I/O. Sorting Graph errors is `social::meta::wire`'s job; this
//! module says what each outcome means for the agent and what to do.

use crate::social::meta::wire::{GraphError, Meaning};

/// Why Meta refused, as one sentence telling the agent what to do. `network` is
/// "Facebook" or "Instagram", `account` the bot.toml account id.
pub fn reason(error: &GraphError, meaning: Meaning, network: &str, account: &str) -> String {
    match meaning {
        Meaning::WindowClosed => format!(
            "{network} only delivers a message within 24 hours of the customer's last message (7 days with the human-agent tag, if `human_agent_tag` is on and Meta granted it). Answer publicly, or wait for them to write again."
        ),
        Meaning::Unavailable => format!(
            "{network} says this person can't get messages from the account right now (they may have blocked it or left); answer publicly instead."
        ),
        Meaning::AlreadyReplied => {
            "A private reply was already sent for this comment; the conversation continues when the customer answers.".to_owned()
        }
        Meaning::TokenInvalid => format!(
            "Meta no longer accepts the access token of `{account}`: generate a new Page token, set `auth.page_token` in bot.toml and restart."
        ),
        Meaning::Permission => format!(
            "The Meta app lacks a permission for this ({}): check that it has pages_messaging, pages_manage_engagement or instagram_manage_comments as needed.",
            error.message
        ),
        Meaning::RateLimited => format!(
            "Meta is rate-limiting `{account}`; carebridge sends it when Meta allows again."
        ),
        Meaning::Transient => "Meta had a temporary problem; carebridge tries again.".to_owned(),
        Meaning::NotFound => format!(
            "The comment or post is gone from {network} (deleted, or hidden from the account); there is nothing to answer."
        ),
        Meaning::Other => format!("{network} refused it: {}", error.message),
    }
}

/// The alert for the team when Meta refuses an account's token: every reply and DM on it
/// fails until it is replaced.
pub fn token_alert(account: &str) -> String {
    format!(
        "Meta no longer accepts the access token of `{account}`: its replies and DMs fail until a new Page token is set in bot.toml (`auth.page_token`) and carebridge restarts."
    )
}

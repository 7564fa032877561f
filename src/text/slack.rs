//! The Slack wording: every label, title, placeholder and error message the
//! Slack format layer (`chat::slack::format`) puts in front of a person, and
//! what the Slack adapter says about Web API outcomes.
//!
//! Pure: no I/O, no layout, no escaping. The format layer escapes and cuts
//! these to Slack's limits, so they are plain text here; keep them short
//! anyway (button labels ≤ 75 chars, modal titles and submit/close labels
//! ≤ 24 chars, confirm buttons ≤ 30 chars, option names ≤ 75 chars).

// ----- Case card ------------------------------------------------------------

pub use super::forms::*;

/// Label of the link to the customer's post on its network.
pub const PERMALINK_LABEL: &str = "Open on the network";

/// Title of the dialog that confirms the Close button.
pub const CLOSE_CONFIRM_TITLE: &str = "Close this case?";
/// Confirm-dialog body for closing case `case`.
pub fn close_confirm_text(case: u64) -> String {
    format!("Case #{case} will be closed. You can reopen it from its thread with !reopen.")
}
/// Confirm-dialog button that closes the case.
pub const CLOSE_CONFIRM_YES: &str = "Close case";
/// Confirm-dialog button that keeps the case open.
pub const CLOSE_CONFIRM_NO: &str = "Keep open";

/// Notification/fallback text of a card message: the card title, then the
/// start of the customer's post. Both arrive already escaped and cut.
pub fn card_fallback(title: &str, snippet: &str) -> String {
    if snippet.is_empty() {
        title.to_owned()
    } else {
        format!("{title}: {snippet}")
    }
}

// ---- Web API outcomes, told to owners and in the default channel ----

/// Why a post waits: Slack asked us to slow down.
pub const RATE_LIMITED: &str =
    "Slack is rate-limiting the bot; the message will be posted when Slack allows.";
/// A message with nothing in it cannot be posted.
pub const EMPTY_MESSAGE: &str = "There was nothing to post.";
/// A `response_url` that is not a URL.
pub const BAD_RESPONSE_URL: &str = "Slack sent an answer address that is not a URL.";
/// A stored thread id not in `channel:ts` form.
pub const BAD_THREAD: &str =
    "The case's Slack thread id is damaged; the case card must be posted again.";

/// A Slack API error code in words that say what to change.
pub fn api_error(code: &str, channel: Option<&str>, needed: Option<&str>) -> String {
    // `channel` arrives as the chat's own reference to it (a mention token).
    let channel = channel.map_or_else(|| "the channel".to_owned(), str::to_owned);
    match code {
        "not_in_channel" => format!("The bot is not a member of {channel}: invite it there (`/invite @carebridge`)."),
        "channel_not_found" => format!("Slack cannot find {channel}: check `[chat.slack.channels]` in bot.toml."),
        "is_archived" => format!("{channel} is archived: unarchive it or map the queue to another channel."),
        "missing_scope" => match needed {
            Some(scope) => format!("The Slack app lacks the `{scope}` scope: add it (or reinstall from `carebridge manifest slack`)."),
            None => "The Slack app lacks a scope it needs: reinstall it from `carebridge manifest slack`.".to_owned(),
        },
        "invalid_auth" | "not_authed" | "token_revoked" | "account_inactive" => {
            "Slack no longer accepts the bot token: set a valid `chat.slack.bot_token` and restart.".to_owned()
        }
        "msg_too_long" | "invalid_blocks" | "msg_blocks_too_long" => format!("Slack refused the message as malformed ({code})."),
        other => format!("Slack refused the call ({other})."),
    }
}

/// A setup problem, as posted in the default channel.
pub fn health(reason: &str) -> String {
    format!(":warning: carebridge needs attention: {reason}")
}

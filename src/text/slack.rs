//! Slack wording (TEMP)

// ---- Web API outcomes, told to owners and in the default channel ----

/// Why a post waits: Slack asked us to slow down.
pub const RATE_LIMITED: &str = "Slack is rate-limiting the bot; the message will be posted when Slack allows.";
/// A message with nothing in it cannot be posted.
pub const EMPTY_MESSAGE: &str = "There was nothing to post.";
/// A `response_url` that is not a URL.
pub const BAD_RESPONSE_URL: &str = "Slack sent an answer address that is not a URL.";
/// A stored thread id not in `channel:ts` form.
pub const BAD_THREAD: &str = "The case's Slack thread id is damaged; the case card must be posted again.";

/// The title of a case's modals.
pub fn case_title(case: u64) -> String {
    format!("Case #{case}")
}

/// A Slack API error code in words that say what to change.
pub fn api_error(code: &str, channel: Option<&str>, needed: Option<&str>) -> String {
    let channel = channel.map_or_else(|| "the channel".to_owned(), |c| format!("<#{c}>"));
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

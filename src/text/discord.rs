//! The Discord wording: what the Discord adapter puts in front of a person
//! beyond the shared card and form words ([`super::forms`]), and what it says
//! about REST outcomes.
//!
//! Pure: no I/O, no layout. `chat::discord::format` cuts these to Discord's
//! limits (thread names 100, modal titles and input labels 45, placeholders
//! 100, forum tag names 20); keep them short anyway.

/// A case thread's name: the case number first (agents search by it), then
/// the customer's handle.
pub fn thread_name(case: u64, handle: &str) -> String {
    format!("#{case} @{handle}")
}

/// The start every thread name of case `case` shares, which is how an
/// uncertain retry finds a thread it may already have made.
pub fn thread_prefix(case: u64) -> String {
    format!("#{case} ")
}

/// Why a team message (the digest) cannot be posted: forums take only posts.
pub const NO_TEXT_CHANNEL: &str = "The queue's channel and the default channel are both forums, \
which take no plain messages: map the queue to a text channel in [chat.discord.channels].";

/// What an interaction's deferred answer says when the command needed no
/// other answer (the case thread shows what happened).
pub const DONE: &str = "Done.";

/// Reply modal, on Discord: modals hold text inputs only, so the card's
/// Reply… answers the customer; notes and DMs are `/care note` and `/care dm`.
pub const REPLY_HINT: &str = "Goes to the customer once approved.";

/// Offline modal, on Discord: the channel is typed, not chosen from a list.
pub const OFFLINE_CHANNEL_PLACEHOLDER: &str = "email, sms or dm";

/// A modal whose inputs could not become a command: every problem, one per line.
pub fn form_errors(errors: &[(&str, &str)]) -> String {
    let lines: Vec<String> = errors
        .iter()
        .map(|(field, error)| format!("**{field}**: {error}"))
        .collect();
    format!(
        "Nothing was done; please fix this and try again:\n{}",
        lines.join("\n")
    )
}

/// A Discord REST refusal in words that say what to change. `code` is
/// Discord's JSON error code, `place` the channel as a mention.
pub fn api_error(status: u16, code: isize, place: Option<&str>) -> String {
    let place = place.map_or_else(|| "the channel".to_owned(), str::to_owned);
    match (status, code) {
        (401, _) => {
            "Discord no longer accepts the bot token: set a valid `chat.discord.token` and restart."
                .to_owned()
        }
        (_, 10003) => {
            format!("Discord cannot find {place}: check `[chat.discord.channels]` in bot.toml.")
        }
        (_, 50001) => format!("The bot cannot see {place}: give its role View Channel there."),
        (_, 50013) => format!(
            "The bot lacks a permission in {place}: re-invite it with the URL from `carebridge manifest discord --invite`, or grant its role Send Messages, Send Messages in Threads, Create Public Threads, Manage Threads and Embed Links there."
        ),
        (_, 50008) | (_, 50024) => {
            format!("{place} is not a text or forum channel: map the queue to one.")
        }
        (_, 40067) => format!(
            "{place} requires a tag on every post: carebridge adds network, urgency and status tags; give the bot Manage Channels so it can create them."
        ),
        (_, 160002) | (_, 50083) => {
            "The case's thread is archived and locked: unlock it (Manage Threads) and retry."
                .to_owned()
        }
        (_, 10008) => "The message is gone from Discord (deleted?).".to_owned(),
        (_, 50035) => "Discord refused the message as malformed.".to_owned(),
        (status, code) => format!("Discord refused the call (HTTP {status}, code {code})."),
    }
}

/// Why a post waits: Discord asked us to slow down.
pub const RATE_LIMITED: &str =
    "Discord is rate-limiting the bot; the message will be posted when Discord allows.";

/// A message with nothing in it cannot be posted.
pub const EMPTY_MESSAGE: &str = "There was nothing to post.";

/// A Discord call that got no answer in time.
pub const TIMED_OUT: &str = "Discord did not answer in time; trying again.";

/// A stored card or message id not in `channel:message` form.
pub const BAD_ID: &str =
    "The case's Discord message id is damaged; the case card must be posted again.";

/// A setup problem, as posted in the default channel.
pub fn health(reason: &str) -> String {
    format!("⚠️ carebridge needs attention: {reason}")
}

/// The line `carebridge manifest discord` prints after the command JSON.
pub fn invite(url: &str) -> String {
    format!("Invite the bot with: {url}")
}

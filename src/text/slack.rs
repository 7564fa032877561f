//! The Slack wording: every label, title, placeholder and error message the
//! Slack format layer (`chat::slack::format`) puts in front of a person, and
//! what the Slack adapter says about Web API outcomes.
//!
//! Pure: no I/O, no layout, no escaping. The format layer escapes and cuts
//! these to Slack's limits, so they are plain text here; keep them short
//! anyway (button labels ≤ 75 chars, modal titles and submit/close labels
//! ≤ 24 chars, confirm buttons ≤ 30 chars, option names ≤ 75 chars).

// ----- Case card ------------------------------------------------------------

/// Card button: take the case.
pub const BUTTON_CLAIM: &str = "Claim";
/// Card button: open the reply modal.
pub const BUTTON_REPLY: &str = "Reply…";
/// Card button: open the escalation modal.
pub const BUTTON_ESCALATE: &str = "Escalate…";
/// Card button: open the take-offline modal.
pub const BUTTON_OFFLINE: &str = "Offline…";
/// Card button: close the case (after a confirm dialog).
pub const BUTTON_CLOSE: &str = "Close";

/// Card header when the card has no title (Slack rejects empty headers).
pub fn card_title_fallback(case: u64) -> String {
    format!("Case #{case}")
}

/// Label of the link to the customer's post on its network.
pub const PERMALINK_LABEL: &str = "Open on the network";

/// Shown in place of the customer's text when the post has none (a photo, a
/// sticker…); Slack rejects empty text objects.
pub const NO_TEXT: &str = "(no text)";

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

// ----- Modals ---------------------------------------------------------------

/// Modal title for case `case`, e.g. "Reply · #123". The format layer falls
/// back to `base` alone when this does not fit Slack's 24-char title limit.
pub fn modal_title(base: &str, case: u64) -> String {
    format!("{base} · #{case}")
}

/// The modals' cancel button.
pub const MODAL_CANCEL: &str = "Cancel";

/// Reply modal: title.
pub const REPLY_TITLE: &str = "Reply";
/// Reply modal: submit button.
pub const REPLY_SUBMIT: &str = "Send";
/// Reply modal: the message input's label.
pub const REPLY_TEXT_LABEL: &str = "Message";
/// Reply modal: the message input's placeholder.
pub const REPLY_TEXT_PLACEHOLDER: &str = "What should we say?";
/// Reply modal: label of the "how to send it" choice.
pub const REPLY_KIND_LABEL: &str = "Send as";
/// Reply modal: hint under the "how to send it" choice.
pub const REPLY_KIND_HINT: &str =
    "Public replies and direct messages go to the customer; internal notes stay in this thread.";
/// Reply modal option: answer publicly on the network.
pub const REPLY_KIND_PUBLIC: &str = "Public reply";
/// Reply modal option: answer in a direct message.
pub const REPLY_KIND_DM: &str = "Direct message";
/// Reply modal option: an internal note, never sent to the customer.
pub const REPLY_KIND_NOTE: &str = "Internal note";

/// Escalate modal: title.
pub const ESCALATE_TITLE: &str = "Escalate";
/// Escalate modal: submit button.
pub const ESCALATE_SUBMIT: &str = "Escalate";
/// Escalate modal: team input label.
pub const ESCALATE_TEAM_LABEL: &str = "Team";
/// Escalate modal: team input placeholder.
pub const ESCALATE_TEAM_PLACEHOLDER: &str = "e.g. billing";
/// Escalate modal: reason input label.
pub const ESCALATE_REASON_LABEL: &str = "Reason";
/// Escalate modal: reason input placeholder.
pub const ESCALATE_REASON_PLACEHOLDER: &str = "Why does this need them?";

/// Offline modal: title.
pub const OFFLINE_TITLE: &str = "Take offline";
/// Offline modal: submit button.
pub const OFFLINE_SUBMIT: &str = "Take offline";
/// Offline modal: channel choice label.
pub const OFFLINE_CHANNEL_LABEL: &str = "Continue by";
/// Offline modal: channel choice placeholder.
pub const OFFLINE_CHANNEL_PLACEHOLDER: &str = "Choose a channel";
/// Offline modal option: email.
pub const OFFLINE_CHANNEL_EMAIL: &str = "Email";
/// Offline modal option: text message.
pub const OFFLINE_CHANNEL_SMS: &str = "SMS";
/// Offline modal option: the network's direct messages.
pub const OFFLINE_CHANNEL_DM: &str = "Direct message";
/// Offline modal: address input label (our address, which the customer is
/// asked to contact).
pub const OFFLINE_ADDRESS_LABEL: &str = "Our address to share";
/// Offline modal: address input placeholder.
pub const OFFLINE_ADDRESS_PLACEHOLDER: &str = "e.g. care@example.com";
/// Offline modal: hint under the address input.
pub const OFFLINE_ADDRESS_HINT: &str =
    "Leave blank to point the customer to the address in our profile.";

/// Close modal: title.
pub const CLOSE_TITLE: &str = "Close case";
/// Close modal: submit button.
pub const CLOSE_SUBMIT: &str = "Close case";
/// Close modal: note input label.
pub const CLOSE_NOTE_LABEL: &str = "Closing note";
/// Close modal: note input placeholder.
pub const CLOSE_NOTE_PLACEHOLDER: &str = "Optional: how was it resolved?";

// ----- Field errors (shown under the input by Slack) ------------------------

/// The reply modal was submitted without a message.
pub const ERR_TEXT_REQUIRED: &str = "Write the message first.";
/// No (or an unknown) reply kind was chosen.
pub const ERR_KIND_REQUIRED: &str = "Choose how to send this.";
/// The escalate modal was submitted without a team.
pub const ERR_TEAM_REQUIRED: &str = "Name the team to escalate to.";
/// No (or an unknown) offline channel was chosen.
pub const ERR_CHANNEL_REQUIRED: &str = "Choose a channel.";
/// An input holds more than `max` characters.
pub fn err_too_long(max: usize) -> String {
    format!("Keep it to {max} characters or fewer.")
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

/// The title of a case's modals.
pub fn case_title(case: u64) -> String {
    format!("Case #{case}")
}

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

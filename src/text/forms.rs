//! The wording of the case card's buttons and of the modals they open,
//! shared by every chat (see `chat::form`): labels, titles, placeholders and
//! the errors shown for a submitted form.
//!
//! Pure: no I/O, no layout, no escaping. Each chat's format layer cuts these
//! to its own limits; keep them short anyway (button labels ≤ 75 chars,
//! modal titles and submit/close labels ≤ 24 chars, option names ≤ 75).

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

// ----- Modals ---------------------------------------------------------------

/// Modal title for case `case`, e.g. "Reply · #123". A format layer falls
/// back to `base` alone when this does not fit its title limit.
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

// ----- Field errors (shown under the input, or listed back) ------------------

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

/// The title of a case's modals.
pub fn case_title(case: u64) -> String {
    format!("Case #{case}")
}

/// Card header when the card has no title (Slack rejects empty headers).
pub fn card_title_fallback(case: u64) -> String {
    format!("Case #{case}")
}

/// Shown in place of the customer's text when the post has none (a photo, a
/// sticker…); chats reject empty text.
pub const NO_TEXT: &str = "(no text)";

//! The case card's buttons and the modals they open, shared by every chat
//! adapter: which buttons a card has, which inputs each modal asks for, and
//! how a submitted modal becomes an engine [`Command`].
//!
//! Owns the meaning of the forms, not their look: Slack renders them as Block
//! Kit, Discord as components and text inputs, each in its own `format`
//! module. No I/O; no workflow (whether the command is allowed is the
//! engine's call). Wording comes from [`crate::text::forms`].

use std::collections::HashMap;

use crate::engine::{Command, OfflineChannel};
use crate::text::forms as words;

/// The buttons on a case card. Claim and Close act at once (Close after a
/// confirm dialog); the others open a [`ModalKind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardButton {
    Claim,
    Reply,
    Escalate,
    Offline,
    Close,
}

impl CardButton {
    /// Every button, in card order.
    pub const ALL: [CardButton; 5] = [
        CardButton::Claim,
        CardButton::Reply,
        CardButton::Escalate,
        CardButton::Offline,
        CardButton::Close,
    ];

    /// The button's `action_id`.
    pub fn action_id(self) -> &'static str {
        match self {
            CardButton::Claim => "care.claim",
            CardButton::Reply => "care.reply",
            CardButton::Escalate => "care.escalate",
            CardButton::Offline => "care.offline",
            CardButton::Close => "care.close",
        }
    }

    /// The button with this `action_id`.
    pub fn from_action_id(action_id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.action_id() == action_id)
    }

    pub fn label(self) -> &'static str {
        match self {
            CardButton::Claim => words::BUTTON_CLAIM,
            CardButton::Reply => words::BUTTON_REPLY,
            CardButton::Escalate => words::BUTTON_ESCALATE,
            CardButton::Offline => words::BUTTON_OFFLINE,
            CardButton::Close => words::BUTTON_CLOSE,
        }
    }
}

/// Ids of the modal inputs (Slack uses each as both `block_id` and
/// `action_id`; Discord as the text input's `custom_id`).
pub mod input {
    /// Reply modal: the message.
    pub const TEXT: &str = "text";
    /// Reply modal: reply / dm / note.
    pub const KIND: &str = "kind";
    /// Escalate modal: the team.
    pub const TEAM: &str = "team";
    /// Escalate modal: the reason.
    pub const REASON: &str = "reason";
    /// Offline modal: email / sms / dm.
    pub const CHANNEL: &str = "channel";
    /// Offline modal: our address to give the customer.
    pub const ADDRESS: &str = "address";
    /// Close modal: the closing note.
    pub const NOTE: &str = "note";
}

/// Reply kind option values.
pub const KIND_REPLY: &str = "reply";
pub const KIND_DM: &str = "dm";
pub const KIND_NOTE: &str = "note";

/// The modals a case action can open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModalKind {
    /// Public reply, direct message or internal note.
    Reply,
    /// Hand the case to another team.
    Escalate,
    /// Move the conversation off the public network.
    Offline,
    /// Close with an optional note. Not opened by the card (its Close button
    /// closes directly after a confirm dialog); here in case we want a note.
    Close,
}

impl ModalKind {
    /// Every modal kind.
    pub const ALL: [ModalKind; 4] = [
        ModalKind::Reply,
        ModalKind::Escalate,
        ModalKind::Offline,
        ModalKind::Close,
    ];

    /// The modal a card button opens; `None` for Claim and Close, which act directly.
    pub fn from_action(action_id: &str) -> Option<Self> {
        match CardButton::from_action_id(action_id)? {
            CardButton::Reply => Some(ModalKind::Reply),
            CardButton::Escalate => Some(ModalKind::Escalate),
            CardButton::Offline => Some(ModalKind::Offline),
            CardButton::Claim | CardButton::Close => None,
        }
    }

    /// The modal's `callback_id`.
    pub fn callback_id(self) -> &'static str {
        match self {
            ModalKind::Reply => "care.reply",
            ModalKind::Escalate => "care.escalate",
            ModalKind::Offline => "care.offline",
            ModalKind::Close => "care.close",
        }
    }

    /// The modal with this `callback_id`.
    pub fn from_callback_id(callback_id: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|k| k.callback_id() == callback_id)
    }

    pub fn title(self) -> &'static str {
        match self {
            ModalKind::Reply => words::REPLY_TITLE,
            ModalKind::Escalate => words::ESCALATE_TITLE,
            ModalKind::Offline => words::OFFLINE_TITLE,
            ModalKind::Close => words::CLOSE_TITLE,
        }
    }

    pub fn submit(self) -> &'static str {
        match self {
            ModalKind::Reply => words::REPLY_SUBMIT,
            ModalKind::Escalate => words::ESCALATE_SUBMIT,
            ModalKind::Offline => words::OFFLINE_SUBMIT,
            ModalKind::Close => words::CLOSE_SUBMIT,
        }
    }
}

/// Messages to show for modal inputs, by input id. A plain map, so it goes
/// as-is into Slack's `SlackViewSubmissionErrorsResponse` or a JSON body.
pub type FieldErrors = HashMap<String, String>;

/// How long each input may be, in characters: the chat's own limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Message, reason and note inputs.
    pub text: usize,
    /// The escalation team.
    pub team: usize,
    /// The offline address.
    pub address: usize,
}

/// The command a submitted `kind` modal asks for. `lookup` gives an input's
/// submitted value by its [`input`] id (a select's chosen value, or a text
/// input's text); blank required inputs, unknown choices and over-long
/// text become field errors, all of them at once.
pub fn command<'a>(
    kind: ModalKind,
    lookup: &dyn Fn(&str) -> Option<&'a str>,
    limits: Limits,
) -> Result<Command, FieldErrors> {
    let mut form = Form {
        lookup,
        errors: FieldErrors::new(),
    };
    let command = match kind {
        ModalKind::Reply => {
            let text = form.required(input::TEXT, limits.text, words::ERR_TEXT_REQUIRED);
            let kind = form.choice(input::KIND, words::ERR_KIND_REQUIRED, |v| match v {
                KIND_REPLY => Some(KIND_REPLY),
                KIND_DM => Some(KIND_DM),
                KIND_NOTE => Some(KIND_NOTE),
                _ => None,
            });
            match (text, kind) {
                (Some(text), Some(KIND_DM)) => Some(Command::Dm { text }),
                (Some(text), Some(KIND_NOTE)) => Some(Command::Note { text }),
                (Some(text), Some(_)) => Some(Command::Reply { text }),
                _ => None,
            }
        }
        ModalKind::Escalate => {
            let team = form.required(input::TEAM, limits.team, words::ERR_TEAM_REQUIRED);
            let reason = form.optional(input::REASON, limits.text);
            team.map(|team| Command::Escalate { team, reason })
        }
        ModalKind::Offline => {
            let channel = form.choice(
                input::CHANNEL,
                words::ERR_CHANNEL_REQUIRED,
                OfflineChannel::from_key,
            );
            let address = form.optional(input::ADDRESS, limits.address);
            channel.map(|channel| Command::Offline { channel, address })
        }
        ModalKind::Close => {
            let note = form.optional(input::NOTE, limits.text);
            Some(Command::Close { note })
        }
    };
    match command {
        Some(command) if form.errors.is_empty() => Ok(command),
        _ => Err(form.errors),
    }
}

/// Reads a submitted modal's inputs, collecting errors as it goes so the
/// person sees every problem at once.
struct Form<'a, 'l> {
    lookup: &'l dyn Fn(&str) -> Option<&'a str>,
    errors: FieldErrors,
}

impl<'a> Form<'a, '_> {
    /// The input's value, as the chat reported it.
    fn raw(&self, id: &str) -> Option<&'a str> {
        (self.lookup)(id)
    }

    /// Trimmed text, or an error if blank or over `max`.
    fn required(&mut self, id: &str, max: usize, blank: &str) -> Option<String> {
        match self.raw(id).map(str::trim).filter(|t| !t.is_empty()) {
            None => {
                self.errors.insert(id.to_owned(), blank.to_owned());
                None
            }
            Some(text) => self.within(id, text, max),
        }
    }

    /// Trimmed text, `None` if blank; an error if over `max`.
    fn optional(&mut self, id: &str, max: usize) -> Option<String> {
        let text = self.raw(id).map(str::trim).filter(|t| !t.is_empty())?;
        self.within(id, text, max)
    }

    /// The chat enforces `max_length` in its client; check again so a forged
    /// or replayed payload cannot carry more than the modal allows.
    fn within(&mut self, id: &str, text: &str, max: usize) -> Option<String> {
        if text.chars().count() > max {
            self.errors.insert(id.to_owned(), words::err_too_long(max));
            None
        } else {
            Some(text.to_owned())
        }
    }

    /// A selected option mapped by `parse`, or an error if missing/unknown.
    fn choice<T>(
        &mut self,
        id: &str,
        missing: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Option<T> {
        let chosen = self.raw(id).and_then(parse);
        if chosen.is_none() {
            self.errors.insert(id.to_owned(), missing.to_owned());
        }
        chosen
    }
}

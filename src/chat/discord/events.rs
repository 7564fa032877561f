//! Discord's gateway events, as serenity parses them, translated into
//! [`Request`]s: who acted (and the roles Discord told us they hold), what
//! they did, and where the answer goes. Pure: no I/O, no workflow. Which case
//! a thread is, and whether the person may act, is decided later by
//! `chat::route` and the engine.

use serenity::all::{
    ActionRowComponent, ChannelType, CommandDataOption, CommandDataOptionValue, CommandInteraction,
    ComponentInteraction, Interaction, Message, ModalInteraction, Reaction, ReactionType,
};

use super::format::{self, Press, SubmissionError};
use crate::chat::form::ModalKind;
use crate::engine::Command;

/// The `/care` command's name, as registered from `commands/`.
pub const COMMAND: &str = "care";

/// One thing a person did, ready for the adapter's worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Discord user id of the person who acted.
    pub user: u64,
    /// Their roles, when the event carried their member object (reaction
    /// removals do not: the worker looks them up).
    pub roles: Option<Vec<u64>>,
    pub what: What,
    /// Dedupe key (`discord:<kind>:<id>`) for events Discord might send again.
    pub event: Option<String>,
    pub reply: ReplyTo,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum What {
    /// A message in a thread (only with `thread_commands`).
    Message { thread: String, text: String },
    /// `/care <name> options…`, inside a thread (which may be a case's) or not.
    Slash {
        thread: Option<String>,
        name: String,
        options: Vec<(String, String)>,
    },
    /// A reaction on a message (`channel:message`).
    Reaction {
        message: String,
        emoji: String,
        added: bool,
    },
    /// A button or modal that maps straight to a command.
    Action { case: u64, command: Command },
    /// A modal whose inputs need fixing: tell the person.
    Invalid { text: String },
}

/// Where the answer to a request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyTo {
    /// The interaction's deferred ephemeral answer (`@original`), by token.
    Interaction(String),
    /// A reply to a message in a thread (thread messages and reactions: Discord
    /// has no ephemeral messages outside interactions).
    Message { channel: String, message: String },
}

/// How an interaction must be acknowledged within Discord's 3 seconds,
/// before any work is done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ack {
    /// "Thinking…", visible only to the person; the answer follows.
    Defer,
    /// Open this modal (which is itself the acknowledgement).
    Modal { kind: ModalKind, case: u64 },
}

/// A chat-wide message id: Discord message ids are global, but the REST
/// paths need the channel too.
pub fn message_id(channel: u64, message: u64) -> String {
    format!("{channel}:{message}")
}

/// The inverse of [`message_id`].
pub fn split_id(id: &str) -> Option<(u64, u64)> {
    let (channel, message) = id.split_once(':')?;
    Some((channel.parse().ok()?, message.parse().ok()?))
}

/// A message in a guild channel. `None` for bots (ourselves included),
/// webhooks and system messages. Whether its channel is a case thread is
/// the worker's question (messages elsewhere are dropped silently there).
pub fn message(message: &Message) -> Option<Request> {
    if message.author.bot || message.webhook_id.is_some() || message.guild_id.is_none() {
        return None;
    }
    // Replies count as talk; joins, pins, thread-created notices do not.
    if !matches!(
        message.kind,
        serenity::all::MessageType::Regular | serenity::all::MessageType::InlineReply
    ) {
        return None;
    }
    let text = message.content.trim();
    if text.is_empty() {
        return None;
    }
    let roles = message
        .member
        .as_ref()
        .map(|m| m.roles.iter().map(|r| r.get()).collect());
    Some(Request {
        user: message.author.id.get(),
        roles,
        what: What::Message {
            thread: message.channel_id.get().to_string(),
            text: text.to_owned(),
        },
        event: Some(format!("discord:m:{}", message.id.get())),
        reply: ReplyTo::Message {
            channel: message.channel_id.get().to_string(),
            message: message.id.get().to_string(),
        },
    })
}

/// A reaction added or removed. `None` for our own reactions.
pub fn reaction(reaction: &Reaction, added: bool, me: u64) -> Option<Request> {
    let user = reaction.user_id?.get();
    if user == me {
        return None;
    }
    let emoji = match &reaction.emoji {
        ReactionType::Unicode(emoji) => emoji.clone(),
        // Custom emoji are matched by name, as `[approval]` lists them.
        ReactionType::Custom { name, .. } => name.clone()?,
        _ => return None,
    };
    let roles = reaction
        .member
        .as_ref()
        .map(|m| m.roles.iter().map(|r| r.get()).collect());
    let channel = reaction.channel_id.get();
    let message = reaction.message_id.get();
    Some(Request {
        user,
        roles,
        what: What::Reaction {
            message: message_id(channel, message),
            emoji,
            added,
        },
        // Discord gives reactions no id, and an add, remove, add again is
        // meaningful: the engine's approval rules make repeats harmless.
        event: None,
        reply: ReplyTo::Message {
            channel: channel.to_string(),
            message: message.to_string(),
        },
    })
}

/// An interaction: the request to queue (if any) and how to acknowledge it
/// at once. `None`: not ours (another command, an autocomplete, a ping).
pub fn interaction(interaction: &Interaction) -> Option<(Ack, Option<Request>)> {
    match interaction {
        Interaction::Command(command) => slash(command).map(|r| (Ack::Defer, Some(r))),
        Interaction::Component(component) => button(component),
        Interaction::Modal(modal) => Some((Ack::Defer, Some(submitted(modal)))),
        _ => None,
    }
}

/// Roles from an interaction's member (always present in a guild).
fn member_roles(member: Option<&serenity::all::Member>) -> Option<Vec<u64>> {
    member.map(|m| m.roles.iter().map(|r| r.get()).collect())
}

fn slash(command: &CommandInteraction) -> Option<Request> {
    if command.data.name != COMMAND {
        return None;
    }
    // `/care <sub> …`: one sub-command option holding the arguments.
    let (name, options) = match command.data.options.first() {
        Some(CommandDataOption {
            name,
            value: CommandDataOptionValue::SubCommand(options),
            ..
        }) => (name.clone(), options),
        _ => return None,
    };
    let options = options
        .iter()
        .filter_map(|o| option_text(&o.value).map(|v| (o.name.clone(), v)))
        .collect();
    // Only a thread can be a case's; Discord says which channels are threads.
    let thread = command
        .channel
        .as_ref()
        .filter(|c| {
            matches!(
                c.kind,
                ChannelType::PublicThread | ChannelType::PrivateThread | ChannelType::NewsThread
            )
        })
        .map(|c| c.id.get().to_string());
    Some(Request {
        user: command.user.id.get(),
        roles: member_roles(command.member.as_deref()),
        what: What::Slash {
            thread,
            name,
            options,
        },
        event: Some(format!("discord:i:{}", command.id.get())),
        reply: ReplyTo::Interaction(command.token.clone()),
    })
}

/// An option's value as the text the command specs parse.
fn option_text(value: &CommandDataOptionValue) -> Option<String> {
    Some(match value {
        CommandDataOptionValue::String(s) => s.clone(),
        CommandDataOptionValue::Integer(n) => n.to_string(),
        CommandDataOptionValue::Number(n) => n.to_string(),
        CommandDataOptionValue::Boolean(b) => b.to_string(),
        CommandDataOptionValue::User(u) => format!("<@{}>", u.get()),
        _ => return None,
    })
}

fn button(component: &ComponentInteraction) -> Option<(Ack, Option<Request>)> {
    match format::button_press(&component.data.custom_id)? {
        Press::Modal { case, kind } => Some((Ack::Modal { kind, case }, None)),
        Press::Command { case, command } => Some((
            Ack::Defer,
            Some(Request {
                user: component.user.id.get(),
                roles: member_roles(component.member.as_ref()),
                what: What::Action { case, command },
                event: Some(format!("discord:i:{}", component.id.get())),
                reply: ReplyTo::Interaction(component.token.clone()),
            }),
        )),
    }
}

fn submitted(modal: &ModalInteraction) -> Request {
    let fields: Vec<(String, String)> = modal
        .data
        .components
        .iter()
        .flat_map(|row| &row.components)
        .filter_map(|c| match c {
            ActionRowComponent::InputText(input) => Some((
                input.custom_id.clone(),
                input.value.clone().unwrap_or_default(),
            )),
            _ => None,
        })
        .collect();
    let what = match format::submission(&modal.data.custom_id, &fields) {
        Ok((case, command)) => What::Action { case, command },
        Err(SubmissionError::Invalid { errors, .. }) => What::Invalid {
            text: format::form_errors(&errors),
        },
        Err(SubmissionError::Unknown(id)) => {
            tracing::warn!(custom_id = %id, "A modal that is not ours was submitted.");
            What::Invalid {
                text: crate::text::internal_error(),
            }
        }
    };
    Request {
        user: modal.user.id.get(),
        roles: member_roles(modal.member.as_ref()),
        what,
        event: Some(format!("discord:i:{}", modal.id.get())),
        reply: ReplyTo::Interaction(modal.token.clone()),
    }
}

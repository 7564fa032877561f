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

#[cfg(test)]
mod tests {
    //! Recorded payloads in Discord's documented shapes
    //! (`tests/data/discord/`), parsed by serenity as the gateway would.
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use serde::de::DeserializeOwned;

    use super::*;

    const ME: u64 = 1300000000000000001;
    const MARIA: u64 = 1600000000000000001;
    const LEE: u64 = 1600000000000000002;
    const THREAD: &str = "1700000000000000050";
    const TOKEN: &str = "aW50ZXJhY3Rpb246MTcwMDAwMDAwMDAwMDAwMDMwMTp0b2tlbg";

    fn fixture<T: DeserializeOwned>(name: &str) -> T {
        let path = format!("{}/tests/data/discord/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap();
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    fn interaction_request(name: &str) -> (Ack, Option<Request>) {
        interaction(&fixture::<Interaction>(name)).unwrap()
    }

    #[test]
    fn a_thread_message_carries_its_author_and_roles() {
        let request = message(&fixture("message_create_thread.json")).unwrap();
        assert_eq!(
            request,
            Request {
                user: MARIA,
                roles: Some(vec![1500000000000000001]),
                what: What::Message {
                    thread: THREAD.into(),
                    text: "!claim".into()
                },
                event: Some("discord:m:1700000000000000101".into()),
                reply: ReplyTo::Message {
                    channel: THREAD.into(),
                    message: "1700000000000000101".into()
                },
            }
        );
        // Our own messages (any bot's) are never commands or notes.
        assert_eq!(message(&fixture("message_create_bot.json")), None);
    }

    #[test]
    fn reactions_name_the_message_and_emoji() {
        let added = reaction(&fixture("reaction_add.json"), true, ME).unwrap();
        assert_eq!(added.user, LEE);
        assert_eq!(
            added.roles,
            Some(vec![1500000000000000001, 1500000000000000002])
        );
        assert_eq!(
            added.what,
            What::Reaction {
                message: format!("{THREAD}:1700000000000000201"),
                emoji: "✅".into(),
                added: true
            }
        );
        // A removal carries no member: the worker looks the roles up.
        let removed = reaction(&fixture("reaction_remove.json"), false, ME).unwrap();
        assert_eq!(removed.roles, None);
        assert!(matches!(removed.what, What::Reaction { added: false, .. }));
        // Custom emoji count by name; our own reactions not at all.
        let custom = reaction(&fixture("reaction_add_custom.json"), true, ME).unwrap();
        assert!(matches!(custom.what, What::Reaction { ref emoji, .. } if emoji == "approved"));
        assert_eq!(reaction(&fixture("reaction_add.json"), true, LEE), None);
    }

    #[test]
    fn a_slash_command_in_a_thread_needs_no_case_number() {
        let (ack, request) = interaction_request("interaction_slash_in_thread.json");
        assert_eq!(ack, Ack::Defer);
        let request = request.unwrap();
        assert_eq!(request.user, MARIA);
        assert_eq!(
            request.what,
            What::Slash {
                thread: Some(THREAD.into()),
                name: "reply".into(),
                options: vec![("text".into(), "Sorry about that, Jane!".into())],
            }
        );
        assert_eq!(
            request.event.as_deref(),
            Some("discord:i:1700000000000000301")
        );
        assert_eq!(request.reply, ReplyTo::Interaction(TOKEN.into()));
    }

    #[test]
    fn a_slash_command_outside_threads_names_its_case() {
        let (_, request) = interaction_request("interaction_slash_in_channel.json");
        assert_eq!(
            request.unwrap().what,
            What::Slash {
                thread: None,
                name: "escalate".into(),
                options: vec![
                    ("team".into(), "billing".into()),
                    ("case".into(), "42".into())
                ],
            }
        );
    }

    #[test]
    fn buttons_act_or_open_their_modal() {
        let (ack, request) = interaction_request("interaction_button_claim.json");
        assert_eq!(ack, Ack::Defer);
        assert_eq!(
            request.unwrap().what,
            What::Action {
                case: 42,
                command: Command::Claim
            }
        );
        let (ack, request) = interaction_request("interaction_button_escalate.json");
        assert_eq!(
            ack,
            Ack::Modal {
                kind: ModalKind::Escalate,
                case: 42
            }
        );
        assert_eq!(request, None, "the modal's submission is the request");
    }

    #[test]
    fn modal_submissions_become_commands_or_say_what_to_fix() {
        let (ack, request) = interaction_request("interaction_modal_escalate.json");
        assert_eq!(ack, Ack::Defer);
        assert_eq!(
            request.unwrap().what,
            What::Action {
                case: 42,
                command: Command::Escalate {
                    team: "billing".into(),
                    reason: Some("Refund over the limit".into())
                }
            }
        );
        let (_, request) = interaction_request("interaction_modal_offline_invalid.json");
        let What::Invalid { text } = request.unwrap().what else {
            panic!("an unknown channel must be said back");
        };
        assert!(text.contains("Continue by"), "{text}");
    }

    #[test]
    fn message_ids_round_trip() {
        assert_eq!(split_id(&message_id(1, 2)), Some((1, 2)));
        assert_eq!(split_id("1"), None);
        assert_eq!(split_id("a:2"), None);
    }
}

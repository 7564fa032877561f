//! The chat side: what people do in Slack, Discord or the console, turned into
//! engine inputs; and the surface trait the dispatcher uses to show cases.
//!
//! `route` is shared by every chat adapter: it finds the case an event is
//! about, parses `!commands` and `/care` lines with the specs from
//! `commands/`, runs the input through the service and returns what to tell
//! the person who acted. Adapters only translate their platform's events into
//! [`ChatEvent`]s and the dispatcher's calls into API requests.

pub mod console;
pub mod discord;
pub mod form;
pub mod intake;
pub mod slack;
pub mod split;

use chrono::{DateTime, Utc};

use crate::commands::{Invocation, Parsed, Specs};
use crate::dispatch::{BoxFuture, DeliveryError};
use crate::engine::{Actor, Case, ChatThread, Command, Input, OfflineChannel, Permission};
use crate::service::{Applied, Service};
use crate::store::StoreError;
use crate::text;

/// Prefix of a command typed as a thread message (Slack runs no slash
/// commands inside threads, so `!claim` is how a thread is worked there).
pub const COMMAND_PREFIX: char = '!';

/// Which effect a surface call performs, for idempotency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// Stable across retries and restarts (`effect-<outbox id>`).
    pub key: String,
    /// An earlier attempt may have gone through without its result being
    /// recorded (a retry, or an entry inherited from a process that died).
    pub uncertain: bool,
}

/// A chat surface the dispatcher can show cases on.
///
/// Every call carries an [`Attempt`]: a surface that can look up whether an
/// uncertain earlier attempt with that key went through must not repeat it.
pub trait ChatSurface: Send + Sync + 'static {
    /// How a user id is written as a mention on this surface.
    fn mention(&self, user: &str) -> String;
    /// Posts the case card; the returned thread is where the case lives.
    fn post_card<'a>(
        &'a self,
        attempt: &'a Attempt,
        case: &'a Case,
        card: &'a text::Card,
    ) -> BoxFuture<'a, Result<ChatThread, DeliveryError>>;
    /// Updates the case card in place.
    fn update_card<'a>(
        &'a self,
        attempt: &'a Attempt,
        case: &'a Case,
        thread: &'a ChatThread,
        card: &'a text::Card,
    ) -> BoxFuture<'a, Result<(), DeliveryError>>;
    /// Posts a message into the case thread; returns its message id.
    fn post<'a>(
        &'a self,
        attempt: &'a Attempt,
        case: &'a Case,
        thread: &'a ChatThread,
        text: &'a str,
    ) -> BoxFuture<'a, Result<String, DeliveryError>>;
    /// Tells the team about a problem with the bot's setup (a network token that no longer
    /// works) where everyone sees it: the default channel, not one case's thread.
    fn alert<'a>(&'a self, text: &'a str) -> BoxFuture<'a, Result<(), DeliveryError>>;
    /// How the sweep's message for `queue` pings whoever is on call for it (the chat's
    /// `on_call` table), if anyone is.
    fn on_call(&self, _queue: &str) -> Option<String> {
        None
    }

    /// Posts a message for the team, about no one case (the digest, the sweep's alerts), to
    /// the channel of `queue`, or the default channel where the queue has none of its own.
    /// With `aligned`, the lines after the first are a table (the digest) that a chat with
    /// code blocks keeps aligned in one; mentions must not be in it, as they would not ping
    /// there. An uncertain attempt must not post twice where the surface can tell it did.
    fn post_channel<'a>(
        &'a self,
        attempt: &'a Attempt,
        queue: &'a str,
        text: &'a str,
        aligned: bool,
    ) -> BoxFuture<'a, Result<(), DeliveryError>>;
}

/// Something a person did in the chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatEvent {
    /// A message in a thread: a `!command`, or else an internal note.
    ThreadMessage {
        actor: Actor,
        thread: String,
        text: String,
        event: Option<String>,
    },
    /// A `/care <command> <case> …` line from outside any thread.
    Slash {
        actor: Actor,
        text: String,
        event: Option<String>,
    },
    /// A command given as a name and named options (Discord's `/care <sub>
    /// option:value…`). Inside a case's `thread` that case is meant; an
    /// explicit `case` option names one anywhere.
    Options {
        actor: Actor,
        thread: Option<String>,
        name: String,
        options: Vec<(String, String)>,
        event: Option<String>,
    },
    /// A button or form that names its case and command directly.
    Action {
        actor: Actor,
        case: u64,
        command: Command,
        event: Option<String>,
    },
    /// A reaction added to or removed from a chat message.
    Reaction {
        actor: Actor,
        message: String,
        emoji: String,
        added: bool,
        event: Option<String>,
    },
}

/// Turns parsed command arguments into the engine's typed command.
pub fn command(parsed: &Parsed) -> Option<Command> {
    let get = |name: &str| parsed.string(name).map(str::to_owned);
    Some(match parsed.name.as_str() {
        "claim" => Command::Claim,
        "unclaim" => Command::Unclaim,
        "assign" => Command::Assign { user: get("user")? },
        "reply" => Command::Reply { text: get("text")? },
        "dm" => Command::Dm { text: get("text")? },
        "note" => Command::Note { text: get("text")? },
        "canned" => Command::Canned { name: get("name")? },
        "escalate" => Command::Escalate {
            team: get("team")?,
            reason: get("reason"),
        },
        "offline" => Command::Offline {
            channel: OfflineChannel::from_key(&get("channel")?)?,
            address: get("address"),
        },
        "close" => Command::Close { note: get("note") },
        "reopen" => Command::Reopen,
        "recall" => Command::Recall,
        "retry" => Command::Retry,
        "tag" => Command::Tag {
            label: get("label")?,
        },
        "snooze" => Command::Snooze {
            duration: parsed.duration("for")?,
        },
        "status" => Command::Status,
        "help" => Command::Help {
            command: get("command"),
        },
        "like" => Command::Like { post: get("post") },
        "unlike" => Command::Unlike { post: get("post") },
        "repost" => Command::Repost { post: get("post") },
        "delete" => Command::Delete { target: get("id") },
        "hide" => Command::Hide { post: get("post") },
        "unhide" => Command::Unhide { post: get("post") },
        _ => return None,
    })
}

fn permission(specs: &Specs, name: &str) -> Permission {
    match specs.get(name).map(|s| s.role) {
        Some(crate::commands::Role::Anyone) => Permission::Anyone,
        Some(crate::commands::Role::Approver) => Permission::Approver,
        // Unknown commands never get this far; agent is the safe default.
        _ => Permission::Agent,
    }
}

/// Handles one chat event. Returns what to tell the actor, if anything.
pub fn route(
    service: &Service,
    specs: &Specs,
    event: ChatEvent,
    now: DateTime<Utc>,
    mention: text::Mention<'_>,
) -> Result<Option<String>, StoreError> {
    let store = service.store();
    let (number, input, seen) = match event {
        ChatEvent::ThreadMessage {
            actor,
            thread,
            text,
            event,
        } => {
            let trimmed = text.trim();
            let Some(number) = store.case_for_thread(&thread)? else {
                return Ok(trimmed
                    .starts_with(COMMAND_PREFIX)
                    .then(text::not_a_case_thread));
            };
            match trimmed.strip_prefix(COMMAND_PREFIX) {
                Some(line) => match parse(specs, line, Invocation::Thread) {
                    Ok((parsed, command)) => (
                        number,
                        Input::Command {
                            actor,
                            required: permission(specs, &parsed.name),
                            command,
                            in_thread: true,
                        },
                        event,
                    ),
                    Err(message) => return Ok(Some(message)),
                },
                None => (number, Input::ThreadMessage { actor, text }, event),
            }
        }
        ChatEvent::Slash { actor, text, event } => {
            let addressed = parse(specs, &text, Invocation::Slash)
                .and_then(|(parsed, command)| addressed(specs, &parsed, command, actor));
            match addressed {
                Ok((number, input)) => (number, input, event),
                Err(message) => return Ok(Some(message)),
            }
        }
        ChatEvent::Options {
            actor,
            thread,
            name,
            options,
            event,
        } => {
            let here = match &thread {
                Some(thread) => store.case_for_thread(thread)?,
                None => None,
            };
            let addressed = specs
                .from_options(&name, here, &options)
                .map_err(|e| text::usage::usage_error(&e))
                .and_then(|parsed| match command(&parsed) {
                    Some(command) => addressed(specs, &parsed, command, actor),
                    None => Err(text::internal_error()),
                });
            match addressed {
                Ok((number, input)) => (number, input, event),
                Err(message) => return Ok(Some(message)),
            }
        }
        ChatEvent::Action {
            actor,
            case,
            command,
            event,
        } => (
            case,
            Input::Command {
                actor,
                required: permission(specs, command.name()),
                command,
                // A form's text is not in the thread yet (a note must be posted there).
                in_thread: false,
            },
            event,
        ),
        ChatEvent::Reaction {
            actor,
            message,
            emoji,
            added,
            event,
        } => {
            let Some((number, draft)) = store.draft_for_message(&message)? else {
                // A reaction on anything but a draft is none of our business.
                return Ok(None);
            };
            (
                number,
                Input::Reaction {
                    actor,
                    draft,
                    emoji,
                    added,
                },
                event,
            )
        }
    };
    Ok(match service.apply(number, input, seen, now)? {
        None => Some(text::no_such_case(number)),
        Some(Applied::Refused(refusal)) => Some(text::refusal(&refusal, mention)),
        Some(Applied::Nothing) => None,
        Some(Applied::Changed(t)) => t.answer.as_ref().map(|a| {
            let tz = service.config().bot.timezone;
            text::answer(&t.case, a, specs, now, tz, mention)
        }),
    })
}

/// A command given outside the thread flow (`/care` text or options) as its
/// case's input, or what to tell the person: help needs no case; any other
/// command without one is asked which case.
fn addressed(
    specs: &Specs,
    parsed: &Parsed,
    command: Command,
    actor: Actor,
) -> Result<(u64, Input), String> {
    let Some(number) = parsed.case else {
        return Err(match &command {
            Command::Help { command } => specs.help(command.as_deref(), Invocation::Slash),
            _ => text::case_needed(&parsed.name),
        });
    };
    let input = Input::Command {
        actor,
        required: permission(specs, &parsed.name),
        command,
        // Not a message in the thread: a note must be posted there.
        in_thread: false,
    };
    Ok((number, input))
}

fn parse(specs: &Specs, line: &str, how: Invocation) -> Result<(Parsed, Command), String> {
    let parsed = specs
        .parse(line, how)
        .map_err(|e| text::usage::usage_error(&e))?;
    match command(&parsed) {
        Some(c) => Ok((parsed, c)),
        None => Err(text::internal_error()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use std::collections::BTreeSet;

    use super::*;

    /// The specs in commands/ and the engine's commands match one to one,
    /// and every spec's own example maps onto the engine command of its name.
    #[test]
    fn specs_and_engine_commands_match_one_to_one() {
        let specs = Specs::load().unwrap();
        let spec_names: BTreeSet<&str> = specs.names().collect();
        let engine_names: BTreeSet<&str> = Command::NAMES.into_iter().collect();
        assert_eq!(spec_names, engine_names);
        for spec in specs.iter() {
            let example = spec.example.as_deref().unwrap_or(spec.name.as_str());
            let parsed = specs.parse(example, Invocation::Thread).unwrap();
            let command = command(&parsed)
                .unwrap_or_else(|| panic!("{} maps to no engine command", spec.name));
            assert_eq!(command.name(), spec.name);
        }
    }

    #[test]
    fn roles_map_to_engine_permissions() {
        let specs = Specs::load().unwrap();
        assert_eq!(permission(&specs, "status"), Permission::Anyone);
        assert_eq!(permission(&specs, "reply"), Permission::Agent);
    }
}

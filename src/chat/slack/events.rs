//! Slack's inbound events (as slack-morphism parses them, from either the
//! Events API or Socket Mode) translated into [`Request`]s: who acted, what
//! they did, where an answer should go. Pure: no I/O, no workflow — which
//! case a thread is, and whether the person may act, is decided later by
//! `chat::route` and the engine.

use rvstruct::ValueStruct;
use slack_morphism::prelude::*;

pub use super::format::FieldErrors;
use super::format::{self, CardButton, ModalKind};
use crate::engine::Command;

/// Our own user id, learned from `auth.test`, so the bot ignores its own
/// echoes (messages from any bot, ours included, are dropped by `bot_id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub user_id: String,
}

/// One thing a person did, ready for the adapter's worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Slack user id of the person who acted.
    pub user: String,
    pub what: What,
    /// Dedupe key for redelivered events (`slack:<event_id>`).
    pub event: Option<String>,
    /// Where to tell the person what happened (refusals, answers).
    pub reply: ReplyTo,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum What {
    /// A message in a thread (or at top level: `thread` is then the message itself).
    Message { thread: String, text: String },
    /// `/care …` from anywhere outside threads.
    Slash { text: String },
    /// A reaction on a message.
    Reaction {
        message: String,
        emoji: String,
        added: bool,
    },
    /// A button or a modal submission that maps straight to a command.
    Action { case: u64, command: Command },
    /// A button that needs a form first.
    OpenModal {
        trigger_id: String,
        kind: ModalKind,
        case: u64,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyTo {
    /// Visible only to the person, in this channel (and thread).
    Ephemeral {
        channel: String,
        thread_ts: Option<String>,
    },
    /// The slash command's or interaction's `response_url`.
    ResponseUrl(String),
    /// Ephemeral in the case's thread (modal submissions have no channel).
    CaseThread(u64),
}

/// A message or reaction's chat-wide id: Slack's `ts` is unique per channel only.
pub fn message_id(channel: &str, ts: &str) -> String {
    format!("{channel}:{ts}")
}

/// The inverse of [`message_id`].
pub fn split_id(id: &str) -> Option<(&str, &str)> {
    id.split_once(':')
}

/// An Events API / Socket Mode event callback. `None`: nothing for us.
pub fn push(callback: &SlackPushEventCallback, me: &Identity) -> Option<Request> {
    let event = Some(format!("slack:{}", callback.event_id.value()));
    match &callback.event {
        SlackEventCallbackBody::Message(message) => {
            let (user, what, reply) = message_event(message, me)?;
            Some(Request {
                user,
                what,
                event,
                reply,
            })
        }
        SlackEventCallbackBody::ReactionAdded(r) => {
            reaction(&r.user, &r.reaction, &r.item, true, me).map(|(user, what, reply)| Request {
                user,
                what,
                event,
                reply,
            })
        }
        SlackEventCallbackBody::ReactionRemoved(r) => {
            reaction(&r.user, &r.reaction, &r.item, false, me).map(|(user, what, reply)| Request {
                user,
                what,
                event,
                reply,
            })
        }
        _ => None,
    }
}

type Parts = (String, What, ReplyTo);

fn message_event(message: &SlackMessageEvent, me: &Identity) -> Option<Parts> {
    // Edits, deletions, joins and the like are not someone speaking in the thread.
    // A thread reply also sent to the channel is still a thread message.
    if message.subtype.is_some()
        && !matches!(
            message.subtype,
            Some(SlackMessageEventType::ThreadBroadcast)
        )
    {
        return None;
    }
    let sender = &message.sender;
    if sender.bot_id.is_some() || sender.bot_profile.is_some() {
        // Our own echoes — and other bots, which are not agents.
        return None;
    }
    let user = sender.user.as_ref()?.value().clone();
    if user == me.user_id {
        return None;
    }
    let channel = message.origin.channel.as_ref()?.value().clone();
    let ts = message.origin.ts.value().as_str();
    let parent = message
        .origin
        .thread_ts
        .as_ref()
        .map_or(ts, |t| t.value().as_str());
    let text = message
        .content
        .as_ref()
        .and_then(|c| c.text.as_deref())
        .map(from_mrkdwn)?;
    Some((
        user,
        What::Message {
            thread: message_id(&channel, parent),
            text,
        },
        ReplyTo::Ephemeral {
            channel,
            thread_ts: Some(parent.to_owned()),
        },
    ))
}

fn reaction(
    user: &SlackUserId,
    name: &SlackReactionName,
    item: &SlackReactionsItem,
    added: bool,
    me: &Identity,
) -> Option<Parts> {
    if user.value() == &me.user_id {
        return None;
    }
    let SlackReactionsItem::Message(message) = item else {
        return None;
    };
    let channel = message.origin.channel.as_ref()?.value().clone();
    let ts = message.origin.ts.value().clone();
    Some((
        user.value().clone(),
        What::Reaction {
            message: message_id(&channel, &ts),
            emoji: base_emoji(name.value()).to_owned(),
            added,
        },
        ReplyTo::Ephemeral {
            channel,
            thread_ts: message.origin.thread_ts.as_ref().map(|t| t.value().clone()),
        },
    ))
}

/// `thumbsup::skin-tone-2` → `thumbsup`: a skin tone does not change the meaning.
pub fn base_emoji(name: &str) -> &str {
    name.split("::skin-tone-").next().unwrap_or(name)
}

/// A `/care …` slash command.
pub fn command(event: &SlackCommandEvent) -> Request {
    Request {
        user: event.user_id.value().clone(),
        what: What::Slash {
            text: event.text.as_deref().map(from_mrkdwn).unwrap_or_default(),
        },
        // Slash commands are not retried by Slack, and carry no id of their own.
        event: None,
        reply: ReplyTo::ResponseUrl(event.response_url.value().to_string()),
    }
}

/// A click on a card button. Unknown buttons → `None`.
pub fn block_actions(event: &SlackInteractionBlockActionsEvent) -> Option<Request> {
    let user = event.user.as_ref()?.id.value().clone();
    let action = event.actions.as_ref()?.first()?;
    let id = action.action_id.value().as_str();
    let (case, button) = format::button_press(id, action.value.as_deref())?;
    let what = match button {
        CardButton::Claim => What::Action {
            case,
            command: Command::Claim,
        },
        CardButton::Close => What::Action {
            case,
            command: Command::Close { note: None },
        },
        _ => What::OpenModal {
            trigger_id: event.trigger_id.value().clone(),
            kind: ModalKind::from_action(id)?,
            case,
        },
    };
    let reply = match &event.container {
        SlackInteractionActionContainer::Message(m) => match &m.channel_id {
            Some(channel) => ReplyTo::Ephemeral {
                channel: channel.value().clone(),
                thread_ts: Some(m.message_ts.value().clone()),
            },
            None => ReplyTo::CaseThread(case),
        },
        _ => ReplyTo::CaseThread(case),
    };
    // A double click is two clicks; the engine makes the second one harmless
    // (claiming twice, closing twice), so no event id is needed here.
    Some(Request {
        user,
        what,
        event: None,
        reply,
    })
}

/// A modal's submission → its case and command (`None`: not ours, dropped);
/// field errors keep the modal open.
pub fn view_submission(
    event: &SlackInteractionViewSubmissionEvent,
) -> Result<Option<(u64, Command)>, FieldErrors> {
    let SlackView::Modal(modal) = &event.view.view else {
        return Ok(None);
    };
    let empty = SlackViewState::new(Default::default());
    let state = event.view.state_params.state.as_ref().unwrap_or(&empty);
    format::submission(
        modal
            .callback_id
            .as_ref()
            .map_or("", |c| c.value().as_str()),
        modal.private_metadata.as_deref().unwrap_or(""),
        state,
    )
    .map(Some)
    .or_else(|error| match error {
        format::SubmissionError::Invalid(errors) => Err(errors),
        // Not our modal, or damaged: nothing the person can fix; close it.
        other => {
            tracing::warn!(%other, "Dropped a Slack modal submission.");
            Ok(None)
        }
    })
}

/// Slack writes user text as mrkdwn: `&`, `<`, `>` escaped, links as
/// `<url|label>`. What reaches the customer must be plain text; user
/// mentions `<@U…>` stay, for commands like `!assign @maria`.
pub fn from_mrkdwn(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let Some(end) = after.find('>') else {
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let inner = &after[..end];
        let (target, label) = match inner.split_once('|') {
            Some((t, l)) => (t, Some(l)),
            None => (inner, None),
        };
        if target.starts_with('@') {
            out.push('<');
            out.push_str(target);
            out.push('>');
        } else if let Some(channel) = target.strip_prefix('#') {
            out.push('#');
            out.push_str(label.unwrap_or(channel));
        } else if let Some(special) = target.strip_prefix('!') {
            out.push('@');
            out.push_str(label.unwrap_or(special));
        } else if let Some(address) = target.strip_prefix("mailto:") {
            out.push_str(address);
        } else {
            out.push_str(target);
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use serde_json::json;

    use super::*;

    fn me() -> Identity {
        Identity {
            user_id: "U0BOT".into(),
        }
    }

    fn callback(event: serde_json::Value) -> SlackPushEventCallback {
        serde_json::from_value(json!({
            "token": "x", "team_id": "T0TEAM", "api_app_id": "A0APP", "type": "event_callback",
            "event_id": "Ev01", "event_time": 1_700_000_000, "event": event,
        }))
        .unwrap()
    }

    #[test]
    fn thread_reply_becomes_a_message_in_its_thread() {
        let r = push(
            &callback(json!({"type": "message", "channel": "C0INBOX", "user": "U0MARIA",
                "text": "!reply Sorry &amp; thanks <https://acme.example/help|acme.example/help>",
                "ts": "1700000001.000200", "thread_ts": "1700000000.000100", "event_ts": "1700000001.000200",
                "channel_type": "channel"})),
            &me(),
        )
        .unwrap();
        assert_eq!(r.user, "U0MARIA");
        assert_eq!(r.event.as_deref(), Some("slack:Ev01"));
        assert_eq!(
            r.what,
            What::Message {
                thread: "C0INBOX:1700000000.000100".into(),
                text: "!reply Sorry & thanks https://acme.example/help".into()
            }
        );
        assert_eq!(
            r.reply,
            ReplyTo::Ephemeral {
                channel: "C0INBOX".into(),
                thread_ts: Some("1700000000.000100".into())
            }
        );
    }

    #[test]
    fn own_and_bot_messages_and_edits_are_ignored() {
        let base = json!({"type": "message", "channel": "C0INBOX", "text": "hi",
            "ts": "2.0", "thread_ts": "1.0", "event_ts": "2.0"});
        let with = |extra: serde_json::Value| {
            let mut v = base.clone();
            v.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            push(&callback(v), &me())
        };
        assert!(with(json!({"user": "U0BOT"})).is_none());
        assert!(with(json!({"user": "U0BOT", "bot_id": "B0BOT"})).is_none());
        assert!(with(json!({"user": "U0OTHER", "bot_id": "B0OTHER"})).is_none());
        assert!(with(json!({"subtype": "message_changed", "user": "U0MARIA"})).is_none());
        assert!(with(json!({"user": "U0MARIA"})).is_some());
    }

    #[test]
    fn reactions_map_to_the_message_and_drop_skin_tones() {
        let r = push(
            &callback(json!({"type": "reaction_added", "user": "U0LEE",
                "reaction": "white_check_mark::skin-tone-3", "item_user": "U0BOT",
                "item": {"type": "message", "channel": "C0INBOX", "ts": "1700000002.000300"},
                "event_ts": "1700000003.000000"})),
            &me(),
        )
        .unwrap();
        assert_eq!(
            r.what,
            What::Reaction {
                message: "C0INBOX:1700000002.000300".into(),
                emoji: "white_check_mark".into(),
                added: true
            }
        );
        let own = push(
            &callback(
                json!({"type": "reaction_removed", "user": "U0BOT", "reaction": "x",
                "item": {"type": "message", "channel": "C0INBOX", "ts": "1.0"}, "event_ts": "2.0"}),
            ),
            &me(),
        );
        assert!(own.is_none());
    }

    #[test]
    fn mrkdwn_comes_back_as_plain_text() {
        assert_eq!(from_mrkdwn("a &lt;b&gt; &amp;amp;"), "a <b> &amp;");
        assert_eq!(from_mrkdwn("!assign <@U0LEE>"), "!assign <@U0LEE>");
        assert_eq!(
            from_mrkdwn("see <#C1|general> <!here>"),
            "see #general @here"
        );
        assert_eq!(from_mrkdwn("<mailto:a@b.c|a@b.c>"), "a@b.c");
        assert_eq!(from_mrkdwn("unclosed <http://x"), "unclosed <http://x");
    }
}

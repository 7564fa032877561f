//! The console chat: cases as readable threads on stdout, people typing on
//! stdin — the embedded default, needing no credentials.
//!
//! Anyone at the keyboard can act as any user (`as maria`), so the approval
//! flow with two people can be shown and scripted: stdin is read line by
//! line, and at its end the console waits for the bot to go idle and shuts
//! it down. Translates lines into [`ChatEvent`]s and the dispatcher's calls
//! into printed blocks; holds no workflow rules. What it printed is kept in a
//! journal keyed by effect, so an effect retried after a crash is not shown
//! twice.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::Utc;
use serde_json::json;
use tokio::io::{AsyncBufRead, AsyncBufReadExt};

use super::{Attempt, ChatEvent, ChatSurface, route};
use crate::commands::Specs;
use crate::config::ConsoleConfig;
use crate::config::on_call_for;
use crate::dispatch::{BoxFuture, DeliveryError};
use crate::engine::{Actor, Case, ChatThread};
use crate::journal::Journal;
use crate::service::Service;
use crate::text::{self, console as words};

/// The console surface: prints to an output stream.
pub struct Console {
    out: Mutex<Box<dyn Write + Send>>,
    journal: Journal,
    /// `[chat.console.on_call]`.
    on_call: BTreeMap<String, String>,
}

impl Console {
    /// A console printing to `out`, journaling into the data dir.
    pub fn new(out: Box<dyn Write + Send>, data_dir: &Path) -> std::io::Result<Console> {
        Ok(Console {
            out: Mutex::new(out),
            journal: Journal::open(&data_dir.join("console-journal.jsonl"))?,
            on_call: BTreeMap::new(),
        })
    }

    /// Names who is on call for each queue (`[chat.console.on_call]`).
    pub fn with_on_call(mut self, on_call: BTreeMap<String, String>) -> Console {
        self.on_call = on_call;
        self
    }

    /// Prints a block at once, so concurrent cases don't interleave lines.
    pub fn print(&self, block: &str) {
        let mut out = self.out.lock().unwrap_or_else(PoisonError::into_inner);
        // A closed stdout leaves nothing to tell; the journal still records.
        let _ = writeln!(out, "{block}");
        let _ = out.flush();
    }

    /// Prints once per key; returns what was recorded for the key.
    fn show_once(
        &self,
        key: &str,
        record: serde_json::Value,
        block: &str,
    ) -> Result<serde_json::Value, DeliveryError> {
        if let Some(earlier) = self.journal.get(key) {
            return Ok(earlier);
        }
        let recorded = self
            .journal
            .record(key, record)
            .map_err(|e| DeliveryError::retryable(format!("console journal: {e}")))?;
        self.print(block);
        Ok(recorded)
    }
}

impl ChatSurface for Console {
    fn mention(&self, user: &str) -> String {
        text::at(user)
    }

    fn on_call(&self, queue: &str) -> Option<String> {
        on_call_for(&self.on_call, queue).map(|who| text::at(who))
    }

    fn post_card<'a>(
        &'a self,
        attempt: &'a Attempt,
        case: &'a Case,
        card: &'a text::Card,
    ) -> BoxFuture<'a, Result<ChatThread, DeliveryError>> {
        Box::pin(async move {
            let thread = case.number.to_string();
            let record = json!({"case": case.number, "shown": "card", "thread": thread, "card": format!("{thread}/card")});
            let recorded = self.show_once(&attempt.key, record, &words::card(case.number, card))?;
            Ok(ChatThread {
                thread: recorded["thread"].as_str().unwrap_or(&thread).to_owned(),
                card: recorded["card"].as_str().unwrap_or_default().to_owned(),
            })
        })
    }

    fn update_card<'a>(
        &'a self,
        attempt: &'a Attempt,
        case: &'a Case,
        _thread: &'a ChatThread,
        card: &'a text::Card,
    ) -> BoxFuture<'a, Result<(), DeliveryError>> {
        Box::pin(async move {
            let record = json!({"case": case.number, "shown": "card update"});
            self.show_once(&attempt.key, record, &words::card_update(case.number, card))?;
            Ok(())
        })
    }

    fn post<'a>(
        &'a self,
        attempt: &'a Attempt,
        case: &'a Case,
        _thread: &'a ChatThread,
        body: &'a str,
    ) -> BoxFuture<'a, Result<String, DeliveryError>> {
        Box::pin(async move {
            let record = json!({"case": case.number, "shown": "message", "message": attempt.key, "text": body});
            let recorded =
                self.show_once(&attempt.key, record, &words::in_thread(case.number, body))?;
            Ok(recorded["message"]
                .as_str()
                .unwrap_or(&attempt.key)
                .to_owned())
        })
    }

    fn alert<'a>(&'a self, text: &'a str) -> BoxFuture<'a, Result<(), DeliveryError>> {
        Box::pin(async move {
            // Alerts are not effects of a case: each is its own journal record.
            let key = format!(
                "alert-{}",
                chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
            );
            self.show_once(
                &key,
                json!({"shown": "alert", "text": text}),
                &words::alert(text),
            )
            .map(|_| ())
        })
    }

    fn post_channel<'a>(
        &'a self,
        attempt: &'a Attempt,
        queue: &'a str,
        body: &'a str,
        _aligned: bool,
    ) -> BoxFuture<'a, Result<(), DeliveryError>> {
        Box::pin(async move {
            // Keyed by the attempt (job, slot and queue): shown once, however often it is
            // retried.
            let record = json!({"shown": "channel", "queue": queue, "text": body});
            self.show_once(&attempt.key, record, &words::to_channel(queue, body))
                .map(|_| ())
        })
    }
}

/// One line typed at the console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    Blank,
    As(String),
    Help,
    Quit,
    /// Wait for the bot to go idle, or for a duration.
    Wait(Option<Duration>),
    /// Add (or remove) a reaction on a draft.
    React {
        emoji: String,
        draft: String,
        added: bool,
    },
    /// `#N text`: a message in case N's thread.
    Thread {
        case: String,
        text: String,
    },
    /// `/care …`.
    Slash(String),
    Unknown(String),
}

impl Line {
    /// The case a line is about, where the line says.
    fn case(&self) -> Option<u64> {
        match self {
            Line::Thread { case, .. } => case.parse().ok(),
            Line::React { draft, .. } => draft.split_once('.').and_then(|(n, _)| n.parse().ok()),
            Line::Slash(text) => text
                .split_whitespace()
                .nth(1)
                .and_then(|n| n.trim_start_matches('#').parse().ok()),
            _ => None,
        }
    }
}

/// Parses a console line. Pure.
pub fn parse_line(line: &str) -> Line {
    let line = line.trim();
    if line.is_empty() || line.starts_with("//") {
        return Line::Blank;
    }
    let (head, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let rest = rest.trim();
    match head {
        "as" if !rest.is_empty() => Line::As(rest.trim_start_matches('@').to_owned()),
        "help" => Line::Help,
        "quit" | "exit" => Line::Quit,
        "wait" if rest.is_empty() => Line::Wait(None),
        "wait" => crate::config::parse_duration(rest)
            .map_or_else(|_| Line::Unknown(line.to_owned()), |d| Line::Wait(Some(d))),
        "react" | "unreact" => match rest.split_whitespace().collect::<Vec<_>>().as_slice() {
            [emoji, draft] => Line::React {
                emoji: (*emoji).to_owned(),
                draft: draft.trim_start_matches('#').to_owned(),
                added: head == "react",
            },
            _ => Line::Unknown(line.to_owned()),
        },
        "/care" => Line::Slash(rest.to_owned()),
        _ => match head.strip_prefix('#') {
            Some(case)
                if !case.is_empty()
                    && case.bytes().all(|b| b.is_ascii_digit())
                    && !rest.is_empty() =>
            {
                Line::Thread {
                    case: case.to_owned(),
                    text: rest.to_owned(),
                }
            }
            _ => Line::Unknown(line.to_owned()),
        },
    }
}

/// What the console loop needs besides its input.
pub struct ConsoleLoop {
    pub console: Arc<Console>,
    pub service: Arc<Service>,
    pub specs: Arc<Specs>,
    pub settings: ConsoleConfig,
    /// True once the demo feeds are done and the outbox is empty.
    pub idle: Arc<dyn Fn() -> bool + Send + Sync>,
    /// True while no effect is pending for the case (or at all, for `None`):
    /// the bot has answered what was typed.
    pub settled: Arc<dyn Fn(Option<u64>) -> bool + Send + Sync>,
}

impl ConsoleLoop {
    fn actor(&self, user: &str) -> Actor {
        Actor {
            id: user.to_owned(),
            agent: self.settings.agents.is_empty()
                || self.settings.agents.iter().any(|a| a == user),
            approver: self.settings.approvers.iter().any(|a| a == user),
        }
    }

    async fn wait_for(done: &(dyn Fn() -> bool + Sync), limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        while tokio::time::Instant::now() < deadline {
            if done() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        false
    }

    async fn wait_idle(&self, limit: Duration) -> bool {
        Self::wait_for(self.idle.as_ref(), limit).await
    }

    /// Reads lines until the input ends or `quit`; then waits for the bot to
    /// finish what it is doing (so a piped script sees its effects) and returns.
    pub async fn run<R: AsyncBufRead + Unpin>(self, input: R) {
        let mut user = self.settings.user.clone();
        self.console.print(&words::banner(&user));
        let mut lines = input.lines();
        loop {
            let line = match lines.next_line().await {
                Ok(Some(line)) => line,
                Ok(None) => break,
                Err(error) => {
                    tracing::warn!(%error, "Cannot read the console input; stopping.");
                    break;
                }
            };
            let mention = |u: &str| text::at(u);
            let line = parse_line(&line);
            let case = line.case();
            let event = match line {
                Line::Blank => continue,
                Line::Quit => break,
                Line::Help => {
                    self.console.print(&words::help());
                    continue;
                }
                Line::As(name) => {
                    user = name;
                    self.console.print(&words::now_acting_as(&user));
                    continue;
                }
                Line::Wait(Some(d)) => {
                    tokio::time::sleep(d).await;
                    continue;
                }
                Line::Wait(None) => {
                    if !self.wait_idle(Duration::from_secs(60)).await {
                        self.console.print(&words::still_busy());
                    }
                    continue;
                }
                Line::Unknown(line) => {
                    self.console
                        .print(&words::private(&user, &words::unknown_line(&line)));
                    continue;
                }
                Line::Slash(text) => ChatEvent::Slash {
                    actor: self.actor(&user),
                    text,
                    event: None,
                },
                Line::Thread { case, text } => ChatEvent::ThreadMessage {
                    actor: self.actor(&user),
                    thread: case,
                    text,
                    event: None,
                },
                Line::React {
                    emoji,
                    draft,
                    added,
                } => match self.draft_message(&draft) {
                    Ok(message) => ChatEvent::Reaction {
                        actor: self.actor(&user),
                        message,
                        emoji,
                        added,
                        event: None,
                    },
                    Err(reply) => {
                        self.console.print(&words::private(&user, &reply));
                        continue;
                    }
                },
            };
            match route(&self.service, &self.specs, event, Utc::now(), &mention) {
                Ok(Some(reply)) => self.console.print(&words::private(&user, &reply)),
                Ok(None) => {}
                Err(error) => {
                    tracing::error!(%error, "Cannot handle a console line.");
                    self.console
                        .print(&words::private(&user, &text::internal_error()));
                }
            }
            // Like a chat where the bot answers right after you: let the
            // effects of this line show before reading the next one.
            let settled = || (self.settled)(case);
            Self::wait_for(&settled, Duration::from_secs(5)).await;
        }
        if !self.wait_idle(Duration::from_secs(60)).await {
            self.console.print(&words::still_busy());
        }
    }

    /// The chat message that shows draft `id` (`12.3`), as a reaction needs it.
    fn draft_message(&self, id: &str) -> Result<String, String> {
        let case = id
            .split_once('.')
            .and_then(|(n, _)| n.parse::<u64>().ok())
            .ok_or_else(|| words::bad_draft_id(id))?;
        let found = self
            .service
            .store()
            .case(case)
            .map_err(|_| text::internal_error())?
            .and_then(|c| c.draft(id).map(|d| d.chat_message.clone()));
        match found {
            None => Err(text::refusal(
                &crate::engine::Refusal::UnknownDraft {
                    draft: id.to_owned(),
                },
                &text::at,
            )),
            Some(None) => Err(words::draft_not_shown(id)),
            Some(Some(message)) => Ok(message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_console_lines() {
        assert_eq!(parse_line("  "), Line::Blank);
        assert_eq!(parse_line("// a comment"), Line::Blank);
        assert_eq!(parse_line("as @lee"), Line::As("lee".into()));
        assert_eq!(parse_line("wait"), Line::Wait(None));
        assert_eq!(
            parse_line("wait 2s"),
            Line::Wait(Some(Duration::from_secs(2)))
        );
        assert_eq!(
            parse_line("react ✅ 3.1"),
            Line::React {
                emoji: "✅".into(),
                draft: "3.1".into(),
                added: true
            }
        );
        assert_eq!(
            parse_line("unreact ✅ #3.1"),
            Line::React {
                emoji: "✅".into(),
                draft: "3.1".into(),
                added: false
            }
        );
        assert_eq!(
            parse_line("#3 !reply Sorry about that"),
            Line::Thread {
                case: "3".into(),
                text: "!reply Sorry about that".into()
            }
        );
        assert_eq!(parse_line("/care claim 3"), Line::Slash("claim 3".into()));
        assert!(matches!(parse_line("#x hello"), Line::Unknown(_)));
        assert!(matches!(parse_line("#3"), Line::Unknown(_)));
        assert!(matches!(parse_line("react ✅"), Line::Unknown(_)));
    }
}

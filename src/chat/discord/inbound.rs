//! The inbound side of the Discord adapter: requests from the gateway are
//! deduplicated and queued (interactions were already acknowledged within
//! Discord's 3 seconds by the gateway handler), then worked in arrival order
//! by one worker: who the person is (agent? approver?), `chat::route`, and
//! the answer told back to them (ephemerally, for interactions).
//!
//! Must not: decide workflow (route and the engine do), or answer an
//! interaction's first response (the gateway handler owns that deadline).

use std::sync::Arc;

use chrono::Utc;
use serenity::all::{CreateInteractionResponseFollowup, EditInteractionResponse};
use tokio::sync::{mpsc, watch};

use super::events::{ReplyTo, Request, What};
use super::{Discord, format};
use crate::chat::intake::{self, Intake};
use crate::chat::{self, ChatEvent, ChatSurface};
use crate::commands::Specs;
use crate::engine::Actor;
use crate::service::Service;
use crate::text::{self, discord as words};

pub struct Inbound {
    intake: Intake<Request>,
}

impl Inbound {
    /// Starts the worker; it stops when `stopped` turns true.
    pub fn start(
        discord: Arc<Discord>,
        service: Arc<Service>,
        specs: Arc<Specs>,
        stopped: watch::Receiver<bool>,
    ) -> (Arc<Inbound>, tokio::task::JoinHandle<()>) {
        let (intake, requests) = Intake::new("discord");
        let worker = Worker {
            discord,
            service,
            specs,
        };
        let task = tokio::spawn(worker.run(requests, stopped));
        (Arc::new(Inbound { intake }), task)
    }

    /// Queues a request unless it was seen lately (Discord may send again).
    pub async fn accept(&self, request: Request) {
        let event = request.event.clone();
        self.intake.accept(event.as_deref(), request).await;
    }
}

struct Worker {
    discord: Arc<Discord>,
    service: Arc<Service>,
    specs: Arc<Specs>,
}

impl Worker {
    async fn run(self, requests: mpsc::Receiver<Request>, stopped: watch::Receiver<bool>) {
        intake::work(requests, stopped, |request| self.work(request)).await;
    }

    /// Who the person is: listed by id, or holding a listed role. With no
    /// agents or agent roles configured, every member is an agent.
    async fn actor(&self, user: u64, roles: Option<Vec<u64>>) -> Actor {
        let config = self.discord.config();
        let roles = self.discord.roles(user, roles).await;
        let holds = |wanted: &[u64]| roles.iter().any(|r| wanted.contains(r));
        Actor {
            id: user.to_string(),
            agent: (config.agents.is_empty() && config.agent_roles.is_empty())
                || config.agents.contains(&user)
                || holds(&config.agent_roles),
            approver: config.approvers.contains(&user) || holds(&config.approver_roles),
        }
    }

    async fn work(&self, request: Request) {
        let Request {
            user,
            roles,
            what,
            event,
            reply,
        } = request;
        let store = self.service.store();
        let chat_event = match what {
            What::Message { thread, text } => {
                // Only case threads are ours; a `!` elsewhere may be another bot's.
                match store.case_for_thread(&thread) {
                    Ok(Some(_)) => {}
                    Ok(None) => return,
                    Err(error) => {
                        tracing::error!(%error, "Cannot work a Discord message: the store failed.");
                        return;
                    }
                }
                ChatEvent::ThreadMessage {
                    actor: self.actor(user, roles).await,
                    thread,
                    text,
                    event,
                }
            }
            What::Slash {
                thread,
                name,
                options,
            } => ChatEvent::Options {
                actor: self.actor(user, roles).await,
                thread,
                name,
                options,
                event,
            },
            What::Reaction {
                message,
                emoji,
                added,
            } => ChatEvent::Reaction {
                actor: self.actor(user, roles).await,
                message,
                emoji,
                added,
                event,
            },
            What::Action { case, command } => ChatEvent::Action {
                actor: self.actor(user, roles).await,
                case,
                command,
                event,
            },
            What::Invalid { text } => {
                self.tell(reply, Some(text)).await;
                return;
            }
        };
        let discord = &self.discord;
        let mention = |u: &str| discord.mention(u);
        let answer = match chat::route(&self.service, &self.specs, chat_event, Utc::now(), &mention)
        {
            Ok(answer) => answer,
            Err(error) => {
                tracing::error!(%error, "Cannot work a Discord event: the store failed.");
                Some(text::internal_error())
            }
        };
        self.tell(reply, answer).await;
    }

    /// Tells the person the answer where they acted. An interaction always
    /// gets one (its "thinking…" must end); a message only when there is
    /// something to say.
    async fn tell(&self, reply: ReplyTo, answer: Option<String>) {
        let discord = Arc::clone(&self.discord);
        // Telling is not ordered with the next request: don't wait for it.
        tokio::spawn(async move {
            let told = match reply {
                ReplyTo::Interaction(token) => {
                    interaction_answer(&discord, &token, answer.as_deref().unwrap_or(words::DONE))
                        .await
                }
                ReplyTo::Message { channel, message } => {
                    match (answer, channel.parse(), message.parse()) {
                        (Some(answer), Ok(channel), Ok(message)) => discord
                            .reply(channel, message, &answer)
                            .await
                            .map_err(|e| e.reason),
                        _ => Ok(()),
                    }
                }
            };
            if let Err(reason) = told {
                tracing::warn!(%reason, "Cannot tell a Discord user the outcome.");
            }
        });
    }
}

/// The deferred answer to an interaction, split under 2000 characters: the
/// first part replaces "thinking…", the rest follow, all ephemeral.
async fn interaction_answer(discord: &Discord, token: &str, answer: &str) -> Result<(), String> {
    let http = discord.http();
    let mut parts = format::messages(answer);
    if parts.is_empty() {
        // "Thinking…" must always be replaced.
        parts.push(words::DONE.to_owned());
    }
    for (i, part) in parts.into_iter().enumerate() {
        let sent = match i {
            0 => {
                let edit = EditInteractionResponse::new()
                    .content(part)
                    .allowed_mentions(format::allowed_mentions());
                http.edit_original_interaction_response(token, &edit, vec![])
                    .await
            }
            _ => {
                let followup = CreateInteractionResponseFollowup::new()
                    .content(part)
                    .ephemeral(true)
                    .allowed_mentions(format::allowed_mentions());
                http.create_followup_message(token, &followup, vec![]).await
            }
        };
        sent.map_err(|e| e.to_string())?;
    }
    Ok(())
}

//! The inbound side of the Slack adapter, shared by Socket Mode and the
//! Events API: requests are deduplicated and queued as soon as they arrive
//! (so the transport can acknowledge within Slack's 3 seconds), then worked
//! in arrival order by one worker: who the person is (agent? approver?),
//! `chat::route`, and the answer told back only to them.
//!
//! Must not: decide workflow (route and the engine do), or block the
//! transport on Slack API calls.

use std::sync::Arc;

use chrono::Utc;
use slack_morphism::prelude::*;
use tokio::sync::{mpsc, watch};

use super::Slack;
use super::events::{self, FieldErrors, ReplyTo, Request, What, split_id};
use super::format;
use crate::chat::intake::{self, Intake};
use crate::chat::{self, ChatEvent};
use crate::commands::Specs;
use crate::engine::Actor;
use crate::service::Service;
use crate::text;

pub struct Inbound {
    slack: Arc<Slack>,
    intake: Intake<Request>,
}

impl Inbound {
    /// Starts the worker; it stops when `stopped` turns true.
    pub fn start(
        slack: Arc<Slack>,
        service: Arc<Service>,
        specs: Arc<Specs>,
        stopped: watch::Receiver<bool>,
    ) -> (Arc<Inbound>, tokio::task::JoinHandle<()>) {
        let (intake, requests) = Intake::new("slack");
        let worker = Worker {
            slack: Arc::clone(&slack),
            service,
            specs,
        };
        let task = tokio::spawn(worker.run(requests, stopped));
        (Arc::new(Inbound { slack, intake }), task)
    }

    /// Queues a request unless it is a redelivery seen lately.
    pub async fn accept(&self, request: Request) {
        let event = request.event.clone();
        self.intake.accept(event.as_deref(), request).await;
    }

    pub async fn push(&self, callback: &SlackPushEventCallback) {
        if let Some(request) = events::push(callback, self.slack.identity()) {
            self.accept(request).await;
        }
    }

    pub async fn command(&self, command: &SlackCommandEvent) {
        self.accept(events::command(command)).await;
    }

    /// A button click or modal submission. `Err` carries field errors that
    /// must go back in the acknowledgement, so the modal stays open.
    pub async fn interaction(&self, event: &SlackInteractionEvent) -> Result<(), FieldErrors> {
        let request = match event {
            SlackInteractionEvent::BlockActions(actions) => events::block_actions(actions),
            SlackInteractionEvent::ViewSubmission(submission) => {
                events::view_submission(submission)?.map(|(case, command)| Request {
                    user: submission.user.id.to_string(),
                    what: What::Action { case, command },
                    event: None,
                    reply: ReplyTo::CaseThread(case),
                })
            }
            _ => None,
        };
        if let Some(request) = request {
            self.accept(request).await;
        }
        Ok(())
    }
}

struct Worker {
    slack: Arc<Slack>,
    service: Arc<Service>,
    specs: Arc<Specs>,
}

impl Worker {
    async fn run(self, requests: mpsc::Receiver<Request>, stopped: watch::Receiver<bool>) {
        intake::work(requests, stopped, |request| self.work(request)).await;
    }

    async fn actor(&self, user: &str) -> Actor {
        let config = self.slack.config();
        Actor {
            id: user.to_owned(),
            agent: config.agents.is_empty() || self.slack.listed(&config.agents, user).await,
            approver: self.slack.listed(&config.approvers, user).await,
        }
    }

    async fn work(&self, request: Request) {
        let Request {
            user,
            what,
            event,
            reply,
        } = request;
        if let What::OpenModal {
            trigger_id,
            kind,
            case,
        } = &what
        {
            let title = text::slack::case_title(*case);
            if let Err(error) = self
                .slack
                .open_modal(trigger_id, format::modal(*kind, *case, &title))
                .await
            {
                tracing::warn!(case, reason = %error.reason, "Cannot open a Slack modal.");
            }
            return;
        }
        let actor = self.actor(&user).await;
        let chat_event = match what {
            What::Message { thread, text } => ChatEvent::ThreadMessage {
                actor,
                thread,
                text,
                event,
            },
            What::Slash { text } => ChatEvent::Slash { actor, text, event },
            What::Reaction {
                message,
                emoji,
                added,
            } => ChatEvent::Reaction {
                actor,
                message,
                emoji,
                added,
                event,
            },
            What::Action { case, command } => ChatEvent::Action {
                actor,
                case,
                command,
                event,
            },
            What::OpenModal { .. } => return,
        };
        let slack = &self.slack;
        let mention = |u: &str| crate::chat::ChatSurface::mention(slack.as_ref(), u);
        let answer = match chat::route(&self.service, &self.specs, chat_event, Utc::now(), &mention)
        {
            Ok(answer) => answer,
            Err(error) => {
                tracing::error!(%error, "Cannot work a Slack event: the store failed.");
                Some(text::internal_error())
            }
        };
        if let Some(answer) = answer {
            let slack = Arc::clone(&self.slack);
            let service = Arc::clone(&self.service);
            // Telling is not ordered with the next request: don't wait for it.
            tokio::spawn(async move { tell(&slack, &service, &user, reply, &answer).await });
        }
    }
}

/// Tells `user` the answer where they acted, visible only to them.
async fn tell(slack: &Slack, service: &Service, user: &str, reply: ReplyTo, answer: &str) {
    let told = match reply {
        ReplyTo::ResponseUrl(url) => slack.respond(&url, answer).await,
        ReplyTo::Ephemeral { channel, thread_ts } => {
            slack
                .ephemeral(&channel, thread_ts.as_deref(), user, answer)
                .await
        }
        ReplyTo::CaseThread(number) => {
            let thread = service
                .store()
                .case(number)
                .ok()
                .flatten()
                .and_then(|c| c.chat)
                .map(|c| c.thread);
            match thread.as_deref().and_then(split_id) {
                Some((channel, ts)) => slack.ephemeral(channel, Some(ts), user, answer).await,
                None => {
                    tracing::info!(
                        case = number,
                        "No thread to answer in; the answer is dropped."
                    );
                    Ok(())
                }
            }
        }
    };
    if let Err(error) = told {
        tracing::warn!(user, reason = %error.reason, "Cannot tell a Slack user the outcome.");
    }
}

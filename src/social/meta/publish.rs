//! Publishing to Facebook and Instagram: comment replies, private replies,
//! Messenger and Instagram DMs, replies to mentions, likes and deletions,
//! exactly once.
//!
//! The Graph API has no idempotency key. Before repeating an attempt whose
//! outcome is unknown the dispatcher asks [`MetaPublisher::find`], which
//! looks for our reply under the comment and under the top comment of its
//! thread, under the comment or media that mentions us, or our message in the
//! conversation; a repeated private reply is refused by Meta as "already
//! replied", which here means it went out. Which Send API mode a message
//! uses follows the window: inside 24 hours `RESPONSE`, later the human-agent
//! tag where the account has it (the engine refused the draft otherwise).
//! Must not: decide whether a draft may go out, or retry on its own.

use std::sync::Arc;

use chrono::{TimeDelta, Utc};
use serde_json::json;

use super::client::{Failure, Graph, Messaging};
use super::wire::{self, Meaning};
use crate::dispatch::{BoxFuture, DeliveryError};
use crate::engine::{DraftKind, NetworkAction, PostKind};
use crate::social::{self, ActRequest, PublishRequest, Publisher};
use crate::text;

/// Clocks differ: an earlier publication may carry a time slightly before the approval.
const CLOCK_SLACK: TimeDelta = TimeDelta::minutes(5);
/// Messenger's standard window.
const WINDOW: TimeDelta = TimeDelta::hours(24);

pub struct MetaPublisher {
    graph: Arc<Graph>,
    human_agent: bool,
}

/// Where a draft goes on Meta.
enum Route<'a> {
    /// Under a comment, publicly.
    Comment(&'a str),
    /// A reply to an Instagram @mention.
    Mention {
        media: &'a str,
        comment: Option<&'a str>,
    },
    /// A message to a person who wrote to the account.
    Message(&'a str),
    /// The one private reply a comment allows.
    PrivateReply(&'a str),
}

fn route(request: &PublishRequest) -> Route<'_> {
    match (request.kind, request.target_kind) {
        (DraftKind::Direct, PostKind::DirectMessage)
        | (DraftKind::Public, PostKind::DirectMessage) => Route::Message(&request.author.id),
        (DraftKind::Direct, _) => Route::PrivateReply(&request.in_reply_to),
        (DraftKind::Public, PostKind::Mention) => Route::Mention {
            media: &request.conversation_id,
            // A mention in a caption is the media itself; in a comment, that comment.
            comment: (request.in_reply_to != request.conversation_id)
                .then_some(request.in_reply_to.as_str()),
        },
        (DraftKind::Public, _) => Route::Comment(&request.in_reply_to),
    }
}

impl MetaPublisher {
    pub fn new(graph: Arc<Graph>, human_agent: bool) -> Self {
        MetaPublisher { graph, human_agent }
    }

    /// Inside the window a message is a response; past it, a person's answer under the
    /// human-agent tag (the engine only lets it through where the account has it).
    fn messaging(&self, request: &PublishRequest) -> Messaging {
        let late = request
            .last_direct_at
            .is_some_and(|at| Utc::now() - at > WINDOW);
        match late && self.human_agent {
            true => Messaging::HumanAgent,
            false => Messaging::Response,
        }
    }

    async fn send(&self, request: &PublishRequest) -> Result<String, Failure> {
        let graph = &self.graph;
        match route(request) {
            Route::Comment(comment) => graph.reply_to_comment(comment, &request.text).await,
            Route::Mention { media, comment } => {
                graph.reply_to_mention(media, comment, &request.text).await
            }
            Route::Message(user) => {
                graph
                    .send(json!({"id": user}), &request.text, self.messaging(request))
                    .await
            }
            Route::PrivateReply(comment) => {
                graph
                    .send(
                        json!({"comment_id": comment}),
                        &request.text,
                        Messaging::Response,
                    )
                    .await
            }
        }
    }

    /// Our earlier publication of this draft, if Meta shows it.
    async fn lookup(&self, request: &PublishRequest) -> Result<Option<String>, Failure> {
        let since = request.approved_at.map(|at| at - CLOCK_SLACK);
        let candidates = match route(request) {
            Route::Comment(comment) => {
                let mut found = self.graph.replies(comment).await?;
                // Instagram files a reply to a reply under the thread's top comment
                // (Facebook may too): look there as well.
                if let Some(parent) = &request.parent {
                    found.extend(self.graph.replies(parent).await?);
                }
                found
            }
            Route::Message(user) => self.graph.conversation(user).await?,
            Route::Mention { media, comment } => {
                match self.graph.mention_replies(media, comment).await {
                    Ok(found) => found,
                    // Reading a mention's replies back is UNCONFIRMED (platforms.md): where Meta
                    // refuses it, trying again is all that is left.
                    Err(Failure::Graph { error, .. })
                        if !matches!(
                            wire::meaning(&error),
                            Meaning::RateLimited | Meaning::Transient | Meaning::TokenInvalid
                        ) =>
                    {
                        tracing::warn!(
                            case = request.case,
                            code = error.code,
                            "Meta did not list the mention's replies; publishing again."
                        );
                        Vec::new()
                    }
                    Err(failure) => return Err(failure),
                }
            }
            // A second private reply is refused as already sent: found by trying.
            Route::PrivateReply(_) => return Ok(None),
        };
        let owner = self.graph.owner();
        Ok(candidates
            .into_iter()
            .find(|f| {
                f.text == request.text
                    && (f.from == owner || f.from.is_empty())
                    && match (since, f.at) {
                        (Some(since), Some(at)) => at >= since,
                        _ => true,
                    }
            })
            .map(|f| f.id))
    }

    fn failed(&self, failure: Failure) -> DeliveryError {
        let network = text::platform_name(self.graph.platform());
        match failure {
            Failure::Graph { error, retry_after } => {
                let meaning = wire::meaning(&error);
                let reason = text::meta::reason(&error, meaning, network, self.graph.account());
                match meaning {
                    Meaning::RateLimited | Meaning::Transient => DeliveryError {
                        retryable: true,
                        reason,
                        retry_after,
                        alert: None,
                    },
                    Meaning::TokenInvalid => {
                        tracing::error!(account = %self.graph.account(), code = error.code, "Meta refused the account's token.");
                        DeliveryError::permanent(reason)
                            .with_alert(text::meta::token_alert(self.graph.account()))
                    }
                    _ => DeliveryError::permanent(reason),
                }
            }
            Failure::Unreachable(detail) => {
                DeliveryError::retryable(text::unreachable("Meta", &detail))
            }
            Failure::BadResponse(detail) => {
                DeliveryError::permanent(text::bad_response("Meta", &detail))
            }
        }
    }
}

impl Publisher for MetaPublisher {
    fn publish<'a>(
        &'a self,
        _key: &'a str,
        request: &'a PublishRequest,
    ) -> BoxFuture<'a, Result<String, DeliveryError>> {
        Box::pin(async move {
            match self.send(request).await {
                Ok(id) => Ok(id),
                // Refused as a repeat: the private reply went out on an earlier attempt.
                Err(Failure::Graph { error, .. })
                    if wire::meaning(&error) == Meaning::AlreadyReplied
                        && matches!(route(request), Route::PrivateReply(_)) =>
                {
                    tracing::info!(case = request.case, draft = %request.draft, "Meta says the private reply was already sent; recording it.");
                    Ok(format!("private-reply:{}", request.in_reply_to))
                }
                Err(failure) => Err(self.failed(failure)),
            }
        })
    }

    fn find<'a>(
        &'a self,
        _key: &'a str,
        request: &'a PublishRequest,
    ) -> BoxFuture<'a, Result<Option<String>, DeliveryError>> {
        Box::pin(async move { self.lookup(request).await.map_err(|f| self.failed(f)) })
    }

    fn act<'a>(&'a self, request: &'a ActRequest) -> BoxFuture<'a, Result<(), DeliveryError>> {
        Box::pin(async move {
            let done = match &request.action {
                NetworkAction::Like { post } => self.graph.like(post, true).await,
                NetworkAction::Unlike { post } => self.graph.like(post, false).await,
                NetworkAction::Hide { post } => self.graph.hide(post, true).await,
                NetworkAction::Unhide { post } => self.graph.hide(post, false).await,
                NetworkAction::Delete { id: object, .. }
                | NetworkAction::Remove { post: object } => {
                    match self.graph.delete(object).await {
                        // Gone already: what a repeated delete after a crash finds.
                        Err(Failure::Graph { error, .. })
                            if wire::meaning(&error) == Meaning::NotFound =>
                        {
                            Ok(())
                        }
                        other => other,
                    }
                }
                NetworkAction::Repost { .. } => {
                    return Err(social::unsupported(&request.action, self.graph.platform()));
                }
            };
            done.map_err(|f| self.failed(f))
        })
    }
}

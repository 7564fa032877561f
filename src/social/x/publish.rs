//! Publishing to X: replies, DMs and the other actions, exactly once.
//!
//! X has no idempotency key, so "exactly once" rests on two things: before an attempt whose
//! outcome is unknown the dispatcher asks [`XPublisher::find`], which looks for our reply in
//! the account's latest tweets (or our DM in the conversation); and X's duplicate-content 403
//! is checked the same way, so a draft that did go out is recorded as published, not failed.
//! Must not: decide whether a draft may go out (the engine did), or retry on its own (the
//! dispatcher does, with backoff and the rate-limit reset as the wait).

use std::sync::Arc;

use chrono::{TimeDelta, Utc};

use super::client::{Client, ClientError};
use super::wire::{self, XError};
use crate::dispatch::{BoxFuture, DeliveryError};
use crate::engine::{DraftKind, NetworkAction, Platform};
use crate::social::{self, ActRequest, PublishRequest, Publisher};
use crate::text;

/// Clocks differ: an earlier publication may carry a time slightly before the approval we
/// recorded.
const CLOCK_SLACK: TimeDelta = TimeDelta::minutes(5);

pub struct XPublisher {
    client: Arc<Client>,
}

impl XPublisher {
    pub fn new(client: Arc<Client>) -> Self {
        XPublisher { client }
    }

    async fn send(&self, request: &PublishRequest) -> Result<String, ClientError> {
        match request.kind {
            DraftKind::Public => self
                .client
                .reply(&request.text, &request.in_reply_to)
                .await
                .map(|t| t.id),
            DraftKind::Direct => self
                .client
                .send_dm(&request.author.id, &request.text)
                .await
                .map(|m| m.dm_event_id),
        }
    }

    /// Our earlier publication of this draft, if X has it.
    async fn lookup(&self, request: &PublishRequest) -> Result<Option<String>, ClientError> {
        let me = self.client.me().await?;
        let since = request.approved_at.map(|at| at - CLOCK_SLACK);
        let recent = |at: Option<chrono::DateTime<Utc>>| match (since, at) {
            (Some(since), Some(at)) => at >= since,
            _ => true,
        };
        Ok(match request.kind {
            DraftKind::Public => self
                .client
                .own_tweets(&me)
                .await?
                .data
                .into_iter()
                .find(|t| {
                    recent(t.created_at)
                        && wire::is_our_reply(t, &request.in_reply_to, &request.text)
                })
                .map(|t| t.id),
            DraftKind::Direct => self
                .client
                .conversation(&request.author.id)
                .await?
                .data
                .into_iter()
                .find(|e| recent(e.created_at) && wire::is_our_dm(e, &me, &request.text))
                .map(|e| e.id),
        })
    }
}

/// What the dispatcher should make of a failed call.
pub(super) fn delivery(error: ClientError, handle: &str, account: &str) -> DeliveryError {
    match error {
        // The token could not be refreshed: every reply on the account fails until someone
        // re-authorizes it, which the team hears beyond this one thread.
        ClientError::X(XError::Unauthorized) => {
            DeliveryError::permanent(text::x::reason(&XError::Unauthorized, handle))
                .with_alert(text::x::token_revoked(account))
        }
        ClientError::X(error) => {
            let retry_after = match &error {
                XError::RateLimited { reset: Some(at) } => (*at - Utc::now()).to_std().ok(),
                _ => None,
            };
            DeliveryError {
                retryable: error.retryable(),
                reason: text::x::reason(&error, handle),
                retry_after,
                alert: None,
            }
        }
        // The request may have reached X: retrying makes the next attempt an uncertain one,
        // which looks for the publication before sending again.
        ClientError::Unreachable(detail) | ClientError::BadResponse(detail) => {
            DeliveryError::retryable(text::x::unreachable(&detail))
        }
    }
}

impl Publisher for XPublisher {
    fn publish<'a>(
        &'a self,
        _key: &'a str,
        request: &'a PublishRequest,
    ) -> BoxFuture<'a, Result<String, DeliveryError>> {
        Box::pin(async move {
            let handle = request.author.handle.as_str();
            match self.send(request).await {
                Ok(id) => Ok(id),
                Err(ClientError::X(XError::DuplicateContent)) => {
                    // Ours from an attempt we lost track of, or the same words posted before.
                    match self
                        .lookup(request)
                        .await
                        .map_err(|e| delivery(e, handle, &request.account))?
                    {
                        Some(id) => {
                            tracing::info!(account = %request.account, draft = %request.draft, id, "X calls the reply a duplicate: it was already published.");
                            Ok(id)
                        }
                        None => Err(delivery(
                            ClientError::X(XError::DuplicateContent),
                            handle,
                            &request.account,
                        )),
                    }
                }
                Err(error) => Err(delivery(error, handle, &request.account)),
            }
        })
    }

    fn find<'a>(
        &'a self,
        _key: &'a str,
        request: &'a PublishRequest,
    ) -> BoxFuture<'a, Result<Option<String>, DeliveryError>> {
        Box::pin(async move {
            self.lookup(request)
                .await
                .map_err(|e| delivery(e, &request.author.handle, &request.account))
        })
    }

    fn act<'a>(&'a self, request: &'a ActRequest) -> BoxFuture<'a, Result<(), DeliveryError>> {
        Box::pin(async move {
            let outcome = match self.client.me().await {
                Err(error) => Err(error),
                Ok(me) => match &request.action {
                    NetworkAction::Like { post } => self.client.like(&me, post).await,
                    NetworkAction::Unlike { post } => self.client.unlike(&me, post).await,
                    NetworkAction::Repost { post } => self.client.retweet(&me, post).await,
                    NetworkAction::Delete { id, .. } => self.client.delete(id).await,
                    NetworkAction::Hide { .. }
                    | NetworkAction::Unhide { .. }
                    | NetworkAction::Remove { .. } => {
                        return Err(social::unsupported(&request.action, Platform::X));
                    }
                },
            };
            match (outcome, &request.action) {
                (Ok(()), _) => Ok(()),
                // Repeating an action that already happened (after a crash) is done, not failed.
                (Err(ClientError::X(XError::PostDeleted)), NetworkAction::Delete { .. }) => Ok(()),
                (
                    Err(ClientError::X(XError::Forbidden { detail })),
                    NetworkAction::Repost { .. },
                ) if detail.to_lowercase().contains("already retweeted") => Ok(()),
                (Err(error), _) => Err(delivery(error, text::x::ANYONE, &request.account)),
            }
        })
    }
}

//! Publishing to Bluesky: replies (threaded under the customer's post, the
//! customer mentioned with a facet so they are notified), likes, reposts and
//! deletions of our own replies, exactly once.
//!
//! Every record is put at a record key derived from what it publishes (a
//! reply: the draft's key and the time it was written; a like or repost: the
//! post and its time, [`wire::record_key`]) with `putRecord` and
//! `swapRecord: null`: the same record again answers with the one already
//! there, a different one at that key (`InvalidSwap`: the same draft approved
//! again after a withdrawal, so with another `createdAt`) means it went out
//! before, and is read back. The reply's `createdAt` is its approval time, so
//! a plain repeat is the same record. Must not: decide whether a draft may go out, or retry on its own.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::client::{Client, Failure};
use super::wire::{self, LIKE, POST, REPOST};
use crate::dispatch::{BoxFuture, DeliveryError};
use crate::engine::{NetworkAction, Platform, StrongRef, rules};
use crate::social::{ActRequest, PublishRequest, Publisher, rate};
use crate::text;

pub struct BlueskyPublisher {
    client: Arc<Client>,
}

impl BlueskyPublisher {
    pub fn new(client: Arc<Client>) -> Self {
        BlueskyPublisher { client }
    }

    /// Puts `record` at `rkey` once: an earlier put of it (`InvalidSwap`: something is there)
    /// is read back instead.
    async fn put_once(
        &self,
        collection: &str,
        rkey: &str,
        record: &serde_json::Value,
    ) -> Result<StrongRef, Failure> {
        match self.client.put_record(collection, rkey, record).await {
            Err(Failure::Refused { error, .. }) if error == "InvalidSwap" => {
                tracing::info!(
                    account = self.client.account(),
                    collection,
                    rkey,
                    "Already on Bluesky; read back."
                );
                self.client.get_record(collection, rkey).await
            }
            other => other,
        }
    }

    /// The record key of a like or repost of the target post.
    fn subject(
        request: &ActRequest,
        verb: &str,
    ) -> Result<(StrongRef, String, DateTime<Utc>), DeliveryError> {
        let target = request
            .target
            .as_ref()
            .ok_or_else(|| DeliveryError::permanent(text::post_gone("Bluesky")))?;
        let reference = target
            .reference
            .as_ref()
            .ok_or_else(|| DeliveryError::permanent(text::bluesky::NO_REFERENCE))?;
        let subject = StrongRef {
            uri: target.id.clone(),
            cid: reference.cid.clone(),
        };
        let rkey = wire::record_key(
            &format!("{}/{verb}/{}", request.account, target.id),
            target.at,
        );
        Ok((subject, rkey, target.at))
    }

    async fn act_on(&self, request: &ActRequest) -> Result<(), DeliveryError> {
        let (collection, undo) = match &request.action {
            NetworkAction::Like { .. } => (LIKE, false),
            NetworkAction::Unlike { .. } => (LIKE, true),
            NetworkAction::Repost { .. } => (REPOST, false),
            NetworkAction::Delete { id, .. } => {
                let ours = wire::at_uri(id)
                    .ok_or_else(|| DeliveryError::permanent(text::post_gone("Bluesky")))?;
                // Only a record of our own repository is ours to delete.
                let did = self.client.did().await.map_err(|f| self.failed(f))?;
                if ours.repo != did {
                    return Err(DeliveryError::permanent(text::bluesky::NOT_OURS));
                }
                return self
                    .client
                    .delete_record(ours.collection, ours.rkey)
                    .await
                    .map_err(|f| self.failed(f));
            }
            NetworkAction::Hide { .. }
            | NetworkAction::Unhide { .. }
            | NetworkAction::Remove { .. } => {
                return Err(crate::social::unsupported(
                    &request.action,
                    Platform::Bluesky,
                ));
            }
        };
        let (subject, rkey, _) = Self::subject(request, collection)?;
        let done = match undo {
            true => self.client.delete_record(collection, &rkey).await,
            false => {
                let record = wire::subject_record(collection, &subject, Utc::now());
                self.put_once(collection, &rkey, &record).await.map(drop)
            }
        };
        done.map_err(|f| self.failed(f))
    }

    fn failed(&self, failure: Failure) -> DeliveryError {
        let account = self.client.account();
        match failure {
            Failure::RateLimited { reset } => {
                rate::rate_limited(text::rate_limited("Bluesky", account), reset)
            }
            Failure::LoginRefused(why) => DeliveryError::permanent(why.clone()).with_alert(why),
            // The session could not be renewed this time; the next attempt logs in afresh.
            Failure::Expired => {
                DeliveryError::retryable(text::unreachable("Bluesky", "the session expired"))
            }
            Failure::NotFound => DeliveryError::permanent(text::post_gone("Bluesky")),
            Failure::Refused { error, message, .. } => {
                DeliveryError::permanent(text::bluesky::refused(&error, &message))
            }
            Failure::Unreachable(detail) => {
                DeliveryError::retryable(text::unreachable("Bluesky", &detail))
            }
            Failure::BadResponse(detail) => {
                DeliveryError::permanent(text::bad_response("Bluesky", &detail))
            }
        }
    }
}

impl Publisher for BlueskyPublisher {
    fn publish<'a>(
        &'a self,
        key: &'a str,
        request: &'a PublishRequest,
    ) -> BoxFuture<'a, Result<String, DeliveryError>> {
        Box::pin(async move {
            let at = request
                .approved_at
                .ok_or_else(|| DeliveryError::permanent(text::bluesky::NO_APPROVAL_TIME))?;
            let reference = request
                .reference
                .as_ref()
                .ok_or_else(|| DeliveryError::permanent(text::bluesky::NO_REFERENCE))?;
            let parent = StrongRef {
                uri: request.in_reply_to.clone(),
                cid: reference.cid.clone(),
            };
            let text = rules::addressed(Platform::Bluesky, &request.author.handle, &request.text);
            let record = wire::reply_record(&text, at, &parent, &reference.root, &request.author);
            let rkey = wire::record_key(key, request.drafted_at);
            let made = self
                .put_once(POST, &rkey, &record)
                .await
                .map_err(|f| self.failed(f))?;
            Ok(made.uri)
        })
    }

    fn find<'a>(
        &'a self,
        key: &'a str,
        request: &'a PublishRequest,
    ) -> BoxFuture<'a, Result<Option<String>, DeliveryError>> {
        Box::pin(async move {
            match self
                .client
                .get_record(POST, &wire::record_key(key, request.drafted_at))
                .await
            {
                Ok(found) => Ok(Some(found.uri)),
                Err(Failure::NotFound) => Ok(None),
                Err(failure) => Err(self.failed(failure)),
            }
        })
    }

    fn act<'a>(&'a self, request: &'a ActRequest) -> BoxFuture<'a, Result<(), DeliveryError>> {
        Box::pin(self.act_on(request))
    }
}

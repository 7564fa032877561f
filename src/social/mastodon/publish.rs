//! Publishing to Mastodon: replies (public, unlisted, private or direct, as the
//! mention was), favourites, boosts and deletions of our own replies, exactly
//! once.
//!
//! Every status goes with an `Idempotency-Key` made from the draft's key, so a
//! repeat within the hour the instance remembers keys for gives back the same
//! status. Past that hour, before repeating an attempt whose outcome is
//! unknown, [`MastodonPublisher::find`] looks for our reply among the replies
//! under the customer's status. Must not: decide whether a draft may go out,
//! or retry on its own.

use std::sync::Arc;

use chrono::TimeDelta;

use super::client::{Client, Failure};
use super::wire::{self, Status, Visibility};
use crate::config;
use crate::dispatch::{BoxFuture, DeliveryError};
use crate::engine::{DraftKind, NetworkAction, Platform, PostKind, rules};
use crate::social::{ActRequest, PublishRequest, Publisher, rate};
use crate::text;

/// Clocks differ: an earlier publication may carry a time slightly before the approval.
const CLOCK_SLACK: TimeDelta = TimeDelta::minutes(5);

pub struct MastodonPublisher {
    client: Arc<Client>,
    /// The brand account's id, learnt once.
    me: tokio::sync::OnceCell<String>,
    /// How a public mention is answered.
    visibility: Visibility,
}

impl MastodonPublisher {
    pub fn new(client: Arc<Client>, visibility: config::Visibility) -> Self {
        MastodonPublisher {
            client,
            me: tokio::sync::OnceCell::new(),
            visibility: match visibility {
                config::Visibility::Public => Visibility::Public,
                config::Visibility::Unlisted => Visibility::Unlisted,
                config::Visibility::Private => Visibility::Private,
            },
        }
    }

    /// A direct mention, or a direct answer, stays among the people it names.
    fn visibility(&self, request: &PublishRequest) -> Visibility {
        match (request.kind, request.target_kind) {
            (DraftKind::Direct, _) | (_, PostKind::DirectMessage) => Visibility::Direct,
            _ => self.visibility,
        }
    }

    async fn me(&self) -> Result<&str, Failure> {
        self.me
            .get_or_try_init(|| self.client.me())
            .await
            .map(String::as_str)
    }

    /// Our earlier reply to the same status, if the instance shows one made after approval.
    async fn lookup(&self, request: &PublishRequest) -> Result<Option<String>, Failure> {
        let me = self.me().await?.to_owned();
        let since = request.approved_at.map(|at| at - CLOCK_SLACK);
        let wanted = comparable(&request.text);
        let found = self.client.replies(&request.in_reply_to).await?;
        Ok(found
            .into_iter()
            .find(|s: &Status| {
                s.account.id == me
                    && s.in_reply_to_id.as_deref() == Some(request.in_reply_to.as_str())
                    && since.is_none_or(|since| s.created_at >= since)
                    && comparable(&wire::plain_text(&s.content)) == wanted
            })
            .map(|s| s.id))
    }

    fn failed(&self, failure: Failure) -> DeliveryError {
        let account = self.client.account();
        match failure {
            Failure::RateLimited { reset } => {
                rate::rate_limited(text::rate_limited(text::mastodon::INSTANCE, account), reset)
            }
            Failure::TokenInvalid(_) => {
                tracing::error!(account, "Mastodon refused the account's token.");
                DeliveryError::permanent(text::mastodon::token_refused(account))
                    .with_alert(text::mastodon::token_refused(account))
            }
            Failure::NotFound => DeliveryError::permanent(text::post_gone("Mastodon")),
            Failure::Refused { message, .. } => {
                DeliveryError::permanent(text::mastodon::refused(&message))
            }
            Failure::Unreachable(detail) => {
                DeliveryError::retryable(text::unreachable(text::mastodon::INSTANCE, &detail))
            }
            Failure::BadResponse(detail) => {
                DeliveryError::permanent(text::bad_response(text::mastodon::INSTANCE, &detail))
            }
        }
    }
}

/// A status's words for matching a lookup: the instance shows a remote `@user@domain` as
/// `@user` and may re-space paragraphs, so mentions and spacing are left out.
fn comparable(text: &str) -> String {
    text.split_whitespace()
        .filter(|w| !w.starts_with('@'))
        .collect::<Vec<_>>()
        .join(" ")
}

impl Publisher for MastodonPublisher {
    fn publish<'a>(
        &'a self,
        key: &'a str,
        request: &'a PublishRequest,
    ) -> BoxFuture<'a, Result<String, DeliveryError>> {
        Box::pin(async move {
            let text = rules::addressed(Platform::Mastodon, &request.author.handle, &request.text);
            let status = self
                .client
                .post_status(
                    &text,
                    &request.in_reply_to,
                    self.visibility(request),
                    &format!("carebridge-{key}"),
                )
                .await
                .map_err(|f| self.failed(f))?;
            Ok(status.id)
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
                NetworkAction::Like { post } => self.client.toggle(post, "favourite").await,
                NetworkAction::Unlike { post } => self.client.toggle(post, "unfavourite").await,
                NetworkAction::Repost { post } => self.client.toggle(post, "reblog").await,
                NetworkAction::Delete { id, .. } => match self.client.delete(id).await {
                    // Gone already: what a repeated delete after a crash finds.
                    Err(Failure::NotFound) => Ok(()),
                    other => other,
                },
                NetworkAction::Hide { .. }
                | NetworkAction::Unhide { .. }
                | NetworkAction::Remove { .. } => {
                    return Err(crate::social::unsupported(
                        &request.action,
                        Platform::Mastodon,
                    ));
                }
            };
            done.map_err(|f| self.failed(f))
        })
    }
}

//! Publishing to a generic webhook's `callback_url`: each approved reply is one signed POST
//! (`X-Carebridge-Timestamp`, `X-Carebridge-Signature`, as deliveries are signed) carrying an
//! `Idempotency-Key` stable for the draft.
//!
//! A receiver has no API to look a reply up, so exactly-once rests on that key: after an
//! attempt whose outcome is unknown (a timeout, a crash) the same reply is POSTed again with
//! the same key, and the receiver answers a key it has seen with its first answer instead of
//! acting twice. The key is `{account}/{draft}@{drafting time}`: the drafting time tells a
//! draft apart from one of the same id in a store started afresh, and unlike the approval
//! time it survives an approval withdrawn and given again. The receiver's answer
//! decides: 2xx is published (with its `id`, if the JSON answer has one); 429 waits for
//! `Retry-After`; 408, 409, 425, 5xx and transport failures are retried; a redirect and any
//! other 4xx fail for good with the receiver's message (401/403 also alert the team: the
//! secrets disagree). Must not: decide whether a draft may go out, or retry on its own.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use reqwest::header::{self, HeaderMap};

use super::{signing, wire};
use crate::config::{AccountConfig, Secret, WebhookAccount};
use crate::dispatch::{BoxFuture, DeliveryError};
use crate::engine::Platform;
use crate::health::Health;
use crate::metrics;
use crate::social::{self, ActRequest, PublishRequest, Publisher, rate};
use crate::text;

/// A receiver that takes longer is abandoned (and the reply retried under the same key).
const TIMEOUT: Duration = Duration::from_secs(15);
/// How long a rate-limited reply waits when the receiver does not say.
const DEFAULT_BACKOFF: Duration = Duration::from_secs(60);

pub struct WebhookPublisher {
    http: reqwest::Client,
    account: String,
    secret: Secret,
    callback: Option<String>,
    health: Arc<Health>,
}

/// The `Idempotency-Key` of a draft: the dispatcher's key for it, and when it was written.
pub fn idempotency_key(key: &str, request: &PublishRequest) -> String {
    format!("{key}@{}", request.drafted_at.timestamp())
}

/// What the receiver's answer means: the published id, or the failure for the dispatcher.
/// `key` is the idempotency key, the id when the answer names none.
pub fn outcome(
    account: &str,
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
    key: &str,
) -> Result<String, DeliveryError> {
    let header = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    let wait = header(header::RETRY_AFTER).and_then(|v| rate::retry_after(v, Utc::now()));
    match status {
        200..=299 => Ok(wire::published_id(body).unwrap_or_else(|| key.to_owned())),
        300..=399 => Err(DeliveryError::permanent(text::webhook::redirected(
            status,
            header(header::LOCATION).unwrap_or("an address it did not give"),
        ))),
        401 | 403 => {
            let reason = text::webhook::signature_refused(account, status);
            Err(DeliveryError::permanent(reason.clone()).with_alert(reason))
        }
        429 => Err(DeliveryError {
            retry_after: Some(wait.unwrap_or(DEFAULT_BACKOFF)),
            ..DeliveryError::retryable(text::webhook::rate_limited())
        }),
        408 | 409 | 425 | 500..=599 => Err(DeliveryError {
            retry_after: wait,
            ..DeliveryError::retryable(text::webhook::busy(status))
        }),
        400..=499 => Err(DeliveryError::permanent(text::webhook::refused(
            status,
            &wire::receiver_message(body),
        ))),
        _ => Err(DeliveryError::retryable(text::webhook::busy(status))),
    }
}

impl WebhookPublisher {
    pub fn new(
        account: &AccountConfig,
        settings: &WebhookAccount,
        health: Arc<Health>,
    ) -> anyhow::Result<WebhookPublisher> {
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            // A redirected POST would lose its body or its meaning: a redirect is an answer.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("carebridge/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(WebhookPublisher {
            http,
            account: account.id.clone(),
            secret: settings.secret.clone(),
            callback: settings.callback_url.clone(),
            health,
        })
    }

    async fn post(&self, key: &str, request: &PublishRequest) -> Result<String, DeliveryError> {
        let Some(callback) = &self.callback else {
            // The engine refuses such drafts; this covers one made before the key was removed.
            return Err(DeliveryError::permanent(text::webhook::no_callback(
                &self.account,
            )));
        };
        let key = idempotency_key(key, request);
        let body = wire::reply(request).to_string().into_bytes();
        let timestamp = Utc::now().timestamp().to_string();
        let signature = signing::sign(self.secret.expose(), &timestamp, &body);
        let response = self
            .http
            .post(callback)
            .header(header::CONTENT_TYPE, "application/json")
            .header(signing::TIMESTAMP, &timestamp)
            .header(signing::SIGNATURE, signature)
            .header("idempotency-key", &key)
            .body(body)
            .send()
            .await
            .map_err(|e| {
                metrics::api_call("webhook", None);
                DeliveryError::retryable(text::unreachable(
                    text::webhook::CALLBACK,
                    &e.without_url().to_string(),
                ))
            })?;
        let status = response.status().as_u16();
        metrics::api_call("webhook", Some(status));
        let headers = response.headers().clone();
        let answer = response.bytes().await.map_err(|e| {
            DeliveryError::retryable(text::unreachable(
                text::webhook::CALLBACK,
                &e.without_url().to_string(),
            ))
        })?;
        let outcome = outcome(&self.account, status, &headers, &answer, &key);
        match &outcome {
            Ok(_) => self.health.account_ok(&self.account),
            Err(_) if status == 401 || status == 403 => self.health.token_refused(&self.account),
            Err(_) if status == 429 => metrics::rate_limited("webhook"),
            Err(error) => {
                tracing::warn!(account = %self.account, case = request.case, draft = %request.draft, status, reason = %error.reason, "The callback did not take the reply.");
            }
        }
        outcome
    }
}

impl Publisher for WebhookPublisher {
    fn publish<'a>(
        &'a self,
        key: &'a str,
        request: &'a PublishRequest,
    ) -> BoxFuture<'a, Result<String, DeliveryError>> {
        Box::pin(self.post(key, request))
    }

    /// A receiver cannot be asked what it got: sending again under the same
    /// `Idempotency-Key` is the lookup, so nothing is ever found here.
    fn find<'a>(
        &'a self,
        _key: &'a str,
        _request: &'a PublishRequest,
    ) -> BoxFuture<'a, Result<Option<String>, DeliveryError>> {
        Box::pin(async { Ok(None) })
    }

    /// The network offers no actions (the engine refuses them before they are queued).
    fn act<'a>(&'a self, request: &'a ActRequest) -> BoxFuture<'a, Result<(), DeliveryError>> {
        Box::pin(async move { Err(social::unsupported(&request.action, Platform::Webhook)) })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use chrono::TimeZone;

    use super::*;

    fn answer(
        status: u16,
        headers: &[(&'static str, &str)],
        body: &str,
    ) -> Result<String, DeliveryError> {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(*name, value.parse().unwrap());
        }
        outcome(
            "acme-forms",
            status,
            &map,
            body.as_bytes(),
            "acme-forms/12.1@1795428000",
        )
    }

    #[test]
    fn a_2xx_publishes_with_the_receivers_id_or_the_key() {
        assert_eq!(
            answer(200, &[], r#"{"id":"msg-9"}"#),
            Ok("msg-9".to_owned())
        );
        assert_eq!(
            answer(202, &[], ""),
            Ok("acme-forms/12.1@1795428000".to_owned())
        );
    }

    #[test]
    fn failures_are_retryable_or_permanent_with_the_receivers_reason() {
        let limited = answer(429, &[("retry-after", "7")], "").unwrap_err();
        assert!(limited.retryable);
        assert_eq!(limited.retry_after, Some(Duration::from_secs(7)));
        assert_eq!(
            answer(429, &[], "").unwrap_err().retry_after,
            Some(DEFAULT_BACKOFF)
        );
        for status in [408, 409, 500, 502, 503] {
            let busy = answer(status, &[], "").unwrap_err();
            assert!(busy.retryable && busy.alert.is_none(), "{status}");
        }
        let refused = answer(422, &[], r#"{"error":"this conversation is closed"}"#).unwrap_err();
        assert!(!refused.retryable);
        assert_eq!(
            refused.reason,
            "The callback's receiver refused the reply (HTTP 422): this conversation is closed"
        );
        let unsigned = answer(401, &[], "").unwrap_err();
        assert!(!unsigned.retryable && unsigned.alert.is_some());
        assert!(unsigned.reason.contains("`secret`"), "{}", unsigned.reason);
        let moved = answer(301, &[("location", "https://new.example/hook")], "").unwrap_err();
        assert!(!moved.retryable && moved.reason.contains("https://new.example/hook"));
    }

    #[test]
    fn the_idempotency_key_is_the_drafts_and_when_it_was_written() {
        let mut request = super::super::sample_request();
        request.drafted_at = Utc.timestamp_opt(1_795_428_000, 0).unwrap();
        assert_eq!(
            idempotency_key("acme-forms/12.1", &request),
            "acme-forms/12.1@1795428000"
        );
        // Approved, withdrawn and approved again: still the same publication.
        request.approved_at = Some(Utc.timestamp_opt(1_795_429_000, 0).unwrap());
        assert_eq!(
            idempotency_key("acme-forms/12.1", &request),
            "acme-forms/12.1@1795428000"
        );
    }
}

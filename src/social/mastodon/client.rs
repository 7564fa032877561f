//! The Mastodon REST client for one brand account on one instance: the calls
//! carebridge makes (who we are, mention notifications, the instance's
//! limits, statuses, favourites, boosts, deletions, a thread's replies, the
//! notification stream), with the account's access token.
//!
//! Owns the HTTP exchange, rate-limit headers and reading answers; must not
//! decide what a refusal means for the case (the publisher maps it) or retry
//! on its own (the dispatcher and the source do).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::Value;

use super::wire::{self, Limits, Status, Visibility};
use crate::config::{AccountConfig, Secret};
use crate::health::Health;
use crate::metrics;
use crate::social::rate;
pub use crate::social::rate::Rate;

/// A call that takes longer is abandoned (and tried again later).
const TIMEOUT: Duration = Duration::from_secs(30);
/// The rate-limit headers' prefix.
const RATE: &str = "x-ratelimit-";
/// The most notifications one page may hold (platforms.md §5).
pub const PAGE: usize = 80;

/// Why a call did not give an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// 429: wait until `reset` (from `X-RateLimit-Reset`), or a minute when not given.
    RateLimited { reset: Option<DateTime<Utc>> },
    /// 401: the instance no longer accepts the token.
    TokenInvalid(String),
    /// 404: the status is gone (or was never visible to us).
    NotFound,
    /// 4xx other than those: the instance's own words.
    Refused { status: u16, message: String },
    /// The instance could not be reached, broke off, or answered 5xx.
    Unreachable(String),
    /// A 2xx answer we cannot read.
    BadResponse(String),
}

/// A page of mention notifications, newest first as the API gives them.
#[derive(Debug)]
pub struct Page {
    pub notifications: Vec<Value>,
    /// Where the next page of newer ones starts (`Link: rel="prev"`).
    pub newer: Option<String>,
    pub rate: Rate,
}

/// The API as one account.
pub struct Client {
    http: reqwest::Client,
    /// The instance's base URL, ending with `/`.
    base: String,
    token: Secret,
    account: String,
    health: Arc<Health>,
}

impl Client {
    pub fn new(
        account: &AccountConfig,
        token: Secret,
        health: Arc<Health>,
    ) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("carebridge/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Client {
            http,
            base: account.api_url.clone(),
            token,
            account: account.id.clone(),
            health,
        })
    }

    pub fn account(&self) -> &str {
        &self.account
    }

    /// The token goes as a bearer header, never in a URL (or a log line quoting one).
    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(self.token.expose())
    }

    /// Sends one call with a timeout and reads the answer: JSON and the rate headers.
    async fn send(&self, request: reqwest::RequestBuilder) -> Result<(Value, HeaderMap), Failure> {
        let response = request.timeout(TIMEOUT).send().await.map_err(|e| {
            metrics::api_call("mastodon", None);
            Failure::Unreachable(e.without_url().to_string())
        })?;
        let status = response.status();
        metrics::api_call("mastodon", Some(status.as_u16()));
        let headers = response.headers().clone();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| Failure::Unreachable(e.without_url().to_string()))?;
        if !status.is_success() {
            let message = wire::error_message(&bytes).unwrap_or_else(|| format!("HTTP {status}"));
            return Err(match status.as_u16() {
                401 => {
                    self.health.token_refused(&self.account);
                    Failure::TokenInvalid(message)
                }
                404 => Failure::NotFound,
                429 => Failure::RateLimited {
                    reset: Rate::read(&headers, RATE)
                        .reset
                        .or_else(|| retry_after(&headers)),
                },
                code if status.is_server_error() => Failure::Unreachable(format!("HTTP {code}")),
                code => Failure::Refused {
                    status: code,
                    message,
                },
            });
        }
        self.health.account_ok(&self.account);
        let value = match bytes.is_empty() {
            true => Value::Null,
            false => {
                serde_json::from_slice(&bytes).map_err(|e| Failure::BadResponse(e.to_string()))?
            }
        };
        Ok((value, headers))
    }

    async fn call(&self, request: reqwest::RequestBuilder) -> Result<Value, Failure> {
        self.send(request).await.map(|(value, _)| value)
    }

    /// The brand account's id (`GET /api/v1/accounts/verify_credentials`).
    pub async fn me(&self) -> Result<String, Failure> {
        let me = self
            .call(self.request(Method::GET, "api/v1/accounts/verify_credentials"))
            .await?;
        me.get("id")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| Failure::BadResponse("no id in verify_credentials".into()))
    }

    /// The instance's status limits and streaming base (`GET /api/v2/instance`).
    pub async fn instance(&self) -> Result<(Option<Limits>, Option<String>), Failure> {
        let instance = self
            .call(self.request(Method::GET, "api/v2/instance"))
            .await?;
        let streaming = instance
            .pointer("/configuration/urls/streaming")
            .and_then(Value::as_str)
            .map(|url| {
                let url = url
                    .replacen("wss://", "https://", 1)
                    .replacen("ws://", "http://", 1);
                format!("{}/", url.trim_end_matches('/'))
            });
        Ok((wire::limits(&instance), streaming))
    }

    /// Mention notifications newer than `min_id` (the newest when `None`), a page of `limit`.
    pub async fn mentions(&self, min_id: Option<&str>, limit: usize) -> Result<Page, Failure> {
        let mut query = vec![
            ("types[]", "mention".to_owned()),
            ("limit", limit.to_string()),
        ];
        if let Some(min_id) = min_id {
            query.push(("min_id", min_id.to_owned()));
        }
        let (value, headers) = self
            .send(
                self.request(Method::GET, "api/v1/notifications")
                    .query(&query),
            )
            .await?;
        let Value::Array(notifications) = value else {
            return Err(Failure::BadResponse("notifications are not a list".into()));
        };
        let newer = headers
            .get("link")
            .and_then(|v| v.to_str().ok())
            .and_then(wire::prev_min_id);
        Ok(Page {
            notifications,
            newer,
            rate: Rate::read(&headers, RATE),
        })
    }

    /// Posts a status. `key` goes as `Idempotency-Key`: the instance answers a repeat within
    /// the hour with the status it already made.
    pub async fn post_status(
        &self,
        text: &str,
        in_reply_to: &str,
        visibility: Visibility,
        key: &str,
    ) -> Result<Status, Failure> {
        let body = serde_json::json!({
            "status": text,
            "in_reply_to_id": in_reply_to,
            "visibility": visibility.key(),
        });
        let answer = self
            .call(
                self.request(Method::POST, "api/v1/statuses")
                    .header("Idempotency-Key", key)
                    .json(&body),
            )
            .await?;
        serde_json::from_value(answer).map_err(|e| Failure::BadResponse(e.to_string()))
    }

    /// The replies under a status (`GET /api/v1/statuses/:id/context`, descendants).
    pub async fn replies(&self, id: &str) -> Result<Vec<Status>, Failure> {
        let context = self
            .call(self.request(
                Method::GET,
                &format!("api/v1/statuses/{}/context", segment(id)),
            ))
            .await?;
        let descendants = context.get("descendants").cloned().unwrap_or(Value::Null);
        match descendants {
            Value::Array(items) => Ok(items
                .into_iter()
                .filter_map(|s| serde_json::from_value(s).ok())
                .collect()),
            _ => Err(Failure::BadResponse("no descendants in the context".into())),
        }
    }

    /// Favourites, boosts, or takes either back; repeating one is harmless on Mastodon.
    pub async fn toggle(&self, id: &str, verb: &str) -> Result<(), Failure> {
        let path = format!("api/v1/statuses/{}/{verb}", segment(id));
        self.call(self.request(Method::POST, &path)).await.map(drop)
    }

    /// Deletes one of our statuses.
    pub async fn delete(&self, id: &str) -> Result<(), Failure> {
        let path = format!("api/v1/statuses/{}", segment(id));
        self.call(self.request(Method::DELETE, &path))
            .await
            .map(drop)
    }

    /// Opens the notification stream (server-sent events) at `base` (the instance's
    /// streaming URL, or the instance itself).
    pub async fn stream(&self, base: &str) -> Result<reqwest::Response, Failure> {
        let response = self
            .http
            .get(format!("{base}api/v1/streaming/user/notification"))
            .bearer_auth(self.token.expose())
            .header("Accept", "text/event-stream")
            .send()
            .await
            .map_err(|e| Failure::Unreachable(e.without_url().to_string()))?;
        metrics::api_call("mastodon", Some(response.status().as_u16()));
        match response.status() {
            s if s.is_success() => Ok(response),
            s if s.as_u16() == 401 => {
                self.health.token_refused(&self.account);
                Err(Failure::TokenInvalid(format!("HTTP {s}")))
            }
            s if s.as_u16() == 404 => Err(Failure::NotFound),
            s => Err(Failure::Unreachable(format!("HTTP {s}"))),
        }
    }
}

/// `Retry-After`, as a time.
fn retry_after(headers: &HeaderMap) -> Option<DateTime<Utc>> {
    let now = Utc::now();
    let value = headers.get("retry-after")?.to_str().ok()?;
    rate::retry_after(value, now)
        .and_then(|wait| Some(now + chrono::TimeDelta::from_std(wait).ok()?))
}

/// An id as one path segment: ids are opaque strings.
fn segment(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes()).collect()
}

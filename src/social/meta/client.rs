//! The Graph API client for one Facebook Page or Instagram account: the
//! calls carebridge makes (replies, the Send API, likes, deletions, and the
//! reads that find an earlier publication), with the page token, at the
//! configured version.
//!
//! Owns the HTTP exchange and reading answers; must not decide what a refusal
//! means for the case (the publisher maps it) or retry on its own (the
//! dispatcher does).

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use super::wire::{self, GraphError};
use crate::config::{AccountConfig, MetaAccount, Secret};
use crate::engine::Platform;
use crate::health::Health;
use crate::metrics;

/// A Graph call that takes longer is abandoned (and retried by the dispatcher).
const TIMEOUT: Duration = Duration::from_secs(30);
/// How long a rate-limited account waits when Meta does not say.
const DEFAULT_BACKOFF: Duration = Duration::from_secs(60);
/// How many of a comment's replies, or a conversation's messages, a lookup reads.
const LOOKUP_LIMIT: u32 = 50;

/// Why a Graph call did not give an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Meta refused it; `retry_after` from the usage headers when rate-limited.
    Graph {
        error: GraphError,
        retry_after: Option<Duration>,
    },
    /// Meta could not be reached, or the connection broke.
    Unreachable(String),
    /// A 2xx answer we cannot read.
    BadResponse(String),
}

/// One of our earlier messages or replies, as a lookup finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub id: String,
    pub text: String,
    pub from: String,
    pub at: Option<chrono::DateTime<chrono::Utc>>,
}

/// How a Send API message is allowed out (platforms.md §4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Messaging {
    /// Inside the 24-hour window.
    Response,
    /// A person's answer up to 7 days after the customer's last message.
    HumanAgent,
}

/// The Graph API as one account.
pub struct Graph {
    http: reqwest::Client,
    /// `{api_url}{version}/`.
    base: String,
    token: Secret,
    account: String,
    /// The Page or Instagram account id.
    owner: String,
    platform: Platform,
    health: std::sync::Arc<Health>,
}

impl Graph {
    pub fn new(
        account: &AccountConfig,
        meta: &MetaAccount,
        health: std::sync::Arc<Health>,
    ) -> anyhow::Result<Graph> {
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .user_agent(concat!("carebridge/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Graph {
            http,
            base: format!("{}{}/", account.api_url, meta.graph_version),
            token: meta.page_token.clone(),
            account: account.id.clone(),
            owner: meta.page_id.clone(),
            platform: account.network,
            health,
        })
    }

    pub fn account(&self) -> &str {
        &self.account
    }

    /// The Page or Instagram account id (a delivery's `entry[].id`).
    pub fn owner(&self) -> &str {
        &self.owner
    }

    pub fn platform(&self) -> Platform {
        self.platform
    }

    /// The account's health entry, for what reaches it other than a call (a webhook delivery).
    pub fn health(&self) -> &Health {
        &self.health
    }

    /// One call: `body` goes as JSON; the token as a bearer header, so it never appears in
    /// a URL (or a log line that quotes one).
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        query: &[(&str, String)],
    ) -> Result<Value, Failure> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(self.token.expose())
            .query(query);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.map_err(|e| {
            metrics::api_call("meta", None);
            Failure::Unreachable(e.without_url().to_string())
        })?;
        let status = response.status();
        metrics::api_call("meta", Some(status.as_u16()));
        let retry_after = backoff(response.headers());
        let bytes = response
            .bytes()
            .await
            .map_err(|e| Failure::Unreachable(e.without_url().to_string()))?;
        if let Some(error) = wire::graph_error(&bytes) {
            if wire::meaning(&error) == wire::Meaning::TokenInvalid {
                self.health.token_refused(&self.account);
            }
            let retry_after = (wire::meaning(&error) == wire::Meaning::RateLimited)
                .then(|| retry_after.unwrap_or(DEFAULT_BACKOFF));
            return Err(Failure::Graph { error, retry_after });
        }
        if !status.is_success() {
            return Err(match status.is_server_error() {
                true => Failure::Unreachable(format!("HTTP {status}")),
                false => Failure::BadResponse(format!("HTTP {status}")),
            });
        }
        self.health.account_ok(&self.account);
        serde_json::from_slice(&bytes).map_err(|e| Failure::BadResponse(e.to_string()))
    }

    /// The `id` field of an answer.
    fn id(answer: &Value, field: &str) -> Result<String, Failure> {
        answer
            .get(field)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| Failure::BadResponse(format!("no {field} in the answer")))
    }

    /// A public reply under a comment: Facebook `/{comment}/comments`, Instagram
    /// `/{comment}/replies`.
    pub async fn reply_to_comment(&self, comment: &str, text: &str) -> Result<String, Failure> {
        let edge = self.replies_edge();
        let answer = self
            .call(
                Method::POST,
                &format!("{comment}/{edge}"),
                Some(json!({"message": text})),
                &[],
            )
            .await?;
        Self::id(&answer, "id")
    }

    fn replies_edge(&self) -> &'static str {
        match self.platform {
            Platform::Instagram => "replies",
            _ => "comments",
        }
    }

    /// A reply to an Instagram @mention (in a caption, or in a comment when `comment` is set).
    pub async fn reply_to_mention(
        &self,
        media: &str,
        comment: Option<&str>,
        text: &str,
    ) -> Result<String, Failure> {
        let mut body = json!({"media_id": media, "message": text});
        if let Some(comment) = comment {
            body["comment_id"] = json!(comment);
        }
        let answer = self
            .call(
                Method::POST,
                &format!("{}/mentions", self.owner),
                Some(body),
                &[],
            )
            .await?;
        Self::id(&answer, "id")
    }

    /// A Send API message to `recipient` (`{"id": PSID}` or `{"comment_id": …}` for a
    /// private reply); the new message's id.
    pub async fn send(
        &self,
        recipient: Value,
        text: &str,
        messaging: Messaging,
    ) -> Result<String, Failure> {
        let mut body = json!({"recipient": recipient, "message": {"text": text}});
        match messaging {
            Messaging::Response => body["messaging_type"] = json!("RESPONSE"),
            Messaging::HumanAgent => {
                body["messaging_type"] = json!("MESSAGE_TAG");
                body["tag"] = json!("HUMAN_AGENT");
            }
        }
        let answer = self
            .call(
                Method::POST,
                &format!("{}/messages", self.owner),
                Some(body),
                &[],
            )
            .await?;
        Self::id(&answer, "message_id")
    }

    /// The latest replies under a comment, newest first.
    pub async fn replies(&self, comment: &str) -> Result<Vec<Found>, Failure> {
        let edge = self.replies_edge();
        let answer = self
            .call(
                Method::GET,
                &format!("{comment}/{edge}"),
                None,
                &[
                    ("order", "reverse_chronological".to_owned()),
                    ("limit", LOOKUP_LIMIT.to_string()),
                    (
                        "fields",
                        "id,message,text,from,username,created_time,timestamp".to_owned(),
                    ),
                ],
            )
            .await?;
        Ok(found(answer.get("data")))
    }

    /// Our latest messages to `user`, newest first.
    pub async fn conversation(&self, user: &str) -> Result<Vec<Found>, Failure> {
        let platform = match self.platform {
            Platform::Instagram => "instagram",
            _ => "messenger",
        };
        let answer = self
            .call(
                Method::GET,
                &format!("{}/conversations", self.owner),
                None,
                &[
                    ("platform", platform.to_owned()),
                    ("user_id", user.to_owned()),
                    (
                        "fields",
                        format!("messages.limit({LOOKUP_LIMIT}){{id,message,from,created_time}}"),
                    ),
                ],
            )
            .await?;
        let messages = answer
            .get("data")
            .and_then(Value::as_array)
            .and_then(|c| c.first())
            .and_then(|c| c.get("messages"))
            .and_then(|m| m.get("data"));
        Ok(found(messages))
    }

    /// Replies on an Instagram @mention, as Meta lists them on the account: under the comment
    /// that mentions us, or among the media's comments for a mention in a caption.
    pub async fn mention_replies(
        &self,
        media: &str,
        comment: Option<&str>,
    ) -> Result<Vec<Found>, Failure> {
        let (field, edge) = match comment {
            Some(_) => ("mentioned_comment", "replies"),
            None => ("mentioned_media", "comments"),
        };
        let target = match comment {
            Some(comment) => format!("comment_id({comment})"),
            None => format!("media_id({media})"),
        };
        let fields = format!("{field}.{target}{{{edge}{{id,text,username,timestamp,from}}}}");
        let answer = self
            .call(Method::GET, &self.owner, None, &[("fields", fields)])
            .await?;
        Ok(found(
            answer
                .get(field)
                .and_then(|m| m.get(edge))
                .and_then(|e| e.get("data")),
        ))
    }

    /// An object's fields (an Instagram comment a mention points at).
    pub async fn object(&self, id: &str, fields: &str) -> Result<Value, Failure> {
        self.call(Method::GET, id, None, &[("fields", fields.to_owned())])
            .await
    }

    /// Likes (or takes back the like on) an object.
    pub async fn like(&self, object: &str, like: bool) -> Result<(), Failure> {
        let method = match like {
            true => Method::POST,
            false => Method::DELETE,
        };
        self.call(method, &format!("{object}/likes"), None, &[])
            .await
            .map(|_| ())
    }

    /// Hides a comment from everyone but its author (and their friends), or shows it again:
    /// Facebook names the field `is_hidden`, Instagram `hide`.
    pub async fn hide(&self, comment: &str, hidden: bool) -> Result<(), Failure> {
        let field = match self.platform {
            Platform::Instagram => "hide",
            _ => "is_hidden",
        };
        self.call(Method::POST, comment, Some(json!({ field: hidden })), &[])
            .await
            .map(|_| ())
    }

    /// Deletes an object: one of our replies, or a comment on the account's own content.
    pub async fn delete(&self, object: &str) -> Result<(), Failure> {
        self.call(Method::DELETE, object, None, &[])
            .await
            .map(|_| ())
    }
}

/// Objects in a Graph list: Facebook writes `message` and `from.id`, Instagram `text` and
/// `username`/`from.id`.
fn found(list: Option<&Value>) -> Vec<Found> {
    let Some(items) = list.and_then(Value::as_array) else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| {
            let text = item
                .get("message")
                .or_else(|| item.get("text"))
                .and_then(Value::as_str)?;
            let from = item
                .get("from")
                .and_then(|f| f.get("id"))
                .or_else(|| item.get("username"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            let at = item
                .get("created_time")
                .or_else(|| item.get("timestamp"))
                .and_then(wire::time);
            Some(Found {
                id: item.get("id")?.as_str()?.to_owned(),
                text: text.to_owned(),
                from: from.to_owned(),
                at,
            })
        })
        .collect()
}

/// How long Meta asks a rate-limited app to wait: `X-Business-Use-Case-Usage`'s
/// `estimated_time_to_regain_access` (minutes), the largest over its entries.
fn backoff(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let usage: Value =
        serde_json::from_slice(headers.get("x-business-use-case-usage")?.as_bytes()).ok()?;
    let minutes = usage
        .as_object()?
        .values()
        .filter_map(Value::as_array)
        .flatten()
        .filter_map(|u| u.get("estimated_time_to_regain_access")?.as_u64())
        .max()?;
    Some(Duration::from_secs(minutes.max(1) * 60))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn business_use_case_usage_says_how_long_to_wait() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            "x-business-use-case-usage",
            r#"{"448242228374517":[{"type":"pages","call_count":100,"total_cputime":30,"total_time":40,"estimated_time_to_regain_access":3}]}"#
                .parse()
                .unwrap(),
        );
        assert_eq!(backoff(&headers), Some(Duration::from_secs(180)));
        assert_eq!(backoff(&reqwest::header::HeaderMap::new()), None);
    }

    #[test]
    fn lists_read_either_networks_fields() {
        let list = json!([
            {"id": "1", "message": "hi", "from": {"id": "448"}, "created_time": "2026-11-23T10:00:00+0000"},
            {"id": "2", "text": "yo", "username": "acme", "timestamp": "2026-11-23T10:01:00+0000"},
            {"id": "3"}
        ]);
        let found = found(Some(&list));
        assert_eq!(found.len(), 2);
        assert_eq!(
            (found[0].from.as_str(), found[1].from.as_str()),
            ("448", "acme")
        );
        assert!(found[0].at.is_some());
    }
}

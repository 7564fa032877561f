//! The XRPC client for one brand account on its PDS: the session (logged in
//! once with the app password, refreshed after, kept in the store), mention and
//! reply notifications, and the records we put, read back and delete.
//!
//! Owns the HTTP exchange, the session's tokens, rate-limit headers and
//! reading answers; must not decide what a refusal means for the case (the
//! publisher maps it) or retry on its own beyond renewing an expired session
//! once (the dispatcher and the source do).
//!
//! The session: the tokens are stored (`Store::set_credential`) under the
//! account, with the identifier they were made for. A start uses them; an
//! expired access token (`400 ExpiredToken`, or `401`) is refreshed with the
//! refresh token, and only when that is refused too does the client log in
//! again (`createSession` is limited to 30 per 5 minutes and a few hundred per
//! day). Tokens and the password never reach a log line or an error.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::Mutex;

use super::wire;
use crate::config::{AccountConfig, Secret};
use crate::engine::StrongRef;
use crate::health::Health;
use crate::metrics;
pub use crate::social::rate::Rate;
use crate::store::Store;

/// A call that takes longer is abandoned (and tried again later).
const TIMEOUT: Duration = Duration::from_secs(30);
/// Notifications per page (the API's default; at most 100).
pub const PAGE: usize = 50;

/// Why a call did not give an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// 429: wait until `reset` (from `RateLimit-Reset`), or a minute when not given.
    RateLimited { reset: Option<DateTime<Utc>> },
    /// The session's access token is no longer accepted (`ExpiredToken`, `InvalidToken`,
    /// 401); the client renews it and tries once more before anyone sees this.
    Expired,
    /// The PDS refused the identifier and app password: nothing works until they are fixed.
    LoginRefused(String),
    /// The record is not there (`RecordNotFound`, 404).
    NotFound,
    /// Another 4xx: the XRPC error name (`InvalidSwap`, …) and the PDS's own words.
    Refused {
        status: u16,
        error: String,
        message: String,
    },
    /// The PDS could not be reached, broke off, or answered 5xx.
    Unreachable(String),
    /// A 2xx answer we cannot read.
    BadResponse(String),
}

/// A page of notifications, newest first as the API gives them.
#[derive(Debug)]
pub struct Page {
    pub notifications: Vec<Value>,
    /// Where the next page of older ones starts.
    pub older: Option<String>,
    pub rate: Rate,
}

/// A session as kept in the store. No `Debug`: it holds the tokens.
#[derive(Clone, Serialize, Deserialize)]
struct Session {
    access: String,
    refresh: String,
    did: String,
    /// The configured identifier it was made for: a changed one logs in afresh.
    identifier: String,
}

/// `createSession` and `refreshSession` answers (the fields carebridge reads).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SessionAnswer {
    access_jwt: String,
    refresh_jwt: String,
    did: String,
}

/// What an authorized call carries.
enum Auth<'a> {
    Access(&'a str),
    Refresh(&'a str),
    None,
}

fn session_key(account: &str) -> String {
    format!("bluesky-session/{account}")
}

/// The PDS as one account.
pub struct Client {
    http: reqwest::Client,
    /// The PDS's base URL, ending with `/`.
    base: String,
    account: String,
    identifier: String,
    password: Secret,
    store: Store,
    health: Arc<Health>,
    session: Mutex<Option<Session>>,
}

impl Client {
    pub fn new(
        account: &AccountConfig,
        identifier: &str,
        password: Secret,
        store: Store,
        health: Arc<Health>,
    ) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("carebridge/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Client {
            http,
            base: account.api_url.clone(),
            account: account.id.clone(),
            identifier: identifier.to_owned(),
            password,
            store,
            health,
            session: Mutex::new(None),
        })
    }

    pub fn account(&self) -> &str {
        &self.account
    }

    /// Sends one XRPC call with a timeout and reads the answer: JSON and the rate headers.
    async fn exchange(
        &self,
        method: Method,
        nsid: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        auth: Auth<'_>,
    ) -> Result<(Value, Rate), Failure> {
        let mut request = self
            .http
            .request(method, format!("{}xrpc/{nsid}", self.base))
            .query(query)
            .timeout(TIMEOUT);
        // Tokens go as a bearer header, never in a URL (or a log line quoting one).
        request = match auth {
            Auth::Access(token) | Auth::Refresh(token) => request.bearer_auth(token),
            Auth::None => request,
        };
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|e| {
            metrics::api_call("bluesky", None);
            Failure::Unreachable(e.without_url().to_string())
        })?;
        let status = response.status();
        metrics::api_call("bluesky", Some(status.as_u16()));
        let rate = Rate::read(response.headers(), "ratelimit-");
        let bytes = response
            .bytes()
            .await
            .map_err(|e| Failure::Unreachable(e.without_url().to_string()))?;
        if !status.is_success() {
            let (error, message) = wire::error_body(&bytes);
            let error = error.unwrap_or_default();
            return Err(match (status.as_u16(), error.as_str()) {
                (429, _) => Failure::RateLimited { reset: rate.reset },
                (401, _) | (400, "ExpiredToken" | "InvalidToken") => Failure::Expired,
                (404, _) | (400, "RecordNotFound") => Failure::NotFound,
                (code, _) if status.is_server_error() => {
                    Failure::Unreachable(format!("HTTP {code}"))
                }
                (code, _) => Failure::Refused {
                    status: code,
                    message: message.unwrap_or_else(|| format!("HTTP {code}")),
                    error,
                },
            });
        }
        let value = match bytes.is_empty() {
            true => Value::Null,
            false => {
                serde_json::from_slice(&bytes).map_err(|e| Failure::BadResponse(e.to_string()))?
            }
        };
        Ok((value, rate))
    }

    /// One call as the account, renewing the session once if its token expired.
    async fn call(
        &self,
        method: Method,
        nsid: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<(Value, Rate), Failure> {
        let session = self.session().await?;
        let first = self
            .exchange(
                method.clone(),
                nsid,
                query,
                body,
                Auth::Access(&session.access),
            )
            .await;
        let answer = match first {
            Err(Failure::Expired) => {
                let renewed = self.renew(&session.access).await?;
                self.exchange(method, nsid, query, body, Auth::Access(&renewed.access))
                    .await
            }
            other => other,
        };
        match &answer {
            Ok(_) => self.health.account_ok(&self.account),
            Err(Failure::Expired) => {
                tracing::warn!(account = %self.account, "Bluesky refused a session it had just made.");
            }
            Err(_) => {}
        }
        answer
    }

    /// The brand account's DID.
    pub async fn did(&self) -> Result<String, Failure> {
        self.session().await.map(|s| s.did)
    }

    /// The current session: the one in memory, else the stored one, else a new login.
    async fn session(&self) -> Result<Session, Failure> {
        let mut current = self.session.lock().await;
        if let Some(session) = current.as_ref() {
            return Ok(session.clone());
        }
        let stored = self
            .store
            .credential(&session_key(&self.account))
            .ok()
            .flatten()
            .and_then(|text| serde_json::from_str::<Session>(&text).ok())
            .filter(|s| s.identifier == self.identifier);
        let session = match stored {
            Some(session) => {
                tracing::info!(account = %self.account, "Using the stored Bluesky session.");
                session
            }
            None => self.login().await?,
        };
        *current = Some(session.clone());
        Ok(session)
    }

    /// A fresh session after `failed` (an access token) was refused: refreshed, or when the
    /// refresh token is refused too, logged in again. Another call may have renewed it first.
    async fn renew(&self, failed: &str) -> Result<Session, Failure> {
        let mut current = self.session.lock().await;
        if let Some(session) = current.as_ref().filter(|s| s.access != failed) {
            return Ok(session.clone());
        }
        let refreshed = match current.as_ref() {
            Some(session) => {
                let answer = self
                    .exchange(
                        Method::POST,
                        "com.atproto.server.refreshSession",
                        &[],
                        None,
                        Auth::Refresh(&session.refresh),
                    )
                    .await;
                match answer {
                    Ok((value, _)) => Some(self.keep(value)?),
                    // Expired or revoked: log in again.
                    Err(Failure::Expired | Failure::Refused { .. }) => None,
                    Err(other) => return Err(other),
                }
            }
            None => None,
        };
        let session = match refreshed {
            Some(session) => {
                tracing::info!(account = %self.account, "Bluesky session refreshed.");
                session
            }
            None => self.login().await?,
        };
        *current = Some(session.clone());
        Ok(session)
    }

    /// `com.atproto.server.createSession` with the app password.
    async fn login(&self) -> Result<Session, Failure> {
        let body = json!({"identifier": self.identifier, "password": self.password.expose()});
        let answer = self
            .exchange(
                Method::POST,
                "com.atproto.server.createSession",
                &[],
                Some(&body),
                Auth::None,
            )
            .await;
        match answer {
            Ok((value, _)) => {
                let session = self.keep(value)?;
                tracing::info!(account = %self.account, did = %session.did, "Logged in to Bluesky.");
                Ok(session)
            }
            Err(Failure::Expired | Failure::Refused { .. }) => {
                self.health.token_refused(&self.account);
                let why = crate::text::bluesky::login_refused(&self.account);
                tracing::error!(account = %self.account, "{why}");
                Err(Failure::LoginRefused(why))
            }
            Err(other) => Err(other),
        }
    }

    /// Reads a session answer and stores it (flushed at once: a refreshed token lost in a
    /// crash would mean another login).
    fn keep(&self, value: Value) -> Result<Session, Failure> {
        let answer: SessionAnswer =
            serde_json::from_value(value).map_err(|e| Failure::BadResponse(e.to_string()))?;
        let session = Session {
            access: answer.access_jwt,
            refresh: answer.refresh_jwt,
            did: answer.did,
            identifier: self.identifier.clone(),
        };
        match serde_json::to_string(&session) {
            Ok(text) => {
                if let Err(error) = self
                    .store
                    .set_credential(&session_key(&self.account), &text)
                {
                    tracing::error!(account = %self.account, %error, "Cannot store the Bluesky session; a restart will log in again.");
                }
            }
            Err(error) => {
                tracing::error!(account = %self.account, %error, "Cannot encode the Bluesky session.")
            }
        }
        Ok(session)
    }

    /// Mention and reply notifications, newest first, from `cursor` (the newest when `None`).
    pub async fn notifications(&self, cursor: Option<&str>, limit: usize) -> Result<Page, Failure> {
        let mut query = vec![
            ("reasons", "mention".to_owned()),
            ("reasons", "reply".to_owned()),
            ("limit", limit.to_string()),
        ];
        if let Some(cursor) = cursor {
            query.push(("cursor", cursor.to_owned()));
        }
        let (value, rate) = self
            .call(
                Method::GET,
                "app.bsky.notification.listNotifications",
                &query,
                None,
            )
            .await?;
        let Some(Value::Array(notifications)) = value.get("notifications").cloned() else {
            return Err(Failure::BadResponse("no notifications list".into()));
        };
        Ok(Page {
            notifications,
            older: value
                .get("cursor")
                .and_then(Value::as_str)
                .map(str::to_owned),
            rate,
        })
    }

    /// `com.atproto.repo.putRecord` in our repo, only where no record is yet
    /// (`swapRecord: null`): the same record again answers with what is there; a different
    /// one is refused `InvalidSwap`.
    pub async fn put_record(
        &self,
        collection: &str,
        rkey: &str,
        record: &Value,
    ) -> Result<StrongRef, Failure> {
        let body = json!({
            "repo": self.did().await?,
            "collection": collection,
            "rkey": rkey,
            "record": record,
            "swapRecord": null,
        });
        let (value, _) = self
            .call(Method::POST, "com.atproto.repo.putRecord", &[], Some(&body))
            .await?;
        strong_ref(value)
    }

    /// `com.atproto.repo.getRecord` in our repo.
    pub async fn get_record(&self, collection: &str, rkey: &str) -> Result<StrongRef, Failure> {
        let query = [
            ("repo", self.did().await?),
            ("collection", collection.to_owned()),
            ("rkey", rkey.to_owned()),
        ];
        let (value, _) = self
            .call(Method::GET, "com.atproto.repo.getRecord", &query, None)
            .await?;
        strong_ref(value)
    }

    /// `com.atproto.repo.deleteRecord` in our repo; deleting what is gone succeeds.
    pub async fn delete_record(&self, collection: &str, rkey: &str) -> Result<(), Failure> {
        let body = json!({"repo": self.did().await?, "collection": collection, "rkey": rkey});
        self.call(
            Method::POST,
            "com.atproto.repo.deleteRecord",
            &[],
            Some(&body),
        )
        .await
        .map(drop)
    }
}

fn strong_ref(value: Value) -> Result<StrongRef, Failure> {
    serde_json::from_value(value).map_err(|e| Failure::BadResponse(e.to_string()))
}

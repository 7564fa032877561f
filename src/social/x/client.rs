//! The X API v2 client of one account: authentication, requests, rate-limit headers and
//! error classification, over reqwest.
//!
//! OAuth 2.0 user context sends the access token as a bearer; when X answers 401 (or the
//! token is about to expire) it refreshes once, and the rotated tokens are written to the
//! store at once, because X invalidates the old refresh token. OAuth 1.0a signs every request
//! (HMAC-SHA1, module `oauth1`). Must not: build posts or decide what an answer means for a
//! case (that is `wire`, the publisher and the engine), or log a token.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use reqwest::Method;
use reqwest::header::AUTHORIZATION;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::{Mutex, OnceCell};
use url::Url;

use super::oauth1;
use super::wire::{
    self, Call, CreatedDm, CreatedTweet, Data, DmEventsPage, TokenResponse, TweetsPage, User,
    XError,
};
use crate::config::{AccountConfig, Secret, XAuth};
use crate::health::Health;
use crate::metrics;
use crate::store::Store;
use crate::text;

/// X answers well within this; a hung connection must not stall a poll or a publish forever.
const TIMEOUT: Duration = Duration::from_secs(30);
/// The youngest `start_time` X accepts.
const START_TIME_AGE: TimeDelta = TimeDelta::seconds(10);
/// Refresh this long before the access token's announced expiry.
const EXPIRY_MARGIN: TimeDelta = TimeDelta::seconds(60);

/// What a request can end in, besides success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientError {
    /// X answered with an error.
    X(XError),
    /// X could not be reached, or the connection broke.
    Unreachable(String),
    /// X answered 2xx with a body we cannot read.
    BadResponse(String),
}

impl ClientError {
    /// Worth trying again later.
    pub fn retryable(&self) -> bool {
        match self {
            ClientError::X(e) => e.retryable(),
            ClientError::Unreachable(_) => true,
            ClientError::BadResponse(_) => false,
        }
    }
}

/// The rate-limit headers of one answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rate {
    /// `x-rate-limit-remaining`: calls left in the window.
    pub remaining: Option<u64>,
    /// `x-rate-limit-reset`: when the window starts again.
    pub reset: Option<DateTime<Utc>>,
}

/// Where a poll starts: after a known post, or from a time (first start, backfill).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Since {
    Id(String),
    Time(DateTime<Utc>),
}

impl Since {
    /// The cursor text kept in the store.
    pub fn to_cursor(&self) -> String {
        match self {
            Since::Id(id) => format!("id:{id}"),
            Since::Time(at) => format!("start:{}", at.to_rfc3339()),
        }
    }

    pub fn from_cursor(text: &str) -> Option<Since> {
        if let Some(id) = text.strip_prefix("id:") {
            return Some(Since::Id(id.to_owned()));
        }
        let at = text.strip_prefix("start:")?;
        DateTime::parse_from_rfc3339(at)
            .ok()
            .map(|t| Since::Time(t.with_timezone(&Utc)))
    }

    fn query(&self, now: DateTime<Utc>) -> (&'static str, String) {
        match self {
            Since::Id(id) => ("since_id", id.clone()),
            // X refuses a `start_time` less than 10 seconds old.
            Since::Time(at) => (
                "start_time",
                (*at)
                    .min(now - START_TIME_AGE)
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            ),
        }
    }
}

/// OAuth 2.0 tokens as kept in the store. `origin` fingerprints the configured refresh token
/// they descend from: when the operator puts new tokens in bot.toml (a re-authorization),
/// those win over the stored ones.
#[derive(Clone, Serialize, Deserialize)]
struct Tokens {
    access: String,
    refresh: Option<String>,
    expires_at: Option<DateTime<Utc>>,
    origin: String,
}

enum Auth {
    OAuth2 {
        tokens: Mutex<Tokens>,
        client_id: String,
        client_secret: Option<Secret>,
    },
    OAuth1 {
        consumer_key: Secret,
        consumer_secret: Secret,
        token: Secret,
        token_secret: Secret,
    },
}

/// One X account's API client.
pub struct Client {
    http: reqwest::Client,
    /// `api_url`, ending with `/`.
    base: String,
    account: String,
    auth: Auth,
    store: Store,
    configured_me: Option<String>,
    me: OnceCell<String>,
    health: std::sync::Arc<Health>,
}

fn tokens_key(account: &str) -> String {
    format!("x-oauth2/{account}")
}

fn user_key(account: &str) -> String {
    format!("x-user/{account}")
}

fn fingerprint(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

impl Client {
    /// A client for an X account (`account.x()` must be `Some`).
    pub fn new(
        account: &AccountConfig,
        store: Store,
        health: std::sync::Arc<Health>,
    ) -> anyhow::Result<Client> {
        let x = account
            .x()
            .ok_or_else(|| anyhow::anyhow!("account {} is not an X account", account.id))?;
        let auth = match &x.auth {
            XAuth::OAuth2 {
                access_token,
                refresh_token,
                client_id,
                client_secret,
            } => {
                let origin = fingerprint(
                    refresh_token
                        .as_ref()
                        .map_or(access_token.expose(), Secret::expose),
                );
                let configured = Tokens {
                    access: access_token.expose().to_owned(),
                    refresh: refresh_token.as_ref().map(|r| r.expose().to_owned()),
                    expires_at: None,
                    origin: origin.clone(),
                };
                let stored = store
                    .credential(&tokens_key(&account.id))?
                    .and_then(|text| serde_json::from_str::<Tokens>(&text).ok())
                    .filter(|t| t.origin == origin);
                if stored.is_some() {
                    tracing::info!(account = %account.id, "Using the X tokens refreshed earlier.");
                }
                Auth::OAuth2 {
                    tokens: Mutex::new(stored.unwrap_or(configured)),
                    client_id: client_id.clone(),
                    client_secret: client_secret.clone(),
                }
            }
            XAuth::OAuth1 {
                consumer_key,
                consumer_secret,
                access_token,
                access_token_secret,
            } => Auth::OAuth1 {
                consumer_key: consumer_key.clone(),
                consumer_secret: consumer_secret.clone(),
                token: access_token.clone(),
                token_secret: access_token_secret.clone(),
            },
        };
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .user_agent(concat!("carebridge/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Client {
            http,
            base: account.api_url.clone(),
            account: account.id.clone(),
            auth,
            store,
            configured_me: x.user_id.clone(),
            me: OnceCell::new(),
            health,
        })
    }

    pub fn account(&self) -> &str {
        &self.account
    }

    /// The account's own user id: from config, from the store, or asked once from X.
    pub async fn me(&self) -> Result<String, ClientError> {
        self.me
            .get_or_try_init(|| async {
                if let Some(id) = &self.configured_me {
                    return Ok(id.clone());
                }
                let key = user_key(&self.account);
                if let Ok(Some(id)) = self.store.credential(&key) {
                    return Ok(id);
                }
                let (user, _) = self
                    .get::<Data<User>>("2/users/me", &[], Call::Read)
                    .await?;
                let id = user.data.id;
                if let Err(error) = self.store.set_credential(&key, &id) {
                    tracing::warn!(account = %self.account, %error, "Cannot remember the X user id.");
                }
                tracing::info!(account = %self.account, user = %id, username = %user.data.username, "X account identified.");
                Ok(id)
            })
            .await
            .cloned()
    }

    /// One page of the account's mentions, newest first.
    pub async fn mentions(
        &self,
        me: &str,
        since: Option<&Since>,
        page: Option<&str>,
    ) -> Result<(TweetsPage, Rate), ClientError> {
        let path = format!("2/users/{me}/mentions");
        self.tweets_page(&path, Vec::new(), since, page).await
    }

    /// One page of recent-search results for `query`, newest first.
    pub async fn search(
        &self,
        query: &str,
        since: Option<&Since>,
        page: Option<&str>,
    ) -> Result<(TweetsPage, Rate), ClientError> {
        let extra = vec![("query", query.to_owned())];
        self.tweets_page("2/tweets/search/recent", extra, since, page)
            .await
    }

    async fn tweets_page(
        &self,
        path: &str,
        mut query: Vec<(&'static str, String)>,
        since: Option<&Since>,
        page: Option<&str>,
    ) -> Result<(TweetsPage, Rate), ClientError> {
        query.extend(since.map(|s| s.query(Utc::now())));
        query.push(("max_results", "100".to_owned()));
        query.extend(tweet_fields());
        if let Some(token) = page {
            // Search calls the page token `next_token`; the timelines `pagination_token`.
            let name = if path.contains("search") {
                "next_token"
            } else {
                "pagination_token"
            };
            query.push((name, token.to_owned()));
        }
        self.get(path, &query, Call::Read).await
    }

    /// Tweets by id (webhook deliveries name them; this fills in what v2 knows).
    pub async fn lookup(&self, ids: &[String]) -> Result<TweetsPage, ClientError> {
        let mut query = vec![("ids", ids.join(","))];
        query.extend(tweet_fields());
        Ok(self.get("2/tweets", &query, Call::Read).await?.0)
    }

    /// The account's own latest tweets, newest first (to find an earlier publication).
    pub async fn own_tweets(&self, me: &str) -> Result<TweetsPage, ClientError> {
        let mut query = vec![("max_results", "100".to_owned())];
        query.extend(tweet_fields());
        let path = format!("2/users/{me}/tweets");
        Ok(self.get(&path, &query, Call::Read).await?.0)
    }

    /// One page of the account's DM events (sent and received), newest first.
    pub async fn dm_events(&self, page: Option<&str>) -> Result<(DmEventsPage, Rate), ClientError> {
        let mut query = dm_fields();
        query.push(("max_results", "100".to_owned()));
        if let Some(token) = page {
            query.push(("pagination_token", token.to_owned()));
        }
        self.get("2/dm_events", &query, Call::Read).await
    }

    /// The latest events of the one-to-one conversation with `participant`.
    pub async fn conversation(&self, participant: &str) -> Result<DmEventsPage, ClientError> {
        let mut query = dm_fields();
        query.push(("max_results", "100".to_owned()));
        let path = format!("2/dm_conversations/with/{participant}/dm_events");
        Ok(self.get(&path, &query, Call::Read).await?.0)
    }

    /// Posts a reply under `in_reply_to`.
    pub async fn reply(&self, text: &str, in_reply_to: &str) -> Result<CreatedTweet, ClientError> {
        let body = json!({ "text": text, "reply": { "in_reply_to_tweet_id": in_reply_to } });
        let created: Data<CreatedTweet> = self
            .send(Method::POST, "2/tweets", &[], Some(&body), Call::Tweet)
            .await?;
        Ok(created.data)
    }

    /// Sends a direct message to `participant`.
    pub async fn send_dm(&self, participant: &str, text: &str) -> Result<CreatedDm, ClientError> {
        let body = json!({ "text": text });
        let path = format!("2/dm_conversations/with/{participant}/messages");
        let created: Data<CreatedDm> = self
            .send(Method::POST, &path, &[], Some(&body), Call::Dm)
            .await?;
        Ok(created.data)
    }

    pub async fn like(&self, me: &str, tweet: &str) -> Result<(), ClientError> {
        let body = json!({ "tweet_id": tweet });
        let path = format!("2/users/{me}/likes");
        self.send::<Value>(Method::POST, &path, &[], Some(&body), Call::Like)
            .await
            .map(drop)
    }

    pub async fn unlike(&self, me: &str, tweet: &str) -> Result<(), ClientError> {
        let path = format!("2/users/{me}/likes/{tweet}");
        self.send::<Value>(Method::DELETE, &path, &[], None, Call::Like)
            .await
            .map(drop)
    }

    pub async fn retweet(&self, me: &str, tweet: &str) -> Result<(), ClientError> {
        let body = json!({ "tweet_id": tweet });
        let path = format!("2/users/{me}/retweets");
        self.send::<Value>(Method::POST, &path, &[], Some(&body), Call::Retweet)
            .await
            .map(drop)
    }

    pub async fn delete(&self, tweet: &str) -> Result<(), ClientError> {
        let path = format!("2/tweets/{tweet}");
        self.send::<Value>(Method::DELETE, &path, &[], None, Call::Delete)
            .await
            .map(drop)
    }

    async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
        call: Call,
    ) -> Result<(T, Rate), ClientError> {
        let (body, rate) = self.request(Method::GET, path, query, None, call).await?;
        Ok((parse(&body)?, rate))
    }

    async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        call: Call,
    ) -> Result<T, ClientError> {
        let (body, _) = self.request(method, path, query, body, call).await?;
        parse(&body)
    }

    /// One request, with one refresh-and-retry when an OAuth 2.0 token was refused.
    async fn request(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        call: Call,
    ) -> Result<(Vec<u8>, Rate), ClientError> {
        let mut url = Url::parse(&format!("{}{path}", self.base))
            .map_err(|e| ClientError::Unreachable(format!("bad API URL: {e}")))?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        let mut refreshed = false;
        loop {
            let (authorization, used) = self.authorization(&method, &url).await?;
            let mut request = self
                .http
                .request(method.clone(), url.clone())
                .header(AUTHORIZATION, authorization);
            if let Some(body) = body {
                request = request.json(body);
            }
            let response = request.send().await.map_err(unreachable)?;
            let status = response.status().as_u16();
            metrics::api_call("x", Some(status));
            let headers = response.headers().clone();
            let bytes = response.bytes().await.map_err(unreachable)?;
            let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
            let rate = Rate {
                remaining: header("x-rate-limit-remaining").and_then(|v| v.trim().parse().ok()),
                reset: header("x-rate-limit-reset")
                    .and_then(|v| v.trim().parse::<i64>().ok())
                    .and_then(|s| DateTime::from_timestamp(s, 0)),
            };
            if (200..300).contains(&status) {
                self.health.account_ok(&self.account);
                return Ok((bytes.to_vec(), rate));
            }
            let error = wire::classify(status, header("x-rate-limit-reset"), &bytes, call);
            tracing::debug!(account = %self.account, path, status, ?error, "X refused a request.");
            if error == XError::Unauthorized && !refreshed && self.refresh(used.as_deref()).await? {
                refreshed = true;
                continue;
            }
            if error == XError::Unauthorized {
                self.health.token_refused(&self.account);
            }
            return Err(ClientError::X(error));
        }
    }

    /// The `Authorization` header for a request, and the access token it used (OAuth 2.0).
    async fn authorization(
        &self,
        method: &Method,
        url: &Url,
    ) -> Result<(String, Option<String>), ClientError> {
        match &self.auth {
            Auth::OAuth2 { tokens, .. } => {
                let (access, expiring) = {
                    let t = tokens.lock().await;
                    let expiring = t
                        .expires_at
                        .is_some_and(|at| at - EXPIRY_MARGIN <= Utc::now());
                    (t.access.clone(), expiring)
                };
                let access = if expiring && self.refresh(Some(&access)).await? {
                    tokens.lock().await.access.clone()
                } else {
                    access
                };
                Ok((format!("Bearer {access}"), Some(access)))
            }
            Auth::OAuth1 {
                consumer_key,
                consumer_secret,
                token,
                token_secret,
            } => {
                let credentials = oauth1::Credentials {
                    consumer_key: consumer_key.expose(),
                    consumer_secret: consumer_secret.expose(),
                    token: token.expose(),
                    token_secret: token_secret.expose(),
                };
                let timestamp = u64::try_from(Utc::now().timestamp()).unwrap_or(0);
                let header = oauth1::authorization(
                    method.as_str(),
                    url,
                    &[],
                    &credentials,
                    &oauth1::nonce(),
                    timestamp,
                );
                Ok((header, None))
            }
        }
    }

    /// Refreshes the OAuth 2.0 tokens unless someone else already replaced `failed`.
    /// Returns whether there is a new token to try.
    async fn refresh(&self, failed: Option<&str>) -> Result<bool, ClientError> {
        let Auth::OAuth2 {
            tokens,
            client_id,
            client_secret,
        } = &self.auth
        else {
            return Ok(false);
        };
        let mut current = tokens.lock().await;
        if failed.is_some_and(|f| f != current.access) {
            return Ok(true);
        }
        let Some(refresh) = current.refresh.clone() else {
            tracing::error!(account = %self.account, "X refused the access token and there is no refresh token.");
            return Ok(false);
        };
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh.as_str()),
            ("client_id", client_id.as_str()),
        ];
        let mut request = self
            .http
            .post(format!("{}2/oauth2/token", self.base))
            .form(&form);
        if let Some(secret) = client_secret {
            request = request.basic_auth(client_id, Some(secret.expose()));
        }
        let response = request.send().await.map_err(unreachable)?;
        let status = response.status();
        metrics::api_call("x", Some(status.as_u16()));
        let bytes = response.bytes().await.map_err(unreachable)?;
        if !status.is_success() {
            if status.is_server_error() {
                return Err(ClientError::X(XError::Server {
                    status: status.as_u16(),
                }));
            }
            tracing::error!(account = %self.account, status = status.as_u16(), "{}", text::x::token_revoked(&self.account));
            return Ok(false);
        }
        let answer: TokenResponse = parse(&bytes)?;
        let renewed = Tokens {
            access: answer.access_token,
            // X rotates refresh tokens; keep the old one only if it sent none.
            refresh: answer.refresh_token.or(Some(refresh)),
            expires_at: answer
                .expires_in
                .and_then(|s| i64::try_from(s).ok())
                .map(|s| Utc::now() + TimeDelta::seconds(s)),
            origin: current.origin.clone(),
        };
        match serde_json::to_string(&renewed) {
            Ok(text) => {
                if let Err(error) = self.store.set_credential(&tokens_key(&self.account), &text) {
                    tracing::error!(account = %self.account, %error, "Cannot store the refreshed X tokens; a restart will need new ones.");
                }
            }
            Err(error) => {
                tracing::error!(account = %self.account, %error, "Cannot encode the refreshed X tokens.")
            }
        }
        *current = renewed;
        tracing::info!(account = %self.account, "X access token refreshed.");
        Ok(true)
    }
}

fn tweet_fields() -> [(&'static str, String); 3] {
    [
        ("tweet.fields", wire::TWEET_FIELDS.to_owned()),
        ("expansions", wire::EXPANSIONS.to_owned()),
        ("user.fields", wire::USER_FIELDS.to_owned()),
    ]
}

fn dm_fields() -> Vec<(&'static str, String)> {
    vec![
        ("event_types", "MessageCreate".to_owned()),
        ("dm_event.fields", wire::DM_FIELDS.to_owned()),
        ("expansions", wire::DM_EXPANSIONS.to_owned()),
        ("user.fields", wire::USER_FIELDS.to_owned()),
    ]
}

fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ClientError> {
    serde_json::from_slice(body).map_err(|e| ClientError::BadResponse(e.to_string()))
}

fn unreachable(error: reqwest::Error) -> ClientError {
    // Counted as a call without an answer (`status_class="none"`).
    metrics::api_call("x", None);
    // Without the URL: query strings are harmless, but keep messages short.
    ClientError::Unreachable(error.without_url().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        let at = DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default();
        for since in [Since::Id("1800000000000000001".to_owned()), Since::Time(at)] {
            assert_eq!(Since::from_cursor(&since.to_cursor()), Some(since));
        }
        assert_eq!(Since::from_cursor("garbage"), None);
        assert_eq!(
            Since::Time(at).query(at + TimeDelta::hours(1)),
            ("start_time", "2023-11-14T22:13:20Z".to_owned())
        );
        // Never younger than X accepts.
        assert_eq!(
            Since::Time(at).query(at),
            ("start_time", "2023-11-14T22:13:10Z".to_owned())
        );
    }
}

//! The Slack adapter: cases as threads in Slack, worked with `!commands` in
//! the thread, the card's buttons and `/care` outside threads, approved by
//! reaction (slack-morphism for the Web API, Events API and Socket Mode).
//!
//! Owns the translation between Slack and carebridge only: Web API calls for
//! the dispatcher's effects (paced per channel, 429s waited out), inbound
//! events in either mode turned into `chat::route` calls, and who counts as
//! an agent or approver (ids and user groups from config). Holds no workflow
//! rules: what a command does, and whether a reaction approves, is the
//! engine's call.

pub mod format;
mod http;
mod inbound;
mod socket;

pub mod events;
pub mod signature;

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use rvstruct::ValueStruct;
use slack_morphism::errors::SlackClientError;
use slack_morphism::prelude::*;
use tokio::sync::Mutex;

pub use http::routes;
pub use inbound::Inbound;
pub use socket::run_socket_mode;

use crate::chat::{Attempt, ChatSurface};
use crate::config::{SlackConfig, on_call_for};
use crate::dispatch::{BoxFuture, DeliveryError};
use crate::engine::{Case, ChatThread};
use crate::health::Health;
use crate::metrics;
use crate::text;
use events::{Identity, message_id, split_id};
use format::Mentions;

/// The concrete slack-morphism client (hyper + rustls).
pub type Client = SlackHyperClient;

/// Slack's `chat.postMessage` limit is about one message a second per
/// channel with short bursts allowed (platforms.md §1.10).
const PER_CHANNEL_PER_SECOND: u32 = 1;
const PER_CHANNEL_BURST: u32 = 4;
/// Slack also limits a workspace as a whole, without a published figure;
/// this keeps a burst of new cases from tripping it.
const GLOBAL_PER_SECOND: u32 = 10;
/// How many 429s one call waits out before handing the retry to the dispatcher.
const RATE_LIMIT_WAITS: u32 = 5;
/// A Retry-After longer than this goes back to the dispatcher's schedule.
const LONGEST_WAIT: Duration = Duration::from_secs(60);
/// Section blocks per thread message: Slack refuses messages whose blocks
/// hold much more than ~12k characters (platforms.md §1.9).
const SECTIONS_PER_MESSAGE: usize = 4;
/// How far back an uncertain retry looks for what it may have posted.
const FIND_PAGES: usize = 5;
const FIND_PAGE_SIZE: u16 = 200;
/// Health problems (missing scope, not in channel) are told at most this often.
const HEALTH_REPEAT: Duration = Duration::from_secs(3600);

/// A connected Slack workspace.
pub struct Slack {
    client: Arc<Client>,
    token: SlackApiToken,
    config: SlackConfig,
    me: Identity,
    mentions: Mentions,
    per_channel: DefaultKeyedRateLimiter<String>,
    global: DefaultDirectRateLimiter,
    groups: Mutex<HashMap<String, (Instant, HashSet<String>)>>,
    health: Mutex<HashMap<String, Instant>>,
    /// What `/healthz` shows for the chat.
    status: Arc<Health>,
}

/// Builds the client for `api_url`. Plain http is allowed so that tests
/// (and local proxies) work; Slack itself is https.
fn build_client(api_url: &str) -> anyhow::Result<Client> {
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_native_roots()
        .context("loading the system's root certificates for Slack")?
        .https_or_http()
        .enable_http1()
        .enable_http2()
        .build();
    // slack-morphism joins the base and the method with a slash of its own.
    let base = api_url.trim_end_matches('/');
    Ok(SlackClient::new(
        SlackClientHyperConnector::from(https).with_slack_api_url(base),
    ))
}

fn quota(per_second: u32, burst: u32) -> Quota {
    let n = |v: u32| NonZeroU32::new(v).unwrap_or(NonZeroU32::MIN);
    Quota::per_second(n(per_second)).allow_burst(n(burst))
}

impl Slack {
    /// Connects: `auth.test` learns who the bot is; a bad token stops the
    /// start with a clear error rather than failing on every later call.
    pub async fn connect(config: &SlackConfig, status: Arc<Health>) -> anyhow::Result<Arc<Slack>> {
        let client = Arc::new(build_client(&config.api_url)?);
        let token = SlackApiToken::new(config.bot_token.expose().into());
        let auth = client.open_session(&token).auth_test().await.map_err(|e| {
            anyhow::anyhow!("Slack refused the bot token (chat.slack.bot_token): {e}")
        })?;
        let me = Identity {
            user_id: auth.user_id.value().clone(),
        };
        tracing::info!(team = %auth.team, user_id = %me.user_id, "Connected to Slack.");
        status.chat("slack", true, text::health::CONNECTED);
        Ok(Arc::new(Slack {
            client,
            token,
            config: config.clone(),
            me,
            mentions: Mentions::new(),
            per_channel: RateLimiter::keyed(quota(PER_CHANNEL_PER_SECOND, PER_CHANNEL_BURST)),
            global: RateLimiter::direct(quota(GLOBAL_PER_SECOND, GLOBAL_PER_SECOND)),
            groups: Mutex::new(HashMap::new()),
            health: Mutex::new(HashMap::new()),
            status,
        }))
    }

    /// The Web API client, shared with Socket Mode (which opens its
    /// connections through it).
    pub fn client(&self) -> Arc<Client> {
        Arc::clone(&self.client)
    }

    pub fn identity(&self) -> &Identity {
        &self.me
    }

    pub fn config(&self) -> &SlackConfig {
        &self.config
    }

    pub fn mentions(&self) -> &Mentions {
        &self.mentions
    }

    fn session(&self) -> SlackClientSession<'_, SlackClientHyperHttpsConnector> {
        self.client.open_session(&self.token)
    }

    /// Runs one Web API call: paced when it posts to a channel, 429s waited
    /// out (Retry-After), other failures mapped to what the dispatcher does.
    async fn call<'a, T, F, Fut>(
        &'a self,
        method: &'static str,
        channel: Option<&'a str>,
        mut attempt: F,
    ) -> Result<T, DeliveryError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, SlackClientError>> + 'a,
    {
        let mut waits = 0;
        loop {
            if let Some(channel) = channel {
                self.per_channel.until_key_ready(&channel.to_owned()).await;
                self.global.until_ready().await;
            }
            let result = attempt().await;
            metrics::api_call("slack", Self::answered(&result));
            match result {
                Ok(value) => return Ok(value),
                Err(SlackClientError::RateLimitError(limit)) => {
                    let wait = limit.retry_after.unwrap_or(Duration::from_secs(1));
                    waits += 1;
                    tracing::warn!(
                        method,
                        channel,
                        retry_after_s = wait.as_secs(),
                        "Slack rate-limited a call; waiting."
                    );
                    if waits > RATE_LIMIT_WAITS || wait > LONGEST_WAIT {
                        return Err(DeliveryError {
                            retryable: true,
                            reason: text::slack::RATE_LIMITED.to_owned(),
                            retry_after: Some(wait),
                            alert: None,
                        });
                    }
                    tokio::time::sleep(wait).await;
                }
                Err(error) => return Err(self.failed(method, channel, error).await),
            }
        }
    }

    /// The HTTP status of a call's answer, `None` without one. Slack answers its API errors
    /// (`ok: false`) with 200.
    fn answered<T>(result: &Result<T, SlackClientError>) -> Option<u16> {
        match result {
            Ok(_) | Err(SlackClientError::ApiError(_)) => Some(200),
            Err(SlackClientError::RateLimitError(_)) => Some(429),
            Err(SlackClientError::HttpError(e)) => Some(e.status_code.as_u16()),
            Err(_) => None,
        }
    }

    /// Maps a failed call; configuration problems are logged loudly and told
    /// in the default channel (once an hour), never left silent.
    async fn failed(
        &self,
        method: &str,
        channel: Option<&str>,
        error: SlackClientError,
    ) -> DeliveryError {
        let SlackClientError::ApiError(api) = &error else {
            // Network trouble, 5xx, a body we could not read: try again later.
            tracing::warn!(method, %error, "Slack call failed; will retry.");
            return DeliveryError::retryable(error.to_string());
        };
        let code = api.code.as_str();
        let needed = api
            .http_response_body
            .as_deref()
            .and_then(|b| serde_json::from_str::<serde_json::Value>(b).ok())
            .and_then(|v| v.get("needed").and_then(|n| n.as_str()).map(str::to_owned));
        let place = channel.map(|c| self.mentions.token(c));
        let reason = text::slack::api_error(code, place.as_deref(), needed.as_deref());
        match code {
            "not_in_channel" | "channel_not_found" | "is_archived" | "missing_scope"
            | "invalid_auth" | "account_inactive" | "token_revoked" | "not_authed"
            | "no_permission" | "ekm_access_denied" | "restricted_action" => {
                tracing::error!(
                    method,
                    code,
                    channel,
                    needed,
                    "Slack refused a call: the app's setup needs fixing."
                );
                if matches!(
                    code,
                    "invalid_auth" | "token_revoked" | "account_inactive" | "not_authed"
                ) {
                    // Nothing the bot posts gets through until someone fixes the token.
                    self.status
                        .chat("slack", false, text::health::SLACK_REFUSED);
                }
                self.tell_health(code, channel, &reason).await;
                DeliveryError::permanent(reason)
            }
            "internal_error" | "fatal_error" | "service_unavailable" | "request_timeout" => {
                DeliveryError::retryable(reason)
            }
            _ => {
                tracing::warn!(method, code, channel, "Slack refused a call.");
                DeliveryError::permanent(reason)
            }
        }
    }

    /// Posts a setup problem to the default channel, unless that is the
    /// channel with the problem or it was said within the hour.
    async fn tell_health(&self, code: &str, channel: Option<&str>, reason: &str) {
        let default = self.config.channel_for("default").to_owned();
        if channel == Some(default.as_str())
            || matches!(
                code,
                "invalid_auth" | "token_revoked" | "account_inactive" | "not_authed"
            )
        {
            return;
        }
        {
            let key = format!("{code}:{}", channel.unwrap_or(""));
            let mut told = self.health.lock().await;
            if told
                .get(&key)
                .is_some_and(|at| at.elapsed() < HEALTH_REPEAT)
            {
                return;
            }
            told.insert(key, Instant::now());
        }
        if let Err(error) = self.post_health(&default, reason).await {
            tracing::error!(%error, "Cannot tell the default channel about a setup problem either.");
        }
    }

    /// Posts a setup problem to `channel`, once, without the paced retries of `call` (a
    /// broken setup must not loop on itself).
    async fn post_health(&self, channel: &str, reason: &str) -> Result<(), SlackClientError> {
        let request = SlackApiChatPostMessageRequest::new(
            channel.to_owned().into(),
            SlackMessageContent::new()
                .with_text(self.mentions.mrkdwn(&text::slack::health(reason))),
        );
        self.session().chat_post_message(&request).await.map(|_| ())
    }

    /// Posts text into a thread as section blocks, split where Slack would
    /// cut it; returns the first message's id (the one a reaction approves).
    /// Each message's first block is marked with the attempt's key, so an
    /// uncertain retry finds what an earlier attempt posted instead of
    /// posting it twice.
    async fn post_text(
        &self,
        attempt: &Attempt,
        channel: &str,
        thread_ts: Option<&str>,
        body: &str,
    ) -> Result<String, DeliveryError> {
        let sections = format::chunks(&self.mentions.mrkdwn(body), format::limits::SECTION_TEXT);
        let mut first = None;
        for (i, message) in sections.chunks(SECTIONS_PER_MESSAGE).enumerate() {
            let marker = format!("{}.{i}", attempt.key);
            let found = match attempt.uncertain {
                true => self.find(channel, thread_ts, &marker).await?,
                false => None,
            };
            let ts = match found {
                Some(ts) => ts,
                None => {
                    let blocks = message
                        .iter()
                        .enumerate()
                        .map(|(j, text)| {
                            let section = SlackSectionBlock::new().with_text(
                                SlackBlockText::MarkDown(SlackBlockMarkDownText::new(text.clone())),
                            );
                            match j {
                                0 => section.with_block_id(marker.clone().into()).into(),
                                _ => section.into(),
                            }
                        })
                        .collect();
                    let request = SlackApiChatPostMessageRequest::new(
                        channel.to_owned().into(),
                        SlackMessageContent::new()
                            .with_text(format::notification(&message[0]))
                            .with_blocks(blocks),
                    )
                    .opt_thread_ts(thread_ts.map(|ts| ts.to_owned().into()))
                    .with_unfurl_links(false)
                    .with_unfurl_media(false);
                    let session = self.session();
                    let posted = self
                        .call("chat.postMessage", Some(channel), || {
                            session.chat_post_message(&request)
                        })
                        .await?;
                    posted.ts.value().clone()
                }
            };
            first.get_or_insert(message_id(channel, &ts));
        }
        first.ok_or_else(|| DeliveryError::permanent(text::slack::EMPTY_MESSAGE))
    }

    /// The ts of the message whose first block carries `marker`: among a
    /// thread's replies, or (no thread) the channel's recent messages.
    async fn find(
        &self,
        channel: &str,
        thread_ts: Option<&str>,
        marker: &str,
    ) -> Result<Option<String>, DeliveryError> {
        let session = self.session();
        let mut cursor: Option<SlackCursorId> = None;
        for _ in 0..FIND_PAGES {
            // The two listings differ only in request type; read both the same way.
            let (messages, metadata) = match thread_ts {
                Some(ts) => {
                    let request = SlackApiConversationsRepliesRequest::new(
                        channel.to_owned().into(),
                        ts.to_owned().into(),
                    )
                    .with_limit(FIND_PAGE_SIZE)
                    .opt_cursor(cursor.clone());
                    let page = self
                        .call("conversations.replies", None, || {
                            session.conversations_replies(&request)
                        })
                        .await?;
                    (page.messages, page.response_metadata)
                }
                None => {
                    let request = SlackApiConversationsHistoryRequest::new()
                        .with_channel(channel.to_owned().into())
                        .with_limit(FIND_PAGE_SIZE)
                        .opt_cursor(cursor.clone());
                    let page = self
                        .call("conversations.history", None, || {
                            session.conversations_history(&request)
                        })
                        .await?;
                    (page.messages, page.response_metadata)
                }
            };
            let next = metadata.and_then(|m| m.next_cursor);
            let ours = messages.iter().find(|m| {
                m.sender
                    .user
                    .as_ref()
                    .is_some_and(|u| u.value() == &self.me.user_id)
                    && first_block_id(m.content.blocks.as_deref()).as_deref() == Some(marker)
            });
            if let Some(message) = ours {
                tracing::info!(
                    channel,
                    marker,
                    "An earlier attempt had posted this; not posting again."
                );
                return Ok(Some(message.origin.ts.value().clone()));
            }
            match next.filter(|c| !c.value().is_empty()) {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        Ok(None)
    }

    /// Tells one person something only they see, in a channel (and thread).
    pub async fn ephemeral(
        &self,
        channel: &str,
        thread_ts: Option<&str>,
        user: &str,
        body: &str,
    ) -> Result<(), DeliveryError> {
        let mut request = SlackApiChatPostEphemeralRequest::new(
            channel.to_owned().into(),
            user.to_owned().into(),
            SlackMessageContent::new().with_text(self.mentions.mrkdwn(body)),
        );
        if let Some(ts) = thread_ts {
            request = request.with_thread_ts(ts.to_owned().into());
        }
        let session = self.session();
        self.call("chat.postEphemeral", Some(channel), || {
            session.chat_post_ephemeral(&request)
        })
        .await
        .map(|_| ())
    }

    /// Answers through a slash command's or interaction's `response_url`.
    pub async fn respond(&self, response_url: &str, body: &str) -> Result<(), DeliveryError> {
        let url: url::Url = response_url
            .parse()
            .map_err(|_| DeliveryError::permanent(text::slack::BAD_RESPONSE_URL))?;
        // A response_url answer is ephemeral unless it says otherwise.
        let request = SlackApiPostWebhookMessageRequest::new(
            SlackMessageContent::new().with_text(self.mentions.mrkdwn(body)),
        );
        self.call("response_url", None, || {
            self.client.post_webhook_message(&url, &request)
        })
        .await
        .map(|_| ())
    }

    /// Opens a modal for a button click (the trigger expires after 3 s).
    pub async fn open_modal(&self, trigger_id: &str, view: SlackView) -> Result<(), DeliveryError> {
        let request = SlackApiViewsOpenRequest::new(trigger_id.to_owned().into(), view);
        let session = self.session();
        self.call("views.open", None, || session.views_open(&request))
            .await
            .map(|_| ())
    }

    /// Whether `user` is listed in `ids`, directly or through a user group.
    pub async fn listed(&self, ids: &[String], user: &str) -> bool {
        if ids.iter().any(|id| id == user) {
            return true;
        }
        for group in ids.iter().filter(|id| id.starts_with('S')) {
            if self.members(group).await.contains(user) {
                return true;
            }
        }
        false
    }

    /// A user group's members, cached for `group_cache`. A failed lookup
    /// counts as no members (and is logged): nobody is let in by accident.
    async fn members(&self, group: &str) -> HashSet<String> {
        if let Some((at, members)) = self.groups.lock().await.get(group)
            && at.elapsed() < self.config.group_cache
        {
            return members.clone();
        }
        let request = SlackApiUserGroupsUsersListRequest::new(group.to_owned().into());
        let session = self.session();
        match self
            .call("usergroups.users.list", None, || {
                session.usergroups_users_list(&request)
            })
            .await
        {
            Ok(response) => {
                let members: HashSet<String> =
                    response.users.iter().map(|u| u.value().clone()).collect();
                self.groups
                    .lock()
                    .await
                    .insert(group.to_owned(), (Instant::now(), members.clone()));
                members
            }
            Err(error) => {
                tracing::error!(group, reason = %error.reason, "Cannot read a user group's members.");
                HashSet::new()
            }
        }
    }
}

fn card_content(
    slack: &Slack,
    case: &Case,
    card: &text::Card,
    marker: &str,
) -> SlackMessageContent {
    let mut blocks = format::card_blocks(&slack.mentions, case.number, card);
    if let Some(SlackBlock::Header(header)) = blocks.first_mut() {
        header.block_id = Some(marker.to_owned().into());
    }
    SlackMessageContent::new()
        .with_text(format::card_fallback(&slack.mentions, card))
        .with_blocks(blocks)
}

/// The `block_id` of a message's first block, as Slack returns it.
fn first_block_id(blocks: Option<&[SlackBlock]>) -> Option<String> {
    let first = serde_json::to_value(blocks?.first()?).ok()?;
    first.get("block_id")?.as_str().map(str::to_owned)
}

/// The `C…:ts` of a thread, split; a malformed one cannot be retried into shape.
fn parts(id: &str) -> Result<(&str, &str), DeliveryError> {
    split_id(id).ok_or_else(|| DeliveryError::permanent(text::slack::BAD_THREAD))
}

impl ChatSurface for Slack {
    fn mention(&self, user: &str) -> String {
        self.mentions.token(user)
    }

    fn on_call(&self, queue: &str) -> Option<String> {
        on_call_for(&self.config.on_call, queue).map(|id| match id.starts_with('S') {
            true => format!("<!subteam^{id}>"),
            false => format!("<@{id}>"),
        })
    }

    fn post_card<'a>(
        &'a self,
        attempt: &'a Attempt,
        case: &'a Case,
        card: &'a text::Card,
    ) -> BoxFuture<'a, Result<ChatThread, DeliveryError>> {
        Box::pin(async move {
            let channel = self.config.channel_for(&case.queue);
            let found = match attempt.uncertain {
                true => self.find(channel, None, &attempt.key).await?,
                false => None,
            };
            if let Some(ts) = found {
                let id = message_id(channel, &ts);
                return Ok(ChatThread {
                    thread: id.clone(),
                    card: id,
                });
            }
            let request = SlackApiChatPostMessageRequest::new(
                channel.to_owned().into(),
                card_content(self, case, card, &attempt.key),
            )
            .with_unfurl_links(false)
            .with_unfurl_media(false);
            let session = self.session();
            let posted = self
                .call("chat.postMessage", Some(channel), || {
                    session.chat_post_message(&request)
                })
                .await?;
            let id = message_id(channel, posted.ts.value());
            Ok(ChatThread {
                thread: id.clone(),
                card: id,
            })
        })
    }

    fn update_card<'a>(
        &'a self,
        attempt: &'a Attempt,
        case: &'a Case,
        thread: &'a ChatThread,
        card: &'a text::Card,
    ) -> BoxFuture<'a, Result<(), DeliveryError>> {
        Box::pin(async move {
            let (channel, ts) = parts(&thread.card)?;
            let request = SlackApiChatUpdateRequest::new(
                channel.to_owned().into(),
                card_content(self, case, card, &attempt.key),
                ts.to_owned().into(),
            );
            let session = self.session();
            self.call("chat.update", Some(channel), || {
                session.chat_update(&request)
            })
            .await
            .map(|_| ())
        })
    }

    fn post<'a>(
        &'a self,
        attempt: &'a Attempt,
        _case: &'a Case,
        thread: &'a ChatThread,
        body: &'a str,
    ) -> BoxFuture<'a, Result<String, DeliveryError>> {
        Box::pin(async move {
            let (channel, ts) = parts(&thread.thread)?;
            self.post_text(attempt, channel, Some(ts), body).await
        })
    }

    fn alert<'a>(&'a self, text: &'a str) -> BoxFuture<'a, Result<(), DeliveryError>> {
        Box::pin(async move {
            let default = self.config.channel_for("default");
            self.post_health(default, text)
                .await
                .map_err(|e| DeliveryError::retryable(e.to_string()))
        })
    }

    fn post_channel<'a>(
        &'a self,
        attempt: &'a Attempt,
        queue: &'a str,
        body: &'a str,
        aligned: bool,
    ) -> BoxFuture<'a, Result<(), DeliveryError>> {
        Box::pin(async move {
            let channel = self.config.channel_for(queue);
            let body = text::report::fenced(body, aligned);
            self.post_text(attempt, channel, None, &body)
                .await
                .map(|_| ())
        })
    }
}

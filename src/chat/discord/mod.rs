//! The Discord adapter: cases as threads in a text channel (the card, then a
//! thread started from it) or as posts in a forum channel (network, urgency
//! and status as forum tags), worked with `/care` inside the thread and the
//! card's buttons, approved by reaction (serenity for REST and the gateway).
//!
//! Owns the translation between Discord and carebridge only: REST calls for
//! the dispatcher's effects (with serenity's rate limiter, or a proxy's, and
//! 429s never dropping a message), the `/care` registration, inbound gateway
//! events turned into `chat::route` calls, and who counts as an agent or
//! approver (role and user ids from config). Holds no workflow rules.

pub mod events;
pub mod format;
mod gateway;
mod inbound;
mod register;

use std::collections::HashMap;
use std::future::Future;
use std::num::NonZeroU64;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serenity::all::{
    AutoArchiveDuration, Channel, ChannelId, ChannelType, CreateForumPost, CreateMessage,
    CreateThread, EditMessage, EditThread, ForumTagId, GuildId, Http, HttpBuilder, MessageId,
    Nonce, UserId,
};
use serenity::http::HttpError;

pub use gateway::run;
pub use inbound::Inbound;

use crate::chat::{Attempt, ChatSurface};
use crate::commands::Specs;
use crate::config::{DiscordConfig, on_call_for};
use crate::dispatch::{BoxFuture, DeliveryError};
use crate::engine::{Case, ChatThread, Status};
use crate::health::Health;
use crate::metrics;
use crate::text::{self, discord as words};
use events::{message_id, split_id};

/// Discord's own API base; any other `api_url` is a proxy.
const DISCORD_API: &str = "https://discord.com/api/";
/// The longest a REST call may take. serenity's rate limiter waits out 429s
/// forever; past this the dispatcher's schedule takes over the retry.
const CALL_TIMEOUT: Duration = Duration::from_secs(60);
/// Behind a proxy a 429 comes back to us: wait this long, doubling, this
/// many times before handing the retry to the dispatcher.
const PROXY_WAIT: Duration = Duration::from_millis(500);
const PROXY_WAITS: u32 = 4;
/// How many recent messages an uncertain retry reads to find what an earlier
/// attempt may have posted.
const FIND_MESSAGES: u8 = 50;
/// Health problems (missing permission, unknown channel) are told at most this often.
const HEALTH_REPEAT: Duration = Duration::from_secs(3600);

/// What a configured channel is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Cards are messages; each case's thread starts from its card.
    Text,
    /// Each case is a forum post; the card is its first message.
    Forum,
}

/// What the bot last set on a thread, so unchanged state costs no call.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ThreadState {
    archived: bool,
    tags: Vec<u64>,
}

/// A connected Discord application.
pub struct Discord {
    http: Arc<Http>,
    config: DiscordConfig,
    me: u64,
    /// Behind a proxy: serenity's rate limiter is off, the proxy's applies.
    proxied: bool,
    kinds: Mutex<HashMap<u64, Kind>>,
    /// Forum id → its tags (id, name), as last read or written.
    tags: tokio::sync::Mutex<HashMap<u64, Vec<(u64, String)>>>,
    threads: Mutex<HashMap<u64, ThreadState>>,
    /// Forum post → its forum.
    parents: Mutex<HashMap<u64, u64>>,
    roles: Mutex<HashMap<u64, (Instant, Vec<u64>)>>,
    health: Mutex<HashMap<String, Instant>>,
    /// What `/healthz` shows for the chat.
    status: Arc<Health>,
}

/// A REST client for `config`. serenity has no base-URL setting: any other
/// `api_url` becomes its proxy, which only works with its rate limiter off.
fn build_http(config: &DiscordConfig) -> (Http, bool) {
    let builder = HttpBuilder::new(config.token.expose());
    let builder = match NonZeroU64::new(config.application_id) {
        Some(id) => builder.application_id(id.into()),
        None => builder,
    };
    if config.api_url == DISCORD_API {
        return (builder.build(), false);
    }
    // serenity swaps `https://discord.com` for the proxy and keeps `/api/v10/…`.
    let proxy = config
        .api_url
        .trim_end_matches('/')
        .trim_end_matches("/api");
    (
        builder.proxy(proxy).ratelimiter_disabled(true).build(),
        true,
    )
}

/// An id from the store or config as serenity wants it; 0 cannot be one.
fn snowflake(id: u64) -> Result<NonZeroU64, DeliveryError> {
    NonZeroU64::new(id).ok_or_else(|| DeliveryError::permanent(words::BAD_ID))
}

fn channel_id(id: u64) -> Result<ChannelId, DeliveryError> {
    snowflake(id).map(ChannelId::from)
}

fn message(id: u64) -> Result<MessageId, DeliveryError> {
    snowflake(id).map(MessageId::from)
}

/// A failed call: what the dispatcher does next, and Discord's JSON error
/// code (0 when there was none) for the few callers that handle one.
#[derive(Debug)]
struct Failed {
    code: isize,
    error: DeliveryError,
}

impl From<Failed> for DeliveryError {
    fn from(failed: Failed) -> Self {
        failed.error
    }
}

/// The parts of a refused call that decide what happens next.
#[derive(Debug)]
struct Refusal {
    status: u16,
    code: isize,
}

fn refusal(error: &serenity::Error) -> Option<Refusal> {
    match error {
        serenity::Error::Http(HttpError::UnsuccessfulRequest(response)) => Some(Refusal {
            status: response.status_code.as_u16(),
            code: response.error.code,
        }),
        _ => None,
    }
}

/// The HTTP status of a call's answer (`None` when it timed out or never came).
fn answered<T>(answer: &Result<serenity::Result<T>, tokio::time::error::Elapsed>) -> Option<u16> {
    match answer {
        Ok(Ok(_)) => Some(200),
        Ok(Err(error)) => refusal(error).map(|r| r.status),
        Err(_) => None,
    }
}

impl Discord {
    /// Connects: learns who the bot is (a bad token stops the start with a
    /// clear error), checks every configured channel is a text or forum
    /// channel the bot can see, and brings `/care` up to date in the guild.
    pub async fn connect(
        config: &DiscordConfig,
        specs: &Specs,
        status: Arc<Health>,
    ) -> anyhow::Result<Arc<Discord>> {
        let (http, proxied) = build_http(config);
        let http = Arc::new(http);
        let me = http
            .get_current_user()
            .await
            .map_err(|e| match refusal(&e) {
                Some(Refusal { status: 401, .. }) => {
                    anyhow::anyhow!("Discord refused the bot token (chat.discord.token)")
                }
                _ => anyhow::anyhow!("cannot reach Discord at {}: {e}", config.api_url),
            })?;
        tracing::info!(user_id = %me.id, name = %me.name, proxied, "Connected to Discord.");
        let discord = Discord {
            http,
            config: config.clone(),
            me: me.id.get(),
            proxied,
            kinds: Mutex::new(HashMap::new()),
            tags: tokio::sync::Mutex::new(HashMap::new()),
            threads: Mutex::new(HashMap::new()),
            parents: Mutex::new(HashMap::new()),
            roles: Mutex::new(HashMap::new()),
            health: Mutex::new(HashMap::new()),
            status,
        };
        // REST works; events arrive once the gateway is ready.
        discord
            .status
            .chat("discord", false, text::health::GATEWAY_CONNECTING);
        for (queue, &id) in &config.channels {
            let kind = discord
                .channel_kind(id)
                .await
                .map_err(|e| anyhow::anyhow!("chat.discord.channels.{queue}: {}", e.reason))?;
            tracing::info!(queue, channel = id, ?kind, "Discord channel checked.");
        }
        register::commands(&discord.http, config, specs)
            .await
            .context("registering /care in the guild (chat.discord.guild_id)")?;
        Ok(Arc::new(discord))
    }

    /// The health registry, for the gateway's state.
    pub fn status(&self) -> &Health {
        &self.status
    }

    pub fn config(&self) -> &DiscordConfig {
        &self.config
    }

    pub fn http(&self) -> &Arc<Http> {
        &self.http
    }

    /// The bot's own user id.
    pub fn me(&self) -> u64 {
        self.me
    }

    /// Whether a channel takes cards as messages or as forum posts; asked once.
    async fn channel_kind(&self, id: u64) -> Result<Kind, DeliveryError> {
        if let Some(kind) = self.lock(&self.kinds).get(&id) {
            return Ok(*kind);
        }
        let channel = channel_id(id)?;
        let found = self
            .call("get channel", Some(id), || self.http.get_channel(channel))
            .await?;
        let kind = match found {
            Channel::Guild(c) if c.kind == ChannelType::Forum => Kind::Forum,
            Channel::Guild(c) if matches!(c.kind, ChannelType::Text | ChannelType::News) => {
                Kind::Text
            }
            _ => {
                return Err(DeliveryError::permanent(words::api_error(
                    400,
                    50024,
                    Some(&format!("channel {id}")),
                )));
            }
        };
        self.lock(&self.kinds).insert(id, kind);
        Ok(kind)
    }

    fn lock<'a, T>(&self, mutex: &'a Mutex<T>) -> std::sync::MutexGuard<'a, T> {
        mutex.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs one REST call: bounded in time, 429s waited out (behind a
    /// proxy; serenity's limiter does it otherwise), failures mapped to what
    /// the dispatcher does next.
    async fn call<T, F, Fut>(
        &self,
        what: &'static str,
        channel: Option<u64>,
        attempt: F,
    ) -> Result<T, Failed>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = serenity::Result<T>>,
    {
        let mut waits = 0;
        loop {
            let answer = tokio::time::timeout(CALL_TIMEOUT, attempt()).await;
            metrics::api_call("discord", answered(&answer));
            let error = match answer {
                Ok(Ok(value)) => return Ok(value),
                Ok(Err(error)) => error,
                Err(_) => {
                    tracing::warn!(what, channel, "Discord did not answer in time.");
                    return Err(Failed {
                        code: 0,
                        error: DeliveryError::retryable(words::TIMED_OUT),
                    });
                }
            };
            match refusal(&error) {
                Some(Refusal { status: 429, .. }) => {
                    let wait = PROXY_WAIT * 2u32.pow(waits);
                    tracing::warn!(
                        what,
                        channel,
                        wait_ms = wait.as_millis() as u64,
                        "Discord rate-limited a call; waiting."
                    );
                    if !self.proxied || waits >= PROXY_WAITS {
                        return Err(Failed {
                            code: 0,
                            error: DeliveryError {
                                retryable: true,
                                reason: words::RATE_LIMITED.to_owned(),
                                retry_after: Some(wait),
                                alert: None,
                            },
                        });
                    }
                    waits += 1;
                    tokio::time::sleep(wait).await;
                }
                Some(refused) => {
                    let code = refused.code;
                    let error = self.failed(what, channel, refused).await;
                    return Err(Failed { code, error });
                }
                None => {
                    // Network trouble, a body we could not read: try again later.
                    tracing::warn!(what, channel, %error, "Discord call failed; will retry.");
                    return Err(Failed {
                        code: 0,
                        error: DeliveryError::retryable(error.to_string()),
                    });
                }
            }
        }
    }

    /// Maps a refused call; setup problems are logged loudly and told in the
    /// default channel (once an hour), never left silent.
    async fn failed(&self, what: &str, channel: Option<u64>, refused: Refusal) -> DeliveryError {
        let Refusal { status, code } = refused;
        let place = channel.map(|c| format!("<#{c}>"));
        let reason = words::api_error(status, code, place.as_deref());
        if status >= 500 {
            tracing::warn!(what, status, code, "Discord failed a call; will retry.");
            return DeliveryError::retryable(reason);
        }
        match (status, code) {
            (401, _) | (_, 10003) | (_, 50001) | (_, 50013) | (_, 50008) | (_, 50024) => {
                tracing::error!(
                    what,
                    status,
                    code,
                    channel,
                    "Discord refused a call: the bot's setup needs fixing."
                );
                if status != 401 {
                    self.tell_health(code, channel, &reason).await;
                }
            }
            _ => tracing::warn!(what, status, code, channel, "Discord refused a call."),
        }
        DeliveryError::permanent(reason)
    }

    /// Posts a setup problem to the default channel, unless that is the
    /// channel with the problem or it was said within the hour.
    async fn tell_health(&self, code: isize, channel: Option<u64>, reason: &str) {
        let default = self.config.channel_for("default");
        if channel == Some(default) {
            return;
        }
        {
            let key = format!("{code}:{}", channel.unwrap_or(0));
            let mut told = self.lock(&self.health);
            if told
                .get(&key)
                .is_some_and(|at| at.elapsed() < HEALTH_REPEAT)
            {
                return;
            }
            told.insert(key, Instant::now());
        }
        if let Err(error) = self.post_health(reason).await {
            tracing::error!(reason = %error.reason, "Cannot tell the default channel about a setup problem either.");
        }
    }

    /// Posts a setup problem to the default channel (a forum takes no plain messages:
    /// there the log is all there is).
    async fn post_health(&self, reason: &str) -> Result<(), DeliveryError> {
        let default = self.config.channel_for("default");
        if self.lock(&self.kinds).get(&default) == Some(&Kind::Forum) {
            tracing::warn!(%reason, "The default channel is a forum; this setup problem is only logged.");
            return Ok(());
        }
        let message = CreateMessage::new()
            .content(words::health(reason))
            .allowed_mentions(format::allowed_mentions());
        let target = channel_id(default)?;
        self.http
            .send_message(target, vec![], &message)
            .await
            .map(|_| ())
            .map_err(|e| DeliveryError::retryable(e.to_string()))
    }

    /// A member's roles, from the event when it carried them, else looked up
    /// and cached for `role_cache`. A failed lookup counts as no roles (and
    /// is logged): nobody is let in by accident.
    pub async fn roles(&self, user: u64, given: Option<Vec<u64>>) -> Vec<u64> {
        if let Some(roles) = given {
            self.lock(&self.roles)
                .insert(user, (Instant::now(), roles.clone()));
            return roles;
        }
        if let Some((at, roles)) = self.lock(&self.roles).get(&user)
            && at.elapsed() < self.config.role_cache
        {
            return roles.clone();
        }
        let (Ok(guild), Ok(id)) = (snowflake(self.config.guild_id), snowflake(user)) else {
            return Vec::new();
        };
        match self
            .call("get member", None, || {
                self.http.get_member(GuildId::from(guild), UserId::from(id))
            })
            .await
        {
            Ok(member) => {
                let roles: Vec<u64> = member.roles.iter().map(|r| r.get()).collect();
                self.lock(&self.roles)
                    .insert(user, (Instant::now(), roles.clone()));
                roles
            }
            Err(error) => {
                tracing::error!(user, reason = %error.error.reason, "Cannot read a member's roles.");
                Vec::new()
            }
        }
    }

    /// Posts `body` into a channel, split under 2000 characters; returns the
    /// first message's id (the one a reaction approves). Each message carries
    /// a nonce from the attempt's key, and Discord returns the earlier message
    /// instead of posting twice; an uncertain retry also looks for its text.
    async fn post_text(
        &self,
        attempt: Option<&Attempt>,
        channel: u64,
        reply_to: Option<u64>,
        body: &str,
        ping_roles: &[u64],
    ) -> Result<String, DeliveryError> {
        let target = channel_id(channel)?;
        let recent = match attempt.filter(|a| a.uncertain) {
            Some(_) => self
                .call("get messages", Some(channel), || {
                    self.http.get_messages(target, None, Some(FIND_MESSAGES))
                })
                .await?
                .into_iter()
                .filter(|m| m.author.id.get() == self.me)
                .map(|m| (m.content, m.id.get()))
                .collect(),
            None => Vec::new(),
        };
        let mut first = None;
        for (i, piece) in format::messages(body).iter().enumerate() {
            if let Some((_, id)) = recent.iter().find(|(content, _)| content == piece) {
                tracing::info!(
                    channel,
                    "An earlier attempt had posted this; not posting again."
                );
                first.get_or_insert(message_id(channel, *id));
                continue;
            }
            // Roles ping only where our own team message names one (the on-call role).
            let mentions = format::allowed_mentions()
                .roles(ping_roles.iter().copied().map(serenity::all::RoleId::new));
            let mut message = CreateMessage::new()
                .content(piece.as_str())
                .allowed_mentions(mentions);
            if let Some(attempt) = attempt {
                message = message
                    .nonce(Nonce::String(nonce(&attempt.key, i)))
                    .enforce_nonce(true);
            }
            if let (0, Some(to)) = (i, reply_to) {
                message = message.reference_message((target, self::message(to)?));
            }
            let posted = self
                .call("send message", Some(channel), || {
                    self.http.send_message(target, vec![], &message)
                })
                .await?;
            first.get_or_insert(message_id(channel, posted.id.get()));
        }
        first.ok_or_else(|| DeliveryError::permanent(words::EMPTY_MESSAGE))
    }

    /// Answers a message (a thread `!command`, a reaction) where it was made:
    /// Discord has no ephemeral messages outside interactions.
    pub async fn reply(&self, channel: u64, to: u64, body: &str) -> Result<(), DeliveryError> {
        self.post_text(None, channel, Some(to), body, &[])
            .await
            .map(|_| ())
    }

    /// The ids of `names` among a forum's tags, creating the missing ones
    /// when the forum has room. A tag that cannot be made is left off (and
    /// logged): a post without it is better than no post.
    async fn forum_tags(&self, forum: u64, names: &[String]) -> Vec<u64> {
        let mut cache = self.tags.lock().await;
        let known = match cache.get(&forum) {
            Some(tags) => tags.clone(),
            None => {
                let Ok(target) = channel_id(forum) else {
                    return Vec::new();
                };
                match self
                    .call("get forum", Some(forum), || self.http.get_channel(target))
                    .await
                {
                    Ok(Channel::Guild(c)) => {
                        let tags: Vec<(u64, String)> = c
                            .available_tags
                            .iter()
                            .map(|t| (t.id.get(), t.name.clone()))
                            .collect();
                        cache.insert(forum, tags.clone());
                        tags
                    }
                    Ok(_) => return Vec::new(),
                    Err(error) => {
                        tracing::warn!(forum, reason = %error.error.reason, "Cannot read a forum's tags.");
                        return Vec::new();
                    }
                }
            }
        };
        let find = |tags: &[(u64, String)], name: &str| {
            tags.iter()
                .find(|(_, n)| n.eq_ignore_ascii_case(name))
                .map(|(id, _)| *id)
        };
        let missing: Vec<&String> = names.iter().filter(|n| find(&known, n).is_none()).collect();
        let tags = if missing.is_empty() {
            known
        } else if known.len() + missing.len() > format::limits::FORUM_TAGS {
            tracing::warn!(
                forum,
                missing = missing.len(),
                "The forum has no room for more tags."
            );
            known
        } else {
            // Existing tags keep their ids, so posts keep theirs.
            let mut all: Vec<serde_json::Value> = known
                .iter()
                .map(|(id, name)| serde_json::json!({"id": id.to_string(), "name": name}))
                .collect();
            all.extend(missing.iter().map(|name| serde_json::json!({"name": name})));
            let body = serde_json::json!({ "available_tags": all });
            match channel_id(forum) {
                Ok(target) => match self
                    .call("edit forum tags", Some(forum), || {
                        self.http.edit_channel(target, &body, None)
                    })
                    .await
                {
                    Ok(channel) => {
                        let tags: Vec<(u64, String)> = channel
                            .available_tags
                            .iter()
                            .map(|t| (t.id.get(), t.name.clone()))
                            .collect();
                        tracing::info!(forum, created = missing.len(), "Forum tags created.");
                        cache.insert(forum, tags.clone());
                        tags
                    }
                    Err(error) => {
                        tracing::warn!(forum, reason = %error.error.reason, "Cannot create forum tags.");
                        known
                    }
                },
                Err(_) => known,
            }
        };
        names
            .iter()
            .filter_map(|n| find(&tags, n))
            .take(format::limits::APPLIED_TAGS)
            .collect()
    }

    /// Brings a thread's archived state (and, in a forum, its tags) in step
    /// with the case; nothing is sent when nothing changed.
    async fn sync_thread(
        &self,
        case: &Case,
        thread: u64,
        forum: Option<u64>,
    ) -> Result<(), DeliveryError> {
        let archived = self.config.archive_closed && case.status == Status::Closed;
        let tags = match forum {
            Some(forum) => self.forum_tags(forum, &format::tag_names(case)).await,
            None => Vec::new(),
        };
        let wanted = ThreadState { archived, tags };
        if self.lock(&self.threads).get(&thread) == Some(&wanted) {
            return Ok(());
        }
        let target = channel_id(thread)?;
        let mut edit = EditThread::new().archived(wanted.archived);
        if forum.is_some() {
            edit = edit.applied_tags(
                wanted
                    .tags
                    .iter()
                    .filter_map(|t| NonZeroU64::new(*t))
                    .map(ForumTagId::from),
            );
        }
        self.call("edit thread", Some(thread), || {
            self.http.edit_thread(target, &edit, None)
        })
        .await?;
        self.lock(&self.threads).insert(thread, wanted);
        Ok(())
    }

    /// The forum a case's thread is a post in, or `None` for a thread started
    /// from a card in a text channel (whose card is not in the thread). Read
    /// from the thread itself, not the queue's current channel, which the
    /// config may have moved since.
    async fn forum_of(&self, thread: u64, card_channel: u64) -> Result<Option<u64>, DeliveryError> {
        if card_channel != thread {
            return Ok(None);
        }
        if let Some(parent) = self.lock(&self.parents).get(&thread) {
            return Ok(Some(*parent));
        }
        let target = channel_id(thread)?;
        let parent = match self
            .call("get thread", Some(thread), || self.http.get_channel(target))
            .await?
        {
            Channel::Guild(c) => c.parent_id.map(|p| p.get()),
            _ => None,
        };
        let parent = parent.ok_or_else(|| DeliveryError::permanent(words::BAD_ID))?;
        self.lock(&self.parents).insert(thread, parent);
        Ok(Some(parent))
    }

    /// Looks for a case's thread an earlier, uncertain attempt may have made.
    async fn find_thread(&self, case: u64, parent: u64) -> Result<Option<u64>, DeliveryError> {
        let guild = GuildId::from(snowflake(self.config.guild_id)?);
        let prefix = words::thread_prefix(case);
        let active = self
            .call("get active threads", None, || {
                self.http.get_guild_active_threads(guild)
            })
            .await?;
        Ok(active
            .threads
            .iter()
            .find(|t| {
                t.parent_id.map(|p| p.get()) == Some(parent)
                    && t.owner_id.map(|o| o.get()) == Some(self.me)
                    && t.name.starts_with(&prefix)
            })
            .map(|t| t.id.get()))
    }

    /// Looks for a case's card an earlier attempt posted in a text channel
    /// (without managing to start its thread): our message with its buttons.
    async fn find_card(&self, case: u64, channel: u64) -> Result<Option<u64>, DeliveryError> {
        let target = channel_id(channel)?;
        let marker = format::card_marker(case);
        let recent = self
            .call("get messages", Some(channel), || {
                self.http.get_messages(target, None, Some(FIND_MESSAGES))
            })
            .await?;
        Ok(recent
            .iter()
            .find(|m| {
                m.author.id.get() == self.me
                    && m.components.iter().flat_map(|r| &r.components).any(|c| {
                        matches!(c, serenity::all::ActionRowComponent::Button(b)
                            if matches!(&b.data, serenity::all::ButtonKind::NonLink { custom_id, .. }
                                if *custom_id == marker))
                    })
            })
            .map(|m| m.id.get()))
    }

    /// Starts a case's thread from its card in a text channel. A thread
    /// that already exists for the card (160004) has the card's id.
    async fn start_thread(
        &self,
        case: &Case,
        channel: u64,
        card: u64,
    ) -> Result<u64, DeliveryError> {
        let (target, from) = (channel_id(channel)?, message(card)?);
        let request = CreateThread::new(format::thread_name(case))
            .auto_archive_duration(AutoArchiveDuration::from(self.config.auto_archive_minutes));
        let started = self
            .call("start thread", Some(channel), || {
                self.http
                    .create_thread_from_message(target, from, &request, None)
            })
            .await;
        match started {
            Ok(thread) => Ok(thread.id.get()),
            // Started by an attempt whose answer was lost.
            Err(Failed { code: 160004, .. }) => Ok(card),
            Err(failed) => Err(failed.into()),
        }
    }
}

/// A message nonce from an attempt key: Discord allows 25 characters, and
/// `effect-<outbox id>` is unique per effect.
fn nonce(key: &str, part: usize) -> String {
    let id = key.strip_prefix("effect-").unwrap_or(key);
    let nonce = format!("{id}.{part}");
    nonce.chars().take(25).collect()
}

impl ChatSurface for Discord {
    fn mention(&self, user: &str) -> String {
        format::mention(user)
    }

    fn on_call(&self, queue: &str) -> Option<String> {
        on_call_for(&self.config.on_call, queue).map(|role| format!("<@&{role}>"))
    }

    fn post_card<'a>(
        &'a self,
        attempt: &'a Attempt,
        case: &'a Case,
        card: &'a text::Card,
    ) -> BoxFuture<'a, Result<ChatThread, DeliveryError>> {
        Box::pin(async move {
            let channel = self.config.channel_for(&case.queue);
            let kind = self.channel_kind(channel).await?;
            if attempt.uncertain
                && let Some(thread) = self.find_thread(case.number, channel).await?
            {
                tracing::info!(
                    case = case.number,
                    thread,
                    "An earlier attempt had made this case's thread."
                );
                let card = match kind {
                    Kind::Text => message_id(channel, thread),
                    Kind::Forum => {
                        self.lock(&self.parents).insert(thread, channel);
                        message_id(thread, thread)
                    }
                };
                return Ok(ChatThread {
                    thread: thread.to_string(),
                    card,
                });
            }
            let embed = format::card_embed(case, card);
            let buttons = format::card_buttons(case.number);
            let message = CreateMessage::new()
                .embed(embed)
                .components(buttons)
                .allowed_mentions(format::allowed_mentions());
            match kind {
                Kind::Text => {
                    let found = match attempt.uncertain {
                        true => self.find_card(case.number, channel).await?,
                        false => None,
                    };
                    let card_id = match found {
                        Some(id) => id,
                        None => {
                            let target = channel_id(channel)?;
                            let message = message
                                .nonce(Nonce::String(nonce(&attempt.key, 0)))
                                .enforce_nonce(true);
                            self.call("send card", Some(channel), || {
                                self.http.send_message(target, vec![], &message)
                            })
                            .await?
                            .id
                            .get()
                        }
                    };
                    let thread = self.start_thread(case, channel, card_id).await?;
                    Ok(ChatThread {
                        thread: thread.to_string(),
                        card: message_id(channel, card_id),
                    })
                }
                Kind::Forum => {
                    let tags = self.forum_tags(channel, &format::tag_names(case)).await;
                    let post = CreateForumPost::new(format::thread_name(case), message)
                        .auto_archive_duration(AutoArchiveDuration::from(
                            self.config.auto_archive_minutes,
                        ))
                        .set_applied_tags(
                            tags.iter()
                                .filter_map(|t| NonZeroU64::new(*t))
                                .map(ForumTagId::from),
                        );
                    let target = channel_id(channel)?;
                    let thread = self
                        .call("create forum post", Some(channel), || {
                            self.http.create_forum_post(target, &post, None)
                        })
                        .await?
                        .id
                        .get();
                    self.lock(&self.threads).insert(
                        thread,
                        ThreadState {
                            archived: false,
                            tags,
                        },
                    );
                    self.lock(&self.parents).insert(thread, channel);
                    // The starter message has the thread's id.
                    Ok(ChatThread {
                        thread: thread.to_string(),
                        card: message_id(thread, thread),
                    })
                }
            }
        })
    }

    fn update_card<'a>(
        &'a self,
        _attempt: &'a Attempt,
        case: &'a Case,
        thread: &'a ChatThread,
        card: &'a text::Card,
    ) -> BoxFuture<'a, Result<(), DeliveryError>> {
        Box::pin(async move {
            let (channel, card_id) =
                split_id(&thread.card).ok_or_else(|| DeliveryError::permanent(words::BAD_ID))?;
            let thread_id: u64 = thread
                .thread
                .parse()
                .map_err(|_| DeliveryError::permanent(words::BAD_ID))?;
            // A forum post's card is inside the thread, which must be open to edit it.
            let forum = self.forum_of(thread_id, channel).await?;
            let edit = EditMessage::new()
                .embed(format::card_embed(case, card))
                .components(format::card_buttons(case.number));
            let (target, id) = (channel_id(channel)?, message(card_id)?);
            let edited = self
                .call("edit card", Some(channel), || {
                    self.http.edit_message(target, id, &edit, vec![])
                })
                .await;
            if let Err(failed) = edited {
                // 50083: the thread is archived (closed, or idle too long).
                if forum.is_none() || failed.code != 50083 {
                    return Err(failed.into());
                }
                let reopen = EditThread::new().archived(false);
                self.call("unarchive thread", Some(thread_id), || {
                    self.http.edit_thread(target, &reopen, None)
                })
                .await?;
                self.lock(&self.threads).remove(&thread_id);
                self.call("edit card", Some(channel), || {
                    self.http.edit_message(target, id, &edit, vec![])
                })
                .await?;
            }
            self.sync_thread(case, thread_id, forum).await
        })
    }

    fn post<'a>(
        &'a self,
        attempt: &'a Attempt,
        case: &'a Case,
        thread: &'a ChatThread,
        body: &'a str,
    ) -> BoxFuture<'a, Result<String, DeliveryError>> {
        Box::pin(async move {
            let thread_id: u64 = thread
                .thread
                .parse()
                .map_err(|_| DeliveryError::permanent(words::BAD_ID))?;
            let posted = self
                .post_text(Some(attempt), thread_id, None, body, &[])
                .await?;
            // Posting reopens an archived thread (Discord does); a closed case's stays archived.
            self.lock(&self.threads).remove(&thread_id);
            if case.status == Status::Closed && self.config.archive_closed {
                let card_channel = split_id(&thread.card).map_or(0, |(c, _)| c);
                let synced = match self.forum_of(thread_id, card_channel).await {
                    Ok(forum) => self.sync_thread(case, thread_id, forum).await,
                    Err(error) => Err(error),
                };
                if let Err(error) = synced {
                    tracing::warn!(case = case.number, reason = %error.reason, "Cannot archive a closed case's thread.");
                }
            }
            Ok(posted)
        })
    }

    fn alert<'a>(&'a self, text: &'a str) -> BoxFuture<'a, Result<(), DeliveryError>> {
        Box::pin(self.post_health(text))
    }

    /// A forum channel takes posts (threads), not messages: a team message for a queue whose
    /// channel is a forum goes to the default channel instead, and when that is a forum too
    /// it is refused (permanently: the setup has no text channel to post in), which the
    /// scheduler logs.
    fn post_channel<'a>(
        &'a self,
        attempt: &'a Attempt,
        queue: &'a str,
        body: &'a str,
        aligned: bool,
    ) -> BoxFuture<'a, Result<(), DeliveryError>> {
        Box::pin(async move {
            let mut channel = self.config.channel_for(queue);
            if self.channel_kind(channel).await? == Kind::Forum {
                let default = self.config.channel_for("default");
                if default == channel || self.channel_kind(default).await? == Kind::Forum {
                    return Err(DeliveryError::permanent(words::NO_TEXT_CHANNEL));
                }
                tracing::info!(
                    queue,
                    channel,
                    "The queue's channel is a forum; posting to the default channel."
                );
                channel = default;
            }
            // Nonces hold 25 characters: a digest key (job name and slot) is hashed to fit.
            let attempt = Attempt {
                key: format!("m{:016x}", fnv1a(&attempt.key)),
                uncertain: attempt.uncertain,
            };
            let body = text::report::fenced(body, aligned);
            let on_call: Vec<u64> = on_call_for(&self.config.on_call, queue)
                .copied()
                .into_iter()
                .collect();
            self.post_text(Some(&attempt), channel, None, &body, &on_call)
                .await
                .map(|_| ())
        })
    }
}

/// FNV-1a, 64 bits: a stable short stand-in for a long key (not for secrets).
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

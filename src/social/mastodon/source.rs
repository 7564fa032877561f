//! Bringing one Mastodon account's mentions in: polling
//! `GET /api/v1/notifications?types[]=mention` forward from a cursor, woken at
//! once by the instance's notification stream when it has one.
//!
//! The cursor (the newest notification id ingested) is stored in the same
//! commit as the posts of each page, so a restart neither loses nor repeats a
//! mention; the stream only says "look now", so a notification it carried
//! and a poll both bring is ingested once (ingest dedupes by status id), and
//! after every reconnect a poll catches up on what the stream missed. On the
//! first start the cursor is set to the newest mention and nothing older is
//! imported. Must not: decide what becomes a case (the engine does).

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::{Notify, watch};

use super::client::{Client, Failure, PAGE, Rate};
use super::wire::{self, Limits, Status};
use crate::config::AccountConfig;
use crate::engine::{Platform, SocialPost, post_key};
use crate::service::Service;
use crate::social::rate::{self, Polled};
use crate::store::{Store, StoreError, Write};

/// At most this many pages per poll; the rest follow on the next one.
const MAX_PAGES: usize = 10;
/// The stream's reconnection delay doubles from this…
const STREAM_RETRY_MIN: Duration = Duration::from_secs(2);
/// …up to this.
const STREAM_RETRY_MAX: Duration = Duration::from_secs(300);
/// A stream event longer than this is dropped unread (a notification is a few KiB).
const MAX_EVENT: usize = 1 << 20;
/// How long the start waits for the instance's limits before going on with the last known.
const INSTANCE_TIMEOUT: Duration = Duration::from_secs(10);

fn cursor_key(account: &str) -> String {
    format!("mastodon:mentions:{account}")
}

fn instance_key(account: &str) -> String {
    format!("mastodon:instance:{account}")
}

/// The instance's limits and streaming base: asked at start, remembered in the store for a
/// start when the instance does not answer, Mastodon's defaults before either.
pub async fn instance(store: &Store, client: &Client) -> (Limits, Option<String>) {
    let key = instance_key(client.account());
    let asked = tokio::time::timeout(INSTANCE_TIMEOUT, client.instance()).await;
    match asked {
        Ok(Ok((limits, streaming))) => {
            let limits = limits.unwrap_or_default();
            if let Ok(json) = serde_json::to_string(&limits) {
                let write = Write {
                    cursor: Some((key, json)),
                    ..Write::default()
                };
                if let Err(error) = store.commit(&write) {
                    tracing::warn!(account = client.account(), %error, "Cannot remember the Mastodon instance's limits.");
                }
            }
            (limits, streaming)
        }
        failed => {
            let known = store
                .cursor(&key)
                .ok()
                .flatten()
                .and_then(|json| serde_json::from_str(&json).ok());
            tracing::warn!(account = client.account(), error = ?failed.map(|r| r.err()), remembered = known.is_some(), "The Mastodon instance did not give its limits; using the last known.");
            (known.unwrap_or_default(), None)
        }
    }
}

/// Polls the account's mentions until shutdown; with `streaming`, the notification stream at
/// `stream_base` wakes the poll.
pub async fn run(
    service: Arc<Service>,
    client: Arc<Client>,
    account: AccountConfig,
    stream_base: Option<String>,
    mut shutdown: watch::Receiver<bool>,
) {
    let wake = Arc::new(Notify::new());
    let streaming = account.mastodon.as_ref().is_some_and(|m| m.streaming);
    let stream = streaming.then(|| {
        let base = stream_base.unwrap_or_else(|| account.api_url.clone());
        tokio::spawn(listen(
            Arc::clone(&client),
            base,
            Arc::clone(&wake),
            shutdown.clone(),
        ))
    });
    let mut me: Option<String> = None;
    loop {
        if me.is_none() {
            match client.me().await {
                Ok(id) => me = Some(id),
                Err(error) => {
                    tracing::warn!(account = %account.id, ?error, "Cannot learn the Mastodon account's id; will try again.");
                }
            }
        }
        let polled = match &me {
            None => Polled::Failed,
            Some(me) => {
                let poller = Poller {
                    service: &service,
                    client: &client,
                    account: &account,
                    me,
                };
                match poller.poll().await {
                    Ok(rate) => Polled::Done(rate),
                    Err(PollError::Mastodon(Failure::RateLimited { reset })) => {
                        tracing::warn!(account = %account.id, ?reset, "Mastodon is rate-limiting the poll.");
                        Polled::Limited(reset)
                    }
                    Err(error) => {
                        tracing::warn!(account = %account.id, %error, "Mastodon poll failed.");
                        Polled::Failed
                    }
                }
            }
        };
        let pause = rate::pause(account.poll_interval, polled, Utc::now());
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = wake.notified() => {}
            _ = shutdown.changed() => {}
        }
        if *shutdown.borrow() {
            break;
        }
    }
    if let Some(stream) = stream {
        let _ = stream.await;
    }
}

/// Keeps the notification stream open, waking the poll on each notification and after each
/// reconnect (to catch up on what came while it was down). An instance without a stream
/// (404) leaves the poll alone.
async fn listen(
    client: Arc<Client>,
    base: String,
    wake: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut retry = STREAM_RETRY_MIN;
    loop {
        let opened = tokio::select! {
            opened = client.stream(&base) => opened,
            _ = shutdown.changed() => return,
        };
        match opened {
            Ok(mut response) => {
                tracing::info!(
                    account = client.account(),
                    "Mastodon notification stream open."
                );
                wake.notify_one();
                let mut buffer = String::new();
                loop {
                    let chunk = tokio::select! {
                        chunk = response.chunk() => chunk,
                        _ = shutdown.changed() => return,
                    };
                    let Ok(Some(bytes)) = chunk else {
                        break;
                    };
                    retry = STREAM_RETRY_MIN;
                    buffer.push_str(&String::from_utf8_lossy(&bytes));
                    // Events end with a blank line; a part after the last one is kept.
                    while let Some(end) = buffer.find("\n\n") {
                        let block: String = buffer.drain(..end + 2).collect();
                        if wire::stream_event(&block).is_some() {
                            wake.notify_one();
                        }
                    }
                    // A stream that never ends an event must not grow without bound; the
                    // poll still brings whatever it carried.
                    if buffer.len() > MAX_EVENT {
                        tracing::warn!(
                            account = client.account(),
                            "Mastodon stream event too long; dropped."
                        );
                        buffer.clear();
                        wake.notify_one();
                    }
                }
                tracing::info!(
                    account = client.account(),
                    "Mastodon notification stream closed; reconnecting."
                );
            }
            Err(Failure::NotFound) => {
                tracing::info!(
                    account = client.account(),
                    "This Mastodon instance has no notification stream; polling only."
                );
                return;
            }
            Err(error) => {
                tracing::warn!(account = client.account(), ?error, wait = ?retry, "Mastodon notification stream failed; retrying.");
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(retry) => {}
            _ = shutdown.changed() => return,
        }
        retry = (retry * 2).min(STREAM_RETRY_MAX);
    }
}

/// Why a poll stopped: the instance, or our own store.
#[derive(Debug, thiserror::Error)]
enum PollError {
    #[error("Mastodon: {0:?}")]
    Mastodon(Failure),
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

impl From<Failure> for PollError {
    fn from(failure: Failure) -> Self {
        PollError::Mastodon(failure)
    }
}

struct Poller<'a> {
    service: &'a Service,
    client: &'a Client,
    account: &'a AccountConfig,
    me: &'a str,
}

/// Where the poll stands: after this notification id, or (before any mention arrived)
/// before everything.
const NOTHING_YET: &str = "none";

impl Poller<'_> {
    async fn poll(&self) -> Result<Rate, PollError> {
        let key = cursor_key(&self.account.id);
        let stored = self.service.store().cursor(&key)?;
        let mut since = match stored {
            Some(cursor) if cursor == NOTHING_YET => None,
            Some(cursor) => Some(cursor),
            None => return self.prime(&key).await,
        };
        let mut rate = Rate::default();
        for _ in 0..MAX_PAGES {
            let page = self.client.mentions(since.as_deref(), PAGE).await?;
            rate = page.rate;
            let Some(newest) = page.newer.clone().or_else(|| {
                page.notifications
                    .first()
                    .and_then(|n| n["id"].as_str().map(str::to_owned))
            }) else {
                break;
            };
            let full = page.notifications.len() >= PAGE;
            // The API lists newest first; cases open in the order people wrote.
            let posts: Vec<SocialPost> = page
                .notifications
                .into_iter()
                .rev()
                .filter_map(|n| self.post(n))
                .collect();
            self.commit(&posts, (key.clone(), newest.clone()))?;
            since = Some(newest);
            if !full {
                break;
            }
        }
        Ok(rate)
    }

    /// The first start: remember the newest mention, import nothing older.
    async fn prime(&self, key: &str) -> Result<Rate, PollError> {
        let page = self.client.mentions(None, 1).await?;
        let newest = page
            .notifications
            .first()
            .and_then(|n| n["id"].as_str())
            .unwrap_or(NOTHING_YET)
            .to_owned();
        self.commit(&[], (key.to_owned(), newest))?;
        tracing::info!(account = %self.account.id, "Mastodon mentions start from now.");
        Ok(page.rate)
    }

    /// One notification as a post, or `None` (logged) when it is not one for us.
    fn post(&self, value: serde_json::Value) -> Option<SocialPost> {
        let read = wire::notification(value)
            .and_then(|n| wire::post(&n, &self.account.id, self.me, |s| self.conversation(s)));
        match read {
            Ok(post) => Some(post),
            Err(wire::Skip::NotForUs) => None,
            Err(wire::Skip::Unreadable(why)) => {
                tracing::warn!(account = %self.account.id, why, "Mastodon notification dropped.");
                None
            }
        }
    }

    /// The thread a status belongs to: Mastodon gives no thread id, so an answer to a post
    /// carebridge knows (the customer's earlier post, or our reply) joins that post's case's
    /// conversation; an answer to anything else is grouped under what it answers.
    fn conversation(&self, status: &Status) -> String {
        let Some(parent) = &status.in_reply_to_id else {
            return status.id.clone();
        };
        let key = post_key(Platform::Mastodon, &self.account.id, parent);
        let store = self.service.store();
        match store
            .case_for_post(&key)
            .ok()
            .flatten()
            .and_then(|n| store.case(n).ok().flatten())
        {
            Some(case) => case.conversation_id,
            None => parent.clone(),
        }
    }

    fn commit(&self, posts: &[SocialPost], cursor: (String, String)) -> Result<(), StoreError> {
        let now = Utc::now();
        // Store commits are blocking work: keep them off the threads that answer requests.
        let results =
            tokio::task::block_in_place(|| self.service.ingest_page(posts, Some(cursor), now))?;
        if !posts.is_empty() {
            tracing::info!(account = %self.account.id, posts = posts.len(), ?results, "Mastodon mentions ingested.");
        }
        Ok(())
    }
}

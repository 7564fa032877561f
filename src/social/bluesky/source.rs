//! Bringing one Bluesky account's mentions and replies in: polling
//! `app.bsky.notification.listNotifications?reasons=mention&reasons=reply`.
//!
//! The API lists newest first and its cursor pages to older notifications, so
//! a poll reads pages until it meets the mark the last poll left (the newest
//! notification it saw, by `indexedAt` and URI), then ingests what it read
//! oldest first, with the new mark in the same commit: a restart neither loses
//! nor repeats a post (ingest also dedupes by URI). On the first start the
//! mark is set to the newest notification and nothing older is imported.
//! Must not: decide what becomes a case (the engine does).

use std::sync::Arc;

use chrono::Utc;
use tokio::sync::watch;

use super::client::{Client, Failure, PAGE, Rate};
use super::wire::{self, Mark};
use crate::config::AccountConfig;
use crate::engine::SocialPost;
use crate::service::Service;
use crate::social::Skip;
use crate::social::rate::{self, Polled};
use crate::store::StoreError;

/// At most this many pages per poll; what is older is not read (and a warning says so).
const MAX_PAGES: usize = 10;
/// Where the poll stands before any notification arrived.
const NOTHING_YET: &str = "none";

fn cursor_key(account: &str) -> String {
    format!("bluesky:notifications:{account}")
}

/// Polls the account's notifications until shutdown.
pub async fn run(
    service: Arc<Service>,
    client: Arc<Client>,
    account: AccountConfig,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let poller = Poller {
            service: &service,
            client: &client,
            account: &account,
        };
        let polled = match poller.poll().await {
            Ok(rate) => Polled::Done(rate),
            Err(PollError::Bluesky(Failure::RateLimited { reset })) => {
                tracing::warn!(account = %account.id, ?reset, "Bluesky is rate-limiting the poll.");
                Polled::Limited(reset)
            }
            Err(error) => {
                tracing::warn!(account = %account.id, %error, "Bluesky poll failed.");
                Polled::Failed
            }
        };
        let pause = rate::pause(account.poll_interval, polled, Utc::now());
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = shutdown.changed() => {}
        }
        if *shutdown.borrow() {
            break;
        }
    }
}

/// Why a poll stopped: the PDS, or our own store.
#[derive(Debug, thiserror::Error)]
enum PollError {
    #[error("Bluesky: {0:?}")]
    Bluesky(Failure),
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

impl From<Failure> for PollError {
    fn from(failure: Failure) -> Self {
        PollError::Bluesky(failure)
    }
}

struct Poller<'a> {
    service: &'a Service,
    client: &'a Client,
    account: &'a AccountConfig,
}

impl Poller<'_> {
    async fn poll(&self) -> Result<Rate, PollError> {
        let key = cursor_key(&self.account.id);
        let since = match self.service.store().cursor(&key)? {
            None => return self.prime(&key).await,
            Some(stored) if stored == NOTHING_YET => None,
            Some(stored) => match Mark::decode(&stored) {
                Some(mark) => Some(mark),
                None => {
                    tracing::warn!(account = %self.account.id, "The stored Bluesky mark is unreadable; starting from now.");
                    return self.prime(&key).await;
                }
            },
        };
        let me = self.client.did().await?;
        let mut newest: Option<Mark> = None;
        let mut unread = Vec::new();
        let mut older: Option<String> = None;
        let mut rate = Rate::default();
        let mut reached = false;
        for _ in 0..MAX_PAGES {
            let page = self.client.notifications(older.as_deref(), PAGE).await?;
            rate = page.rate;
            let full = page.notifications.len() >= PAGE;
            for value in page.notifications {
                let mark = Mark::of(&value);
                if newest.is_none() {
                    newest.clone_from(&mark);
                }
                if let (Some(since), Some(mark)) = (&since, &mark)
                    && mark.reached(since)
                {
                    reached = true;
                    break;
                }
                unread.push(value);
            }
            older = page.older;
            if reached || !full || older.is_none() {
                break;
            }
        }
        if since.is_some() && !reached && older.is_some() {
            tracing::warn!(account = %self.account.id, pages = MAX_PAGES, "More Bluesky notifications came since the last poll than one poll reads; the oldest are skipped.");
        }
        let Some(newest) = newest else {
            return Ok(rate);
        };
        // The API lists newest first; cases open in the order people wrote.
        let posts: Vec<SocialPost> = unread
            .into_iter()
            .rev()
            .filter_map(|n| self.post(n, &me))
            .collect();
        self.commit(&posts, (key, newest.encode()))?;
        Ok(rate)
    }

    /// The first start: remember the newest notification, import nothing older.
    async fn prime(&self, key: &str) -> Result<Rate, PollError> {
        let page = self.client.notifications(None, 1).await?;
        let newest = page
            .notifications
            .first()
            .and_then(Mark::of)
            .map_or_else(|| NOTHING_YET.to_owned(), |m| m.encode());
        self.commit(&[], (key.to_owned(), newest))?;
        tracing::info!(account = %self.account.id, "Bluesky mentions start from now.");
        Ok(page.rate)
    }

    /// One notification as a post, or `None` (logged) when it is not one for us.
    fn post(&self, value: serde_json::Value, me: &str) -> Option<SocialPost> {
        match wire::notification(value).and_then(|n| wire::post(&n, &self.account.id, me)) {
            Ok(post) => Some(post),
            Err(Skip::NotForUs) => None,
            Err(Skip::Unreadable(why)) => {
                tracing::warn!(account = %self.account.id, why, "Bluesky notification dropped.");
                None
            }
        }
    }

    fn commit(&self, posts: &[SocialPost], cursor: (String, String)) -> Result<(), StoreError> {
        let now = Utc::now();
        // Store commits are blocking work: keep them off the threads that answer requests.
        let results =
            tokio::task::block_in_place(|| self.service.ingest_page(posts, Some(cursor), now))?;
        if !posts.is_empty() {
            tracing::info!(account = %self.account.id, posts = posts.len(), ?results, "Bluesky mentions ingested.");
        }
        Ok(())
    }
}

//! Polling X: mentions, direct messages and listening searches of one account.
//!
//! Each source keeps its position in the store as a cursor (`id:<newest id>` once it has seen
//! a post, `start:<time>` before), advanced in the same commit as the posts it ingested, so a
//! restart neither loses nor repeats a post; overlapping polls and the webhook are harmless
//! because ingest dedupes by post id. On the first start a feed only notes where it stands
//! (its newest id) and imports nothing, unless `backfill` says how far back to go. Each endpoint is paced by its own
//! rate-limit headers. Must not: decide what becomes a case (the engine does).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use sha2::{Digest, Sha256};
use tokio::sync::watch;

use super::client::{Client, ClientError, Rate, Since};
use super::wire::{self, XError};
use crate::config::{AccountConfig, ListeningQuery};
use crate::engine::{PostKind, SocialPost};
use crate::service::Service;
use crate::store::StoreError;

/// X lets the mentions timeline reach back 800 posts: 8 pages of 100.
const MAX_PAGES: usize = 8;
/// How long to wait after a failure X gave no time for.
const FAILURE_PAUSE: TimeDelta = TimeDelta::seconds(60);

/// What one poll reads.
#[derive(Debug, Clone)]
enum Feed<'a> {
    Mentions,
    Dms,
    Search(&'a ListeningQuery),
}

impl Feed<'_> {
    fn cursor_key(&self, account: &str) -> String {
        match self {
            Feed::Mentions => format!("x:mentions:{account}"),
            Feed::Dms => format!("x:dms:{account}"),
            // The query text is the identity of a search: edit it and it starts afresh.
            Feed::Search(q) => {
                let digest = hex::encode(Sha256::digest(q.query.as_bytes()));
                format!("x:search:{account}:{}", &digest[..16])
            }
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Feed::Mentions => "mentions",
            Feed::Dms => "dms",
            Feed::Search(_) => "search",
        }
    }
}

/// Why a poll stopped: X, or our own store.
#[derive(Debug, thiserror::Error)]
enum PollError {
    #[error("X: {0:?}")]
    X(ClientError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

impl From<ClientError> for PollError {
    fn from(error: ClientError) -> Self {
        PollError::X(error)
    }
}

/// When each endpoint may be called again, from its rate-limit headers.
#[derive(Default)]
struct Pace {
    not_before: HashMap<String, DateTime<Utc>>,
}

impl Pace {
    fn ready(&self, key: &str, now: DateTime<Utc>) -> bool {
        self.not_before.get(key).is_none_or(|at| *at <= now)
    }

    /// Spreads the calls left in the window over the time left in it.
    fn note(&mut self, key: &str, rate: Rate, now: DateTime<Utc>) {
        let at = match (rate.remaining, rate.reset) {
            (Some(0), Some(reset)) => reset,
            (Some(left), Some(reset)) if reset > now => {
                let spread = (reset - now) / i32::try_from(left).unwrap_or(i32::MAX);
                now + spread
            }
            _ => now,
        };
        self.not_before.insert(key.to_owned(), at);
    }

    fn failed(&mut self, key: &str, error: &PollError, now: DateTime<Utc>) {
        let at = match error {
            PollError::X(ClientError::X(XError::RateLimited { reset: Some(reset) })) => *reset,
            _ => now + FAILURE_PAUSE,
        };
        self.not_before.insert(key.to_owned(), at);
    }
}

/// Polls the account's feeds until shutdown.
pub async fn run(
    service: Arc<Service>,
    client: Arc<Client>,
    account: AccountConfig,
    mut shutdown: watch::Receiver<bool>,
) {
    let Some(x) = account.x() else {
        return;
    };
    let mut feeds = Vec::new();
    if x.mentions {
        feeds.push(Feed::Mentions);
    }
    if x.dms {
        feeds.push(Feed::Dms);
    }
    feeds.extend(x.listening.iter().map(Feed::Search));
    let mut pace = Pace::default();
    let mut me: Option<String> = None;
    loop {
        if me.is_none() {
            match client.me().await {
                Ok(id) => me = Some(id),
                Err(error) => {
                    tracing::warn!(account = %account.id, ?error, "Cannot learn the X account's user id; will try again.");
                }
            }
        }
        if let Some(me) = &me {
            for feed in &feeds {
                let key = feed.cursor_key(&account.id);
                if !pace.ready(&key, Utc::now()) {
                    continue;
                }
                let poller = Poller {
                    service: &service,
                    client: &client,
                    account: &account,
                    me,
                    key: &key,
                };
                match poller.poll(feed).await {
                    Ok(rate) => pace.note(&key, rate, Utc::now()),
                    Err(error) => {
                        tracing::warn!(account = %account.id, feed = feed.name(), ?error, "X poll failed.");
                        pace.failed(&key, &error, Utc::now());
                    }
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(account.poll_interval.max(Duration::from_secs(1))) => {}
            _ = shutdown.changed() => return,
        }
        if *shutdown.borrow() {
            return;
        }
    }
}

struct Poller<'a> {
    service: &'a Service,
    client: &'a Client,
    account: &'a AccountConfig,
    me: &'a str,
    key: &'a str,
}

impl Poller<'_> {
    /// Where this feed goes on from, if it ran before.
    fn stored(&self) -> Result<Option<Since>, StoreError> {
        let stored = self.service.store().cursor(self.key)?;
        Ok(stored.as_deref().and_then(Since::from_cursor))
    }

    /// The first start: remember where the feed stands now, import nothing.
    async fn prime(&self, feed: &Feed<'_>, now: DateTime<Utc>) -> Result<Rate, PollError> {
        let (_, newest, _, rate, _) = self.page(feed, None, None, now).await?;
        let cursor = newest.map_or(Since::Time(now), Since::Id);
        self.commit(&[], Some(&cursor), now)?;
        tracing::info!(account = %self.account.id, feed = feed.name(), "X feed starts from now; set `backfill` to import older posts.");
        Ok(rate)
    }

    fn commit(
        &self,
        posts: &[SocialPost],
        cursor: Option<&Since>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let cursor = cursor.map(|c| (self.key.to_owned(), c.to_cursor()));
        // Store commits are blocking work: keep them off the threads that answer requests.
        let results = tokio::task::block_in_place(|| self.service.ingest_page(posts, cursor, now))?;
        if !posts.is_empty() {
            tracing::info!(account = %self.account.id, feed = self.key, posts = posts.len(), ?results, "X posts ingested.");
        }
        Ok(())
    }

    async fn poll(&self, feed: &Feed<'_>) -> Result<Rate, PollError> {
        let now = Utc::now();
        let backfill = self
            .account
            .x()
            .and_then(|x| TimeDelta::from_std(x.backfill).ok())
            .filter(|b| *b > TimeDelta::zero());
        let since = match (self.stored()?, backfill) {
            (Some(since), _) => since,
            (None, Some(backfill)) => {
                let since = Since::Time(now - backfill);
                self.commit(&[], Some(&since), now)?;
                since
            }
            (None, None) => return self.prime(feed, now).await,
        };
        let mut posts = Vec::new();
        let mut newest: Option<String> = None;
        let mut page_token: Option<String> = None;
        let mut rate = Rate::default();
        for _ in 0..MAX_PAGES {
            let fetched = self
                .page(feed, Some(&since), page_token.as_deref(), now)
                .await;
            let (mut found, page_newest, next, page_rate, reached) = match fetched {
                Ok(page) => page,
                Err(error) => {
                    // Keep what arrived (ingest dedupes later repeats) but not the cursor:
                    // older pages not read yet must be read next time.
                    self.commit(&posts, None, now)?;
                    return Err(error.into());
                }
            };
            rate = page_rate;
            if newest.is_none() {
                newest = page_newest;
            }
            posts.append(&mut found);
            match next {
                Some(token) if !reached => page_token = Some(token),
                _ => break,
            }
        }
        wire::oldest_first(&mut posts);
        let cursor = newest.map(Since::Id);
        self.commit(&posts, cursor.as_ref(), now)?;
        Ok(rate)
    }

    /// One page: its posts after `since`, the newest id on it, the next page's token, the
    /// rate headers, and whether it reached back to `since` (no need to page further).
    async fn page(
        &self,
        feed: &Feed<'_>,
        since: Option<&Since>,
        token: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(Vec<SocialPost>, Option<String>, Option<String>, Rate, bool), ClientError> {
        let account = self.account.id.as_str();
        match feed {
            Feed::Mentions | Feed::Search(_) => {
                let (page, rate) = match feed {
                    Feed::Search(q) => self.client.search(&q.query, since, token).await?,
                    _ => self.client.mentions(self.me, since, token).await?,
                };
                let (kind, queue) = match feed {
                    Feed::Search(q) => (PostKind::Listening, Some(q.queue.clone())),
                    _ => (PostKind::Mention, None),
                };
                let mut posts = wire::tweet_posts(&page, account, self.me, kind, now);
                for post in &mut posts {
                    post.queue.clone_from(&queue);
                }
                // These endpoints filter by `since_id`/`start_time` themselves.
                Ok((
                    posts,
                    page.meta.newest_id,
                    page.meta.next_token,
                    rate,
                    false,
                ))
            }
            Feed::Dms => {
                // `dm_events` has no `since_id`: read newest first until we reach the cursor.
                let (page, rate) = self.client.dm_events(token).await?;
                let after = |id: &str, at: Option<DateTime<Utc>>| match since {
                    Some(Since::Id(last)) => wire::newer(id, last),
                    Some(Since::Time(start)) => at.is_some_and(|at| at >= *start),
                    None => true,
                };
                let reached = page.data.iter().any(|e| !after(&e.id, e.created_at));
                let newest = page
                    .data
                    .iter()
                    .map(|e| e.id.clone())
                    .reduce(|a, b| if wire::newer(&b, &a) { b } else { a });
                // Never move the cursor back; before the first id, any id will do (what is
                // older than the start time was to be skipped anyway).
                let newest = match since {
                    Some(Since::Id(last)) => newest.filter(|id| wire::newer(id, last)),
                    _ => newest,
                };
                let posts = wire::dm_posts(&page, account, self.me, now)
                    .into_iter()
                    .filter(|p| after(&p.id, Some(p.created_at)))
                    .collect();
                Ok((posts, newest, page.meta.next_token, rate, reached))
            }
        }
    }
}

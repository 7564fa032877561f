//! The demo network: replays a bundled (or configured) feed of realistic
//! customer posts and records what would have been published.
//!
//! A demo account simulates one real network (`simulate = "x"`), so the
//! engine applies that network's reply rules. The source persists its
//! position in the feed with each ingested post, so a restart neither loses
//! nor repeats posts. The publisher writes to a journal in the data dir
//! (`demo-published.jsonl`) keyed by draft: a retried publication finds the
//! earlier one, as a real network lookup would. Likes, unlikes, reposts and
//! deletions go to the same journal, keyed by account, case, action and target,
//! so a repeated action is recorded once.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::Utc;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::watch;

use super::{ActRequest, PublishRequest, Publisher};
use crate::config::{AccountConfig, DemoSource};
use crate::dispatch::{BoxFuture, DeliveryError};
use crate::engine::{Author, CanDm, NetworkAction, Platform, PostKind, SocialPost};
use crate::journal::Journal;
use crate::service::Service;

/// The bundled feed: a morning of customer posts across networks.
const BUNDLED_FEED: &str = include_str!("demo_feed.jsonl");

/// One line of a demo feed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedPost {
    pub id: String,
    /// Which simulated network the post belongs to; lines for other networks
    /// are left to the demo account simulating that one. Optional in a
    /// custom feed, where every line goes to the account that names the feed.
    #[serde(default)]
    pub platform: Option<Platform>,
    /// Conversation id; defaults to the post's own id (a new thread).
    #[serde(default)]
    pub conversation: Option<String>,
    pub kind: PostKind,
    pub author: Author,
    pub text: String,
    #[serde(default)]
    pub can_dm: CanDm,
    #[serde(default)]
    pub permalink: Option<String>,
    /// How the demo network treats replies to this post, to show failures.
    #[serde(default)]
    pub trouble: Option<Trouble>,
}

/// Simulated network trouble for replies to one post (and likes, reposts of it, and
/// deletions of our replies to it).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Trouble {
    /// Every reply is refused for good, with this reason.
    Refuse(String),
    /// The first N attempts time out (retryable), then replies go through.
    Flaky(u32),
}

impl FeedPost {
    fn to_post(&self, account: &str) -> SocialPost {
        SocialPost {
            platform: Platform::Demo,
            account: account.to_owned(),
            id: self.id.clone(),
            conversation_id: self.conversation.clone().unwrap_or_else(|| self.id.clone()),
            author: self.author.clone(),
            kind: self.kind,
            text: self.text.clone(),
            permalink: self.permalink.clone(),
            created_at: Utc::now(),
            can_dm: self.can_dm,
            reply_by: None,
            queue: None,
            parent: None,
            reference: None,
        }
    }
}

/// Parses a feed; malformed lines are logged and skipped.
pub fn parse_feed(text: &str, origin: &str) -> Vec<FeedPost> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .filter_map(|(n, line)| match serde_json::from_str::<FeedPost>(line) {
            Ok(post) => Some(post),
            Err(error) => {
                tracing::warn!(feed = origin, line = n + 1, %error, "Skipping a malformed demo feed line.");
                None
            }
        })
        .collect()
}

/// The posts a demo account replays.
pub fn feed_for(demo: &DemoSource) -> std::io::Result<Vec<FeedPost>> {
    match &demo.feed {
        Some(path) => {
            let text = std::fs::read_to_string(path)?;
            Ok(parse_feed(&text, &path.display().to_string()))
        }
        None => Ok(parse_feed(BUNDLED_FEED, "bundled")
            .into_iter()
            .filter(|p| p.platform == Some(demo.platform))
            .collect()),
    }
}

/// Replays the account's feed into the service until it ends or shutdown.
/// Returns the number of posts replayed in this run.
pub async fn run_source(
    service: Arc<Service>,
    account: AccountConfig,
    mut shutdown: watch::Receiver<bool>,
) -> usize {
    let Some(demo) = account.demo() else {
        return 0;
    };
    let posts = match feed_for(demo) {
        Ok(posts) => posts,
        Err(error) => {
            tracing::error!(account = %account.id, %error, "Cannot read the demo feed.");
            return 0;
        }
    };
    let cursor_key = format!("demo:{}", account.id);
    let start = match service.store().cursor(&cursor_key) {
        Ok(c) => c.and_then(|c| c.parse::<usize>().ok()).unwrap_or(0),
        Err(error) => {
            tracing::error!(account = %account.id, %error, "Cannot read the demo cursor.");
            return 0;
        }
    };
    let mut replayed = 0;
    for (index, feed_post) in posts.iter().enumerate().skip(start) {
        if index > start || start > 0 {
            tokio::select! {
                _ = tokio::time::sleep(demo.pace) => {}
                _ = shutdown.changed() => return replayed,
            }
        }
        if *shutdown.borrow() {
            return replayed;
        }
        let post = feed_post.to_post(&account.id);
        let cursor = Some((cursor_key.clone(), (index + 1).to_string()));
        match service.ingest(&post, cursor, Utc::now()) {
            Ok(result) => {
                replayed += 1;
                tracing::info!(account = %account.id, post = %post.id, ?result, "Demo post ingested.");
            }
            Err(error) => {
                tracing::error!(account = %account.id, post = %post.id, %error, "Cannot store a demo post; stopping this feed.");
                return replayed;
            }
        }
    }
    tracing::info!(account = %account.id, "Demo feed finished.");
    replayed
}

/// Records publications instead of sending them.
pub struct DemoPublisher {
    journal: Arc<Journal>,
    /// Trouble by the id of the post a reply answers.
    trouble: HashMap<String, Trouble>,
    /// Failed attempts so far, by publication key (for `Trouble::Flaky`).
    attempts: Mutex<HashMap<String, u32>>,
}

impl DemoPublisher {
    /// Opens the shared journal of all demo accounts in the data dir.
    pub fn open(data_dir: &Path) -> std::io::Result<Arc<Journal>> {
        Journal::open(&data_dir.join("demo-published.jsonl")).map(Arc::new)
    }

    /// A publisher for one demo account, misbehaving where its feed says so.
    pub fn new(journal: Arc<Journal>, demo: &DemoSource) -> Self {
        let trouble = feed_for(demo)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|p| p.trouble.map(|t| (p.id, t)))
            .collect();
        DemoPublisher {
            journal,
            trouble,
            attempts: Mutex::new(HashMap::new()),
        }
    }

    fn trouble(&self, key: &str, post: &str) -> Result<(), DeliveryError> {
        match self.trouble.get(post) {
            None => Ok(()),
            Some(Trouble::Refuse(reason)) => Err(DeliveryError::permanent(reason.clone())),
            Some(Trouble::Flaky(times)) => {
                let mut attempts = self.attempts.lock().unwrap_or_else(PoisonError::into_inner);
                let failed = attempts.entry(key.to_owned()).or_default();
                if *failed < *times {
                    *failed += 1;
                    Err(DeliveryError::retryable(
                        "demo network: the request timed out",
                    ))
                } else {
                    Ok(())
                }
            }
        }
    }
}

impl Publisher for DemoPublisher {
    fn publish<'a>(
        &'a self,
        key: &'a str,
        request: &'a PublishRequest,
    ) -> BoxFuture<'a, Result<String, DeliveryError>> {
        Box::pin(async move {
            self.trouble(key, &request.in_reply_to)?;
            let id = format!("demo:{key}");
            let record = json!({
                "id": id,
                "account": request.account,
                "case": request.case,
                "draft": request.draft,
                "kind": request.kind,
                "in_reply_to": request.in_reply_to,
                "to": request.author.handle,
                "text": request.text,
                "at": Utc::now().to_rfc3339(),
            });
            let recorded = self
                .journal
                .record(key, record)
                .map_err(|e| DeliveryError::retryable(format!("demo journal: {e}")))?;
            Ok(recorded["id"].as_str().unwrap_or(&id).to_owned())
        })
    }

    fn find<'a>(
        &'a self,
        key: &'a str,
        _request: &'a PublishRequest,
    ) -> BoxFuture<'a, Result<Option<String>, DeliveryError>> {
        Box::pin(async move {
            Ok(self
                .journal
                .get(key)
                .and_then(|v| v["id"].as_str().map(str::to_owned)))
        })
    }

    fn act<'a>(&'a self, request: &'a ActRequest) -> BoxFuture<'a, Result<(), DeliveryError>> {
        Box::pin(async move {
            let key = act_key(request);
            if let Some(post) = self.acted_on(request) {
                self.trouble(&key, &post)?;
            }
            let mut record = serde_json::to_value(&request.action)
                .map_err(|e| DeliveryError::permanent(format!("demo network: {e}")))?;
            record["account"] = json!(request.account);
            record["case"] = json!(request.case);
            record["at"] = json!(Utc::now().to_rfc3339());
            self.journal
                .record(&key, record)
                .map_err(|e| DeliveryError::retryable(format!("demo journal: {e}")))?;
            Ok(())
        })
    }
}

/// The journal key of a network action: one record per account, case, action and target.
pub fn act_key(request: &ActRequest) -> String {
    format!(
        "act/{}/{}/{}/{}",
        request.account,
        request.case,
        request.action.key(),
        request.action.target()
    )
}

impl DemoPublisher {
    /// The customer post an action is about: the post itself, or for a deletion the post
    /// our reply answered (as this journal recorded its publication).
    fn acted_on(&self, request: &ActRequest) -> Option<String> {
        match &request.action {
            NetworkAction::Delete { draft, .. } => self
                .journal
                .get(&format!("{}/{draft}", request.account))
                .and_then(|v| v["in_reply_to"].as_str().map(str::to_owned)),
            other => other.post().map(str::to_owned),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn bundled_feed_parses_and_covers_every_simulated_network() {
        let posts = parse_feed(BUNDLED_FEED, "bundled");
        assert_eq!(
            posts.len(),
            BUNDLED_FEED
                .lines()
                .filter(|l| !l.trim().is_empty())
                .count()
        );
        for platform in Platform::NETWORKS {
            assert!(
                posts.iter().any(|p| p.platform == Some(platform)),
                "{platform}"
            );
        }
        assert!(posts.iter().any(|p| p.kind == PostKind::DirectMessage));
        assert!(
            posts.iter().any(|p| p.conversation.is_some()),
            "follow-ups in the same conversation"
        );
    }

    #[tokio::test]
    async fn actions_are_journaled_once_and_honour_the_feed_trouble() {
        let dir = tempfile::tempdir().unwrap();
        let feed = dir.path().join("feed.jsonl");
        std::fs::write(
            &feed,
            concat!(
                "{\"id\":\"p1\",\"kind\":\"mention\",\"author\":{\"id\":\"1\",\"handle\":\"h\"},\"text\":\"t\"}\n",
                "{\"id\":\"p2\",\"kind\":\"mention\",\"author\":{\"id\":\"1\",\"handle\":\"h\"},\"text\":\"t\",\"trouble\":{\"refuse\":\"gone\"}}\n",
            ),
        )
        .unwrap();
        let journal = DemoPublisher::open(dir.path()).unwrap();
        let demo = DemoSource {
            platform: Platform::X,
            pace: std::time::Duration::ZERO,
            feed: Some(feed),
        };
        let publisher = DemoPublisher::new(Arc::clone(&journal), &demo);
        let request = |action| ActRequest {
            account: "a".to_owned(),
            case: 3,
            action,
            target: None,
        };
        let like = request(NetworkAction::Like {
            post: "p1".to_owned(),
        });
        publisher.act(&like).await.unwrap();
        publisher.act(&like).await.unwrap();
        assert_eq!(journal.len(), 1, "a repeated like is recorded once");
        let record = journal.get("act/a/3/like/p1").unwrap();
        assert_eq!(
            (&record["action"], &record["post"]),
            (&json!("like"), &json!("p1"))
        );

        let refused = publisher
            .act(&request(NetworkAction::Repost {
                post: "p2".to_owned(),
            }))
            .await
            .unwrap_err();
        assert_eq!(refused, DeliveryError::permanent("gone"));

        // Deleting our reply to the troubled post is refused too: the journal knows what the
        // reply answered (as a publication records it).
        journal
            .record("a/3.1", json!({"id": "demo:a/3.1", "in_reply_to": "p2"}))
            .unwrap();
        let delete = request(NetworkAction::Delete {
            draft: "3.1".to_owned(),
            id: "demo:a/3.1".to_owned(),
        });
        assert!(publisher.act(&delete).await.is_err());
        assert_eq!(journal.len(), 2, "nothing recorded for refused actions");
    }

    #[test]
    fn malformed_lines_are_skipped() {
        let posts = parse_feed(
            "{not json}\n{\"id\":\"a\",\"kind\":\"mention\",\"author\":{\"id\":\"1\",\"handle\":\"h\"},\"text\":\"t\"}\n",
            "test",
        );
        assert_eq!(posts.len(), 1);
    }
}

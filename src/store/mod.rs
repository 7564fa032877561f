//! The sled store: cases, their indexes, audit trail, source cursors and the
//! outbox of pending effects.
//!
//! Owns the on-disk layout and its schema version, and the one rule that
//! makes carebridge crash-safe: a state change, its audit lines, its index
//! entries and the effects it causes are written in **one** transaction.
//! Must not decide anything about the workflow; it stores what the engine
//! returned.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};

use crate::engine::{AuditEntry, Case, Effect, Lookup};

/// Layout version written into the data dir. Bump it with a migration.
pub const SCHEMA_VERSION: u64 = 1;

/// Caps sled's page cache; its 1 GiB default is far more than a bot needs.
const CACHE_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the data dir {0} is in use by a running carebridge; stop the bot first (or point --config at another data_dir)"
    )]
    Locked(PathBuf),
    #[error(
        "the data dir {dir} was written by a newer carebridge (schema {found}, this binary knows {known}); upgrade carebridge"
    )]
    NewerSchema {
        dir: PathBuf,
        found: u64,
        known: u64,
    },
    #[error("there is no data dir at {0} yet: run the bot first, or check bot.data_dir")]
    Missing(PathBuf),
    #[error("storage error: {0}")]
    Sled(#[from] sled::Error),
    #[error("unreadable {tree} record {key}: {source}")]
    Corrupt {
        tree: &'static str,
        key: String,
        source: serde_json::Error,
    },
}

/// A pending effect in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    #[serde(skip)]
    pub id: u64,
    pub case: u64,
    pub effect: Effect,
    /// Attempts made so far; > 0 means an earlier attempt's outcome may be unknown.
    #[serde(default)]
    pub attempts: u32,
    /// Not to be tried before this time (backoff).
    #[serde(default)]
    pub not_before: Option<DateTime<Utc>>,
    #[serde(default)]
    pub last_error: Option<String>,
}

/// An index entry written with a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Index {
    /// A post's dedupe key → case.
    Post(String),
    /// A conversation key → its latest case.
    Conversation(String),
    /// A chat thread id → case.
    Thread(String),
    /// A chat message id → (case, draft), so reactions find their draft.
    Message { message: String, draft: String },
    /// Text this account published (NFC), for duplicate checks.
    Published { account: String, text: String },
}

/// Everything one step writes, committed atomically.
#[derive(Debug, Default)]
pub struct Write<'a> {
    pub case: Option<&'a Case>,
    pub audit: &'a [AuditEntry],
    pub effects: &'a [Effect],
    pub indexes: Vec<Index>,
    /// The outbox entry this step completes.
    pub done: Option<u64>,
    /// An inbound event id to remember (dedupe of chat/webhook deliveries).
    pub seen: Option<String>,
    /// A source cursor to advance with this step.
    pub cursor: Option<(String, String)>,
}

/// The trees, in the order the transaction receives them.
const TREES: [&str; 12] = [
    "meta",
    "cases",
    "active",
    "posts",
    "conversations",
    "threads",
    "messages",
    "audit",
    "outbox",
    "published",
    "seen",
    "cursors",
];
const META: usize = 0;
const CASES: usize = 1;
const ACTIVE: usize = 2;
const POSTS: usize = 3;
const CONVERSATIONS: usize = 4;
const THREADS: usize = 5;
const MESSAGES: usize = 6;
const AUDIT: usize = 7;
const OUTBOX: usize = 8;
const PUBLISHED: usize = 9;
const SEEN: usize = 10;
const CURSORS: usize = 11;

const NEXT_CASE: &[u8] = b"next_case";
const SCHEMA: &[u8] = b"schema_version";
const EFFECTS_TOTAL: &[u8] = b"effects_total";

/// The carebridge database.
#[derive(Clone)]
pub struct Store {
    db: sled::Db,
    trees: Vec<sled::Tree>,
    dir: PathBuf,
}

fn u64_value(bytes: Option<sled::IVec>) -> u64 {
    bytes
        .and_then(|b| <[u8; 8]>::try_from(b.as_ref()).ok())
        .map_or(0, u64::from_be_bytes)
}

fn decode<T: for<'de> Deserialize<'de>>(
    tree: &'static str,
    key: &[u8],
    bytes: &[u8],
) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|source| StoreError::Corrupt {
        tree,
        key: String::from_utf8_lossy(key).into_owned(),
        source,
    })
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // Our own types serialize infallibly (no maps with non-string keys).
    serde_json::to_vec(value).unwrap_or_default()
}

fn pair(a: u64, b: u64) -> [u8; 16] {
    let mut key = [0u8; 16];
    key[..8].copy_from_slice(&a.to_be_bytes());
    key[8..].copy_from_slice(&b.to_be_bytes());
    key
}

impl Store {
    /// Opens (creating if needed) the store under `dir`.
    pub fn open(dir: &Path, flush_every: Duration) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Sled(sled::Error::Io(e)))?;
        let flush_ms = u64::try_from(flush_every.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let db = sled::Config::new()
            .path(dir.join("db"))
            .cache_capacity(CACHE_BYTES)
            .flush_every_ms(Some(flush_ms))
            .open()
            .map_err(|e| match e {
                sled::Error::Io(io) if io.to_string().contains("could not acquire lock") => {
                    StoreError::Locked(dir.to_owned())
                }
                other => StoreError::Sled(other),
            })?;
        let trees = TREES
            .iter()
            .map(|name| db.open_tree(name))
            .collect::<Result<Vec<_>, _>>()?;
        let store = Store {
            db,
            trees,
            dir: dir.to_owned(),
        };
        store.check_schema()?;
        Ok(store)
    }

    /// Opens an existing store for the read-only CLI commands.
    pub fn open_existing(dir: &Path) -> Result<Store, StoreError> {
        if !dir.join("db").exists() {
            return Err(StoreError::Missing(dir.to_owned()));
        }
        Store::open(dir, Duration::from_millis(500))
    }

    fn check_schema(&self) -> Result<(), StoreError> {
        let meta = &self.trees[META];
        match meta.get(SCHEMA)? {
            None => {
                meta.insert(SCHEMA, &SCHEMA_VERSION.to_be_bytes())?;
            }
            Some(v) => {
                let found = u64_value(Some(v));
                if found > SCHEMA_VERSION {
                    return Err(StoreError::NewerSchema {
                        dir: self.dir.clone(),
                        found,
                        known: SCHEMA_VERSION,
                    });
                }
            }
        }
        Ok(())
    }

    /// Overwrites the schema version (tests and future migrations).
    pub fn set_schema_version(&self, version: u64) -> Result<(), StoreError> {
        self.trees[META].insert(SCHEMA, &version.to_be_bytes())?;
        Ok(())
    }

    /// Writes everything to disk now.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }

    /// Writes everything to disk, without blocking the async runtime.
    pub async fn flush_async(&self) -> Result<(), StoreError> {
        self.db.flush_async().await?;
        Ok(())
    }

    /// The number the next new case gets.
    pub fn next_case_number(&self) -> Result<u64, StoreError> {
        Ok(u64_value(self.trees[META].get(NEXT_CASE)?).max(1))
    }

    /// How many effects were ever queued (a counter for tests and metrics).
    pub fn effects_total(&self) -> Result<u64, StoreError> {
        Ok(u64_value(self.trees[META].get(EFFECTS_TOTAL)?))
    }

    pub fn case(&self, number: u64) -> Result<Option<Case>, StoreError> {
        let key = number.to_be_bytes();
        self.trees[CASES]
            .get(key)?
            .map(|v| decode("cases", &key, &v))
            .transpose()
    }

    /// All cases, in number order.
    pub fn cases(&self) -> impl Iterator<Item = Result<Case, StoreError>> + '_ {
        self.trees[CASES].iter().map(|item| {
            let (k, v) = item?;
            decode("cases", &k, &v)
        })
    }

    /// Cases that are not closed, in number order.
    pub fn active_cases(&self) -> impl Iterator<Item = Result<Case, StoreError>> + '_ {
        self.trees[ACTIVE]
            .iter()
            .filter_map(move |item| match item {
                Ok((k, _)) => self.case(u64_value(Some(k))).transpose(),
                Err(e) => Some(Err(e.into())),
            })
    }

    pub fn audit(&self, number: u64) -> Result<Vec<AuditEntry>, StoreError> {
        self.trees[AUDIT]
            .scan_prefix(number.to_be_bytes())
            .map(|item| {
                let (k, v) = item?;
                decode("audit", &k, &v)
            })
            .collect()
    }

    fn lookup_u64(&self, tree: usize, key: &str) -> Result<Option<u64>, StoreError> {
        Ok(self.trees[tree].get(key)?.map(|v| u64_value(Some(v))))
    }

    /// The case a post was ingested into, if it was.
    pub fn case_for_post(&self, dedupe_key: &str) -> Result<Option<u64>, StoreError> {
        self.lookup_u64(POSTS, dedupe_key)
    }

    /// The latest case of a conversation key.
    pub fn case_for_conversation(&self, key: &str) -> Result<Option<u64>, StoreError> {
        self.lookup_u64(CONVERSATIONS, key)
    }

    pub fn case_for_thread(&self, thread: &str) -> Result<Option<u64>, StoreError> {
        self.lookup_u64(THREADS, thread)
    }

    /// The (case, draft) a chat message shows.
    pub fn draft_for_message(&self, message: &str) -> Result<Option<(u64, String)>, StoreError> {
        self.trees[MESSAGES]
            .get(message)?
            .map(|v| decode("messages", message.as_bytes(), &v))
            .transpose()
    }

    /// Has this inbound event id been handled already?
    pub fn seen(&self, event: &str) -> Result<bool, StoreError> {
        Ok(self.trees[SEEN].contains_key(event)?)
    }

    pub fn cursor(&self, source: &str) -> Result<Option<String>, StoreError> {
        Ok(self.trees[CURSORS]
            .get(source)?
            .map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    /// Pending outbox entries, oldest first.
    pub fn outbox(&self) -> Result<Vec<OutboxEntry>, StoreError> {
        self.trees[OUTBOX]
            .iter()
            .map(|item| {
                let (k, v) = item?;
                let mut entry: OutboxEntry = decode("outbox", &k, &v)?;
                entry.id = u64_value(Some(k));
                Ok(entry)
            })
            .collect()
    }

    /// Records a failed attempt and when to try again.
    pub fn reschedule(&self, entry: &OutboxEntry) -> Result<(), StoreError> {
        let key = entry.id.to_be_bytes();
        // Only if it is still pending: it may have been completed meanwhile.
        let tree = &self.trees[OUTBOX];
        if tree.contains_key(key)? {
            tree.insert(key, encode(entry))?;
        }
        Ok(())
    }

    /// Commits one step atomically. Returns the ids of the outbox entries it queued.
    pub fn commit(&self, write: &Write<'_>) -> Result<Vec<u64>, StoreError> {
        let trees: Vec<&sled::Tree> = self.trees.iter().collect();
        // The closure may run again on conflict, so it only writes.
        let result = trees.as_slice().transaction(|t| Self::write_in(t, write));
        result.map_err(|e| match e {
            TransactionError::Abort(e) | TransactionError::Storage(e) => StoreError::Sled(e),
        })
    }

    fn write_in(
        t: &[TransactionalTree],
        write: &Write<'_>,
    ) -> Result<Vec<u64>, ConflictableTransactionError<sled::Error>> {
        let mut queued = Vec::with_capacity(write.effects.len());
        if let Some(case) = write.case {
            let key = case.number.to_be_bytes();
            t[CASES].insert(&key, encode(case))?;
            if case.status == crate::engine::Status::Closed {
                t[ACTIVE].remove(&key)?;
            } else {
                t[ACTIVE].insert(&key, &[])?;
            }
            let next = u64_value(t[META].get(NEXT_CASE)?).max(1);
            if case.number >= next {
                t[META].insert(NEXT_CASE, &(case.number + 1).to_be_bytes())?;
            }
            for entry in write.audit {
                let id = t[AUDIT].generate_id()?;
                t[AUDIT].insert(&pair(case.number, id), encode(entry))?;
            }
            for effect in write.effects {
                let id = t[OUTBOX].generate_id()?;
                let entry = OutboxEntry {
                    id,
                    case: case.number,
                    effect: effect.clone(),
                    attempts: 0,
                    not_before: None,
                    last_error: None,
                };
                t[OUTBOX].insert(&id.to_be_bytes(), encode(&entry))?;
                queued.push(id);
            }
            if !write.effects.is_empty() {
                let total = u64_value(t[META].get(EFFECTS_TOTAL)?) + write.effects.len() as u64;
                t[META].insert(EFFECTS_TOTAL, &total.to_be_bytes())?;
            }
            for index in &write.indexes {
                match index {
                    Index::Post(k) => t[POSTS].insert(k.as_bytes(), &key)?,
                    Index::Conversation(k) => t[CONVERSATIONS].insert(k.as_bytes(), &key)?,
                    Index::Thread(k) => t[THREADS].insert(k.as_bytes(), &key)?,
                    Index::Message { message, draft } => {
                        t[MESSAGES].insert(message.as_bytes(), encode(&(case.number, draft)))?
                    }
                    Index::Published { account, text } => {
                        t[PUBLISHED].insert(format!("{account}\u{0}{text}").as_bytes(), &key)?
                    }
                };
            }
        }
        if let Some(done) = write.done {
            t[OUTBOX].remove(&done.to_be_bytes())?;
        }
        if let Some((source, value)) = &write.cursor {
            t[CURSORS].insert(source.as_bytes(), value.as_bytes())?;
        }
        if let Some(event) = &write.seen {
            t[SEEN].insert(event.as_bytes(), &Utc::now().timestamp().to_be_bytes())?;
        }
        Ok(queued)
    }
}

impl Lookup for Store {
    fn published_on_account(&self, account: &str, text: &str) -> bool {
        self.trees[PUBLISHED]
            .contains_key(format!("{account}\u{0}{text}"))
            .unwrap_or(false)
    }
}

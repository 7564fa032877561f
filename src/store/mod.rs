//! The sled store: cases, their indexes, audit trail, source cursors and the
//! outbox of pending effects.
//!
//! Owns the on-disk layout and its schema version, and the one rule that
//! makes carebridge crash-safe: a state change, its audit lines, its index
//! entries and the effects it causes are written in **one** transaction.
//! Must not decide anything about the workflow; it stores what the engine
//! returned.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};

use crate::engine::{AuditEntry, Case, DraftState, Effect, Lookup, Platform, Status};

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

/// Counts of what the store holds now, for the `/metrics` gauges.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tally {
    /// Cases that are not closed, by status and network.
    pub cases: HashMap<(Status, Platform), u64>,
    /// Drafts on cases that are not closed, by state.
    pub drafts: HashMap<DraftState, u64>,
    /// Pending outbox entries.
    pub outbox: u64,
}

/// The few fields of a stored case that [`Store::tally`] counts; the rest is skipped unread.
#[derive(Deserialize)]
struct CaseHead {
    status: Status,
    platform: Platform,
    #[serde(default)]
    drafts: Vec<DraftHead>,
}

#[derive(Deserialize)]
struct DraftHead {
    state: DraftState,
}

/// The trees, in the order the transaction receives them. Small lookups
/// share one `index` tree under a one-byte prefix: every tree a transaction
/// spans costs time at commit.
const TREES: [&str; 6] = ["meta", "cases", "active", "index", "audit", "outbox"];
const META: usize = 0;
const CASES: usize = 1;
const ACTIVE: usize = 2;
const INDEX: usize = 3;
const AUDIT: usize = 4;
const OUTBOX: usize = 5;

/// Prefixes of the `index` tree.
const POST: u8 = b'p';
const CONVERSATION: u8 = b'c';
const THREAD: u8 = b't';
const MESSAGE: u8 = b'm';
const PUBLISHED: u8 = b'x';
const SEEN: u8 = b's';
const CURSOR: u8 = b'k';
/// Credentials a connector obtained at run time (refreshed tokens, learned ids). Kept apart
/// from cursors so that nothing that lists or exports store contents can reach them by accident.
const CREDENTIAL: u8 = b'o';

const NEXT_CASE: &[u8] = b"next_case";
const NEXT_ID: &[u8] = b"next_id";
const SCHEMA: &[u8] = b"schema_version";
const EFFECTS_TOTAL: &[u8] = b"effects_total";

fn index_key(prefix: u8, key: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(key.len() + 1);
    k.push(prefix);
    k.extend_from_slice(key.as_bytes());
    k
}

/// Counters kept in memory and written (never read) inside transactions:
/// a read inside a sled transaction is what makes it slow. Only the service,
/// one writer at a time, commits steps that move them.
#[derive(Default)]
struct Counters {
    next_case: AtomicU64,
    next_id: AtomicU64,
    effects_total: AtomicU64,
}

/// The carebridge database.
#[derive(Clone)]
pub struct Store {
    db: sled::Db,
    trees: Vec<sled::Tree>,
    counters: Arc<Counters>,
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
        let meta = &trees[META];
        let counters = Counters {
            next_case: AtomicU64::new(u64_value(meta.get(NEXT_CASE)?).max(1)),
            next_id: AtomicU64::new(u64_value(meta.get(NEXT_ID)?).max(1)),
            effects_total: AtomicU64::new(u64_value(meta.get(EFFECTS_TOTAL)?)),
        };
        let store = Store {
            db,
            trees,
            counters: Arc::new(counters),
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
        Ok(self.counters.next_case.load(Ordering::SeqCst))
    }

    /// How many effects were ever queued (a counter for tests and metrics).
    pub fn effects_total(&self) -> Result<u64, StoreError> {
        Ok(self.counters.effects_total.load(Ordering::SeqCst))
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

    fn lookup_u64(&self, prefix: u8, key: &str) -> Result<Option<u64>, StoreError> {
        Ok(self.trees[INDEX]
            .get(index_key(prefix, key))?
            .map(|v| u64_value(Some(v))))
    }

    /// The case a post was ingested into, if it was.
    pub fn case_for_post(&self, dedupe_key: &str) -> Result<Option<u64>, StoreError> {
        self.lookup_u64(POST, dedupe_key)
    }

    /// The latest case of a conversation key.
    pub fn case_for_conversation(&self, key: &str) -> Result<Option<u64>, StoreError> {
        self.lookup_u64(CONVERSATION, key)
    }

    pub fn case_for_thread(&self, thread: &str) -> Result<Option<u64>, StoreError> {
        self.lookup_u64(THREAD, thread)
    }

    /// The (case, draft) a chat message shows.
    pub fn draft_for_message(&self, message: &str) -> Result<Option<(u64, String)>, StoreError> {
        self.trees[INDEX]
            .get(index_key(MESSAGE, message))?
            .map(|v| decode("messages", message.as_bytes(), &v))
            .transpose()
    }

    /// Has this inbound event id been handled already?
    pub fn seen(&self, event: &str) -> Result<bool, StoreError> {
        Ok(self.trees[INDEX].contains_key(index_key(SEEN, event))?)
    }

    pub fn cursor(&self, source: &str) -> Result<Option<String>, StoreError> {
        Ok(self.trees[INDEX]
            .get(index_key(CURSOR, source))?
            .map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    /// A credential a connector stored earlier (see [`Store::set_credential`]).
    pub fn credential(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self.trees[INDEX]
            .get(index_key(CREDENTIAL, key))?
            .map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    /// Stores a credential and flushes at once: a rotated refresh token that is lost in a crash
    /// cannot be recovered (the old one no longer works).
    pub fn set_credential(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.trees[INDEX].insert(index_key(CREDENTIAL, key), value.as_bytes())?;
        self.db.flush()?;
        Ok(())
    }

    /// Counts cases that are not closed (by status and network), their drafts (by state) and
    /// the outbox. Closed cases are left out: they grow without bound, and reading them all on
    /// every scrape would not be cheap; the active set and the outbox stay small.
    pub fn tally(&self) -> Result<Tally, StoreError> {
        let mut tally = Tally::default();
        for item in self.trees[ACTIVE].iter() {
            let (key, _) = item?;
            let Some(bytes) = self.trees[CASES].get(&key)? else {
                continue;
            };
            let head: CaseHead = decode("cases", &key, &bytes)?;
            *tally.cases.entry((head.status, head.platform)).or_default() += 1;
            for draft in head.drafts {
                *tally.drafts.entry(draft.state).or_default() += 1;
            }
        }
        tally.outbox = self.trees[OUTBOX].len() as u64;
        Ok(tally)
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
        let value = encode(entry);
        // Only if it is still pending: it may have been completed meanwhile,
        // and a completed entry must not come back.
        self.trees[OUTBOX]
            .update_and_fetch(entry.id.to_be_bytes(), |old| old.map(|_| value.clone()))?;
        Ok(())
    }

    /// Commits one step atomically. Returns the ids of the outbox entries it queued.
    pub fn commit(&self, write: &Write<'_>) -> Result<Vec<u64>, StoreError> {
        self.commit_all(std::slice::from_ref(write))
    }

    /// Commits several steps in one transaction, in order (a later step on
    /// the same case overwrites the earlier state). Used for pages of posts.
    pub fn commit_all(&self, writes: &[Write<'_>]) -> Result<Vec<u64>, StoreError> {
        let mut effects_total = self.counters.effects_total.load(Ordering::SeqCst);
        let mut next_case = self.counters.next_case.load(Ordering::SeqCst);
        let plans: Vec<Plan> = writes
            .iter()
            .map(|w| Plan::new(&self.counters, w, &mut next_case, &mut effects_total))
            .collect();
        let trees: Vec<&sled::Tree> = self.trees.iter().collect();
        // The closure may run again on conflict, so it only writes; the ids
        // it uses were reserved above and stay the same across re-runs.
        let result = trees.as_slice().transaction(|t| {
            for (write, plan) in writes.iter().zip(&plans) {
                write_in(t, write, plan)?;
            }
            Ok(())
        });
        match result {
            Ok(()) => {
                self.counters
                    .next_case
                    .fetch_max(next_case, Ordering::SeqCst);
                self.counters
                    .effects_total
                    .store(effects_total, Ordering::SeqCst);
                Ok(plans.iter().flat_map(Plan::outbox_ids).collect())
            }
            Err(TransactionError::Abort(e) | TransactionError::Storage(e)) => {
                Err(StoreError::Sled(e))
            }
        }
    }
}

/// The numbers one commit uses, fixed before its transaction starts.
struct Plan {
    first_id: u64,
    audit: usize,
    effects: usize,
    next_case: Option<u64>,
    effects_total: u64,
}

impl Plan {
    /// Reserves the ids of one write; `next_case` and `effects_total` run
    /// on across the writes of one transaction.
    fn new(
        counters: &Counters,
        write: &Write<'_>,
        next_case: &mut u64,
        effects_total: &mut u64,
    ) -> Plan {
        let (audit, effects) = match write.case {
            Some(_) => (write.audit.len(), write.effects.len()),
            None => (0, 0),
        };
        let ids = (audit + effects) as u64;
        let first_id = counters.next_id.fetch_add(ids, Ordering::SeqCst);
        let moved = write
            .case
            .map(|c| c.number + 1)
            .filter(|next| *next > *next_case);
        if let Some(next) = moved {
            *next_case = next;
        }
        *effects_total += effects as u64;
        Plan {
            first_id,
            audit,
            effects,
            next_case: moved,
            effects_total: *effects_total,
        }
    }

    fn outbox_ids(&self) -> Vec<u64> {
        let first = self.first_id + self.audit as u64;
        (first..first + self.effects as u64).collect()
    }
}

fn write_in(
    t: &[TransactionalTree],
    write: &Write<'_>,
    plan: &Plan,
) -> Result<(), ConflictableTransactionError<sled::Error>> {
    if let Some(case) = write.case {
        let key = case.number.to_be_bytes();
        t[CASES].insert(&key, encode(case))?;
        if case.status == crate::engine::Status::Closed {
            t[ACTIVE].remove(&key)?;
        } else {
            t[ACTIVE].insert(&key, &[])?;
        }
        if let Some(next) = plan.next_case {
            t[META].insert(NEXT_CASE, &next.to_be_bytes())?;
        }
        let mut id = plan.first_id;
        for entry in write.audit {
            t[AUDIT].insert(&pair(case.number, id), encode(entry))?;
            id += 1;
        }
        for effect in write.effects {
            let entry = OutboxEntry {
                id,
                case: case.number,
                effect: effect.clone(),
                attempts: 0,
                not_before: None,
                last_error: None,
            };
            t[OUTBOX].insert(&id.to_be_bytes(), encode(&entry))?;
            id += 1;
        }
        if id > plan.first_id {
            t[META].insert(NEXT_ID, &id.to_be_bytes())?;
        }
        if !write.effects.is_empty() {
            t[META].insert(EFFECTS_TOTAL, &plan.effects_total.to_be_bytes())?;
        }
        for index in &write.indexes {
            let (k, v) = match index {
                Index::Post(k) => (index_key(POST, k), key.to_vec()),
                Index::Conversation(k) => (index_key(CONVERSATION, k), key.to_vec()),
                Index::Thread(k) => (index_key(THREAD, k), key.to_vec()),
                Index::Message { message, draft } => {
                    (index_key(MESSAGE, message), encode(&(case.number, draft)))
                }
                Index::Published { account, text } => (
                    index_key(PUBLISHED, &format!("{account}\u{0}{text}")),
                    key.to_vec(),
                ),
            };
            t[INDEX].insert(k, v)?;
        }
    }
    if let Some(done) = write.done {
        t[OUTBOX].remove(&done.to_be_bytes())?;
    }
    if let Some((source, value)) = &write.cursor {
        t[INDEX].insert(index_key(CURSOR, source), value.as_bytes())?;
    }
    if let Some(event) = &write.seen {
        t[INDEX].insert(
            index_key(SEEN, event),
            &Utc::now().timestamp().to_be_bytes(),
        )?;
    }
    Ok(())
}

impl Lookup for Store {
    fn published_on_account(&self, account: &str, text: &str) -> bool {
        self.trees[INDEX]
            .contains_key(index_key(PUBLISHED, &format!("{account}\u{0}{text}")))
            .unwrap_or(false)
    }
}

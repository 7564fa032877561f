//! Store contract tests: what one commit writes is durable across a reopen and visible as a
//! whole, the outbox behaves as the dispatcher relies on, the schema version and the data dir
//! lock are enforced with clear messages, and the service's ingest dedupes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/run.rs"]
mod run;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use carebridge::config::Config;
use carebridge::engine::{
    self, Actor, AuditEntry, Author, CanDm, Case, Command as EngineCommand, Ctx, Effect, Ingested,
    Input, Lookup, Notice, Permission, Platform, PostKind, SocialPost, Status,
};
use carebridge::service::{Applied, IngestResult, Service};
use carebridge::store::{Index, OutboxEntry, SCHEMA_VERSION, Store, StoreError, Write};
use chrono::{DateTime, TimeZone, Utc};
use run::Running;

const FLUSH: Duration = Duration::from_millis(10);

const CONFIG: &str = r#"
[chat.console]
approvers = ["lee"]

[[accounts]]
id = "acme-x"
network = "demo"
simulate = "x"
"#;

fn config() -> Config {
    Config::from_toml_str(CONFIG, Path::new("/nonexistent"), &|_| None)
        .unwrap_or_else(|e| panic!("test config rejected:\n{e}"))
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 0).unwrap()
}

fn post(id: &str, author: &str, conversation: &str, text: &str) -> SocialPost {
    SocialPost {
        platform: Platform::Demo,
        account: "acme-x".to_owned(),
        id: id.to_owned(),
        conversation_id: conversation.to_owned(),
        author: Author {
            id: format!("u-{author}"),
            handle: author.to_owned(),
            name: None,
        },
        kind: PostKind::Mention,
        text: text.to_owned(),
        permalink: None,
        created_at: now() - chrono::TimeDelta::minutes(5),
        can_dm: CanDm::Unknown,
        reply_by: None,
        queue: None,
        parent: None,
        reference: None,
    }
}

/// A lookup that knows nothing (the engine only asks it about X duplicates).
struct Nothing;

impl Lookup for Nothing {
    fn published_on_account(&self, _account: &str, _text: &str) -> bool {
        false
    }
}

/// A real case, as the engine opens it, numbered `number`.
fn new_case(config: &Config, number: u64, author: &str) -> Case {
    let ctx = Ctx {
        now: now(),
        config,
        lookup: &Nothing,
    };
    let post = post(&format!("p{number}"), author, &format!("c{number}"), "help");
    match engine::ingest(&post, None, number, &ctx) {
        Ingested::Opened(t) => t.case,
        other => panic!("expected a new case, got {other:?}"),
    }
}

fn audit(actor: &str, action: &str) -> AuditEntry {
    AuditEntry {
        at: now(),
        actor: actor.to_owned(),
        action: action.to_owned(),
        details: Some(format!("{actor} {action}")),
    }
}

fn maria() -> Actor {
    Actor {
        id: "maria".to_owned(),
        agent: true,
        approver: false,
    }
}

fn command(command: EngineCommand) -> Input {
    Input::Command {
        actor: maria(),
        command,
        required: Permission::Agent,
        in_thread: true,
    }
}

fn open(dir: &Path) -> Store {
    Store::open(dir, FLUSH).unwrap_or_else(|e| panic!("open {}: {e}", dir.display()))
}

/// Opens a store that this process has just dropped. sled 0.34 releases its file lock from a
/// background thread shortly *after* the last handle is dropped (spacejam/sled#1234, #1289),
/// so an immediate reopen in the same process may briefly see `Locked`: wait for it to go.
/// (A process that exits releases the lock at once; only in-process reopening needs this.)
fn reopen_result(dir: &Path) -> Result<Store, StoreError> {
    once_unlocked(|| Store::open(dir, FLUSH))
}

fn once_unlocked(open: impl Fn() -> Result<Store, StoreError>) -> Result<Store, StoreError> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match open() {
            Err(StoreError::Locked(_)) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10));
            }
            other => return other,
        }
    }
}

fn reopen(dir: &Path) -> Store {
    reopen_result(dir).unwrap_or_else(|e| panic!("reopen {}: {e}", dir.display()))
}

fn numbers(cases: impl Iterator<Item = Result<Case, StoreError>>) -> Vec<u64> {
    cases.map(|c| c.unwrap().number).collect()
}

fn effects_of(outbox: &[OutboxEntry]) -> Vec<(u64, Effect)> {
    outbox.iter().map(|e| (e.case, e.effect.clone())).collect()
}

#[test]
fn a_committed_step_is_all_there_after_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let config = config();
    let one = new_case(&config, 1, "ana");
    let mut two = new_case(&config, 2, "bo");
    let three = new_case(&config, 3, "cy");
    let audit_one = [audit("customer", "opened"), audit("maria", "claimed")];
    let effects_one = [
        Effect::Card,
        Effect::Thread {
            notice: Notice::Claimed {
                by: "maria".to_owned(),
            },
        },
        Effect::ShowDraft {
            draft: "1.1".to_owned(),
        },
    ];
    {
        let store = open(dir.path());
        assert_eq!(store.next_case_number().unwrap(), 1, "an empty store");
        assert_eq!(store.effects_total().unwrap(), 0);
        let queued = store
            .commit(&Write {
                case: Some(&one),
                audit: &audit_one,
                effects: &effects_one,
                indexes: vec![
                    Index::Post("demo/acme-x/p1".to_owned()),
                    Index::Conversation("demo/acme-x/u-ana/c1".to_owned()),
                    Index::Thread("thread-1".to_owned()),
                    Index::Message {
                        message: "msg-1".to_owned(),
                        draft: "1.1".to_owned(),
                    },
                    Index::Published {
                        account: "acme-x".to_owned(),
                        text: "Sorry about that!".to_owned(),
                    },
                ],
                seen: Some("event-1".to_owned()),
                cursor: Some(("demo:acme-x".to_owned(), "7".to_owned())),
                ..Write::default()
            })
            .unwrap();
        assert_eq!(queued.len(), 3);
        store
            .commit(&Write {
                case: Some(&two),
                audit: &[audit("customer", "opened")],
                effects: &[Effect::Card],
                ..Write::default()
            })
            .unwrap();
        // A later step on case 1 appends to its audit trail and outbox.
        store
            .commit(&Write {
                case: Some(&one),
                audit: &[audit("lee", "approved")],
                effects: &[Effect::Publish {
                    draft: "1.1".to_owned(),
                }],
                ..Write::default()
            })
            .unwrap();
        // Case 2 is closed; case 3 stays active.
        two.status = Status::Closed;
        two.closed_at = Some(now());
        store
            .commit(&Write {
                case: Some(&two),
                audit: &[audit("maria", "closed")],
                ..Write::default()
            })
            .unwrap();
        store
            .commit(&Write {
                case: Some(&three),
                ..Write::default()
            })
            .unwrap();
        // Dropped without an explicit flush: closing the store must not lose what was committed.
    }

    let store = reopen(dir.path());
    assert_eq!(store.case(1).unwrap().as_ref(), Some(&one));
    assert_eq!(store.case(2).unwrap().as_ref(), Some(&two));
    assert_eq!(store.case(3).unwrap().as_ref(), Some(&three));
    assert_eq!(store.case(4).unwrap(), None);
    assert_eq!(numbers(store.cases()), [1, 2, 3]);
    assert_eq!(
        numbers(store.active_cases()),
        [1, 3],
        "a closed case leaves the active set"
    );

    assert_eq!(
        store.audit(1).unwrap(),
        [
            audit("customer", "opened"),
            audit("maria", "claimed"),
            audit("lee", "approved")
        ],
        "audit entries in the order they were committed"
    );
    assert_eq!(
        store.audit(2).unwrap(),
        [audit("customer", "opened"), audit("maria", "closed")]
    );
    assert!(store.audit(3).unwrap().is_empty());

    let outbox = store.outbox().unwrap();
    let mut expected: Vec<(u64, Effect)> = effects_one.iter().map(|e| (1, e.clone())).collect();
    expected.push((2, Effect::Card));
    expected.push((
        1,
        Effect::Publish {
            draft: "1.1".to_owned(),
        },
    ));
    assert_eq!(effects_of(&outbox), expected, "outbox oldest first");
    let mut ids: Vec<u64> = outbox.iter().map(|e| e.id).collect();
    ids.dedup();
    assert_eq!(ids.len(), 5, "every entry has its own id: {ids:?}");
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    assert!(
        outbox
            .iter()
            .all(|e| e.attempts == 0 && e.not_before.is_none() && e.last_error.is_none())
    );

    assert_eq!(store.case_for_post("demo/acme-x/p1").unwrap(), Some(1));
    assert_eq!(store.case_for_post("demo/acme-x/p2").unwrap(), None);
    assert_eq!(
        store.case_for_conversation("demo/acme-x/u-ana/c1").unwrap(),
        Some(1)
    );
    assert_eq!(store.case_for_conversation("nope").unwrap(), None);
    assert_eq!(store.case_for_thread("thread-1").unwrap(), Some(1));
    assert_eq!(store.case_for_thread("thread-2").unwrap(), None);
    assert_eq!(
        store.draft_for_message("msg-1").unwrap(),
        Some((1, "1.1".to_owned()))
    );
    assert_eq!(store.draft_for_message("msg-2").unwrap(), None);
    assert!(store.published_on_account("acme-x", "Sorry about that!"));
    assert!(!store.published_on_account("acme-x", "Sorry about this!"));
    assert!(!store.published_on_account("acme-fb", "Sorry about that!"));
    assert_eq!(store.cursor("demo:acme-x").unwrap().as_deref(), Some("7"));
    assert_eq!(store.cursor("demo:acme-fb").unwrap(), None);
    assert!(store.seen("event-1").unwrap());
    assert!(!store.seen("event-2").unwrap());
    assert_eq!(store.next_case_number().unwrap(), 4);
    assert_eq!(store.effects_total().unwrap(), 5);
}

#[test]
fn completing_an_outbox_entry_removes_exactly_it_and_reschedule_spares_completed_ones() {
    let dir = tempfile::tempdir().unwrap();
    let config = config();
    let case = new_case(&config, 1, "ana");
    let store = open(dir.path());
    let effects = [
        Effect::Card,
        Effect::ShowDraft {
            draft: "1.1".to_owned(),
        },
        Effect::Publish {
            draft: "1.1".to_owned(),
        },
    ];
    let ids = store
        .commit(&Write {
            case: Some(&case),
            effects: &effects,
            ..Write::default()
        })
        .unwrap();
    assert_eq!(ids.len(), 3);
    assert_eq!(
        store
            .outbox()
            .unwrap()
            .iter()
            .map(|e| e.id)
            .collect::<Vec<_>>(),
        ids
    );

    // A failed attempt is recorded on a pending entry.
    let mut first = store.outbox().unwrap()[0].clone();
    first.attempts = 2;
    first.not_before = Some(now() + chrono::TimeDelta::seconds(30));
    first.last_error = Some("HTTP 503".to_owned());
    store.reschedule(&first).unwrap();

    // Completing the middle entry (with no case change) removes it and nothing else.
    store
        .commit(&Write {
            done: Some(ids[1]),
            ..Write::default()
        })
        .unwrap();
    let outbox = store.outbox().unwrap();
    assert_eq!(
        outbox.iter().map(|e| e.id).collect::<Vec<_>>(),
        [ids[0], ids[2]]
    );
    assert_eq!(outbox[0], first, "the rescheduled entry kept its attempt");
    assert_eq!(outbox[1].effect, effects[2]);
    assert_eq!(outbox[1].attempts, 0);

    // Rescheduling an entry that was completed meanwhile must not bring it back.
    let mut completed = first.clone();
    completed.id = ids[1];
    completed.effect = effects[1].clone();
    store.reschedule(&completed).unwrap();
    assert_eq!(
        store
            .outbox()
            .unwrap()
            .iter()
            .map(|e| e.id)
            .collect::<Vec<_>>(),
        [ids[0], ids[2]]
    );

    // Completing with a case update removes the entry in the same step; effects it queues
    // get new ids after the existing ones.
    let more = store
        .commit(&Write {
            case: Some(&case),
            effects: &[Effect::Card],
            done: Some(ids[0]),
            ..Write::default()
        })
        .unwrap();
    assert_eq!(more.len(), 1);
    assert!(more[0] > ids[2]);
    drop(store);

    let store = reopen(dir.path());
    let outbox = store.outbox().unwrap();
    assert_eq!(
        outbox.iter().map(|e| e.id).collect::<Vec<_>>(),
        [ids[2], more[0]]
    );
    assert_eq!(
        store.effects_total().unwrap(),
        4,
        "a counter of all ever queued"
    );
}

#[test]
fn one_commit_is_seen_whole_by_a_concurrent_reader() {
    const STEPS: u64 = 150;
    let dir = tempfile::tempdir().unwrap();
    let config = config();
    let store = open(dir.path());
    let done = Arc::new(AtomicBool::new(false));
    let checks = Arc::new(AtomicU64::new(0));

    // The reader checks, in both directions, that no piece of a step is visible without the
    // others: pieces are only ever added, so whatever it saw first must be complete by then.
    let reader = {
        let (store, done, checks) = (store.clone(), Arc::clone(&done), Arc::clone(&checks));
        std::thread::spawn(move || {
            while !done.load(Ordering::SeqCst) {
                if let Some(n) = store.cursor("feed").unwrap() {
                    let n: u64 = n.parse().unwrap();
                    assert!(
                        store.case(n).unwrap().is_some(),
                        "cursor {n} without its case"
                    );
                    assert_eq!(store.case_for_post(&format!("p{n}")).unwrap(), Some(n));
                    assert_eq!(
                        store.audit(n).unwrap().len(),
                        1,
                        "case {n} without its audit"
                    );
                    let outbox = store.outbox().unwrap();
                    assert!(
                        outbox.iter().any(|e| e.case == n),
                        "cursor {n} without its outbox entry"
                    );
                    checks.fetch_add(1, Ordering::SeqCst);
                }
                let last = store.cases().last().map(|c| c.unwrap().number);
                if let Some(last) = last {
                    let cursor = store.cursor("feed").unwrap();
                    let cursor: u64 = cursor
                        .unwrap_or_else(|| panic!("case {last} visible without a cursor"))
                        .parse()
                        .unwrap();
                    assert!(cursor >= last, "case {last} visible before cursor {cursor}");
                }
            }
        })
    };

    for n in 1..=STEPS {
        let case = new_case(&config, n, "ana");
        store
            .commit(&Write {
                case: Some(&case),
                audit: &[audit("customer", "opened")],
                effects: &[Effect::Card],
                indexes: vec![Index::Post(format!("p{n}"))],
                cursor: Some(("feed".to_owned(), n.to_string())),
                ..Write::default()
            })
            .unwrap();
        if n == 1 {
            // Make sure the reader is running before the rest is written (a busy machine may
            // not schedule it otherwise).
            let deadline = Instant::now() + Duration::from_secs(30);
            while checks.load(Ordering::SeqCst) == 0 && !reader.is_finished() {
                assert!(Instant::now() < deadline, "the reader never ran");
                std::thread::yield_now();
            }
        }
    }
    done.store(true, Ordering::SeqCst);
    reader.join().expect("the reader saw a partial commit");
    assert!(
        checks.load(Ordering::SeqCst) > 0,
        "the reader never checked"
    );
    assert_eq!(store.outbox().unwrap().len(), STEPS as usize);
    assert_eq!(store.cursor("feed").unwrap(), Some(STEPS.to_string()));
}

#[test]
fn a_refused_input_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let service = Service::new(open(dir.path()), Arc::new(config()));
    let opened = service
        .ingest(&post("p1", "ana", "c1", "My order is late"), None, now())
        .unwrap();
    assert_eq!(opened, IngestResult::Opened(1));
    let store = service.store();
    let snapshot = |store: &Store| {
        (
            serde_json::to_vec(&store.case(1).unwrap().unwrap()).unwrap(),
            store.audit(1).unwrap().len(),
            store.outbox().unwrap(),
            store.effects_total().unwrap(),
            store.next_case_number().unwrap(),
        )
    };
    let before = snapshot(store);

    let refusals = [
        // Nobody owns the case yet.
        command(EngineCommand::Unclaim),
        // An empty reply.
        command(EngineCommand::Reply {
            text: "   ".to_owned(),
        }),
        // Over X's 280.
        command(EngineCommand::Reply {
            text: "a".repeat(281),
        }),
        // Not closed.
        command(EngineCommand::Reopen),
        // Not an agent.
        Input::Command {
            actor: Actor {
                id: "guest".to_owned(),
                agent: false,
                approver: false,
            },
            command: EngineCommand::Claim,
            required: Permission::Agent,
            in_thread: true,
        },
    ];
    for (n, input) in refusals.into_iter().enumerate() {
        let event = format!("event-refused-{n}");
        let applied = service
            .apply(1, input.clone(), Some(event.clone()), now())
            .unwrap();
        assert!(
            matches!(applied, Some(Applied::Refused(_))),
            "{input:?} gave {applied:?}"
        );
        assert_eq!(snapshot(store), before, "{input:?} changed the store");
        // Only the event id is kept, so a redelivery is not refused (and told) twice.
        assert!(store.seen(&event).unwrap());
        let again = service.apply(1, input.clone(), Some(event), now()).unwrap();
        assert_eq!(again, Some(Applied::Nothing), "{input:?} redelivered");
    }

    // An input that is accepted does write, so the snapshot is not blind.
    let claimed = service
        .apply(1, command(EngineCommand::Claim), None, now())
        .unwrap();
    assert!(matches!(claimed, Some(Applied::Changed(_))), "{claimed:?}");
    assert_ne!(snapshot(store), before);
    // And an input for a case that does not exist is reported as such, writing nothing.
    assert_eq!(
        service
            .apply(99, command(EngineCommand::Claim), None, now())
            .unwrap(),
        None
    );
    assert_eq!(store.case(99).unwrap(), None);
}

#[test]
fn a_redelivered_event_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let service = Service::new(open(dir.path()), Arc::new(config()));
    service
        .ingest(&post("p1", "ana", "c1", "hello"), None, now())
        .unwrap();
    let first = service
        .apply(
            1,
            command(EngineCommand::Tag {
                label: "vip".to_owned(),
            }),
            Some("slack-event-1".to_owned()),
            now(),
        )
        .unwrap();
    assert!(matches!(first, Some(Applied::Changed(_))), "{first:?}");
    assert!(service.store().seen("slack-event-1").unwrap());
    let outbox = service.store().outbox().unwrap();
    let audit = service.store().audit(1).unwrap();
    // The same event again (a retry): nothing, not even the refusal `AlreadyTagged`.
    let again = service
        .apply(
            1,
            command(EngineCommand::Tag {
                label: "vip".to_owned(),
            }),
            Some("slack-event-1".to_owned()),
            now(),
        )
        .unwrap();
    assert_eq!(again, Some(Applied::Nothing));
    assert_eq!(service.store().outbox().unwrap(), outbox);
    assert_eq!(service.store().audit(1).unwrap(), audit);
}

#[test]
fn a_newer_schema_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = open(dir.path());
        store.set_schema_version(SCHEMA_VERSION).unwrap();
    }
    {
        // The current version reopens fine.
        let store = reopen(dir.path());
        store.set_schema_version(SCHEMA_VERSION + 1).unwrap();
    }
    let error = match reopen_result(dir.path()) {
        Ok(_) => panic!("a newer schema was opened"),
        Err(e) => e,
    };
    match &error {
        StoreError::NewerSchema {
            dir: at,
            found,
            known,
        } => {
            assert_eq!(at, dir.path());
            assert_eq!(*found, SCHEMA_VERSION + 1);
            assert_eq!(*known, SCHEMA_VERSION);
        }
        other => panic!("expected NewerSchema, got {other:?}"),
    }
    let message = error.to_string();
    assert!(
        message.contains(&dir.path().display().to_string()),
        "{message}"
    );
    assert!(
        message.contains(&format!("schema {}", SCHEMA_VERSION + 1)),
        "{message}"
    );
    assert!(
        message.contains(&format!("knows {SCHEMA_VERSION}")),
        "{message}"
    );
    // The read-only path refuses it too, and the refusal left the version alone.
    assert!(matches!(
        once_unlocked(|| Store::open_existing(dir.path())),
        Err(StoreError::NewerSchema { .. })
    ));
}

#[test]
fn a_second_open_in_the_same_process_is_locked() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let error = match Store::open(dir.path(), FLUSH) {
        Ok(_) => panic!("the data dir was opened twice"),
        Err(e) => e,
    };
    assert!(
        matches!(&error, StoreError::Locked(at) if at == dir.path()),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains(&dir.path().display().to_string())
            && message.contains("in use by a running carebridge"),
        "{message}"
    );
    assert!(matches!(
        Store::open_existing(dir.path()),
        Err(StoreError::Locked(_))
    ));
    // Once the first one is closed, the dir opens again.
    drop(store);
    drop(reopen(dir.path()));
}

#[test]
fn open_existing_on_a_dir_without_a_store_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    for path in [dir.path().join("never-created"), dir.path().to_owned()] {
        let error = match Store::open_existing(&path) {
            Ok(_) => panic!("opened a store that does not exist at {}", path.display()),
            Err(e) => e,
        };
        assert!(
            matches!(&error, StoreError::Missing(at) if *at == path),
            "{error:?}"
        );
        let message = error.to_string();
        assert!(
            message.contains(&path.display().to_string()) && message.contains("no data dir"),
            "{message}"
        );
    }
    assert!(
        !dir.path().join("never-created").exists(),
        "a read must not create the data dir"
    );
    assert!(!dir.path().join("db").exists());
}

#[test]
fn ingest_dedupes_and_stores_the_cursor_with_the_post() {
    let dir = tempfile::tempdir().unwrap();
    let cursor = |n: u64| Some(("demo:acme-x".to_owned(), n.to_string()));
    {
        let service = Service::new(open(dir.path()), Arc::new(config()));
        let store = service.store();
        let first = post("p1", "ana", "c1", "My parcel never arrived");
        assert_eq!(
            service.ingest(&first, cursor(1), now()).unwrap(),
            IngestResult::Opened(1)
        );
        // The post, its case, its effects and the cursor are all there after the one call.
        assert_eq!(store.cursor("demo:acme-x").unwrap().as_deref(), Some("1"));
        assert_eq!(store.case_for_post(&first.dedupe_key()).unwrap(), Some(1));
        assert_eq!(
            store
                .case_for_conversation(&first.conversation_key())
                .unwrap(),
            Some(1)
        );
        assert_eq!(effects_of(&store.outbox().unwrap()), [(1, Effect::Card)]);
        let case_bytes = serde_json::to_vec(&store.case(1).unwrap().unwrap()).unwrap();
        let outbox = store.outbox().unwrap();
        let total = store.effects_total().unwrap();

        // The same post again: a duplicate, nothing new queued, but the cursor moves on.
        assert_eq!(
            service.ingest(&first, cursor(2), now()).unwrap(),
            IngestResult::Duplicate(1)
        );
        assert_eq!(store.outbox().unwrap(), outbox);
        assert_eq!(store.effects_total().unwrap(), total);
        assert_eq!(
            serde_json::to_vec(&store.case(1).unwrap().unwrap()).unwrap(),
            case_bytes
        );
        assert_eq!(store.cursor("demo:acme-x").unwrap().as_deref(), Some("2"));

        // A follow-up in the same conversation joins; another author opens a new case.
        assert_eq!(
            service
                .ingest(&post("p2", "ana", "c1", "Hello?"), cursor(3), now())
                .unwrap(),
            IngestResult::Joined(1)
        );
        assert_eq!(
            service
                .ingest(&post("p3", "bo", "c1", "Same here"), cursor(4), now())
                .unwrap(),
            IngestResult::Opened(2)
        );
        assert_eq!(store.case(1).unwrap().unwrap().posts.len(), 2);
        assert_eq!(store.next_case_number().unwrap(), 3);
    }

    // After a restart the dedupe still holds, without a cursor too.
    let service = Service::new(reopen(dir.path()), Arc::new(config()));
    let outbox = service.store().outbox().unwrap();
    for (id, author) in [("p1", "ana"), ("p2", "ana"), ("p3", "bo")] {
        let again = service
            .ingest(&post(id, author, "c1", "again"), None, now())
            .unwrap();
        assert!(
            matches!(again, IngestResult::Duplicate(_)),
            "{id}: {again:?}"
        );
    }
    assert_eq!(service.store().outbox().unwrap(), outbox);
    assert_eq!(
        service.store().cursor("demo:acme-x").unwrap().as_deref(),
        Some("4")
    );
    assert_eq!(service.store().case(1).unwrap().unwrap().posts.len(), 2);
}

fn wait_for(path: &Path, bot: &mut Running, limit: Duration) {
    let deadline = Instant::now() + limit;
    while !path.exists() {
        if let Some(status) = bot.0.try_wait().unwrap() {
            let mut stderr = String::new();
            if let Some(mut pipe) = bot.0.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
            }
            panic!(
                "the bot exited ({status}) before {} appeared:\n{stderr}",
                path.display()
            );
        }
        assert!(
            Instant::now() < deadline,
            "{} did not appear within {limit:?}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn reading_the_store_of_a_running_bot_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("bot.toml");
    std::fs::write(
        &config_path,
        format!("[bot]\ndata_dir = \"data\"\n{CONFIG}pace = \"1h\"\n"),
    )
    .unwrap();
    let data: PathBuf = dir.path().join("data");
    // stdin stays open (piped, never closed), so the console keeps the bot running.
    let mut bot = Running(
        run::carebridge(&["run"], &config_path)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    // The console journal is opened after the store, so once it exists the store is locked.
    wait_for(
        &data.join("console-journal.jsonl"),
        &mut bot,
        Duration::from_secs(30),
    );

    for args in [
        &["cases", "list"][..],
        &["cases", "show", "1"],
        &["export", "--format", "csv"],
    ] {
        let out = run::carebridge(args, &config_path).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains("in use by a running carebridge")
                && stderr.contains(&data.display().to_string()),
            "{args:?}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    assert!(
        bot.0.try_wait().unwrap().is_none(),
        "the running bot must not be disturbed by a reader"
    );

    // A killed bot leaves no stale lock behind.
    drop(bot);
    let out = run::carebridge(&["cases", "list"], &config_path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

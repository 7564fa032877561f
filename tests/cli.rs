//! The read-side commands through the real binary: `cases list|show`, `export` and
//! `manifest`, on a store built through the public service API (as the running bot would
//! build it, with the dispatcher's work simulated by completing outbox entries).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/run.rs"]
mod run;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;
use std::time::{Duration, Instant};

use carebridge::config::Config;
use carebridge::engine::{
    Actor, Author, CanDm, Command as EngineCommand, Effect, Input, Outcome, Permission, Platform,
    PostKind, SocialPost,
};
use carebridge::service::{Applied, IngestResult, Service};
use carebridge::store::{SCHEMA_VERSION, Store};
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use serde_json::Value;

const CONFIG: &str = r#"
[bot]
data_dir = "data"
flush_interval = "10ms"

[chat.console]
approvers = ["lee"]

[[routing]]
name = "billing"
keywords = ["refund"]
urgency = "high"
queue = "billing"
tags = ["billing"]

[[accounts]]
id = "acme-x"
network = "demo"
simulate = "x"
approval = "always"

[[accounts]]
id = "acme-fb"
network = "demo"
simulate = "facebook"
approval = "never"
"#;

/// A tag that needs quoting in CSV: a comma, quotes and a newline.
const AWKWARD_TAG: &str = "follow-up, \"gold\"\nsoon";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 0).unwrap()
}

fn post(account: &str, id: &str, author: &str, kind: PostKind, text: &str) -> SocialPost {
    SocialPost {
        platform: Platform::Demo,
        account: account.to_owned(),
        id: id.to_owned(),
        conversation_id: format!("conv-{id}"),
        author: Author {
            id: format!("u-{author}"),
            handle: author.to_owned(),
            name: Some(author.to_uppercase()),
        },
        kind,
        text: text.to_owned(),
        permalink: Some(format!("https://example.com/{id}")),
        created_at: now() - TimeDelta::minutes(30),
        can_dm: CanDm::Yes,
        reply_by: None,
        queue: None,
        parent: None,
        reference: None,
    }
}

fn actor(id: &str) -> Actor {
    Actor {
        id: id.to_owned(),
        agent: true,
        approver: id == "lee",
    }
}

fn by(who: &str, command: EngineCommand) -> Input {
    Input::Command {
        actor: actor(who),
        command,
        required: Permission::Agent,
        in_thread: true,
    }
}

fn apply(service: &Service, case: u64, input: Input) {
    let applied = service.apply(case, input.clone(), None, now()).unwrap();
    assert!(
        matches!(applied, Some(Applied::Changed(_))),
        "#{case} {input:?}: {applied:?}"
    );
}

/// Plays the dispatcher: performs every pending effect (successfully, except publishing a
/// draft listed in `failing`) until the outbox is empty.
fn dispatch(service: &Service, failing: &[&str]) {
    for _ in 0..20 {
        let outbox = service.store().outbox().unwrap();
        if outbox.is_empty() {
            return;
        }
        for entry in outbox {
            let case = service.store().case(entry.case).unwrap().unwrap();
            let outcome = match &entry.effect {
                Effect::Card if case.chat.is_none() => Some(Outcome::CardPosted {
                    thread: format!("thread-{}", case.number),
                    card: format!("card-{}", case.number),
                }),
                Effect::ShowDraft { draft } => Some(Outcome::DraftShown {
                    draft: draft.clone(),
                    message: format!("msg-{draft}"),
                }),
                Effect::Publish { draft } if failing.contains(&draft.as_str()) => {
                    Some(Outcome::PublishFailed {
                        draft: draft.clone(),
                        reason: "HTTP 403: duplicate content".to_owned(),
                    })
                }
                Effect::Publish { draft } => Some(Outcome::Published {
                    draft: draft.clone(),
                    id: format!("net-{draft}"),
                }),
                Effect::Act { action, by } => Some(Outcome::Acted {
                    action: action.clone(),
                    by: by.clone(),
                }),
                Effect::Card | Effect::Thread { .. } => None,
            };
            service.complete(&entry, outcome, now()).unwrap();
        }
    }
    panic!("the outbox never drained");
}

/// A config and store in a temporary directory:
/// - #1 (x, acme-x): claimed by maria, a reply approved by lee and published, tagged with
///   [`AWKWARD_TAG`], escalated → `waiting`, routed to billing by its text.
/// - #2 (facebook, acme-fb, a DM): claimed by bo → `open`; a reply whose publication failed.
/// - #3 (x): claimed by maria and closed → `closed`.
/// - #4 (x): untouched → `new`.
struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let config_path = dir.path().join("bot.toml");
        std::fs::write(&config_path, CONFIG).unwrap();
        let config = Config::load(&config_path).unwrap_or_else(|e| panic!("{e}"));
        let store = Store::open(&config.bot.data_dir, config.bot.flush_interval).unwrap();
        let service = Service::new(store, Arc::new(config));
        let ingest = |p: SocialPost| service.ingest(&p, None, now()).unwrap();

        assert_eq!(
            ingest(post(
                "acme-x",
                "x1",
                "ana",
                PostKind::Mention,
                "@acme I want a refund, the kettle broke"
            )),
            IngestResult::Opened(1)
        );
        assert_eq!(
            ingest(post(
                "acme-fb",
                "fb1",
                "bo",
                PostKind::DirectMessage,
                "Where is my order?"
            )),
            IngestResult::Opened(2)
        );
        assert_eq!(
            ingest(post("acme-x", "x2", "cy", PostKind::Mention, "Love it")),
            IngestResult::Opened(3)
        );
        assert_eq!(
            ingest(post("acme-x", "x3", "di", PostKind::Mention, "Hello?")),
            IngestResult::Opened(4)
        );
        dispatch(&service, &[]);

        apply(&service, 1, by("maria", EngineCommand::Claim));
        apply(
            &service,
            1,
            by(
                "maria",
                EngineCommand::Reply {
                    text: "Sorry, Ana, \"that\" should not happen; DM us, we'll refund you."
                        .to_owned(),
                },
            ),
        );
        dispatch(&service, &[]);
        apply(
            &service,
            1,
            Input::Reaction {
                actor: actor("lee"),
                draft: "1.1".to_owned(),
                emoji: "✅".to_owned(),
                added: true,
            },
        );
        dispatch(&service, &[]);
        apply(
            &service,
            1,
            by(
                "maria",
                EngineCommand::Tag {
                    label: AWKWARD_TAG.to_owned(),
                },
            ),
        );
        apply(
            &service,
            1,
            by(
                "maria",
                EngineCommand::Escalate {
                    team: "billing".to_owned(),
                    reason: Some("refund over limit".to_owned()),
                },
            ),
        );

        apply(&service, 2, by("bo", EngineCommand::Claim));
        apply(
            &service,
            2,
            by(
                "bo",
                EngineCommand::Reply {
                    text: "It left our warehouse today.".to_owned(),
                },
            ),
        );
        dispatch(&service, &["2.1"]);

        apply(&service, 3, by("maria", EngineCommand::Claim));
        apply(
            &service,
            3,
            by(
                "maria",
                EngineCommand::Close {
                    note: Some("praise, nothing to do".to_owned()),
                },
            ),
        );
        dispatch(&service, &[]);
        assert!(service.store().outbox().unwrap().is_empty());
        drop(service);
        wait_until_released(&config_path);
        Fixture { dir }
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join("bot.toml")
    }

    fn run(&self, args: &[&str]) -> Output {
        carebridge(args, &self.config())
    }

    /// Runs a command that must succeed; returns its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        let stdout = self.ok(args);
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{args:?}: {e}\n{stdout}"))
    }
}

/// sled 0.34 releases its file lock from a background thread shortly after the last handle
/// is dropped (spacejam/sled#1234), so a reader started at once may find the data dir "in use"
/// by this very test process: poll until the binary can read it, with a deadline.
fn wait_until_released(config: &Path) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let out = carebridge(&["cases", "list"], config);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !stderr.contains("in use") {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the store stayed locked: {stderr}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn carebridge(args: &[&str], config: &Path) -> Output {
    run::carebridge(args, config).output().unwrap()
}

#[test]
fn cases_list_shows_a_table_and_filters_by_status() {
    let fixture = Fixture::new();
    let table = fixture.ok(&["cases", "list"]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 5, "a header and one line per case:\n{table}");
    assert!(
        lines[0].contains("CASE") && lines[0].contains("STATUS"),
        "{table}"
    );
    for (line, (number, status)) in lines[1..].iter().zip([
        ("#1", "waiting"),
        ("#2", "open"),
        ("#3", "closed"),
        ("#4", "new"),
    ]) {
        let words: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(&words[..2], [number, status], "{line}");
    }
    assert!(
        lines[1].contains("@ana") && lines[1].contains("maria"),
        "{table}"
    );
    assert!(lines[4].contains("Hello?"), "{table}");

    let open = fixture.ok(&["cases", "list", "--status", "open"]);
    let lines: Vec<&str> = open.lines().collect();
    assert_eq!(lines.len(), 2, "{open}");
    assert!(lines[1].trim_start().starts_with("#2 "), "{open}");

    let none = fixture.ok(&["cases", "list", "--status", "offline"]);
    assert_eq!(
        none.lines().count(),
        2,
        "header and a no-cases line:\n{none}"
    );

    let all = fixture.json(&["cases", "list", "--json"]);
    let rows = all.as_array().expect("a JSON array");
    assert_eq!(rows.len(), 4);
    let statuses: Vec<(u64, &str)> = rows
        .iter()
        .map(|r| (r["number"].as_u64().unwrap(), r["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        statuses,
        [(1, "waiting"), (2, "open"), (3, "closed"), (4, "new")]
    );
    assert_eq!(rows[0]["platform"], "demo");
    assert_eq!(rows[0]["account"], "acme-x");
    assert_eq!(rows[0]["assignee"], "maria");
    assert_eq!(rows[0]["urgency"], "high");
    assert_eq!(rows[0]["queue"], "billing");
    assert_eq!(rows[0]["author"]["handle"], "ana");
    assert_eq!(rows[3]["assignee"], Value::Null);

    let closed = fixture.json(&["cases", "list", "--status", "closed", "--json"]);
    assert_eq!(closed.as_array().unwrap().len(), 1);
    assert_eq!(closed[0]["number"], 3);
}

#[test]
fn cases_show_json_has_the_documented_shape() {
    let fixture = Fixture::new();
    let case = fixture.json(&["cases", "show", "1", "--json"]);
    assert!(case.is_object());
    assert_eq!(case["number"], 1);
    assert_eq!(case["status"], "waiting");
    assert_eq!(case["platform"], "demo");
    assert_eq!(case["account"], "acme-x");
    assert_eq!(case["author"]["id"], "u-ana");
    assert_eq!(case["author"]["handle"], "ana");
    assert_eq!(case["assignee"], "maria");
    assert_eq!(case["urgency"], "high");
    assert_eq!(case["queue"], "billing");
    assert_eq!(case["escalation"]["team"], "billing");
    assert_eq!(case["escalation"]["reason"], "refund over limit");
    assert_eq!(case["escalation"]["by"], "maria");
    let tags: Vec<&str> = case["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(tags, ["billing", AWKWARD_TAG]);

    let posts = case["posts"].as_array().unwrap();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0]["id"], "x1");
    assert_eq!(posts[0]["kind"], "mention");
    assert_eq!(posts[0]["text"], "@acme I want a refund, the kettle broke");
    let at = posts[0]["at"].as_str().unwrap();
    assert_eq!(
        DateTime::parse_from_rfc3339(at).unwrap(),
        now() - TimeDelta::minutes(30)
    );

    let drafts = case["drafts"].as_array().unwrap();
    assert_eq!(drafts.len(), 1);
    let draft = &drafts[0];
    assert_eq!(draft["id"], "1.1");
    assert!(draft["text"].as_str().unwrap().starts_with("Sorry, Ana"));
    assert_eq!(draft["kind"], "public");
    assert_eq!(draft["state"], "published");
    assert_eq!(draft["author"], "maria");
    assert_eq!(draft["decided_by"], "lee");
    assert_eq!(draft["published_id"], "net-1.1");
    assert_eq!(draft["error"], Value::Null);

    let audit = case["audit"].as_array().unwrap();
    let actions: Vec<(&str, &str)> = audit
        .iter()
        .map(|a| {
            assert!(
                DateTime::parse_from_rfc3339(a["at"].as_str().unwrap()).is_ok(),
                "{a}"
            );
            (a["actor"].as_str().unwrap(), a["action"].as_str().unwrap())
        })
        .collect();
    assert_eq!(
        actions,
        [
            ("customer", "opened"),
            ("maria", "claimed"),
            ("maria", "drafted"),
            ("lee", "approved"),
            ("carebridge", "published"),
            ("maria", "tagged"),
            ("maria", "escalated"),
        ]
    );

    // The failed publication and the DM reply of case 2.
    let two = fixture.json(&["cases", "show", "2", "--json"]);
    assert_eq!(two["status"], "open");
    assert_eq!(two["platform"], "demo");
    assert_eq!(two["account"], "acme-fb");
    assert_eq!(two["escalation"], Value::Null);
    assert_eq!(two["posts"][0]["kind"], "direct_message");
    let draft = &two["drafts"][0];
    assert_eq!(draft["kind"], "direct");
    assert_eq!(draft["state"], "failed");
    assert_eq!(draft["decided_by"], "carebridge", "no approval needed");
    assert_eq!(draft["published_id"], Value::Null);
    assert_eq!(draft["error"], "HTTP 403: duplicate content");

    assert_eq!(
        fixture.json(&["cases", "show", "3", "--json"])["status"],
        "closed"
    );

    // The human form of the same case.
    let text = fixture.ok(&["cases", "show", "1"]);
    assert!(text.starts_with("Case #1"), "{text}");
    assert!(text.contains("Escalated to billing"), "{text}");
}

#[test]
fn showing_a_case_that_does_not_exist_fails() {
    let fixture = Fixture::new();
    for json in [false, true] {
        let mut args = vec!["cases", "show", "999"];
        if json {
            args.push("--json");
        }
        let out = fixture.run(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("there is no case #999"), "{stderr}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn export_jsonl_is_one_case_per_line() {
    let fixture = Fixture::new();
    let out = fixture.ok(&["export", "--format", "jsonl"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    for (n, line) in lines.iter().enumerate() {
        let case: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(case.is_object());
        assert_eq!(case["number"], n as u64 + 1);
        assert!(case["audit"].as_array().is_some_and(|a| !a.is_empty()));
        assert!(case["posts"].is_array() && case["drafts"].is_array());
    }
    // It is the same record as `cases show --json`.
    let first: Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(first, fixture.json(&["cases", "show", "1", "--json"]));
    // JSONL is the default format.
    assert_eq!(fixture.ok(&["export"]), out);
}

/// A minimal RFC 4180 reader: quoted fields may hold commas, doubled quotes and newlines.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, '\r') => {}
            (false, c) => field.push(c),
        }
    }
    assert!(!quoted, "unterminated quoted field");
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

#[test]
fn export_csv_has_a_header_and_quotes_what_needs_it() {
    let fixture = Fixture::new();
    let out = fixture.ok(&["export", "--format", "csv"]);
    let rows = parse_csv(&out);
    assert_eq!(rows.len(), 5, "a header and one row per case:\n{out}");
    let header = &rows[0];
    assert!(header.len() > 5);
    for column in ["number", "status", "platform", "account", "tags", "queue"] {
        assert!(header.iter().any(|h| h == column), "{column}: {header:?}");
    }
    assert!(
        rows.iter().all(|r| r.len() == header.len()),
        "every row has every column:\n{out}"
    );
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let numbers: Vec<&str> = rows[1..]
        .iter()
        .map(|r| r[column("number")].as_str())
        .collect();
    assert_eq!(numbers, ["1", "2", "3", "4"]);
    assert_eq!(rows[1][column("status")], "waiting");
    assert_eq!(rows[3][column("status")], "closed");
    assert_eq!(rows[1][column("queue")], "billing");
    // The tag with a comma, quotes and a newline survives the round trip.
    assert!(
        rows[1][column("tags")].contains(AWKWARD_TAG),
        "{:?}",
        rows[1][column("tags")]
    );
    // And it is written quoted, with the quotes doubled.
    assert!(out.contains("\"\"gold\"\""), "{out}");
}

#[test]
fn manifests_are_json_generated_from_the_commands() {
    // No config is needed to print them.
    let dir = tempfile::tempdir().unwrap();
    let nowhere = dir.path().join("no-such-bot.toml");

    let slack = carebridge(&["manifest", "slack"], &nowhere);
    assert!(
        slack.status.success(),
        "{}",
        String::from_utf8_lossy(&slack.stderr)
    );
    let slack: Value = serde_json::from_slice(&slack.stdout).unwrap();
    let commands = slack["features"]["slash_commands"].as_array().unwrap();
    assert_eq!(commands.len(), 1);
    assert_eq!(commands[0]["command"], "/care");
    assert!(
        commands[0]["usage_hint"]
            .as_str()
            .unwrap()
            .contains("claim")
    );

    let discord = carebridge(&["manifest", "discord"], &nowhere);
    assert!(
        discord.status.success(),
        "{}",
        String::from_utf8_lossy(&discord.stderr)
    );
    let discord: Value = serde_json::from_slice(&discord.stdout).unwrap();
    let commands = discord.as_array().expect("a JSON array");
    assert_eq!(commands.len(), 1);
    assert_eq!(commands[0]["name"], "care");
    let subcommands: Vec<&str> = commands[0]["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    for name in ["claim", "reply", "close"] {
        assert!(subcommands.contains(&name), "{name}: {subcommands:?}");
    }
    // Staff see `/care` by default (Manage Threads); admins can widen it.
    assert_eq!(commands[0]["default_member_permissions"], "17179869184");

    let invite = carebridge(&["manifest", "discord", "--invite"], &nowhere);
    assert!(invite.status.success());
    let url = String::from_utf8(invite.stdout).unwrap();
    assert!(
        url.starts_with("https://discord.com/oauth2/authorize?client_id=YOUR_APPLICATION_ID&scope=bot+applications.commands&permissions=326417599504"),
        "{url}"
    );
}

#[test]
fn reading_without_a_data_dir_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bot.toml");
    std::fs::write(&config, CONFIG).unwrap();
    let data = dir.path().join("data");
    for args in [
        &["cases", "list"][..],
        &["cases", "show", "1", "--json"],
        &["export", "--format", "jsonl"],
    ] {
        let out = carebridge(args, &config);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains(&data.display().to_string()) && stderr.contains("no data dir"),
            "{args:?}: {stderr}"
        );
        assert!(out.stdout.is_empty());
    }
    assert!(!data.exists(), "reading must not create the data dir");
}

#[test]
fn reading_a_store_from_a_newer_carebridge_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bot.toml");
    std::fs::write(&config, CONFIG).unwrap();
    let data = dir.path().join("data");
    {
        let store = Store::open(&data, Duration::from_millis(10)).unwrap();
        store.set_schema_version(SCHEMA_VERSION + 1).unwrap();
        store.flush().unwrap();
    }
    wait_until_released(&config);
    let out = carebridge(&["cases", "list"], &config);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("newer carebridge") && stderr.contains(&data.display().to_string()),
        "{stderr}"
    );
}

#[test]
fn a_reader_that_goes_away_is_not_an_error() {
    // `carebridge export | head -1`: the pipe closes early. Unix tools stop quietly then,
    // neither panicking nor reporting a failure.
    let fixture = Fixture::new();
    for args in [
        &["cases", "list"][..],
        &["cases", "list", "--json"],
        &["cases", "show", "1", "--json"],
        &["export", "--format", "csv"],
        &["export", "--format", "jsonl"],
        &["manifest", "slack"],
        &["manifest", "discord"],
        &["check-config"],
    ] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = run::carebridge(args, &fixture.config())
            .stdout(writer)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?}: {:?} {stderr}", out.status);
        assert!(stderr.is_empty(), "{args:?}: {stderr}");
    }
}

//! `carebridge report` through the real binary, on a store holding a constructed history
//! (cases written as they would stand after their work, with times relative to now, since the
//! binary reports up to its own clock).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/run.rs"]
mod run;

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use carebridge::config::Config;
use carebridge::engine::{
    Author, CanDm, Case, Draft, DraftKind, DraftState, Platform, PostKind, Purpose, Sla, Status,
    Urgency,
};
use carebridge::store::{Store, Write};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};

const CONFIG: &str = r#"
[bot]
data_dir = "data"
timezone = "UTC"

[[accounts]]
id = "acme"
network = "demo"
simulate = "x"
"#;

fn case(
    number: u64,
    opened: DateTime<Utc>,
    urgency: Urgency,
    platform: Platform,
    due: TimeDelta,
) -> Case {
    Case {
        number,
        status: Status::New,
        platform,
        account: "acme".to_owned(),
        author: Author {
            id: format!("u{number}"),
            handle: format!("customer{number}"),
            name: None,
        },
        conversation_id: format!("conv{number}"),
        kind: PostKind::Mention,
        queue: "default".to_owned(),
        urgency,
        tags: Default::default(),
        assignee: None,
        escalation: None,
        snoozed_until: None,
        sla: Sla::first(opened + due),
        offline: None,
        can_dm: CanDm::Unknown,
        posts: Vec::new(),
        drafts: Vec::new(),
        liked: Default::default(),
        reposted: Default::default(),
        hidden: Default::default(),
        opened_at: opened,
        updated_at: opened,
        closed_at: None,
        chat: None,
        nudged: false,
        off_hours_answered: None,
    }
}

/// `author` claimed the case and their reply went out `after` it opened.
fn answered(mut case: Case, author: &str, after: TimeDelta) -> Case {
    let at = case.opened_at + after;
    case.drafts.push(Draft {
        id: format!("{}.1", case.number),
        kind: DraftKind::Public,
        purpose: Purpose::Reply,
        text: "On it.".to_owned(),
        in_reply_to: "post".to_owned(),
        author: author.to_owned(),
        created_at: at,
        state: DraftState::Published,
        needs_approval: false,
        decided_by: None,
        decided_at: None,
        published_id: Some(format!("net-{}", case.number)),
        published_at: Some(at),
        error: None,
        chat_message: None,
        deleted_at: None,
        deleted_by: None,
    });
    case.assignee = Some(author.to_owned());
    case.status = Status::Waiting;
    case.sla.first_response_at = Some(at);
    case.updated_at = at;
    case
}

fn closed(mut case: Case, at: DateTime<Utc>) -> Case {
    case.status = Status::Closed;
    case.closed_at = Some(at);
    case
}

/// The history, `now` being when the test starts (the report runs a moment later):
/// - #1 x, opened 10 days ago, answered and closed 9 days ago: outside a 7-day report.
/// - #2 x urgent, 3 days ago, maria answered in 10 min (target 15 min): met.
/// - #3 facebook high, 2 days ago, bo answered in 2 h (target 1 h), closed a day ago.
/// - #4 x normal, 1 day ago, unanswered past its 4 h target (the sweep marked it).
/// - #5 instagram low, 1 hour ago, unanswered, due in 23 hours.
fn history(now: DateTime<Utc>) -> Vec<Case> {
    let days = TimeDelta::days;
    let c1 = closed(
        answered(
            case(
                1,
                now - days(10),
                Urgency::Normal,
                Platform::X,
                TimeDelta::hours(4),
            ),
            "maria",
            TimeDelta::minutes(5),
        ),
        now - days(9),
    );
    let c2 = answered(
        case(
            2,
            now - days(3),
            Urgency::Urgent,
            Platform::X,
            TimeDelta::minutes(15),
        ),
        "maria",
        TimeDelta::minutes(10),
    );
    let c3 = closed(
        answered(
            case(
                3,
                now - days(2),
                Urgency::High,
                Platform::Facebook,
                TimeDelta::hours(1),
            ),
            "bo",
            TimeDelta::hours(2),
        ),
        now - days(1),
    );
    let mut c4 = case(
        4,
        now - days(1),
        Urgency::Normal,
        Platform::X,
        TimeDelta::hours(4),
    );
    c4.sla.breached = true;
    let c5 = case(
        5,
        now - TimeDelta::hours(1),
        Urgency::Low,
        Platform::Instagram,
        TimeDelta::hours(24),
    );
    vec![c1, c2, c3, c4, c5]
}

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
        for case in history(Utc::now()) {
            store
                .commit(&Write {
                    case: Some(&case),
                    ..Write::default()
                })
                .unwrap();
        }
        store.flush().unwrap();
        drop(store);
        let fixture = Fixture { dir };
        fixture.wait_until_released();
        fixture
    }

    fn config(&self) -> std::path::PathBuf {
        self.dir.path().join("bot.toml")
    }

    fn run(&self, args: &[&str]) -> Output {
        carebridge(args, &self.config())
    }

    /// sled releases its lock from a background thread shortly after the last handle is
    /// dropped (spacejam/sled#1234): wait until the binary can open the store.
    fn wait_until_released(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let out = self.run(&["report", "--since", "1d"]);
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

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
}

fn carebridge(args: &[&str], config: &Path) -> Output {
    run::carebridge(args, config).output().unwrap()
}

#[test]
fn report_json_figures_match_the_history() {
    let fixture = Fixture::new();
    let before = Utc::now();
    let stdout = fixture.ok(&["report", "--since", "7d", "--json"]);
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}\n{stdout}"));

    let since: DateTime<Utc> = report["period"]["since"].as_str().unwrap().parse().unwrap();
    let until: DateTime<Utc> = report["period"]["until"].as_str().unwrap().parse().unwrap();
    assert_eq!(until - since, TimeDelta::days(7));
    assert!(until >= before && until <= Utc::now());

    assert_eq!(report["opened"], 4, "#2 to #5");
    assert_eq!(report["closed"], 1, "#3");
    assert_eq!(report["open"], 3, "#2, #4, #5");
    assert_eq!(
        report["first_response"],
        json!({"count": 2, "median_seconds": 600, "p90_seconds": 7200})
    );
    let sla = &report["sla"];
    assert_eq!(sla["urgent"], json!({"met": 1, "missed": 0, "rate": 1.0}));
    assert_eq!(sla["high"], json!({"met": 0, "missed": 1, "rate": 0.0}));
    assert_eq!(sla["normal"], json!({"met": 0, "missed": 1, "rate": 0.0}));
    assert_eq!(sla["low"], json!({"met": 0, "missed": 0, "rate": null}));
    assert_eq!(sla["all"]["met"], 1);
    assert_eq!(sla["all"]["missed"], 2);
    let rate = sla["all"]["rate"].as_f64().unwrap();
    assert!((rate - 1.0 / 3.0).abs() < 1e-9, "{rate}");
    assert_eq!(
        report["networks"],
        json!({"facebook": 1, "instagram": 1, "x": 2})
    );
    assert_eq!(
        report["agents"],
        json!({"bo": {"cases": 1, "replies": 1}, "maria": {"cases": 1, "replies": 1}})
    );
    assert_eq!(
        report["breached"],
        json!([
            {"case": 3, "urgency": "high", "network": "facebook", "targets": ["first_response"]},
            {"case": 4, "urgency": "normal", "network": "x", "targets": ["first_response"]},
        ])
    );
}

#[test]
fn report_text_is_aligned_and_readable() {
    let fixture = Fixture::new();
    let stdout = fixture.ok(&["report", "--since", "7d"]);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("Report "), "{stdout}");
    assert!(lines[0].ends_with(" (UTC)"), "{stdout}");
    for expected in [
        "Cases            4 opened · 1 closed · 3 still open",
        "First response   median 10m 00s · p90 2h 00m · 2 answered",
        "SLA met          33%  (1 met, 2 missed)",
        "  urgent         100%  (1 met, 0 missed)",
        "Networks         facebook 1 · instagram 1 · x 2",
        "Agents           cases  replies",
        "  maria              1        1",
        "Breached         2",
        "  #3     high    facebook  first response",
    ] {
        assert!(lines.contains(&expected), "{expected:?} in\n{stdout}");
    }
    // A short period sees only #5.
    let today = fixture.ok(&["report", "--since", "2h"]);
    assert!(
        today.contains("Cases            1 opened · 0 closed · 3 still open"),
        "{today}"
    );
}

#[test]
fn a_bad_since_is_a_usage_error_naming_the_flag() {
    let fixture = Fixture::new();
    for bad in ["7days", "0", ""] {
        let out = fixture.run(&["report", "--since", bad]);
        assert_eq!(out.status.code(), Some(2), "--since {bad:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("--since"), "{stderr}");
        assert!(out.stdout.is_empty());
    }
    let out = fixture.run(&["report"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--since"));
}

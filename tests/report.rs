//! `carebridge report` through the real binary, on a store holding a history made the way a
//! running bot makes it: posts ingested, replies drafted and published, the sweep run, cases
//! closed, each through the service at its own time (relative to now, since the binary
//! reports up to its own clock).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/run.rs"]
mod run;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Output;
use std::sync::Arc;
use std::time::{Duration, Instant};

use carebridge::config::Config;
use carebridge::engine::{
    Actor, Author, CanDm, Command, Input, Outcome, Permission, Platform, PostKind, SocialPost,
};
use carebridge::service::{Applied, IngestResult, Service};
use carebridge::store::Store;
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};

/// Urgency comes from routing, as in a real bot: "fire" is urgent, "refund" high, "thanks"
/// low; the first-response targets are the defaults (15 min, 1 h, 4 h, 24 h).
const CONFIG: &str = r#"
[bot]
data_dir = "data"
timezone = "UTC"

[chat.console]
user = "maria"

[[routing]]
name = "safety"
keywords = ["fire"]
urgency = "urgent"

[[routing]]
name = "billing"
keywords = ["refund"]
urgency = "high"

[[routing]]
name = "praise"
keywords = ["thanks"]
urgency = "low"

[[accounts]]
id = "acme"
network = "demo"
simulate = "x"
approval = "never"
"#;

/// The running bot's service, driven at the times the history needs.
struct History {
    service: Service,
}

impl History {
    /// A customer post on `platform` at `at`; the case it opened.
    fn post(&self, number: u64, platform: Platform, text: &str, at: DateTime<Utc>) -> u64 {
        let post = SocialPost {
            platform,
            account: "acme".to_owned(),
            id: format!("p{number}"),
            conversation_id: format!("conv{number}"),
            author: Author {
                id: format!("u{number}"),
                handle: format!("customer{number}"),
                name: None,
            },
            kind: PostKind::Mention,
            text: text.to_owned(),
            permalink: None,
            created_at: at,
            can_dm: CanDm::Unknown,
            reply_by: None,
            queue: None,
            parent: None,
            reference: None,
        };
        match self.service.ingest(&post, None, at).unwrap() {
            IngestResult::Opened(n) => n,
            other => panic!("post {number} did not open a case: {other:?}"),
        }
    }

    fn command(&self, case: u64, agent: &str, command: Command, at: DateTime<Utc>) {
        let actor = Actor {
            id: agent.to_owned(),
            agent: true,
            approver: false,
        };
        let input = Input::Command {
            actor,
            command,
            required: Permission::Agent,
            in_thread: true,
        };
        self.applied(case, input, at);
    }

    /// Applies `input`, which must change the case.
    fn applied(&self, case: u64, input: Input, at: DateTime<Utc>) {
        match self.service.apply(case, input, None, at).unwrap() {
            Some(Applied::Changed(_)) => {}
            other => panic!("#{case} at {at}: {other:?}"),
        }
    }

    /// `agent` claims the case and answers it; the network takes the reply at `at`.
    fn answer(&self, case: u64, agent: &str, at: DateTime<Utc>) {
        self.command(case, agent, Command::Claim, at);
        let text = format!("On it, #{case}."); // X refuses a text the account already sent
        self.command(case, agent, Command::Reply { text }, at);
        let published = Outcome::Published {
            draft: format!("{case}.1"),
            id: format!("net-{case}"),
        };
        self.applied(case, Input::Outcome(published), at);
    }

    fn close(&self, case: u64, agent: &str, at: DateTime<Utc>) {
        self.command(case, agent, Command::Close { note: None }, at);
    }

    /// The scheduler's sweep at `at`.
    fn sweep(&self, at: DateTime<Utc>) {
        self.service.sweep(at, &BTreeSet::new()).unwrap();
    }
}

/// The history, `now` being when the test starts (the report runs a moment later):
/// - #1 x, opened 10 days ago, answered and closed 9 days ago: outside a 7-day report.
/// - #2 x urgent, 3 days ago, maria answered in 10 min (target 15 min): met.
/// - #3 facebook high, 2 days ago, late at 1 h (the sweep saw it), bo answered in 2 h,
///   closed a day ago.
/// - #4 x normal, 1 day ago, unanswered past its 4 h target (the sweep marked it).
/// - #5 instagram low, 1 hour ago, unanswered, due in 23 hours.
fn history(service: Service, now: DateTime<Utc>) {
    let h = History { service };
    let (days, hours, minutes) = (TimeDelta::days, TimeDelta::hours, TimeDelta::minutes);
    let c1 = h.post(1, Platform::X, "Where is my order?", now - days(10));
    h.answer(c1, "maria", now - days(10) + minutes(5));
    h.close(c1, "maria", now - days(9));
    let c2 = h.post(
        2,
        Platform::X,
        "There is a fire in my charger",
        now - days(3),
    );
    h.answer(c2, "maria", now - days(3) + minutes(10));
    let c3 = h.post(3, Platform::Facebook, "I want a refund", now - days(2));
    h.sweep(now - days(2) + minutes(61));
    h.answer(c3, "bo", now - days(2) + hours(2));
    h.close(c3, "bo", now - days(1));
    h.post(4, Platform::X, "Still waiting for my parcel", now - days(1));
    h.sweep(now - days(1) + hours(4) + minutes(1));
    h.post(
        5,
        Platform::Instagram,
        "thanks for the quick delivery",
        now - hours(1),
    );
    h.service.store().flush().unwrap();
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
        history(Service::new(store, Arc::new(config)), Utc::now());
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

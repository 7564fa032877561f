//! End-to-end tests of the config pipeline: text in, typed [`Config`] or exact problems out.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{NaiveDate, NaiveTime, TimeZone, Timelike, Utc, Weekday};

use super::*;
use crate::engine::{ApprovalMode, Platform, PostKind, Urgency};
use crate::text::defaults;

const BASE: &str = "/srv/carebridge";

fn env(name: &str) -> Option<String> {
    match name {
        "LISTEN_PORT" => Some("9090".to_owned()),
        "REGION" => Some("EU".to_owned()),
        "SLACK_BOT_TOKEN" => Some("xoxb-1-secret-bot".to_owned()),
        "DISCORD_TOKEN" => Some("discord-secret-token".to_owned()),
        "FB_PAGE_TOKEN" => Some("page-secret-token".to_owned()),
        "META_APP_SECRET" => Some("meta-app-secret".to_owned()),
        "META_VERIFY_TOKEN" => Some("meta-verify".to_owned()),
        "FORMS_SECRET" => Some("whsec-forms-0123456789".to_owned()),
        "SLACK_APP_TOKEN" => Some("xapp-1-secret-app".to_owned()),
        "SLACK_SIGNING_SECRET" => Some("8f742231b10e8888abcd99yyyzzz85a5".to_owned()),
        "WRONG_TOKEN" => Some("xoxp-user-token-secret".to_owned()),
        _ => None,
    }
}

fn load(text: &str) -> Result<Config, ConfigErrors> {
    Config::from_toml_str(text, Path::new(BASE), &env)
}

fn ok(text: &str) -> Config {
    match load(text) {
        Ok(config) => config,
        Err(errors) => panic!("config rejected:\n{errors}"),
    }
}

/// The problems as displayed, for exact comparison.
fn problems(text: &str) -> Vec<String> {
    match load(text) {
        Ok(_) => panic!("config accepted:\n{text}"),
        Err(errors) => errors.0.iter().map(ToString::to_string).collect(),
    }
}

/// Asserts that exactly these problems are reported, in any order.
fn assert_problems(text: &str, expected: &[&str]) {
    let mut got = problems(text);
    let mut want: Vec<String> = expected.iter().map(|s| (*s).to_owned()).collect();
    got.sort();
    want.sort();
    assert_eq!(got, want);
}

const MINIMAL: &str = r#"
[[accounts]]
id = "d"
network = "demo"
simulate = "x"
"#;

/// `more` followed by `MINIMAL`, so that bare keys in `more` are top-level keys.
fn with(more: &str) -> String {
    format!("{more}\n{MINIMAL}")
}

#[test]
fn full_example_is_fully_typed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("demo")).unwrap();
    std::fs::write(dir.path().join("demo/feed.jsonl"), "{}\n").unwrap();
    let text = r#"
[bot]
data_dir = "state"
listen = "0.0.0.0:${LISTEN_PORT}"
monitor = true
timezone = "Europe/London"
flush_interval = "250ms"
reopen_window = "2d"

[chat]
kind = "console"
[chat.console]
approvers = ["lee"]
agents = ["ana", "bo"]
user = "ana"

[approval]
approve = ["+1"]
reject = ["-1", "x"]
allow_self_approval = true

[sla]
business_hours = true
[sla.first_response]
urgent = "10m"
high = "1h30m"
normal = "4h"
low = "1w"

[business_hours]
days = "Mon-Fri"
open = "08:30"
close = 18:00:00
holidays = ["2026-12-25", 2026-12-26]

[[routing]]
name = "urgent-complaints"
platforms = ["x", "demo"]
accounts = ["acme-x"]
kinds = ["mention", "direct_message"]
keywords = ["refund", "lawyer"]
regex = "(?i)\\bunsafe\\b"
urgency = "urgent"
queue = "escalations"
tags = ["complaint"]

[[routing]]
name = "tag-only"
tags = ["praise"]

[canned]
sorry = "Hi {name}, sorry about that. {agent}"
"thank you" = "Thanks {handle}! (case {case})"

[[accounts]]
id = "acme-x"
network = "demo"
name = "Acme Support (${REGION})"
handle = "@acme"
approval = "first_reply"
trusted_agents = ["lee"]
queue = "social"
max_length = 500
human_agent_tag = true
close_loop = "always"
close_loop_text = "Glad that's sorted, {name}. Price: $5, literal $${HOME"
simulate = "facebook"
pace = "0"
feed = "demo/feed.jsonl"
[accounts.offline]
email = "Mail us at {address}, {name}"
sms = "Text {address}"

[[accounts]]
id = "acme-masto"
network = "demo"
simulate = "mastodon"

[[jobs]]
name = "wake-snoozed"
cron = "*/1 * * * *"
kind = "sweep"

[[jobs]]
name = "weekday-report"
cron = "0 9 * * 1-5"
timezone = "Europe/Paris"
kind = "sweep"
"#;
    let config = Config::from_toml_str(text, dir.path(), &env).unwrap_or_else(|e| panic!("{e}"));

    let bot = &config.bot;
    assert_eq!(bot.data_dir, dir.path().join("state"));
    assert_eq!(bot.listen, "0.0.0.0:9090".parse().unwrap());
    assert!(bot.monitor);
    assert_eq!(bot.timezone, chrono_tz::Europe::London);
    assert_eq!(bot.flush_interval, Duration::from_millis(250));
    assert_eq!(bot.reopen_window, Duration::from_secs(2 * 86_400));

    assert_eq!(config.chat.kind, ChatKind::Console);
    assert_eq!(
        config.chat.console,
        ConsoleConfig {
            approvers: vec!["lee".into()],
            agents: vec!["ana".into(), "bo".into()],
            user: "ana".into(),
            on_call: BTreeMap::new(),
        }
    );
    assert_eq!(
        config.approval,
        ApprovalConfig {
            approve: vec!["+1".into()],
            reject: vec!["-1".into(), "x".into()],
            allow_self_approval: true,
        }
    );

    assert!(config.sla.business_hours);
    let first = config.sla.first_response;
    assert_eq!(first.for_urgency(Urgency::Urgent), Duration::from_secs(600));
    assert_eq!(first.high, Duration::from_secs(5400));
    assert_eq!(first.normal, Duration::from_secs(4 * 3600));
    assert_eq!(first.low, Duration::from_secs(7 * 86_400));

    let hours = config.business_hours.as_ref().unwrap();
    assert_eq!(
        hours.days,
        [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri
        ]
    );
    assert_eq!(hours.open, NaiveTime::from_hms_opt(8, 30, 0).unwrap());
    assert_eq!(hours.close, NaiveTime::from_hms_opt(18, 0, 0).unwrap());
    assert_eq!(
        hours.holidays,
        [
            NaiveDate::from_ymd_opt(2026, 12, 25).unwrap(),
            NaiveDate::from_ymd_opt(2026, 12, 26).unwrap()
        ]
    );

    assert_eq!(config.routing.len(), 2);
    let rule = &config.routing[0];
    assert_eq!(rule.name, "urgent-complaints");
    assert_eq!(rule.platforms, [Platform::X, Platform::Demo]);
    assert_eq!(rule.accounts, ["acme-x"]);
    assert_eq!(rule.kinds, [PostKind::Mention, PostKind::DirectMessage]);
    assert_eq!(rule.keywords, ["refund", "lawyer"]);
    assert_eq!(rule.urgency, Some(Urgency::Urgent));
    assert_eq!(rule.queue.as_deref(), Some("escalations"));
    assert_eq!(rule.tags, ["complaint"]);
    assert!(rule.matches_text("My LAWYER says this is UNSAFE"));
    assert!(
        !rule.matches_text("my lawyer says hi"),
        "regex must match too"
    );
    assert!(
        !rule.matches_text("lawyers say it is unsafe"),
        "keywords are whole words"
    );
    let tag_only = &config.routing[1];
    assert!(tag_only.matches_text("anything at all"));
    assert_eq!((tag_only.urgency, tag_only.queue.as_deref()), (None, None));

    assert_eq!(
        config.canned["sorry"],
        "Hi {name}, sorry about that. {agent}"
    );
    assert_eq!(config.canned["thank you"], "Thanks {handle}! (case {case})");

    let acme = config.account("acme-x").unwrap();
    assert_eq!(acme.network, Platform::Demo);
    assert_eq!(acme.platform(), Platform::Facebook);
    assert_eq!(acme.name.as_deref(), Some("Acme Support (EU)"));
    assert_eq!(acme.handle.as_deref(), Some("@acme"));
    assert_eq!(acme.approval, ApprovalMode::FirstReply);
    assert_eq!(acme.trusted_agents, ["lee"]);
    assert_eq!(acme.queue, "social");
    assert_eq!(acme.max_length, Some(500));
    assert!(acme.human_agent_tag);
    assert_eq!(acme.close_loop, CloseLoop::Always);
    assert_eq!(
        acme.close_loop_text,
        "Glad that's sorted, {name}. Price: $5, literal ${HOME"
    );
    assert_eq!(
        acme.offline.get(OfflineChannel::Email),
        "Mail us at {address}, {name}"
    );
    assert_eq!(acme.offline.sms, "Text {address}");
    assert_eq!(acme.offline.dm, defaults::OFFLINE_DM);
    let demo = acme.demo().unwrap();
    assert_eq!(demo.platform, Platform::Facebook);
    assert_eq!(demo.pace, Duration::ZERO);
    assert_eq!(
        demo.feed.as_deref(),
        Some(dir.path().join("demo/feed.jsonl").as_path())
    );
    assert_eq!(
        config.account("acme-masto").unwrap().platform(),
        Platform::Mastodon
    );
    assert!(config.account("nope").is_none());

    assert_eq!(config.jobs.len(), 2);
    let wake = &config.jobs[0];
    assert_eq!(
        (wake.name.as_str(), wake.cron.as_str()),
        ("wake-snoozed", "*/1 * * * *")
    );
    assert_eq!(wake.kind, JobKind::Sweep);
    assert_eq!(
        wake.timezone,
        chrono_tz::Europe::London,
        "defaults to bot.timezone"
    );
    let report = &config.jobs[1];
    assert_eq!(report.timezone, chrono_tz::Europe::Paris);
    // Friday 2026-01-02 10:00 UTC → next run Monday 09:00 Paris time.
    let after = Utc
        .with_ymd_and_hms(2026, 1, 2, 10, 0, 0)
        .unwrap()
        .with_timezone(&report.timezone);
    let next = report.schedule.after(&after).next().unwrap();
    assert_eq!(
        next.date_naive(),
        NaiveDate::from_ymd_opt(2026, 1, 5).unwrap()
    );
    assert_eq!((next.hour(), next.minute()), (9, 0));
}

#[test]
fn minimal_config_gets_every_default() {
    let config = ok(MINIMAL);
    let bot = &config.bot;
    assert_eq!(bot.data_dir, PathBuf::from(BASE).join("data"));
    assert_eq!(bot.listen, "127.0.0.1:8080".parse().unwrap());
    assert!(!bot.monitor);
    assert_eq!(bot.timezone, chrono_tz::UTC);
    assert_eq!(bot.flush_interval, Duration::from_millis(100));
    assert_eq!(bot.reopen_window, Duration::from_secs(72 * 3600));

    assert_eq!(config.chat.kind, ChatKind::Console);
    assert!(config.chat.console.approvers.is_empty());
    assert!(config.chat.console.agents.is_empty());
    assert_eq!(config.chat.console.user, "agent");

    assert_eq!(
        config.approval.approve,
        ["✅", "white_check_mark", "heavy_check_mark"]
    );
    assert_eq!(config.approval.reject, ["❌", "x", "no_entry"]);
    assert!(!config.approval.allow_self_approval);

    assert!(!config.sla.business_hours);
    let first = config.sla.first_response;
    assert_eq!(first.urgent, Duration::from_secs(15 * 60));
    assert_eq!(first.high, Duration::from_secs(3600));
    assert_eq!(first.normal, Duration::from_secs(4 * 3600));
    assert_eq!(first.low, Duration::from_secs(24 * 3600));
    assert_eq!(config.sla.next_response, first);
    assert_eq!(config.sla.warn_before, Duration::from_secs(15 * 60));
    assert_eq!(config.sla.resolution, PerUrgency::default());
    assert!(!config.sla.raise_urgency);
    assert_eq!(
        config.sla.unclaimed_after,
        Some(Duration::from_secs(30 * 60))
    );
    assert_eq!(config.sla.breach_queue, None);

    assert!(config.business_hours.is_none());
    assert!(config.routing.is_empty());
    assert!(config.canned.is_empty());
    assert!(config.jobs.is_empty());

    let account = &config.accounts[0];
    assert_eq!(account.id, "d");
    assert_eq!(account.network, Platform::Demo);
    assert_eq!(account.platform(), Platform::X);
    assert_eq!(
        (account.name.as_deref(), account.handle.as_deref()),
        (None, None)
    );
    assert_eq!(account.approval, ApprovalMode::Always);
    assert!(account.trusted_agents.is_empty());
    assert_eq!(account.queue, "default");
    assert_eq!(account.max_length, None);
    assert!(!account.human_agent_tag);
    assert_eq!(account.close_loop, CloseLoop::Offline);
    assert_eq!(account.close_loop_text, defaults::CLOSE_LOOP);
    assert_eq!(
        account.offline,
        OfflineTemplates {
            email: defaults::OFFLINE_EMAIL.into(),
            sms: defaults::OFFLINE_SMS.into(),
            dm: defaults::OFFLINE_DM.into(),
        }
    );
    assert_eq!(
        account.demo(),
        Some(&DemoSource {
            platform: Platform::X,
            pace: Duration::from_secs(3),
            feed: None,
        })
    );
}

#[test]
fn business_hours_section_defaults() {
    let config = ok(&with("[business_hours]\n"));
    let hours = config.business_hours.unwrap();
    assert_eq!(hours.days.len(), 5);
    assert_eq!(hours.open, NaiveTime::from_hms_opt(9, 0, 0).unwrap());
    assert_eq!(hours.close, NaiveTime::from_hms_opt(17, 30, 0).unwrap());
    assert!(hours.holidays.is_empty());
}

#[test]
fn unknown_keys_are_reported_with_full_paths() {
    assert_problems(&with("colour = \"red\""), &["colour: unknown key"]);
    assert_problems(
        &with("[bot]\nlisten = \"127.0.0.1:1\"\nlsiten = \"x\"\n[chat.console]\nusr = \"a\""),
        &["bot.lsiten: unknown key", "chat.console.usr: unknown key"],
    );
    assert_problems(
        &format!(
            "{MINIMAL}[[accounts]]\nid = \"e\"\nnetwork = \"demo\"\nsimulate = \"x\"\npollinterval = \"30s\"\n\
             [accounts.offline]\nfax = \"no\"\nemail = \"{{address}}\"",
        ),
        &[
            "accounts[1].pollinterval: unknown key",
            "accounts[1].offline.fax: unknown key",
        ],
    );
    assert_problems(
        &with(
            "[canned]\nok = \"fine\"\n[[routing]]\nname = \"r\"\ntags = [\"t\"]\nkeyword = [\"x\"]",
        ),
        &["routing[0].keyword: unknown key"],
    );
    assert_problems(
        &with("[[jobs]]\nname = \"j\"\ncron = \"@daily\"\nkind = \"sweep\"\ncommand = \"rm\""),
        &["jobs[0].command: unknown key"],
    );
}

#[test]
fn type_errors_name_the_key() {
    assert_problems(
        &with("[bot]\nlisten = 8080"),
        &["bot.listen: invalid type: integer `8080`, expected a string"],
    );
    assert_problems(
        &with("[[routing]]\nname = \"r\"\ntags = [\"a\", 5]"),
        &["routing[0].tags[1]: invalid type: integer `5`, expected a string"],
    );
    assert_problems(
        &with("[approval]\nallow_self_approval = \"yes\""),
        &["approval.allow_self_approval: invalid type: string \"yes\", expected a boolean"],
    );
    assert_problems(
        &with("bot = 5"),
        &["bot: invalid type: integer `5`, expected a [bot] table"],
    );
    assert_problems(
        "[accounts]\nid = \"d\"",
        &["accounts: expected an array of tables (write [[accounts]] sections), found table"],
    );
    // A type error in one place does not hide problems elsewhere.
    assert_problems(
        &with(
            "[bot]\nlisten = 1\n[chat]\nkind = 2\n[[accounts]]\nid = \"e\"\nnetwork = \"demo\"\nsimulate = \"x\"\nmax_length = -3",
        ),
        &[
            "bot.listen: invalid type: integer `1`, expected a string",
            "chat.kind: invalid type: integer `2`, expected a string",
            "accounts[0].max_length: invalid value: integer `-3`, expected usize",
        ],
    );
}

#[test]
fn sla_targets_beyond_the_first_response() {
    let config = ok(&with(
        "[sla]\nwarn_before = \"0s\"\n[sla.next_response]\nhigh = \"30m\"\n\
         [sla.resolution]\nurgent = \"8h\"\n[sla.breach]\nraise_urgency = true",
    ));
    assert_eq!(config.sla.warn_before, Duration::ZERO);
    assert_eq!(config.sla.next_response.high, Duration::from_secs(1800));
    assert_eq!(config.sla.next_response.low, Duration::from_secs(24 * 3600));
    let resolution = config.sla.resolution;
    assert_eq!(resolution.urgent, Some(Duration::from_secs(8 * 3600)));
    assert_eq!(resolution.for_urgency(Urgency::Low), None);
    assert!(config.sla.raise_urgency);
    let quiet = ok(&with(
        "[sla]\nunclaimed_after = \"0s\"\n[sla.breach]\nchannel = \"escalations\"",
    ));
    assert_eq!(quiet.sla.unclaimed_after, None);
    assert_eq!(quiet.sla.breach_queue.as_deref(), Some("escalations"));
    assert_problems(
        &with(
            "[sla.resolution]\nlow = \"0s\"\n[sla.next_response]\nurgent = \"soon\"\n[sla.breach]\nping = \"x\"",
        ),
        &[
            r#"sla.next_response.urgent: "soon" is not a duration (use e.g. 90s, 15m, 4h, 2d)"#,
            "sla.resolution.low: must be more than zero",
            "sla.breach.ping: unknown key",
        ],
    );
}

#[test]
fn off_hours_answers_and_auto_close() {
    let hours = "[business_hours]\ndays = \"Mon-Fri\"\n";
    let config = ok(&format!(
        "[bot]\nauto_close_after = \"3d\"\n{hours}{MINIMAL}[accounts.off_hours]\npublic = true\n"
    ));
    assert_eq!(
        config.bot.auto_close_after,
        Some(Duration::from_secs(3 * 86_400))
    );
    let off = config.accounts[0].off_hours.as_ref().unwrap();
    assert_eq!(off.message, defaults::OFF_HOURS);
    assert!(off.public);
    // Off unless written.
    let plain = ok(MINIMAL);
    assert_eq!(plain.bot.auto_close_after, None);
    assert_eq!(plain.accounts[0].off_hours, None);
    assert_problems(
        &format!(
            "[bot]\nauto_close_after = \"0s\"\n{MINIMAL}[accounts.off_hours]\nmessage = \"Back {{when}}\"\n"
        ),
        &[
            "bot.auto_close_after: must be more than zero",
            "accounts[0].off_hours: answers outside business hours, but there is no [business_hours] section",
            "accounts[0].off_hours.message: unknown placeholder {when} (available: {name}, {handle}, {case}, {opens})",
        ],
    );
}

#[test]
fn bad_durations() {
    assert_problems(
        &with("[sla.first_response]\nhigh = \"4 hours\""),
        &[r#"sla.first_response.high: "4 hours" is not a duration (use e.g. 90s, 15m, 4h, 2d)"#],
    );
    assert_problems(
        &with("[sla.first_response]\nurgent = \"0s\"\n[bot]\nreopen_window = \"0\""),
        &[
            "sla.first_response.urgent: must be more than zero",
            "bot.reopen_window: must be more than zero",
        ],
    );
    assert_problems(
        &with("[bot]\nflush_interval = \"11s\""),
        &["bot.flush_interval: must be at most 10s"],
    );
    assert_problems(
        &with("[bot]\nflush_interval = \"0ms\""),
        &["bot.flush_interval: must be more than zero"],
    );
    assert_problems(
        r#"[[accounts]]
id = "d"
network = "demo"
simulate = "x"
pace = "fast""#,
        &[r#"accounts[0].pace: "fast" is not a duration (use e.g. 90s, 15m, 4h, 2d)"#],
    );
}

#[test]
fn bad_timezones_and_addresses() {
    assert_problems(
        &with("[bot]\ntimezone = \"Europe/Londn\"\nlisten = \"localhost:8080\""),
        &[
            r#"bot.timezone: "Europe/Londn" is not a known time zone (use an IANA name such as Europe/London, America/New_York or UTC)"#,
            r#"bot.listen: "localhost:8080" is not an IP address with a port (use e.g. 127.0.0.1:8080 or [::]:8080)"#,
        ],
    );
    assert_problems(
        &with(
            "[[jobs]]\nname = \"j\"\ncron = \"@daily\"\nkind = \"sweep\"\ntimezone = \"Mars/Olympus\"",
        ),
        &[
            r#"jobs[0].timezone: "Mars/Olympus" is not a known time zone (use an IANA name such as Europe/London, America/New_York or UTC)"#,
        ],
    );
}

#[test]
fn bad_enum_values_are_all_reported() {
    assert_problems(
        r#"
[chat]
kind = "teams"
[[accounts]]
id = "d"
network = "demo"
simulate = "myspace"
approval = "sometimes"
close_loop = "maybe"
[[routing]]
name = "r"
platforms = ["x", "friendster"]
kinds = ["dm"]
urgency = "asap"
[[jobs]]
name = "j"
cron = "@daily"
kind = "backup"
"#,
        &[
            r#"chat.kind: "teams" is not one of console, slack, discord"#,
            r#"accounts[0].simulate: "myspace" is not one of x, facebook, instagram, mastodon, bluesky, webhook"#,
            r#"accounts[0].approval: "sometimes" is not one of always, never, first_reply"#,
            r#"accounts[0].close_loop: "maybe" is not one of never, offline, always"#,
            r#"routing[0].platforms[1]: "friendster" is not one of x, facebook, instagram, mastodon, bluesky, webhook, demo"#,
            r#"routing[0].kinds[0]: "dm" is not one of mention, comment, direct_message, listening"#,
            r#"routing[0].urgency: "asap" is not one of urgent, high, normal, low"#,
            r#"jobs[0].kind: "backup" is not one of sweep, digest"#,
        ],
    );
}

#[test]
fn unavailable_chat() {
    assert_problems(
        &with("[chat]\nkind = \"discord\""),
        &[r#"chat.discord: is required when chat.kind is "discord""#],
    );
}

#[test]
fn bluesky_accounts_name_their_login_and_never_echo_the_password() {
    let env = |name: &str| (name == "BSKY_APP_PASSWORD").then(|| "abcd-efgh-ijkl-mnop".to_owned());
    let config = Config::from_toml_str(
        "[[accounts]]\nid = \"b\"\nnetwork = \"bluesky\"\nauth = { kind = \"app_password\", identifier = \"acme.bsky.social\", password = \"${BSKY_APP_PASSWORD}\" }\n",
        Path::new(BASE),
        &env,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let account = &config.accounts[0];
    assert_eq!(account.api_url, "https://bsky.social/");
    let bluesky = account.bluesky.as_ref().unwrap();
    assert_eq!(bluesky.identifier, "acme.bsky.social");
    assert_eq!(bluesky.password.expose(), "abcd-efgh-ijkl-mnop");
    assert_eq!(account.max_length, None);

    // `app_password` is another spelling of `password`; a PDS of its own is named.
    let other = ok(
        "[[accounts]]\nid = \"b\"\nnetwork = \"bluesky\"\napi_url = \"https://pds.acme.example\"\nauth = { kind = \"app_password\", identifier = \"did:plc:acme\", app_password = \"p\" }\n",
    );
    assert_eq!(other.accounts[0].api_url, "https://pds.acme.example/");
    assert_eq!(
        other.accounts[0]
            .bluesky
            .as_ref()
            .unwrap()
            .password
            .expose(),
        "p"
    );

    assert_problems(
        "[[accounts]]\nid = \"b\"\nnetwork = \"bluesky\"",
        &[
            "accounts[0].auth: is required: { kind = \"app_password\", identifier = \"acme.bsky.social\", password = \"${BSKY_APP_PASSWORD}\" }",
        ],
    );
    assert_problems(
        "[[accounts]]\nid = \"b\"\nnetwork = \"bluesky\"\nauth = { kind = \"access_token\", access_token = \"sekrit\" }\nvisibility = \"public\"",
        &[
            "accounts[0].auth.kind: \"access_token\" is not one of app_password",
            "accounts[0].auth.identifier: is required: the account's handle (e.g. \"acme.bsky.social\") or DID",
            "accounts[0].auth.password: is required (write \"${VARIABLE}\" to read it from the environment)",
            "accounts[0].auth.access_token: does not apply to bluesky accounts",
            "accounts[0].visibility: only applies to mastodon accounts",
        ],
    );
    // Bluesky's keys elsewhere, and nothing of a secret in any message.
    let got = problems(
        "[[accounts]]\nid = \"m\"\nnetwork = \"mastodon\"\napi_url = \"https://acme.social\"\nauth = { kind = \"access_token\", access_token = \"t\", identifier = \"acme\", password = \"sekrit\" }",
    );
    assert_eq!(
        got,
        [
            "accounts[0].auth.identifier: only applies to bluesky accounts",
            "accounts[0].auth.password: only applies to bluesky accounts",
        ]
    );
    assert!(got.iter().all(|p| !p.contains("sekrit")));
}

#[test]
fn mastodon_accounts_name_their_instance_and_token() {
    let env = |name: &str| (name == "MASTODON_TOKEN").then(|| "tok".to_owned());
    let config = Config::from_toml_str(
        "[[accounts]]\nid = \"m\"\nnetwork = \"mastodon\"\napi_url = \"https://acme.social\"\nauth = { kind = \"access_token\", access_token = \"${MASTODON_TOKEN}\" }\nvisibility = \"public\"\nstreaming = false\n",
        Path::new(BASE),
        &env,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let account = &config.accounts[0];
    assert_eq!(account.api_url, "https://acme.social/");
    let mastodon = account.mastodon.as_ref().unwrap();
    assert_eq!(mastodon.access_token.expose(), "tok");
    assert_eq!(mastodon.visibility, Visibility::Public);
    assert!(!mastodon.streaming);
    assert_eq!(mastodon.url_length, 23);
    assert_eq!(account.max_length, None);

    let defaults = ok(
        "[[accounts]]\nid = \"m\"\nnetwork = \"mastodon\"\napi_url = \"https://acme.social\"\nauth = { kind = \"access_token\", access_token = \"t\" }\n",
    );
    let mastodon = defaults.accounts[0].mastodon.as_ref().unwrap();
    assert_eq!(mastodon.visibility, Visibility::Unlisted);
    assert!(mastodon.streaming);

    assert_problems(
        "[[accounts]]\nid = \"m\"\nnetwork = \"mastodon\"",
        &[
            "accounts[0].api_url: is required for mastodon accounts: the instance's address, e.g. \"https://mastodon.social\"",
            "accounts[0].auth: is required: { kind = \"access_token\", access_token = \"${MASTODON_TOKEN}\" }",
        ],
    );
    assert_problems(
        "[[accounts]]\nid = \"m\"\nnetwork = \"mastodon\"\napi_url = \"https://acme.social\"\nauth = { kind = \"page_token\", page_token = \"p\" }\nvisibility = \"direct\"\nwebhook = {}",
        &[
            "accounts[0].auth.kind: \"page_token\" is not one of access_token",
            "accounts[0].auth.access_token: is required (write \"${VARIABLE}\" to read it from the environment)",
            "accounts[0].auth.page_token: does not apply to mastodon accounts",
            "accounts[0].visibility: \"direct\" is not one of public, unlisted, private",
            "accounts[0].webhook: only applies to X, facebook and instagram accounts in this build",
        ],
    );
    assert_problems(
        "[[accounts]]\nid = \"d\"\nnetwork = \"demo\"\nsimulate = \"mastodon\"\nvisibility = \"public\"\nstreaming = true",
        &[
            "accounts[0].visibility: only applies to mastodon accounts",
            "accounts[0].streaming: only applies to mastodon accounts",
        ],
    );
}

#[test]
fn bad_regex() {
    let got = problems(&with(
        "[[routing]]\nname = \"r\"\ntags = [\"t\"]\nregex = \"(unclosed\"",
    ));
    assert_eq!(got.len(), 1);
    assert!(
        got[0].starts_with("routing[0].regex: invalid regex: unclosed group"),
        "{}",
        got[0]
    );
    assert!(!got[0].contains('\n'));
}

#[test]
fn bad_cron_lines() {
    let cases = [
        ("@reboot", "@reboot is not supported"),
        ("@often", "is not a known shorthand"),
        ("0 0 9 * * 1", "has 6 fields"),
        ("0 0 9 * * 1 2027", "has 7 fields"),
        ("0 9 *", "has 3 fields"),
        ("0 9 1 * Mon", "restrict only one of them"),
        ("0 9 * * 9", "day-of-week \\\"9\\\""),
        ("61 * * * *", "is not a valid crontab line"),
    ];
    for (line, expected) in cases {
        let text = with(&format!(
            "[[jobs]]\nname = \"j\"\ncron = \"{line}\"\nkind = \"sweep\""
        ));
        let got = problems(&text);
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(got[0].starts_with("jobs[0].cron: "), "{}", got[0]);
        assert!(
            got[0].contains(expected.replace("\\\"", "\"").as_str()),
            "{line}: {}",
            got[0]
        );
    }
    assert_problems(
        &with("[[jobs]]\nname = \"j\"\nkind = \"sweep\""),
        &[r#"jobs[0].cron: is required: a 5-field crontab line such as "*/5 * * * *" or @hourly"#],
    );
}

#[test]
fn unset_environment_variables_name_the_key_and_variable() {
    assert_problems(
        r#"
[bot]
listen = "${LISTEN_ADDR}"
[[accounts]]
id = "d"
network = "demo"
simulate = "x"
handle = "@${BRAND}-${REGION}"
trusted_agents = ["ok", "${AGENT_2}"]
"#,
        &[
            // Only the substitution problem: the unexpanded "${LISTEN_ADDR}" is not also
            // reported as a bad address.
            "bot.listen: environment variable LISTEN_ADDR is not set",
            "accounts[0].handle: environment variable BRAND is not set",
            "accounts[0].trusted_agents[1]: environment variable AGENT_2 is not set",
        ],
    );
}

#[test]
fn substitution_works_anywhere_and_escapes() {
    let config = ok(&with(
        "[canned]\nhi = \"Hello from ${REGION}; write $${REGION to get ${REGION}. $5 $$ $\"",
    ));
    assert_eq!(
        config.canned["hi"],
        "Hello from EU; write ${REGION to get EU. $5 $$ $"
    );
}

#[test]
fn account_identity_checks() {
    assert_problems(
        r#"
[[accounts]]
id = "acme"
network = "demo"
simulate = "x"
[[accounts]]
id = "acme"
network = "demo"
simulate = "x"
[[accounts]]
id = "Acme X"
network = "demo"
simulate = "x"
[[accounts]]
network = "demo"
simulate = "x"
[[accounts]]
id = "n"
"#,
        &[
            r#"accounts[1].id: duplicate account id "acme" (also accounts[0])"#,
            r#"accounts[2].id: "Acme X" is not a valid id (use only a-z, 0-9, _ and -)"#,
            "accounts[3].id: is required (letters a-z, digits, _ and -)",
            "accounts[4].network: is required (one of x, facebook, instagram, mastodon, bluesky, webhook, demo)",
        ],
    );
}

#[test]
fn routing_checks() {
    assert_problems(
        &with(
            r#"
[[routing]]
name = "a"
accounts = ["d", "ghost"]
urgency = "high"
[[routing]]
name = "a"
keywords = ["ok", ""]
[[routing]]
tags = ["t"]
"#,
        ),
        &[
            r#"routing[0].accounts[1]: no [[accounts]] entry has id "ghost""#,
            r#"routing[1].name: duplicate rule name "a" (also routing[0])"#,
            "routing[1].keywords[1]: must not be empty",
            "routing[1]: does nothing: set at least one of urgency, queue or tags",
            "routing[2].name: is required: a unique name for this rule",
        ],
    );
    // An unreadable account does not make references to it look dangling.
    assert_problems(
        &with(
            "[[accounts]]\nid = \"e\"\nnetwork = 5\n[[routing]]\nname = \"r\"\naccounts = [\"e\"]\nqueue = \"q\"",
        ),
        &["accounts[0].network: invalid type: integer `5`, expected a string"],
    );
}

#[test]
fn business_hours_checks() {
    assert_problems(
        &with("[business_hours]\nopen = \"17:30\"\nclose = \"09:00\""),
        &[
            "business_hours.close: 09:00 is not after open (17:30); hours past midnight are not supported",
        ],
    );
    assert_problems(
        &with("[business_hours]\nopen = \"09:00\"\nclose = \"09:00\""),
        &[
            "business_hours.close: 09:00 is not after open (09:00); hours past midnight are not supported",
        ],
    );
    assert_problems(
        &with(
            "[business_hours]\ndays = \"Mon-Fry\"\nopen = \"9am\"\nholidays = [\"2026-12-25\", \"Christmas\"]",
        ),
        &[
            r#"business_hours.days: "Mon-Fry" is not a list of days (use e.g. Mon-Fri, Mon,Wed,Fri or Sat-Sun)"#,
            r#"business_hours.open: "9am" is not a time (use HH:MM, e.g. 09:00)"#,
            r#"business_hours.holidays[1]: "Christmas" is not a date (use YYYY-MM-DD, e.g. 2026-12-25)"#,
        ],
    );
    assert_problems(
        &with("[sla]\nbusiness_hours = true"),
        &["sla.business_hours: is true but there is no [business_hours] section to count in"],
    );
    // A broken section is reported once, not also as missing.
    assert_problems(
        &with("[sla]\nbusiness_hours = true\n[business_hours]\nopen = 9"),
        &["business_hours.open: invalid type: integer `9`, expected a string"],
    );
}

#[test]
fn demo_keys_only_on_demo_accounts() {
    assert_problems(
        r#"
[[accounts]]
id = "acme-x"
network = "x"
auth = { kind = "oauth1", consumer_key = "k", consumer_secret = "s", access_token = "t", access_token_secret = "ts" }
simulate = "x"
pace = "1s"
feed = "feed.jsonl"
human_agent_tag = true
"#,
        &[
            r#"accounts[0].simulate: only applies to demo accounts (network = "demo")"#,
            r#"accounts[0].pace: only applies to demo accounts (network = "demo")"#,
            r#"accounts[0].feed: only applies to demo accounts (network = "demo")"#,
            "accounts[0].human_agent_tag: only applies to facebook and instagram accounts (this one is x)",
        ],
    );
    assert_problems(
        "[[accounts]]\nid = \"d\"\nnetwork = \"demo\"\nfeed = \"missing.jsonl\"",
        &[
            "accounts[0].simulate: is required for demo accounts: the network to behave as (one of x, facebook, instagram, mastodon, bluesky, webhook)",
            "accounts[0].feed: /srv/carebridge/missing.jsonl is not an existing file",
        ],
    );
    assert_problems(
        "[[accounts]]\nid = \"d\"\nnetwork = \"demo\"\nsimulate = \"demo\"",
        &[
            r#"accounts[0].simulate: "demo" is not one of x, facebook, instagram, mastodon, bluesky, webhook"#,
        ],
    );
    // Simulating instagram allows the human agent tag.
    let config = ok(
        "[[accounts]]\nid = \"d\"\nnetwork = \"demo\"\nsimulate = \"instagram\"\nhuman_agent_tag = true",
    );
    assert!(config.accounts[0].human_agent_tag);
}

#[test]
fn templates_and_other_account_values() {
    assert_problems(
        r#"
[canned]
sorry = "Hi {nmae}, {name} {nmae}"
"thank you" = "Thanks {address}"
[[accounts]]
id = "d"
network = "demo"
simulate = "x"
queue = ""
max_length = 0
close_loop_text = "Bye {customer}"
[accounts.offline]
email = "Mail {address} {agent} {phone}"
"#,
        &[
            "canned.sorry: unknown placeholder {nmae} (available: {name}, {handle}, {agent}, {case})",
            r#"canned."thank you": unknown placeholder {address} (available: {name}, {handle}, {agent}, {case})"#,
            "accounts[0].queue: must not be empty",
            "accounts[0].max_length: must be more than zero",
            "accounts[0].close_loop_text: unknown placeholder {customer} (available: {name}, {handle}, {agent}, {case})",
            "accounts[0].offline.email: unknown placeholder {phone} (available: {name}, {handle}, {agent}, {case}, {address})",
        ],
    );
}

#[test]
fn approval_checks() {
    assert_problems(
        &with("[approval]\napprove = []\nreject = [\"x\", \"\"]"),
        &[
            "approval.approve: must list at least one reaction",
            "approval.reject[1]: must not be empty",
        ],
    );
    assert_problems(
        &with("[approval]\napprove = [\"x\", \"ok\"]"),
        &[r#"approval.reject[1]: "x" is also in approval.approve"#],
    );
}

#[test]
fn no_accounts() {
    let expected = r#"accounts: at least one [[accounts]] entry is required (try network = "demo" with simulate = "x")"#;
    assert_problems("", &[expected]);
    assert_problems("accounts = []", &[expected]);
}

#[test]
fn several_problems_are_reported_together_one_per_line() {
    let text = r#"
typo = 1
[bot]
timezone = "Nowhere"
[sla.first_response]
low = "a day"
[[accounts]]
id = "d"
network = "demo"
simulate = "x"
approval = "sometimes"
[[accounts]]
id = "d"
network = "demo"
simulate = "x"
"#;
    let errors = load(text).unwrap_err();
    assert_eq!(errors.0.len(), 5, "{errors}");
    let shown = errors.to_string();
    assert_eq!(shown.lines().count(), 5);
    assert!(shown.starts_with("typo: unknown key\n"), "{shown}");
    assert!(shown.contains("\nbot.timezone: \"Nowhere\" is not a known time zone"));
    assert!(shown.contains("\nsla.first_response.low: \"a day\" is not a duration"));
    assert!(shown.contains("\naccounts[0].approval: \"sometimes\" is not one of"));
    assert!(shown.ends_with("accounts[1].id: duplicate account id \"d\" (also accounts[0])"));
    let _: &dyn std::error::Error = &errors;
}

#[test]
fn syntax_errors_give_line_and_column() {
    let errors = load("[bot]\nlisten = \"127.0.0.1:8080\"\ntimezone = = \"UTC\"\n").unwrap_err();
    assert_eq!(errors.0.len(), 1);
    assert_eq!(errors.0[0].path, "line 3, column 12", "{}", errors.0[0]);
    assert!(!errors.0[0].message.is_empty());
    assert!(!errors.0[0].message.contains('\n'));

    let duplicate = load("[bot]\nlisten = \"a\"\nlisten = \"b\"\n").unwrap_err();
    assert!(
        duplicate.0[0].path.starts_with("line 3, column"),
        "{duplicate}"
    );
}

#[test]
fn load_reads_the_file_and_resolves_paths_against_its_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("feed.jsonl"), "").unwrap();
    let file = dir.path().join("bot.toml");
    std::fs::write(
        &file,
        "[bot]\ndata_dir = \"../elsewhere/data\"\n[[accounts]]\nid = \"d\"\nnetwork = \"demo\"\nsimulate = \"x\"\nfeed = \"feed.jsonl\"\n",
    )
    .unwrap();
    let config = Config::load(&file).unwrap();
    assert_eq!(config.bot.data_dir, dir.path().join("../elsewhere/data"));
    assert_eq!(
        config.accounts[0].demo().unwrap().feed.as_deref(),
        Some(dir.path().join("feed.jsonl").as_path())
    );

    let absolute = dir.path().join("abs.toml");
    std::fs::write(&absolute, "[bot]\ndata_dir = \"/var/lib/carebridge\"\n[[accounts]]\nid = \"d\"\nnetwork = \"demo\"\nsimulate = \"x\"\n").unwrap();
    assert_eq!(
        Config::load(&absolute).unwrap().bot.data_dir,
        Path::new("/var/lib/carebridge")
    );
}

#[test]
fn unreadable_file_is_one_problem_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.toml");
    let errors = Config::load(&missing).unwrap_err();
    assert_eq!(errors.0.len(), 1);
    assert_eq!(errors.0[0].path, missing.display().to_string());
    assert!(
        errors.0[0]
            .message
            .starts_with("cannot read the config file: ")
    );
}

const SLACK: &str = r#"
[chat]
kind = "slack"
[chat.slack]
bot_token = "${SLACK_BOT_TOKEN}"
app_token = "${SLACK_APP_TOKEN}"
approvers = ["U0123MANAGER", "S0456LEADS"]
[chat.slack.channels]
default = "C0123INBOX"
escalations = "G0456ESCAL"
"#;

#[test]
fn who_is_on_call_per_queue() {
    let slack = ok(&with(&format!(
        "{SLACK}[chat.slack.on_call]\ndefault = \"S0789ONCALL\"\nbilling = \"U0123MANAGER\"\n"
    )))
    .chat
    .slack
    .unwrap();
    assert_eq!(
        on_call_for(&slack.on_call, "billing").map(String::as_str),
        Some("U0123MANAGER")
    );
    assert_eq!(
        on_call_for(&slack.on_call, "social").map(String::as_str),
        Some("S0789ONCALL")
    );
    let discord = ok(&with(&format!(
        "{DISCORD}[chat.discord.on_call]\nbilling = \"1500000000000000009\"\n"
    )))
    .chat
    .discord
    .unwrap();
    assert_eq!(
        on_call_for(&discord.on_call, "billing"),
        Some(&1500000000000000009)
    );
    assert_eq!(on_call_for(&discord.on_call, "social"), None);
    assert_problems(
        &with(&format!(
            "{SLACK}[chat.slack.on_call]\ndefault = \"C0123INBOX\"\n"
        )),
        &[
            r#"chat.slack.on_call.default: "C0123INBOX" is not a Slack user group (S…) or user (U…/W…) id"#,
        ],
    );
}

#[test]
fn slack_defaults_and_channels() {
    let config = ok(&with(SLACK));
    assert_eq!(config.chat.kind, ChatKind::Slack);
    let slack = config.chat.slack.unwrap();
    assert_eq!(slack.mode, SlackMode::Socket);
    assert_eq!(slack.bot_token.expose(), "xoxb-1-secret-bot");
    assert_eq!(slack.api_url, "https://slack.com/api/");
    assert_eq!(slack.app_name, "carebridge");
    assert_eq!(slack.group_cache, Duration::from_secs(300));
    assert!(slack.agents.is_empty());
    assert_eq!(slack.channel_for("escalations"), "G0456ESCAL");
    assert_eq!(slack.channel_for("billing"), "C0123INBOX");
    // Secrets never show in debug output (and so never in logs).
    let debug = format!("{slack:?}");
    assert!(
        !debug.contains("secret-bot") && !debug.contains("secret-app"),
        "{debug}"
    );
}

#[test]
fn slack_events_mode_needs_the_signing_secret() {
    let text = with(&format!(
        "{}\n",
        SLACK.replace(
            "app_token = \"${SLACK_APP_TOKEN}\"",
            "mode = \"events\"\napi_url = \"http://127.0.0.1:9/api\""
        )
    ));
    assert_problems(
        &text,
        &[
            r#"chat.slack.signing_secret: is required (write "${VARIABLE}" to read it from the environment)"#,
        ],
    );
    let text = text.replace(
        "mode = \"events\"",
        "mode = \"events\"\nsigning_secret = \"${SLACK_SIGNING_SECRET}\"",
    );
    let slack = ok(&text).chat.slack.unwrap();
    assert_eq!(slack.mode, SlackMode::Events);
    assert_eq!(slack.api_url, "http://127.0.0.1:9/api/");
    assert!(slack.app_token.is_none());
}

#[test]
fn slack_problems_name_the_key_and_never_the_secret() {
    let errors = problems(&with(
        r##"
[chat]
kind = "slack"
[chat.slack]
mode = "webhooks"
bot_token = "${WRONG_TOKEN}"
api_url = "slack.com"
approvers = ["maria", "U0LEE"]
[chat.slack.channels]
support = "#support"
"##,
    ));
    let mut want = vec![
        r#"chat.slack.mode: "webhooks" is not one of socket, events"#,
        r#"chat.slack.bot_token: must start with "xoxb-""#,
        r#"chat.slack.app_token: is required (write "${VARIABLE}" to read it from the environment)"#,
        r#"chat.slack.api_url: "slack.com" is not an http(s) URL"#,
        r#"chat.slack.approvers[0]: "maria" is not a Slack user id (U…/W…) or user-group id (S…)"#,
        "chat.slack.channels.default: is required: the channel for every queue not listed (a channel id like C0123ABCD)",
        r##"chat.slack.channels.support: "#support" is not a Slack channel id (C… or G…; in Slack, open the channel's details to copy it)"##,
    ];
    let mut got = errors.clone();
    got.sort();
    want.sort();
    assert_eq!(got, want);
    assert!(!errors.concat().contains("user-token-secret"));
    assert_problems(
        &with("[chat]\nkind = \"slack\""),
        &[r#"chat.slack: is required when chat.kind is "slack""#],
    );
}

const X_OAUTH2: &str = r#"
[[accounts]]
id = "acme-x"
network = "x"
auth = { kind = "oauth2", access_token = "${X_ACCESS}", refresh_token = "${X_REFRESH}", client_id = "cid" }
"#;

fn x_env(name: &str) -> Option<String> {
    match name {
        "X_ACCESS" => Some("access-secret-value".to_owned()),
        "X_REFRESH" => Some("refresh-secret-value".to_owned()),
        other => env(other),
    }
}

fn x_load(text: &str) -> Result<Config, ConfigErrors> {
    Config::from_toml_str(text, Path::new(BASE), &x_env)
}

#[test]
fn x_account_defaults() {
    let config = x_load(X_OAUTH2).unwrap();
    let account = &config.accounts[0];
    assert_eq!(account.api_url, "https://api.x.com/");
    assert_eq!(account.poll_interval, Duration::from_secs(60));
    let x = account.x().unwrap();
    assert!(x.mentions && x.dms);
    assert_eq!(x.backfill, Duration::ZERO);
    assert!(x.webhook.is_none() && x.listening.is_empty() && x.user_id.is_none());
    match &x.auth {
        XAuth::OAuth2 {
            access_token,
            refresh_token,
            client_id,
            client_secret,
        } => {
            assert_eq!(access_token.expose(), "access-secret-value");
            assert_eq!(
                refresh_token.as_ref().map(Secret::expose),
                Some("refresh-secret-value")
            );
            assert_eq!(client_id, "cid");
            assert!(client_secret.is_none());
        }
        other => panic!("{other:?}"),
    }
    // Secrets never show in Debug output.
    let debug = format!("{config:?}");
    assert!(!debug.contains("secret-value"), "{debug}");
}

#[test]
fn x_account_keys() {
    let text = r#"
[[accounts]]
id = "acme-x"
network = "x"
api_url = "http://127.0.0.1:9999"
poll_interval = "15s"
user_id = "1000"
backfill = "24h"
dms = false
auth = { kind = "oauth1", consumer_key = "ck", consumer_secret = "cs", access_token = "at", access_token_secret = "ats" }
webhook = {}
[[accounts.listening]]
query = "acme outage -is:retweet"
[[accounts.listening]]
query = "acme love"
queue = "praise"
"#;
    let config = x_load(text).unwrap();
    let account = &config.accounts[0];
    assert_eq!(account.api_url, "http://127.0.0.1:9999/");
    assert_eq!(account.poll_interval, Duration::from_secs(15));
    let x = account.x().unwrap();
    assert_eq!(x.user_id.as_deref(), Some("1000"));
    assert_eq!(x.backfill, Duration::from_secs(24 * 3600));
    assert!(x.mentions && !x.dms);
    // The webhook takes the OAuth 1.0a consumer secret.
    assert_eq!(x.webhook.as_ref().unwrap().consumer_secret.expose(), "cs");
    assert_eq!(
        x.listening
            .iter()
            .map(|q| (q.query.as_str(), q.queue.as_str()))
            .collect::<Vec<_>>(),
        [
            ("acme outage -is:retweet", "listening"),
            ("acme love", "praise")
        ]
    );
}

#[test]
fn x_account_problems_name_the_key() {
    let check = |text: &str, expected: &[&str]| {
        let mut got: Vec<String> = match x_load(text) {
            Ok(_) => panic!("accepted:\n{text}"),
            Err(errors) => errors.0.iter().map(ToString::to_string).collect(),
        };
        let mut want: Vec<String> = expected.iter().map(|s| (*s).to_owned()).collect();
        got.sort();
        want.sort();
        assert_eq!(got, want);
    };
    check(
        "[[accounts]]\nid = \"a\"\nnetwork = \"x\"",
        &[
            "accounts[0].auth: is required for X accounts: { kind = \"oauth2\", access_token, refresh_token, client_id } or { kind = \"oauth1\", consumer_key, consumer_secret, access_token, access_token_secret }",
        ],
    );
    check(
        "[[accounts]]\nid = \"a\"\nnetwork = \"x\"\nauth = { kind = \"oauth2\", access_token = \"${X_ACCESS}\", consumer_key = \"k\" }\nwebhook = {}\npoll_interval = \"500ms\"\nuser_id = \"@acme\"",
        &[
            "accounts[0].auth.consumer_key: only applies to kind = \"oauth1\"",
            "accounts[0].auth.refresh_token: is required: X's OAuth 2.0 access tokens expire after two hours, and only a refresh token (scope offline.access) keeps the account working",
            "accounts[0].auth.client_id: is required: the X app's OAuth 2.0 client id, needed to refresh tokens",
            "accounts[0].webhook.consumer_secret: is required with OAuth 2.0 auth: the X app's consumer secret (API key secret), which signs webhook deliveries",
            "accounts[0].poll_interval: must be at least 1s",
            "accounts[0].user_id: \"@acme\" is not a numeric X user id",
        ],
    );
    check(
        "[[accounts]]\nid = \"a\"\nnetwork = \"x\"\nauth = { kind = \"oauth1\", consumer_key = \"k\" }\nlistening = [{ queue = \"\" }]",
        &[
            "accounts[0].auth.access_token: is required (write \"${VARIABLE}\" to read it from the environment)",
            "accounts[0].auth.consumer_secret: is required (write \"${VARIABLE}\" to read it from the environment)",
            "accounts[0].auth.access_token_secret: is required (write \"${VARIABLE}\" to read it from the environment)",
            "accounts[0].listening[0].query: is required: an X search query, e.g. \"acme outage -is:retweet\"",
            "accounts[0].listening[0].queue: must not be empty",
        ],
    );
    check(
        "[[accounts]]\nid = \"a\"\nnetwork = \"x\"\nauth = { kind = \"basic\" }",
        &["accounts[0].auth.kind: \"basic\" is not one of oauth2, oauth1"],
    );
    // X keys on other accounts, network keys on demo accounts.
    check(
        "[[accounts]]\nid = \"d\"\nnetwork = \"demo\"\nsimulate = \"x\"\nauth = { kind = \"oauth2\" }\nlistening = []\napi_url = \"http://x\"",
        &[
            "accounts[0].auth: only applies to X, facebook, instagram, mastodon and bluesky accounts",
            "accounts[0].listening: only applies to X accounts (network = \"x\") in this build",
            "accounts[0].api_url: does not apply to demo accounts (they use `pace`)",
        ],
    );
}

const DISCORD: &str = r#"
[chat]
kind = "discord"
[chat.discord]
token = "${DISCORD_TOKEN}"
application_id = "1100000000000000001"
guild_id = "1200000000000000001"
approver_roles = ["1500000000000000002"]
[chat.discord.channels]
default = "1400000000000000001"
billing = "1400000000000000002"
"#;

#[test]
fn discord_defaults_and_channels() {
    let config = ok(&with(DISCORD));
    assert_eq!(config.chat.kind, ChatKind::Discord);
    let discord = config.chat.discord.unwrap();
    assert_eq!(discord.token.expose(), "discord-secret-token");
    assert_eq!(discord.application_id, 1100000000000000001);
    assert_eq!(discord.guild_id, 1200000000000000001);
    assert_eq!(discord.api_url, "https://discord.com/api/");
    assert_eq!(discord.approver_roles, [1500000000000000002]);
    assert!(discord.approvers.is_empty() && discord.agents.is_empty());
    assert!(!discord.thread_commands);
    assert!(discord.archive_closed);
    assert_eq!(discord.auto_archive_minutes, 10080);
    assert_eq!(discord.command_permission, Some(1 << 34));
    assert_eq!(discord.role_cache, Duration::from_secs(300));
    assert_eq!(discord.channel_for("billing"), 1400000000000000002);
    assert_eq!(discord.channel_for("escalations"), 1400000000000000001);
    let debug = format!("{discord:?}");
    assert!(!debug.contains("discord-secret-token"), "{debug}");
}

#[test]
fn discord_problems_name_the_key() {
    let text = with(
        r##"
[chat]
kind = "discord"
[chat.discord]
application_id = "my-app"
api_url = "https://discord.com/"
agent_roles = ["1", "@support"]
auto_archive = "2d"
command_permission = "kick"
[chat.discord.channels]
billing = "#billing"
"##,
    );
    assert_problems(
        &text,
        &[
            r#"chat.discord.token: is required (write "${VARIABLE}" to read it from the environment)"#,
            r#"chat.discord.application_id: "my-app" is not a Discord id (a number like "1234567890123456789"; enable Developer Mode, then Copy ID)"#,
            "chat.discord.guild_id: is required (a Discord id: enable Developer Mode, then Copy ID)",
            r#"chat.discord.api_url: "https://discord.com/" must end in /api/ (Discord's REST paths start there)"#,
            r#"chat.discord.agent_roles[1]: "@support" is not a Discord id (a number like "1234567890123456789"; enable Developer Mode, then Copy ID)"#,
            r#"chat.discord.auto_archive: "2d" is not one of 1h, 24h, 3d, 7d"#,
            r#"chat.discord.command_permission: "kick" is not one of manage_threads, manage_messages, moderate_members, manage_guild, administrator, everyone"#,
            r##"chat.discord.channels.billing: "#billing" is not a Discord id (a number like "1234567890123456789"; enable Developer Mode, then Copy ID)"##,
            "chat.discord.channels.default: is required: the text or forum channel for every queue not listed",
        ],
    );
    let everyone = with(&DISCORD.replace(
        "approver_roles",
        "command_permission = \"everyone\"\nauto_archive = \"24h\"\nthread_commands = true\napprover_roles",
    ));
    let discord = ok(&everyone).chat.discord.unwrap();
    assert_eq!(discord.command_permission, None);
    assert_eq!(discord.auto_archive_minutes, 1440);
    assert!(discord.thread_commands);
}

const FACEBOOK: &str = r#"
[[accounts]]
id = "acme-fb"
network = "facebook"
page_id = "448242228374517"
auth = { kind = "page_token", page_token = "${FB_PAGE_TOKEN}" }
webhook = { app_secret = "${META_APP_SECRET}", verify_token = "${META_VERIFY_TOKEN}" }
human_agent_tag = true
"#;

#[test]
fn facebook_accounts_take_a_page_token_and_a_webhook() {
    let config = ok(FACEBOOK);
    let account = &config.accounts[0];
    assert_eq!(account.network, Platform::Facebook);
    assert_eq!(account.api_url, "https://graph.facebook.com/");
    let meta = account.meta.as_ref().unwrap();
    assert_eq!(meta.page_id, "448242228374517");
    assert_eq!(meta.graph_version, "v21.0");
    assert_eq!(meta.page_token.expose(), "page-secret-token");
    assert_eq!(meta.webhook.app_secret.expose(), "meta-app-secret");
    assert_eq!(meta.webhook.verify_token.expose(), "meta-verify");
    assert!(account.x.is_none());
    assert!(!format!("{account:?}").contains("page-secret-token"));
}

#[test]
fn facebook_problems_name_the_key() {
    assert_problems(
        r#"
[[accounts]]
id = "acme-ig"
network = "instagram"
page_id = "acme"
graph_version = "21"
auth = { kind = "oauth2", access_token = "x" }
webhook = { consumer_secret = "${META_APP_SECRET}" }
listening = [{ query = "acme" }]
"#,
        &[
            r#"accounts[0].page_id: "acme" is not a numeric Page or Instagram account id"#,
            r#"accounts[0].graph_version: "21" is not a Graph API version like "v21.0""#,
            r#"accounts[0].auth.kind: "oauth2" is not one of page_token"#,
            "accounts[0].webhook.consumer_secret: only applies to X accounts",
            r#"accounts[0].webhook.app_secret: is required (write "${VARIABLE}" to read it from the environment)"#,
            r#"accounts[0].webhook.verify_token: is required (write "${VARIABLE}" to read it from the environment)"#,
            r#"accounts[0].listening: only applies to X accounts (network = "x") in this build"#,
        ],
    );
    assert_problems(
        &format!("{MINIMAL}page_id = \"1\"\n"),
        &["accounts[0].page_id: only applies to facebook and instagram accounts"],
    );
}

#[test]
fn digest_jobs_take_a_channel_and_a_period() {
    let config = load(&with(
        "[[jobs]]\nname = \"daily\"\ncron = \"0 9 * * *\"\nkind = \"digest\"\nchannel = \"billing\"\n\n\
         [[jobs]]\nname = \"weekly\"\ncron = \"0 9 * * Mon\"\nkind = \"digest\"\nchannel = \"default\"\nperiod = \"7d\"",
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    let daily = &config.jobs[0];
    assert_eq!(daily.kind, JobKind::Digest);
    assert_eq!(
        daily.digest,
        Some(super::DigestJob {
            queue: "billing".to_owned(),
            period: Duration::from_secs(24 * 3600),
        }),
        "period defaults to 24h"
    );
    assert_eq!(
        config.jobs[1].digest.as_ref().map(|d| d.period),
        Some(Duration::from_secs(7 * 24 * 3600))
    );
    let sweep = load(&with(
        "[[jobs]]\nname = \"s\"\ncron = \"* * * * *\"\nkind = \"sweep\"",
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sweep.jobs[0].digest, None);
}

#[test]
fn digest_keys_are_required_for_digests_and_refused_elsewhere() {
    assert_problems(
        &with("[[jobs]]\nname = \"d\"\ncron = \"@daily\"\nkind = \"digest\"\nperiod = \"0s\""),
        &[
            r#"jobs[0].channel: is required for a digest job: the queue whose channel it posts to, such as "default""#,
            "jobs[0].period: must be more than zero",
        ],
    );
    assert_problems(
        &with(
            "[[jobs]]\nname = \"d\"\ncron = \"@daily\"\nkind = \"digest\"\nchannel = \" \"\nperiod = \"a day\"",
        ),
        &[
            "jobs[0].channel: must not be empty",
            r#"jobs[0].period: "a day" is not a duration (use e.g. 90s, 15m, 4h, 2d)"#,
        ],
    );
    assert_problems(
        &with(
            "[[jobs]]\nname = \"ok\"\ncron = \"@daily\"\nkind = \"sweep\"\n\n\
             [[jobs]]\nname = \"s\"\ncron = \"@daily\"\nkind = \"sweep\"\nchannel = \"default\"\nperiod = \"24h\"",
        ),
        &[
            "jobs[1].channel: is only for digest jobs, not sweep",
            "jobs[1].period: is only for digest jobs, not sweep",
        ],
    );
}

const WEBHOOK: &str = r#"
[[accounts]]
id = "acme-forms"
network = "webhook"
secret = "${FORMS_SECRET}"
callback_url = "https://forms.acme.example/carebridge/replies"
"#;

#[test]
fn webhook_accounts_take_a_secret_a_window_and_a_callback() {
    let config = ok(WEBHOOK);
    let account = &config.accounts[0];
    assert_eq!(account.network, Platform::Webhook);
    let webhook = account.webhook.as_ref().unwrap();
    assert_eq!(webhook.secret.expose(), "whsec-forms-0123456789");
    assert_eq!(
        webhook.replay_window,
        Duration::from_secs(300),
        "default 5m"
    );
    assert_eq!(
        webhook.callback_url.as_deref(),
        Some("https://forms.acme.example/carebridge/replies"),
        "kept as written: it is an endpoint, not a base"
    );
    assert!(account.x.is_none() && account.meta.is_none());
    assert!(!format!("{account:?}").contains("whsec-forms"));
    let quiet = ok(&WEBHOOK.replace(
        "callback_url = \"https://forms.acme.example/carebridge/replies\"",
        "replay_window = \"30s\"",
    ));
    let webhook = quiet.accounts[0].webhook.as_ref().unwrap();
    assert_eq!(webhook.callback_url, None);
    assert_eq!(webhook.replay_window, Duration::from_secs(30));
    assert!(ok(MINIMAL).accounts[0].webhook.is_none());
}

#[test]
fn webhook_problems_name_the_key() {
    assert_problems(
        r#"
[[accounts]]
id = "acme-forms"
network = "webhook"
replay_window = "2h"
callback_url = "forms.acme.example/replies"
api_url = "https://forms.acme.example/"
poll_interval = "30s"
page_id = "1"
"#,
        &[
            r#"accounts[0].secret: is required (write "${VARIABLE}" to read it from the environment)"#,
            "accounts[0].replay_window: must be from 1s to 1h",
            r#"accounts[0].callback_url: "forms.acme.example/replies" is not an http(s) URL"#,
            "accounts[0].api_url: does not apply to webhook accounts (posts arrive at /webhooks/generic/<account id>; replies go to `callback_url`)",
            "accounts[0].poll_interval: does not apply to webhook accounts (posts arrive at /webhooks/generic/<account id>; replies go to `callback_url`)",
            "accounts[0].page_id: only applies to facebook and instagram accounts",
        ],
    );
    assert_problems(
        "[[accounts]]\nid = \"f\"\nnetwork = \"webhook\"\nsecret = \"hunter2\"\nreplay_window = \"0s\"",
        &[
            "accounts[0].secret: must be at least 16 characters (a random string, e.g. from `openssl rand -hex 32`)",
            "accounts[0].replay_window: must be more than zero",
        ],
    );
    assert_problems(
        "[[accounts]]\nid = \"f\"\nnetwork = \"webhook\"\nsecret = \"${NO_SUCH_SECRET}\"",
        &["accounts[0].secret: environment variable NO_SUCH_SECRET is not set"],
    );
    assert_problems(
        &format!(
            "{MINIMAL}secret = \"whsec-forms-0123456789\"\ncallback_url = \"https://x.example/\"\n"
        ),
        &[
            r#"accounts[0].secret: only applies to webhook accounts (network = "webhook")"#,
            r#"accounts[0].callback_url: only applies to webhook accounts (network = "webhook")"#,
        ],
    );
}

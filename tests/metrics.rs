//! `/metrics` and `/healthz` end to end: the real binary on the console chat with a Facebook
//! Page on the fake Graph API. The counters move as a comment comes in and a reply goes out;
//! the health report turns 503, naming the account, once Meta refuses the Page token.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/background.rs"]
mod background;
#[path = "support/console.rs"]
mod console;
#[path = "support/meta.rs"]
mod meta;
#[path = "support/run.rs"]
mod run;

use std::collections::BTreeMap;
use std::time::Duration;

use console::Console;
use meta::{APP_SECRET, FakeGraph, PAGE_ID, PAGE_TOKEN, VERIFY_TOKEN};
use run::wait_until;
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(20);

/// One sample of the Prometheus text format: `name{label="value",…} number`.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// Parses the text format, failing the test on a line that is neither a comment nor a sample.
fn parse(text: &str) -> Vec<Sample> {
    let mut samples = Vec::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        if let Some(comment) = line.strip_prefix('#') {
            let comment = comment.trim_start();
            assert!(
                comment.starts_with("HELP ") || comment.starts_with("TYPE "),
                "bad comment line: {line}"
            );
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect(line);
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("bad value: {line}"));
        let (name, labels) = match series.split_once('{') {
            None => (series, BTreeMap::new()),
            Some((name, rest)) => {
                let body = rest.strip_suffix('}').unwrap_or_else(|| panic!("{line}"));
                let labels = body
                    .split(',')
                    .filter(|p| !p.is_empty())
                    .map(|pair| {
                        let (k, v) = pair.split_once('=').unwrap_or_else(|| panic!("{line}"));
                        let v = v.strip_prefix('"').and_then(|v| v.strip_suffix('"'));
                        (
                            k.to_owned(),
                            v.unwrap_or_else(|| panic!("{line}")).to_owned(),
                        )
                    })
                    .collect();
                (name, labels)
            }
        };
        assert!(
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "bad metric name: {line}"
        );
        samples.push(Sample {
            name: name.to_owned(),
            labels,
            value,
        });
    }
    samples
}

/// The sum of the samples named `name` that carry all of `labels`.
fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|s| s.name == name)
        .filter(|s| {
            labels
                .iter()
                .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.value)
        .sum()
}

fn scrape(console: &Console) -> Vec<Sample> {
    let (status, text) = meta::get(&console.url("/metrics"));
    assert_eq!(status, 200, "{text}");
    parse(&text)
}

fn health(console: &Console) -> (u16, Value) {
    let (status, body) = meta::get(&console.url("/healthz"));
    (status, serde_json::from_str(&body).expect(&body))
}

/// The health entry named `name`.
fn component<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {report}"))
}

fn deliver(console: &Console, body: &Value) {
    let (status, answer) = meta::post_webhook(&console.url("/webhooks/meta"), APP_SECRET, body);
    assert_eq!(status, 200, "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counters_move_with_the_work_and_health_names_a_refused_token() {
    let fake = FakeGraph::start_default();
    let accounts = format!(
        r#"
[[accounts]]
id = "acme-fb"
network = "facebook"
page_id = "{PAGE_ID}"
api_url = "{url}"
approval = "always"
auth = {{ kind = "page_token", page_token = "{PAGE_TOKEN}" }}
webhook = {{ app_secret = "{APP_SECRET}", verify_token = "{VERIFY_TOKEN}" }}
"#,
        url = fake.api_url()
    );
    let mut console = Console::new(&accounts);
    let up = wait_until(WAIT, || meta::get(&console.url("/healthz")).0 != 0);
    assert!(up, "the listener did not come up");

    // Before anything happened: all up, every gauge present at zero.
    let (status, report) = health(&console);
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["status"], "ok");
    assert_eq!(component(&report, "chat:console")["ok"], true);
    assert_eq!(component(&report, "account:acme-fb")["ok"], true);
    let before = scrape(&console);
    let new_fb = [("status", "new"), ("network", "facebook")];
    assert!(before.iter().any(|s| s.name == "carebridge_cases"
        && s.labels.get("status").map(String::as_str) == Some("new")));
    assert_eq!(value(&before, "carebridge_cases", &new_fb), 0.0);
    assert!(before.iter().any(|s| s.name == "carebridge_outbox_depth"));

    // A comment comes in (and is delivered twice, as Meta does): one post, one case.
    let comment = meta::jane_does(&fake, "122131676912594941_5", "Where is my order?", "add");
    deliver(&console, &comment);
    console.wait_cases(1).await;
    deliver(&console, &comment);
    let fb = [("network", "facebook")];
    let ingested = |c: &Console| value(&scrape(c), "carebridge_posts_ingested_total", &fb);
    assert!(
        wait_until(WAIT, || ingested(&console) == 1.0),
        "{}",
        ingested(&console)
    );
    let samples = scrape(&console);
    assert_eq!(value(&samples, "carebridge_cases", &fb), 1.0);
    // The account was heard from, without a call yet.
    let (_, report) = health(&console);
    assert!(
        component(&report, "account:acme-fb")["last_success"].is_string(),
        "{report}"
    );

    // A reply is approved and published: counted once, with its first-response time.
    console.reply_and_approve("Hi Jane! Let me check.");
    console.wait_text("published as").await;
    let published = |s: &[Sample]| value(s, "carebridge_publishes_total", &fb);
    assert!(wait_until(WAIT, || published(&scrape(&console)) == 1.0));
    let samples = scrape(&console);
    assert_eq!(
        value(&samples, "carebridge_first_response_seconds_count", &[]),
        1.0
    );
    let meta_ok = [("service", "meta"), ("status_class", "2xx")];
    assert!(value(&samples, "carebridge_api_calls_total", &meta_ok) >= 1.0);
    assert_eq!(
        value(&samples, "carebridge_drafts", &[("state", "published")]),
        1.0
    );
    assert_eq!(value(&samples, "carebridge_cases", &fb), 1.0);
    assert_eq!(ingested(&console), 1.0, "the redelivery was counted");
    let (status, report) = health(&console);
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        component(&report, "account:acme-fb")["detail"],
        "calls succeed"
    );

    // Meta stops accepting the Page token: the next reply fails, and health says who.
    fake.revoke_token(PAGE_TOKEN);
    console.say("as maria");
    console.say("#1 !reply One more thing, Jane.");
    console.say("as lee");
    console.say("react ✅ 1.2");
    console
        .wait_text("no longer accepts the access token of `acme-fb`")
        .await;
    let (status, report) = health(&console);
    assert_eq!(status, 503, "{report}");
    assert_eq!(report["status"], "down");
    let account = component(&report, "account:acme-fb");
    assert_eq!(account["ok"], false, "{report}");
    assert!(
        account["detail"]
            .as_str()
            .unwrap()
            .contains("token refused")
    );
    assert!(account["last_success"].is_string());
    assert!(
        !report.to_string().contains(PAGE_TOKEN),
        "a secret in {report}"
    );
    let samples = scrape(&console);
    assert_eq!(
        value(&samples, "carebridge_publish_failures_total", &fb),
        1.0
    );
    assert!(
        value(
            &samples,
            "carebridge_api_calls_total",
            &[("service", "meta"), ("status_class", "4xx")]
        ) >= 1.0
    );
    console.stop();
}

#[test]
fn the_parser_reads_the_text_format() {
    let samples =
        parse("# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"1\",y=\"b\"} 2\nb 0.5\n");
    assert_eq!(value(&samples, "a_total", &[("x", "1")]), 2.0);
    assert_eq!(value(&samples, "b", &[]), 0.5);
    assert_eq!(value(&samples, "c", &[]), 0.0);
}

//! Events API load: how many signed Slack events per second the real
//! binary's `/slack/events` route verifies, dedupes, maps and acknowledges,
//! and the ack latency at a steady 1,000 events/s, measured from a load
//! generator on loopback (this process) against the fake Slack.
//!
//! Each event is a plain message in a case thread — an internal note, so
//! each one is also worked (a store commit) after its ack. Run with
//! `cargo bench --bench slack_events`; `CAREBRIDGE_BENCH_SECS` sets the
//! length of each phase (default 10).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/support/background.rs"]
mod background;
#[path = "support/load.rs"]
mod load;
#[path = "../tests/support/run.rs"]
mod run;
#[path = "../tests/support/slack.rs"]
mod slack;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use carebridge::chat::slack::signature;
use run::{Bot, DEMO_X_ACCOUNT, feed_line, wait_until};

const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
const RATE: u64 = 1_000;

fn rss_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

struct Load {
    client: reqwest::Client,
    url: String,
    channel: String,
    thread: String,
    next: AtomicU64,
}

impl load::Sender for Load {
    /// Sends one freshly signed event; returns its ack latency.
    async fn one(&self) -> Option<Duration> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let ts = format!("{}.{:06}", 1_800_000_000 + n / 1_000_000, n % 1_000_000);
        let body = slack::event_callback(
            &format!("EvBench{n}"),
            slack::thread_message(&self.channel, &self.thread, &ts, "U0MARIA", "bench note"),
        )
        .to_string();
        let now = chrono::Utc::now().timestamp();
        let started = Instant::now();
        let response = self
            .client
            .post(&self.url)
            .header("content-type", "application/json")
            .header("x-slack-request-timestamp", now.to_string())
            .header(
                "x-slack-signature",
                signature::sign(SECRET, now, body.as_bytes()),
            )
            .body(body)
            .send()
            .await
            .unwrap();
        (response.status() == 200).then(|| started.elapsed())
    }
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing useful.
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let secs: u64 = std::env::var("CAREBRIDGE_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let fake = slack::FakeSlack::start_default();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let chat = format!(
        "[chat]\nkind = \"slack\"\n[chat.slack]\nmode = \"events\"\nbot_token = \"{}\"\nsigning_secret = \"{SECRET}\"\napi_url = \"{}\"\n[chat.slack.channels]\ndefault = \"C0INBOX\"\n",
        slack::BOT_TOKEN,
        fake.api_url()
    );
    let bot = Bot::with_chat(
        &format!("listen = \"127.0.0.1:{port}\""),
        &chat,
        DEMO_X_ACCOUNT,
        &[feed_line(
            "p1",
            "jane",
            "c1",
            "mention",
            "Where is my parcel?",
        )],
    );
    let running = bot.spawn();
    let pid = running.0.id();
    fake.wait_for("chat.postMessage", 1, Duration::from_secs(30));
    let card = fake.messages("C0INBOX")[0].ts.clone();
    assert!(wait_until(Duration::from_secs(10), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    }));
    println!(
        "machine: {} cores; each phase {secs}s",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!("bot RSS before load: {} KiB", rss_kib(pid).0);

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let load = Arc::new(Load {
        client: reqwest::Client::new(),
        url: format!("http://127.0.0.1:{port}/slack/events"),
        channel: "C0INBOX".into(),
        thread: card,
        next: AtomicU64::new(0),
    });

    load::report("paced 1000/s", load::paced(&runtime, &load, RATE, secs));
    let (rss, hwm) = rss_kib(pid);
    println!("bot RSS after paced load: {rss} KiB (peak {hwm} KiB)");
    load::report(
        "flat out, 64 senders",
        load::flat_out(&runtime, &load, 64, secs),
    );
    let (rss, hwm) = rss_kib(pid);
    println!("bot RSS after flat-out load: {rss} KiB (peak {hwm} KiB)");
    drop(running);
}

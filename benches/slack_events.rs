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

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

struct Load {
    client: reqwest::Client,
    url: String,
    channel: String,
    thread: String,
    next: AtomicU64,
}

impl Load {
    /// Sends one freshly signed event; returns its ack latency.
    async fn one(&self) -> Duration {
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
        assert_eq!(response.status(), 200);
        started.elapsed()
    }
}

fn report(name: &str, mut latencies: Vec<Duration>, wall: Duration) {
    latencies.sort();
    println!(
        "{name}: {} events in {:.1}s = {:.0}/s; ack p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        latencies.len(),
        wall.as_secs_f64(),
        latencies.len() as f64 / wall.as_secs_f64(),
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
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

    // Phase 1: a steady 1,000 events/s, each on its own schedule (open loop,
    // so a slow ack does not hide the ones queued behind it).
    let paced = runtime.block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        let start = tokio::time::Instant::now();
        let total = RATE * secs;
        let mut interval = tokio::time::interval(Duration::from_micros(1_000_000 / RATE));
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        for _ in 0..total {
            interval.tick().await;
            let load = Arc::clone(&load);
            tasks.spawn(async move { load.one().await });
        }
        let mut latencies = Vec::with_capacity(total as usize);
        while let Some(l) = tasks.join_next().await {
            latencies.push(l.unwrap());
        }
        (latencies, start.elapsed())
    });
    report("paced 1000/s", paced.0, paced.1);
    let (rss, hwm) = rss_kib(pid);
    println!("bot RSS after paced load: {rss} KiB (peak {hwm} KiB)");

    // Phase 2: as fast as 64 concurrent senders can go.
    let flat_out = runtime.block_on(async {
        let start = Instant::now();
        let deadline = start + Duration::from_secs(secs);
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..64 {
            let load = Arc::clone(&load);
            tasks.spawn(async move {
                let mut latencies = Vec::new();
                while Instant::now() < deadline {
                    latencies.push(load.one().await);
                }
                latencies
            });
        }
        let mut all = Vec::new();
        while let Some(l) = tasks.join_next().await {
            all.extend(l.unwrap());
        }
        (all, start.elapsed())
    });
    report("flat out, 64 senders", flat_out.0, flat_out.1);
    let (rss, hwm) = rss_kib(pid);
    println!("bot RSS after flat-out load: {rss} KiB (peak {hwm} KiB)");
    drop(running);
}

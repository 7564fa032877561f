//! The load generator the HTTP benchmarks share: an open-loop steady rate and a flat-out
//! phase against one of the real binary's routes, with the ack latency report; signed
//! webhook deliveries as the load; and a bot started for it with its output drained.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Sends one request; its ack latency, or `None` when it was not acknowledged.
pub trait Sender: Send + Sync + 'static {
    fn one(&self) -> impl Future<Output = Option<Duration>> + Send;
}

/// Latencies of one phase and how long it took.
pub type Phase = (Vec<Option<Duration>>, Duration);

/// `rate` requests a second for `secs`, each on its own schedule (open loop, so a slow ack
/// does not hide the ones queued behind it).
pub fn paced<S: Sender>(
    runtime: &tokio::runtime::Runtime,
    sender: &Arc<S>,
    rate: u64,
    secs: u64,
) -> Phase {
    runtime.block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        let start = tokio::time::Instant::now();
        let mut interval = tokio::time::interval(Duration::from_micros(1_000_000 / rate));
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        for _ in 0..rate * secs {
            interval.tick().await;
            let sender = Arc::clone(sender);
            tasks.spawn(async move { sender.one().await });
        }
        let mut latencies = Vec::new();
        while let Some(l) = tasks.join_next().await {
            latencies.push(l.unwrap());
        }
        (latencies, start.elapsed())
    })
}

/// As fast as `senders` concurrent senders can go, for `secs`.
pub fn flat_out<S: Sender>(
    runtime: &tokio::runtime::Runtime,
    sender: &Arc<S>,
    senders: usize,
    secs: u64,
) -> Phase {
    runtime.block_on(async {
        let start = Instant::now();
        let deadline = start + Duration::from_secs(secs);
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..senders {
            let sender = Arc::clone(sender);
            tasks.spawn(async move {
                let mut latencies = Vec::new();
                while Instant::now() < deadline {
                    latencies.push(sender.one().await);
                }
                latencies
            });
        }
        let mut all = Vec::new();
        while let Some(l) = tasks.join_next().await {
            all.extend(l.unwrap());
        }
        (all, start.elapsed())
    })
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

/// Prints a phase: requests acknowledged (and not), rate, ack p50 / p99 / max.
pub fn report(name: &str, (results, wall): Phase) {
    let failed = results.iter().filter(|r| r.is_none()).count();
    let mut latencies: Vec<Duration> = results.into_iter().flatten().collect();
    latencies.sort();
    println!(
        "{name}: {} acknowledged ({failed} not) in {:.1}s = {:.0}/s; ack p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        latencies.len(),
        wall.as_secs_f64(),
        latencies.len() as f64 / wall.as_secs_f64(),
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
}

/// Starts `bot` and drains its output: its log (a line per delivery) must be read, or a full
/// pipe stalls it.
pub fn start_quiet(bot: &crate::run::Bot) -> crate::run::Running {
    let mut running = bot.spawn();
    for mut pipe in [
        running
            .0
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
        running
            .0
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
    ]
    .into_iter()
    .flatten()
    {
        std::thread::spawn(move || std::io::copy(&mut pipe, &mut std::io::sink()));
    }
    running
}

/// A bot whose cards go to `slack` (a fake Slack), with `accounts`, listening on a free
/// port; started, and its listener up. The port is returned with it.
fn webhook_bot(
    slack_api: &str,
    slack_token: &str,
    accounts: &str,
) -> (crate::run::Bot, crate::run::Running, u16) {
    let port = crate::run::free_port();
    let chat = format!(
        "[chat]\nkind = \"slack\"\n[chat.slack]\nmode = \"events\"\nbot_token = \"{slack_token}\"\nsigning_secret = \"s\"\napi_url = \"{slack_api}\"\n[chat.slack.channels]\ndefault = \"C0INBOX\"\n"
    );
    let bot = crate::run::Bot::with_chat(
        &format!("listen = \"127.0.0.1:{port}\""),
        &chat,
        accounts,
        &[],
    );
    let running = start_quiet(&bot);
    assert!(crate::run::wait_until(Duration::from_secs(20), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    }));
    (bot, running, port)
}

/// Each load phase's length: `CAREBRIDGE_BENCH_SECS` (default 10), printed with the machine's
/// cores.
pub fn bench_secs() -> u64 {
    let secs = std::env::var("CAREBRIDGE_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    println!(
        "machine: {} cores; each load phase {secs}s",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    secs
}

/// Runs `f` `n` times; the mean time per run (the pure costs a bench reports first).
pub fn per_op(n: u32, mut f: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..n {
        f();
    }
    start.elapsed() / n
}

/// Signed webhook deliveries to one route: the `n`th is `body(n)`, sent with the headers
/// `sign` makes for it. Each is acknowledged (200) or not within 5 s.
struct Deliveries {
    client: reqwest::Client,
    url: String,
    body: fn(u64) -> Vec<u8>,
    sign: Signer,
    next: AtomicU64,
}

/// The signature headers of a delivery's body.
pub type Signer = fn(&[u8]) -> Vec<(&'static str, String)>;

impl Deliveries {
    pub fn new(url: String, body: fn(u64) -> Vec<u8>, sign: Signer) -> Arc<Deliveries> {
        Arc::new(Deliveries {
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .unwrap(),
            url,
            body,
            sign,
            next: AtomicU64::new(0),
        })
    }
}

impl Sender for Deliveries {
    async fn one(&self) -> Option<Duration> {
        let body = (self.body)(self.next.fetch_add(1, Ordering::Relaxed));
        let started = Instant::now();
        let mut request = self
            .client
            .post(&self.url)
            .header("content-type", "application/json");
        for (name, value) in (self.sign)(&body) {
            request = request.header(name, value);
        }
        let response = request.body(body).send().await;
        match response {
            Ok(r) if r.status() == 200 => Some(started.elapsed()),
            _ => None,
        }
    }
}

/// What a webhook benchmark loads: the `[[accounts]]` served, the route, and how the `n`th
/// delivery is built and signed.
pub struct Webhook {
    pub account: String,
    pub route: &'static str,
    pub body: fn(u64) -> Vec<u8>,
    pub sign: Signer,
}

/// Starts the real binary serving `hook` (cards to the fake Slack at `slack_api`) and runs
/// the two load phases against it: `rate` a second, then flat out with 32 senders.
pub fn webhook_load(slack_api: &str, slack_token: &str, hook: Webhook, rate: u64, secs: u64) {
    let (_bot, _running, port) = webhook_bot(slack_api, slack_token, &hook.account);
    let sender = Deliveries::new(
        format!("http://127.0.0.1:{port}{}", hook.route),
        hook.body,
        hook.sign,
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    report(
        &format!("paced {rate}/s"),
        paced(&runtime, &sender, rate, secs),
    );
    report(
        "flat out, 32 senders",
        flat_out(&runtime, &sender, 32, secs),
    );
}

//! `cargo bench`: the core's throughput and latency on this machine.
//!
//! - ingest: posts/s into sled, each a full commit (case, indexes, audit,
//!   outbox entry), 80 % opening new cases and 20 % joining existing ones;
//! - command latency: time from a command to its state and effects being
//!   committed (`claim`, and `reply`, which runs the reply rules and queues
//!   two effects), p50/p99;
//! - resident memory with 100k cases stored;
//! - the timed work over that store: the sweep's scan and its changes, and `report`.
//!
//! `CAREBRIDGE_BENCH_CASES` changes the number of cases (default 100000).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use carebridge::config::Config;
use carebridge::engine::{
    Actor, Author, CanDm, Command, Input, Permission, Platform, PostKind, SocialPost,
};
use carebridge::report::Report;
use carebridge::service::Service;
use carebridge::store::Store;
use chrono::Utc;

const CONFIG: &str = r#"
[bot]
data_dir = "data"
[chat.console]
approvers = ["lee"]
[[routing]]
name = "billing"
keywords = ["refund", "charged"]
urgency = "high"
tags = ["billing"]
[[accounts]]
id = "acme"
network = "demo"
simulate = "x"
approval = "always"
"#;

fn post(i: usize, author: usize) -> SocialPost {
    SocialPost {
        platform: Platform::Demo,
        account: "acme".into(),
        id: format!("p{i}"),
        conversation_id: format!("c{author}"),
        author: Author {
            id: format!("u{author}"),
            handle: format!("user{author}"),
            name: Some(format!("User {author}")),
        },
        kind: PostKind::Mention,
        text: format!(
            "@acme post {i}: my order hasn't arrived and I was charged twice, please help"
        ),
        permalink: Some(format!("https://x.com/user{author}/status/{i}")),
        created_at: Utc::now(),
        can_dm: CanDm::Yes,
        reply_by: None,
        queue: None,
        parent: None,
        reference: None,
    }
}

fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|kb| kb.parse::<f64>().ok())
            })
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    println!(
        "{name:<28} n={:<6} p50={:>7.1}µs  p99={:>7.1}µs  max={:>8.1}µs",
        samples.len(),
        percentile(&samples, 0.50).as_secs_f64() * 1e6,
        percentile(&samples, 0.99).as_secs_f64() * 1e6,
        samples.last().map_or(0.0, |d| d.as_secs_f64() * 1e6),
    );
}

fn main() {
    let cases: usize = std::env::var("CAREBRIDGE_BENCH_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().unwrap();
    let config = Config::from_toml_str(CONFIG, dir.path(), &|_| None).unwrap();
    let store = Store::open(&dir.path().join("data"), Duration::from_millis(100)).unwrap();
    let service = Service::new(store, Arc::new(config));
    println!(
        "carebridge core bench: {} cores, {cases} cases, RSS at start {:.1} MiB",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        rss_mib()
    );

    // Ingest: 4 of 5 posts open a case, 1 of 5 follows up on a recent one.
    // First one post per commit (a webhook delivery), then pages of 100 per
    // commit (a poll page).
    let posts = cases + cases / 4;
    let single = posts / 10;
    let mut opened = 0;
    let mut next_post = |i: usize| {
        let author = if i % 5 == 4 {
            opened.max(1) - 1
        } else {
            opened
        };
        if i % 5 != 4 {
            opened += 1;
        }
        post(i, author)
    };
    let start = Instant::now();
    for i in 0..single {
        service.ingest(&next_post(i), None, Utc::now()).unwrap();
    }
    let elapsed = start.elapsed();
    println!(
        "ingest, one post per commit  {single} posts in {:.2}s = {:.0} posts/s",
        elapsed.as_secs_f64(),
        single as f64 / elapsed.as_secs_f64()
    );
    let start = Instant::now();
    let mut i = single;
    while i < posts {
        let page: Vec<SocialPost> = (i..(i + 100).min(posts)).map(&mut next_post).collect();
        service
            .ingest_page(&page, Some(("bench".into(), i.to_string())), Utc::now())
            .unwrap();
        i += 100;
    }
    let elapsed = start.elapsed();
    println!(
        "ingest, pages of 100         {} posts in {:.2}s = {:.0} posts/s",
        posts - single,
        elapsed.as_secs_f64(),
        (posts - single) as f64 / elapsed.as_secs_f64()
    );
    let opened = service.store().next_case_number().unwrap() - 1;
    service.store().flush().unwrap();
    println!("RSS with {opened} cases stored  {:.1} MiB", rss_mib());

    let maria = Actor {
        id: "maria".into(),
        agent: true,
        approver: false,
    };
    let command = |number: u64, command: Command| {
        let t = Instant::now();
        let applied = service
            .apply(
                number,
                Input::Command {
                    actor: maria.clone(),
                    command,
                    required: Permission::Agent,
                    in_thread: true,
                },
                None,
                Utc::now(),
            )
            .unwrap();
        assert!(applied.is_some());
        t.elapsed()
    };
    let opened = opened as usize;
    let sample = 10_000.min(opened);
    let step = (opened / sample).max(1) as u64;
    let claims: Vec<Duration> = (0..sample as u64)
        .map(|k| command(1 + k * step, Command::Claim))
        .collect();
    report("command: claim → committed", claims);
    let replies: Vec<Duration> = (0..sample as u64)
        .map(|k| {
            command(
                1 + k * step,
                Command::Reply {
                    text: format!("Sorry about that! Looking into it now ({k})."),
                },
            )
        })
        .collect();
    report("command: reply → committed", replies);
    service.store().flush().unwrap();
    timed_work(&service, opened);
    println!("RSS at the end                {:.1} MiB", rss_mib());
}

/// The scheduler's work over the whole store: the sweep's scan on a quiet minute, the same
/// scan when every case has news, the sweep applying that news, and `report` (a load of every
/// case and the figures computed from them).
fn timed_work(service: &Service, opened: usize) {
    let timed = |name: &str, work: &mut dyn FnMut() -> usize| {
        let t = Instant::now();
        let n = work();
        let elapsed = t.elapsed();
        println!(
            "{name:<28} {n} of {opened} cases in {:.3}s = {:.0} cases/s",
            elapsed.as_secs_f64(),
            opened as f64 / elapsed.as_secs_f64()
        );
    };
    let now = Utc::now();
    timed("sweep scan, quiet minute", &mut || {
        service.alerts(now).unwrap().len()
    });
    // Three hours on, every case has missed its first-response target.
    let late = now + chrono::Duration::hours(3);
    timed("sweep scan, all late", &mut || {
        service.alerts(late).unwrap().len()
    });
    timed("sweep applied, all late", &mut || {
        service.sweep(late, &BTreeSet::new()).unwrap()
    });
    timed("report over the store", &mut || {
        let cases = service
            .store()
            .cases()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let report = Report::compute(&cases, late - chrono::Duration::days(7), late);
        std::hint::black_box(&report);
        cases.len()
    });
}

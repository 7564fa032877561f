//! Crash safety of the real binary: feed it N posts while agents reply, kill
//! it with SIGKILL mid-way, restart it, and check that every post is in
//! exactly one case, no case was created twice, and every effect — each case
//! card, each thread message, each publication — happened exactly once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/run.rs"]
mod run;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write;
use std::time::{Duration, Instant};

use run::{Bot, feed_line};

const POSTS: usize = 400;
const AUTHORS: usize = 120;

const ACCOUNT: &str = r#"
[[accounts]]
id = "acme"
network = "demo"
simulate = "mastodon"
pace = "1ms"
feed = "feed.jsonl"
approval = "never"
"#;

/// Mentions in one conversation per author, follow-ups included, and some DMs
/// (which join the author's DM case whatever their conversation id).
fn feed() -> (Vec<String>, BTreeSet<String>) {
    let mut lines = Vec::new();
    let mut conversations = BTreeSet::new();
    for i in 0..POSTS {
        let author = format!("user{}", i % AUTHORS);
        let (kind, conversation, key) = if i % 7 == 3 {
            ("direct_message", format!("dm-{i}"), format!("{author}/dm"))
        } else {
            let c = format!("thread-{}", i % AUTHORS);
            ("mention", c.clone(), format!("{author}/{c}"))
        };
        conversations.insert(key);
        lines.push(feed_line(
            &format!("p{i}"),
            &author,
            &conversation,
            kind,
            &format!("post number {i} from {author}"),
        ));
    }
    (lines, conversations)
}

#[test]
fn kill_9_mid_work_loses_and_repeats_nothing() {
    let (feed, conversations) = feed();
    let bot = Bot::new(ACCOUNT, &feed);

    // First run: replies are typed while the feed is still arriving.
    let mut running = bot.spawn();
    let child = &mut running.0;
    {
        let mut stdin = child.stdin.take().unwrap();
        let mut script = String::from("wait 100ms\n");
        for case in 1..=60 {
            script.push_str(&format!(
                "#{case} !reply Thanks for telling us, case {case}\n"
            ));
        }
        stdin.write_all(script.as_bytes()).unwrap();
        // Keep stdin open: the bot must be killed, not stopped.
        std::mem::forget(stdin);
    }
    let console = bot.data().join("console-journal.jsonl");
    let busy = run::wait_until(Duration::from_secs(60), || {
        run::read_jsonl(&console).len() >= 150
    });
    // SIGKILL: no shutdown code runs.
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(busy, "the bot did not get far enough before the kill");
    let before_restart = run::read_jsonl(&console).len();

    // Second run: no input; it finishes the feed and the outbox, then stops.
    let out = bot.run_script("");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        run::read_jsonl(&console).len() > before_restart,
        "the restart resumed the work"
    );

    let cases = bot.cases();
    // Every post is in exactly one case.
    let mut case_of_post: HashMap<String, u64> = HashMap::new();
    for case in &cases {
        let number = case["number"].as_u64().unwrap();
        for post in case["posts"].as_array().unwrap() {
            let id = post["id"].as_str().unwrap().to_owned();
            assert!(
                case_of_post.insert(id.clone(), number).is_none(),
                "post {id} is in two cases"
            );
        }
    }
    assert_eq!(case_of_post.len(), POSTS, "every post is in a case");
    // No case was created twice: one case per conversation key, numbered 1..=n.
    assert_eq!(cases.len(), conversations.len());
    let numbers: Vec<u64> = cases
        .iter()
        .map(|c| c["number"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, (1..=cases.len() as u64).collect::<Vec<_>>());

    // Every card shown once per case; every thread message once.
    let shown = run::read_jsonl(&console);
    let mut cards: BTreeMap<u64, usize> = BTreeMap::new();
    let mut messages: BTreeMap<(u64, String), usize> = BTreeMap::new();
    for record in &shown {
        let case = record["case"].as_u64().unwrap();
        match record["shown"].as_str().unwrap() {
            "card" => *cards.entry(case).or_default() += 1,
            "message" => {
                *messages
                    .entry((case, record["text"].as_str().unwrap().to_owned()))
                    .or_default() += 1
            }
            _ => {}
        }
    }
    assert_eq!(cards.len(), cases.len(), "every case has its card");
    assert!(
        cards.values().all(|n| *n == 1),
        "a card was shown twice: {cards:?}"
    );
    let repeated: Vec<_> = messages.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        repeated.is_empty(),
        "thread messages shown twice: {repeated:?}"
    );
    // Every follow-up post was shown in its thread exactly once.
    for case in &cases {
        let number = case["number"].as_u64().unwrap();
        for post in case["posts"].as_array().unwrap().iter().skip(1) {
            let text = post["text"].as_str().unwrap();
            let shown = messages
                .keys()
                .filter(|(c, m)| *c == number && m.contains(text))
                .count();
            assert_eq!(shown, 1, "follow-up {text:?} of #{number}");
        }
        assert!(case["chat"].is_object(), "#{number} has its thread");
    }

    // Publications: each draft exactly once, and the store knows each one.
    let published = bot.journal("demo-published.jsonl");
    let mut seen = BTreeSet::new();
    for p in &published {
        let key = (
            p["case"].as_u64().unwrap(),
            p["text"].as_str().unwrap().to_owned(),
        );
        assert!(seen.insert(key.clone()), "published twice: {key:?}");
    }
    let mut drafts = 0;
    for case in &cases {
        for d in case["drafts"].as_array().unwrap() {
            drafts += 1;
            assert_eq!(d["state"], "published", "{d}");
            let id = d["published_id"].as_str().unwrap();
            assert!(
                published.iter().any(|p| p["id"] == id),
                "{id} is not on the network"
            );
            assert!(
                d["chat_message"].is_string(),
                "draft {} shown in its thread",
                d["id"]
            );
        }
    }
    assert_eq!(drafts, published.len(), "the store and the network agree");
    assert!(drafts > 0, "some replies were made before the kill");
}

#[test]
fn sigterm_stops_cleanly_and_a_restart_carries_on() {
    let (feed, conversations) = feed();
    let slow = ACCOUNT.replace("pace = \"1ms\"", "pace = \"5ms\"");
    let bot = Bot::new(&slow, &feed);
    let mut running = bot.spawn();
    let child = &mut running.0;
    let stdin = child.stdin.take().unwrap();
    let console = bot.data().join("console-journal.jsonl");
    assert!(run::wait_until(
        Duration::from_secs(60),
        || run::read_jsonl(&console).len() >= 20
    ));
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let start = Instant::now();
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no clean stop after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    drop(stdin);
    assert!(exit.success(), "SIGTERM exits 0, got {exit:?}");
    // The data dir is released and readable.
    let stopped_at = bot.cases().len();
    assert!(
        stopped_at > 0 && stopped_at < conversations.len(),
        "stopped mid-feed: {stopped_at}"
    );
    // A restart finishes the feed without repeating anything.
    assert!(bot.run_script("").status.success());
    let cases = bot.cases();
    assert_eq!(cases.len(), conversations.len());
    let posts: usize = cases
        .iter()
        .map(|c| c["posts"].as_array().unwrap().len())
        .sum();
    assert_eq!(posts, POSTS);
}

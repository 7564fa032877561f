//! The real binary on the console chat, with stdin kept open for typing, for end-to-end
//! tests of a network: what the team saw is read from the console's journal.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::Write as _;
use std::process::ChildStdin;
use std::time::Duration;

use serde_json::Value;

use crate::run::{self, Bot, Running, free_port};

const WAIT: Duration = Duration::from_secs(20);

/// The bot on the console, with stdin kept open for typing.
pub struct Console {
    pub bot: Bot,
    running: Option<Running>,
    stdin: Option<ChildStdin>,
    port: u16,
}

impl Console {
    /// Starts a bot with these `[[accounts]]`, listening on a free port.
    pub fn new(accounts: &str) -> Console {
        let port = free_port();
        let bot = Bot::with_chat(&format!("listen = \"127.0.0.1:{port}\""), "", accounts, &[]);
        let mut console = Console {
            bot,
            running: None,
            stdin: None,
            port,
        };
        console.start();
        console
    }

    pub fn start(&mut self) {
        let mut running = self.bot.spawn();
        self.stdin = running.0.stdin.take();
        self.running = Some(running);
    }

    /// Types a line at the console.
    pub fn say(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }

    /// Case 1 claimed by maria, `reply` drafted with `text`, and approved by lee.
    pub fn reply_and_approve(&mut self, text: &str) {
        self.say("#1 !claim");
        self.say(&format!("#1 !reply {text}"));
        self.say("as lee");
        self.say("react ✅ 1.1");
    }

    /// SIGKILL: nothing of the shutdown runs.
    pub fn kill(&mut self) {
        self.stdin = None;
        if let Some(mut running) = self.running.take() {
            running.0.kill().unwrap();
            running.0.wait().unwrap();
        }
    }

    /// Ends the input; the bot finishes what it is doing and stops. Returns its stdout.
    pub fn stop(&mut self) -> String {
        use std::io::Read as _;
        self.stdin = None;
        let mut running = self.running.take().unwrap();
        let mut out = String::new();
        if let Some(mut stdout) = running.0.stdout.take() {
            stdout.read_to_string(&mut out).unwrap();
        }
        let status = running.0.wait().unwrap();
        assert!(status.success(), "the bot failed: {status:?}\n{out}");
        out
    }

    /// What the console showed in case threads (cards, notices, drafts).
    pub fn shown(&self) -> Vec<Value> {
        run::read_jsonl(&self.bot.data().join("console-journal.jsonl"))
    }

    pub fn texts(&self) -> Vec<String> {
        self.shown()
            .iter()
            .filter_map(|r| r["text"].as_str().map(str::to_owned))
            .collect()
    }

    pub async fn wait_for(&self, what: &str, done: impl Fn(&Console) -> bool) {
        let deadline = tokio::time::Instant::now() + WAIT;
        while tokio::time::Instant::now() < deadline {
            if done(self) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!(
            "timed out waiting for {what}; console showed:\n{:#?}",
            self.shown()
        );
    }

    /// Waits until the console showed a thread message containing `text`.
    pub async fn wait_text(&self, text: &str) {
        self.wait_for(text, |c| c.texts().iter().any(|t| t.contains(text)))
            .await;
    }

    /// Waits until `n` case cards were posted.
    pub async fn wait_cases(&self, n: usize) {
        self.wait_for(&format!("{n} case cards"), |c| {
            c.shown().iter().filter(|r| r["shown"] == "card").count() >= n
        })
        .await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

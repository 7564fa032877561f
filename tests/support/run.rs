//! Running the real `carebridge` binary against a config and demo feed in a
//! temporary directory, and reading back what it recorded (the store via the
//! CLI, the console and demo-network journals).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_carebridge")
}

/// `carebridge <args> --config <config>`, logging at the binary's default level.
pub fn carebridge(args: &[&str], config: &Path) -> Command {
    let mut cmd = Command::new(bin());
    cmd.args(args)
        .arg("--config")
        .arg(config)
        .env_remove("RUST_LOG");
    cmd
}

/// A running bot, killed and reaped when the test ends, however it ends.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A loopback port nobody listens on (for `bot.listen`).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Polls `done` until it holds or `limit` passes; says which.
pub fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    false
}

/// One line of a demo feed.
pub fn feed_line(id: &str, author: &str, conversation: &str, kind: &str, text: &str) -> String {
    json!({
        "id": id,
        "conversation": conversation,
        "kind": kind,
        "author": {"id": format!("u-{author}"), "handle": author, "name": author.to_uppercase()},
        "text": text,
        "can_dm": "yes",
    })
    .to_string()
}

/// A demo account simulating X that replays `feed.jsonl` at once, every
/// reply needing approval: the usual account for end-to-end scenarios.
pub const DEMO_X_ACCOUNT: &str = r#"
[[accounts]]
id = "acme-x"
network = "demo"
simulate = "x"
pace = "0s"
feed = "feed.jsonl"
approval = "always"
"#;

/// A bot in a temporary directory: `bot.toml`, `feed.jsonl`, `data/`.
pub struct Bot {
    pub dir: tempfile::TempDir,
}

impl Bot {
    /// `accounts` is the `[[accounts]]` part; `feed` lines go to `feed.jsonl`.
    pub fn new(accounts: &str, feed: &[String]) -> Bot {
        Bot::with_chat("", "", accounts, feed)
    }

    /// Like [`Bot::new`], with extra `[bot]` keys (`bot`) and chat sections
    /// (`chat`, e.g. `[chat]` and `[chat.slack]`).
    pub fn with_chat(bot: &str, chat: &str, accounts: &str, feed: &[String]) -> Bot {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("feed.jsonl"), feed.join("\n") + "\n").unwrap();
        let config = format!(
            r#"
[bot]
data_dir = "data"
flush_interval = "10ms"
{bot}

{chat}

[chat.console]
approvers = ["lee"]
user = "maria"

[[routing]]
name = "safety"
keywords = ["fire"]
urgency = "urgent"

{accounts}
"#
        );
        std::fs::write(dir.path().join("bot.toml"), config).unwrap();
        Bot { dir }
    }

    pub fn config(&self) -> PathBuf {
        self.dir.path().join("bot.toml")
    }

    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn command(&self, args: &[&str]) -> Command {
        carebridge(args, &self.config())
    }

    /// Runs the bot with `script` on stdin; it stops at the end of input.
    pub fn run_script(&self, script: &str) -> Output {
        let mut child = self.start();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(script.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    /// Starts the bot with stdin kept open (it runs until killed or stdin closes).
    pub fn spawn(&self) -> Running {
        Running(self.start())
    }

    fn start(&self) -> Child {
        self.command(&["run"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// Runs a read-side CLI command.
    pub fn cli(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// `cases show N --json`.
    pub fn case(&self, number: u64) -> Value {
        let out = self.cli(&["cases", "show", &number.to_string(), "--json"]);
        assert!(
            out.status.success(),
            "cases show {number}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// Every case, from `export --format jsonl`.
    pub fn cases(&self) -> Vec<Value> {
        let out = self.cli(&["export", "--format", "jsonl"]);
        assert!(
            out.status.success(),
            "export: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// The records of a journal in the data dir (`console-journal.jsonl`, `demo-published.jsonl`).
    pub fn journal(&self, name: &str) -> Vec<Value> {
        read_jsonl(&self.data().join(name))
    }
}

pub fn read_jsonl(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

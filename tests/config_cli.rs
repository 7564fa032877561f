//! `bot.toml` through the real binary: `check-config` accepts the shipped example, and every
//! class of bad config exits 2 with one line per problem naming the key (`run` too, before it
//! starts anything). The config module's own tests cover the exact wording of each message;
//! these check what a user at a shell sees: exit code, stderr, one problem per line.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/run.rs"]
mod run;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The smallest valid config: one demo account. Each bad config is this plus one change.
const MINIMAL: &str = r#"[bot]
data_dir = "data"

[[accounts]]
id = "d"
network = "demo"
simulate = "x"
"#;

/// A variable no test environment sets.
const UNSET: &str = "CAREBRIDGE_CONFIG_CLI_TEST_UNSET";
/// A variable the tests set to a secret-looking value.
const SECRET_VAR: &str = "CAREBRIDGE_CONFIG_CLI_TEST_SECRET";
const SECRET: &str = "xoxb-4242-s3cr3t-do-not-print";

/// `carebridge <args> --config <config>` with one variable unset and one secret set.
fn carebridge(args: &[&str], config: &Path) -> Command {
    let mut cmd = run::carebridge(args, config);
    cmd.env_remove(UNSET).env(SECRET_VAR, SECRET);
    cmd
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A config file in its own temporary directory (kept alive by the returned guard).
struct ConfigFile {
    dir: tempfile::TempDir,
    path: PathBuf,
}

impl ConfigFile {
    fn new(text: &str) -> ConfigFile {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bot.toml");
        std::fs::write(&path, text).unwrap();
        ConfigFile { dir, path }
    }
}

fn run(subcommand: &str, config: &Path) -> Output {
    carebridge(&[subcommand], config).output().unwrap()
}

/// `check-config` on `text`: asserts exit 2 and returns stderr's lines.
fn problems(text: &str) -> Vec<String> {
    let file = ConfigFile::new(text);
    let out = run("check-config", &file.path);
    let err = stderr(&out);
    assert_eq!(
        out.status.code(),
        Some(2),
        "config:\n{text}\nstderr:\n{err}"
    );
    assert!(
        out.stdout.is_empty(),
        "nothing on stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(!err.contains("panicked"), "{err}");
    err.lines().map(str::to_owned).collect()
}

/// Asserts that `text` gives exactly one problem, at `key`, whose message contains `why`.
fn one_problem(text: &str, key: &str, why: &str) -> String {
    let lines = problems(text);
    assert_eq!(
        lines.len(),
        1,
        "expected one problem at {key}, got {lines:#?}"
    );
    let line = &lines[0];
    assert!(
        line.starts_with(&format!("{key}: ")),
        "expected the key {key} first: {line}"
    );
    assert!(line.contains(why), "expected {why:?} in: {line}");
    line.clone()
}

/// `MINIMAL` with `more` before it (bare keys there are top-level keys).
fn before(more: &str) -> String {
    format!("{more}\n{MINIMAL}")
}

/// `MINIMAL` with `more` after it (bare keys there belong to `accounts[0]`).
fn after(more: &str) -> String {
    format!("{MINIMAL}{more}\n")
}

#[test]
fn the_shipped_example_is_valid() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("bot.toml.example");
    let out = run("check-config", &example);
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("ok"), "{stdout}");
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
}

/// `text` with the commented-out block that starts at the line `start` switched on: its
/// `# key = …` lines uncommented, its `# # explanations` dropped, up to `end` (or the end of
/// the file); and where the block began.
fn uncommented(text: &str, start: &str, end: Option<&str>) -> (String, usize) {
    let from = text.find(start).unwrap();
    let to = end.map_or(text.len(), |end| from + text[from..].find(end).unwrap());
    let section: String = text[from..to]
        .lines()
        .map(|line| match line.strip_prefix("# ") {
            Some(rest) if !rest.starts_with('#') => rest,
            _ => "",
        })
        .collect::<Vec<_>>()
        .join("\n");
    (text[..from].to_owned() + &section + &text[to..], from)
}

/// `bot.toml.example` with the block at `start` switched on (see [`uncommented`]) and then
/// `edit`ed (given where the block begins), checked with the environment variable `var` set;
/// asserts it passes and returns what check-config said.
fn example_passes(
    start: &str,
    end: Option<&str>,
    edit: impl Fn(String, usize) -> String,
    var: (&str, &str),
) -> String {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("bot.toml.example");
    let text = std::fs::read_to_string(&example).unwrap();
    let (on, from) = uncommented(&text, start, end);
    let enabled = edit(on, from);
    let file = ConfigFile::new(&enabled);
    let out = carebridge(&["check-config"], &file.path)
        .env(var.0, var.1)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}\n{enabled}", stderr(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The example's commented-out `[chat.discord]`, switched on, is valid as written.
#[test]
fn the_examples_discord_section_is_valid_when_uncommented() {
    let said = example_passes(
        "# [chat.discord]\n",
        Some("\n[approval]"),
        |on, from| on[..from].replace("kind = \"console\"", "kind = \"discord\"") + &on[from..],
        ("DISCORD_TOKEN", "from-the-environment"),
    );
    assert!(said.contains("chat Discord"), "{said}");
}

/// The example's commented-out generic webhook account, switched on, is valid as written.
#[test]
fn the_examples_webhook_account_is_valid_when_uncommented() {
    let said = example_passes(
        "# [[accounts]]\n# id = \"acme-forms\"",
        None,
        |on, _| on,
        ("FORMS_WEBHOOK_SECRET", "4f9d0c1e8b7a6d5c4b3a29180f7e6d5c"),
    );
    assert!(said.contains("ok (6 account(s)"), "{said}");
}

/// The example's commented-out Bluesky account, switched on, is valid as written.
#[test]
fn the_examples_bluesky_account_is_valid_when_uncommented() {
    let said = example_passes(
        "# [[accounts]]\n# id = \"acme-on-bsky\"",
        Some("\n\n# A generic signed webhook"),
        |on, _| on,
        ("BSKY_APP_PASSWORD", "abcd-efgh-ijkl-mnop"),
    );
    assert!(said.contains("ok (6 account(s)"), "{said}");
    assert!(!said.contains("abcd-efgh"), "{said}");
}

#[test]
fn the_minimal_config_is_valid_and_check_config_creates_nothing() {
    let file = ConfigFile::new(MINIMAL);
    let out = run("check-config", &file.path);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        !file.dir.path().join("data").exists(),
        "check-config must not create the data dir"
    );
}

#[test]
fn unknown_keys_name_their_full_path() {
    one_problem(&before("colour = \"red\""), "colour", "unknown key");
    one_problem(
        &after("pollinterval = \"30s\""),
        "accounts[0].pollinterval",
        "unknown key",
    );
    one_problem(
        &before("[chat.console]\nusr = \"ana\""),
        "chat.console.usr",
        "unknown key",
    );
}

#[test]
fn wrong_types_name_the_key() {
    one_problem(
        &MINIMAL.replace("data_dir = \"data\"", "data_dir = \"data\"\nlisten = 8080"),
        "bot.listen",
        "invalid type",
    );
    one_problem(
        &after("max_length = \"long\""),
        "accounts[0].max_length",
        "invalid type",
    );
    one_problem(
        &before("[[routing]]\nname = \"r\"\ntags = [\"a\", 5]"),
        "routing[0].tags[1]",
        "invalid type",
    );
}

#[test]
fn bad_values_name_the_key() {
    let cases = [
        (
            before("[sla.first_response]\nhigh = \"4 hours\""),
            "sla.first_response.high",
            "is not a duration",
        ),
        (
            after("pace = \"fast\""),
            "accounts[0].pace",
            "is not a duration",
        ),
        (
            MINIMAL.replace(
                "data_dir = \"data\"",
                "data_dir = \"data\"\ntimezone = \"Europe/Londn\"",
            ),
            "bot.timezone",
            "is not a known time zone",
        ),
        (
            after("approval = \"sometimes\""),
            "accounts[0].approval",
            "is not one of always, never, first_reply",
        ),
        (
            before("[[routing]]\nname = \"r\"\nurgency = \"asap\""),
            "routing[0].urgency",
            "is not one of",
        ),
        (
            before("[[routing]]\nname = \"r\"\ntags = [\"t\"]\nregex = \"(unclosed\""),
            "routing[0].regex",
            "invalid regex",
        ),
        (
            before("[[jobs]]\nname = \"j\"\ncron = \"0 0 9 * * 1\"\nkind = \"sweep\""),
            "jobs[0].cron",
            "6 fields",
        ),
        (
            before("[[jobs]]\nname = \"j\"\ncron = \"0 9 1 * Mon\"\nkind = \"sweep\""),
            "jobs[0].cron",
            "restrict only one",
        ),
    ];
    for (text, key, why) in cases {
        one_problem(&text, key, why);
    }
}

#[test]
fn an_unset_variable_names_it_and_the_key_and_never_prints_secrets() {
    let text = after(&format!(
        "handle = \"@acme\"\nname = \"${{{SECRET_VAR}}}-${{{UNSET}}}\""
    ));
    let line = one_problem(
        &text,
        "accounts[0].name",
        &format!("environment variable {UNSET} is not set"),
    );
    assert!(!line.contains(SECRET), "{line}");

    // With the variable set, the same file is fine (the value is used, and not echoed).
    let file = ConfigFile::new(&text);
    let out = carebridge(&["check-config"], &file.path)
        .env(UNSET, "eu")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!String::from_utf8_lossy(&out.stdout).contains(SECRET));
    assert!(!stderr(&out).contains(SECRET));
}

#[test]
fn a_substituted_value_is_never_echoed_in_a_problem() {
    // A secret put under the wrong key: the problems name the key and show the value as
    // written, `${VAR}`, never the secret itself.
    let lines = problems(&format!(
        "[bot]\ntimezone = \"${{{SECRET_VAR}}}\"\nlisten = \"127.0.0.1:${{{SECRET_VAR}}}\"\n\
         [approval]\nallow_self_approval = \"${{{SECRET_VAR}}}\"\n\
         [[accounts]]\nid = \"d\"\nnetwork = \"demo\"\nsimulate = \"${{{SECRET_VAR}}}\"\n"
    ));
    assert_eq!(lines.len(), 4, "{lines:#?}");
    for line in &lines {
        assert!(!line.contains(SECRET), "{line}");
    }
    for key in [
        "bot.timezone: \"${",
        "bot.listen: \"127.0.0.1:${",
        "approval.allow_self_approval: invalid type: string \"${",
        "accounts[0].simulate: \"${",
    ] {
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with(key) && l.contains(SECRET_VAR)),
            "{key} in {lines:#?}"
        );
    }
}

#[test]
fn references_between_sections_are_checked() {
    one_problem(
        &after("[[accounts]]\nid = \"d\"\nnetwork = \"demo\"\nsimulate = \"mastodon\""),
        "accounts[1].id",
        "duplicate account id \"d\"",
    );
    one_problem(
        &before("[[routing]]\nname = \"r\"\naccounts = [\"ghost\"]\nurgency = \"high\""),
        "routing[0].accounts[0]",
        "no [[accounts]] entry has id \"ghost\"",
    );
}

#[test]
fn what_this_build_cannot_do_is_refused() {
    one_problem(
        &before("[chat]\nkind = \"discord\""),
        "chat.discord",
        "is required when chat.kind is \"discord\"",
    );
}

#[test]
fn a_bluesky_account_without_its_login_names_the_key_and_never_echoes_the_password() {
    let line = one_problem(
        &MINIMAL.replace(
            "network = \"demo\"\nsimulate = \"x\"\n",
            "network = \"bluesky\"\nauth = { kind = \"app_password\", password = \"sekrit-app-password\" }\n",
        ),
        "accounts[0].auth.identifier",
        "is required",
    );
    assert!(!line.contains("sekrit"), "{line}");
}

#[test]
fn an_x_account_without_credentials_names_the_key_and_never_echoes_a_secret() {
    let line = one_problem(
        &MINIMAL.replace(
            "network = \"demo\"\nsimulate = \"x\"\n",
            "network = \"x\"\n",
        ),
        "accounts[0].auth",
        "is required for X accounts",
    );
    assert!(line.contains("oauth2") && line.contains("oauth1"), "{line}");
    let line = one_problem(
        &MINIMAL.replace(
            "network = \"demo\"\nsimulate = \"x\"\n",
            "network = \"x\"\nauth = { kind = \"oauth2\", access_token = \"sekrit-access\", refresh_token = \"sekrit-refresh\" }\n",
        ),
        "accounts[0].auth.client_id",
        "is required",
    );
    assert!(!line.contains("sekrit"), "{line}");
}

#[test]
fn an_unreadable_file_and_a_syntax_error_are_one_problem_each() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.toml");
    let out = run("check-config", &missing);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&missing.display().to_string()) && err.contains("cannot read"),
        "{err}"
    );

    let lines = problems(&MINIMAL.replace("simulate = \"x\"", "simulate = = \"x\""));
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("line 7, column 12: "), "{lines:?}");
}

#[test]
fn several_problems_give_one_line_each() {
    let text = format!(
        "colour = \"red\"\n{}",
        MINIMAL
            .replace(
                "data_dir = \"data\"",
                "data_dir = \"data\"\ntimezone = \"Nowhere\"",
            )
            .replace(
                "simulate = \"x\"",
                "simulate = \"x\"\napproval = \"sometimes\"\npace = \"soon\""
            )
    );
    let lines = problems(&text);
    assert_eq!(lines.len(), 4, "{lines:#?}");
    let keys: Vec<&str> = lines
        .iter()
        .map(|l| l.split_once(": ").unwrap().0)
        .collect();
    for key in [
        "colour",
        "bot.timezone",
        "accounts[0].approval",
        "accounts[0].pace",
    ] {
        assert!(keys.contains(&key), "{key} missing from {lines:#?}");
    }
}

#[test]
fn run_refuses_a_bad_config_before_starting_anything() {
    let file = ConfigFile::new(&after("pollinterval = \"30s\""));
    let out = carebridge(&["run"], &file.path)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.lines()
            .any(|l| l.starts_with("accounts[0].pollinterval: unknown key")),
        "{err}"
    );
    assert!(out.stdout.is_empty(), "the console must not have started");
    assert!(
        !file.dir.path().join("data").exists(),
        "no data dir may be created for a bad config"
    );

    // The read-side commands refuse it the same way.
    for args in [&["cases", "list"][..], &["export"]] {
        let out = carebridge(args, &file.path).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("accounts[0].pollinterval"));
    }
}

#[test]
fn bad_command_lines_exit_2() {
    let file = ConfigFile::new(MINIMAL);
    for args in [
        &["frobnicate"][..],
        &["check-config", "--no-such-flag"],
        &["cases"],
        &["cases", "list", "--status", "pending"],
        &["cases", "show", "one"],
        &["export", "--format", "xml"],
        &["manifest", "teams"],
        &["run", "--log-format", "yaml"],
        &[],
    ] {
        let out = carebridge(args, &file.path).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(!stderr(&out).is_empty(), "{args:?} says nothing");
    }
    assert!(!file.dir.path().join("data").exists());
}

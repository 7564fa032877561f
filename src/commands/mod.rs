//! One description of the commands (DESIGN.md §1).
//!
//! Owns: the command files `commands/*.toml`, embedded at compile time by
//! `build.rs`; loading and validating them ([`Specs::load`]); the argument
//! parser for typed lines and structured options ([`Specs::parse`],
//! [`Specs::from_options`]); the help text ([`Specs::help_all`],
//! [`Specs::help_one`]); and the registration artifacts generated from the
//! same files ([`Specs::slack_manifest`], [`Specs::discord_commands`]).
//!
//! Must not: do I/O, know about cases or workflow rules (who may do what is
//! *declared* here as [`Role`] but enforced by the engine), or contain
//! user-visible sentences — those live in [`crate::text::usage`]. Mapping a
//! [`Parsed`] onto the engine's command type is the caller's job.
//!
//! Two ways to type a command, because Slack cannot run slash commands in
//! threads (DESIGN.md §3):
//! - [`Invocation::Thread`]: inside a case thread, `!reply Sorry about that`;
//!   the thread identifies the case.
//! - [`Invocation::Slash`]: anywhere, `/care reply 42 Sorry about that`; the
//!   case number follows the command name (except for commands with
//!   `takes_case = false`, i.e. `help`).
//!
//! Discord gets one `/care` command with a sub-command per spec (see
//! [`manifest`]), whose options arrive through [`Specs::from_options`].
//!
//! Command files accept three optional keys beyond name/summary/role/args:
//! `group` (help section: route | answer | network | finish | info, default route),
//! `takes_case` (default true) and `example` (a realistic line as typed after
//! `!`, used in error messages and help, and checked to parse at load).

pub mod manifest;
pub mod parse;
pub mod spec;

pub use manifest::{DISCORD_BOT_PERMISSIONS, SlackApp, discord_invite};
pub use parse::{ArgValue, Parsed, UsageError};
pub use spec::{ArgKind, ArgSpec, Group, Role, Spec, SpecError, SpecProblem};

include!(concat!(env!("OUT_DIR"), "/command_specs.rs"));

/// The slash command's name without the slash: `/care` on Slack, `care` on Discord.
pub const SLASH_NAME: &str = "care";

/// The prefix of text commands inside a case thread.
pub const THREAD_PREFIX: &str = "!";

/// How a command line was typed, which decides whether it carries a case number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Invocation {
    /// Inside a case thread, after the `!` prefix: `reply Sorry about that`.
    /// No case number; a leading `!` is tolerated.
    Thread,
    /// The text of `/care …` outside threads: `reply 42 Sorry about that` or
    /// `reply #42 Sorry`. The case number is required right after the command
    /// name, except for commands with `takes_case = false` (`help`).
    Slash,
}

impl Invocation {
    /// The usage line as the user must type it in this style:
    /// `!escalate <team> [reason]` or `/care escalate <case> <team> [reason]`.
    pub fn usage(self, spec: &Spec) -> String {
        self.render(spec, &spec.usage(), "<case>")
    }

    /// The spec's example as the user would type it in this style, with
    /// `case` (or 42) as the case number: `!escalate billing …` or
    /// `/care escalate 42 billing …`.
    pub fn example(self, spec: &Spec, case: Option<u64>) -> Option<String> {
        let example = spec.example.as_deref()?;
        let case = case.unwrap_or(42).to_string();
        Some(self.render(spec, example, &case))
    }

    /// Prefixes `line` (which starts with the command name) for this style,
    /// inserting `case` after the name for slash commands that take one.
    fn render(self, spec: &Spec, line: &str, case: &str) -> String {
        match self {
            Invocation::Thread => format!("{THREAD_PREFIX}{line}"),
            Invocation::Slash if !spec.takes_case => format!("/{SLASH_NAME} {line}"),
            Invocation::Slash => {
                let rest = line
                    .split_once(char::is_whitespace)
                    .map(|(_, rest)| rest)
                    .unwrap_or("");
                if rest.is_empty() {
                    format!("/{SLASH_NAME} {} {case}", spec.name)
                } else {
                    format!("/{SLASH_NAME} {} {case} {rest}", spec.name)
                }
            }
        }
    }
}

/// All command specs, loaded from the embedded `commands/*.toml`, sorted by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Specs {
    specs: Vec<Spec>,
}

impl Specs {
    /// Parses and validates every embedded command file. An error names the
    /// file and the problem. Cheap enough to call at start-up and in tests.
    pub fn load() -> Result<Specs, SpecError> {
        Specs::from_files(SPEC_FILES)
    }

    /// Like [`Specs::load`], from explicit `(file name, contents)` pairs, for
    /// tests and tools. Checks each file, that no command is described twice,
    /// and that every `example` parses as its own command.
    pub fn from_files(files: &[(&str, &str)]) -> Result<Specs, SpecError> {
        let mut specs: Vec<Spec> = Vec::with_capacity(files.len());
        for (file, text) in files {
            let spec = Spec::from_toml(file, text)?;
            if specs.iter().any(|s| s.name == spec.name) {
                return Err(SpecError {
                    file: (*file).to_owned(),
                    problem: SpecProblem::DuplicateCommand { name: spec.name },
                });
            }
            specs.push(spec);
        }
        specs.sort_by(|a, b| a.name.cmp(&b.name));
        let specs = Specs { specs };
        specs.check_examples()?;
        Ok(specs)
    }

    /// Every example must parse, in thread style, as the command it belongs
    /// to: the examples are shown to users as "try this", so they must work.
    fn check_examples(&self) -> Result<(), SpecError> {
        for spec in &self.specs {
            let Some(example) = &spec.example else {
                continue;
            };
            let reason = match self.parse(example, Invocation::Thread) {
                Ok(parsed) if parsed.name == spec.name => continue,
                Ok(parsed) => format!("it runs `{}`", parsed.name),
                Err(e) => e.to_string(),
            };
            return Err(SpecError {
                file: format!("{}.toml", spec.name),
                problem: SpecProblem::BadExample {
                    example: example.clone(),
                    reason,
                },
            });
        }
        Ok(())
    }

    /// The spec called `name`, ignoring case and surrounding whitespace.
    pub fn get(&self, name: &str) -> Option<&Spec> {
        let name = name.trim().to_lowercase();
        self.specs
            .binary_search_by(|s| s.name.as_str().cmp(&name))
            .ok()
            .and_then(|i| self.specs.get(i))
    }

    /// All specs, sorted by name.
    pub fn iter(&self) -> std::slice::Iter<'_, Spec> {
        self.specs.iter()
    }

    /// All command names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.specs.iter().map(|s| s.name.as_str())
    }

    /// How many commands there are.
    pub fn len(&self) -> usize {
        self.specs.len()
    }

    /// Whether there are no commands (never true for the embedded files).
    pub fn is_empty(&self) -> bool {
        self.specs.is_empty()
    }

    /// Specs in help order: by [`Group`], then by name.
    pub fn in_help_order(&self) -> Vec<&Spec> {
        let mut out: Vec<&Spec> = self.specs.iter().collect();
        out.sort_by(|a, b| a.group.cmp(&b.group).then_with(|| a.name.cmp(&b.name)));
        out
    }

    /// The full command list: one line per command (usage and summary),
    /// grouped, with how to type commands in a thread and anywhere.
    pub fn help_all(&self) -> String {
        crate::text::usage::help_all(&self.in_help_order())
    }

    /// Details of one command (usage, summary, each argument with its help,
    /// an example, who may run it), or `None` if there is no such command.
    pub fn help_one(&self, name: &str) -> Option<String> {
        self.get(name).map(crate::text::usage::help_one)
    }

    /// What `!help [topic]` answers: the full list, one command's details,
    /// or an "unknown command" message with a suggestion.
    pub fn help(&self, topic: Option<&str>, how: Invocation) -> String {
        match topic.map(str::trim).filter(|t| !t.is_empty()) {
            None => self.help_all(),
            Some(topic) => self.help_one(topic).unwrap_or_else(|| {
                crate::text::usage::usage_error(&UsageError::UnknownCommand {
                    given: topic.to_owned(),
                    suggestion: self.suggest(topic).map(str::to_owned),
                    how,
                })
            }),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// The engine's command names (see the engine's own one-to-one test).
    const ENGINE_NAMES: [&str; 23] = [
        "assign", "canned", "claim", "close", "delete", "dm", "escalate", "help", "hide", "like",
        "note", "offline", "recall", "reopen", "reply", "repost", "retry", "snooze", "status",
        "tag", "unclaim", "unhide", "unlike",
    ];

    fn file(name: &str, body: &str) -> (String, String) {
        (format!("{name}.toml"), body.to_owned())
    }

    fn load_one(file_name: &str, body: &str) -> Result<Specs, SpecError> {
        Specs::from_files(&[(file_name, body)])
    }

    #[test]
    fn all_embedded_specs_load() {
        let specs = Specs::load().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(specs.names().collect::<Vec<_>>(), ENGINE_NAMES);
        assert_eq!(specs.len(), SPEC_FILES.len());
    }

    #[test]
    fn every_file_is_named_after_its_command() {
        for (file, text) in SPEC_FILES {
            let spec: Spec = toml::from_str(text).unwrap();
            assert_eq!(*file, format!("{}.toml", spec.name));
        }
    }

    #[test]
    fn embedded_files_are_sorted() {
        let names: Vec<&str> = SPEC_FILES.iter().map(|(f, _)| *f).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
    }

    #[test]
    fn every_spec_has_a_working_example() {
        let specs = Specs::load().unwrap();
        for spec in specs.iter() {
            assert!(spec.example.is_some(), "{} has no example", spec.name);
        }
    }

    #[test]
    fn roles_are_ordered_and_as_declared() {
        assert!(Role::Anyone < Role::Agent && Role::Agent < Role::Approver);
        let specs = Specs::load().unwrap();
        for spec in specs.iter() {
            let expected = if matches!(spec.name.as_str(), "status" | "help") {
                Role::Anyone
            } else {
                Role::Agent
            };
            assert_eq!(spec.role, expected, "{}", spec.name);
        }
    }

    #[test]
    fn only_help_takes_no_case() {
        let specs = Specs::load().unwrap();
        for spec in specs.iter() {
            assert_eq!(spec.takes_case, spec.name != "help", "{}", spec.name);
        }
    }

    #[test]
    fn get_is_case_insensitive() {
        let specs = Specs::load().unwrap();
        assert_eq!(specs.get("ClAiM").unwrap().name, "claim");
        assert_eq!(specs.get(" reply ").unwrap().name, "reply");
        assert!(specs.get("clam").is_none());
    }

    #[test]
    fn usage_strings() {
        let specs = Specs::load().unwrap();
        let usage = |n: &str| specs.get(n).unwrap().usage();
        assert_eq!(usage("escalate"), "escalate <team> [reason]");
        assert_eq!(usage("offline"), "offline <email|sms|dm> [address]");
        assert_eq!(usage("claim"), "claim");
        assert_eq!(usage("assign"), "assign <user>");
        assert_eq!(usage("snooze"), "snooze <for>");
        assert_eq!(usage("help"), "help [command]");
        assert_eq!(usage("close"), "close [note]");

        let esc = specs.get("escalate").unwrap();
        assert_eq!(Invocation::Thread.usage(esc), "!escalate <team> [reason]");
        assert_eq!(
            Invocation::Slash.usage(esc),
            "/care escalate <case> <team> [reason]"
        );
        assert_eq!(
            Invocation::Slash.usage(specs.get("claim").unwrap()),
            "/care claim <case>"
        );
        assert_eq!(
            Invocation::Slash.usage(specs.get("help").unwrap()),
            "/care help [command]"
        );
        assert_eq!(
            Invocation::Slash.example(esc, Some(7)).unwrap(),
            "/care escalate 7 billing Charged twice for one order"
        );
        assert_eq!(
            Invocation::Slash
                .example(specs.get("claim").unwrap(), None)
                .unwrap(),
            "/care claim 42"
        );
    }

    #[test]
    fn validation_names_file_and_problem() {
        let ok_arg = "[[args]]\nname = \"a\"\nkind = \"word\"\nrequired = true\nhelp = \"A\"\n";
        let cases: Vec<((String, String), SpecProblem)> = vec![
            (
                file("x", "name = \"y\"\nsummary = \"S\"\nrole = \"agent\"\n"),
                SpecProblem::FileName {
                    expected: "y.toml".into(),
                },
            ),
            (
                file("Bad", "name = \"Bad\"\nsummary = \"S\"\nrole = \"agent\"\n"),
                SpecProblem::BadCommandName { name: "Bad".into() },
            ),
            (
                file("x", "name = \"x\"\nsummary = \"\"\nrole = \"agent\"\n"),
                SpecProblem::Empty {
                    field: "summary".into(),
                },
            ),
            (
                file(
                    "x",
                    &format!(
                        "name = \"x\"\nsummary = \"{}\"\nrole = \"agent\"\n",
                        "s".repeat(101)
                    ),
                ),
                SpecProblem::TooLong {
                    field: "summary".into(),
                    len: 101,
                    max: 100,
                },
            ),
            (
                file(
                    "x",
                    "name = \"x\"\nsummary = \"S\"\nrole = \"agent\"\n[[args]]\nname = \"t\"\nkind = \"text\"\nrequired = true\nhelp = \"T\"\n[[args]]\nname = \"w\"\nkind = \"word\"\nrequired = false\nhelp = \"W\"\n",
                ),
                SpecProblem::TextNotLast { name: "t".into() },
            ),
            (
                file(
                    "x",
                    "name = \"x\"\nsummary = \"S\"\nrole = \"agent\"\n[[args]]\nname = \"o\"\nkind = \"word\"\nrequired = false\nhelp = \"O\"\n[[args]]\nname = \"r\"\nkind = \"word\"\nrequired = true\nhelp = \"R\"\n",
                ),
                SpecProblem::RequiredAfterOptional {
                    name: "r".into(),
                    after: "o".into(),
                },
            ),
            (
                file(
                    "x",
                    &format!("name = \"x\"\nsummary = \"S\"\nrole = \"agent\"\n{ok_arg}{ok_arg}"),
                ),
                SpecProblem::DuplicateArg { name: "a".into() },
            ),
            (
                file(
                    "x",
                    "name = \"x\"\nsummary = \"S\"\nrole = \"agent\"\n[[args]]\nname = \"case\"\nkind = \"word\"\nrequired = true\nhelp = \"C\"\n",
                ),
                SpecProblem::ReservedArgName,
            ),
            (
                file(
                    "x",
                    "name = \"x\"\nsummary = \"S\"\nrole = \"agent\"\n[[args]]\nname = \"A\"\nkind = \"word\"\nrequired = true\nhelp = \"C\"\n",
                ),
                SpecProblem::BadArgName { name: "A".into() },
            ),
            (
                file(
                    "x",
                    "name = \"x\"\nsummary = \"S\"\nrole = \"agent\"\n[[args]]\nname = \"c\"\nkind = \"choice\"\nrequired = true\nhelp = \"C\"\n",
                ),
                SpecProblem::MissingChoices { name: "c".into() },
            ),
            (
                file(
                    "x",
                    "name = \"x\"\nsummary = \"S\"\nrole = \"agent\"\n[[args]]\nname = \"c\"\nkind = \"word\"\nchoices = [\"a\"]\nrequired = true\nhelp = \"C\"\n",
                ),
                SpecProblem::UnexpectedChoices {
                    name: "c".into(),
                    kind: ArgKind::Word,
                },
            ),
            (
                file(
                    "x",
                    "name = \"x\"\nsummary = \"S\"\nrole = \"agent\"\n[[args]]\nname = \"c\"\nkind = \"choice\"\nchoices = [\"a\", \"a\"]\nrequired = true\nhelp = \"C\"\n",
                ),
                SpecProblem::DuplicateChoice {
                    name: "c".into(),
                    choice: "a".into(),
                },
            ),
            (
                file(
                    "x",
                    "name = \"x\"\nsummary = \"S\"\nrole = \"agent\"\n[[args]]\nname = \"c\"\nkind = \"choice\"\nchoices = [\"E mail\"]\nrequired = true\nhelp = \"C\"\n",
                ),
                SpecProblem::BadChoice {
                    name: "c".into(),
                    choice: "E mail".into(),
                },
            ),
            (
                file(
                    "x",
                    "name = \"x\"\nsummary = \"S\"\nrole = \"agent\"\nexample = \"x extra\"\n",
                ),
                SpecProblem::BadExample {
                    example: "x extra".into(),
                    reason: "`x` doesn't take `extra`: remove it. Usage: `!x`.".into(),
                },
            ),
        ];
        for ((name, body), problem) in cases {
            let err = load_one(&name, &body).unwrap_err();
            assert_eq!(err.file, name);
            assert_eq!(err.problem, problem, "{body}");
        }
    }

    #[test]
    fn validation_error_messages() {
        let err = load_one(
            "x.toml",
            "name = \"x\"\nsummary = \"S\"\nrole = \"agent\"\n[[args]]\nname = \"o\"\nkind = \"word\"\nrequired = false\nhelp = \"O\"\n[[args]]\nname = \"r\"\nkind = \"word\"\nrequired = true\nhelp = \"R\"\n",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "commands/x.toml: required argument `r` comes after optional argument `o`; put required arguments first"
        );
        // Unknown keys and bad enum values come from serde, with a location.
        let err =
            load_one("x.toml", "name = \"x\"\nsummary = \"S\"\nrole = \"boss\"\n").unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("commands/x.toml: "), "{msg}");
        assert!(msg.contains("boss") && msg.contains("line 3"), "{msg}");
        let err = load_one(
            "x.toml",
            "name = \"x\"\nsummary = \"S\"\nrole = \"agent\"\nsumary = \"typo\"\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("sumary"), "{err}");
    }

    #[test]
    fn duplicate_command_is_rejected() {
        let body = "name = \"x\"\nsummary = \"S\"\nrole = \"agent\"\n";
        let err = Specs::from_files(&[("x.toml", body), ("x.toml", body)]).unwrap_err();
        assert_eq!(
            err.problem,
            SpecProblem::DuplicateCommand { name: "x".into() }
        );
    }

    #[test]
    fn help_topic_dispatch() {
        let specs = Specs::load().unwrap();
        assert_eq!(specs.help(None, Invocation::Thread), specs.help_all());
        assert_eq!(
            specs.help(Some("Escalate"), Invocation::Thread),
            specs.help_one("escalate").unwrap()
        );
        assert_eq!(
            specs.help(Some("clam"), Invocation::Thread),
            "Unknown command `clam`; did you mean `claim`? Type `!help` for the list."
        );
        assert!(specs.help_one("nope").is_none());
    }
}

//! The shape of one `commands/<name>.toml` file and the rules it must obey.
//!
//! Owns: the `Spec`/`ArgSpec` data model, its serde mapping, `Spec::usage`, and
//! validation of a single file (`Spec::from_toml`). Cross-file checks (duplicate
//! names, examples that must parse) live in `Specs` in `mod.rs`.
//!
//! Must not: parse user input, render chat messages, or know about any platform
//! beyond the limits that the generated Discord/Slack artifacts impose (those
//! limits are checked here so a bad file fails at load, not at registration).

use serde::{Deserialize, Serialize};

/// Longest summary or argument help, in characters: Discord's description limit.
pub const MAX_DESCRIPTION: usize = 100;

/// Discord allows 25 options per sub-command; one slot is kept for `case`.
pub const MAX_ARGS: usize = 24;

/// Discord allows 25 choices per option.
pub const MAX_CHOICES: usize = 25;

/// Arg name reserved for the case number (the Discord `case` option and the
/// `case` key accepted by [`super::Specs::from_options`]).
pub const RESERVED_ARG: &str = "case";

/// Who may run a command. Ordered by privilege: `Anyone < Agent < Approver`,
/// so a caller can check `user_role >= spec.role`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Anyone who can see the thread.
    Anyone,
    /// Support agents.
    Agent,
    /// Managers who approve public replies.
    Approver,
}

impl Role {
    /// The lowercase name used in command files.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Anyone => "anyone",
            Role::Agent => "agent",
            Role::Approver => "approver",
        }
    }
}

/// How an argument is read from a command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ArgKind {
    /// One whitespace-free token.
    Word,
    /// The rest of the line, verbatim (only the ends trimmed). Must be last.
    Text,
    /// A person: `@maria`, `maria`, `<@U0123>`, `<@!123>` or `<@123>`.
    User,
    /// A span of time: `90s`, `15m`, `2h`, `1d`, `1w`, `1h30m`.
    Duration,
    /// One of the spec's `choices`.
    Choice,
}

impl ArgKind {
    /// The lowercase name used in command files.
    pub fn as_str(self) -> &'static str {
        match self {
            ArgKind::Word => "word",
            ArgKind::Text => "text",
            ArgKind::User => "user",
            ArgKind::Duration => "duration",
            ArgKind::Choice => "choice",
        }
    }
}

/// Which section of the help a command is listed under. The order of the
/// variants is the order of the sections.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Group {
    /// Owning and routing the case (claim, assign, escalate, …). The default.
    #[default]
    Route,
    /// Answering the customer (reply, dm, offline, …).
    Answer,
    /// Acting on the network besides answering (like, repost, delete our reply).
    Network,
    /// Closing and reopening.
    Finish,
    /// Information (status, help).
    Info,
}

/// One command, as described by its `commands/<name>.toml` file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// Lowercase name, `[a-z][a-z0-9_-]{0,31}`; equals the file stem.
    pub name: String,
    /// One line, at most 100 characters (Discord's description limit).
    pub summary: String,
    /// Who may run it. Enforced by the engine, shown in help.
    pub role: Role,
    /// Help section. Optional in the file; defaults to [`Group::Route`].
    #[serde(default)]
    pub group: Group,
    /// Whether the command acts on a case, so `/care <command>` outside a
    /// thread needs a case number. Optional in the file; defaults to `true`
    /// (only `help` sets it to `false`).
    #[serde(default = "yes")]
    pub takes_case: bool,
    /// A realistic invocation as typed after `!` in a thread, e.g.
    /// `escalate billing Charged twice`. Used in error messages and help;
    /// checked at load to parse as this command.
    #[serde(default)]
    pub example: Option<String>,
    /// Positional arguments, in order.
    #[serde(default)]
    pub args: Vec<ArgSpec>,
}

fn yes() -> bool {
    true
}

/// One positional argument of a command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArgSpec {
    /// Lowercase name, `[a-z][a-z0-9_-]{0,31}`, unique within the command, not `case`.
    pub name: String,
    /// How the value is read.
    pub kind: ArgKind,
    /// Whether the command fails without it. Required args come first.
    pub required: bool,
    /// One line, at most 100 characters.
    pub help: String,
    /// The accepted values of a `choice` arg (lowercase names); empty otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
}

impl ArgSpec {
    /// The placeholder shown in usage lines: `<team>`, `[reason]`, `<email|sms|dm>`.
    pub fn placeholder(&self) -> String {
        let inner = if self.kind == ArgKind::Choice {
            self.choices.join("|")
        } else {
            self.name.clone()
        };
        if self.required {
            format!("<{inner}>")
        } else {
            format!("[{inner}]")
        }
    }
}

impl Spec {
    /// Parses and validates one command file. `file` is the file name
    /// (`escalate.toml`), which must be `<name>.toml`.
    pub fn from_toml(file: &str, text: &str) -> Result<Spec, SpecError> {
        let spec: Spec = toml::from_str(text).map_err(|e| SpecError {
            file: file.to_owned(),
            // toml's message already carries line, column and a snippet.
            problem: SpecProblem::Toml(e.to_string().trim_end().to_owned()),
        })?;
        spec.validate().map_err(|problem| SpecError {
            file: file.to_owned(),
            problem,
        })?;
        let expected = format!("{}.toml", spec.name);
        if file != expected {
            return Err(SpecError {
                file: file.to_owned(),
                problem: SpecProblem::FileName { expected },
            });
        }
        Ok(spec)
    }

    /// The usage line without any prefix: `escalate <team> [reason]`,
    /// `offline <email|sms|dm> [address]`, `claim`.
    pub fn usage(&self) -> String {
        let mut out = self.name.clone();
        for arg in &self.args {
            out.push(' ');
            out.push_str(&arg.placeholder());
        }
        out
    }

    /// The argument called `name`, if any.
    pub fn arg(&self, name: &str) -> Option<&ArgSpec> {
        self.args.iter().find(|a| a.name == name)
    }

    /// Checks everything that can be checked on this file alone.
    fn validate(&self) -> Result<(), SpecProblem> {
        if !is_valid_name(&self.name) {
            return Err(SpecProblem::BadCommandName {
                name: self.name.clone(),
            });
        }
        check_description("summary", &self.summary)?;
        if self.args.len() > MAX_ARGS {
            return Err(SpecProblem::TooManyArgs {
                count: self.args.len(),
            });
        }
        let mut first_optional: Option<&str> = None;
        for (i, arg) in self.args.iter().enumerate() {
            if !is_valid_name(&arg.name) {
                return Err(SpecProblem::BadArgName {
                    name: arg.name.clone(),
                });
            }
            if arg.name == RESERVED_ARG {
                return Err(SpecProblem::ReservedArgName);
            }
            if self.args[..i].iter().any(|a| a.name == arg.name) {
                return Err(SpecProblem::DuplicateArg {
                    name: arg.name.clone(),
                });
            }
            check_description(&format!("help of argument `{}`", arg.name), &arg.help)?;
            // A text arg swallows the rest of the line, so nothing can follow
            // it; this also rules out a second text arg.
            if arg.kind == ArgKind::Text && i + 1 != self.args.len() {
                return Err(SpecProblem::TextNotLast {
                    name: arg.name.clone(),
                });
            }
            // Positional parsing (and Discord) cannot skip an optional arg to
            // reach a required one.
            match (arg.required, first_optional) {
                (true, Some(after)) => {
                    return Err(SpecProblem::RequiredAfterOptional {
                        name: arg.name.clone(),
                        after: after.to_owned(),
                    });
                }
                (false, None) => first_optional = Some(&arg.name),
                _ => {}
            }
            check_choices(arg)?;
        }
        Ok(())
    }
}

fn check_choices(arg: &ArgSpec) -> Result<(), SpecProblem> {
    if arg.kind != ArgKind::Choice {
        if !arg.choices.is_empty() {
            return Err(SpecProblem::UnexpectedChoices {
                name: arg.name.clone(),
                kind: arg.kind,
            });
        }
        return Ok(());
    }
    if arg.choices.is_empty() {
        return Err(SpecProblem::MissingChoices {
            name: arg.name.clone(),
        });
    }
    if arg.choices.len() > MAX_CHOICES {
        return Err(SpecProblem::TooManyChoices {
            name: arg.name.clone(),
            count: arg.choices.len(),
        });
    }
    for (i, choice) in arg.choices.iter().enumerate() {
        // Same rule as names: matched case-insensitively, shown in usage lines
        // between `|`, and valid as a Discord choice name and value.
        if !is_valid_name(choice) {
            return Err(SpecProblem::BadChoice {
                name: arg.name.clone(),
                choice: choice.clone(),
            });
        }
        if arg.choices[..i].contains(choice) {
            return Err(SpecProblem::DuplicateChoice {
                name: arg.name.clone(),
                choice: choice.clone(),
            });
        }
    }
    Ok(())
}

fn check_description(field: &str, text: &str) -> Result<(), SpecProblem> {
    if text.trim().is_empty() {
        return Err(SpecProblem::Empty {
            field: field.to_owned(),
        });
    }
    if text.contains(['\n', '\r']) {
        return Err(SpecProblem::MultiLine {
            field: field.to_owned(),
        });
    }
    let len = text.chars().count();
    if len > MAX_DESCRIPTION {
        return Err(SpecProblem::TooLong {
            field: field.to_owned(),
            len,
            max: MAX_DESCRIPTION,
        });
    }
    Ok(())
}

/// `[a-z][a-z0-9_-]{0,31}`: valid as a Discord command/option name, a Slack
/// `/care` sub-word and a file stem.
pub fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z'))
        && name.len() <= 32
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_' | '-'))
}

/// A command file that cannot be used, naming the file and the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("commands/{file}: {problem}")]
pub struct SpecError {
    /// File name inside `commands/`, e.g. `escalate.toml`.
    pub file: String,
    /// What is wrong with it.
    pub problem: SpecProblem,
}

/// What is wrong with a command file. The messages are for whoever edits
/// `commands/`, so they name the rule and how to satisfy it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecProblem {
    /// The TOML does not parse or does not fit the command format.
    #[error("{0}")]
    Toml(String),
    /// The file is not named after the command.
    #[error("the file must be named `{expected}` after the command it describes")]
    FileName {
        /// The file name it should have.
        expected: String,
    },
    /// Two files describe the same command.
    #[error("command `{name}` is already described by another file")]
    DuplicateCommand {
        /// The repeated name.
        name: String,
    },
    /// The command name breaks the naming rule.
    #[error(
        "`{name}` is not a valid command name: use 1 to 32 lowercase letters, digits, `-` or `_`, starting with a letter"
    )]
    BadCommandName {
        /// The bad name.
        name: String,
    },
    /// An argument name breaks the naming rule.
    #[error(
        "`{name}` is not a valid argument name: use 1 to 32 lowercase letters, digits, `-` or `_`, starting with a letter"
    )]
    BadArgName {
        /// The bad name.
        name: String,
    },
    /// An argument is called `case`.
    #[error("the argument name `case` is reserved for the case number; choose another name")]
    ReservedArgName,
    /// Two arguments share a name.
    #[error("argument `{name}` is declared twice; argument names must be unique")]
    DuplicateArg {
        /// The repeated name.
        name: String,
    },
    /// A summary or help is empty.
    #[error("the {field} is empty")]
    Empty {
        /// Which field.
        field: String,
    },
    /// A summary or help spans lines.
    #[error("the {field} must fit on one line")]
    MultiLine {
        /// Which field.
        field: String,
    },
    /// A summary or help is too long for Discord.
    #[error("the {field} is {len} characters long; shorten it to at most {max}")]
    TooLong {
        /// Which field.
        field: String,
        /// Its length in characters.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// More arguments than a Discord sub-command can hold.
    #[error("{count} arguments; at most 24 fit beside the case number in a Discord command")]
    TooManyArgs {
        /// How many there are.
        count: usize,
    },
    /// A `text` argument is followed by another argument.
    #[error(
        "text argument `{name}` must be the last argument (a text argument takes the rest of the line, so there can be only one)"
    )]
    TextNotLast {
        /// The text argument.
        name: String,
    },
    /// A required argument follows an optional one.
    #[error(
        "required argument `{name}` comes after optional argument `{after}`; put required arguments first"
    )]
    RequiredAfterOptional {
        /// The required argument.
        name: String,
        /// The optional argument before it.
        after: String,
    },
    /// A `choice` argument has no choices.
    #[error("argument `{name}` is a choice but lists no `choices`")]
    MissingChoices {
        /// The argument.
        name: String,
    },
    /// A non-`choice` argument lists choices.
    #[error(
        "argument `{name}` lists `choices` but its kind is `{}`; use kind = \"choice\" or remove them", kind.as_str()
    )]
    UnexpectedChoices {
        /// The argument.
        name: String,
        /// Its declared kind.
        kind: ArgKind,
    },
    /// A choice value breaks the naming rule.
    #[error(
        "choice `{choice}` of argument `{name}` is not valid: use 1 to 32 lowercase letters, digits, `-` or `_`, starting with a letter"
    )]
    BadChoice {
        /// The argument.
        name: String,
        /// The bad choice.
        choice: String,
    },
    /// A choice is listed twice.
    #[error("choice `{choice}` of argument `{name}` is listed twice")]
    DuplicateChoice {
        /// The argument.
        name: String,
        /// The repeated choice.
        choice: String,
    },
    /// More choices than Discord allows.
    #[error("argument `{name}` has {count} choices; Discord allows at most 25")]
    TooManyChoices {
        /// The argument.
        name: String,
        /// How many there are.
        count: usize,
    },
    /// The `example` does not parse as this command.
    #[error("the example `{example}` is not a valid use of the command: {reason}")]
    BadExample {
        /// The example as written.
        example: String,
        /// Why it fails (the usage error a user would see, or a mismatch).
        reason: String,
    },
}

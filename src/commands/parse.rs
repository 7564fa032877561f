//! The argument parser: command lines and structured options to [`Parsed`].
//!
//! Owns: tokenizing a typed line, reading each argument by its [`ArgKind`]
//! (word, text, user, duration, choice), the case number of `/care` lines,
//! "did you mean" suggestions, and the [`UsageError`] values.
//!
//! Must not: do I/O, decide whether the caller may run the command or whether
//! it makes sense for the case (the engine does), or word any message: the
//! sentences for a [`UsageError`] are in [`crate::text::usage`].
//!
//! Input is taken as the adapter delivers it: the text after `!` in a thread,
//! the `text` field of a Slack `/care` payload. Platform escaping (Slack's
//! `&amp;`, `&lt;`, `&gt;`) must be undone by the adapter before parsing, or
//! it ends up verbatim in `text` arguments.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use super::spec::{ArgKind, ArgSpec, RESERVED_ARG, Spec};
use super::{Invocation, Specs, THREAD_PREFIX};

/// A successfully parsed command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// The canonical (lowercase) command name.
    pub name: String,
    /// The case number: given after the command name in `/care` lines, or by
    /// the caller / a `case` option in [`Specs::from_options`]. `None` for
    /// thread lines (the thread is the case) and for commands that take no case.
    pub case: Option<u64>,
    /// The arguments that were given, by name. Optional args that were not
    /// given are absent.
    pub args: BTreeMap<String, ArgValue>,
}

/// One argument's value, typed by its [`ArgKind`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArgValue {
    /// A `text` arg: the rest of the line, inner whitespace and newlines kept.
    Text(String),
    /// A `word` arg: one token, as typed.
    Word(String),
    /// A `user` arg: the bare id or name (`U0123`, `123`, `maria`), without
    /// `@` or `<@…>`.
    User(String),
    /// A `duration` arg.
    Duration(Duration),
    /// A `choice` arg: one of the spec's choices, lowercase.
    Choice(String),
}

impl ArgValue {
    /// The string inside any variant except `Duration`.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            ArgValue::Text(s) | ArgValue::Word(s) | ArgValue::User(s) | ArgValue::Choice(s) => {
                Some(s)
            }
            ArgValue::Duration(_) => None,
        }
    }
}

impl Parsed {
    /// The raw value of `arg`, if given.
    pub fn get(&self, arg: &str) -> Option<&ArgValue> {
        self.args.get(arg)
    }

    /// The value of the `text` arg `arg`, if given.
    pub fn text(&self, arg: &str) -> Option<&str> {
        match self.args.get(arg)? {
            ArgValue::Text(s) => Some(s),
            _ => None,
        }
    }

    /// The value of the `word` arg `arg`, if given.
    pub fn word(&self, arg: &str) -> Option<&str> {
        match self.args.get(arg)? {
            ArgValue::Word(s) => Some(s),
            _ => None,
        }
    }

    /// The bare user id or name of the `user` arg `arg`, if given.
    pub fn user(&self, arg: &str) -> Option<&str> {
        match self.args.get(arg)? {
            ArgValue::User(s) => Some(s),
            _ => None,
        }
    }

    /// The value of the `choice` arg `arg`, if given (lowercase).
    pub fn choice(&self, arg: &str) -> Option<&str> {
        match self.args.get(arg)? {
            ArgValue::Choice(s) => Some(s),
            _ => None,
        }
    }

    /// The value of the `duration` arg `arg`, if given.
    pub fn duration(&self, arg: &str) -> Option<Duration> {
        match self.args.get(arg)? {
            ArgValue::Duration(d) => Some(*d),
            _ => None,
        }
    }

    /// The string value of `arg` whatever its kind (not for durations).
    pub fn string(&self, arg: &str) -> Option<&str> {
        self.args.get(arg)?.as_str()
    }
}

/// Why a command line or option set is not a valid command. `Display` gives
/// the user-facing message (from [`crate::text::usage::usage_error`]), which
/// says what to change.
///
/// `usage` and `example` fields are already written the way the user must
/// type them (`!reply <text>`, `/care reply 42 Sorry …`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsageError {
    /// Nothing but whitespace (and maybe the `!`) was typed.
    Empty,
    /// No command has that name.
    UnknownCommand {
        /// The name as typed.
        given: String,
        /// The closest command name (edit distance ≤ 2, or a unique prefix match).
        suggestion: Option<String>,
        /// How it was typed, so the message points at `!help` or `/care help`.
        how: Invocation,
    },
    /// A required argument is missing.
    MissingArgument {
        /// The command.
        command: String,
        /// The missing argument.
        arg: String,
        /// Its kind, to word the message ("needs text", "needs a duration").
        kind: ArgKind,
        /// The usage line, as typed in this style.
        usage: String,
        /// The spec's example, as typed in this style.
        example: Option<String>,
    },
    /// A `/care` line has no case number after the command name.
    MissingCase {
        /// The command.
        command: String,
        /// The usage line (`/care reply <case> <text>`).
        usage: String,
        /// The spec's example with a sample case number.
        example: Option<String>,
    },
    /// The case number is not a positive whole number.
    BadCase {
        /// What was typed.
        given: String,
    },
    /// A duration that does not read as e.g. `30m`, `2h`, `1h30m`.
    BadDuration {
        /// What was typed.
        given: String,
    },
    /// A `choice` arg got something else.
    BadChoice {
        /// The argument.
        arg: String,
        /// What was typed.
        given: String,
        /// The accepted values.
        choices: Vec<String>,
    },
    /// A `user` arg got something that is not a mention, name or id.
    BadUser {
        /// What was typed.
        given: String,
    },
    /// Input left over after the last argument (no `text` arg to take it),
    /// or an option the command does not have.
    UnexpectedArgument {
        /// The command.
        command: String,
        /// The leftover input (or the unknown option's name).
        extra: String,
        /// The usage line, as typed in this style.
        usage: String,
    },
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::text::usage::usage_error(self))
    }
}

impl std::error::Error for UsageError {}

impl Specs {
    /// Parses one command line.
    ///
    /// - `Invocation::Thread`: `line` is the text after `!` (a leading `!` is
    ///   also accepted), e.g. `reply Sorry about that`.
    /// - `Invocation::Slash`: `line` is the text after `/care`, e.g.
    ///   `reply 42 Sorry about that` or `reply #42 Sorry`; the case number
    ///   must follow the command name unless the command takes no case.
    ///
    /// Command names are case-insensitive; argument values keep their case
    /// (except choices, which are matched case-insensitively and stored
    /// lowercase).
    pub fn parse(&self, line: &str, how: Invocation) -> Result<Parsed, UsageError> {
        let mut line = line.trim();
        if how == Invocation::Thread {
            line = line.strip_prefix(THREAD_PREFIX).unwrap_or(line);
        }
        let mut cur = Cursor::new(line);
        let given = cur.token().ok_or(UsageError::Empty)?;
        let spec = self.lookup(given, how)?;

        let mut case = None;
        if how == Invocation::Slash && spec.takes_case {
            case = Some(read_case(spec, cur.token())?);
        }
        let usage = || how.usage(spec);

        let mut args = BTreeMap::new();
        for arg in &spec.args {
            let raw = if arg.kind == ArgKind::Text {
                Some(cur.rest()).filter(|r| !r.is_empty())
            } else {
                cur.token()
            };
            match raw {
                Some(raw) => {
                    args.insert(arg.name.clone(), read_value(arg, raw)?);
                }
                None if arg.required => {
                    return Err(UsageError::MissingArgument {
                        command: spec.name.clone(),
                        arg: arg.name.clone(),
                        kind: arg.kind,
                        usage: usage(),
                        example: how.example(spec, case),
                    });
                }
                // Optional args come last, so once one is absent all the
                // following are too; keep looping to stay simple.
                None => {}
            }
        }

        let extra = cur.rest();
        if !extra.is_empty() {
            return Err(UsageError::UnexpectedArgument {
                command: spec.name.clone(),
                extra: extra.to_owned(),
                usage: usage(),
            });
        }
        Ok(Parsed {
            name: spec.name.clone(),
            case,
            args,
        })
    }

    /// Builds a [`Parsed`] from structured input — Discord sub-command
    /// options, Slack modal fields — with the same validation as [`Specs::parse`].
    ///
    /// `options` are `(arg name, value)` pairs; names match case-insensitively
    /// and empty values count as absent (Slack sends blank fields as `""`).
    /// `case` is the case the caller resolved (e.g. from the Discord thread);
    /// an explicit `case` option (Discord's `/care … case:42`) overrides it,
    /// because the user typed it deliberately. A missing case is not an error
    /// here: only the caller knows whether the context supplies one. For
    /// commands with `takes_case = false`, `case` is dropped. Error messages
    /// show `/care` usage.
    pub fn from_options(
        &self,
        name: &str,
        case: Option<u64>,
        options: &[(String, String)],
    ) -> Result<Parsed, UsageError> {
        let how = Invocation::Slash;
        let given = name.trim();
        if given.is_empty() {
            return Err(UsageError::Empty);
        }
        let spec = self.lookup(given, how)?;
        let unexpected = |extra: &str| UsageError::UnexpectedArgument {
            command: spec.name.clone(),
            extra: extra.to_owned(),
            usage: how.usage(spec),
        };

        let mut case = match case {
            Some(0) => return Err(UsageError::BadCase { given: "0".into() }),
            other => other,
        };
        let mut args = BTreeMap::new();
        for (key, value) in options {
            let key = key.trim().to_lowercase();
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            if key == RESERVED_ARG {
                case = Some(parse_case(value).ok_or_else(|| UsageError::BadCase {
                    given: value.to_owned(),
                })?);
                continue;
            }
            let Some(arg) = spec.arg(&key) else {
                return Err(unexpected(&key));
            };
            if args.contains_key(&arg.name) {
                return Err(unexpected(&key));
            }
            let value = if arg.kind == ArgKind::Text {
                value
            } else {
                // Non-text args are one token, as when typed; the rest is
                // reported exactly as a typed line would report it.
                let mut cur = Cursor::new(value);
                let first = cur.token().unwrap_or(value);
                let rest = cur.rest();
                if !rest.is_empty() {
                    return Err(unexpected(rest));
                }
                first
            };
            args.insert(arg.name.clone(), read_value(arg, value)?);
        }

        if let Some(missing) = spec
            .args
            .iter()
            .find(|a| a.required && !args.contains_key(&a.name))
        {
            return Err(UsageError::MissingArgument {
                command: spec.name.clone(),
                arg: missing.name.clone(),
                kind: missing.kind,
                usage: how.usage(spec),
                example: how.example(spec, case),
            });
        }
        Ok(Parsed {
            name: spec.name.clone(),
            case: if spec.takes_case { case } else { None },
            args,
        })
    }

    /// The spec for a typed command name, or `UnknownCommand` with a suggestion.
    fn lookup(&self, given: &str, how: Invocation) -> Result<&Spec, UsageError> {
        self.get(given).ok_or_else(|| UsageError::UnknownCommand {
            given: given.to_owned(),
            suggestion: self.suggest(given).map(str::to_owned),
            how,
        })
    }

    /// The command name closest to `given`: the nearest by edit distance
    /// (transpositions count as one edit) if within 2 — and shorter than the
    /// input, so `xy` does not "match" `dm` — else the only name that starts
    /// with `given` (`esc` → `escalate`). Ties go to the name sharing the
    /// longest start with the input, then to the first name in order.
    pub fn suggest(&self, given: &str) -> Option<&str> {
        let given = given.trim().to_lowercase();
        let len = given.chars().count();
        if len == 0 {
            return None;
        }
        let limit = 2.min(len - 1);
        // Rank by distance, then by the longest shared start (people get the
        // beginning right: `rep` means `reply` rather than `help`), then by name.
        let best = self
            .names()
            .map(|name| {
                let shared = given
                    .chars()
                    .zip(name.chars())
                    .take_while(|(a, b)| a == b)
                    .count();
                (edit_distance(&given, name), std::cmp::Reverse(shared), name)
            })
            .filter(|(d, _, _)| *d <= limit)
            .min();
        if let Some((_, _, name)) = best {
            return Some(name);
        }
        let mut prefixed = self.names().filter(|n| n.starts_with(&given));
        match (prefixed.next(), prefixed.next()) {
            (Some(only), None) => Some(only),
            _ => None,
        }
    }
}

/// Reads the case number of a `/care` line. A token that does not look like
/// a number at all (`/care reply Sorry …`) means the number was left out,
/// which deserves a different message from a mistyped one (`#4x`).
fn read_case(spec: &Spec, token: Option<&str>) -> Result<u64, UsageError> {
    let missing = || UsageError::MissingCase {
        command: spec.name.clone(),
        usage: Invocation::Slash.usage(spec),
        example: Invocation::Slash.example(spec, None),
    };
    let token = token.ok_or_else(missing)?;
    if let Some(n) = parse_case(token) {
        return Ok(n);
    }
    if token.starts_with('#') || token.starts_with(|c: char| c.is_ascii_digit()) {
        Err(UsageError::BadCase {
            given: token.to_owned(),
        })
    } else {
        Err(missing())
    }
}

/// `42` or `#42`; case numbers start at 1.
fn parse_case(token: &str) -> Option<u64> {
    let digits = token.strip_prefix('#').unwrap_or(token);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|n| *n > 0)
}

fn read_value(arg: &ArgSpec, raw: &str) -> Result<ArgValue, UsageError> {
    Ok(match arg.kind {
        ArgKind::Text => ArgValue::Text(raw.to_owned()),
        ArgKind::Word => ArgValue::Word(raw.to_owned()),
        ArgKind::User => ArgValue::User(parse_user(raw).ok_or_else(|| UsageError::BadUser {
            given: raw.to_owned(),
        })?),
        ArgKind::Duration => {
            ArgValue::Duration(parse_duration(raw).ok_or_else(|| UsageError::BadDuration {
                given: raw.to_owned(),
            })?)
        }
        ArgKind::Choice => {
            let lower = raw.to_lowercase();
            match arg.choices.iter().find(|c| **c == lower) {
                Some(choice) => ArgValue::Choice(choice.clone()),
                None => {
                    return Err(UsageError::BadChoice {
                        arg: arg.name.clone(),
                        given: raw.to_owned(),
                        choices: arg.choices.clone(),
                    });
                }
            }
        }
    })
}

/// Accepts `@maria`, `maria`, Slack `<@U0123>` / `<@U0123|maria>`, Discord
/// `<@123>` / `<@!123>`, and returns the bare name or id. Rejects channel
/// (`<#C1>`), role (`<@&1>`) and special (`<!here>`) mentions.
pub fn parse_user(raw: &str) -> Option<String> {
    if let Some(inner) = raw.strip_prefix("<@").and_then(|r| r.strip_suffix('>')) {
        let inner = inner.strip_prefix('!').unwrap_or(inner);
        // Slack's older form carries the name after `|`; the id is what counts.
        let id = inner.split_once('|').map_or(inner, |(id, _)| id);
        let ok = !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric());
        return ok.then(|| id.to_owned());
    }
    let name = raw.strip_prefix('@').unwrap_or(raw);
    // Slack and Discord user names: letters, digits, `.`, `_`, `-`.
    let ok = !name.is_empty()
        && name.chars().count() <= 80
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-'));
    ok.then(|| name.to_owned())
}

/// A command's duration argument: the one duration syntax (`90s`, `15m`,
/// `2h`, `1d`, `1w`, `1h30m`) as a single token, units in any case (people
/// type `2H` in chat), and never zero — "snooze for nothing" is a typo.
pub fn parse_duration(raw: &str) -> Option<Duration> {
    if raw.contains(char::is_whitespace) {
        return None;
    }
    crate::duration::parse_duration(&raw.to_ascii_lowercase())
        .ok()
        .filter(|d| !d.is_zero())
}

/// Optimal-string-alignment distance: Levenshtein plus adjacent
/// transpositions, so `calim` is one edit from `claim`.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    for i in 0..=a.len() {
        d[i * width] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(width) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[(i - 1) * width + j] + 1)
                .min(d[i * width + j - 1] + 1)
                .min(d[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = v;
        }
    }
    d[a.len() * width + b.len()]
}

/// Splits a line into whitespace-separated tokens while keeping the untouched
/// remainder available, so a `text` arg gets the rest of the line verbatim.
struct Cursor<'a> {
    rest: &'a str,
}

impl<'a> Cursor<'a> {
    fn new(line: &'a str) -> Self {
        Cursor { rest: line }
    }

    /// The next token, or `None` at the end.
    fn token(&mut self) -> Option<&'a str> {
        let s = self.rest.trim_start();
        if s.is_empty() {
            self.rest = s;
            return None;
        }
        let end = s.find(char::is_whitespace).unwrap_or(s.len());
        let (token, rest) = s.split_at(end);
        self.rest = rest;
        Some(token)
    }

    /// Everything left, trimmed at both ends only.
    fn rest(&mut self) -> &'a str {
        let r = self.rest.trim();
        self.rest = "";
        r
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::commands::Specs;

    fn specs() -> Specs {
        Specs::load().unwrap()
    }

    fn thread(line: &str) -> Result<Parsed, UsageError> {
        specs().parse(line, Invocation::Thread)
    }

    fn slash(line: &str) -> Result<Parsed, UsageError> {
        specs().parse(line, Invocation::Slash)
    }

    fn opts(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn msg(r: Result<Parsed, UsageError>) -> String {
        r.unwrap_err().to_string()
    }

    const MIN: u64 = 60;
    const HOUR: u64 = 3600;
    const DAY: u64 = 24 * HOUR;

    // ---- every command, both styles, good input --------------------------

    #[test]
    fn every_command_parses_in_thread_style() {
        let good: &[(&str, &[(&str, ArgValue)])] = &[
            ("claim", &[]),
            ("unclaim", &[]),
            ("assign @maria", &[("user", ArgValue::User("maria".into()))]),
            (
                "reply Sorry about that",
                &[("text", ArgValue::Text("Sorry about that".into()))],
            ),
            (
                "dm Could you DM us your order number?",
                &[(
                    "text",
                    ArgValue::Text("Could you DM us your order number?".into()),
                )],
            ),
            (
                "note Called them back",
                &[("text", ArgValue::Text("Called them back".into()))],
            ),
            (
                "canned refund-policy",
                &[("name", ArgValue::Word("refund-policy".into()))],
            ),
            (
                "escalate billing",
                &[("team", ArgValue::Word("billing".into()))],
            ),
            (
                "escalate billing Charged twice",
                &[
                    ("team", ArgValue::Word("billing".into())),
                    ("reason", ArgValue::Text("Charged twice".into())),
                ],
            ),
            (
                "offline sms",
                &[("channel", ArgValue::Choice("sms".into()))],
            ),
            (
                "offline EMAIL jo@example.com",
                &[
                    ("channel", ArgValue::Choice("email".into())),
                    ("address", ArgValue::Text("jo@example.com".into())),
                ],
            ),
            ("close", &[]),
            (
                "close Refunded",
                &[("note", ArgValue::Text("Refunded".into()))],
            ),
            ("reopen", &[]),
            ("recall", &[]),
            ("retry", &[]),
            ("tag outage", &[("label", ArgValue::Word("outage".into()))]),
            (
                "snooze 1h30m",
                &[("for", ArgValue::Duration(Duration::from_secs(90 * MIN)))],
            ),
            ("status", &[]),
            ("help", &[]),
            ("help reply", &[("command", ArgValue::Word("reply".into()))]),
            ("like", &[]),
            (
                "like 1860000000000000101",
                &[("post", ArgValue::Word("1860000000000000101".into()))],
            ),
            (
                "unlike at://did:plc:noor42/app.bsky.feed.post/3kq2abcxyz",
                &[(
                    "post",
                    ArgValue::Word("at://did:plc:noor42/app.bsky.feed.post/3kq2abcxyz".into()),
                )],
            ),
            (
                "repost fb-10228:1791",
                &[("post", ArgValue::Word("fb-10228:1791".into()))],
            ),
            ("delete", &[]),
            ("delete 12.3", &[("id", ArgValue::Word("12.3".into()))]),
            ("hide", &[]),
            (
                "hide 448242228374517_1213590066982748",
                &[(
                    "post",
                    ArgValue::Word("448242228374517_1213590066982748".into()),
                )],
            ),
            (
                "unhide 17873440459141021",
                &[("post", ArgValue::Word("17873440459141021".into()))],
            ),
        ];
        let mut seen = std::collections::BTreeSet::new();
        for (line, expected) in good {
            let p = thread(line).unwrap_or_else(|e| panic!("{line}: {e}"));
            assert_eq!(p.case, None, "{line}");
            let expected: BTreeMap<String, ArgValue> = expected
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect();
            assert_eq!(p.args, expected, "{line}");
            seen.insert(p.name);
        }
        assert_eq!(seen.len(), specs().len(), "every command covered");
    }

    #[test]
    fn every_command_parses_in_slash_style() {
        for spec in specs().iter() {
            let example = spec.example.as_deref().unwrap();
            let line = Invocation::Slash
                .example(spec, Some(42))
                .unwrap()
                .trim_start_matches("/care ")
                .to_owned();
            let p = slash(&line).unwrap_or_else(|e| panic!("{line}: {e}"));
            let t = thread(example).unwrap();
            assert_eq!(p.name, spec.name);
            assert_eq!(p.args, t.args, "{line}");
            let case = if spec.name == "help" { None } else { Some(42) };
            assert_eq!(p.case, case, "{line}");
        }
    }

    #[test]
    fn slash_case_forms() {
        let p = slash("reply #42 Sorry").unwrap();
        assert_eq!((p.case, p.text("text")), (Some(42), Some("Sorry")));
        let p = slash("CLAIM 7").unwrap();
        assert_eq!((p.name.as_str(), p.case), ("claim", Some(7)));
        let p = slash("help escalate").unwrap();
        assert_eq!((p.case, p.word("command")), (None, Some("escalate")));
        assert_eq!(slash("help").unwrap().case, None);
    }

    // ---- bad input: every UsageError variant and its exact message --------

    #[test]
    fn empty() {
        assert_eq!(thread("   "), Err(UsageError::Empty));
        assert_eq!(thread("!"), Err(UsageError::Empty));
        assert_eq!(slash(""), Err(UsageError::Empty));
        assert_eq!(
            msg(thread("")),
            "Type a command, e.g. `!claim` in a case thread or `/care claim 42` anywhere. `!help` lists them all."
        );
    }

    #[test]
    fn unknown_command_with_suggestion() {
        assert_eq!(
            thread("clam"),
            Err(UsageError::UnknownCommand {
                given: "clam".into(),
                suggestion: Some("claim".into()),
                how: Invocation::Thread,
            })
        );
        assert_eq!(
            msg(thread("clam")),
            "Unknown command `clam`; did you mean `claim`? Type `!help` for the list."
        );
        assert_eq!(
            msg(slash("esc 4 billing")),
            "Unknown command `esc`; did you mean `escalate`? Type `/care help` for the list."
        );
        assert_eq!(
            msg(thread("frobnicate")),
            "Unknown command `frobnicate`. Type `!help` for the list."
        );
    }

    #[test]
    fn suggestions() {
        let s = specs();
        assert_eq!(s.suggest("clam"), Some("claim"));
        assert_eq!(s.suggest("calim"), Some("claim")); // transposition
        assert_eq!(s.suggest("REPLU"), Some("reply"));
        assert_eq!(s.suggest("snoze"), Some("snooze"));
        assert_eq!(s.suggest("esc"), Some("escalate")); // unique prefix
        assert_eq!(s.suggest("off"), Some("offline"));
        assert_eq!(s.suggest("unclaimed"), Some("unclaim"));
        assert_eq!(s.suggest("rep"), Some("reply")); // distance 2 beats ambiguous prefix
        assert_eq!(s.suggest("re"), None); // ambiguous prefix, too short for edits
        assert_eq!(s.suggest("xy"), None);
        assert_eq!(s.suggest("zzzzzz"), None);
    }

    #[test]
    fn missing_argument() {
        assert_eq!(
            thread("reply"),
            Err(UsageError::MissingArgument {
                command: "reply".into(),
                arg: "text".into(),
                kind: ArgKind::Text,
                usage: "!reply <text>".into(),
                example: Some("!reply Sorry about the delay, we're on it".into()),
            })
        );
        assert_eq!(
            msg(thread("reply   ")),
            "`reply` needs text: try `!reply Sorry about the delay, we're on it`."
        );
        assert_eq!(
            msg(slash("reply 17")),
            "`reply` needs text: try `/care reply 17 Sorry about the delay, we're on it`."
        );
        assert_eq!(
            msg(thread("escalate")),
            "`escalate` needs a team: try `!escalate billing Charged twice for one order`."
        );
        assert_eq!(
            msg(thread("assign")),
            "`assign` needs a user: try `!assign @maria`."
        );
        assert_eq!(
            msg(thread("snooze")),
            "`snooze` needs a duration: try `!snooze 2h`."
        );
        assert_eq!(
            msg(thread("offline")),
            "`offline` needs a channel: try `!offline email`."
        );
        assert_eq!(
            msg(thread("tag")),
            "`tag` needs a label: try `!tag refund`."
        );
        for cmd in ["dm", "note", "canned"] {
            assert!(
                matches!(thread(cmd), Err(UsageError::MissingArgument { .. })),
                "{cmd}"
            );
        }
    }

    #[test]
    fn missing_case() {
        assert_eq!(
            slash("reply"),
            Err(UsageError::MissingCase {
                command: "reply".into(),
                usage: "/care reply <case> <text>".into(),
                example: Some("/care reply 42 Sorry about the delay, we're on it".into()),
            })
        );
        // A word where the number belongs means the number was left out.
        assert!(matches!(
            slash("reply Sorry about that"),
            Err(UsageError::MissingCase { .. })
        ));
        assert_eq!(
            msg(slash("reply Sorry about that")),
            "`/care reply` needs the case number right after the command: try `/care reply 42 Sorry about the delay, we're on it`. In the case's thread, type `!reply …` instead."
        );
        assert_eq!(
            msg(slash("claim")),
            "`/care claim` needs the case number right after the command: try `/care claim 42`. In the case's thread, type `!claim` instead."
        );
        for spec in specs().iter().filter(|s| s.takes_case) {
            assert!(
                matches!(slash(&spec.name), Err(UsageError::MissingCase { .. })),
                "{}",
                spec.name
            );
        }
    }

    #[test]
    fn bad_case() {
        for given in ["#4x", "0", "#0", "4.5", "#", "99999999999999999999999"] {
            assert_eq!(
                slash(&format!("claim {given}")),
                Err(UsageError::BadCase {
                    given: given.into()
                }),
                "{given}"
            );
        }
        assert_eq!(
            msg(slash("claim #4x")),
            "`#4x` is not a case number: use the number on the case card, like `42` or `#42`."
        );
    }

    #[test]
    fn bad_duration() {
        assert_eq!(
            thread("snooze soon"),
            Err(UsageError::BadDuration {
                given: "soon".into()
            })
        );
        assert_eq!(
            msg(thread("snooze 2x")),
            "`2x` is not a duration: use a number and a unit (s, m, h, d or w), like `30m`, `2h`, `1d` or `1h30m`."
        );
    }

    #[test]
    fn bad_choice() {
        assert_eq!(
            thread("offline fax"),
            Err(UsageError::BadChoice {
                arg: "channel".into(),
                given: "fax".into(),
                choices: vec!["email".into(), "sms".into(), "dm".into()],
            })
        );
        assert_eq!(
            msg(thread("offline fax")),
            "`fax` is not a valid channel: use `email`, `sms` or `dm`."
        );
    }

    #[test]
    fn bad_user() {
        for given in ["<#C0123>", "<@&123>", "<!here>", "@", "<@>", "ma/ria"] {
            assert_eq!(
                thread(&format!("assign {given}")),
                Err(UsageError::BadUser {
                    given: given.into()
                }),
                "{given}"
            );
        }
        assert_eq!(
            msg(thread("assign <#C0123>")),
            "`<#C0123>` is not a person: mention them, like `@maria`, or give their user id."
        );
    }

    #[test]
    fn unexpected_argument() {
        assert_eq!(
            thread("claim now please"),
            Err(UsageError::UnexpectedArgument {
                command: "claim".into(),
                extra: "now please".into(),
                usage: "!claim".into(),
            })
        );
        assert_eq!(
            msg(thread("tag needs review")),
            "`tag` doesn't take `review`: remove it. Usage: `!tag <label>`."
        );
        assert_eq!(
            msg(slash("claim 42 now")),
            "`claim` doesn't take `now`: remove it. Usage: `/care claim <case>`."
        );
        assert!(matches!(
            thread("help reply extra"),
            Err(UsageError::UnexpectedArgument { .. })
        ));
        assert!(matches!(
            thread("snooze 2h 3h"),
            Err(UsageError::UnexpectedArgument { .. })
        ));
    }

    #[test]
    fn long_or_odd_input_is_shortened_in_messages() {
        let long = format!("claim {}", "word ".repeat(30));
        assert_eq!(
            msg(thread(&long)),
            "`claim` doesn't take `word word word word word word word word…`: remove it. Usage: `!claim`."
        );
        assert_eq!(
            msg(thread("offline `fax`")),
            "`'fax'` is not a valid channel: use `email`, `sms` or `dm`."
        );
    }

    // ---- argument kinds -----------------------------------------------------

    #[test]
    fn text_keeps_inner_whitespace_and_newlines() {
        let p = thread("!reply   Hi Jo,\n\n  Thanks for  waiting.\n\tBest  \n").unwrap();
        assert_eq!(
            p.text("text"),
            Some("Hi Jo,\n\n  Thanks for  waiting.\n\tBest")
        );
        // The command name may be followed directly by a newline.
        let p = thread("escalate billing\nLine one\nLine two").unwrap();
        assert_eq!(p.word("team"), Some("billing"));
        assert_eq!(p.text("reason"), Some("Line one\nLine two"));
        let p = slash("note #5\nmulti\nline").unwrap();
        assert_eq!((p.case, p.text("text")), (Some(5), Some("multi\nline")));
    }

    #[test]
    fn durations() {
        let ok = [
            ("90s", 90),
            ("15m", 15 * MIN),
            ("2h", 2 * HOUR),
            ("1d", DAY),
            ("1w", 7 * DAY),
            ("1h30m", 90 * MIN),
            ("1d12h", 36 * HOUR),
            ("2H", 2 * HOUR),
            ("1w2d3h4m5s", 7 * DAY + 2 * DAY + 3 * HOUR + 4 * MIN + 5),
        ];
        for (raw, secs) in ok {
            assert_eq!(
                parse_duration(raw),
                Some(Duration::from_secs(secs)),
                "{raw}"
            );
        }
        for raw in [
            "",
            "h",
            "90",
            "2x",
            "1.5h",
            "30m1h",
            "1h1h",
            "0m",
            "-1h",
            "m30",
            "1h 30m",
            "99999999999999999999w",
        ] {
            assert_eq!(parse_duration(raw), None, "{raw}");
        }
        let p = thread("snooze 45m").unwrap();
        assert_eq!(p.duration("for"), Some(Duration::from_secs(45 * MIN)));
    }

    #[test]
    fn user_forms() {
        for (raw, id) in [
            ("@maria", "maria"),
            ("maria", "maria"),
            ("@maria.lopez", "maria.lopez"),
            ("<@U0123>", "U0123"),
            ("<@U0123|maria>", "U0123"),
            ("<@!123456789>", "123456789"),
            ("<@123456789>", "123456789"),
        ] {
            assert_eq!(parse_user(raw).as_deref(), Some(id), "{raw}");
            let p = thread(&format!("assign {raw}")).unwrap();
            assert_eq!(p.user("user"), Some(id), "{raw}");
        }
    }

    #[test]
    fn getters_are_typed() {
        let p = thread("escalate billing Charged twice").unwrap();
        assert_eq!(p.word("team"), Some("billing"));
        assert_eq!(p.text("team"), None);
        assert_eq!(p.string("team"), Some("billing"));
        assert_eq!(p.string("reason"), Some("Charged twice"));
        assert_eq!(p.get("nope"), None);
        let p = thread("offline dm").unwrap();
        assert_eq!(p.choice("channel"), Some("dm"));
        assert_eq!(p.text("address"), None);
    }

    #[test]
    fn command_names_are_case_insensitive_and_bang_tolerated() {
        assert_eq!(thread("!CLAIM").unwrap().name, "claim");
        assert_eq!(thread("Reply Hi").unwrap().text("text"), Some("Hi"));
    }

    // ---- structured options ---------------------------------------------------

    #[test]
    fn from_options_good() {
        let s = specs();
        let p = s
            .from_options(
                "escalate",
                Some(9),
                &opts(&[("team", "billing"), ("reason", "Charged\ntwice ")]),
            )
            .unwrap();
        assert_eq!(p.case, Some(9));
        assert_eq!(p.word("team"), Some("billing"));
        assert_eq!(p.text("reason"), Some("Charged\ntwice"));

        // Discord USER options arrive as a bare snowflake.
        let p = s
            .from_options("assign", None, &opts(&[("user", "123456789")]))
            .unwrap();
        assert_eq!((p.case, p.user("user")), (None, Some("123456789")));

        // An explicit `case` option wins over the context's case.
        let p = s
            .from_options("claim", Some(3), &opts(&[("case", "#8")]))
            .unwrap();
        assert_eq!(p.case, Some(8));

        // Blank optional fields are absent; help drops the case.
        let p = s
            .from_options("HELP", Some(3), &opts(&[("command", "  ")]))
            .unwrap();
        assert_eq!((p.name.as_str(), p.case, p.args.len()), ("help", None, 0));

        let p = s
            .from_options("snooze", Some(1), &opts(&[("FOR", "2h")]))
            .unwrap();
        assert_eq!(p.duration("for"), Some(Duration::from_secs(2 * HOUR)));
    }

    #[test]
    fn from_options_shares_validation() {
        let s = specs();
        let err = |name: &str, case, o: &[(&str, &str)]| {
            s.from_options(name, case, &opts(o)).unwrap_err()
        };
        assert!(matches!(
            err("clam", Some(1), &[]),
            UsageError::UnknownCommand { suggestion: Some(ref x), how: Invocation::Slash, .. } if x == "claim"
        ));
        assert_eq!(err(" ", None, &[]), UsageError::Empty);
        assert_eq!(
            err("reply", Some(1), &[("text", "   ")]),
            UsageError::MissingArgument {
                command: "reply".into(),
                arg: "text".into(),
                kind: ArgKind::Text,
                usage: "/care reply <case> <text>".into(),
                example: Some("/care reply 1 Sorry about the delay, we're on it".into()),
            }
        );
        assert_eq!(
            err("snooze", Some(1), &[("for", "soon")]),
            UsageError::BadDuration {
                given: "soon".into()
            }
        );
        assert!(matches!(
            err("offline", Some(1), &[("channel", "fax")]),
            UsageError::BadChoice { .. }
        ));
        assert!(matches!(
            err("assign", Some(1), &[("user", "<#C1>")]),
            UsageError::BadUser { .. }
        ));
        assert_eq!(
            err("claim", Some(0), &[]),
            UsageError::BadCase { given: "0".into() }
        );
        assert_eq!(
            err("claim", None, &[("case", "abc")]),
            UsageError::BadCase {
                given: "abc".into()
            }
        );
        assert_eq!(
            err("claim", Some(1), &[("priority", "high")]),
            UsageError::UnexpectedArgument {
                command: "claim".into(),
                extra: "priority".into(),
                usage: "/care claim <case>".into(),
            }
        );
        assert_eq!(
            err("tag", Some(1), &[("label", "needs review")]),
            UsageError::UnexpectedArgument {
                command: "tag".into(),
                extra: "review".into(),
                usage: "/care tag <case> <label>".into(),
            }
        );
        assert!(matches!(
            err("tag", Some(1), &[("label", "a"), ("LABEL", "b")]),
            UsageError::UnexpectedArgument { .. }
        ));
    }

    #[test]
    fn from_options_matches_parse() {
        // For every example, feeding its parsed args back as options gives
        // the same result: one validation, two entry points.
        let s = specs();
        for spec in s.iter() {
            let p = s
                .parse(spec.example.as_deref().unwrap(), Invocation::Thread)
                .unwrap();
            let options: Vec<(String, String)> = p
                .args
                .iter()
                .map(|(k, v)| {
                    let raw = match v {
                        ArgValue::Duration(_) => "2h".to_owned(),
                        other => other.as_str().unwrap().to_owned(),
                    };
                    (k.clone(), raw)
                })
                .collect();
            let q = s.from_options(&spec.name, None, &options).unwrap();
            assert_eq!(p, q, "{}", spec.name);
        }
    }
}

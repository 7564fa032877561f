//! `${VAR}` substitution in `bot.toml` string values, so secrets live in the environment.
//!
//! Owns the substitution syntax only: it walks the parsed TOML tree and reads variables through
//! the injected lookup (never `std::env` directly, so tests stay hermetic). It must not log or
//! echo variable values: they are usually secrets.

use toml::{Table, Value};

use super::{Problem, path};

/// A variable lookup: `Some(value)` when the variable is set.
pub(super) type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// A string value that took text from the environment: as written and as expanded.
pub(super) struct Substituted {
    written: String,
    value: String,
}

/// What [`substitute`] did.
pub(super) struct Substitution {
    /// The paths of the values that could not be substituted, so that later checks can stay
    /// quiet about them instead of also complaining that `${TOKEN}` is, say, not an address.
    pub(super) failed: Vec<String>,
    /// The values that were, so that [`redact`] can keep them out of problem messages.
    pub(super) done: Vec<Substituted>,
}

/// Replaces `${VAR}` in every string value of `table` (recursively) and `$${` with a literal
/// `${`. Substituted text is not scanned again, so a value containing `${` stays as it is.
pub(super) fn substitute(
    table: &mut Table,
    env: EnvLookup<'_>,
    problems: &mut Vec<Problem>,
) -> Substitution {
    let mut result = Substitution {
        failed: Vec::new(),
        done: Vec::new(),
    };
    for (key, value) in table.iter_mut() {
        walk(value, &path::key("", key), env, problems, &mut result);
    }
    result
}

/// Shows substituted values in problem messages as written (`"${SLACK_BOT_TOKEN}"`), not as
/// expanded: a secret under the wrong key, or failing a check, must not be printed. (Messages
/// quote the values they show, `{:?}`; that quoted form is what is replaced.)
pub(super) fn redact(problems: &mut [Problem], substituted: &[Substituted]) {
    for problem in problems {
        for s in substituted.iter().filter(|s| !s.value.is_empty()) {
            let quoted = format!("{:?}", s.value);
            problem.message = problem
                .message
                .replace(&quoted, &format!("{:?}", s.written));
        }
    }
}

fn walk(
    value: &mut Value,
    at: &str,
    env: EnvLookup<'_>,
    problems: &mut Vec<Problem>,
    result: &mut Substitution,
) {
    match value {
        Value::String(text) => {
            // Most strings contain no `$`: leave them untouched and unallocated.
            if !text.contains('$') {
                return;
            }
            match expand(text, env) {
                Ok(expanded) => {
                    if expanded != *text {
                        result.done.push(Substituted {
                            written: std::mem::take(text),
                            value: expanded.clone(),
                        });
                    }
                    *text = expanded;
                }
                Err(messages) => {
                    result.failed.push(at.to_owned());
                    problems.extend(messages.into_iter().map(|m| Problem::new(at, m)));
                }
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter_mut().enumerate() {
                walk(item, &path::index(at, index), env, problems, result);
            }
        }
        Value::Table(table) => {
            for (key, item) in table.iter_mut() {
                walk(item, &path::key(at, key), env, problems, result);
            }
        }
        Value::Integer(_) | Value::Float(_) | Value::Boolean(_) | Value::Datetime(_) => {}
    }
}

/// Expands one string; on failure returns every problem in it (not only the first).
pub(super) fn expand(text: &str, env: EnvLookup<'_>) -> Result<String, Vec<String>> {
    let mut out = String::with_capacity(text.len());
    let mut errors = Vec::new();
    let mut rest = text;
    while let Some(dollar) = rest.find('$') {
        out.push_str(&rest[..dollar]);
        let tail = &rest[dollar..];
        if let Some(after) = tail.strip_prefix("$${") {
            out.push_str("${");
            rest = after;
        } else if let Some(after) = tail.strip_prefix("${") {
            let Some(end) = after.find('}') else {
                errors.push(
                    "`${` has no closing `}` (write ${NAME}, or $${ for a literal ${)".to_owned(),
                );
                rest = "";
                break;
            };
            let name = &after[..end];
            if !is_variable_name(name) {
                errors.push(format!(
                    "`${{{name}}}` is not a valid variable reference (names are letters, digits \
                     and _, not starting with a digit; write $${{ for a literal ${{)"
                ));
            } else if let Some(value) = env(name) {
                out.push_str(&value);
            } else {
                errors.push(format!("environment variable {name} is not set"));
            }
            rest = &after[end + 1..];
        } else {
            out.push('$');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// `[A-Za-z_][A-Za-z0-9_]*`, the portable shell variable name.
fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "TOKEN" => Some("s3cr3t".to_owned()),
            "EMPTY" => Some(String::new()),
            "_X1" => Some("x".to_owned()),
            "DOLLARS" => Some("${TOKEN}".to_owned()),
            _ => None,
        }
    }

    #[test]
    fn expands_variables_anywhere_in_a_string() {
        assert_eq!(expand("${TOKEN}", &env), Ok("s3cr3t".to_owned()));
        assert_eq!(
            expand("Bearer ${TOKEN} for ${_X1}!", &env),
            Ok("Bearer s3cr3t for x!".to_owned())
        );
        assert_eq!(expand("${EMPTY}", &env), Ok(String::new()));
    }

    #[test]
    fn dollars_without_braces_and_escapes_are_literal() {
        assert_eq!(
            expand("costs $5 or $$", &env),
            Ok("costs $5 or $$".to_owned())
        );
        assert_eq!(expand("$${TOKEN}", &env), Ok("${TOKEN}".to_owned()));
        assert_eq!(
            expand("a $${b} ${TOKEN}", &env),
            Ok("a ${b} s3cr3t".to_owned())
        );
        assert_eq!(expand("trailing $", &env), Ok("trailing $".to_owned()));
    }

    #[test]
    fn substituted_text_is_not_rescanned() {
        assert_eq!(expand("${DOLLARS}", &env), Ok("${TOKEN}".to_owned()));
    }

    #[test]
    fn reports_every_problem() {
        let errors = expand("${NOPE} ${1BAD} ${ALSO_NOPE}", &env).unwrap_err();
        assert_eq!(errors.len(), 3);
        assert_eq!(errors[0], "environment variable NOPE is not set");
        assert!(errors[1].contains("`${1BAD}` is not a valid variable reference"));
        assert_eq!(errors[2], "environment variable ALSO_NOPE is not set");
        assert!(expand("${UNCLOSED", &env).unwrap_err()[0].contains("no closing"));
        assert!(expand("${}", &env).is_err());
    }

    #[test]
    fn walks_nested_tables_and_arrays_with_paths() {
        let mut table: Table = r#"
            top = "${TOKEN}"
            [a.b]
            list = ["x", "${TOKEN}", "${MISSING}"]
            number = 5
            [[c]]
            d = "${GONE}"
        "#
        .parse()
        .unwrap();
        let mut problems = Vec::new();
        let failed = substitute(&mut table, &env, &mut problems).failed;
        assert_eq!(table["top"].as_str(), Some("s3cr3t"));
        assert_eq!(table["a"]["b"]["list"][1].as_str(), Some("s3cr3t"));
        let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "a.b.list[2]: environment variable MISSING is not set",
                "c[0].d: environment variable GONE is not set",
            ]
        );
        assert_eq!(failed, ["a.b.list[2]", "c[0].d"]);
    }
}

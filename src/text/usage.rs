//! Every user-visible sentence of the command layer: usage-error messages,
//! the help text's framing, and the fixed descriptions in the Slack manifest
//! and Discord command JSON.
//!
//! Owns: wording. Messages say what went wrong *and what to type instead*,
//! using the usage lines and examples that `crate::commands` already styled
//! for the way the user typed (`!reply …` or `/care reply 42 …`).
//!
//! Must not: parse, validate, or decide anything; it formats values it is
//! given. Markup is limited to backticks and plain lines, which read the same
//! in Slack mrkdwn, Discord markdown and a console.

use crate::commands::{ArgKind, Group, Invocation, Role, Spec, UsageError};

/// Slack manifest `display_information.description` (≤ 140 characters).
pub const SLACK_APP_DESCRIPTION: &str = "Brings your brand's social inboxes into Slack: every customer post becomes a case, worked in one thread.";

/// Description of the `/care` slash command in the Slack manifest.
pub const SLASH_DESCRIPTION: &str = "Work a social-media case by number: claim, reply, escalate, close… (/care help lists them all)";

/// Description of the Discord `/care` command (≤ 100 characters).
pub const DISCORD_COMMAND_DESCRIPTION: &str =
    "Work a social-media case: in its thread, or anywhere with a case number";

/// Description of the `case` option on every Discord sub-command but `help`.
pub const DISCORD_CASE_OPTION_DESCRIPTION: &str =
    "Case number; not needed inside the case's thread";

/// The message for a usage error, saying what to change.
pub fn usage_error(e: &UsageError) -> String {
    match e {
        UsageError::Empty => {
            "Type a command, e.g. `!claim` in a case thread or `/care claim 42` anywhere. `!help` lists them all."
                .to_owned()
        }
        UsageError::UnknownCommand {
            given,
            suggestion,
            how,
        } => {
            let help = match how {
                Invocation::Thread => "!help",
                Invocation::Slash => "/care help",
            };
            match suggestion {
                Some(s) => format!(
                    "Unknown command {}; did you mean `{s}`? Type `{help}` for the list.",
                    code(given)
                ),
                None => format!(
                    "Unknown command {}. Type `{help}` for the list.",
                    code(given)
                ),
            }
        }
        UsageError::MissingArgument {
            command,
            arg,
            kind,
            usage,
            example,
        } => {
            let what = match kind {
                ArgKind::Text if arg == "text" => "text".to_owned(),
                ArgKind::Duration => "a duration".to_owned(),
                ArgKind::User => "a user".to_owned(),
                _ => with_article(arg),
            };
            format!("`{command}` needs {what}: {}.", try_this(example, usage))
        }
        UsageError::MissingCase {
            command,
            usage,
            example,
        } => {
            // Point at the thread form, where no number is needed. `usage` is
            // `/care <name> <case> [args…]`: more than three words means the
            // command takes arguments, shown as `…`.
            let thread_form = if usage.split_whitespace().count() > 3 {
                format!("!{command} …")
            } else {
                format!("!{command}")
            };
            format!(
                "`/care {command}` needs the case number right after the command: {}. In the case's thread, type `{thread_form}` instead.",
                try_this(example, usage)
            )
        }
        UsageError::BadCase { given } => format!(
            "{} is not a case number: use the number on the case card, like `42` or `#42`.",
            code(given)
        ),
        UsageError::BadDuration { given } => format!(
            "{} is not a duration: use a number and a unit (s, m, h, d or w), like `30m`, `2h`, `1d` or `1h30m`.",
            code(given)
        ),
        UsageError::BadChoice {
            arg,
            given,
            choices,
        } => format!(
            "{} is not a valid {arg}: use {}.",
            code(given),
            one_of(choices)
        ),
        UsageError::BadUser { given } => format!(
            "{} is not a person: mention them, like `@maria`, or give their user id.",
            code(given)
        ),
        UsageError::UnexpectedArgument {
            command,
            extra,
            usage,
        } => format!(
            "`{command}` doesn't take {}: remove it. Usage: `{usage}`.",
            code(extra)
        ),
    }
}

/// The full command list; `specs` come in help order (grouped).
pub fn help_all(specs: &[&Spec]) -> String {
    let mut out = String::from(
        "In a case thread, start a command with `!` on Slack (`!claim`) or use `/care` on Discord (`/care claim`). \
         Anywhere, `/care <command> <case> …` works too, e.g. `/care claim 42`.\n",
    );
    let mut group = None;
    for spec in specs {
        if group != Some(spec.group) {
            group = Some(spec.group);
            out.push('\n');
            out.push_str(group_heading(spec.group));
            out.push_str(":\n");
        }
        out.push_str(&format!("`{}` — {}\n", spec.usage(), spec.summary));
    }
    out.push_str("\n`!help <command>` or `/care help <command>` explains one command.");
    out
}

/// One command in detail: usage, summary, arguments, how to type it, who may run it.
pub fn help_one(spec: &Spec) -> String {
    let mut out = format!("`{}` — {}\n", spec.usage(), spec.summary);
    for arg in &spec.args {
        let mut notes = vec![if arg.required { "required" } else { "optional" }.to_owned()];
        match arg.kind {
            ArgKind::Text => notes.push("the rest of the line".to_owned()),
            ArgKind::Choice => notes.push(format!("one of {}", one_of(&arg.choices))),
            ArgKind::Word | ArgKind::User | ArgKind::Duration => {}
        }
        out.push_str(&format!(
            "• `{}` ({}): {}\n",
            arg.name,
            notes.join(", "),
            arg.help
        ));
    }
    let thread = Invocation::Thread.usage(spec);
    match Invocation::Thread.example(spec, None) {
        Some(example) => out.push_str(&format!("In a case thread: `{thread}`, e.g. `{example}`\n")),
        None => out.push_str(&format!("In a case thread: `{thread}`\n")),
    }
    out.push_str(&format!("Anywhere: `{}`\n", Invocation::Slash.usage(spec)));
    out.push_str(&format!("Who can run it: {}.", role_phrase(spec.role)));
    out
}

/// The heading of a help section.
pub fn group_heading(group: Group) -> &'static str {
    match group {
        Group::Route => "Owning and routing the case",
        Group::Answer => "Answering the customer",
        Group::Network => "On the network",
        Group::Finish => "Closing",
        Group::Info => "Information",
    }
}

/// Who holds a role, in help text. Roles are ordered, so a higher role may
/// run everything a lower one may.
pub fn role_phrase(role: Role) -> &'static str {
    match role {
        Role::Anyone => "anyone",
        Role::Agent => "agents and approvers",
        Role::Approver => "approvers",
    }
}

/// "try `example`" when there is an example, else "the usage is `usage`".
fn try_this(example: &Option<String>, usage: &str) -> String {
    match example {
        Some(example) => format!("try `{example}`"),
        None => format!("the usage is `{usage}`"),
    }
}

/// `` `email`, `sms` or `dm` ``.
fn one_of(choices: &[String]) -> String {
    let quoted: Vec<String> = choices.iter().map(|c| format!("`{c}`")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

/// "a team", "an address". `u` is left out on purpose: "a user", "a unit".
fn with_article(noun: &str) -> String {
    let article = if noun.starts_with(['a', 'e', 'i', 'o']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {noun}")
}

/// Quotes what the user typed as inline code, safely: backticks would end the
/// code span and newlines would break the line, and a pasted paragraph should
/// not fill the thread, so it is cut to 40 characters.
fn code(given: &str) -> String {
    const MAX: usize = 40;
    let flat: String = given
        .chars()
        .map(|c| match c {
            '`' => '\'',
            c if c.is_whitespace() => ' ',
            c => c,
        })
        .collect();
    if flat.chars().count() > MAX {
        let cut: String = flat.chars().take(MAX).collect();
        format!("`{}…`", cut.trim_end())
    } else {
        format!("`{flat}`")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::commands::Specs;

    #[test]
    fn fixed_descriptions_fit_platform_limits() {
        assert!(SLACK_APP_DESCRIPTION.chars().count() <= 140);
        assert!(DISCORD_COMMAND_DESCRIPTION.chars().count() <= 100);
        assert!(DISCORD_CASE_OPTION_DESCRIPTION.chars().count() <= 100);
        assert!(SLASH_DESCRIPTION.chars().count() <= 2000);
    }

    #[test]
    fn help_all_lists_every_command_grouped() {
        let specs = Specs::load().unwrap();
        let help = specs.help_all();
        let expected = "\
In a case thread, start a command with `!` on Slack (`!claim`) or use `/care` on Discord (`/care claim`). Anywhere, `/care <command> <case> …` works too, e.g. `/care claim 42`.

Owning and routing the case:
`assign <user>` — Give the case to a teammate, who becomes its owner
`claim` — Take the case: you become its owner and answer it
`escalate <team> [reason]` — Hand the case to another team, with a reason
`snooze <for>` — Pause the case's reminders for a while
`tag <label>` — Label the case for reports and search
`unclaim` — Give the case back to the queue so someone else can take it

Answering the customer:
`canned <name>` — Draft a reply from a saved answer
`dm <text>` — Draft a private message to the customer, where the network allows it
`note <text>` — Add an internal note to the case; it is never sent to the customer
`offline <email|sms|dm> [address]` — Take the conversation off the public network: posts the invitation to continue privately
`recall` — Withdraw your own draft before it is approved and sent
`reply <text>` — Draft a public answer to the customer's latest post (a DM is answered by DM)
`retry` — Publish again a draft that failed to send

On the network:
`delete [id]` — Delete our published reply (the latest, or the draft named), or a customer comment named by its id
`hide [post]` — Hide the customer's latest comment, or the one named, from everyone but its author
`like [post]` — Like the customer's latest public post, or the one named, on its network
`repost [post]` — Repost (retweet, boost) the customer's latest public post, or the one named
`unhide [post]` — Show a hidden comment again: the one named, or the latest one we hid
`unlike [post]` — Take back a like: of the post named, or of the latest post we liked

Closing:
`close [note]` — Close the case, with an optional closing note
`reopen` — Reopen a closed case

Information:
`help [command]` — List the commands, or explain one
`status` — Show the case's state, owner and pending draft

`!help <command>` or `/care help <command>` explains one command.";
        assert_eq!(help, expected);
    }

    #[test]
    fn help_one_details() {
        let specs = Specs::load().unwrap();
        assert_eq!(
            specs.help_one("escalate").unwrap(),
            "\
`escalate <team> [reason]` — Hand the case to another team, with a reason
• `team` (required): Team to hand over to, e.g. billing
• `reason` (optional, the rest of the line): Why it needs that team
In a case thread: `!escalate <team> [reason]`, e.g. `!escalate billing Charged twice for one order`
Anywhere: `/care escalate <case> <team> [reason]`
Who can run it: agents and approvers."
        );
        assert_eq!(
            specs.help_one("OFFLINE").unwrap().lines().nth(1).unwrap(),
            "• `channel` (required, one of `email`, `sms` or `dm`): Where to continue the conversation"
        );
        assert_eq!(
            specs.help_one("help").unwrap(),
            "\
`help [command]` — List the commands, or explain one
• `command` (optional): Command to explain, e.g. escalate
In a case thread: `!help [command]`, e.g. `!help escalate`
Anywhere: `/care help [command]`
Who can run it: anyone."
        );
    }

    #[test]
    fn small_helpers() {
        assert_eq!(one_of(&["a".into()]), "`a`");
        assert_eq!(one_of(&["a".into(), "b".into()]), "`a` or `b`");
        assert_eq!(with_article("address"), "an address");
        assert_eq!(with_article("team"), "a team");
        assert_eq!(code("a`b\nc"), "`a'b c`");
    }

    #[test]
    fn missing_argument_without_example_shows_usage() {
        let e = UsageError::MissingArgument {
            command: "x".into(),
            arg: "reason".into(),
            kind: ArgKind::Text,
            usage: "!x <reason>".into(),
            example: None,
        };
        assert_eq!(
            usage_error(&e),
            "`x` needs a reason: the usage is `!x <reason>`."
        );
    }
}

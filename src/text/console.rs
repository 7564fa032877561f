//! How the console chat lays out cards, thread messages and its own prompts.

use super::Card;

/// Prefix of every line that belongs to case `n`'s thread.
fn gutter(case: u64) -> String {
    format!("#{case} │ ")
}

/// `body` with `prefix` before every line that has text.
fn prefixed(prefix: &str, body: &str) -> String {
    body.lines()
        .map(|line| {
            if line.is_empty() {
                String::new()
            } else {
                format!("{prefix}{line}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A new case card.
pub fn card(case: u64, card: &Card) -> String {
    let mut out = format!("┌─ NEW CASE {}\n", card.title);
    for (label, value) in &card.fields {
        out.push_str(&format!("│ {label:<9} {value}\n"));
    }
    for line in card.text.lines() {
        out.push_str(&format!("│ » {line}\n"));
    }
    if let Some(link) = &card.link {
        out.push_str(&format!("│ {link}\n"));
    }
    out.push_str(&format!(
        "└─ work it here: `#{case} !claim`, `#{case} !reply <text>`, `#{case} <internal note>`"
    ));
    out
}

/// A card refreshed in place (the console shows the changed state on one line).
pub fn card_update(case: u64, card: &Card) -> String {
    let summary = card
        .fields
        .iter()
        .filter(|(label, _)| !matches!(*label, "Network" | "Customer"))
        .map(|(label, value)| format!("{}: {value}", label.to_lowercase()))
        .collect::<Vec<_>>()
        .join(" · ");
    format!("{}card ▸ {summary}", gutter(case))
}

/// A message to the team in `queue`'s channel (the digest, the sweep's alerts).
pub fn to_channel(queue: &str, body: &str) -> String {
    format!("┌─ to {queue}\n{}\n└─", prefixed("│ ", body))
}

/// A message in case `case`'s thread.
pub fn in_thread(case: u64, body: &str) -> String {
    prefixed(&gutter(case), body)
}

/// A reply only the person at the keyboard (acting as `user`) should read.
pub fn private(user: &str, body: &str) -> String {
    prefixed(&format!("  (to @{user}) "), body)
}

pub fn banner(user: &str) -> String {
    format!(
        "carebridge console — cases appear below as they arrive. You are @{user}; type `help` for how to act."
    )
}

pub fn now_acting_as(user: &str) -> String {
    format!("— you are now @{user}")
}

pub fn help() -> String {
    [
        "Console:",
        "  as <name>               act as another person (e.g. `as lee` to approve as a manager)",
        "  #<case> !<command> …    run a command in a case thread, e.g. `#3 !claim`, `#3 !reply Sorry about that`",
        "  #<case> <text>          an internal note in the thread (never sent to the customer)",
        "  /care <command> <case> … the slash command, e.g. `/care status 3`",
        "  react <emoji> <draft>   react to a draft, e.g. `react ✅ 3.1` (approve) or `react ❌ 3.1` (reject)",
        "  unreact <emoji> <draft> take a reaction back",
        "  wait [duration]         wait until the bot is idle, or for a while (`wait 2s`)",
        "  quit                    stop the bot (end of input does the same)",
        "Commands: `#<case> !help`.",
    ]
    .join("\n")
}

pub fn unknown_line(line: &str) -> String {
    format!("I don't understand `{line}`; type `help`.")
}

pub fn still_busy() -> String {
    "— still busy after 60s (effects retrying?); going on.".to_owned()
}

pub fn bad_draft_id(id: &str) -> String {
    format!("`{id}` is not a draft id; drafts are numbered like `3.1` (case 3, first draft).")
}

pub fn draft_not_shown(id: &str) -> String {
    format!("Draft {id} is not shown in its thread yet; try again in a moment.")
}

/// A setup problem the team must hear about, outside any case.
pub fn alert(text: &str) -> String {
    format!("⚠ carebridge needs attention: {text}")
}

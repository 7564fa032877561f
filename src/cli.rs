//! The read-side CLI commands: `cases list|show`, `export`, `report`, `manifest`.
//!
//! They read the store (the bot must be stopped: sled allows one process per
//! data dir, and the store says so clearly) and print to a writer, so tests
//! can call them directly. No workflow rules and no writes here.

use std::io::{self, Write};

use serde::Serialize;

use crate::engine::{AuditEntry, Case, DraftState, Status};
use crate::store::{Store, StoreError};

/// A case as `cases show --json` and `export` print it: the case with its audit trail.
#[derive(Serialize)]
pub struct CaseView {
    #[serde(flatten)]
    pub case: Case,
    pub audit: Vec<AuditEntry>,
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("there is no case #{0}")]
    NoSuchCase(u64),
    #[error("cannot write the output: {0}")]
    Io(#[from] io::Error),
    #[error("cannot encode JSON: {0}")]
    Json(#[from] serde_json::Error),
}

pub fn view(store: &Store, case: Case) -> Result<CaseView, StoreError> {
    let audit = store.audit(case.number)?;
    Ok(CaseView { case, audit })
}

fn cut(text: &str, max: usize) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= max {
        one_line
    } else {
        let mut s: String = one_line.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

/// `cases list [--status S] [--json]`.
pub fn list(
    store: &Store,
    status: Option<Status>,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let cases = store
        .cases()
        .filter(|c| {
            c.as_ref()
                .map_or(true, |c| status.is_none_or(|s| c.status == s))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if json {
        #[derive(Serialize)]
        struct Row<'a> {
            number: u64,
            status: Status,
            platform: crate::engine::Platform,
            account: &'a str,
            author: &'a crate::engine::Author,
            assignee: &'a Option<String>,
            urgency: crate::engine::Urgency,
            queue: &'a str,
            posts: usize,
            drafts: usize,
            opened_at: chrono::DateTime<chrono::Utc>,
        }
        let rows: Vec<Row<'_>> = cases
            .iter()
            .map(|c| Row {
                number: c.number,
                status: c.status,
                platform: c.platform,
                account: &c.account,
                author: &c.author,
                assignee: &c.assignee,
                urgency: c.urgency,
                queue: &c.queue,
                posts: c.posts.len(),
                drafts: c.drafts.len(),
                opened_at: c.opened_at,
            })
            .collect();
        serde_json::to_writer_pretty(&mut *out, &rows)?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(
        out,
        " CASE  STATUS   URGENCY NETWORK   ACCOUNT      CUSTOMER           OWNER        FIRST POST"
    )?;
    for c in &cases {
        writeln!(
            out,
            "{:>5}  {:<8} {:<7} {:<9} {:<12} {:<18} {:<12} {}",
            format!("#{}", c.number),
            c.status.key(),
            c.urgency.key(),
            c.platform.key(),
            cut(&c.account, 12),
            cut(&format!("@{}", c.author.handle), 18),
            c.assignee
                .as_deref()
                .map_or_else(|| "-".to_owned(), |a| cut(a, 12)),
            cut(c.posts.first().map_or("", |p| p.text.as_str()), 60)
        )?;
    }
    if cases.is_empty() {
        writeln!(out, "(no cases)")?;
    }
    Ok(())
}

/// `cases show N [--json]`.
pub fn show(store: &Store, number: u64, json: bool, out: &mut dyn Write) -> Result<(), CliError> {
    let case = store.case(number)?.ok_or(CliError::NoSuchCase(number))?;
    let view = view(store, case)?;
    if json {
        serde_json::to_writer_pretty(&mut *out, &view)?;
        writeln!(out)?;
        return Ok(());
    }
    let c = &view.case;
    writeln!(
        out,
        "Case #{} · {} · {} · {}",
        c.number,
        c.platform,
        c.account,
        c.status.key()
    )?;
    writeln!(
        out,
        "Customer @{}{} · urgency {} · queue {} · owner {}",
        c.author.handle,
        c.author
            .name
            .as_deref()
            .map(|n| format!(" ({n})"))
            .unwrap_or_default(),
        c.urgency.key(),
        c.queue,
        c.assignee.as_deref().unwrap_or("nobody")
    )?;
    if let Some(e) = &c.escalation {
        writeln!(
            out,
            "Escalated to {} by {}{}",
            e.team,
            e.by,
            e.reason
                .as_deref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default()
        )?;
    }
    if !c.tags.is_empty() {
        writeln!(
            out,
            "Tags: {}",
            c.tags.iter().cloned().collect::<Vec<_>>().join(", ")
        )?;
    }
    writeln!(out, "\nPosts:")?;
    for p in &c.posts {
        writeln!(
            out,
            "  {}  {} {}: {}",
            p.at.format("%Y-%m-%d %H:%M"),
            p.kind.key(),
            p.id,
            cut(&p.text, 100)
        )?;
    }
    if !c.drafts.is_empty() {
        writeln!(out, "\nDrafts:")?;
        for d in &c.drafts {
            let extra = match d.state {
                DraftState::Published => d.published_id.clone().map(|id| format!(" as {id}")),
                DraftState::Failed => d.error.clone().map(|e| format!(": {e}")),
                _ => None,
            };
            writeln!(
                out,
                "  {} by {} [{:?}{}]: {}",
                d.id,
                d.author,
                d.state,
                extra.unwrap_or_default(),
                cut(&d.text, 100)
            )?;
        }
    }
    writeln!(out, "\nAudit:")?;
    for a in &view.audit {
        writeln!(
            out,
            "  {}  {:<12} {}{}",
            a.at.format("%Y-%m-%d %H:%M:%S"),
            a.actor,
            a.action,
            a.details
                .as_deref()
                .map(|d| format!(" — {d}"))
                .unwrap_or_default()
        )?;
    }
    Ok(())
}

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Jsonl,
    Csv,
}

fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

const CSV_HEADER: [&str; 17] = [
    "number",
    "status",
    "platform",
    "account",
    "author_id",
    "author_handle",
    "assignee",
    "urgency",
    "queue",
    "tags",
    "escalated_to",
    "opened_at",
    "closed_at",
    "first_response_due",
    "first_response_at",
    "posts",
    "published_replies",
];

/// `export --format jsonl|csv`: every case, one per line.
pub fn export(store: &Store, format: Format, out: &mut dyn Write) -> Result<(), CliError> {
    if format == Format::Csv {
        writeln!(out, "{}", CSV_HEADER.join(","))?;
    }
    for case in store.cases() {
        let case = case?;
        match format {
            Format::Jsonl => {
                serde_json::to_writer(&mut *out, &view(store, case)?)?;
                writeln!(out)?;
            }
            Format::Csv => {
                let time = |t: Option<chrono::DateTime<chrono::Utc>>| {
                    t.map(|t| t.to_rfc3339()).unwrap_or_default()
                };
                let row = [
                    case.number.to_string(),
                    case.status.key().to_owned(),
                    case.platform.key().to_owned(),
                    case.account.clone(),
                    case.author.id.clone(),
                    case.author.handle.clone(),
                    case.assignee.clone().unwrap_or_default(),
                    case.urgency.key().to_owned(),
                    case.queue.clone(),
                    case.tags.iter().cloned().collect::<Vec<_>>().join(" "),
                    case.escalation
                        .as_ref()
                        .map(|e| e.team.clone())
                        .unwrap_or_default(),
                    case.opened_at.to_rfc3339(),
                    time(case.closed_at),
                    case.sla.first_response_due.to_rfc3339(),
                    time(case.sla.first_response_at),
                    case.posts.len().to_string(),
                    case.drafts
                        .iter()
                        .filter(|d| d.state == DraftState::Published)
                        .count()
                        .to_string(),
                ];
                let line: Vec<String> = row.iter().map(|f| csv_field(f)).collect();
                writeln!(out, "{}", line.join(","))?;
            }
        }
    }
    Ok(())
}

/// `report --since D [--json]`: the figures for `[now - since, now)` (see [`crate::report`]),
/// as JSON or as the aligned text the digest posts, times shown in `tz`.
pub fn report(
    store: &Store,
    since: std::time::Duration,
    now: chrono::DateTime<chrono::Utc>,
    tz: chrono_tz::Tz,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let cases = store.cases().collect::<Result<Vec<_>, _>>()?;
    // A `--since` beyond chrono's range reaches back to the first case anyway.
    let since = chrono::TimeDelta::from_std(since)
        .ok()
        .and_then(|back| now.checked_sub_signed(back))
        .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC);
    let report = crate::report::Report::compute(&cases, since, now);
    if json {
        serde_json::to_writer_pretty(&mut *out, &report)?;
    } else {
        write!(out, "{}", crate::text::report::render(&report, tz))?;
    }
    writeln!(out)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_what_needs_quoting() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\"\n"), "\"say \"\"hi\"\"\n\"");
    }

    #[test]
    fn cut_keeps_short_text_and_marks_cuts() {
        assert_eq!(cut("a  b\nc", 10), "a b c");
        assert_eq!(cut("abcdefghij", 5), "abcd…");
    }
}

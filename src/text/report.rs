//! The report as people read it: `carebridge report` in a terminal and the daily digest in
//! Slack, Discord or the console. Short lines, labels padded so the figures line up in a
//! monospace block (the chat adapters show it as is; Slack and Discord keep the spacing inside
//! the code fence).

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::report::{Report, SlaRate};

/// A duration in seconds as people read it: `45s`, `12m 05s`, `1h 05m`, `2d 03h`.
pub fn duration(seconds: u64) -> String {
    let (d, h, m, s) = (
        seconds / 86_400,
        seconds % 86_400 / 3600,
        seconds % 3600 / 60,
        seconds % 60,
    );
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m {s:02}s"),
        (0, _, _) => format!("{h}h {m:02}m"),
        _ => format!("{d}d {h:02}h"),
    }
}

/// Breached cases listed by name; a chat message must stay short (and under Slack's 3000
/// characters per section), and the JSON report has them all.
const MAX_BREACHES: usize = 20;

fn time(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
}

fn rate(rate: &SlaRate) -> String {
    match rate.rate {
        None => "-".to_owned(),
        Some(r) => format!(
            "{:.0}%  ({} met, {} missed)",
            r * 100.0,
            rate.met,
            rate.missed
        ),
    }
}

fn optional(seconds: Option<u64>) -> String {
    seconds.map_or_else(|| "-".to_owned(), duration)
}

/// The report as aligned plain text, times in `tz`. The first line is a title; the rest is
/// meant for a monospace block.
pub fn render(report: &Report, tz: Tz) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Report {} → {} ({})",
        time(report.period.since, tz),
        time(report.period.until, tz),
        tz.name()
    );
    let _ = writeln!(
        out,
        "Cases            {} opened · {} closed · {} still open",
        report.opened, report.closed, report.open
    );
    let first = &report.first_response;
    let _ = writeln!(
        out,
        "First response   median {} · p90 {} · {} answered",
        optional(first.median_seconds),
        optional(first.p90_seconds),
        first.count
    );
    let _ = writeln!(out, "SLA met          {}", rate(&report.sla.all));
    for (urgency, r) in report.sla.rows() {
        if r.met + r.missed > 0 {
            let _ = writeln!(out, "  {:<14} {}", urgency.key(), rate(&r));
        }
    }
    let networks = if report.networks.is_empty() {
        "-".to_owned()
    } else {
        report
            .networks
            .iter()
            .map(|(network, n)| format!("{network} {n}"))
            .collect::<Vec<_>>()
            .join(" · ")
    };
    let _ = writeln!(out, "Networks         {networks}");
    if report.agents.is_empty() {
        let _ = writeln!(out, "Agents           -");
    } else {
        let _ = writeln!(out, "Agents           cases  replies");
        for (agent, counts) in &report.agents {
            let _ = writeln!(
                out,
                "  {:<14} {:>5}  {:>7}",
                agent, counts.cases, counts.replies
            );
        }
    }
    if report.breached.is_empty() {
        let _ = write!(out, "Breached         none");
    } else {
        let _ = write!(out, "Breached         {}", report.breached.len());
        for breach in report.breached.iter().take(MAX_BREACHES) {
            let targets = breach
                .targets
                .iter()
                .map(|t| t.key())
                .collect::<Vec<_>>()
                .join(", ");
            let _ = write!(
                out,
                "\n  {:<6} {:<7} {:<9} {targets}",
                format!("#{}", breach.case),
                breach.urgency.key(),
                breach.network.key()
            );
        }
        if let Some(more) = report
            .breached
            .len()
            .checked_sub(MAX_BREACHES)
            .filter(|n| *n > 0)
        {
            let _ = write!(
                out,
                "\n  … and {more} more (carebridge report --json lists all)"
            );
        }
    }
    out
}

/// The digest job's text: a title, then the report.
pub fn digest(report: &Report, tz: Tz) -> String {
    format!("Daily digest · {}", render(report, tz))
}

/// A team message for Slack or Discord: when `aligned` (a digest: a title line plus aligned
/// lines), the first line as a title and the rest in a code block so the columns stay aligned
/// (Slack mrkdwn and Discord markdown both keep spacing there); otherwise as it is, so its
/// mentions ping.
pub fn fenced(text: &str, aligned: bool) -> String {
    match text.split_once('\n') {
        Some((title, body)) if aligned => format!("{title}\n```\n{body}\n```"),
        _ => text.to_owned(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(0), "0s");
        assert_eq!(duration(45), "45s");
        assert_eq!(duration(725), "12m 05s");
        assert_eq!(duration(3900), "1h 05m");
        assert_eq!(duration(86_400 + 3 * 3600 + 59), "1d 03h");
    }

    #[test]
    fn an_empty_report_renders_dashes() {
        let since = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();
        let until = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
        let report = Report::compute(&[], since, until);
        let text = render(&report, chrono_tz::Europe::London);
        assert_eq!(
            text,
            "Report 2026-03-01 09:00 → 2026-03-02 09:00 (Europe/London)\n\
             Cases            0 opened · 0 closed · 0 still open\n\
             First response   median - · p90 - · 0 answered\n\
             SLA met          -\n\
             Networks         -\n\
             Agents           -\n\
             Breached         none"
        );
        let plain = digest(&report, chrono_tz::Europe::London);
        let digest = fenced(&plain, true);
        assert!(digest.starts_with("Daily digest · Report 2026-03-01 09:00 → "));
        assert!(digest.contains("(Europe/London)\n```\nCases "));
        assert!(digest.ends_with("Breached         none\n```"));
        // Alerts mention people: left as they are, so the mentions ping.
        assert_eq!(fenced(&plain, false), plain);
    }
}

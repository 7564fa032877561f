//! Figures over a period of the case history: what `carebridge report` prints and what the
//! daily digest job posts to the chat.
//!
//! Owns the definitions of the figures (which case counts where, how percentiles are taken)
//! and nothing else: [`Report::compute`] is a pure function of the cases and two instants.
//! Must not do I/O, read the clock or write prose (the wording is `text::report`'s).
//!
//! The period is half-open, `[since, until)`, so that consecutive digests never count an event
//! twice. Definitions:
//! - `opened` / `closed`: cases whose `opened_at` / `closed_at` falls in the period;
//!   `open`: cases opened before `until` that are not closed now (a report is computed from the
//!   store as it is, so "now" is the store's present state).
//! - `first_response`: over cases whose first published answer (`sla.first_response_at`) falls
//!   in the period, the time from the case opening to that answer. Percentiles are
//!   **nearest-rank**: the value at rank ⌈p·n⌉ of the n sorted times, so every figure is a time
//!   that actually happened (the median of an even count is the lower middle value). No
//!   answers → `null`, never NaN.
//! - `sla`: first-response targets, per urgency (the case's urgency now): an answer in the
//!   period is *met* when `first_response_at <= first_response_due`, else *missed*; a case still
//!   unanswered whose due time fell in the period and has passed is *missed* too, unless it was
//!   closed (without an answer) before it was due. `rate` = met / (met + missed), `null` when
//!   nothing was measured.
//! - `networks`: cases opened in the period, per network.
//! - `agents`: per agent, `cases` they own that were open at some time in the period, and
//!   `replies` they wrote that were published in the period (any draft that went out; the
//!   bot's own off-hours answers are nobody's).
//! - `breached`: cases open at some time in the period whose clocks record a breach: the first
//!   response (`sla.breached`, or answered after its due time), the next response
//!   (`sla.next.breached`) or the resolution (`sla.resolution.breached`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::engine::{BOT, Case, Platform, SlaTarget, Status, Urgency};

/// The figures for one period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub period: Period,
    /// Cases opened in the period.
    pub opened: u64,
    /// Cases closed in the period.
    pub closed: u64,
    /// Cases opened before the period's end and not closed now.
    pub open: u64,
    pub first_response: FirstResponse,
    /// First-response targets met and missed, per urgency and overall.
    pub sla: SlaByUrgency,
    /// Cases opened in the period, per network key (`x`, `facebook`, …).
    pub networks: BTreeMap<String, u64>,
    /// Per agent id.
    pub agents: BTreeMap<String, AgentCounts>,
    /// Cases with a breached target, by case number.
    pub breached: Vec<Breach>,
}

/// `[since, until)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

impl Period {
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.since <= at && at < self.until
    }

    /// Whether a case was open at some time in the period.
    fn overlaps(&self, case: &Case) -> bool {
        case.opened_at < self.until && case.closed_at.is_none_or(|closed| closed >= self.since)
    }
}

/// First-response times of the answers given in the period, in whole seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FirstResponse {
    pub count: u64,
    pub median_seconds: Option<u64>,
    pub p90_seconds: Option<u64>,
}

/// First-response targets met and missed.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct SlaRate {
    pub met: u64,
    pub missed: u64,
    /// `met / (met + missed)`, between 0 and 1; `None` when nothing was measured.
    pub rate: Option<f64>,
}

impl SlaRate {
    fn add(&mut self, met: bool) {
        match met {
            true => self.met += 1,
            false => self.missed += 1,
        }
    }

    fn finish(&mut self) {
        let total = self.met + self.missed;
        self.rate = (total > 0).then(|| self.met as f64 / total as f64);
    }
}

/// One [`SlaRate`] per urgency, most urgent first, and all together.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct SlaByUrgency {
    pub urgent: SlaRate,
    pub high: SlaRate,
    pub normal: SlaRate,
    pub low: SlaRate,
    pub all: SlaRate,
}

impl SlaByUrgency {
    fn get_mut(&mut self, urgency: Urgency) -> &mut SlaRate {
        match urgency {
            Urgency::Urgent => &mut self.urgent,
            Urgency::High => &mut self.high,
            Urgency::Normal => &mut self.normal,
            Urgency::Low => &mut self.low,
        }
    }

    /// The urgencies with their rates, most urgent first (without `all`).
    pub fn rows(&self) -> [(Urgency, SlaRate); 4] {
        [
            (Urgency::Urgent, self.urgent),
            (Urgency::High, self.high),
            (Urgency::Normal, self.normal),
            (Urgency::Low, self.low),
        ]
    }
}

/// What one agent did in the period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct AgentCounts {
    /// Cases they own that were open at some time in the period.
    pub cases: u64,
    /// Their drafts published in the period.
    pub replies: u64,
}

/// A case with at least one breached target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Breach {
    pub case: u64,
    pub urgency: Urgency,
    pub network: Platform,
    /// Which targets were missed, in the order first response, next response, resolution.
    pub targets: Vec<SlaTarget>,
}

/// The value at nearest rank ⌈p·n⌉ (1-based) of sorted `values`; `None` when empty.
/// `percent` is in 1..=100.
pub fn nearest_rank(sorted: &[u64], percent: u64) -> Option<u64> {
    let n = sorted.len() as u64;
    if n == 0 {
        return None;
    }
    // ⌈percent·n / 100⌉ in integers, at least rank 1.
    let rank = (percent * n).div_ceil(100).clamp(1, n);
    sorted.get(usize::try_from(rank - 1).ok()?).copied()
}

fn seconds(from: DateTime<Utc>, to: DateTime<Utc>) -> u64 {
    u64::try_from((to - from).num_seconds()).unwrap_or(0)
}

impl Report {
    /// The figures for `[since, now)` from `cases` (the whole store, in any order).
    pub fn compute(cases: &[Case], since: DateTime<Utc>, now: DateTime<Utc>) -> Report {
        let period = Period { since, until: now };
        let mut report = Report {
            period,
            opened: 0,
            closed: 0,
            open: 0,
            first_response: FirstResponse {
                count: 0,
                median_seconds: None,
                p90_seconds: None,
            },
            sla: SlaByUrgency::default(),
            networks: BTreeMap::new(),
            agents: BTreeMap::new(),
            breached: Vec::new(),
        };
        let mut response_times = Vec::new();
        for case in cases {
            if period.contains(case.opened_at) {
                report.opened += 1;
                *report
                    .networks
                    .entry(case.platform.key().to_owned())
                    .or_default() += 1;
            }
            if case.closed_at.is_some_and(|at| period.contains(at)) {
                report.closed += 1;
            }
            if case.status != Status::Closed && case.opened_at < now {
                report.open += 1;
            }

            let sla = &case.sla;
            match sla.first_response_at {
                Some(at) if period.contains(at) => {
                    response_times.push(seconds(case.opened_at, at));
                    let met = at <= sla.first_response_due;
                    report.sla.get_mut(case.urgency).add(met);
                    report.sla.all.add(met);
                }
                Some(_) => {}
                None => {
                    let due = sla.first_response_due;
                    let closed_in_time = case.closed_at.is_some_and(|closed| closed <= due);
                    if period.contains(due) && !closed_in_time {
                        report.sla.get_mut(case.urgency).add(false);
                        report.sla.all.add(false);
                    }
                }
            }

            if let Some(owner) = &case.assignee
                && period.overlaps(case)
            {
                report.agents.entry(owner.clone()).or_default().cases += 1;
            }
            // The bot's own messages (the off-hours autoresponder) are nobody's reply.
            for draft in case.drafts.iter().filter(|d| d.author != BOT) {
                if draft.published_at.is_some_and(|at| period.contains(at)) {
                    report
                        .agents
                        .entry(draft.author.clone())
                        .or_default()
                        .replies += 1;
                }
            }

            if period.overlaps(case) {
                let first_late = sla.breached
                    || sla
                        .first_response_at
                        .is_some_and(|at| at > sla.first_response_due);
                let targets: Vec<SlaTarget> = [
                    (SlaTarget::FirstResponse, first_late),
                    (
                        SlaTarget::NextResponse,
                        sla.next.as_ref().is_some_and(|c| c.breached),
                    ),
                    (
                        SlaTarget::Resolution,
                        sla.resolution.as_ref().is_some_and(|r| r.breached),
                    ),
                ]
                .into_iter()
                .filter_map(|(target, missed)| missed.then_some(target))
                .collect();
                if !targets.is_empty() {
                    report.breached.push(Breach {
                        case: case.number,
                        urgency: case.urgency,
                        network: case.platform,
                        targets,
                    });
                }
            }
        }
        response_times.sort_unstable();
        report.first_response = FirstResponse {
            count: response_times.len() as u64,
            median_seconds: nearest_rank(&response_times, 50),
            p90_seconds: nearest_rank(&response_times, 90),
        };
        for rate in [
            &mut report.sla.urgent,
            &mut report.sla.high,
            &mut report.sla.normal,
            &mut report.sla.low,
            &mut report.sla.all,
        ] {
            rate.finish();
        }
        report.breached.sort_by_key(|b| b.case);
        report
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::engine::{
        Author, CanDm, Clock, Draft, DraftKind, DraftState, PostKind, Purpose, Resolution, Sla,
    };
    use chrono::{TimeDelta, TimeZone};

    fn t(hour: u32, minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, hour, minute, 0).unwrap()
    }

    fn case(number: u64, opened: DateTime<Utc>, urgency: Urgency, platform: Platform) -> Case {
        Case {
            number,
            status: Status::New,
            platform,
            account: "acme".to_owned(),
            author: Author {
                id: format!("u{number}"),
                handle: format!("c{number}"),
                name: None,
            },
            conversation_id: format!("conv{number}"),
            kind: PostKind::Mention,
            queue: "default".to_owned(),
            urgency,
            tags: Default::default(),
            assignee: None,
            escalation: None,
            snoozed_until: None,
            sla: Sla::first(opened + TimeDelta::hours(1)),
            offline: None,
            can_dm: CanDm::Unknown,
            posts: Vec::new(),
            drafts: Vec::new(),
            liked: Default::default(),
            reposted: Default::default(),
            hidden: Default::default(),
            opened_at: opened,
            updated_at: opened,
            closed_at: None,
            chat: None,
            nudged: false,
            off_hours_answered: None,
        }
    }

    fn published(case: &mut Case, author: &str, at: DateTime<Utc>) {
        let n = case.drafts.len() + 1;
        case.drafts.push(Draft {
            id: format!("{}.{n}", case.number),
            kind: DraftKind::Public,
            purpose: Purpose::Reply,
            text: "hi".to_owned(),
            in_reply_to: "p".to_owned(),
            author: author.to_owned(),
            created_at: at,
            state: DraftState::Published,
            needs_approval: false,
            decided_by: None,
            decided_at: None,
            published_id: Some(format!("net{n}")),
            published_at: Some(at),
            error: None,
            chat_message: None,
            deleted_at: None,
            deleted_by: None,
        });
        case.sla.first_response_at.get_or_insert(at);
        case.assignee.get_or_insert_with(|| author.to_owned());
        case.status = Status::Waiting;
    }

    fn close(case: &mut Case, at: DateTime<Utc>) {
        case.status = Status::Closed;
        case.closed_at = Some(at);
    }

    /// Period 08:00–18:00. Before it: #1 (opened 06:00, answered 06:30, closed 09:00).
    /// In it: #2 urgent x answered after 10 min by maria; #3 high facebook answered after
    /// 90 min by bo (late: due after 60); #4 normal x answered after 20 min by maria and
    /// closed; #5 low x unanswered, due 12:00 (missed, flagged by the sweep); #6 normal x
    /// unanswered and closed before due (not measured); #7 opened 17:30, due after the period.
    /// After it: #8.
    fn history() -> Vec<Case> {
        let mut c1 = case(1, t(6, 0), Urgency::Normal, Platform::X);
        published(&mut c1, "maria", t(6, 30));
        close(&mut c1, t(9, 0));
        let mut c2 = case(2, t(9, 0), Urgency::Urgent, Platform::X);
        published(&mut c2, "maria", t(9, 10));
        let mut c3 = case(3, t(9, 0), Urgency::High, Platform::Facebook);
        published(&mut c3, "bo", t(10, 30));
        published(&mut c3, "bo", t(11, 0));
        c3.sla.next = Some(Clock {
            due: t(12, 0),
            warned: true,
            breached: true,
        });
        let mut c4 = case(4, t(10, 0), Urgency::Normal, Platform::X);
        published(&mut c4, "maria", t(10, 20));
        close(&mut c4, t(11, 0));
        let mut c5 = case(5, t(11, 0), Urgency::Low, Platform::X);
        c5.sla.breached = true;
        c5.assignee = Some("bo".to_owned());
        c5.status = Status::Open;
        c5.sla.resolution = Some(Resolution {
            target_secs: 3600,
            spent_secs: 0,
            running_since: Some(t(11, 0)),
            due: Some(t(12, 0)),
            warned: true,
            breached: true,
        });
        let mut c6 = case(6, t(12, 0), Urgency::Normal, Platform::X);
        close(&mut c6, t(12, 30));
        let c7 = case(7, t(17, 30), Urgency::Normal, Platform::Instagram);
        let mut c8 = case(8, t(18, 0), Urgency::Urgent, Platform::X);
        published(&mut c8, "maria", t(18, 5));
        vec![c8, c1, c2, c3, c4, c5, c6, c7]
    }

    #[test]
    fn figures_match_a_constructed_history() {
        let report = Report::compute(&history(), t(8, 0), t(18, 0));
        assert_eq!(report.opened, 6, "#2 to #7");
        assert_eq!(report.closed, 3, "#1, #4, #6");
        assert_eq!(report.open, 4, "#2, #3, #5, #7 (not #8: after the period)");
        // Answers in the period: #2 10 min, #4 20 min, #3 90 min (#1's was before).
        assert_eq!(
            report.first_response,
            FirstResponse {
                count: 3,
                median_seconds: Some(1200),
                p90_seconds: Some(5400),
            }
        );
        let rate = |met, missed, rate| SlaRate { met, missed, rate };
        assert_eq!(report.sla.urgent, rate(1, 0, Some(1.0)));
        assert_eq!(report.sla.high, rate(0, 1, Some(0.0)));
        assert_eq!(report.sla.normal, rate(1, 0, Some(1.0)));
        assert_eq!(report.sla.low, rate(0, 1, Some(0.0)));
        assert_eq!(report.sla.all, rate(2, 2, Some(0.5)));
        assert_eq!(
            report.networks,
            BTreeMap::from([
                ("facebook".to_owned(), 1),
                ("instagram".to_owned(), 1),
                ("x".to_owned(), 4),
            ])
        );
        assert_eq!(
            report.agents,
            BTreeMap::from([
                (
                    "bo".to_owned(),
                    AgentCounts {
                        cases: 2,
                        replies: 2
                    }
                ),
                (
                    "maria".to_owned(),
                    AgentCounts {
                        cases: 3,
                        replies: 2
                    }
                ),
            ])
        );
        assert_eq!(
            report.breached,
            vec![
                Breach {
                    case: 3,
                    urgency: Urgency::High,
                    network: Platform::Facebook,
                    targets: vec![SlaTarget::FirstResponse, SlaTarget::NextResponse],
                },
                Breach {
                    case: 5,
                    urgency: Urgency::Low,
                    network: Platform::X,
                    targets: vec![SlaTarget::FirstResponse, SlaTarget::Resolution],
                },
            ]
        );
    }

    #[test]
    fn an_unanswered_case_is_missed_only_once_its_due_time_is_in_the_period() {
        // #7 is due at 18:30: not yet missed at 18:00, missed in a period that includes it.
        let later = Report::compute(&history(), t(18, 0), t(19, 0));
        assert_eq!(
            later.sla.normal,
            SlaRate {
                met: 0,
                missed: 1,
                rate: Some(0.0)
            }
        );
        assert_eq!(later.sla.urgent.met, 1, "#8, answered at 18:05");
    }

    #[test]
    fn nearest_rank_percentiles() {
        assert_eq!(nearest_rank(&[], 50), None);
        assert_eq!(nearest_rank(&[7], 50), Some(7));
        assert_eq!(nearest_rank(&[7], 90), Some(7));
        // Odd count: the middle value.
        assert_eq!(nearest_rank(&[1, 2, 3, 4, 5], 50), Some(3));
        // Even count: the lower middle value (rank ⌈0.5·4⌉ = 2).
        assert_eq!(nearest_rank(&[1, 2, 3, 4], 50), Some(2));
        // p90 of 10 values: rank 9; of 11 values: rank ⌈9.9⌉ = 10.
        let ten: Vec<u64> = (1..=10).collect();
        assert_eq!(nearest_rank(&ten, 90), Some(9));
        let eleven: Vec<u64> = (1..=11).collect();
        assert_eq!(nearest_rank(&eleven, 90), Some(10));
        assert_eq!(nearest_rank(&[1, 2], 90), Some(2));
        assert_eq!(nearest_rank(&[1, 2], 100), Some(2));
    }

    #[test]
    fn an_empty_period_has_nulls_not_nan() {
        let report = Report::compute(&history(), t(1, 0), t(2, 0));
        assert_eq!(report.opened, 0);
        assert_eq!(report.first_response.count, 0);
        assert_eq!(report.first_response.median_seconds, None);
        assert_eq!(report.sla.all, SlaRate::default());
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(
            json["first_response"]["median_seconds"],
            serde_json::Value::Null
        );
        assert_eq!(
            json["first_response"]["p90_seconds"],
            serde_json::Value::Null
        );
        assert_eq!(json["sla"]["urgent"]["rate"], serde_json::Value::Null);
        assert_eq!(json["breached"], serde_json::json!([]));
        assert!(!json.to_string().contains("NaN"));
        let none = Report::compute(&[], t(1, 0), t(2, 0));
        assert_eq!(none.open, 0);
        assert!(none.networks.is_empty() && none.agents.is_empty());
    }

    #[test]
    fn the_json_shape() {
        let json = serde_json::to_value(Report::compute(&history(), t(8, 0), t(18, 0))).unwrap();
        assert_eq!(json["period"]["since"], "2026-03-02T08:00:00Z");
        assert_eq!(json["period"]["until"], "2026-03-02T18:00:00Z");
        assert_eq!(json["sla"]["all"]["rate"], 0.5);
        assert_eq!(json["agents"]["maria"]["replies"], 2);
        assert_eq!(
            json["breached"][0],
            serde_json::json!({"case": 3, "urgency": "high", "network": "facebook",
                "targets": ["first_response", "next_response"]})
        );
    }
}

//! Every Prometheus metric the bot exposes, named once, and the `/metrics` text.
//!
//! Counters and the first-response histogram are recorded where the events happen, each call
//! site one line (`metrics::published(network)`); they go to the process's
//! `metrics-exporter-prometheus` recorder, installed once by [`install`]. Gauges that describe
//! stored state (cases by status and network, drafts by state, outbox depth) are not recorded
//! at all: [`render`] counts them from the store at scrape time, so they are never stale and
//! survive restarts.
//!
//! Must not: decide anything (it only counts), put a case number, a user or a text in a label
//! (labels are few and fixed: networks, services, states), or do more than one cheap read of
//! the store per scrape.

use std::fmt::Write as _;
use std::sync::OnceLock;
use std::time::Duration;

use ::metrics::{counter, describe_counter, describe_histogram, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::engine::{DraftState, Platform, SlaTarget, Status, Urgency};
use crate::store::{Store, Tally};

const POSTS_INGESTED: &str = "carebridge_posts_ingested_total";
const PUBLISHES: &str = "carebridge_publishes_total";
const PUBLISH_FAILURES: &str = "carebridge_publish_failures_total";
const SLA_BREACHES: &str = "carebridge_sla_breaches_total";
const FIRST_RESPONSE: &str = "carebridge_first_response_seconds";
const API_CALLS: &str = "carebridge_api_calls_total";
const RATE_LIMITED: &str = "carebridge_rate_limited_total";
const CASES: &str = "carebridge_cases";
const DRAFTS: &str = "carebridge_drafts";
const OUTBOX: &str = "carebridge_outbox_depth";

/// First responses take minutes to days: 1 min, 5 min, 15 min, 30 min, 1 h, 2 h, 4 h, 8 h,
/// 12 h, 1 d, 2 d, 3 d, 1 w.
const FIRST_RESPONSE_BUCKETS: [f64; 13] = [
    60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0, 14400.0, 28800.0, 43200.0, 86400.0, 172800.0,
    259200.0, 604800.0,
];

/// How often the recorder's histograms are compacted (nothing else runs its upkeep without
/// the exporter's own HTTP listener, which we do not use).
pub const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// The statuses of cases that are not closed: what the cases gauge counts.
const ACTIVE_STATUSES: [Status; 4] = [Status::New, Status::Open, Status::Waiting, Status::Offline];

const DRAFT_STATES: [DraftState; 6] = [
    DraftState::Pending,
    DraftState::Approved,
    DraftState::Rejected,
    DraftState::Recalled,
    DraftState::Published,
    DraftState::Failed,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process's recorder (once: a second bot in the same process, as in tests,
/// shares it) and returns the handle that renders it.
pub fn install() -> anyhow::Result<PrometheusHandle> {
    if let Some(handle) = HANDLE.get() {
        return Ok(handle.clone());
    }
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full(FIRST_RESPONSE.to_owned()),
            &FIRST_RESPONSE_BUCKETS,
        )?
        .install_recorder()?;
    describe();
    Ok(HANDLE.get_or_init(|| handle).clone())
}

fn describe() {
    describe_counter!(
        POSTS_INGESTED,
        "Customer posts ingested (new ones, not redeliveries)."
    );
    describe_counter!(PUBLISHES, "Replies and messages published to a network.");
    describe_counter!(
        PUBLISH_FAILURES,
        "Publications the network refused for good."
    );
    describe_counter!(
        SLA_BREACHES,
        "SLA targets missed, by the urgency they were set for and the target."
    );
    describe_histogram!(
        FIRST_RESPONSE,
        "Time from a case's opening to its first published answer."
    );
    describe_counter!(
        API_CALLS,
        "Answers from chat and network APIs, by status class."
    );
    describe_counter!(
        RATE_LIMITED,
        "Calls a chat or network API refused with 429."
    );
}

/// A new customer post was stored.
pub fn ingested(network: Platform) {
    counter!(POSTS_INGESTED, "network" => network.key()).increment(1);
}

/// A draft went out on `network`.
pub fn published(network: Platform) {
    counter!(PUBLISHES, "network" => network.key()).increment(1);
}

/// A draft failed for good on `network` (retries exhausted or refused).
pub fn publish_failed(network: Platform) {
    counter!(PUBLISH_FAILURES, "network" => network.key()).increment(1);
}

/// A case missed an SLA target set for `urgency`.
pub fn sla_breached(urgency: Urgency, target: SlaTarget) {
    let target = match target {
        SlaTarget::FirstResponse => "first_response",
        SlaTarget::NextResponse => "next_response",
        SlaTarget::Resolution => "resolution",
    };
    counter!(SLA_BREACHES, "urgency" => urgency.key(), "target" => target).increment(1);
}

/// A case got its first published answer, `seconds` after it opened.
pub fn first_response(seconds: f64) {
    histogram!(FIRST_RESPONSE).record(seconds.max(0.0));
}

/// One answer (or none: `status` is `None` when the service could not be reached) from
/// `service` (`x`, `meta`, `slack`, `discord`). A 429 also counts as rate-limited.
pub fn api_call(service: &'static str, status: Option<u16>) {
    counter!(API_CALLS, "service" => service, "status_class" => status_class(status)).increment(1);
    if status == Some(429) {
        rate_limited(service);
    }
}

/// `service` answered 429.
pub fn rate_limited(service: &'static str) {
    counter!(RATE_LIMITED, "service" => service).increment(1);
}

/// `2xx`…`5xx`, or `none` without an answer.
fn status_class(status: Option<u16>) -> &'static str {
    match status {
        Some(100..=199) => "1xx",
        Some(200..=299) => "2xx",
        Some(300..=399) => "3xx",
        Some(400..=499) => "4xx",
        Some(500..=599) => "5xx",
        Some(_) => "other",
        None => "none",
    }
}

/// Runs the recorder's upkeep every [`UPKEEP_EVERY`] until `stopped`.
pub async fn upkeep(handle: PrometheusHandle, mut stopped: tokio::sync::watch::Receiver<bool>) {
    let mut every = tokio::time::interval(UPKEEP_EVERY);
    loop {
        tokio::select! {
            _ = every.tick() => handle.run_upkeep(),
            _ = stopped.changed() => return,
        }
    }
}

/// The `/metrics` text: what the recorder holds, then the gauges counted from `store`.
pub fn render(handle: &PrometheusHandle, store: &Store, networks: &[Platform]) -> String {
    let mut text = handle.render();
    match store.tally() {
        Ok(tally) => gauges(&mut text, &tally, networks),
        Err(error) => tracing::error!(%error, "Cannot count cases for /metrics."),
    }
    text
}

/// Appends the stored-state gauges. Every status × network of the configured accounts and
/// every draft state is written, zeros included, so a series does not vanish when it empties.
fn gauges(text: &mut String, tally: &Tally, networks: &[Platform]) {
    let mut networks = networks.to_vec();
    networks.extend(tally.cases.keys().map(|(_, network)| *network));
    networks.sort();
    networks.dedup();
    let _ = writeln!(
        text,
        "# HELP {CASES} Cases that are not closed, by status and network."
    );
    let _ = writeln!(text, "# TYPE {CASES} gauge");
    for status in ACTIVE_STATUSES {
        for network in &networks {
            let n = tally.cases.get(&(status, *network)).copied().unwrap_or(0);
            let (status, network) = (status.key(), network.key());
            let _ = writeln!(
                text,
                "{CASES}{{status=\"{status}\",network=\"{network}\"}} {n}"
            );
        }
    }
    let _ = writeln!(
        text,
        "# HELP {DRAFTS} Drafts on cases that are not closed, by state."
    );
    let _ = writeln!(text, "# TYPE {DRAFTS} gauge");
    for state in DRAFT_STATES {
        let n = tally.drafts.get(&state).copied().unwrap_or(0);
        let _ = writeln!(text, "{DRAFTS}{{state=\"{}\"}} {n}", draft_state(state));
    }
    let _ = writeln!(text, "# HELP {OUTBOX} Effects waiting in the outbox.");
    let _ = writeln!(text, "# TYPE {OUTBOX} gauge");
    let _ = writeln!(text, "{OUTBOX} {}", tally.outbox);
}

fn draft_state(state: DraftState) -> &'static str {
    match state {
        DraftState::Pending => "pending",
        DraftState::Approved => "approved",
        DraftState::Rejected => "rejected",
        DraftState::Recalled => "recalled",
        DraftState::Published => "published",
        DraftState::Failed => "failed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauges_cover_every_state_with_zeros() {
        let mut tally = Tally::default();
        tally.cases.insert((Status::Open, Platform::X), 2);
        tally.drafts.insert(DraftState::Pending, 1);
        tally.outbox = 3;
        let mut text = String::new();
        gauges(&mut text, &tally, &[Platform::Facebook]);
        for line in [
            "carebridge_cases{status=\"open\",network=\"x\"} 2",
            "carebridge_cases{status=\"new\",network=\"facebook\"} 0",
            "carebridge_drafts{state=\"pending\"} 1",
            "carebridge_drafts{state=\"failed\"} 0",
            "carebridge_outbox_depth 3",
            "# TYPE carebridge_cases gauge",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
        }
    }

    #[test]
    fn status_classes() {
        assert_eq!(status_class(Some(200)), "2xx");
        assert_eq!(status_class(Some(429)), "4xx");
        assert_eq!(status_class(Some(503)), "5xx");
        assert_eq!(status_class(None), "none");
    }
}

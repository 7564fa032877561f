//! Timed work in the engine: the sweep's due-soon and breach reports for every clock and its
//! auto-close (table rows); how steps start, stop, pause and resume the clocks, and the
//! off-hours autoresponder (plain tests over fixtures).

use super::table::{Row, close};
use super::*;

use Fixture as F;
use SlaTarget::{FirstResponse, NextResponse, Resolution};

/// Carol writes again ("Still broken") after our published answer.
fn wrote_again() -> Fixture {
    F::waiting().posts(&post("x", "p2", PostKind::Mention, "Still broken"))
}

fn next_due(f: &Fixture) -> DateTime<Utc> {
    f.case.sla.next.as_ref().map(|c| c.due).unwrap_or(t0())
}

/// A case claimed under [`STRICT_SLA`]: its resolution clock runs from the claim.
fn strict() -> Fixture {
    F::new_case()
        .config(&STRICT_SLA)
        .then(cmd(ana(), Command::Claim))
}

fn resolution_due(f: &Fixture) -> DateTime<Utc> {
    f.case
        .sla
        .resolution
        .as_ref()
        .and_then(|r| r.due)
        .unwrap_or(t0())
}

fn due_soon(target: SlaTarget, due: DateTime<Utc>) -> Effect {
    thread(Notice::SlaDueSoon { target, due })
}

fn breached(target: SlaTarget) -> Effect {
    thread(Notice::SlaBreached { target })
}

pub(super) fn rows() -> Vec<Row> {
    let again = wrote_again();
    let next = next_due(&again);
    let strict_due = resolution_due(&strict());
    vec![
        Row::new(
            "sla: the first response within warn_before is reported due soon",
            F::open().at(mins(3 * 60 + 50)),
            Input::Sweep,
        )
        .effects(vec![due_soon(FirstResponse, hours(4)), Effect::Card])
        .audit(&["sla due soon"])
        .check(|_, t| eq("warned", t.case.sla.warned, true)),
        Row::new(
            "sla: a due-soon report is made once",
            F::open().at(mins(3 * 60 + 50)).then(Input::Sweep),
            Input::Sweep,
        )
        .noop(),
        Row::new(
            "sla: a warned first response that runs late is reported breached",
            F::open()
                .at(mins(3 * 60 + 50))
                .then(Input::Sweep)
                .at(hours(5)),
            Input::Sweep,
        )
        .effects(vec![breached(FirstResponse), Effect::Card])
        .audit(&["sla breached"]),
        Row::new(
            "sla: a customer who wrote again after our answer is due a next response",
            wrote_again().at(next - TimeDelta::minutes(10)),
            Input::Sweep,
        )
        .effects(vec![due_soon(NextResponse, next), Effect::Card])
        .audit(&["sla due soon"]),
        Row::new(
            "sla: the next response runs late",
            wrote_again().at(hours(5)),
            Input::Sweep,
        )
        .effects(vec![breached(NextResponse), Effect::Card])
        .audit(&["sla breached"])
        .check(|_, t| {
            let next = t.case.sla.next.as_ref().ok_or("no next clock")?;
            eq("breached", (next.warned, next.breached), (true, true))
        }),
        Row::new(
            "sla: a breached next response is reported once",
            wrote_again().at(hours(5)).then(Input::Sweep),
            Input::Sweep,
        )
        .noop(),
        Row::new(
            "sla: warnings can be turned off",
            F::open().config(&NO_WARNINGS).at(mins(3 * 60 + 55)),
            Input::Sweep,
        )
        .noop(),
        Row::new(
            "sla: the resolution target is reported due soon",
            // Answered in time, and the case is still open.
            strict()
                .edit(|c| c.sla.first_response_at = Some(mins(5)))
                .at(strict_due - TimeDelta::minutes(5)),
            Input::Sweep,
        )
        .effects(vec![due_soon(Resolution, strict_due), Effect::Card])
        .audit(&["sla due soon"]),
        Row::new(
            "sla: a breach raises the urgency one step where configured",
            F::new_case().config(&STRICT_SLA).at(hours(5)),
            Input::Sweep,
        )
        .effects(vec![breached(FirstResponse), Effect::Card])
        .audit(&["listed as unclaimed", "sla breached", "urgency raised"])
        .check(|_, t| eq("urgency", t.case.urgency, Urgency::High)),
        Row::new(
            "auto-close: a case waiting on the customer past auto_close_after is closed",
            F::waiting().config(&STRICT_SLA).at(hours(49)),
            Input::Sweep,
        )
        .status(Status::Closed)
        .effects(vec![
            thread(Notice::Closed {
                by: s(BOT),
                note: Some(s(
                    "no answer from the customer in 2d; a new post from them within 3d reopens it.",
                )),
            }),
            Effect::Card,
        ])
        .audit(&["closed"]),
        Row::new(
            "auto-close: not before its time",
            F::waiting().config(&STRICT_SLA).at(hours(47)),
            Input::Sweep,
        )
        .noop(),
        Row::new(
            "auto-close: never with a draft still waiting for approval",
            F::waiting()
                .then(reply(ana(), "Anything else?"))
                .config(&STRICT_SLA)
                .at(hours(49)),
            Input::Sweep,
        )
        .noop(),
        Row::new(
            "auto-close: off unless configured",
            F::waiting().at(hours(200)),
            Input::Sweep,
        )
        .noop(),
        Row::new(
            "unclaimed: a new case nobody claimed in unclaimed_after is listed to its queue",
            F::new_case().at(mins(31)),
            Input::Sweep,
        )
        .audit(&["listed as unclaimed"])
        .check(|_, t| eq("nudged", t.case.nudged, true)),
        Row::new(
            "unclaimed: listed once",
            F::new_case().at(mins(31)).then(Input::Sweep),
            Input::Sweep,
        )
        .noop(),
        Row::new(
            "unclaimed: not before its time",
            F::new_case().at(mins(29)),
            Input::Sweep,
        )
        .noop(),
        Row::new(
            "unclaimed: a claimed case is not",
            F::open().at(mins(45)),
            Input::Sweep,
        )
        .noop(),
        Row::new(
            "sla: a closed case has no clock to report",
            F::open().then(close(ana())).at(hours(9)),
            Input::Sweep,
        )
        .noop(),
    ]
}

#[test]
fn our_answer_stops_the_next_response_clock_and_the_customer_restarts_it() {
    let f = wrote_again();
    let next = f.case.sla.next.clone().unwrap();
    assert_eq!(
        next.due,
        f.now - TimeDelta::seconds(10) + TimeDelta::hours(4)
    );
    assert_eq!(f.case.status, Status::Open);
    let answered = f
        .then(reply(ana(), "Fixed now"))
        .then(approve(lee(), "7.2"))
        .then(published("7.2"));
    assert_eq!(answered.case.status, Status::Waiting);
    assert_eq!(answered.case.sla.next, None);
    // A second post while a clock runs keeps the clock it has.
    let twice = wrote_again().posts(&post("x", "p3", PostKind::Mention, "Hello??"));
    assert_eq!(twice.case.sla.next.unwrap().due, next.due);
    // Before our first answer, a follow-up is part of the first response.
    let early = F::open().posts(&post("x", "p2", PostKind::Mention, "Anyone?"));
    assert_eq!(early.case.sla.next, None);
    // Closing stops it.
    let closed = wrote_again().then(close(ana()));
    assert_eq!(closed.case.sla.next, None);
    assert!(sla::running(&closed.case).is_empty());
}

#[test]
fn the_resolution_clock_pauses_while_waiting_and_keeps_what_it_counted() {
    let f = strict();
    let started = f.now - TimeDelta::seconds(10);
    let clock = f.case.sla.resolution.clone().unwrap();
    assert_eq!(clock.target_secs, 8 * 3600);
    assert_eq!(clock.running_since, Some(started));
    assert_eq!(clock.due, Some(started + TimeDelta::hours(8)));
    // Answered an hour later: the case waits on the customer and the clock stops.
    let waiting = f
        .at(started + TimeDelta::minutes(50))
        .then(reply(ana(), "Sent a replacement"))
        .then(approve(lee(), "7.1"))
        .at(started + TimeDelta::hours(1))
        .then(published("7.1"));
    assert_eq!(waiting.case.status, Status::Waiting);
    let paused = waiting.case.sla.resolution.clone().unwrap();
    assert_eq!((paused.running_since, paused.due), (None, None));
    assert_eq!(paused.spent_secs, 3600);
    // The customer answers three hours later: seven hours are left from then.
    let back_at = started + TimeDelta::hours(4);
    let back = waiting
        .at(back_at)
        .posts(&post("x", "p2", PostKind::Mention, "Not arrived"));
    let resumed = back.case.sla.resolution.clone().unwrap();
    assert_eq!(resumed.running_since, Some(back_at));
    assert_eq!(resumed.due, Some(back_at + TimeDelta::hours(7)));
    // Closing stops it for good; reopening would count on from the same total.
    let closed = back.at(back_at + TimeDelta::hours(1)).then(close(ana()));
    let stopped = closed.case.sla.resolution.clone().unwrap();
    assert_eq!(stopped.spent_secs, 2 * 3600);
    assert_eq!(stopped.due, None);
}

#[test]
fn business_hours_count_only_open_time() {
    // Friday 16:50 with hours 9-17 Mon-Fri: one hour is due Monday 09:50.
    let friday = Utc.with_ymd_and_hms(2026, 11, 27, 16, 50, 0).unwrap();
    let due = sla::due(&BUSINESS_HOURS, friday, Duration::from_secs(3600));
    assert_eq!(due, Utc.with_ymd_and_hms(2026, 11, 30, 9, 50, 0).unwrap());
    // And the weekend in between counts ten minutes.
    let monday = Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap();
    assert_eq!(
        sla::elapsed(&BUSINESS_HOURS, friday, monday),
        Duration::from_secs(600)
    );
    assert_eq!(
        sla::elapsed(&CONFIG, friday, monday),
        Duration::from_secs(64 * 3600 + 600)
    );
}

#[test]
fn the_card_names_the_clock_due_soonest_and_how_it_stands() {
    use crate::text::sla_state;
    let tz = chrono_tz::Tz::UTC;
    let open = F::open();
    assert_eq!(sla_state(&open.case, open.now, tz), "due Mon 23 Nov 14:00");
    let warned = F::open().at(mins(3 * 60 + 50)).then(Input::Sweep);
    assert_eq!(
        sla_state(&warned.case, warned.now, tz),
        "due soon: Mon 23 Nov 14:00"
    );
    let late = wrote_again().at(hours(5)).then(Input::Sweep);
    assert!(
        sla_state(&late.case, late.now, tz)
            .starts_with("next response BREACHED (was due Mon 23 Nov 14:0"),
        "{}",
        sla_state(&late.case, late.now, tz)
    );
    let done = F::waiting();
    assert_eq!(sla_state(&done.case, done.now, tz), "answered in time");
}

#[test]
fn sla_notices_name_the_clock_and_who_should_act() {
    use crate::text::notice;
    let f = F::open();
    let say = |n: Notice| notice(&f.case, &n, &|u: &str| format!("@{u}"));
    assert_eq!(
        say(Notice::SlaBreached {
            target: NextResponse
        }),
        "🚨 @ana: #7 missed its next-response target."
    );
    assert_eq!(
        say(Notice::SlaDueSoon {
            target: FirstResponse,
            due: hours(4)
        }),
        "⏰ @ana: #7's first response is due at Mon 23 Nov 14:00 UTC."
    );
    // Stored before there were several clocks: the first response.
    let old: Notice = serde_json::from_str(r#"{"notice":"sla_breached"}"#).unwrap();
    assert_eq!(
        old,
        Notice::SlaBreached {
            target: FirstResponse
        }
    );
}

#[test]
fn a_case_stored_before_the_new_clocks_still_loads() {
    let case = F::open().case;
    let mut json = serde_json::to_value(&case).unwrap();
    let sla = json["sla"].as_object_mut().unwrap();
    assert!(sla.get("next").is_none() && sla.get("resolution").is_none());
    assert!(sla.get("warned").is_none());
    sla.remove("breached");
    let old: Case = serde_json::from_value(json).unwrap();
    assert_eq!(old, case);
}

/// Saturday 28 November 2026 at `hour`:00 UTC: the team (Mon-Fri 09-17) is away.
fn saturday(hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, hour, 0, 0).unwrap()
}

fn opened_at(post: &SocialPost, now: DateTime<Utc>) -> Transition {
    match super::super::ingest(
        post,
        None,
        NUMBER,
        &ctx(&AFTER_HOURS, &Sent::default(), now),
    ) {
        Ingested::Opened(t) => t,
        other => panic!("expected a new case, got {other:?}"),
    }
}

fn joined_at(case: &Case, post: &SocialPost, now: DateTime<Utc>) -> Transition {
    match super::super::ingest(
        post,
        Some(case),
        NUMBER + 1,
        &ctx(&AFTER_HOURS, &Sent::default(), now),
    ) {
        Ingested::Joined(t) => t,
        other => panic!("expected the post to join, got {other:?}"),
    }
}

fn off_hours_drafts(case: &Case) -> Vec<&Draft> {
    case.drafts
        .iter()
        .filter(|d| d.purpose == Purpose::OffHours)
        .collect()
}

#[test]
fn a_first_dm_after_hours_is_answered_once_with_the_opening_time() {
    let dm = post("x", "d1", PostKind::DirectMessage, "Where is my parcel?");
    let t = opened_at(&dm, saturday(11));
    let drafts = off_hours_drafts(&t.case);
    assert_eq!(drafts.len(), 1);
    let d = drafts[0];
    assert_eq!(d.text, "Hi Carol, we're back Monday at 09:00.");
    assert_eq!(
        (d.kind, d.state, d.author.as_str()),
        (DraftKind::Direct, DraftState::Approved, BOT)
    );
    assert!(!d.needs_approval, "the team wrote it in bot.toml");
    assert_eq!(
        t.effects,
        [
            Effect::Card,
            Effect::ShowDraft { draft: s("7.1") },
            Effect::Publish { draft: s("7.1") }
        ]
    );
    assert_eq!(t.case.off_hours_answered, Some(saturday(11)));
    // Sent: it answers nothing, so the case still needs us and its first response is due.
    let sent = super::super::apply(
        &t.case,
        published("7.1"),
        &ctx(&AFTER_HOURS, &Sent::default(), saturday(11)),
    )
    .unwrap();
    assert_eq!(sent.case.status, Status::New);
    assert_eq!(sent.case.sla.first_response_at, None);
    assert!(!sent.case.has_published());
    // A second DM the same weekend: not answered again.
    let again = joined_at(
        &sent.case,
        &post("x", "d2", PostKind::DirectMessage, "Hello??"),
        saturday(15),
    );
    assert_eq!(off_hours_drafts(&again.case).len(), 1);
    // The next evening off is another period: answered once more.
    let monday_night = Utc.with_ymd_and_hms(2026, 11, 30, 19, 0, 0).unwrap();
    let later = joined_at(
        &again.case,
        &post("x", "d3", PostKind::DirectMessage, "Still nothing"),
        monday_night,
    );
    let drafts = off_hours_drafts(&later.case);
    assert_eq!(drafts.len(), 2);
    assert_eq!(drafts[1].text, "Hi Carol, we're back Tuesday at 09:00.");
}

#[test]
fn public_posts_and_business_hours_get_no_automatic_answer() {
    // Public posts only where the account opts in.
    let mention = post("x", "p1", PostKind::Mention, "@acme my parcel?");
    assert!(off_hours_drafts(&opened_at(&mention, saturday(11)).case).is_empty());
    let toot = post("masto", "p1", PostKind::Mention, "@acme my parcel?");
    let t = opened_at(&toot, saturday(11));
    let drafts = off_hours_drafts(&t.case);
    assert_eq!(drafts.len(), 1);
    assert_eq!(drafts[0].kind, DraftKind::Public);
    assert!(
        drafts[0].text.contains("back Monday at 09:00"),
        "{}",
        drafts[0].text
    );
    // Inside business hours nobody is away.
    let dm = post("x", "d1", PostKind::DirectMessage, "Where is my parcel?");
    assert!(off_hours_drafts(&opened_at(&dm, t0()).case).is_empty());
    // An account without the autoresponder never answers by itself.
    let ig = post("ig", "d1", PostKind::DirectMessage, "Hello");
    assert!(off_hours_drafts(&opened_at(&ig, saturday(11)).case).is_empty());
}

#[test]
fn a_customer_post_reopens_an_auto_closed_case() {
    let closed = F::waiting()
        .config(&STRICT_SLA)
        .at(hours(49))
        .then(Input::Sweep);
    assert_eq!(closed.case.status, Status::Closed);
    let back = closed.posts(&post("x", "p2", PostKind::Mention, "It came back broken"));
    assert_ne!(back.case.status, Status::Closed);
}

#[test]
fn the_sweep_tells_the_queue_what_is_due_late_or_unclaimed() {
    use crate::engine::{Alert, alert_queues, alerts};
    let late = F::open().at(hours(5));
    assert_eq!(
        alerts(&late.case, late.now, late.config),
        [Alert::Breached {
            target: FirstResponse,
            due: hours(4)
        }]
    );
    let waiting = F::new_case().at(mins(3 * 60 + 50));
    assert_eq!(
        alerts(&waiting.case, waiting.now, waiting.config),
        [
            Alert::DueSoon {
                target: FirstResponse,
                due: hours(4)
            },
            Alert::Unclaimed { since: t0() }
        ]
    );
    // A breach is told to the case's queue, and to the escalation queue where configured.
    let breach = [Alert::Breached {
        target: FirstResponse,
        due: hours(4),
    }];
    assert_eq!(alert_queues(&late.case, &breach, &CONFIG), ["social"]);
    assert_eq!(
        alert_queues(&late.case, &breach, &STRICT_SLA),
        ["social", "escalations"]
    );
    let unclaimed = [Alert::Unclaimed { since: t0() }];
    assert_eq!(
        alert_queues(&late.case, &unclaimed, &STRICT_SLA),
        ["social"]
    );
    // What the sweep step records, the next sweep does not say again.
    let told = waiting.then(Input::Sweep);
    assert!(alerts(&told.case, told.now, told.config).is_empty());
    // One message for the queue, owners pinged.
    let items = [
        (
            &late.case,
            &[Alert::Breached {
                target: FirstResponse,
                due: hours(4),
            }][..],
        ),
        (&told.case, &[Alert::Unclaimed { since: t0() }][..]),
    ];
    let mention = |u: &str| format!("<@{u}>");
    let tz = chrono_tz::Tz::UTC;
    let text = crate::text::queue_alert("social", &items, &mention, Some("<@&42>"), tz);
    assert_eq!(
        text,
        "🔔 social: 2 cases need attention · <@&42>, on call\n\
         • #7 (<@ana>): missed its first-response target (due Mon 23 Nov 14:00)\n\
         • #7 (nobody owns it): nobody has claimed it since Mon 23 Nov 10:00"
    );
    // Nobody on call is pinged for cases that all have an owner.
    let owned = crate::text::queue_alert("social", &items[..1], &mention, Some("<@&42>"), tz);
    assert!(
        owned.starts_with("🔔 social: 1 case needs attention\n"),
        "{owned}"
    );
}

//! Ingest: opening a case (routing, SLA due time), joining the author's case, duplicates,
//! reopening within the window, and what a customer post does to a waiting or snoozed case.

use std::collections::BTreeSet;

use super::*;

use PostKind::{Comment, DirectMessage as Dm, Mention};

fn opened(post: &SocialPost, now: DateTime<Utc>, config: &Config) -> Transition {
    match ingest(post, None, 12, &ctx(config, &Sent::default(), now)) {
        Ingested::Opened(t) => t,
        other => panic!("expected a new case, got {other:?}"),
    }
}

fn joined(post: &SocialPost, case: &Case, now: DateTime<Utc>) -> Transition {
    match ingest(post, Some(case), 99, &ctx(&CONFIG, &Sent::default(), now)) {
        Ingested::Joined(t) => t,
        other => panic!("expected the post to join #{}, got {other:?}", case.number),
    }
}

fn actions(t: &Transition) -> Vec<&str> {
    t.audit.iter().map(|a| a.action.as_str()).collect()
}

/// (urgency, queue, tags) that routing gives a post.
fn routed(account: &str, kind: PostKind, text: &str) -> (Urgency, String, Vec<String>) {
    let t = opened(&post(account, "p1", kind, text), t0(), &CONFIG);
    (
        t.case.urgency,
        t.case.queue.clone(),
        t.case.tags.iter().cloned().collect(),
    )
}

#[test]
fn a_new_post_opens_a_new_case() {
    let p = tweak(post("x", "p1", Mention, "My order never arrived"), |p| {
        p.can_dm = CanDm::Yes;
    });
    let t = opened(&p, mins(1), &CONFIG);
    let c = &t.case;
    assert_eq!(c.number, 12);
    assert_eq!(c.status, Status::New);
    assert_eq!(c.assignee, None);
    assert_eq!(c.platform, Platform::Demo);
    assert_eq!(c.account, "x");
    assert_eq!(c.author, carol());
    assert_eq!(c.conversation_id, "conv-1");
    assert_eq!(c.kind, Mention);
    assert_eq!(c.can_dm, CanDm::Yes);
    assert_eq!(c.opened_at, mins(1));
    assert_eq!(c.closed_at, None);
    assert!(c.drafts.is_empty());
    assert_eq!(c.posts.len(), 1);
    assert_eq!(c.posts[0].id, "p1");
    assert_eq!(c.posts[0].at, t0());
    assert_eq!(c.posts[0].received_at, mins(1));
    assert_eq!(
        c.posts[0].permalink.as_deref(),
        Some("https://demo.example/p1")
    );
    // A new case always gets its card, and nothing else yet.
    assert_eq!(t.effects, vec![Effect::Card]);
    assert_eq!(actions(&t), vec!["opened"]);
    assert_eq!(t.audit[0].actor, CUSTOMER);
}

#[test]
fn routing_first_matching_rule_wins() {
    // "refund" (rule 1) and "down" on Bluesky (rule 2) both match: rule 1 decides.
    assert_eq!(
        routed("bsky", Mention, "The app is down and I want a refund"),
        (Urgency::Urgent, s("escalations"), vec![s("complaint")])
    );
    // Only rule 2 matches.
    assert_eq!(
        routed("bsky", Mention, "The app is down again"),
        (Urgency::High, s("default"), vec![s("outage")])
    );
    let t = opened(
        &post("bsky", "p1", Mention, "The app is DOWN"),
        t0(),
        &CONFIG,
    );
    let details = t.audit[0].details.clone().unwrap_or_default();
    assert!(details.contains("bluesky-outage"), "{details}");
}

#[test]
fn routing_keywords_are_whole_words_any_case() {
    assert_eq!(routed("x", Mention, "REFUND please").0, Urgency::Urgent);
    assert_eq!(
        routed("x", Mention, "I'll call my Lawyer.").0,
        Urgency::Urgent
    );
    assert_eq!(routed("x", Mention, "(refund)").0, Urgency::Urgent);
    assert_eq!(
        routed("x", Mention, "I was refunded, thanks").0,
        Urgency::Normal
    );
    assert_eq!(routed("x", Mention, "nonrefundable?").0, Urgency::Normal);
}

#[test]
fn routing_regex_matches_the_text() {
    assert_eq!(routed("bsky", Mention, "outage in EU?").0, Urgency::High);
    assert_eq!(
        routed("bsky", Mention, "the download is slow").0,
        Urgency::Normal
    );
}

#[test]
fn routing_platform_is_the_one_a_demo_account_simulates() {
    // The Bluesky rule applies to the demo account simulating Bluesky, not to one simulating
    // Mastodon, although both posts come in as `demo`.
    assert_eq!(routed("bsky", Mention, "down again").0, Urgency::High);
    assert_eq!(routed("masto", Mention, "down again").0, Urgency::Normal);
    assert_eq!(
        routed("ig", Dm, "hello"),
        (Urgency::Low, s("dms"), Vec::new())
    );
    // The rule is for Instagram DMs only.
    assert_eq!(routed("ig", Comment, "hello").0, Urgency::Normal);
    assert_eq!(routed("fb", Dm, "hello").1, "default");
}

#[test]
fn routing_by_account() {
    assert_eq!(
        routed("fb", Comment, "hello"),
        (Urgency::Normal, s("default"), vec![s("facebook")])
    );
    assert!(routed("fb-tag", Comment, "hello").2.is_empty());
}

#[test]
fn unrouted_posts_go_to_the_account_queue_at_normal_urgency() {
    assert_eq!(
        routed("x", Mention, "hello"),
        (Urgency::Normal, s("social"), Vec::new())
    );
    assert_eq!(routed("masto", Mention, "hello").1, "default");
    let t = opened(&post("x", "p1", Mention, "hello"), t0(), &CONFIG);
    let details = t.audit[0].details.clone().unwrap_or_default();
    assert!(!details.contains("routed by"), "{details}");
}

#[test]
fn a_rule_may_set_tags_without_urgency_or_queue() {
    // The `fb-account` rule only tags: urgency stays normal and the account queue is used.
    let (urgency, queue, tags) = routed("fb", Comment, "nice page");
    assert_eq!((urgency, queue.as_str()), (Urgency::Normal, "default"));
    assert_eq!(tags, vec![s("facebook")]);
}

#[test]
fn sla_due_time_follows_urgency() {
    let due = |text: &str| {
        opened(&post("bsky", "p1", Mention, text), mins(2), &CONFIG)
            .case
            .sla
            .first_response_due
    };
    assert_eq!(due("refund now"), mins(15)); // urgent 15m from the post
    assert_eq!(due("site down"), hours(1)); // high
    assert_eq!(due("hello"), hours(4)); // normal
    let low = opened(&post("ig", "p1", Dm, "hi"), mins(2), &CONFIG);
    assert_eq!(low.case.sla.first_response_due, hours(24));
    assert_eq!(low.case.sla.first_response_at, None);
    assert!(!low.case.sla.breached);
}

#[test]
fn sla_clock_starts_no_later_than_ingest() {
    // A post stamped in the future (clock skew) is timed from when we got it.
    let p = tweak(post("x", "p1", Mention, "refund"), |p| {
        p.created_at = hours(1)
    });
    let t = opened(&p, t0(), &CONFIG);
    assert_eq!(t.case.sla.first_response_due, mins(15));
}

#[test]
fn sla_with_business_hours_counts_only_open_time() {
    // Friday 27 November 2026 16:50 UTC, normal urgency (4h): 10 minutes on Friday, the rest
    // from Monday 09:00.
    let friday = Utc.with_ymd_and_hms(2026, 11, 27, 16, 50, 0).unwrap();
    let p = tweak(post("x", "p1", Mention, "hello"), |p| p.created_at = friday);
    let t = opened(&p, friday, &BUSINESS_HOURS);
    assert_eq!(
        t.case.sla.first_response_due,
        Utc.with_ymd_and_hms(2026, 11, 30, 12, 50, 0).unwrap()
    );
    // Posted on Saturday: the clock starts on Monday at opening.
    let saturday = Utc.with_ymd_and_hms(2026, 11, 28, 11, 0, 0).unwrap();
    let p = tweak(post("x", "p1", Mention, "refund"), |p| {
        p.created_at = saturday
    });
    let t = opened(&p, saturday, &BUSINESS_HOURS);
    assert_eq!(
        t.case.sla.first_response_due,
        Utc.with_ymd_and_hms(2026, 11, 30, 9, 15, 0).unwrap()
    );
    // Without business hours the same post is due 15 minutes later, on Saturday.
    let t = opened(&p, saturday, &CONFIG);
    assert_eq!(
        t.case.sla.first_response_due,
        saturday + TimeDelta::minutes(15)
    );
}

#[test]
fn grouping_keys() {
    let mention = post("x", "p1", Mention, "a");
    let same_conversation = post("x", "p2", Comment, "b");
    let other_conversation = tweak(post("x", "p3", Mention, "c"), |p| {
        p.conversation_id = s("conv-2");
    });
    let other_author = tweak(post("x", "p4", Mention, "d"), |p| p.author.id = s("u-dave"));
    let dm1 = tweak(post("x", "d1", Dm, "e"), |p| p.conversation_id = s("dm-a"));
    let dm2 = tweak(post("x", "d2", Dm, "f"), |p| p.conversation_id = s("dm-b"));
    let dm_other_account = tweak(post("masto", "d1", Dm, "g"), |p| {
        p.conversation_id = s("dm-a");
    });
    let key = SocialPost::conversation_key;
    assert_eq!(key(&mention), key(&same_conversation));
    assert_ne!(key(&mention), key(&other_conversation));
    assert_ne!(key(&mention), key(&other_author));
    // Any DM from the same author to the same account, whatever the conversation id.
    assert_eq!(key(&dm1), key(&dm2));
    assert_ne!(key(&dm1), key(&mention));
    assert_ne!(key(&dm1), key(&dm_other_account));
    // Dedupe is per post id and account.
    assert_ne!(dm1.dedupe_key(), dm_other_account.dedupe_key());
    assert_eq!(
        dm1.dedupe_key(),
        tweak(dm1.clone(), |p| p.text = s("edited")).dedupe_key()
    );
}

#[test]
fn same_author_same_conversation_joins() {
    let case = Fixture::open().case;
    let p2 = tweak(post("x", "p2", Comment, "Any news?"), |p| {
        p.created_at = mins(30)
    });
    let t = joined(&p2, &case, mins(31));
    assert_eq!(t.case.number, NUMBER);
    assert_eq!(
        t.case
            .posts
            .iter()
            .map(|p| p.id.as_str())
            .collect::<Vec<_>>(),
        vec!["p1", "p2"]
    );
    assert_eq!(t.case.status, Status::Open);
    assert_eq!(
        t.effects,
        vec![thread(Notice::CustomerPost { post: s("p2") })]
    );
    assert_eq!(actions(&t), vec!["posted"]);
    assert_eq!(t.audit[0].actor, CUSTOMER);
    assert_eq!(t.case.updated_at, mins(31));
    // Nothing the card shows changed: no card refresh.
    assert!(!t.effects.contains(&Effect::Card));
}

#[test]
fn a_dm_from_the_same_author_joins_whatever_its_conversation() {
    let case = Fixture::from_post(&tweak(post("fb", "d1", Dm, "hi"), |p| {
        p.conversation_id = s("t-1");
    }))
    .case;
    let d2 = tweak(post("fb", "d2", Dm, "hello?"), |p| {
        p.conversation_id = s("t-2")
    });
    let first = tweak(post("fb", "d1", Dm, "hi"), |p| p.conversation_id = s("t-1"));
    assert_eq!(d2.conversation_key(), first.conversation_key());
    let t = joined(&d2, &case, mins(10));
    assert_eq!(t.case.posts.len(), 2);
    assert_eq!(t.case.posts[1].conversation_id, "t-2");
}

#[test]
fn a_different_author_opens_a_new_case() {
    // The store finds no candidate for another author's key, so the post opens a case.
    let other = tweak(post("x", "p2", Mention, "me too"), |p| {
        p.author = Author {
            id: s("u-dave"),
            handle: s("dave"),
            name: None,
        };
    });
    assert_ne!(
        other.conversation_key(),
        post("x", "p1", Mention, "").conversation_key()
    );
    let t = opened(&other, mins(3), &CONFIG);
    assert_eq!(t.case.author.handle, "dave");
    assert_eq!(t.case.posts.len(), 1);
}

#[test]
fn a_post_already_in_the_case_is_a_duplicate() {
    let case = Fixture::open().case;
    let again = post("x", "p1", Mention, "My order never arrived");
    assert_eq!(
        ingest(
            &again,
            Some(&case),
            99,
            &ctx(&CONFIG, &Sent::default(), hours(1))
        ),
        Ingested::Duplicate
    );
    // Also on a closed case, and whatever the text now says (an edit is the same post).
    let closed = Fixture::closed().case;
    let edited = post("x", "p1", Mention, "edited");
    assert_eq!(
        ingest(
            &edited,
            Some(&closed),
            99,
            &ctx(&CONFIG, &Sent::default(), hours(1))
        ),
        Ingested::Duplicate
    );
    let long_ago = Fixture::closed_long_ago();
    assert_eq!(
        ingest(
            &edited,
            Some(&long_ago.case),
            99,
            &ctx(&CONFIG, &Sent::default(), long_ago.now)
        ),
        Ingested::Duplicate
    );
}

#[test]
fn a_post_within_the_reopen_window_reopens_the_closed_case() {
    let f = Fixture::closed();
    let closed_at = f.case.closed_at.unwrap();
    let now = closed_at + TimeDelta::hours(71);
    let p2 = tweak(post("x", "p2", Mention, "It broke again"), |p| {
        p.created_at = now
    });
    let t = joined(&p2, &f.case, now);
    let c = &t.case;
    // Owned by ana, so open again.
    assert_eq!(c.status, Status::Open);
    assert_eq!(c.assignee.as_deref(), Some("ana"));
    assert_eq!(c.closed_at, None);
    assert_eq!(c.posts.len(), 2);
    // A fresh first-response clock from now.
    assert_eq!(c.sla.first_response_due, now + TimeDelta::hours(4));
    assert_eq!(c.sla.first_response_at, None);
    assert!(!c.sla.breached);
    assert_eq!(
        t.effects,
        vec![
            thread(Notice::Reopened { by: s(CUSTOMER) }),
            thread(Notice::CustomerPost { post: s("p2") }),
            Effect::Card,
        ]
    );
    assert_eq!(actions(&t), vec!["reopened", "posted"]);
    // Drafts and their history stay.
    assert_eq!(draft_states(c), draft_states(&f.case));
}

#[test]
fn a_reopened_unowned_case_is_new() {
    let f = Fixture::waiting()
        .then(cmd(ana(), Command::Unclaim))
        .then(cmd(bo(), Command::Close { note: None }));
    let breached = tweak(f.case.clone(), |c| c.sla.breached = true);
    let t = joined(
        &post("x", "p2", Mention, "hello?"),
        &breached,
        f.now + TimeDelta::hours(1),
    );
    assert_eq!(t.case.status, Status::New);
    assert_eq!(t.case.assignee, None);
    assert!(!t.case.sla.breached);
}

#[test]
fn a_post_beyond_the_reopen_window_opens_a_new_case() {
    let f = Fixture::closed();
    let closed_at = f.case.closed_at.unwrap();
    let p2 = post("x", "p2", Mention, "Hello again");
    for now in [
        closed_at + TimeDelta::hours(72),
        closed_at + TimeDelta::days(30),
    ] {
        match ingest(&p2, Some(&f.case), 8, &ctx(&CONFIG, &Sent::default(), now)) {
            Ingested::Opened(t) => {
                assert_eq!(t.case.number, 8);
                assert_eq!(t.case.status, Status::New);
                assert_eq!(t.case.assignee, None);
                assert_eq!(t.case.posts.len(), 1);
                assert_eq!(t.effects, vec![Effect::Card]);
            }
            other => panic!("expected a new case at {now}, got {other:?}"),
        }
    }
}

#[test]
fn a_customer_post_makes_a_waiting_case_need_us_again() {
    let owned = Fixture::waiting();
    let t = joined(
        &post("x", "p2", Mention, "Still broken"),
        &owned.case,
        owned.now,
    );
    assert_eq!(t.case.status, Status::Open);
    assert_eq!(
        t.effects,
        vec![thread(Notice::CustomerPost { post: s("p2") }), Effect::Card]
    );
    // The first response stays recorded: the SLA is about the first answer.
    assert_eq!(
        t.case.sla.first_response_at,
        owned.case.sla.first_response_at
    );

    let unowned = Fixture::waiting().then(cmd(ana(), Command::Unclaim));
    let t = joined(
        &post("x", "p2", Mention, "Still broken"),
        &unowned.case,
        unowned.now,
    );
    assert_eq!(t.case.status, Status::New);
    assert_eq!(t.case.assignee, None);
}

#[test]
fn a_customer_post_leaves_an_offline_case_offline() {
    let f = Fixture::offline();
    let t = joined(&post("x", "p2", Mention, "Emailed you"), &f.case, f.now);
    assert_eq!(t.case.status, Status::Offline);
    assert!(!t.effects.contains(&Effect::Card));
}

#[test]
fn a_customer_post_ends_a_snooze() {
    let f = Fixture::open().then(cmd(
        ana(),
        Command::Snooze {
            duration: std::time::Duration::from_secs(3600),
        },
    ));
    assert!(f.case.snoozed_until.is_some());
    let t = joined(&post("x", "p2", Mention, "hello?"), &f.case, f.now);
    assert_eq!(t.case.snoozed_until, None);
    assert_eq!(
        t.effects,
        vec![thread(Notice::CustomerPost { post: s("p2") }), Effect::Card]
    );
}

#[test]
fn a_known_can_dm_replaces_the_old_one_an_unknown_does_not() {
    let f = Fixture::from_post(&tweak(post("x", "p1", Mention, "hi"), |p| {
        p.can_dm = CanDm::No
    }));
    let yes = tweak(post("x", "p2", Mention, "followed you"), |p| {
        p.can_dm = CanDm::Yes
    });
    let t = joined(&yes, &f.case, f.now);
    assert_eq!(t.case.can_dm, CanDm::Yes);
    let unknown = post("x", "p3", Mention, "ok");
    let t = joined(&unknown, &t.case, f.now);
    assert_eq!(t.case.can_dm, CanDm::Yes);
}

#[test]
fn ingest_keeps_the_reply_window_of_each_post() {
    let p = tweak(post("x", "p1", Mention, "hi"), |p| {
        p.reply_by = Some(hours(1))
    });
    let t = opened(&p, t0(), &CONFIG);
    assert_eq!(t.case.posts[0].reply_by, Some(hours(1)));
}

#[test]
fn customer_post_notices_come_from_ingest() {
    // Ingest is the only producer of `CustomerPost`; the table covers every other notice.
    let f = Fixture::open();
    let t = joined(&post("x", "p2", Mention, "hi"), &f.case, f.now);
    let names: BTreeSet<&str> = t
        .effects
        .iter()
        .filter_map(|e| match e {
            Effect::Thread { notice } => Some(notice_name(notice)),
            _ => None,
        })
        .collect();
    assert_eq!(names, BTreeSet::from(["CustomerPost"]));
}

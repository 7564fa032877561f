//! The console chat end to end: a script piped into the real binary works a
//! case through claim, reply, a refused self-approval and approval by a second
//! person; the store and the demo network are checked after the bot exits.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/run.rs"]
mod run;

use run::{Bot, DEMO_X_ACCOUNT as ACCOUNT, feed_line};

fn feed() -> Vec<String> {
    vec![
        feed_line(
            "101",
            "jane",
            "101",
            "mention",
            "@acme my order never arrived",
        ),
        feed_line("102", "sam", "102", "mention", "@acme is the app down?"),
        feed_line(
            "103",
            "jane",
            "101",
            "mention",
            "@acme hello?? still nothing",
        ),
    ]
}

const REPLY: &str = "Sorry about the delay, Jane. We're on it.";
const REMARK: &str = "courier says Friday, do not promise anything yet";

fn script() -> String {
    let too_long = "a".repeat(281);
    [
        "wait",
        "#1 !claim",
        &format!("#1 !reply {REPLY}"),
        &format!("#1 {REMARK}"),
        "react ✅ 1.1",
        "as lee",
        "react ✅ 1.1",
        "react ✅ 1.1",
        "#1 !claim",
        &format!("#2 !reply {too_long}"),
        "#2 !dance",
        "/care status 2",
    ]
    .join("\n")
        + "\n"
}

#[test]
fn a_case_is_worked_and_approved_by_a_second_person_and_published_once() {
    let bot = Bot::new(ACCOUNT, &feed());
    let out = bot.run_script(&script());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "exit {:?}\n{stdout}\n{stderr}",
        out.status
    );

    for expected in [
        "NEW CASE #1",
        "NEW CASE #2",
        "#1 │ @jane (mention): @acme hello?? still nothing",
        "#1 │ @maria claimed #1.",
        "#1 │ Draft 1.1 by @maria — public reply to @jane:",
        "#1 │ Approvers: react ✅ to send or ❌ to reject.",
        "(to @maria) You wrote draft 1.1, so you can't approve it; ask another approver.",
        "#1 │ @lee approved draft 1.1; sending.",
        "#1 │ Draft 1.1 published as demo:acme-x/1.1.",
        "(to @lee) #1 is claimed by @maria; use `assign` to take it over.",
        "(to @lee) Too long for X: 281/280 characters as X counts them (links count 23, emoji and CJK count 2). Cut at least 1.",
        "(to @lee) Unknown command `dance`",
        "(to @lee) #2 is new (unclaimed); owner nobody",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
    // Approval is announced once: the second ✅ on a decided draft does nothing.
    assert_eq!(stdout.matches("approved draft 1.1").count(), 1, "{stdout}");
    // The internal remark stays where it was typed: never echoed, never sent.
    assert!(!stdout.contains(REMARK), "{stdout}");

    let case = bot.case(1);
    assert_eq!(case["status"], "waiting");
    assert_eq!(case["assignee"], "maria");
    assert_eq!(case["posts"].as_array().unwrap().len(), 2);
    let drafts = case["drafts"].as_array().unwrap();
    assert_eq!(drafts.len(), 1);
    assert_eq!(drafts[0]["state"], "published");
    assert_eq!(drafts[0]["author"], "maria");
    assert_eq!(drafts[0]["decided_by"], "lee");
    assert_eq!(drafts[0]["published_id"], "demo:acme-x/1.1");
    assert_eq!(drafts[0]["text"], REPLY);
    let audit = case["audit"].as_array().unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a["action"] == "note" && a["details"] == REMARK && a["actor"] == "maria")
    );
    assert!(
        audit
            .iter()
            .any(|a| a["action"] == "approved" && a["actor"] == "lee")
    );
    assert!(
        bot.case(2)["drafts"].as_array().unwrap().is_empty(),
        "a refused draft is not kept"
    );

    let published = bot.journal("demo-published.jsonl");
    assert_eq!(published.len(), 1, "{published:?}");
    assert_eq!(published[0]["text"], REPLY);
    assert_eq!(
        published[0]["in_reply_to"], "103",
        "answers the customer's latest post"
    );

    // A restart neither replays the feed nor publishes again.
    let again = bot.run_script("wait\n");
    assert!(again.status.success());
    assert!(!String::from_utf8_lossy(&again.stdout).contains("NEW CASE"));
    assert_eq!(bot.cases().len(), 2);
    assert_eq!(bot.journal("demo-published.jsonl").len(), 1);
}

#[test]
fn a_rejected_draft_can_be_replaced_and_a_recalled_one_never_goes_out() {
    let bot = Bot::new(ACCOUNT, &feed());
    let script = [
        "wait",
        "#2 !claim",
        "#2 !reply First try",
        "as lee",
        "react ❌ 2.1",
        "as maria",
        "#2 !reply Second try, better",
        "#2 !recall",
        "#2 !reply Third try",
        "as lee",
        "react ✅ 2.3",
        "as maria",
        "#2 !close all sorted",
    ]
    .join("\n");
    let out = bot.run_script(&script);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("@lee rejected draft 2.1. @maria, edit it and `reply` again."),
        "{stdout}"
    );
    assert!(stdout.contains("@maria recalled draft 2.2."), "{stdout}");
    assert!(stdout.contains("@maria closed #2: all sorted"), "{stdout}");

    let case = bot.case(2);
    let states: Vec<&str> = case["drafts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["rejected", "recalled", "published"]);
    assert_eq!(case["status"], "closed");
    let published = bot.journal("demo-published.jsonl");
    assert_eq!(published.len(), 1);
    assert_eq!(published[0]["text"], "Third try");
}

#[test]
fn a_refused_send_is_reported_to_the_owner_and_a_transient_one_is_retried() {
    let account = ACCOUNT.replace("approval = \"always\"", "approval = \"never\"");
    let mut refused: serde_json::Value = serde_json::from_str(&feed_line(
        "201",
        "jane",
        "201",
        "mention",
        "@acme where is my parcel",
    ))
    .unwrap();
    refused["trouble"] = serde_json::json!({"refuse": "This post was deleted by its author"});
    let mut flaky: serde_json::Value = serde_json::from_str(&feed_line(
        "202",
        "sam",
        "202",
        "mention",
        "@acme app down?",
    ))
    .unwrap();
    flaky["trouble"] = serde_json::json!({"flaky": 1});
    let bot = Bot::new(&account, &[refused.to_string(), flaky.to_string()]);
    let script = [
        "wait",
        "#1 !claim",
        "#1 !reply On it, Jane",
        "#1 !retry",
        "#2 !reply We're fixing it, Sam",
        "wait",
    ]
    .join("\n");
    let out = bot.run_script(&script);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert_eq!(
        stdout
            .matches(
                "#1 │ @maria: draft 1.1 could not be sent: This post was deleted by its author."
            )
            .count(),
        2,
        "reported to the owner, once per attempt:\n{stdout}"
    );
    assert!(
        stdout.contains("#2 │ Draft 2.1 published as demo:acme-x/2.1."),
        "{stdout}"
    );

    let case = bot.case(1);
    assert_eq!(case["drafts"][0]["state"], "failed");
    assert_eq!(
        case["drafts"][0]["error"],
        "This post was deleted by its author"
    );
    assert_eq!(
        case["status"], "open",
        "nothing went out, so we are not waiting on the customer"
    );
    assert_eq!(bot.case(2)["drafts"][0]["state"], "published");
    let published = bot.journal("demo-published.jsonl");
    assert_eq!(published.len(), 1);
    assert_eq!(published[0]["case"], 2);
}

#[test]
fn a_post_is_liked_and_a_published_reply_deleted_on_the_network() {
    let bot = Bot::new(ACCOUNT, &feed());
    let script = [
        "wait",
        "#1 !claim",
        &format!("#1 !reply {REPLY}"),
        "as lee",
        "react ✅ 1.1",
        "wait",
        "as maria",
        "#1 !like",
        "#1 !like",
        "#1 !delete",
        "#1 !delete 1.1",
        "#2 !delete",
        "#2 !like 999",
    ]
    .join("\n");
    let out = bot.run_script(&script);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    for expected in [
        "#1 │ Draft 1.1 published as demo:acme-x/1.1.",
        "#1 │ ❤️ Liked the customer's post (by @maria).",
        "(to @maria) The customer's post 103 is already liked; `unlike 103` takes it back.",
        "#1 │ 🗑️ Deleted our reply 1.1 from X (by @maria).",
        "(to @maria) Draft 1.1 is already deleted from the network.",
        "(to @maria) #2 has no published reply left to delete.",
        "(to @maria) This case has no customer post `999`;",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }

    let case = bot.case(1);
    assert_eq!(case["liked"], serde_json::json!(["103"]), "the latest post");
    let draft = &case["drafts"][0];
    assert_eq!(draft["state"], "published", "it went out: that stays true");
    assert_eq!(draft["deleted_by"], "maria");
    assert!(draft["deleted_at"].is_string(), "{draft}");
    let audit: Vec<&str> = case["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    for action in ["like", "liked", "delete", "deleted"] {
        assert!(audit.contains(&action), "{action} not in {audit:?}");
    }

    // The demo network recorded the reply, the like and the deletion, once each.
    let journal = bot.journal("demo-published.jsonl");
    assert_eq!(journal.len(), 3, "{journal:?}");
    assert_eq!(journal[0]["text"], REPLY);
    assert_eq!(journal[1]["key"], "act/acme-x/1/like/103");
    assert_eq!(journal[1]["action"], "like");
    assert_eq!(journal[1]["post"], "103");
    assert_eq!(journal[2]["key"], "act/acme-x/1/delete/1.1");
    assert_eq!(journal[2]["action"], "delete");
    assert_eq!(journal[2]["draft"], "1.1");
    assert_eq!(journal[2]["id"], "demo:acme-x/1.1");
}

#[test]
fn a_like_the_simulated_network_cannot_do_is_refused_with_what_to_do_instead() {
    let account = ACCOUNT.replace("simulate = \"x\"", "simulate = \"instagram\"");
    let bot = Bot::new(
        &account,
        &[feed_line(
            "ig-1",
            "lena",
            "ig-post-9",
            "comment",
            "Love the new colours! When is teal back?",
        )],
    );
    let out = bot.run_script("wait\n#1 !like\n#1 !repost\n");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    for expected in [
        "(to @maria) Instagram doesn't let the account like posts from here; answer with `reply` instead.",
        "(to @maria) Instagram doesn't let the account repost from here;",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
    assert!(bot.case(1)["liked"].as_array().unwrap().is_empty());
    assert!(bot.journal("demo-published.jsonl").is_empty());
}

#[test]
fn a_like_the_network_refuses_is_reported_to_whoever_asked() {
    let mut gone: serde_json::Value = serde_json::from_str(&feed_line(
        "301",
        "jane",
        "301",
        "mention",
        "@acme never mind",
    ))
    .unwrap();
    gone["trouble"] = serde_json::json!({"refuse": "This post was deleted by its author"});
    let bot = Bot::new(ACCOUNT, &[gone.to_string()]);
    let out = bot.run_script("wait\nas lee\n#1 !like\n");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains(
            "#1 │ @lee: couldn't like the customer's post on X: This post was deleted by its author. `like 301` tries again."
        ),
        "{stdout}"
    );
    assert!(bot.case(1)["liked"].as_array().unwrap().is_empty());
    assert!(bot.journal("demo-published.jsonl").is_empty());
}

//! Facebook and Instagram end to end: the real binary, on the console chat, receiving
//! webhook deliveries signed as Meta signs them, and answering through the fake Graph API in
//! `tests/support/meta.rs`. What reached the network is read back from the fake, what the
//! team saw from the console's journal.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/background.rs"]
mod background;
#[path = "support/console.rs"]
mod console;
#[path = "support/meta.rs"]
mod meta;
#[path = "support/run.rs"]
mod run;

use std::time::Duration;

use console::Console;
use meta::{
    APP_SECRET, FakeGraph, IG_ID, IG_TOKEN, PAGE_ID, PAGE_TOKEN, VERIFY_TOKEN, changes_entry,
    envelope, messaging_entry, post_webhook,
};
use run::wait_until;
use serde_json::json;

const WAIT: Duration = Duration::from_secs(20);

/// The Facebook Page's and the Instagram account's `[[accounts]]`, on `fake`; `extra` goes
/// into the Page's.
fn accounts(fake: &FakeGraph, extra: &str) -> String {
    let account = |id: &str, network: &str, page: &str, token: &str, extra: &str| {
        format!(
            r#"
[[accounts]]
id = "{id}"
network = "{network}"
page_id = "{page}"
api_url = "{url}"
approval = "always"
auth = {{ kind = "page_token", page_token = "{token}" }}
webhook = {{ app_secret = "{APP_SECRET}", verify_token = "{VERIFY_TOKEN}" }}
{extra}
"#,
            url = fake.api_url()
        )
    };
    account("acme-fb", "facebook", PAGE_ID, PAGE_TOKEN, extra)
        + &account("acme-ig", "instagram", IG_ID, IG_TOKEN, "")
}

/// A console bot on `fake`, once its webhook listens.
fn started(fake: &FakeGraph, extra: &str) -> Console {
    let console = Console::new(&accounts(fake, extra));
    let up = wait_until(WAIT, || meta::get(&console.url("/webhooks/meta")).0 != 0);
    assert!(up, "the webhook did not come up");
    console
}

/// Sends a signed delivery; asserts it was accepted.
fn deliver(console: &Console, body: &serde_json::Value) {
    let (status, answer) = post_webhook(&console.url("/webhooks/meta"), APP_SECRET, body);
    assert_eq!(status, 200, "{answer}");
}

/// A Messenger DM from `psid`, sent at `at_ms`, delivered to the bot; waits for its case.
async fn customer_dms(console: &Console, fake: &FakeGraph, psid: &str, text: &str, at_ms: i64) {
    let dm = fake.messenger_message(PAGE_ID, psid, &format!("m_{psid}"), text, at_ms);
    deliver(
        console,
        &envelope(
            "page",
            vec![messaging_entry(PAGE_ID, meta::now_secs(), vec![dm])],
        ),
    );
    console.wait_cases(1).await;
}

/// Approves `text` on case 1 while Meta performs the call on `route` but its answer is
/// lost, kills the bot as it waits, restarts it and waits for the publication.
async fn lost_answer_then_restart(
    console: &mut Console,
    fake: &FakeGraph,
    route: &str,
    text: &str,
) {
    fake.fail_next("POST", route, meta::Fault::Lost);
    console.reply_and_approve(text);
    fake.wait_for("POST", route, 1, WAIT);
    console.kill();
    console.start();
    console.wait_text("published as").await;
    console.stop();
}

/// A console bot on a fresh fake, with case 1 opened by Jane's `comment` saying `text`.
async fn jane_case(comment: &str, text: &str) -> (FakeGraph, Console) {
    let fake = FakeGraph::start_default();
    let console = started(&fake, "");
    deliver(&console, &jane_comments(&fake, comment, text));
    console.wait_cases(1).await;
    (fake, console)
}

/// A comment from Jane on the Page's post, now.
fn jane_comments(fake: &FakeGraph, comment: &str, text: &str) -> serde_json::Value {
    meta::jane_does(fake, comment, text, "add")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_subscription_is_verified_with_the_token_and_nothing_else() {
    let fake = FakeGraph::start_default();
    let mut console = started(&fake, "");
    let url = console.url("/webhooks/meta");
    let (status, body) = meta::get(&meta::verification_url(&url, VERIFY_TOKEN, "1158201444"));
    assert_eq!((status, body.as_str()), (200, "1158201444"));
    let (status, _) = meta::get(&meta::verification_url(&url, "guess", "1158201444"));
    assert_eq!(status, 403);
    let (status, _) = meta::get(&format!(
        "{url}?hub.mode=unsubscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1"
    ));
    assert_eq!(status, 403);
    console.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_signature_is_refused_and_stores_nothing() {
    let fake = FakeGraph::start_default();
    let mut console = started(&fake, "");
    let body = jane_comments(&fake, "122131676912594941_1", "Where is my order?");
    let url = console.url("/webhooks/meta");
    assert_eq!(post_webhook(&url, "not-the-secret", &body).0, 401);
    let raw = meta::meta_json(&body);
    assert_eq!(meta::post_raw(&url, &[], raw.as_bytes()).0, 401);
    console.stop();
    assert!(console.bot.cases().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_comment_becomes_a_case_and_the_approved_reply_goes_under_it_once() {
    let comment = "122131676912594941_1213590066982748";
    let (fake, mut console) = jane_case(comment, "Where is my order?").await;
    // Meta delivers again: still one case.
    deliver(
        &console,
        &jane_comments(&fake, comment, "Where is my order?"),
    );
    console.reply_and_approve("Sorry, Jane! We'll check right away.");
    console.wait_text("published as").await;
    console.stop();
    let replies = fake.comment_replies(comment);
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert_eq!(replies[0].message, "Sorry, Jane! We'll check right away.");
    let cases = console.bot.cases();
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0]["conversation_id"], meta::PAGE_POST);
    assert_eq!(cases[0]["platform"], "facebook");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_delivery_may_batch_entries_for_several_accounts() {
    let fake = FakeGraph::start_default();
    let mut console = started(&fake, "");
    let now = meta::now_secs();
    let page = changes_entry(
        PAGE_ID,
        now,
        vec![
            fake.feed_comment(
                PAGE_ID,
                meta::PAGE_POST,
                "1_1",
                meta::PAGE_POST,
                ("7001", "Jane"),
                "one",
                "add",
                now,
            ),
            fake.feed_comment(
                PAGE_ID,
                meta::PAGE_POST,
                "1_2",
                meta::PAGE_POST,
                ("7002", "Sam"),
                "two",
                "add",
                now,
            ),
        ],
    );
    let ms = meta::now_ms();
    let messenger = messaging_entry(
        PAGE_ID,
        now,
        vec![
            fake.messenger_message(PAGE_ID, "PSID1", "m_1", "a DM", ms),
            meta::messenger_read(PAGE_ID, "PSID1", ms),
            meta::messenger_echo(PAGE_ID, "PSID1", "m_2", "our echo", ms),
        ],
    );
    let stranger = changes_entry(
        "999",
        now,
        vec![meta::feed_comment(
            "999",
            "999_1",
            "1_9",
            "999_1",
            ("7003", "Eve"),
            "not ours",
            "add",
            now,
        )],
    );
    deliver(&console, &envelope("page", vec![page, messenger, stranger]));
    let ig = changes_entry(
        IG_ID,
        now,
        vec![fake.ig_comment(
            IG_ID,
            "1790001",
            "1800001",
            ("9001", "jane.d"),
            "love it",
            None,
        )],
    );
    deliver(&console, &envelope("instagram", vec![ig]));
    console.wait_cases(4).await;
    console.stop();
    let cases = console.bot.cases();
    assert_eq!(cases.len(), 4, "{cases:#?}");
    let mut kinds: Vec<(String, String)> = cases
        .iter()
        .map(|c| {
            (
                c["account"].as_str().unwrap().to_owned(),
                c["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    // Deliveries are worked in parallel: the case numbers follow no fixed order.
    kinds.sort();
    assert_eq!(
        kinds,
        [
            ("acme-fb".into(), "comment".into()),
            ("acme-fb".into(), "comment".into()),
            ("acme-fb".into(), "direct_message".into()),
            ("acme-ig".into(), "comment".into()),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_messenger_dm_inside_the_window_is_answered_as_a_response() {
    let fake = FakeGraph::start_default();
    let mut console = started(&fake, "");
    customer_dms(
        &console,
        &fake,
        "PSID1",
        "my card was charged twice",
        meta::now_ms(),
    )
    .await;
    console.reply_and_approve("Sorry! Which card ends in?");
    console.wait_text("published as").await;
    console.stop();
    let sent = fake.sent(PAGE_ID);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].recipient, json!({"id": "PSID1"}));
    assert_eq!(sent[0].messaging_type.as_deref(), Some("RESPONSE"));
    assert_eq!(sent[0].text, "Sorry! Which card ends in?");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dm_past_the_window_is_refused_at_draft_time_or_sent_as_a_human_agent() {
    for human_agent in [false, true] {
        let fake = FakeGraph::start_default();
        let extra = format!("human_agent_tag = {human_agent}");
        let mut console = started(&fake, &extra);
        let at = meta::now_ms() - meta::hours_ms(30);
        customer_dms(&console, &fake, "PSID1", "hello?", at).await;
        console.reply_and_approve("Sorry for the wait!");
        if human_agent {
            console.wait_text("published as").await;
        }
        // A refusal is told to the agent who drafted, on the console's output.
        let out = console.stop();
        if !human_agent {
            assert!(
                out.contains("Facebook only allows this reply within 24h"),
                "{out}"
            );
        }
        let sent = fake.sent(PAGE_ID);
        match human_agent {
            false => assert!(sent.is_empty(), "{sent:?}"),
            true => {
                assert_eq!(sent.len(), 1);
                assert_eq!(sent[0].messaging_type.as_deref(), Some("MESSAGE_TAG"));
                assert_eq!(sent[0].tag.as_deref(), Some("HUMAN_AGENT"));
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_comment_gets_one_private_reply_and_a_second_is_refused_before_approval() {
    let comment = "122131676912594941_77";
    let (fake, mut console) = jane_case(comment, "I need help with my account").await;
    console.say("#1 !claim");
    console.say("#1 !dm Hi Jane, could you send us your account email?");
    console.say("as lee");
    console.say("react ✅ 1.1");
    console.wait_text("published as").await;
    console.say("as maria");
    console.say("#1 !dm And your postcode, please?");
    let out = console.stop();
    assert!(
        out.contains(&format!(
            "A private reply to comment {comment} was already sent"
        )),
        "{out}"
    );
    let sent = fake.sent(PAGE_ID);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].recipient, json!({"comment_id": comment}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_is_reported_in_the_thread_and_raised_once_as_an_alert() {
    let (fake, mut console) = jane_case("122131676912594941_5", "hello?").await;
    fake.revoke_token(PAGE_TOKEN);
    console.reply_and_approve("Hi Jane!");
    console
        .wait_text("no longer accepts the access token of `acme-fb`")
        .await;
    // And the team hears it outside the case, once, however many replies fail.
    console
        .wait_for("the alert", |c| {
            c.shown().iter().any(|r| r["shown"] == "alert")
        })
        .await;
    console.say("as maria");
    console.say("#1 !reply Hi again, Jane!");
    console.say("as lee");
    console.say("react ✅ 1.2");
    console
        .wait_for("the second failure", |c| {
            c.texts()
                .iter()
                .filter(|t| t.contains("no longer accepts"))
                .count()
                >= 3
        })
        .await;
    console.stop();
    let alerts: Vec<_> = console
        .shown()
        .into_iter()
        .filter(|r| r["shown"] == "alert")
        .collect();
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    assert!(
        alerts[0]["text"]
            .as_str()
            .unwrap()
            .contains("auth.page_token")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_the_reply_and_its_record_leaves_one_reply() {
    let comment = "122131676912594941_1213590066982748";
    let (fake, mut console) = jane_case(comment, "Where is my order?").await;
    // Meta creates the reply, and the answer never comes back: the bot dies waiting.
    lost_answer_then_restart(&mut console, &fake, "/{comment}/comments", "On its way!").await;
    let replies = fake.comment_replies(comment);
    assert_eq!(replies.len(), 1, "{replies:?}");
    let posts = fake
        .calls()
        .into_iter()
        .filter(|c| c.is("POST", "/{comment}/comments"))
        .count();
    assert_eq!(posts, 1, "the restart looked first and did not post again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_reply_to_an_instagram_reply_is_found_under_the_top_comment() {
    let fake = FakeGraph::start_default();
    let mut console = started(&fake, "");
    // Sam answers someone else's comment under the account's media.
    fake.ig_comment(IG_ID, "1790040", "1800040", ("9040", "lu"), "nice", None);
    let reply = fake.ig_comment(
        IG_ID,
        "1790041",
        "1800040",
        ("9041", "sam.k"),
        "mine broke after a day",
        Some("1790040"),
    );
    deliver(
        &console,
        &envelope(
            "instagram",
            vec![changes_entry(IG_ID, meta::now_secs(), vec![reply])],
        ),
    );
    console.wait_cases(1).await;
    lost_answer_then_restart(&mut console, &fake, "/{comment}/replies", "So sorry, Sam!").await;
    // Instagram filed our reply under the top comment, where the restart found it.
    let replies = fake.comment_replies("1790040");
    assert_eq!(replies.len(), 1, "{replies:?}");
    let posts = fake
        .calls()
        .into_iter()
        .filter(|c| c.is("POST", "/{comment}/replies"))
        .count();
    assert_eq!(posts, 1, "the restart looked first and did not post again");
    assert_eq!(console.bot.cases()[0]["posts"][0]["parent"], "1790040");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edited_comment_updates_the_case_and_a_removed_one_is_noted() {
    let comment = "122131676912594941_31";
    let (fake, mut console) = jane_case(comment, "My order arrived brokn").await;
    deliver(
        &console,
        &meta::jane_does(&fake, comment, "My order arrived broken", "edited"),
    );
    console
        .wait_text(
            "edited their comment (122131676912594941_31); it now says: My order arrived broken",
        )
        .await;
    deliver(&console, &meta::jane_does(&fake, comment, "", "remove"));
    console.wait_text("was removed from Facebook").await;
    // Said again: nothing more.
    deliver(&console, &meta::jane_does(&fake, comment, "", "remove"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    console.stop();
    let case = &console.bot.cases()[0];
    assert_eq!(case["posts"][0]["text"], "My order arrived broken");
    assert_eq!(case["posts"][0]["removed"], true);
    let removals = console
        .texts()
        .iter()
        .filter(|t| t.contains("was removed"))
        .count();
    assert_eq!(removals, 1);
}

/// Sam mentions @acme in a comment under their own post (only ids are delivered); waits
/// for the case.
async fn sam_mentions_acme(fake: &FakeGraph, console: &Console) {
    fake.ig_comment(
        IG_ID,
        "1790077",
        "1800077",
        ("9002", "sam.k"),
        "@acme is this in stock?",
        None,
    );
    let mention = meta::ig_mention(IG_ID, "1800077", Some("1790077"));
    deliver(
        console,
        &envelope(
            "instagram",
            vec![changes_entry(IG_ID, meta::now_secs(), vec![mention])],
        ),
    );
    console.wait_cases(1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instagram_mention_is_read_back_and_answered_through_the_mentions_edge() {
    let fake = FakeGraph::start_default();
    let mut console = started(&fake, "");
    sam_mentions_acme(&fake, &console).await;
    console.reply_and_approve("It is! Link in our bio.");
    console.wait_text("published as").await;
    console.stop();
    let replies = fake.mention_replies(IG_ID);
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert_eq!(replies[0].message, "It is! Link in our bio.");
    let call = fake
        .calls()
        .into_iter()
        .find(|c| c.is("POST", "/{account}/mentions"))
        .unwrap();
    assert_eq!(call.param("media_id"), Some(&json!("1800077")));
    assert_eq!(call.param("comment_id"), Some(&json!("1790077")));
    let case = &console.bot.cases()[0];
    assert_eq!(
        (case["kind"].as_str(), case["author"]["handle"].as_str()),
        (Some("mention"), Some("sam.k"))
    );
    assert_eq!(case["posts"][0]["text"], "@acme is this in stock?");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_answer_to_a_mention_reply_is_found_under_the_mentioning_comment() {
    let fake = FakeGraph::start_default();
    let mut console = started(&fake, "");
    sam_mentions_acme(&fake, &console).await;
    lost_answer_then_restart(&mut console, &fake, "/{account}/mentions", "It is!").await;
    assert_eq!(fake.mention_replies(IG_ID).len(), 1);
    let lookup = fake
        .calls()
        .into_iter()
        .find(|c| c.is("GET", "/{object}") && c.path == format!("/{IG_ID}"))
        .unwrap();
    assert_eq!(
        lookup.param("fields"),
        Some(&json!(
            "mentioned_comment.comment_id(1790077){replies{id,text,username,timestamp,from}}"
        ))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_comment_can_be_liked_and_the_like_taken_back() {
    let comment = "122131676912594941_88";
    let (fake, mut console) = jane_case(comment, "Thanks, all sorted!").await;
    console.say("#1 !like");
    assert!(wait_until(WAIT, || fake.liked(comment)), "not liked");
    console.say("#1 !unlike");
    assert!(wait_until(WAIT, || !fake.liked(comment)), "still liked");
    console.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_comment_is_hidden_shown_again_and_deleted_for_good() {
    let comment = "122131676912594941_89";
    let (fake, mut console) = jane_case(comment, "You are all scammers").await;
    console.say("#1 !hide");
    console
        .wait_text("Hid the customer's comment on Facebook")
        .await;
    assert!(fake.hidden(comment), "not hidden");
    // Meta reports our hide back: the case knew already.
    deliver(&console, &meta::jane_does(&fake, comment, "", "hide"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Refusals go to the one who asked: the console prints them, read once it stopped.
    console.say("#1 !hide");
    console.say("#1 !unhide");
    console
        .wait_text("Showed the customer's comment again")
        .await;
    assert!(!fake.hidden(comment), "still hidden");
    // A moderator hides it in Meta Business Suite: the thread hears of it.
    deliver(&console, &meta::jane_does(&fake, comment, "", "hide"));
    console
        .wait_text("was hidden on Facebook, outside carebridge")
        .await;
    // Deleting a customer's comment needs its id: a bare `!delete` means our own reply.
    console.say("#1 !delete");
    console.say(&format!("#1 !delete {comment}"));
    console
        .wait_text("Deleted the customer's comment from Facebook")
        .await;
    assert!(fake.deleted(comment), "not deleted");
    // Meta then reports the removal: the case knew already, the thread hears nothing more.
    deliver(&console, &meta::jane_does(&fake, comment, "", "remove"));
    console.say(&format!("#1 !delete {comment}"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let out = console.stop();
    for refusal in [
        format!("The customer's comment {comment} is already hidden"),
        "#1 has no published reply left to delete".to_owned(),
        format!("The customer's post {comment} was removed from the network"),
    ] {
        assert!(out.contains(&refusal), "{refusal}\n{out}");
    }
    let hides: Vec<_> = fake
        .calls()
        .into_iter()
        .filter(|c| c.is("POST", "/{object}"))
        .map(|c| c.param("is_hidden").cloned())
        .collect();
    assert_eq!(hides, [Some(json!(true)), Some(json!(false))]);
    let deletes = fake
        .calls()
        .into_iter()
        .filter(|c| c.is("DELETE", "/{object}"))
        .count();
    assert_eq!(deletes, 1);
    let texts = console.texts();
    assert_eq!(texts.len(), 4, "{texts:#?}");
    assert!(
        !texts
            .iter()
            .any(|t| t.contains("was removed from Facebook")),
        "{texts:#?}"
    );
    assert_eq!(console.bot.cases()[0]["posts"][0]["removed"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instagram_comment_is_hidden_and_one_already_gone_counts_as_deleted() {
    let fake = FakeGraph::start_default();
    let mut console = started(&fake, "");
    let (first, second) = ("1790031", "1790032");
    let comments = [(first, "spam spam spam"), (second, "more spam")]
        .map(|(id, text)| fake.ig_comment(IG_ID, id, "1800031", ("9031", "spam.bot"), text, None));
    deliver(
        &console,
        &envelope(
            "instagram",
            vec![changes_entry(IG_ID, meta::now_secs(), comments.to_vec())],
        ),
    );
    console.wait_cases(1).await;
    // The two comments of one delivery are worked each on its own: act once both are in.
    console.wait_text("more spam").await;
    console.say(&format!("#1 !hide {first}"));
    console
        .wait_text("Hid the customer's comment 1790031 on Instagram")
        .await;
    assert!(fake.hidden(first) && !fake.hidden(second));
    // The author deleted the second comment and no webhook told us: Meta's "no such object"
    // means it is gone, which is what was asked.
    fake.delete_comment(second);
    console.say(&format!("#1 !delete {second}"));
    console
        .wait_text("Deleted the customer's comment from Instagram")
        .await;
    console.stop();
    let hide = fake
        .calls()
        .into_iter()
        .find(|c| c.is("POST", "/{object}"))
        .unwrap();
    assert_eq!(
        (hide.param("hide"), hide.param("is_hidden")),
        (Some(&json!(true)), None)
    );
    let case = &console.bot.cases()[0];
    assert_eq!(case["hidden"], json!([first]));
    assert_eq!(case["posts"][1]["removed"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_after_a_dm_went_out_finds_it_in_the_conversation_and_sends_no_second() {
    let fake = FakeGraph::start_default();
    let mut console = started(&fake, "");
    customer_dms(
        &console,
        &fake,
        "PSID7",
        "is my refund coming?",
        meta::now_ms(),
    )
    .await;
    // Meta sends the message, and the answer never comes back: the bot dies waiting.
    lost_answer_then_restart(
        &mut console,
        &fake,
        "/{account}/messages",
        "Yes, it left today.",
    )
    .await;
    let sent = fake.sent(PAGE_ID);
    assert_eq!(sent.len(), 1, "{sent:?}");
    let lookups = fake
        .calls()
        .into_iter()
        .filter(|c| c.is("GET", "/{account}/conversations"))
        .count();
    assert!(lookups >= 1, "the restart looked in the conversation first");
}

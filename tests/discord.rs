//! Discord end to end: the real binary against the fake Discord in
//! `tests/support/discord.rs` (REST and gateway). People act as Discord
//! delivers it (gateway events and interactions); what the bot does is read
//! back from the fake's world and recorded calls, and from the demo
//! network's journal. Each step takes the calls it caused, so an unexpected
//! message fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/background.rs"]
mod background;
#[path = "support/discord.rs"]
mod discord;
#[path = "support/run.rs"]
mod run;

use std::time::Duration;

use discord::{
    APPROVER_ROLE, Call, FORUM_CHANNEL, FakeDiscord, FakeDiscordSetup, Fault, LEE, MARIA, SAM,
    TEXT_CHANNEL,
};
use run::{Bot, DEMO_X_ACCOUNT, Running, feed_line, wait_until};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(20);
const EPHEMERAL: u64 = 1 << 6;

/// A bot on the fake Discord with cases going to `channel`; Lee approves by
/// role, Maria by being listed.
fn bot(fake: &FakeDiscord, channel: &str, feed: &[String]) -> Bot {
    bot_with(fake, channel, "", feed)
}

/// Like [`bot`], with more `[chat.discord]` keys.
fn bot_with(fake: &FakeDiscord, channel: &str, extra: &str, feed: &[String]) -> Bot {
    Bot::with_chat("", &chat(fake, channel, extra), DEMO_X_ACCOUNT, feed)
}

/// The `[chat]` sections of [`bot_with`].
fn chat(fake: &FakeDiscord, channel: &str, extra: &str) -> String {
    format!(
        r#"
[chat]
kind = "discord"

[chat.discord]
token = "{token}"
application_id = "{app}"
guild_id = "{guild}"
api_url = "{api}"
approver_roles = ["{APPROVER_ROLE}"]
approvers = ["{MARIA}"]
{extra}

[chat.discord.channels]
default = "{channel}"
"#,
        token = discord::TOKEN,
        app = discord::APP_ID,
        guild = discord::GUILD_ID,
        api = fake.api_url(),
    )
}

fn jane() -> Vec<String> {
    vec![feed_line(
        "p1",
        "jane",
        "c1",
        "mention",
        "Where is my parcel?",
    )]
}

/// Starts the bot and waits until it is on the gateway.
fn start(fake: &FakeDiscord, bot: &Bot) -> Running {
    let running = bot.spawn();
    fake.wait_ready(WAIT);
    running
}

/// A fake Discord and a bot on it (more `[chat.discord]` keys in `extra`)
/// whose first case, Jane's post, went to `channel`; and that case's thread.
fn with_case(channel: &str, extra: &str) -> (FakeDiscord, Bot, Running, discord::Thread) {
    let fake = FakeDiscord::start_default();
    let bot = bot_with(&fake, channel, extra, &jane());
    let running = start(&fake, &bot);
    let thread = case_thread(&fake);
    (fake, bot, running, thread)
}

/// The one thread the bot made for case 1, once it exists.
fn case_thread(fake: &FakeDiscord) -> discord::Thread {
    assert!(
        wait_until(WAIT, || !fake.threads().is_empty()),
        "no thread was made"
    );
    let threads = fake.threads();
    assert_eq!(threads.len(), 1, "{threads:#?}");
    threads.into_iter().next().unwrap()
}

/// Sends `/care <sub> …` as `user` in `channel` and waits for the deferred
/// ephemeral acknowledgement and the answer that replaces it.
fn slash(
    fake: &FakeDiscord,
    user: &str,
    channel: &str,
    sub: &str,
    options: &[(&str, Value)],
) -> String {
    let (id, token, event) = fake.slash_command(user, channel, sub, options);
    interact(fake, &id, &token, event)
}

/// Dispatches an interaction and returns the answer the bot followed up with.
fn interact(fake: &FakeDiscord, id: &str, token: &str, event: Value) -> String {
    fake.dispatch("INTERACTION_CREATE", event);
    assert!(
        wait_until(WAIT, || fake
            .interaction_responses()
            .iter()
            .any(|r| r.interaction_id == id)),
        "the interaction was not acknowledged"
    );
    let ack = fake
        .interaction_responses()
        .into_iter()
        .find(|r| r.interaction_id == id)
        .unwrap();
    assert_eq!(ack.kind, 5, "deferred: {ack:?}");
    assert_eq!(
        ack.data["flags"].as_u64().unwrap_or(0) & EPHEMERAL,
        EPHEMERAL
    );
    assert!(ack.after < Duration::from_secs(3), "{:?}", ack.after);
    assert!(
        wait_until(WAIT, || fake.followups().iter().any(|f| f.token == token)),
        "no answer followed the acknowledgement"
    );
    let answer = fake
        .followups()
        .into_iter()
        .find(|f| f.token == token && f.original)
        .unwrap();
    answer.data["content"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Calls of one kind since the last take, e.g. ("POST", "/channels/{channel}/messages").
fn of(calls: &[Call], method: &str, route: &str) -> Vec<Call> {
    calls
        .iter()
        .filter(|c| c.method == method && c.route == route)
        .cloned()
        .collect()
}

/// The embed field `name` of a card message.
fn field(card: &discord::Message, name: &str) -> String {
    card.embeds[0]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .map(|f| f["value"].as_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[test]
fn a_post_becomes_one_thread_in_a_text_channel_worked_with_care_inside_it() {
    // The card, with its buttons, and a thread started from it.
    let (fake, _bot, _running, thread) = with_case(TEXT_CHANNEL, "");
    let cards = fake.messages(TEXT_CHANNEL);
    assert_eq!(cards.len(), 1);
    let card = &cards[0];
    assert_eq!(thread.id, card.id, "a thread from a message has its id");
    assert_eq!(thread.parent_id, TEXT_CHANNEL);
    assert_eq!(thread.name, "#1 @jane");
    assert!(
        card.embeds[0]["description"]
            .as_str()
            .unwrap()
            .contains("Where is my parcel?")
    );
    let buttons: Vec<&str> = card.components[0]["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["custom_id"].as_str().unwrap())
        .collect();
    assert_eq!(buttons[0], "care.claim:1");
    assert_eq!(field(card, "Owner"), "nobody yet");

    // `/care claim` in the thread: no case number, answered ephemerally, card edited.
    fake.take_calls();
    let answer = slash(&fake, MARIA, &thread.id, "claim", &[]);
    assert!(!answer.is_empty());
    assert!(
        wait_until(WAIT, || field(
            &fake.message(TEXT_CHANNEL, &card.id).unwrap(),
            "Owner"
        ) == format!("<@{MARIA}>")),
        "the card shows no owner: {:?}",
        fake.message(TEXT_CHANNEL, &card.id)
    );
    let calls = fake.take_calls();
    assert_eq!(
        of(&calls, "PATCH", "/channels/{channel}/messages/{message}").len(),
        1
    );
}

#[test]
fn a_post_becomes_one_forum_post_tagged_with_network_urgency_and_status() {
    let (fake, bot, running, thread) = with_case(FORUM_CHANNEL, "");
    assert_eq!(thread.parent_id, FORUM_CHANNEL);
    assert_eq!(thread.from_message, None);
    assert_eq!(thread.name, "#1 @jane");
    let starter = fake
        .message(&thread.id, &thread.id)
        .expect("the card starts the post");
    assert!(starter.embeds[0]["title"].as_str().unwrap().contains("#1"));
    let tag_names = |ids: &[String]| -> Vec<String> {
        let tags = fake.forum_tags(FORUM_CHANNEL);
        ids.iter()
            .map(|id| {
                tags.iter()
                    .find(|t| t["id"] == json!(id))
                    .map(|t| t["name"].as_str().unwrap().to_owned())
                    .unwrap()
            })
            .collect()
    };
    assert_eq!(tag_names(&thread.applied_tags), ["Demo", "normal", "new"]);

    // Claimed: the status tag follows the case.
    slash(&fake, MARIA, &thread.id, "claim", &[]);
    assert!(
        wait_until(WAIT, || tag_names(
            &fake.thread(&thread.id).unwrap().applied_tags
        ) == ["Demo", "normal", "open"]),
        "tags: {:?}",
        fake.thread(&thread.id)
    );
    // After a restart (nothing remembered but the store), the post is still
    // found and kept in step. Closed: archived; reopened: unarchived.
    drop(running);
    let _running = bot.spawn();
    assert!(wait_until(WAIT, || fake.identifies().len() == 2));
    slash(&fake, MARIA, &thread.id, "close", &[]);
    assert!(wait_until(WAIT, || fake
        .thread(&thread.id)
        .unwrap()
        .archived));
    slash(&fake, MARIA, &thread.id, "reopen", &[]);
    assert!(wait_until(WAIT, || !fake
        .thread(&thread.id)
        .unwrap()
        .archived));
}

#[test]
fn a_reply_is_approved_by_an_approvers_reaction_never_the_authors_and_published_once() {
    let (fake, bot, _running, thread) = with_case(TEXT_CHANNEL, "");

    // Lee (an approver by role) drafts the reply.
    slash(
        &fake,
        LEE,
        &thread.id,
        "reply",
        &[("text", json!("So sorry, Jane! It ships today."))],
    );
    let draft = wait_until(WAIT, || {
        fake.messages(&thread.id)
            .iter()
            .any(|m| m.content.contains("So sorry, Jane!"))
    });
    assert!(
        draft,
        "no draft in the thread: {:#?}",
        fake.messages(&thread.id)
    );
    let draft = fake
        .messages(&thread.id)
        .into_iter()
        .find(|m| m.content.contains("So sorry, Jane!"))
        .unwrap();

    // Lee's own ✅ does not approve Lee's draft; Sam (no role) cannot approve.
    // Lee hears why (waited for, not slept on: a loaded machine may take its time). The draft
    // message can reach Discord a moment before the bot has recorded it as the draft's; a
    // reaction in that moment is on a message it does not know yet, so Lee reacts again, as
    // a person would.
    let told = wait_until(WAIT, || {
        for user in [LEE, SAM] {
            fake.dispatch(
                "MESSAGE_REACTION_ADD",
                fake.reaction_add(user, &thread.id, &draft.id, "✅"),
            );
        }
        wait_until(Duration::from_millis(500), || {
            fake.messages(&thread.id)
                .iter()
                .any(|m| m.content.contains("you can't approve it"))
        })
    });
    assert!(told, "{:#?}", fake.messages(&thread.id));
    std::thread::sleep(Duration::from_millis(300));
    assert!(bot.journal("demo-published.jsonl").is_empty());

    // Maria, listed as an approver, approves: published once, even if Discord
    // delivers her reaction again.
    let approve = fake.reaction_add(MARIA, &thread.id, &draft.id, "✅");
    fake.dispatch("MESSAGE_REACTION_ADD", approve.clone());
    assert!(
        wait_until(WAIT, || bot.journal("demo-published.jsonl").len() == 1),
        "not published"
    );
    fake.dispatch("MESSAGE_REACTION_ADD", approve);
    std::thread::sleep(Duration::from_millis(500));
    let published = bot.journal("demo-published.jsonl");
    assert_eq!(published.len(), 1, "{published:#?}");
    assert!(published[0].to_string().contains("So sorry, Jane!"));
    // The thread tells the story, and nothing else: Sam's reaction is not a
    // command to answer; Lee is told why theirs did not count.
    let said: Vec<String> = fake
        .messages(&thread.id)
        .into_iter()
        .map(|m| m.content)
        .collect();
    assert_eq!(said.len(), 4, "{said:#?}");
    assert!(
        said[0].starts_with(&format!("Draft 1.1 by <@{LEE}>")),
        "{said:#?}"
    );
    assert!(said[1].contains("you can't approve it"), "{said:#?}");
    assert!(
        said[2].starts_with(&format!("<@{MARIA}> approved draft 1.1")),
        "{said:#?}"
    );
    assert!(said[3].starts_with("Draft 1.1 published"), "{said:#?}");
}

#[test]
fn a_long_note_is_split_into_messages_under_2000_characters() {
    let (fake, _bot, _running, thread) = with_case(TEXT_CHANNEL, "");
    let before = fake.messages(&thread.id).len();

    let line = "The customer called twice about the same parcel; details follow.";
    let note: String = std::iter::repeat_n(line, 40).collect::<Vec<_>>().join("\n");
    assert!(note.chars().count() > 2500);
    slash(&fake, MARIA, &thread.id, "note", &[("text", json!(note))]);
    assert!(
        wait_until(WAIT, || fake.messages(&thread.id).len() >= before + 2),
        "{:#?}",
        fake.messages(&thread.id)
    );
    let posted = &fake.messages(&thread.id)[before..];
    assert_eq!(posted.len(), 2, "{posted:#?}");
    assert!(posted.iter().all(|m| m.content.chars().count() <= 2000));
}

#[test]
fn slash_commands_are_registered_once_across_restarts_and_updated_when_stale() {
    // A stale registration from an older build: replaced at the first start.
    let fake = FakeDiscord::start(FakeDiscordSetup {
        commands: vec![
            json!({"name": "care", "type": 1, "description": "Old carebridge", "options": []}),
        ],
        ..FakeDiscordSetup::default()
    });
    let bot = bot(&fake, TEXT_CHANNEL, &[]);
    for _ in 0..2 {
        let running = start(&fake, &bot);
        drop(running);
    }
    let puts = of(
        &fake.calls(),
        "PUT",
        "/applications/{application}/guilds/{guild}/commands",
    );
    assert_eq!(puts.len(), 1, "one bulk overwrite over two starts");
    let registered = fake.registered_commands();
    assert_eq!(registered.len(), 1);
    assert_eq!(registered[0]["name"], "care");
    assert_eq!(registered[0]["default_member_permissions"], "17179869184");
}

#[test]
fn a_rate_limited_post_is_retried_not_dropped() {
    let fake = FakeDiscord::start_default();
    fake.fail_next(
        "POST",
        "/channels/{channel}/messages",
        Fault::RateLimited {
            retry_after: 0.2,
            global: false,
        },
    );
    let bot = bot(&fake, TEXT_CHANNEL, &jane());
    let _running = start(&fake, &bot);
    case_thread(&fake);
    let posts = of(&fake.calls(), "POST", "/channels/{channel}/messages");
    assert_eq!(posts.iter().filter(|c| c.status == 429).count(), 1);
    assert_eq!(
        fake.messages(TEXT_CHANNEL).len(),
        1,
        "one card, posted after the 429"
    );
}

#[test]
fn the_cards_buttons_act_or_open_a_modal_whose_submission_drafts_the_reply() {
    let (fake, _bot, _running, thread) = with_case(TEXT_CHANNEL, "");
    let card = fake.messages(TEXT_CHANNEL).remove(0);

    // Claim acts at once (deferred, then answered).
    let (id, token, click) = fake.button_click(MARIA, TEXT_CHANNEL, &card.id, "care.claim:1");
    interact(&fake, &id, &token, click);
    assert!(wait_until(WAIT, || field(
        &fake.message(TEXT_CHANNEL, &card.id).unwrap(),
        "Owner"
    ) == format!("<@{MARIA}>")));

    // Reply… opens its modal as the acknowledgement itself.
    let (id, _, click) = fake.button_click(MARIA, TEXT_CHANNEL, &card.id, "care.reply:1");
    fake.dispatch("INTERACTION_CREATE", click);
    assert!(wait_until(WAIT, || fake
        .interaction_responses()
        .iter()
        .any(|r| r.interaction_id == id)));
    let modal = fake
        .interaction_responses()
        .into_iter()
        .find(|r| r.interaction_id == id)
        .unwrap();
    assert_eq!(modal.kind, 9, "{modal:?}");
    assert_eq!(modal.data["custom_id"], "care.reply:1");

    // Submitting it drafts the reply in the thread.
    let (id, token, submit) = fake.modal_submit(
        MARIA,
        &thread.id,
        "care.reply:1",
        &[("text", "On its way today!")],
    );
    interact(&fake, &id, &token, submit);
    assert!(wait_until(WAIT, || fake.messages(&thread.id).iter().any(
        |m| m.content.starts_with("Draft 1.1") && m.content.contains("On its way today!")
    )));

    // A form with a mistake says what to fix, only to its sender.
    let (id, token, submit) = fake.modal_submit(
        MARIA,
        &thread.id,
        "care.offline:1",
        &[("channel", "pigeon")],
    );
    let answer = interact(&fake, &id, &token, submit);
    assert!(answer.contains("Continue by"), "{answer}");
}

#[test]
fn refusals_and_mistakes_are_told_only_to_the_person_who_acted() {
    let agent_roles = format!("agent_roles = [\"{}\"]", discord::AGENT_ROLE);
    let (fake, _bot, _running, thread) = with_case(TEXT_CHANNEL, &agent_roles);
    let card = fake.messages(TEXT_CHANNEL).remove(0);
    fake.take_calls();

    // Sam holds no agent role: refused, ephemerally, and the case is untouched.
    let answer = slash(&fake, SAM, &thread.id, "claim", &[]);
    assert!(
        answer.starts_with("Only agents and approvers may use `claim`"),
        "{answer}"
    );
    // Outside any thread, a case number is needed.
    let answer = slash(&fake, MARIA, TEXT_CHANNEL, "claim", &[]);
    assert!(answer.contains("Which case?"), "{answer}");
    // With one, it works from anywhere.
    slash(&fake, MARIA, TEXT_CHANNEL, "claim", &[("case", json!(1))]);
    assert!(wait_until(WAIT, || field(
        &fake.message(TEXT_CHANNEL, &card.id).unwrap(),
        "Owner"
    ) == format!("<@{MARIA}>")));
    // Nothing was posted for the refusals: answers went to the interactions.
    std::thread::sleep(Duration::from_millis(300));
    let posts = of(&fake.take_calls(), "POST", "/channels/{channel}/messages");
    assert_eq!(
        posts.len(),
        1,
        "only the claim's thread message: {posts:#?}"
    );
    assert_eq!(posts[0].path, format!("/channels/{}/messages", thread.id));
}

#[test]
fn thread_commands_read_bang_commands_and_keep_other_talk_as_notes() {
    let (fake, bot, running, thread) = with_case(TEXT_CHANNEL, "thread_commands = true");
    // Message Content is asked for only with thread_commands.
    let intents = fake.identifies()[0]["intents"].as_u64().unwrap();
    assert_eq!(intents, 1 | (1 << 9) | (1 << 10) | (1 << 15));
    let card = fake.messages(TEXT_CHANNEL).remove(0);

    let (_, claim) = fake.message_create(&thread.id, MARIA, "!claim");
    fake.dispatch("MESSAGE_CREATE", claim);
    assert!(wait_until(WAIT, || field(
        &fake.message(TEXT_CHANNEL, &card.id).unwrap(),
        "Owner"
    ) == format!("<@{MARIA}>")));
    let (_, note) = fake.message_create(&thread.id, MARIA, "Customer is a regular; be generous.");
    fake.dispatch("MESSAGE_CREATE", note);
    // `!` talk outside case threads is someone else's business: no answer.
    let (_, elsewhere) = fake.message_create(TEXT_CHANNEL, SAM, "!play some music");
    fake.dispatch("MESSAGE_CREATE", elsewhere);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        fake.messages(TEXT_CHANNEL).len(),
        2,
        "the card and Sam's message only"
    );
    drop(running);
    assert!(
        bot.case(1).to_string().contains("be generous"),
        "{}",
        bot.case(1)
    );
}

#[test]
fn without_thread_commands_no_privileged_intent_is_asked() {
    let fake = FakeDiscord::start(FakeDiscordSetup {
        message_content_allowed: false,
        ..FakeDiscordSetup::default()
    });
    let bot = bot(&fake, TEXT_CHANNEL, &[]);
    let _running = start(&fake, &bot);
    let intents = fake.identifies()[0]["intents"].as_u64().unwrap();
    assert_eq!(intents, 1 | (1 << 9) | (1 << 10));
}

#[test]
fn a_gateway_that_refuses_the_intents_stops_the_bot_with_a_clear_error() {
    let fake = FakeDiscord::start(FakeDiscordSetup {
        message_content_allowed: false,
        ..FakeDiscordSetup::default()
    });
    let bot = bot_with(&fake, TEXT_CHANNEL, "thread_commands = true", &[]);
    let out = bot.run_script("");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("Message Content intent"), "{stderr}");
}

#[test]
fn events_sent_while_the_gateway_reconnects_are_worked_once() {
    let (fake, _bot, _running, thread) = with_case(TEXT_CHANNEL, "");
    let card = fake.messages(TEXT_CHANNEL).remove(0);
    fake.drop_connection();
    let (id, token, event) = fake.slash_command(MARIA, &thread.id, "claim", &[]);
    let answer = interact(&fake, &id, &token, event);
    assert!(!answer.is_empty());
    assert!(wait_until(WAIT, || field(
        &fake.message(TEXT_CHANNEL, &card.id).unwrap(),
        "Owner"
    ) == format!("<@{MARIA}>")));
    std::thread::sleep(Duration::from_millis(300));
    let acks = fake
        .interaction_responses()
        .into_iter()
        .filter(|r| r.interaction_id == id)
        .count();
    assert_eq!(acks, 1);
}

#[test]
fn kill_9_between_the_card_and_its_thread_leaves_one_card_and_one_thread() {
    let fake = FakeDiscord::start_default();
    // The thread is never started: the request hangs, and the bot is killed.
    fake.fail_next(
        "POST",
        "/channels/{channel}/messages/{message}/threads",
        Fault::Hang,
    );
    let bot = bot(&fake, TEXT_CHANNEL, &jane());
    let running = start(&fake, &bot);
    fake.wait_for(
        "POST",
        "/channels/{channel}/messages/{message}/threads",
        1,
        WAIT,
    );
    drop(running); // SIGKILL

    let running = start(&fake, &bot);
    let thread = case_thread(&fake);
    let cards = fake.messages(TEXT_CHANNEL);
    assert_eq!(
        cards.len(),
        1,
        "the card was found, not posted again: {cards:#?}"
    );
    assert_eq!(thread.id, cards[0].id);
    // The case knows its thread once the retry has recorded it.
    assert!(wait_until(WAIT, || fake
        .calls()
        .iter()
        .filter(|c| c.route == "/channels/{channel}/messages/{message}/threads")
        .any(|c| c.status == 201 || c.status == 200)));
    std::thread::sleep(Duration::from_millis(300));
    drop(running);
    assert_eq!(bot.case(1)["chat"]["thread"], json!(thread.id));
}

#[test]
fn a_reaction_taken_back_before_publication_withdraws_the_decision() {
    let (fake, bot, _running, thread) = with_case(TEXT_CHANNEL, "");
    slash(
        &fake,
        MARIA,
        &thread.id,
        "reply",
        &[("text", json!("Checking now."))],
    );
    assert!(wait_until(WAIT, || fake.messages(&thread.id).len() == 1));
    let draft = fake.messages(&thread.id).remove(0);

    // Sam, never seen before, takes back a ✅: the roles are looked up once
    // (a removal carries none), and nothing else happens.
    fake.take_calls();
    fake.dispatch(
        "MESSAGE_REACTION_REMOVE",
        fake.reaction_remove(SAM, &thread.id, &draft.id, "✅"),
    );
    let lookups = fake.wait_for("GET", "/guilds/{guild}/members/{user}", 1, WAIT);
    assert_eq!(
        lookups[0].path,
        format!("/guilds/{}/members/{SAM}", discord::GUILD_ID)
    );

    // Lee rejects, then takes the ❌ back: the draft waits for a decision again.
    fake.dispatch(
        "MESSAGE_REACTION_ADD",
        fake.reaction_add(LEE, &thread.id, &draft.id, "❌"),
    );
    assert!(wait_until(WAIT, || fake.messages(&thread.id).len() == 2));
    fake.take_calls();
    fake.dispatch(
        "MESSAGE_REACTION_REMOVE",
        fake.reaction_remove(LEE, &thread.id, &draft.id, "❌"),
    );
    assert!(wait_until(WAIT, || fake.messages(&thread.id).len() == 3));
    let said = fake.messages(&thread.id).remove(2).content;
    assert!(said.contains("withdrew"), "{said}");
    // A removal carries no roles: Lee's were remembered from the ❌ itself.
    let lookups = of(&fake.take_calls(), "GET", "/guilds/{guild}/members/{user}");
    assert!(lookups.is_empty(), "{lookups:#?}");

    fake.dispatch(
        "MESSAGE_REACTION_ADD",
        fake.reaction_add(LEE, &thread.id, &draft.id, "✅"),
    );
    assert!(wait_until(WAIT, || bot
        .journal("demo-published.jsonl")
        .len()
        == 1));
}

#[test]
fn with_monitor_on_a_discord_bot_serves_health_and_metrics() {
    let fake = FakeDiscord::start_default();
    let port = run::free_port();
    let bot = Bot::with_chat(
        &format!("listen = \"127.0.0.1:{port}\"\nmonitor = true"),
        &chat(&fake, TEXT_CHANNEL, ""),
        DEMO_X_ACCOUNT,
        &jane(),
    );
    let _running = start(&fake, &bot);
    case_thread(&fake);
    let get = |path: &str| {
        background::blocking(
            reqwest::Method::GET,
            &format!("http://127.0.0.1:{port}{path}"),
            &[],
            None,
        )
    };

    let (status, body) = get("/healthz");
    assert_eq!(status, 200, "{body}");
    let report: Value = serde_json::from_str(&body).unwrap();
    let chat = report["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "chat:discord")
        .unwrap_or_else(|| panic!("no chat:discord in {report}"));
    assert_eq!(chat["ok"], true, "{report}");

    let (status, metrics) = get("/metrics");
    assert_eq!(status, 200, "{metrics}");
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("carebridge_api_calls_total{")
                && l.contains("service=\"discord\"")),
        "{metrics}"
    );
}

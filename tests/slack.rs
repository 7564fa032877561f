//! Slack end to end: the real binary against the fake Slack in
//! `tests/support/slack.rs`, in both connection modes. Events reach the bot
//! as Slack sends them (signed HTTP requests, or Socket Mode envelopes); what
//! the bot does is read back from the fake's recorded Web API calls and from
//! the demo network's journal. Every step takes the calls it caused, so an
//! unexpected message fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/background.rs"]
mod background;
#[path = "support/run.rs"]
mod run;
#[path = "support/slack.rs"]
mod slack;
#[path = "support/x.rs"]
mod x;

use std::collections::BTreeMap;
use std::time::Duration;

use run::{Bot, DEMO_X_ACCOUNT, Running, feed_line, free_port, wait_until};
use serde_json::{Value, json};
use slack::{Call, FakeSlack, FakeSlackSetup, Fault};

const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
const INBOX: &str = "C0INBOX";
const MARIA: &str = "U0MARIA";
const LEE: &str = "U0LEE";
const SAM: &str = "U0SAM";
const WAIT: Duration = Duration::from_secs(20);

fn fake() -> FakeSlack {
    FakeSlack::start(FakeSlackSetup {
        users: BTreeMap::from([
            (MARIA.to_owned(), "maria".to_owned()),
            (LEE.to_owned(), "lee".to_owned()),
            (SAM.to_owned(), "sam".to_owned()),
        ]),
        // Lee approves through the leads group: membership is looked up.
        usergroups: BTreeMap::from([("S0LEADS".to_owned(), vec![LEE.to_owned()])]),
        ..FakeSlackSetup::default()
    })
}

/// A bot on the fake Slack; `mode` is "events" or "socket".
fn bot(fake: &FakeSlack, mode: &str, port: u16, feed: &[String]) -> Bot {
    bot_with(fake, mode, port, DEMO_X_ACCOUNT, feed)
}

/// Like [`bot`], with other `[[accounts]]`.
fn bot_with(fake: &FakeSlack, mode: &str, port: u16, accounts: &str, feed: &[String]) -> Bot {
    let chat = format!(
        r#"
[chat]
kind = "slack"

[chat.slack]
mode = "{mode}"
bot_token = "{bot_token}"
app_token = "{app_token}"
signing_secret = "{SECRET}"
api_url = "{api}"
approvers = ["S0LEADS"]

[chat.slack.channels]
default = "{INBOX}"
"#,
        bot_token = slack::BOT_TOKEN,
        app_token = slack::APP_TOKEN,
        api = fake.api_url(),
    );
    Bot::with_chat(
        &format!("listen = \"127.0.0.1:{port}\""),
        &chat,
        accounts,
        feed,
    )
}

/// A fake Slack and a bot on it in `mode`, fed one post that `<!channel>`s.
fn start(mode: &str) -> (FakeSlack, u16, Bot, Running) {
    let fake = fake();
    let port = free_port();
    let post = feed_line(
        "p1",
        "jane",
        "c1",
        "mention",
        "Where is my parcel? <!channel>",
    );
    let bot = bot(&fake, mode, port, &[post]);
    let running = started(&bot, port);
    (fake, port, bot, running)
}

fn started(bot: &Bot, port: u16) -> Running {
    let running = bot.spawn();
    let up = wait_until(WAIT, || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    assert!(up, "the bot's listener did not come up");
    running
}

/// How an event reaches the bot.
enum Transport<'a> {
    Events(String),
    Socket(&'a FakeSlack),
}

impl Transport<'_> {
    fn event(&self, event_id: &str, event: Value) {
        let envelope = slack::event_callback(event_id, event);
        match self {
            Transport::Events(base) => {
                let (status, _) = slack::post_signed(
                    &format!("{base}/slack/events"),
                    SECRET,
                    &envelope.to_string(),
                    "application/json",
                    None,
                    &[],
                );
                assert_eq!(status, 200);
            }
            Transport::Socket(fake) => {
                let id = fake.send_envelope("events_api", envelope);
                assert!(
                    fake.wait_ack(&id, WAIT).is_some(),
                    "envelope {id} not acked"
                );
            }
        }
    }

    fn interaction(&self, payload: Value) -> String {
        match self {
            Transport::Events(base) => {
                let (status, body) = slack::post_signed(
                    &format!("{base}/slack/interactivity"),
                    SECRET,
                    &slack::interactivity_form(&payload),
                    "application/x-www-form-urlencoded",
                    None,
                    &[],
                );
                assert_eq!(status, 200);
                body
            }
            Transport::Socket(fake) => {
                let id = fake.send_envelope("interactive", payload);
                let ack = fake.wait_ack(&id, WAIT).expect("interaction not acked");
                ack.get("payload").map(Value::to_string).unwrap_or_default()
            }
        }
    }

    fn slash(&self, fake: &FakeSlack, user: &str, text: &str, response: &str) {
        let url = fake.response_url(response);
        match self {
            Transport::Events(base) => {
                let (status, _) = slack::post_signed(
                    &format!("{base}/slack/commands"),
                    SECRET,
                    &slack::slash_command_form(user, INBOX, text, &url, "1.2.trigger"),
                    "application/x-www-form-urlencoded",
                    None,
                    &[],
                );
                assert_eq!(status, 200);
            }
            Transport::Socket(fake) => {
                let id = fake.send_envelope(
                    "slash_commands",
                    slack::slash_command(user, INBOX, text, &url, "1.2.trigger"),
                );
                assert!(fake.wait_ack(&id, WAIT).is_some());
            }
        }
    }
}

/// Waits until the calls since the last step include `want` (method, count)
/// and then checks they are exactly those: anything else the bot sent fails.
fn step(fake: &FakeSlack, what: &str, want: &[(&str, usize)]) -> Vec<Call> {
    let total: usize = want.iter().map(|(_, n)| n).sum();
    let mut calls = Vec::new();
    let done = wait_until(WAIT, || {
        calls.extend(fake.take_calls());
        calls.iter().filter(|c| !ignored(c)).count() >= total
    });
    // Anything sent late would be caught by the next step; give it a moment.
    std::thread::sleep(Duration::from_millis(300));
    calls.extend(fake.take_calls());
    let mut got: BTreeMap<&str, usize> = BTreeMap::new();
    for call in calls.iter().filter(|c| !ignored(c)) {
        *got.entry(call.method.as_str()).or_default() += 1;
    }
    let want: BTreeMap<&str, usize> = want.iter().copied().collect();
    assert!(
        done && got == want,
        "{what}: wanted {want:?}, got {got:?}:\n{calls:#?}"
    );
    calls.into_iter().filter(|c| !ignored(c)).collect()
}

/// Calls that carry no message: start-up, connections and user-group
/// membership lookups (cached).
fn ignored(call: &Call) -> bool {
    [
        "auth.test",
        "usergroups.users.list",
        "apps.connections.open",
    ]
    .contains(&call.method.as_str())
}

fn text_of(call: &Call) -> String {
    let mut all = call.body["text"].as_str().unwrap_or_default().to_owned();
    all.push_str(&call.body["blocks"].to_string());
    all
}

fn published(bot: &Bot) -> Vec<Value> {
    bot.journal("demo-published.jsonl")
}

/// The shared scenario: a post arrives, is worked from its thread, approved
/// by reaction and published once; refusals go only to the person.
fn scenario(fake: &FakeSlack, bot: &Bot, transport: &Transport<'_>) {
    let card = step(fake, "the post's card", &[("chat.postMessage", 1)]);
    assert_eq!(card[0].body["channel"], INBOX);
    assert!(card[0].body.get("thread_ts").is_none());
    let card_ts = fake.messages(INBOX)[0].ts.clone();
    let card_message = fake.message(INBOX, &card_ts).unwrap();
    for button in [
        "care.claim",
        "care.reply",
        "care.escalate",
        "care.offline",
        "care.close",
    ] {
        assert!(
            card_message.find_action(button).is_some(),
            "no {button} button"
        );
    }
    assert!(card_message.all_text().contains("Where is my parcel"));

    // !claim in the thread: the card shows the owner.
    transport.event(
        "Ev1",
        slack::thread_message(INBOX, &card_ts, &slack::now_ts(), MARIA, "!claim"),
    );
    let claimed = step(
        fake,
        "!claim",
        &[("chat.update", 1), ("chat.postMessage", 1)],
    );
    let update = claimed.iter().find(|c| c.method == "chat.update").unwrap();
    assert_eq!(update.body["ts"], card_ts.as_str());
    assert!(text_of(update).contains(&format!("<@{MARIA}>")));

    // A plain thread message is an internal note: nothing is sent anywhere.
    transport.event(
        "Ev2",
        slack::thread_message(
            INBOX,
            &card_ts,
            &slack::now_ts(),
            MARIA,
            "courier says <!channel> Friday",
        ),
    );
    step(fake, "a note", &[]);

    // !reply: the draft appears in the thread as its own message.
    transport.event(
        "Ev3",
        slack::thread_message(
            INBOX,
            &card_ts,
            &slack::now_ts(),
            MARIA,
            "!reply Sorry about that &amp; thanks for waiting",
        ),
    );
    let draft = step(fake, "!reply", &[("chat.postMessage", 1)]);
    assert_eq!(draft[0].body["thread_ts"], card_ts.as_str());
    assert!(text_of(&draft[0]).contains("Sorry about that &amp; thanks for waiting"));
    let draft_ts = fake
        .thread(INBOX, &card_ts)
        .last()
        .map(|m| m.ts.clone())
        .unwrap();

    // A retried event (same id) changes nothing.
    transport.event(
        "Ev3",
        slack::thread_message(
            INBOX,
            &card_ts,
            &slack::now_ts(),
            MARIA,
            "!reply Sorry about that &amp; thanks for waiting",
        ),
    );
    step(fake, "a redelivered event", &[]);

    // The author's ✅ publishes nothing; she alone is told why.
    transport.event(
        "Ev4",
        slack::reaction(true, MARIA, "white_check_mark", INBOX, &draft_ts),
    );
    let refused = step(fake, "self-approval", &[("chat.postEphemeral", 1)]);
    assert_eq!(refused[0].body["user"], MARIA);
    assert!(published(bot).is_empty());

    // Someone else's reaction on the card does nothing.
    transport.event("Ev5", slack::reaction(true, SAM, "tada", INBOX, &card_ts));
    step(fake, "an unrelated reaction", &[]);

    // The approver's ✅ (with a skin tone) publishes once.
    transport.event(
        "Ev6",
        slack::reaction(true, LEE, "heavy_check_mark::skin-tone-2", INBOX, &draft_ts),
    );
    let approved = step(
        fake,
        "approval",
        &[("chat.postMessage", 2), ("chat.update", 1)],
    );
    assert!(
        approved
            .iter()
            .all(|c| c.method != "chat.postMessage" || c.body["thread_ts"] == card_ts.as_str())
    );
    assert!(wait_until(WAIT, || published(bot).len() == 1));
    assert_eq!(
        published(bot)[0]["text"].as_str().unwrap(),
        "Sorry about that & thanks for waiting"
    );

    // A second draft, rejected: the author is told in the thread.
    transport.event(
        "Ev7",
        slack::thread_message(
            INBOX,
            &card_ts,
            &slack::now_ts(),
            MARIA,
            "!reply One more thing",
        ),
    );
    step(fake, "second draft", &[("chat.postMessage", 1)]);
    let second_ts = fake.thread(INBOX, &card_ts).last().unwrap().ts.clone();
    transport.event("Ev8", slack::reaction(true, LEE, "x", INBOX, &second_ts));
    let rejected = step(fake, "rejection", &[("chat.postMessage", 1)]);
    assert!(text_of(&rejected[0]).contains(&format!("<@{MARIA}>")));

    // A 429 on the next post is waited out; nothing is lost.
    fake.fail_next(
        "chat.postMessage",
        Fault::RateLimited {
            retry_after_secs: 1,
        },
    );
    transport.event(
        "Ev9",
        slack::thread_message(
            INBOX,
            &card_ts,
            &slack::now_ts(),
            MARIA,
            "!reply Third time lucky",
        ),
    );
    let retried = step(fake, "429 then the draft", &[("chat.postMessage", 2)]);
    assert!(retried[0].faulted && !retried[1].faulted, "{retried:#?}");

    // A button click by someone else: refused, told only to them.
    transport.interaction(fake.click(SAM, INBOX, &card_ts, "care.claim"));
    let refused = step(fake, "Sam's claim", &[("chat.postEphemeral", 1)]);
    assert_eq!(refused[0].body["user"], SAM);

    // Reply… opens a modal; its submission makes a draft.
    transport.interaction(fake.click(MARIA, INBOX, &card_ts, "care.reply"));
    step(fake, "the reply modal", &[("views.open", 1)]);
    let view = fake.views().last().unwrap().id.clone();
    let body = transport.interaction(fake.submit_view(
        &view,
        MARIA,
        // Slack submits the preselected option with the typed text.
        json!({
            "text": {"text": slack::text_input_value("Via the modal")},
            "kind": {"kind": slack::static_select_value("reply")},
        }),
    ));
    assert!(!body.contains("errors"), "{body}");
    // A blank submission keeps the modal open with the field's error.
    let body = transport.interaction(fake.submit_view(
        &view,
        MARIA,
        json!({"text": {"text": slack::text_input_value("  ")}, "kind": {"kind": slack::static_select_value("reply")}}),
    ));
    assert!(
        body.contains("errors") && body.contains("\"text\""),
        "{body}"
    );
    let modal_draft = step(fake, "the modal's draft", &[("chat.postMessage", 1)]);
    assert!(text_of(&modal_draft[0]).contains("Via the modal"));

    // /care status from outside the thread answers through response_url.
    transport.slash(fake, MARIA, "status 1", "status-1");
    let status = step(fake, "slash status", &[("response_url", 1)]);
    assert!(text_of(&status[0]).contains("#1"), "{status:#?}");
    assert_eq!(published(bot).len(), 1);
}

#[test]
fn events_api_end_to_end() {
    let (fake, port, bot, _running) = start("events");
    let base = format!("http://127.0.0.1:{port}");
    let auth = fake.wait_for("auth.test", 1, WAIT);
    assert_eq!(auth.len(), 1);

    // url_verification is answered with the challenge.
    let (status, body) = slack::post_signed(
        &format!("{base}/slack/events"),
        SECRET,
        &slack::url_verification("abc123").to_string(),
        "application/json",
        None,
        &[],
    );
    assert_eq!(status, 200);
    assert!(body.contains("abc123"));

    scenario(&fake, &bot, &Transport::Events(base.clone()));

    // Bad signatures and stale timestamps: 401, nothing changes.
    let claim = slack::event_callback(
        "Ev99",
        slack::thread_message(INBOX, "1.0", &slack::now_ts(), SAM, "!close"),
    )
    .to_string();
    let (status, _) = slack::post_signed(
        &format!("{base}/slack/events"),
        "wrong-secret",
        &claim,
        "application/json",
        None,
        &[],
    );
    assert_eq!(status, 401);
    let (status, _) = slack::post_signed(
        &format!("{base}/slack/events"),
        SECRET,
        &claim,
        "application/json",
        Some(slack::now_secs() - 600),
        &[],
    );
    assert_eq!(status, 401);
    for route in ["commands", "interactivity"] {
        let (status, _) = slack::post_signed(
            &format!("{base}/slack/{route}"),
            "wrong-secret",
            "payload=%7B%7D",
            "application/x-www-form-urlencoded",
            None,
            &[],
        );
        assert_eq!(status, 401, "{route}");
    }
    step(&fake, "refused requests", &[]);
    manifest_covers(&fake, &bot, false);
}

/// `carebridge manifest slack` for this config: the mode's settings, and a
/// scope for every Web API method the bot called during the scenario.
fn manifest_covers(fake: &FakeSlack, bot: &Bot, socket: bool) {
    let out = bot.cli(&["manifest", "slack"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let manifest: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(manifest["settings"]["socket_mode_enabled"], socket);
    let scopes: Vec<&str> = manifest["oauth_config"]["scopes"]["bot"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    let table = carebridge::commands::manifest::SLACK_METHOD_SCOPES;
    for call in fake.calls() {
        if call.method == "response_url" {
            continue;
        }
        let Some((_, scope)) = table.iter().find(|(m, _)| *m == call.method) else {
            panic!("{} is called but not in SLACK_METHOD_SCOPES", call.method);
        };
        if let Some(scope) = scope {
            assert!(scopes.contains(scope), "{} needs {scope}", call.method);
        }
    }
}

#[test]
fn socket_mode_end_to_end() {
    let (fake, _, bot, _running) = start("socket");
    fake.wait_socket_connected(WAIT);
    fake.wait_for("auth.test", 1, WAIT);
    let transport = Transport::Socket(&fake);
    scenario(&fake, &bot, &transport);

    // After a disconnect the bot reconnects and keeps working.
    let before = fake.socket_connections();
    fake.disconnect("refresh_requested");
    fake.wait_socket_connections(before + 1, WAIT);
    let card_ts = fake.messages(INBOX)[0].ts.clone();
    transport.event(
        "Ev20",
        slack::thread_message(INBOX, &card_ts, &slack::now_ts(), MARIA, "!tag parcel"),
    );
    // A tag is told in the thread and shown on the card.
    step(
        &fake,
        "after reconnecting",
        &[("chat.postMessage", 1), ("chat.update", 1)],
    );

    // Network loss (no disconnect message): reconnected all the same.
    let before = fake.socket_connections();
    fake.drop_connection();
    fake.wait_socket_connections(before + 1, WAIT);
    transport.event(
        "Ev21",
        slack::thread_message(INBOX, &card_ts, &slack::now_ts(), MARIA, "!tag courier"),
    );
    step(
        &fake,
        "after a dropped connection",
        &[("chat.postMessage", 1), ("chat.update", 1)],
    );
    manifest_covers(&fake, &bot, true);
}

/// The first real path: a customer mentions the brand on X, the case appears in Slack, an
/// agent drafts in the thread, an approver reacts, and the reply is posted on X once,
/// threaded under the customer's post.
#[test]
fn from_an_x_mention_to_an_approved_reply_on_x() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let fake_x = runtime.block_on(x::FakeX::start(x::FakeAuth::OAuth2 {
        access: "access-1".to_owned(),
        refresh: "refresh-1".to_owned(),
        client_id: "client".to_owned(),
        client_secret: "secret".to_owned(),
    }));
    let jane = fake_x.add_user("jane", "Jane Doe");
    let account = format!(
        r#"
[[accounts]]
id = "acme-x"
network = "x"
api_url = "{}"
poll_interval = "1s"
dms = false
auth = {{ kind = "oauth2", access_token = "access-1", refresh_token = "refresh-1", client_id = "client", client_secret = "secret" }}
"#,
        fake_x.url()
    );
    let fake = fake();
    let port = free_port();
    let bot = bot_with(&fake, "events", port, &account, &[]);
    let _running = started(&bot, port);
    let transport = Transport::Events(format!("http://127.0.0.1:{port}"));
    runtime.block_on(fake_x.wait_for("two mention polls", WAIT, |calls| {
        calls
            .iter()
            .filter(|c| c.path.ends_with("/mentions"))
            .count()
            >= 2
    }));

    let mention = fake_x.mention(&jane, "@acme my parcel is lost <!channel>");
    let card = step(&fake, "the case card", &[("chat.postMessage", 1)]);
    assert!(text_of(&card[0]).contains("my parcel is lost &lt;!channel&gt;"));
    let card_ts = fake.messages(INBOX)[0].ts.clone();

    transport.event(
        "Ex1",
        slack::thread_message(
            INBOX,
            &card_ts,
            &slack::now_ts(),
            MARIA,
            "!reply So sorry, Jane! Could you DM us the order number?",
        ),
    );
    step(&fake, "the draft", &[("chat.postMessage", 1)]);
    let draft_ts = fake
        .thread(INBOX, &card_ts)
        .last()
        .map(|m| m.ts.clone())
        .unwrap();
    transport.event(
        "Ex2",
        slack::reaction(true, LEE, "white_check_mark", INBOX, &draft_ts),
    );
    step(
        &fake,
        "approval and publication",
        &[("chat.postMessage", 2), ("chat.update", 1)],
    );
    let posted = fake_x.posted();
    assert_eq!(posted.len(), 1, "{posted:?}");
    assert_eq!(posted[0].in_reply_to.as_deref(), Some(mention.as_str()));
    assert_eq!(
        posted[0].text,
        "So sorry, Jane! Could you DM us the order number?"
    );
    // A redelivered reaction publishes nothing more.
    transport.event(
        "Ex2",
        slack::reaction(true, LEE, "white_check_mark", INBOX, &draft_ts),
    );
    step(&fake, "a redelivered approval", &[]);
    assert_eq!(fake_x.posted().len(), 1);
}

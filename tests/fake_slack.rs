//! Checks the fake Slack in `support/slack.rs` against the real client: the
//! slack-morphism Web API client and Socket Mode listener pointed at it, and
//! slack-morphism's own models and Events API middleware parsing what the
//! payload builders produce. If these pass, a bot built on slack-morphism sees
//! the fake as it would see Slack.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/background.rs"]
mod background;
#[path = "support/slack.rs"]
mod slack;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use slack::*;
use slack_morphism::errors::SlackClientError;
use slack_morphism::prelude::*;
use tokio::sync::mpsc;

const WAIT: Duration = Duration::from_secs(10);

fn client(api_url: &str) -> Arc<SlackHyperClient> {
    // Slack's own connector is https-only; the fake is plain http.
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_native_roots()
        .unwrap()
        .https_or_http()
        .enable_http1()
        .build();
    Arc::new(SlackClient::new(
        SlackClientHyperConnector::from(https).with_slack_api_url(api_url),
    ))
}

fn token(value: &str) -> SlackApiToken {
    SlackApiToken::new(value.into())
}

fn api_error(err: SlackClientError) -> String {
    match err {
        SlackClientError::ApiError(e) => e.code,
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn text(t: &str) -> SlackMessageContent {
    SlackMessageContent::new().with_text(t.into())
}

#[test]
fn sign_matches_slacks_published_vector() {
    let body = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    assert_eq!(
        sign(
            "8f742231b10e8888abcd99yyyzzz85a5",
            1531420618,
            body.as_bytes()
        ),
        "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    );
}

#[test]
fn form_encoding_round_trips() {
    let fields = [("text", "claim #12 & go/now: 100%"), ("emoji", "é ✓")];
    let body = form_body(&fields);
    assert_eq!(
        body,
        "text=claim+%2312+%26+go%2Fnow%3A+100%25&emoji=%C3%A9+%E2%9C%93"
    );
    let parsed = parse_form(&body);
    assert_eq!(parsed[0], ("text".into(), fields[0].1.into()));
    assert_eq!(parsed[1], ("emoji".into(), fields[1].1.into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_api_posts_threads_and_updates() {
    let fake = FakeSlack::start_default();
    let client = client(&fake.api_url());
    let session_token = token(BOT_TOKEN);
    let session = client.open_session(&session_token);

    let auth = session.auth_test().await.unwrap();
    assert_eq!(auth.user_id.0, BOT_USER_ID);
    assert_eq!(auth.team_id.0, TEAM_ID);
    assert_eq!(auth.bot_id.unwrap().0, BOT_ID);

    let parent = session
        .chat_post_message(&SlackApiChatPostMessageRequest::new(
            "C0INBOX".into(),
            text("New post from @ana"),
        ))
        .await
        .unwrap();
    let reply = session
        .chat_post_message(
            &SlackApiChatPostMessageRequest::new("C0INBOX".into(), text("Claimed by lee"))
                .with_thread_ts(parent.ts.clone()),
        )
        .await
        .unwrap();
    assert!(reply.ts.0 > parent.ts.0, "ts must increase");
    assert_eq!(reply.message.origin.thread_ts, Some(parent.ts.clone()));

    let thread = session
        .conversations_replies(&SlackApiConversationsRepliesRequest::new(
            "C0INBOX".into(),
            parent.ts.clone(),
        ))
        .await
        .unwrap();
    assert_eq!(thread.messages.len(), 2);
    assert_eq!(thread.messages[0].origin.ts, parent.ts);
    assert_eq!(thread.messages[0].parent.reply_count, Some(1));
    assert_eq!(thread.messages[1].origin.ts, reply.ts);
    assert_eq!(thread.messages[1].sender.bot_id.as_ref().unwrap().0, BOT_ID);

    session
        .chat_update(&SlackApiChatUpdateRequest::new(
            "C0INBOX".into(),
            text("New post from @ana (claimed)"),
            parent.ts.clone(),
        ))
        .await
        .unwrap();
    let stored = fake.thread("C0INBOX", &parent.ts.0);
    assert_eq!(stored.len(), 2);
    assert_eq!(
        stored[0].text.as_deref(),
        Some("New post from @ana (claimed)")
    );
    assert_eq!(stored[0].edits, 1);
    assert_eq!(stored[1].thread_ts.as_deref(), Some(parent.ts.0.as_str()));

    let missing = session
        .chat_update(&SlackApiChatUpdateRequest::new(
            "C0INBOX".into(),
            text("x"),
            "1.000001".into(),
        ))
        .await
        .unwrap_err();
    assert_eq!(api_error(missing), "message_not_found");
    let outside = session
        .chat_post_message(&SlackApiChatPostMessageRequest::new(
            "C0ELSEWHERE".into(),
            text("x"),
        ))
        .await
        .unwrap_err();
    assert_eq!(api_error(outside), "not_in_channel");

    // slack-morphism sends JSON bodies with the bearer token; GET methods
    // (auth.test, conversations.replies…) put their arguments in the query.
    let calls = fake.take_calls();
    let methods: Vec<&str> = calls.iter().map(|c| c.method.as_str()).collect();
    assert_eq!(
        methods,
        [
            "auth.test",
            "chat.postMessage",
            "chat.postMessage",
            "conversations.replies",
            "chat.update",
            "chat.update",
            "chat.postMessage"
        ]
    );
    assert!(calls.iter().all(|c| c.token.as_deref() == Some(BOT_TOKEN)));
    assert_eq!(calls[2].str("thread_ts").unwrap(), parent.ts.0);
    assert_eq!(calls[3].str("ts").unwrap(), parent.ts.0);
    assert_eq!(calls[6].error.as_deref(), Some("not_in_channel"));
    fake.assert_no_untaken_calls(&[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripted_faults_surface_as_slack_errors() {
    let fake = FakeSlack::start_default();
    // Without the trailing slash too.
    let client = client(fake.api_url().trim_end_matches('/'));
    let session_token = token(BOT_TOKEN);
    let session = client.open_session(&session_token);
    let post = SlackApiChatPostMessageRequest::new("C0INBOX".into(), text("hello"));

    fake.fail_next(
        "chat.postMessage",
        Fault::RateLimited {
            retry_after_secs: 7,
        },
    );
    fake.fail_next("chat.postMessage", Fault::Status(500));
    fake.fail_next(
        "chat.postMessage",
        Fault::MissingScope {
            needed: "chat:write.public".into(),
        },
    );
    fake.fail_next("chat.postMessage", Fault::Error("fatal_error".into()));

    match session.chat_post_message(&post).await.unwrap_err() {
        SlackClientError::RateLimitError(e) => {
            assert_eq!(e.retry_after, Some(Duration::from_secs(7)));
            assert_eq!(e.code.as_deref(), Some("ratelimited"));
        }
        other => panic!("expected a rate limit error, got {other:?}"),
    }
    match session.chat_post_message(&post).await.unwrap_err() {
        SlackClientError::HttpError(e) => assert_eq!(e.status_code.as_u16(), 500),
        other => panic!("expected an HTTP error, got {other:?}"),
    }
    assert_eq!(
        api_error(session.chat_post_message(&post).await.unwrap_err()),
        "missing_scope"
    );
    assert_eq!(
        api_error(session.chat_post_message(&post).await.unwrap_err()),
        "fatal_error"
    );
    assert!(fake.messages("C0INBOX").is_empty(), "faults change nothing");
    session.chat_post_message(&post).await.unwrap();
    assert_eq!(fake.messages("C0INBOX").len(), 1);

    let calls = fake.calls();
    assert_eq!(calls.iter().filter(|c| c.faulted).count(), 4);
    assert_eq!(fake.wait_for("chat.postMessage", 1, WAIT).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_checked() {
    let fake = FakeSlack::start_default();
    let client = client(&fake.api_url());
    let wrong_token = token("xoxb-wrong");
    let wrong = client.open_session(&wrong_token);
    assert_eq!(
        api_error(wrong.auth_test().await.unwrap_err()),
        "invalid_auth"
    );
    let app_token = token(APP_TOKEN);
    let app = client.open_session(&app_token);
    assert_eq!(
        api_error(app.auth_test().await.unwrap_err()),
        "not_allowed_token_type"
    );
    let bot_token = token(BOT_TOKEN);
    let bot = client.open_session(&bot_token);
    assert_eq!(
        api_error(
            bot.apps_connections_open(&SlackApiAppsConnectionOpenRequest::new())
                .await
                .unwrap_err()
        ),
        "not_allowed_token_type"
    );
    let opened = app
        .apps_connections_open(&SlackApiAppsConnectionOpenRequest::new())
        .await
        .unwrap();
    assert!(opened.url.0.as_str().starts_with("ws://127.0.0.1:"));

    let http = reqwest::Client::new();
    let resp: Value = http
        .post(format!("{}auth.test", fake.api_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(resp, json!({"ok": false, "error": "not_authed"}));
    let resp: Value = http
        .post(format!("{}chat.scheduleMessage", fake.api_url()))
        .bearer_auth(BOT_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(resp["error"], "unknown_method");
    assert_eq!(fake.calls().last().unwrap().method, "chat.scheduleMessage");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_groups_reactions_ephemerals_views_and_responses() {
    let fake = FakeSlack::start_default();
    let client = client(&fake.api_url());
    let session_token = token(BOT_TOKEN);
    let session = client.open_session(&session_token);

    let leads = session
        .usergroups_users_list(&SlackApiUserGroupsUsersListRequest::new("S0LEADS".into()))
        .await
        .unwrap();
    assert_eq!(leads.users, vec![SlackUserId::new("U0LEE".into())]);
    let none = session
        .usergroups_users_list(&SlackApiUserGroupsUsersListRequest::new("S0NOPE".into()))
        .await
        .unwrap_err();
    assert_eq!(api_error(none), "no_such_subteam");

    let maria = session
        .users_info(&SlackApiUsersInfoRequest::new("U0MARIA".into()))
        .await
        .unwrap();
    assert_eq!(
        maria.user.profile.unwrap().display_name.as_deref(),
        Some("maria")
    );
    let ghost = session
        .users_info(&SlackApiUsersInfoRequest::new("U0GHOST".into()))
        .await
        .unwrap_err();
    assert_eq!(api_error(ghost), "user_not_found");

    let posted = session
        .chat_post_message(&SlackApiChatPostMessageRequest::new(
            "C0ESC".into(),
            text("draft"),
        ))
        .await
        .unwrap();
    let react = SlackApiReactionsAddRequest::new("C0ESC".into(), "eyes".into(), posted.ts.clone());
    session.reactions_add(&react).await.unwrap();
    assert_eq!(
        api_error(session.reactions_add(&react).await.unwrap_err()),
        "already_reacted"
    );
    assert_eq!(
        fake.message("C0ESC", &posted.ts.0).unwrap().reactions,
        vec![Reaction {
            name: "eyes".into(),
            user: BOT_USER_ID.into()
        }]
    );

    session
        .chat_post_ephemeral(
            &SlackApiChatPostEphemeralRequest::new(
                "C0ESC".into(),
                "U0SAM".into(),
                text("only you"),
            )
            .with_thread_ts(posted.ts.clone()),
        )
        .await
        .unwrap();
    let ephemerals = fake.ephemerals();
    assert_eq!(ephemerals.len(), 1);
    assert_eq!(ephemerals[0].user, "U0SAM");
    assert_eq!(
        ephemerals[0].thread_ts.as_deref(),
        Some(posted.ts.0.as_str())
    );

    let modal = SlackView::Modal(
        SlackModalView::new("Reply".into(), vec![])
            .with_callback_id("reply_modal".into())
            .with_private_metadata("case-7".into()),
    );
    let opened = session
        .views_open(&SlackApiViewsOpenRequest::new("123.456.abc".into(), modal))
        .await
        .unwrap();
    let views = fake.views();
    assert_eq!(views.len(), 1);
    assert_eq!(opened.view.state_params.id.0, views[0].id);
    assert_eq!(views[0].trigger_id, "123.456.abc");
    assert_eq!(views[0].view["callback_id"], "reply_modal");

    let url = reqwest::Url::parse(&fake.response_url("cmd-1")).unwrap();
    client
        .post_webhook_message(
            &url,
            &SlackApiPostWebhookMessageRequest::new(text("done")).with_replace_original(true),
        )
        .await
        .unwrap();
    let responses = fake.responses();
    assert_eq!(responses.len(), 1);
    assert_eq!(responses[0].id, "cmd-1");
    assert_eq!(responses[0].body["text"], "done");
    assert_eq!(responses[0].body["replace_original"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_metadata_and_form_bodies() {
    let fake = FakeSlack::start_default();
    let client = client(&fake.api_url());
    let session_token = token(BOT_TOKEN);
    let session = client.open_session(&session_token);

    let metadata = SlackMessageMetadata::new("carebridge_case".into())
        .with_event_payload(HashMap::from([("case_id".to_string(), "42".to_string())]));
    let parent = session
        .chat_post_message(&SlackApiChatPostMessageRequest::new(
            "C0INBOX".into(),
            text("case 42").with_metadata(metadata.clone()),
        ))
        .await
        .unwrap();
    let human = fake.inject_message("C0INBOX", "U0LEE", Some(&parent.ts.0), "on it");

    let plain = session
        .conversations_history(
            &SlackApiConversationsHistoryRequest::new().with_channel("C0INBOX".into()),
        )
        .await
        .unwrap();
    assert_eq!(plain.messages.len(), 1, "replies are not in history");
    assert_eq!(plain.messages[0].content.metadata, None);
    assert_eq!(
        plain.messages[0].parent.latest_reply.as_ref().unwrap().0,
        human
    );
    let with_meta = session
        .conversations_history(
            &SlackApiConversationsHistoryRequest::new()
                .with_channel("C0INBOX".into())
                .with_include_all_metadata(true),
        )
        .await
        .unwrap();
    assert_eq!(
        with_meta.messages[0].content.metadata,
        Some(metadata.clone())
    );

    // slack-morphism's typed conversations.replies cannot ask for metadata
    // (its request has no include_all_metadata); the raw GET can.
    let typed = session
        .conversations_replies(&SlackApiConversationsRepliesRequest::new(
            "C0INBOX".into(),
            parent.ts.clone(),
        ))
        .await
        .unwrap();
    assert_eq!(typed.messages[0].content.metadata, None);
    let params = vec![
        ("channel", Some("C0INBOX".to_string())),
        ("ts", Some(parent.ts.0.clone())),
        ("include_all_metadata", Some("true".to_string())),
    ];
    let raw: SlackApiConversationsRepliesResponse = session
        .http_session_api
        .http_get("conversations.replies", &params, None)
        .await
        .unwrap();
    assert_eq!(raw.messages.len(), 2);
    assert_eq!(raw.messages[0].content.metadata, Some(metadata.clone()));
    assert_eq!(raw.messages[1].origin.ts.0, human);

    // Form bodies, as Slack's other SDKs send them: JSON fields arrive parsed.
    let http = reqwest::Client::new();
    let blocks = json!([{"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}]);
    let body = form_body(&[
        ("channel", "C0INBOX"),
        ("text", "hi"),
        ("thread_ts", &parent.ts.0),
        ("blocks", &blocks.to_string()),
    ]);
    let resp: Value = http
        .post(format!("{}chat.postMessage", fake.api_url()))
        .bearer_auth(BOT_TOKEN)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(resp["ok"], true, "{resp}");
    let call = fake.calls().last().unwrap().clone();
    assert_eq!(call.body["blocks"], blocks);
    let thread = fake.thread("C0INBOX", &parent.ts.0);
    assert_eq!(thread.len(), 3);
    assert_eq!(thread[2].blocks_text(), "*hi*");

    for bad in [json!({"type": "section"}), json!([{"text": "no type"}])] {
        let resp: Value = http
            .post(format!("{}chat.postMessage", fake.api_url()))
            .bearer_auth(BOT_TOKEN)
            .json(&json!({"channel": "C0INBOX", "text": "x", "blocks": bad}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(resp["error"], "invalid_blocks");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn click_and_submit_build_payloads_from_the_stored_world() {
    let fake = FakeSlack::start_default();
    let http = reqwest::Client::new();
    let blocks = json!([
        {"type": "section", "block_id": "case", "text": {"type": "mrkdwn", "text": "case 9"}},
        {"type": "actions", "block_id": "case_actions", "elements": [
            {"type": "button", "action_id": "claim", "value": "case-9", "text": {"type": "plain_text", "text": "Claim"}}
        ]}
    ]);
    let resp: Value = http
        .post(format!("{}chat.postMessage", fake.api_url()))
        .bearer_auth(BOT_TOKEN)
        .json(&json!({"channel": "C0INBOX", "text": "case 9", "blocks": blocks}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ts = resp["ts"].as_str().unwrap();

    let payload = fake.click("U0LEE", "C0INBOX", ts, "claim");
    let SlackInteractionEvent::BlockActions(event) = serde_json::from_value(payload).unwrap()
    else {
        panic!("not block_actions");
    };
    let action = &event.actions.unwrap()[0];
    assert_eq!(action.value.as_deref(), Some("case-9"));
    assert_eq!(action.block_id.as_ref().unwrap().0, "case_actions");
    assert_eq!(event.user.unwrap().id.0, "U0LEE");
    assert!(event.message.unwrap().content.blocks.is_some());

    let resp: Value = http
        .post(format!("{}views.open", fake.api_url()))
        .bearer_auth(BOT_TOKEN)
        .json(&json!({"trigger_id": "1.2.3", "view": {
            "type": "modal", "callback_id": "reply", "private_metadata": "case-9",
            "title": {"type": "plain_text", "text": "Reply"}, "blocks": []}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let view_id = resp["view"]["id"].as_str().unwrap();
    let payload = fake.submit_view(
        view_id,
        "U0LEE",
        json!({"reply": {"reply_text": text_input_value("Thanks!")}}),
    );
    let SlackInteractionEvent::ViewSubmission(event) = serde_json::from_value(payload).unwrap()
    else {
        panic!("not view_submission");
    };
    assert_eq!(event.view.state_params.id.0, view_id);
    let SlackView::Modal(modal) = event.view.view else {
        panic!("not a modal");
    };
    assert_eq!(modal.callback_id.unwrap().0, "reply");
    assert_eq!(modal.private_metadata.as_deref(), Some("case-9"));
}

#[test]
fn builders_deserialize_with_slack_morphism_models() {
    let push = |event: Value| -> SlackEventCallbackBody {
        match serde_json::from_value::<SlackPushEvent>(event_callback("Ev1", event)).unwrap() {
            SlackPushEvent::EventCallback(cb) => {
                assert_eq!(cb.event_id.0, "Ev1");
                assert_eq!(cb.team_id.0, TEAM_ID);
                cb.event
            }
            other => panic!("not an event callback: {other:?}"),
        }
    };

    let SlackEventCallbackBody::Message(m) = push(thread_message(
        "C0INBOX", "1.000100", "1.000200", "U0LEE", "!claim",
    )) else {
        panic!("thread message not parsed as a message");
    };
    assert_eq!(m.origin.thread_ts.unwrap().0, "1.000100");
    assert_eq!(m.sender.user.unwrap().0, "U0LEE");
    assert_eq!(m.content.unwrap().text.as_deref(), Some("!claim"));

    let SlackEventCallbackBody::Message(m) = push(channel_message("C0INBOX", "1.1", "U0SAM", "hi"))
    else {
        panic!("channel message not parsed as a message");
    };
    assert_eq!(m.origin.thread_ts, None);

    let SlackEventCallbackBody::Message(m) = push(bot_message("C0INBOX", None, "1.2", BOT_ID, "x"))
    else {
        panic!("bot message not parsed as a message");
    };
    assert_eq!(m.sender.bot_id.unwrap().0, BOT_ID);
    assert_eq!(m.sender.user.unwrap().0, BOT_USER_ID);

    let SlackEventCallbackBody::Message(m) = push(legacy_bot_message("C0INBOX", "1.3", "B0X", "x"))
    else {
        panic!("legacy bot message not parsed as a message");
    };
    assert_eq!(m.subtype, Some(SlackMessageEventType::BotMessage));

    let SlackEventCallbackBody::ReactionAdded(r) = push(reaction(
        true,
        "U0LEE",
        "white_check_mark",
        "C0INBOX",
        "1.4",
    )) else {
        panic!("reaction not parsed");
    };
    assert_eq!(r.reaction.0, "white_check_mark");
    let SlackReactionsItem::Message(item) = r.item else {
        panic!("reaction item not a message");
    };
    assert_eq!(item.origin.ts.0, "1.4");
    assert_eq!(item.origin.channel.unwrap().0, "C0INBOX");
    assert!(matches!(
        push(reaction(false, "U0LEE", "x", "C0INBOX", "1.4")),
        SlackEventCallbackBody::ReactionRemoved(_)
    ));

    assert!(matches!(
        serde_json::from_value::<SlackPushEvent>(url_verification("abc")).unwrap(),
        SlackPushEvent::UrlVerification(v) if v.challenge == "abc"
    ));

    // Socket Mode sends the command as JSON; HTTP as a form (checked below
    // through slack-morphism's own extractor).
    let cmd: SlackCommandEvent = serde_json::from_value(slash_command(
        "U0LEE",
        "C0INBOX",
        "claim 12",
        "https://hooks.slack.com/commands/T0TEAM/1/x",
        "1.2.3",
    ))
    .unwrap();
    assert_eq!(cmd.command.0, "/care");
    assert_eq!(cmd.text.as_deref(), Some("claim 12"));

    let SlackInteractionEvent::BlockActions(ba) = serde_json::from_value(block_actions(
        "U0LEE",
        "C0INBOX",
        "1.5",
        Some("1.0"),
        "claim",
        "case-12",
        "1.2.3",
        "https://hooks.slack.com/actions/x",
    ))
    .unwrap() else {
        panic!("not block_actions");
    };
    let SlackInteractionActionContainer::Message(container) = &ba.container else {
        panic!("container not a message");
    };
    assert_eq!(container.message_ts.0, "1.5");
    assert_eq!(container.channel_id.as_ref().unwrap().0, "C0INBOX");
    // slack-morphism does not model container.thread_ts; the message has it.
    assert_eq!(ba.message.unwrap().origin.thread_ts.unwrap().0, "1.0");
    assert_eq!(ba.actions.unwrap()[0].value.as_deref(), Some("case-12"));

    let SlackInteractionEvent::ViewSubmission(vs) = serde_json::from_value(view_submission(
        "U0LEE",
        "reply",
        "case-12",
        json!({
            "text_block": {"text": text_input_value("hello")},
            "tone_block": {"tone": static_select_value("formal")},
        }),
    ))
    .unwrap() else {
        panic!("not view_submission");
    };
    let values = vs.view.state_params.state.unwrap().values;
    let text_value = &values[&"text_block".into()][&"text".into()];
    assert_eq!(text_value.value.as_deref(), Some("hello"));
    let tone = &values[&"tone_block".into()][&"tone".into()];
    assert_eq!(tone.selected_option.as_ref().unwrap().value, "formal");
}

// --- Events API over HTTP, through slack-morphism's own middleware -------

#[derive(Debug)]
enum Inbound {
    Push(Box<SlackPushEvent>),
    Command(Box<SlackCommandEvent>),
    Interaction(Box<SlackInteractionEvent>),
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_requests_pass_slack_morphisms_verifier() {
    use axum::Extension;
    use axum::routing::post;

    let secret = "test-signing-secret";
    let env = Arc::new(SlackClientEventsListenerEnvironment::new(client(
        "http://127.0.0.1:9/api",
    )));
    let listener = SlackEventsAxumListener::new(env);
    let signing = SlackSigningSecret::new(secret.into());
    let (tx, mut rx) = mpsc::unbounded_channel::<Inbound>();
    let (t1, t2, t3) = (tx.clone(), tx.clone(), tx);
    let app = axum::Router::new()
        .route(
            "/push",
            post(move |Extension(ev): Extension<SlackPushEvent>| async move {
                t1.send(Inbound::Push(Box::new(ev))).unwrap();
            })
            .layer(
                listener
                    .events_layer(&signing)
                    .with_event_extractor(SlackEventsExtractors::push_event()),
            ),
        )
        .route(
            "/command",
            post(
                move |Extension(ev): Extension<SlackCommandEvent>| async move {
                    t2.send(Inbound::Command(Box::new(ev))).unwrap();
                },
            )
            .layer(
                listener
                    .events_layer(&signing)
                    .with_event_extractor(SlackEventsExtractors::command_event()),
            ),
        )
        .route(
            "/interaction",
            post(
                move |Extension(ev): Extension<SlackInteractionEvent>| async move {
                    t3.send(Inbound::Interaction(Box::new(ev))).unwrap();
                },
            )
            .layer(
                listener
                    .events_layer(&signing)
                    .with_event_extractor(SlackEventsExtractors::interaction_event()),
            ),
        );
    let server = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", server.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(server, app).await });

    let json_body = event_callback(
        "Ev9",
        thread_message("C0INBOX", "1.0", "1.1", "U0LEE", "hi"),
    )
    .to_string();
    let (status, _) = post_signed(
        &format!("{base}/push"),
        secret,
        &json_body,
        "application/json",
        None,
        &[
            ("X-Slack-Retry-Num", "1"),
            ("X-Slack-Retry-Reason", "http_timeout"),
        ],
    );
    assert_eq!(status, 200);
    let Inbound::Push(push) = rx.recv().await.unwrap() else {
        panic!("expected a push event");
    };
    assert!(matches!(*push, SlackPushEvent::EventCallback(cb) if cb.event_id.0 == "Ev9"));

    let form = slash_command_form(
        "U0LEE",
        "C0INBOX",
        "claim 12 & more",
        &format!("{base}/response/x"),
        "1.2.3",
    );
    let (status, _) = post_signed(
        &format!("{base}/command"),
        secret,
        &form,
        "application/x-www-form-urlencoded",
        None,
        &[],
    );
    assert_eq!(status, 200);
    let Inbound::Command(cmd) = rx.recv().await.unwrap() else {
        panic!("expected a command");
    };
    assert_eq!(cmd.text.as_deref(), Some("claim 12 & more"));
    assert_eq!(cmd.user_id.0, "U0LEE");
    assert_eq!(cmd.trigger_id.0, "1.2.3");

    let form = interactivity_form(&block_actions(
        "U0SAM",
        "C0INBOX",
        "1.5",
        None,
        "claim",
        "case&12=ok",
        "1.2.3",
        "https://hooks.slack.com/actions/x",
    ));
    let (status, _) = post_signed(
        &format!("{base}/interaction"),
        secret,
        &form,
        "application/x-www-form-urlencoded",
        None,
        &[],
    );
    assert_eq!(status, 200);
    let Inbound::Interaction(interaction) = rx.recv().await.unwrap() else {
        panic!("expected an interaction");
    };
    let SlackInteractionEvent::BlockActions(ba) = *interaction else {
        panic!("expected block actions");
    };
    assert_eq!(ba.actions.unwrap()[0].value.as_deref(), Some("case&12=ok"));

    // A wrong secret or a stale timestamp is refused.
    let (status, _) = post_signed(
        &format!("{base}/push"),
        "other-secret",
        &json_body,
        "application/json",
        None,
        &[],
    );
    assert_ne!(status, 200);
    let (status, _) = post_signed(
        &format!("{base}/push"),
        secret,
        &json_body,
        "application/json",
        Some(now_secs() - 600),
        &[],
    );
    assert_ne!(status, 200);
    assert!(rx.try_recv().is_err());
}

// --- Socket Mode, through slack-morphism's listener ------------------------

#[derive(Clone)]
struct Seen(mpsc::UnboundedSender<String>);

async fn seen(states: &SlackClientEventsUserState) -> Seen {
    states
        .read()
        .await
        .get_user_state::<Seen>()
        .unwrap()
        .clone()
}

async fn on_push(
    event: SlackPushEventCallback,
    _client: Arc<SlackHyperClient>,
    states: SlackClientEventsUserState,
) -> UserCallbackResult<()> {
    seen(&states).await.0.send(event.event_id.0).unwrap();
    Ok(())
}

async fn on_command(
    event: SlackCommandEvent,
    _client: Arc<SlackHyperClient>,
    states: SlackClientEventsUserState,
) -> UserCallbackResult<SlackCommandEventResponse> {
    let text = event.text.unwrap_or_default();
    seen(&states)
        .await
        .0
        .send(format!("command {text}"))
        .unwrap();
    Ok(SlackCommandEventResponse::new(
        SlackMessageContent::new().with_text(format!("ok: {text}")),
    ))
}

async fn on_interaction(
    event: SlackInteractionEvent,
    _client: Arc<SlackHyperClient>,
    states: SlackClientEventsUserState,
) -> UserCallbackResult<()> {
    let kind = match event {
        SlackInteractionEvent::BlockActions(_) => "block_actions",
        SlackInteractionEvent::ViewSubmission(_) => "view_submission",
        _ => "other",
    };
    seen(&states).await.0.send(kind.to_string()).unwrap();
    Ok(())
}

/// What the listener reported through its error handler (a plain `fn`, so
/// it cannot capture; only the Socket Mode test installs it).
static LISTENER_ERRORS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

fn record_error(
    err: Box<dyn std::error::Error + Send + Sync>,
    _client: Arc<SlackHyperClient>,
    _states: SlackClientEventsUserState,
) -> HttpStatusCode {
    LISTENER_ERRORS.lock().unwrap().push(err.to_string());
    HttpStatusCode::BAD_REQUEST
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_mode_delivers_acks_and_reconnects() {
    let fake = FakeSlack::start_default();
    let client = client(&fake.api_url());
    let (tx, mut rx) = mpsc::unbounded_channel();
    let env = Arc::new(
        SlackClientEventsListenerEnvironment::new(client.clone())
            .with_error_handler(record_error)
            .with_user_state(Seen(tx)),
    );
    let callbacks = SlackSocketModeListenerCallbacks::new()
        .with_push_events(on_push)
        .with_command_events(on_command)
        .with_interaction_events(on_interaction);
    // Defaults would stagger the second connection by 5 s and wait 30 s
    // before retrying a failed connect.
    let config = SlackClientSocketModeConfig::new()
        .with_max_connections_count(2)
        .with_initial_backoff_in_seconds(0)
        .with_reconnect_timeout_in_seconds(1)
        .with_ping_interval_in_seconds(1)
        .with_ping_failure_threshold_times(1);
    let listener = SlackClientSocketModeListener::new(&config, env, callbacks);
    listener.listen_for(&token(APP_TOKEN)).await.unwrap();
    listener.start().await;

    // The fake's waits block; block_in_place keeps the listener's tasks running.
    tokio::task::block_in_place(|| fake.wait_socket_connections(2, WAIT));
    assert_eq!(fake.live_socket_connections(), 2);

    let deliver = |event_id: &str| {
        let envelope = fake.send_envelope(
            "events_api",
            event_callback(event_id, channel_message("C0INBOX", "1.1", "U0LEE", "hi")),
        );
        tokio::task::block_in_place(|| fake.wait_ack(&envelope, WAIT))
            .unwrap_or_else(|| panic!("no ack for {event_id}"))
    };
    let ack = deliver("Ev1");
    assert_eq!(ack.as_object().unwrap().len(), 1, "a bare ack: {ack}");
    assert_eq!(rx.recv().await.unwrap(), "Ev1");

    let envelope = fake.send_envelope(
        "slash_commands",
        slash_command(
            "U0LEE",
            "C0INBOX",
            "claim 3",
            &fake.response_url("c"),
            "1.2",
        ),
    );
    let ack = blocking_ack(&fake, &envelope);
    assert_eq!(ack["payload"]["text"], "ok: claim 3");
    assert_eq!(rx.recv().await.unwrap(), "command claim 3");

    let envelope = fake.send_envelope(
        "interactive",
        block_actions(
            "U0LEE",
            "C0INBOX",
            "1.1",
            None,
            "claim",
            "v",
            "1.2",
            "https://x.test/r",
        ),
    );
    blocking_ack(&fake, &envelope);
    assert_eq!(rx.recv().await.unwrap(), "block_actions");

    // Slack rotates a connection: the client must fetch a new URL.
    fake.disconnect("refresh_requested");
    tokio::task::block_in_place(|| fake.wait_socket_connections(3, WAIT));
    let opens = tokio::task::block_in_place(|| fake.wait_for("apps.connections.open", 3, WAIT));
    assert_eq!(opens.len(), 3);
    deliver("Ev2");
    assert_eq!(rx.recv().await.unwrap(), "Ev2");

    // hello, the envelopes and disconnect all parsed: slack-morphism reports
    // frames it cannot parse through the error handler.
    assert_eq!(*LISTENER_ERRORS.lock().unwrap(), Vec::<String>::new());

    // Network loss: no disconnect message, no close frame.
    fake.drop_connection();
    tokio::task::block_in_place(|| fake.wait_socket_connections(4, WAIT));
    deliver("Ev3");
    assert_eq!(rx.recv().await.unwrap(), "Ev3");

    // The client pings every second and reconnects when it has seen no pong
    // for 2 s: still the same connections a while later means pongs arrive.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(fake.socket_connections(), 4);

    let opens = tokio::task::block_in_place(|| fake.wait_for("apps.connections.open", 4, WAIT));
    assert!(opens.iter().all(|c| c.token.as_deref() == Some(APP_TOKEN)));
    listener.shutdown().await;
}

fn blocking_ack(fake: &FakeSlack, envelope: &str) -> Value {
    tokio::task::block_in_place(|| fake.wait_ack(envelope, WAIT))
        .unwrap_or_else(|| panic!("no ack for {envelope}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_urls_are_single_use_and_say_hello() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message as Ws;

    let fake = FakeSlack::start_default();
    let resp: Value = reqwest::Client::new()
        .post(format!("{}apps.connections.open", fake.api_url()))
        .bearer_auth(APP_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = resp["url"].as_str().unwrap().to_string();
    assert!(url.contains("/link/?ticket="), "{url}");

    let (mut ws, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    let Some(Ok(Ws::Text(hello))) = ws.next().await else {
        panic!("no hello");
    };
    let hello: Value = serde_json::from_str(hello.as_str()).unwrap();
    assert_eq!(hello["type"], "hello");
    assert_eq!(hello["connection_info"]["app_id"], APP_ID);
    assert!(hello["debug_info"]["host"].is_string());

    ws.send(Ws::Ping(b"hi".to_vec().into())).await.unwrap();
    let Some(Ok(Ws::Pong(body))) = ws.next().await else {
        panic!("no pong");
    };
    assert_eq!(body.as_ref(), b"hi");

    assert!(
        tokio_tungstenite::connect_async(&url).await.is_err(),
        "a ticket opens one connection only"
    );

    let frame = tokio::task::block_in_place(|| {
        fake.disconnect("warning");
        fake.socket_frames()
    });
    assert!(frame.is_empty());
    let Some(Ok(Ws::Text(disconnect))) = ws.next().await else {
        panic!("no disconnect");
    };
    let disconnect: Value = serde_json::from_str(disconnect.as_str()).unwrap();
    assert_eq!(disconnect["type"], "disconnect");
    assert_eq!(disconnect["reason"], "warning");
    assert!(matches!(ws.next().await, Some(Ok(Ws::Close(_)))));
}

//! Checks the fake Meta Graph API in `support/meta.rs` with a plain reqwest
//! client, the way the bot's Facebook/Instagram connectors talk to it:
//! tokens and versions, comment replies on both networks, the Send API's
//! windows and private-reply rules, conversation lookups, moderation,
//! scripted faults; and the webhook side: signatures (checked here with an
//! HMAC of their own), payload shapes against the captures in
//! `platforms.md` §4, and delivery to a small local receiver.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/background.rs"]
mod background;
#[path = "support/meta.rs"]
mod meta;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode};
use background::Background;
use hmac::{Hmac, KeyInit, Mac};
use meta::*;
use reqwest::{Client, Method, RequestBuilder};
use serde_json::{Value, json};
use sha1::Sha1;
use sha2::Sha256;

/// A Facebook comment on a post of the Page (`<post>_<comment>`).
const FB_COMMENT: &str = "122131676912594941_1213590066982748";
const IG_COMMENT: &str = "17858893269000001";
const IG_MEDIA: &str = "17895695668004550";
const DAY_SECS: i64 = 24 * 3600;

fn http(timeout: Duration) -> Client {
    Client::builder().timeout(timeout).build().unwrap()
}

/// `{api_url}v21.0/{path}`.
fn url(fake: &FakeGraph, path: &str) -> String {
    format!("{}{VERSION}/{path}", fake.api_url())
}

/// A request with `token` as a Bearer header.
fn graph(fake: &FakeGraph, method: Method, path: &str, token: &str) -> RequestBuilder {
    http(Duration::from_secs(5))
        .request(method, url(fake, path))
        .bearer_auth(token)
}

async fn send(req: RequestBuilder) -> (u16, reqwest::header::HeaderMap, Value) {
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.json::<Value>().await.unwrap();
    (status, headers, body)
}

/// Status and body only.
async fn call(req: RequestBuilder) -> (u16, Value) {
    let (status, _, body) = send(req).await;
    (status, body)
}

/// (code, error_subcode) of a Graph error body.
fn code(body: &Value) -> (u64, Option<u64>) {
    let error = &body["error"];
    assert!(error.is_object(), "not a Graph error: {body}");
    (
        error["code"].as_u64().unwrap(),
        error["error_subcode"].as_u64(),
    )
}

fn header_json(headers: &reqwest::header::HeaderMap, name: &str) -> Value {
    let raw = headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"));
    serde_json::from_str(raw.to_str().unwrap()).unwrap()
}

/// A Send API body to a PSID.
fn dm(psid: &str, text: &str, messaging_type: &str, tag: Option<&str>) -> Value {
    let mut body = json!({
        "recipient": {"id": psid},
        "messaging_type": messaging_type,
        "message": {"text": text},
    });
    if let Some(tag) = tag {
        body["tag"] = json!(tag);
    }
    body
}

async fn send_dm(fake: &FakeGraph, account: &str, token: &str, body: Value) -> (u16, Value) {
    call(graph(fake, Method::POST, &format!("{account}/messages"), token).json(&body)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_checked_and_me_names_the_account() {
    let fake = FakeGraph::start_default();

    let (status, headers, body) = send(http(Duration::from_secs(5)).get(url(&fake, "me"))).await;
    assert_eq!(status, 400);
    assert_eq!(code(&body), (190, None));
    assert_eq!(body["error"]["type"], "OAuthException");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("Error validating access token"),
        "{message}"
    );
    assert!(
        body["error"]["fbtrace_id"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    // Errors are JSON with the usage header like every answer.
    assert_eq!(headers["content-type"], "application/json");
    assert!(headers.contains_key("x-app-usage"));

    let (status, body) = call(graph(&fake, Method::GET, "me", "not-a-token")).await;
    assert_eq!((status, code(&body)), (400, (190, None)));

    let (status, headers, body) = send(graph(&fake, Method::GET, "me", PAGE_TOKEN)).await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({"id": PAGE_ID, "name": PAGE_NAME}));
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(headers["facebook-api-version"], VERSION);
    let usage = header_json(&headers, "x-app-usage");
    assert!(usage["call_count"].as_u64().unwrap() < 100, "{usage}");
    assert!(usage["total_time"].is_u64() && usage["total_cputime"].is_u64());
    let buc = header_json(&headers, "x-business-use-case-usage");
    assert_eq!(buc[PAGE_ID][0]["type"], "pages");
    assert_eq!(buc[PAGE_ID][0]["estimated_time_to_regain_access"], 0);

    // The token may also come as the access_token parameter.
    let (status, body) = call(
        http(Duration::from_secs(5))
            .get(url(&fake, "me"))
            .query(&[("access_token", IG_TOKEN)]),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({"id": IG_ID, "username": IG_USERNAME}));

    fake.revoke_token(PAGE_TOKEN);
    let (status, body) = call(graph(&fake, Method::GET, "me", PAGE_TOKEN)).await;
    assert_eq!((status, code(&body)), (400, (190, Some(460))));
    // Other tokens still work.
    assert_eq!(call(graph(&fake, Method::GET, "me", IG_TOKEN)).await.0, 200);

    let calls = fake.take_calls();
    let tokens: Vec<Option<&str>> = calls.iter().map(|c| c.token.as_deref()).collect();
    assert_eq!(
        tokens,
        [
            None,
            Some("not-a-token"),
            Some(PAGE_TOKEN),
            Some(IG_TOKEN),
            Some(PAGE_TOKEN),
            Some(IG_TOKEN)
        ]
    );
    let statuses: Vec<u16> = calls.iter().map(|c| c.status).collect();
    assert_eq!(statuses, [400, 400, 200, 200, 400, 200]);
    assert!(calls.iter().all(|c| c.is("get", "/me") && c.path == "/me"));
    assert_eq!(calls[3].query, json!({"access_token": IG_TOKEN}));
    assert!(fake.take_calls().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_versions_and_unknown_paths_are_refused() {
    let fake = FakeGraph::start_default();
    let client = http(Duration::from_secs(5));

    let old = format!("{}v20.0/me", fake.api_url());
    let (status, body) = call(client.get(old).bearer_auth(PAGE_TOKEN)).await;
    assert_eq!((status, code(&body)), (400, (2635, None)));
    assert!(body["error"]["message"].as_str().unwrap().contains(VERSION));

    let unversioned = format!("{}me", fake.api_url());
    let (status, body) = call(client.get(unversioned).bearer_auth(PAGE_TOKEN)).await;
    assert_eq!((status, code(&body)), (400, (2635, None)));

    let (status, body) = call(graph(
        &fake,
        Method::GET,
        &format!("{PAGE_ID}/feed"),
        PAGE_TOKEN,
    ))
    .await;
    assert_eq!((status, code(&body)), (400, (100, Some(33))));
    assert_eq!(body["error"]["type"], "GraphMethodException");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("Unsupported get request."), "{message}");

    let (status, body) = call(graph(&fake, Method::POST, "a/b/c", PAGE_TOKEN)).await;
    assert_eq!((status, code(&body)), (400, (100, Some(33))));

    let calls = fake.take_calls();
    let routes: Vec<&str> = calls.iter().map(|c| c.route.as_str()).collect();
    let feed = format!("/{PAGE_ID}/feed");
    assert_eq!(routes, ["/me", "/me", feed.as_str(), "/a/b/c"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn facebook_replies_are_stored_and_listed_in_either_order() {
    let fake = FakeGraph::start_default();
    fake.customer_commented(PAGE_ID, FB_COMMENT, "5551234", now_secs() - 60);
    let edge = format!("{FB_COMMENT}/comments");

    // JSON, then a form body carrying the token, then the query string.
    let (status, first) = call(
        graph(&fake, Method::POST, &edge, PAGE_TOKEN).json(&json!({"message": "First reply"})),
    )
    .await;
    assert_eq!(status, 200, "{first}");
    let first = first["id"].as_str().unwrap().to_string();
    assert!(first.starts_with("122131676912594941_"), "{first}");
    assert_ne!(first, FB_COMMENT);
    let (status, _) = call(
        http(Duration::from_secs(5))
            .post(url(&fake, &edge))
            .form(&[("message", "Second reply"), ("access_token", PAGE_TOKEN)]),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) =
        call(graph(&fake, Method::POST, &edge, PAGE_TOKEN).query(&[("message", "Third reply")]))
            .await;
    assert_eq!(status, 200);
    let calls = fake.take_calls();
    assert_eq!(calls[1].body["message"], "Second reply");
    assert_eq!(calls[1].token.as_deref(), Some(PAGE_TOKEN));
    assert!(calls.iter().all(|c| c.is("POST", "/{comment}/comments")));

    let replies = fake.comment_replies(FB_COMMENT);
    let texts: Vec<&str> = replies.iter().map(|r| r.message.as_str()).collect();
    assert_eq!(texts, ["First reply", "Second reply", "Third reply"]);
    assert!(replies.iter().all(|r| r.from == PAGE_ID));
    assert_eq!(replies[0].id, first);

    let (status, body) = call(graph(&fake, Method::GET, &edge, PAGE_TOKEN)).await;
    assert_eq!(status, 200);
    let data = body["data"].as_array().unwrap();
    assert_eq!(data.len(), 3);
    assert_eq!(data[0]["id"], first.as_str());
    assert_eq!(data[0]["message"], "First reply");
    assert_eq!(data[0]["from"], json!({"id": PAGE_ID, "name": PAGE_NAME}));
    let created = data[0]["created_time"].as_str().unwrap();
    assert!(
        created.len() == 24 && created.ends_with("+0000"),
        "{created}"
    );

    // Newest first, two at a time, through the cursor.
    let query = [("order", "reverse_chronological"), ("limit", "2")];
    let (_, body) = call(graph(&fake, Method::GET, &edge, PAGE_TOKEN).query(&query)).await;
    let texts: Vec<&str> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["message"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["Third reply", "Second reply"]);
    assert!(body["paging"]["next"].as_str().unwrap().contains("after="));
    let after = body["paging"]["cursors"]["after"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, body) = call(
        graph(&fake, Method::GET, &edge, PAGE_TOKEN)
            .query(&query)
            .query(&[("after", &after)]),
    )
    .await;
    assert_eq!(body["data"][0]["message"], "First reply");
    assert_eq!(body["data"].as_array().unwrap().len(), 1);
    assert!(body["paging"].get("next").is_none());

    // Only the Page's token may touch the Page's comments.
    let (status, body) = call(graph(&fake, Method::GET, &edge, IG_TOKEN)).await;
    assert_eq!((status, code(&body)), (400, (100, Some(33))));
    let (_, body) = call(
        graph(&fake, Method::POST, "999_999/comments", PAGE_TOKEN).json(&json!({"message": "x"})),
    )
    .await;
    assert_eq!(code(&body), (100, Some(33)));
    // Instagram's edge does not exist on a Facebook comment.
    let (_, body) = call(graph(
        &fake,
        Method::GET,
        &format!("{FB_COMMENT}/replies"),
        PAGE_TOKEN,
    ))
    .await;
    assert_eq!(code(&body), (100, None));
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("(replies)")
    );
    let (_, body) = call(graph(&fake, Method::POST, &edge, PAGE_TOKEN).json(&json!({}))).await;
    assert_eq!(code(&body), (100, None));
    assert_eq!(fake.comment_replies(FB_COMMENT).len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instagram_replies_use_text_and_username() {
    let fake = FakeGraph::start_default();
    let change = fake.ig_comment(
        IG_ID,
        IG_COMMENT,
        IG_MEDIA,
        ("7001", "ana"),
        "love it",
        None,
    );
    assert_eq!(change["value"]["id"], IG_COMMENT);

    let (status, body) = call(
        graph(&fake, Method::GET, IG_COMMENT, IG_TOKEN)
            .query(&[("fields", "text,username,from{id}")]),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"id": IG_COMMENT, "text": "love it", "username": "ana", "from": {"id": "7001", "username": "ana"}})
    );

    let edge = format!("{IG_COMMENT}/replies");
    let (status, body) =
        call(graph(&fake, Method::POST, &edge, IG_TOKEN).query(&[("message", "Thanks!")])).await;
    assert_eq!(status, 200, "{body}");
    let id = body["id"].as_str().unwrap().to_string();
    assert!(id.bytes().all(|b| b.is_ascii_digit()), "{id}");

    let (_, body) = call(graph(&fake, Method::GET, &edge, IG_TOKEN)).await;
    let reply = &body["data"][0];
    assert_eq!(reply["id"], id.as_str());
    assert_eq!(reply["text"], "Thanks!");
    assert_eq!(reply["username"], IG_USERNAME);
    assert!(reply["timestamp"].as_str().unwrap().ends_with("+0000"));
    assert!(
        reply.get("message").is_none(),
        "Instagram says text: {reply}"
    );
    assert_eq!(
        fake.comment_replies(IG_COMMENT),
        vec![Reply {
            id,
            message: "Thanks!".into(),
            from: IG_ID.into()
        }]
    );

    // Facebook's edge does not exist on an Instagram comment; the Page's
    // token may not touch the Instagram account's comments.
    let (_, body) = call(
        graph(
            &fake,
            Method::POST,
            &format!("{IG_COMMENT}/comments"),
            IG_TOKEN,
        )
        .json(&json!({"message": "x"})),
    )
    .await;
    assert_eq!(code(&body), (100, None));
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("IGComment")
    );
    let (_, body) =
        call(graph(&fake, Method::POST, &edge, PAGE_TOKEN).json(&json!({"message": "x"}))).await;
    assert_eq!(code(&body), (100, Some(33)));
    assert_eq!(fake.comment_replies(IG_COMMENT).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_api_enforces_the_messaging_windows() {
    let fake = FakeGraph::start_default();
    let now = now_ms();
    fake.customer_messaged(PAGE_ID, "psid-1h", now - hours_ms(1));
    fake.customer_messaged(PAGE_ID, "psid-30h", now - hours_ms(30));
    fake.customer_messaged(PAGE_ID, "psid-8d", now - hours_ms(8 * 24));

    let (status, body) = send_dm(
        &fake,
        PAGE_ID,
        PAGE_TOKEN,
        dm("psid-1h", "Hi!", "RESPONSE", None),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["recipient_id"], "psid-1h");
    let mid = body["message_id"].as_str().unwrap().to_string();
    assert!(mid.starts_with("m_"), "{mid}");

    for kind in ["RESPONSE", "UPDATE"] {
        let (status, body) =
            send_dm(&fake, PAGE_ID, PAGE_TOKEN, dm("psid-30h", "Hi", kind, None)).await;
        assert_eq!((status, code(&body)), (400, (10, Some(2018278))), "{kind}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with("(#10) This message is sent outside of allowed window.")
        );
    }
    let human = dm(
        "psid-30h",
        "A person here",
        "MESSAGE_TAG",
        Some("HUMAN_AGENT"),
    );
    assert_eq!(send_dm(&fake, PAGE_ID, PAGE_TOKEN, human).await.0, 200);
    let late = dm("psid-8d", "Too late", "MESSAGE_TAG", Some("HUMAN_AGENT"));
    let (_, body) = send_dm(&fake, PAGE_ID, PAGE_TOKEN, late).await;
    assert_eq!(code(&body), (10, Some(2018278)));

    let (_, body) = send_dm(
        &fake,
        PAGE_ID,
        PAGE_TOKEN,
        dm("psid-never", "Hi", "RESPONSE", None),
    )
    .await;
    assert_eq!(code(&body), (551, Some(1545041)));
    assert_eq!(
        body["error"]["message"],
        "(#551) This person isn't available right now."
    );

    // Tags: required with MESSAGE_TAG, and only HUMAN_AGENT is modelled.
    let (_, body) = send_dm(
        &fake,
        PAGE_ID,
        PAGE_TOKEN,
        dm("psid-1h", "x", "MESSAGE_TAG", None),
    )
    .await;
    assert_eq!(code(&body), (100, None));
    let other_tag = dm("psid-1h", "x", "MESSAGE_TAG", Some("ACCOUNT_UPDATE"));
    assert_eq!(
        code(&send_dm(&fake, PAGE_ID, PAGE_TOKEN, other_tag).await.1),
        (100, None)
    );

    // Length: 2000 characters on Messenger (counted as characters, not bytes).
    let long = "é".repeat(MESSENGER_TEXT_LIMIT);
    assert_eq!(
        send_dm(
            &fake,
            PAGE_ID,
            PAGE_TOKEN,
            dm("psid-1h", &long, "RESPONSE", None)
        )
        .await
        .0,
        200
    );
    let too_long = format!("{long}!");
    let (_, body) = send_dm(
        &fake,
        PAGE_ID,
        PAGE_TOKEN,
        dm("psid-1h", &too_long, "RESPONSE", None),
    )
    .await;
    assert_eq!(code(&body), (100, None));

    // Instagram: the same endpoint and rules with IGSIDs, 1000 characters.
    fake.customer_messaged(IG_ID, "igsid-1", now - hours_ms(2));
    let text = "a".repeat(INSTAGRAM_TEXT_LIMIT);
    assert_eq!(
        send_dm(
            &fake,
            IG_ID,
            IG_TOKEN,
            dm("igsid-1", &text, "RESPONSE", None)
        )
        .await
        .0,
        200
    );
    let (_, body) = send_dm(
        &fake,
        IG_ID,
        IG_TOKEN,
        dm("igsid-1", &format!("{text}a"), "RESPONSE", None),
    )
    .await;
    assert_eq!(code(&body), (100, None));
    // A token sends only as its own account.
    let (_, body) = send_dm(
        &fake,
        IG_ID,
        PAGE_TOKEN,
        dm("igsid-1", "x", "RESPONSE", None),
    )
    .await;
    assert_eq!(code(&body), (100, Some(33)));

    // A form body carries `recipient` and `message` as JSON strings.
    let form = [
        ("recipient", r#"{"id":"psid-1h"}"#),
        ("messaging_type", "RESPONSE"),
        ("message", r#"{"text":"sent as a form"}"#),
    ];
    let path = format!("{PAGE_ID}/messages");
    let (status, body) = call(graph(&fake, Method::POST, &path, PAGE_TOKEN).form(&form)).await;
    assert_eq!(status, 200, "{body}");

    // `/me/messages` is the token's own account.
    let (status, _) = call(
        graph(&fake, Method::POST, "me/messages", PAGE_TOKEN)
            .json(&dm("psid-1h", "via me", "RESPONSE", None)),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        fake.take_calls().last().unwrap().route,
        "/{account}/messages"
    );

    let sent = fake.sent(PAGE_ID);
    let texts: Vec<&str> = sent.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "Hi!",
            "A person here",
            long.as_str(),
            "sent as a form",
            "via me"
        ]
    );
    assert_eq!(sent[3].recipient, json!({"id": "psid-1h"}));
    assert_eq!(sent[0].id, mid);
    assert_eq!(sent[0].recipient, json!({"id": "psid-1h"}));
    assert_eq!(sent[0].messaging_type.as_deref(), Some("RESPONSE"));
    assert_eq!(sent[1].tag.as_deref(), Some("HUMAN_AGENT"));
    assert_eq!(fake.sent(IG_ID).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_replies_once_per_comment_within_seven_days() {
    let fake = FakeGraph::start_default();
    fake.customer_commented(PAGE_ID, FB_COMMENT, "user-9", now_secs() - 3600);
    let private = |comment: &str| json!({"recipient": {"comment_id": comment}, "message": {"text": "We sent you a DM"}});

    let (status, body) = send_dm(&fake, PAGE_ID, PAGE_TOKEN, private(FB_COMMENT)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["recipient_id"], "user-9");
    let (status, body) = send_dm(&fake, PAGE_ID, PAGE_TOKEN, private(FB_COMMENT)).await;
    assert_eq!((status, code(&body)), (400, (10900, None)));

    // The conversation goes on only once the person writes back.
    let (_, body) = send_dm(
        &fake,
        PAGE_ID,
        PAGE_TOKEN,
        dm("user-9", "and?", "RESPONSE", None),
    )
    .await;
    assert_eq!(code(&body), (551, Some(1545041)));

    let (_, body) = call(
        graph(&fake, Method::GET, FB_COMMENT, PAGE_TOKEN)
            .query(&[("fields", "can_reply_privately")]),
    )
    .await;
    assert_eq!(
        body,
        json!({"id": FB_COMMENT, "can_reply_privately": false})
    );

    let old = "122131676912594941_1";
    fake.customer_commented(PAGE_ID, old, "user-10", now_secs() - 8 * DAY_SECS);
    let (_, body) = send_dm(&fake, PAGE_ID, PAGE_TOKEN, private(old)).await;
    assert_eq!(code(&body), (10, Some(2018278)));
    let six_days = "122131676912594941_2";
    fake.customer_commented(PAGE_ID, six_days, "user-11", now_secs() - 6 * DAY_SECS);
    assert_eq!(
        send_dm(&fake, PAGE_ID, PAGE_TOKEN, private(six_days))
            .await
            .0,
        200
    );

    let (_, body) = send_dm(
        &fake,
        PAGE_ID,
        PAGE_TOKEN,
        private("122131676912594941_404"),
    )
    .await;
    assert_eq!(code(&body), (100, Some(33)));

    // Instagram: the same, through the IG account's token.
    fake.ig_comment(IG_ID, IG_COMMENT, IG_MEDIA, ("7001", "ana"), "DM me", None);
    assert_eq!(
        send_dm(&fake, IG_ID, IG_TOKEN, private(IG_COMMENT)).await.0,
        200
    );
    assert_eq!(
        code(&send_dm(&fake, IG_ID, IG_TOKEN, private(IG_COMMENT)).await.1),
        (10900, None)
    );

    let sent = fake.sent(PAGE_ID);
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].recipient, json!({"comment_id": FB_COMMENT}));
    assert_eq!(sent[0].messaging_type, None);
    assert_eq!(fake.sent(IG_ID).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conversations_show_what_was_sent() {
    let fake = FakeGraph::start_default();
    let asked = now_ms() - 60_000;
    let item = fake.messenger_message(
        PAGE_ID,
        "psid-1",
        "m_customer1",
        "Where is my order?",
        asked,
    );
    assert_eq!(item["sender"]["id"], "psid-1");
    fake.customer_messaged(PAGE_ID, "psid-2", asked);

    let (status, body) = send_dm(
        &fake,
        PAGE_ID,
        PAGE_TOKEN,
        dm("psid-1", "On its way!", "RESPONSE", None),
    )
    .await;
    assert_eq!(status, 200);
    let mid = body["message_id"].as_str().unwrap().to_string();

    let lookup = |user: &str, limit: u32| {
        graph(
            &fake,
            Method::GET,
            &format!("{PAGE_ID}/conversations"),
            PAGE_TOKEN,
        )
        .query(&[
            ("platform", "messenger".to_string()),
            ("user_id", user.to_string()),
            (
                "fields",
                format!("messages.limit({limit}){{id,message,from,created_time}}"),
            ),
        ])
    };
    let (status, body) = call(lookup("psid-1", 10)).await;
    assert_eq!(status, 200, "{body}");
    let conversations = body["data"].as_array().unwrap();
    assert_eq!(conversations.len(), 1);
    assert!(conversations[0]["id"].as_str().unwrap().starts_with("t_"));
    let messages = conversations[0]["messages"]["data"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0]["id"], mid.as_str());
    assert_eq!(messages[0]["message"], "On its way!");
    assert_eq!(messages[0]["from"], json!({"id": PAGE_ID}));
    assert!(
        messages[0]["created_time"]
            .as_str()
            .unwrap()
            .ends_with("+0000")
    );
    assert_eq!(
        messages[1],
        json!({"id": "m_customer1", "message": "Where is my order?", "from": {"id": "psid-1"}, "created_time": graph_time(asked / 1000)})
    );

    let (_, body) = call(lookup("psid-1", 1)).await;
    assert_eq!(
        body["data"][0]["messages"]["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // Only a window was opened for psid-2: nothing to show; nobody at all for psid-3.
    let (_, body) = call(lookup("psid-2", 10)).await;
    assert_eq!(body["data"][0]["messages"]["data"], json!([]));
    let (_, body) = call(lookup("psid-3", 10)).await;
    assert_eq!(body, json!({"data": []}));

    // Instagram needs platform=instagram.
    fake.ig_message(IG_ID, "igsid-1", "m_ig1", "hola", asked);
    let path = format!("{IG_ID}/conversations");
    let (_, body) = call(graph(&fake, Method::GET, &path, IG_TOKEN)).await;
    assert_eq!(code(&body), (100, None));
    let (status, body) = call(graph(&fake, Method::GET, &path, IG_TOKEN).query(&[
        ("platform", "instagram"),
        ("user_id", "igsid-1"),
        ("fields", "messages{message}"),
    ]))
    .await;
    assert_eq!(status, 200);
    let message = &body["data"][0]["messages"]["data"][0];
    assert_eq!(message, &json!({"id": "m_ig1", "message": "hola"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn likes_hiding_deleting_and_lookups() {
    let fake = FakeGraph::start_default();
    fake.feed_comment(
        PAGE_ID,
        "122131676912594941",
        FB_COMMENT,
        &format!("{PAGE_ID}_122131676912594941"),
        ("5551234", "Sam Doe"),
        "Broken on arrival",
        "add",
        now_secs() - 30,
    );
    fake.ig_comment(IG_ID, IG_COMMENT, IG_MEDIA, ("7001", "ana"), "meh", None);
    let likes = format!("{FB_COMMENT}/likes");

    let (status, body) = call(graph(&fake, Method::POST, &likes, PAGE_TOKEN)).await;
    assert_eq!((status, body), (200, json!({"success": true})));
    assert!(fake.liked(FB_COMMENT));
    assert_eq!(
        call(graph(&fake, Method::DELETE, &likes, PAGE_TOKEN))
            .await
            .0,
        200
    );
    assert!(!fake.liked(FB_COMMENT));
    let (_, body) = call(graph(
        &fake,
        Method::POST,
        &format!("{IG_COMMENT}/likes"),
        IG_TOKEN,
    ))
    .await;
    assert_eq!(code(&body), (100, None));

    // Hide: Facebook's is_hidden (form or JSON), Instagram's hide.
    let (status, body) =
        call(graph(&fake, Method::POST, FB_COMMENT, PAGE_TOKEN).form(&[("is_hidden", "true")]))
            .await;
    assert_eq!((status, body), (200, json!({"success": true})));
    assert!(fake.hidden(FB_COMMENT));
    let (_, body) = call(
        graph(&fake, Method::GET, FB_COMMENT, PAGE_TOKEN)
            .query(&[("fields", "message,from,is_hidden,user_likes")]),
    )
    .await;
    assert_eq!(
        body,
        json!({"id": FB_COMMENT, "message": "Broken on arrival", "from": {"id": "5551234", "name": "Sam Doe"}, "is_hidden": true, "user_likes": false})
    );
    call(graph(&fake, Method::POST, FB_COMMENT, PAGE_TOKEN).json(&json!({"is_hidden": false})))
        .await;
    assert!(!fake.hidden(FB_COMMENT));
    let (_, body) =
        call(graph(&fake, Method::POST, FB_COMMENT, PAGE_TOKEN).json(&json!({"hide": true}))).await;
    assert_eq!(
        code(&body),
        (100, None),
        "Facebook takes is_hidden, not hide"
    );
    call(graph(&fake, Method::POST, IG_COMMENT, IG_TOKEN).query(&[("hide", "true")])).await;
    assert!(fake.hidden(IG_COMMENT));

    // Default fields, and the accounts themselves.
    let (_, body) = call(graph(&fake, Method::GET, FB_COMMENT, PAGE_TOKEN)).await;
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 4, "{body}");
    for key in ["id", "message", "from", "created_time"] {
        assert!(keys.contains(&key), "{body}");
    }
    let (_, body) = call(graph(&fake, Method::GET, PAGE_ID, PAGE_TOKEN)).await;
    assert_eq!(body, json!({"id": PAGE_ID, "name": PAGE_NAME}));
    let (_, body) = call(graph(&fake, Method::GET, PAGE_ID, IG_TOKEN)).await;
    assert_eq!(code(&body), (100, Some(33)));

    // Delete: our reply, and the customer's comment; then it is gone.
    let (_, reply) = call(
        graph(
            &fake,
            Method::POST,
            &format!("{FB_COMMENT}/comments"),
            PAGE_TOKEN,
        )
        .json(&json!({"message": "Sorry!"})),
    )
    .await;
    let reply = reply["id"].as_str().unwrap().to_string();
    assert_eq!(
        call(graph(&fake, Method::DELETE, &reply, PAGE_TOKEN))
            .await
            .0,
        200
    );
    assert!(fake.deleted(&reply));
    assert!(fake.comment_replies(FB_COMMENT).is_empty());
    let (status, body) = call(graph(&fake, Method::DELETE, FB_COMMENT, PAGE_TOKEN)).await;
    assert_eq!((status, body), (200, json!({"success": true})));
    assert!(fake.deleted(FB_COMMENT) && !fake.deleted(IG_COMMENT));
    for method in [Method::GET, Method::DELETE] {
        let (_, body) = call(graph(&fake, method, FB_COMMENT, PAGE_TOKEN)).await;
        assert_eq!(code(&body), (100, Some(33)));
    }
    let (_, body) = call(graph(&fake, Method::DELETE, "404_404", PAGE_TOKEN)).await;
    assert_eq!(code(&body), (100, Some(33)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mention_replies_go_to_the_instagram_account() {
    let fake = FakeGraph::start_default();
    let path = format!("{IG_ID}/mentions");
    let (status, body) = call(graph(&fake, Method::POST, &path, IG_TOKEN).query(&[
        ("media_id", IG_MEDIA),
        ("comment_id", IG_COMMENT),
        ("message", "Thanks for the shout-out!"),
    ]))
    .await;
    assert_eq!(status, 200, "{body}");
    let id = body["id"].as_str().unwrap().to_string();
    assert_eq!(
        fake.mention_replies(IG_ID),
        vec![Reply {
            id,
            message: "Thanks for the shout-out!".into(),
            from: IG_ID.into()
        }]
    );
    let call_made = fake.take_calls().pop().unwrap();
    assert!(call_made.is("POST", "/{account}/mentions"));
    assert_eq!(call_made.param("comment_id"), Some(&json!(IG_COMMENT)));

    let (_, body) =
        call(graph(&fake, Method::POST, &path, IG_TOKEN).json(&json!({"message": "no media"})))
            .await;
    assert_eq!(code(&body), (100, None));
    let (_, body) = call(
        graph(
            &fake,
            Method::POST,
            &format!("{PAGE_ID}/mentions"),
            PAGE_TOKEN,
        )
        .json(&json!({"media_id": IG_MEDIA, "message": "x"})),
    )
    .await;
    assert_eq!(code(&body), (100, None));
    assert_eq!(fake.mention_replies(IG_ID).len(), 1);

    // Read back through the account: under the mentioning comment, or for a caption mention
    // among the media's comments.
    let (status, caption) = call(
        graph(&fake, Method::POST, &path, IG_TOKEN)
            .query(&[("media_id", IG_MEDIA), ("message", "Glad you like it")]),
    )
    .await;
    assert_eq!(status, 200, "{caption}");
    let listed = |field: &str| {
        let fields = format!("{field}{{id,text,from}}}}");
        graph(&fake, Method::GET, IG_ID, IG_TOKEN).query(&[("fields", fields)])
    };
    let (status, body) = call(listed(&format!(
        "mentioned_comment.comment_id({IG_COMMENT}){{replies"
    )))
    .await;
    assert_eq!(status, 200, "{body}");
    let replies = &body["mentioned_comment"]["replies"]["data"];
    assert_eq!(replies[0]["text"], "Thanks for the shout-out!");
    assert_eq!(replies[0]["from"]["id"], IG_ID);
    assert_eq!(replies.as_array().unwrap().len(), 1);
    let (_, body) = call(listed(&format!(
        "mentioned_media.media_id({IG_MEDIA}){{comments"
    )))
    .await;
    let comments = &body["mentioned_media"]["comments"]["data"];
    assert_eq!(comments.as_array().unwrap().len(), 1, "{body}");
    assert_eq!(comments[0]["id"], caption["id"]);
    // A Page has no mentions to read.
    let (_, body) = call(
        graph(&fake, Method::GET, PAGE_ID, PAGE_TOKEN)
            .query(&[("fields", "mentioned_media.media_id(1){comments}")]),
    )
    .await;
    assert_eq!(code(&body), (100, None));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graph_and_rate_limit_faults_change_nothing() {
    let fake = FakeGraph::start_default();
    fake.customer_commented(PAGE_ID, FB_COMMENT, "5551234", now_secs());
    fake.customer_messaged(PAGE_ID, "psid-1", now_ms());
    let edge = format!("{FB_COMMENT}/comments");
    let reply = json!({"message": "hello"});

    fake.fail_next(
        "post",
        "/{comment}/comments",
        Fault::Graph {
            status: 500,
            code: 2,
            subcode: None,
            message: "An unexpected error has occurred. Please retry your request later.".into(),
        },
    );
    let (status, headers, body) =
        send(graph(&fake, Method::POST, &edge, PAGE_TOKEN).json(&reply)).await;
    assert_eq!(status, 500);
    assert_eq!(headers["content-type"], "application/json");
    let error = body["error"].as_object().unwrap();
    let mut keys: Vec<&str> = error.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["code", "fbtrace_id", "message", "type"]);
    assert_eq!(error["type"], "OAuthException");
    assert_eq!(code(&body), (2, None));
    assert!(fake.comment_replies(FB_COMMENT).is_empty());
    // The fault was used up.
    assert_eq!(
        call(graph(&fake, Method::POST, &edge, PAGE_TOKEN).json(&reply))
            .await
            .0,
        200
    );
    let calls = fake.take_calls();
    assert_eq!((calls[0].status, calls[0].faulted), (500, true));
    assert_eq!((calls[1].status, calls[1].faulted), (200, false));

    // Queued faults are used in order; subcodes come through.
    let graph_fault = |code, subcode| Fault::Graph {
        status: 400,
        code,
        subcode,
        message: format!("(#{code}) scripted"),
    };
    fake.fail_next(
        "POST",
        "/{account}/messages",
        graph_fault(10, Some(2018065)),
    );
    fake.fail_next(
        "POST",
        "/{account}/messages",
        Fault::RateLimited { code: 32 },
    );
    let body = dm("psid-1", "hi", "RESPONSE", None);
    let (_, first) = send_dm(&fake, PAGE_ID, PAGE_TOKEN, body.clone()).await;
    assert_eq!(code(&first), (10, Some(2018065)));

    let (status, headers, limited) = send(
        graph(
            &fake,
            Method::POST,
            &format!("{PAGE_ID}/messages"),
            PAGE_TOKEN,
        )
        .json(&body),
    )
    .await;
    assert_eq!((status, code(&limited)), (400, (32, None)));
    assert_eq!(
        limited["error"]["message"],
        "(#32) Page request limit reached"
    );
    assert_eq!(header_json(&headers, "x-app-usage")["call_count"], 100);
    let buc = header_json(&headers, "x-business-use-case-usage");
    assert_eq!(buc[PAGE_ID][0]["call_count"], 100);
    assert_eq!(buc[PAGE_ID][0]["estimated_time_to_regain_access"], 1);
    assert!(fake.sent(PAGE_ID).is_empty());

    for (code_, text) in [
        (4, "(#4) Application request limit reached"),
        (17, "(#17) User request limit reached"),
        (
            613,
            "(#613) Calls to this api have exceeded the rate limit.",
        ),
    ] {
        fake.fail_next("GET", "/me", Fault::RateLimited { code: code_ });
        let (status, body) = call(graph(&fake, Method::GET, "me", PAGE_TOKEN)).await;
        assert_eq!((status, code(&body)), (400, (code_, None)));
        assert_eq!(body["error"]["message"], text);
    }
    // Back to normal.
    assert_eq!(send_dm(&fake, PAGE_ID, PAGE_TOKEN, body).await.0, 200);
    assert_eq!(fake.sent(PAGE_ID).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hang_changes_nothing_and_lost_performs_the_call() {
    let fake = FakeGraph::start_default();
    fake.customer_messaged(PAGE_ID, "psid-1", now_ms());
    let path = format!("{PAGE_ID}/messages");
    let impatient = |text: &str| {
        http(Duration::from_millis(300))
            .post(url(&fake, &path))
            .bearer_auth(PAGE_TOKEN)
            .json(&dm("psid-1", text, "RESPONSE", None))
    };

    fake.fail_next("POST", "/{account}/messages", Fault::Hang);
    let err = impatient("hang").send().await.unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert!(fake.sent(PAGE_ID).is_empty());

    fake.fail_next("POST", "/{account}/messages", Fault::Lost);
    let err = impatient("lost").send().await.unwrap_err();
    assert!(err.is_timeout(), "{err}");
    let sent = fake.sent(PAGE_ID);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].text, "lost");

    let calls = fake.wait_for("POST", "/{account}/messages", 2, Duration::from_secs(1));
    assert!(calls.iter().all(|c| c.faulted && c.status == 0));

    // Lost on a public reply: the reply exists though the bot never heard.
    fake.customer_commented(PAGE_ID, FB_COMMENT, "5551234", now_secs());
    fake.fail_next("POST", "/{comment}/comments", Fault::Lost);
    let err = http(Duration::from_millis(300))
        .post(url(&fake, &format!("{FB_COMMENT}/comments")))
        .bearer_auth(PAGE_TOKEN)
        .json(&json!({"message": "lost reply"}))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout());
    assert_eq!(fake.comment_replies(FB_COMMENT)[0].message, "lost reply");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_for_sees_calls_as_they_arrive() {
    let fake = Arc::new(FakeGraph::start_default());
    let later = {
        let fake = fake.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            call(graph(&fake, Method::GET, "me", PAGE_TOKEN)).await
        })
    };
    let calls =
        tokio::task::block_in_place(|| fake.wait_for("GET", "/me", 1, Duration::from_secs(5)));
    assert_eq!(calls.len(), 1);
    assert_eq!(later.await.unwrap().0, 200);

    let waited = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        fake.wait_for("GET", "/me", 2, Duration::from_millis(50))
    }));
    assert!(
        waited.is_err(),
        "wait_for panics when the calls do not come"
    );
}

// ---------------------------------------------------------------------------
// Webhook side
// ---------------------------------------------------------------------------

#[test]
fn signatures_match_the_published_vector() {
    // platforms.md §4.1 / §7 vector 3.
    assert_eq!(
        sign("secret", b"test"),
        "sha256=0329a06b62cd16b33eb6792be8c60b158d89a2ee3a876fce9a881ebb488c0914"
    );
    // The legacy header, computed independently (Python's hmac module).
    assert_eq!(
        sign_sha1("secret", b"test"),
        "sha1=1aa349585ed7ecbd3b9c486a30067e395ca4b356"
    );
}

#[test]
fn feed_comment_reproduces_the_captured_payload() {
    // platforms.md §4.2, byte for byte as a JSON value.
    let captured: Value = serde_json::from_str(
        r#"{"object":"page","entry":[{"id":"448242228374517","time":1742667607,"changes":[{"field":"feed","value":{
  "from":{"id":"448242228374517","name":"SuperTester"},
  "post":{"status_type":"mobile_status_update","is_published":true,"updated_time":"2025-03-22T18:20:04+0000","promotion_status":"inactive","id":"448242228374517_122131676912594941"},
  "message":"meow 2","post_id":"448242228374517_122131676912594941",
  "comment_id":"122131676912594941_1213590066982748","created_time":1742667604,
  "item":"comment","parent_id":"122131676912594941_542072878449250","verb":"add"}}]}]}"#,
    )
    .unwrap();
    let built = envelope(
        "page",
        vec![changes_entry(
            PAGE_ID,
            1742667607,
            vec![feed_comment(
                PAGE_ID,
                "122131676912594941",
                "122131676912594941_1213590066982748",
                "122131676912594941_542072878449250",
                (PAGE_ID, "SuperTester"),
                "meow 2",
                "add",
                1742667604,
            )],
        )],
    );
    assert_eq!(built, captured);

    let removed = feed_comment(
        PAGE_ID,
        "1_2",
        "2_3",
        "1_2",
        ("9", "Sam"),
        "gone",
        "remove",
        1,
    );
    assert_eq!(removed["value"]["verb"], "remove");
    assert!(removed["value"].get("message").is_none());
    assert_eq!(removed["value"]["post_id"], "1_2");
}

#[test]
fn messaging_and_instagram_payloads_have_the_documented_shapes() {
    // platforms.md §4.3.
    let message = messenger_message(PAGE_ID, "psid-1", "m_abc", "hello", 1_700_000_000_000);
    assert_eq!(
        envelope(
            "page",
            vec![messaging_entry(PAGE_ID, 1_700_000_000, vec![message])]
        ),
        json!({"object": "page", "entry": [{"id": PAGE_ID, "time": 1_700_000_000, "messaging": [
            {"sender": {"id": "psid-1"}, "recipient": {"id": PAGE_ID}, "timestamp": 1_700_000_000_000_i64,
             "message": {"mid": "m_abc", "text": "hello"}}]}]})
    );
    let echo = messenger_echo(PAGE_ID, "psid-1", "m_ours", "hi", 5);
    assert_eq!(echo["sender"]["id"], PAGE_ID);
    assert_eq!(echo["recipient"]["id"], "psid-1");
    assert_eq!(echo["message"]["is_echo"], true);
    let read = messenger_read(PAGE_ID, "psid-1", 7);
    assert_eq!(
        (
            read["sender"]["id"].clone(),
            read["read"]["watermark"].clone()
        ),
        (json!("psid-1"), json!(7))
    );
    let delivery = messenger_delivery(PAGE_ID, "psid-1", 8);
    assert_eq!(delivery["delivery"]["watermark"], 8);
    assert!(delivery["delivery"]["mids"].is_array());
    assert!(delivery.get("message").is_none() && read.get("message").is_none());

    // platforms.md §4.5.
    let comment = ig_comment(IG_ID, IG_COMMENT, IG_MEDIA, ("7001", "ana"), "nice", None);
    assert_eq!(
        comment,
        json!({"field": "comments", "value": {
            "id": IG_COMMENT, "from": {"id": "7001", "username": "ana"}, "text": "nice",
            "media": {"id": IG_MEDIA, "media_product_type": "FEED"}}})
    );
    let reply = ig_comment(
        IG_ID,
        "2",
        IG_MEDIA,
        ("7001", "ana"),
        "and",
        Some(IG_COMMENT),
    );
    assert_eq!(reply["value"]["parent_id"], IG_COMMENT);
    assert_eq!(
        ig_mention(IG_ID, IG_MEDIA, Some(IG_COMMENT)),
        json!({"field": "mentions", "value": {"media_id": IG_MEDIA, "comment_id": IG_COMMENT}})
    );
    assert_eq!(
        ig_mention(IG_ID, IG_MEDIA, None)["value"],
        json!({"media_id": IG_MEDIA})
    );
    assert_eq!(
        ig_message(IG_ID, "igsid", "m_1", "hola", 9),
        messenger_message(IG_ID, "igsid", "m_1", "hola", 9)
    );
    let entry = changes_entry(IG_ID, 10, vec![comment]);
    assert_eq!(
        envelope("instagram", vec![entry])["entry"][0]["changes"][0]["field"],
        "comments"
    );
}

/// A webhook receiver as the bot should be: verification GET, and POSTs
/// checked against both signature headers over the raw body (echoed back).
fn receiver() -> (String, Background) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}/webhooks/meta", listener.local_addr().unwrap());
    let verify = |Query(q): Query<HashMap<String, String>>| async move {
        let ok = q.get("hub.mode").map(String::as_str) == Some("subscribe")
            && q.get("hub.verify_token").map(String::as_str) == Some(VERIFY_TOKEN);
        match (ok, q.get("hub.challenge")) {
            (true, Some(challenge)) => (StatusCode::OK, challenge.clone()),
            _ => (StatusCode::FORBIDDEN, "forbidden".to_string()),
        }
    };
    let deliver = |headers: HeaderMap, body: Bytes| async move {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string()
        };
        let sha256 = header("x-hub-signature-256");
        let sha1 = header("x-hub-signature");
        let good_256 = sha256
            .strip_prefix("sha256=")
            .and_then(|h| hex::decode(h).ok())
            .is_some_and(|sig| {
                let mut mac = Hmac::<Sha256>::new_from_slice(APP_SECRET.as_bytes()).unwrap();
                mac.update(&body);
                mac.verify_slice(&sig).is_ok()
            });
        let good_1 = sha1
            .strip_prefix("sha1=")
            .and_then(|h| hex::decode(h).ok())
            .is_some_and(|sig| {
                let mut mac = Hmac::<Sha1>::new_from_slice(APP_SECRET.as_bytes()).unwrap();
                mac.update(&body);
                mac.verify_slice(&sig).is_ok()
            });
        let lowercase = sha256 == sha256.to_ascii_lowercase();
        if good_256 && good_1 && lowercase {
            (StatusCode::OK, String::from_utf8(body.to_vec()).unwrap())
        } else {
            (StatusCode::FORBIDDEN, "bad signature".to_string())
        }
    };
    let server = Background::start("meta-receiver", move || async move {
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        let app =
            axum::Router::new().route("/webhooks/meta", axum::routing::get(verify).post(deliver));
        tokio::spawn(async move { axum::serve(listener, app).await });
    });
    (url, server)
}

#[test]
fn webhooks_are_delivered_signed_over_the_escaped_bytes() {
    let (url, _server) = receiver();

    let (status, challenge) = get(&verification_url(&url, VERIFY_TOKEN, "1158201444"));
    assert_eq!((status, challenge.as_str()), (200, "1158201444"));
    assert_eq!(get(&verification_url(&url, "wrong", "1158201444")).0, 403);

    let payload = envelope(
        "page",
        vec![messaging_entry(
            PAGE_ID,
            1_700_000_000,
            vec![messenger_message(
                PAGE_ID,
                "psid-1",
                "m_1",
                "Café 🎉 see https://acme.example/o/1",
                1,
            )],
        )],
    );
    let (status, echoed) = post_webhook(&url, APP_SECRET, &payload);
    assert_eq!(status, 200, "{echoed}");
    // Meta's bytes: non-ASCII as lowercase \u escapes (surrogate pairs past
    // the BMP) and escaped slashes; the same value once parsed.
    assert!(echoed.contains(r"Caf\u00e9 \ud83c\udf89"), "{echoed}");
    assert!(echoed.contains(r"https:\/\/acme.example\/o\/1"), "{echoed}");
    assert!(echoed.is_ascii());
    assert_eq!(echoed, meta_json(&payload));
    assert_eq!(serde_json::from_str::<Value>(&echoed).unwrap(), payload);
    // Re-serializing breaks the signature: the reason to verify raw bytes.
    assert_ne!(
        sign(
            APP_SECRET,
            serde_json::to_string(&payload).unwrap().as_bytes()
        ),
        sign(APP_SECRET, echoed.as_bytes())
    );

    let raw = meta_json(&payload);
    let wrong = [(
        "x-hub-signature-256",
        sign("not-the-secret", raw.as_bytes()),
    )];
    assert_eq!(post_raw(&url, &wrong, raw.as_bytes()).0, 403);
    assert_eq!(post_raw(&url, &[], raw.as_bytes()).0, 403);
    let right = [
        ("x-hub-signature-256", sign(APP_SECRET, raw.as_bytes())),
        ("x-hub-signature", sign_sha1(APP_SECRET, raw.as_bytes())),
    ];
    assert_eq!(post_raw(&url, &right, raw.as_bytes()).0, 200);

    // Nobody listening: status 0 and the error, no panic.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/", l.local_addr().unwrap())
    };
    let (status, error) = post_webhook(&closed, APP_SECRET, &payload);
    assert_eq!(status, 0);
    assert!(!error.is_empty());
}

//! Checks the fake X in `support/x.rs` with a plain reqwest client, the way
//! the bot's X connector talks to it: paging, response shapes, X's refusals,
//! OAuth 2 refresh rotation, OAuth 1.0a signatures (signed here with an
//! implementation of its own), scripted faults, and the Account Activity
//! payload builders.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/background.rs"]
mod background;
#[path = "support/x.rs"]
mod x;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit, Mac};
use reqwest::header::HeaderMap;
use reqwest::{Client, RequestBuilder};
use serde_json::{Value, json};
use sha1::Sha1;
use x::*;

const ACCESS: &str = "access-0";
const REFRESH: &str = "refresh-0";
const CLIENT_ID: &str = "client-id";
const CLIENT_SECRET: &str = "client-secret";
const WAIT: Duration = Duration::from_secs(5);

fn oauth2() -> FakeAuth {
    FakeAuth::OAuth2 {
        access: ACCESS.into(),
        refresh: REFRESH.into(),
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
    }
}

fn http() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

/// A request to `path` (relative, e.g. `2/users/me`) with the current token.
fn call(fake: &FakeX, method: reqwest::Method, path: &str) -> RequestBuilder {
    http()
        .request(method, format!("{}{path}", fake.url()))
        .bearer_auth(fake.tokens().0)
}

fn get(fake: &FakeX, path: &str) -> RequestBuilder {
    call(fake, reqwest::Method::GET, path)
}

fn post(fake: &FakeX, path: &str, body: Value) -> RequestBuilder {
    call(fake, reqwest::Method::POST, path).json(&body)
}

async fn send(req: RequestBuilder) -> (u16, HeaderMap, Value) {
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.json::<Value>().await.unwrap();
    (status, headers, body)
}

fn ids(body: &Value) -> Vec<String> {
    body["data"]
        .as_array()
        .map(|d| {
            d.iter()
                .map(|t| t["id"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn header_u64(headers: &HeaderMap, name: &str) -> u64 {
    headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

const TWEET_FIELDS: &str =
    "author_id,conversation_id,created_at,in_reply_to_user_id,referenced_tweets,entities";

#[tokio::test]
async fn mentions_page_through_next_token_after_since_id() {
    let fake = FakeX::start(oauth2()).await;
    let ana = fake.add_user("ana", "Ana");
    let bob = fake.add_user("bob", "Bob");
    assert_eq!((ana.id.as_str(), bob.id.as_str()), ("2001", "2002"));
    let already_seen = fake.mention(&ana, "@acme first");
    assert_eq!(already_seen, FIRST_ID.to_string());
    let mut expected = Vec::new();
    for i in 0..12 {
        let who = if i % 2 == 0 { &ana } else { &bob };
        expected.push(fake.mention(who, &format!("@ACME help {i}")));
        // Noise that is not a mention of the brand.
        fake.tweet(who, &format!("nothing to see {i}"));
        fake.tweet(who, &format!("@acmecorp is another account {i}"));
    }
    expected.reverse();

    let mut got = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut query = vec![
            ("since_id", already_seen.clone()),
            ("max_results", "5".to_string()),
            ("tweet.fields", TWEET_FIELDS.to_string()),
            ("expansions", "author_id".to_string()),
            ("user.fields", "username,name".to_string()),
        ];
        if let Some(t) = &token {
            query.push(("pagination_token", t.clone()));
        }
        let (status, _, body) = send(get(&fake, "2/users/1000/mentions").query(&query)).await;
        assert_eq!(status, 200, "{body}");
        pages += 1;
        let page = ids(&body);
        assert_eq!(body["meta"]["result_count"], json!(page.len()));
        assert_eq!(body["meta"]["newest_id"], json!(page[0]));
        assert_eq!(body["meta"]["oldest_id"], json!(page.last().unwrap()));
        let first = &body["data"][0];
        assert_eq!(first["conversation_id"], first["id"]);
        assert!(first["created_at"].as_str().unwrap().ends_with(".000Z"));
        assert_eq!(
            first["entities"]["mentions"][0],
            json!({"start": 0, "end": 5, "username": "acme", "id": "1000"})
        );
        let users = body["includes"]["users"].as_array().unwrap();
        for tweet in body["data"].as_array().unwrap() {
            let author = tweet["author_id"].as_str().unwrap();
            assert!(users.iter().any(|u| u["id"] == author), "{body}");
        }
        got.extend(page);
        match body["meta"].get("next_token") {
            Some(t) => {
                let t = t.as_str().unwrap().to_string();
                assert!(t.parse::<u64>().is_err(), "tokens are opaque, not ids");
                token = Some(t);
            }
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(got, expected, "newest first, all after since_id, no noise");
    let last = fake.calls().pop().unwrap();
    assert!(last.is("GET", "/2/users/1000/mentions"));
    assert_eq!(last.param("since_id"), Some(already_seen.as_str()));
    assert!(last.param("pagination_token").is_some());

    // Polling on: since_id = the newest seen returns only what came after.
    let newer = fake.mention(&bob, "hey @acme, still waiting");
    let (_, _, body) =
        send(get(&fake, "2/users/1000/mentions").query(&[("since_id", expected[0].as_str())]))
            .await;
    assert_eq!(ids(&body), vec![newer]);

    // X's bounds on max_results.
    let (status, _, body) =
        send(get(&fake, "2/users/1000/mentions").query(&[("max_results", "4")])).await;
    assert_eq!(status, 400);
    assert_eq!(body["title"], "Invalid Request");
    assert_eq!(
        body["type"],
        "https://api.twitter.com/2/problems/invalid-request"
    );
    assert_eq!(body["errors"][0]["parameters"]["max_results"], json!(["4"]));
}

#[tokio::test]
async fn shapes_follow_fields_and_expansions_and_empty_means_meta_only() {
    let fake = FakeX::start(oauth2()).await;
    let ana = fake.add_user("ana", "Ana");

    let (status, _, body) = send(get(&fake, "2/users/1000/mentions")).await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({"meta": {"result_count": 0}}));

    let (_, _, me) = send(get(&fake, "2/users/me")).await;
    assert_eq!(
        me,
        json!({"data": {"id": "1000", "name": "Acme Support", "username": "acme"}})
    );
    assert_eq!(fake.me().username, "acme");

    let id = fake.mention(&ana, "@acme where is my order #A12?");
    // No fields asked: only the defaults, and no includes.
    let (_, _, body) = send(get(&fake, "2/users/1000/mentions")).await;
    assert_eq!(
        body["data"][0],
        json!({"id": id, "text": "@acme where is my order #A12?", "edit_history_tweet_ids": [id]})
    );
    assert!(body.get("includes").is_none());
    assert_eq!(
        body["meta"],
        json!({"result_count": 1, "newest_id": id, "oldest_id": id})
    );

    // Asked for: fields and the author expansion.
    let (_, _, body) = send(
        get(&fake, "2/users/1000/mentions")
            .query(&[("tweet.fields", TWEET_FIELDS), ("expansions", "author_id")]),
    )
    .await;
    let tweet = &body["data"][0];
    assert_eq!(tweet["author_id"], "2001");
    assert_eq!(tweet["conversation_id"], json!(id));
    assert!(tweet.get("in_reply_to_user_id").is_none());
    assert!(tweet.get("referenced_tweets").is_none());
    assert_eq!(
        tweet["entities"]["hashtags"],
        json!([{"start": 24, "end": 28, "tag": "A12"}])
    );
    assert_eq!(
        body["includes"]["users"],
        json!([{"id": "2001", "name": "Ana", "username": "ana"}])
    );

    // A reply by the user to a brand tweet: reply fields and referenced tweet.
    let (status, _, created) = send(post(
        &fake,
        "2/tweets",
        json!({"text": "Checking", "reply": {"in_reply_to_tweet_id": id}}),
    ))
    .await;
    assert_eq!(status, 201);
    let brand_reply = created["data"]["id"].as_str().unwrap().to_string();
    let follow_up = fake.reply(&ana, &brand_reply, "thanks!");
    let (_, _, body) = send(get(&fake, "2/users/1000/mentions").query(&[
        ("tweet.fields", TWEET_FIELDS),
        ("expansions", "author_id,referenced_tweets.id"),
        ("max_results", "5"),
    ]))
    .await;
    let tweet = &body["data"][0];
    assert_eq!(tweet["id"], json!(follow_up));
    assert_eq!(tweet["text"], "@acme thanks!");
    assert_eq!(tweet["conversation_id"], json!(id));
    assert_eq!(tweet["in_reply_to_user_id"], "1000");
    assert_eq!(
        tweet["referenced_tweets"],
        json!([{"type": "replied_to", "id": brand_reply}])
    );
    assert_eq!(body["includes"]["tweets"][0]["id"], json!(brand_reply));

    // Lookup: found ones in data, the rest as partial errors.
    fake.delete_tweet(&follow_up);
    let (status, _, body) = send(get(&fake, "2/tweets").query(&[(
        "ids",
        format!("{id},{follow_up},1799999999999999999").as_str(),
    )]))
    .await;
    assert_eq!(status, 200);
    assert_eq!(ids(&body), vec![id.clone()]);
    let errors = body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2);
    assert_eq!(errors[0]["resource_id"], json!(follow_up));
    assert_eq!(errors[0]["title"], "Not Found Error");
    assert_eq!(
        errors[0]["type"],
        "https://api.twitter.com/2/problems/resource-not-found"
    );

    // Unknown routes are a 404 problem.
    let (status, _, body) = send(get(&fake, "2/nothing/here")).await;
    assert_eq!(status, 404);
    assert_eq!(body["status"], 404);
}

#[tokio::test]
async fn replies_carry_the_parent_author_prefix_in_the_timeline() {
    let fake = FakeX::start(oauth2()).await;
    let ana = fake.add_user("ana", "Ana");
    let bob = fake.add_user("bob", "Bob");
    let mention = fake.mention(&ana, "@acme my order is late");

    let (status, _, body) = send(post(
        &fake,
        "2/tweets",
        json!({"text": "Sorry to hear that", "reply": {"in_reply_to_tweet_id": mention}}),
    ))
    .await;
    assert_eq!(status, 201);
    let reply = body["data"]["id"].as_str().unwrap().to_string();
    assert_eq!(body["data"]["text"], "@ana Sorry to hear that");
    assert_eq!(body["data"]["edit_history_tweet_ids"], json!([reply]));

    // The same words to someone else are not a duplicate: the prefix differs.
    let other = fake.mention(&bob, "@acme me too");
    let (status, _, _) = send(post(
        &fake,
        "2/tweets",
        json!({"text": "Sorry to hear that", "reply": {"in_reply_to_tweet_id": other}}),
    ))
    .await;
    assert_eq!(status, 201);
    // A thread under the brand's own tweet gets no prefix.
    let (_, _, body) = send(post(
        &fake,
        "2/tweets",
        json!({"text": "(2/2) We are on it", "reply": {"in_reply_to_tweet_id": reply}}),
    ))
    .await;
    let thread = body["data"]["id"].as_str().unwrap().to_string();

    let (status, _, body) = send(
        get(&fake, "2/users/1000/tweets")
            .query(&[("tweet.fields", TWEET_FIELDS), ("max_results", "5")]),
    )
    .await;
    assert_eq!(status, 200);
    let data = body["data"].as_array().unwrap();
    assert_eq!(data.len(), 3);
    assert_eq!(data[0]["id"], json!(thread));
    assert_eq!(data[0]["text"], "(2/2) We are on it");
    assert_eq!(data[1]["text"], "@bob Sorry to hear that");
    assert_eq!(data[2]["id"], json!(reply));
    assert_eq!(data[2]["text"], "@ana Sorry to hear that");
    assert_eq!(data[2]["conversation_id"], json!(mention));
    assert_eq!(data[2]["in_reply_to_user_id"], "2001");
    assert_eq!(data[0]["conversation_id"], json!(mention));

    let posted = fake.posted();
    assert_eq!(posted.len(), 3);
    assert_eq!(
        posted[0],
        PostedTweet {
            id: reply.clone(),
            text: "Sorry to hear that".into(),
            in_reply_to: Some(mention.clone()),
        }
    );

    // Deleting: the brand's tweet goes; an unknown id is a 404 problem.
    let (status, _, body) = send(call(
        &fake,
        reqwest::Method::DELETE,
        &format!("2/tweets/{thread}"),
    ))
    .await;
    assert_eq!((status, body), (200, json!({"data": {"deleted": true}})));
    let (status, _, body) = send(call(
        &fake,
        reqwest::Method::DELETE,
        &format!("2/tweets/{thread}"),
    ))
    .await;
    assert_eq!(status, 404);
    assert_eq!(body["resource_type"], "tweet");
    assert_eq!(body["parameter"], "id");
    assert_eq!(body["value"], json!(thread));
    let (_, _, body) = send(get(&fake, "2/users/1000/tweets")).await;
    assert_eq!(ids(&body), vec![posted[1].id.clone(), reply]);
}

#[tokio::test]
async fn tweet_refusals_use_xs_bodies() {
    let fake = FakeX::start(oauth2()).await;
    let ana = fake.add_user("ana", "Ana");

    let (status, _, _) = send(post(&fake, "2/tweets", json!({"text": "We are back up"}))).await;
    assert_eq!(status, 201);
    let (status, _, body) = send(post(&fake, "2/tweets", json!({"text": "We are back up"}))).await;
    assert_eq!(status, 403);
    assert_eq!(
        body,
        json!({"title": "Forbidden", "type": "about:blank", "status": 403,
               "detail": "You are not allowed to create a Tweet with duplicate content."})
    );

    let restricted = fake.mention(&ana, "@acme replies limited here");
    fake.restrict_replies(&restricted);
    let (status, _, body) = send(post(
        &fake,
        "2/tweets",
        json!({"text": "Hi", "reply": {"in_reply_to_tweet_id": restricted}}),
    ))
    .await;
    assert_eq!(status, 403);
    assert_eq!(body["detail"], REPLY_RESTRICTED_DETAIL);

    let gone = fake.mention(&ana, "@acme never mind");
    fake.delete_tweet(&gone);
    for parent in [gone.as_str(), "1799999999999999999"] {
        let (status, _, body) = send(post(
            &fake,
            "2/tweets",
            json!({"text": "Hi", "reply": {"in_reply_to_tweet_id": parent}}),
        ))
        .await;
        assert_eq!(status, 403);
        assert_eq!(
            body["detail"],
            "You attempted to reply to a Tweet that is deleted or not visible to you."
        );
    }

    for bad in [json!({"text": ""}), json!({})] {
        let (status, _, body) = send(post(&fake, "2/tweets", bad)).await;
        assert_eq!(status, 400);
        assert_eq!(body["title"], "Invalid Request");
        assert_eq!(
            body["detail"],
            "One or more parameters to your request was invalid."
        );
        assert!(body["errors"][0]["message"].is_string());
    }
    assert_eq!(fake.posted().len(), 1, "refusals create nothing");
}

#[tokio::test]
async fn likes_retweets_and_search() {
    let fake = FakeX::start(oauth2()).await;
    let ana = fake.add_user("ana", "Ana");
    let bob = fake.add_user("bob", "Bob");
    let wanted = fake.tweet(&ana, "My REFUND never arrived, @acme");
    fake.tweet(&bob, "refunds are slow everywhere");
    fake.tweet(&bob, "never arrived: my refund? no, my parcel");
    send(post(
        &fake,
        "2/tweets",
        json!({"text": "Our refund policy"}),
    ))
    .await;

    let (status, _, body) = send(get(&fake, "2/tweets/search/recent").query(&[
        (
            "query",
            "refund \"never arrived,\" -is:retweet lang:en -from:acme",
        ),
        ("tweet.fields", "author_id"),
        ("expansions", "author_id"),
    ]))
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(ids(&body), vec![wanted.clone()]);
    assert_eq!(body["includes"]["users"][0]["username"], "ana");
    let (_, _, body) =
        send(get(&fake, "2/tweets/search/recent").query(&[("query", "refund")])).await;
    assert_eq!(body["meta"]["result_count"], 2, "{body}");
    let (status, _, _) = send(
        get(&fake, "2/tweets/search/recent").query(&[("query", "refund"), ("max_results", "5")]),
    )
    .await;
    assert_eq!(status, 400, "recent search takes 10–100 a page");

    let like = || post(&fake, "2/users/1000/likes", json!({"tweet_id": wanted}));
    for _ in 0..2 {
        let (status, _, body) = send(like()).await;
        assert_eq!((status, body), (200, json!({"data": {"liked": true}})));
    }
    assert_eq!(fake.likes(), vec![wanted.clone()]);
    let (_, _, body) = send(call(
        &fake,
        reqwest::Method::DELETE,
        &format!("2/users/1000/likes/{wanted}"),
    ))
    .await;
    assert_eq!(body, json!({"data": {"liked": false}}));
    assert!(fake.likes().is_empty());

    let retweet = || post(&fake, "2/users/1000/retweets", json!({"tweet_id": wanted}));
    let (status, _, body) = send(retweet()).await;
    assert_eq!((status, body), (200, json!({"data": {"retweeted": true}})));
    let (status, _, body) = send(retweet()).await;
    assert_eq!(status, 403);
    assert_eq!(body["detail"], ALREADY_RETWEETED_DETAIL);
    assert_eq!(fake.retweets(), vec![wanted.clone()]);
    let (_, _, body) = send(call(
        &fake,
        reqwest::Method::DELETE,
        &format!("2/users/1000/retweets/{wanted}"),
    ))
    .await;
    assert_eq!(body, json!({"data": {"retweeted": false}}));
    assert!(fake.retweets().is_empty());
}

#[tokio::test]
async fn dms_list_send_and_refuse() {
    let fake = FakeX::start(oauth2()).await;
    let ana = fake.add_user("ana", "Ana");
    let bob = fake.add_user("bob", "Bob");
    let from_ana = fake.dm(&ana, "my card was charged twice");

    let (status, _, body) = send(post(
        &fake,
        "2/dm_conversations/with/2001/messages",
        json!({"text": "Sorry! Looking into it."}),
    ))
    .await;
    assert_eq!(status, 201);
    let sent = body["data"]["dm_event_id"].as_str().unwrap().to_string();
    assert_eq!(body["data"]["dm_conversation_id"], "1000-2001");
    assert_eq!(
        fake.sent_dms(),
        vec![SentDm {
            event_id: sent.clone(),
            to: "2001".into(),
            text: "Sorry! Looking into it.".into(),
        }]
    );

    fake.refuse_dms(&bob.id);
    let (status, _, body) = send(post(
        &fake,
        "2/dm_conversations/with/2002/messages",
        json!({"text": "Hello"}),
    ))
    .await;
    assert_eq!(status, 403);
    assert_eq!(
        body,
        json!({"detail": "You cannot send messages to users who are not following you.",
               "title": "Forbidden", "status": 403, "type": "about:blank"})
    );
    let from_bob = fake.dm(&bob, "hello?");

    let (status, _, body) = send(get(&fake, "2/dm_events").query(&[
        ("event_types", "MessageCreate"),
        (
            "dm_event.fields",
            "id,text,event_type,sender_id,dm_conversation_id,created_at",
        ),
        ("expansions", "sender_id"),
        ("user.fields", "username"),
        ("max_results", "2"),
    ]))
    .await;
    assert_eq!(status, 200);
    assert_eq!(ids(&body), vec![from_bob.clone(), sent.clone()]);
    assert_eq!(body["data"][0]["sender_id"], "2002");
    assert_eq!(body["data"][0]["dm_conversation_id"], "1000-2002");
    assert_eq!(body["data"][0]["event_type"], "MessageCreate");
    assert!(
        body["data"][0]["created_at"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    assert_eq!(body["data"][1]["sender_id"], "1000");
    let senders: Vec<&str> = body["includes"]["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert_eq!(senders, vec!["2002", "1000"]);
    let next = body["meta"]["next_token"].as_str().unwrap().to_string();
    let (_, _, body) =
        send(get(&fake, "2/dm_events").query(&[("max_results", "2"), ("pagination_token", &next)]))
            .await;
    assert_eq!(ids(&body), vec![from_ana.clone()]);
    assert!(body["meta"].get("next_token").is_none());
    // Without dm_event.fields, X returns only id, event_type and text.
    assert_eq!(
        body["data"][0],
        json!({"id": from_ana, "event_type": "MessageCreate", "text": "my card was charged twice"})
    );

    let (_, _, body) = send(get(&fake, "2/dm_conversations/with/2001/dm_events")).await;
    assert_eq!(ids(&body), vec![sent, from_ana]);
    let (_, _, body) = send(get(&fake, "2/dm_conversations/with/2999/dm_events")).await;
    assert_eq!(body, json!({"meta": {"result_count": 0}}));
}

#[tokio::test]
async fn oauth2_tokens_expire_and_refresh_rotates_both() {
    let fake = FakeX::start(oauth2()).await;
    let me = || get(&fake, "2/users/me");
    assert_eq!(send(me()).await.0, 200);

    fake.expire_token();
    let (status, _, body) = send(me()).await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        json!({"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"})
    );
    assert_eq!(fake.unauthorized(), 1);
    assert_eq!(fake.calls().len(), 1, "refused requests are not recorded");

    let refresh = |refresh_token: &str, secret: &str| {
        http()
            .post(format!("{}2/oauth2/token", fake.url()))
            .basic_auth(CLIENT_ID, Some(secret))
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
                ("client_id", CLIENT_ID),
            ])
    };
    let (status, _, body) = send(refresh(REFRESH, "wrong-secret")).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "unauthorized_client");

    let (status, _, body) = send(refresh(REFRESH, CLIENT_SECRET)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 7200);
    assert_eq!(body["scope"], OAUTH2_SCOPE);
    let (access, refresh_token) = fake.tokens();
    assert_eq!(body["access_token"], json!(access));
    assert_eq!(body["refresh_token"], json!(refresh_token));
    assert_ne!(access, ACCESS);
    assert_ne!(refresh_token, REFRESH);
    let token_call = fake.calls().pop().unwrap();
    assert!(token_call.is("POST", "/2/oauth2/token"));
    assert_eq!(token_call.body["grant_type"], "refresh_token");
    assert!(token_call.auth.starts_with("Basic "));

    // The new access token works, the old one does not.
    assert_eq!(send(me()).await.0, 200);
    let (status, _, _) = send(
        http()
            .get(format!("{}2/users/me", fake.url()))
            .bearer_auth(ACCESS),
    )
    .await;
    assert_eq!(status, 401);

    // Rotation: the old refresh token is spent.
    let (status, _, body) = send(refresh(REFRESH, CLIENT_SECRET)).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"error": "invalid_request", "error_description": "Value passed for the token was invalid."})
    );
    assert_eq!(fake.tokens(), (access, refresh_token));
}

// --- OAuth 1.0a, signed with this file's own implementation ----------------

struct Oauth1 {
    consumer_key: &'static str,
    consumer_secret: &'static str,
    token: &'static str,
    token_secret: &'static str,
}

const CREDS: Oauth1 = Oauth1 {
    consumer_key: "ck-123",
    consumer_secret: "cs-456",
    token: "1000-tok",
    token_secret: "ts-789",
};

fn oauth1_fake() -> FakeAuth {
    FakeAuth::OAuth1 {
        consumer_key: CREDS.consumer_key.into(),
        consumer_secret: CREDS.consumer_secret.into(),
        token: CREDS.token.into(),
        token_secret: CREDS.token_secret.into(),
    }
}

/// RFC 3986 percent-encoding, byte by byte.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn sign(
    method: &str,
    url: &str,
    params: &[(&str, &str)],
    consumer_secret: &str,
    token_secret: &str,
) -> String {
    let mut pairs: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect();
    pairs.sort();
    let base = format!("{method}&{}&{}", enc(url), enc(&pairs.join("&")));
    let mut mac = Hmac::<Sha1>::new_from_slice(
        format!("{}&{}", enc(consumer_secret), enc(token_secret)).as_bytes(),
    )
    .unwrap();
    mac.update(base.as_bytes());
    BASE64.encode(mac.finalize().into_bytes())
}

/// The `Authorization: OAuth …` header for a request with these query/form
/// parameters.
fn oauth1_header(method: &str, url: &str, params: &[(&str, &str)], creds: &Oauth1) -> String {
    let oauth = [
        ("oauth_consumer_key", creds.consumer_key),
        ("oauth_nonce", "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg"),
        ("oauth_signature_method", "HMAC-SHA1"),
        ("oauth_timestamp", "1318622958"),
        ("oauth_token", creds.token),
        ("oauth_version", "1.0"),
    ];
    let all: Vec<(&str, &str)> = params.iter().chain(oauth.iter()).copied().collect();
    let signature = sign(method, url, &all, creds.consumer_secret, creds.token_secret);
    let fields: Vec<String> = oauth
        .iter()
        .copied()
        .chain([("oauth_signature", signature.as_str())])
        .map(|(k, v)| format!("{k}=\"{}\"", enc(v)))
        .collect();
    format!("OAuth {}", fields.join(", "))
}

#[test]
fn oauth1_signatures_match_xs_published_example() {
    // docs.x.com "Creating a signature" (the statuses/update example).
    let params = [
        (
            "status",
            "Hello Ladies + Gentlemen, a signed OAuth request!",
        ),
        ("include_entities", "true"),
        ("oauth_consumer_key", "xvz1evFS4wEEPTGEFPHBog"),
        ("oauth_nonce", "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg"),
        ("oauth_signature_method", "HMAC-SHA1"),
        ("oauth_timestamp", "1318622958"),
        (
            "oauth_token",
            "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb",
        ),
        ("oauth_version", "1.0"),
    ];
    let url = "https://api.twitter.com/1.1/statuses/update.json";
    let consumer_secret = "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw";
    let token_secret = "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE";
    let owned: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let expected = "hCtSmYh+iHYCEqBWrE7C7hYmtUk=";
    assert_eq!(
        oauth1_signature("POST", url, &owned, consumer_secret, token_secret),
        expected
    );
    assert_eq!(
        sign("POST", url, &params, consumer_secret, token_secret),
        expected
    );
}

#[tokio::test]
async fn oauth1_requests_are_verified() {
    let fake = FakeX::start(oauth1_fake()).await;
    fake.add_user("ana", "Ana");
    let base = fake.url();
    let search_url = format!("{base}2/tweets/search/recent");
    let query = [
        ("query", "refund -is:retweet lang:en"),
        ("max_results", "10"),
    ];

    let header = oauth1_header("GET", &search_url, &query, &CREDS);
    let (status, _, body) = send(
        http()
            .get(&search_url)
            .query(&query)
            .header("authorization", &header),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(fake.calls()[0].auth, header);

    // A JSON body is not part of the signature.
    let tweets_url = format!("{base}2/tweets");
    let header = oauth1_header("POST", &tweets_url, &[], &CREDS);
    let (status, _, _) = send(
        http()
            .post(&tweets_url)
            .header("authorization", &header)
            .json(&json!({"text": "signed"})),
    )
    .await;
    assert_eq!(status, 201);

    // Tampered: another signature, other parameters, another path, wrong secrets.
    let good = oauth1_header("GET", &search_url, &query, &CREDS);
    let tampered = good.replace("oauth_signature=\"", "oauth_signature=\"A");
    let wrong_secret = oauth1_header(
        "GET",
        &search_url,
        &query,
        &Oauth1 {
            token_secret: "nope",
            ..CREDS
        },
    );
    let wrong_token = oauth1_header(
        "GET",
        &search_url,
        &query,
        &Oauth1 {
            token: "other",
            ..CREDS
        },
    );
    let cases = [
        (tampered, &query[..]),
        (good.clone(), &query[..1]),
        (wrong_secret, &query[..]),
        (wrong_token, &query[..]),
    ];
    for (header, sent_query) in cases {
        let (status, _, body) = send(
            http()
                .get(&search_url)
                .query(sent_query)
                .header("authorization", &header),
        )
        .await;
        assert_eq!(status, 401, "{header}");
        assert_eq!(body["title"], "Unauthorized");
    }
    let (status, _, _) = send(
        http()
            .get(format!("{base}2/users/me"))
            .query(&query)
            .header("authorization", &good),
    )
    .await;
    assert_eq!(status, 401, "signed for another URL");
    let (status, _, _) = send(http().get(format!("{base}2/users/me")).bearer_auth("x")).await;
    assert_eq!(status, 401);
    assert_eq!(fake.unauthorized(), 6);
    assert_eq!(fake.calls().len(), 2);
}

// --- Faults ----------------------------------------------------------------

#[tokio::test]
async fn rate_limits_and_status_faults() {
    let fake = FakeX::start(oauth2()).await;
    let (status, headers, _) = send(get(&fake, "2/users/me")).await;
    assert_eq!(status, 200);
    assert_eq!(header_u64(&headers, "x-rate-limit-limit"), 900);
    assert_eq!(header_u64(&headers, "x-rate-limit-remaining"), 899);
    let reset = header_u64(&headers, "x-rate-limit-reset");
    assert!((unix_now() + 898..=unix_now() + 901).contains(&reset));

    fake.fail_next(
        "GET",
        "/2/users/1000/mentions",
        Fault::RateLimited {
            reset_in: Duration::from_secs(30),
        },
    );
    // Another route is not affected.
    assert_eq!(send(get(&fake, "2/users/me")).await.0, 200);
    let (status, headers, body) = send(get(&fake, "2/users/1000/mentions")).await;
    assert_eq!(status, 429);
    assert_eq!(
        body,
        json!({"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429})
    );
    assert_eq!(header_u64(&headers, "x-rate-limit-remaining"), 0);
    let reset = header_u64(&headers, "x-rate-limit-reset");
    assert!((unix_now() + 28..=unix_now() + 31).contains(&reset));
    assert_eq!(send(get(&fake, "2/users/1000/mentions")).await.0, 200);

    let body = json!({"title": "Service Unavailable", "type": "about:blank", "status": 503});
    fake.fail_next("POST", "/2/tweets", Fault::Status(503, body.clone()));
    fake.fail_next("POST", "/2/tweets", Fault::Drop);
    let (status, headers, got) = send(post(&fake, "2/tweets", json!({"text": "one"}))).await;
    assert_eq!((status, got), (503, body));
    assert!(headers.contains_key("x-rate-limit-remaining"));
    let (status, _, got) = send(post(&fake, "2/tweets", json!({"text": "one"}))).await;
    assert_eq!(status, 500);
    assert_eq!(got["title"], "Internal Server Error");
    assert!(fake.posted().is_empty(), "faulted posts have no effect");
    assert_eq!(
        send(post(&fake, "2/tweets", json!({"text": "one"})))
            .await
            .0,
        201
    );
    assert_eq!(fake.posted().len(), 1);
}

#[tokio::test]
async fn hang_applies_the_post_but_never_answers() {
    let fake = FakeX::start(oauth2()).await;
    fake.fail_next("POST", "/2/tweets", Fault::Hang);
    let impatient = Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let err = impatient
        .post(format!("{}2/tweets", fake.url()))
        .bearer_auth(ACCESS)
        .json(&json!({"text": "Did this go out?"}))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");

    let posted = fake.posted();
    assert_eq!(posted.len(), 1);
    assert_eq!(posted[0].text, "Did this go out?");
    let calls = fake.take_calls();
    assert_eq!(calls.len(), 1);
    assert!(calls[0].is("POST", "/2/tweets"));
    assert_eq!(calls[0].body, json!({"text": "Did this go out?"}));
    assert_eq!(calls[0].auth, format!("Bearer {ACCESS}"));

    // The bot's check: it is in the timeline, and posting again is a duplicate.
    let (_, _, body) = send(get(&fake, "2/users/1000/tweets")).await;
    assert_eq!(ids(&body), vec![posted[0].id.clone()]);
    let (status, _, _) = send(post(&fake, "2/tweets", json!({"text": "Did this go out?"}))).await;
    assert_eq!(status, 403);
    assert_eq!(fake.take_calls().len(), 2);
}

#[tokio::test]
async fn wait_for_sees_calls_as_they_arrive() {
    let fake = FakeX::start(oauth2()).await;
    let background = fake.clone();
    let task = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        send(get(&background, "2/users/me")).await.0
    });
    let calls = fake
        .wait_for("GET /2/users/me", WAIT, |calls| {
            calls.iter().any(|c| c.is("GET", "/2/users/me"))
        })
        .await;
    assert_eq!(calls.len(), 1);
    assert_eq!(task.await.unwrap(), 200);
}

// --- Account Activity payloads ---------------------------------------------

#[tokio::test]
async fn activity_payloads_have_the_v1_shapes() {
    let fake = FakeX::start(oauth2()).await;
    let ana = fake.add_user("ana", "Ana");
    let mention = fake.mention(&ana, "@acme hello there");
    let (_, _, body) = send(post(
        &fake,
        "2/tweets",
        json!({"text": "Hi Ana", "reply": {"in_reply_to_tweet_id": mention}}),
    ))
    .await;
    let brand_reply = body["data"]["id"].as_str().unwrap().to_string();
    let long = "x".repeat(150);
    let reply = fake.reply(&ana, &brand_reply, &long);

    let payload: Value = serde_json::from_slice(&fake.activity_mention(&mention)).unwrap();
    assert_eq!(payload["for_user_id"], "1000");
    let tweet = &payload["tweet_create_events"][0];
    assert_eq!(tweet["id_str"], json!(mention));
    assert_eq!(tweet["id"].as_u64().unwrap().to_string(), mention);
    assert_eq!(tweet["text"], "@acme hello there");
    assert_eq!(tweet["user"]["id_str"], "2001");
    assert_eq!(tweet["user"]["screen_name"], "ana");
    assert_eq!(tweet["user"]["name"], "Ana");
    assert!(tweet["in_reply_to_status_id_str"].is_null());
    assert!(tweet["in_reply_to_user_id_str"].is_null());
    assert_eq!(tweet["truncated"], false);
    let mentions = &tweet["entities"]["user_mentions"];
    assert_eq!(mentions[0]["id_str"], "1000");
    assert_eq!(mentions[0]["screen_name"], "acme");
    assert_eq!(mentions[0]["indices"], json!([0, 5]));
    let created = tweet["created_at"].as_str().unwrap();
    let parts: Vec<&str> = created.split(' ').collect();
    assert_eq!(parts.len(), 6, "{created}");
    assert_eq!(parts[4], "+0000");

    let payload: Value = serde_json::from_slice(&fake.activity_mention(&reply)).unwrap();
    let tweet = &payload["tweet_create_events"][0];
    assert_eq!(tweet["in_reply_to_status_id_str"], json!(brand_reply));
    assert_eq!(tweet["in_reply_to_user_id_str"], "1000");
    assert_eq!(tweet["in_reply_to_screen_name"], "acme");
    assert_eq!(tweet["truncated"], true);
    assert_eq!(tweet["text"].as_str().unwrap().chars().count(), 140);
    let full = format!("@acme {long}");
    assert_eq!(tweet["extended_tweet"]["full_text"], json!(full));
    assert_eq!(
        tweet["extended_tweet"]["display_text_range"],
        json!([6, full.chars().count()])
    );
    assert_eq!(tweet["entities"]["user_mentions"][0]["id_str"], "1000");

    let dm = fake.dm(&ana, "private question");
    let payload: Value = serde_json::from_slice(&fake.activity_dm(&dm)).unwrap();
    assert_eq!(payload["for_user_id"], "1000");
    let event = &payload["direct_message_events"][0];
    assert_eq!(event["type"], "message_create");
    assert_eq!(event["id"], json!(dm));
    assert!(
        event["created_timestamp"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .is_ok()
    );
    assert_eq!(event["message_create"]["target"]["recipient_id"], "1000");
    assert_eq!(event["message_create"]["sender_id"], "2001");
    assert_eq!(
        event["message_create"]["message_data"]["text"],
        "private question"
    );
    assert_eq!(payload["users"]["2001"]["screen_name"], "ana");
    assert_eq!(payload["users"]["2001"]["name"], "Ana");
    assert_eq!(payload["users"]["1000"]["id"], "1000");
}

#[test]
fn timestamps_in_both_formats() {
    let ms = 1_539_202_764_000;
    assert_eq!(v1_date(ms), "Wed Oct 10 20:19:24 +0000 2018");
    assert_eq!(rfc3339(ms), "2018-10-10T20:19:24.000Z");
    assert_eq!(parse_rfc3339("2018-10-10T20:19:24.000Z"), Some(ms));
    assert_eq!(parse_rfc3339("2018-10-10T20:19:24Z"), Some(ms));
    assert_eq!(parse_rfc3339("2018-10-10T22:19:24.5+02:00"), Some(ms + 500));
    assert_eq!(parse_rfc3339("2018-10-10 20:19"), None);
    assert_eq!(v1_date(0), "Thu Jan 01 00:00:00 +0000 1970");
    assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
}

//! Meta's wire format for carebridge (platforms.md §4): the webhook
//! signature's framing, webhook deliveries (Page feed comments, Messenger
//! messages, Instagram comments, mentions and messages) turned into
//! [`Event`]s, and Graph API error bodies sorted into what they mean.
//!
//! Pure: no I/O. A delivery batches many entries and changes; each is read on
//! its own, so one malformed change is logged and dropped without losing the
//! rest.

use chrono::{DateTime, TimeZone, Utc};
use serde::Deserialize;
use serde_json::Value;

use crate::engine::{Author, CanDm, Platform, PostChange, PostKind, SocialPost};
use crate::hmac;

/// `X-Hub-Signature-256`'s prefix.
const PREFIX: &str = "sha256=";

/// Checks `X-Hub-Signature-256` ("sha256=<hex HMAC-SHA256(app secret, raw body)>") in
/// constant time. Meta signs the raw bytes it sent, so they are never re-serialized.
pub fn verify(app_secret: &str, body: &[u8], header: &str) -> bool {
    header
        .trim()
        .strip_prefix(PREFIX)
        .and_then(|h| hex::decode(h.to_ascii_lowercase()).ok())
        .is_some_and(|tag| hmac::verify_sha256(app_secret.as_bytes(), &[body], &tag))
}

/// The header value Meta would send for `body` (tests and fakes use it).
pub fn sign(app_secret: &str, body: &[u8]) -> String {
    format!(
        "{PREFIX}{}",
        hex::encode(hmac::sha256(app_secret.as_bytes(), &[body]))
    )
}

/// One webhook delivery: `{"object": "page"|"instagram", "entry": [...]}`.
#[derive(Debug, Deserialize)]
pub struct Delivery {
    pub object: String,
    #[serde(default)]
    pub entry: Vec<Entry>,
}

/// One entry: what happened to one Page or Instagram account (`id`).
#[derive(Debug, Deserialize)]
pub struct Entry {
    pub id: String,
    #[serde(default)]
    pub changes: Vec<Change>,
    #[serde(default)]
    pub messaging: Vec<Value>,
}

/// A `changes[]` item; its `value` is read according to `field`.
#[derive(Debug, Deserialize)]
pub struct Change {
    pub field: String,
    #[serde(default)]
    pub value: Value,
}

/// What one change or message means for carebridge.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A customer post: a new case, or a follow-up in one.
    Post(Box<SocialPost>),
    /// A comment was edited, removed, hidden or shown again (by its author or a moderator).
    Changed { post: String, change: PostChange },
    /// An Instagram @mention: only ids arrive, the text is looked up.
    Mention {
        media: String,
        comment: Option<String>,
    },
}

/// Why a change or message was not turned into an event (logged; never fatal).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// Ours (the Page's own comment, an echo of our message), or not about customers
    /// (reads, deliveries, reactions, likes).
    NotForUs,
    /// A shape we do not read: the field and why.
    Unreadable(String),
}

/// Meta's `created_time`: Unix seconds (feed webhooks) or RFC 3339 with a `+0000` offset
/// (Graph objects).
pub fn time(value: &Value) -> Option<DateTime<Utc>> {
    match value {
        Value::Number(n) => Utc.timestamp_opt(n.as_i64()?, 0).single(),
        Value::String(s) => DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%z")
            .ok()
            .map(|t| t.with_timezone(&Utc)),
        _ => None,
    }
}

fn text(value: &Value, key: &str) -> Option<String> {
    value.get(key)?.as_str().map(str::to_owned)
}

/// A post from its parts; Meta's comments and messages have no permalink we can build
/// without another call, and DMs are always possible within the window the engine checks.
#[allow(clippy::too_many_arguments)]
fn post(
    platform: Platform,
    account: &str,
    id: String,
    conversation: String,
    author: Author,
    kind: PostKind,
    text: String,
    at: DateTime<Utc>,
) -> SocialPost {
    SocialPost {
        platform,
        account: account.to_owned(),
        id,
        conversation_id: conversation,
        author,
        kind,
        text,
        permalink: None,
        created_at: at,
        // Comments allow one private reply and DMs are answered by DM; the engine keeps the
        // windows.
        can_dm: CanDm::Yes,
        reply_by: None,
        queue: None,
        parent: None,
        reference: None,
    }
}

/// A Page feed change (`field: "feed"`). Comments only: posts, reactions and likes on the
/// Page are not customer conversations.
pub fn feed(account: &str, page: &str, value: &Value, now: DateTime<Utc>) -> Result<Event, Skip> {
    if value.get("item").and_then(Value::as_str) != Some("comment") {
        return Err(Skip::NotForUs);
    }
    let from = value.get("from").cloned().unwrap_or_default();
    let from_id = text(&from, "id").ok_or_else(|| Skip::Unreadable("feed: no from.id".into()))?;
    if from_id == page {
        return Err(Skip::NotForUs);
    }
    let comment =
        text(value, "comment_id").ok_or_else(|| Skip::Unreadable("feed: no comment_id".into()))?;
    let verb = value.get("verb").and_then(Value::as_str).unwrap_or("add");
    let message = text(value, "message").unwrap_or_default();
    // The verbs past `add` are UNCONFIRMED (platforms.md §4.2): read defensively, and a
    // verb not known here changes nothing.
    let change = match verb {
        "add" => None,
        "edited" | "edit" => Some(PostChange::Edited {
            text: message.clone(),
        }),
        "remove" | "delete" => Some(PostChange::Removed),
        "hide" => Some(PostChange::Hidden { hidden: true }),
        "unhide" => Some(PostChange::Hidden { hidden: false }),
        _ => return Err(Skip::NotForUs),
    };
    if let Some(change) = change {
        return Ok(Event::Changed {
            post: comment,
            change,
        });
    }
    let post_id =
        text(value, "post_id").ok_or_else(|| Skip::Unreadable("feed: no post_id".into()))?;
    let name = text(&from, "name");
    let author = Author {
        id: from_id.clone(),
        handle: name.clone().unwrap_or(from_id),
        name,
    };
    let at = value.get("created_time").and_then(time).unwrap_or(now);
    // A top-level comment's parent is the post itself.
    let parent = text(value, "parent_id").filter(|p| *p != post_id);
    let post = post(
        Platform::Facebook,
        account,
        comment,
        post_id,
        author,
        PostKind::Comment,
        message,
        at,
    );
    Ok(Event::Post(Box::new(SocialPost { parent, ..post })))
}

/// An Instagram `comments` change.
pub fn ig_comment(
    account: &str,
    ig: &str,
    value: &Value,
    now: DateTime<Utc>,
) -> Result<Event, Skip> {
    let from = value.get("from").cloned().unwrap_or_default();
    let from_id =
        text(&from, "id").ok_or_else(|| Skip::Unreadable("comments: no from.id".into()))?;
    if from_id == ig {
        return Err(Skip::NotForUs);
    }
    let id = text(value, "id").ok_or_else(|| Skip::Unreadable("comments: no id".into()))?;
    let media = value
        .get("media")
        .and_then(|m| text(m, "id"))
        .ok_or_else(|| Skip::Unreadable("comments: no media.id".into()))?;
    let username = text(&from, "username").unwrap_or_else(|| from_id.clone());
    let author = Author {
        id: from_id,
        handle: username,
        name: None,
    };
    let post = post(
        Platform::Instagram,
        account,
        id,
        media,
        author,
        PostKind::Comment,
        text(value, "text").unwrap_or_default(),
        now,
    );
    Ok(Event::Post(Box::new(SocialPost {
        parent: text(value, "parent_id"),
        ..post
    })))
}

/// An Instagram `mentions` change: ids only.
pub fn ig_mention(value: &Value) -> Result<Event, Skip> {
    let media =
        text(value, "media_id").ok_or_else(|| Skip::Unreadable("mentions: no media_id".into()))?;
    Ok(Event::Mention {
        media,
        comment: text(value, "comment_id"),
    })
}

/// An Instagram @mention as a post, from the Graph object it points at (`object`, read
/// with `id,text|caption,username,timestamp,from`): a comment `id` under `media`, or the
/// media's caption when the mention is there. Missing fields leave the post plain, never
/// unreadable: the mention still reaches the team.
pub fn mention_post(
    account: &str,
    media: &str,
    id: &str,
    object: &Value,
    now: DateTime<Utc>,
) -> SocialPost {
    let username = text(object, "username").unwrap_or_else(|| "unknown".to_owned());
    let author = Author {
        id: object
            .get("from")
            .and_then(|f| text(f, "id"))
            .unwrap_or_else(|| username.clone()),
        handle: username,
        name: None,
    };
    let at = object.get("timestamp").and_then(time).unwrap_or(now);
    let body = text(object, "text")
        .or_else(|| text(object, "caption"))
        .unwrap_or_default();
    let mut post = post(
        Platform::Instagram,
        account,
        id.to_owned(),
        media.to_owned(),
        author,
        PostKind::Mention,
        body,
        at,
    );
    // Someone who mentions the brand may not accept its messages.
    post.can_dm = CanDm::Unknown;
    post
}

/// A `messaging[]` item (Messenger, or Instagram messaging: the same shape).
pub fn message(
    platform: Platform,
    account: &str,
    owner: &str,
    item: &Value,
    now: DateTime<Utc>,
) -> Result<Event, Skip> {
    let Some(message) = item.get("message") else {
        // Reads, deliveries, reactions, postbacks: nothing a customer said.
        return Err(Skip::NotForUs);
    };
    if message.get("is_echo").and_then(Value::as_bool) == Some(true) {
        return Err(Skip::NotForUs);
    }
    let sender = item
        .get("sender")
        .and_then(|s| text(s, "id"))
        .ok_or_else(|| Skip::Unreadable("messaging: no sender.id".into()))?;
    if sender == owner {
        return Err(Skip::NotForUs);
    }
    let mid =
        text(message, "mid").ok_or_else(|| Skip::Unreadable("messaging: no message.mid".into()))?;
    // Milliseconds (platforms.md §4.3 marks the unit unconfirmed): a value that only makes
    // sense as seconds is read as seconds.
    let at = item
        .get("timestamp")
        .and_then(Value::as_i64)
        .and_then(|t| match t > 100_000_000_000 {
            true => Utc.timestamp_millis_opt(t).single(),
            false => Utc.timestamp_opt(t, 0).single(),
        })
        .unwrap_or(now);
    let author = Author {
        id: sender.clone(),
        handle: sender.clone(),
        name: None,
    };
    let body = match text(message, "text") {
        Some(text) => text,
        // A photo, a sticker: still a message to answer.
        None if message.get("attachments").is_some() => "(attachment)".to_owned(),
        None => String::new(),
    };
    Ok(Event::Post(Box::new(post(
        platform,
        account,
        mid,
        sender,
        author,
        PostKind::DirectMessage,
        body,
        at,
    ))))
}

/// Every event in one entry for `account` (whose Page or Instagram id is `owner`), each
/// with its own outcome so one bad change costs only itself.
pub fn entry_events(
    object: &str,
    account: &str,
    owner: &str,
    entry: &Entry,
    now: DateTime<Utc>,
) -> Vec<Result<Event, Skip>> {
    let platform = match object {
        "instagram" => Platform::Instagram,
        _ => Platform::Facebook,
    };
    let changes = entry
        .changes
        .iter()
        .map(|change| match (platform, change.field.as_str()) {
            (Platform::Facebook, "feed") => feed(account, owner, &change.value, now),
            (Platform::Instagram, "comments" | "live_comments") => {
                ig_comment(account, owner, &change.value, now)
            }
            (Platform::Instagram, "mentions") => ig_mention(&change.value),
            _ => Err(Skip::NotForUs),
        });
    let messages = entry
        .messaging
        .iter()
        .map(|item| message(platform, account, owner, item, now));
    changes.chain(messages).collect()
}

/// A Graph API error body: `{"error":{"message","type","code","error_subcode","fbtrace_id"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct GraphError {
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub code: u64,
    #[serde(default)]
    pub error_subcode: Option<u64>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: GraphError,
}

/// The error in a Graph answer's body, if it is one.
pub fn graph_error(body: &[u8]) -> Option<GraphError> {
    serde_json::from_slice::<ErrorBody>(body)
        .ok()
        .map(|b| b.error)
}

/// What a Graph error means for the reply or action that met it (platforms.md §4.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Meaning {
    /// Outside the messaging window (code 10 and its subcodes 2018278, 2018065…).
    WindowClosed,
    /// The person can't be messaged now (551).
    Unavailable,
    /// A private reply was already sent for this comment (10900).
    AlreadyReplied,
    /// The token is invalid, expired or revoked (190, and 102): a health problem.
    TokenInvalid,
    /// A permission the app or Page lacks (10 without a window subcode, 200–299).
    Permission,
    /// Too many calls (4 app, 17 user, 32 page, 613 custom, 80001–80014 business use case).
    RateLimited,
    /// Meta's own trouble (1, 2): try again.
    Transient,
    /// The object is gone (100 with subcode 33) or the request is malformed (100).
    NotFound,
    /// Anything else: refused as it stands.
    Other,
}

/// Sorts a Graph error by what to do about it.
pub fn meaning(error: &GraphError) -> Meaning {
    match (error.code, error.error_subcode) {
        (10, Some(2018278 | 2018065 | 2018108 | 2018109)) => Meaning::WindowClosed,
        (10, _) if error.message.contains("outside of allowed window") => Meaning::WindowClosed,
        (551, _) => Meaning::Unavailable,
        (10900, _) => Meaning::AlreadyReplied,
        (190 | 102, _) => Meaning::TokenInvalid,
        (10 | 200..=299, _) => Meaning::Permission,
        (4 | 17 | 32 | 613 | 80001..=80014, _) => Meaning::RateLimited,
        (1 | 2, _) => Meaning::Transient,
        (100, Some(33)) => Meaning::NotFound,
        _ => Meaning::Other,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use serde_json::json;

    use super::*;

    const PAGE: &str = "448242228374517";

    fn now() -> DateTime<Utc> {
        Utc.timestamp_opt(1_742_667_700, 0).unwrap()
    }

    /// platforms.md §4.2, as captured.
    fn comment_delivery() -> Value {
        json!({"object":"page","entry":[{"id":PAGE,"time":1742667607,"changes":[{"field":"feed","value":{
            "from":{"id":"7001","name":"Jane Doe"},
            "post":{"status_type":"mobile_status_update","is_published":true,"updated_time":"2025-03-22T18:20:04+0000","promotion_status":"inactive","id":"448242228374517_122131676912594941"},
            "message":"Where is my order?","post_id":"448242228374517_122131676912594941",
            "comment_id":"122131676912594941_1213590066982748","created_time":1742667604,
            "item":"comment","parent_id":"448242228374517_122131676912594941","verb":"add"}}]}]})
    }

    fn events(delivery: &Value) -> Vec<Result<Event, Skip>> {
        let delivery: Delivery = serde_json::from_value(delivery.clone()).unwrap();
        delivery
            .entry
            .iter()
            .flat_map(|e| entry_events(&delivery.object, "acme-fb", PAGE, e, now()))
            .collect()
    }

    #[test]
    fn a_page_comment_is_a_comment_post_in_its_posts_conversation() {
        let events = events(&comment_delivery());
        let [Ok(Event::Post(post))] = events.as_slice() else {
            panic!("{events:?}");
        };
        assert_eq!(post.platform, Platform::Facebook);
        assert_eq!(post.kind, PostKind::Comment);
        assert_eq!(post.id, "122131676912594941_1213590066982748");
        assert_eq!(post.conversation_id, "448242228374517_122131676912594941");
        assert_eq!(post.author.id, "7001");
        assert_eq!(post.author.name.as_deref(), Some("Jane Doe"));
        assert_eq!(post.text, "Where is my order?");
        assert_eq!(post.created_at.timestamp(), 1_742_667_604);
        // A top-level comment's parent is the post: no comment thread to keep.
        assert_eq!(post.parent, None);
    }

    #[test]
    fn a_reply_in_a_comment_thread_keeps_its_parent() {
        let mut reply = comment_delivery();
        reply["entry"][0]["changes"][0]["value"]["parent_id"] =
            json!("122131676912594941_542072878449250");
        let events = events(&reply);
        let [Ok(Event::Post(post))] = events.as_slice() else {
            panic!("{events:?}");
        };
        assert_eq!(
            post.parent.as_deref(),
            Some("122131676912594941_542072878449250")
        );
        assert_eq!(post.conversation_id, "448242228374517_122131676912594941");
    }

    #[test]
    fn the_pages_own_comments_edits_and_removals() {
        let mut own = comment_delivery();
        own["entry"][0]["changes"][0]["value"]["from"]["id"] = json!(PAGE);
        assert_eq!(events(&own), [Err(Skip::NotForUs)]);
        let mut edited = comment_delivery();
        edited["entry"][0]["changes"][0]["value"]["verb"] = json!("edited");
        let changed = |change| {
            [Ok(Event::Changed {
                post: "122131676912594941_1213590066982748".into(),
                change,
            })]
        };
        assert_eq!(
            events(&edited),
            changed(PostChange::Edited {
                text: "Where is my order?".into()
            })
        );
        for (verb, change) in [
            ("remove", PostChange::Removed),
            ("hide", PostChange::Hidden { hidden: true }),
            ("unhide", PostChange::Hidden { hidden: false }),
        ] {
            let mut delivery = comment_delivery();
            delivery["entry"][0]["changes"][0]["value"]["verb"] = json!(verb);
            assert_eq!(events(&delivery), changed(change), "{verb}");
        }
        let mut muted = comment_delivery();
        muted["entry"][0]["changes"][0]["value"]["verb"] = json!("mute");
        assert_eq!(events(&muted), [Err(Skip::NotForUs)]);
        let mut reaction = comment_delivery();
        reaction["entry"][0]["changes"][0]["value"]["item"] = json!("reaction");
        assert_eq!(events(&reaction), [Err(Skip::NotForUs)]);
    }

    #[test]
    fn messenger_messages_not_echoes_reads_or_deliveries() {
        let delivery = json!({"object":"page","entry":[{"id":PAGE,"time":1700000000,"messaging":[
            {"sender":{"id":"PSID1"},"recipient":{"id":PAGE},"timestamp":1700000000123u64,
             "message":{"mid":"m_1","text":"hello"}},
            {"sender":{"id":PAGE},"recipient":{"id":"PSID1"},"timestamp":1700000000200u64,
             "message":{"mid":"m_2","text":"hi","is_echo":true}},
            {"sender":{"id":"PSID1"},"recipient":{"id":PAGE},"timestamp":1700000000300u64,
             "read":{"watermark":1700000000200u64}},
            {"sender":{"id":"PSID1"},"recipient":{"id":PAGE},"timestamp":1700000000400u64,
             "delivery":{"mids":["m_2"],"watermark":1700000000200u64}}
        ]}]});
        let events = events(&delivery);
        let Ok(Event::Post(post)) = &events[0] else {
            panic!("{events:?}");
        };
        assert_eq!(post.kind, PostKind::DirectMessage);
        assert_eq!(post.id, "m_1");
        assert_eq!(post.author.id, "PSID1");
        assert_eq!(post.created_at.timestamp_millis(), 1_700_000_000_123);
        assert_eq!(
            &events[1..],
            [
                Err(Skip::NotForUs),
                Err(Skip::NotForUs),
                Err(Skip::NotForUs)
            ]
        );
    }

    #[test]
    fn instagram_comments_mentions_and_messages() {
        let delivery = json!({"object":"instagram","entry":[{"id":"17841400000000001","time":1700000000,"changes":[
            {"field":"comments","value":{"id":"1790001","from":{"id":"9001","username":"jane.d"},
              "text":"Love it, but it broke","media":{"id":"1800001","media_product_type":"FEED"}}},
            {"field":"mentions","value":{"media_id":"1800002","comment_id":"1790002"}},
            {"field":"comments","value":{"from":{"id":"9001"}}},
            {"field":"comments","value":{"id":"1790003","from":{"id":"9003","username":"sam.k"},
              "text":"same here","media":{"id":"1800001"},"parent_id":"1790001"}}
        ],"messaging":[{"sender":{"id":"IGSID1"},"recipient":{"id":"17841400000000001"},
            "timestamp":1700000000000u64,"message":{"mid":"aWdf1","text":"dm"}}]}]});
        let delivery: Delivery = serde_json::from_value(delivery).unwrap();
        let events = entry_events(
            "instagram",
            "acme-ig",
            "17841400000000001",
            &delivery.entry[0],
            now(),
        );
        let Ok(Event::Post(comment)) = &events[0] else {
            panic!("{events:?}");
        };
        assert_eq!(comment.platform, Platform::Instagram);
        assert_eq!(
            (comment.id.as_str(), comment.conversation_id.as_str()),
            ("1790001", "1800001")
        );
        assert_eq!(comment.author.handle, "jane.d");
        assert_eq!(
            events[1],
            Ok(Event::Mention {
                media: "1800002".into(),
                comment: Some("1790002".into())
            })
        );
        assert!(matches!(events[2], Err(Skip::Unreadable(_))));
        assert!(matches!(&events[3], Ok(Event::Post(p)) if p.parent.as_deref() == Some("1790001")));
        assert_eq!(comment.parent, None);
        assert!(
            matches!(&events[4], Ok(Event::Post(p)) if p.kind == PostKind::DirectMessage && p.platform == Platform::Instagram)
        );
    }

    #[test]
    fn a_mention_reads_its_graph_object() {
        let object = json!({"id": "1790002", "text": "@acme in stock?", "username": "sam.k",
            "timestamp": "2026-11-23T10:00:00+0000", "from": {"id": "9002"}});
        let post = mention_post("acme-ig", "1800002", "1790002", &object, now());
        assert_eq!(
            (post.kind, post.platform),
            (PostKind::Mention, Platform::Instagram)
        );
        assert_eq!(
            (post.id.as_str(), post.conversation_id.as_str()),
            ("1790002", "1800002")
        );
        assert_eq!(
            (post.author.id.as_str(), post.author.handle.as_str()),
            ("9002", "sam.k")
        );
        assert_eq!(post.text, "@acme in stock?");
        assert_eq!(post.created_at.to_rfc3339(), "2026-11-23T10:00:00+00:00");
        let caption = mention_post(
            "acme-ig",
            "1800002",
            "1800002",
            &json!({"caption": "hi @acme"}),
            now(),
        );
        assert_eq!(
            (caption.text.as_str(), caption.author.handle.as_str()),
            ("hi @acme", "unknown")
        );
        assert_eq!(caption.created_at, now());
    }

    #[test]
    fn signatures_are_hex_hmac_of_the_raw_body() {
        let body = br#"{"object":"page","entry":[]}"#;
        let header = sign("app-secret", body);
        assert!(header.starts_with("sha256="));
        assert!(verify("app-secret", body, &header));
        assert!(verify(
            "app-secret",
            body,
            &header.to_uppercase().replace("SHA256=", "sha256=")
        ));
        assert!(!verify("other", body, &header));
        assert!(!verify(
            "app-secret",
            br#"{"object":"page","entry":[ ]}"#,
            &header
        ));
        assert!(!verify("app-secret", body, "sha1=abc"));
        assert!(!verify("app-secret", body, "sha256=zz"));
    }

    #[test]
    fn graph_errors_sort_by_what_to_do() {
        let error = |code, subcode| GraphError {
            message: String::new(),
            code,
            error_subcode: subcode,
        };
        assert_eq!(meaning(&error(10, Some(2018278))), Meaning::WindowClosed);
        assert_eq!(meaning(&error(551, Some(1545041))), Meaning::Unavailable);
        assert_eq!(meaning(&error(190, Some(460))), Meaning::TokenInvalid);
        assert_eq!(meaning(&error(200, None)), Meaning::Permission);
        assert_eq!(meaning(&error(10, None)), Meaning::Permission);
        for code in [4, 17, 32, 613, 80001] {
            assert_eq!(meaning(&error(code, None)), Meaning::RateLimited);
        }
        assert_eq!(meaning(&error(2, None)), Meaning::Transient);
        assert_eq!(meaning(&error(100, Some(33))), Meaning::NotFound);
        assert_eq!(meaning(&error(10900, None)), Meaning::AlreadyReplied);
        let body = br#"{"error":{"message":"(#10) This message is sent outside of allowed window.","type":"OAuthException","code":10,"error_subcode":2018278,"fbtrace_id":"A"}}"#;
        assert_eq!(meaning(&graph_error(body).unwrap()), Meaning::WindowClosed);
        assert_eq!(graph_error(b"{}"), None);
    }
}

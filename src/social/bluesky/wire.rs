//! Bluesky's wire format for carebridge (platforms.md §6): notifications as
//! `app.bsky.notification.listNotifications` sends them, turned into
//! [`SocialPost`]s; the poll's mark; the reply, like and repost records we
//! write, with their facets in UTF-8 byte offsets; record keys (TIDs) derived
//! from what they publish; `at://` URIs; XRPC error bodies.
//!
//! Pure: no I/O. A notification that cannot be read is skipped on its own
//! (logged by the caller), so one odd post never holds back the rest.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::engine::{Author, CanDm, Platform, PostKind, Reference, SocialPost, StrongRef, rules};
use crate::social::Skip;

/// The collection of posts.
pub const POST: &str = "app.bsky.feed.post";
/// The collection of likes.
pub const LIKE: &str = "app.bsky.feed.like";
/// The collection of reposts.
pub const REPOST: &str = "app.bsky.feed.repost";

/// `app.bsky.actor.defs#profileViewBasic` (the fields carebridge reads).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub did: String,
    pub handle: String,
    #[serde(default)]
    pub display_name: Option<String>,
}

/// `app.bsky.notification.listNotifications#notification` (the fields carebridge reads).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    pub uri: String,
    pub cid: String,
    pub author: Profile,
    /// `mention`, `reply`, `like`, …
    pub reason: String,
    /// The post in a `record` field: the customer's post for a mention or a reply.
    pub record: Value,
    pub indexed_at: DateTime<Utc>,
}

/// A post record's fields carebridge reads.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PostRecord {
    text: String,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    reply: Option<ReplyRefs>,
}

#[derive(Debug, Clone, Deserialize)]
struct ReplyRefs {
    root: StrongRef,
}

/// Reads one notification from the API (a JSON value, so that one malformed entry in a
/// page is dropped alone).
pub fn notification(value: Value) -> Result<Notification, Skip> {
    serde_json::from_value(value).map_err(|e| Skip::Unreadable(e.to_string()))
}

/// The post a mention or reply notification carries. `me` is the brand's DID (its own
/// posts are ignored). Its conversation is the thread's root, so an answer anywhere in the
/// thread joins the case; its reference keeps the cid and root a reply to it must name.
pub fn post(notification: &Notification, account: &str, me: &str) -> Result<SocialPost, Skip> {
    if !matches!(notification.reason.as_str(), "mention" | "reply") || notification.author.did == me
    {
        return Err(Skip::NotForUs);
    }
    let record: PostRecord = serde_json::from_value(notification.record.clone())
        .map_err(|e| Skip::Unreadable(format!("record: {e}")))?;
    let root = match record.reply {
        Some(reply) => reply.root,
        None => StrongRef {
            uri: notification.uri.clone(),
            cid: notification.cid.clone(),
        },
    };
    let author = &notification.author;
    let name = author.display_name.as_deref().map(str::trim);
    let created_at = record
        .created_at
        .and_then(|at| DateTime::parse_from_rfc3339(&at).ok())
        .map_or(notification.indexed_at, |at| at.with_timezone(&Utc));
    Ok(SocialPost {
        platform: Platform::Bluesky,
        account: account.to_owned(),
        id: notification.uri.clone(),
        conversation_id: root.uri.clone(),
        author: Author {
            id: author.did.clone(),
            handle: author.handle.clone(),
            name: name.filter(|n| !n.is_empty()).map(str::to_owned),
        },
        kind: PostKind::Mention,
        text: record.text,
        permalink: at_uri(&notification.uri)
            .map(|u| format!("https://bsky.app/profile/{}/post/{}", author.handle, u.rkey)),
        created_at,
        // Bluesky's API offers no direct messages to apps; the engine refuses them.
        can_dm: CanDm::No,
        reply_by: None,
        queue: None,
        parent: None,
        reference: Some(Reference {
            cid: notification.cid.clone(),
            root,
        }),
    })
}

/// Where the poll stands: the newest notification ingested. Pages come newest first, so a
/// poll reads until it meets this one (or anything indexed before it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    pub indexed_at: DateTime<Utc>,
    pub uri: String,
}

impl Mark {
    /// The mark of a notification as the API sent it, if it has the fields.
    pub fn of(value: &Value) -> Option<Mark> {
        let indexed_at = value.get("indexedAt")?.as_str()?;
        Some(Mark {
            indexed_at: DateTime::parse_from_rfc3339(indexed_at)
                .ok()?
                .with_timezone(&Utc),
            uri: value.get("uri")?.as_str()?.to_owned(),
        })
    }

    /// The stored form: `<indexedAt> <uri>`.
    pub fn encode(&self) -> String {
        format!("{} {}", iso(self.indexed_at), self.uri)
    }

    pub fn decode(text: &str) -> Option<Mark> {
        let (at, uri) = text.split_once(' ')?;
        Some(Mark {
            indexed_at: DateTime::parse_from_rfc3339(at).ok()?.with_timezone(&Utc),
            uri: uri.to_owned(),
        })
    }

    /// Whether a notification with this mark was ingested by the poll that left `since`.
    pub fn reached(&self, since: &Mark) -> bool {
        self.uri == since.uri || self.indexed_at < since.indexed_at
    }
}

/// A time as atproto writes it: `2026-12-07T10:00:00.000Z`.
pub fn iso(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The parts of an `at://<repo>/<collection>/<rkey>` URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AtUri<'a> {
    pub repo: &'a str,
    pub collection: &'a str,
    pub rkey: &'a str,
}

pub fn at_uri(uri: &str) -> Option<AtUri<'_>> {
    let mut parts = uri.strip_prefix("at://")?.split('/');
    let parsed = AtUri {
        repo: parts.next().filter(|p| !p.is_empty())?,
        collection: parts.next().filter(|p| !p.is_empty())?,
        rkey: parts.next().filter(|p| !p.is_empty())?,
    };
    parts.next().is_none().then_some(parsed)
}

/// The base32-sortable alphabet of TIDs.
const TID_ALPHABET: &[u8; 32] = b"234567abcdefghijklmnopqrstuvwxyz";

/// A TID (atproto's timestamp identifier, the record key posts, likes and reposts use): 53
/// bits of microseconds since the Unix epoch, then 10 bits of clock id, as 13 base32-sortable
/// characters (the top bit is zero, so the first is one of `234567abcdefghij`).
pub fn tid(micros: u64, clock: u16) -> String {
    let n = ((micros & ((1 << 53) - 1)) << 10) | u64::from(clock & 0x3ff);
    (0..13)
        .map(|i| char::from(TID_ALPHABET[((n >> (60 - 5 * i)) & 31) as usize]))
        .collect()
}

/// The record key a publication is put at, the same on every attempt: a TID whose time is
/// `at` (a reply's approval, a like's post) and whose clock id is the first 10 bits of
/// SHA-256 of `key` (the draft's key, or the action and post). Putting a record at it twice
/// cannot make two.
pub fn record_key(key: &str, at: DateTime<Utc>) -> String {
    let digest = Sha256::digest(key.as_bytes());
    let clock = u16::from_be_bytes([digest[0], digest[1]]) >> 6;
    tid(u64::try_from(at.timestamp_micros()).unwrap_or(0), clock)
}

/// Facets for a text we publish: the customer's `@handle` as a mention of their DID (or
/// they are not notified), and every http(s) link, in UTF-8 byte offsets (`byteStart`
/// inclusive, `byteEnd` exclusive).
pub fn facets(text: &str, handle: &str, did: &str) -> Vec<Value> {
    let mentions = rules::mentions(handle, text).into_iter().map(|range| {
        facet(
            range,
            json!({"$type": "app.bsky.richtext.facet#mention", "did": did}),
        )
    });
    let links = rules::words(text).filter_map(|(start, word)| {
        let url = url::Url::parse(word)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())?;
        let range = start..start + word.len();
        // The facet links what was written; the record keeps the URL it means.
        Some(facet(
            range,
            json!({"$type": "app.bsky.richtext.facet#link", "uri": url.as_str()}),
        ))
    });
    let mut all: Vec<Value> = mentions.chain(links).collect();
    all.sort_by_key(|f| f["index"]["byteStart"].as_u64());
    all
}

fn facet(range: std::ops::Range<usize>, feature: Value) -> Value {
    json!({
        "index": {"byteStart": range.start, "byteEnd": range.end},
        "features": [feature],
    })
}

/// A reply post record: `text` (already addressed), answering `parent` in the thread that
/// starts at `root`, made at `at`, with its facets.
pub fn reply_record(
    text: &str,
    at: DateTime<Utc>,
    parent: &StrongRef,
    root: &StrongRef,
    customer: &Author,
) -> Value {
    let mut record = json!({
        "$type": POST,
        "text": text,
        "createdAt": iso(at),
        "reply": {"root": root, "parent": parent},
    });
    let facets = facets(text, &customer.handle, &customer.id);
    if !facets.is_empty() {
        record["facets"] = Value::Array(facets);
    }
    record
}

/// A like or repost record of `subject`, made at `at`.
pub fn subject_record(collection: &str, subject: &StrongRef, at: DateTime<Utc>) -> Value {
    json!({"$type": collection, "subject": subject, "createdAt": iso(at)})
}

/// An XRPC error body: `{"error": "<Name>", "message": "…"}`, either part possibly missing.
pub fn error_body(body: &[u8]) -> (Option<String>, Option<String>) {
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return (None, None);
    };
    let field = |k: &str| value.get(k).and_then(Value::as_str).map(str::to_owned);
    (field("error"), field("message"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    const ME: &str = "did:plc:acme";

    fn mention(reply: Option<Value>) -> Value {
        let mut record = json!({
            "$type": "app.bsky.feed.post",
            "text": "@acme.bsky.social my parcel never arrived",
            "createdAt": "2026-12-07T10:00:00.000Z",
            "facets": [],
        });
        if let Some(reply) = reply {
            record["reply"] = reply;
        }
        json!({
            "uri": "at://did:plc:jane/app.bsky.feed.post/3lbfgkmcb4c2s",
            "cid": "bafyreijane",
            "author": {"did": "did:plc:jane", "handle": "jane.bsky.social", "displayName": "Jane ", "labels": []},
            "reason": "mention",
            "record": record,
            "isRead": false,
            "indexedAt": "2026-12-07T10:00:01.234Z",
            "labels": [],
        })
    }

    #[test]
    fn a_mention_becomes_a_post_with_its_strong_refs() {
        let n = notification(mention(None)).unwrap();
        let post = post(&n, "acme-bsky", ME).unwrap();
        assert_eq!(
            post.id,
            "at://did:plc:jane/app.bsky.feed.post/3lbfgkmcb4c2s"
        );
        assert_eq!(post.conversation_id, post.id);
        assert_eq!(post.author.id, "did:plc:jane");
        assert_eq!(post.author.handle, "jane.bsky.social");
        assert_eq!(post.author.name.as_deref(), Some("Jane"));
        assert_eq!(post.kind, PostKind::Mention);
        assert_eq!(post.text, "@acme.bsky.social my parcel never arrived");
        assert_eq!(
            post.permalink.as_deref(),
            Some("https://bsky.app/profile/jane.bsky.social/post/3lbfgkmcb4c2s")
        );
        assert_eq!(iso(post.created_at), "2026-12-07T10:00:00.000Z");
        let reference = post.reference.unwrap();
        assert_eq!(reference.cid, "bafyreijane");
        assert_eq!(reference.root.uri, post.id);
        assert_eq!(reference.root.cid, "bafyreijane");
    }

    #[test]
    fn a_reply_keeps_its_threads_root_as_conversation_and_root() {
        let root = json!({"uri": "at://did:plc:acme/app.bsky.feed.post/3root", "cid": "bafyroot"});
        let parent =
            json!({"uri": "at://did:plc:acme/app.bsky.feed.post/3ours", "cid": "bafyours"});
        let mut value = mention(Some(json!({"root": root, "parent": parent})));
        value["reason"] = json!("reply");
        let post = post(&notification(value).unwrap(), "acme-bsky", ME).unwrap();
        assert_eq!(
            post.conversation_id,
            "at://did:plc:acme/app.bsky.feed.post/3root"
        );
        assert_eq!(post.reference.unwrap().root.cid, "bafyroot");
    }

    #[test]
    fn other_reasons_our_own_posts_and_malformed_entries_are_skipped_alone() {
        let mut like = mention(None);
        like["reason"] = json!("like");
        assert_eq!(
            post(&notification(like).unwrap(), "a", ME),
            Err(Skip::NotForUs)
        );
        let mut ours = mention(None);
        ours["author"]["did"] = json!(ME);
        assert_eq!(
            post(&notification(ours).unwrap(), "a", ME),
            Err(Skip::NotForUs)
        );
        let mut no_text = mention(None);
        no_text["record"] = json!({"createdAt": "2026-12-07T10:00:00.000Z"});
        assert!(matches!(
            post(&notification(no_text).unwrap(), "a", ME),
            Err(Skip::Unreadable(_))
        ));
        let mut no_cid = mention(None);
        no_cid.as_object_mut().unwrap().remove("cid");
        assert!(matches!(notification(no_cid), Err(Skip::Unreadable(_))));
        assert!(matches!(
            notification(json!([1, 2])),
            Err(Skip::Unreadable(_))
        ));
        // A record time that cannot be read leaves the index time.
        let mut odd_time = mention(None);
        odd_time["record"]["createdAt"] = json!("yesterday");
        let post = post(&notification(odd_time).unwrap(), "a", ME).unwrap();
        assert_eq!(iso(post.created_at), "2026-12-07T10:00:01.234Z");
    }

    #[test]
    fn marks_round_trip_and_tell_what_was_ingested() {
        let value = mention(None);
        let mark = Mark::of(&value).unwrap();
        assert_eq!(Mark::decode(&mark.encode()), Some(mark.clone()));
        assert!(mark.reached(&mark));
        let older = Mark {
            indexed_at: mark.indexed_at - chrono::TimeDelta::seconds(1),
            uri: "at://x/y/z".into(),
        };
        assert!(older.reached(&mark));
        assert!(!mark.reached(&older));
        assert_eq!(Mark::decode("garbage"), None);
        assert_eq!(Mark::of(&json!({"uri": "at://x/y/z"})), None);
    }

    #[test]
    fn tids_have_the_atproto_shape_and_order() {
        let valid = |t: &str| {
            t.len() == 13
                && "234567abcdefghij".contains(&t[..1])
                && t.bytes().all(|b| TID_ALPHABET.contains(&b))
        };
        assert_eq!(tid(0, 0), "2222222222222");
        assert_eq!(tid(u64::MAX, u16::MAX), "bzzzzzzzzzzzz");
        // 2023-01-01T00:00:00Z, clock 0, worked out by hand from the layout.
        assert_eq!(tid(1_672_531_200_000_000, 0), "3jl7442uk2222");
        let at = DateTime::parse_from_rfc3339("2026-12-07T10:00:00.123456Z")
            .unwrap()
            .with_timezone(&Utc);
        let a = record_key("acme-bsky/1.1", at);
        assert!(valid(&a), "{a}");
        assert_eq!(a, record_key("acme-bsky/1.1", at), "not deterministic");
        assert_ne!(a, record_key("acme-bsky/1.2", at));
        let later = record_key("acme-bsky/1.1", at + chrono::TimeDelta::microseconds(1));
        assert!(later > a, "TIDs sort by time");
        assert!(valid(&record_key("x", DateTime::UNIX_EPOCH)));
    }

    #[test]
    fn facets_are_utf8_byte_offsets() {
        // Platforms test vector 6.
        let text = "👨‍👩‍👧‍👧 @handle.com 👨‍👩‍👧‍👧";
        let found = facets(text, "handle.com", "did:plc:h");
        assert_eq!(
            found,
            vec![json!({
                "index": {"byteStart": 26, "byteEnd": 37},
                "features": [{"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:h"}],
            })]
        );
        assert_eq!(&text.as_bytes()[26..37], b"@handle.com");
        // ZWJ sequences, a flag and an accent before the mention, a link after it.
        let text = "👩🏽‍💻🏳️‍🌈 é @jane.bsky.social, see https://acme.example/r?id=1.";
        let found = facets(text, "jane.bsky.social", "did:plc:jane");
        let at = |i: usize| {
            let index = &found[i]["index"];
            let (s, e) = (
                index["byteStart"].as_u64().unwrap() as usize,
                index["byteEnd"].as_u64().unwrap() as usize,
            );
            &text[s..e]
        };
        assert_eq!(found.len(), 2);
        assert_eq!(at(0), "@jane.bsky.social");
        assert_eq!(found[0]["index"]["byteStart"], 33);
        assert_eq!(at(1), "https://acme.example/r?id=1");
        assert_eq!(
            found[1]["features"][0]["uri"],
            "https://acme.example/r?id=1"
        );
        assert!(facets("no one here", "jane", "did:plc:jane").is_empty());
    }

    #[test]
    fn a_reply_record_names_its_thread_and_marks_the_mention() {
        let parent = StrongRef {
            uri: "at://did:plc:jane/app.bsky.feed.post/3p".into(),
            cid: "bafyp".into(),
        };
        let root = StrongRef {
            uri: "at://did:plc:acme/app.bsky.feed.post/3r".into(),
            cid: "bafyr".into(),
        };
        let jane = Author {
            id: "did:plc:jane".into(),
            handle: "jane.bsky.social".into(),
            name: None,
        };
        let at = DateTime::parse_from_rfc3339("2026-12-07T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let record = reply_record("@jane.bsky.social hi", at, &parent, &root, &jane);
        assert_eq!(record["$type"], "app.bsky.feed.post");
        assert_eq!(record["createdAt"], "2026-12-07T10:00:00.000Z");
        assert_eq!(record["reply"]["root"]["cid"], "bafyr");
        assert_eq!(record["reply"]["parent"]["uri"], parent.uri.as_str());
        assert_eq!(record["facets"][0]["index"]["byteEnd"], 17);
    }

    #[test]
    fn uris_and_errors_are_read() {
        assert_eq!(
            at_uri("at://did:plc:a/app.bsky.feed.post/3k"),
            Some(AtUri {
                repo: "did:plc:a",
                collection: "app.bsky.feed.post",
                rkey: "3k"
            })
        );
        assert_eq!(at_uri("at://did:plc:a/app.bsky.feed.post"), None);
        assert_eq!(at_uri("https://bsky.app/x/y/z"), None);
        assert_eq!(at_uri("at://a/b/c/d"), None);
        assert_eq!(
            error_body(br#"{"error":"InvalidSwap","message":"Record was at bafyr"}"#),
            (
                Some("InvalidSwap".into()),
                Some("Record was at bafyr".into())
            )
        );
        assert_eq!(error_body(b"Internal Server Error"), (None, None));
    }
}

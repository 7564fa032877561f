//! The generic webhook's JSON, both ways: a delivered post read into a [`SocialPost`], and a
//! reply written for the callback.
//!
//! A delivery is one JSON object (documented in the README):
//!
//! ```json
//! {"id": "form-8812", "author": {"id": "cust-42", "handle": "jane", "name": "Jane Doe"},
//!  "text": "My order never arrived", "url": "https://acme.example/forms/8812",
//!  "kind": "mention", "conversation": "order-1234", "created_at": "2026-11-23T10:00:00Z"}
//! ```
//!
//! Reading is strict and exhaustive: every problem is reported with the path of its field
//! (`author.handle: missing field`), unknown fields included, so a sender's typo fails loudly
//! instead of quietly splitting a conversation. Pure: no I/O, and no panics on any input.

use std::fmt;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use crate::engine::{Author, CanDm, DraftKind, Platform, PostKind, SocialPost};
use crate::social::PublishRequest;

/// The fields a delivered post may have.
const FIELDS: &[&str] = &[
    "id",
    "author",
    "text",
    "url",
    "kind",
    "conversation",
    "created_at",
];
/// The fields of its `author`.
const AUTHOR_FIELDS: &[&str] = &["id", "handle", "name"];
/// `kind`, as the engine's serde spells it.
const KINDS: &[(&str, PostKind)] = &[
    ("mention", PostKind::Mention),
    ("comment", PostKind::Comment),
    ("direct_message", PostKind::DirectMessage),
];
/// Ids are store keys: longer ones are refused rather than stored.
const MAX_ID: usize = 256;

/// One thing wrong with a delivered post: the path of the field, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub field: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Collects problems while reading an object's fields.
#[derive(Default)]
struct Reader {
    problems: Vec<Problem>,
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl Reader {
    fn problem(&mut self, field: &str, message: impl Into<String>) {
        self.problems.push(Problem {
            field: field.to_owned(),
            message: message.into(),
        });
    }

    /// `value` as an object whose keys are all `known`; `at` is its path (`body` for the root).
    fn object<'v>(
        &mut self,
        at: &str,
        prefix: &str,
        value: &'v Value,
        known: &[&str],
    ) -> Option<&'v Map<String, Value>> {
        let Value::Object(object) = value else {
            self.problem(
                at,
                format!("expected a JSON object, found {}", type_name(value)),
            );
            return None;
        };
        for key in object.keys().filter(|k| !known.contains(&k.as_str())) {
            self.problem(
                &format!("{prefix}{key}"),
                format!("unknown field (expected one of {})", known.join(", ")),
            );
        }
        Some(object)
    }

    /// A string field: `required` ones must be present and not null; present ones must not be
    /// blank. An optional field that is null counts as absent.
    fn string(
        &mut self,
        object: &Map<String, Value>,
        prefix: &str,
        key: &str,
        required: bool,
    ) -> Option<String> {
        let field = format!("{prefix}{key}");
        match object.get(key) {
            None if required => self.problem(&field, "missing field"),
            None | Some(Value::Null) if !required => {}
            Some(Value::String(text)) if text.trim().is_empty() => {
                self.problem(&field, "must not be empty");
            }
            Some(Value::String(text)) => return Some(text.clone()),
            Some(other) => self.problem(
                &field,
                format!("expected a string, found {}", type_name(other)),
            ),
            None => {}
        }
        None
    }
}

/// Reads a delivered post for `account`; `now` stands in for a missing `created_at` (and for
/// one in the future: nobody posts from there). Every problem found, or the post.
pub fn post(account: &str, body: &[u8], now: DateTime<Utc>) -> Result<SocialPost, Vec<Problem>> {
    let mut r = Reader::default();
    let value: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(error) => {
            r.problem("body", format!("not valid JSON ({error})"));
            return Err(r.problems);
        }
    };
    let Some(object) = r.object("body", "", &value, FIELDS) else {
        return Err(r.problems);
    };
    let id = r.string(object, "", "id", true);
    if let Some(id) = &id
        && id.chars().count() > MAX_ID
    {
        r.problem("id", format!("longer than {MAX_ID} characters"));
    }
    let author = match object.get("author") {
        None => {
            r.problem("author", "missing field");
            None
        }
        Some(value) => r
            .object("author", "author.", value, AUTHOR_FIELDS)
            .map(|author| {
                (
                    r.string(author, "author.", "id", true),
                    r.string(author, "author.", "handle", true),
                    r.string(author, "author.", "name", false),
                )
            }),
    };
    let text = r.string(object, "", "text", true);
    let url = r.string(object, "", "url", false);
    if let Some(url) = &url {
        let web = url::Url::parse(url)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host());
        if !web {
            r.problem("url", format!("{url:?} is not an http(s) URL"));
        }
    }
    let kind = match r.string(object, "", "kind", false) {
        None => Some(PostKind::Mention),
        Some(text) => {
            let kind = KINDS.iter().find(|(name, _)| *name == text).map(|k| k.1);
            if kind.is_none() {
                let names: Vec<&str> = KINDS.iter().map(|k| k.0).collect();
                r.problem(
                    "kind",
                    format!("{text:?} is not one of {}", names.join(", ")),
                );
            }
            kind
        }
    };
    let conversation = r.string(object, "", "conversation", false);
    let created_at = match r.string(object, "", "created_at", false) {
        None => Some(now),
        Some(text) => match DateTime::parse_from_rfc3339(text.trim()) {
            Ok(at) => Some(at.with_timezone(&Utc).min(now)),
            Err(_) => {
                r.problem(
                    "created_at",
                    format!("{text:?} is not an RFC 3339 time (e.g. \"2026-11-23T10:00:00Z\")"),
                );
                None
            }
        },
    };
    match (id, author, text, kind, created_at) {
        (
            Some(id),
            Some((Some(author_id), Some(handle), name)),
            Some(text),
            Some(kind),
            Some(at),
        ) if r.problems.is_empty() => Ok(SocialPost {
            platform: Platform::Webhook,
            account: account.to_owned(),
            conversation_id: conversation.unwrap_or_else(|| id.clone()),
            id,
            author: Author {
                id: author_id,
                handle: handle.trim_start_matches('@').to_owned(),
                name,
            },
            kind,
            text,
            permalink: url,
            created_at: at,
            can_dm: match kind {
                PostKind::DirectMessage => CanDm::Yes,
                _ => CanDm::Unknown,
            },
            reply_by: None,
            queue: None,
            parent: None,
            reference: None,
        }),
        _ => Err(r.problems),
    }
}

/// The JSON body of a reply POSTed to the callback.
pub fn reply(request: &PublishRequest) -> Value {
    json!({
        "type": "reply",
        "account": request.account,
        "case": request.case,
        "draft": request.draft,
        "in_reply_to": request.in_reply_to,
        "conversation": request.conversation_id,
        "kind": match request.kind {
            DraftKind::Public => "public",
            DraftKind::Direct => "direct",
        },
        "text": request.text,
        "author": {
            "id": request.author.id,
            "handle": request.author.handle,
            "name": request.author.name,
        },
    })
}

/// The id a receiver gave the published reply: `id` in a JSON object answer (a string or a
/// number), if any.
pub fn published_id(body: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(body).ok()?;
    match value.get("id")? {
        Value::String(id) if !id.trim().is_empty() => Some(id.clone()),
        Value::Number(id) => Some(id.to_string()),
        _ => None,
    }
}

/// What a receiver said when it refused: `error` (a string, or an object with `message`) or
/// `message` in a JSON answer, else the start of its text.
pub fn receiver_message(body: &[u8]) -> String {
    const MAX: usize = 300;
    let said = serde_json::from_slice::<Value>(body).ok().and_then(|v| {
        let error = v.get("error");
        error
            .and_then(Value::as_str)
            .or_else(|| error.and_then(|e| e.get("message")).and_then(Value::as_str))
            .or_else(|| v.get("message").and_then(Value::as_str))
            .map(str::to_owned)
    });
    let text = said.unwrap_or_else(|| String::from_utf8_lossy(body).into_owned());
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use chrono::TimeZone;

    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap()
    }

    fn problems(body: &str) -> Vec<String> {
        match post("acme-forms", body.as_bytes(), now()) {
            Ok(post) => panic!("accepted: {post:?}"),
            Err(problems) => problems.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn a_minimal_post_takes_the_defaults() {
        let body = br#"{"id":"form-8812","author":{"id":"cust-42","handle":"@jane"},"text":"My order never arrived"}"#;
        let post = post("acme-forms", body, now()).unwrap();
        assert_eq!(post.platform, Platform::Webhook);
        assert_eq!(post.account, "acme-forms");
        assert_eq!(post.id, "form-8812");
        assert_eq!(post.conversation_id, "form-8812", "its own conversation");
        assert_eq!(post.author.handle, "jane");
        assert_eq!(post.author.name, None);
        assert_eq!(post.kind, PostKind::Mention);
        assert_eq!(post.created_at, now());
        assert_eq!(post.permalink, None);
        assert_eq!(post.can_dm, CanDm::Unknown);
        assert_eq!(post.dedupe_key(), "webhook/acme-forms/form-8812");
    }

    #[test]
    fn every_field_is_read() {
        let body = br#"{"id":"r-1","author":{"id":"a1","handle":"sam","name":"Sam"},"text":"Crashes on start",
            "url":"https://apps.example/review/r-1","kind":"direct_message","conversation":"app-42",
            "created_at":"2026-11-23T09:30:00+01:00"}"#;
        let post = post("reviews", body, now()).unwrap();
        assert_eq!(post.author.name.as_deref(), Some("Sam"));
        assert_eq!(
            post.permalink.as_deref(),
            Some("https://apps.example/review/r-1")
        );
        assert_eq!(post.kind, PostKind::DirectMessage);
        assert_eq!(post.can_dm, CanDm::Yes);
        assert_eq!(post.conversation_id, "app-42");
        assert_eq!(
            post.created_at,
            Utc.with_ymd_and_hms(2026, 11, 23, 8, 30, 0).unwrap()
        );
        // Optional fields may be null; a time in the future is now.
        let body =
            br#"{"id":"r-2","author":{"id":"a1","handle":"sam","name":null},"text":"t","url":null,
            "created_at":"2030-01-01T00:00:00Z"}"#;
        let post = super::post("reviews", body, now()).unwrap();
        assert_eq!(
            (post.author.name, post.permalink, post.created_at),
            (None, None, now())
        );
    }

    #[test]
    fn problems_name_the_field() {
        assert_eq!(
            problems(r#"{"id":"1","author":{"id":"a"},"text":"hi"}"#),
            ["author.handle: missing field"]
        );
        assert_eq!(
            problems(
                r#"{"author":{"id":7,"handle":"j","nick":"x"},"text":" ","kind":"tweet","url":"ftp://x","created_at":"yesterday","conversation":[],"extra":1}"#
            ),
            [
                "extra: unknown field (expected one of id, author, text, url, kind, conversation, created_at)",
                "id: missing field",
                "author.nick: unknown field (expected one of id, handle, name)",
                "author.id: expected a string, found a number",
                "text: must not be empty",
                "url: \"ftp://x\" is not an http(s) URL",
                "kind: \"tweet\" is not one of mention, comment, direct_message",
                "conversation: expected a string, found an array",
                "created_at: \"yesterday\" is not an RFC 3339 time (e.g. \"2026-11-23T10:00:00Z\")",
            ]
        );
        assert_eq!(
            problems(r#"{"id":null,"author":"jane","text":"hi"}"#),
            [
                "id: expected a string, found null",
                "author: expected a JSON object, found a string"
            ]
        );
        assert_eq!(
            problems(&format!(
                r#"{{"id":"{}","author":{{"id":"a","handle":"j"}},"text":"hi"}}"#,
                "x".repeat(257)
            )),
            ["id: longer than 256 characters"]
        );
        assert_eq!(
            problems("[1]"),
            ["body: expected a JSON object, found an array"]
        );
        let broken = problems(r#"{"id": "1","#);
        assert_eq!(broken.len(), 1);
        assert!(
            broken[0].starts_with("body: not valid JSON (EOF while parsing"),
            "{broken:?}"
        );
        assert!(problems("").len() == 1 && problems("\u{0}\u{1}").len() == 1);
    }

    #[test]
    fn replies_carry_what_a_receiver_needs() {
        let request = PublishRequest {
            kind: DraftKind::Direct,
            ..super::super::sample_request()
        };
        assert_eq!(
            reply(&request),
            json!({"type": "reply", "account": "acme-forms", "case": 12, "draft": "12.1",
                   "in_reply_to": "form-8812", "conversation": "order-1234", "kind": "direct",
                   "text": "Sorry, Jane!", "author": {"id": "cust-42", "handle": "jane", "name": null}})
        );
    }

    #[test]
    fn answers_are_read_leniently() {
        assert_eq!(published_id(br#"{"id":"msg-9"}"#).as_deref(), Some("msg-9"));
        assert_eq!(published_id(br#"{"id":9}"#).as_deref(), Some("9"));
        assert_eq!(published_id(br#"{"id":""}"#), None);
        assert_eq!(published_id(b"ok"), None);
        assert_eq!(
            receiver_message(br#"{"error":"unknown conversation"}"#),
            "unknown conversation"
        );
        assert_eq!(
            receiver_message(br#"{"error":{"message":"no DMs here"}}"#),
            "no DMs here"
        );
        assert_eq!(receiver_message(br#"{"message":"nope"}"#), "nope");
        assert_eq!(receiver_message(b"Bad\n  request"), "Bad request");
        assert_eq!(receiver_message(&[b'a'; 400]).chars().count(), 301);
    }
}

//! Mastodon's wire format for carebridge (platforms.md §5): notifications and
//! statuses as the REST and streaming APIs send them, turned into
//! [`SocialPost`]s; the instance's limits; `Link` paging; rate-limit headers;
//! error bodies; and status HTML read back as plain text.
//!
//! Pure: no I/O. A notification that cannot be read is skipped on its own
//! (logged by the caller), so one odd status never holds back the rest.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use crate::engine::{Author, CanDm, Platform, PostKind, SocialPost};

/// The visibility of a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    Public,
    Unlisted,
    Private,
    Direct,
}

impl Visibility {
    pub fn key(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Unlisted => "unlisted",
            Visibility::Private => "private",
            Visibility::Direct => "direct",
        }
    }
}

/// `Account` (the fields carebridge reads).
#[derive(Debug, Clone, Deserialize)]
pub struct Account {
    pub id: String,
    /// `username` for local accounts, `username@domain` for remote ones.
    pub acct: String,
    #[serde(default)]
    pub display_name: String,
}

/// `Status` (the fields carebridge reads).
#[derive(Debug, Clone, Deserialize)]
pub struct Status {
    pub id: String,
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub in_reply_to_id: Option<String>,
    pub visibility: Visibility,
    /// HTML.
    #[serde(default)]
    pub content: String,
    #[serde(default)]
    pub url: Option<String>,
    pub account: Account,
}

/// `Notification`; `status` is present for mentions.
#[derive(Debug, Clone, Deserialize)]
pub struct Notification {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub status: Option<Status>,
}

/// The limits a reply must fit, from `GET /api/v2/instance`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct Limits {
    pub max_characters: usize,
    pub characters_reserved_per_url: usize,
}

impl Default for Limits {
    /// Mastodon's own defaults (platforms.md §5).
    fn default() -> Self {
        Limits {
            max_characters: 500,
            characters_reserved_per_url: 23,
        }
    }
}

/// Reads `configuration.statuses` of an instance; `None` when the instance does not say.
pub fn limits(instance: &Value) -> Option<Limits> {
    let statuses = instance.get("configuration")?.get("statuses")?;
    let number = |key: &str| {
        statuses
            .get(key)?
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .filter(|n| *n > 0)
    };
    Some(Limits {
        max_characters: number("max_characters")?,
        characters_reserved_per_url: number("characters_reserved_per_url")
            .unwrap_or(Limits::default().characters_reserved_per_url),
    })
}

pub use crate::social::Skip;

/// Reads one notification from the API (a JSON value, so that one malformed entry in a
/// page is dropped alone).
pub fn notification(value: Value) -> Result<Notification, Skip> {
    serde_json::from_value(value).map_err(|e| Skip::Unreadable(e.to_string()))
}

/// The post a mention notification carries. `me` is the brand's account id (its own
/// statuses are ignored); `conversation` is the thread the post belongs to, as the caller
/// resolved it from `in_reply_to_id`.
pub fn post(
    notification: &Notification,
    account: &str,
    me: &str,
    conversation: impl FnOnce(&Status) -> String,
) -> Result<SocialPost, Skip> {
    if notification.kind != "mention" {
        return Err(Skip::NotForUs);
    }
    let status = notification
        .status
        .as_ref()
        .ok_or_else(|| Skip::Unreadable("a mention without a status".into()))?;
    if status.account.id == me {
        return Err(Skip::NotForUs);
    }
    let direct = status.visibility == Visibility::Direct;
    let name = status.account.display_name.trim();
    Ok(SocialPost {
        platform: Platform::Mastodon,
        account: account.to_owned(),
        id: status.id.clone(),
        conversation_id: conversation(status),
        author: Author {
            id: status.account.id.clone(),
            handle: status.account.acct.clone(),
            name: (!name.is_empty()).then(|| name.to_owned()),
        },
        kind: match direct {
            true => PostKind::DirectMessage,
            false => PostKind::Mention,
        },
        text: plain_text(&status.content),
        permalink: status.url.clone(),
        created_at: status.created_at,
        // Any account can be sent a direct status.
        can_dm: CanDm::Yes,
        reply_by: None,
        queue: None,
        parent: None,
        reference: None,
    })
}

/// The `min_id` of a `Link` header's `rel="prev"` target: where the next page of newer
/// notifications starts.
pub fn prev_min_id(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        if !params.split(';').any(|p| p.trim() == "rel=\"prev\"") {
            return None;
        }
        let url = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        let url = url::Url::parse(url).ok()?;
        url.query_pairs()
            .find(|(k, _)| k == "min_id")
            .map(|(_, v)| v.into_owned())
    })
}

/// An error body: `{"error": "…"}` (platforms.md §5).
pub fn error_message(body: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(body).ok()?;
    value.get("error")?.as_str().map(str::to_owned)
}

pub use crate::social::rate::reset_time;

/// One server-sent event of the streaming API: `event: notification` with its JSON `data`.
/// Heartbeats (`:thump`) and other events give `None`.
pub fn stream_event(block: &str) -> Option<Value> {
    let mut event = None;
    let mut data = String::new();
    for line in block.lines() {
        if let Some(name) = line.strip_prefix("event:") {
            event = Some(name.trim());
        } else if let Some(chunk) = line.strip_prefix("data:") {
            if !data.is_empty() {
                data.push('\n');
            }
            data.push_str(chunk.strip_prefix(' ').unwrap_or(chunk));
        }
    }
    match event {
        Some("notification") => serde_json::from_str(&data).ok(),
        _ => None,
    }
}

/// The text of a status's HTML: paragraphs and line breaks become newlines, tags go,
/// entities are decoded. Mastodon's link markup (hidden `https://` and ellipsis spans) joins
/// back into the full link.
pub fn plain_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&decode(&rest[..start]));
        let Some(end) = rest[start..].find('>') else {
            // An unclosed `<` is text.
            out.push_str(&decode(&rest[start..]));
            rest = "";
            break;
        };
        let tag = rest[start + 1..start + end].trim().to_ascii_lowercase();
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        match (name.as_str(), tag.starts_with('/')) {
            ("br", _) => out.push('\n'),
            ("p", true) => out.push_str("\n\n"),
            _ => {}
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(&decode(rest));
    out.trim().to_owned()
}

/// Decodes the HTML entities Mastodon writes (named basics and numeric ones).
fn decode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let decoded = after.find(';').filter(|end| *end <= 10).and_then(|end| {
            let name = &after[..end];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                _ => name.strip_prefix('#').and_then(|n| {
                    let code = match n.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok(),
                        None => n.parse().ok(),
                    };
                    code.and_then(char::from_u32)
                }),
            };
            c.map(|c| (c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &after[end + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use serde_json::json;

    fn mention(visibility: &str, author: &str) -> Value {
        json!({
            "id": "34975861",
            "type": "mention",
            "created_at": "2026-12-07T10:00:00.000Z",
            "account": {"id": author, "acct": "jane@other.social", "display_name": "Jane"},
            "status": {
                "id": "103270115826048975",
                "created_at": "2026-12-07T10:00:00.000Z",
                "in_reply_to_id": null,
                "in_reply_to_account_id": null,
                "visibility": visibility,
                "content": "<p><span class=\"h-card\"><a href=\"https://acme.social/@acme\" class=\"u-url mention\">@<span>acme</span></a></span> where&#39;s my parcel? &amp; why</p><p>second</p>",
                "url": "https://other.social/@jane/103270115826048975",
                "account": {"id": author, "acct": "jane@other.social", "display_name": "Jane", "username": "jane"},
                "mentions": [],
                "emojis": []
            }
        })
    }

    #[test]
    fn a_public_mention_becomes_a_mention_post_with_plain_text() {
        let n = notification(mention("unlisted", "7")).unwrap();
        let post = post(&n, "acme-masto", "1", |s| s.id.clone()).unwrap();
        assert_eq!(post.kind, PostKind::Mention);
        assert_eq!(post.id, "103270115826048975");
        assert_eq!(post.author.handle, "jane@other.social");
        assert_eq!(post.author.name.as_deref(), Some("Jane"));
        assert_eq!(post.text, "@acme where's my parcel? & why\n\nsecond");
        assert_eq!(post.conversation_id, "103270115826048975");
        assert_eq!(
            post.permalink.as_deref(),
            Some("https://other.social/@jane/103270115826048975")
        );
    }

    #[test]
    fn a_direct_mention_is_a_direct_message_and_our_own_status_is_skipped() {
        let n = notification(mention("direct", "7")).unwrap();
        let dm = post(&n, "acme-masto", "1", |s| s.id.clone()).unwrap();
        assert_eq!(dm.kind, PostKind::DirectMessage);
        let ours = notification(mention("public", "1")).unwrap();
        assert_eq!(
            post(&ours, "acme-masto", "1", |s| s.id.clone()),
            Err(Skip::NotForUs)
        );
        let mut favourite = mention("public", "7");
        favourite["type"] = json!("favourite");
        let favourite = notification(favourite).unwrap();
        assert_eq!(
            post(&favourite, "acme-masto", "1", |s| s.id.clone()),
            Err(Skip::NotForUs)
        );
    }

    #[test]
    fn malformed_notifications_are_skipped_with_a_reason() {
        let broken = mention("sideways", "7");
        assert!(matches!(notification(broken), Err(Skip::Unreadable(_))));
        let n = notification(json!({"id": "1", "type": "mention"})).unwrap();
        assert!(matches!(
            post(&n, "a", "1", |s| s.id.clone()),
            Err(Skip::Unreadable(_))
        ));
        assert!(matches!(
            notification(json!([1, 2])),
            Err(Skip::Unreadable(_))
        ));
    }

    #[test]
    fn html_becomes_text() {
        assert_eq!(plain_text("<p>a<br>b<br />c</p><p>d</p>"), "a\nb\nc\n\nd");
        assert_eq!(
            plain_text(
                "<p>see <a href=\"https://example.com/very/long/path\"><span class=\"invisible\">https://</span><span class=\"ellipsis\">example.com/very/lo</span><span class=\"invisible\">ng/path</span></a></p>"
            ),
            "see https://example.com/very/long/path"
        );
        assert_eq!(
            plain_text("1 &lt; 2 &#x1F600; &#233; &bogus; & x"),
            "1 < 2 😀 é &bogus; & x"
        );
        assert_eq!(plain_text("a < b"), "a < b");
    }

    #[test]
    fn instance_limits_are_read_or_left_to_the_defaults() {
        let v2 = json!({"configuration": {"statuses": {"max_characters": 5000, "characters_reserved_per_url": 30}}});
        assert_eq!(
            limits(&v2),
            Some(Limits {
                max_characters: 5000,
                characters_reserved_per_url: 30
            })
        );
        assert_eq!(limits(&json!({"configuration": {}})), None);
        assert_eq!(
            limits(&json!({"configuration": {"statuses": {"max_characters": 0}}})),
            None
        );
    }

    #[test]
    fn link_headers_give_the_next_newer_page() {
        let link = "<https://mastodon.example/api/v1/notifications?max_id=34975535>; rel=\"next\", <https://mastodon.example/api/v1/notifications?min_id=34975861&types%5B%5D=mention>; rel=\"prev\"";
        assert_eq!(prev_min_id(link).as_deref(), Some("34975861"));
        assert_eq!(prev_min_id("<https://x/?max_id=1>; rel=\"next\""), None);
        assert_eq!(prev_min_id("garbage"), None);
    }

    #[test]
    fn stream_events_carry_notifications() {
        let block = "event: notification\ndata: {\"id\":\"5\",\"type\":\"mention\"}";
        assert_eq!(stream_event(block).unwrap()["id"], "5");
        assert_eq!(stream_event(":thump"), None);
        assert_eq!(stream_event("event: delete\ndata: 123"), None);
        assert_eq!(stream_event("event: notification\ndata: {not json"), None);
    }

    #[test]
    fn errors_and_reset_headers_are_read() {
        assert_eq!(
            error_message(br#"{"error":"Validation failed: Text can't be blank"}"#).as_deref(),
            Some("Validation failed: Text can't be blank")
        );
        assert_eq!(error_message(b"<html>"), None);
        assert_eq!(
            reset_time("2026-12-07T10:05:00.000Z").unwrap().to_rfc3339(),
            "2026-12-07T10:05:00+00:00"
        );
        assert_eq!(
            reset_time("1796637900").unwrap().to_rfc3339(),
            "2026-12-07T10:05:00+00:00"
        );
        assert_eq!(reset_time("soon"), None);
    }
}

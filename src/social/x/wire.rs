//! X's wire formats and their translation: API v2 response shapes, the
//! v1.1-shaped Account Activity webhook payloads, and the error bodies X
//! answers with.
//!
//! Owns turning those into `SocialPost`s (oldest first), classifying a
//! refusal into an `XError`, and recognising a reply we already published
//! (for exactly-once after a crash). Pure: must not do I/O, read the clock
//! (callers pass `now`) or decide what to do about a post or an error; that
//! belongs to the connector and the engine. Every shape is read leniently:
//! unknown fields are ignored, optional and collection fields default, and a
//! malformed payload is an `Err`, never a panic.

use std::cmp::Ordering;

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use unicode_normalization::UnicodeNormalization;

use crate::engine::{Author, CanDm, Platform, PostKind, SocialPost};

/// `tweet.fields` for every tweet read.
pub const TWEET_FIELDS: &str =
    "author_id,conversation_id,created_at,in_reply_to_user_id,referenced_tweets,entities";
/// `expansions` for every tweet read (fills `includes.users`).
pub const EXPANSIONS: &str = "author_id";
/// `user.fields` for every read that expands users.
pub const USER_FIELDS: &str = "username,name";
/// `dm_event.fields` for DM reads. `entities` (a documented DmEvent field) is
/// asked for so t.co links can be expanded like in tweets.
pub const DM_FIELDS: &str = "id,text,event_type,sender_id,dm_conversation_id,created_at,entities";
/// `expansions` for DM reads (fills `includes.users` with the senders).
pub const DM_EXPANSIONS: &str = "sender_id";

/// Author id and handle used when X names no author at all.
const UNKNOWN: &str = "unknown";
/// How much of X's explanation an `XError` keeps.
const DETAIL_MAX: usize = 300;

// ----- API v2 shapes ---------------------------------------------------------

/// A page of tweets: mentions, recent search or lookup.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TweetsPage {
    #[serde(default, deserialize_with = "null_as_default")]
    pub data: Vec<Tweet>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub includes: Includes,
    #[serde(default, deserialize_with = "null_as_default")]
    pub meta: Meta,
    /// Partial errors (e.g. one looked-up tweet no longer visible).
    #[serde(default, deserialize_with = "null_as_default")]
    pub errors: Vec<Value>,
}

/// One tweet as API v2 returns it with `TWEET_FIELDS`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tweet {
    pub id: String,
    /// HTML-escaped (`&amp;`, `&lt;`, `&gt;`), links shortened to t.co.
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub author_id: Option<String>,
    #[serde(default)]
    pub conversation_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_time")]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub in_reply_to_user_id: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub referenced_tweets: Vec<Reference>,
    #[serde(default)]
    pub entities: Option<Entities>,
}

/// A tweet this one replies to, quotes or retweets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reference {
    /// `replied_to`, `quoted` or `retweeted`.
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
}

/// The entities carebridge uses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entities {
    #[serde(default, deserialize_with = "null_as_default")]
    pub urls: Vec<UrlEntity>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub mentions: Vec<MentionEntity>,
}

/// A t.co link and what it stands for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UrlEntity {
    /// The t.co link as it appears in the text.
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub expanded_url: Option<String>,
}

/// An @mention in the text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MentionEntity {
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub id: Option<String>,
}

/// Expanded objects of a page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Includes {
    #[serde(default, deserialize_with = "null_as_default")]
    pub users: Vec<User>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub tweets: Vec<Tweet>,
}

/// A user as `USER_FIELDS` describes them (also `GET /2/users/me`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    /// Handle without `@`.
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub name: Option<String>,
}

/// Paging data: poll with `since_id=newest_id`, page with `pagination_token=next_token`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    #[serde(default)]
    pub newest_id: Option<String>,
    #[serde(default)]
    pub oldest_id: Option<String>,
    #[serde(default)]
    pub result_count: Option<u64>,
    #[serde(default)]
    pub next_token: Option<String>,
}

/// A page of `GET /2/dm_events`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DmEventsPage {
    #[serde(default, deserialize_with = "null_as_default")]
    pub data: Vec<DmEvent>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub includes: Includes,
    #[serde(default, deserialize_with = "null_as_default")]
    pub meta: Meta,
}

/// One DM event as `DM_FIELDS` describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DmEvent {
    pub id: String,
    /// `MessageCreate`, `ParticipantsJoin` or `ParticipantsLeave`.
    #[serde(default)]
    pub event_type: String,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub sender_id: Option<String>,
    #[serde(default)]
    pub dm_conversation_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_time")]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub entities: Option<Entities>,
}

/// The `{"data": …}` wrapper of `users/me`, a created tweet or DM, and like/retweet/delete results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Data<T> {
    pub data: T,
}

/// `POST /2/tweets`'s `data`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedTweet {
    pub id: String,
    #[serde(default)]
    pub text: Option<String>,
}

/// `POST /2/dm_conversations/with/:id/messages`'s `data`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedDm {
    #[serde(default)]
    pub dm_conversation_id: Option<String>,
    pub dm_event_id: String,
}

/// `POST /2/oauth2/token`'s answer.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    #[serde(default)]
    pub refresh_token: Option<String>,
    #[serde(default)]
    pub expires_in: Option<u64>,
    #[serde(default)]
    pub token_type: Option<String>,
    #[serde(default)]
    pub scope: Option<String>,
}

// Tokens must never reach a log through `{:?}`.
impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &"<redacted>")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .field("expires_in", &self.expires_in)
            .field("token_type", &self.token_type)
            .field("scope", &self.scope)
            .finish()
    }
}

/// `null` reads as the default, like a missing field.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// An RFC 3339 time; anything else reads as absent rather than failing the page.
fn lenient_time<'de, D>(deserializer: D) -> Result<Option<DateTime<Utc>>, D::Error>
where
    D: Deserializer<'de>,
{
    let raw = Option::<Value>::deserialize(deserializer)?;
    Ok(raw
        .as_ref()
        .and_then(Value::as_str)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc)))
}

// ----- Ids ---------------------------------------------------------------------

/// Whether id `a` is newer than id `b`. X ids are decimal u64 strings that grow
/// over time; compared numerically, with longer-is-larger for anything else.
pub fn newer(a: &str, b: &str) -> bool {
    id_order(a, b) == Ordering::Greater
}

fn id_order(a: &str, b: &str) -> Ordering {
    match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        _ => (a.len(), a).cmp(&(b.len(), b)),
    }
}

/// Sorts posts by id, oldest first (ids grow with time).
pub fn oldest_first(posts: &mut [SocialPost]) {
    posts.sort_by(|a, b| id_order(&a.id, &b.id));
}

/// X's id for a one-to-one DM conversation: both user ids, smaller first.
fn one_to_one(a: &str, b: &str) -> String {
    if id_order(a, b) == Ordering::Greater {
        format!("{b}-{a}")
    } else {
        format!("{a}-{b}")
    }
}

// ----- Text --------------------------------------------------------------------

/// Tweet text as the customer typed it: X escapes `& < >` and shortens links.
fn display_text(text: &str, urls: &[UrlEntity]) -> String {
    // `&amp;` last, so an escaped `&lt;` (`&amp;lt;`) stays `&lt;`.
    let unescaped = text
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    urls.iter().fold(unescaped, |t, u| match &u.expanded_url {
        Some(expanded) if !u.url.is_empty() => t.replace(&u.url, expanded),
        _ => t,
    })
}

fn entity_urls(entities: Option<&Entities>) -> &[UrlEntity] {
    entities.map_or(&[], |e| e.urls.as_slice())
}

/// Text reduced to what the author wrote, for comparing our draft with what
/// X stored (after `display_text` on X's side; our draft was never escaped).
fn comparable(shown: &str) -> String {
    strip_leading_mentions(shown)
        .nfc()
        .collect::<String>()
        .trim()
        .to_owned()
}

/// X puts `@handle ` for everyone in the thread in front of a reply's text.
fn strip_leading_mentions(text: &str) -> &str {
    let mut rest = text.trim_start();
    while let Some(after) = rest.strip_prefix('@') {
        let end = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        if end == 0 {
            break;
        }
        rest = after[end..].trim_start();
    }
    rest
}

/// Every http(s) link replaced by one placeholder, up to the next whitespace.
fn mask_links(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = [rest.find("https://"), rest.find("http://")]
        .into_iter()
        .flatten()
        .min()
    {
        out.push_str(&rest[..start]);
        out.push_str("<link>");
        let tail = &rest[start..];
        rest = &tail[tail.find(char::is_whitespace).unwrap_or(tail.len())..];
    }
    out.push_str(rest);
    out
}

// ----- Translation (API v2) ----------------------------------------------------

fn author(id: Option<&str>, handle: Option<&str>, name: Option<&str>) -> Author {
    let id = id.filter(|s| !s.is_empty()).unwrap_or(UNKNOWN);
    let handle = handle
        .map(|h| h.trim_start_matches('@'))
        .filter(|h| !h.is_empty())
        .unwrap_or(id);
    Author {
        id: id.to_owned(),
        handle: handle.to_owned(),
        name: name.filter(|n| !n.is_empty()).map(str::to_owned),
    }
}

fn tweet_link(handle: Option<&str>, id: &str) -> String {
    // `i` stands in for any handle when X didn't say whose the tweet is.
    let handle = handle
        .map(|h| h.trim_start_matches('@'))
        .filter(|h| !h.is_empty())
        .unwrap_or("i");
    format!("https://x.com/{handle}/status/{id}")
}

/// Tweets of a mentions / search / lookup page as posts. Skips tweets by `me` (the brand) and retweets
/// (a `retweeted` reference). `kind` is Mention for mentions/lookup and Listening for search.
pub fn tweet_posts(
    page: &TweetsPage,
    account: &str,
    me: &str,
    kind: PostKind,
    now: DateTime<Utc>,
) -> Vec<SocialPost> {
    let mut posts: Vec<SocialPost> = page
        .data
        .iter()
        .filter(|t| t.author_id.as_deref() != Some(me))
        .filter(|t| !t.referenced_tweets.iter().any(|r| r.kind == "retweeted"))
        .map(|t| {
            let user = t
                .author_id
                .as_deref()
                .and_then(|id| page.includes.users.iter().find(|u| u.id == id));
            let handle = user.map(|u| u.username.as_str());
            SocialPost {
                platform: Platform::X,
                account: account.to_owned(),
                id: t.id.clone(),
                conversation_id: t
                    .conversation_id
                    .clone()
                    .filter(|c| !c.is_empty())
                    .unwrap_or_else(|| t.id.clone()),
                author: author(
                    t.author_id.as_deref(),
                    handle,
                    user.and_then(|u| u.name.as_deref()),
                ),
                kind,
                text: display_text(&t.text, entity_urls(t.entities.as_ref())),
                permalink: Some(tweet_link(handle, &t.id)),
                created_at: t.created_at.unwrap_or(now),
                can_dm: CanDm::Unknown,
                reply_by: None,
                queue: None,
                parent: None,
                reference: None,
            }
        })
        .collect();
    oldest_first(&mut posts);
    posts
}

/// MessageCreate events not sent by `me`, as direct_message posts (conversation = dm_conversation_id, can_dm Yes).
///
/// An event without a sender is skipped: nobody could be answered.
pub fn dm_posts(
    page: &DmEventsPage,
    account: &str,
    me: &str,
    now: DateTime<Utc>,
) -> Vec<SocialPost> {
    let mut posts: Vec<SocialPost> = page
        .data
        .iter()
        .filter(|e| e.event_type.eq_ignore_ascii_case("MessageCreate"))
        .filter_map(|e| {
            let sender = e.sender_id.as_deref().filter(|s| !s.is_empty())?;
            if sender == me {
                return None;
            }
            let user = page.includes.users.iter().find(|u| u.id == sender);
            let conversation = e
                .dm_conversation_id
                .clone()
                .filter(|c| !c.is_empty())
                .unwrap_or_else(|| one_to_one(sender, me));
            Some(SocialPost {
                platform: Platform::X,
                account: account.to_owned(),
                id: e.id.clone(),
                author: author(
                    Some(sender),
                    user.map(|u| u.username.as_str()),
                    user.and_then(|u| u.name.as_deref()),
                ),
                kind: PostKind::DirectMessage,
                text: display_text(
                    e.text.as_deref().unwrap_or_default(),
                    entity_urls(e.entities.as_ref()),
                ),
                permalink: Some(format!("https://x.com/messages/{conversation}")),
                conversation_id: conversation,
                created_at: e.created_at.unwrap_or(now),
                can_dm: CanDm::Yes,
                reply_by: None,
                queue: None,
                parent: None,
                reference: None,
            })
        })
        .collect();
    oldest_first(&mut posts);
    posts
}

// ----- Account Activity (webhook) ----------------------------------------------

/// What one Account Activity delivery holds for carebridge.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Activity {
    /// The subscribed (brand) user the delivery is for.
    pub for_user_id: String,
    /// Tweets by others that mention or reply to the brand, oldest first.
    pub mention_ids: Vec<String>,
    /// The same tweets as posts built from the v1.1 data, oldest first.
    pub tweets: Vec<SocialPost>,
    /// DMs the brand received, oldest first.
    pub dms: Vec<SocialPost>,
}

/// Why a webhook body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error("the body is not JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("the body names no for_user_id")]
    NoForUser,
}

/// The subscribed user a delivery is for, so the caller can resolve the account first.
pub fn for_user_id(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    v.get("for_user_id").and_then(id_of)
}

/// A v1.1 id: a string, or a number when no `_str` twin exists.
fn id_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => n.as_u64().map(|n| n.to_string()),
        _ => None,
    }
}

/// `Option<Value>` id fields, read with `id_of`.
fn id_field(v: Option<&Value>) -> Option<String> {
    v.and_then(id_of)
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct V1Tweet {
    id_str: Option<String>,
    // The numeric `id` can be rounded (JSON numbers through doubles); only a fallback.
    id: Option<Value>,
    text: Option<String>,
    full_text: Option<String>,
    extended_tweet: Option<V1Extended>,
    user: Option<V1User>,
    in_reply_to_status_id_str: Option<String>,
    in_reply_to_user_id_str: Option<String>,
    entities: Option<V1Entities>,
    created_at: Option<String>,
    retweeted_status: Option<Value>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct V1Extended {
    full_text: Option<String>,
    entities: Option<V1Entities>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct V1Entities {
    #[serde(deserialize_with = "null_as_default")]
    user_mentions: Vec<V1Mention>,
    #[serde(deserialize_with = "null_as_default")]
    urls: Vec<UrlEntity>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct V1Mention {
    id_str: Option<String>,
    id: Option<Value>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct V1User {
    id_str: Option<String>,
    id: Option<Value>,
    screen_name: Option<String>,
    name: Option<String>,
}

impl V1User {
    fn id(&self) -> Option<String> {
        self.id_str
            .clone()
            .filter(|s| !s.is_empty())
            .or_else(|| id_field(self.id.as_ref()))
    }
}

impl V1Tweet {
    fn id(&self) -> Option<String> {
        self.id_str
            .clone()
            .filter(|s| !s.is_empty())
            .or_else(|| id_field(self.id.as_ref()))
    }

    fn author_id(&self) -> Option<String> {
        self.user.as_ref().and_then(V1User::id)
    }

    /// Both entity sets: a long tweet keeps its full entities in `extended_tweet`.
    fn entities(&self) -> impl Iterator<Item = &V1Entities> {
        self.extended_tweet
            .as_ref()
            .and_then(|e| e.entities.as_ref())
            .into_iter()
            .chain(self.entities.as_ref())
    }

    /// Not a retweet, not by `me`, and a reply to or mention of `me`.
    fn addresses(&self, me: &str) -> bool {
        if self.retweeted_status.as_ref().is_some_and(|r| !r.is_null())
            || self.author_id().as_deref() == Some(me)
        {
            return false;
        }
        self.in_reply_to_user_id_str.as_deref() == Some(me)
            || self.entities().any(|e| {
                e.user_mentions.iter().any(|m| {
                    m.id_str
                        .clone()
                        .or_else(|| id_field(m.id.as_ref()))
                        .as_deref()
                        == Some(me)
                })
            })
    }

    fn post(&self, account: &str, now: DateTime<Utc>) -> Option<SocialPost> {
        let id = self.id()?;
        let (text, urls) = match &self.extended_tweet {
            Some(V1Extended {
                full_text: Some(full),
                entities,
            }) => (full, entities.as_ref()),
            _ => match (&self.full_text, &self.text) {
                (Some(full), _) | (None, Some(full)) => (full, self.entities.as_ref()),
                (None, None) => return None,
            },
        };
        let handle = self.user.as_ref().and_then(|u| u.screen_name.as_deref());
        Some(SocialPost {
            platform: Platform::X,
            account: account.to_owned(),
            conversation_id: self
                .in_reply_to_status_id_str
                .clone()
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| id.clone()),
            author: author(
                self.author_id().as_deref(),
                handle,
                self.user.as_ref().and_then(|u| u.name.as_deref()),
            ),
            kind: PostKind::Mention,
            text: display_text(text, urls.map_or(&[], |e| e.urls.as_slice())),
            permalink: Some(tweet_link(handle, &id)),
            created_at: self
                .created_at
                .as_deref()
                .and_then(|s| DateTime::parse_from_str(s, "%a %b %d %H:%M:%S %z %Y").ok())
                .map_or(now, |t| t.with_timezone(&Utc)),
            can_dm: CanDm::Unknown,
            reply_by: None,
            queue: None,
            parent: None,
            reference: None,
            id,
        })
    }
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct V1DmEvent {
    #[serde(rename = "type")]
    kind: Option<String>,
    id: Option<Value>,
    created_timestamp: Option<Value>,
    message_create: Option<V1MessageCreate>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct V1MessageCreate {
    target: Option<V1Target>,
    sender_id: Option<Value>,
    message_data: Option<V1MessageData>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct V1Target {
    recipient_id: Option<Value>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct V1MessageData {
    text: Option<String>,
    entities: Option<V1Entities>,
}

impl V1DmEvent {
    fn post(
        &self,
        me: &str,
        users: Option<&serde_json::Map<String, Value>>,
        account: &str,
        now: DateTime<Utc>,
    ) -> Option<SocialPost> {
        if self.kind.as_deref() != Some("message_create") {
            return None;
        }
        let id = id_field(self.id.as_ref())?;
        let create = self.message_create.as_ref()?;
        let sender = id_field(create.sender_id.as_ref())?;
        if sender == me {
            return None;
        }
        let recipient = create
            .target
            .as_ref()
            .and_then(|t| id_field(t.recipient_id.as_ref()))
            .unwrap_or_else(|| me.to_owned());
        let user = users
            .and_then(|u| u.get(&sender))
            .and_then(|u| V1User::deserialize(u).ok());
        let data = create.message_data.as_ref();
        let conversation = one_to_one(&sender, &recipient);
        let millis = self.created_timestamp.as_ref().and_then(|t| match t {
            Value::String(s) => s.parse::<i64>().ok(),
            Value::Number(n) => n.as_i64(),
            _ => None,
        });
        Some(SocialPost {
            platform: Platform::X,
            account: account.to_owned(),
            id,
            author: author(
                Some(&sender),
                user.as_ref().and_then(|u| u.screen_name.as_deref()),
                user.as_ref().and_then(|u| u.name.as_deref()),
            ),
            kind: PostKind::DirectMessage,
            text: display_text(
                data.and_then(|d| d.text.as_deref()).unwrap_or_default(),
                data.and_then(|d| d.entities.as_ref())
                    .map_or(&[], |e| e.urls.as_slice()),
            ),
            permalink: Some(format!("https://x.com/messages/{conversation}")),
            conversation_id: conversation,
            created_at: millis
                .and_then(|ms| Utc.timestamp_millis_opt(ms).single())
                .unwrap_or(now),
            can_dm: CanDm::Yes,
            reply_by: None,
            queue: None,
            parent: None,
            reference: None,
        })
    }
}

/// Parses an Account Activity POST body: `for_user_id`; `tweet_create_events[]` (v1.1 tweets:
/// `id_str`, `text` / `full_text` / `extended_tweet.full_text`, `user{id_str, screen_name, name}`,
/// `in_reply_to_status_id_str`, `in_reply_to_user_id_str`, `entities.user_mentions[{id_str}]`,
/// `created_at` like "Wed Oct 10 20:19:24 +0000 2018", `retweeted_status`);
/// `direct_message_events[]` (`{type:"message_create", id, created_timestamp (ms as a string),
/// message_create:{target:{recipient_id}, sender_id, message_data:{text}}}`) with
/// `users{id → {id, screen_name, name}}`. Shapes as in docs.x.com/x-api/account-activity/introduction;
/// platforms.md §3.3 still lists them as unconfirmed, hence every field is optional.
///
/// `mention_ids`: ids of tweets by others that mention or reply to `for_user_id` (retweets and
/// the brand's own tweets skipped); `tweets`: the same as posts built from the v1.1 data (the
/// fallback when they cannot be looked up through v2; conversation_id =
/// `in_reply_to_status_id_str` or the id); `dms`: DMs not sent by `for_user_id`, conversation_id
/// = "{smaller id}-{larger id}" of sender and recipient (X's one-to-one conversation id). Other
/// event types (favorite_events, follow_events, …) are ignored, and so is any single event that
/// cannot be read. Only a body that is not JSON or names no `for_user_id` is an error.
pub fn activity(body: &[u8], account: &str, now: DateTime<Utc>) -> Result<Activity, WireError> {
    let v: Value = serde_json::from_slice(body)?;
    let me = v
        .get("for_user_id")
        .and_then(id_of)
        .ok_or(WireError::NoForUser)?;
    let events = |key: &str| {
        v.get(key)
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
    };
    let mut tweets: Vec<SocialPost> = events("tweet_create_events")
        .iter()
        .filter_map(|t| V1Tweet::deserialize(t).ok())
        .filter(|t| t.addresses(&me))
        .filter_map(|t| t.post(account, now))
        .collect();
    oldest_first(&mut tweets);
    let users = v.get("users").and_then(Value::as_object);
    let mut dms: Vec<SocialPost> = events("direct_message_events")
        .iter()
        .filter_map(|e| V1DmEvent::deserialize(e).ok())
        .filter_map(|e| e.post(&me, users, account, now))
        .collect();
    oldest_first(&mut dms);
    Ok(Activity {
        mention_ids: tweets.iter().map(|p| p.id.clone()).collect(),
        for_user_id: me,
        tweets,
        dms,
    })
}

// ----- Errors ------------------------------------------------------------------

/// What a non-2xx answer from X means for carebridge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum XError {
    /// 429; `reset` from `x-rate-limit-reset` (unix seconds).
    RateLimited {
        reset: Option<DateTime<Utc>>,
    },
    /// 401: the credentials are no longer accepted.
    Unauthorized,
    /// The account already posted exactly this text.
    DuplicateContent,
    /// The recipient doesn't accept DMs from the brand.
    DmNotAllowed,
    /// The author limited who can reply.
    ReplyRestricted,
    /// The post is gone or hidden from the brand.
    PostDeleted,
    /// The brand account is suspended or locked.
    Suspended,
    /// Any other 403 (typically a missing permission or scope).
    Forbidden {
        detail: String,
    },
    /// 5xx or 408: X's side.
    Server {
        status: u16,
    },
    Other {
        status: u16,
        detail: String,
    },
}

impl XError {
    /// Worth trying again unchanged later.
    pub fn retryable(&self) -> bool {
        matches!(self, XError::RateLimited { .. } | XError::Server { .. })
    }
}

/// The kind of request that was refused (some refusals read differently per endpoint).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    Read,
    Tweet,
    Dm,
    Like,
    Retweet,
    Delete,
}

/// Words that make a 403 on the DM endpoint about the app's access rather than the recipient.
const ACCESS_WORDS: &[&str] = &[
    "oauth",
    "permission",
    "scope",
    "client",
    "enrolled",
    "authentication",
    "access level",
];

/// What an error body says, whichever of X's shapes it has.
struct Problem {
    /// Title, detail, message, type… of every error in the body, lower-cased.
    text: String,
    /// v1.1 error codes.
    codes: Vec<i64>,
    /// The most human explanation, for the agent.
    detail: String,
}

impl Problem {
    fn read(body: &[u8]) -> Problem {
        let raw = String::from_utf8_lossy(body).trim().to_owned();
        let Ok(v) = serde_json::from_slice::<Value>(body) else {
            return Problem {
                text: raw.to_lowercase(),
                codes: Vec::new(),
                detail: raw,
            };
        };
        let errors = v
            .get("errors")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let all = || std::iter::once(&v).chain(errors);
        let field = |e: &Value, key: &str| {
            e.get(key)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let mut parts = Vec::new();
        let mut codes = Vec::new();
        for e in all() {
            for key in [
                "title",
                "detail",
                "message",
                "error",
                "error_description",
                "type",
                "reason",
            ] {
                parts.extend(field(e, key));
            }
            codes.extend(e.get("code").and_then(Value::as_i64));
        }
        // Most specific first: a v2 `detail`, a v1.1 `message`, OAuth 2's description.
        let detail = ["detail", "message", "error_description", "title", "error"]
            .iter()
            .find_map(|key| all().find_map(|e| field(e, key)))
            .unwrap_or(raw);
        Problem {
            text: parts.join(" ").to_lowercase(),
            codes,
            detail,
        }
    }

    fn says(&self, needles: &[&str]) -> bool {
        needles.iter().any(|n| self.text.contains(n))
    }

    fn has_code(&self, codes: &[i64]) -> bool {
        self.codes.iter().any(|c| codes.contains(c))
    }
}

fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max.saturating_sub(1)) {
        Some((cut, _)) if s.chars().count() > max => format!("{}…", &s[..cut]),
        _ => s.to_owned(),
    }
}

/// Classifies a non-2xx response. `reset_header` is `x-rate-limit-reset`.
pub fn classify(status: u16, reset_header: Option<&str>, body: &[u8], call: Call) -> XError {
    let p = Problem::read(body);
    if status == 429 || p.has_code(&[88]) {
        let reset = reset_header
            .and_then(|h| h.trim().parse::<i64>().ok())
            .and_then(|secs| DateTime::from_timestamp(secs, 0));
        return XError::RateLimited { reset };
    }
    // 32 "Could not authenticate you", 89 "Invalid or expired token".
    if status == 401 || p.has_code(&[32, 89]) {
        return XError::Unauthorized;
    }
    if status >= 500 || status == 408 {
        return XError::Server { status };
    }
    // 63 "User has been suspended" is about the other person: their posts are gone.
    if p.has_code(&[63]) {
        return XError::PostDeleted;
    }
    if p.has_code(&[64, 326]) || p.says(&["suspended", "locked"]) {
        return XError::Suspended;
    }
    if p.has_code(&[187]) || p.says(&["duplicate"]) {
        return XError::DuplicateContent;
    }
    if p.has_code(&[433])
        || p.says(&[
            "restricted who can reply",
            "reply to this conversation is not allowed",
        ])
    {
        return XError::ReplyRestricted;
    }
    if p.has_code(&[150, 349]) || p.says(&["not following", "cannot send messages"]) {
        return XError::DmNotAllowed;
    }
    if status == 404
        || p.has_code(&[144])
        || p.says(&[
            "deleted",
            "not visible",
            "does not exist",
            "not found",
            "resource-not-found",
        ])
    {
        return XError::PostDeleted;
    }
    let detail = truncate(&p.detail, DETAIL_MAX);
    match status {
        // X's v2 wording for a refused DM is not pinned down; a 403 there that
        // isn't about the app's access is the recipient's settings.
        403 if call == Call::Dm && !p.says(ACCESS_WORDS) => XError::DmNotAllowed,
        403 => XError::Forbidden { detail },
        _ => XError::Other { status, detail },
    }
}

// ----- Our own replies ---------------------------------------------------------

/// Whether `tweet` (from our own timeline) is our published `text` answering `in_reply_to`: it has a
/// `replied_to` reference to `in_reply_to` and the same text once both are normalised (HTML entities
/// unescaped, t.co links expanded, the leading @mentions X adds to replies stripped, NFC, trimmed).
pub fn is_our_reply(tweet: &Tweet, in_reply_to: &str, text: &str) -> bool {
    tweet
        .referenced_tweets
        .iter()
        .any(|r| r.kind == "replied_to" && r.id == in_reply_to)
        && comparable(&display_text(
            &tweet.text,
            entity_urls(tweet.entities.as_ref()),
        )) == comparable(text)
}

/// Same for a DM event we sent: sender is `me` and text matches after normalisation.
///
/// When X gives no link entities for the event, links are compared as
/// "some link": a t.co link could not be matched otherwise, and a resent DM
/// is worse than treating two DMs that differ only in a link as the same.
pub fn is_our_dm(event: &DmEvent, me: &str, text: &str) -> bool {
    if event.sender_id.as_deref() != Some(me) {
        return false;
    }
    let urls = entity_urls(event.entities.as_ref());
    let sent = comparable(&display_text(
        event.text.as_deref().unwrap_or_default(),
        urls,
    ));
    if urls.is_empty() {
        mask_links(&sent) == mask_links(&comparable(text))
    } else {
        sent == comparable(text)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const ACCOUNT: &str = "acme";
    /// The brand account (@acme_help).
    const ME: &str = "1500000000000000001";
    const ALICE: &str = "2244994945";

    const MENTIONS: &str = include_str!("../../../tests/data/x/mentions_page.json");
    const DM_EVENTS: &str = include_str!("../../../tests/data/x/dm_events.json");
    const ACTIVITY_MENTION: &str = include_str!("../../../tests/data/x/activity_mention.json");
    const ACTIVITY_DM: &str = include_str!("../../../tests/data/x/activity_dm.json");
    const TOKEN: &str = include_str!("../../../tests/data/x/token.json");

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 5, 14, 12, 0, 0).unwrap()
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn mentions() -> TweetsPage {
        serde_json::from_str(MENTIONS).unwrap()
    }

    fn ids(posts: &[SocialPost]) -> Vec<&str> {
        posts.iter().map(|p| p.id.as_str()).collect()
    }

    fn alice() -> Author {
        Author {
            id: ALICE.to_owned(),
            handle: "alice_r".to_owned(),
            name: Some("Alice Rivera".to_owned()),
        }
    }

    #[test]
    fn a_mentions_page_reads_with_its_paging_data() {
        let page = mentions();
        assert_eq!(page.data.len(), 5);
        assert_eq!(page.includes.users.len(), 3);
        assert_eq!(page.meta.newest_id.as_deref(), Some("1790000000000000005"));
        assert_eq!(page.meta.oldest_id.as_deref(), Some("999999999999999999"));
        assert_eq!(page.meta.result_count, Some(5));
        assert_eq!(
            page.meta.next_token.as_deref(),
            Some("7140dibdnow9c7btw3w29grvxfcgvpb9n9coehpk7xz5i")
        );
        assert!(page.errors.is_empty());
    }

    #[test]
    fn tweets_become_posts_oldest_first_without_the_brands_own_or_retweets() {
        let posts = tweet_posts(&mentions(), ACCOUNT, ME, PostKind::Mention, now());
        // Numeric order: the 18-digit id is the oldest although it sorts last as text.
        assert_eq!(
            ids(&posts),
            [
                "999999999999999999",
                "1789999999999999999",
                "1790000000000000005"
            ]
        );
    }

    #[test]
    fn a_tweet_post_has_its_text_as_typed_and_a_permalink() {
        let posts = tweet_posts(&mentions(), ACCOUNT, ME, PostKind::Mention, now());
        assert_eq!(
            posts[2],
            SocialPost {
                platform: Platform::X,
                account: ACCOUNT.to_owned(),
                id: "1790000000000000005".to_owned(),
                conversation_id: "1790000000000000005".to_owned(),
                author: alice(),
                kind: PostKind::Mention,
                text: "@acme_help my order #123 arrived broken & late <sigh> https://example.com/photos/broken-box".to_owned(),
                permalink: Some("https://x.com/alice_r/status/1790000000000000005".to_owned()),
                created_at: at("2024-05-14T09:30:12Z"),
                can_dm: CanDm::Unknown,
                reply_by: None,
                queue: None,
                parent: None,
                reference: None,
            }
        );
        // A reply keeps the thread's conversation.
        assert_eq!(posts[1].conversation_id, "1789000000000000000");
    }

    #[test]
    fn missing_author_and_fields_fall_back() {
        let posts = tweet_posts(&mentions(), ACCOUNT, ME, PostKind::Mention, now());
        let p = &posts[0];
        assert_eq!(
            p.author,
            Author {
                id: "783214".to_owned(),
                handle: "783214".to_owned(),
                name: None
            }
        );
        assert_eq!(p.conversation_id, p.id);
        assert_eq!(p.created_at, now());
        assert_eq!(
            p.permalink.as_deref(),
            Some("https://x.com/i/status/999999999999999999")
        );

        let page: TweetsPage =
            serde_json::from_str(r#"{"data":[{"id":"7","text":"hi","created_at":"yesterday"}]}"#)
                .unwrap();
        let posts = tweet_posts(&page, ACCOUNT, ME, PostKind::Mention, now());
        assert_eq!(posts[0].author.id, "unknown");
        assert_eq!(posts[0].created_at, now());
    }

    #[test]
    fn search_results_are_listening_posts() {
        let posts = tweet_posts(&mentions(), ACCOUNT, ME, PostKind::Listening, now());
        assert_eq!(posts.len(), 3);
        assert!(posts.iter().all(|p| p.kind == PostKind::Listening));
    }

    #[test]
    fn empty_and_null_pages_read_as_empty() {
        for body in [
            r#"{"meta":{"result_count":0}}"#,
            r#"{"data":null,"includes":null,"meta":null,"errors":null}"#,
            "{}",
        ] {
            let page: TweetsPage = serde_json::from_str(body).unwrap();
            assert!(tweet_posts(&page, ACCOUNT, ME, PostKind::Mention, now()).is_empty());
            let page: DmEventsPage = serde_json::from_str(body).unwrap();
            assert!(dm_posts(&page, ACCOUNT, ME, now()).is_empty());
        }
    }

    #[test]
    fn malformed_pages_are_errors() {
        assert!(serde_json::from_str::<TweetsPage>("not json").is_err());
        assert!(serde_json::from_str::<TweetsPage>(r#"{"data":[{"text":"no id"}]}"#).is_err());
        assert!(serde_json::from_str::<TweetsPage>(r#"{"data":{"id":"1"}}"#).is_err());
        assert!(serde_json::from_str::<DmEventsPage>(r#"{"data":[{"text":"no id"}]}"#).is_err());
    }

    #[test]
    fn ids_compare_numerically() {
        assert!(newer("1790000000000000005", "999999999999999999"));
        assert!(!newer("999999999999999999", "1790000000000000005"));
        assert!(!newer("42", "42"));
        assert!(newer("43", "42"));
        // Not numbers (or beyond u64): longer is larger, then by text.
        assert!(newer("99999999999999999999", "18446744073709551615"));
        assert!(newer("abc10", "abc9"));
        assert!(newer("b", "a"));
        assert_eq!(one_to_one("4444", ME), "4444-1500000000000000001");
        assert_eq!(one_to_one(ME, "4444"), "4444-1500000000000000001");
    }

    #[test]
    fn dm_events_become_posts_from_others_only() {
        let page: DmEventsPage = serde_json::from_str(DM_EVENTS).unwrap();
        let posts = dm_posts(&page, ACCOUNT, ME, now());
        assert_eq!(
            ids(&posts),
            [
                "1790099999999999999",
                "1790100000000000001",
                "1790100000000000003"
            ]
        );
        assert_eq!(
            posts[1],
            SocialPost {
                platform: Platform::X,
                account: ACCOUNT.to_owned(),
                id: "1790100000000000001".to_owned(),
                conversation_id: "2244994945-1500000000000000001".to_owned(),
                author: alice(),
                kind: PostKind::DirectMessage,
                text: "My order number is 123 & the box is crushed".to_owned(),
                permalink: Some("https://x.com/messages/2244994945-1500000000000000001".to_owned()),
                created_at: at("2024-05-14T09:55:00Z"),
                can_dm: CanDm::Yes,
                reply_by: None,
                queue: None,
                parent: None,
                reference: None,
            }
        );
        // No conversation id and no user: computed, and the id stands in for the handle.
        let stranger = &posts[0];
        assert_eq!(stranger.conversation_id, "4444-1500000000000000001");
        assert_eq!(stranger.author.handle, "4444");
        assert_eq!(
            stranger.permalink.as_deref(),
            Some("https://x.com/messages/4444-1500000000000000001")
        );
    }

    #[test]
    fn a_dm_without_a_sender_is_skipped() {
        let page: DmEventsPage = serde_json::from_str(
            r#"{"data":[{"id":"1","event_type":"MessageCreate","text":"who am I"}]}"#,
        )
        .unwrap();
        assert!(dm_posts(&page, ACCOUNT, ME, now()).is_empty());
    }

    #[test]
    fn activity_mentions_keep_tweets_addressed_to_the_brand() {
        let a = activity(ACTIVITY_MENTION.as_bytes(), ACCOUNT, now()).unwrap();
        assert_eq!(a.for_user_id, ME);
        // The brand's own reply, a retweet and a quote without a mention are skipped.
        assert_eq!(
            a.mention_ids,
            ["1789999999999999999", "1790000000000000005"]
        );
        assert_eq!(ids(&a.tweets), a.mention_ids);
        assert!(a.dms.is_empty());

        let mention = &a.tweets[1];
        assert_eq!(
            mention.text,
            "@acme_help my order arrived broken & late https://example.com/photos/broken-box"
        );
        assert_eq!(mention.author, alice());
        assert_eq!(mention.conversation_id, mention.id);
        assert_eq!(mention.created_at, at("2024-05-14T09:30:12Z"));
        assert_eq!(
            mention.permalink.as_deref(),
            Some("https://x.com/alice_r/status/1790000000000000005")
        );
        assert_eq!(mention.kind, PostKind::Mention);

        // A long reply: full text from extended_tweet, found through in_reply_to_user_id_str.
        let reply = &a.tweets[0];
        assert!(
            reply
                .text
                .ends_with("Nobody calls back & the chat bot loops. What is going on?")
        );
        assert_eq!(reply.conversation_id, "1789000000000000000");
        assert_eq!(reply.created_at, at("2024-05-14T09:15:00Z"));
    }

    #[test]
    fn activity_dms_keep_messages_to_the_brand() {
        assert_eq!(for_user_id(ACTIVITY_DM.as_bytes()).as_deref(), Some(ME));
        let a = activity(ACTIVITY_DM.as_bytes(), ACCOUNT, now()).unwrap();
        assert!(a.mention_ids.is_empty() && a.tweets.is_empty());
        // The brand's own DM and the unreadable event are skipped.
        assert_eq!(ids(&a.dms), ["1790200000000000000", "1790200000000000001"]);
        assert_eq!(
            a.dms[1],
            SocialPost {
                platform: Platform::X,
                account: ACCOUNT.to_owned(),
                id: "1790200000000000001".to_owned(),
                conversation_id: "2244994945-1500000000000000001".to_owned(),
                author: alice(),
                kind: PostKind::DirectMessage,
                text: "Hi, order 123 is missing & I need help https://example.com/orders/123"
                    .to_owned(),
                permalink: Some("https://x.com/messages/2244994945-1500000000000000001".to_owned()),
                created_at: at("2024-05-14T10:00:00Z"),
                can_dm: CanDm::Yes,
                reply_by: None,
                queue: None,
                parent: None,
                reference: None,
            }
        );
        let stranger = &a.dms[0];
        assert_eq!(stranger.conversation_id, "98765-1500000000000000001");
        assert_eq!(stranger.author.handle, "98765");
        assert_eq!(stranger.created_at, at("2024-05-14T09:58:20Z"));
    }

    #[test]
    fn activity_ignores_other_events_and_bad_entries() {
        let a = activity(
            br#"{"for_user_id":"2244994945","favorite_events":[{"id":"a7ba59eab0bfcba386f7acedac279542"}]}"#,
            ACCOUNT,
            now(),
        )
        .unwrap();
        assert_eq!(
            a,
            Activity {
                for_user_id: ALICE.to_owned(),
                ..Activity::default()
            }
        );
        let a = activity(
            br#"{"for_user_id":1,
                 "tweet_create_events":[7, null, {"id_str":"5","text":9,"in_reply_to_user_id_str":"1"},
                                        {"id_str":"6","in_reply_to_user_id_str":"1"},
                                        {"text":"no id","in_reply_to_user_id_str":"1"},
                                        {"id_str":"8","text":"@b hi","in_reply_to_user_id_str":"1","user":null}],
                 "direct_message_events":{"not":"a list"},
                 "users":[]}"#,
            ACCOUNT,
            now(),
        )
        .unwrap();
        assert_eq!(a.for_user_id, "1");
        // Only the readable tweet survives; its author is unknown.
        assert_eq!(a.mention_ids, ["8"]);
        assert_eq!(a.tweets[0].author.id, "unknown");
        assert_eq!(a.tweets[0].created_at, now());
    }

    #[test]
    fn malformed_activity_is_an_error() {
        assert!(matches!(
            activity(b"not json", ACCOUNT, now()),
            Err(WireError::Json(_))
        ));
        assert!(matches!(
            activity(b"[]", ACCOUNT, now()),
            Err(WireError::NoForUser)
        ));
        assert!(matches!(
            activity(br#"{"for_user_id":null}"#, ACCOUNT, now()),
            Err(WireError::NoForUser)
        ));
        assert_eq!(for_user_id(b"{"), None);
        assert_eq!(for_user_id(br#"{"for_user_id":""}"#), None);
        assert_eq!(for_user_id(br#"{"for_user_id":42}"#).as_deref(), Some("42"));
    }

    #[test]
    fn write_results_and_tokens_read() {
        let t: Data<CreatedTweet> =
            serde_json::from_str(r#"{"data":{"id":"1790000000000000010","text":"hi","edit_history_tweet_ids":["1790000000000000010"]}}"#)
                .unwrap();
        assert_eq!(t.data.id, "1790000000000000010");
        let d: Data<CreatedDm> = serde_json::from_str(
            r#"{"data":{"dm_conversation_id":"2244994945-1500000000000000001","dm_event_id":"1790100000000000009"}}"#,
        )
        .unwrap();
        assert_eq!(d.data.dm_event_id, "1790100000000000009");
        let me: Data<User> = serde_json::from_str(
            r#"{"data":{"id":"1500000000000000001","name":"Acme Help","username":"acme_help"}}"#,
        )
        .unwrap();
        assert_eq!(me.data.username, "acme_help");
        let deleted: Data<Value> = serde_json::from_str(r#"{"data":{"deleted":true}}"#).unwrap();
        assert_eq!(deleted.data["deleted"], Value::Bool(true));

        let token: TokenResponse = serde_json::from_str(TOKEN).unwrap();
        assert_eq!(token.expires_in, Some(7200));
        assert!(token.refresh_token.is_some());
        let shown = format!("{token:?}");
        assert!(!shown.contains(&token.access_token));
        assert!(!shown.contains(token.refresh_token.as_deref().unwrap()));
        assert!(shown.contains("dm.write"));
    }

    fn fixture(name: &str) -> &'static [u8] {
        match name {
            "duplicate" => include_bytes!("../../../tests/data/x/error_duplicate.json"),
            "duplicate_v1" => include_bytes!("../../../tests/data/x/error_duplicate_v1.json"),
            "rate_limit" => include_bytes!("../../../tests/data/x/error_rate_limit.json"),
            "rate_limit_v1" => include_bytes!("../../../tests/data/x/error_rate_limit_v1.json"),
            "unauthorized" => include_bytes!("../../../tests/data/x/error_unauthorized.json"),
            "dm_not_following" => {
                include_bytes!("../../../tests/data/x/error_dm_not_following.json")
            }
            "dm_refused" => include_bytes!("../../../tests/data/x/error_dm_refused.json"),
            "forbidden" => include_bytes!("../../../tests/data/x/error_forbidden.json"),
            "reply_restricted" => {
                include_bytes!("../../../tests/data/x/error_reply_restricted.json")
            }
            "reply_restricted_v1" => {
                include_bytes!("../../../tests/data/x/error_reply_restricted_v1.json")
            }
            "deleted" => include_bytes!("../../../tests/data/x/error_deleted.json"),
            "not_found" => include_bytes!("../../../tests/data/x/error_not_found.json"),
            "not_found_v1" => include_bytes!("../../../tests/data/x/error_not_found_v1.json"),
            "suspended" => include_bytes!("../../../tests/data/x/error_suspended.json"),
            "locked" => include_bytes!("../../../tests/data/x/error_locked.json"),
            "unsupported_auth" => {
                include_bytes!("../../../tests/data/x/error_unsupported_auth.json")
            }
            "oauth2" => include_bytes!("../../../tests/data/x/error_oauth2.json"),
            "invalid_request" => include_bytes!("../../../tests/data/x/error_invalid_request.json"),
            other => panic!("no fixture {other}"),
        }
    }

    fn classified(status: u16, name: &str, call: Call) -> XError {
        classify(status, None, fixture(name), call)
    }

    #[test]
    fn rate_limits_carry_the_reset_time() {
        assert_eq!(
            classify(429, Some("1715680800"), fixture("rate_limit"), Call::Read),
            XError::RateLimited {
                reset: Some(at("2024-05-14T10:00:00Z"))
            }
        );
        assert_eq!(
            classify(429, Some("soon"), fixture("rate_limit"), Call::Tweet),
            XError::RateLimited { reset: None }
        );
        // v1.1 code 88, whatever the status.
        assert_eq!(
            classified(400, "rate_limit_v1", Call::Dm),
            XError::RateLimited { reset: None }
        );
    }

    #[test]
    fn every_refusal_is_classified() {
        use XError::*;
        let cases = [
            (401, "unauthorized", Call::Read, Unauthorized),
            (403, "duplicate", Call::Tweet, DuplicateContent),
            (403, "duplicate_v1", Call::Tweet, DuplicateContent),
            (403, "dm_not_following", Call::Dm, DmNotAllowed),
            (403, "dm_refused", Call::Dm, DmNotAllowed),
            // A bare 403 on the DM endpoint is the recipient's settings…
            (403, "forbidden", Call::Dm, DmNotAllowed),
            // …but elsewhere a missing permission.
            (
                403,
                "forbidden",
                Call::Tweet,
                Forbidden {
                    detail: "Forbidden".to_owned(),
                },
            ),
            (403, "reply_restricted", Call::Tweet, ReplyRestricted),
            (403, "reply_restricted_v1", Call::Tweet, ReplyRestricted),
            (403, "deleted", Call::Tweet, PostDeleted),
            (400, "not_found", Call::Read, PostDeleted),
            (404, "not_found_v1", Call::Retweet, PostDeleted),
            (403, "suspended", Call::Like, Suspended),
            (403, "locked", Call::Dm, Suspended),
            (
                400,
                "oauth2",
                Call::Read,
                Other {
                    status: 400,
                    detail: "Value passed for the token was invalid.".to_owned(),
                },
            ),
            (
                400,
                "invalid_request",
                Call::Tweet,
                Other {
                    status: 400,
                    detail: "One or more parameters to your request was invalid.".to_owned(),
                },
            ),
        ];
        for (status, name, call, expected) in cases {
            assert_eq!(
                classified(status, name, call),
                expected,
                "{name} on {call:?}"
            );
        }
        // An access problem on the DM endpoint stays a permission problem.
        assert!(matches!(
            classified(403, "unsupported_auth", Call::Dm),
            Forbidden { detail } if detail.starts_with("Authenticating with OAuth 2.0 Application-Only")
        ));
        assert_eq!(classify(404, None, b"", Call::Delete), PostDeleted);
        assert_eq!(
            classify(503, None, b"<html>Over capacity</html>", Call::Tweet),
            Server { status: 503 }
        );
        assert_eq!(classify(408, None, b"", Call::Read), Server { status: 408 });
        assert_eq!(
            classify(400, None, b"Bad Request\n", Call::Read),
            Other {
                status: 400,
                detail: "Bad Request".to_owned()
            }
        );
        // The other person's suspension (v1.1 code 63) means their post is gone.
        assert_eq!(
            classify(
                403,
                None,
                br#"{"errors":[{"code":63,"message":"User has been suspended."}]}"#,
                Call::Tweet
            ),
            PostDeleted
        );
    }

    #[test]
    fn details_are_cut_to_300_characters() {
        let body = serde_json::json!({ "detail": "é".repeat(1000), "status": 400 }).to_string();
        let XError::Other { detail, .. } = classify(400, None, body.as_bytes(), Call::Read) else {
            panic!("not Other");
        };
        assert_eq!(detail.chars().count(), 300);
        assert!(detail.ends_with('…'));
        assert_eq!(truncate("short", 300), "short");
        assert_eq!(truncate(&"a".repeat(300), 300), "a".repeat(300));
    }

    #[test]
    fn only_rate_limits_and_server_errors_are_retryable() {
        assert!(XError::RateLimited { reset: None }.retryable());
        assert!(XError::Server { status: 502 }.retryable());
        for e in [
            XError::Unauthorized,
            XError::DuplicateContent,
            XError::DmNotAllowed,
            XError::ReplyRestricted,
            XError::PostDeleted,
            XError::Suspended,
            XError::Forbidden {
                detail: String::new(),
            },
            XError::Other {
                status: 400,
                detail: String::new(),
            },
        ] {
            assert!(!e.retryable(), "{e:?}");
        }
    }

    fn our_reply() -> Tweet {
        serde_json::from_value(serde_json::json!({
            "id": "1790000000000000010",
            "text": "@alice_r @acme_help Sorry about that &amp; thanks for your patience. Returns: https://t.co/Rt5Uv6Wx7Y",
            "author_id": ME,
            "conversation_id": "1790000000000000005",
            "referenced_tweets": [{ "type": "replied_to", "id": "1790000000000000005" }],
            "entities": { "urls": [{
                "start": 78, "end": 101,
                "url": "https://t.co/Rt5Uv6Wx7Y",
                "expanded_url": "https://example.com/returns",
                "display_url": "example.com/returns"
            }]}
        }))
        .unwrap()
    }

    #[test]
    fn our_reply_is_recognised_through_xs_rewriting() {
        let tweet = our_reply();
        let draft =
            "Sorry about that & thanks for your patience. Returns: https://example.com/returns";
        assert!(is_our_reply(&tweet, "1790000000000000005", draft));
        // The agent may have typed the mention themselves, and trailing space.
        assert!(is_our_reply(
            &tweet,
            "1790000000000000005",
            &format!("@alice_r {draft}  ")
        ));
        // Another post, or other words, is not ours.
        assert!(!is_our_reply(&tweet, "1790000000000000004", draft));
        assert!(!is_our_reply(
            &tweet,
            "1790000000000000005",
            "Sorry about that!"
        ));
        let mut quoted = tweet.clone();
        quoted.referenced_tweets[0].kind = "quoted".to_owned();
        assert!(!is_our_reply(&quoted, "1790000000000000005", draft));
    }

    #[test]
    fn reply_matching_normalises_unicode() {
        let mut tweet = our_reply();
        tweet.text = "@alice_r Caf\u{e9} is open".to_owned();
        assert!(is_our_reply(
            &tweet,
            "1790000000000000005",
            "Cafe\u{301} is open"
        ));
    }

    proptest::proptest! {
        #[test]
        fn any_input_reads_without_panicking(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512), text in "\\PC{0,80}", status in 100u16..600) {
            let _ = activity(&body, ACCOUNT, now());
            let _ = for_user_id(&body);
            let _ = classify(status, std::str::from_utf8(&body).ok(), &body, Call::Dm);
            let _ = serde_json::from_slice::<TweetsPage>(&body);
            let _ = serde_json::from_slice::<DmEventsPage>(&body);
            let tweet = Tweet { id: "1".to_owned(), text: text.clone(), ..Tweet::default() };
            let _ = is_our_reply(&tweet, "1", &text);
            let _ = mask_links(&text);
            let _ = truncate(&text, 7);
            let _ = newer(&text, "1");
        }

        #[test]
        fn any_json_activity_reads_without_panicking(text in "\\PC{0,40}", id in "[0-9]{1,20}") {
            let body = serde_json::json!({
                "for_user_id": id,
                "tweet_create_events": [{ "id_str": id, "text": text, "in_reply_to_user_id_str": id,
                                          "created_at": text, "user": { "id_str": text } }],
                "direct_message_events": [{ "type": "message_create", "id": id, "created_timestamp": text,
                    "message_create": { "sender_id": text, "target": { "recipient_id": id },
                                        "message_data": { "text": text } } }],
            });
            let _ = activity(body.to_string().as_bytes(), ACCOUNT, now());
        }
    }

    #[test]
    fn our_dm_is_recognised() {
        let page: DmEventsPage = serde_json::from_str(DM_EVENTS).unwrap();
        let ours = page
            .data
            .iter()
            .find(|e| e.id == "1790100000000000002")
            .unwrap();
        let text = "Hi Alice, a courier picks it up tomorrow: https://example.com/returns";
        assert!(is_our_dm(ours, ME, text));
        assert!(!is_our_dm(ours, ME, "Hi Alice!"));
        assert!(!is_our_dm(ours, ALICE, text));
        let theirs = page
            .data
            .iter()
            .find(|e| e.id == "1790100000000000001")
            .unwrap();
        assert!(!is_our_dm(
            theirs,
            ME,
            "My order number is 123 & the box is crushed"
        ));

        // Without link entities a t.co link still matches our link, and only a link.
        let bare = DmEvent {
            id: "1".to_owned(),
            event_type: "MessageCreate".to_owned(),
            text: Some("See https://t.co/Ab12Cd34Ef for the label".to_owned()),
            sender_id: Some(ME.to_owned()),
            ..DmEvent::default()
        };
        assert!(is_our_dm(
            &bare,
            ME,
            "See https://example.com/label for the label"
        ));
        assert!(!is_our_dm(&bare, ME, "See the label"));
        assert_eq!(
            mask_links("a http://x.y/z b https://q"),
            "a <link> b <link>"
        );
    }
}

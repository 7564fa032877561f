//! A fake X (Twitter) API v2 for integration tests: a stateful world behind a
//! local HTTP server that speaks X's wire format — `/2/…` JSON endpoints,
//! OAuth 2 bearer tokens with refresh-token rotation or OAuth 1.0a HMAC-SHA1
//! signatures, v2 problem bodies (`{"title","type","status","detail"}`),
//! `x-rate-limit-*` headers on every answer, paging through opaque
//! `next_token`s — plus builders for Account Activity (webhook) deliveries in
//! their v1.1 shapes.
//!
//! The bot under test is pointed at [`FakeX::url`] (`api_url = fake.url()`).
//! The server runs on its own thread and runtime, so tests that block their
//! own runtime (e.g. `std::thread::sleep` polling) never stall it. Every
//! request that passes authentication is recorded as a [`Call`];
//! [`FakeX::take_calls`] drains the ones a test has not asserted yet.
//!
//! What the fake simplifies, on purpose:
//! - Recent search ignores every operator (`-is:retweet`, `lang:en`,
//!   `-from:acme`, `has:…`, `OR`, parentheses); a tweet matches when its text
//!   holds every bare word (and every `"quoted phrase"`) of the query as a
//!   whole word, case-insensitively. The brand's own tweets never match.
//! - A mention is an `@handle` entity naming the user (case-insensitive,
//!   whole handle, as X links them) or a reply to one of the user's tweets.
//! - `tweet.fields`/`user.fields`/`dm_event.fields` values it does not know
//!   are ignored rather than refused; `lang` is always `"en"`.
//! - `x-rate-limit-remaining` counts down per endpoint from 900 but never
//!   below 1: only a scripted [`Fault::RateLimited`] answers 429.
//! - Retweets are recorded ([`FakeX::retweets`]) but do not appear in the
//!   brand's timeline.
//!
//! Include with `#[path = "support/x.rs"] mod x;`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use crate::background::{Background, CallLog, loopback};

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use serde_json::{Map, Value, json};
use sha1::Sha1;

pub const BRAND_ID: &str = "1000";
pub const BRAND_USERNAME: &str = "acme";
pub const BRAND_NAME: &str = "Acme Support";

/// The first tweet / DM event id; one counter serves both.
pub const FIRST_ID: u64 = 1_800_000_000_000_000_000;
/// Users added with [`FakeX::add_user`] get `2001`, `2002`, …
const FIRST_USER_ID: u64 = 2001;

/// `x-rate-limit-limit` on every answer.
pub const RATE_LIMIT: u32 = 900;
/// `x-rate-limit-reset` is now plus this many seconds (a 15-minute window).
const RATE_WINDOW_SECS: u64 = 900;

/// The scopes the token endpoint reports.
pub const OAUTH2_SCOPE: &str =
    "tweet.read tweet.write users.read dm.read dm.write like.write offline.access";

/// Prefix of the opaque paging tokens (the rest is the last id returned, in hex).
const TOKEN_PREFIX: &str = "7140dibdnow9c7btw4";

pub const DUPLICATE_DETAIL: &str = "You are not allowed to create a Tweet with duplicate content.";
pub const REPLY_RESTRICTED_DETAIL: &str = "Reply to this conversation is not allowed because you have not been mentioned or otherwise engaged by the author of the post you are replying to.";
pub const REPLY_DELETED_DETAIL: &str =
    "You attempted to reply to a Tweet that is deleted or not visible to you.";
pub const ALREADY_RETWEETED_DETAIL: &str =
    "You cannot retweet a Tweet that you have already retweeted.";
/// The v1.1 wording (code 150); X's v2 text for this refusal is unconfirmed.
pub const DM_REFUSED_DETAIL: &str = "You cannot send messages to users who are not following you.";

// ---------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------

/// An account on the fake X.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FakeUser {
    pub id: String,
    pub username: String,
    pub name: String,
}

/// How the bot authenticates; the fake accepts only these credentials.
#[derive(Clone, Debug)]
pub enum FakeAuth {
    /// User-context OAuth 2: `Authorization: Bearer <access>`; the refresh
    /// token is exchanged at `POST /2/oauth2/token` with HTTP Basic
    /// `client_id:client_secret`, rotating both tokens.
    OAuth2 {
        access: String,
        refresh: String,
        client_id: String,
        client_secret: String,
    },
    /// OAuth 1.0a, HMAC-SHA1 signatures checked per RFC 5849.
    OAuth1 {
        consumer_key: String,
        consumer_secret: String,
        token: String,
        token_secret: String,
    },
}

/// A scripted failure for the next request matching a method and path prefix.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// 429 `{"title":"Too Many Requests",…}` with `x-rate-limit-remaining: 0`
    /// and `x-rate-limit-reset` = now + `reset_in` (rounded up to a second).
    RateLimited { reset_in: Duration },
    /// This status and JSON body (rate-limit headers as usual).
    Status(u16, Value),
    /// The request is recorded and takes effect (a tweet is created, a DM
    /// sent…), but no answer ever comes: the client can only time out.
    Hang,
    /// 500 `{"title":"Internal Server Error",…}`; the request has no effect.
    Drop,
}

/// One request the fake received and authenticated.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    /// `GET`, `POST`, `DELETE`, …
    pub method: String,
    /// The path with empty segments removed, e.g. `/2/users/1000/mentions`.
    pub path: String,
    /// Decoded query parameters, in order.
    pub query: Vec<(String, String)>,
    /// A JSON body as sent, a form body as an object of strings, `Null` when
    /// there is no body (an unparseable body is kept as a JSON string).
    pub body: Value,
    /// The `Authorization` header ("" when absent).
    pub auth: String,
}

impl Call {
    /// `method` and `path` are exactly these (method case-insensitively).
    pub fn is(&self, method: &str, path: &str) -> bool {
        self.method.eq_ignore_ascii_case(method) && self.path == path
    }

    /// The first query parameter named `key`.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// A tweet the brand created through `POST /2/tweets`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PostedTweet {
    pub id: String,
    /// The text as the client sent it (without the `@parent ` prefix X adds
    /// to replies; the API returns it with the prefix).
    pub text: String,
    pub in_reply_to: Option<String>,
}

/// A DM the brand sent through `POST /2/dm_conversations/with/:id/messages`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentDm {
    pub event_id: String,
    /// The recipient's user id.
    pub to: String,
    pub text: String,
}

// ---------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------

struct User {
    id: String,
    username: String,
    name: String,
    accepts_dms: bool,
}

impl User {
    fn public(&self) -> FakeUser {
        FakeUser {
            id: self.id.clone(),
            username: self.username.clone(),
            name: self.name.clone(),
        }
    }
}

#[derive(Clone)]
struct Tweet {
    id: u64,
    author: String,
    /// As X shows it: replies carry the `@parent ` prefix.
    text: String,
    in_reply_to: Option<u64>,
    in_reply_to_user: Option<String>,
    conversation: u64,
    created_ms: u64,
    deleted: bool,
    restricted: bool,
}

#[derive(Clone)]
struct DmEvent {
    id: u64,
    sender: String,
    recipient: String,
    text: String,
    created_ms: u64,
}

impl DmEvent {
    fn conversation(&self) -> String {
        conversation_id(&self.sender, &self.recipient)
    }
}

enum AuthState {
    OAuth2 {
        access: String,
        refresh: String,
        client_id: String,
        client_secret: String,
        expired: bool,
        rotations: u64,
    },
    OAuth1 {
        consumer_key: String,
        consumer_secret: String,
        token: String,
        token_secret: String,
    },
}

struct State {
    auth: AuthState,
    users: Vec<User>,
    tweets: BTreeMap<u64, Tweet>,
    dms: BTreeMap<u64, DmEvent>,
    next_id: u64,
    last_ms: u64,
    posted: Vec<PostedTweet>,
    sent_dms: Vec<SentDm>,
    likes: Vec<String>,
    retweets: Vec<String>,
    /// (method, path prefix, fault), first match wins.
    faults: VecDeque<(String, String, Fault)>,
    calls: CallLog<Call>,
    /// Requests refused by the authentication check (not in `calls`).
    unauthorized: usize,
    /// Authenticated requests per endpoint, for `x-rate-limit-remaining`.
    hits: HashMap<String, u32>,
}

impl State {
    fn new(auth: FakeAuth) -> State {
        let auth = match auth {
            FakeAuth::OAuth2 {
                access,
                refresh,
                client_id,
                client_secret,
            } => AuthState::OAuth2 {
                access,
                refresh,
                client_id,
                client_secret,
                expired: false,
                rotations: 0,
            },
            FakeAuth::OAuth1 {
                consumer_key,
                consumer_secret,
                token,
                token_secret,
            } => AuthState::OAuth1 {
                consumer_key,
                consumer_secret,
                token,
                token_secret,
            },
        };
        State {
            auth,
            users: vec![User {
                id: BRAND_ID.into(),
                username: BRAND_USERNAME.into(),
                name: BRAND_NAME.into(),
                accepts_dms: true,
            }],
            tweets: BTreeMap::new(),
            dms: BTreeMap::new(),
            next_id: FIRST_ID,
            last_ms: 0,
            posted: vec![],
            sent_dms: vec![],
            likes: vec![],
            retweets: vec![],
            faults: VecDeque::new(),
            calls: CallLog::default(),
            unauthorized: 0,
            hits: HashMap::new(),
        }
    }

    fn user(&self, id: &str) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }

    fn user_by_name(&self, username: &str) -> Option<&User> {
        self.users
            .iter()
            .find(|u| u.username.eq_ignore_ascii_case(username))
    }

    fn username(&self, id: &str) -> String {
        self.user(id)
            .map(|u| u.username.clone())
            .unwrap_or_default()
    }

    fn next_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Wall-clock milliseconds, never going backwards.
    fn now_ms(&mut self) -> u64 {
        self.last_ms = unix_ms().max(self.last_ms);
        self.last_ms
    }

    fn live_tweet(&self, id: u64) -> Option<&Tweet> {
        self.tweets.get(&id).filter(|t| !t.deleted)
    }

    /// `text` as X stores a reply by `author` to `parent`: prefixed with
    /// `@parentauthor ` unless the author replies to themself or the text
    /// already starts with that mention.
    fn reply_text(&self, author: &str, parent: &Tweet, text: &str) -> String {
        if parent.author == author {
            return text.to_string();
        }
        let handle = format!("@{}", self.username(&parent.author));
        let starts = text
            .get(..handle.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(&handle))
            && text[handle.len()..]
                .chars()
                .next()
                .is_none_or(|c| !is_word(c));
        if starts {
            text.to_string()
        } else {
            format!("{handle} {text}")
        }
    }

    /// Stores a tweet; `text` is final (prefix already applied).
    fn add_tweet(&mut self, author: &str, text: String, parent: Option<u64>) -> u64 {
        let id = self.next_id();
        let created_ms = self.now_ms();
        let (conversation, in_reply_to_user) = match parent.and_then(|p| self.tweets.get(&p)) {
            Some(p) => (p.conversation, Some(p.author.clone())),
            None => (id, None),
        };
        self.tweets.insert(
            id,
            Tweet {
                id,
                author: author.to_string(),
                text,
                in_reply_to: parent,
                in_reply_to_user,
                conversation,
                created_ms,
                deleted: false,
                restricted: false,
            },
        );
        id
    }

    fn add_dm(&mut self, sender: &str, recipient: &str, text: &str) -> u64 {
        let id = self.next_id();
        let created_ms = self.now_ms();
        self.dms.insert(
            id,
            DmEvent {
                id,
                sender: sender.to_string(),
                recipient: recipient.to_string(),
                text: text.to_string(),
                created_ms,
            },
        );
        id
    }

    /// Users named by `@handle` entities in `text`: (start, end, user id),
    /// indices in characters, as X's v2 entities count them.
    fn mentions_in(&self, text: &str) -> Vec<(usize, usize, String)> {
        scan_handles(text)
            .into_iter()
            .filter_map(|(s, e, handle)| self.user_by_name(&handle).map(|u| (s, e, u.id.clone())))
            .collect()
    }

    fn mentions(&self, t: &Tweet, user_id: &str) -> bool {
        t.in_reply_to_user.as_deref() == Some(user_id)
            || self
                .mentions_in(&t.text)
                .iter()
                .any(|(_, _, id)| id == user_id)
    }
}

struct Shared {
    addr: SocketAddr,
    state: Mutex<State>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic in one handler must not hide every later assertion.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

// ---------------------------------------------------------------------------
// The handle
// ---------------------------------------------------------------------------

/// A running fake X; clones share it, and dropping the last one stops it.
#[derive(Clone)]
pub struct FakeX {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<Shared>,
    /// Declared last: the server stops after nothing else needs it.
    _server: Background,
}

impl FakeX {
    /// Binds `127.0.0.1:0` and serves from a background thread with its own
    /// runtime. The world starts with the brand (`1000`, `@acme`) only.
    pub async fn start(auth: FakeAuth) -> FakeX {
        let listener = loopback();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            addr,
            state: Mutex::new(State::new(auth)),
        });
        let app = axum::Router::new()
            .fallback(handle_http)
            .with_state(shared.clone());
        let server = Background::serve("fake-x", listener, app);
        FakeX {
            inner: Arc::new(Inner {
                shared,
                _server: server,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.inner.shared.lock()
    }

    /// `http://127.0.0.1:PORT/` (with the trailing slash).
    pub fn url(&self) -> String {
        format!("http://{}/", self.inner.shared.addr)
    }

    /// The brand: id `1000`, `@acme`, "Acme Support".
    pub fn me(&self) -> FakeUser {
        self.lock().user(BRAND_ID).unwrap().public()
    }

    /// A new account (`2001`, `2002`, …) that accepts DMs. Usernames are unique.
    pub fn add_user(&self, username: &str, name: &str) -> FakeUser {
        let mut state = self.lock();
        assert!(
            state.user_by_name(username).is_none(),
            "add_user: @{username} already exists"
        );
        let id = (FIRST_USER_ID + state.users.len() as u64 - 1).to_string();
        let user = User {
            id,
            username: username.to_string(),
            name: name.to_string(),
            accepts_dms: true,
        };
        let public = user.public();
        state.users.push(user);
        public
    }

    /// DMs from the brand to this user are refused with X's 403.
    pub fn refuse_dms(&self, user_id: &str) {
        let mut state = self.lock();
        let user = state
            .users
            .iter_mut()
            .find(|u| u.id == user_id)
            .unwrap_or_else(|| panic!("refuse_dms: no user {user_id}"));
        user.accepts_dms = false;
    }

    /// Replies to this tweet are refused with X's reply-restriction 403.
    pub fn restrict_replies(&self, tweet_id: &str) {
        self.with_tweet(tweet_id, "restrict_replies", |t| t.restricted = true);
    }

    /// As if the author deleted it: gone from every listing and lookup;
    /// replying to it is refused.
    pub fn delete_tweet(&self, tweet_id: &str) {
        self.with_tweet(tweet_id, "delete_tweet", |t| t.deleted = true);
    }

    fn with_tweet(&self, tweet_id: &str, what: &str, f: impl FnOnce(&mut Tweet)) {
        let mut state = self.lock();
        let tweet = tweet_id
            .parse::<u64>()
            .ok()
            .and_then(|id| state.tweets.get_mut(&id))
            .unwrap_or_else(|| panic!("{what}: no tweet {tweet_id}"));
        f(tweet);
    }

    /// A new tweet by `from` mentioning the brand (the text must contain
    /// `@acme`); it starts its own conversation. Returns its id.
    pub fn mention(&self, from: &FakeUser, text: &str) -> String {
        let mut state = self.lock();
        let mentions = state.mentions_in(text);
        assert!(
            mentions.iter().any(|(_, _, id)| id == BRAND_ID),
            "mention: {text:?} does not mention @{BRAND_USERNAME}"
        );
        state
            .add_tweet(&from.id, text.to_string(), None)
            .to_string()
    }

    /// A reply by `from` to `in_reply_to`, in the parent's conversation. As on
    /// X, the text gets a leading `@parentauthor ` unless it already starts
    /// with it or `from` replies to their own tweet. Returns its id.
    pub fn reply(&self, from: &FakeUser, in_reply_to: &str, text: &str) -> String {
        let mut state = self.lock();
        let parent = in_reply_to
            .parse::<u64>()
            .ok()
            .and_then(|id| state.tweets.get(&id))
            .unwrap_or_else(|| panic!("reply: no tweet {in_reply_to}"))
            .clone();
        let full = state.reply_text(&from.id, &parent, text);
        state.add_tweet(&from.id, full, Some(parent.id)).to_string()
    }

    /// A plain tweet by `from` (for listening searches). Returns its id.
    pub fn tweet(&self, from: &FakeUser, text: &str) -> String {
        self.lock()
            .add_tweet(&from.id, text.to_string(), None)
            .to_string()
    }

    /// A DM from `from` to the brand. Returns the DM event id.
    pub fn dm(&self, from: &FakeUser, text: &str) -> String {
        self.lock().add_dm(&from.id, BRAND_ID, text).to_string()
    }

    /// The next request whose method is `method` and whose path starts with
    /// `path_prefix` (e.g. `"POST", "/2/tweets"`) is answered with `fault`.
    /// Faults queue in order; the first matching one is used.
    pub fn fail_next(&self, method: &str, path_prefix: &str, fault: Fault) {
        let prefix = if path_prefix.starts_with('/') {
            path_prefix.to_string()
        } else {
            format!("/{path_prefix}")
        };
        self.lock()
            .faults
            .push_back((method.to_ascii_uppercase(), prefix, fault));
    }

    /// The current OAuth 2 access token stops working (401) until the client
    /// refreshes. Panics under OAuth 1.
    pub fn expire_token(&self) {
        match &mut self.lock().auth {
            AuthState::OAuth2 { expired, .. } => *expired = true,
            AuthState::OAuth1 { .. } => panic!("expire_token: the fake uses OAuth 1"),
        }
    }

    /// The current OAuth 2 `(access, refresh)` tokens; under OAuth 1,
    /// `(token, token_secret)`.
    pub fn tokens(&self) -> (String, String) {
        match &self.lock().auth {
            AuthState::OAuth2 {
                access, refresh, ..
            } => (access.clone(), refresh.clone()),
            AuthState::OAuth1 {
                token,
                token_secret,
                ..
            } => (token.clone(), token_secret.clone()),
        }
    }

    /// How many requests were refused by the authentication check (these are
    /// not in [`FakeX::calls`]).
    pub fn unauthorized(&self) -> usize {
        self.lock().unauthorized
    }

    /// Every authenticated request (and every token-endpoint request), in
    /// arrival order.
    pub fn calls(&self) -> Vec<Call> {
        self.lock().calls.to_vec()
    }

    /// The calls not taken yet, oldest first; marks them taken.
    pub fn take_calls(&self) -> Vec<Call> {
        self.lock().calls.take()
    }

    /// Polls every 20 ms until `f` holds for all calls so far and returns
    /// them; panics with `what` and the calls after `timeout`.
    pub async fn wait_for<F: Fn(&[Call]) -> bool>(
        &self,
        what: &str,
        timeout: Duration,
        f: F,
    ) -> Vec<Call> {
        let deadline = Instant::now() + timeout;
        loop {
            let calls = self.calls();
            if f(&calls) {
                return calls;
            }
            if Instant::now() >= deadline {
                panic!("fake X: timed out after {timeout:?} waiting for {what}; calls: {calls:#?}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Tweets the brand created through `POST /2/tweets`, in order (deleted
    /// ones included).
    pub fn posted(&self) -> Vec<PostedTweet> {
        self.lock().posted.clone()
    }

    /// DMs the brand sent, in order.
    pub fn sent_dms(&self) -> Vec<SentDm> {
        self.lock().sent_dms.clone()
    }

    /// Tweet ids the brand likes now, in the order liked.
    pub fn likes(&self) -> Vec<String> {
        self.lock().likes.clone()
    }

    /// Tweet ids the brand has retweeted now, in the order retweeted.
    pub fn retweets(&self) -> Vec<String> {
        self.lock().retweets.clone()
    }

    /// The Account Activity delivery for a tweet (v1.1 shapes):
    /// `{"for_user_id":"1000","tweet_create_events":[…]}`. Panics on an
    /// unknown id.
    pub fn activity_mention(&self, tweet_id: &str) -> Vec<u8> {
        let state = self.lock();
        let tweet = tweet_id
            .parse::<u64>()
            .ok()
            .and_then(|id| state.tweets.get(&id))
            .unwrap_or_else(|| panic!("activity_mention: no tweet {tweet_id}"));
        let mut body = json!({
            "for_user_id": BRAND_ID,
            "tweet_create_events": [v1_tweet(&state, tweet)],
        });
        if tweet.author != BRAND_ID && state.mentions(tweet, BRAND_ID) {
            body["user_has_blocked"] = json!(false);
        }
        serde_json::to_vec(&body).unwrap()
    }

    /// The Account Activity delivery for a DM event (v1.1 shapes):
    /// `{"for_user_id":"1000","direct_message_events":[…],"users":{…}}`.
    /// Panics on an unknown id.
    pub fn activity_dm(&self, event_id: &str) -> Vec<u8> {
        let state = self.lock();
        let dm = event_id
            .parse::<u64>()
            .ok()
            .and_then(|id| state.dms.get(&id))
            .unwrap_or_else(|| panic!("activity_dm: no DM event {event_id}"));
        let mut users = Map::new();
        for id in [&dm.sender, &dm.recipient] {
            if let Some(u) = state.user(id) {
                users.insert(id.clone(), v1_dm_user(u));
            }
        }
        let body = json!({
            "for_user_id": BRAND_ID,
            "direct_message_events": [{
                "type": "message_create",
                "id": dm.id.to_string(),
                "created_timestamp": dm.created_ms.to_string(),
                "message_create": {
                    "target": {"recipient_id": dm.recipient},
                    "sender_id": dm.sender,
                    "message_data": {
                        "text": dm.text,
                        "entities": {"hashtags": [], "symbols": [], "user_mentions": [], "urls": []},
                    },
                },
            }],
            "users": users,
        });
        serde_json::to_vec(&body).unwrap()
    }
}

// ---------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------

type Reply = (StatusCode, Value);

enum Outcome {
    Answer(Response),
    Hang,
}

async fn handle_http(
    AxumState(shared): AxumState<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match serve(&shared, &method, &uri, &headers, &body) {
        Outcome::Answer(resp) => resp,
        Outcome::Hang => std::future::pending().await,
    }
}

fn serve(shared: &Shared, method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Outcome {
    // Empty segments are skipped so a base URL with a trailing slash joined
    // with "/2/…" still works.
    let segs: Vec<&str> = uri.path().split('/').filter(|s| !s.is_empty()).collect();
    let path = format!("/{}", segs.join("/"));
    let query = parse_form(uri.query().unwrap_or(""));
    let auth = header_str(headers, header::AUTHORIZATION);
    let is_form = header_str(headers, header::CONTENT_TYPE)
        .to_ascii_lowercase()
        .starts_with("application/x-www-form-urlencoded");
    let form = if is_form {
        parse_form(&String::from_utf8_lossy(body))
    } else {
        vec![]
    };
    let body_value = if body.is_empty() {
        Value::Null
    } else if is_form {
        Value::Object(
            form.iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        )
    } else {
        serde_json::from_slice(body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
    };
    let endpoint = endpoint_key(method, &segs);
    let now = unix_secs();

    let mut state = shared.lock();
    let needs_auth = segs.first() == Some(&"2") && path != "/2/oauth2/token";
    if needs_auth {
        let host = header_str(headers, header::HOST);
        let host = if host.is_empty() {
            shared.addr.to_string()
        } else {
            host
        };
        let request = SignedRequest {
            method: method.as_str(),
            host: &host,
            path: uri.path(),
            query: &query,
            form: &form,
            authorization: &auth,
        };
        if !authorized(&state.auth, &request) {
            state.unauthorized += 1;
            let remaining = remaining(&state, &endpoint);
            let (status, body) = problem(StatusCode::UNAUTHORIZED, "Unauthorized", "Unauthorized");
            return Outcome::Answer(answer(status, body, remaining, now + RATE_WINDOW_SECS));
        }
    }
    state.calls.push(Call {
        method: method.as_str().to_string(),
        path: path.clone(),
        query: query.clone(),
        body: body_value.clone(),
        auth,
    });
    *state.hits.entry(endpoint.clone()).or_default() += 1;
    let remaining = remaining(&state, &endpoint);
    let reset = now + RATE_WINDOW_SECS;
    let fault = state
        .faults
        .iter()
        .position(|(m, prefix, _)| m == method.as_str() && path.starts_with(prefix.as_str()))
        .and_then(|i| state.faults.remove(i))
        .map(|(_, _, f)| f);
    let request = Request {
        method,
        segs: &segs,
        query: &query,
        body: &body_value,
        headers,
    };
    match fault {
        None => {
            let (status, body) = route(&mut state, &request);
            Outcome::Answer(answer(status, body, remaining, reset))
        }
        Some(Fault::Hang) => {
            let _ = route(&mut state, &request);
            Outcome::Hang
        }
        Some(Fault::Drop) => {
            let (status, body) = problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal Server Error",
                "Internal Server Error",
            );
            Outcome::Answer(answer(status, body, remaining, reset))
        }
        Some(Fault::Status(code, body)) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            Outcome::Answer(answer(status, body, remaining, reset))
        }
        Some(Fault::RateLimited { reset_in }) => {
            let (status, body) = problem(
                StatusCode::TOO_MANY_REQUESTS,
                "Too Many Requests",
                "Too Many Requests",
            );
            let wait = reset_in.as_secs() + u64::from(reset_in.subsec_nanos() > 0);
            Outcome::Answer(answer(status, body, 0, now + wait))
        }
    }
}

fn header_str(headers: &HeaderMap, name: HeaderName) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

/// `GET /2/users/1000/mentions` → `GET /2/users/:id/mentions`: ids replaced,
/// so every user and tweet shares one rate-limit bucket per endpoint.
fn endpoint_key(method: &Method, segs: &[&str]) -> String {
    let shape: Vec<&str> = segs
        .iter()
        .map(|s| {
            if s.bytes().all(|b| b.is_ascii_digit()) {
                ":id"
            } else {
                s
            }
        })
        .collect();
    format!("{method} /{}", shape.join("/"))
}

fn remaining(state: &State, endpoint: &str) -> u32 {
    let used = state.hits.get(endpoint).copied().unwrap_or(0);
    RATE_LIMIT.saturating_sub(used).max(1)
}

fn answer(status: StatusCode, body: Value, remaining: u32, reset: u64) -> Response {
    let mut resp = (status, axum::Json(body)).into_response();
    let headers = resp.headers_mut();
    headers.insert("x-rate-limit-limit", HeaderValue::from(RATE_LIMIT));
    headers.insert("x-rate-limit-remaining", HeaderValue::from(remaining));
    headers.insert("x-rate-limit-reset", HeaderValue::from(reset));
    resp
}

struct Request<'a> {
    method: &'a Method,
    segs: &'a [&'a str],
    query: &'a [(String, String)],
    body: &'a Value,
    headers: &'a HeaderMap,
}

impl Request<'_> {
    fn param(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A comma-separated list parameter (`tweet.fields`, `expansions`, …).
    fn list(&self, key: &str) -> HashSet<String> {
        self.param(key)
            .map(|v| {
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn body_str(&self, key: &str) -> Option<&str> {
        self.body.get(key).and_then(Value::as_str)
    }
}

fn route(state: &mut State, req: &Request) -> Reply {
    let m = req.method;
    let result = match req.segs {
        ["2", "users", "me"] if m == Method::GET => me(state, req),
        ["2", "users", id, "mentions"] if m == Method::GET => mentions(state, req, id),
        ["2", "users", id, "tweets"] if m == Method::GET => timeline(state, req, id),
        ["2", "tweets", "search", "recent"] if m == Method::GET => search(state, req),
        ["2", "tweets"] if m == Method::GET => lookup(state, req),
        ["2", "tweets"] if m == Method::POST => create_tweet(state, req),
        ["2", "tweets", id] if m == Method::GET => lookup_one(state, req, id),
        ["2", "tweets", id] if m == Method::DELETE => delete_tweet(state, id),
        ["2", "users", id, "likes"] if m == Method::POST => like(state, req, id),
        ["2", "users", id, "likes", tweet] if m == Method::DELETE => unlike(state, id, tweet),
        ["2", "users", id, "retweets"] if m == Method::POST => retweet(state, req, id),
        ["2", "users", id, "retweets", tweet] if m == Method::DELETE => unretweet(state, id, tweet),
        ["2", "dm_events"] if m == Method::GET => dm_events(state, req, None),
        ["2", "dm_conversations", "with", who, "dm_events"] if m == Method::GET => {
            dm_events(state, req, Some(who))
        }
        ["2", "dm_conversations", "with", who, "messages"] if m == Method::POST => {
            send_dm(state, req, who)
        }
        ["2", "oauth2", "token"] if m == Method::POST => token(state, req),
        _ => Err(problem(
            StatusCode::NOT_FOUND,
            "Not Found Error",
            "Not Found",
        )),
    };
    result.unwrap_or_else(|e| e)
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

fn problem(status: StatusCode, title: &str, detail: &str) -> Reply {
    (
        status,
        json!({"title": title, "type": "about:blank", "status": status.as_u16(), "detail": detail}),
    )
}

fn forbidden(detail: &str) -> Reply {
    problem(StatusCode::FORBIDDEN, "Forbidden", detail)
}

/// X's 400 for a bad parameter.
fn invalid_request(message: String, parameter: Option<(&str, &str)>) -> Reply {
    let mut error = json!({"message": message});
    if let Some((name, value)) = parameter {
        error["parameters"] = json!({ name: [value] });
    }
    (
        StatusCode::BAD_REQUEST,
        json!({
            "errors": [error],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": "https://api.twitter.com/2/problems/invalid-request",
        }),
    )
}

/// The partial-error item X puts in `errors` for an id it cannot find.
fn not_found_item(resource: &str, parameter: &str, value: &str) -> Value {
    json!({
        "value": value,
        "detail": format!("Could not find {resource} with {parameter}: [{value}]."),
        "title": "Not Found Error",
        "resource_type": resource,
        "parameter": parameter,
        "resource_id": value,
        "type": "https://api.twitter.com/2/problems/resource-not-found",
    })
}

fn not_found(resource: &str, parameter: &str, value: &str) -> Reply {
    let mut body = not_found_item(resource, parameter, value);
    body["status"] = json!(404);
    (StatusCode::NOT_FOUND, body)
}

// ---------------------------------------------------------------------------
// Authentication
// ---------------------------------------------------------------------------

struct SignedRequest<'a> {
    method: &'a str,
    host: &'a str,
    /// The path as requested (still percent-encoded).
    path: &'a str,
    query: &'a [(String, String)],
    form: &'a [(String, String)],
    authorization: &'a str,
}

fn authorized(auth: &AuthState, req: &SignedRequest) -> bool {
    match auth {
        AuthState::OAuth2 {
            access, expired, ..
        } => !expired && req.authorization.strip_prefix("Bearer ").map(str::trim) == Some(access),
        AuthState::OAuth1 {
            consumer_key,
            consumer_secret,
            token,
            token_secret,
        } => {
            let Some(oauth) = parse_oauth_header(req.authorization) else {
                return false;
            };
            let get = |key: &str| {
                oauth
                    .iter()
                    .find(|(k, _)| k == key)
                    .map(|(_, v)| v.as_str())
            };
            if get("oauth_consumer_key") != Some(consumer_key)
                || get("oauth_token") != Some(token)
                || get("oauth_signature_method") != Some("HMAC-SHA1")
                || get("oauth_nonce").is_none()
                || get("oauth_timestamp").is_none()
            {
                return false;
            }
            let Some(signature) = get("oauth_signature") else {
                return false;
            };
            let params: Vec<(String, String)> = req
                .query
                .iter()
                .chain(req.form)
                .chain(
                    oauth
                        .iter()
                        .filter(|(k, _)| k != "oauth_signature" && k != "realm"),
                )
                .cloned()
                .collect();
            let base_url = format!("http://{}{}", req.host.to_ascii_lowercase(), req.path);
            oauth1_signature(
                req.method,
                &base_url,
                &params,
                consumer_secret,
                token_secret,
            ) == signature
        }
    }
}

/// `OAuth k="v", …` → decoded pairs.
fn parse_oauth_header(header: &str) -> Option<Vec<(String, String)>> {
    let (scheme, rest) = header.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("OAuth") {
        return None;
    }
    let mut out = Vec::new();
    for part in rest.split(',') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let (key, value) = part.split_once('=')?;
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        out.push((percent_decode(key.trim()), percent_decode(value)));
    }
    Some(out)
}

/// RFC 3986 unreserved characters stay; everything else is `%XX`.
const RFC3986: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn oauth_encode(s: &str) -> String {
    utf8_percent_encode(s, RFC3986).to_string()
}

/// The OAuth 1.0a HMAC-SHA1 signature (RFC 5849 §3.4), base64: `params` are
/// the decoded query, form-body and `oauth_*` parameters (without
/// `oauth_signature`), `base_url` is scheme, host and path without the query.
pub fn oauth1_signature(
    method: &str,
    base_url: &str,
    params: &[(String, String)],
    consumer_secret: &str,
    token_secret: &str,
) -> String {
    let mut encoded: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (oauth_encode(k), oauth_encode(v)))
        .collect();
    encoded.sort();
    let normalized = encoded
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let base = format!(
        "{}&{}&{}",
        method.to_ascii_uppercase(),
        oauth_encode(base_url),
        oauth_encode(&normalized)
    );
    let key = format!(
        "{}&{}",
        oauth_encode(consumer_secret),
        oauth_encode(token_secret)
    );
    let mut mac = Hmac::<Sha1>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(base.as_bytes());
    BASE64.encode(mac.finalize().into_bytes())
}

/// `POST /2/oauth2/token`, `grant_type=refresh_token`: rotates both tokens.
fn token(state: &mut State, req: &Request) -> Result<Reply, Reply> {
    let unauthorized_client = (
        StatusCode::UNAUTHORIZED,
        json!({"error": "unauthorized_client", "error_description": "Missing valid authorization header"}),
    );
    let invalid = |description: &str| {
        (
            StatusCode::BAD_REQUEST,
            json!({"error": "invalid_request", "error_description": description}),
        )
    };
    let AuthState::OAuth2 {
        access,
        refresh,
        client_id,
        client_secret,
        expired,
        rotations,
    } = &mut state.auth
    else {
        return Err(unauthorized_client);
    };
    let basic = header_str(req.headers, header::AUTHORIZATION);
    let credentials = basic
        .strip_prefix("Basic ")
        .and_then(|b| BASE64.decode(b.trim()).ok())
        .and_then(|b| String::from_utf8(b).ok());
    if credentials.as_deref() != Some(format!("{client_id}:{client_secret}").as_str()) {
        return Err(unauthorized_client);
    }
    if req
        .body_str("client_id")
        .is_some_and(|id| id != client_id.as_str())
    {
        return Err(invalid("Value passed for the client_id was invalid."));
    }
    if req.body_str("grant_type") != Some("refresh_token") {
        return Err(invalid("Value passed for the grant type was invalid."));
    }
    if req.body_str("refresh_token") != Some(refresh.as_str()) {
        return Err(invalid("Value passed for the token was invalid."));
    }
    *rotations += 1;
    *access = format!("fake-x-access-{rotations}");
    *refresh = format!("fake-x-refresh-{rotations}");
    *expired = false;
    Ok((
        StatusCode::OK,
        json!({
            "token_type": "bearer",
            "expires_in": 7200,
            "access_token": access,
            "scope": OAUTH2_SCOPE,
            "refresh_token": refresh,
        }),
    ))
}

// ---------------------------------------------------------------------------
// Users and tweets
// ---------------------------------------------------------------------------

fn user_json(u: &User, fields: &HashSet<String>) -> Value {
    let mut v = json!({"id": u.id, "name": u.name, "username": u.username});
    let extra = [
        ("created_at", json!("2010-01-01T00:00:00.000Z")),
        ("description", json!("")),
        ("protected", json!(false)),
        ("verified", json!(false)),
        (
            "profile_image_url",
            json!(format!(
                "https://pbs.twimg.com/profile_images/{}/fake_normal.jpg",
                u.id
            )),
        ),
    ];
    for (key, value) in extra {
        if fields.contains(key) {
            v[key] = value;
        }
    }
    v
}

fn me(state: &State, req: &Request) -> Result<Reply, Reply> {
    let me = state.user(BRAND_ID).unwrap();
    Ok((
        StatusCode::OK,
        json!({"data": user_json(me, &req.list("user.fields"))}),
    ))
}

fn tweet_json(state: &State, t: &Tweet, fields: &HashSet<String>) -> Value {
    let id = t.id.to_string();
    let mut v = json!({"id": id, "text": t.text, "edit_history_tweet_ids": [id]});
    let has = |f: &str| fields.contains(f);
    if has("author_id") {
        v["author_id"] = json!(t.author);
    }
    if has("conversation_id") {
        v["conversation_id"] = json!(t.conversation.to_string());
    }
    if has("created_at") {
        v["created_at"] = json!(rfc3339(t.created_ms));
    }
    if has("in_reply_to_user_id")
        && let Some(user) = &t.in_reply_to_user
    {
        v["in_reply_to_user_id"] = json!(user);
    }
    if has("referenced_tweets")
        && let Some(parent) = t.in_reply_to
    {
        v["referenced_tweets"] = json!([{"type": "replied_to", "id": parent.to_string()}]);
    }
    if has("entities") {
        let mut entities = Map::new();
        let mentions: Vec<Value> = state
            .mentions_in(&t.text)
            .into_iter()
            .map(|(start, end, id)| {
                json!({"start": start, "end": end, "username": state.username(&id), "id": id})
            })
            .collect();
        if !mentions.is_empty() {
            entities.insert("mentions".into(), Value::Array(mentions));
        }
        let hashtags: Vec<Value> = scan_hashtags(&t.text)
            .into_iter()
            .map(|(start, end, tag)| json!({"start": start, "end": end, "tag": tag}))
            .collect();
        if !hashtags.is_empty() {
            entities.insert("hashtags".into(), Value::Array(hashtags));
        }
        if !entities.is_empty() {
            v["entities"] = Value::Object(entities);
        }
    }
    if has("lang") {
        v["lang"] = json!("en");
    }
    if has("reply_settings") {
        v["reply_settings"] = json!(if t.restricted {
            "mentionedUsers"
        } else {
            "everyone"
        });
    }
    if has("public_metrics") {
        let replies = state
            .tweets
            .values()
            .filter(|r| !r.deleted && r.in_reply_to == Some(t.id))
            .count();
        let id = t.id.to_string();
        v["public_metrics"] = json!({
            "retweet_count": u32::from(state.retweets.contains(&id)),
            "reply_count": replies,
            "like_count": u32::from(state.likes.contains(&id)),
            "quote_count": 0,
            "bookmark_count": 0,
            "impression_count": 0,
        });
    }
    v
}

/// `data` and `includes` for a list of tweets, following `tweet.fields`,
/// `user.fields` and `expansions`.
fn render_tweets(state: &State, req: &Request, tweets: &[&Tweet]) -> Map<String, Value> {
    let fields = req.list("tweet.fields");
    let user_fields = req.list("user.fields");
    let expansions = req.list("expansions");
    let expand = |e: &str| expansions.contains(e);
    let mut out = Map::new();
    if tweets.is_empty() {
        return out;
    }
    out.insert(
        "data".into(),
        tweets
            .iter()
            .map(|t| tweet_json(state, t, &fields))
            .collect(),
    );
    let mut user_ids: Vec<String> = Vec::new();
    let mut referenced: Vec<&Tweet> = Vec::new();
    for t in tweets {
        if expand("author_id") {
            user_ids.push(t.author.clone());
        }
        if expand("in_reply_to_user_id")
            && let Some(u) = &t.in_reply_to_user
        {
            user_ids.push(u.clone());
        }
        if expand("entities.mentions.username") {
            user_ids.extend(state.mentions_in(&t.text).into_iter().map(|(_, _, id)| id));
        }
        if let Some(parent) = t.in_reply_to.and_then(|p| state.live_tweet(p)) {
            if expand("referenced_tweets.id") && !referenced.iter().any(|r| r.id == parent.id) {
                referenced.push(parent);
            }
            if expand("referenced_tweets.id.author_id") {
                user_ids.push(parent.author.clone());
            }
        }
    }
    let mut seen = HashSet::new();
    let users: Vec<Value> = user_ids
        .into_iter()
        .filter(|id| seen.insert(id.clone()))
        .filter_map(|id| state.user(&id))
        .map(|u| user_json(u, &user_fields))
        .collect();
    let mut includes = Map::new();
    if !users.is_empty() {
        includes.insert("users".into(), Value::Array(users));
    }
    if !referenced.is_empty() {
        includes.insert(
            "tweets".into(),
            referenced
                .iter()
                .map(|t| tweet_json(state, t, &fields))
                .collect(),
        );
    }
    if !includes.is_empty() {
        out.insert("includes".into(), Value::Object(includes));
    }
    out
}

fn max_results(req: &Request, min: usize, max: usize, default: usize) -> Result<usize, Reply> {
    let Some(raw) = req.param("max_results") else {
        return Ok(default);
    };
    match raw.parse::<usize>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(invalid_request(
            format!(
                "The `max_results` query parameter value [{raw}] is not between {min} and {max}"
            ),
            Some(("max_results", raw)),
        )),
    }
}

fn id_param(req: &Request, key: &str) -> Result<Option<u64>, Reply> {
    match req.param(key) {
        None => Ok(None),
        Some(raw) => raw.parse::<u64>().map(Some).map_err(|_| {
            invalid_request(
                format!("The `{key}` query parameter value [{raw}] is not valid"),
                Some((key, raw)),
            )
        }),
    }
}

fn time_param(req: &Request, key: &str) -> Result<Option<u64>, Reply> {
    match req.param(key) {
        None => Ok(None),
        Some(raw) => parse_rfc3339(raw).map(Some).ok_or_else(|| {
            invalid_request(
                format!("Invalid '{key}':'{raw}'. '{key}' must be a valid RFC3339 date."),
                Some((key, raw)),
            )
        }),
    }
}

/// The id a `pagination_token` (recent search also calls it `next_token`) continues after
/// (exclusive).
fn page_after(req: &Request) -> Result<Option<u64>, Reply> {
    match req
        .param("pagination_token")
        .or_else(|| req.param("next_token"))
    {
        None => Ok(None),
        Some(raw) => raw
            .strip_prefix(TOKEN_PREFIX)
            .and_then(|hex| u64::from_str_radix(hex, 16).ok())
            .map(Some)
            .ok_or_else(|| {
                invalid_request(
                    format!("The `pagination_token` query parameter value [{raw}] is not valid"),
                    Some(("pagination_token", raw)),
                )
            }),
    }
}

fn next_token(last_id: u64) -> String {
    format!("{TOKEN_PREFIX}{last_id:x}")
}

/// Newest-first `candidates` through `since_id`, `until_id`, `start_time`,
/// `end_time` and paging, as a timeline answer.
fn tweet_page(
    state: &State,
    req: &Request,
    candidates: Vec<&Tweet>,
    (min, max, default): (usize, usize, usize),
) -> Result<Reply, Reply> {
    let limit = max_results(req, min, max, default)?;
    let since = id_param(req, "since_id")?;
    let until = id_param(req, "until_id")?;
    let start = time_param(req, "start_time")?;
    let end = time_param(req, "end_time")?;
    let after = page_after(req)?;
    let matching: Vec<&Tweet> = candidates
        .into_iter()
        .filter(|t| since.is_none_or(|s| t.id > s))
        .filter(|t| until.is_none_or(|u| t.id < u))
        .filter(|t| after.is_none_or(|a| t.id < a))
        // X's timestamps have whole seconds.
        .filter(|t| start.is_none_or(|s| t.created_ms / 1000 * 1000 >= s))
        .filter(|t| end.is_none_or(|e| t.created_ms / 1000 * 1000 < e))
        .collect();
    let page = &matching[..limit.min(matching.len())];
    let mut out = render_tweets(state, req, page);
    let mut meta = json!({"result_count": page.len()});
    if let (Some(first), Some(last)) = (page.first(), page.last()) {
        meta["newest_id"] = json!(first.id.to_string());
        meta["oldest_id"] = json!(last.id.to_string());
        if matching.len() > page.len() {
            meta["next_token"] = json!(next_token(last.id));
        }
    }
    out.insert("meta".into(), meta);
    Ok((StatusCode::OK, Value::Object(out)))
}

/// For `/2/users/:id/…` with an unknown id: X answers 200 with only `errors`.
fn unknown_user(id: &str) -> Reply {
    (
        StatusCode::OK,
        json!({"errors": [not_found_item("user", "id", id)]}),
    )
}

fn mentions(state: &State, req: &Request, user_id: &str) -> Result<Reply, Reply> {
    if state.user(user_id).is_none() {
        return Ok(unknown_user(user_id));
    }
    let candidates = state
        .tweets
        .values()
        .rev()
        .filter(|t| !t.deleted && t.author != user_id && state.mentions(t, user_id))
        .collect();
    tweet_page(state, req, candidates, (5, 100, 10))
}

fn timeline(state: &State, req: &Request, user_id: &str) -> Result<Reply, Reply> {
    if state.user(user_id).is_none() {
        return Ok(unknown_user(user_id));
    }
    let exclude = req.list("exclude");
    let candidates = state
        .tweets
        .values()
        .rev()
        .filter(|t| !t.deleted && t.author == user_id)
        .filter(|t| !(exclude.contains("replies") && t.in_reply_to.is_some()))
        .collect();
    tweet_page(state, req, candidates, (5, 100, 10))
}

/// Bare words and quoted phrases of a search query, lowercased; operators
/// (`-x`, `key:value`, `OR`, `AND`, parentheses) are dropped.
fn query_terms(query: &str) -> Vec<String> {
    let mut terms = Vec::new();
    let mut rest = query;
    while let Some(start) = rest.find('"') {
        let (before, after) = rest.split_at(start);
        terms.extend(bare_words(before));
        match after[1..].find('"') {
            Some(end) => {
                let phrase = after[1..=end].trim().to_lowercase();
                let negated = before.ends_with('-');
                if !phrase.is_empty() && !negated {
                    terms.push(phrase);
                }
                rest = &after[end + 2..];
            }
            None => {
                rest = &after[1..];
            }
        }
    }
    terms.extend(bare_words(rest));
    terms
}

fn bare_words(s: &str) -> Vec<String> {
    s.split_whitespace()
        .map(|w| w.trim_matches(|c| c == '(' || c == ')'))
        .filter(|w| !w.is_empty() && !w.starts_with('-') && !w.contains(':'))
        .filter(|w| *w != "OR" && *w != "AND")
        .map(str::to_lowercase)
        .collect()
}

/// `needle` (lowercase) occurs in `haystack` (lowercase) as a whole word.
fn contains_term(haystack: &str, needle: &str) -> bool {
    let starts_word = needle.chars().next().is_some_and(is_word);
    let ends_word = needle.chars().last().is_some_and(is_word);
    haystack.match_indices(needle).any(|(i, m)| {
        let before_ok = !starts_word || haystack[..i].chars().last().is_none_or(|c| !is_word(c));
        let after_ok = !ends_word
            || haystack[i + m.len()..]
                .chars()
                .next()
                .is_none_or(|c| !is_word(c));
        before_ok && after_ok
    })
}

fn search(state: &State, req: &Request) -> Result<Reply, Reply> {
    let Some(query) = req.param("query").filter(|q| !q.trim().is_empty()) else {
        return Err(invalid_request(
            "The `query` query parameter can not be empty".into(),
            Some(("query", "")),
        ));
    };
    let terms = query_terms(query);
    let candidates = state
        .tweets
        .values()
        .rev()
        .filter(|t| !t.deleted && t.author != BRAND_ID)
        .filter(|t| {
            let text = t.text.to_lowercase();
            terms.iter().all(|term| contains_term(&text, term))
        })
        .collect();
    // Recent search takes 10–100 results a page.
    tweet_page(state, req, candidates, (10, 100, 10))
}

fn lookup(state: &State, req: &Request) -> Result<Reply, Reply> {
    let raw = req.param("ids").unwrap_or("");
    let ids: Vec<&str> = raw.split(',').filter(|s| !s.is_empty()).collect();
    if ids.is_empty() || ids.len() > 100 {
        return Err(invalid_request(
            format!(
                "The number of values in the `ids` query parameter list [{}] is not between 1 and 100",
                ids.len()
            ),
            Some(("ids", raw)),
        ));
    }
    if let Some(bad) = ids.iter().find(|id| id.parse::<u64>().is_err()) {
        return Err(invalid_request(
            format!("The `ids` query parameter value [{bad}] is not valid"),
            Some(("ids", bad)),
        ));
    }
    let mut found = Vec::new();
    let mut errors = Vec::new();
    for id in ids {
        match state.live_tweet(id.parse().unwrap()) {
            Some(t) => found.push(t),
            None => errors.push(not_found_item("tweet", "ids", id)),
        }
    }
    let mut out = render_tweets(state, req, &found);
    if !errors.is_empty() {
        out.insert("errors".into(), Value::Array(errors));
    }
    Ok((StatusCode::OK, Value::Object(out)))
}

fn lookup_one(state: &State, req: &Request, id: &str) -> Result<Reply, Reply> {
    let tweet = id.parse::<u64>().ok().and_then(|n| state.live_tweet(n));
    match tweet {
        Some(t) => {
            let mut out = render_tweets(state, req, &[t]);
            // A single lookup answers with one object, not an array.
            if let Some(Value::Array(mut data)) = out.remove("data") {
                out.insert("data".into(), data.remove(0));
            }
            Ok((StatusCode::OK, Value::Object(out)))
        }
        None => Ok((
            StatusCode::OK,
            json!({"errors": [not_found_item("tweet", "id", id)]}),
        )),
    }
}

fn create_tweet(state: &mut State, req: &Request) -> Result<Reply, Reply> {
    let text = req.body_str("text").unwrap_or("");
    if text.trim().is_empty() {
        return Err(invalid_request(
            "Your Tweet text is empty: `text` is required unless media, a poll or a quoted Tweet is given.".into(),
            None,
        ));
    }
    let parent_id = match req.body.pointer("/reply/in_reply_to_tweet_id") {
        None | Some(Value::Null) => None,
        Some(v) => {
            let raw = v
                .as_str()
                .map(String::from)
                .unwrap_or_else(|| v.to_string());
            Some(raw.parse::<u64>().map_err(|_| {
                invalid_request(
                    format!("The `in_reply_to_tweet_id` value [{raw}] is not valid"),
                    Some(("in_reply_to_tweet_id", &raw)),
                )
            })?)
        }
    };
    let full = match parent_id {
        Some(p) => {
            let parent = state
                .live_tweet(p)
                .ok_or_else(|| forbidden(REPLY_DELETED_DETAIL))?;
            if parent.restricted {
                return Err(forbidden(REPLY_RESTRICTED_DETAIL));
            }
            state.reply_text(BRAND_ID, parent, text)
        }
        None => text.to_string(),
    };
    let duplicate = state
        .tweets
        .values()
        .any(|t| !t.deleted && t.author == BRAND_ID && t.text == full);
    if duplicate {
        return Err(forbidden(DUPLICATE_DETAIL));
    }
    let id = state
        .add_tweet(BRAND_ID, full.clone(), parent_id)
        .to_string();
    state.posted.push(PostedTweet {
        id: id.clone(),
        text: text.to_string(),
        in_reply_to: parent_id.map(|p| p.to_string()),
    });
    Ok((
        StatusCode::CREATED,
        json!({"data": {"id": id, "text": full, "edit_history_tweet_ids": [id]}}),
    ))
}

fn delete_tweet(state: &mut State, id: &str) -> Result<Reply, Reply> {
    let tweet = id
        .parse::<u64>()
        .ok()
        .and_then(|n| state.tweets.get_mut(&n))
        .filter(|t| !t.deleted)
        .ok_or_else(|| not_found("tweet", "id", id))?;
    if tweet.author != BRAND_ID {
        return Err(forbidden("You are not authorized to delete this Tweet."));
    }
    tweet.deleted = true;
    Ok((StatusCode::OK, json!({"data": {"deleted": true}})))
}

/// Likes and retweets act for the authenticated user only.
fn acting_as_brand(user_id: &str) -> Result<(), Reply> {
    if user_id == BRAND_ID {
        Ok(())
    } else {
        Err(forbidden("You are not permitted to perform this action."))
    }
}

fn target_tweet(state: &State, req: &Request) -> Result<String, Reply> {
    let id = req
        .body_str("tweet_id")
        .filter(|id| !id.is_empty())
        .ok_or_else(|| invalid_request("The `tweet_id` field is required".into(), None))?;
    match id.parse::<u64>().ok().and_then(|n| state.live_tweet(n)) {
        Some(_) => Ok(id.to_string()),
        None => Err(not_found("tweet", "tweet_id", id)),
    }
}

fn like(state: &mut State, req: &Request, user_id: &str) -> Result<Reply, Reply> {
    acting_as_brand(user_id)?;
    let id = target_tweet(state, req)?;
    if !state.likes.contains(&id) {
        state.likes.push(id);
    }
    Ok((StatusCode::OK, json!({"data": {"liked": true}})))
}

fn unlike(state: &mut State, user_id: &str, tweet_id: &str) -> Result<Reply, Reply> {
    acting_as_brand(user_id)?;
    state.likes.retain(|id| id != tweet_id);
    Ok((StatusCode::OK, json!({"data": {"liked": false}})))
}

fn retweet(state: &mut State, req: &Request, user_id: &str) -> Result<Reply, Reply> {
    acting_as_brand(user_id)?;
    let id = target_tweet(state, req)?;
    if state.retweets.contains(&id) {
        return Err(forbidden(ALREADY_RETWEETED_DETAIL));
    }
    state.retweets.push(id);
    Ok((StatusCode::OK, json!({"data": {"retweeted": true}})))
}

fn unretweet(state: &mut State, user_id: &str, tweet_id: &str) -> Result<Reply, Reply> {
    acting_as_brand(user_id)?;
    state.retweets.retain(|id| id != tweet_id);
    Ok((StatusCode::OK, json!({"data": {"retweeted": false}})))
}

// ---------------------------------------------------------------------------
// Direct messages
// ---------------------------------------------------------------------------

/// One-to-one conversation id: `{smaller id}-{larger id}`.
fn conversation_id(a: &str, b: &str) -> String {
    let (x, y) = (a.parse::<u64>().unwrap_or(0), b.parse::<u64>().unwrap_or(0));
    if x <= y {
        format!("{a}-{b}")
    } else {
        format!("{b}-{a}")
    }
}

/// X returns `id`, `event_type` and `text` by default; the rest on request.
fn dm_json(d: &DmEvent, fields: &HashSet<String>) -> Value {
    let mut v = json!({"id": d.id.to_string(), "event_type": "MessageCreate", "text": d.text});
    if fields.contains("sender_id") {
        v["sender_id"] = json!(d.sender);
    }
    if fields.contains("dm_conversation_id") {
        v["dm_conversation_id"] = json!(d.conversation());
    }
    if fields.contains("created_at") {
        v["created_at"] = json!(rfc3339(d.created_ms));
    }
    if fields.contains("participant_ids") {
        v["participant_ids"] = json!([d.sender, d.recipient]);
    }
    v
}

fn dm_events(state: &State, req: &Request, with: Option<&str>) -> Result<Reply, Reply> {
    let limit = max_results(req, 1, 100, 100)?;
    let after = page_after(req)?;
    let types = req.list("event_types");
    let wanted = types.is_empty() || types.contains("MessageCreate");
    let conversation = with.map(|who| conversation_id(BRAND_ID, who));
    let matching: Vec<&DmEvent> = state
        .dms
        .values()
        .rev()
        .filter(|_| wanted)
        .filter(|d| d.sender == BRAND_ID || d.recipient == BRAND_ID)
        .filter(|d| conversation.as_ref().is_none_or(|c| *c == d.conversation()))
        .filter(|d| after.is_none_or(|a| d.id < a))
        .collect();
    let page = &matching[..limit.min(matching.len())];
    let mut out = Map::new();
    let mut meta = json!({"result_count": page.len()});
    if !page.is_empty() {
        let fields = req.list("dm_event.fields");
        out.insert(
            "data".into(),
            page.iter().map(|d| dm_json(d, &fields)).collect(),
        );
        let expansions = req.list("expansions");
        let mut ids: Vec<&str> = Vec::new();
        for d in page {
            if expansions.contains("sender_id") {
                ids.push(&d.sender);
            }
            if expansions.contains("participant_ids") {
                ids.push(&d.sender);
                ids.push(&d.recipient);
            }
        }
        let user_fields = req.list("user.fields");
        let mut seen = HashSet::new();
        let users: Vec<Value> = ids
            .into_iter()
            .filter(|id| seen.insert(*id))
            .filter_map(|id| state.user(id))
            .map(|u| user_json(u, &user_fields))
            .collect();
        if !users.is_empty() {
            out.insert("includes".into(), json!({"users": users}));
        }
        if matching.len() > page.len() {
            meta["next_token"] = json!(next_token(page.last().unwrap().id));
        }
    }
    out.insert("meta".into(), meta);
    Ok((StatusCode::OK, Value::Object(out)))
}

fn send_dm(state: &mut State, req: &Request, to: &str) -> Result<Reply, Reply> {
    let text = req.body_str("text").unwrap_or("");
    let has_attachments = req
        .body
        .get("attachments")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    if text.is_empty() && !has_attachments {
        return Err(invalid_request(
            "A message needs `text` or `attachments`.".into(),
            None,
        ));
    }
    let Some(user) = state.user(to) else {
        return Err(forbidden("You cannot send messages to this user."));
    };
    if !user.accepts_dms {
        return Err(forbidden(DM_REFUSED_DETAIL));
    }
    let id = state.add_dm(BRAND_ID, to, text);
    state.sent_dms.push(SentDm {
        event_id: id.to_string(),
        to: to.to_string(),
        text: text.to_string(),
    });
    Ok((
        StatusCode::CREATED,
        json!({"data": {"dm_conversation_id": conversation_id(BRAND_ID, to), "dm_event_id": id.to_string()}}),
    ))
}

// ---------------------------------------------------------------------------
// Account Activity payloads (v1.1 shapes)
// ---------------------------------------------------------------------------

/// Classic (compatibility-mode) text stops at 140 characters; longer tweets
/// are `truncated` and carry `extended_tweet.full_text`.
const CLASSIC_LENGTH: usize = 140;

fn v1_user(u: &User) -> Value {
    json!({
        "id": u.id.parse::<u64>().unwrap_or(0),
        "id_str": u.id,
        "name": u.name,
        "screen_name": u.username,
        "location": null,
        "url": null,
        "description": null,
        "protected": false,
        "verified": false,
        "followers_count": 0,
        "friends_count": 0,
        "listed_count": 0,
        "favourites_count": 0,
        "statuses_count": 0,
        "created_at": "Fri Jan 01 00:00:00 +0000 2010",
        "profile_image_url_https": format!("https://pbs.twimg.com/profile_images/{}/fake_normal.jpg", u.id),
        "default_profile": true,
    })
}

fn v1_dm_user(u: &User) -> Value {
    json!({
        "id": u.id,
        "created_timestamp": "1262304000000",
        "name": u.name,
        "screen_name": u.username,
        "protected": false,
        "verified": false,
        "followers_count": 0,
        "friends_count": 0,
        "statuses_count": 0,
        "profile_image_url_https": format!("https://pbs.twimg.com/profile_images/{}/fake_normal.jpg", u.id),
    })
}

fn v1_entities(state: &State, text: &str, urls: Vec<Value>) -> Value {
    let user_mentions: Vec<Value> = state
        .mentions_in(text)
        .into_iter()
        .filter_map(|(start, end, id)| {
            let u = state.user(&id)?;
            Some(json!({
                "screen_name": u.username,
                "name": u.name,
                "id": id.parse::<u64>().unwrap_or(0),
                "id_str": id,
                "indices": [start, end],
            }))
        })
        .collect();
    let hashtags: Vec<Value> = scan_hashtags(text)
        .into_iter()
        .map(|(start, end, tag)| json!({"text": tag, "indices": [start, end]}))
        .collect();
    json!({"hashtags": hashtags, "urls": urls, "user_mentions": user_mentions, "symbols": []})
}

fn v1_tweet(state: &State, t: &Tweet) -> Value {
    let user = state.user(&t.author).expect("tweet author");
    let chars: Vec<char> = t.text.chars().collect();
    // Replies start with their `@parent ` prefix, outside the display range.
    let display_start = if t.in_reply_to_user.is_some() {
        let handles = scan_handles(&t.text);
        let mut pos = 0;
        for (start, end, _) in handles {
            if start != pos {
                break;
            }
            pos = end;
            while chars.get(pos) == Some(&' ') {
                pos += 1;
            }
        }
        pos
    } else {
        0
    };
    let truncated = chars.len() > CLASSIC_LENGTH;
    let short_url = format!("https://t.co/f{:09}", t.id % 1_000_000_000);
    let (text, entities) = if truncated {
        // 115 characters, an ellipsis, a space and a 23-character link = 140.
        let kept: String = chars[..115].iter().collect();
        let text = format!("{kept}… {short_url}");
        let link_start = 117;
        let url = json!({
            "url": short_url,
            "expanded_url": format!("https://twitter.com/i/web/status/{}", t.id),
            "display_url": format!("twitter.com/i/web/status/{}…", &t.id.to_string()[..7]),
            "indices": [link_start, link_start + 23],
        });
        let entities = v1_entities(state, &kept, vec![url]);
        (text, entities)
    } else {
        (t.text.clone(), v1_entities(state, &t.text, vec![]))
    };
    let mut v = json!({
        "created_at": v1_date(t.created_ms),
        "id": t.id,
        "id_str": t.id.to_string(),
        "text": text,
        "source": "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
        "truncated": truncated,
        "in_reply_to_status_id": t.in_reply_to,
        "in_reply_to_status_id_str": t.in_reply_to.map(|p| p.to_string()),
        "in_reply_to_user_id": t.in_reply_to_user.as_ref().map(|u| u.parse::<u64>().unwrap_or(0)),
        "in_reply_to_user_id_str": t.in_reply_to_user,
        "in_reply_to_screen_name": t.in_reply_to_user.as_ref().map(|u| state.username(u)),
        "user": v1_user(user),
        "geo": null,
        "coordinates": null,
        "place": null,
        "contributors": null,
        "is_quote_status": false,
        "quote_count": 0,
        "reply_count": 0,
        "retweet_count": 0,
        "favorite_count": 0,
        "entities": entities,
        "favorited": false,
        "retweeted": false,
        "filter_level": "low",
        "lang": "en",
        "timestamp_ms": t.created_ms.to_string(),
    });
    if truncated {
        v["extended_tweet"] = json!({
            "full_text": t.text,
            "display_text_range": [display_start, chars.len()],
            "entities": v1_entities(state, &t.text, vec![]),
        });
    } else if display_start > 0 {
        v["display_text_range"] = json!([display_start, chars.len()]);
    }
    v
}

// ---------------------------------------------------------------------------
// Text scanning
// ---------------------------------------------------------------------------

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// `@handle`s as X links them: 1–15 of `[A-Za-z0-9_]`, not preceded by a word
/// character or `@`, not followed by a word character or `@`. Returns (start,
/// end, handle) with character indices.
fn scan_handles(text: &str) -> Vec<(usize, usize, String)> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let at = chars[i] == '@' || chars[i] == '＠';
        let free = i == 0 || !(is_word(chars[i - 1]) || chars[i - 1] == '@');
        if at && free {
            let mut j = i + 1;
            while j < chars.len() && (chars[j].is_ascii_alphanumeric() || chars[j] == '_') {
                j += 1;
            }
            let len = j - i - 1;
            let ends = j == chars.len() || !(is_word(chars[j]) || chars[j] == '@');
            if (1..=15).contains(&len) && ends {
                out.push((i, j, chars[i + 1..j].iter().collect()));
                i = j;
                continue;
            }
        }
        i += 1;
    }
    out
}

/// `#tags` (not all digits), with character indices.
fn scan_hashtags(text: &str) -> Vec<(usize, usize, String)> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let free = i == 0 || !is_word(chars[i - 1]);
        if (chars[i] == '#' || chars[i] == '＃') && free {
            let mut j = i + 1;
            while j < chars.len() && is_word(chars[j]) {
                j += 1;
            }
            let tag: String = chars[i + 1..j].iter().collect();
            if !tag.is_empty() && !tag.chars().all(|c| c.is_ascii_digit()) {
                out.push((i, j, tag));
                i = j;
                continue;
            }
        }
        i += 1;
    }
    out
}

/// Query string or form body → decoded pairs (`+` is a space).
pub fn parse_form(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| percent_decode(&s.replace('+', " "));
            (decode(k), decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

// ---------------------------------------------------------------------------
// Time
// ---------------------------------------------------------------------------

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

fn unix_secs() -> u64 {
    unix_ms() / 1000
}

/// Days since 1970-01-01 → (year, month, day) (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: u64,
    minute: u64,
    second: u64,
    weekday: usize,
}

fn civil(ms: u64) -> Civil {
    let secs = ms / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    Civil {
        year,
        month,
        day,
        hour: rem / 3600,
        minute: rem / 60 % 60,
        second: rem % 60,
        // 1970-01-01 was a Thursday.
        weekday: (days + 4).rem_euclid(7) as usize,
    }
}

/// `2018-10-10T20:19:24.000Z`: X v2 timestamps, whole seconds.
pub fn rfc3339(ms: u64) -> String {
    let c = civil(ms);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.000Z",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    )
}

/// `Wed Oct 10 20:19:24 +0000 2018`: v1.1 `created_at`.
pub fn v1_date(ms: u64) -> String {
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let c = civil(ms);
    format!(
        "{} {} {:02} {:02}:{:02}:{:02} +0000 {}",
        DAYS[c.weekday],
        MONTHS[c.month as usize - 1],
        c.day,
        c.hour,
        c.minute,
        c.second,
        c.year
    )
}

/// RFC 3339 (`YYYY-MM-DDTHH:MM:SS[.fff…](Z|±HH:MM)`) → unix milliseconds.
pub fn parse_rfc3339(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() < 20 {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<u64> {
        let part = s.get(range)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let seps = b[4] == b'-'
        && b[7] == b'-'
        && matches!(b[10], b'T' | b't' | b' ')
        && b[13] == b':'
        && b[16] == b':';
    if !seps {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = &s[19..];
    let mut millis = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let padded = format!("{:0<3}", &frac[..digits.min(3)]);
        millis = padded.parse::<u64>().ok()?;
        rest = &frac[digits..];
    }
    let offset_secs: i64 = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && rest.as_bytes()[3] == b':' => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let h: i64 = rest[1..3].parse().ok()?;
            let m: i64 = rest[4..6].parse().ok()?;
            sign * (h * 3600 + m * 60)
        }
        _ => return None,
    };
    let days = days_from_civil(year as i64, month as u32, day as u32);
    let secs = days * 86_400 + (hour * 3600 + minute * 60 + second) as i64 - offset_secs;
    u64::try_from(secs).ok().map(|s| s * 1000 + millis)
}

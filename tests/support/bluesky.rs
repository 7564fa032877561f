//! A fake Bluesky PDS for tests: the XRPC endpoints carebridge uses, speaking atproto's
//! wire format (platforms.md §6) over real HTTP on 127.0.0.1, with a stateful world behind
//! them (accounts, sessions whose access tokens can be expired, post/like/repost records,
//! the brand's mention and reply notifications) and scripted faults (429 with
//! `RateLimit-*` headers and no `Retry-After`, 5xx, an answer lost after the write).
//!
//! What the reference PDS does and this one copies: errors as `{"error", "message"}`; a
//! wrong password 401 `AuthenticationRequired`; an expired access token 400 `ExpiredToken`;
//! notifications newest first with a cursor to older ones; `putRecord` with `swapRecord:
//! null` answering the same record again with 200 and a different one with 400
//! `InvalidSwap`; `getRecord` of nothing 400 `RecordNotFound`; `deleteRecord` 200 also when
//! the record is gone.
//!
//! Include with `#[path = "support/bluesky.rs"] mod bluesky;` next to
//! `#[path = "support/background.rs"] mod background;`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use serde_json::{Value, json};
use unicode_segmentation::UnicodeSegmentation;

use crate::background::{Background, CallLog, Logged, Watched, loopback};

/// The brand account.
pub const BRAND_HANDLE: &str = "acme.bsky.social";
pub const BRAND_DID: &str = "did:plc:acmebrand";
pub const BRAND_PASSWORD: &str = "abcd-efgh-ijkl-mnop";

pub const POST: &str = "app.bsky.feed.post";
pub const LIKE: &str = "app.bsky.feed.like";
pub const REPOST: &str = "app.bsky.feed.repost";

/// What the next call to an XRPC method does instead of its work.
#[derive(Debug, Clone)]
pub enum Fault {
    /// 429 `RateLimitExceeded` with `RateLimit-Remaining: 0` and `RateLimit-Reset` `secs`
    /// from now (epoch seconds); nothing is done.
    RateLimited { secs: u64 },
    /// 502 `UpstreamFailure`; nothing is done.
    Unavailable,
    /// The work is done but the answer never comes (the connection hangs).
    Lost,
}

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    /// The XRPC method, e.g. `com.atproto.repo.putRecord`.
    pub route: String,
    pub query: Vec<(String, String)>,
    pub body: Value,
    pub status: u16,
}

impl Logged for Call {
    fn line(&self) -> String {
        format!("{} {} → {}", self.method, self.route, self.status)
    }
}

/// A record in some repo.
#[derive(Debug, Clone)]
pub struct Record {
    pub uri: String,
    pub cid: String,
    pub repo: String,
    pub collection: String,
    pub rkey: String,
    pub value: Value,
}

impl Record {
    pub fn text(&self) -> &str {
        self.value["text"].as_str().unwrap_or("")
    }

    pub fn strong_ref(&self) -> Value {
        json!({"uri": self.uri, "cid": self.cid})
    }
}

#[derive(Default)]
struct State {
    calls: CallLog<Call>,
    records: Vec<Record>,
    /// The brand's notifications, oldest first: (indexedAt, reason, uri).
    notifications: Vec<(DateTime<Utc>, &'static str, String)>,
    /// Live access tokens; expired ones answer `ExpiredToken`.
    access: HashSet<String>,
    expired: HashSet<String>,
    refresh: HashSet<String>,
    create_sessions: usize,
    /// DID → handle of everyone who posted.
    handles: HashMap<String, String>,
    faults: HashMap<String, VecDeque<Fault>>,
    next: u64,
    last_indexed: Option<DateTime<Utc>>,
}

struct Shared {
    addr: SocketAddr,
    state: Watched<State>,
}

/// A running fake PDS; dropping it stops the server.
pub struct FakeBluesky {
    shared: Arc<Shared>,
    _server: Background,
}

impl FakeBluesky {
    pub fn start() -> FakeBluesky {
        let listener = loopback();
        let shared = Arc::new(Shared {
            addr: listener.local_addr().unwrap(),
            state: Watched::new(State::default()),
        });
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&shared));
        let server = Background::serve("fake-bluesky", listener, app);
        FakeBluesky {
            shared,
            _server: server,
        }
    }

    /// `http://127.0.0.1:PORT/`.
    pub fn api_url(&self) -> String {
        format!("http://{}/", self.shared.addr)
    }

    // --- the world ----------------------------------------------------------

    /// `handle` (a customer) posts `text`, mentioning the brand first with a mention facet
    /// when `mention`, answering `parent` (a post URI) if given: the brand is notified of a
    /// mention, or of a reply to one of its posts. Returns the post's URI.
    pub fn post(&self, handle: &str, text: &str, parent: Option<&str>, mention: bool) -> String {
        let mut state = self.shared.state.lock();
        let did = did_of(handle);
        state.handles.insert(did.clone(), handle.to_owned());
        let mut value = json!({"$type": POST, "text": text, "createdAt": iso(Utc::now())});
        if mention {
            let at = format!("@{BRAND_HANDLE}");
            value["text"] = json!(format!("{at} {text}"));
            value["facets"] = json!([{
                "index": {"byteStart": 0, "byteEnd": at.len()},
                "features": [{"$type": "app.bsky.richtext.facet#mention", "did": BRAND_DID}],
            }]);
        }
        let mut answers_us = false;
        if let Some(parent) = parent {
            let parent = state
                .records
                .iter()
                .find(|r| r.uri == parent)
                .unwrap()
                .clone();
            let root = match parent.value.pointer("/reply/root") {
                Some(root) => root.clone(),
                None => parent.strong_ref(),
            };
            value["reply"] = json!({"root": root, "parent": parent.strong_ref()});
            answers_us = parent.repo == BRAND_DID;
        }
        let rkey = tid(&mut state);
        let record = put(&mut state, &did, POST, &rkey, value);
        // A reply that also mentions us is one notification, a mention.
        let reason = match (mention, answers_us) {
            (true, _) => Some("mention"),
            (false, true) => Some("reply"),
            (false, false) => None,
        };
        if let Some(reason) = reason {
            let at = indexed_now(&mut state);
            state.notifications.push((at, reason, record.uri.clone()));
        }
        drop(state);
        self.shared.state.notify();
        record.uri
    }

    /// `handle` mentions the brand in a new thread.
    pub fn mention(&self, handle: &str, text: &str) -> String {
        self.post(handle, text, None, true)
    }

    /// A record put straight into the brand's repo (as another client of the account would).
    pub fn plant(&self, collection: &str, rkey: &str, value: Value) -> Record {
        let mut state = self.shared.state.lock();
        put(&mut state, BRAND_DID, collection, rkey, value)
    }

    pub fn record(&self, uri: &str) -> Option<Record> {
        let state = self.shared.state.lock();
        state.records.iter().find(|r| r.uri == uri).cloned()
    }

    /// The brand's posts that answer `uri`, oldest first.
    pub fn replies_to(&self, uri: &str) -> Vec<Record> {
        self.ours(POST)
            .into_iter()
            .filter(|r| r.value.pointer("/reply/parent/uri") == Some(&json!(uri)))
            .collect()
    }

    /// The brand's records in `collection`, oldest first.
    pub fn ours(&self, collection: &str) -> Vec<Record> {
        let state = self.shared.state.lock();
        state
            .records
            .iter()
            .filter(|r| r.repo == BRAND_DID && r.collection == collection)
            .cloned()
            .collect()
    }

    /// Whether the brand has a like (or repost, by `collection`) of `uri`.
    pub fn has(&self, collection: &str, uri: &str) -> bool {
        self.ours(collection)
            .iter()
            .any(|r| r.value.pointer("/subject/uri") == Some(&json!(uri)))
    }

    /// How many times the bot logged in.
    pub fn create_sessions(&self) -> usize {
        self.shared.state.lock().create_sessions
    }

    /// Every access token given so far expires (the refresh tokens still work).
    pub fn expire_access_tokens(&self) {
        let mut state = self.shared.state.lock();
        let live: Vec<String> = state.access.drain().collect();
        state.expired.extend(live);
    }

    /// Every session ends (an app password's sessions revoked): only a login works.
    pub fn end_sessions(&self) {
        self.expire_access_tokens();
        self.shared.state.lock().refresh.clear();
    }

    // --- calls --------------------------------------------------------------

    pub fn calls(&self) -> Vec<Call> {
        self.shared.state.lock().calls.to_vec()
    }

    pub fn take_calls(&self) -> Vec<Call> {
        self.shared.state.lock().calls.take()
    }

    /// Blocks until `count` calls of the XRPC method `route` were made (faulted ones too:
    /// check `status`) and returns them; panics with the calls seen after `timeout`.
    pub fn wait_for(&self, route: &str, count: usize, timeout: Duration) -> Vec<Call> {
        self.shared
            .state
            .wait_calls(timeout, count, route, |s| &s.calls, |c| c.route == route)
    }

    /// The next call of the XRPC method `route` meets `fault`.
    pub fn fail_next(&self, route: &str, fault: Fault) {
        self.shared
            .state
            .lock()
            .faults
            .entry(route.to_owned())
            .or_default()
            .push_back(fault);
    }
}

/// Customers' DIDs follow from their handles, so tests can name them.
pub fn did_of(handle: &str) -> String {
    if handle == BRAND_HANDLE {
        return BRAND_DID.to_owned();
    }
    let name: String = handle.chars().filter(char::is_ascii_alphanumeric).collect();
    format!("did:plc:{name}")
}

fn iso(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Index times strictly increase, as the cursor (an index time) needs.
fn indexed_now(state: &mut State) -> DateTime<Utc> {
    let mut at = Utc::now();
    if let Some(last) = state.last_indexed
        && at <= last
    {
        at = last + TimeDelta::milliseconds(1);
    }
    state.last_indexed = Some(at);
    at
}

const TID_ALPHABET: &[u8] = b"234567abcdefghijklmnopqrstuvwxyz";

/// A fresh TID for the customers' posts (the bot brings its own).
fn tid(state: &mut State) -> String {
    state.next += 1;
    let micros = u64::try_from(Utc::now().timestamp_micros()).unwrap() + state.next;
    let n = micros << 10;
    (0..13)
        .map(|i| char::from(TID_ALPHABET[((n >> (60 - 5 * i)) & 31) as usize]))
        .collect()
}

fn is_tid(rkey: &str) -> bool {
    rkey.len() == 13
        && "234567abcdefghij".contains(&rkey[..1])
        && rkey.bytes().all(|b| TID_ALPHABET.contains(&b))
}

/// A content id: the same value always has the same one.
fn cid_of(value: &Value) -> String {
    let digest = value
        .to_string()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
    format!("bafyrei{digest:016x}")
}

fn put(state: &mut State, repo: &str, collection: &str, rkey: &str, value: Value) -> Record {
    let record = Record {
        uri: format!("at://{repo}/{collection}/{rkey}"),
        cid: cid_of(&value),
        repo: repo.to_owned(),
        collection: collection.to_owned(),
        rkey: rkey.to_owned(),
        value,
    };
    state.records.push(record.clone());
    record
}

// ---------------------------------------------------------------------------
// Serving
// ---------------------------------------------------------------------------

fn reply(status: u16, body: Value, extra: &[(&'static str, String)]) -> Response {
    let mut response = (
        StatusCode::from_u16(status).unwrap(),
        [("content-type", "application/json; charset=utf-8")],
        body.to_string(),
    )
        .into_response();
    let headers = response.headers_mut();
    headers.insert("ratelimit-limit", "3000".parse().unwrap());
    headers.insert("ratelimit-policy", "3000;w=300".parse().unwrap());
    for (name, value) in extra {
        headers.insert(*name, value.parse().unwrap());
    }
    if !headers.contains_key("ratelimit-remaining") {
        headers.insert("ratelimit-remaining", "2999".parse().unwrap());
        let reset = (Utc::now() + TimeDelta::minutes(5)).timestamp();
        headers.insert("ratelimit-reset", reset.to_string().parse().unwrap());
    }
    response
}

fn error(status: u16, name: &str, message: &str) -> Response {
    reply(status, json!({"error": name, "message": message}), &[])
}

async fn handle(
    AxumState(shared): AxumState<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let route = uri.path().trim_start_matches("/xrpc/").to_owned();
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let index = {
        let mut state = shared.state.lock();
        state.calls.push(Call {
            method: method.to_string(),
            route: route.clone(),
            query: query.clone(),
            body: body.clone(),
            status: 0,
        });
        state.calls.len() - 1
    };
    let fault = shared
        .state
        .lock()
        .faults
        .get_mut(&route)
        .and_then(VecDeque::pop_front);
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let response = match fault {
        Some(Fault::RateLimited { secs }) => {
            let reset = (Utc::now() + TimeDelta::seconds(secs as i64)).timestamp();
            reply(
                429,
                json!({"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}),
                &[
                    ("ratelimit-remaining", "0".to_owned()),
                    ("ratelimit-reset", reset.to_string()),
                ],
            )
        }
        Some(Fault::Unavailable) => error(502, "UpstreamFailure", "Upstream Failure"),
        fault => {
            let request = Request {
                method: method.as_str(),
                route: &route,
                query: &query,
                body: &body,
                bearer: bearer.as_deref(),
            };
            let response = endpoint(&shared, &request);
            if matches!(fault, Some(Fault::Lost)) {
                record(&shared, index, 0);
                return std::future::pending().await;
            }
            response
        }
    };
    record(&shared, index, response.status().as_u16());
    response
}

fn record(shared: &Shared, index: usize, status: u16) {
    shared.state.lock().calls[index].status = status;
    shared.state.notify();
}

struct Request<'a> {
    method: &'a str,
    route: &'a str,
    query: &'a [(String, String)],
    body: &'a Value,
    bearer: Option<&'a str>,
}

impl Request<'_> {
    fn query(&self, key: &str) -> Vec<&str> {
        self.query
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    fn field(&self, key: &str) -> Option<&str> {
        self.body.get(key).and_then(Value::as_str)
    }
}

fn endpoint(shared: &Shared, req: &Request) -> Response {
    match (req.method, req.route) {
        ("POST", "com.atproto.server.createSession") => create_session(shared, req),
        ("POST", "com.atproto.server.refreshSession") => refresh_session(shared, req),
        (method, route) => {
            let known = matches!(
                (method, route),
                ("GET", "app.bsky.notification.listNotifications")
                    | ("POST", "com.atproto.repo.putRecord")
                    | ("GET", "com.atproto.repo.getRecord")
                    | ("POST", "com.atproto.repo.deleteRecord")
            );
            if !known {
                return error(501, "MethodNotImplemented", "Method Not Implemented");
            }
            let state = shared.state.lock();
            let token = req.bearer.unwrap_or("");
            if state.expired.contains(token) {
                return error(400, "ExpiredToken", "Token has expired");
            }
            if !state.access.contains(token) {
                return error(401, "InvalidToken", "Token could not be verified");
            }
            drop(state);
            match route {
                "app.bsky.notification.listNotifications" => notifications(shared, req),
                "com.atproto.repo.putRecord" => put_record(shared, req),
                "com.atproto.repo.getRecord" => get_record(shared, req),
                _ => delete_record(shared, req),
            }
        }
    }
}

fn new_session(state: &mut State) -> Value {
    state.next += 1;
    let access = format!("access-{}", state.next);
    let refresh = format!("refresh-{}", state.next);
    state.access.insert(access.clone());
    state.refresh.insert(refresh.clone());
    json!({
        "accessJwt": access,
        "refreshJwt": refresh,
        "handle": BRAND_HANDLE,
        "did": BRAND_DID,
        "email": "care@acme.example",
        "emailConfirmed": true,
        "active": true,
    })
}

fn create_session(shared: &Shared, req: &Request) -> Response {
    let mut state = shared.state.lock();
    state.create_sessions += 1;
    let who = req.field("identifier");
    let known = who == Some(BRAND_HANDLE) || who == Some(BRAND_DID);
    if !known || req.field("password") != Some(BRAND_PASSWORD) {
        return error(
            401,
            "AuthenticationRequired",
            "Invalid identifier or password",
        );
    }
    reply(200, new_session(&mut state), &[])
}

fn refresh_session(shared: &Shared, req: &Request) -> Response {
    let mut state = shared.state.lock();
    let token = req.bearer.unwrap_or("");
    if !state.refresh.remove(token) {
        return error(400, "ExpiredToken", "Token has been revoked");
    }
    reply(200, new_session(&mut state), &[])
}

fn notification_json(state: &State, at: DateTime<Utc>, reason: &str, uri: &str) -> Option<Value> {
    let record = state.records.iter().find(|r| r.uri == uri)?;
    let handle = state
        .handles
        .get(&record.repo)
        .map_or(BRAND_HANDLE, String::as_str);
    let mut n = json!({
        "uri": record.uri,
        "cid": record.cid,
        "author": {
            "did": record.repo,
            "handle": handle,
            "displayName": handle.split('.').next().unwrap_or("").to_uppercase(),
            "labels": [],
            "createdAt": "2024-01-01T00:00:00.000Z",
        },
        "reason": reason,
        "record": record.value,
        "isRead": false,
        "indexedAt": iso(at),
        "labels": [],
    });
    if reason == "reply" {
        n["reasonSubject"] = record.value.pointer("/reply/parent/uri").cloned()?;
    }
    Some(n)
}

/// Newest first; `cursor` (an index time) pages to older ones.
fn notifications(shared: &Shared, req: &Request) -> Response {
    let reasons = req.query("reasons");
    let limit: usize = req
        .query("limit")
        .first()
        .and_then(|l| l.parse().ok())
        .unwrap_or(50);
    if !(1..=100).contains(&limit) {
        return error(400, "InvalidRequest", "limit must be between 1 and 100");
    }
    let before = req
        .query("cursor")
        .first()
        .and_then(|c| DateTime::parse_from_rfc3339(c).ok())
        .map(|c| c.with_timezone(&Utc));
    let state = shared.state.lock();
    let page: Vec<(DateTime<Utc>, Value)> = state
        .notifications
        .iter()
        .rev()
        .filter(|(at, reason, _)| {
            before.is_none_or(|b| *at < b) && (reasons.is_empty() || reasons.contains(reason))
        })
        .take(limit)
        .filter_map(|(at, reason, uri)| Some((*at, notification_json(&state, *at, reason, uri)?)))
        .collect();
    let mut body = json!({
        "notifications": page.iter().map(|(_, n)| n.clone()).collect::<Vec<_>>(),
        "seenAt": iso(Utc::now()),
        "priority": false,
    });
    if let Some((oldest, _)) = page.last() {
        body["cursor"] = json!(iso(*oldest));
    }
    reply(200, body, &[])
}

fn put_record(shared: &Shared, req: &Request) -> Response {
    let (Some(repo), Some(collection), Some(rkey)) = (
        req.field("repo"),
        req.field("collection"),
        req.field("rkey"),
    ) else {
        return error(
            400,
            "InvalidRequest",
            "Input must have the properties repo, collection, rkey and record",
        );
    };
    if repo != BRAND_DID && repo != BRAND_HANDLE {
        return error(
            403,
            "InvalidRequest",
            "Cannot write to another account's repo",
        );
    }
    if !is_tid(rkey) {
        return error(
            400,
            "InvalidRequest",
            &format!("Invalid record key for {collection}: {rkey}"),
        );
    }
    let Some(value) = req.body.get("record").filter(|v| v.is_object()) else {
        return error(400, "InvalidRequest", "Input/record must be an object");
    };
    if collection == POST {
        let text = value["text"].as_str().unwrap_or("");
        if text.graphemes(true).count() > 300 {
            return error(
                400,
                "InvalidRequest",
                "Invalid app.bsky.feed.post record: Record/text must not be longer than 300 graphemes",
            );
        }
    }
    let mut state = shared.state.lock();
    let uri = format!("at://{BRAND_DID}/{collection}/{rkey}");
    if let Some(existing) = state.records.iter().find(|r| r.uri == uri) {
        // `swapRecord: null`: only where nothing is; the same record again changes nothing.
        if req.body.get("swapRecord") == Some(&Value::Null) && existing.value != *value {
            return error(
                400,
                "InvalidSwap",
                &format!("Record was at {}", existing.cid),
            );
        }
        return reply(
            200,
            json!({"uri": existing.uri, "cid": existing.cid, "validationStatus": "valid"}),
            &[],
        );
    }
    let made = put(&mut state, BRAND_DID, collection, rkey, value.clone());
    reply(
        200,
        json!({"uri": made.uri, "cid": made.cid, "commit": {"cid": "bafycommit", "rev": "3l"}, "validationStatus": "valid"}),
        &[],
    )
}

fn get_record(shared: &Shared, req: &Request) -> Response {
    let uri = format!(
        "at://{}/{}/{}",
        req.query("repo").first().copied().unwrap_or(""),
        req.query("collection").first().copied().unwrap_or(""),
        req.query("rkey").first().copied().unwrap_or("")
    );
    let state = shared.state.lock();
    match state.records.iter().find(|r| r.uri == uri) {
        Some(r) => reply(
            200,
            json!({"uri": r.uri, "cid": r.cid, "value": r.value}),
            &[],
        ),
        None => error(
            400,
            "RecordNotFound",
            &format!("Could not locate record: {uri}"),
        ),
    }
}

fn delete_record(shared: &Shared, req: &Request) -> Response {
    let uri = format!(
        "at://{}/{}/{}",
        req.field("repo").unwrap_or(""),
        req.field("collection").unwrap_or(""),
        req.field("rkey").unwrap_or("")
    );
    if !uri.starts_with(&format!("at://{BRAND_DID}/")) {
        return error(
            403,
            "InvalidRequest",
            "Cannot write to another account's repo",
        );
    }
    shared.state.lock().records.retain(|r| r.uri != uri);
    reply(
        200,
        json!({"commit": {"cid": "bafycommit", "rev": "3l"}}),
        &[],
    )
}

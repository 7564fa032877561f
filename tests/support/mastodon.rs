//! A fake Mastodon instance for tests: the REST and streaming endpoints carebridge uses,
//! speaking Mastodon's wire format (platforms.md §5) over real HTTP on 127.0.0.1, with a
//! stateful world behind them (accounts, statuses, mention notifications, idempotency keys,
//! favourites) and scripted faults (429 with `Retry-After` and `X-RateLimit-*`, 5xx, an
//! answer lost after the status was made).
//!
//! Include with `#[path = "support/mastodon.rs"] mod mastodon;` next to
//! `#[path = "support/background.rs"] mod background;`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::background::{Background, CallLog, Logged, Watched, loopback};

/// The brand account's token, id and handle.
pub const BRAND_TOKEN: &str = "acme-token-0f3c";
pub const BRAND_ID: &str = "109000000000000001";
pub const BRAND_ACCT: &str = "acme";

/// What the next call to a route does instead of its work.
#[derive(Debug, Clone)]
pub enum Fault {
    /// 429 with `Retry-After: secs` and `X-RateLimit-Remaining: 0`; nothing is done.
    RateLimited { secs: u64 },
    /// 503; nothing is done.
    Unavailable,
    /// The work is done but the answer never comes (the connection hangs).
    Lost,
}

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    /// The route template, e.g. `/api/v1/statuses/{id}/favourite`.
    pub route: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Value,
    pub idempotency_key: Option<String>,
    pub status: u16,
}

impl Logged for Call {
    fn line(&self) -> String {
        format!("{} {} → {}", self.method, self.path, self.status)
    }
}

/// A status on the instance.
#[derive(Debug, Clone)]
pub struct Status {
    pub id: String,
    pub account_id: String,
    pub acct: String,
    pub text: String,
    pub in_reply_to_id: Option<String>,
    pub visibility: String,
    pub created_at: DateTime<Utc>,
}

/// How the instance is set up.
#[derive(Debug, Clone)]
pub struct Setup {
    pub max_characters: u64,
    pub characters_reserved_per_url: u64,
    /// Serve `/api/v1/streaming/user/notification` (else 404, as an instance without it).
    pub streaming: bool,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            max_characters: 500,
            characters_reserved_per_url: 23,
            streaming: true,
        }
    }
}

#[derive(Default)]
struct State {
    calls: CallLog<Call>,
    statuses: Vec<Status>,
    /// The brand's mention notifications: (notification id, status id), oldest first.
    notifications: Vec<(u64, String)>,
    /// Idempotency-Key → the status it made.
    keys: HashMap<String, String>,
    favourites: HashSet<String>,
    reblogs: HashSet<String>,
    faults: HashMap<(String, String), VecDeque<Fault>>,
    next_id: u64,
    /// Open notification streams.
    streams: Vec<mpsc::UnboundedSender<Bytes>>,
}

struct Shared {
    setup: Setup,
    addr: SocketAddr,
    state: Watched<State>,
}

/// A running fake instance; dropping it stops the server.
pub struct FakeMastodon {
    shared: Arc<Shared>,
    _server: Background,
}

impl FakeMastodon {
    pub fn start(setup: Setup) -> FakeMastodon {
        let listener = loopback();
        let shared = Arc::new(Shared {
            setup,
            addr: listener.local_addr().unwrap(),
            state: Watched::new(State {
                next_id: 110_000_000_000_000_000,
                ..State::default()
            }),
        });
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&shared));
        let server = Background::serve("fake-mastodon", listener, app);
        FakeMastodon {
            shared,
            _server: server,
        }
    }

    pub fn start_default() -> FakeMastodon {
        Self::start(Setup::default())
    }

    /// `http://127.0.0.1:PORT/`.
    pub fn api_url(&self) -> String {
        format!("http://{}/", self.shared.addr)
    }

    // --- the world ----------------------------------------------------------

    /// `acct` (a customer) posts `text` mentioning the brand, with `visibility`, answering
    /// `in_reply_to` if given: the brand gets a mention notification, on its stream too.
    /// Returns the status id.
    pub fn mention(
        &self,
        acct: &str,
        text: &str,
        visibility: &str,
        in_reply_to: Option<&str>,
    ) -> String {
        let mut state = self.shared.state.lock();
        let id = next_id(&mut state);
        let status = Status {
            id: id.to_string(),
            account_id: account_id(acct),
            acct: acct.to_owned(),
            text: format!("@{BRAND_ACCT} {text}"),
            in_reply_to_id: in_reply_to.map(str::to_owned),
            visibility: visibility.to_owned(),
            created_at: Utc::now(),
        };
        state.statuses.push(status.clone());
        let notification = next_id(&mut state);
        state.notifications.push((notification, status.id.clone()));
        drop(state);
        let event = format!(
            "event: notification\ndata: {}\n\n",
            notification_json(&self.shared, notification, &status)
        );
        self.shared
            .state
            .lock()
            .streams
            .retain(|s| s.send(Bytes::from(event.clone())).is_ok());
        self.shared.state.notify();
        status.id
    }

    /// Statuses that answer `id`, oldest first.
    pub fn replies_to(&self, id: &str) -> Vec<Status> {
        let state = self.shared.state.lock();
        state
            .statuses
            .iter()
            .filter(|s| s.in_reply_to_id.as_deref() == Some(id))
            .cloned()
            .collect()
    }

    /// The brand's own statuses, oldest first.
    pub fn ours(&self) -> Vec<Status> {
        let state = self.shared.state.lock();
        state
            .statuses
            .iter()
            .filter(|s| s.account_id == BRAND_ID)
            .cloned()
            .collect()
    }

    pub fn favourited(&self, id: &str) -> bool {
        self.shared.state.lock().favourites.contains(id)
    }

    /// How many notification streams are open.
    pub fn streams(&self) -> usize {
        let mut state = self.shared.state.lock();
        state.streams.retain(|s| !s.is_closed());
        state.streams.len()
    }

    /// Waits until a notification stream is open.
    pub fn wait_streaming(&self, timeout: Duration) {
        let open = self.shared.state.wait(timeout, |s| {
            s.streams.iter().any(|s| !s.is_closed()).then_some(())
        });
        assert!(open.is_some(), "no notification stream opened");
    }

    /// Closes every open stream (as a restarting streaming server does).
    pub fn drop_streams(&self) {
        self.shared.state.lock().streams.clear();
    }

    // --- calls --------------------------------------------------------------

    pub fn calls(&self) -> Vec<Call> {
        self.shared.state.lock().calls.to_vec()
    }

    pub fn take_calls(&self) -> Vec<Call> {
        self.shared.state.lock().calls.take()
    }

    /// Blocks until `count` calls of (`method`, route template) were made (faulted ones too:
    /// check `status`) and returns them; panics with the calls seen after `timeout`.
    pub fn wait_for(
        &self,
        method: &str,
        route: &str,
        count: usize,
        timeout: Duration,
    ) -> Vec<Call> {
        let what = format!("{method} {route}");
        self.shared.state.wait_calls(
            timeout,
            count,
            &what,
            |s| &s.calls,
            |c| c.method == method && c.route == route,
        )
    }

    /// The next call of (`method`, route template) meets `fault`.
    pub fn fail_next(&self, method: &str, route: &str, fault: Fault) {
        self.shared
            .state
            .lock()
            .faults
            .entry((method.to_owned(), route.to_owned()))
            .or_default()
            .push_back(fault);
    }
}

fn next_id(state: &mut State) -> u64 {
    state.next_id += 1;
    state.next_id
}

/// Customers' ids follow from their handles, so tests can name them.
pub fn account_id(acct: &str) -> String {
    if acct == BRAND_ACCT {
        return BRAND_ID.to_owned();
    }
    let n = acct
        .bytes()
        .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
    format!("1090{:014}", n % 100_000_000_000_000)
}

fn iso(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn account_json(acct: &str) -> Value {
    let username = acct.split('@').next().unwrap_or(acct);
    json!({
        "id": account_id(acct),
        "username": username,
        "acct": acct,
        "display_name": if acct == BRAND_ACCT { "Acme Support".to_owned() } else { username.to_uppercase() },
        "locked": false,
        "bot": acct == BRAND_ACCT,
        "url": format!("https://masto.example/@{username}"),
    })
}

/// A status as the API shows it: its text as HTML paragraphs, mentions as h-card links.
fn status_json(shared: &Shared, status: &Status) -> Value {
    let paragraphs: Vec<String> = status
        .text
        .split("\n\n")
        .map(|p| {
            let words: Vec<String> = p
                .split(' ')
                .map(|w| match w.strip_prefix('@') {
                    Some(user) if !user.is_empty() => format!(
                        "<span class=\"h-card\"><a href=\"https://masto.example/@{u}\" class=\"u-url mention\">@<span>{u}</span></a></span>",
                        u = escape(user.split('@').next().unwrap_or(user))
                    ),
                    _ => escape(w),
                })
                .collect();
            format!("<p>{}</p>", words.join(" ").replace('\n', "<br />"))
        })
        .collect();
    let in_reply_to_account = status.in_reply_to_id.as_ref().and_then(|id| {
        let state = shared.state.lock();
        state
            .statuses
            .iter()
            .find(|s| &s.id == id)
            .map(|s| s.account_id.clone())
    });
    json!({
        "id": status.id,
        "created_at": iso(status.created_at),
        "in_reply_to_id": status.in_reply_to_id,
        "in_reply_to_account_id": in_reply_to_account,
        "sensitive": false,
        "spoiler_text": "",
        "visibility": status.visibility,
        "language": "en",
        "uri": format!("https://masto.example/users/{}/statuses/{}", status.acct, status.id),
        "url": format!("https://masto.example/@{}/{}", status.acct, status.id),
        "content": paragraphs.concat(),
        "account": account_json(&status.acct),
        "mentions": [],
        "tags": [],
        "emojis": [],
        "media_attachments": [],
    })
}

fn notification_json(shared: &Shared, id: u64, status: &Status) -> Value {
    json!({
        "id": id.to_string(),
        "type": "mention",
        "created_at": iso(status.created_at),
        "account": account_json(&status.acct),
        "status": status_json(shared, status),
    })
}

// ---------------------------------------------------------------------------
// Serving
// ---------------------------------------------------------------------------

/// The route template of a path, and its `{id}` segment.
fn route_of(method: &str, path: &str) -> Option<(&'static str, String)> {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let id = |i: usize| segs.get(i).map(|s| (*s).to_owned()).unwrap_or_default();
    let route = match (method, segs.as_slice()) {
        ("GET", ["api", "v1", "accounts", "verify_credentials"]) => {
            "/api/v1/accounts/verify_credentials"
        }
        ("GET", ["api", "v2", "instance"]) => "/api/v2/instance",
        ("GET", ["api", "v1", "notifications"]) => "/api/v1/notifications",
        ("POST", ["api", "v1", "statuses"]) => "/api/v1/statuses",
        ("GET", ["api", "v1", "statuses", _, "context"]) => "/api/v1/statuses/{id}/context",
        ("POST", ["api", "v1", "statuses", _, "favourite"]) => "/api/v1/statuses/{id}/favourite",
        ("POST", ["api", "v1", "statuses", _, "unfavourite"]) => {
            "/api/v1/statuses/{id}/unfavourite"
        }
        ("POST", ["api", "v1", "statuses", _, "reblog"]) => "/api/v1/statuses/{id}/reblog",
        ("DELETE", ["api", "v1", "statuses", _]) => "/api/v1/statuses/{id}",
        ("GET", ["api", "v1", "streaming", "user", "notification"]) => {
            "/api/v1/streaming/user/notification"
        }
        _ => return None,
    };
    Some((route, id(3)))
}

fn reply(status: u16, body: Value, extra: &[(&'static str, String)]) -> Response {
    let mut response = (
        StatusCode::from_u16(status).unwrap(),
        [("content-type", "application/json; charset=utf-8")],
        body.to_string(),
    )
        .into_response();
    let headers = response.headers_mut();
    headers.insert("x-ratelimit-limit", "300".parse().unwrap());
    for (name, value) in extra {
        headers.insert(*name, value.parse().unwrap());
    }
    if !headers.contains_key("x-ratelimit-remaining") {
        headers.insert("x-ratelimit-remaining", "299".parse().unwrap());
        let reset = iso(Utc::now() + chrono::TimeDelta::minutes(5));
        headers.insert("x-ratelimit-reset", reset.parse().unwrap());
    }
    response
}

fn error(status: u16, message: &str) -> Response {
    reply(status, json!({"error": message}), &[])
}

async fn handle(
    AxumState(shared): AxumState<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let body_value = match headers.get("content-type").and_then(|v| v.to_str().ok()) {
        Some(t) if t.starts_with("application/json") => {
            serde_json::from_slice(&body).unwrap_or(Value::Null)
        }
        _ => {
            let form: serde_json::Map<String, Value> = url::form_urlencoded::parse(&body)
                .into_owned()
                .map(|(k, v)| (k, Value::String(v)))
                .collect();
            Value::Object(form)
        }
    };
    let idempotency_key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let matched = route_of(method.as_str(), &path);
    let route = matched
        .as_ref()
        .map_or(path.clone(), |(r, _)| (*r).to_owned());
    let index = {
        let mut state = shared.state.lock();
        state.calls.push(Call {
            method: method.to_string(),
            route: route.clone(),
            path: path.clone(),
            query: query.clone(),
            body: body_value.clone(),
            idempotency_key: idempotency_key.clone(),
            status: 0,
        });
        state.calls.len() - 1
    };
    let fault = shared
        .state
        .lock()
        .faults
        .get_mut(&(method.to_string(), route.clone()))
        .and_then(VecDeque::pop_front);
    let authorized = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        == Some(BRAND_TOKEN);
    let response = match (fault, matched) {
        (Some(Fault::RateLimited { secs }), _) => {
            let reset = iso(Utc::now() + chrono::TimeDelta::seconds(secs as i64));
            reply(
                429,
                json!({"error": "Too many requests"}),
                &[
                    ("retry-after", secs.to_string()),
                    ("x-ratelimit-remaining", "0".to_owned()),
                    ("x-ratelimit-reset", reset),
                ],
            )
        }
        (Some(Fault::Unavailable), _) => error(503, "Service Unavailable"),
        (_, None) => error(404, "Record not found"),
        (_, Some(_)) if !authorized => error(401, "The access token is invalid"),
        (fault, Some((route, id))) => {
            if route == "/api/v1/streaming/user/notification" {
                return stream(&shared, index);
            }
            let request = Request {
                route,
                id,
                query: &query,
                body: &body_value,
                key: idempotency_key.as_deref(),
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
    route: &'static str,
    id: String,
    query: &'a [(String, String)],
    body: &'a Value,
    key: Option<&'a str>,
}

impl Request<'_> {
    fn query(&self, key: &str) -> Vec<&str> {
        self.query
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    fn field(&self, key: &str) -> Option<String> {
        match self.body.get(key)? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    }
}

fn endpoint(shared: &Shared, req: &Request) -> Response {
    match req.route {
        "/api/v1/accounts/verify_credentials" => reply(200, account_json(BRAND_ACCT), &[]),
        "/api/v2/instance" => reply(
            200,
            json!({
                "domain": "masto.example",
                "title": "Fake Mastodon",
                "version": "4.3.0",
                "configuration": {
                    "urls": {"streaming": format!("ws://{}", shared.addr)},
                    "statuses": {
                        "max_characters": shared.setup.max_characters,
                        "max_media_attachments": 4,
                        "characters_reserved_per_url": shared.setup.characters_reserved_per_url,
                    },
                },
            }),
            &[],
        ),
        "/api/v1/notifications" => notifications(shared, req),
        "/api/v1/statuses" => post_status(shared, req),
        "/api/v1/statuses/{id}/context" => {
            let state = shared.state.lock();
            if !state.statuses.iter().any(|s| s.id == req.id) {
                return error(404, "Record not found");
            }
            // Descendants: every status below this one, depth first is not needed here.
            let mut below = vec![req.id.clone()];
            let mut descendants = Vec::new();
            for s in &state.statuses {
                if let Some(parent) = &s.in_reply_to_id
                    && below.contains(parent)
                {
                    below.push(s.id.clone());
                    descendants.push(s.clone());
                }
            }
            drop(state);
            let descendants: Vec<Value> =
                descendants.iter().map(|s| status_json(shared, s)).collect();
            reply(
                200,
                json!({"ancestors": [], "descendants": descendants}),
                &[],
            )
        }
        "/api/v1/statuses/{id}/favourite"
        | "/api/v1/statuses/{id}/unfavourite"
        | "/api/v1/statuses/{id}/reblog" => {
            let mut state = shared.state.lock();
            let Some(status) = state.statuses.iter().find(|s| s.id == req.id).cloned() else {
                return error(404, "Record not found");
            };
            match req.route {
                "/api/v1/statuses/{id}/favourite" => state.favourites.insert(req.id.clone()),
                "/api/v1/statuses/{id}/unfavourite" => state.favourites.remove(&req.id),
                _ => state.reblogs.insert(req.id.clone()),
            };
            drop(state);
            reply(200, status_json(shared, &status), &[])
        }
        "/api/v1/statuses/{id}" => {
            let mut state = shared.state.lock();
            let Some(at) = state.statuses.iter().position(|s| s.id == req.id) else {
                return error(404, "Record not found");
            };
            if state.statuses[at].account_id != BRAND_ID {
                return error(403, "This action is not allowed");
            }
            let status = state.statuses.remove(at);
            drop(state);
            reply(200, status_json(shared, &status), &[])
        }
        _ => error(404, "Record not found"),
    }
}

/// Mention notifications, newest first: the newest `limit`, or with `min_id` the `limit`
/// immediately newer than it; `Link` names the pages around (without `types[]`, as some
/// servers do).
fn notifications(shared: &Shared, req: &Request) -> Response {
    let types = req.query("types[]");
    if !types.is_empty() && !types.contains(&"mention") {
        return reply(200, json!([]), &[]);
    }
    let limit: usize = req
        .query("limit")
        .first()
        .and_then(|l| l.parse().ok())
        .unwrap_or(40)
        .min(80);
    let min_id: Option<u64> = req.query("min_id").first().and_then(|v| v.parse().ok());
    let state = shared.state.lock();
    let mut page: Vec<(u64, String)> = match min_id {
        Some(min) => state
            .notifications
            .iter()
            .filter(|(id, _)| *id > min)
            .take(limit)
            .cloned()
            .collect(),
        None => state
            .notifications
            .iter()
            .rev()
            .take(limit)
            .rev()
            .cloned()
            .collect(),
    };
    page.reverse();
    let items: Vec<(u64, Status)> = page
        .iter()
        .filter_map(|(id, status)| {
            state
                .statuses
                .iter()
                .find(|s| &s.id == status)
                .map(|s| (*id, s.clone()))
        })
        .collect();
    drop(state);
    let body: Vec<Value> = items
        .iter()
        .map(|(id, s)| notification_json(shared, *id, s))
        .collect();
    let mut extra = Vec::new();
    if let (Some((newest, _)), Some((oldest, _))) = (page.first(), page.last()) {
        let base = format!("http://{}/api/v1/notifications", shared.addr);
        extra.push((
            "link",
            format!(
                "<{base}?max_id={oldest}>; rel=\"next\", <{base}?min_id={newest}>; rel=\"prev\""
            ),
        ));
    }
    reply(200, Value::Array(body), &extra)
}

fn post_status(shared: &Shared, req: &Request) -> Response {
    let mut state = shared.state.lock();
    if let Some(key) = req.key
        && let Some(id) = state.keys.get(key).cloned()
        && let Some(status) = state.statuses.iter().find(|s| s.id == id).cloned()
    {
        drop(state);
        return reply(200, status_json(shared, &status), &[]);
    }
    let text = req.field("status").unwrap_or_default();
    if text.trim().is_empty() {
        return error(422, "Validation failed: Text can't be blank");
    }
    if text.chars().count() as u64 > shared.setup.max_characters {
        return error(
            422,
            &format!(
                "Validation failed: Text character limit of {} exceeded",
                shared.setup.max_characters
            ),
        );
    }
    let in_reply_to_id = req.field("in_reply_to_id");
    if let Some(parent) = &in_reply_to_id
        && !state.statuses.iter().any(|s| &s.id == parent)
    {
        return error(404, "Record not found");
    }
    let visibility = req
        .field("visibility")
        .unwrap_or_else(|| "public".to_owned());
    if !["public", "unlisted", "private", "direct"].contains(&visibility.as_str()) {
        return error(
            422,
            "Validation failed: Visibility is not included in the list",
        );
    }
    let id = next_id(&mut state);
    let status = Status {
        id: id.to_string(),
        account_id: BRAND_ID.to_owned(),
        acct: BRAND_ACCT.to_owned(),
        text,
        in_reply_to_id,
        visibility,
        created_at: Utc::now(),
    };
    state.statuses.push(status.clone());
    if let Some(key) = req.key {
        state.keys.insert(key.to_owned(), status.id.clone());
    }
    drop(state);
    reply(200, status_json(shared, &status), &[])
}

/// The notification stream: server-sent events, a comment first (as Mastodon sends `:)`).
fn stream(shared: &Shared, index: usize) -> Response {
    if !shared.setup.streaming {
        record(shared, index, 404);
        return error(404, "Not Found");
    }
    let (tx, rx) = mpsc::unbounded_channel::<Bytes>();
    let _ = tx.send(Bytes::from_static(b":)\n\n"));
    shared.state.lock().streams.push(tx);
    record(shared, index, 200);
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, std::io::Error>(b), rx))
    });
    Response::builder()
        .status(200)
        .header("content-type", "text/event-stream")
        .header("cache-control", "no-cache")
        .body(Body::from_stream(body))
        .unwrap()
}

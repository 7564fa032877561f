//! A fake Slack workspace for integration tests: a stateful world behind a
//! local HTTP server that speaks Slack's Web API wire format (`/api/<method>`,
//! JSON or form bodies, bearer tokens, `{"ok":false,"error":…}` answers, 429s
//! with `Retry-After`), a `response_url` sink, and a Socket Mode websocket
//! (`apps.connections.open` → `ws://…/link/?ticket=N`, `hello`, envelopes,
//! acks, `disconnect`).
//!
//! The bot under test runs as a child process pointed at [`FakeSlack::api_url`],
//! so the fake runs on its own thread and runtime and every accessor here is
//! synchronous, for plain `#[test] fn`s. Like the fake GitHub in rust-lang/bors,
//! every call is recorded; [`FakeSlack::take_calls`] drains the calls a test
//! has not asserted yet, so a test can fail on any unexpected outgoing message.
//!
//! The second half of the file builds the inbound side: signed Events API
//! requests, event/command/interaction payloads whose shapes are checked
//! against slack-morphism's models in `tests/fake_slack.rs`.
//!
//! Include with `#[path = "support/slack.rs"] mod slack;`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use crate::background::{Background, CallLog, Logged, Watched, blocking};

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Map, Value, json};
use sha2::Sha256;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::handshake::server::{
    ErrorResponse, Request as WsRequest, Response as WsResponse,
};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

pub const BOT_TOKEN: &str = "xoxb-test-token";
pub const APP_TOKEN: &str = "xapp-test-token";
pub const TEAM_ID: &str = "T0TEAM";
pub const TEAM_DOMAIN: &str = "fake-team";
pub const TEAM_NAME: &str = "Fake Team";
pub const BOT_USER_ID: &str = "U0BOT";
pub const BOT_NAME: &str = "carebridge";
pub const BOT_ID: &str = "B0BOT";
pub const APP_ID: &str = "A0APP";
/// What Slack puts in the deprecated `token` field of inbound payloads.
pub const VERIFICATION_TOKEN: &str = "fake-verification-token";

/// Methods that take the app-level (`xapp-`) token; every other method takes
/// the bot token, and Slack rejects the wrong kind with `not_allowed_token_type`.
const APP_LEVEL_METHODS: &[&str] = &["apps.connections.open"];

/// The scopes reported as `provided` by a scripted `missing_scope` error.
const PROVIDED_SCOPES: &str = "chat:write,reactions:write,channels:history,groups:history,commands,users:read,usergroups:read";

/// Slack rejects a message with more blocks than this (`invalid_blocks`).
const MAX_BLOCKS: usize = 50;

// ---------------------------------------------------------------------------
// Setup and recorded state
// ---------------------------------------------------------------------------

/// The workspace the fake pretends to be.
#[derive(Clone, Debug)]
pub struct FakeSlackSetup {
    pub bot_token: String,
    pub app_token: String,
    pub team_id: String,
    pub team_domain: String,
    pub team_name: String,
    pub bot_user_id: String,
    pub bot_name: String,
    pub bot_id: String,
    pub app_id: String,
    /// Channels the bot is a member of; posting elsewhere is `not_in_channel`.
    pub channels: Vec<String>,
    /// User id → display name.
    pub users: BTreeMap<String, String>,
    /// User group (subteam) id → member user ids.
    pub usergroups: BTreeMap<String, Vec<String>>,
}

impl Default for FakeSlackSetup {
    fn default() -> Self {
        let users = [("U0MARIA", "maria"), ("U0LEE", "lee"), ("U0SAM", "sam")]
            .into_iter()
            .map(|(id, name)| (id.to_string(), name.to_string()))
            .collect();
        let usergroups = [("S0LEADS".to_string(), vec!["U0LEE".to_string()])]
            .into_iter()
            .collect();
        Self {
            bot_token: BOT_TOKEN.into(),
            app_token: APP_TOKEN.into(),
            team_id: TEAM_ID.into(),
            team_domain: TEAM_DOMAIN.into(),
            team_name: TEAM_NAME.into(),
            bot_user_id: BOT_USER_ID.into(),
            bot_name: BOT_NAME.into(),
            bot_id: BOT_ID.into(),
            app_id: APP_ID.into(),
            channels: vec!["C0INBOX".into(), "C0ESC".into()],
            users,
            usergroups,
        }
    }
}

/// One request the fake received: a Web API call (`method` is e.g.
/// `"chat.postMessage"`) or a `response_url` post (`method` is `"response_url"`).
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    pub method: String,
    /// Query parameters and body merged into one JSON object. Form fields are
    /// strings, except `blocks`/`view`/`metadata`/`attachments`, which are
    /// parsed as JSON when they hold JSON (as Slack does).
    pub body: Value,
    /// From `Authorization: Bearer …`, else from a `token` body field.
    pub token: Option<String>,
    /// Answered by a scripted [`Fault`]; such a call changed no state.
    pub faulted: bool,
    /// The `error` the fake answered with, if it answered `ok: false`
    /// (`"http_<status>"` for a [`Fault::Status`]).
    pub error: Option<String>,
}

impl Logged for Call {
    fn line(&self) -> String {
        self.method.clone()
    }
}

impl Call {
    /// A body field as a string (numbers and booleans rendered).
    pub fn str(&self, key: &str) -> Option<String> {
        param_str(&self.body, key)
    }
}

/// A scripted failure for the next call of one method.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// HTTP 429, `Retry-After: <secs>`, body `{"ok":false,"error":"ratelimited"}`.
    RateLimited { retry_after_secs: u64 },
    /// HTTP 200 `{"ok":false,"error":<code>}`.
    Error(String),
    /// HTTP 200 `{"ok":false,"error":"missing_scope","needed":…,"provided":…}`.
    MissingScope { needed: String },
    /// A bare HTTP status (e.g. 500) with a non-JSON body.
    Status(u16),
}

/// A reaction on a stored message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reaction {
    pub name: String,
    pub user: String,
}

/// A message as it currently stands in a channel (updates applied).
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    pub channel: String,
    pub ts: String,
    /// As posted: the parent's ts for a reply (Slack also accepts a `thread_ts`
    /// that is not a parent; it is stored as given).
    pub thread_ts: Option<String>,
    pub user: String,
    /// Set for messages the bot posted.
    pub bot_id: Option<String>,
    pub text: Option<String>,
    pub blocks: Option<Value>,
    pub metadata: Option<Value>,
    pub reply_broadcast: bool,
    pub reactions: Vec<Reaction>,
    /// How many times `chat.update` changed it.
    pub edits: u32,
}

impl Message {
    /// A top-level message (or a thread parent), not a reply.
    pub fn is_top_level(&self) -> bool {
        self.thread_ts.as_deref().is_none_or(|t| t == self.ts)
    }

    /// Every `text` field in the blocks, joined by newlines, so tests can
    /// search block content without walking Block Kit.
    pub fn blocks_text(&self) -> String {
        let mut out = Vec::new();
        if let Some(blocks) = &self.blocks {
            collect_texts(blocks, &mut out);
        }
        out.join("\n")
    }

    /// `text` and the blocks' text together.
    pub fn all_text(&self) -> String {
        format!(
            "{}\n{}",
            self.text.as_deref().unwrap_or(""),
            self.blocks_text()
        )
    }

    /// The first button/element in the blocks with this `action_id`, with the
    /// `block_id` of the block holding it.
    pub fn find_action(&self, action_id: &str) -> Option<(Option<String>, Value)> {
        let blocks = self.blocks.as_ref()?.as_array()?;
        for block in blocks {
            let block_id = block
                .get("block_id")
                .and_then(Value::as_str)
                .map(String::from);
            let mut found = None;
            find_element(block, action_id, &mut found);
            if let Some(element) = found {
                return Some((block_id, element));
            }
        }
        None
    }
}

fn collect_texts(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, val) in map {
                match (k.as_str(), val) {
                    ("text", Value::String(s)) => out.push(s.clone()),
                    _ => collect_texts(val, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect_texts(i, out)),
        _ => {}
    }
}

fn find_element(v: &Value, action_id: &str, found: &mut Option<Value>) {
    if found.is_some() {
        return;
    }
    match v {
        Value::Object(map) => {
            if map.get("action_id").and_then(Value::as_str) == Some(action_id) {
                *found = Some(v.clone());
                return;
            }
            map.values()
                .for_each(|val| find_element(val, action_id, found));
        }
        Value::Array(items) => items.iter().for_each(|i| find_element(i, action_id, found)),
        _ => {}
    }
}

/// A `chat.postEphemeral` the bot sent.
#[derive(Clone, Debug, PartialEq)]
pub struct Ephemeral {
    pub channel: String,
    pub user: String,
    pub thread_ts: Option<String>,
    pub text: Option<String>,
    pub blocks: Option<Value>,
    pub message_ts: String,
}

/// A post to a `response_url` ([`FakeSlack::response_url`]).
#[derive(Clone, Debug, PartialEq)]
pub struct ResponsePost {
    /// The part of the path after `/response/`.
    pub id: String,
    pub body: Value,
}

/// A modal the bot opened with `views.open`.
#[derive(Clone, Debug, PartialEq)]
pub struct OpenedView {
    pub id: String,
    pub trigger_id: String,
    /// The view as the bot sent it.
    pub view: Value,
}

enum SocketCmd {
    Send(String),
    /// Send a `disconnect` frame with this reason, then close the connection.
    Disconnect(String),
    /// Close the TCP connection without a websocket close frame.
    Drop,
}

struct SocketConn {
    ticket: u64,
    tx: mpsc::UnboundedSender<SocketCmd>,
    live: bool,
}

#[derive(Default)]
struct State {
    calls: CallLog<Call>,
    faults: HashMap<String, VecDeque<Fault>>,
    /// Channel → messages in posting order (which is ts order).
    messages: BTreeMap<String, Vec<Message>>,
    ephemerals: Vec<Ephemeral>,
    responses: Vec<ResponsePost>,
    views: Vec<OpenedView>,
    last_ts_micros: u64,
    next_view: u64,
    next_ticket: u64,
    next_envelope: u64,
    /// Tickets handed out by `apps.connections.open` and not yet used: like
    /// Slack's, a socket URL is good for one connection.
    open_tickets: HashSet<u64>,
    sockets: Vec<SocketConn>,
    /// Every text frame a client sent, parsed.
    socket_frames: Vec<Value>,
    acks: HashMap<String, Value>,
}

impl State {
    /// Slack's ts is the posting time in microseconds; strictly increasing here
    /// so every message has a unique ts.
    fn next_ts(&mut self) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_micros() as u64;
        let micros = now.max(self.last_ts_micros + 1);
        self.last_ts_micros = micros;
        format!("{}.{:06}", micros / 1_000_000, micros % 1_000_000)
    }

    fn find_message(&self, channel: &str, ts: &str) -> Option<&Message> {
        self.messages.get(channel)?.iter().find(|m| m.ts == ts)
    }

    fn find_message_mut(&mut self, channel: &str, ts: &str) -> Option<&mut Message> {
        self.messages
            .get_mut(channel)?
            .iter_mut()
            .find(|m| m.ts == ts)
    }

    fn replies(&self, channel: &str, parent_ts: &str) -> Vec<&Message> {
        self.messages
            .get(channel)
            .map(|ms| {
                ms.iter()
                    .filter(|m| m.ts != parent_ts && m.thread_ts.as_deref() == Some(parent_ts))
                    .collect()
            })
            .unwrap_or_default()
    }
}

struct Shared {
    setup: FakeSlackSetup,
    ws_addr: SocketAddr,
    state: Watched<State>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock()
    }

    fn wait<T>(&self, timeout: Duration, f: impl FnMut(&State) -> Option<T>) -> Option<T> {
        self.state.wait(timeout, f)
    }
}

// ---------------------------------------------------------------------------
// The handle
// ---------------------------------------------------------------------------

/// A running fake Slack; dropping it stops the servers.
pub struct FakeSlack {
    shared: Arc<Shared>,
    http_addr: SocketAddr,
    _server: Background,
}

impl FakeSlack {
    /// Binds `127.0.0.1:0` for the Web API and for Socket Mode and serves them
    /// from a background thread with its own runtime.
    pub fn start(setup: FakeSlackSetup) -> FakeSlack {
        // Bound here, synchronously, so the addresses are known on return.
        let http = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let ws = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        http.set_nonblocking(true).unwrap();
        ws.set_nonblocking(true).unwrap();
        let http_addr = http.local_addr().unwrap();
        let shared = Arc::new(Shared {
            setup,
            ws_addr: ws.local_addr().unwrap(),
            state: Watched::new(State::default()),
        });
        let server_shared = shared.clone();
        let server = Background::start("fake-slack", move || async move {
            let http = tokio::net::TcpListener::from_std(http).unwrap();
            let ws = tokio::net::TcpListener::from_std(ws).unwrap();
            let app = axum::Router::new()
                .fallback(handle_http)
                .with_state(server_shared.clone());
            tokio::spawn(async move { axum::serve(http, app).await });
            tokio::spawn(accept_sockets(ws, server_shared));
        });
        FakeSlack {
            shared,
            http_addr,
            _server: server,
        }
    }

    /// `FakeSlack::start(FakeSlackSetup::default())`.
    pub fn start_default() -> FakeSlack {
        Self::start(FakeSlackSetup::default())
    }

    pub fn setup(&self) -> &FakeSlackSetup {
        &self.shared.setup
    }

    /// `http://127.0.0.1:PORT/api/` — with the trailing slash; the fake also
    /// tolerates the `//` slack-morphism produces when joining it with a method.
    pub fn api_url(&self) -> String {
        format!("http://{}/api/", self.http_addr)
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.http_addr)
    }

    /// A `response_url` that records posts under `id`.
    pub fn response_url(&self, id: &str) -> String {
        format!("http://{}/response/{id}", self.http_addr)
    }

    /// The address the Socket Mode websocket listens on.
    pub fn socket_addr(&self) -> SocketAddr {
        self.shared.ws_addr
    }

    // --- scripting -------------------------------------------------------

    /// Answers the next call of `method` (or `"response_url"`) with `fault`.
    /// Queued per method, in order.
    pub fn fail_next(&self, method: &str, fault: Fault) {
        self.shared
            .lock()
            .faults
            .entry(method.to_string())
            .or_default()
            .push_back(fault);
    }

    /// Puts a message into a channel as if `user` had written it in Slack
    /// (no call is recorded); returns its ts. Pair with [`thread_message`] /
    /// [`channel_message`] to deliver the matching event.
    pub fn inject_message(
        &self,
        channel: &str,
        user: &str,
        thread_ts: Option<&str>,
        text: &str,
    ) -> String {
        let mut state = self.shared.lock();
        let ts = state.next_ts();
        state
            .messages
            .entry(channel.to_string())
            .or_default()
            .push(Message {
                channel: channel.to_string(),
                ts: ts.clone(),
                thread_ts: thread_ts.map(String::from),
                user: user.to_string(),
                bot_id: None,
                text: Some(text.to_string()),
                blocks: None,
                metadata: None,
                reply_broadcast: false,
                reactions: vec![],
                edits: 0,
            });
        drop(state);
        self.shared.state.notify();
        ts
    }

    // --- assertions ------------------------------------------------------

    /// Every call since start, in arrival order.
    pub fn calls(&self) -> Vec<Call> {
        self.shared.lock().calls.to_vec()
    }

    /// The calls not yet taken, oldest first; marks them taken.
    pub fn take_calls(&self) -> Vec<Call> {
        self.shared.lock().calls.take()
    }

    /// Panics if calls other than `ignore`d methods were received and not
    /// taken (bors style: no unasserted outgoing traffic). Takes them.
    pub fn assert_no_untaken_calls(&self, ignore: &[&str]) {
        let left: Vec<Call> = self
            .take_calls()
            .into_iter()
            .filter(|c| !ignore.contains(&c.method.as_str()))
            .collect();
        assert!(
            left.is_empty(),
            "unasserted calls to the fake Slack: {left:#?}"
        );
    }

    /// Blocks until at least `count` unfaulted calls of `method` arrived since
    /// start (calls the fake refused with an error count: check `Call::error`)
    /// and returns all of them; panics after `timeout`.
    pub fn wait_for(&self, method: &str, count: usize, timeout: Duration) -> Vec<Call> {
        self.shared.state.wait_calls(
            timeout,
            count,
            method,
            |s| &s.calls,
            |c| c.method == method && !c.faulted,
        )
    }

    /// Blocks until `done` holds for the current messages of `channel`;
    /// returns them; panics after `timeout`.
    pub fn wait_messages(
        &self,
        channel: &str,
        timeout: Duration,
        mut done: impl FnMut(&[Message]) -> bool,
    ) -> Vec<Message> {
        self.shared
            .wait(timeout, |s| {
                let ms = s.messages.get(channel).cloned().unwrap_or_default();
                done(&ms).then_some(ms)
            })
            .unwrap_or_else(|| {
                panic!(
                    "timed out after {timeout:?} waiting on messages in {channel}; have: {:#?}",
                    self.messages(channel)
                )
            })
    }

    /// The channel's messages as they stand now (replies included), oldest first.
    pub fn messages(&self, channel: &str) -> Vec<Message> {
        self.shared
            .lock()
            .messages
            .get(channel)
            .cloned()
            .unwrap_or_default()
    }

    /// One message by ts.
    pub fn message(&self, channel: &str, ts: &str) -> Option<Message> {
        self.shared.lock().find_message(channel, ts).cloned()
    }

    /// The parent (if stored) followed by its replies, oldest first.
    pub fn thread(&self, channel: &str, ts: &str) -> Vec<Message> {
        let state = self.shared.lock();
        state
            .find_message(channel, ts)
            .into_iter()
            .chain(state.replies(channel, ts))
            .cloned()
            .collect()
    }

    pub fn ephemerals(&self) -> Vec<Ephemeral> {
        self.shared.lock().ephemerals.clone()
    }

    pub fn responses(&self) -> Vec<ResponsePost> {
        self.shared.lock().responses.clone()
    }

    pub fn views(&self) -> Vec<OpenedView> {
        self.shared.lock().views.clone()
    }

    // --- Socket Mode -----------------------------------------------------

    /// Websocket connections ever opened.
    pub fn socket_connections(&self) -> usize {
        self.shared.lock().sockets.len()
    }

    /// Websocket connections open now (not told to disconnect or dropped).
    pub fn live_socket_connections(&self) -> usize {
        self.shared.lock().sockets.iter().filter(|c| c.live).count()
    }

    /// Blocks until some connection is live; panics after `timeout`.
    pub fn wait_socket_connected(&self, timeout: Duration) {
        self.shared
            .wait(timeout, |s| s.sockets.iter().any(|c| c.live).then_some(()))
            .unwrap_or_else(|| panic!("no Socket Mode connection within {timeout:?}"));
    }

    /// Blocks until `total` connections were ever opened and one is live
    /// (e.g. 2 after a `disconnect`); panics after `timeout`.
    pub fn wait_socket_connections(&self, total: usize, timeout: Duration) {
        self.shared
            .wait(timeout, |s| {
                (s.sockets.len() >= total && s.sockets.iter().any(|c| c.live)).then_some(())
            })
            .unwrap_or_else(|| {
                panic!(
                    "wanted {total} Socket Mode connections within {timeout:?}, saw {}",
                    self.socket_connections()
                )
            });
    }

    /// Sends an envelope (`kind` is `"events_api"`, `"slash_commands"` or
    /// `"interactive"`) to the newest live connection; returns its envelope id.
    /// Panics when no connection is live.
    pub fn send_envelope(&self, kind: &str, payload: Value) -> String {
        let mut state = self.shared.lock();
        state.next_envelope += 1;
        let n = state.next_envelope;
        let envelope_id = format!("{n:08x}-fa4e-4c1a-8000-{n:012x}");
        // Slack wants a response payload for commands, view submissions and
        // block suggestions, and none for events and other interactions.
        let interactive_type = payload.get("type").and_then(Value::as_str).unwrap_or("");
        let accepts_response_payload = kind == "slash_commands"
            || (kind == "interactive"
                && matches!(interactive_type, "view_submission" | "block_suggestion"));
        let frame = json!({
            "envelope_id": envelope_id,
            "type": kind,
            "accepts_response_payload": accepts_response_payload,
            "retry_attempt": 0,
            "retry_reason": "",
            "payload": payload,
        });
        let conn = state
            .sockets
            .iter()
            .rev()
            .find(|c| c.live)
            .expect("send_envelope: no live Socket Mode connection");
        conn.tx
            .send(SocketCmd::Send(frame.to_string()))
            .expect("send_envelope: the connection just closed");
        envelope_id
    }

    /// Sends any JSON frame to the newest live connection.
    pub fn send_socket_frame(&self, frame: Value) {
        let state = self.shared.lock();
        let conn = state
            .sockets
            .iter()
            .rev()
            .find(|c| c.live)
            .expect("send_socket_frame: no live Socket Mode connection");
        conn.tx
            .send(SocketCmd::Send(frame.to_string()))
            .expect("send_socket_frame: the connection just closed");
    }

    /// Waits for the client's `{"envelope_id": …}` ack; returns the whole ack
    /// frame (with `payload` if the client sent one), or `None` on timeout.
    pub fn wait_ack(&self, envelope_id: &str, timeout: Duration) -> Option<Value> {
        self.shared
            .wait(timeout, |s| s.acks.get(envelope_id).cloned())
    }

    /// Every text frame clients sent (acks included), parsed as JSON
    /// (non-JSON frames as strings).
    pub fn socket_frames(&self) -> Vec<Value> {
        self.shared.lock().socket_frames.clone()
    }

    /// Sends `{"type":"disconnect","reason":…}` on the newest live connection
    /// and then closes it, as Slack does before rotating a connection; the
    /// client must open a new one through `apps.connections.open`.
    pub fn disconnect(&self, reason: &str) {
        self.close_newest(SocketCmd::Disconnect(reason.to_string()));
    }

    /// Drops the newest live connection without a disconnect message or a
    /// websocket close frame (network loss).
    pub fn drop_connection(&self) {
        self.close_newest(SocketCmd::Drop);
    }

    fn close_newest(&self, cmd: SocketCmd) {
        let mut state = self.shared.lock();
        let conn = state
            .sockets
            .iter_mut()
            .rev()
            .find(|c| c.live)
            .expect("no live Socket Mode connection to close");
        // Not live from now on, so envelopes go to the replacement connection.
        conn.live = false;
        let _ = conn.tx.send(cmd);
    }
}

// ---------------------------------------------------------------------------
// Web API
// ---------------------------------------------------------------------------

async fn handle_http(
    AxumState(shared): AxumState<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // Empty segments are skipped so `/api//chat.postMessage` (a base URL with a
    // trailing slash joined with "/method") works like `/api/chat.postMessage`.
    let segments: Vec<&str> = uri.path().split('/').filter(|s| !s.is_empty()).collect();
    match segments.as_slice() {
        ["api", api_method] if method == Method::POST || method == Method::GET => {
            let params = match parse_params(&uri, &headers, &body) {
                Ok(p) => p,
                Err(e) => {
                    let mut state = shared.lock();
                    state.calls.push(Call {
                        method: api_method.to_string(),
                        body: Value::Null,
                        token: bearer(&headers),
                        faulted: false,
                        error: Some(e.to_string()),
                    });
                    drop(state);
                    shared.state.notify();
                    return slack_error(e);
                }
            };
            let token = bearer(&headers).or_else(|| param_str(&params, "token"));
            handle_api(&shared, api_method, params, token)
        }
        ["response", id @ ..] if method == Method::POST && !id.is_empty() => {
            handle_response_url(&shared, &id.join("/"), &body)
        }
        _ => (StatusCode::NOT_FOUND, "fake slack: no such endpoint").into_response(),
    }
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(|t| t.trim().to_string())
}

/// Query string and body merged into one object, body winning.
fn parse_params(uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Result<Value, &'static str> {
    let mut params = Map::new();
    for (k, v) in parse_form(uri.query().unwrap_or("")) {
        params.insert(k, Value::String(v));
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if !body.is_empty() {
        if content_type.starts_with("application/json") {
            match serde_json::from_slice::<Value>(body) {
                Ok(Value::Object(map)) => params.extend(map),
                _ => return Err("invalid_json"),
            }
        } else {
            let text = std::str::from_utf8(body).map_err(|_| "invalid_form_data")?;
            for (k, v) in parse_form(text) {
                params.insert(k, Value::String(v));
            }
            // Slack takes these as JSON-encoded strings in form bodies.
            for key in ["blocks", "view", "metadata", "attachments"] {
                if let Some(Value::String(s)) = params.get(key)
                    && let Ok(parsed) = serde_json::from_str::<Value>(s)
                {
                    params.insert(key.to_string(), parsed);
                }
            }
        }
    }
    Ok(Value::Object(params))
}

fn json_response(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

fn slack_error(code: &str) -> Response {
    json_response(StatusCode::OK, json!({"ok": false, "error": code}))
}

fn fault_response(fault: &Fault) -> (Response, String) {
    match fault {
        Fault::RateLimited { retry_after_secs } => {
            let mut resp = json_response(
                StatusCode::TOO_MANY_REQUESTS,
                json!({"ok": false, "error": "ratelimited"}),
            );
            resp.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_str(&retry_after_secs.to_string()).unwrap(),
            );
            (resp, "ratelimited".into())
        }
        Fault::Error(code) => (slack_error(code), code.clone()),
        Fault::MissingScope { needed } => (
            json_response(
                StatusCode::OK,
                json!({"ok": false, "error": "missing_scope", "needed": needed, "provided": PROVIDED_SCOPES}),
            ),
            "missing_scope".into(),
        ),
        Fault::Status(code) => {
            let status = StatusCode::from_u16(*code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (
                (status, "fake slack: injected failure").into_response(),
                format!("http_{code}"),
            )
        }
    }
}

fn handle_api(shared: &Shared, method: &str, params: Value, token: Option<String>) -> Response {
    let mut state = shared.lock();
    let index = state.calls.len();
    state.calls.push(Call {
        method: method.to_string(),
        body: params.clone(),
        token: token.clone(),
        faulted: false,
        error: None,
    });
    let fault = state.faults.get_mut(method).and_then(VecDeque::pop_front);
    let result = if let Some(fault) = fault {
        state.calls[index].faulted = true;
        let (resp, code) = fault_response(&fault);
        state.calls[index].error = Some(code);
        Err(resp)
    } else {
        check_token(&shared.setup, method, token.as_deref())
            .and_then(|()| dispatch(shared, &mut state, method, &params))
            .map_err(|code| {
                state.calls[index].error = Some(code.to_string());
                slack_error(code)
            })
    };
    drop(state);
    shared.state.notify();
    match result {
        Ok(mut body) => {
            body["ok"] = json!(true);
            json_response(StatusCode::OK, body)
        }
        Err(resp) => resp,
    }
}

fn check_token(
    setup: &FakeSlackSetup,
    method: &str,
    token: Option<&str>,
) -> Result<(), &'static str> {
    let Some(token) = token else {
        return Err("not_authed");
    };
    let (wanted, other) = if APP_LEVEL_METHODS.contains(&method) {
        (&setup.app_token, &setup.bot_token)
    } else {
        (&setup.bot_token, &setup.app_token)
    };
    if token == wanted {
        Ok(())
    } else if token == other {
        Err("not_allowed_token_type")
    } else {
        Err("invalid_auth")
    }
}

type ApiResult = Result<Value, &'static str>;

fn dispatch(shared: &Shared, state: &mut State, method: &str, p: &Value) -> ApiResult {
    let setup = &shared.setup;
    match method {
        "auth.test" => Ok(json!({
            "url": format!("https://{}.slack.com/", setup.team_domain),
            "team": setup.team_name,
            "user": setup.bot_name,
            "team_id": setup.team_id,
            "user_id": setup.bot_user_id,
            "bot_id": setup.bot_id,
            "is_enterprise_install": false,
        })),
        "chat.postMessage" => post_message(setup, state, p),
        "chat.update" => update_message(setup, state, p),
        "chat.postEphemeral" => post_ephemeral(setup, state, p),
        "reactions.add" => react(setup, state, p, true),
        "reactions.remove" => react(setup, state, p, false),
        "views.open" => open_view(setup, state, p),
        "usergroups.users.list" => {
            let group = param_str(p, "usergroup").ok_or("invalid_arguments")?;
            let users = setup.usergroups.get(&group).ok_or("no_such_subteam")?;
            Ok(json!({"users": users}))
        }
        "users.info" => {
            let user = param_str(p, "user").ok_or("user_not_found")?;
            Ok(json!({"user": user_json(setup, &user).ok_or("user_not_found")?}))
        }
        "conversations.replies" => replies(setup, state, p),
        "conversations.history" => history(setup, state, p),
        "apps.connections.open" => {
            state.next_ticket += 1;
            let ticket = state.next_ticket;
            state.open_tickets.insert(ticket);
            Ok(json!({"url": format!("ws://{}/link/?ticket={ticket}", shared.ws_addr)}))
        }
        _ => Err("unknown_method"),
    }
}

fn require_channel(
    setup: &FakeSlackSetup,
    p: &Value,
    missing: &'static str,
) -> Result<String, &'static str> {
    let channel = param_str(p, "channel").ok_or("channel_not_found")?;
    if setup.channels.contains(&channel) {
        Ok(channel)
    } else {
        Err(missing)
    }
}

/// `blocks`, if present, must be an array of ≤ 50 objects that each have a
/// string `type`; anything else is `invalid_blocks`, as on Slack.
fn checked_blocks(p: &Value) -> Result<Option<Value>, &'static str> {
    match p.get("blocks") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(blocks)) => {
            let well_formed = blocks
                .iter()
                .all(|b| b.get("type").and_then(Value::as_str).is_some());
            if well_formed && blocks.len() <= MAX_BLOCKS {
                Ok(Some(Value::Array(blocks.clone())))
            } else {
                Err("invalid_blocks")
            }
        }
        Some(_) => Err("invalid_blocks"),
    }
}

/// `metadata` must be `{event_type: string, event_payload: object}`.
fn checked_metadata(p: &Value) -> Result<Option<Value>, &'static str> {
    match p.get("metadata") {
        None | Some(Value::Null) => Ok(None),
        Some(m) => {
            let ok = m.get("event_type").and_then(Value::as_str).is_some()
                && m.get("event_payload").is_none_or(Value::is_object);
            if ok {
                Ok(Some(m.clone()))
            } else {
                Err("invalid_metadata_format")
            }
        }
    }
}

fn post_message(setup: &FakeSlackSetup, state: &mut State, p: &Value) -> ApiResult {
    let channel = require_channel(setup, p, "not_in_channel")?;
    let blocks = checked_blocks(p)?;
    let metadata = checked_metadata(p)?;
    let text = param_str(p, "text");
    if text.as_deref().is_none_or(str::is_empty)
        && blocks.is_none()
        && p.get("attachments").is_none()
    {
        return Err("no_text");
    }
    let ts = state.next_ts();
    let message = Message {
        channel: channel.clone(),
        ts: ts.clone(),
        thread_ts: param_str(p, "thread_ts").filter(|t| !t.is_empty()),
        user: setup.bot_user_id.clone(),
        bot_id: Some(setup.bot_id.clone()),
        text,
        blocks,
        metadata,
        reply_broadcast: param_bool(p, "reply_broadcast"),
        reactions: vec![],
        edits: 0,
    };
    // Slack's documented response echoes the message without its metadata.
    let echoed = message_json(setup, state, &message, false);
    state
        .messages
        .entry(channel.clone())
        .or_default()
        .push(message);
    Ok(json!({"channel": channel, "ts": ts, "message": echoed}))
}

fn update_message(setup: &FakeSlackSetup, state: &mut State, p: &Value) -> ApiResult {
    let channel = require_channel(setup, p, "channel_not_found")?;
    let ts = param_str(p, "ts").ok_or("message_not_found")?;
    let blocks = checked_blocks(p)?;
    let metadata = checked_metadata(p)?;
    let text = param_str(p, "text");
    let edited_ts = state.next_ts();
    let msg = state
        .find_message_mut(&channel, &ts)
        .ok_or("message_not_found")?;
    if msg.user != setup.bot_user_id {
        return Err("cant_update_message");
    }
    // Fields left out of chat.update keep their old values.
    if text.is_some() {
        msg.text = text;
    }
    if blocks.is_some() {
        msg.blocks = blocks;
    }
    if metadata.is_some() {
        msg.metadata = metadata;
    }
    msg.edits += 1;
    let msg = msg.clone();
    let mut message = json!({
        "type": "message",
        "user": msg.user,
        "bot_id": msg.bot_id,
        "app_id": setup.app_id,
        "team": setup.team_id,
        "text": msg.text.clone().unwrap_or_default(),
        "edited": {"user": setup.bot_user_id, "ts": edited_ts},
    });
    if let Some(blocks) = &msg.blocks {
        message["blocks"] = blocks.clone();
    }
    let mut out = json!({
        "channel": channel,
        "ts": ts,
        "text": msg.text.clone().unwrap_or_default(),
        "message": message,
    });
    if let Some(thread_ts) = msg.thread_ts.as_ref().filter(|t| **t != msg.ts) {
        out["thread_ts"] = json!(thread_ts);
    }
    Ok(out)
}

fn post_ephemeral(setup: &FakeSlackSetup, state: &mut State, p: &Value) -> ApiResult {
    let channel = require_channel(setup, p, "not_in_channel")?;
    let user = param_str(p, "user").ok_or("user_not_in_channel")?;
    if !setup.users.contains_key(&user) {
        return Err("user_not_in_channel");
    }
    let blocks = checked_blocks(p)?;
    let text = param_str(p, "text");
    if text.as_deref().is_none_or(str::is_empty) && blocks.is_none() {
        return Err("no_text");
    }
    let message_ts = state.next_ts();
    state.ephemerals.push(Ephemeral {
        channel,
        user,
        thread_ts: param_str(p, "thread_ts"),
        text,
        blocks,
        message_ts: message_ts.clone(),
    });
    Ok(json!({"message_ts": message_ts}))
}

fn react(setup: &FakeSlackSetup, state: &mut State, p: &Value, add: bool) -> ApiResult {
    let channel = require_channel(setup, p, "channel_not_found")?;
    let ts = param_str(p, "timestamp").ok_or("no_item_specified")?;
    let name = param_str(p, "name").ok_or("invalid_name")?;
    // Slack wants the bare emoji name, not `:name:`.
    if name.is_empty() || name.starts_with(':') || name.ends_with(':') {
        return Err("invalid_name");
    }
    let msg = state
        .find_message_mut(&channel, &ts)
        .ok_or("message_not_found")?;
    let existing = msg
        .reactions
        .iter()
        .position(|r| r.name == name && r.user == setup.bot_user_id);
    match (add, existing) {
        (true, Some(_)) => Err("already_reacted"),
        (true, None) => {
            msg.reactions.push(Reaction {
                name,
                user: setup.bot_user_id.clone(),
            });
            Ok(json!({}))
        }
        (false, Some(i)) => {
            msg.reactions.remove(i);
            Ok(json!({}))
        }
        (false, None) => Err("no_reaction"),
    }
}

fn open_view(setup: &FakeSlackSetup, state: &mut State, p: &Value) -> ApiResult {
    let trigger_id = param_str(p, "trigger_id").ok_or("invalid_arguments")?;
    let view = p
        .get("view")
        .filter(|v| v.is_object())
        .ok_or("invalid_arguments")?;
    if view.get("type").and_then(Value::as_str).is_none() {
        return Err("invalid_arguments");
    }
    state.next_view += 1;
    let id = format!("V{:09}", state.next_view);
    state.views.push(OpenedView {
        id: id.clone(),
        trigger_id,
        view: view.clone(),
    });
    let mut stateful = view.clone();
    let fields = json!({
        "id": id,
        "team_id": setup.team_id,
        "state": {"values": {}},
        "hash": format!("{}.fakehash", state.next_view),
        "previous_view_id": null,
        "root_view_id": id,
        "app_id": setup.app_id,
        "bot_id": setup.bot_id,
        "private_metadata": view.get("private_metadata").cloned().unwrap_or(json!("")),
        "callback_id": view.get("callback_id").cloned().unwrap_or(json!("")),
        "external_id": "",
    });
    stateful
        .as_object_mut()
        .unwrap()
        .extend(fields.as_object().unwrap().clone());
    Ok(json!({"view": stateful}))
}

fn user_json(setup: &FakeSlackSetup, user: &str) -> Option<Value> {
    let (name, is_bot) = if user == setup.bot_user_id {
        (setup.bot_name.clone(), true)
    } else {
        (setup.users.get(user)?.clone(), false)
    };
    Some(json!({
        "id": user,
        "team_id": setup.team_id,
        "name": name,
        "real_name": name,
        "deleted": false,
        "is_bot": is_bot,
        "is_app_user": false,
        "tz": "Europe/London",
        "profile": {
            "display_name": name,
            "display_name_normalized": name,
            "real_name": name,
            "real_name_normalized": name,
            "team": setup.team_id,
        },
    }))
}

/// A stored message as Slack renders it in API responses.
fn message_json(setup: &FakeSlackSetup, state: &State, m: &Message, with_metadata: bool) -> Value {
    let mut v = json!({
        "type": "message",
        "ts": m.ts,
        "user": m.user,
        "text": m.text.clone().unwrap_or_default(),
        "team": setup.team_id,
    });
    if let Some(bot_id) = &m.bot_id {
        v["bot_id"] = json!(bot_id);
        v["app_id"] = json!(setup.app_id);
    }
    if let Some(blocks) = &m.blocks {
        v["blocks"] = blocks.clone();
    }
    if let (true, Some(meta)) = (with_metadata, &m.metadata) {
        v["metadata"] = meta.clone();
    }
    if m.edits > 0 {
        v["edited"] = json!({"user": m.user, "ts": m.ts});
    }
    if !m.reactions.is_empty() {
        let mut by_name: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for r in &m.reactions {
            by_name.entry(&r.name).or_default().push(&r.user);
        }
        v["reactions"] = by_name
            .into_iter()
            .map(|(name, users)| json!({"name": name, "count": users.len(), "users": users}))
            .collect();
    }
    match m.thread_ts.as_ref().filter(|t| **t != m.ts) {
        Some(parent) => {
            v["thread_ts"] = json!(parent);
            if let Some(p) = state.find_message(&m.channel, parent) {
                v["parent_user_id"] = json!(p.user);
            }
            if m.reply_broadcast {
                v["subtype"] = json!("thread_broadcast");
            }
        }
        None => {
            let replies = state.replies(&m.channel, &m.ts);
            if !replies.is_empty() {
                let mut users: Vec<&str> = Vec::new();
                for r in &replies {
                    if !users.contains(&r.user.as_str()) {
                        users.push(&r.user);
                    }
                }
                v["thread_ts"] = json!(m.ts);
                v["reply_count"] = json!(replies.len());
                v["reply_users_count"] = json!(users.len());
                v["reply_users"] = json!(users);
                v["latest_reply"] = json!(replies.last().unwrap().ts);
            }
        }
    }
    v
}

/// `limit`/`cursor` paging over `items`; the cursor is an opaque offset.
fn page<T: Clone>(
    items: &[T],
    p: &Value,
    default_limit: usize,
) -> Result<(Vec<T>, String), &'static str> {
    let limit = match param_str(p, "limit") {
        Some(l) => l
            .parse::<usize>()
            .map_err(|_| "invalid_limit")?
            .clamp(1, 1000),
        None => default_limit,
    };
    let offset = match param_str(p, "cursor").filter(|c| !c.is_empty()) {
        Some(c) => c
            .strip_prefix("fakecursor:")
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or("invalid_cursor")?,
        None => 0,
    };
    let end = (offset + limit).min(items.len());
    let next = if end < items.len() {
        format!("fakecursor:{end}")
    } else {
        String::new()
    };
    Ok((items.get(offset..end).unwrap_or_default().to_vec(), next))
}

fn replies(setup: &FakeSlackSetup, state: &State, p: &Value) -> ApiResult {
    let channel = require_channel(setup, p, "channel_not_found")?;
    let ts = param_str(p, "ts").ok_or("thread_not_found")?;
    let msg = state
        .find_message(&channel, &ts)
        .ok_or("thread_not_found")?;
    // Asked about a reply, Slack answers with the whole thread.
    let root = msg
        .thread_ts
        .clone()
        .filter(|t| state.find_message(&channel, t).is_some())
        .unwrap_or_else(|| msg.ts.clone());
    let root_msg = state.find_message(&channel, &root).unwrap();
    let thread: Vec<&Message> = std::iter::once(root_msg)
        .chain(state.replies(&channel, &root))
        .collect();
    let (items, next) = page(&thread, p, 1000)?;
    let with_metadata = param_bool(p, "include_all_metadata");
    let messages: Vec<Value> = items
        .iter()
        .map(|m| message_json(setup, state, m, with_metadata))
        .collect();
    Ok(json!({
        "messages": messages,
        "has_more": !next.is_empty(),
        "response_metadata": {"next_cursor": next},
    }))
}

fn history(setup: &FakeSlackSetup, state: &State, p: &Value) -> ApiResult {
    let channel = require_channel(setup, p, "channel_not_found")?;
    // Replies are not in history unless broadcast; newest first.
    let top: Vec<&Message> = state
        .messages
        .get(&channel)
        .map(|ms| {
            ms.iter()
                .rev()
                .filter(|m| m.is_top_level() || m.reply_broadcast)
                .collect()
        })
        .unwrap_or_default();
    let (items, next) = page(&top, p, 100)?;
    let with_metadata = param_bool(p, "include_all_metadata");
    let messages: Vec<Value> = items
        .iter()
        .map(|m| message_json(setup, state, m, with_metadata))
        .collect();
    Ok(json!({
        "messages": messages,
        "has_more": !next.is_empty(),
        "pin_count": 0,
        "response_metadata": {"next_cursor": next},
    }))
}

fn handle_response_url(shared: &Shared, id: &str, body: &[u8]) -> Response {
    let parsed = serde_json::from_slice::<Value>(body);
    let mut state = shared.lock();
    let index = state.calls.len();
    state.calls.push(Call {
        method: "response_url".into(),
        body: parsed.as_ref().cloned().unwrap_or(Value::Null),
        token: None,
        faulted: false,
        error: None,
    });
    let resp = if let Some(fault) = state
        .faults
        .get_mut("response_url")
        .and_then(VecDeque::pop_front)
    {
        state.calls[index].faulted = true;
        let (resp, code) = fault_response(&fault);
        state.calls[index].error = Some(code);
        resp
    } else {
        match parsed {
            Ok(body) if body.is_object() => {
                state.responses.push(ResponsePost {
                    id: id.to_string(),
                    body,
                });
                (StatusCode::OK, "ok").into_response()
            }
            _ => {
                state.calls[index].error = Some("invalid_payload".into());
                (StatusCode::BAD_REQUEST, "invalid_payload").into_response()
            }
        }
    };
    drop(state);
    shared.state.notify();
    resp
}

fn param_str(p: &Value, key: &str) -> Option<String> {
    match p.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn param_bool(p: &Value, key: &str) -> bool {
    matches!(param_str(p, key).as_deref(), Some("true" | "1"))
}

// ---------------------------------------------------------------------------
// Socket Mode
// ---------------------------------------------------------------------------

async fn accept_sockets(listener: tokio::net::TcpListener, shared: Arc<Shared>) {
    while let Ok((stream, _)) = listener.accept().await {
        tokio::spawn(serve_socket(stream, shared.clone()));
    }
}

fn ticket_of(req: &WsRequest) -> Option<u64> {
    parse_form(req.uri().query().unwrap_or(""))
        .into_iter()
        .find(|(k, _)| k == "ticket")
        .and_then(|(_, v)| v.parse().ok())
}

async fn serve_socket(stream: tokio::net::TcpStream, shared: Arc<Shared>) {
    let mut ticket = None;
    // The error type is fixed by tungstenite's handshake callback.
    #[allow(clippy::result_large_err)]
    let check_ticket = |req: &WsRequest, resp: WsResponse| -> Result<WsResponse, ErrorResponse> {
        let t = ticket_of(req);
        let mut state = shared.lock();
        match t {
            Some(t) if state.open_tickets.remove(&t) => {
                ticket = Some(t);
                Ok(resp)
            }
            _ => {
                let mut err = ErrorResponse::new(Some("invalid or used ticket".into()));
                *err.status_mut() = StatusCode::UNAUTHORIZED;
                Err(err)
            }
        }
    };
    let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(stream, check_ticket).await else {
        return;
    };
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (index, live) = {
        let mut state = shared.lock();
        state.sockets.push(SocketConn {
            ticket: ticket.unwrap_or_default(),
            tx,
            live: true,
        });
        let live = state.sockets.iter().filter(|c| c.live).count();
        (state.sockets.len() - 1, live)
    };
    shared.state.notify();
    let hello = json!({
        "type": "hello",
        "num_connections": live,
        "debug_info": {"host": "fake-applink-1", "build_number": 1, "approximate_connection_time": 18060},
        "connection_info": {"app_id": shared.setup.app_id},
    });
    if ws.send(WsMessage::text(hello.to_string())).await.is_ok() {
        socket_loop(&mut ws, &mut rx, &shared).await;
    }
    shared.lock().sockets[index].live = false;
    shared.state.notify();
}

enum SocketEvent {
    Incoming(Option<Result<WsMessage, tokio_tungstenite::tungstenite::Error>>),
    Command(Option<SocketCmd>),
}

async fn socket_loop(
    ws: &mut tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>,
    rx: &mut mpsc::UnboundedReceiver<SocketCmd>,
    shared: &Shared,
) {
    loop {
        let event = tokio::select! {
            m = ws.next() => SocketEvent::Incoming(m),
            c = rx.recv() => SocketEvent::Command(c),
        };
        match event {
            SocketEvent::Incoming(Some(Ok(WsMessage::Text(text)))) => {
                let frame = serde_json::from_str::<Value>(text.as_str())
                    .unwrap_or_else(|_| Value::String(text.to_string()));
                let mut state = shared.lock();
                if let Some(id) = frame.get("envelope_id").and_then(Value::as_str) {
                    state.acks.insert(id.to_string(), frame.clone());
                }
                state.socket_frames.push(frame);
                drop(state);
                shared.state.notify();
            }
            SocketEvent::Incoming(Some(Ok(WsMessage::Ping(_)))) => {
                // tungstenite queued the pong; flush it now rather than at the
                // next read, so the client's ping watchdog sees it promptly.
                let _ = ws.flush().await;
            }
            SocketEvent::Incoming(Some(Ok(WsMessage::Close(_)))) | SocketEvent::Incoming(None) => {
                return;
            }
            SocketEvent::Incoming(Some(Err(_))) => return,
            SocketEvent::Incoming(Some(Ok(_))) => {}
            SocketEvent::Command(Some(SocketCmd::Send(text))) => {
                if ws.send(WsMessage::text(text)).await.is_err() {
                    return;
                }
            }
            SocketEvent::Command(Some(SocketCmd::Disconnect(reason))) => {
                let frame = json!({
                    "type": "disconnect",
                    "reason": reason,
                    "debug_info": {"host": "fake-applink-1"},
                    "connection_info": {"app_id": shared.setup.app_id},
                });
                let _ = ws.send(WsMessage::text(frame.to_string())).await;
                let _ = ws
                    .close(Some(CloseFrame {
                        code: CloseCode::Normal,
                        reason: "".into(),
                    }))
                    .await;
                // Drain until the client answers the close (or gives up).
                let _ = tokio::time::timeout(Duration::from_secs(2), async {
                    while let Some(Ok(_)) = ws.next().await {}
                })
                .await;
                return;
            }
            // Dropping the stream closes the TCP connection with no close frame.
            SocketEvent::Command(Some(SocketCmd::Drop)) | SocketEvent::Command(None) => return,
        }
    }
}

// ---------------------------------------------------------------------------
// Inbound side: signing and payload builders
// ---------------------------------------------------------------------------

/// Slack's v0 request signature: `v0=` + hex HMAC-SHA256 of `v0:{ts}:{body}`.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("v0:{timestamp}:").as_bytes());
    mac.update(body);
    format!("v0={}", hex::encode(mac.finalize().into_bytes().as_slice()))
}

pub fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A Slack-style ts for "now" (for `event_ts`/`action_ts` fields).
pub fn now_ts() -> String {
    let micros = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_micros();
    format!("{}.{:06}", micros / 1_000_000, micros % 1_000_000)
}

/// POSTs `body` to `url` as Slack would: `X-Slack-Request-Timestamp` (now, or
/// `timestamp_override`) and `X-Slack-Signature` over that timestamp, plus
/// `extra_headers` (e.g. `X-Slack-Retry-Num`). Returns (status, body text).
///
/// Synchronous: runs the request on its own thread and runtime, so it works
/// from a plain `#[test]` and from inside a tokio runtime alike.
pub fn post_signed(
    url: &str,
    secret: &str,
    body: &str,
    content_type: &str,
    timestamp_override: Option<i64>,
    extra_headers: &[(&str, &str)],
) -> (u16, String) {
    let timestamp = timestamp_override.unwrap_or_else(now_secs);
    let signature = sign(secret, timestamp, body.as_bytes());
    let mut headers = vec![
        ("content-type", content_type.to_owned()),
        ("x-slack-request-timestamp", timestamp.to_string()),
        ("x-slack-signature", signature),
    ];
    headers.extend(extra_headers.iter().map(|(k, v)| (*k, (*v).to_owned())));
    blocking(
        reqwest::Method::POST,
        url,
        &headers,
        Some(body.as_bytes().to_vec()),
    )
}

/// `application/x-www-form-urlencoded` encoding of one value.
pub fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Decodes `a=b&c=d` (`+` is a space, `%XX` a byte).
pub fn parse_form(s: &str) -> Vec<(String, String)> {
    fn decode(s: &str) -> String {
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => {
                    let hex = |b: u8| (b as char).to_digit(16);
                    match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                        (Some(hi), Some(lo)) => {
                            out.push((hi * 16 + lo) as u8);
                            i += 2;
                        }
                        _ => out.push(b'%'),
                    }
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    s.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// `k=v&…` with both sides encoded.
pub fn form_body(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The Events API outer envelope (`type: event_callback`) around `event`.
pub fn event_callback(event_id: &str, event: Value) -> Value {
    json!({
        "token": VERIFICATION_TOKEN,
        "team_id": TEAM_ID,
        "context_team_id": TEAM_ID,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": now_secs(),
        "authorizations": [{
            "enterprise_id": null,
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "is_bot": true,
            "is_enterprise_install": false,
        }],
        "is_ext_shared_channel": false,
        "event_context": format!("4-fake-{event_id}"),
    })
}

/// `url_verification`, sent when the Events URL is configured.
pub fn url_verification(challenge: &str) -> Value {
    json!({"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"})
}

fn user_message(channel: &str, thread_ts: Option<&str>, ts: &str, user: &str, text: &str) -> Value {
    let mut v = json!({
        "type": "message",
        "channel": channel,
        "user": user,
        "text": text,
        "ts": ts,
        "event_ts": ts,
        "channel_type": "channel",
        "team": TEAM_ID,
        "client_msg_id": format!("fake-{ts}"),
    });
    if let Some(t) = thread_ts {
        v["thread_ts"] = json!(t);
    }
    v
}

/// A person's reply in a thread (`message` event with `thread_ts`).
pub fn thread_message(channel: &str, thread_ts: &str, ts: &str, user: &str, text: &str) -> Value {
    user_message(channel, Some(thread_ts), ts, user, text)
}

/// A person's top-level message in a channel.
pub fn channel_message(channel: &str, ts: &str, user: &str, text: &str) -> Value {
    user_message(channel, None, ts, user, text)
}

/// A message from an app bot, as modern apps post them: no subtype, with
/// `bot_id`/`app_id`. With [`BOT_ID`] it is the echo of our own post, which
/// carries our bot user id too.
pub fn bot_message(
    channel: &str,
    thread_ts: Option<&str>,
    ts: &str,
    bot_id: &str,
    text: &str,
) -> Value {
    let user = if bot_id == BOT_ID {
        BOT_USER_ID
    } else {
        "U0OTHERBOT"
    };
    let mut v = user_message(channel, thread_ts, ts, user, text);
    let map = v.as_object_mut().unwrap();
    map.remove("client_msg_id");
    map.insert("bot_id".into(), json!(bot_id));
    map.insert(
        "app_id".into(),
        json!(if bot_id == BOT_ID { APP_ID } else { "A0OTHER" }),
    );
    v
}

/// A legacy integration's message: `subtype: bot_message`, no `user`.
pub fn legacy_bot_message(channel: &str, ts: &str, bot_id: &str, text: &str) -> Value {
    json!({
        "type": "message",
        "subtype": "bot_message",
        "channel": channel,
        "bot_id": bot_id,
        "username": "legacy bot",
        "text": text,
        "ts": ts,
        "event_ts": ts,
        "channel_type": "channel",
    })
}

/// `reaction_added` (or `reaction_removed`) on a message.
pub fn reaction(added: bool, user: &str, reaction: &str, channel: &str, ts: &str) -> Value {
    json!({
        "type": if added { "reaction_added" } else { "reaction_removed" },
        "user": user,
        "reaction": reaction,
        "item": {"type": "message", "channel": channel, "ts": ts},
        "event_ts": now_ts(),
    })
}

fn user_name(user: &str) -> String {
    FakeSlackSetup::default()
        .users
        .get(user)
        .cloned()
        .unwrap_or_else(|| user.to_lowercase())
}

/// The `/care` slash command as a JSON object (the Socket Mode
/// `slash_commands` payload; [`slash_command_form`] is the HTTP form).
pub fn slash_command(
    user: &str,
    channel: &str,
    text: &str,
    response_url: &str,
    trigger_id: &str,
) -> Value {
    json!({
        "token": VERIFICATION_TOKEN,
        "team_id": TEAM_ID,
        "team_domain": TEAM_DOMAIN,
        "channel_id": channel,
        "channel_name": channel.to_lowercase(),
        "user_id": user,
        "user_name": user_name(user),
        "command": "/care",
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    })
}

/// The `/care` slash command as Slack POSTs it over HTTP.
pub fn slash_command_form(
    user: &str,
    channel: &str,
    text: &str,
    response_url: &str,
    trigger_id: &str,
) -> String {
    let v = slash_command(user, channel, text, response_url, trigger_id);
    let fields: Vec<(&str, &str)> = v
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str().unwrap()))
        .collect();
    form_body(&fields)
}

/// A `block_actions` interaction: `user` clicked the button `action_id`
/// (carrying `value`) on the bot's message `message_ts` (in thread `thread_ts`).
#[allow(clippy::too_many_arguments)]
pub fn block_actions(
    user: &str,
    channel: &str,
    message_ts: &str,
    thread_ts: Option<&str>,
    action_id: &str,
    value: &str,
    trigger_id: &str,
    response_url: &str,
) -> Value {
    let mut message = json!({
        "type": "message",
        "user": BOT_USER_ID,
        "bot_id": BOT_ID,
        "app_id": APP_ID,
        "team": TEAM_ID,
        "ts": message_ts,
        "text": "",
    });
    let mut container = json!({
        "type": "message",
        "message_ts": message_ts,
        "channel_id": channel,
        "is_ephemeral": false,
    });
    if let Some(t) = thread_ts {
        message["thread_ts"] = json!(t);
        container["thread_ts"] = json!(t);
    }
    block_actions_payload(
        user,
        channel,
        container,
        message,
        json!({
            "action_id": action_id,
            "block_id": "fake_block",
            "text": {"type": "plain_text", "text": action_id, "emoji": true},
            "value": value,
            "type": "button",
            "action_ts": now_ts(),
        }),
        trigger_id,
        response_url,
    )
}

fn block_actions_payload(
    user: &str,
    channel: &str,
    container: Value,
    message: Value,
    action: Value,
    trigger_id: &str,
    response_url: &str,
) -> Value {
    let name = user_name(user);
    json!({
        "type": "block_actions",
        "user": {"id": user, "username": name, "name": name, "team_id": TEAM_ID},
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": container,
        "trigger_id": trigger_id,
        "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
        "enterprise": null,
        "is_enterprise_install": false,
        "channel": {"id": channel, "name": channel.to_lowercase()},
        "message": message,
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [action],
    })
}

impl FakeSlack {
    /// A `block_actions` payload for `user` clicking the element `action_id`
    /// on the stored message `message_ts`, with the element's real `value` and
    /// `block_id` and the message as it stands. Panics when the message or
    /// the element does not exist — the bot did not offer that button.
    pub fn click(&self, user: &str, channel: &str, message_ts: &str, action_id: &str) -> Value {
        let msg = self
            .message(channel, message_ts)
            .unwrap_or_else(|| panic!("click: no message {message_ts} in {channel}"));
        let (block_id, element) = msg
            .find_action(action_id)
            .unwrap_or_else(|| panic!("click: no element {action_id:?} on message {msg:#?}"));
        let state = self.shared.lock();
        let message = message_json(&self.shared.setup, &state, &msg, false);
        drop(state);
        let mut container = json!({
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel,
            "is_ephemeral": false,
        });
        if let Some(t) = msg.thread_ts.as_ref().filter(|t| **t != msg.ts) {
            container["thread_ts"] = json!(t);
        }
        let mut action = json!({
            "action_id": action_id,
            "block_id": block_id.unwrap_or_else(|| "fake_block".into()),
            "type": element.get("type").cloned().unwrap_or(json!("button")),
            "action_ts": now_ts(),
        });
        for key in ["value", "text"] {
            if let Some(v) = element.get(key) {
                action[key] = v.clone();
            }
        }
        let trigger_id = format!("{}.fake.trigger", now_secs());
        block_actions_payload(
            user,
            channel,
            container,
            message,
            action,
            &trigger_id,
            &self.response_url(&format!("click-{message_ts}-{action_id}")),
        )
    }

    /// A `view_submission` payload for the modal the bot opened as `view_id`,
    /// with its `callback_id`, `private_metadata` and blocks, and `values` as
    /// the user's input (see [`view_submission`]).
    pub fn submit_view(&self, view_id: &str, user: &str, values: Value) -> Value {
        let opened = self
            .views()
            .into_iter()
            .find(|v| v.id == view_id)
            .unwrap_or_else(|| panic!("submit_view: no opened view {view_id}"));
        let mut payload = view_submission(
            user,
            opened
                .view
                .get("callback_id")
                .and_then(Value::as_str)
                .unwrap_or(""),
            opened
                .view
                .get("private_metadata")
                .and_then(Value::as_str)
                .unwrap_or(""),
            values,
        );
        payload["view"]["id"] = json!(view_id);
        payload["view"]["root_view_id"] = json!(view_id);
        for key in ["title", "blocks", "submit", "close"] {
            if let Some(v) = opened.view.get(key) {
                payload["view"][key] = v.clone();
            }
        }
        payload
    }
}

/// A `view_submission` of a modal with `callback_id`/`private_metadata`;
/// `values` is `view.state.values`: `{block_id: {action_id: <value>}}` with
/// values from [`text_input_value`] / [`static_select_value`].
pub fn view_submission(
    user: &str,
    callback_id: &str,
    private_metadata: &str,
    values: Value,
) -> Value {
    let name = user_name(user);
    json!({
        "type": "view_submission",
        "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
        "user": {"id": user, "username": name, "name": name, "team_id": TEAM_ID},
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": format!("{}.fake.trigger", now_secs()),
        "view": {
            "id": "V0SUBMITTED",
            "team_id": TEAM_ID,
            "type": "modal",
            "title": {"type": "plain_text", "text": "Fake modal", "emoji": true},
            "blocks": [],
            "private_metadata": private_metadata,
            "callback_id": callback_id,
            "state": {"values": values},
            "hash": "1.fakehash",
            "clear_on_close": false,
            "notify_on_close": false,
            "root_view_id": "V0SUBMITTED",
            "previous_view_id": null,
            "app_id": APP_ID,
            "external_id": "",
            "bot_id": BOT_ID,
        },
        "response_urls": [],
        "is_enterprise_install": false,
    })
}

/// A `plain_text_input` state value.
pub fn text_input_value(value: &str) -> Value {
    json!({"type": "plain_text_input", "value": value})
}

/// A `static_select` state value (Slack sends the option's text too).
pub fn static_select_value(value: &str) -> Value {
    json!({
        "type": "static_select",
        "selected_option": {
            "text": {"type": "plain_text", "text": value, "emoji": true},
            "value": value,
        },
    })
}

/// An interaction as Slack POSTs it over HTTP: `payload=<urlencoded json>`.
pub fn interactivity_form(payload: &Value) -> String {
    format!("payload={}", form_encode(&payload.to_string()))
}

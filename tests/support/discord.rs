//! A fake Discord for integration tests: a stateful guild behind a local HTTP
//! server that speaks Discord's REST API v10 (`/api/v10/...`, `Bot` tokens,
//! `{"message":…,"code":N}` errors, 50035 form errors with nested `errors`,
//! rate-limit headers, 429s with `Retry-After`), and a gateway websocket
//! (HELLO, IDENTIFY → READY, heartbeats, RESUME with replay, close codes).
//!
//! serenity's REST client is pointed at it with
//! `HttpBuilder::new(TOKEN).proxy(fake.proxy_url()).ratelimiter_disabled(true)`
//! (with its ratelimiter on, serenity ignores the proxy); `GET /gateway` then
//! hands out the fake gateway's `ws://` URL. The bot under test may run as a
//! child process, so the fake runs on its own thread and runtime (see
//! `background.rs`) and every accessor here is synchronous, for plain
//! `#[test] fn`s. Every REST call is recorded; [`FakeDiscord::take_calls`]
//! drains the calls a test has not asserted yet.
//!
//! The last part of the file builds the inbound side: gateway payloads
//! (MESSAGE_CREATE, reactions, INTERACTION_CREATE) whose shapes are checked
//! against serenity's models in `tests/fake_discord.rs`.
//!
//! Include with `#[path = "support/discord.rs"] mod discord;` next to
//! `#[path = "support/background.rs"] mod background;`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use crate::background::{Background, CallLog, Logged, Watched};

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

pub const TOKEN: &str = "discord-test-token";
pub const APP_ID: &str = "1100000000000000001";
pub const GUILD_ID: &str = "1200000000000000001";
pub const BOT_USER_ID: &str = "1300000000000000001";
/// GUILD_TEXT, named "inbox".
pub const TEXT_CHANNEL: &str = "1400000000000000001";
/// GUILD_FORUM, named "support".
pub const FORUM_CHANNEL: &str = "1400000000000000002";
/// GUILD_TEXT, named "escalations".
pub const ESCALATION_CHANNEL: &str = "1400000000000000003";
pub const AGENT_ROLE: &str = "1500000000000000001";
pub const APPROVER_ROLE: &str = "1500000000000000002";
/// roles: [AGENT_ROLE]
pub const MARIA: &str = "1600000000000000001";
/// roles: [AGENT_ROLE, APPROVER_ROLE]
pub const LEE: &str = "1600000000000000002";
/// roles: [] (a plain member)
pub const SAM: &str = "1600000000000000003";
/// The bot user's username.
pub const BOT_USERNAME: &str = "carebridge";
/// `data.id` of a `/care` interaction when no `care` command is registered.
pub const CARE_COMMAND_ID: &str = "1800000000000000001";

/// Ids the fake hands out count up from here, so they sort after every
/// constant above and increase like real snowflakes.
const FIRST_SNOWFLAKE: u64 = 1_700_000_000_000_000_001;
/// Long enough that no test has to heartbeat; heartbeats are answered anyway.
const HEARTBEAT_INTERVAL_MS: u64 = 41_250;
/// An acknowledged interaction's token works this long for follow-ups.
const FOLLOWUP_WINDOW: Duration = Duration::from_secs(15 * 60);
/// `enforce_nonce` deduplicates against messages this recent.
const NONCE_WINDOW: Duration = Duration::from_secs(10 * 60);
const MESSAGE_CONTENT_INTENT: u64 = 1 << 15;
/// Forum flag: posts must carry at least one tag.
pub const REQUIRE_TAG: u64 = 1 << 4;
const ARCHIVE_DURATIONS: [u64; 4] = [60, 1440, 4320, 10080];
/// Message flag of a deferred response's placeholder.
const LOADING: u64 = 1 << 7;
/// The application's owner (not a guild member).
const OWNER_ID: &str = "1000000000000000001";
/// Fixed so payloads are reproducible.
const JOINED_AT: &str = "2024-01-15T09:30:00.000000+00:00";
/// What interactions report as `attachment_size_limit` (serenity requires it).
const ATTACHMENT_SIZE_LIMIT: u64 = 10 * 1024 * 1024;

const GUILD_TEXT: u8 = 0;
const GUILD_FORUM: u8 = 15;
const PUBLIC_THREAD: u8 = 11;

// Permission bits granted to @everyone (and so to every member): view, send,
// react, read history, embed, attach, external emoji, slash commands,
// public threads and sending in them.
const EVERYONE_PERMISSIONS: u64 = (1 << 6)
    | (1 << 10)
    | (1 << 11)
    | (1 << 14)
    | (1 << 15)
    | (1 << 16)
    | (1 << 18)
    | (1 << 31)
    | (1 << 35)
    | (1 << 38);
/// The bot also manages channels (forum tags), messages and threads.
const BOT_PERMISSIONS: u64 = EVERYONE_PERMISSIONS | (1 << 4) | (1 << 13) | (1 << 34);

// ---------------------------------------------------------------------------
// Setup
// ---------------------------------------------------------------------------

/// A guild channel the fake starts with.
#[derive(Clone, Debug, PartialEq)]
pub struct ChannelSetup {
    pub id: String,
    /// 0 GUILD_TEXT, 15 GUILD_FORUM.
    pub kind: u8,
    pub name: String,
    /// Forum tags (`{name, moderated?, emoji_id?, emoji_name?, id?}`); ids are
    /// assigned to tags without one.
    pub available_tags: Vec<Value>,
    /// Channel flags, e.g. [`REQUIRE_TAG`] on a forum.
    pub flags: u64,
}

impl ChannelSetup {
    pub fn text(id: &str, name: &str) -> Self {
        Self {
            id: id.into(),
            kind: GUILD_TEXT,
            name: name.into(),
            available_tags: vec![],
            flags: 0,
        }
    }

    pub fn forum(id: &str, name: &str) -> Self {
        Self {
            kind: GUILD_FORUM,
            ..Self::text(id, name)
        }
    }
}

/// The guild and application the fake pretends to be.
#[derive(Clone, Debug)]
pub struct FakeDiscordSetup {
    pub token: String,
    pub application_id: String,
    pub guild_id: String,
    pub bot_user_id: String,
    pub channels: Vec<ChannelSetup>,
    /// User id → (username, role ids).
    pub members: BTreeMap<String, (String, Vec<String>)>,
    /// Privileged intents enabled in the developer portal: IDENTIFY asking for
    /// MESSAGE_CONTENT (1<<15) when this is false is closed with 4014 "Disallowed intent(s)".
    pub message_content_allowed: bool,
    /// Guild commands already registered before the bot starts (to test updates).
    pub commands: Vec<Value>,
    /// How long after dispatch an interaction accepts its initial callback
    /// (Discord: 3 s). Shorten it to test the deadline quickly.
    pub interaction_deadline: Duration,
}

impl Default for FakeDiscordSetup {
    fn default() -> Self {
        let member = |name: &str, roles: &[&str]| {
            (
                name.to_string(),
                roles.iter().map(|r| r.to_string()).collect::<Vec<_>>(),
            )
        };
        let members = [
            (MARIA.to_string(), member("maria", &[AGENT_ROLE])),
            (LEE.to_string(), member("lee", &[AGENT_ROLE, APPROVER_ROLE])),
            (SAM.to_string(), member("sam", &[])),
        ]
        .into_iter()
        .collect();
        Self {
            token: TOKEN.into(),
            application_id: APP_ID.into(),
            guild_id: GUILD_ID.into(),
            bot_user_id: BOT_USER_ID.into(),
            channels: vec![
                ChannelSetup::text(TEXT_CHANNEL, "inbox"),
                ChannelSetup::forum(FORUM_CHANNEL, "support"),
                ChannelSetup::text(ESCALATION_CHANNEL, "escalations"),
            ],
            members,
            message_content_allowed: true,
            commands: vec![],
            interaction_deadline: Duration::from_secs(3),
        }
    }
}

// ---------------------------------------------------------------------------
// What tests observe
// ---------------------------------------------------------------------------

/// One REST request the fake received.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    /// Upper case: "GET", "POST", "PATCH", "PUT", "DELETE".
    pub method: String,
    /// The matched template, e.g. `/channels/{channel}/messages`; for a path
    /// no route matches, the path itself.
    pub route: String,
    /// The path without `/api/v10`, percent-decoded (emoji appear as themselves).
    pub path: String,
    /// The raw query string (serenity writes `?&limit=50`, so it may start with `&`).
    pub query: String,
    /// The JSON body (`payload_json` for multipart requests), `Null` when none.
    pub body: Value,
    /// The HTTP status answered; 0 for a call left hanging by [`Fault::Hang`].
    pub status: u16,
    /// Answered by a scripted [`Fault`]; such a call changed no state.
    pub faulted: bool,
    /// Carried `Authorization: Bot <token>` with the setup token.
    pub authorized: bool,
}

impl Logged for Call {
    fn line(&self) -> String {
        format!("{} {} → {}", self.method, self.path, self.status)
    }
}

/// A scripted failure for the next call of one (method, route).
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// 429 with `Retry-After`, `x-ratelimit-scope` (and `x-ratelimit-global`
    /// when global), body `{"message":"You are being rate limited.","retry_after":…,"global":…}`.
    RateLimited { retry_after: f64, global: bool },
    /// Any status with body `{"message":…,"code":…}`.
    Status {
        status: u16,
        code: u64,
        message: String,
    },
    /// The request is never answered (until the fake is dropped).
    Hang,
}

/// A message as it stands now (edits applied).
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    pub id: String,
    pub channel_id: String,
    pub author_id: String,
    pub content: String,
    pub embeds: Vec<Value>,
    pub components: Vec<Value>,
    pub nonce: Option<String>,
    pub flags: u64,
}

/// A thread channel (type 11) as it stands now.
#[derive(Clone, Debug, PartialEq)]
pub struct Thread {
    pub id: String,
    pub parent_id: String,
    pub name: String,
    pub owner_id: String,
    pub archived: bool,
    pub locked: bool,
    pub applied_tags: Vec<String>,
    pub auto_archive_duration: u64,
    /// The parent-channel message the thread was started from (its id is the
    /// thread's id); `None` for forum posts.
    pub from_message: Option<String>,
}

/// An initial interaction response (`POST /interactions/{id}/{token}/callback`).
#[derive(Clone, Debug, PartialEq)]
pub struct InteractionResponse {
    pub interaction_id: String,
    pub token: String,
    /// The callback type: 4 message, 5 deferred, 6 deferred update, 7 update, 9 modal…
    pub kind: u64,
    /// The callback's `data` (`Null` when none).
    pub data: Value,
    /// Time since the interaction was dispatched (or built, if never dispatched).
    pub after: Duration,
}

/// A follow-up through the interaction webhook.
#[derive(Clone, Debug, PartialEq)]
pub struct Followup {
    pub token: String,
    /// `PATCH …/messages/@original` (true) or `POST /webhooks/{app}/{token}` (false).
    pub original: bool,
    pub data: Value,
}

// ---------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------

/// A stored message and what Discord renders besides the public fields.
#[derive(Clone, Debug)]
struct Stored {
    msg: Message,
    timestamp: String,
    edited_timestamp: Option<String>,
    posted: Instant,
    /// Normalized `message_reference` of a reply.
    reference: Option<Value>,
    /// Message type: 0 default, 19 reply, 20 slash-command response.
    kind: u64,
    /// Set on interaction responses, which Discord sends through the app's webhook.
    webhook_id: Option<String>,
}

#[derive(Clone, Debug)]
struct ThreadState {
    thread: Thread,
    archive_timestamp: String,
    create_timestamp: String,
}

#[derive(Debug)]
struct InteractionState {
    id: String,
    token: String,
    /// Interaction type: 2 command, 3 component, 5 modal submit.
    kind: u64,
    channel: String,
    /// The message a clicked component sits on.
    message: Option<String>,
    created: Instant,
    dispatched: Option<Instant>,
    /// Callback type and when it came.
    ack: Option<(u64, Instant)>,
    /// The response message of a type 4/5 callback, which `@original` edits.
    original: Option<Stored>,
}

impl InteractionState {
    fn since_dispatch(&self) -> Duration {
        self.dispatched.unwrap_or(self.created).elapsed()
    }
}

#[derive(Debug)]
enum GwCmd {
    Send(String),
    /// Send a close frame with this code and reason, then hang up.
    Close(u16, String),
    /// Drop the TCP connection without a close frame.
    Drop,
}

struct Conn {
    tx: mpsc::UnboundedSender<GwCmd>,
    live: bool,
    session: Option<String>,
    /// Got READY or RESUMED; dispatches go to it from then on.
    ready: bool,
}

struct SessionEvent {
    seq: u64,
    /// The whole op 0 frame, kept for RESUME replay.
    frame: Value,
    /// Handed to a connection (it may still have been lost with the socket,
    /// which RESUME covers by replaying everything after the client's seq).
    delivered: bool,
}

struct Session {
    id: String,
    seq: u64,
    events: Vec<SessionEvent>,
}

struct State {
    calls: CallLog<Call>,
    faults: HashMap<(String, String), VecDeque<Fault>>,
    last_id: u64,
    /// Setup channels as they stand (tags, names and flags can change).
    channels: Vec<ChannelSetup>,
    threads: Vec<ThreadState>,
    /// Channel (or thread) id → messages in posting order.
    messages: BTreeMap<String, Vec<Stored>>,
    /// (channel, message, emoji) the bot reacted with.
    bot_reactions: Vec<(String, String, String)>,
    commands: Vec<Value>,
    interactions: HashMap<String, InteractionState>,
    interaction_responses: Vec<InteractionResponse>,
    followups: Vec<Followup>,
    conns: Vec<Conn>,
    sessions: Vec<Session>,
    /// Dispatched before any session existed; sent after the first READY.
    pending: Vec<(String, Value)>,
    identifies: Vec<Value>,
    frames: Vec<Value>,
}

impl State {
    fn next_id(&mut self) -> String {
        self.last_id += 1;
        self.last_id.to_string()
    }

    fn channel(&self, id: &str) -> Option<&ChannelSetup> {
        self.channels.iter().find(|c| c.id == id)
    }

    fn thread(&self, id: &str) -> Option<&ThreadState> {
        self.threads.iter().find(|t| t.thread.id == id)
    }

    fn thread_mut(&mut self, id: &str) -> Option<&mut ThreadState> {
        self.threads.iter_mut().find(|t| t.thread.id == id)
    }

    fn channel_exists(&self, id: &str) -> bool {
        self.channel(id).is_some() || self.thread(id).is_some()
    }

    fn find(&self, channel: &str, id: &str) -> Option<&Stored> {
        self.messages.get(channel)?.iter().find(|m| m.msg.id == id)
    }

    fn find_mut(&mut self, channel: &str, id: &str) -> Option<&mut Stored> {
        self.messages
            .get_mut(channel)?
            .iter_mut()
            .find(|m| m.msg.id == id)
    }

    fn store(&mut self, stored: Stored) {
        self.messages
            .entry(stored.msg.channel_id.clone())
            .or_default()
            .push(stored);
    }

    /// Sends an op 0 frame with the newest session's next sequence number to
    /// the connection(s) serving that session; kept for RESUME replay. With no
    /// session yet, it waits for the first READY.
    fn dispatch_event(&mut self, event: &str, data: Value) {
        let Some(session) = self.sessions.last_mut() else {
            self.pending.push((event.to_string(), data));
            return;
        };
        session.seq += 1;
        let frame = json!({"op": 0, "s": session.seq, "t": event, "d": data});
        let text = frame.to_string();
        let mut delivered = false;
        for conn in &self.conns {
            if conn.live && conn.ready && conn.session.as_deref() == Some(session.id.as_str()) {
                delivered |= conn.tx.send(GwCmd::Send(text.clone())).is_ok();
            }
        }
        session.events.push(SessionEvent {
            seq: session.seq,
            frame,
            delivered,
        });
    }
}

struct Shared {
    setup: FakeDiscordSetup,
    gateway_addr: SocketAddr,
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

/// A running fake Discord; dropping it stops the servers.
pub struct FakeDiscord {
    shared: Arc<Shared>,
    http_addr: SocketAddr,
    _server: Background,
}

impl FakeDiscord {
    /// Binds `127.0.0.1:0` for REST and for the gateway and serves them from
    /// a background thread with its own runtime.
    pub fn start(setup: FakeDiscordSetup) -> FakeDiscord {
        // Bound here, synchronously, so the addresses are known on return.
        let http = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let gateway = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        http.set_nonblocking(true).unwrap();
        gateway.set_nonblocking(true).unwrap();
        let http_addr = http.local_addr().unwrap();
        let mut state = State {
            calls: CallLog::default(),
            faults: HashMap::new(),
            last_id: FIRST_SNOWFLAKE - 1,
            channels: vec![],
            threads: vec![],
            messages: BTreeMap::new(),
            bot_reactions: vec![],
            commands: vec![],
            interactions: HashMap::new(),
            interaction_responses: vec![],
            followups: vec![],
            conns: vec![],
            sessions: vec![],
            pending: vec![],
            identifies: vec![],
            frames: vec![],
        };
        for channel in &setup.channels {
            let mut channel = channel.clone();
            // Ids given in the setup are kept; the others are assigned.
            let tags = channel.available_tags.clone();
            channel.available_tags = normalize_tags(&mut state, &tags, &tags, "")
                .unwrap_or_else(|e| panic!("bad setup tags for {}: {e:?}", channel.id));
            state.channels.push(channel);
        }
        state.commands = put_commands(&setup, &mut state, &Value::from(setup.commands.clone()))
            .unwrap_or_else(|e| panic!("bad setup commands: {e:?}"));
        let shared = Arc::new(Shared {
            setup,
            gateway_addr: gateway.local_addr().unwrap(),
            state: Watched::new(state),
        });
        let server_shared = shared.clone();
        let server = Background::start("fake-discord", move || async move {
            let http = tokio::net::TcpListener::from_std(http).unwrap();
            let gateway = tokio::net::TcpListener::from_std(gateway).unwrap();
            let app = axum::Router::new()
                .fallback(handle_http)
                .with_state(server_shared.clone());
            tokio::spawn(async move { axum::serve(http, app).await });
            tokio::spawn(accept_gateway(gateway, server_shared));
        });
        FakeDiscord {
            shared,
            http_addr,
            _server: server,
        }
    }

    /// `FakeDiscord::start(FakeDiscordSetup::default())`.
    pub fn start_default() -> FakeDiscord {
        Self::start(FakeDiscordSetup::default())
    }

    pub fn setup(&self) -> &FakeDiscordSetup {
        &self.shared.setup
    }

    /// `http://127.0.0.1:PORT/api/` (the bot derives the proxy from it).
    pub fn api_url(&self) -> String {
        format!("http://{}/api/", self.http_addr)
    }

    /// `http://127.0.0.1:PORT`, for serenity's `HttpBuilder::proxy`.
    pub fn proxy_url(&self) -> String {
        format!("http://{}", self.http_addr)
    }

    /// `ws://127.0.0.1:GWPORT`, what `GET /gateway` answers.
    pub fn gateway_url(&self) -> String {
        format!("ws://{}", self.shared.gateway_addr)
    }

    // --- REST calls -------------------------------------------------------

    /// Every call since start, in arrival order.
    pub fn calls(&self) -> Vec<Call> {
        self.shared.lock().calls.to_vec()
    }

    /// The calls not yet taken, oldest first; marks them taken.
    pub fn take_calls(&self) -> Vec<Call> {
        self.shared.lock().calls.take()
    }

    /// Blocks until `count` calls of (`method`, route template) were made in
    /// total (faulted and refused ones count too: check `status`) and returns
    /// them all; panics with the calls seen after `timeout`.
    pub fn wait_for(
        &self,
        method: &str,
        route: &str,
        count: usize,
        timeout: Duration,
    ) -> Vec<Call> {
        let method = method.to_ascii_uppercase();
        let what = format!("{method} {route}");
        self.shared.state.wait_calls(
            timeout,
            count,
            &what,
            |s| &s.calls,
            |c| c.method == method && c.route == route,
        )
    }

    /// Answers the next call of (`method`, route template) with `fault`.
    /// Queued per (method, route), in order.
    pub fn fail_next(&self, method: &str, route: &str, fault: Fault) {
        self.shared
            .lock()
            .faults
            .entry((method.to_ascii_uppercase(), route.to_string()))
            .or_default()
            .push_back(fault);
    }

    // --- the world ----------------------------------------------------------

    /// The channel's (or thread's) messages as they stand now, oldest first:
    /// the bot's REST posts and the people's posts built by
    /// [`FakeDiscord::message_create`]. Interaction responses and follow-ups
    /// are not in here (see [`FakeDiscord::interaction_responses`] and
    /// [`FakeDiscord::followups`]), except that an UPDATE_MESSAGE callback or an
    /// `@original` edit after a component click edits the clicked message.
    pub fn messages(&self, channel: &str) -> Vec<Message> {
        self.shared
            .lock()
            .messages
            .get(channel)
            .map(|ms| ms.iter().map(|m| m.msg.clone()).collect())
            .unwrap_or_default()
    }

    pub fn message(&self, channel: &str, id: &str) -> Option<Message> {
        self.shared.lock().find(channel, id).map(|m| m.msg.clone())
    }

    /// Blocks until the channel holds at least `count` messages; returns them
    /// all; panics after `timeout`.
    pub fn wait_messages(&self, channel: &str, count: usize, timeout: Duration) -> Vec<Message> {
        self.shared
            .wait(timeout, |s| {
                let ms = s.messages.get(channel)?;
                (ms.len() >= count).then(|| ms.iter().map(|m| m.msg.clone()).collect())
            })
            .unwrap_or_else(|| {
                panic!(
                    "timed out after {timeout:?} waiting for {count} messages in {channel}; have: {:#?}",
                    self.messages(channel)
                )
            })
    }

    /// Every thread, in creation order.
    pub fn threads(&self) -> Vec<Thread> {
        self.shared
            .lock()
            .threads
            .iter()
            .map(|t| t.thread.clone())
            .collect()
    }

    pub fn thread(&self, id: &str) -> Option<Thread> {
        self.shared.lock().thread(id).map(|t| t.thread.clone())
    }

    /// The forum's `available_tags` as Discord returns them
    /// (`{id, name, moderated, emoji_id, emoji_name}`).
    pub fn forum_tags(&self, forum: &str) -> Vec<Value> {
        self.shared
            .lock()
            .channel(forum)
            .map(|c| c.available_tags.clone())
            .unwrap_or_default()
    }

    /// The guild commands as Discord stores them (ids, versions and defaults filled).
    pub fn registered_commands(&self) -> Vec<Value> {
        self.shared.lock().commands.clone()
    }

    /// Emoji the bot reacted with on a message (`PUT …/reactions/{emoji}/@me`
    /// and not removed), in order.
    pub fn bot_reactions(&self, channel: &str, message: &str) -> Vec<String> {
        self.shared
            .lock()
            .bot_reactions
            .iter()
            .filter(|(c, m, _)| c == channel && m == message)
            .map(|(_, _, e)| e.clone())
            .collect()
    }

    pub fn interaction_responses(&self) -> Vec<InteractionResponse> {
        self.shared.lock().interaction_responses.clone()
    }

    pub fn followups(&self) -> Vec<Followup> {
        self.shared.lock().followups.clone()
    }

    // --- gateway ------------------------------------------------------------

    /// Blocks until a live connection identified (or resumed) and got READY
    /// (or RESUMED); panics after `timeout`.
    pub fn wait_ready(&self, timeout: Duration) {
        self.shared
            .wait(timeout, |s| {
                s.conns.iter().any(|c| c.live && c.ready).then_some(())
            })
            .unwrap_or_else(|| panic!("no gateway connection got READY within {timeout:?}"));
    }

    /// The `d` of every IDENTIFY received.
    pub fn identifies(&self) -> Vec<Value> {
        self.shared.lock().identifies.clone()
    }

    /// Sends `event` (op 0, the next sequence number) to the live
    /// connection(s); remembered for RESUME replay. With no live connection
    /// it is delivered after the next READY or RESUMED.
    pub fn dispatch(&self, event: &str, data: Value) {
        let mut state = self.shared.lock();
        if event == "INTERACTION_CREATE"
            && let Some(id) = data.get("id").and_then(Value::as_str)
            && let Some(interaction) = state.interactions.get_mut(id)
        {
            // The 3-second deadline runs from here.
            interaction.dispatched = Some(Instant::now());
        }
        state.dispatch_event(event, data);
        drop(state);
        self.shared.state.notify();
    }

    /// Closes every live gateway socket abruptly (no close frame), as a
    /// network failure would; serenity reconnects and RESUMEs.
    pub fn drop_connection(&self) {
        let mut state = self.shared.lock();
        for conn in state.conns.iter_mut().filter(|c| c.live) {
            // Not live from now on, so dispatches wait for the RESUME.
            conn.live = false;
            conn.ready = false;
            let _ = conn.tx.send(GwCmd::Drop);
        }
        drop(state);
        self.shared.state.notify();
    }

    /// Every frame clients sent, parsed (non-JSON frames as strings).
    pub fn gateway_frames(&self) -> Vec<Value> {
        self.shared.lock().frames.clone()
    }

    /// Gateway connections ever accepted.
    pub fn gateway_connections(&self) -> usize {
        self.shared.lock().conns.len()
    }
}

// ---------------------------------------------------------------------------
// REST: plumbing
// ---------------------------------------------------------------------------

/// Every route the fake serves (`{…}` matches one path segment).
/// `/oauth2/applications/@me` is where serenity's `get_current_application_info` goes.
const ROUTES: &[&str] = &[
    "/gateway",
    "/gateway/bot",
    "/users/@me",
    "/channels/{channel}",
    "/channels/{channel}/messages",
    "/channels/{channel}/messages/{message}",
    "/channels/{channel}/messages/{message}/threads",
    "/channels/{channel}/threads",
    "/channels/{channel}/messages/{message}/reactions/{emoji}/@me",
    "/guilds/{guild}/threads/active",
    "/guilds/{guild}/members/{user}",
    "/guilds/{guild}/channels",
    "/guilds/{guild}/roles",
    "/applications/{application}/guilds/{guild}/commands",
    "/applications/@me",
    "/oauth2/applications/@me",
    "/interactions/{interaction}/{token}/callback",
    "/webhooks/{application}/{token}",
    "/webhooks/{application}/{token}/messages/@original",
];

/// Routes Discord serves without a bot token: the interaction endpoints
/// authenticate with the interaction token in the path, and `/gateway` is
/// documented as needing no authentication.
fn needs_auth(route: &str) -> bool {
    !(route.starts_with("/interactions/") || route.starts_with("/webhooks/") || route == "/gateway")
}

type Params = HashMap<&'static str, String>;

fn match_route(segments: &[String]) -> Option<(&'static str, Params)> {
    ROUTES.iter().find_map(|template| {
        let parts: Vec<&'static str> = template.split('/').skip(1).collect();
        if parts.len() != segments.len() {
            return None;
        }
        let mut params = Params::new();
        for (part, seg) in parts.iter().zip(segments) {
            match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                Some(name) => {
                    params.insert(name, seg.clone());
                }
                None if part == seg => {}
                None => return None,
            }
        }
        Some((*template, params))
    })
}

fn decode_segment(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// A Discord error: `{"message", "code"}` plus `errors` for 50035.
#[derive(Debug)]
struct ApiError {
    status: u16,
    code: u64,
    message: String,
    errors: Option<Value>,
}

impl ApiError {
    fn new(status: u16, code: u64, message: &str) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            errors: None,
        }
    }

    /// 400 50035 "Invalid Form Body" with one error at a dotted `path`
    /// (e.g. `message.embeds.0.title`), nested the way Discord nests them.
    fn form(path: &str, code: &str, message: impl Into<String>) -> Self {
        let mut errors = json!({"_errors": [{"code": code, "message": message.into()}]});
        for key in path.split('.').filter(|k| !k.is_empty()).rev() {
            errors = json!({ key: errors });
        }
        Self {
            status: 400,
            code: 50035,
            message: "Invalid Form Body".into(),
            errors: Some(errors),
        }
    }

    fn body(&self) -> Value {
        let mut v = json!({"message": self.message, "code": self.code});
        if let Some(errors) = &self.errors {
            v["errors"] = errors.clone();
        }
        v
    }
}

fn field_required(path: &str) -> ApiError {
    ApiError::form(path, "BASE_TYPE_REQUIRED", "This field is required")
}

fn unknown_channel() -> ApiError {
    ApiError::new(404, 10003, "Unknown Channel")
}

fn unknown_message() -> ApiError {
    ApiError::new(404, 10008, "Unknown Message")
}

fn unknown_interaction() -> ApiError {
    ApiError::new(404, 10062, "Unknown interaction")
}

fn unknown_webhook() -> ApiError {
    ApiError::new(404, 10015, "Unknown Webhook")
}

fn archived_thread() -> ApiError {
    // The wording of Discord's table of JSON error codes.
    ApiError::new(
        400,
        50083,
        "Operation cannot be performed on an archived thread",
    )
}

fn wrong_channel_type() -> ApiError {
    ApiError::new(400, 50024, "Cannot execute action on this channel type")
}

enum Reply {
    Json(u16, Value),
    NoContent,
}

type Api = Result<Reply, ApiError>;

fn ok(v: Value) -> Api {
    Ok(Reply::Json(200, v))
}

/// The JSON body: `application/json`, or the `payload_json` part of a
/// multipart body (serenity sends forum posts that way). `Null` when empty.
fn parse_body(headers: &HeaderMap, body: &[u8]) -> Result<Value, ()> {
    if body.is_empty() {
        return Ok(Value::Null);
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if let Some(boundary) = content_type
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))
    {
        let boundary = format!("--{}", boundary.trim_matches('"'));
        let text = String::from_utf8_lossy(body);
        for part in text.split(boundary.as_str()) {
            let Some((head, value)) = part.split_once("\r\n\r\n") else {
                continue;
            };
            if head.contains("name=\"payload_json\"") {
                return serde_json::from_str(value.trim_end_matches("\r\n")).map_err(|_| ());
            }
        }
        return Ok(Value::Null);
    }
    serde_json::from_slice(body).map_err(|_| ())
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// RFC 3339 with microseconds and `+00:00`, as Discord writes timestamps.
fn now_timestamp() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, false)
}

fn set_header(resp: &mut Response, name: &'static str, value: String) {
    resp.headers_mut().insert(
        HeaderName::from_static(name),
        HeaderValue::from_str(&value).unwrap(),
    );
}

/// Builds the response with the rate-limit headers Discord puts on every answer.
fn respond(route: &str, status: u16, body: Option<Value>, remaining: u32) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = match body {
        Some(body) => (status, axum::Json(body)).into_response(),
        None => status.into_response(),
    };
    // One bucket per route template, named by a stable hash of it.
    let bucket = route.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    set_header(&mut resp, "x-ratelimit-limit", "5".into());
    set_header(&mut resp, "x-ratelimit-remaining", remaining.to_string());
    set_header(
        &mut resp,
        "x-ratelimit-reset",
        format!("{:.3}", unix_now() + 1.0),
    );
    set_header(&mut resp, "x-ratelimit-reset-after", "1.000".into());
    set_header(&mut resp, "x-ratelimit-bucket", format!("{bucket:016x}"));
    resp
}

fn fault_response(route: &str, fault: &Fault) -> (u16, Response) {
    match fault {
        Fault::RateLimited {
            retry_after,
            global,
        } => {
            let body = json!({
                "message": "You are being rate limited.",
                "retry_after": retry_after,
                "global": global,
            });
            let mut resp = respond(route, 429, Some(body), 0);
            // The header is whole seconds; the body has the precise value.
            set_header(
                &mut resp,
                "retry-after",
                (retry_after.ceil() as u64).to_string(),
            );
            let scope = if *global { "global" } else { "user" };
            set_header(&mut resp, "x-ratelimit-scope", scope.into());
            if *global {
                set_header(&mut resp, "x-ratelimit-global", "true".into());
            }
            (429, resp)
        }
        Fault::Status {
            status,
            code,
            message,
        } => (
            *status,
            respond(
                route,
                *status,
                Some(json!({"message": message, "code": code})),
                4,
            ),
        ),
        Fault::Hang => (0, respond(route, 500, None, 4)),
    }
}

async fn handle_http(
    AxumState(shared): AxumState<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (status, resp) = serve_call(&shared, &method, &uri, &headers, &body);
    if status == 0 {
        // Fault::Hang: recorded, never answered; the runtime's shutdown ends it.
        std::future::pending::<()>().await;
    }
    resp
}

/// Records the call and answers it: a scripted fault, 404 for an unknown
/// route, 401 without the bot token, else the endpoint's answer. Status 0
/// means "never answer".
fn serve_call(
    shared: &Shared,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> (u16, Response) {
    let raw_path = uri.path();
    let api_path = raw_path.strip_prefix("/api/v10").unwrap_or("");
    let segments: Vec<String> = api_path.split('/').skip(1).map(decode_segment).collect();
    let matched = if api_path.is_empty() {
        None
    } else {
        match_route(&segments)
    };
    let path = if api_path.is_empty() {
        decode_segment(raw_path)
    } else {
        format!("/{}", segments.join("/"))
    };
    let parsed = parse_body(headers, body);
    let wanted_auth = format!("Bot {}", shared.setup.token);
    let authorized = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        == Some(wanted_auth.as_str());
    let route = matched
        .as_ref()
        .map(|(r, _)| r.to_string())
        .unwrap_or_else(|| path.clone());

    let mut state = shared.lock();
    let index = state.calls.len();
    state.calls.push(Call {
        method: method.as_str().to_string(),
        route: route.clone(),
        path,
        query: uri.query().unwrap_or("").to_string(),
        body: parsed.clone().unwrap_or(Value::Null),
        status: 0,
        faulted: false,
        authorized,
    });
    let fault = state
        .faults
        .get_mut(&(method.as_str().to_string(), route.clone()))
        .and_then(VecDeque::pop_front);
    let (status, resp) = if let Some(fault) = fault {
        state.calls[index].faulted = true;
        fault_response(&route, &fault)
    } else {
        let result = match (&matched, &parsed) {
            (None, _) => Err(ApiError::new(404, 0, "404: Not Found")),
            (Some((r, _)), _) if needs_auth(r) && !authorized => {
                Err(ApiError::new(401, 0, "401: Unauthorized"))
            }
            (Some(_), Err(())) => Err(ApiError::new(
                400,
                50109,
                "The request body contains invalid JSON.",
            )),
            (Some((r, params)), Ok(body)) => rest(
                shared,
                &mut state,
                method,
                r,
                params,
                uri.query().unwrap_or(""),
                body,
            ),
        };
        match result {
            Ok(Reply::Json(status, v)) => (status, respond(&route, status, Some(v), 4)),
            Ok(Reply::NoContent) => (204, respond(&route, 204, None, 4)),
            Err(e) => (e.status, respond(&route, e.status, Some(e.body()), 4)),
        }
    };
    state.calls[index].status = status;
    drop(state);
    shared.state.notify();
    (status, resp)
}

fn rest(
    shared: &Shared,
    state: &mut State,
    method: &Method,
    route: &str,
    p: &Params,
    query: &str,
    body: &Value,
) -> Api {
    let setup = &shared.setup;
    let param = |name: &str| p.get(name).map(String::as_str).unwrap_or("");
    let gateway_url = format!("ws://{}", shared.gateway_addr);
    match (method.as_str(), route) {
        ("GET", "/gateway") => ok(json!({"url": gateway_url})),
        ("GET", "/gateway/bot") => ok(json!({
            "url": gateway_url,
            "shards": 1,
            "session_start_limit": {
                "total": 1000,
                "remaining": 1000 - state.identifies.len().min(1000),
                "reset_after": 86_400_000,
                "max_concurrency": 1,
            },
        })),
        ("GET", "/users/@me") => {
            let mut user = user_json(setup, &setup.bot_user_id);
            let extra = json!({
                "verified": true,
                "mfa_enabled": false,
                "flags": 0,
                "email": null,
                "locale": "en-US",
                "premium_type": 0,
                "banner": null,
                "accent_color": null,
            });
            merge(&mut user, extra);
            ok(user)
        }
        ("GET", "/applications/@me") | ("GET", "/oauth2/applications/@me") => ok(json!({
            "id": setup.application_id,
            "name": BOT_USERNAME,
            "icon": null,
            "description": "",
            "summary": "",
            "type": null,
            "bot_public": false,
            "bot_require_code_grant": false,
            "verify_key": "0".repeat(64),
            "flags": 0,
            "owner": user_json(setup, OWNER_ID),
            "team": null,
            "bot": user_json(setup, &setup.bot_user_id),
            "interactions_endpoint_url": null,
            "role_connections_verification_url": null,
            "redirect_uris": [],
            "approximate_guild_count": 1,
        })),
        ("GET", "/channels/{channel}") => channel_json(setup, state, param("channel"))
            .map(ok)
            .unwrap_or_else(|| Err(unknown_channel())),
        ("PATCH", "/channels/{channel}") => edit_channel(setup, state, param("channel"), body),
        ("GET", "/channels/{channel}/messages") => {
            list_messages(setup, state, param("channel"), query)
        }
        ("POST", "/channels/{channel}/messages") => {
            create_message(setup, state, param("channel"), body)
        }
        ("GET", "/channels/{channel}/messages/{message}") => {
            if !state.channel_exists(param("channel")) {
                return Err(unknown_channel());
            }
            let m = state
                .find(param("channel"), param("message"))
                .ok_or_else(unknown_message)?;
            ok(message_json(setup, state, m))
        }
        ("PATCH", "/channels/{channel}/messages/{message}") => {
            edit_message(setup, state, param("channel"), param("message"), body)
        }
        ("POST", "/channels/{channel}/messages/{message}/threads") => {
            thread_from_message(setup, state, param("channel"), param("message"), body)
        }
        ("POST", "/channels/{channel}/threads") => forum_post(setup, state, param("channel"), body),
        ("PUT", "/channels/{channel}/messages/{message}/reactions/{emoji}/@me")
        | ("DELETE", "/channels/{channel}/messages/{message}/reactions/{emoji}/@me") => react(
            state,
            method == Method::PUT,
            param("channel"),
            param("message"),
            param("emoji"),
        ),
        (_, r) if r.starts_with("/guilds/") && param("guild") != setup.guild_id => {
            Err(ApiError::new(404, 10004, "Unknown Guild"))
        }
        ("GET", "/guilds/{guild}/threads/active") => {
            let threads: Vec<Value> = state
                .threads
                .iter()
                .filter(|t| !t.thread.archived)
                .map(|t| thread_json(setup, state, t))
                .collect();
            ok(json!({"threads": threads, "members": []}))
        }
        ("GET", "/guilds/{guild}/members/{user}") => {
            let user = param("user");
            if user != setup.bot_user_id && !setup.members.contains_key(user) {
                return Err(ApiError::new(404, 10007, "Unknown Member"));
            }
            ok(member_json(setup, user, true, false))
        }
        ("GET", "/guilds/{guild}/channels") => ok(state
            .channels
            .iter()
            .map(|c| guild_channel_json(setup, state, c))
            .collect()),
        ("GET", "/guilds/{guild}/roles") => ok(roles_json(setup)),
        (_, "/applications/{application}/guilds/{guild}/commands")
            if param("application") != setup.application_id =>
        {
            Err(ApiError::new(404, 10002, "Unknown Application"))
        }
        (_, "/applications/{application}/guilds/{guild}/commands")
            if param("guild") != setup.guild_id =>
        {
            Err(ApiError::new(404, 10004, "Unknown Guild"))
        }
        ("GET", "/applications/{application}/guilds/{guild}/commands") => {
            ok(Value::from(state.commands.clone()))
        }
        ("PUT", "/applications/{application}/guilds/{guild}/commands") => {
            let commands = put_commands(setup, state, body)?;
            state.commands = commands.clone();
            ok(Value::from(commands))
        }
        ("POST", "/applications/{application}/guilds/{guild}/commands") => {
            upsert_command(setup, state, body)
        }
        ("POST", "/interactions/{interaction}/{token}/callback") => {
            interaction_callback(setup, state, param("interaction"), param("token"), body)
        }
        (_, r) if r.starts_with("/webhooks/") && param("application") != setup.application_id => {
            Err(unknown_webhook())
        }
        ("POST", "/webhooks/{application}/{token}") => followup(setup, state, param("token"), body),
        ("GET", "/webhooks/{application}/{token}/messages/@original")
        | ("PATCH", "/webhooks/{application}/{token}/messages/@original") => original_response(
            setup,
            state,
            param("token"),
            (method == Method::PATCH).then_some(body),
        ),
        _ => Err(ApiError::new(405, 0, "405: Method Not Allowed")),
    }
}

/// Adds `extra`'s fields to the object `v`.
fn merge(v: &mut Value, extra: Value) {
    if let (Some(map), Value::Object(extra)) = (v.as_object_mut(), extra) {
        map.extend(extra);
    }
}

// ---------------------------------------------------------------------------
// REST: validation shared by several endpoints
// ---------------------------------------------------------------------------

fn join_path(prefix: &str, field: &str) -> String {
    if prefix.is_empty() {
        field.to_string()
    } else {
        format!("{prefix}.{field}")
    }
}

/// A string's length in characters (what Discord limits), as a form error.
fn check_len(path: &str, s: &str, min: usize, max: usize) -> Result<(), ApiError> {
    let n = s.chars().count();
    if n > max && min == 0 {
        Err(ApiError::form(
            path,
            "BASE_TYPE_MAX_LENGTH",
            format!("Must be {max} or fewer in length."),
        ))
    } else if n < min || n > max {
        Err(ApiError::form(
            path,
            "BASE_TYPE_BAD_LENGTH",
            format!("Must be between {min} and {max} in length."),
        ))
    } else {
        Ok(())
    }
}

fn check_count(path: &str, n: usize, max: usize) -> Result<(), ApiError> {
    if n > max {
        Err(ApiError::form(
            path,
            "BASE_TYPE_MAX_LENGTH",
            format!("Must be {max} or fewer in length."),
        ))
    } else {
        Ok(())
    }
}

/// An optional string field, checked for length.
fn opt_str<'a>(v: &'a Value, prefix: &str, field: &str, max: usize) -> Result<&'a str, ApiError> {
    let s = v.get(field).and_then(Value::as_str).unwrap_or("");
    check_len(&join_path(prefix, field), s, 0, max)?;
    Ok(s)
}

fn array<'a>(v: &'a Value, field: &str) -> &'a [Value] {
    v.get(field)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// The message fields a request sets, after validation. `None`: the request
/// left the field out (an edit keeps it; a new message has it empty).
#[derive(Debug, Default)]
struct MessageBody {
    content: Option<String>,
    embeds: Option<Vec<Value>>,
    components: Option<Vec<Value>>,
    flags: Option<u64>,
}

impl MessageBody {
    fn apply(self, m: &mut Message) {
        if let Some(content) = self.content {
            m.content = content;
        }
        if let Some(embeds) = self.embeds {
            m.embeds = embeds;
        }
        if let Some(components) = self.components {
            m.components = components;
        }
        if let Some(flags) = self.flags {
            m.flags = flags;
        }
    }
}

fn is_empty_message(m: &Message) -> bool {
    m.content.is_empty() && m.embeds.is_empty() && m.components.is_empty()
}

fn cannot_send_empty() -> ApiError {
    ApiError::new(400, 50006, "Cannot send an empty message")
}

/// Discord's checks on a message payload (`prefix` is where it sits in the
/// request: "" for a message, "message" for a forum post's starter, "data"
/// for an interaction response). Used by every endpoint that creates or edits
/// a message. `new`: the payload creates a message, which must not be empty.
fn message_body(v: &Value, prefix: &str, new: bool) -> Result<MessageBody, ApiError> {
    let mut out = MessageBody::default();
    if v.get("content").is_some() {
        out.content = Some(opt_str(v, prefix, "content", 2000)?.to_string());
    }
    if let Some(embeds) = v.get("embeds") {
        let embeds = embeds.as_array().cloned().unwrap_or_default();
        check_embeds(&embeds, &join_path(prefix, "embeds"))?;
        // Discord marks embeds a bot sends as rich.
        let embeds = embeds
            .into_iter()
            .map(|mut e| {
                if e.get("type").is_none() {
                    e["type"] = json!("rich");
                }
                e
            })
            .collect();
        out.embeds = Some(embeds);
    }
    if let Some(components) = v.get("components") {
        let components = components.as_array().cloned().unwrap_or_default();
        check_components(&components, &join_path(prefix, "components"))?;
        out.components = Some(components);
    }
    out.flags = v.get("flags").and_then(Value::as_u64);
    let has_other = !array(v, "sticker_ids").is_empty()
        || !array(v, "attachments").is_empty()
        || v.get("poll").is_some_and(|p| !p.is_null());
    let empty = out.content.as_deref().unwrap_or("").is_empty()
        && out.embeds.as_ref().is_none_or(Vec::is_empty)
        && out.components.as_ref().is_none_or(Vec::is_empty);
    if new && empty && !has_other {
        return Err(cannot_send_empty());
    }
    Ok(out)
}

fn check_embeds(embeds: &[Value], path: &str) -> Result<(), ApiError> {
    check_count(path, embeds.len(), 10)?;
    let mut total = 0;
    for (i, e) in embeds.iter().enumerate() {
        let at = format!("{path}.{i}");
        let mut counted = |s: &str| total += s.chars().count();
        counted(opt_str(e, &at, "title", 256)?);
        counted(opt_str(e, &at, "description", 4096)?);
        let fields = array(e, "fields");
        check_count(&format!("{at}.fields"), fields.len(), 25)?;
        for (j, f) in fields.iter().enumerate() {
            let fat = format!("{at}.fields.{j}");
            counted(opt_str(f, &fat, "name", 256)?);
            counted(opt_str(f, &fat, "value", 1024)?);
        }
        if let Some(footer) = e.get("footer") {
            counted(opt_str(footer, &format!("{at}.footer"), "text", 2048)?);
        }
        if let Some(author) = e.get("author") {
            counted(opt_str(author, &format!("{at}.author"), "name", 256)?);
        }
    }
    if total > 6000 {
        return Err(ApiError::form(
            path,
            "MAX_EMBED_SIZE_EXCEEDED",
            "Embed size exceeds maximum size of 6000",
        ));
    }
    Ok(())
}

/// Action rows (type 1) of buttons (2) or one select menu (3, 5–8); every
/// `custom_id` at most 100 characters and unique within the message.
fn check_components(rows: &[Value], path: &str) -> Result<(), ApiError> {
    check_count(path, rows.len(), 5)?;
    let mut seen: Vec<&str> = vec![];
    for (i, row) in rows.iter().enumerate() {
        let at = format!("{path}.{i}");
        if row.get("type").and_then(Value::as_u64) != Some(1) {
            return Err(ApiError::form(
                &format!("{at}.type"),
                "BASE_TYPE_CHOICES",
                "Value must be one of {1}.",
            ));
        }
        let items = array(row, "components");
        let items_at = format!("{at}.components");
        if items.is_empty() || items.len() > 5 {
            return Err(ApiError::form(
                &items_at,
                "BASE_TYPE_BAD_LENGTH",
                "Must be between 1 and 5 in length.",
            ));
        }
        for (j, item) in items.iter().enumerate() {
            let item_at = format!("{items_at}.{j}");
            let kind = item.get("type").and_then(Value::as_u64).unwrap_or(0);
            let style = item.get("style").and_then(Value::as_u64).unwrap_or(0);
            let needs_id = match kind {
                2 => {
                    opt_str(item, &item_at, "label", 80)?;
                    // Link (5) and premium (6) buttons have no custom_id.
                    !matches!(style, 5 | 6)
                }
                3 | 5..=8 if items.len() == 1 => true,
                3 | 5..=8 => {
                    return Err(ApiError::form(
                        &item_at,
                        "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                        "The specified component exceeds the maximum width",
                    ));
                }
                _ => {
                    return Err(ApiError::form(
                        &format!("{item_at}.type"),
                        "COMPONENT_TYPE_INVALID",
                        "The specified component type is invalid in this context",
                    ));
                }
            };
            if needs_id {
                let id = item.get("custom_id").and_then(Value::as_str).unwrap_or("");
                let id_at = format!("{item_at}.custom_id");
                check_len(&id_at, id, 1, 100)?;
                if seen.contains(&id) {
                    return Err(ApiError::form(
                        &id_at,
                        "COMPONENT_CUSTOM_ID_DUPLICATED",
                        "Component custom id cannot be duplicated",
                    ));
                }
                seen.push(id);
            }
        }
    }
    Ok(())
}

/// The component with `custom_id` in a message's action rows.
fn find_component<'a>(rows: &'a [Value], custom_id: &str) -> Option<&'a Value> {
    rows.iter()
        .flat_map(|row| array(row, "components"))
        .find(|c| c.get("custom_id").and_then(Value::as_str) == Some(custom_id))
}

fn check_thread_name(v: &Value, required: bool) -> Result<Option<String>, ApiError> {
    match v.get("name").and_then(Value::as_str) {
        Some(name) => {
            check_len("name", name, 1, 100)?;
            Ok(Some(name.to_string()))
        }
        None if required => Err(field_required("name")),
        None => Ok(None),
    }
}

fn check_archive_duration(v: &Value) -> Result<Option<u64>, ApiError> {
    match v.get("auto_archive_duration") {
        None | Some(Value::Null) => Ok(None),
        Some(d) => match d.as_u64() {
            Some(d) if ARCHIVE_DURATIONS.contains(&d) => Ok(Some(d)),
            _ => Err(ApiError::form(
                "auto_archive_duration",
                "BASE_TYPE_CHOICES",
                "Value must be one of {60, 1440, 4320, 10080}.",
            )),
        },
    }
}

/// `applied_tags`: at most 5, each one of the forum's tag ids (a thread
/// under a text channel has no tags to pick from).
fn check_applied_tags(
    parent: Option<&ChannelSetup>,
    v: &Value,
) -> Result<Option<Vec<String>>, ApiError> {
    let Some(tags) = v.get("applied_tags").filter(|t| !t.is_null()) else {
        return Ok(None);
    };
    let tags: Vec<String> = tags
        .as_array()
        .map(|a| a.iter().map(id_string).collect())
        .unwrap_or_default();
    check_count("applied_tags", tags.len(), 5)?;
    let available: Vec<String> = parent
        .filter(|p| p.kind == GUILD_FORUM)
        .map(|p| {
            p.available_tags
                .iter()
                .map(|t| id_string(&t["id"]))
                .collect()
        })
        .unwrap_or_default();
    for (i, tag) in tags.iter().enumerate() {
        if !available.contains(tag) {
            return Err(ApiError::form(
                &format!("applied_tags.{i}"),
                "BASE_TYPE_CHOICES",
                format!("Value must be one of the channel's tags; got {tag}."),
            ));
        }
    }
    Ok(Some(tags))
}

/// A snowflake given as a string or a number, as a string.
fn id_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

/// A forum's new `available_tags`: at most 20, names (required) at most 20
/// characters; a tag keeps its id when it names one the forum has, others
/// get new ids.
fn normalize_tags(
    state: &mut State,
    current: &[Value],
    tags: &[Value],
    path: &str,
) -> Result<Vec<Value>, ApiError> {
    check_count(path, tags.len(), 20)?;
    let mut out = vec![];
    for (i, tag) in tags.iter().enumerate() {
        let at = join_path(path, &i.to_string());
        let name_at = join_path(&at, "name");
        let Some(name) = tag.get("name").and_then(Value::as_str) else {
            return Err(field_required(&name_at));
        };
        check_len(&name_at, name, 0, 20)?;
        let given = tag.get("id").map(id_string).unwrap_or_default();
        let id = if current.iter().any(|t| id_string(&t["id"]) == given) {
            given
        } else {
            state.next_id()
        };
        let emoji_id = tag.get("emoji_id").map(id_string).filter(|s| !s.is_empty());
        out.push(json!({
            "id": id,
            "name": name,
            "moderated": tag.get("moderated").and_then(Value::as_bool).unwrap_or(false),
            "emoji_id": emoji_id,
            "emoji_name": tag.get("emoji_name").cloned().unwrap_or(Value::Null),
        }));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// REST: channels, messages, threads
// ---------------------------------------------------------------------------

fn edit_channel(setup: &FakeDiscordSetup, state: &mut State, id: &str, body: &Value) -> Api {
    if let Some(channel) = state.channel(id).cloned() {
        let name = check_thread_name(body, false)?;
        let tags = match body.get("available_tags").and_then(Value::as_array) {
            Some(tags) if channel.kind == GUILD_FORUM => Some(normalize_tags(
                state,
                &channel.available_tags,
                tags,
                "available_tags",
            )?),
            _ => None,
        };
        let flags = body.get("flags").and_then(Value::as_u64);
        let c = state.channels.iter_mut().find(|c| c.id == id).unwrap();
        if let Some(name) = name {
            c.name = name;
        }
        if let Some(tags) = tags {
            c.available_tags = tags;
        }
        if let Some(flags) = flags {
            c.flags = flags;
        }
        let c = state.channel(id).unwrap();
        return ok(guild_channel_json(setup, state, c));
    }
    let t = state.thread(id).ok_or_else(unknown_channel)?.clone();
    // An archived thread takes only (un)archiving and locking until it is
    // unarchived, in the same request or before.
    let unarchives = body.get("archived").and_then(Value::as_bool) == Some(false);
    let other_changes = body
        .as_object()
        .is_some_and(|m| m.keys().any(|k| k != "archived" && k != "locked"));
    if t.thread.archived && !unarchives && other_changes {
        return Err(archived_thread());
    }
    let name = check_thread_name(body, false)?;
    let duration = check_archive_duration(body)?;
    let parent = state.channel(&t.thread.parent_id);
    let tags = check_applied_tags(parent, body)?;
    let archived = body.get("archived").and_then(Value::as_bool);
    let locked = body.get("locked").and_then(Value::as_bool);
    let now = now_timestamp();
    let ts = state.thread_mut(id).unwrap();
    if let Some(name) = name {
        ts.thread.name = name;
    }
    if let Some(d) = duration {
        ts.thread.auto_archive_duration = d;
    }
    if let Some(tags) = tags {
        ts.thread.applied_tags = tags;
    }
    if let Some(locked) = locked {
        ts.thread.locked = locked;
    }
    if let Some(archived) = archived
        && archived != ts.thread.archived
    {
        ts.thread.archived = archived;
        ts.archive_timestamp = now;
    }
    let ts = state.thread(id).unwrap();
    ok(thread_json(setup, state, ts))
}

/// Whether (and how) the bot may post into `channel` now: text channels and
/// open threads take messages; an archived thread is reopened by a post
/// unless it is locked. Returns the thread to reopen, if any.
fn check_postable(state: &State, channel: &str) -> Result<Option<String>, ApiError> {
    if let Some(c) = state.channel(channel) {
        return if c.kind == GUILD_FORUM {
            Err(ApiError::new(
                400,
                50008,
                "Cannot send messages in a non-text channel",
            ))
        } else {
            Ok(None)
        };
    }
    let t = state.thread(channel).ok_or_else(unknown_channel)?;
    if t.thread.locked {
        return Err(ApiError::new(400, 160005, "Thread is locked"));
    }
    Ok(t.thread.archived.then(|| channel.to_string()))
}

fn reopen(state: &mut State, thread: Option<String>) {
    if let Some(t) = thread.and_then(|id| state.thread_mut(&id)) {
        t.thread.archived = false;
        t.archive_timestamp = now_timestamp();
    }
}

fn new_stored(id: String, channel: &str, author: &str, body: MessageBody) -> Stored {
    let mut msg = Message {
        id,
        channel_id: channel.to_string(),
        author_id: author.to_string(),
        content: String::new(),
        embeds: vec![],
        components: vec![],
        nonce: None,
        flags: 0,
    };
    body.apply(&mut msg);
    Stored {
        msg,
        timestamp: now_timestamp(),
        edited_timestamp: None,
        posted: Instant::now(),
        reference: None,
        kind: 0,
        webhook_id: None,
    }
}

fn create_message(setup: &FakeDiscordSetup, state: &mut State, channel: &str, body: &Value) -> Api {
    let reopened = check_postable(state, channel)?;
    let parsed = message_body(body, "", true)?;
    let nonce = match body.get("nonce") {
        None | Some(Value::Null) => None,
        Some(n) => {
            let n = id_string(n);
            check_len("nonce", &n, 0, 25)?;
            Some(n)
        }
    };
    let reference = match body.get("message_reference").filter(|r| !r.is_null()) {
        Some(r) => Some(reply_reference(setup, state, channel, r)?),
        None => None,
    };
    let enforce = body.get("enforce_nonce").and_then(Value::as_bool) == Some(true);
    if let (true, Some(n)) = (enforce, &nonce) {
        // A retried send: the first one's message, nothing new.
        let earlier = state.messages.get(channel).and_then(|ms| {
            ms.iter().find(|m| {
                m.msg.nonce.as_ref() == Some(n)
                    && m.msg.author_id == setup.bot_user_id
                    && m.posted.elapsed() < NONCE_WINDOW
            })
        });
        if let Some(m) = earlier {
            return ok(message_json(setup, state, m));
        }
    }
    reopen(state, reopened);
    let id = state.next_id();
    let mut stored = new_stored(id, channel, &setup.bot_user_id, parsed);
    stored.msg.nonce = nonce;
    if reference.is_some() {
        stored.kind = 19;
        stored.reference = reference;
    }
    let out = message_json(setup, state, &stored);
    state.store(stored);
    ok(out)
}

/// A reply's `message_reference`, normalized; the message must exist unless
/// `fail_if_not_exists` is false.
fn reply_reference(
    setup: &FakeDiscordSetup,
    state: &State,
    channel: &str,
    r: &Value,
) -> Result<Value, ApiError> {
    let target_channel = r
        .get("channel_id")
        .map(id_string)
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| channel.to_string());
    let message_id = r.get("message_id").map(id_string).unwrap_or_default();
    let must_exist = r.get("fail_if_not_exists").and_then(Value::as_bool) != Some(false);
    if must_exist && state.find(&target_channel, &message_id).is_none() {
        return Err(ApiError::form(
            "message_reference",
            "MESSAGE_REFERENCE_UNKNOWN_MESSAGE",
            "Unknown message",
        ));
    }
    Ok(json!({
        "type": 0,
        "message_id": message_id,
        "channel_id": target_channel,
        "guild_id": setup.guild_id,
    }))
}

fn edit_message(
    setup: &FakeDiscordSetup,
    state: &mut State,
    channel: &str,
    id: &str,
    body: &Value,
) -> Api {
    if !state.channel_exists(channel) {
        return Err(unknown_channel());
    }
    let m = state.find(channel, id).ok_or_else(unknown_message)?;
    if m.msg.author_id != setup.bot_user_id {
        return Err(ApiError::new(
            403,
            50005,
            "Cannot edit a message authored by another user",
        ));
    }
    if state.thread(channel).is_some_and(|t| t.thread.archived) {
        return Err(archived_thread());
    }
    let parsed = message_body(body, "", false)?;
    let edited = apply_edit(state.find_mut(channel, id).unwrap(), parsed)?;
    ok(message_json(setup, state, &edited))
}

/// Applies an edit to a stored message unless it would leave it empty;
/// returns the message as it now stands.
fn apply_edit(stored: &mut Stored, body: MessageBody) -> Result<Stored, ApiError> {
    let mut msg = stored.msg.clone();
    body.apply(&mut msg);
    if is_empty_message(&msg) {
        return Err(cannot_send_empty());
    }
    stored.msg = msg;
    stored.edited_timestamp = Some(now_timestamp());
    Ok(stored.clone())
}

/// `limit` (1–100, default 50) messages, newest first, `before`/`after` an id.
fn list_messages(setup: &FakeDiscordSetup, state: &State, channel: &str, query: &str) -> Api {
    if !state.channel_exists(channel) {
        return Err(unknown_channel());
    }
    let mut limit = 50;
    let mut before = None;
    let mut after = None;
    for (k, v) in query.split('&').filter_map(|kv| kv.split_once('=')) {
        match k {
            "limit" => match v.parse::<usize>() {
                Ok(n) if (1..=100).contains(&n) => limit = n,
                _ => {
                    return Err(ApiError::form(
                        "limit",
                        "NUMBER_TYPE_MAX",
                        "int value should be between 1 and 100.",
                    ));
                }
            },
            "before" => before = v.parse::<u64>().ok(),
            "after" => after = v.parse::<u64>().ok(),
            _ => {}
        }
    }
    let all: Vec<&Stored> = state
        .messages
        .get(channel)
        .map(|ms| ms.iter().collect())
        .unwrap_or_default();
    let num = |m: &Stored| m.msg.id.parse::<u64>().unwrap_or(0);
    let picked: Vec<&Stored> = if let Some(after) = after {
        // The `limit` messages right after `after`, still newest first.
        let mut v: Vec<&Stored> = all
            .into_iter()
            .filter(|m| num(m) > after)
            .take(limit)
            .collect();
        v.reverse();
        v
    } else {
        all.into_iter()
            .rev()
            .filter(|m| before.is_none_or(|b| num(m) < b))
            .take(limit)
            .collect()
    };
    ok(picked
        .into_iter()
        .map(|m| message_json(setup, state, m))
        .collect())
}

fn new_thread(state: &mut State, thread: Thread) {
    let now = now_timestamp();
    state.threads.push(ThreadState {
        thread,
        archive_timestamp: now.clone(),
        create_timestamp: now,
    });
}

fn thread_from_message(
    setup: &FakeDiscordSetup,
    state: &mut State,
    channel: &str,
    message: &str,
    body: &Value,
) -> Api {
    if state.thread(channel).is_some() {
        return Err(wrong_channel_type());
    }
    let parent = state.channel(channel).ok_or_else(unknown_channel)?;
    if parent.kind != GUILD_TEXT {
        return Err(wrong_channel_type());
    }
    let name = check_thread_name(body, true)?.unwrap_or_default();
    let duration = check_archive_duration(body)?.unwrap_or(1440);
    state.find(channel, message).ok_or_else(unknown_message)?;
    // Discord gives the thread the starting message's id.
    if state.thread(message).is_some() {
        return Err(ApiError::new(
            400,
            160004,
            "A thread has already been created for this message",
        ));
    }
    let thread = Thread {
        id: message.to_string(),
        parent_id: channel.to_string(),
        name,
        owner_id: setup.bot_user_id.clone(),
        archived: false,
        locked: false,
        applied_tags: vec![],
        auto_archive_duration: duration,
        from_message: Some(message.to_string()),
    };
    new_thread(state, thread);
    ok(thread_json(setup, state, state.thread(message).unwrap()))
}

fn forum_post(setup: &FakeDiscordSetup, state: &mut State, channel: &str, body: &Value) -> Api {
    if state.thread(channel).is_some() {
        return Err(wrong_channel_type());
    }
    let forum = state.channel(channel).ok_or_else(unknown_channel)?;
    // Threads without a starting message in text channels are not modelled.
    if forum.kind != GUILD_FORUM {
        return Err(wrong_channel_type());
    }
    let name = check_thread_name(body, true)?.unwrap_or_default();
    let duration = check_archive_duration(body)?.unwrap_or(4320);
    let tags = check_applied_tags(Some(forum), body)?.unwrap_or_default();
    if forum.flags & REQUIRE_TAG != 0 && tags.is_empty() {
        return Err(ApiError::new(
            400,
            40067,
            "A tag is required to create a forum post in this channel",
        ));
    }
    let Some(message) = body.get("message").filter(|m| m.is_object()) else {
        return Err(field_required("message"));
    };
    let parsed = message_body(message, "message", true)?;
    // The starter message has the thread's id and lives in the thread.
    let id = state.next_id();
    let thread = Thread {
        id: id.clone(),
        parent_id: channel.to_string(),
        name,
        owner_id: setup.bot_user_id.clone(),
        archived: false,
        locked: false,
        applied_tags: tags,
        auto_archive_duration: duration,
        from_message: None,
    };
    new_thread(state, thread);
    state.store(new_stored(id.clone(), &id, &setup.bot_user_id, parsed));
    let mut out = thread_json(setup, state, state.thread(&id).unwrap());
    out["message"] = message_json(setup, state, state.find(&id, &id).unwrap());
    Ok(Reply::Json(201, out))
}

/// A unicode emoji (something non-ASCII) or a custom one as `name:id`;
/// Discord answers anything else (`:thumbsup:`, `thumbsup`) with 10014.
fn valid_emoji(emoji: &str) -> bool {
    match emoji.split_once(':') {
        Some((name, id)) => {
            !name.is_empty() && !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())
        }
        None => !emoji.is_ascii(),
    }
}

fn react(state: &mut State, add: bool, channel: &str, message: &str, emoji: &str) -> Api {
    if !state.channel_exists(channel) {
        return Err(unknown_channel());
    }
    state.find(channel, message).ok_or_else(unknown_message)?;
    if !valid_emoji(emoji) {
        return Err(ApiError::new(400, 10014, "Unknown Emoji"));
    }
    let key = (channel.to_string(), message.to_string(), emoji.to_string());
    let existing = state.bot_reactions.iter().position(|r| *r == key);
    match (add, existing) {
        (true, None) => state.bot_reactions.push(key),
        (false, Some(i)) => {
            state.bot_reactions.remove(i);
        }
        // Reacting twice, or removing what is not there, is a quiet no-op.
        _ => {}
    }
    Ok(Reply::NoContent)
}

// ---------------------------------------------------------------------------
// REST: commands
// ---------------------------------------------------------------------------

/// Command and option names: lowercase letters (any script), digits, `-`, `_`.
fn valid_command_name(name: &str) -> bool {
    let n = name.chars().count();
    (1..=32).contains(&n)
        && name.chars().all(|c| {
            c == '-' || c == '_' || c.is_numeric() || (c.is_alphabetic() && !c.is_uppercase())
        })
}

fn bad_name(path: &str) -> ApiError {
    ApiError::form(
        path,
        "APPLICATION_COMMAND_INVALID_NAME",
        "Command name is invalid",
    )
}

/// Options of a command or subcommand: at most 25, valid unique names,
/// descriptions 1–100, required ones first, subcommands checked likewise.
fn check_options(options: &[Value], path: &str) -> Result<(), ApiError> {
    check_count(path, options.len(), 25)?;
    let mut names: Vec<&str> = vec![];
    let mut optional_seen = false;
    for (i, o) in options.iter().enumerate() {
        let at = format!("{path}.{i}");
        let name = o.get("name").and_then(Value::as_str).unwrap_or("");
        if !valid_command_name(name) {
            return Err(bad_name(&format!("{at}.name")));
        }
        if names.contains(&name) {
            return Err(ApiError::form(
                &format!("{at}.name"),
                "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS",
                "Option names must be unique",
            ));
        }
        names.push(name);
        let description = o.get("description").and_then(Value::as_str).unwrap_or("");
        check_len(&format!("{at}.description"), description, 1, 100)?;
        check_count(&format!("{at}.choices"), array(o, "choices").len(), 25)?;
        let required = o.get("required").and_then(Value::as_bool) == Some(true);
        if required && optional_seen {
            return Err(ApiError::form(
                &format!("{at}.required"),
                "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                "Required options must be placed before non-required options",
            ));
        }
        optional_seen |= !required;
        match o.get("type").and_then(Value::as_u64) {
            Some(1 | 2) => check_options(array(o, "options"), &format!("{at}.options"))?,
            Some(3..=11) => {}
            _ => {
                return Err(ApiError::form(
                    &format!("{at}.type"),
                    "BASE_TYPE_CHOICES",
                    "Value must be one of {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}.",
                ));
            }
        }
    }
    Ok(())
}

/// One command as Discord stores it: the fields sent plus id (kept for a
/// name already registered), application_id, guild_id, version (new when
/// the command changed) and the defaults Discord fills in.
fn store_command(
    setup: &FakeDiscordSetup,
    state: &mut State,
    existing: &[Value],
    c: &Value,
    path: &str,
) -> Result<Value, ApiError> {
    let Some(fields) = c.as_object() else {
        return Err(ApiError::form(
            path,
            "MODEL_TYPE_CONVERT",
            "Only dictionaries may be used in a ModelType",
        ));
    };
    let kind = c.get("type").and_then(Value::as_u64).unwrap_or(1);
    let name = c.get("name").and_then(Value::as_str).unwrap_or("");
    let description = c.get("description").and_then(Value::as_str).unwrap_or("");
    if kind == 1 {
        if !valid_command_name(name) {
            return Err(bad_name(&join_path(path, "name")));
        }
        check_len(&join_path(path, "description"), description, 1, 100)?;
    } else {
        // User and message commands: any 1–32 characters, no description.
        check_len(&join_path(path, "name"), name, 1, 32)?;
        check_len(&join_path(path, "description"), description, 0, 0)?;
    }
    check_options(array(c, "options"), &join_path(path, "options"))?;
    let mut stored = Map::new();
    stored.insert("type".into(), json!(kind));
    stored.insert("description".into(), json!(description));
    stored.insert("options".into(), json!([]));
    stored.insert("dm_permission".into(), json!(true));
    stored.insert("nsfw".into(), json!(false));
    stored.insert("contexts".into(), Value::Null);
    stored.insert("integration_types".into(), json!([0]));
    stored.insert("name_localizations".into(), Value::Null);
    stored.insert("description_localizations".into(), Value::Null);
    for (k, v) in fields {
        if !v.is_null() && k != "id" {
            stored.insert(k.clone(), v.clone());
        }
    }
    // A permission bitset is a string on the wire.
    let permissions = match c.get("default_member_permissions") {
        Some(Value::Number(n)) => json!(n.to_string()),
        Some(Value::String(s)) => json!(s),
        _ => Value::Null,
    };
    stored.insert("default_member_permissions".into(), permissions);
    stored.insert("application_id".into(), json!(setup.application_id));
    stored.insert("guild_id".into(), json!(setup.guild_id));
    let previous = existing
        .iter()
        .find(|e| e["name"].as_str() == Some(name) && e["type"].as_u64() == Some(kind));
    let unchanged = |prev: &Value| {
        let mut a = prev.clone();
        a.as_object_mut().unwrap().remove("id");
        a.as_object_mut().unwrap().remove("version");
        a == Value::Object(stored.clone())
    };
    let (id, version) = match previous {
        Some(prev) if unchanged(prev) => (prev["id"].clone(), prev["version"].clone()),
        Some(prev) => (prev["id"].clone(), json!(state.next_id())),
        None => (json!(state.next_id()), json!(state.next_id())),
    };
    stored.insert("id".into(), id);
    stored.insert("version".into(), version);
    Ok(Value::Object(stored))
}

/// `PUT …/commands`: the body replaces every command.
fn put_commands(
    setup: &FakeDiscordSetup,
    state: &mut State,
    body: &Value,
) -> Result<Vec<Value>, ApiError> {
    let Some(commands) = body.as_array() else {
        return Err(ApiError::form("", "BASE_TYPE_ARRAY", "Must be an array."));
    };
    check_count("", commands.len(), 100)?;
    let existing = state.commands.clone();
    let mut out: Vec<Value> = vec![];
    for (i, c) in commands.iter().enumerate() {
        let stored = store_command(setup, state, &existing, c, &i.to_string())?;
        if out
            .iter()
            .any(|o| o["name"] == stored["name"] && o["type"] == stored["type"])
        {
            return Err(ApiError::form(
                &format!("{i}.name"),
                "APPLICATION_COMMANDS_DUPLICATE_NAME",
                "Application command names must be unique",
            ));
        }
        out.push(stored);
    }
    Ok(out)
}

/// `POST …/commands`: creates (201) or overwrites (200) the command of that name.
fn upsert_command(setup: &FakeDiscordSetup, state: &mut State, body: &Value) -> Api {
    let existing = state.commands.clone();
    let stored = store_command(setup, state, &existing, body, "")?;
    let same = |c: &Value| c["name"] == stored["name"] && c["type"] == stored["type"];
    let status = match state.commands.iter_mut().find(|c| same(c)) {
        Some(c) => {
            *c = stored.clone();
            200
        }
        None => {
            state.commands.push(stored.clone());
            201
        }
    };
    Ok(Reply::Json(status, stored))
}

// ---------------------------------------------------------------------------
// REST: interactions
// ---------------------------------------------------------------------------

/// A modal (callback type 9): custom_id, title ≤ 45, 1–5 action rows each
/// holding one text input.
fn check_modal(data: &Value) -> Result<(), ApiError> {
    check_len(
        "data.custom_id",
        data.get("custom_id").and_then(Value::as_str).unwrap_or(""),
        1,
        100,
    )?;
    check_len(
        "data.title",
        data.get("title").and_then(Value::as_str).unwrap_or(""),
        1,
        45,
    )?;
    let rows = array(data, "components");
    if rows.is_empty() || rows.len() > 5 {
        return Err(ApiError::form(
            "data.components",
            "BASE_TYPE_BAD_LENGTH",
            "Must be between 1 and 5 in length.",
        ));
    }
    for (i, row) in rows.iter().enumerate() {
        let at = format!("data.components.{i}");
        let inputs = array(row, "components");
        if row.get("type").and_then(Value::as_u64) != Some(1) || inputs.len() != 1 {
            return Err(ApiError::form(
                &at,
                "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                "An action row in a modal holds exactly one text input",
            ));
        }
        let input = &inputs[0];
        let at = format!("{at}.components.0");
        if input.get("type").and_then(Value::as_u64) != Some(4) {
            return Err(ApiError::form(
                &format!("{at}.type"),
                "COMPONENT_TYPE_INVALID",
                "The specified component type is invalid in this context",
            ));
        }
        check_len(
            &format!("{at}.custom_id"),
            input.get("custom_id").and_then(Value::as_str).unwrap_or(""),
            1,
            100,
        )?;
        check_len(
            &format!("{at}.label"),
            input.get("label").and_then(Value::as_str).unwrap_or(""),
            1,
            45,
        )?;
        if !matches!(input.get("style").and_then(Value::as_u64), Some(1 | 2)) {
            return Err(ApiError::form(
                &format!("{at}.style"),
                "BASE_TYPE_CHOICES",
                "Value must be one of {1, 2}.",
            ));
        }
        for (field, min) in [("min_length", 0), ("max_length", 1)] {
            if let Some(n) = input.get(field).filter(|v| !v.is_null())
                && !n.as_u64().is_some_and(|n| (min..=4000).contains(&n))
            {
                return Err(ApiError::form(
                    &format!("{at}.{field}"),
                    "NUMBER_TYPE_MAX",
                    format!("int value should be between {min} and 4000."),
                ));
            }
        }
        opt_str(input, &at, "value", 4000)?;
        opt_str(input, &at, "placeholder", 100)?;
    }
    Ok(())
}

fn interaction_callback(
    setup: &FakeDiscordSetup,
    state: &mut State,
    id: &str,
    token: &str,
    body: &Value,
) -> Api {
    let deadline = setup.interaction_deadline;
    let i = state
        .interactions
        .get(id)
        .filter(|i| i.token == token)
        .ok_or_else(unknown_interaction)?;
    if i.ack.is_some() {
        return Err(ApiError::new(
            400,
            40060,
            "Interaction has already been acknowledged",
        ));
    }
    let after = i.since_dispatch();
    if after > deadline {
        return Err(unknown_interaction());
    }
    let kind = body.get("type").and_then(Value::as_u64).unwrap_or(0);
    let data = body.get("data").cloned().unwrap_or(Value::Null);
    let empty = Value::Object(Map::new());
    let data_or_empty = if data.is_object() { &data } else { &empty };
    // Which callbacks fit which interaction: updates only for components (and
    // modals opened from them), modals not in answer to a modal.
    let fits = match kind {
        1 | 4 | 5 => true,
        6 | 7 => i.kind != 2,
        9 => i.kind != 5,
        _ => false,
    };
    if !fits {
        return Err(ApiError::form(
            "type",
            "INTERACTION_RESPONSE_TYPE_INVALID",
            format!("Interaction response type {kind} is not valid for this interaction"),
        ));
    }
    let (interaction_kind, channel, message) = (i.kind, i.channel.clone(), i.message.clone());
    let mut original = None;
    match kind {
        4 => {
            let parsed = message_body(data_or_empty, "data", true)?;
            original = Some(parsed);
        }
        5 => {
            // The "thinking…" placeholder: LOADING, plus EPHEMERAL if asked.
            let flags = data_or_empty
                .get("flags")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            original = Some(MessageBody {
                flags: Some(flags | LOADING),
                ..MessageBody::default()
            });
        }
        7 => {
            let parsed = message_body(data_or_empty, "data", false)?;
            // UPDATE_MESSAGE edits the message the component is on.
            if let Some(m) = message.as_deref().and_then(|m| state.find_mut(&channel, m)) {
                apply_edit(m, parsed)?;
            }
        }
        9 => check_modal(data_or_empty)?,
        _ => {}
    }
    let original = original.map(|body| {
        let mut stored = new_stored(state.next_id(), &channel, &setup.bot_user_id, body);
        stored.webhook_id = Some(setup.application_id.clone());
        stored.kind = if interaction_kind == 2 { 20 } else { 0 };
        stored
    });
    let i = state.interactions.get_mut(id).unwrap();
    i.ack = Some((kind, Instant::now()));
    i.original = original;
    state.interaction_responses.push(InteractionResponse {
        interaction_id: id.to_string(),
        token: token.to_string(),
        kind,
        data,
        after,
    });
    Ok(Reply::NoContent)
}

/// The interaction whose webhook `token` is usable: acknowledged with a
/// message, a deferral or an update, less than 15 minutes ago.
fn webhook_interaction<'a>(
    state: &'a mut State,
    token: &str,
) -> Result<&'a mut InteractionState, ApiError> {
    state
        .interactions
        .values_mut()
        .find(|i| i.token == token)
        .filter(|i| {
            i.ack
                .is_some_and(|(kind, at)| matches!(kind, 4..=7) && at.elapsed() < FOLLOWUP_WINDOW)
        })
        .ok_or_else(unknown_webhook)
}

fn followup(setup: &FakeDiscordSetup, state: &mut State, token: &str, body: &Value) -> Api {
    let channel = webhook_interaction(state, token)?.channel.clone();
    let parsed = message_body(body, "", true)?;
    let mut stored = new_stored(state.next_id(), &channel, &setup.bot_user_id, parsed);
    stored.webhook_id = Some(setup.application_id.clone());
    state.followups.push(Followup {
        token: token.to_string(),
        original: false,
        data: body.clone(),
    });
    ok(message_json(setup, state, &stored))
}

/// `GET`/`PATCH …/messages/@original`: the response message of a type 4/5
/// callback, or, after a type 6/7 update, the message the component is on.
fn original_response(
    setup: &FakeDiscordSetup,
    state: &mut State,
    token: &str,
    edit: Option<&Value>,
) -> Api {
    let parsed = match edit {
        Some(body) => Some(message_body(body, "", false)?),
        None => None,
    };
    let i = webhook_interaction(state, token)?;
    let target = match (&mut i.original, &i.message) {
        (Some(original), _) => Ok(original),
        (None, Some(message)) => Err((i.channel.clone(), message.clone())),
        (None, None) => return Err(unknown_message()),
    };
    let stored = match (target, parsed) {
        (Ok(original), Some(mut parsed)) => {
            // Editing the deferred placeholder turns it into the message.
            if original.msg.flags & LOADING != 0 && parsed.flags.is_none() {
                parsed.flags = Some(original.msg.flags & !LOADING);
            }
            apply_edit(original, parsed)?
        }
        (Ok(original), None) => original.clone(),
        (Err((channel, message)), parsed) => {
            let m = state
                .find_mut(&channel, &message)
                .ok_or_else(unknown_message)?;
            match parsed {
                Some(parsed) => apply_edit(m, parsed)?,
                None => m.clone(),
            }
        }
    };
    if let Some(body) = edit {
        state.followups.push(Followup {
            token: token.to_string(),
            original: true,
            data: body.clone(),
        });
    }
    ok(message_json(setup, state, &stored))
}

// ---------------------------------------------------------------------------
// JSON renderings
// ---------------------------------------------------------------------------

fn username(setup: &FakeDiscordSetup, id: &str) -> String {
    if id == setup.bot_user_id {
        return BOT_USERNAME.into();
    }
    setup
        .members
        .get(id)
        .map(|(name, _)| name.clone())
        .unwrap_or_else(|| format!("user{}", &id[id.len().saturating_sub(4)..]))
}

fn user_json(setup: &FakeDiscordSetup, id: &str) -> Value {
    let name = username(setup, id);
    let bot = id == setup.bot_user_id;
    // People have a display name; bots usually do not.
    let global_name = (!bot).then(|| {
        let mut chars = name.chars();
        chars
            .next()
            .map(|c| c.to_uppercase().chain(chars).collect::<String>())
            .unwrap_or_default()
    });
    json!({
        "id": id,
        "username": name,
        "discriminator": "0",
        "global_name": global_name,
        "avatar": null,
        "bot": bot,
        "public_flags": 0,
        "avatar_decoration_data": null,
    })
}

fn member_roles(setup: &FakeDiscordSetup, user: &str) -> Vec<String> {
    setup
        .members
        .get(user)
        .map(|(_, roles)| roles.clone())
        .unwrap_or_default()
}

fn member_permissions(setup: &FakeDiscordSetup, user: &str) -> u64 {
    if user == setup.bot_user_id {
        BOT_PERMISSIONS
    } else {
        EVERYONE_PERMISSIONS
    }
}

/// A guild member. MESSAGE_CREATE carries it without `user`; interactions
/// add the member's `permissions` in the channel.
fn member_json(
    setup: &FakeDiscordSetup,
    user: &str,
    with_user: bool,
    with_permissions: bool,
) -> Value {
    let mut v = json!({
        "roles": member_roles(setup, user),
        "nick": null,
        "avatar": null,
        "banner": null,
        "joined_at": JOINED_AT,
        "premium_since": null,
        "deaf": false,
        "mute": false,
        "flags": 0,
        "pending": false,
        "communication_disabled_until": null,
        "unusual_dm_activity_until": null,
    });
    if with_user {
        v["user"] = user_json(setup, user);
    }
    if with_permissions {
        v["permissions"] = json!(member_permissions(setup, user).to_string());
    }
    v
}

fn roles_json(setup: &FakeDiscordSetup) -> Value {
    let role = |id: &str, name: &str, position: u64, permissions: u64| {
        json!({
            "id": id,
            "name": name,
            "description": null,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": null, "tertiary_color": null},
            "hoist": false,
            "icon": null,
            "unicode_emoji": null,
            "position": position,
            "permissions": permissions.to_string(),
            "managed": false,
            "mentionable": false,
            "flags": 0,
        })
    };
    let mut ids: Vec<&String> = setup.members.values().flat_map(|(_, r)| r).collect();
    ids.sort();
    ids.dedup();
    let mut roles = vec![role(&setup.guild_id, "@everyone", 0, EVERYONE_PERMISSIONS)];
    for (i, id) in ids.into_iter().enumerate() {
        let name = match id.as_str() {
            AGENT_ROLE => "agent".to_string(),
            APPROVER_ROLE => "approver".to_string(),
            other => format!("role-{other}"),
        };
        roles.push(role(id, &name, i as u64 + 1, 0));
    }
    Value::from(roles)
}

fn guild_channel_json(setup: &FakeDiscordSetup, state: &State, c: &ChannelSetup) -> Value {
    let position = state
        .channels
        .iter()
        .position(|x| x.id == c.id)
        .unwrap_or(0);
    // A forum's last message id is its newest post's.
    let last_message_id = if c.kind == GUILD_FORUM {
        state
            .threads
            .iter()
            .rev()
            .find(|t| t.thread.parent_id == c.id)
            .map(|t| t.thread.id.clone())
    } else {
        state
            .messages
            .get(&c.id)
            .and_then(|ms| ms.last())
            .map(|m| m.msg.id.clone())
    };
    let mut v = json!({
        "id": c.id,
        "type": c.kind,
        "guild_id": setup.guild_id,
        "name": c.name,
        "position": position,
        "permission_overwrites": [],
        "parent_id": null,
        "nsfw": false,
        "topic": null,
        "last_message_id": last_message_id,
        "rate_limit_per_user": 0,
        "flags": c.flags,
    });
    if c.kind == GUILD_FORUM {
        merge(
            &mut v,
            json!({
                "available_tags": c.available_tags,
                "default_auto_archive_duration": 4320,
                "default_reaction_emoji": null,
                "default_thread_rate_limit_per_user": 0,
                "default_sort_order": null,
                "default_forum_layout": 0,
            }),
        );
    }
    v
}

fn thread_json(setup: &FakeDiscordSetup, state: &State, t: &ThreadState) -> Value {
    let messages = state.messages.get(&t.thread.id);
    // Discord does not count a forum post's starter message.
    let count = messages
        .map(|ms| ms.iter().filter(|m| m.msg.id != t.thread.id).count())
        .unwrap_or(0);
    json!({
        "id": t.thread.id,
        "type": PUBLIC_THREAD,
        "guild_id": setup.guild_id,
        "parent_id": t.thread.parent_id,
        "owner_id": t.thread.owner_id,
        "name": t.thread.name,
        "last_message_id": messages.and_then(|ms| ms.last()).map(|m| m.msg.id.clone()),
        "rate_limit_per_user": 0,
        "flags": 0,
        "message_count": count,
        "total_message_sent": count,
        "member_count": 1,
        "thread_metadata": {
            "archived": t.thread.archived,
            "auto_archive_duration": t.thread.auto_archive_duration,
            "archive_timestamp": t.archive_timestamp,
            "locked": t.thread.locked,
            "create_timestamp": t.create_timestamp,
        },
        "applied_tags": t.thread.applied_tags,
    })
}

/// A guild channel or thread by id.
fn channel_json(setup: &FakeDiscordSetup, state: &State, id: &str) -> Option<Value> {
    if let Some(c) = state.channel(id) {
        return Some(guild_channel_json(setup, state, c));
    }
    state.thread(id).map(|t| thread_json(setup, state, t))
}

fn message_json(setup: &FakeDiscordSetup, state: &State, s: &Stored) -> Value {
    let m = &s.msg;
    let mut v = json!({
        "id": m.id,
        "channel_id": m.channel_id,
        "guild_id": setup.guild_id,
        "author": user_json(setup, &m.author_id),
        "content": m.content,
        "timestamp": s.timestamp,
        "edited_timestamp": s.edited_timestamp,
        "tts": false,
        "mention_everyone": false,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": m.embeds,
        "pinned": false,
        "type": s.kind,
        "flags": m.flags,
        "components": m.components,
    });
    if let Some(nonce) = &m.nonce {
        v["nonce"] = json!(nonce);
    }
    if let Some(webhook) = &s.webhook_id {
        v["webhook_id"] = json!(webhook);
        v["application_id"] = json!(webhook);
    }
    if let Some(reference) = &s.reference {
        v["message_reference"] = reference.clone();
        let target = state.find(
            reference["channel_id"].as_str().unwrap_or(""),
            reference["message_id"].as_str().unwrap_or(""),
        );
        // One level deep: the referenced message without its own reference.
        v["referenced_message"] = match target {
            Some(t) => {
                let mut t = t.clone();
                t.reference = None;
                message_json(setup, state, &t)
            }
            None => Value::Null,
        };
    }
    // A message that started a thread carries the thread.
    if m.channel_id != m.id
        && let Some(t) = state.thread(&m.id)
    {
        v["thread"] = thread_json(setup, state, t);
    }
    v
}

// ---------------------------------------------------------------------------
// Gateway
// ---------------------------------------------------------------------------

async fn accept_gateway(listener: tokio::net::TcpListener, shared: Arc<Shared>) {
    while let Ok((stream, _)) = listener.accept().await {
        tokio::spawn(serve_gateway(stream, shared.clone()));
    }
}

async fn serve_gateway(stream: tokio::net::TcpStream, shared: Arc<Shared>) {
    let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    let (tx, mut rx) = mpsc::unbounded_channel();
    let index = {
        let mut state = shared.lock();
        state.conns.push(Conn {
            tx,
            live: true,
            session: None,
            ready: false,
        });
        state.conns.len() - 1
    };
    shared.state.notify();
    let hello =
        json!({"op": 10, "s": null, "t": null, "d": {"heartbeat_interval": HEARTBEAT_INTERVAL_MS}});
    if ws.send(WsMessage::text(hello.to_string())).await.is_ok() {
        gateway_loop(&mut ws, &mut rx, &shared, index).await;
    }
    let mut state = shared.lock();
    state.conns[index].live = false;
    state.conns[index].ready = false;
    drop(state);
    shared.state.notify();
}

enum GwEvent {
    Incoming(Option<Result<WsMessage, tokio_tungstenite::tungstenite::Error>>),
    Command(Option<GwCmd>),
}

async fn gateway_loop(
    ws: &mut tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>,
    rx: &mut mpsc::UnboundedReceiver<GwCmd>,
    shared: &Shared,
    index: usize,
) {
    loop {
        let event = tokio::select! {
            m = ws.next() => GwEvent::Incoming(m),
            c = rx.recv() => GwEvent::Command(c),
        };
        match event {
            GwEvent::Incoming(Some(Ok(WsMessage::Text(text)))) => {
                client_frame(shared, index, text.as_str());
                shared.state.notify();
            }
            GwEvent::Incoming(Some(Ok(WsMessage::Ping(_)))) => {
                // tungstenite queued the pong; flush it now.
                let _ = ws.flush().await;
            }
            GwEvent::Incoming(Some(Ok(WsMessage::Close(_)) | Err(_)) | None) => return,
            GwEvent::Incoming(Some(Ok(_))) => {}
            GwEvent::Command(Some(GwCmd::Send(text))) => {
                if ws.send(WsMessage::text(text)).await.is_err() {
                    return;
                }
            }
            GwEvent::Command(Some(GwCmd::Close(code, reason))) => {
                let frame = CloseFrame {
                    code: CloseCode::from(code),
                    reason: reason.into(),
                };
                let _ = ws.close(Some(frame)).await;
                // Wait for the client's answering close (or its hang-up).
                let _ = tokio::time::timeout(Duration::from_secs(2), async {
                    while let Some(Ok(_)) = ws.next().await {}
                })
                .await;
                return;
            }
            // Dropping the stream closes the TCP connection with no close frame.
            GwEvent::Command(Some(GwCmd::Drop) | None) => return,
        }
    }
}

/// Handles one frame from a client. Replies go through the connection's own
/// queue, under the lock, so READY, replays and dispatches keep their order.
fn client_frame(shared: &Shared, index: usize, text: &str) {
    let setup = &shared.setup;
    let mut state = shared.lock();
    let tx = state.conns[index].tx.clone();
    let send = |v: Value| {
        let _ = tx.send(GwCmd::Send(v.to_string()));
    };
    let close = |code: u16, reason: &str| {
        let _ = tx.send(GwCmd::Close(code, reason.into()));
    };
    let Ok(frame) = serde_json::from_str::<Value>(text) else {
        state.frames.push(Value::String(text.to_string()));
        close(4002, "Error while decoding payload.");
        return;
    };
    state.frames.push(frame.clone());
    let d = frame.get("d").cloned().unwrap_or(Value::Null);
    let token_ok = |d: &Value| {
        let token = d.get("token").and_then(Value::as_str).unwrap_or("");
        token.strip_prefix("Bot ").unwrap_or(token) == setup.token
    };
    let identified = state.conns[index].session.is_some();
    match frame.get("op").and_then(Value::as_u64) {
        Some(1) => send(json!({"op": 11})),
        Some(2) => {
            state.identifies.push(d.clone());
            let intents = d.get("intents").and_then(Value::as_u64).unwrap_or(0);
            if identified {
                close(4005, "Already authenticated.");
            } else if !token_ok(&d) {
                close(4004, "Authentication failed.");
            } else if intents & MESSAGE_CONTENT_INTENT != 0 && !setup.message_content_allowed {
                close(4014, "Disallowed intent(s).");
            } else {
                let shard = d.get("shard").cloned().unwrap_or(json!([0, 1]));
                start_session(setup, &mut state, index, &shared.gateway_addr, shard);
            }
        }
        Some(6) => {
            let session_id = d.get("session_id").and_then(Value::as_str).unwrap_or("");
            let seq = d.get("seq").and_then(Value::as_u64).unwrap_or(0);
            if !token_ok(&d) {
                close(4004, "Authentication failed.");
            } else if let Some(session) = state.sessions.iter_mut().find(|s| s.id == session_id) {
                for event in session.events.iter_mut().filter(|e| e.seq > seq) {
                    send(event.frame.clone());
                    event.delivered = true;
                }
                session.seq += 1;
                send(
                    json!({"op": 0, "s": session.seq, "t": "RESUMED", "d": {"_trace": ["fake-discord"]}}),
                );
                let conn = &mut state.conns[index];
                conn.session = Some(session_id.to_string());
                conn.ready = true;
            } else {
                // Not resumable: the client must identify afresh.
                send(json!({"op": 9, "d": false}));
            }
        }
        // Presence, voice state, member requests, soundboard: accepted, ignored.
        Some(3 | 4 | 8 | 31) if identified => {}
        Some(3 | 4 | 8 | 31) => close(4003, "Not authenticated."),
        _ => close(4001, "Unknown opcode."),
    }
}

/// IDENTIFY accepted: a new session, READY, then every event no client has
/// been handed yet. (Discord would drop a dead session's events; the fake
/// hands them to the new one so a test's dispatch is not lost to reconnect
/// timing.)
fn start_session(
    setup: &FakeDiscordSetup,
    state: &mut State,
    index: usize,
    gateway_addr: &SocketAddr,
    shard: Value,
) {
    let id = format!("fake-session-{}", state.sessions.len() + 1);
    let ready = json!({
        "op": 0,
        "s": 1,
        "t": "READY",
        "d": {
            "v": 10,
            "user": user_json(setup, &setup.bot_user_id),
            "guilds": [{"id": setup.guild_id, "unavailable": true}],
            "session_id": id,
            "resume_gateway_url": format!("ws://{gateway_addr}"),
            "shard": shard,
            "application": {"id": setup.application_id, "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "_trace": ["fake-discord"],
        },
    });
    let mut carried: Vec<(String, Value)> = vec![];
    for session in &mut state.sessions {
        let (undelivered, kept): (Vec<_>, Vec<_>) =
            session.events.drain(..).partition(|e| !e.delivered);
        session.events = kept;
        carried.extend(undelivered.into_iter().map(|e| {
            (
                e.frame["t"].as_str().unwrap_or("").to_string(),
                e.frame["d"].clone(),
            )
        }));
    }
    carried.append(&mut state.pending);
    state.sessions.push(Session {
        id: id.clone(),
        seq: 1,
        events: vec![],
    });
    let conn = &mut state.conns[index];
    let _ = conn.tx.send(GwCmd::Send(ready.to_string()));
    conn.session = Some(id);
    conn.ready = true;
    for (event, data) in carried {
        state.dispatch_event(&event, data);
    }
}

// ---------------------------------------------------------------------------
// Inbound payload builders
// ---------------------------------------------------------------------------

/// An option's type from its value: 3 string, 4 integer, 5 boolean, 10 number.
fn option_type(v: &Value) -> u64 {
    match v {
        Value::String(_) => 3,
        Value::Number(n) if n.is_i64() || n.is_u64() => 4,
        Value::Number(_) => 10,
        Value::Bool(_) => 5,
        other => panic!("slash_command: unsupported option value {other}"),
    }
}

impl FakeDiscord {
    /// A MESSAGE_CREATE from `author` (a person) in a channel or thread, with
    /// `guild_id` and `member` as Discord sends them. The message is stored in
    /// the world (a post in an archived, unlocked thread reopens it), so
    /// reactions and replies can refer to it. Returns (message id, payload).
    pub fn message_create(&self, channel: &str, author: &str, content: &str) -> (String, Value) {
        let setup = &self.shared.setup;
        let mut state = self.shared.lock();
        // A channel the world does not know is fine (its messages are kept
        // anyway); a forum or a locked thread is a test bug.
        match check_postable(&state, channel) {
            Ok(reopened) => reopen(&mut state, reopened),
            Err(e) if e.code == 10003 => {}
            Err(e) => panic!("message_create: cannot post in {channel}: {e:?}"),
        }
        let id = state.next_id();
        let body = MessageBody {
            content: Some(content.to_string()),
            ..MessageBody::default()
        };
        let stored = new_stored(id.clone(), channel, author, body);
        let mut payload = message_json(setup, &state, &stored);
        payload["member"] = member_json(setup, author, false, false);
        state.store(stored);
        drop(state);
        self.shared.state.notify();
        (id, payload)
    }

    /// A MESSAGE_REACTION_ADD: `user` reacted with `emoji` (unicode, or
    /// `name:id` for a custom emoji) on `message`.
    pub fn reaction_add(&self, user: &str, channel: &str, message: &str, emoji: &str) -> Value {
        let mut v = self.reaction(user, channel, message, emoji);
        v["member"] = member_json(&self.shared.setup, user, true, false);
        let state = self.shared.lock();
        if let Some(m) = state.find(channel, message) {
            v["message_author_id"] = json!(m.msg.author_id);
        }
        v["burst_colors"] = json!([]);
        v
    }

    /// A MESSAGE_REACTION_REMOVE (Discord sends no member with it).
    pub fn reaction_remove(&self, user: &str, channel: &str, message: &str, emoji: &str) -> Value {
        self.reaction(user, channel, message, emoji)
    }

    fn reaction(&self, user: &str, channel: &str, message: &str, emoji: &str) -> Value {
        let emoji = match emoji.split_once(':') {
            Some((name, id)) => json!({"id": id, "name": name, "animated": false}),
            None => json!({"id": null, "name": emoji}),
        };
        json!({
            "user_id": user,
            "channel_id": channel,
            "message_id": message,
            "guild_id": self.shared.setup.guild_id,
            "emoji": emoji,
            "burst": false,
            "type": 0,
        })
    }

    /// `user` runs `/care <subcommand>` with `options` (strings become type
    /// 3, integers 4, booleans 5, floats 10) in `channel`: an INTERACTION_CREATE
    /// payload of type 2. Returns (interaction id, token, payload).
    pub fn slash_command(
        &self,
        user: &str,
        channel: &str,
        subcommand: &str,
        options: &[(&str, Value)],
    ) -> (String, String, Value) {
        let options: Vec<Value> = options
            .iter()
            .map(|(name, value)| json!({"name": name, "type": option_type(value), "value": value}))
            .collect();
        let command_id = self
            .registered_commands()
            .iter()
            .find(|c| c["name"] == "care")
            .map(|c| id_string(&c["id"]))
            .unwrap_or_else(|| CARE_COMMAND_ID.into());
        let data = json!({
            "id": command_id,
            "name": "care",
            "type": 1,
            "guild_id": self.shared.setup.guild_id,
            // Discord sends `options` even for a subcommand without any, and
            // serenity requires it.
            "options": [{"type": 1, "name": subcommand, "options": options}],
        });
        self.interaction(2, user, channel, None, data)
    }

    /// `user` clicks the button `custom_id` on the stored message: an
    /// INTERACTION_CREATE of type 3 carrying the message as it stands. Panics
    /// when the message or the button does not exist (the bot did not offer it).
    pub fn button_click(
        &self,
        user: &str,
        channel: &str,
        message: &str,
        custom_id: &str,
    ) -> (String, String, Value) {
        let msg = self
            .message(channel, message)
            .unwrap_or_else(|| panic!("button_click: no message {message} in {channel}"));
        let component = find_component(&msg.components, custom_id)
            .unwrap_or_else(|| panic!("button_click: no component {custom_id:?} on {msg:#?}"));
        assert_eq!(
            component.get("type").and_then(Value::as_u64),
            Some(2),
            "button_click: {custom_id:?} is not a button"
        );
        let data = json!({"custom_id": custom_id, "component_type": 2});
        let (id, token, mut v) =
            self.interaction(3, user, channel, Some(message.to_string()), data);
        let state = self.shared.lock();
        v["message"] = message_json(
            &self.shared.setup,
            &state,
            state.find(channel, message).unwrap(),
        );
        (id, token, v)
    }

    /// `user` submits the modal `custom_id` with text-input values `fields`
    /// (custom_id, value): an INTERACTION_CREATE of type 5.
    pub fn modal_submit(
        &self,
        user: &str,
        channel: &str,
        custom_id: &str,
        fields: &[(&str, &str)],
    ) -> (String, String, Value) {
        let rows: Vec<Value> = fields
            .iter()
            .map(|(id, value)| {
                json!({"type": 1, "components": [{"type": 4, "custom_id": id, "value": value}]})
            })
            .collect();
        let data = json!({"custom_id": custom_id, "components": rows});
        self.interaction(5, user, channel, None, data)
    }

    /// Registers an interaction (so callbacks can find it) and builds its
    /// payload with everything Discord and serenity's models have.
    fn interaction(
        &self,
        kind: u64,
        user: &str,
        channel: &str,
        message: Option<String>,
        data: Value,
    ) -> (String, String, Value) {
        let setup = &self.shared.setup;
        let mut state = self.shared.lock();
        let id = state.next_id();
        let token = format!("fake-interaction-token-{id}");
        state.interactions.insert(
            id.clone(),
            InteractionState {
                id: id.clone(),
                token: token.clone(),
                kind,
                channel: channel.to_string(),
                message,
                created: Instant::now(),
                dispatched: None,
                ack: None,
                original: None,
            },
        );
        let mut channel_obj = channel_json(setup, &state, channel)
            .unwrap_or_else(|| json!({"id": channel, "type": 0}));
        channel_obj["permissions"] = json!(member_permissions(setup, user).to_string());
        let v = json!({
            "id": id,
            "application_id": setup.application_id,
            "type": kind,
            "data": data,
            "guild_id": setup.guild_id,
            "guild": {"id": setup.guild_id, "locale": "en-US", "features": []},
            "channel_id": channel,
            "channel": channel_obj,
            "member": member_json(setup, user, true, true),
            "token": token,
            "version": 1,
            "app_permissions": BOT_PERMISSIONS.to_string(),
            "locale": "en-US",
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": setup.guild_id},
            "context": 0,
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
        });
        (id, token, v)
    }
}

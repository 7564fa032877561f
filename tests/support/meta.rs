//! A fake Meta Graph API (Facebook Pages, Messenger, Instagram) for
//! integration tests: a stateful world behind a local HTTP server that speaks
//! Graph's wire format — versioned paths (`/v21.0/…`), page access tokens in
//! `access_token` or `Authorization: Bearer`, JSON or form bodies, errors as
//! `{"error":{"message","type","code","error_subcode","fbtrace_id"}}`, usage
//! headers on every answer — and enforces the rules a customer-care bot
//! trips over: the 24-hour messaging window, the `HUMAN_AGENT` tag's 7 days,
//! one private reply per comment within 7 days, and tokens that act only on
//! their own page's objects. The last part of the file is the webhook side:
//! `X-Hub-Signature-256` signing and payloads in the shapes Meta delivers
//! (see `/work/shared/research/platforms.md` §4).
//!
//! The bot under test is pointed at [`FakeGraph::api_url`] (it appends
//! `v21.0/…`). The server runs on its own thread and runtime (see
//! `background.rs`), and every accessor is synchronous, for plain
//! `#[test] fn`s. Every request is recorded as a [`Call`], refused ones too;
//! [`FakeGraph::take_calls`] drains the ones a test has not asserted yet.
//!
//! The fake learns what customers did only when told: call
//! [`FakeGraph::customer_messaged`] / [`FakeGraph::customer_commented`], or
//! build the webhook payload through the `FakeGraph` methods of the same name
//! as the free builders ([`FakeGraph::feed_comment`],
//! [`FakeGraph::messenger_message`], [`FakeGraph::ig_comment`],
//! [`FakeGraph::ig_message`]), which record it and return the payload.
//!
//! What the fake simplifies, on purpose:
//! - Each account (Page or Instagram account) has its own token, which acts
//!   only on that account. (With Facebook Login a Page token also drives the
//!   linked Instagram account; the fake keeps them apart so a mix-up shows.)
//! - Time is the wall clock; tests place customers' activity in the past.
//! - `fields` picks among the fields the fake models; names it does not know
//!   are left out rather than refused.
//! - Posts are not modelled: a `post_id` private-reply recipient must be an
//!   object registered with [`FakeGraph::customer_commented`].
//! - `X-App-Usage` stays low; only a scripted [`Fault::RateLimited`] shows
//!   100 %.
//!
//! Include with `#[path = "support/meta.rs"] mod meta;` next to
//! `#[path = "support/background.rs"] mod background;`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use crate::background::{Background, CallLog, Logged, Watched, blocking, loopback};

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Map, Value, json};
use sha1::Sha1;
use sha2::Sha256;

pub const APP_SECRET: &str = "meta-app-secret";
pub const VERIFY_TOKEN: &str = "meta-verify-token";
pub const VERSION: &str = "v21.0";
/// A Facebook Page.
pub const PAGE_ID: &str = "448242228374517";
pub const PAGE_TOKEN: &str = "page-token-acme";
pub const PAGE_NAME: &str = "Acme";
/// An Instagram professional account.
pub const IG_ID: &str = "17841400000000001";
pub const IG_TOKEN: &str = "ig-token-acme";
pub const IG_USERNAME: &str = "acme";

/// `RESPONSE`/`UPDATE` messages: this long after the user's last message.
pub const STANDARD_WINDOW: Duration = Duration::from_secs(24 * 3600);
/// `MESSAGE_TAG` + `HUMAN_AGENT`, and private replies: this long.
pub const HUMAN_AGENT_WINDOW: Duration = Duration::from_secs(7 * 24 * 3600);
pub const PRIVATE_REPLY_WINDOW: Duration = HUMAN_AGENT_WINDOW;
/// Send API text limits, in characters.
pub const MESSENGER_TEXT_LIMIT: usize = 2000;
pub const INSTAGRAM_TEXT_LIMIT: usize = 1000;
/// Items in a listing when the request gives no `limit`.
const DEFAULT_LIMIT: usize = 25;

/// Ids the fake hands out count up from here (16 digits, like Graph's).
const FIRST_ID: u64 = 1_790_000_000_000_001;

// ---------------------------------------------------------------------------
// Setup
// ---------------------------------------------------------------------------

/// An account the fake serves: a Facebook Page, or an Instagram professional
/// account (`instagram: true`, `name` is then its username).
#[derive(Clone, Debug, PartialEq)]
pub struct PageSetup {
    pub id: String,
    pub token: String,
    pub name: String,
    pub instagram: bool,
}

impl PageSetup {
    pub fn facebook(id: &str, token: &str, name: &str) -> Self {
        Self {
            id: id.into(),
            token: token.into(),
            name: name.into(),
            instagram: false,
        }
    }

    pub fn instagram(id: &str, token: &str, username: &str) -> Self {
        Self {
            instagram: true,
            ..Self::facebook(id, token, username)
        }
    }

    /// The node type Graph names in "nonexisting field" errors.
    fn node_type(&self) -> &'static str {
        if self.instagram { "IGUser" } else { "Page" }
    }

    /// `{"id","name"}` for a Page, `{"id","username"}` for Instagram.
    fn json(&self) -> Map<String, Value> {
        let name_key = if self.instagram { "username" } else { "name" };
        let mut m = Map::new();
        m.insert("id".into(), json!(self.id));
        m.insert(name_key.into(), json!(self.name));
        m
    }
}

#[derive(Clone, Debug)]
pub struct FakeGraphSetup {
    pub pages: Vec<PageSetup>,
    /// The one version the fake answers, e.g. `v21.0`.
    pub version: String,
}

impl Default for FakeGraphSetup {
    /// The Page "Acme" and the Instagram account `@acme`, on [`VERSION`].
    fn default() -> Self {
        Self {
            pages: vec![
                PageSetup::facebook(PAGE_ID, PAGE_TOKEN, PAGE_NAME),
                PageSetup::instagram(IG_ID, IG_TOKEN, IG_USERNAME),
            ],
            version: VERSION.into(),
        }
    }
}

// ---------------------------------------------------------------------------
// What tests observe
// ---------------------------------------------------------------------------

/// One request the fake received (refused ones included).
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    /// Upper case: "GET", "POST", "DELETE".
    pub method: String,
    /// The matched template without the version, e.g. `/{comment}/comments`;
    /// for a path no route matches, the path itself.
    pub route: String,
    /// The percent-decoded path without the version, e.g. `/123_456/comments`.
    pub path: String,
    /// Query parameters as a JSON object of strings (the last of a repeated key).
    pub query: Value,
    /// A JSON body as sent, a form body as an object of strings, `Null` when
    /// there is none (an unparseable body is kept as a JSON string).
    pub body: Value,
    /// From the `access_token` parameter or `Authorization: Bearer`.
    pub token: Option<String>,
    /// The HTTP status answered; 0 while unanswered and for calls that never
    /// will be ([`Fault::Hang`], [`Fault::Lost`]).
    pub status: u16,
    /// Answered (or left hanging) by a scripted [`Fault`].
    pub faulted: bool,
}

impl Logged for Call {
    fn line(&self) -> String {
        format!("{} {} → {}", self.method, self.path, self.status)
    }
}

impl Call {
    /// `method` and route template are exactly these (method case-insensitively).
    pub fn is(&self, method: &str, route: &str) -> bool {
        self.method.eq_ignore_ascii_case(method) && self.route == route
    }

    /// A parameter as the fake reads it: from the body, else the query.
    pub fn param(&self, key: &str) -> Option<&Value> {
        self.body.get(key).or_else(|| self.query.get(key))
    }
}

/// A scripted answer for the next call of one (method, route template).
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// This status and Graph error body (`type: OAuthException`).
    Graph {
        status: u16,
        code: u64,
        subcode: Option<u64>,
        message: String,
    },
    /// HTTP 400 with the limit's error (4 app, 17 user, 32 page, 613 custom)
    /// and usage headers at 100 %, `estimated_time_to_regain_access: 1`.
    RateLimited { code: u64 },
    /// Never answers; changes nothing.
    Hang,
    /// Performs the call, then never answers: the client cannot tell whether
    /// it happened (for crash and retry tests).
    Lost,
}

/// A public reply: ours under a comment, or ours to an Instagram mention.
#[derive(Clone, Debug, PartialEq)]
pub struct Reply {
    pub id: String,
    pub message: String,
    /// The account that wrote it.
    pub from: String,
}

/// A message through the Send API (a DM, or a private reply to a comment).
#[derive(Clone, Debug, PartialEq)]
pub struct Sent {
    /// The `message_id` answered.
    pub id: String,
    /// As sent: `{"id"}`, `{"comment_id"}` or `{"post_id"}`.
    pub recipient: Value,
    pub messaging_type: Option<String>,
    pub tag: Option<String>,
    pub text: String,
}

// ---------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------

/// A comment or a reply, on Facebook or Instagram.
#[derive(Clone, Debug)]
struct Comment {
    id: String,
    /// The account whose post or media it is on: only its token may act on it.
    account: String,
    instagram: bool,
    from_id: String,
    /// The author's name (Facebook) or username (Instagram).
    from_name: String,
    text: String,
    created_secs: i64,
    /// The comment it answers; `None` for a top-level comment.
    parent: Option<String>,
    hidden: bool,
    deleted: bool,
    liked: bool,
    private_replied: bool,
}

impl Comment {
    /// A comment as just written: not hidden, deleted, liked or privately replied to.
    fn new(
        id: &str,
        account: &str,
        instagram: bool,
        from: (&str, &str),
        text: &str,
        created_secs: i64,
        parent: Option<&str>,
    ) -> Comment {
        Comment {
            id: id.into(),
            account: account.into(),
            instagram,
            from_id: from.0.into(),
            from_name: from.1.into(),
            text: text.into(),
            created_secs,
            parent: parent.map(str::to_owned),
            hidden: false,
            deleted: false,
            liked: false,
            private_replied: false,
        }
    }

    /// A reply the account itself wrote, now.
    fn reply(account: &PageSetup, id: &str, instagram: bool, text: &str, parent: &str) -> Comment {
        let by = (account.id.as_str(), account.name.as_str());
        Comment::new(
            id,
            &account.id,
            instagram,
            by,
            text,
            now_secs(),
            Some(parent),
        )
    }

    fn ours(&self) -> bool {
        self.from_id == self.account
    }

    fn node_type(&self) -> &'static str {
        if self.instagram {
            "IGComment"
        } else {
            "Comment"
        }
    }
}

#[derive(Clone, Debug)]
struct Msg {
    id: String,
    from: String,
    text: String,
    created_ms: i64,
}

#[derive(Debug)]
struct Conversation {
    id: String,
    account: String,
    /// The PSID / IGSID (or, after a private reply, the commenter's id).
    user: String,
    /// When the user last wrote: opens the messaging window.
    last_customer_ms: Option<i64>,
    messages: Vec<Msg>,
}

impl Conversation {
    fn updated_ms(&self) -> i64 {
        self.messages
            .iter()
            .map(|m| m.created_ms)
            .chain(self.last_customer_ms)
            .max()
            .unwrap_or(0)
    }
}

#[derive(Default)]
struct State {
    calls: CallLog<Call>,
    faults: HashMap<(String, String), VecDeque<Fault>>,
    revoked: HashSet<String>,
    last_id: u64,
    comments: Vec<Comment>,
    conversations: Vec<Conversation>,
    /// (account, message), in sending order.
    sent: Vec<(String, Sent)>,
    /// (Instagram account, reply), in order.
    mentions: Vec<(String, Reply)>,
}

impl State {
    fn next_id(&mut self) -> u64 {
        self.last_id = self.last_id.max(FIRST_ID - 1) + 1;
        self.last_id
    }

    /// Deleted ones included.
    fn any_comment(&self, id: &str) -> Option<&Comment> {
        self.comments.iter().find(|c| c.id == id)
    }

    fn comment(&self, id: &str) -> Option<&Comment> {
        self.any_comment(id).filter(|c| !c.deleted)
    }

    fn comment_mut(&mut self, id: &str) -> Option<&mut Comment> {
        self.comments.iter_mut().find(|c| c.id == id && !c.deleted)
    }

    /// Adds or replaces the comment with this id.
    fn put_comment(&mut self, comment: Comment) {
        match self.comments.iter_mut().find(|c| c.id == comment.id) {
            Some(old) => *old = comment,
            None => self.comments.push(comment),
        }
    }

    fn conversation_mut(&mut self, account: &str, user: &str) -> &mut Conversation {
        let found = self
            .conversations
            .iter()
            .position(|c| c.account == account && c.user == user);
        let index = match found {
            Some(i) => i,
            None => {
                let id = format!("t_{}", self.next_id());
                self.conversations.push(Conversation {
                    id,
                    account: account.into(),
                    user: user.into(),
                    last_customer_ms: None,
                    messages: vec![],
                });
                self.conversations.len() - 1
            }
        };
        &mut self.conversations[index]
    }

    /// A customer's message: opens (or keeps open) the window; with `text`,
    /// also shows in the conversation.
    fn customer_message(
        &mut self,
        account: &str,
        user: &str,
        msg: Option<(&str, &str)>,
        at_ms: i64,
    ) {
        let conversation = self.conversation_mut(account, user);
        conversation.last_customer_ms =
            Some(conversation.last_customer_ms.unwrap_or(at_ms).max(at_ms));
        if let Some((mid, text)) = msg {
            conversation.messages.push(Msg {
                id: mid.into(),
                from: user.into(),
                text: text.into(),
                created_ms: at_ms,
            });
        }
    }
}

struct Shared {
    setup: FakeGraphSetup,
    addr: SocketAddr,
    state: Watched<State>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock()
    }

    fn account(&self, id: &str) -> Option<&PageSetup> {
        self.setup.pages.iter().find(|p| p.id == id)
    }

    fn expect_account(&self, id: &str, what: &str) -> &PageSetup {
        self.account(id)
            .unwrap_or_else(|| panic!("{what}: {id} is not an account in the fake's setup"))
    }

    /// The account a token belongs to, revoked or not (usage headers name it).
    fn account_by_token(&self, token: &str) -> Option<&PageSetup> {
        self.setup.pages.iter().find(|p| p.token == token)
    }

    /// The one place tokens are checked: the account a token acts for.
    fn authenticate(&self, state: &State, token: Option<&str>) -> Result<&PageSetup, GraphError> {
        let token = token.ok_or_else(|| {
            // Graph itself answers a missing token with code 104; the fake
            // uses 190 so every token failure takes one path in the bot.
            GraphError::token(
                None,
                "An access token is required to request this resource.",
            )
        })?;
        if state.revoked.contains(token) {
            return Err(GraphError::token(
                Some(460),
                "The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons.",
            ));
        }
        self.account_by_token(token).ok_or_else(|| {
            GraphError::token(
                None,
                "Invalid OAuth access token - Cannot parse access token",
            )
        })
    }
}

// ---------------------------------------------------------------------------
// The handle
// ---------------------------------------------------------------------------

/// A running fake Graph API; dropping it stops the server.
pub struct FakeGraph {
    shared: Arc<Shared>,
    /// Declared last: the server stops after nothing else needs it.
    _server: Background,
}

impl FakeGraph {
    /// Binds `127.0.0.1:0` and serves from a background thread with its own runtime.
    pub fn start(setup: FakeGraphSetup) -> FakeGraph {
        let listener = loopback();
        let shared = Arc::new(Shared {
            setup,
            addr: listener.local_addr().unwrap(),
            state: Watched::new(State::default()),
        });
        let app = axum::Router::new()
            .fallback(handle_http)
            .with_state(shared.clone());
        let server = Background::serve("fake-meta", listener, app);
        FakeGraph {
            shared,
            _server: server,
        }
    }

    /// `FakeGraph::start(FakeGraphSetup::default())`.
    pub fn start_default() -> FakeGraph {
        Self::start(FakeGraphSetup::default())
    }

    pub fn setup(&self) -> &FakeGraphSetup {
        &self.shared.setup
    }

    /// `http://127.0.0.1:PORT/` (with the trailing slash; the bot appends `v21.0/…`).
    pub fn api_url(&self) -> String {
        format!("http://{}/", self.shared.addr)
    }

    // --- calls --------------------------------------------------------------

    /// Every call since start, in arrival order.
    pub fn calls(&self) -> Vec<Call> {
        self.shared.lock().calls.to_vec()
    }

    /// The calls not taken yet, oldest first; marks them taken.
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
        let what = format!("{method} {route}");
        self.shared
            .state
            .wait_calls(timeout, count, &what, |s| &s.calls, |c| c.is(method, route))
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

    /// Later calls with this token are refused with code 190, subcode 460.
    pub fn revoke_token(&self, token: &str) {
        self.shared.lock().revoked.insert(token.to_string());
    }

    // --- the world: what the bot did ----------------------------------------

    /// Our public replies under a Facebook or Instagram comment (not deleted),
    /// oldest first.
    pub fn comment_replies(&self, comment: &str) -> Vec<Reply> {
        self.shared
            .lock()
            .comments
            .iter()
            .filter(|c| !c.deleted && c.ours() && c.parent.as_deref() == Some(comment))
            .map(|c| Reply {
                id: c.id.clone(),
                message: c.text.clone(),
                from: c.from_id.clone(),
            })
            .collect()
    }

    /// Send API messages from a Page or Instagram account (DMs and private
    /// replies), in sending order.
    pub fn sent(&self, account: &str) -> Vec<Sent> {
        self.shared
            .lock()
            .sent
            .iter()
            .filter(|(a, _)| a == account)
            .map(|(_, s)| s.clone())
            .collect()
    }

    /// Liked by its account now.
    pub fn liked(&self, object: &str) -> bool {
        self.shared.lock().comment(object).is_some_and(|c| c.liked)
    }

    pub fn hidden(&self, comment: &str) -> bool {
        self.shared
            .lock()
            .comment(comment)
            .is_some_and(|c| c.hidden)
    }

    pub fn deleted(&self, object: &str) -> bool {
        self.shared
            .lock()
            .any_comment(object)
            .is_some_and(|c| c.deleted)
    }

    /// Replies through `POST /{ig-user-id}/mentions`, in order.
    pub fn mention_replies(&self, ig: &str) -> Vec<Reply> {
        self.shared
            .lock()
            .mentions
            .iter()
            .filter(|(a, _)| a == ig)
            .map(|(_, r)| r.clone())
            .collect()
    }

    // --- the world: what customers did --------------------------------------

    /// `user` (a PSID or IGSID) wrote to `account` at `at_ms`: opens the
    /// messaging window from then. The message itself is not stored; see
    /// [`FakeGraph::messenger_message`] for one that shows in conversations.
    pub fn customer_messaged(&self, account: &str, user: &str, at_ms: i64) {
        self.shared.expect_account(account, "customer_messaged");
        self.shared
            .lock()
            .customer_message(account, user, None, at_ms);
        self.shared.state.notify();
    }

    /// `from` commented (`comment` is its id) on `account`'s post or media at
    /// `at_secs`: the comment exists from now on, and only `account`'s token
    /// may act on it. Its text and author name stay empty (the `FakeGraph`
    /// builder methods record those). Registers any object id, so a post for
    /// a `post_id` private reply too.
    pub fn customer_commented(&self, account: &str, comment: &str, from: &str, at_secs: i64) {
        self.add_comment(account, comment, (from, ""), "", at_secs, None);
    }

    /// The author deleted `comment` on the network: Graph calls on it now find no object.
    pub fn delete_comment(&self, comment: &str) {
        if let Some(c) = self.shared.lock().comment_mut(comment) {
            c.deleted = true;
        }
        self.shared.state.notify();
    }

    fn add_comment(
        &self,
        account: &str,
        comment: &str,
        from: (&str, &str),
        text: &str,
        at_secs: i64,
        parent: Option<&str>,
    ) {
        let instagram = self
            .shared
            .expect_account(account, "customer_commented")
            .instagram;
        self.shared.lock().put_comment(Comment::new(
            comment, account, instagram, from, text, at_secs, parent,
        ));
        self.shared.state.notify();
    }

    // --- builders that also tell the world ----------------------------------

    /// [`feed_comment`], recorded as a customer's comment on `page` (a reply
    /// under `parent` unless `parent` is the post).
    #[allow(clippy::too_many_arguments)]
    pub fn feed_comment(
        &self,
        page: &str,
        post: &str,
        comment: &str,
        parent: &str,
        from: (&str, &str),
        message: &str,
        verb: &str,
        created_secs: i64,
    ) -> Value {
        let change = feed_comment(
            page,
            post,
            comment,
            parent,
            from,
            message,
            verb,
            created_secs,
        );
        let top_level = parent == post || change["value"]["post_id"] == parent;
        let parent = (!top_level).then_some(parent);
        self.add_comment(page, comment, from, message, created_secs, parent);
        change
    }

    /// [`messenger_message`], recorded as the customer's message (opens the
    /// window; shows in conversations).
    pub fn messenger_message(
        &self,
        page: &str,
        psid: &str,
        mid: &str,
        text: &str,
        at_ms: i64,
    ) -> Value {
        self.record_message(page, psid, mid, text, at_ms);
        messenger_message(page, psid, mid, text, at_ms)
    }

    /// [`ig_comment`], recorded as a customer's comment, made now.
    pub fn ig_comment(
        &self,
        ig: &str,
        comment: &str,
        media: &str,
        from: (&str, &str),
        text: &str,
        parent: Option<&str>,
    ) -> Value {
        self.add_comment(ig, comment, from, text, now_secs(), parent);
        ig_comment(ig, comment, media, from, text, parent)
    }

    /// [`ig_message`], recorded as the customer's message.
    pub fn ig_message(&self, ig: &str, igsid: &str, mid: &str, text: &str, at_ms: i64) -> Value {
        self.record_message(ig, igsid, mid, text, at_ms);
        ig_message(ig, igsid, mid, text, at_ms)
    }

    fn record_message(&self, account: &str, user: &str, mid: &str, text: &str, at_ms: i64) {
        self.shared.expect_account(account, "customer message");
        self.shared
            .lock()
            .customer_message(account, user, Some((mid, text)), at_ms);
        self.shared.state.notify();
    }
}

// ---------------------------------------------------------------------------
// Errors, usage headers, answers
// ---------------------------------------------------------------------------

/// A Graph error before it gets its `fbtrace_id`.
#[derive(Debug)]
struct GraphError {
    status: u16,
    code: u64,
    subcode: Option<u64>,
    message: String,
}

impl GraphError {
    fn new(code: u64, subcode: Option<u64>, message: impl Into<String>) -> Self {
        // Graph answers most errors, OAuth ones included, with HTTP 400.
        Self {
            status: 400,
            code,
            subcode,
            message: message.into(),
        }
    }

    /// The one error body: `{"error":{"message","type","code","error_subcode"?,"fbtrace_id"}}`.
    fn body(&self, fbtrace_id: &str) -> Value {
        // Graph names "no such object / not allowed" a GraphMethodException;
        // everything else the fake answers is an OAuthException.
        let kind = if self.code == 100 && self.subcode == Some(33) {
            "GraphMethodException"
        } else {
            "OAuthException"
        };
        let mut error = json!({"message": self.message, "type": kind, "code": self.code});
        if let Some(subcode) = self.subcode {
            error["error_subcode"] = json!(subcode);
        }
        error["fbtrace_id"] = json!(fbtrace_id);
        json!({ "error": error })
    }

    fn token(subcode: Option<u64>, detail: &str) -> Self {
        Self::new(
            190,
            subcode,
            format!("Error validating access token: {detail}"),
        )
    }

    fn version(asked: &str, current: &str) -> Self {
        let asked = if asked.is_empty() { "none" } else { asked };
        Self::new(
            2635,
            None,
            format!(
                "(#2635) You are calling a deprecated version of the Graph API ({asked}). Please update to the latest version: {current}."
            ),
        )
    }

    /// Graph's answer for an unknown object, one the token may not see, an
    /// unsupported method on it, or an unknown path.
    fn no_object(method: &str, id: &str) -> Self {
        Self::new(
            100,
            Some(33),
            format!(
                "Unsupported {} request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
                method.to_ascii_lowercase()
            ),
        )
    }

    /// An edge the node does not have (e.g. `/replies` on a Facebook comment).
    fn no_field(field: &str, node_type: &str) -> Self {
        Self::new(
            100,
            None,
            format!(
                "(#100) Tried accessing nonexisting field ({field}) on node type ({node_type})"
            ),
        )
    }

    fn param(message: &str) -> Self {
        Self::new(100, None, format!("(#100) {message}"))
    }

    fn outside_window() -> Self {
        // Subcode 2018278 is UNCONFIRMED (platforms.md §4.6); the text is the
        // one quoted in bug reports.
        Self::new(
            10,
            Some(2018278),
            "(#10) This message is sent outside of allowed window. Learn more about the new policy here: https://developers.facebook.com/docs/messenger-platform/policy-overview",
        )
    }

    fn unavailable() -> Self {
        Self::new(
            551,
            Some(1545041),
            "(#551) This person isn't available right now.",
        )
    }

    fn already_replied() -> Self {
        // UNCONFIRMED: code and text of the second private reply's refusal
        // come from Meta's error-code table as remembered, not a capture.
        Self::new(10900, None, "(#10900) Activity already replied to")
    }

    fn rate_limited(code: u64) -> Self {
        // Only code 4's text is confirmed (platforms.md §4.6).
        let message = match code {
            4 => "(#4) Application request limit reached".to_string(),
            17 => "(#17) User request limit reached".to_string(),
            32 => "(#32) Page request limit reached".to_string(),
            613 => "(#613) Calls to this api have exceeded the rate limit.".to_string(),
            _ => format!("(#{code}) Request limit reached"),
        };
        Self::new(code, None, message)
    }
}

/// Usage the answer's headers report.
struct Usage<'a> {
    /// The token's account (for `X-Business-Use-Case-Usage`), if known.
    account: Option<&'a PageSetup>,
    percent: u64,
    /// `estimated_time_to_regain_access`, minutes.
    regain_minutes: u64,
}

/// The one place usage headers are written: `X-App-Usage` on every answer,
/// and `X-Business-Use-Case-Usage` for the token's account (Page tokens are
/// under Business Use Case limits). Their JSON shapes are UNCONFIRMED
/// (platforms.md §4.6), taken from the rate-limiting guide as remembered.
fn usage_headers(resp: &mut Response, usage: &Usage) {
    let pct = usage.percent;
    let app = json!({"call_count": pct, "total_time": pct, "total_cputime": pct});
    set_header(resp, "x-app-usage", app.to_string());
    if let Some(account) = usage.account {
        let kind = if account.instagram {
            "instagram"
        } else {
            "pages"
        };
        let buc = json!({ account.id.clone(): [{
            "type": kind,
            "call_count": pct,
            "total_cputime": pct,
            "total_time": pct,
            "estimated_time_to_regain_access": usage.regain_minutes,
        }]});
        set_header(resp, "x-business-use-case-usage", buc.to_string());
    }
}

fn set_header(resp: &mut Response, name: &'static str, value: String) {
    resp.headers_mut().insert(
        HeaderName::from_static(name),
        HeaderValue::from_str(&value).unwrap(),
    );
}

/// A JSON answer (axum's `Json` sets `Content-Type: application/json`).
fn answer(status: u16, body: Value, version: &str, usage: &Usage) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = (status, axum::Json(body)).into_response();
    usage_headers(&mut resp, usage);
    set_header(&mut resp, "facebook-api-version", version.to_string());
    resp
}

// ---------------------------------------------------------------------------
// HTTP plumbing
// ---------------------------------------------------------------------------

enum Outcome {
    Answer(Response),
    /// Never answer (the runtime's shutdown ends the connection).
    Silent,
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
        Outcome::Silent => std::future::pending().await,
    }
}

/// A request as the endpoints read it.
struct Request {
    method: String,
    route: &'static str,
    /// The path's id segment, `me` resolved to the token's account.
    node: String,
    query: Value,
    body: Value,
}

impl Request {
    /// From the body, else the query (Graph takes parameters from either).
    fn value(&self, key: &str) -> Option<&Value> {
        self.body.get(key).or_else(|| self.query.get(key))
    }

    fn str(&self, key: &str) -> Option<String> {
        match self.value(key)? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    }

    /// A JSON parameter: an object in a JSON body, or a JSON-encoded string
    /// (how form bodies carry `recipient` and `message`).
    fn json(&self, key: &str) -> Option<Value> {
        match self.value(key)? {
            Value::String(s) => serde_json::from_str(s).ok(),
            other => Some(other.clone()),
        }
    }

    fn flag(&self, key: &str) -> Option<bool> {
        match self.value(key)? {
            Value::Bool(b) => Some(*b),
            Value::String(s) => match s.as_str() {
                "true" | "1" => Some(true),
                "false" | "0" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    /// A non-empty `message` parameter.
    fn message(&self, missing: &str) -> Result<String, GraphError> {
        self.str("message")
            .filter(|m| !m.is_empty())
            .ok_or_else(|| GraphError::param(missing))
    }

    fn limit(&self) -> usize {
        self.str("limit")
            .and_then(|l| l.parse().ok())
            .unwrap_or(DEFAULT_LIMIT)
    }
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// `a=b&c=d` → a JSON object of strings (`+` is a space; the last of a repeated key wins).
fn form_object(bytes: &[u8]) -> Value {
    Value::Object(
        url::form_urlencoded::parse(bytes)
            .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
            .collect(),
    )
}

fn parse_body(headers: &HeaderMap, body: &[u8]) -> Value {
    if body.is_empty() {
        return Value::Null;
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("application/x-www-form-urlencoded") {
        return form_object(body);
    }
    serde_json::from_slice(body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
}

/// `access_token` from the query or body, else `Authorization: Bearer` (or `OAuth`).
fn token_of(headers: &HeaderMap, query: &Value, body: &Value) -> Option<String> {
    let param = |v: &Value| {
        v.get("access_token")
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    param(query).or_else(|| param(body)).or_else(|| {
        let auth = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
        let (scheme, token) = auth.split_once(' ')?;
        (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("oauth"))
            .then(|| token.trim().to_string())
    })
}

/// `v21.0` and the like.
fn is_version(seg: &str) -> bool {
    seg.strip_prefix('v')
        .and_then(|v| v.split_once('.'))
        .is_some_and(|(major, minor)| {
            [major, minor]
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        })
}

/// The route template and the id segment of a path (version stripped).
fn match_route(segs: &[String]) -> Option<(&'static str, String)> {
    match segs {
        [me] if me == "me" => Some(("/me", me.clone())),
        [id] => Some(("/{object}", id.clone())),
        [id, edge] => {
            let route = match edge.as_str() {
                "comments" => "/{comment}/comments",
                "replies" => "/{comment}/replies",
                "messages" => "/{account}/messages",
                "conversations" => "/{account}/conversations",
                "mentions" => "/{account}/mentions",
                "likes" => "/{object}/likes",
                _ => return None,
            };
            Some((route, id.clone()))
        }
        _ => None,
    }
}

/// Records the call and answers it: a scripted fault, else the version,
/// token and endpoint checks in Graph's order.
fn serve(shared: &Shared, method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Outcome {
    // Empty segments are skipped, so `…/` joined with `/v21.0/…` still works.
    let segs: Vec<String> = uri
        .path()
        .split('/')
        .filter(|s| !s.is_empty())
        .map(decode)
        .collect();
    let (version, rest) = match segs.split_first() {
        Some((first, rest)) if is_version(first) => (first.clone(), rest),
        _ => (String::new(), &segs[..]),
    };
    let matched = match_route(rest);
    let path = format!("/{}", rest.join("/"));
    let route = matched
        .as_ref()
        .map(|(r, _)| r.to_string())
        .unwrap_or_else(|| path.clone());
    let query = form_object(uri.query().unwrap_or("").as_bytes());
    let body = parse_body(headers, body);
    let token = token_of(headers, &query, &body);
    let method = method.as_str().to_string();

    let mut state = shared.lock();
    let index = state.calls.len();
    state.calls.push(Call {
        method: method.clone(),
        route: route.clone(),
        path: path.clone(),
        query: query.clone(),
        body: body.clone(),
        token: token.clone(),
        status: 0,
        faulted: false,
    });
    let fault = state
        .faults
        .get_mut(&(method.clone(), route))
        .and_then(VecDeque::pop_front);
    state.calls[index].faulted = fault.is_some();
    let account = token.as_deref().and_then(|t| shared.account_by_token(t));
    let mut usage = Usage {
        account,
        percent: (index as u64 / 10).min(50),
        regain_minutes: 0,
    };
    let fbtrace_id = format!("AFk{index:08}");
    let current = &shared.setup.version;
    let request = |state: &mut State| -> Result<Value, GraphError> {
        if version != *current {
            return Err(GraphError::version(&version, current));
        }
        let Some(&(route, ref node)) = matched.as_ref() else {
            return Err(GraphError::no_object(
                &method,
                rest.first().map_or("", |s| s.as_str()),
            ));
        };
        let account = shared.authenticate(state, token.as_deref())?;
        let node = if node == "me" {
            account.id.clone()
        } else {
            node.clone()
        };
        let req = Request {
            method: method.clone(),
            route,
            node,
            query: query.clone(),
            body: body.clone(),
        };
        endpoint(shared, state, account, &req)
    };
    // `None`: the call is never answered.
    let result = match fault {
        None => Some(request(&mut state)),
        Some(Fault::Graph {
            status,
            code,
            subcode,
            message,
        }) => Some(Err(GraphError {
            status,
            code,
            subcode,
            message,
        })),
        Some(Fault::RateLimited { code }) => {
            // The headers name an account even without a token, so a bot
            // can always read the wait from them.
            usage.account = usage.account.or(shared.setup.pages.first());
            usage.percent = 100;
            usage.regain_minutes = 1;
            Some(Err(GraphError::rate_limited(code)))
        }
        Some(Fault::Hang) => None,
        Some(Fault::Lost) => {
            let _ = request(&mut state);
            None
        }
    };
    let answered = result.map(|result| {
        let (status, body) = match result {
            Ok(v) => (200, v),
            Err(e) => (e.status, e.body(&fbtrace_id)),
        };
        state.calls[index].status = status;
        (status, body)
    });
    drop(state);
    shared.state.notify();
    match answered {
        Some((status, body)) => Outcome::Answer(answer(status, body, current, &usage)),
        None => Outcome::Silent,
    }
}

// ---------------------------------------------------------------------------
// Endpoints
// ---------------------------------------------------------------------------

type Graph = Result<Value, GraphError>;

fn success() -> Graph {
    Ok(json!({"success": true}))
}

fn endpoint(shared: &Shared, state: &mut State, account: &PageSetup, req: &Request) -> Graph {
    let node = req.node.as_str();
    match (req.method.as_str(), req.route) {
        ("GET", "/me") => Ok(Value::Object(account.json())),
        ("GET", "/{comment}/comments") | ("GET", "/{comment}/replies") => {
            let parent = owned_comment(state, account, req)?;
            check_edge(parent, req.route)?;
            Ok(list_replies(shared, state, parent, req))
        }
        ("POST", "/{comment}/comments") | ("POST", "/{comment}/replies") => {
            let parent = owned_comment(state, account, req)?.clone();
            check_edge(&parent, req.route)?;
            post_reply(state, account, &parent, req)
        }
        (_, "/{account}/messages" | "/{account}/conversations" | "/{account}/mentions")
            if node != account.id =>
        {
            Err(GraphError::no_object(&req.method, node))
        }
        ("POST", "/{account}/messages") => send_message(state, account, req),
        ("GET", "/{account}/conversations") => conversations(state, account, req),
        ("POST", "/{account}/mentions") => mention_reply(state, account, req),
        ("POST" | "DELETE", "/{object}/likes") => {
            let comment = owned_comment(state, account, req)?;
            if comment.instagram {
                return Err(GraphError::no_field("likes", comment.node_type()));
            }
            let liked = req.method == "POST";
            state.comment_mut(node).unwrap().liked = liked;
            success()
        }
        ("GET", "/{object}") if node == account.id => {
            let fields = req.str("fields");
            match fields.as_deref().and_then(mentioned) {
                Some((field, target)) => mentioned_replies(state, account, field, &target),
                None => Ok(project(account.json(), fields.as_deref(), &[])),
            }
        }
        ("GET", "/{object}") => {
            let comment = owned_comment(state, account, req)?;
            Ok(comment_json(state, comment, req.str("fields").as_deref()))
        }
        ("POST", "/{object}") => update_comment(state, account, req),
        ("DELETE", "/{object}") => {
            owned_comment(state, account, req)?;
            state.comment_mut(node).unwrap().deleted = true;
            success()
        }
        _ => Err(GraphError::no_object(&req.method, node)),
    }
}

/// The live comment `req.node`, if the token's account owns it.
fn owned_comment<'s>(
    state: &'s State,
    account: &PageSetup,
    req: &Request,
) -> Result<&'s Comment, GraphError> {
    state
        .comment(&req.node)
        .filter(|c| c.account == account.id)
        .ok_or_else(|| GraphError::no_object(&req.method, &req.node))
}

/// `mentioned_comment.comment_id(X){…}` or `mentioned_media.media_id(X){…}`: the field
/// and X.
fn mentioned(fields: &str) -> Option<(&'static str, String)> {
    ["mentioned_comment", "mentioned_media"]
        .into_iter()
        .find_map(|field| {
            let rest = fields.strip_prefix(field)?;
            let open = rest.find('(')?;
            let close = rest.find(')')?;
            Some((field, rest.get(open + 1..close)?.to_owned()))
        })
}

/// The account's replies on what mentions it: a comment's replies, or (for a caption
/// mention) the media's comments, as Instagram lists them under `mentioned_*`.
fn mentioned_replies(state: &State, account: &PageSetup, field: &str, target: &str) -> Graph {
    if !account.instagram {
        return Err(GraphError::no_field(field, account.node_type()));
    }
    let edge = match field {
        "mentioned_comment" => "replies",
        _ => "comments",
    };
    let data: Vec<Value> = state
        .comments
        .iter()
        .filter(|c| !c.deleted && c.parent.as_deref() == Some(target))
        .map(|c| comment_json(state, c, Some("id,text,username,timestamp,from")))
        .collect();
    Ok(json!({ "id": account.id, field: { "id": target, edge: { "data": data } } }))
}

/// Facebook comments have a `comments` edge, Instagram comments `replies`.
fn check_edge(comment: &Comment, route: &str) -> Result<(), GraphError> {
    let edge = if comment.instagram {
        "/{comment}/replies"
    } else {
        "/{comment}/comments"
    };
    if route == edge {
        return Ok(());
    }
    let field = route.rsplit('/').next().unwrap_or(route);
    Err(GraphError::no_field(field, comment.node_type()))
}

/// Splits a `fields` list at top-level commas (`messages.limit(5){id,from}`
/// stays whole).
fn split_fields(fields: &str) -> Vec<&str> {
    let mut out = vec![];
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in fields.char_indices() {
        match c {
            '{' | '(' => depth += 1,
            '}' | ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(fields[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(fields[start..].trim());
    out.retain(|f| !f.is_empty());
    out
}

/// `messages.limit(5){id}` → `messages`.
fn field_name(field: &str) -> &str {
    field.split(['.', '{', '(']).next().unwrap_or(field).trim()
}

/// `id` plus the requested fields of `full` (or `defaults` without a
/// `fields` parameter); fields the fake does not model are left out.
fn project(full: Map<String, Value>, fields: Option<&str>, defaults: &[&str]) -> Value {
    let wanted: Vec<&str> = match fields {
        Some(f) => split_fields(f).into_iter().map(field_name).collect(),
        None if defaults.is_empty() => return Value::Object(full),
        None => defaults.to_vec(),
    };
    Value::Object(
        full.into_iter()
            .filter(|(k, _)| k == "id" || wanted.contains(&k.as_str()))
            .collect(),
    )
}

/// Graph's timestamps: `2026-11-23T10:00:00+0000`.
pub fn graph_time(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S+0000")
        .to_string()
}

fn comment_json(state: &State, c: &Comment, fields: Option<&str>) -> Value {
    let replies = state
        .comments
        .iter()
        .filter(|r| !r.deleted && r.parent.as_deref() == Some(c.id.as_str()))
        .count();
    let mut m = Map::new();
    m.insert("id".into(), json!(c.id));
    if c.instagram {
        m.insert("text".into(), json!(c.text));
        m.insert("username".into(), json!(c.from_name));
        m.insert("timestamp".into(), json!(graph_time(c.created_secs)));
        m.insert(
            "from".into(),
            json!({"id": c.from_id, "username": c.from_name}),
        );
        m.insert("hidden".into(), json!(c.hidden));
        m.insert("like_count".into(), json!(0));
        if let Some(parent) = &c.parent {
            m.insert("parent_id".into(), json!(parent));
        }
        project(m, fields, &["id", "text", "username", "timestamp"])
    } else {
        let within = now_secs() - c.created_secs <= PRIVATE_REPLY_WINDOW.as_secs() as i64;
        m.insert("message".into(), json!(c.text));
        m.insert("from".into(), json!({"id": c.from_id, "name": c.from_name}));
        m.insert("created_time".into(), json!(graph_time(c.created_secs)));
        m.insert("is_hidden".into(), json!(c.hidden));
        m.insert("user_likes".into(), json!(c.liked));
        m.insert("comment_count".into(), json!(replies));
        m.insert(
            "can_reply_privately".into(),
            json!(!c.ours() && !c.private_replied && within),
        );
        if let Some(parent) = &c.parent {
            m.insert("parent".into(), json!({"id": parent}));
        }
        project(m, fields, &["id", "message", "from", "created_time"])
    }
}

/// `GET /{comment}/comments` (Facebook) or `/replies` (Instagram): oldest
/// first, newest first with `order=reverse_chronological`; `limit` and the
/// `after` cursor honoured.
fn list_replies(shared: &Shared, state: &State, parent: &Comment, req: &Request) -> Value {
    let mut replies: Vec<&Comment> = state
        .comments
        .iter()
        .filter(|c| !c.deleted && c.parent.as_deref() == Some(parent.id.as_str()))
        .collect();
    // Stable: same-second replies stay in the order they were made.
    replies.sort_by_key(|c| c.created_secs);
    if req.str("order").as_deref() == Some("reverse_chronological") {
        replies.reverse();
    }
    let cursor = |id: &str| BASE64.encode(id);
    if let Some(after) = req.str("after") {
        let skip = replies
            .iter()
            .position(|c| cursor(&c.id) == after)
            .map_or(replies.len(), |i| i + 1);
        replies.drain(..skip);
    }
    let limit = req.limit();
    let page = &replies[..limit.min(replies.len())];
    let fields = req.str("fields");
    let data: Vec<Value> = page
        .iter()
        .map(|c| comment_json(state, c, fields.as_deref()))
        .collect();
    let mut out = json!({ "data": data });
    if let (Some(first), Some(last)) = (page.first(), page.last()) {
        out["paging"] =
            json!({"cursors": {"before": cursor(&first.id), "after": cursor(&last.id)}});
        if replies.len() > page.len() {
            let mut query = req.query.as_object().cloned().unwrap_or_default();
            query.insert("after".into(), json!(cursor(&last.id)));
            let mut next = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in &query {
                next.append_pair(k, v.as_str().unwrap_or_default());
            }
            let edge = req.route.rsplit('/').next().unwrap_or_default();
            out["paging"]["next"] = json!(format!(
                "http://{}/{}/{}/{edge}?{}",
                shared.addr,
                shared.setup.version,
                parent.id,
                next.finish()
            ));
        }
    }
    out
}

/// `POST /{comment}/comments` (Facebook) or `/replies` (Instagram) with `message`.
fn post_reply(state: &mut State, account: &PageSetup, parent: &Comment, req: &Request) -> Graph {
    let message = if parent.instagram {
        req.message("The parameter message is required.")?
    } else {
        req.message("Missing message or attachment")?
    };
    let n = state.next_id();
    // Instagram adds a reply to a reply to the thread's top-level comment.
    let thread = match (&parent.parent, parent.instagram) {
        (Some(top), true) => top.clone(),
        _ => parent.id.clone(),
    };
    // Facebook comment ids are `<post>_<comment>`; a reply keeps the post part.
    let id = if parent.instagram {
        n.to_string()
    } else {
        let post = parent
            .id
            .split_once('_')
            .map_or(parent.id.as_str(), |(p, _)| p);
        format!("{post}_{n}")
    };
    state.put_comment(Comment::reply(
        account,
        &id,
        parent.instagram,
        &message,
        &thread,
    ));
    Ok(json!({ "id": id }))
}

/// `POST /{comment}`: hide or unhide (`is_hidden` on Facebook, `hide` on
/// Instagram); on Facebook, `message` edits one of our own comments.
fn update_comment(state: &mut State, account: &PageSetup, req: &Request) -> Graph {
    let comment = owned_comment(state, account, req)?.clone();
    let key = if comment.instagram {
        "hide"
    } else {
        "is_hidden"
    };
    if let Some(hide) = req.flag(key) {
        state.comment_mut(&comment.id).unwrap().hidden = hide;
        return success();
    }
    match req.str("message") {
        Some(message) if !comment.instagram && comment.ours() && !message.is_empty() => {
            state.comment_mut(&comment.id).unwrap().text = message;
            success()
        }
        _ => Err(GraphError::param(&format!(
            "The parameter {key} is required"
        ))),
    }
}

/// The Send API: `POST /{account}/messages`.
fn send_message(state: &mut State, account: &PageSetup, req: &Request) -> Graph {
    let recipient = req
        .json("recipient")
        .filter(Value::is_object)
        .ok_or_else(|| GraphError::param("param recipient must be non-empty."))?;
    let text = req
        .json("message")
        .and_then(|m| m.get("text").and_then(Value::as_str).map(str::to_string))
        .filter(|t| !t.is_empty())
        .ok_or_else(|| GraphError::param("param message must be non-empty."))?;
    let limit = if account.instagram {
        INSTAGRAM_TEXT_LIMIT
    } else {
        MESSENGER_TEXT_LIMIT
    };
    if text.chars().count() > limit {
        return Err(GraphError::param(&format!(
            "Length of param message[text] must be less than or equal to {limit}"
        )));
    }
    let messaging_type = req.str("messaging_type");
    let tag = req.str("tag");
    // Graph treats a missing messaging_type as RESPONSE.
    let window = match (
        messaging_type.as_deref().unwrap_or("RESPONSE"),
        tag.as_deref(),
    ) {
        ("RESPONSE" | "UPDATE", _) => STANDARD_WINDOW,
        ("MESSAGE_TAG", Some("HUMAN_AGENT")) => HUMAN_AGENT_WINDOW,
        ("MESSAGE_TAG", Some(other)) => {
            // The fake models only the tag a care bot may use.
            return Err(GraphError::param(&format!(
                "Param tag must be one of {{HUMAN_AGENT}}, got {other}"
            )));
        }
        ("MESSAGE_TAG", None) => {
            return Err(GraphError::param(
                "Param tag is required when messaging_type is MESSAGE_TAG",
            ));
        }
        (other, _) => {
            return Err(GraphError::param(&format!(
                "Param messaging_type must be one of {{RESPONSE, UPDATE, MESSAGE_TAG}}, got {other}"
            )));
        }
    };
    let now = now_ms();
    let user = if let Some(user) = recipient.get("id").and_then(Value::as_str) {
        let last = state
            .conversations
            .iter()
            .find(|c| c.account == account.id && c.user == user)
            .and_then(|c| c.last_customer_ms)
            .ok_or_else(GraphError::unavailable)?;
        if now - last > window.as_millis() as i64 {
            return Err(GraphError::outside_window());
        }
        user.to_string()
    } else if let Some(object) = ["comment_id", "post_id"]
        .iter()
        .find_map(|k| recipient.get(*k).and_then(Value::as_str))
    {
        // A private reply: any messaging type; one per comment, within 7 days.
        let comment = state
            .comment(object)
            .filter(|c| c.account == account.id)
            .ok_or_else(|| GraphError::no_object("post", object))?;
        if comment.private_replied {
            return Err(GraphError::already_replied());
        }
        // UNCONFIRMED: the code Graph gives a private reply after 7 days;
        // the fake reuses the window error.
        if now_secs() - comment.created_secs > PRIVATE_REPLY_WINDOW.as_secs() as i64 {
            return Err(GraphError::outside_window());
        }
        let user = comment.from_id.clone();
        state.comment_mut(object).unwrap().private_replied = true;
        user
    } else {
        return Err(GraphError::param("param recipient must be non-empty."));
    };
    let mid = format!("m_{}", state.next_id());
    state
        .conversation_mut(&account.id, &user)
        .messages
        .push(Msg {
            id: mid.clone(),
            from: account.id.clone(),
            text: text.clone(),
            created_ms: now,
        });
    state.sent.push((
        account.id.clone(),
        Sent {
            id: mid.clone(),
            recipient,
            messaging_type,
            tag,
            text,
        },
    ));
    Ok(json!({"recipient_id": user, "message_id": mid}))
}

/// `GET /{account}/conversations?platform=…&user_id=…&fields=messages.limit(N){…}`:
/// most recently updated first, messages newest first.
fn conversations(state: &State, account: &PageSetup, req: &Request) -> Graph {
    let platform = req.str("platform");
    if account.instagram && platform.is_none() {
        return Err(GraphError::param(
            "Param platform is required for an Instagram account (platform=instagram)",
        ));
    }
    let expected = if account.instagram {
        "instagram"
    } else {
        "messenger"
    };
    let fields = req.str("fields").unwrap_or_default();
    let fields = split_fields(&fields);
    let messages_field = fields.iter().find(|f| field_name(f) == "messages");
    let user_id = req.str("user_id");
    let mut found: Vec<&Conversation> = state
        .conversations
        .iter()
        .filter(|c| c.account == account.id)
        .filter(|c| user_id.as_ref().is_none_or(|u| *u == c.user))
        .filter(|_| platform.as_deref().is_none_or(|p| p == expected))
        .collect();
    found.sort_by_key(|c| std::cmp::Reverse(c.updated_ms()));
    let data: Vec<Value> = found
        .iter()
        .take(req.limit())
        .map(|c| {
            let mut v = json!({"id": c.id, "updated_time": graph_time(c.updated_ms() / 1000)});
            if fields.iter().any(|f| field_name(f) == "participants") {
                v["participants"] = json!({"data": [{"id": c.user}, {"id": account.id}]});
            }
            if let Some(field) = messages_field {
                v["messages"] = json!({ "data": conversation_messages(c, field) });
            }
            v
        })
        .collect();
    Ok(json!({ "data": data }))
}

/// A conversation's messages as `messages.limit(N){id,message,from,created_time}` asks.
fn conversation_messages(c: &Conversation, field: &str) -> Vec<Value> {
    let limit = field
        .split_once("limit(")
        .and_then(|(_, rest)| rest.split_once(')'))
        .and_then(|(n, _)| n.trim().parse().ok())
        .unwrap_or(DEFAULT_LIMIT);
    let nested = field
        .split_once('{')
        .and_then(|(_, rest)| rest.rsplit_once('}'))
        .map(|(inner, _)| inner);
    let mut messages: Vec<&Msg> = c.messages.iter().collect();
    messages.sort_by_key(|m| std::cmp::Reverse(m.created_ms));
    messages
        .into_iter()
        .take(limit)
        .map(|m| {
            let mut v = Map::new();
            v.insert("id".into(), json!(m.id));
            v.insert("message".into(), json!(m.text));
            v.insert("from".into(), json!({"id": m.from}));
            v.insert(
                "created_time".into(),
                json!(graph_time(m.created_ms / 1000)),
            );
            project(v, nested, &["id", "message", "from", "created_time"])
        })
        .collect()
}

/// `POST /{ig-user-id}/mentions` with `media_id`, optional `comment_id`, `message`.
fn mention_reply(state: &mut State, account: &PageSetup, req: &Request) -> Graph {
    if !account.instagram {
        return Err(GraphError::no_field("mentions", account.node_type()));
    }
    if req.str("media_id").is_none_or(|m| m.is_empty()) {
        return Err(GraphError::param("The parameter media_id is required."));
    }
    let message = req.message("The parameter message is required.")?;
    let id = state.next_id().to_string();
    // The reply sits under the mentioning comment, or on the media for a caption mention.
    let on = req
        .str("comment_id")
        .or_else(|| req.str("media_id"))
        .unwrap_or_default();
    state.put_comment(Comment::reply(account, &id, true, &message, &on));
    state.mentions.push((
        account.id.clone(),
        Reply {
            id: id.clone(),
            message,
            from: account.id.clone(),
        },
    ));
    Ok(json!({ "id": id }))
}

// ---------------------------------------------------------------------------
// Time
// ---------------------------------------------------------------------------

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

pub fn now_secs() -> i64 {
    now_ms() / 1000
}

/// Milliseconds in `hours` hours, for placing a customer's message in the past.
pub const fn hours_ms(hours: i64) -> i64 {
    hours * 3_600_000
}

// ---------------------------------------------------------------------------
// Webhook side: signing and delivery
// ---------------------------------------------------------------------------

/// `X-Hub-Signature-256`: `sha256=` + lowercase hex HMAC-SHA256 of the raw body.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    format!(
        "sha256={}",
        hex::encode(mac.finalize().into_bytes().as_slice())
    )
}

/// The legacy `X-Hub-Signature`: `sha1=` + lowercase hex HMAC-SHA1.
pub fn sign_sha1(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    format!(
        "sha1={}",
        hex::encode(mac.finalize().into_bytes().as_slice())
    )
}

/// The bytes Meta sends for `body`: JSON with every non-ASCII character as a
/// `\uXXXX` escape in lowercase hex ("escaped unicode", platforms.md §4.1)
/// and `/` as `\/`. The slash escaping is UNCONFIRMED (remembered from
/// captured payloads). A bot that verifies re-serialized JSON instead of the
/// raw bytes fails on these.
pub fn meta_json(body: &Value) -> String {
    let plain = serde_json::to_string(body).unwrap();
    let mut out = String::with_capacity(plain.len());
    // Outside strings JSON has neither '/' nor non-ASCII, so escaping every
    // occurrence touches only string contents.
    for c in plain.chars() {
        match c {
            '/' => out.push_str("\\/"),
            c if c.is_ascii() => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out
}

/// POSTs `body` (as [`meta_json`]) to `url` the way Meta delivers webhooks:
/// `Content-Type: application/json`, `X-Hub-Signature-256` and the legacy
/// `X-Hub-Signature`. Returns (status, body text); status 0 when no answer
/// came (the error text instead). Blocking: works from a plain `#[test]` and
/// inside a runtime alike.
pub fn post_webhook(url: &str, secret: &str, body: &Value) -> (u16, String) {
    let raw = meta_json(body);
    let headers = [
        ("content-type", "application/json".to_string()),
        ("x-hub-signature-256", sign(secret, raw.as_bytes())),
        ("x-hub-signature", sign_sha1(secret, raw.as_bytes())),
    ];
    post_raw(url, &headers, raw.as_bytes())
}

/// POSTs exactly these bytes with exactly these headers (for bad signatures,
/// missing headers, non-JSON bodies).
pub fn post_raw(url: &str, headers: &[(&str, String)], body: &[u8]) -> (u16, String) {
    blocking(reqwest::Method::POST, url, headers, Some(body.to_vec()))
}

/// A plain GET (for the verification handshake; see [`verification_url`]).
pub fn get(url: &str) -> (u16, String) {
    blocking(reqwest::Method::GET, url, &[], None)
}

/// `url` with Meta's verification query:
/// `hub.mode=subscribe&hub.challenge=…&hub.verify_token=…`.
pub fn verification_url(url: &str, verify_token: &str, challenge: &str) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("hub.mode", "subscribe")
        .append_pair("hub.challenge", challenge)
        .append_pair("hub.verify_token", verify_token)
        .finish();
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{query}")
}

// ---------------------------------------------------------------------------
// Webhook side: payloads (platforms.md §4.2, §4.3, §4.5)
// ---------------------------------------------------------------------------

/// `{"object": "page" | "instagram", "entry": [...]}`.
/// The Page post customers comment on in the end-to-end tests.
pub const PAGE_POST: &str = "448242228374517_122131676912594941";

/// Jane Doe's (`7001`) comment `comment` on [`PAGE_POST`], `add`ed, `edited`, `remove`d,
/// `hide`n or `unhide`n now, as Meta delivers it (and, for `add`, known to `fake`).
pub fn jane_does(fake: &FakeGraph, comment: &str, text: &str, verb: &str) -> Value {
    let change = fake.feed_comment(
        PAGE_ID,
        PAGE_POST,
        comment,
        PAGE_POST,
        ("7001", "Jane Doe"),
        text,
        verb,
        now_secs(),
    );
    envelope(
        "page",
        vec![changes_entry(PAGE_ID, now_secs(), vec![change])],
    )
}

pub fn envelope(object: &str, entries: Vec<Value>) -> Value {
    json!({"object": object, "entry": entries})
}

/// `{"id", "time", "changes": [...]}` (feed, comments, mentions).
pub fn changes_entry(account: &str, time_secs: i64, changes: Vec<Value>) -> Value {
    json!({"id": account, "time": time_secs, "changes": changes})
}

/// `{"id", "time", "messaging": [...]}` (Messenger and Instagram messages).
pub fn messaging_entry(account: &str, time_secs: i64, messaging: Vec<Value>) -> Value {
    json!({"id": account, "time": time_secs, "messaging": messaging})
}

/// A Page `feed` change for a comment, in the captured shape of §4.2. `post`
/// is the full `<page>_<post>` id (a bare post id gets `page` prefixed); a
/// top-level comment has `parent == post`. A `remove` carries no `message`
/// (UNCONFIRMED, like every verb but `add`).
#[allow(clippy::too_many_arguments)]
pub fn feed_comment(
    page: &str,
    post: &str,
    comment: &str,
    parent: &str,
    from: (&str, &str),
    message: &str,
    verb: &str,
    created_secs: i64,
) -> Value {
    let post = if post.contains('_') {
        post.to_string()
    } else {
        format!("{page}_{post}")
    };
    let mut value = json!({
        "from": {"id": from.0, "name": from.1},
        "post": {
            "status_type": "mobile_status_update",
            "is_published": true,
            "updated_time": graph_time(created_secs),
            "promotion_status": "inactive",
            "id": post,
        },
        "message": message,
        "post_id": post,
        "comment_id": comment,
        "created_time": created_secs,
        "item": "comment",
        "parent_id": parent,
        "verb": verb,
    });
    if verb == "remove" {
        value.as_object_mut().unwrap().remove("message");
    }
    json!({"field": "feed", "value": value})
}

/// A `messaging[]` item: the user `psid` wrote to `page`.
pub fn messenger_message(page: &str, psid: &str, mid: &str, text: &str, at_ms: i64) -> Value {
    json!({
        "sender": {"id": psid},
        "recipient": {"id": page},
        "timestamp": at_ms,
        "message": {"mid": mid, "text": text},
    })
}

/// The echo of a message the page sent (`message.is_echo: true`, sender = page).
pub fn messenger_echo(page: &str, psid: &str, mid: &str, text: &str, at_ms: i64) -> Value {
    json!({
        "sender": {"id": page},
        "recipient": {"id": psid},
        "timestamp": at_ms,
        "message": {"mid": mid, "text": text, "is_echo": true},
    })
}

/// The user read everything up to `at_ms`.
pub fn messenger_read(page: &str, psid: &str, at_ms: i64) -> Value {
    json!({
        "sender": {"id": psid},
        "recipient": {"id": page},
        "timestamp": at_ms,
        "read": {"watermark": at_ms},
    })
}

/// Everything up to `at_ms` was delivered to the user.
pub fn messenger_delivery(page: &str, psid: &str, at_ms: i64) -> Value {
    json!({
        "sender": {"id": psid},
        "recipient": {"id": page},
        "timestamp": at_ms,
        "delivery": {"mids": [], "watermark": at_ms},
    })
}

/// An Instagram `comments` change (§4.5); `parent` for a reply. The account
/// is named by the entry, not the change, so `_ig` only documents the call.
pub fn ig_comment(
    _ig: &str,
    comment: &str,
    media: &str,
    from: (&str, &str),
    text: &str,
    parent: Option<&str>,
) -> Value {
    let mut value = json!({
        "from": {"id": from.0, "username": from.1},
        "media": {"id": media, "media_product_type": "FEED"},
        "id": comment,
        "text": text,
    });
    if let Some(parent) = parent {
        value["parent_id"] = json!(parent);
    }
    json!({"field": "comments", "value": value})
}

/// An Instagram `mentions` change: in a caption (`comment: None`) or a comment.
pub fn ig_mention(_ig: &str, media: &str, comment: Option<&str>) -> Value {
    let mut value = json!({ "media_id": media });
    if let Some(comment) = comment {
        value["comment_id"] = json!(comment);
    }
    json!({"field": "mentions", "value": value})
}

/// An Instagram DM: a `messaging[]` item, the same shape as Messenger's.
pub fn ig_message(ig: &str, igsid: &str, mid: &str, text: &str, at_ms: i64) -> Value {
    messenger_message(ig, igsid, mid, text, at_ms)
}

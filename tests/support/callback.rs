//! A fake receiver of a generic webhook's replies (`callback_url`), and the sending side of
//! the webhook: deliveries signed as the README documents.
//!
//! The receiver checks every request's `X-Carebridge-Signature` against its own HMAC of
//! `"{X-Carebridge-Timestamp}.{body}"` (written here from the README, not borrowed from the
//! bot), records it as a [`Call`], and answers from a script ([`Receiver::answer_next`]:
//! a 429 with `Retry-After`, a 500, a 400 with a message) or, by default, 200 with
//! `{"id": "cb-N"}`. Like a careful receiver it honours `Idempotency-Key`: a key it accepted
//! before gets the first answer again and is not taken twice, so [`Receiver::taken`] is what
//! a real receiver would have acted on.
//!
//! Include with `#[path = "support/callback.rs"] mod callback;` next to
//! `#[path = "support/background.rs"] mod background;`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::background::{Background, Watched, blocking, loopback};

/// The receiver's copy of the account's secret.
pub const SECRET: &str = "whsec_callback_0123456789abcdef";

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Call {
    pub timestamp: Option<String>,
    pub signature: Option<String>,
    pub idempotency_key: Option<String>,
    pub content_type: Option<String>,
    /// The signature matched the timestamp and raw body under [`SECRET`].
    pub verified: bool,
    pub body: Value,
    /// The status it was answered.
    pub status: u16,
}

/// A scripted answer.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub retry_after: Option<&'static str>,
    pub body: Value,
    /// Take the reply, then answer only after a minute: the sender never learns it went through.
    pub lost: bool,
}

impl Answer {
    /// The reply is taken (and its key remembered), but the answer never arrives in time.
    pub fn lost() -> Answer {
        Answer {
            status: 200,
            retry_after: None,
            body: Value::Null,
            lost: true,
        }
    }

    pub fn rate_limited(retry_after: &'static str) -> Answer {
        Answer {
            status: 429,
            retry_after: Some(retry_after),
            body: json!({"error": "slow down"}),
            lost: false,
        }
    }

    pub fn status(status: u16, error: &str) -> Answer {
        Answer {
            status,
            retry_after: None,
            body: json!({ "error": error }),
            lost: false,
        }
    }
}

#[derive(Default)]
struct World {
    calls: Vec<Call>,
    script: VecDeque<Answer>,
    /// Accepted keys and the answer they got.
    accepted: HashMap<String, Value>,
    /// The bodies acted on, once per key.
    taken: Vec<Value>,
}

pub struct Receiver {
    world: Arc<Watched<World>>,
    url: String,
    _server: Background,
}

/// `sha256=` + hex HMAC-SHA256 of `"{timestamp}.{body}"`: the README's recipe.
pub fn sign(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    format!(
        "sha256={}",
        hex::encode(mac.finalize().into_bytes().as_slice())
    )
}

pub fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

async fn receive(
    State(world): State<Arc<Watched<World>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let timestamp = header("x-carebridge-timestamp");
    let signature = header("x-carebridge-signature");
    let verified = matches!((&timestamp, &signature),
        (Some(t), Some(s)) if *s == sign(SECRET, t, &body));
    let key = header("idempotency-key");
    let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let (status, retry_after, answer, lost) = {
        let mut w = world.lock();
        let take = |w: &mut World| {
            let answer = json!({"id": format!("cb-{}", w.taken.len() + 1)});
            if let Some(key) = &key {
                w.accepted.insert(key.clone(), answer.clone());
            }
            w.taken.push(parsed.clone());
            answer
        };
        let (status, retry_after, answer, lost) = match (&key, verified) {
            (_, false) => (401, None, json!({"error": "bad signature"}), false),
            (Some(key), true) if w.accepted.contains_key(key) => {
                (200, None, w.accepted[key].clone(), false)
            }
            (_, true) => match w.script.pop_front() {
                Some(a) if a.lost => (200, None, take(&mut w), true),
                Some(a) => (a.status, a.retry_after, a.body, false),
                None => (200, None, take(&mut w), false),
            },
        };
        w.calls.push(Call {
            timestamp,
            signature,
            idempotency_key: key,
            content_type: header("content-type"),
            verified,
            body: parsed,
            status,
        });
        (status, retry_after, answer, lost)
    };
    world.notify();
    if lost {
        tokio::time::sleep(Duration::from_secs(60)).await;
    }
    let mut response = (StatusCode::from_u16(status).unwrap(), axum::Json(answer)).into_response();
    if let Some(wait) = retry_after {
        response
            .headers_mut()
            .insert("retry-after", wait.parse().unwrap());
    }
    response
}

impl Receiver {
    pub fn start() -> Receiver {
        let listener = loopback();
        let url = format!(
            "http://{}/carebridge/replies",
            listener.local_addr().unwrap()
        );
        let world = Arc::new(Watched::new(World::default()));
        let app = axum::Router::new()
            .route("/carebridge/replies", axum::routing::post(receive))
            .with_state(Arc::clone(&world));
        let server = Background::serve("fake-callback", listener, app);
        Receiver {
            world,
            url,
            _server: server,
        }
    }

    /// The `callback_url` to configure.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Answers the next request (of a key not accepted yet) with `answer` instead of 200.
    pub fn answer_next(&self, answer: Answer) {
        self.world.lock().script.push_back(answer);
    }

    pub fn calls(&self) -> Vec<Call> {
        self.world.lock().calls.clone()
    }

    /// The replies acted on, once per idempotency key.
    pub fn taken(&self) -> Vec<Value> {
        self.world.lock().taken.clone()
    }

    /// Waits until `n` requests arrived; panics after `limit`.
    pub fn wait_calls(&self, n: usize, limit: Duration) -> Vec<Call> {
        self.world
            .wait(limit, |w| (w.calls.len() >= n).then(|| w.calls.clone()))
            .unwrap_or_else(|| panic!("fewer than {n} callback requests: {:?}", self.calls()))
    }
}

// ---------------------------------------------------------------------------
// The sending side
// ---------------------------------------------------------------------------

/// POSTs `body` to `url` signed with `secret` at `timestamp`.
pub fn deliver_at(url: &str, secret: &str, timestamp: &str, body: &[u8]) -> (u16, Value) {
    let headers = [
        ("content-type", "application/json".to_owned()),
        ("x-carebridge-timestamp", timestamp.to_owned()),
        ("x-carebridge-signature", sign(secret, timestamp, body)),
    ];
    post_raw(url, &headers, body)
}

/// POSTs `post` to `url`, signed with `secret` now.
pub fn deliver(url: &str, secret: &str, post: &Value) -> (u16, Value) {
    deliver_at(
        url,
        secret,
        &now_secs().to_string(),
        post.to_string().as_bytes(),
    )
}

/// POSTs exactly these bytes with exactly these headers; the answer as JSON (`null` if not).
pub fn post_raw(url: &str, headers: &[(&str, String)], body: &[u8]) -> (u16, Value) {
    let (status, text) = blocking(reqwest::Method::POST, url, headers, Some(body.to_vec()));
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A post by Jane (`cust-42`) in `conversation`.
pub fn jane_posts(id: &str, conversation: &str, text: &str) -> Value {
    json!({
        "id": id,
        "author": {"id": "cust-42", "handle": "jane", "name": "Jane Doe"},
        "text": text,
        "url": format!("https://forms.acme.example/{id}"),
        "kind": "comment",
        "conversation": conversation,
    })
}

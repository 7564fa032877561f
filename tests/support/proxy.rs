//! A recording reverse proxy in front of a real server, for the interoperability tests: it
//! forwards every request unchanged and answers with the server's answer (streamed, so
//! server-sent events pass), logs each call, and can lose the answer of one call — the server
//! has acted, the bot never hears — as a connection that breaks at the worst moment does — or
//! answer one call with a refusal of its own (a 429 where the server has no way to make one
//! on demand) without passing it on. Everything else the tests see is the server's own.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;

use crate::background::{Background, CallLog, Watched, loopback};

/// One call that went through.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    pub path: String,
    /// The server's status; 0 while unanswered.
    pub status: u16,
    /// The server answered, but the answer was not passed on.
    pub lost: bool,
}

#[derive(Default)]
struct State {
    calls: CallLog<Call>,
    /// (method, path) whose next answer is lost.
    lose: HashSet<(String, String)>,
    /// (method, path) whose next call the proxy answers itself, never reaching the server.
    refuse: HashMap<(String, String), Refusal>,
}

/// An answer the proxy gives in the server's place.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

struct Shared {
    upstream: String,
    http: reqwest::Client,
    state: Watched<State>,
}

pub struct Proxy {
    shared: Arc<Shared>,
    addr: SocketAddr,
    _server: Background,
}

/// Headers that belong to one hop, not to the request or answer passed on.
const HOP: &[&str] = &[
    "host",
    "connection",
    "content-length",
    "transfer-encoding",
    "keep-alive",
];

impl Proxy {
    /// Proxies `http://127.0.0.1:PORT/…` to `upstream` (a base URL without a trailing slash).
    pub fn start(upstream: &str) -> Proxy {
        let listener = loopback();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
            state: Watched::new(State::default()),
        });
        let app = axum::Router::new()
            .fallback(forward)
            .with_state(Arc::clone(&shared));
        let server = Background::serve("proxy", listener, app);
        Proxy {
            shared,
            addr,
            _server: server,
        }
    }

    /// `http://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// The next `method` call to `path` reaches the server, but its answer never comes back.
    pub fn lose_next(&self, method: &str, path: &str) {
        self.shared
            .state
            .lock()
            .lose
            .insert((method.to_owned(), path.to_owned()));
    }

    /// The next `method` call to `path` gets `refusal` from the proxy; the server never sees it.
    pub fn refuse_next(&self, method: &str, path: &str, refusal: Refusal) {
        self.shared
            .state
            .lock()
            .refuse
            .insert((method.to_owned(), path.to_owned()), refusal);
    }

    pub fn calls(&self) -> Vec<Call> {
        self.shared.state.lock().calls.to_vec()
    }

    /// Blocks until the server answered `count` `method` calls to `path`; returns them.
    pub fn wait_for(&self, method: &str, path: &str, count: usize, timeout: Duration) -> Vec<Call> {
        let found = self.shared.state.wait(timeout, |s| {
            s.calls.at_least(count, |c| {
                c.method == method && c.path == path && c.status != 0
            })
        });
        found.unwrap_or_else(|| {
            panic!(
                "timed out after {timeout:?} waiting for {count} × {method} {path}; calls: {:#?}",
                self.calls()
            )
        })
    }
}

async fn forward(
    AxumState(shared): AxumState<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let index = {
        let mut state = shared.state.lock();
        state.calls.push(Call {
            method: method.to_string(),
            path: path.clone(),
            status: 0,
            lost: false,
        });
        state.calls.len() - 1
    };
    let refusal = {
        let mut state = shared.state.lock();
        let refusal = state.refuse.remove(&(method.to_string(), path.clone()));
        if let Some(refusal) = &refusal {
            state.calls[index].status = refusal.status;
        }
        refusal
    };
    if let Some(refusal) = refusal {
        shared.state.notify();
        let mut response = Response::builder().status(refusal.status);
        for (name, value) in refusal.headers {
            response = response.header(name, value);
        }
        return response
            .header("content-type", "application/json")
            .body(Body::from(refusal.body))
            .unwrap();
    }
    let target = format!(
        "{}{}",
        shared.upstream,
        uri.path_and_query().map_or("/", |p| p.as_str())
    );
    let mut request = shared.http.request(method.clone(), target).body(body);
    for (name, value) in &headers {
        if !HOP.contains(&name.as_str()) {
            request = request.header(name, value);
        }
    }
    let answer = match request.send().await {
        Ok(answer) => answer,
        Err(error) => {
            return Response::builder()
                .status(502)
                .body(Body::from(error.to_string()))
                .unwrap();
        }
    };
    let status = answer.status().as_u16();
    let lost = shared.state.lock().lose.remove(&(method.to_string(), path));
    if lost {
        // Let the server finish, then break the promise of an answer.
        let _ = answer.bytes().await;
        {
            let mut state = shared.state.lock();
            state.calls[index].status = status;
            state.calls[index].lost = true;
        }
        shared.state.notify();
        return std::future::pending().await;
    }
    shared.state.lock().calls[index].status = status;
    shared.state.notify();
    let mut response = Response::builder().status(status);
    for (name, value) in answer.headers() {
        if !HOP.contains(&name.as_str()) {
            response = response.header(name, value);
        }
    }
    let body = futures_util::stream::unfold(answer, |mut answer| async move {
        match answer.chunk().await {
            Ok(Some(chunk)) => Some((Ok::<_, std::io::Error>(chunk), answer)),
            _ => None,
        }
    });
    response.body(Body::from_stream(body)).unwrap()
}

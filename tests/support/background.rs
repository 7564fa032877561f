//! A fake platform's servers on a thread of their own, with their own tokio runtime, so a
//! test that blocks its thread (or its runtime) cannot stall them. Dropping the handle shuts
//! the runtime down, which cancels every server, connection and hanging request.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::future::Future;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

/// A fake's world: its state behind a lock, and a signal that it changed, so
/// a test thread can wait for what the bot's requests bring about.
pub struct Watched<S> {
    state: Mutex<S>,
    changed: Condvar,
}

impl<S> Watched<S> {
    pub fn new(state: S) -> Self {
        Watched {
            state: Mutex::new(state),
            changed: Condvar::new(),
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, S> {
        // A panic in one handler must not hide every later assertion.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wakes every waiter: call after changing the state.
    pub fn notify(&self) {
        self.changed.notify_all();
    }

    /// Waits until the log `calls` reads from the state holds `count` calls `matching` (`what`
    /// names them) and returns those; panics after `timeout`, listing every call seen.
    pub fn wait_calls<C: Logged>(
        &self,
        timeout: Duration,
        count: usize,
        what: &str,
        calls: impl Fn(&S) -> &CallLog<C>,
        matching: impl Fn(&C) -> bool,
    ) -> Vec<C> {
        self.wait(timeout, |s| calls(s).at_least(count, &matching))
            .unwrap_or_else(|| {
                let seen: Vec<String> = calls(&self.lock()).iter().map(Logged::line).collect();
                panic!(
                    "timed out after {timeout:?} waiting for {count} × {what}; calls seen: {seen:#?}"
                )
            })
    }

    /// Waits until `f` returns `Some` or `timeout` passes.
    pub fn wait<T>(&self, timeout: Duration, mut f: impl FnMut(&S) -> Option<T>) -> Option<T> {
        let deadline = Instant::now() + timeout;
        let mut state = self.lock();
        loop {
            if let Some(v) = f(&state) {
                return Some(v);
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            state = self
                .changed
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

pub struct Background {
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Background {
    /// Runs `start` on a new thread's runtime; it spawns the servers and returns.
    pub fn start<F, Fut>(name: &str, start: F) -> Background
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = ()>,
    {
        let (shutdown, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async move {
                    start().await;
                    let _ = stopped.await;
                });
                drop(rt);
            })
            .unwrap();
        Background {
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }
}

impl Background {
    /// Serves `app` on `listener` (see [`loopback`]) from a thread and runtime of its own.
    pub fn serve(name: &str, listener: std::net::TcpListener, app: axum::Router) -> Background {
        Background::start(name, move || async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            tokio::spawn(async move { axum::serve(listener, app).await });
        })
    }
}

/// A listener on a free loopback port, bound here, synchronously, so the address is known
/// before the server starts.
pub fn loopback() -> std::net::TcpListener {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    listener
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Runs one request on its own thread and runtime, so callers need none and
/// a caller's runtime is never blocked from inside.
pub fn blocking(
    method: reqwest::Method,
    url: &str,
    headers: &[(&str, String)],
    body: Option<Vec<u8>>,
) -> (u16, String) {
    let url = url.to_string();
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let mut req = reqwest::Client::new()
                .request(method, &url)
                .timeout(std::time::Duration::from_secs(30));
            for (k, v) in headers {
                req = req.header(k, v);
            }
            if let Some(body) = body {
                req = req.body(body);
            }
            match req.send().await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    (status, resp.text().await.unwrap_or_default())
                }
                Err(e) => (0, e.to_string()),
            }
        })
    })
    .join()
    .unwrap()
}

/// A call as a timeout lists it.
pub trait Logged: Clone {
    fn line(&self) -> String;
}

/// The requests a fake received, oldest first, and how many a test has taken: every fake
/// keeps one, so "no unasserted outgoing call" reads the same on each platform.
pub struct CallLog<C> {
    calls: Vec<C>,
    /// `calls[..taken]` were handed out by [`CallLog::take`].
    taken: usize,
}

impl<C> Default for CallLog<C> {
    fn default() -> Self {
        CallLog {
            calls: Vec::new(),
            taken: 0,
        }
    }
}

impl<C: Clone> CallLog<C> {
    /// The calls not taken yet, oldest first; marks them taken.
    pub fn take(&mut self) -> Vec<C> {
        let out = self.calls[self.taken..].to_vec();
        self.taken = self.calls.len();
        out
    }

    /// The calls `matching` holds for, once there are at least `count` of them.
    pub fn at_least(&self, count: usize, matching: impl Fn(&C) -> bool) -> Option<Vec<C>> {
        let calls: Vec<C> = self.calls.iter().filter(|c| matching(c)).cloned().collect();
        (calls.len() >= count).then_some(calls)
    }
}

impl<C> std::ops::Deref for CallLog<C> {
    type Target = Vec<C>;
    fn deref(&self) -> &Vec<C> {
        &self.calls
    }
}

impl<C> std::ops::DerefMut for CallLog<C> {
    fn deref_mut(&mut self) -> &mut Vec<C> {
        &mut self.calls
    }
}

//! The front of every chat adapter's inbound queue: requests are queued as
//! soon as they arrive (so the transport can acknowledge within the
//! platform's 3 seconds) unless their event id was seen lately, so a
//! redelivery that arrives while the first delivery is still queued is
//! dropped before it costs anything. The store remembers the ids of events
//! already worked; this only covers the gap before that.

use std::collections::{HashSet, VecDeque};
use std::sync::{Mutex, PoisonError};

use tokio::sync::{mpsc, watch};

/// Requests waiting for an adapter's worker; beyond this the transport
/// waits (and the platform's own retry covers an ack that then comes late).
const QUEUE: usize = 4096;

/// A queue of requests for one worker, deduplicated by event id.
pub struct Intake<R> {
    queue: mpsc::Sender<R>,
    recent: Recent,
    /// The chat's name, for the log.
    chat: &'static str,
}

impl<R> Intake<R> {
    /// The intake and the receiving end its worker reads.
    pub fn new(chat: &'static str) -> (Intake<R>, mpsc::Receiver<R>) {
        let (queue, requests) = mpsc::channel(QUEUE);
        let intake = Intake {
            queue,
            recent: Recent::default(),
            chat,
        };
        (intake, requests)
    }

    /// Queues a request unless its `event` id was seen lately.
    pub async fn accept(&self, event: Option<&str>, request: R) {
        if let Some(id) = event
            && !self.recent.insert(id)
        {
            tracing::debug!(chat = self.chat, event = %id, "Event seen already; dropped.");
            return;
        }
        if self.queue.send(request).await.is_err() {
            tracing::warn!(
                chat = self.chat,
                "Event arrived while shutting down; dropped."
            );
        }
    }
}

/// Event ids remembered; the oldest are forgotten first.
const RECENT: usize = 10_000;

/// Works the queued requests one at a time, in arrival order, until the
/// queue closes or `stopped` turns true.
pub async fn work<R, F, Fut>(
    mut requests: mpsc::Receiver<R>,
    mut stopped: watch::Receiver<bool>,
    mut worker: F,
) where
    F: FnMut(R) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    loop {
        tokio::select! {
            request = requests.recv() => match request {
                Some(request) => worker(request).await,
                None => break,
            },
            _ = stopped.changed() => break,
        }
    }
}

#[derive(Default)]
struct Recent(Mutex<Ids>);

#[derive(Default)]
struct Ids {
    order: VecDeque<String>,
    ids: HashSet<String>,
}

impl Recent {
    /// False when `id` was seen lately.
    fn insert(&self, id: &str) -> bool {
        let mut seen = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if seen.ids.contains(id) {
            return false;
        }
        if seen.order.len() >= RECENT
            && let Some(old) = seen.order.pop_front()
        {
            seen.ids.remove(&old);
        }
        seen.order.push_back(id.to_owned());
        seen.ids.insert(id.to_owned());
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_the_latest_ids_only() {
        let recent = Recent::default();
        assert!(recent.insert("a"));
        assert!(!recent.insert("a"));
        for i in 0..RECENT {
            recent.insert(&i.to_string());
        }
        assert!(recent.insert("a"), "the oldest id is forgotten");
    }
}

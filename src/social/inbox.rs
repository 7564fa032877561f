//! Webhook deliveries acknowledged at once and worked after, a few at a time:
//! the queue every network's webhook route shares (X and Meta each want an
//! answer within seconds, and working a delivery may call the network).
//!
//! Must not: verify or parse deliveries (each webhook does that first), or
//! grow without bound (a full queue answers 503, and the network delivers
//! again later).

use std::future::Future;
use std::sync::Arc;

use axum::http::StatusCode;
use tokio::sync::{Semaphore, mpsc};

/// Deliveries acknowledged but not yet worked.
const QUEUE: usize = 4096;
/// Deliveries worked at once.
const WORKERS: usize = 8;

pub struct Inbox<T> {
    queue: mpsc::Sender<T>,
    network: &'static str,
}

impl<T: Send + 'static> Inbox<T> {
    /// Starts the workers; they stop when the inbox is dropped.
    pub fn start<F, Fut>(network: &'static str, work: F) -> Inbox<T>
    where
        F: Fn(T) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let (queue, mut deliveries) = mpsc::channel::<T>(QUEUE);
        tokio::spawn(async move {
            let slots = Arc::new(Semaphore::new(WORKERS));
            while let Some(delivery) = deliveries.recv().await {
                let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
                    return;
                };
                let job = work(delivery);
                tokio::spawn(async move {
                    job.await;
                    drop(slot);
                });
            }
        });
        Inbox { queue, network }
    }

    /// Queues a verified delivery: `200 OK`, or `503` when the queue is full (the network
    /// delivers again later).
    pub fn offer(&self, delivery: T) -> StatusCode {
        match self.queue.try_send(delivery) {
            Ok(()) => StatusCode::OK,
            Err(_) => {
                tracing::warn!(
                    network = self.network,
                    "Webhook queue is full; asking for the delivery again later."
                );
                StatusCode::SERVICE_UNAVAILABLE
            }
        }
    }
}

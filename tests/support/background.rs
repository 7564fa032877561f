//! A fake platform's servers on a thread of their own, with their own tokio runtime, so a
//! test that blocks its thread (or its runtime) cannot stall them. Dropping the handle shuts
//! the runtime down, which cancels every server, connection and hanging request.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::future::Future;

use tokio::sync::oneshot;

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

//! The bot's one HTTP listener (`bot.listen`): `/healthz`, plus the routes
//! the configured adapters bring (Slack's Events API today; webhooks later).
//!
//! Owns binding and graceful shutdown only; each route verifies its own
//! platform's signature.

use std::net::SocketAddr;

use axum::Router;
use axum::routing::get;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Binds `listen` and serves `routes` (plus `/healthz`) until `stopped`.
/// Binding happens before this returns, so a taken port fails the start.
pub async fn serve(
    listen: SocketAddr,
    routes: Router,
    mut stopped: watch::Receiver<bool>,
) -> anyhow::Result<JoinHandle<()>> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen} (bot.listen): {e}"))?;
    let local = listener.local_addr().unwrap_or(listen);
    tracing::info!(address = %local, "Listening for HTTP.");
    let app = routes.route("/healthz", get(|| async { "ok" }));
    Ok(tokio::spawn(async move {
        let shutdown = async move {
            let _ = stopped.changed().await;
        };
        if let Err(error) = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::error!(%error, "The HTTP listener failed.");
        }
    }))
}

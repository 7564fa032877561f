//! The bot's one HTTP listener (`bot.listen`): `/healthz` and `/metrics`, plus the routes
//! the configured adapters bring (Slack's Events API, the network webhooks).
//!
//! Owns binding, graceful shutdown and the two monitoring routes; each other route verifies
//! its own platform's signature. `/healthz` and `/metrics` are unauthenticated and hold no
//! secret: bind `bot.listen` where only the operator's scraper reaches them.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::engine::Platform;
use crate::health::Health;
use crate::store::Store;

/// What the monitoring routes read.
#[derive(Clone)]
pub struct Monitor {
    pub health: Arc<Health>,
    pub metrics: PrometheusHandle,
    pub store: Store,
    /// The configured accounts' networks, so their gauges show zeros before any case.
    pub networks: Vec<Platform>,
}

/// `/healthz` and `/metrics`.
fn monitoring(monitor: Monitor) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .with_state(monitor)
}

/// 200 when every component is up, 503 otherwise; the JSON says which.
async fn healthz(State(monitor): State<Monitor>) -> Response {
    let report = monitor.health.report();
    let status = match report.ok() {
        true => StatusCode::OK,
        false => StatusCode::SERVICE_UNAVAILABLE,
    };
    (status, axum::Json(report)).into_response()
}

async fn metrics(State(monitor): State<Monitor>) -> Response {
    // The gauges read the store; sled reads are quick but blocking.
    let rendered = tokio::task::spawn_blocking(move || {
        crate::metrics::render(&monitor.metrics, &monitor.store, &monitor.networks)
    })
    .await;
    match rendered {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(error) => {
            tracing::error!(%error, "Cannot render /metrics.");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// Binds `listen` and serves `routes` (plus `/healthz` and `/metrics`) until `stopped`.
/// Binding happens before this returns, so a taken port fails the start.
pub async fn serve(
    listen: SocketAddr,
    routes: Router,
    monitor: Monitor,
    mut stopped: watch::Receiver<bool>,
) -> anyhow::Result<JoinHandle<()>> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen} (bot.listen): {e}"))?;
    let local = listener.local_addr().unwrap_or(listen);
    tracing::info!(address = %local, "Listening for HTTP.");
    let app = routes.merge(monitoring(monitor));
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

//! `POST /webhooks/generic/{account}`: posts from any source that signs them with the
//! account's secret (see `signing`).
//!
//! The order of checks is the contract: an unknown account is 404; a missing, wrong or stale
//! signature is 401, checked on the raw bytes before anything is parsed; a body that is not a
//! post is 400 naming every bad field; otherwise the post is ingested and the answer is 200
//! with the case it opened, joined or already had (`{"case": 12, "result": "opened"}`).
//! Every answer is JSON (`{"error": …}` for the refusals) and nothing is stored on a refusal.
//!
//! Unlike X's and Meta's routes this one works inline rather than through the shared
//! [`crate::social::inbox::Inbox`]: ingesting one post is one local store commit, with no
//! network call, so answering after it is still quick, and a 200 then means the case exists —
//! a sender may forget a delivery once it has its answer, and learns the case number. A
//! redelivery (a sender's retry, or a replay inside the window) is caught where every post is:
//! ingest dedupes by post id. Must not: parse before verifying, or hold workflow rules.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::post;
use chrono::Utc;
use serde_json::json;

use super::{signing, wire};
use crate::config::Secret;
use crate::health::Health;
use crate::service::{IngestResult, Service};

/// One webhook account that receives posts.
#[derive(Clone)]
pub struct Hook {
    pub secret: Secret,
    pub replay_window: Duration,
}

struct Hooks {
    by_account: HashMap<String, Hook>,
    service: Arc<Service>,
    health: Arc<Health>,
}

/// The route for these accounts (by account id).
pub fn routes(hooks: HashMap<String, Hook>, service: Arc<Service>, health: Arc<Health>) -> Router {
    Router::new()
        .route("/webhooks/generic/{account}", post(deliver))
        .with_state(Arc::new(Hooks {
            by_account: hooks,
            service,
            health,
        }))
}

fn refuse(status: StatusCode, error: impl Into<String>) -> Response {
    (status, Json(json!({ "error": error.into() }))).into_response()
}

async fn deliver(
    State(hooks): State<Arc<Hooks>>,
    Path(account): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(hook) = hooks.by_account.get(&account) else {
        return refuse(
            StatusCode::NOT_FOUND,
            format!("no webhook account `{account}` is configured"),
        );
    };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let now = Utc::now();
    if let Err(rejection) = signing::verify(
        hook.secret.expose(),
        header(signing::TIMESTAMP),
        header(signing::SIGNATURE),
        &body,
        now.timestamp(),
        hook.replay_window,
    ) {
        tracing::warn!(%account, %rejection, "Refused a generic webhook delivery.");
        return refuse(StatusCode::UNAUTHORIZED, rejection.to_string());
    }
    hooks.health.heard(&account);
    let post = match wire::post(&account, &body, now) {
        Ok(post) => post,
        Err(problems) => {
            let errors: Vec<String> = problems.iter().map(ToString::to_string).collect();
            tracing::warn!(%account, ?errors, "Refused a generic webhook post we cannot read.");
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({ "error": errors.first(), "errors": errors })),
            )
                .into_response();
        }
    };
    let id = post.id.clone();
    // A store commit is blocking work: keep it off the threads that answer requests.
    let service = Arc::clone(&hooks.service);
    let ingested =
        tokio::task::spawn_blocking(move || service.ingest_page(&[post], None, now)).await;
    let result = match ingested {
        Ok(Ok(results)) => results.into_iter().next(),
        Ok(Err(error)) => {
            tracing::error!(%account, post = %id, %error, "Cannot store a generic webhook post.");
            None
        }
        Err(error) => {
            tracing::error!(%account, post = %id, %error, "Storing a generic webhook post failed.");
            None
        }
    };
    let (case, result) = match result {
        Some(IngestResult::Opened(case)) => (case, "opened"),
        Some(IngestResult::Joined(case)) => (case, "joined"),
        Some(IngestResult::Duplicate(case)) => (case, "duplicate"),
        None => {
            return refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the post could not be stored; deliver it again",
            );
        }
    };
    tracing::info!(%account, post = %id, case, result, "Generic webhook post ingested.");
    Json(json!({ "case": case, "result": result })).into_response()
}

//! The Account Activity webhook: `GET /webhooks/x/{account}?crc_token=…` (X's challenge–
//! response check) and `POST /webhooks/x/{account}` (deliveries), plus the same two on
//! `/webhooks/x` for a single app's accounts.
//!
//! A delivery's `x-twitter-webhooks-signature` is checked against the raw body before
//! anything is parsed: a missing or wrong one gets 401 and changes nothing. The delivery is
//! queued and acknowledged at once (X wants an answer within 3 seconds) and worked after, a
//! few at a time; a full queue answers 503. Mentions are
//! looked up through v2 so that they carry the same conversation ids as polled ones; the
//! delivery's own v1.1 data is the fallback. X signs no timestamp, so a replayed delivery is
//! caught where every post is: ingest dedupes by post id, and polling and the webhook never
//! open two cases for one post. Must not: parse before verifying, or do the work inline.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;

use super::client::Client;
use super::{signing, wire};
use crate::config::Secret;
use crate::engine::PostKind;
use crate::service::Service;
use crate::social::inbox::Inbox;

/// One X account that receives webhook deliveries.
#[derive(Clone)]
pub struct Hook {
    pub secret: Secret,
    pub client: Arc<Client>,
}

struct Hooks {
    by_account: HashMap<String, Hook>,
    inbox: Inbox<(Vec<Hook>, Bytes)>,
}

/// The webhook routes for these accounts (by account id), and the task that works their
/// deliveries until the routes are dropped.
pub fn routes(hooks: HashMap<String, Hook>, service: Arc<Service>) -> Router {
    let inbox = Inbox::start("x", move |(hooks, body)| {
        work(Arc::clone(&service), hooks, body)
    });
    let state = Arc::new(Hooks {
        by_account: hooks,
        inbox,
    });
    Router::new()
        .route("/webhooks/x", get(crc_any).post(deliver_any))
        .route("/webhooks/x/{account}", get(crc).post(deliver))
        .with_state(state)
}

#[derive(Deserialize)]
struct Challenge {
    crc_token: Option<String>,
}

fn answer(secret: &Secret, challenge: Challenge) -> Response {
    match challenge.crc_token {
        Some(token) if !token.is_empty() => Json(json!({
            "response_token": signing::crc_response(secret.expose(), &token)
        }))
        .into_response(),
        _ => (StatusCode::BAD_REQUEST, "crc_token is required").into_response(),
    }
}

async fn crc(
    State(hooks): State<Arc<Hooks>>,
    Path(account): Path<String>,
    Query(challenge): Query<Challenge>,
) -> Response {
    match hooks.by_account.get(&account) {
        Some(hook) => answer(&hook.secret, challenge),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// On the shared route the challenge can only be answered when one app serves every account.
async fn crc_any(State(hooks): State<Arc<Hooks>>, Query(challenge): Query<Challenge>) -> Response {
    let secrets: BTreeSet<&str> = hooks
        .by_account
        .values()
        .map(|h| h.secret.expose())
        .collect();
    match (secrets.len(), hooks.by_account.values().next()) {
        (1, Some(hook)) => answer(&hook.secret, challenge),
        (0, _) | (_, None) => StatusCode::NOT_FOUND.into_response(),
        _ => {
            tracing::warn!(
                "X CRC check on /webhooks/x, but the accounts use different apps; register /webhooks/x/<account> instead."
            );
            (
                StatusCode::BAD_REQUEST,
                "several X apps are configured: use /webhooks/x/<account>",
            )
                .into_response()
        }
    }
}

async fn deliver(
    State(hooks): State<Arc<Hooks>>,
    Path(account): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    match hooks.by_account.get(&account) {
        Some(hook) => accept(&hooks, vec![hook.clone()], &headers, body),
        None => StatusCode::NOT_FOUND,
    }
}

async fn deliver_any(
    State(hooks): State<Arc<Hooks>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let all = hooks.by_account.values().cloned().collect();
    accept(&hooks, all, &headers, body)
}

/// Verifies, acknowledges and hands the delivery to a task.
fn accept(hooks: &Hooks, candidates: Vec<Hook>, headers: &HeaderMap, body: Bytes) -> StatusCode {
    let signature = headers
        .get("x-twitter-webhooks-signature")
        .and_then(|v| v.to_str().ok());
    let verified: Vec<Hook> = match signature {
        Some(signature) => candidates
            .into_iter()
            .filter(|h| signing::verify(h.secret.expose(), &body, signature))
            .collect(),
        None => Vec::new(),
    };
    if verified.is_empty() {
        tracing::warn!(
            signed = signature.is_some(),
            "Refused an unsigned or badly signed X webhook delivery."
        );
        return StatusCode::UNAUTHORIZED;
    }
    // A full queue answers 503: X retries deliveries it had no 200 for, and polling brings
    // the same posts.
    hooks.inbox.offer((verified, body))
}

/// Turns a verified delivery into posts for the account it is for.
async fn work(service: Arc<Service>, hooks: Vec<Hook>, body: Bytes) {
    let Some(for_user) = wire::for_user_id(&body) else {
        tracing::warn!("Dropped an X webhook delivery without for_user_id.");
        return;
    };
    let mut target = None;
    for hook in hooks {
        if hook.client.me().await.is_ok_and(|me| me == for_user) {
            target = Some(hook);
            break;
        }
    }
    let Some(hook) = target else {
        tracing::warn!(
            for_user,
            "Dropped an X webhook delivery for an account we don't serve."
        );
        return;
    };
    let account = hook.client.account().to_owned();
    let now = Utc::now();
    let activity = match wire::activity(&body, &account, now) {
        Ok(activity) => activity,
        Err(error) => {
            tracing::warn!(%account, %error, "Dropped an X webhook delivery we cannot read.");
            return;
        }
    };
    let mut posts = Vec::new();
    if !activity.mention_ids.is_empty() {
        match hook.client.lookup(&activity.mention_ids).await {
            Ok(page) => posts.extend(wire::tweet_posts(
                &page,
                &account,
                &for_user,
                PostKind::Mention,
                now,
            )),
            Err(error) => {
                tracing::warn!(%account, ?error, "Cannot look up the delivered tweets on X; using the delivery's own data.");
                posts.extend(activity.tweets);
            }
        }
    }
    posts.extend(activity.dms);
    if posts.is_empty() {
        return;
    }
    // Store commits are blocking work: keep them off the threads that answer requests.
    match tokio::task::block_in_place(|| service.ingest_page(&posts, None, now)) {
        Ok(results) => {
            tracing::info!(%account, posts = posts.len(), ?results, "X webhook posts ingested.");
        }
        Err(error) => {
            // Polling will bring these posts again.
            tracing::error!(%account, %error, "Cannot store X webhook posts.");
        }
    }
}

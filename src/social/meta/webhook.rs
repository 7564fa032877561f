//! `GET /webhooks/meta` (the subscription's verification) and `POST
//! /webhooks/meta` (deliveries for every configured Page and Instagram
//! account, which may share one Meta app).
//!
//! A delivery's `X-Hub-Signature-256` is checked against the raw body before
//! anything is parsed: a missing or wrong one gets 401 and changes nothing.
//! The delivery is queued and acknowledged at once, then worked: each entry
//! goes to the account whose Page or Instagram id it names (an unknown one
//! is logged and dropped), each change and message on its own: new posts are
//! ingested, edits and removals applied to the case holding the post. Meta signs no
//! timestamp, so a replayed delivery is caught where every post is: ingest
//! dedupes by post id. Must not: parse before verifying, or work inline.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::Utc;
use serde::Deserialize;

use super::client::Graph;
use super::wire::{self, Event, Skip};
use crate::config::Secret;
use crate::engine::{Input, Platform, PostChange, SocialPost, post_key};
use crate::service::Service;
use crate::social::inbox::Inbox;

/// One account that receives deliveries.
#[derive(Clone)]
pub struct Hook {
    pub graph: Arc<Graph>,
    pub app_secret: Secret,
    pub verify_token: Secret,
}

struct Hooks {
    hooks: Vec<Hook>,
    inbox: Inbox<(Vec<Hook>, Bytes)>,
}

/// The routes for these accounts, and the workers that work their deliveries.
pub fn routes(hooks: Vec<Hook>, service: Arc<Service>) -> Router {
    let inbox = Inbox::start("meta", move |(hooks, body)| {
        work(Arc::clone(&service), hooks, body)
    });
    Router::new()
        .route("/webhooks/meta", get(verify).post(deliver))
        .with_state(Arc::new(Hooks { hooks, inbox }))
}

/// `hub.mode`, `hub.verify_token`, `hub.challenge`.
#[derive(Deserialize)]
struct Subscription {
    #[serde(rename = "hub.mode")]
    mode: Option<String>,
    #[serde(rename = "hub.verify_token")]
    verify_token: Option<String>,
    #[serde(rename = "hub.challenge")]
    challenge: Option<String>,
}

/// Echoes the challenge when the mode is `subscribe` and the token is one of ours.
async fn verify(State(hooks): State<Arc<Hooks>>, Query(query): Query<Subscription>) -> Response {
    let known = query
        .verify_token
        .as_deref()
        .is_some_and(|t| hooks.hooks.iter().any(|h| h.verify_token.expose() == t));
    match (query.mode.as_deref(), known, query.challenge) {
        (Some("subscribe"), true, Some(challenge)) => {
            tracing::info!("Meta webhook subscription verified.");
            (StatusCode::OK, challenge).into_response()
        }
        _ => {
            tracing::warn!("Refused a Meta webhook verification: wrong mode or token.");
            StatusCode::FORBIDDEN.into_response()
        }
    }
}

/// Verifies, acknowledges and queues a delivery.
async fn deliver(State(hooks): State<Arc<Hooks>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let signature = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok());
    // Accounts may share an app (one secret) or not: the delivery is for those whose
    // secret signed it.
    let verified: Vec<Hook> = match signature {
        Some(signature) => {
            let secrets: BTreeSet<&str> = hooks
                .hooks
                .iter()
                .map(|h| h.app_secret.expose())
                .filter(|secret| wire::verify(secret, &body, signature))
                .collect();
            hooks
                .hooks
                .iter()
                .filter(|h| secrets.contains(h.app_secret.expose()))
                .cloned()
                .collect()
        }
        None => Vec::new(),
    };
    if verified.is_empty() {
        tracing::warn!(
            signed = signature.is_some(),
            "Refused an unsigned or badly signed Meta webhook delivery."
        );
        return StatusCode::UNAUTHORIZED;
    }
    hooks.inbox.offer((verified, body))
}

/// Turns a verified delivery into posts for the accounts it names.
async fn work(service: Arc<Service>, hooks: Vec<Hook>, body: Bytes) {
    let delivery: wire::Delivery = match serde_json::from_slice(&body) {
        Ok(delivery) => delivery,
        Err(error) => {
            tracing::warn!(%error, "Dropped a Meta webhook delivery we cannot read.");
            return;
        }
    };
    let platform = match delivery.object.as_str() {
        "page" => Platform::Facebook,
        "instagram" => Platform::Instagram,
        other => {
            tracing::warn!(
                object = other,
                "Dropped a Meta webhook delivery for an object we don't serve."
            );
            return;
        }
    };
    let now = Utc::now();
    let mut posts = Vec::new();
    let mut changes = Vec::new();
    for entry in &delivery.entry {
        let Some(hook) = hooks
            .iter()
            .find(|h| h.graph.owner() == entry.id && h.graph.platform() == platform)
        else {
            tracing::warn!(owner = %entry.id, ?platform, "Dropped a Meta webhook entry for an account we don't serve.");
            continue;
        };
        let account = hook.graph.account();
        hook.graph.health().heard(account);
        for event in wire::entry_events(&delivery.object, account, &entry.id, entry, now) {
            match event {
                Ok(Event::Post(post)) => posts.push(*post),
                Ok(Event::Mention { media, comment }) => {
                    if let Some(post) = mention(&hook.graph, &media, comment.as_deref(), now).await
                    {
                        posts.push(post);
                    }
                }
                Ok(Event::Changed { post, change }) => {
                    let key = post_key(platform, account, &post);
                    changes.push((key, post, change));
                }
                Err(Skip::NotForUs) => {}
                Err(Skip::Unreadable(why)) => {
                    tracing::warn!(
                        account,
                        why,
                        "Dropped a Meta webhook change we cannot read."
                    );
                }
            }
        }
    }
    // Store commits are blocking work: keep them off the threads that answer requests.
    tokio::task::block_in_place(|| {
        if !posts.is_empty() {
            match service.ingest_page(&posts, None, now) {
                Ok(results) => {
                    tracing::info!(
                        posts = posts.len(),
                        ?results,
                        "Meta webhook posts ingested."
                    );
                }
                Err(error) => tracing::error!(%error, "Cannot store Meta webhook posts."),
            }
        }
        for (key, post, change) in changes {
            changed(&service, &key, post, change, now);
        }
    });
}

/// An edit, removal or hiding of a post a case holds, applied to that case (posts no case holds
/// are none of ours).
fn changed(
    service: &Service,
    key: &str,
    post: String,
    change: PostChange,
    now: chrono::DateTime<Utc>,
) {
    let number = match service.store().case_for_post(key) {
        Ok(Some(number)) => number,
        Ok(None) => return,
        Err(error) => {
            tracing::error!(%error, "Cannot look up the case of a changed comment.");
            return;
        }
    };
    if let Err(error) = service.apply(number, Input::PostChanged { post, change }, None, now) {
        tracing::error!(case = number, %error, "Cannot record a changed comment.");
    }
}

/// An Instagram @mention as a post: its text and author are looked up (the delivery has
/// ids only). A mention that cannot be read is logged and dropped.
async fn mention(
    graph: &Graph,
    media: &str,
    comment: Option<&str>,
    now: chrono::DateTime<Utc>,
) -> Option<SocialPost> {
    let (id, fields) = match comment {
        Some(comment) => (comment, "id,text,username,timestamp,from"),
        None => (media, "id,caption,username,timestamp"),
    };
    let object = match graph.object(id, fields).await {
        Ok(object) => object,
        Err(error) => {
            tracing::warn!(account = %graph.account(), id, ?error, "Cannot read an Instagram mention.");
            return None;
        }
    };
    Some(wire::mention_post(graph.account(), media, id, &object, now))
}

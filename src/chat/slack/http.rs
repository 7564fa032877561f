//! Events API mode: `POST /slack/events`, `/slack/commands` and
//! `/slack/interactivity` on the bot's listener. Every request's signature
//! is checked against the raw body before anything is parsed (401 and no
//! change otherwise); the request is queued and acknowledged at once, and
//! worked after the ack.
//!
//! Must not: do the work inline (Slack retries after 3 s), or answer
//! anything but a bare ack, a `url_verification` challenge, or a modal's
//! field errors.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;
use slack_morphism::prelude::*;

use super::signature::{self, Rejected};
use super::{Inbound, format};
use crate::config::Secret;

#[derive(Clone)]
struct Routes {
    inbound: Arc<Inbound>,
    secret: Secret,
}

/// The three Slack routes, verified with `signing_secret`.
pub fn routes(inbound: Arc<Inbound>, secret: Secret) -> Router {
    Router::new()
        .route("/slack/events", post(events))
        .route("/slack/commands", post(commands))
        .route("/slack/interactivity", post(interactivity))
        .with_state(Routes { inbound, secret })
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Checks the signature; the error is the response to send.
fn verified(
    routes: &Routes,
    route: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(), StatusCode> {
    let checked = signature::verify(
        routes.secret.expose(),
        header(headers, "x-slack-request-timestamp"),
        header(headers, "x-slack-signature"),
        body,
        chrono::Utc::now().timestamp(),
    );
    checked.map_err(|why| {
        let why = match why {
            Rejected::MissingHeaders => "missing signature headers",
            Rejected::BadTimestamp => "unreadable timestamp",
            Rejected::Stale => "timestamp outside the five-minute window",
            Rejected::BadSignature => "signature does not match",
        };
        tracing::warn!(
            route,
            why,
            "Refused an unsigned or badly signed Slack request."
        );
        StatusCode::UNAUTHORIZED
    })
}

/// A request Slack signed but we cannot read: logged and acknowledged, so
/// Slack does not send it again.
fn unreadable(route: &str, error: impl std::fmt::Display) -> Response {
    tracing::warn!(route, %error, "Dropped a Slack request we cannot read.");
    StatusCode::OK.into_response()
}

async fn events(State(routes): State<Routes>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(refused) = verified(&routes, "/slack/events", &headers, &body) {
        return refused.into_response();
    }
    match serde_json::from_slice::<SlackPushEvent>(&body) {
        Ok(SlackPushEvent::UrlVerification(v)) => {
            axum::Json(serde_json::json!({ "challenge": v.challenge })).into_response()
        }
        Ok(SlackPushEvent::EventCallback(callback)) => {
            routes.inbound.push(&callback).await;
            StatusCode::OK.into_response()
        }
        Ok(SlackPushEvent::AppRateLimited(limited)) => {
            tracing::error!(team = %limited.team_id, "Slack is dropping events: the app exceeded the Events API rate limit.");
            StatusCode::OK.into_response()
        }
        Err(error) => unreadable("/slack/events", error),
    }
}

#[derive(Deserialize)]
struct SslCheck {
    ssl_check: Option<String>,
}

async fn commands(State(routes): State<Routes>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(refused) = verified(&routes, "/slack/commands", &headers, &body) {
        return refused.into_response();
    }
    if serde_urlencoded::from_bytes::<SslCheck>(&body).is_ok_and(|c| c.ssl_check.is_some()) {
        return StatusCode::OK.into_response();
    }
    match serde_urlencoded::from_bytes::<SlackCommandEvent>(&body) {
        Ok(command) => {
            routes.inbound.command(&command).await;
            // An empty 200: the answer follows through response_url.
            StatusCode::OK.into_response()
        }
        Err(error) => unreadable("/slack/commands", error),
    }
}

#[derive(Deserialize)]
struct Interaction {
    payload: String,
}

async fn interactivity(State(routes): State<Routes>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(refused) = verified(&routes, "/slack/interactivity", &headers, &body) {
        return refused.into_response();
    }
    let event = serde_urlencoded::from_bytes::<Interaction>(&body)
        .map_err(|e| e.to_string())
        .and_then(|i| {
            serde_json::from_str::<SlackInteractionEvent>(&i.payload).map_err(|e| e.to_string())
        });
    match event {
        Ok(event) => match routes.inbound.interaction(&event).await {
            Ok(()) => StatusCode::OK.into_response(),
            Err(errors) => axum::Json(format::errors_response(&errors)).into_response(),
        },
        Err(error) => unreadable("/slack/interactivity", error),
    }
}

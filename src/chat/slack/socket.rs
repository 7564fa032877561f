//! Socket Mode: Slack pushes events over a websocket opened with the
//! app-level token, so no public URL is needed. slack-morphism keeps the
//! connections (reconnecting on `disconnect` and on network loss) and sends
//! each envelope's ack when our callback returns; our callbacks only queue
//! the request, so the ack is immediate and the work follows.
//!
//! Must not: do the work inside a callback.

use std::sync::Arc;

use slack_morphism::prelude::*;
use tokio::sync::watch;

use super::{Client, Inbound, format};
use crate::config::Secret;

fn inbound(state: &SlackClientEventsUserStateStorage) -> Option<Arc<Inbound>> {
    state.get_user_state::<Arc<Inbound>>().cloned()
}

async fn on_push(
    event: SlackPushEventCallback,
    _client: Arc<Client>,
    state: SlackClientEventsUserState,
) -> UserCallbackResult<()> {
    let inbound = inbound(&*state.read().await);
    if let Some(inbound) = inbound {
        inbound.push(&event).await;
    }
    Ok(())
}

async fn on_command(
    event: SlackCommandEvent,
    _client: Arc<Client>,
    state: SlackClientEventsUserState,
) -> UserCallbackResult<SlackCommandEventResponse> {
    let inbound = inbound(&*state.read().await);
    if let Some(inbound) = inbound {
        inbound.command(&event).await;
    }
    // The answer follows through response_url; the ack itself says nothing.
    Ok(SlackCommandEventResponse::new(SlackMessageContent::new()))
}

async fn on_interaction(
    event: SlackInteractionEvent,
    _client: Arc<Client>,
    state: SlackClientEventsUserState,
) -> UserCallbackResult<SlackInteractionResponse> {
    let inbound = inbound(&*state.read().await);
    let Some(inbound) = inbound else {
        return Ok(SlackInteractionResponse::Empty);
    };
    Ok(match inbound.interaction(&event).await {
        Ok(()) => SlackInteractionResponse::Empty,
        Err(errors) => {
            SlackInteractionResponse::ViewSubmission(format::errors_view_response(&errors))
        }
    })
}

/// Runs Socket Mode until `stopped` turns true.
pub async fn run_socket_mode(
    client: Arc<Client>,
    app_token: Secret,
    inbound: Arc<Inbound>,
    mut stopped: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let callbacks = SlackSocketModeListenerCallbacks::new()
        .with_push_events(on_push)
        .with_command_events(on_command)
        .with_interaction_events(on_interaction);
    let environment = Arc::new(
        SlackClientEventsListenerEnvironment::new(client)
            .with_error_handler(|error, _client, _state| {
                tracing::warn!(%error, "Slack Socket Mode error.");
                // Acknowledge anyway: a frame we cannot read will not read better redelivered.
                HttpStatusCode::OK
            })
            .with_user_state(inbound),
    );
    // Two connections, so one can be replaced while the other carries
    // events; reconnect quickly rather than slack-morphism's 5 s/30 s defaults.
    let config = SlackClientSocketModeConfig::new()
        .with_max_connections_count(2)
        .with_initial_backoff_in_seconds(1)
        .with_reconnect_timeout_in_seconds(5);
    let listener = SlackClientSocketModeListener::new(&config, environment, callbacks);
    let token = SlackApiToken::new(app_token.expose().into());
    listener
        .listen_for(&token)
        .await
        .map_err(|e| anyhow::anyhow!("Slack refused the app token (chat.slack.app_token): {e}"))?;
    listener.start().await;
    tracing::info!("Slack Socket Mode connected.");
    let _ = stopped.changed().await;
    listener.shutdown().await;
    Ok(())
}

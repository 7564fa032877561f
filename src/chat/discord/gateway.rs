//! The Discord gateway, through serenity's client: which intents the bot asks
//! for, and each event handed to the inbound queue. Interactions are
//! acknowledged here, at once, because Discord gives them 3 seconds and the
//! queue may be busy: a deferred ephemeral "thinking…" (the worker follows
//! up) or, for a button that needs a form, the modal itself.
//!
//! Reconnects and resumes are serenity's. Interactions and messages carry
//! ids the inbound queue dedupes, so an event seen twice is worked once.

use std::sync::Arc;

use serenity::all::{
    ClientBuilder, ConnectionStage, Context, CreateInteractionResponse,
    CreateInteractionResponseMessage, EventHandler, GatewayIntents, Interaction, Message, Reaction,
    Ready, ShardStageUpdateEvent,
};
use serenity::async_trait;
use tokio::sync::watch;

use super::events::{self, Ack};
use super::{Discord, Inbound, build_http, format};
use crate::text;

/// The intents the bot needs: guilds (threads, channels), guild messages
/// (thread `!commands`), reactions (approval). Message Content is privileged
/// (Discord must allow it in the Developer Portal, and reviews it for bots in
/// over 100 servers); it is asked for only with `thread_commands`, because
/// without it message text arrives empty.
pub fn intents(thread_commands: bool) -> GatewayIntents {
    let base = GatewayIntents::GUILDS
        | GatewayIntents::GUILD_MESSAGES
        | GatewayIntents::GUILD_MESSAGE_REACTIONS;
    match thread_commands {
        true => base | GatewayIntents::MESSAGE_CONTENT,
        false => base,
    }
}

struct Handler {
    discord: Arc<Discord>,
    inbound: Arc<Inbound>,
}

#[async_trait]
impl EventHandler for Handler {
    async fn ready(&self, _: Context, ready: Ready) {
        tracing::info!(user = %ready.user.name, guilds = ready.guilds.len(), "Discord gateway ready.");
        self.discord
            .status()
            .chat("discord", true, text::health::GATEWAY_READY);
    }

    async fn shard_stage_update(&self, _: Context, event: ShardStageUpdateEvent) {
        // Back to Connected after a resume needs no Ready; anything else is a drop.
        match event.new {
            ConnectionStage::Connected => {
                self.discord
                    .status()
                    .chat("discord", true, text::health::GATEWAY_READY)
            }
            _ => self
                .discord
                .status()
                .chat("discord", false, text::health::GATEWAY_DOWN),
        }
    }

    async fn message(&self, _: Context, message: Message) {
        if let Some(request) = events::message(&message) {
            self.inbound.accept(request).await;
        }
    }

    async fn reaction_add(&self, _: Context, reaction: Reaction) {
        if let Some(request) = events::reaction(&reaction, true, self.discord.me()) {
            self.inbound.accept(request).await;
        }
    }

    async fn reaction_remove(&self, _: Context, reaction: Reaction) {
        if let Some(request) = events::reaction(&reaction, false, self.discord.me()) {
            self.inbound.accept(request).await;
        }
    }

    async fn interaction_create(&self, _: Context, interaction: Interaction) {
        let Some((ack, request)) = events::interaction(&interaction) else {
            return;
        };
        let (id, token) = match &interaction {
            Interaction::Command(i) => (i.id, i.token.as_str()),
            Interaction::Component(i) => (i.id, i.token.as_str()),
            Interaction::Modal(i) => (i.id, i.token.as_str()),
            _ => return,
        };
        let response = match ack {
            Ack::Defer => CreateInteractionResponse::Defer(
                CreateInteractionResponseMessage::new().ephemeral(true),
            ),
            Ack::Modal { kind, case } => {
                CreateInteractionResponse::Modal(format::modal(kind, case))
            }
        };
        let http = self.discord.http();
        if let Err(error) = http
            .create_interaction_response(id, token, &response, vec![])
            .await
        {
            // Too late, or already answered: the follow-up would fail too.
            tracing::warn!(%error, interaction = %id, "Cannot acknowledge a Discord interaction.");
            return;
        }
        if let Some(request) = request {
            self.inbound.accept(request).await;
        }
    }
}

/// Runs the gateway until `stopped`; an error is one serenity could not
/// recover from (a bad token, intents the application may not use).
pub async fn run(
    discord: Arc<Discord>,
    inbound: Arc<Inbound>,
    mut stopped: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let config = discord.config().clone();
    // The gateway gets its own client (serenity takes it by value); both
    // point at the same `api_url`, which also tells serenity where to connect.
    let (http, _) = build_http(&config);
    let mut client = ClientBuilder::new_with_http(http, intents(config.thread_commands))
        .event_handler(Handler { discord, inbound })
        .await?;
    let shards = Arc::clone(&client.shard_manager);
    tokio::select! {
        ended = client.start() => ended.map_err(|e| match config.thread_commands {
            true => anyhow::anyhow!("{e} (with chat.discord.thread_commands the Message Content intent must be enabled in the Developer Portal)"),
            false => anyhow::anyhow!("{e}"),
        }),
        _ = stopped.changed() => {
            shards.shutdown_all().await;
            Ok(())
        }
    }
}

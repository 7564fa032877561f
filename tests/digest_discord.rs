//! The digest's chat post on Discord: `ChatSurface::post_channel` of the real Discord adapter
//! against the fake Discord in `tests/support/discord.rs`, including a queue whose channel is
//! a forum (which takes no plain message).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/background.rs"]
mod background;
#[path = "support/discord.rs"]
mod discord;

use std::path::Path;

use carebridge::chat::discord::Discord;
use carebridge::chat::{Attempt, ChatSurface};
use carebridge::commands::Specs;
use carebridge::config::Config;
use carebridge::health::Health;
use discord::FakeDiscord;

fn config(fake: &FakeDiscord, default: &str) -> Config {
    let text = format!(
        r#"
[chat]
kind = "discord"

[chat.discord]
token = "{token}"
application_id = "{app}"
guild_id = "{guild}"
api_url = "{api}"

[chat.discord.channels]
default = "{default}"
forum = "{forum}"
escalations = "{escalations}"

[chat.discord.on_call]
escalations = "1500000000000000042"

[[accounts]]
id = "acme"
network = "demo"
simulate = "x"
"#,
        token = discord::TOKEN,
        app = discord::APP_ID,
        guild = discord::GUILD_ID,
        api = fake.api_url(),
        forum = discord::FORUM_CHANNEL,
        escalations = discord::ESCALATION_CHANNEL,
    );
    Config::from_toml_str(&text, Path::new("/tmp"), &|_| None).unwrap_or_else(|e| panic!("{e}"))
}

/// The real Discord adapter on `fake`, its default channel `default`.
async fn connected(fake: &FakeDiscord, default: &str) -> std::sync::Arc<Discord> {
    let config = config(fake, default);
    let settings = config.chat.discord.as_ref().unwrap();
    Discord::connect(settings, &Specs::load().unwrap(), Health::new())
        .await
        .unwrap()
}

fn attempt(key: &str) -> Attempt {
    Attempt {
        key: key.to_owned(),
        uncertain: false,
    }
}

const BODY: &str = "Daily digest · Report 2026-03-01 09:00 → 2026-03-02 09:00 (UTC)\n\
                    Cases            4 opened · 1 closed · 3 still open";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_digest_goes_to_a_text_channel_in_a_code_block() {
    let fake = FakeDiscord::start_default();
    let chat = connected(&fake, discord::TEXT_CHANNEL).await;

    chat.post_channel(
        &attempt("digest-daily-1772442000"),
        "escalations",
        BODY,
        true,
    )
    .await
    .unwrap();
    let posted = fake.messages(discord::ESCALATION_CHANNEL);
    assert_eq!(posted.len(), 1, "{posted:?}");
    assert_eq!(
        posted[0].content,
        "Daily digest · Report 2026-03-01 09:00 → 2026-03-02 09:00 (UTC)\n```\n\
         Cases            4 opened · 1 closed · 3 still open\n```"
    );
    // The nonce fits Discord's 25 characters and differs per job and slot.
    let nonce = posted[0].nonce.clone().unwrap();
    assert!(nonce.len() <= 25, "{nonce}");
    chat.post_channel(
        &attempt("digest-daily-1772528400"),
        "escalations",
        BODY,
        true,
    )
    .await
    .unwrap();
    let posted = fake.messages(discord::ESCALATION_CHANNEL);
    assert_eq!(posted.len(), 2);
    assert_ne!(posted[1].nonce, Some(nonce));

    // A forum queue's digest goes to the default (text) channel instead.
    chat.post_channel(&attempt("digest-forum-1772442000"), "forum", BODY, true)
        .await
        .unwrap();
    assert_eq!(fake.messages(discord::TEXT_CHANNEL).len(), 1);
    assert!(fake.messages(discord::FORUM_CHANNEL).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_only_forums_a_digest_is_refused_for_good() {
    let fake = FakeDiscord::start_default();
    let chat = connected(&fake, discord::FORUM_CHANNEL).await;
    let refused = chat
        .post_channel(&attempt("digest-daily-1"), "forum", BODY, true)
        .await
        .unwrap_err();
    assert!(!refused.retryable);
    assert!(refused.reason.contains("forums"), "{}", refused.reason);
    assert!(fake.messages(discord::FORUM_CHANNEL).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweeps_message_pings_the_queues_on_call_role_and_no_other() {
    let fake = FakeDiscord::start_default();
    let chat = connected(&fake, discord::TEXT_CHANNEL).await;
    assert_eq!(
        chat.on_call("escalations").as_deref(),
        Some("<@&1500000000000000042>")
    );
    assert_eq!(chat.on_call("billing"), None);
    let alert = "🔔 escalations: 1 case needs attention · <@&1500000000000000042>, on call\n\
                 • #7 (nobody owns it): nobody has claimed it since Mon 23 Nov 10:00";
    chat.post_channel(
        &attempt("sweep-sweep-1-escalations"),
        "escalations",
        alert,
        false,
    )
    .await
    .unwrap();
    let posted = fake.messages(discord::ESCALATION_CHANNEL);
    assert_eq!(posted.last().map(|m| m.content.as_str()), Some(alert));
    let sent = fake
        .calls()
        .into_iter()
        .rfind(|c| c.method == "POST" && c.route == "/channels/{channel}/messages")
        .unwrap();
    let allowed = &sent.body["allowed_mentions"];
    assert_eq!(allowed["roles"], serde_json::json!(["1500000000000000042"]));
    assert!(
        !allowed["parse"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p == "roles" || p == "everyone"),
        "{allowed}"
    );
}

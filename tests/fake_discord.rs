//! Checks the fake Discord in `support/discord.rs` against the real client:
//! serenity's REST client and gateway client pointed at it, and serenity's
//! models parsing what the payload builders produce. If these pass, a bot
//! built on serenity sees the fake as it would see Discord.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/background.rs"]
mod background;
#[path = "support/discord.rs"]
mod discord;

use std::sync::Arc;
use std::time::Duration;

use discord::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use serenity::all::{
    ActionRowComponent, ApplicationId, ButtonStyle, ChannelId, ChannelType, Client, ClientBuilder,
    CommandOptionType, ComponentInteractionDataKind, Context, CreateActionRow, CreateButton,
    CreateCommand, CreateCommandOption, CreateEmbed, CreateForumPost, CreateForumTag,
    CreateInputText, CreateInteractionResponse, CreateInteractionResponseFollowup,
    CreateInteractionResponseMessage, CreateMessage, CreateModal, CreateThread, EditChannel,
    EditInteractionResponse, EditMessage, EditThread, EventHandler, ForumTagId, GatewayIntents,
    GetMessages, GuildId, Http, HttpBuilder, InputTextStyle, Interaction,
    Message as SerenityMessage, MessageId, Reaction, ReactionType, Ready, ResolvedValue, UserId,
};
use serenity::http::{ErrorResponse, HttpError};
use serenity::model::channel::Channel;
use serenity::model::event::GatewayEvent;
use serenity::{Error, async_trait};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as WsMessage;

const WAIT: Duration = Duration::from_secs(10);

fn id(s: &str) -> u64 {
    s.parse().unwrap()
}

fn channel(s: &str) -> ChannelId {
    ChannelId::new(id(s))
}

fn http_with_token(fake: &FakeDiscord, token: &str) -> Http {
    // serenity ignores the proxy unless its ratelimiter is off.
    HttpBuilder::new(token)
        .proxy(fake.proxy_url())
        .ratelimiter_disabled(true)
        .application_id(ApplicationId::new(id(APP_ID)))
        .build()
}

fn http(fake: &FakeDiscord) -> Http {
    http_with_token(fake, TOKEN)
}

/// (status, Discord error code, message, error paths) of a refused request.
fn refused(err: Error) -> (u16, isize, String, Vec<String>) {
    match err {
        Error::Http(HttpError::UnsuccessfulRequest(ErrorResponse {
            status_code, error, ..
        })) => (
            status_code.as_u16(),
            error.code,
            error.message,
            error.errors.into_iter().map(|e| e.path).collect(),
        ),
        other => panic!("expected an unsuccessful request, got {other:?}"),
    }
}

fn code<T: std::fmt::Debug>(result: serenity::Result<T>) -> isize {
    refused(result.expect_err("the fake should refuse this")).1
}

fn text(content: &str) -> CreateMessage {
    CreateMessage::new().content(content)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_needs_the_bot_token() {
    let fake = FakeDiscord::start_default();
    let wrong = http_with_token(&fake, "not-the-token");
    let (status, code, message, _) = refused(wrong.get_current_user().await.unwrap_err());
    assert_eq!(
        (status, code, message.as_str()),
        (401, 0, "401: Unauthorized")
    );

    let me = http(&fake).get_current_user().await.unwrap();
    assert_eq!(me.id, UserId::new(id(BOT_USER_ID)));
    assert!(me.bot);
    assert_eq!(me.name, BOT_USERNAME);

    // serenity prefixes "Bot " itself; the fake records whether it matched.
    let calls = fake.take_calls();
    assert_eq!(calls.len(), 2);
    assert!(!calls[0].authorized && calls[1].authorized);
    assert_eq!(calls[1].route, "/users/@me");
    assert_eq!((calls[0].status, calls[1].status), (401, 200));

    // Anything else is a recorded 404.
    let err = http(&fake)
        .get_guild(GuildId::new(id(GUILD_ID)))
        .await
        .unwrap_err();
    assert_eq!(refused(err).0, 404);
    let last = fake.take_calls().pop().unwrap();
    assert_eq!(
        (last.route.as_str(), last.status),
        ("/guilds/1200000000000000001", 404)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_are_validated_stored_and_edited() {
    let fake = FakeDiscord::start_default();
    let http = http(&fake);
    let inbox = channel(TEXT_CHANNEL);

    let embed = CreateEmbed::new()
        .title("New post")
        .field("From", "@ana", true);
    let button = CreateButton::new("claim:1")
        .label("Claim")
        .style(ButtonStyle::Primary);
    let sent = inbox
        .send_message(
            &http,
            text("hello")
                .embed(embed)
                .components(vec![CreateActionRow::Buttons(vec![button])]),
        )
        .await
        .unwrap();
    assert_eq!(sent.author.id, UserId::new(id(BOT_USER_ID)));
    assert!(sent.author.bot);
    assert_eq!(sent.content, "hello");
    assert_eq!(sent.channel_id, inbox);
    assert_eq!(sent.embeds[0].title.as_deref(), Some("New post"));
    assert!(matches!(
        &sent.components[0].components[0],
        ActionRowComponent::Button(b) if b.label.as_deref() == Some("Claim")
    ));
    let stored = fake.message(TEXT_CHANNEL, &sent.id.to_string()).unwrap();
    assert_eq!(stored.author_id, BOT_USER_ID);
    assert_eq!(
        stored.components[0]["components"][0]["custom_id"],
        "claim:1"
    );

    // serenity's builders refuse over-long content before sending, so the raw
    // client is what reaches the fake's check. Length counts characters.
    let long = http
        .send_message(inbox, vec![], &json!({"content": "x".repeat(2001)}))
        .await
        .unwrap_err();
    let (status, code_, message, paths) = refused(long);
    assert_eq!(
        (status, code_, message.as_str()),
        (400, 50035, "Invalid Form Body")
    );
    assert_eq!(paths, ["content"]);
    http.send_message(inbox, vec![], &json!({"content": "é".repeat(2000)}))
        .await
        .unwrap();
    assert_eq!(
        code(
            http.send_message(inbox, vec![], &json!({"content": ""}))
                .await
        ),
        50006
    );
    assert_eq!(
        code(inbox.send_message(&http, CreateMessage::new()).await),
        50006
    );
    let twin = || CreateButton::new("same").label("x");
    let dup = text("x").components(vec![CreateActionRow::Buttons(vec![twin(), twin()])]);
    let (_, code_, _, paths) = refused(inbox.send_message(&http, dup).await.unwrap_err());
    assert_eq!(
        (code_, paths),
        (
            50035,
            vec!["components.0.components.1.custom_id".to_string()]
        )
    );
    let big = CreateEmbed::new().description("d".repeat(4000));
    let too_big = text("x").embeds(vec![big.clone(), big]);
    assert_eq!(code(inbox.send_message(&http, too_big).await), 50035);
    assert_eq!(
        code(channel(FORUM_CHANNEL).send_message(&http, text("x")).await),
        50008
    );
    assert_eq!(
        code(channel("1999").send_message(&http, text("x")).await),
        10003
    );

    // A retried send with the same nonce gets the first message back.
    let with_nonce = || {
        text("once")
            .nonce(serenity::all::Nonce::String("case-7-intro".into()))
            .enforce_nonce(true)
    };
    let first = inbox.send_message(&http, with_nonce()).await.unwrap();
    let again = inbox.send_message(&http, with_nonce()).await.unwrap();
    assert_eq!(first.id, again.id);
    let onces = fake
        .messages(TEXT_CHANNEL)
        .into_iter()
        .filter(|m| m.content == "once")
        .count();
    assert_eq!(onces, 1);

    let edited = inbox
        .edit_message(
            &http,
            sent.id,
            EditMessage::new().content("hello (claimed)"),
        )
        .await
        .unwrap();
    assert!(edited.edited_timestamp.is_some());
    assert_eq!(edited.embeds.len(), 1, "fields left out are kept");
    assert_eq!(
        fake.message(TEXT_CHANNEL, &sent.id.to_string())
            .unwrap()
            .content,
        "hello (claimed)"
    );
    let (maria_msg, _) = fake.message_create(TEXT_CHANNEL, MARIA, "hi");
    let not_ours = inbox
        .edit_message(
            &http,
            MessageId::new(id(&maria_msg)),
            EditMessage::new().content("x"),
        )
        .await;
    let (status, code_, _, _) = refused(not_ours.unwrap_err());
    assert_eq!((status, code_), (403, 50005));
    assert_eq!(
        code(
            inbox
                .edit_message(&http, MessageId::new(5), EditMessage::new().content("x"))
                .await
        ),
        10008
    );

    // Newest first; `before` pages back.
    let newest = inbox
        .messages(&http, GetMessages::new().limit(2))
        .await
        .unwrap();
    assert_eq!(newest.len(), 2);
    assert_eq!(newest[0].id, MessageId::new(id(&maria_msg)));
    assert!(newest[0].id > newest[1].id);
    let older = inbox
        .messages(&http, GetMessages::new().before(newest[1].id).limit(100))
        .await
        .unwrap();
    assert_eq!(older.len(), fake.messages(TEXT_CHANNEL).len() - 2);

    inbox
        .create_reaction(&http, sent.id, ReactionType::Unicode("✅".into()))
        .await
        .unwrap();
    assert_eq!(
        fake.bot_reactions(TEXT_CHANNEL, &sent.id.to_string()),
        ["✅"]
    );
    let shortcode = inbox
        .create_reaction(
            &http,
            sent.id,
            ReactionType::Unicode(":white_check_mark:".into()),
        )
        .await;
    assert_eq!(code(shortcode), 10014);
    let put = fake.wait_for(
        "PUT",
        "/channels/{channel}/messages/{message}/reactions/{emoji}/@me",
        2,
        WAIT,
    );
    assert_eq!(put[0].status, 204);
    assert!(
        put[0].path.ends_with("/reactions/✅/@me"),
        "{}",
        put[0].path
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn threads_from_messages() {
    let fake = FakeDiscord::start_default();
    let http = http(&fake);
    let inbox = channel(TEXT_CHANNEL);
    let card = inbox.send_message(&http, text("New post")).await.unwrap();

    let thread = inbox
        .create_thread_from_message(&http, card.id, CreateThread::new("Case 1 – @ana"))
        .await
        .unwrap();
    assert_eq!(
        thread.id.get(),
        card.id.get(),
        "the thread takes the message's id"
    );
    assert_eq!(thread.kind, ChannelType::PublicThread);
    assert_eq!(thread.parent_id, Some(inbox));
    assert_eq!(thread.owner_id, Some(UserId::new(id(BOT_USER_ID))));
    assert!(!thread.thread_metadata.unwrap().archived);
    let again = inbox
        .create_thread_from_message(&http, card.id, CreateThread::new("again"))
        .await;
    assert_eq!(code(again), 160004);
    let forum_thread = channel(FORUM_CHANNEL)
        .create_thread_from_message(&http, card.id, CreateThread::new("x"))
        .await;
    assert_eq!(code(forum_thread), 50024);
    let (_, _, _, paths) = refused(
        inbox
            .create_thread_from_message(&http, card.id, CreateThread::new(""))
            .await
            .unwrap_err(),
    );
    assert_eq!(paths, ["name"]);

    // The parent message now carries its thread.
    let card_now = inbox.message(&http, card.id).await.unwrap();
    assert_eq!(card_now.thread.unwrap().id, thread.id);
    assert_eq!(fake.threads().len(), 1);
    let stored = fake.thread(&thread.id.to_string()).unwrap();
    assert_eq!(stored.from_message, Some(card.id.to_string()));
    assert_eq!(stored.auto_archive_duration, 1440);

    // Archive; edits are refused there, a post reopens it.
    let reply = thread
        .id
        .send_message(&http, text("Claimed by lee"))
        .await
        .unwrap();
    let archived = thread
        .id
        .edit_thread(&http, EditThread::new().archived(true))
        .await
        .unwrap();
    assert!(archived.thread_metadata.unwrap().archived);
    let edit = thread
        .id
        .edit_message(&http, reply.id, EditMessage::new().content("x"))
        .await;
    assert_eq!(code(edit), 50083);
    let rename = thread
        .id
        .edit_thread(&http, EditThread::new().name("renamed"))
        .await;
    assert_eq!(code(rename), 50083);
    let active = GuildId::new(id(GUILD_ID))
        .get_active_threads(&http)
        .await
        .unwrap();
    assert!(active.threads.is_empty());
    thread
        .id
        .send_message(&http, text("Back on it"))
        .await
        .unwrap();
    let in_thread = fake.wait_messages(&thread.id.to_string(), 2, WAIT);
    assert_eq!(in_thread[1].content, "Back on it");
    assert!(!fake.thread(&thread.id.to_string()).unwrap().archived);
    let active = GuildId::new(id(GUILD_ID))
        .get_active_threads(&http)
        .await
        .unwrap();
    assert_eq!(active.threads.len(), 1);
    assert_eq!(active.threads[0].message_count, Some(2));

    // A locked thread takes no posts.
    thread
        .id
        .edit_thread(&http, EditThread::new().locked(true))
        .await
        .unwrap();
    assert_eq!(code(thread.id.send_message(&http, text("x")).await), 160005);
    let bad_duration = thread
        .id
        .edit_thread(
            &http,
            EditThread::new().auto_archive_duration(serenity::all::AutoArchiveDuration::Unknown(5)),
        )
        .await;
    assert_eq!(code(bad_duration), 50035);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forum_tags_and_posts() {
    let fake = FakeDiscord::start_default();
    let http = http(&fake);
    let forum = channel(FORUM_CHANNEL);

    let edited = forum
        .edit(
            &http,
            EditChannel::new().available_tags(vec![
                CreateForumTag::new("open"),
                CreateForumTag::new("escalated"),
            ]),
        )
        .await
        .unwrap();
    assert_eq!(edited.kind, ChannelType::Forum);
    let names: Vec<&str> = edited
        .available_tags
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(names, ["open", "escalated"]);
    let tags = fake.forum_tags(FORUM_CHANNEL);
    assert_eq!(tags[0]["name"], "open");
    assert_eq!(tags[0]["moderated"], false);
    assert_eq!(tags[0]["emoji_id"], Value::Null);
    let open = ForumTagId::new(id(tags[0]["id"].as_str().unwrap()));
    let escalated = ForumTagId::new(id(tags[1]["id"].as_str().unwrap()));

    // serenity's tag builder has no id, so it recreates tags; raw JSON with
    // ids keeps them.
    let mut keep = tags.clone();
    keep.push(json!({"name": "waiting"}));
    let raw: serenity::all::GuildChannel = http
        .edit_channel(forum, &json!({"available_tags": keep}), None)
        .await
        .unwrap();
    assert_eq!(raw.available_tags.len(), 3);
    assert_eq!(raw.available_tags[0].id, open);
    let long = forum
        .edit(
            &http,
            EditChannel::new().available_tags(vec![CreateForumTag::new("x".repeat(21))]),
        )
        .await;
    assert_eq!(refused(long.unwrap_err()).3, ["available_tags.0.name"]);
    let many: Vec<CreateForumTag> = (0..21)
        .map(|i| CreateForumTag::new(format!("t{i}")))
        .collect();
    assert_eq!(
        code(
            forum
                .edit(&http, EditChannel::new().available_tags(many))
                .await
        ),
        50035
    );

    let post = forum
        .create_forum_post(
            &http,
            CreateForumPost::new("Case 2 – @ana", text("Order #1234 never arrived"))
                .add_applied_tag(open),
        )
        .await
        .unwrap();
    assert_eq!(post.kind, ChannelType::PublicThread);
    assert_eq!(post.parent_id, Some(forum));
    assert_eq!(post.applied_tags, [open]);
    let starter = fake.messages(&post.id.to_string());
    assert_eq!(starter.len(), 1);
    assert_eq!(
        starter[0].id,
        post.id.to_string(),
        "the starter message has the thread's id"
    );
    assert_eq!(starter[0].content, "Order #1234 never arrived");
    // serenity sends forum posts as multipart; the fake records payload_json.
    let call = fake
        .wait_for("POST", "/channels/{channel}/threads", 1, WAIT)
        .remove(0);
    assert_eq!(call.body["message"]["content"], "Order #1234 never arrived");
    // serenity's GuildChannel drops the nested `message`; the raw answer has it.
    let raw: Value = http
        .create_forum_post(
            forum,
            &json!({"name": "Case 3", "message": {"content": "hi"}}),
            None,
        )
        .await
        .map(|c: serenity::all::GuildChannel| json!({"id": c.id.to_string()}))
        .unwrap();
    let case3 = raw["id"].as_str().unwrap().to_string();
    assert_eq!(fake.message(&case3, &case3).unwrap().content, "hi");

    let retag = post
        .id
        .edit_thread(&http, EditThread::new().applied_tags([escalated]))
        .await
        .unwrap();
    assert_eq!(retag.applied_tags, [escalated]);
    let foreign = post
        .id
        .edit_thread(&http, EditThread::new().applied_tags([ForumTagId::new(42)]))
        .await;
    assert_eq!(refused(foreign.unwrap_err()).3, ["applied_tags.0"]);
    let closed = post
        .id
        .edit_thread(&http, EditThread::new().archived(true).locked(true))
        .await
        .unwrap();
    let meta = closed.thread_metadata.unwrap();
    assert!(meta.archived && meta.locked);
    let thread = fake.thread(&post.id.to_string()).unwrap();
    assert_eq!(thread.applied_tags, [escalated.to_string()]);
    assert!(thread.archived && thread.locked);
    assert_eq!(thread.from_message, None);

    let empty = forum
        .create_forum_post(&http, CreateForumPost::new("x", CreateMessage::new()))
        .await;
    assert_eq!(code(empty), 50006);
    assert_eq!(
        code(
            channel(TEXT_CHANNEL)
                .create_forum_post(&http, CreateForumPost::new("x", text("x")))
                .await
        ),
        50024
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forums_can_require_a_tag() {
    let mut setup = FakeDiscordSetup::default();
    let forum = setup
        .channels
        .iter_mut()
        .find(|c| c.id == FORUM_CHANNEL)
        .unwrap();
    forum.flags = REQUIRE_TAG;
    forum.available_tags = vec![json!({"id": "1900000000000000001", "name": "open"})];
    let fake = FakeDiscord::start(setup);
    let http = http(&fake);
    let post = |tags: Vec<ForumTagId>| {
        let builder = tags.into_iter().fold(
            CreateForumPost::new("Case", text("hi")),
            CreateForumPost::add_applied_tag,
        );
        channel(FORUM_CHANNEL).create_forum_post(&http, builder)
    };
    assert_eq!(code(post(vec![]).await), 40067);
    let ok = post(vec![ForumTagId::new(1_900_000_000_000_000_001)])
        .await
        .unwrap();
    assert_eq!(ok.applied_tags.len(), 1);
    let forum = http
        .get_channel(channel(FORUM_CHANNEL))
        .await
        .unwrap()
        .guild()
        .unwrap();
    assert!(
        forum
            .flags
            .contains(serenity::all::ChannelFlags::REQUIRE_TAG)
    );
    assert_eq!(
        forum.available_tags[0].id,
        ForumTagId::new(1_900_000_000_000_000_001)
    );
}

fn care_command(description: &str) -> CreateCommand {
    CreateCommand::new("care")
        .description(description)
        .add_option(CreateCommandOption::new(
            CommandOptionType::SubCommand,
            "claim",
            "Claim this case",
        ))
        .add_option(
            CreateCommandOption::new(CommandOptionType::SubCommand, "reply", "Draft a reply")
                .add_sub_option(
                    CreateCommandOption::new(CommandOptionType::String, "text", "Reply text")
                        .required(true)
                        .max_length(2000),
                ),
        )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_keep_their_ids_across_updates() {
    let fake = FakeDiscord::start(FakeDiscordSetup {
        commands: vec![json!({"name": "status", "description": "Old command"})],
        ..FakeDiscordSetup::default()
    });
    let http = http(&fake);
    let guild = GuildId::new(id(GUILD_ID));
    let preexisting = fake.registered_commands();
    assert_eq!(preexisting[0]["name"], "status");
    assert_eq!(preexisting[0]["application_id"], APP_ID);

    let first = guild
        .set_commands(
            &http,
            vec![
                care_command("Work a case"),
                CreateCommand::new("status").description("Old command"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(first[0].name, "care");
    assert_eq!(first[0].guild_id, Some(guild));
    assert_eq!(first[0].options[1].options[0].name, "text");
    assert_eq!(
        first[1].id.to_string(),
        preexisting[0]["id"].as_str().unwrap()
    );

    let second = guild
        .set_commands(&http, vec![care_command("Work a case")])
        .await
        .unwrap();
    assert_eq!(second.len(), 1, "PUT replaces the whole list");
    assert_eq!(
        (second[0].id, second[0].version),
        (first[0].id, first[0].version)
    );
    let changed = guild
        .set_commands(&http, vec![care_command("Work a customer case")])
        .await
        .unwrap();
    assert_eq!(changed[0].id, first[0].id);
    assert_ne!(changed[0].version, first[0].version);

    let listed = guild.get_commands(&http).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, first[0].id);
    assert_eq!(listed[0].description, "Work a customer case");
    assert_eq!(
        fake.registered_commands()[0]["default_member_permissions"],
        Value::Null
    );

    let bad = guild
        .set_commands(&http, vec![CreateCommand::new("Care").description("x")])
        .await;
    assert_eq!(refused(bad.unwrap_err()).3, ["0.name"]);
    let no_description = guild
        .set_commands(&http, vec![CreateCommand::new("care")])
        .await;
    assert_eq!(refused(no_description.unwrap_err()).3, ["0.description"]);
    let order = CreateCommand::new("care").description("x").add_option(
        CreateCommandOption::new(CommandOptionType::SubCommand, "reply", "Reply")
            .add_sub_option(CreateCommandOption::new(
                CommandOptionType::String,
                "tone",
                "Tone",
            ))
            .add_sub_option(
                CreateCommandOption::new(CommandOptionType::String, "text", "Text").required(true),
            ),
    );
    let order = guild.set_commands(&http, vec![order]).await;
    assert_eq!(
        refused(order.unwrap_err()).3,
        ["0.options.0.options.1.required"]
    );
    assert_eq!(
        fake.registered_commands()[0]["id"],
        first[0].id.to_string(),
        "refused PUTs change nothing"
    );

    // The id of the registered command shows up in /care interactions.
    let (_, _, payload) = fake.slash_command(MARIA, TEXT_CHANNEL, "claim", &[]);
    assert_eq!(payload["data"]["id"], first[0].id.to_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interaction_callbacks_and_followups() {
    let fake = FakeDiscord::start_default();
    let http = http(&fake);

    let (iid, token, payload) =
        fake.slash_command(LEE, TEXT_CHANNEL, "reply", &[("text", json!("On its way"))]);
    fake.dispatch("INTERACTION_CREATE", payload.clone());
    let command = match serde_json::from_value::<Interaction>(payload).unwrap() {
        Interaction::Command(c) => c,
        other => panic!("expected a command, got {other:?}"),
    };
    assert_eq!(command.id.to_string(), iid);
    assert_eq!(command.token, token);

    // Following up before acknowledging: the webhook does not exist yet.
    let early = command
        .create_followup(&http, CreateInteractionResponseFollowup::new().content("x"))
        .await;
    assert_eq!(code(early), 10015);

    let ephemeral = CreateInteractionResponseMessage::new().ephemeral(true);
    command
        .create_response(&http, CreateInteractionResponse::Defer(ephemeral.clone()))
        .await
        .unwrap();
    let twice = command
        .create_response(&http, CreateInteractionResponse::Defer(ephemeral))
        .await;
    assert_eq!(code(twice), 40060);
    let responses = fake.interaction_responses();
    assert_eq!(responses.len(), 1);
    assert_eq!(
        (responses[0].kind, responses[0].data["flags"].as_u64()),
        (5, Some(64))
    );
    assert!(responses[0].after < Duration::from_secs(3));

    let original = command
        .edit_response(&http, EditInteractionResponse::new().content("Draft saved"))
        .await
        .unwrap();
    assert_eq!(original.content, "Draft saved");
    assert_eq!(
        original.flags,
        Some(serenity::all::MessageFlags::EPHEMERAL),
        "the deferral's LOADING flag is gone, EPHEMERAL stays"
    );
    assert_eq!(original.author.id, UserId::new(id(BOT_USER_ID)));
    let followup = command
        .create_followup(
            &http,
            CreateInteractionResponseFollowup::new().content("Sent"),
        )
        .await
        .unwrap();
    assert_eq!(followup.content, "Sent");
    assert_eq!(followup.channel_id, channel(TEXT_CHANNEL));
    let got = command.get_response(&http).await.unwrap();
    assert_eq!(got.id, original.id);
    let followups = fake.followups();
    assert_eq!(followups.len(), 2);
    assert!(followups[0].original && !followups[1].original);
    assert_eq!(followups[1].data["content"], "Sent");
    let edits = fake.wait_for(
        "PATCH",
        "/webhooks/{application}/{token}/messages/@original",
        1,
        WAIT,
    );
    assert_eq!(
        edits[0].path,
        format!("/webhooks/{APP_ID}/{token}/messages/@original")
    );

    // Too late: with the deadline shortened to 100 ms, the token is dead by
    // the time the answer comes.
    let fake = FakeDiscord::start(FakeDiscordSetup {
        interaction_deadline: Duration::from_millis(100),
        ..FakeDiscordSetup::default()
    });
    let http = self::http(&fake);
    let (_, _, late) = fake.slash_command(LEE, TEXT_CHANNEL, "claim", &[]);
    fake.dispatch("INTERACTION_CREATE", late.clone());
    tokio::time::sleep(Duration::from_millis(250)).await;
    let late = serde_json::from_value::<Interaction>(late).unwrap();
    let answer = CreateInteractionResponse::Message(
        CreateInteractionResponseMessage::new().content("Claimed"),
    );
    assert_eq!(
        code(late.command().unwrap().create_response(&http, answer).await),
        10062
    );
    let unknown = http
        .create_interaction_response(
            serenity::all::InteractionId::new(7),
            "nope",
            &json!({"type": 4, "data": {"content": "x"}}),
            vec![],
        )
        .await;
    assert_eq!(code(unknown), 10062);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn components_update_their_message_and_modals_are_checked() {
    let fake = FakeDiscord::start_default();
    let http = http(&fake);
    let inbox = channel(TEXT_CHANNEL);
    let buttons = vec![CreateActionRow::Buttons(vec![
        CreateButton::new("claim:9").label("Claim"),
        CreateButton::new("draft:9").label("Draft reply"),
    ])];
    let card = inbox
        .send_message(&http, text("Case 9").components(buttons))
        .await
        .unwrap();

    let (_, _, click) = fake.button_click(MARIA, TEXT_CHANNEL, &card.id.to_string(), "claim:9");
    fake.dispatch("INTERACTION_CREATE", click.clone());
    let click = serde_json::from_value::<Interaction>(click)
        .unwrap()
        .message_component()
        .unwrap();
    let update = CreateInteractionResponseMessage::new()
        .content("Case 9 — claimed by maria")
        .components(vec![]);
    click
        .create_response(&http, CreateInteractionResponse::UpdateMessage(update))
        .await
        .unwrap();
    let now = fake.message(TEXT_CHANNEL, &card.id.to_string()).unwrap();
    assert_eq!(now.content, "Case 9 — claimed by maria");
    assert!(now.components.is_empty());
    // After an update, @original is the component's message.
    let edited = click
        .edit_response(
            &http,
            EditInteractionResponse::new().content("Case 9 — closed"),
        )
        .await
        .unwrap();
    assert_eq!(edited.id, card.id);
    assert_eq!(
        fake.message(TEXT_CHANNEL, &card.id.to_string())
            .unwrap()
            .content,
        "Case 9 — closed"
    );

    // The update removed the buttons; the draft button is on a new card.
    let card = inbox
        .send_message(
            &http,
            text("Case 10").components(vec![CreateActionRow::Buttons(vec![
                CreateButton::new("draft:10").label("Draft reply"),
            ])]),
        )
        .await
        .unwrap();
    let (_, _, click) = fake.button_click(LEE, TEXT_CHANNEL, &card.id.to_string(), "draft:10");
    let click = serde_json::from_value::<Interaction>(click)
        .unwrap()
        .message_component()
        .unwrap();
    let input = |label: &str| {
        CreateActionRow::InputText(
            CreateInputText::new(InputTextStyle::Paragraph, label, "text").max_length(2000),
        )
    };
    let too_long_title =
        CreateModal::new("draft:9", "x".repeat(46)).components(vec![input("Reply")]);
    let refused_modal = click
        .create_response(&http, CreateInteractionResponse::Modal(too_long_title))
        .await;
    assert_eq!(refused(refused_modal.unwrap_err()).3, ["data.title"]);
    let modal = CreateModal::new("draft:9", "Draft reply").components(vec![input("Reply")]);
    click
        .create_response(&http, CreateInteractionResponse::Modal(modal))
        .await
        .unwrap();
    let shown = fake.interaction_responses().pop().unwrap();
    assert_eq!(shown.kind, 9);
    assert_eq!(
        shown.data["components"][0]["components"][0]["custom_id"],
        "text"
    );

    // A slash command cannot be answered by updating a message.
    let (_, _, slash) = fake.slash_command(SAM, TEXT_CHANNEL, "claim", &[]);
    let slash = serde_json::from_value::<Interaction>(slash).unwrap();
    let wrong = slash
        .command()
        .unwrap()
        .create_response(&http, CreateInteractionResponse::Acknowledge)
        .await;
    assert_eq!(code(wrong), 50035);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_and_rate_limit_headers() {
    let fake = FakeDiscord::start_default();
    let http = Arc::new(http(&fake));
    let inbox = channel(TEXT_CHANNEL);
    let route = "/channels/{channel}/messages";

    fake.fail_next(
        "POST",
        route,
        Fault::RateLimited {
            retry_after: 1.5,
            global: false,
        },
    );
    let limited = inbox.send_message(&http, text("x")).await.unwrap_err();
    let (status, code_, message, _) = refused(limited);
    // Discord's 429 body has no `code`, so serenity cannot decode it into its
    // error type: the status is all it reports.
    assert_eq!(status, 429);
    assert_eq!(code_, -1, "{message}");
    assert!(
        fake.messages(TEXT_CHANNEL).is_empty(),
        "a faulted call changes nothing"
    );

    // The retry_after and headers, seen by a plain client.
    fake.fail_next(
        "POST",
        route,
        Fault::RateLimited {
            retry_after: 1.5,
            global: true,
        },
    );
    let url = format!(
        "{}/api/v10/channels/{TEXT_CHANNEL}/messages",
        fake.proxy_url()
    );
    let raw = reqwest::Client::new()
        .post(&url)
        .header("authorization", format!("Bot {TOKEN}"))
        .json(&json!({"content": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status().as_u16(), 429);
    let header = |name: &str| {
        raw.headers()
            .get(name)
            .unwrap()
            .to_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(header("retry-after"), "2");
    assert_eq!(header("x-ratelimit-scope"), "global");
    assert_eq!(header("x-ratelimit-global"), "true");
    assert_eq!(header("x-ratelimit-remaining"), "0");
    let body: Value = raw.json().await.unwrap();
    assert_eq!(
        body,
        json!({"message": "You are being rate limited.", "retry_after": 1.5, "global": true})
    );

    let fine = reqwest::Client::new()
        .post(&url)
        .header("authorization", format!("Bot {TOKEN}"))
        .json(&json!({"content": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(fine.status().as_u16(), 200);
    for name in [
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
        "x-ratelimit-reset-after",
        "x-ratelimit-bucket",
    ] {
        assert!(fine.headers().contains_key(name), "missing {name}");
    }

    fake.fail_next(
        "POST",
        route,
        Fault::Status {
            status: 503,
            code: 0,
            message: "Service Unavailable".into(),
        },
    );
    let (status, code_, message, _) =
        refused(inbox.send_message(&http, text("x")).await.unwrap_err());
    assert_eq!(
        (status, code_, message.as_str()),
        (503, 0, "Service Unavailable")
    );

    fake.fail_next("POST", route, Fault::Hang);
    let hung = tokio::time::timeout(
        Duration::from_millis(300),
        inbox.send_message(&http, text("x")),
    )
    .await;
    assert!(hung.is_err(), "a hanging call never answers");

    let calls = fake.wait_for("POST", route, 5, WAIT);
    let summary: Vec<(u16, bool)> = calls.iter().map(|c| (c.status, c.faulted)).collect();
    assert_eq!(
        summary,
        [
            (429, true),
            (429, true),
            (200, false),
            (503, true),
            (0, true)
        ]
    );
    assert_eq!(fake.messages(TEXT_CHANNEL).len(), 1);
    assert_eq!(calls[0].path, format!("/channels/{TEXT_CHANNEL}/messages"));
    assert_eq!(calls[0].body["content"], "x");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_reads_parse_as_serenity_models() {
    let fake = FakeDiscord::start_default();
    let http = http(&fake);
    let guild = GuildId::new(id(GUILD_ID));

    let gateway = http.get_gateway().await.unwrap();
    assert_eq!(gateway.url, fake.gateway_url());
    let bot_gateway = http.get_bot_gateway().await.unwrap();
    assert_eq!(bot_gateway.shards, 1);
    let app = http.get_current_application_info().await.unwrap();
    assert_eq!(app.id, ApplicationId::new(id(APP_ID)));

    let lee = guild.member(&http, UserId::new(id(LEE))).await.unwrap();
    assert_eq!(lee.user.name, "lee");
    assert_eq!(lee.roles.len(), 2);
    let unknown = guild.member(&http, UserId::new(99)).await;
    assert_eq!(code(unknown), 10007);
    let roles = guild.roles(&http).await.unwrap();
    assert_eq!(roles.len(), 3);
    assert_eq!(
        roles[&serenity::all::RoleId::new(id(GUILD_ID))].name,
        "@everyone"
    );
    let channels = guild.channels(&http).await.unwrap();
    assert_eq!(channels.len(), 3);
    assert_eq!(channels[&channel(FORUM_CHANNEL)].kind, ChannelType::Forum);
    match channel(TEXT_CHANNEL).to_channel(&http).await.unwrap() {
        Channel::Guild(c) => assert_eq!(c.name, "inbox"),
        other => panic!("expected a guild channel, got {other:?}"),
    }
    assert_eq!(code(channel("5").to_channel(&http).await), 10003);
    assert_eq!(code(GuildId::new(5).get_active_threads(&http).await), 10004);
}

fn parse<T: serde::de::DeserializeOwned>(v: &Value) -> T {
    serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{e}: {v:#}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payload_builders_parse_as_serenity_models() {
    let fake = FakeDiscord::start_default();
    let http = http(&fake);
    let card = channel(TEXT_CHANNEL)
        .send_message(
            &http,
            text("Case 1").components(vec![CreateActionRow::Buttons(vec![
                CreateButton::new("approve:1").label("Approve"),
            ])]),
        )
        .await
        .unwrap();
    let thread = channel(TEXT_CHANNEL)
        .create_thread_from_message(&http, card.id, CreateThread::new("Case 1"))
        .await
        .unwrap();
    let thread_id = thread.id.to_string();

    let (mid, v) = fake.message_create(&thread_id, MARIA, "I'll take it");
    let m: SerenityMessage = parse(&v);
    assert_eq!(m.id.to_string(), mid);
    assert_eq!(m.channel_id, thread.id);
    assert_eq!(m.guild_id, Some(GuildId::new(id(GUILD_ID))));
    assert_eq!(m.author.name, "maria");
    assert_eq!(m.author.global_name.as_deref(), Some("Maria"));
    assert!(!m.author.bot);
    assert_eq!(m.content, "I'll take it");
    let member = m.member.unwrap();
    assert_eq!(member.roles, [serenity::all::RoleId::new(id(AGENT_ROLE))]);
    assert!(
        member.user.is_none(),
        "MESSAGE_CREATE members come without user"
    );
    assert_eq!(fake.message(&thread_id, &mid).unwrap().author_id, MARIA);

    let add: Reaction = parse(&fake.reaction_add(LEE, TEXT_CHANNEL, &card.id.to_string(), "✅"));
    assert_eq!(add.user_id, Some(UserId::new(id(LEE))));
    assert_eq!(add.message_id, card.id);
    assert_eq!(add.emoji, ReactionType::Unicode("✅".into()));
    assert_eq!(add.message_author_id, Some(UserId::new(id(BOT_USER_ID))));
    let member = add.member.unwrap();
    assert_eq!(member.roles.len(), 2);
    assert_eq!(member.user.id, UserId::new(id(LEE)));
    assert_eq!(member.guild_id, GuildId::new(id(GUILD_ID)));
    let remove: Reaction =
        parse(&fake.reaction_remove(LEE, TEXT_CHANNEL, &card.id.to_string(), "✅"));
    assert!(remove.member.is_none());
    let custom: Reaction = parse(&fake.reaction_add(SAM, TEXT_CHANNEL, &mid, "approve:123"));
    assert!(matches!(custom.emoji, ReactionType::Custom { id, .. } if id.get() == 123));

    let (iid, token, v) = fake.slash_command(
        LEE,
        &thread_id,
        "reply",
        &[("text", json!("On its way")), ("priority", json!(2))],
    );
    let Interaction::Command(c) = parse::<Interaction>(&v) else {
        panic!("not a command: {v:#}");
    };
    assert_eq!((c.id.to_string(), c.token.as_str()), (iid, token.as_str()));
    assert_eq!(c.data.name, "care");
    assert_eq!(
        c.user.id,
        UserId::new(id(LEE)),
        "serenity copies member.user into user"
    );
    assert_eq!(c.member.as_ref().unwrap().roles.len(), 2);
    assert!(c.member.as_ref().unwrap().permissions.is_some());
    assert_eq!(c.channel_id, thread.id);
    let partial = c.channel.as_ref().unwrap();
    assert_eq!(
        (partial.kind, partial.parent_id),
        (ChannelType::PublicThread, Some(channel(TEXT_CHANNEL)))
    );
    assert_eq!(c.guild_id, Some(GuildId::new(id(GUILD_ID))));
    assert_eq!(c.locale, "en-US");
    let options = c.data.options();
    assert_eq!(options[0].name, "reply");
    let ResolvedValue::SubCommand(sub) = &options[0].value else {
        panic!("expected a subcommand: {options:?}");
    };
    assert!(matches!(sub[0].value, ResolvedValue::String("On its way")));
    assert!(matches!(sub[1].value, ResolvedValue::Integer(2)));
    let (_, _, bare) = fake.slash_command(SAM, TEXT_CHANNEL, "claim", &[]);
    let Interaction::Command(bare) = parse::<Interaction>(&bare) else {
        panic!("not a command");
    };
    assert!(matches!(&bare.data.options()[0].value, ResolvedValue::SubCommand(s) if s.is_empty()));

    let (_, _, v) = fake.button_click(SAM, TEXT_CHANNEL, &card.id.to_string(), "approve:1");
    let Interaction::Component(click) = parse::<Interaction>(&v) else {
        panic!("not a component: {v:#}");
    };
    assert_eq!(click.data.custom_id, "approve:1");
    assert!(matches!(
        click.data.kind,
        ComponentInteractionDataKind::Button
    ));
    assert_eq!(click.message.id, card.id);
    assert_eq!(click.message.thread.as_ref().unwrap().id, thread.id);
    assert_eq!(click.user.id, UserId::new(id(SAM)));
    assert!(click.member.unwrap().roles.is_empty());

    let (_, _, v) = fake.modal_submit(
        MARIA,
        &thread_id,
        "draft:1",
        &[("text", "Sorry!"), ("tone", "warm")],
    );
    let Interaction::Modal(modal) = parse::<Interaction>(&v) else {
        panic!("not a modal submit: {v:#}");
    };
    assert_eq!(modal.data.custom_id, "draft:1");
    let values: Vec<(String, Option<String>)> = modal
        .data
        .components
        .iter()
        .flat_map(|row| &row.components)
        .map(|c| match c {
            ActionRowComponent::InputText(t) => (t.custom_id.clone(), t.value.clone()),
            other => panic!("unexpected component {other:?}"),
        })
        .collect();
    assert_eq!(
        values,
        [
            ("text".to_string(), Some("Sorry!".to_string())),
            ("tone".to_string(), Some("warm".to_string()))
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn builders_panic_on_buttons_the_bot_did_not_offer() {
    let fake = FakeDiscord::start_default();
    let card = channel(TEXT_CHANNEL)
        .send_message(&http(&fake), text("no buttons"))
        .await
        .unwrap();
    let card = card.id.to_string();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        fake.button_click(SAM, TEXT_CHANNEL, &card, "approve:1")
    }));
    assert!(result.is_err());
}

// ---------------------------------------------------------------------------
// Gateway, with serenity's client
// ---------------------------------------------------------------------------

#[derive(Debug)]
enum Seen {
    Ready(Box<Ready>),
    Message(Box<SerenityMessage>),
    ReactionAdd(Box<Reaction>),
    ReactionRemove(Box<Reaction>),
    Interaction(Box<Interaction>),
}

struct Forward(mpsc::UnboundedSender<Seen>);

#[async_trait]
impl EventHandler for Forward {
    async fn ready(&self, _: Context, ready: Ready) {
        let _ = self.0.send(Seen::Ready(Box::new(ready)));
    }

    async fn message(&self, _: Context, message: SerenityMessage) {
        let _ = self.0.send(Seen::Message(Box::new(message)));
    }

    async fn reaction_add(&self, _: Context, reaction: Reaction) {
        let _ = self.0.send(Seen::ReactionAdd(Box::new(reaction)));
    }

    async fn reaction_remove(&self, _: Context, reaction: Reaction) {
        let _ = self.0.send(Seen::ReactionRemove(Box::new(reaction)));
    }

    async fn interaction_create(&self, _: Context, interaction: Interaction) {
        let _ = self.0.send(Seen::Interaction(Box::new(interaction)));
    }
}

async fn start_client(
    fake: &FakeDiscord,
    token: &str,
    intents: GatewayIntents,
) -> (Client, mpsc::UnboundedReceiver<Seen>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let client = ClientBuilder::new_with_http(http_with_token(fake, token), intents)
        .event_handler(Forward(tx))
        .await
        .unwrap();
    (client, rx)
}

async fn next(rx: &mut mpsc::UnboundedReceiver<Seen>) -> Seen {
    tokio::time::timeout(WAIT, rx.recv())
        .await
        .expect("no gateway event within the timeout")
        .expect("the handler is gone")
}

async fn next_message(rx: &mut mpsc::UnboundedReceiver<Seen>) -> SerenityMessage {
    match next(rx).await {
        Seen::Message(m) => *m,
        other => panic!("expected a message, got {other:?}"),
    }
}

const INTENTS: GatewayIntents = GatewayIntents::GUILDS
    .union(GatewayIntents::GUILD_MESSAGES)
    .union(GatewayIntents::GUILD_MESSAGE_REACTIONS);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serenity_client_gets_events_and_resumes() {
    let fake = FakeDiscord::start_default();
    let (mut client, mut rx) =
        start_client(&fake, TOKEN, INTENTS | GatewayIntents::MESSAGE_CONTENT).await;
    let shards = client.shard_manager.clone();
    let running = tokio::spawn(async move { client.start().await });

    let Seen::Ready(ready) = next(&mut rx).await else {
        panic!("expected READY first");
    };
    assert_eq!(ready.user.id, UserId::new(id(BOT_USER_ID)));
    assert_eq!(ready.application.id, ApplicationId::new(id(APP_ID)));
    assert_eq!(ready.guilds[0].id, GuildId::new(id(GUILD_ID)));
    let identify = fake.identifies().remove(0);
    assert_eq!(identify["token"], format!("Bot {TOKEN}"));
    assert_eq!(identify["compress"], true);
    assert_eq!(identify["shard"], json!([0, 1]));
    assert_eq!(
        identify["intents"].as_u64().unwrap(),
        (INTENTS | GatewayIntents::MESSAGE_CONTENT).bits()
    );

    let (mid, payload) = fake.message_create(TEXT_CHANNEL, MARIA, "where is my order?");
    fake.dispatch("MESSAGE_CREATE", payload);
    let m = next_message(&mut rx).await;
    assert_eq!(
        (m.id.to_string(), m.content.as_str()),
        (mid.clone(), "where is my order?")
    );
    assert_eq!(m.guild_id, Some(GuildId::new(id(GUILD_ID))));
    assert_eq!(m.member.unwrap().roles.len(), 1);

    fake.dispatch(
        "MESSAGE_REACTION_ADD",
        fake.reaction_add(LEE, TEXT_CHANNEL, &mid, "👍"),
    );
    match next(&mut rx).await {
        Seen::ReactionAdd(r) => {
            assert_eq!(r.user_id, Some(UserId::new(id(LEE))));
            assert_eq!(r.member.as_ref().unwrap().roles.len(), 2);
        }
        other => panic!("expected a reaction, got {other:?}"),
    }
    fake.dispatch(
        "MESSAGE_REACTION_REMOVE",
        fake.reaction_remove(LEE, TEXT_CHANNEL, &mid, "👍"),
    );
    match next(&mut rx).await {
        Seen::ReactionRemove(r) => assert!(r.member.is_none() && r.message_id.to_string() == mid),
        other => panic!("expected a reaction removal, got {other:?}"),
    }

    let (iid, _, payload) = fake.slash_command(MARIA, TEXT_CHANNEL, "claim", &[]);
    fake.dispatch("INTERACTION_CREATE", payload);
    let Seen::Interaction(interaction) = next(&mut rx).await else {
        panic!("expected an interaction");
    };
    let command = interaction.command().unwrap();
    assert_eq!(command.id.to_string(), iid);
    let answer = CreateInteractionResponse::Message(
        CreateInteractionResponseMessage::new().content("Claimed"),
    );
    command.create_response(&http(&fake), answer).await.unwrap();
    assert_eq!(fake.interaction_responses()[0].kind, 4);

    // Connection lost; an event sent meanwhile arrives exactly once after RESUME.
    fake.drop_connection();
    let (away, payload) = fake.message_create(TEXT_CHANNEL, SAM, "sent while away");
    fake.dispatch("MESSAGE_CREATE", payload);
    assert_eq!(next_message(&mut rx).await.id.to_string(), away);
    fake.wait_ready(WAIT);
    let (after, payload) = fake.message_create(TEXT_CHANNEL, SAM, "after the resume");
    fake.dispatch("MESSAGE_CREATE", payload);
    assert_eq!(next_message(&mut rx).await.id.to_string(), after);
    let resume = fake
        .gateway_frames()
        .into_iter()
        .find(|f| f["op"] == 6)
        .expect("serenity resumed");
    assert_eq!(resume["d"]["session_id"], ready.session_id);
    assert_eq!(resume["d"]["seq"], 5, "READY + four events");
    assert_eq!(fake.identifies().len(), 1, "resumed, not re-identified");
    assert_eq!(fake.gateway_connections(), 2);

    shards.shutdown_all().await;
    let stopped = tokio::time::timeout(WAIT, running).await.unwrap().unwrap();
    assert!(stopped.is_ok(), "{stopped:?}");
    assert!(rx.try_recv().is_err(), "no duplicate deliveries");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serenity_client_is_refused_disallowed_intents_and_bad_tokens() {
    let setup = FakeDiscordSetup {
        message_content_allowed: false,
        ..FakeDiscordSetup::default()
    };
    let fake = FakeDiscord::start(setup);
    let (mut client, _rx) =
        start_client(&fake, TOKEN, INTENTS | GatewayIntents::MESSAGE_CONTENT).await;
    let result = tokio::time::timeout(WAIT, client.start()).await.unwrap();
    assert!(
        matches!(
            result,
            Err(Error::Gateway(
                serenity::gateway::GatewayError::DisallowedGatewayIntents
            ))
        ),
        "{result:?}"
    );
    // The shard runner has already stopped; `shutdown_all` would wait 5 s for
    // it to confirm, so the client is just dropped.
    drop(client);

    // Without the privileged intent it connects.
    let (mut client, mut rx) = start_client(&fake, TOKEN, INTENTS).await;
    let shards = client.shard_manager.clone();
    let running = tokio::spawn(async move { client.start().await });
    assert!(matches!(next(&mut rx).await, Seen::Ready(_)));
    shards.shutdown_all().await;
    tokio::time::timeout(WAIT, running)
        .await
        .unwrap()
        .unwrap()
        .unwrap();

    // A wrong token still gets the gateway URL (GET /gateway needs none) but
    // the IDENTIFY is closed with 4004.
    let (mut client, _rx) = start_client(&fake, "wrong-token", INTENTS).await;
    let result = tokio::time::timeout(WAIT, client.start()).await.unwrap();
    assert!(
        matches!(
            result,
            Err(Error::Gateway(
                serenity::gateway::GatewayError::InvalidAuthentication
            ))
        ),
        "{result:?}"
    );
    drop(client);
}

// ---------------------------------------------------------------------------
// Gateway, with a raw websocket for exact frames
// ---------------------------------------------------------------------------

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn recv(ws: &mut Ws) -> Value {
    loop {
        let frame = tokio::time::timeout(WAIT, ws.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        match frame {
            WsMessage::Text(t) => return serde_json::from_str(t.as_str()).unwrap(),
            WsMessage::Close(c) => return json!({"close": c.map(|c| u16::from(c.code))}),
            _ => {}
        }
    }
}

async fn send(ws: &mut Ws, v: Value) {
    ws.send(WsMessage::text(v.to_string())).await.unwrap();
}

async fn connect(fake: &FakeDiscord) -> Ws {
    // serenity's url crate adds the "/" before the query; http::Uri does not.
    let url = format!("{}/?v=10&encoding=json", fake.gateway_url());
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let hello = recv(&mut ws).await;
    assert_eq!(hello["op"], 10);
    assert_eq!(hello["d"]["heartbeat_interval"], 41250);
    ws
}

fn identify(token: &str) -> Value {
    json!({"op": 2, "d": {"token": token, "intents": 513, "properties": {"os": "linux", "browser": "x", "device": "x"}}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_gateway_buffers_replays_and_invalidates() {
    let fake = FakeDiscord::start_default();
    // Dispatched before anyone connects: delivered after READY.
    let (_, early) = fake.message_create(TEXT_CHANNEL, MARIA, "early");
    fake.dispatch("MESSAGE_CREATE", early);

    let mut ws = connect(&fake).await;
    send(&mut ws, json!({"op": 1, "d": null})).await;
    assert_eq!(recv(&mut ws).await, json!({"op": 11}));
    send(&mut ws, identify(TOKEN)).await;
    let ready = recv(&mut ws).await;
    assert_eq!(
        (ready["t"].as_str(), ready["s"].as_u64()),
        (Some("READY"), Some(1))
    );
    let ready_event: GatewayEvent = parse(&ready);
    assert!(matches!(ready_event, GatewayEvent::Dispatch(1, _)));
    let session = ready["d"]["session_id"].as_str().unwrap().to_string();
    let event = recv(&mut ws).await;
    assert_eq!(
        (event["t"].as_str(), event["s"].as_u64()),
        (Some("MESSAGE_CREATE"), Some(2))
    );
    assert_eq!(event["d"]["content"], "early");
    fake.wait_ready(WAIT);
    send(&mut ws, identify(TOKEN)).await;
    assert_eq!(recv(&mut ws).await, json!({"close": 4005}));

    // Two events while nobody listens; RESUME from seq 2 replays both.
    fake.drop_connection();
    fake.dispatch(
        "TYPING_START",
        json!({"channel_id": TEXT_CHANNEL, "user_id": MARIA, "timestamp": 1}),
    );
    fake.dispatch(
        "TYPING_START",
        json!({"channel_id": TEXT_CHANNEL, "user_id": LEE, "timestamp": 2}),
    );
    let mut ws = connect(&fake).await;
    send(
        &mut ws,
        json!({"op": 6, "d": {"token": format!("Bot {TOKEN}"), "session_id": session, "seq": 2}}),
    )
    .await;
    let replayed: Vec<Value> = vec![recv(&mut ws).await, recv(&mut ws).await];
    assert_eq!(replayed[0]["s"], 3);
    assert_eq!(replayed[1]["d"]["user_id"], LEE);
    let resumed = recv(&mut ws).await;
    assert_eq!(
        (resumed["t"].as_str(), resumed["s"].as_u64()),
        (Some("RESUMED"), Some(5))
    );
    assert!(matches!(
        parse::<GatewayEvent>(&resumed),
        GatewayEvent::Dispatch(5, _)
    ));

    let mut other = connect(&fake).await;
    send(
        &mut other,
        json!({"op": 6, "d": {"token": TOKEN, "session_id": "nope", "seq": 1}}),
    )
    .await;
    assert_eq!(recv(&mut other).await, json!({"op": 9, "d": false}));
    send(&mut other, json!({"op": 3, "d": {}})).await;
    assert_eq!(recv(&mut other).await, json!({"close": 4003}));

    let mut bad = connect(&fake).await;
    send(&mut bad, identify("nope")).await;
    assert_eq!(recv(&mut bad).await, json!({"close": 4004}));
    let mut garbled = connect(&fake).await;
    garbled.send(WsMessage::text("{not json")).await.unwrap();
    assert_eq!(recv(&mut garbled).await, json!({"close": 4002}));
    assert_eq!(fake.gateway_frames().last().unwrap(), &json!("{not json"));
}

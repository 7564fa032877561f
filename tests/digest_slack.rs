//! The digest's chat post on Slack: `ChatSurface::post_channel` of the real Slack adapter
//! against the fake Slack in `tests/support/slack.rs` (the scheduler's slot and retry logic is
//! unit-tested in `src/scheduler.rs`; waiting for a real cron slot would take a minute).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/background.rs"]
mod background;
#[path = "support/slack.rs"]
mod slack;

use std::path::Path;

use carebridge::chat::slack::Slack;
use carebridge::chat::{Attempt, ChatSurface};
use carebridge::config::Config;
use carebridge::health::Health;
use slack::FakeSlack;

fn config(api_url: &str) -> Config {
    let text = format!(
        r#"
[chat]
kind = "slack"

[chat.slack]
mode = "socket"
bot_token = "{bot}"
app_token = "{app}"
api_url = "{api_url}"
[chat.slack.channels]
default = "C0INBOX"
billing = "C0ESC"

[[accounts]]
id = "acme"
network = "demo"
simulate = "x"
"#,
        bot = slack::BOT_TOKEN,
        app = slack::APP_TOKEN,
    );
    Config::from_toml_str(&text, Path::new("/tmp"), &|_| None).unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_digest_goes_to_the_queues_channel_once_as_an_aligned_block() {
    let fake = FakeSlack::start_default();
    let config = config(&fake.api_url());
    let settings = config.chat.slack.as_ref().unwrap();
    let chat = Slack::connect(settings, Health::new()).await.unwrap();
    let body = "Daily digest · Report 2026-03-01 09:00 → 2026-03-02 09:00 (UTC)\n\
                Cases            4 opened · 1 closed · 3 still open";
    let attempt = Attempt {
        key: "digest-daily-1772442000".to_owned(),
        uncertain: false,
    };
    chat.post_channel(&attempt, "billing", body, true)
        .await
        .unwrap();

    let posted = fake.messages("C0ESC");
    assert_eq!(posted.len(), 1, "{posted:?}");
    let message = &posted[0];
    assert!(message.is_top_level(), "not in any thread");
    let text = message.blocks_text();
    assert!(
        text.starts_with("Daily digest · Report 2026-03-01 09:00 → 2026-03-02 09:00 (UTC)\n```\n"),
        "{text}"
    );
    assert!(
        text.contains("Cases            4 opened · 1 closed · 3 still open\n```"),
        "the columns keep their spacing in a code block: {text}"
    );

    // A retry not knowing whether the post went through finds it and posts nothing.
    let retry = Attempt {
        uncertain: true,
        ..attempt
    };
    chat.post_channel(&retry, "billing", body, true)
        .await
        .unwrap();
    assert_eq!(fake.messages("C0ESC").len(), 1);

    // A queue without a channel of its own posts to the default channel.
    let other = Attempt {
        key: "digest-other-1772442000".to_owned(),
        uncertain: false,
    };
    chat.post_channel(&other, "returns", body, true)
        .await
        .unwrap();
    let inbox = fake.messages("C0INBOX");
    assert_eq!(inbox.len(), 1, "{inbox:?}");
    assert!(inbox[0].is_top_level());
}

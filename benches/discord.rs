//! Discord adapter costs: the pure work per event (an INTERACTION_CREATE parsed by serenity
//! and turned into a request; a case card built and serialized; a long note split), then the
//! real binary on the fake Discord's gateway: `/care status` interactions inside a case thread,
//! at a steady rate and as one burst, measured by the fake from dispatch to the bot's deferred
//! acknowledgement (Discord allows 3 s), with every one answered afterwards.
//!
//! Run with `cargo bench --bench discord`; `CAREBRIDGE_BENCH_SECS` sets the steady phase's
//! length (default 10).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/support/background.rs"]
mod background;
#[path = "../tests/support/discord.rs"]
mod discord;
#[path = "support/load.rs"]
mod load;
#[path = "../tests/support/run.rs"]
mod run;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use carebridge::chat::discord::{events, format};
use carebridge::engine::Case;
use carebridge::text::Card;
use discord::{FakeDiscord, FakeDiscordSetup, MARIA, TEXT_CHANNEL};
use run::{Bot, DEMO_X_ACCOUNT, feed_line, wait_until};

const RATE: u64 = 50;
const BURST: usize = 300;

fn pure() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/discord/interaction_slash_in_thread.json"
    );
    let payload = std::fs::read(path).unwrap();
    let per_event = load::per_op(20_000, || {
        let interaction: serenity::all::Interaction = serde_json::from_slice(&payload).unwrap();
        assert!(events::interaction(&interaction).is_some());
    });
    println!(
        "slash command interaction ({} B): parse + convert {:.1} µs",
        payload.len(),
        per_event.as_secs_f64() * 1e6
    );

    // A case as the store holds it (`cases show 1 --json` of a demo run).
    let case: Case = serde_json::from_str(include_str!("data/case.json")).unwrap();
    let card = Card {
        title: "#4242 · X · @jane".into(),
        fields: vec![
            ("Network", "X · acme-x · mention".into()),
            ("Customer", "Jane (@jane)".into()),
            ("Status", "open".into()),
            ("Owner", "<@1600000000000000001>".into()),
            ("Urgency", "high".into()),
            ("SLA", "due Mon 23 Nov 11:00".into()),
        ],
        text: "Where is my parcel? It was due on Friday and the tracking page says nothing. "
            .repeat(8),
        link: Some("https://x.com/jane/status/1800000000000000001".into()),
    };
    let per_card = load::per_op(20_000, || {
        let embed = serde_json::to_vec(&format::card_embed(&case, &card)).unwrap();
        let buttons = serde_json::to_vec(&format::card_buttons(case.number)).unwrap();
        assert!(embed.len() + buttons.len() > 0);
    });
    println!(
        "case card: embed + buttons built and serialized {:.1} µs",
        per_card.as_secs_f64() * 1e6
    );
    let note = "The customer called twice about the same parcel; details follow.\n".repeat(40);
    let per_split = load::per_op(20_000, || assert_eq!(format::messages(&note).len(), 2));
    println!(
        "2,640-character note split under 2000: {:.1} µs",
        per_split.as_secs_f64() * 1e6
    );
}

/// Dispatches `/care status` in `thread` `count` times, `gap` apart; the interaction ids.
fn send(fake: &FakeDiscord, thread: &str, count: usize, gap: Duration) -> Vec<String> {
    let start = Instant::now();
    (0..count)
        .map(|i| {
            let due = start + gap * i as u32;
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            let (id, _, event) = fake.slash_command(MARIA, thread, "status", &[]);
            fake.dispatch("INTERACTION_CREATE", event);
            id
        })
        .collect()
}

/// Waits for every interaction's acknowledgement and answer, then reports the ack latencies
/// (the rate over the time from the first dispatch to the last answer).
fn report(fake: &FakeDiscord, name: &str, ids: &[String], start: Instant) {
    let wanted: HashSet<&String> = ids.iter().collect();
    wait_until(Duration::from_secs(60), || {
        fake.followups().iter().filter(|f| f.original).count() >= fake.interaction_responses().len()
            && fake
                .interaction_responses()
                .iter()
                .filter(|r| wanted.contains(&r.interaction_id))
                .count()
                == ids.len()
    });
    let acks = fake.interaction_responses();
    let results: Vec<Option<Duration>> = ids
        .iter()
        .map(|id| {
            acks.iter()
                .find(|r| &r.interaction_id == id)
                .map(|r| r.after)
        })
        .collect();
    load::report(name, (results, start.elapsed()));
}

fn main() {
    pure();

    let secs = load::bench_secs();
    let fake = FakeDiscord::start(FakeDiscordSetup::default());
    let chat = format!(
        "[chat]\nkind = \"discord\"\n[chat.discord]\ntoken = \"{}\"\napplication_id = \"{}\"\nguild_id = \"{}\"\napi_url = \"{}\"\n[chat.discord.channels]\ndefault = \"{TEXT_CHANNEL}\"\n",
        discord::TOKEN,
        discord::APP_ID,
        discord::GUILD_ID,
        fake.api_url(),
    );
    let feed = [feed_line(
        "p1",
        "jane",
        "c1",
        "mention",
        "Where is my parcel?",
    )];
    let bot = Bot::with_chat("", &chat, DEMO_X_ACCOUNT, &feed);
    let _running = load::start_quiet(&bot);
    fake.wait_ready(Duration::from_secs(30));
    assert!(wait_until(Duration::from_secs(30), || !fake
        .threads()
        .is_empty()));
    let thread = fake.threads()[0].id.clone();

    let start = Instant::now();
    let ids = send(
        &fake,
        &thread,
        (RATE * secs) as usize,
        Duration::from_micros(1_000_000 / RATE),
    );
    report(
        &fake,
        &format!("/care status at {RATE}/s for {secs}s"),
        &ids,
        start,
    );

    let start = Instant::now();
    let ids = send(&fake, &thread, BURST, Duration::ZERO);
    report(
        &fake,
        &format!("/care status, {BURST} at once"),
        &ids,
        start,
    );
}

//! Everything that reads outside input returns a value or an error for any
//! input at all: chat lines, slash commands and their options, text to
//! measure, demo feed lines, config files, durations and crontab lines, and
//! what Mastodon instances, Bluesky servers and generic webhook senders and receivers send.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use carebridge::chat::console::parse_line;
use carebridge::commands::parse::{parse_duration, parse_user};
use carebridge::commands::{Invocation, Specs};
use carebridge::config::{Config, parse_crontab};
use carebridge::engine::rules::{Unit, count};
use carebridge::engine::twitter_text::measure;
use carebridge::social::bluesky::wire as bluesky;
use carebridge::social::demo::parse_feed;
use carebridge::social::mastodon::wire as mastodon;
use carebridge::social::webhook::{signing, wire as webhook};
use proptest::prelude::*;

/// Arbitrary text, biased towards the pieces parsers look for.
fn text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        any::<String>(),
        Just("https://".to_owned()),
        Just("example.com/".to_owned()),
        Just("@".to_owned()),
        Just("#".to_owned()),
        Just("!".to_owned()),
        Just("${".to_owned()),
        Just("}".to_owned()),
        Just("👨‍👩‍👧‍👦".to_owned()),
        Just("\u{200d}\u{fe0f}\u{20e3}".to_owned()),
        Just("🇬".to_owned()),
        Just("漢字".to_owned()),
        Just("e\u{301}".to_owned()),
        Just("\u{fffe}".to_owned()),
        Just(" ".to_owned()),
        Just("\n".to_owned()),
        Just("42".to_owned()),
        Just("9999999999999999999999".to_owned()),
        Just("h".to_owned()),
        Just("reply".to_owned()),
        Just("offline".to_owned()),
        Just("snooze".to_owned()),
        Just("<@U1>".to_owned()),
        Just("[x]".to_owned()),
        Just("=".to_owned()),
        Just("\"".to_owned()),
        Just("*/".to_owned()),
        Just("Mon-".to_owned()),
        Just("<p>".to_owned()),
        Just("<br />".to_owned()),
        Just("&#x1F600;".to_owned()),
        Just("&".to_owned()),
        Just(";".to_owned()),
        Just("<".to_owned()),
        Just("event: notification\ndata: ".to_owned()),
        Just("; rel=\"prev\"".to_owned()),
        Just("at://did:plc:a/app.bsky.feed.post/3k".to_owned()),
        Just("{\"uri\":\"at://a/b/c\",\"cid\":\"x\",\"reason\":\"mention\",\"record\":".to_owned()),
        Just("2026-12-07T10:00:00.000Z".to_owned()),
    ];
    prop::collection::vec(piece, 0..12).prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn chat_input_never_panics(line in text()) {
        let specs = Specs::load().unwrap();
        let _ = specs.parse(&line, Invocation::Thread);
        let _ = specs.parse(&line, Invocation::Slash);
        let _ = parse_line(&line);
        let _ = parse_user(&line);
        let _ = parse_duration(&line);
        for name in specs.names() {
            let _ = specs.from_options(name, Some(1), &[("text".to_owned(), line.clone()), ("for".to_owned(), line.clone())]);
        }
    }

    #[test]
    fn measuring_text_never_panics(s in text()) {
        let measured = measure(&s);
        // Valid means within X's limit (it may also be invalid for its characters).
        prop_assert!(!measured.valid || (1..=280).contains(&measured.weighted));
        for unit in [Unit::Weighted, Unit::Mastodon { url: 23 }, Unit::Graphemes, Unit::Chars] {
            let _ = count(&s, unit);
        }
    }

    #[test]
    fn feed_and_config_text_never_panic(s in text()) {
        let _ = parse_feed(&s, "proptest");
        let dir = std::env::temp_dir();
        let _ = Config::from_toml_str(&s, &dir, &|_| Some(s.clone()));
        let config = format!("[bot]\ntimezone = {s:?}\nreopen_window = {s:?}\n[[accounts]]\nid = {s:?}\nnetwork = \"demo\"\nsimulate = {s:?}\n");
        let _ = Config::from_toml_str(&config, &dir, &|_| None);
        let _ = parse_crontab(&s);
        let _ = carebridge::config::parse_duration(&s);
    }

    #[test]
    fn mastodon_input_never_panics(s in text()) {
        let _ = mastodon::plain_text(&s);
        let _ = mastodon::stream_event(&s);
        let _ = mastodon::prev_min_id(&s);
        let _ = mastodon::reset_time(&s);
        let _ = mastodon::error_message(s.as_bytes());
        if let Ok(value) = serde_json::from_str(&s) {
            let _ = mastodon::notification(value);
        }
    }

    #[test]
    fn bluesky_input_never_panics(s in text(), handle in text(), micros in any::<u64>(), clock in any::<u16>()) {
        let _ = bluesky::error_body(s.as_bytes());
        let _ = bluesky::at_uri(&s);
        let _ = bluesky::Mark::decode(&s);
        let tid = bluesky::tid(micros, clock);
        prop_assert_eq!(tid.len(), 13);
        let facets = bluesky::facets(&s, &handle, "did:plc:x");
        for f in &facets {
            let (start, end) = (f["index"]["byteStart"].as_u64().unwrap() as usize, f["index"]["byteEnd"].as_u64().unwrap() as usize);
            // Every facet covers whole characters of the text.
            prop_assert!(start < end && s.is_char_boundary(start) && s.is_char_boundary(end) && end <= s.len());
        }
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(&s) {
            let _ = bluesky::Mark::of(&value);
            if let Ok(n) = bluesky::notification(value) {
                let _ = bluesky::post(&n, "a", "did:plc:me");
            }
        }
    }

    #[test]
    fn generic_webhook_input_never_panics(s in text(), timestamp in text(), signature in text(), now in any::<i64>()) {
        let window = std::time::Duration::from_secs(300);
        let _ = signing::verify("whsec_0123456789abcdef", Some(&timestamp), Some(&signature), s.as_bytes(), now, window);
        let _ = webhook::post("acme-forms", s.as_bytes(), chrono::Utc::now());
        let _ = webhook::published_id(s.as_bytes());
        let message = webhook::receiver_message(s.as_bytes());
        // A receiver's words are cut to one short line.
        prop_assert!(!message.contains('\n') && message.chars().count() <= 301);
    }
}

//! twitter-text conformance for X's weighted length (config v3).
//!
//! The cases are those of twitter/twitter-text `conformance/validate.yml`
//! (sections WeightedTweetsWithDiscountedEmojiCounterTest and
//! UnicodeDirectionalMarkerCounterTest), converted to JSON in
//! `tests/data/twitter-text-v3-length.json`.

use carebridge::engine::twitter_text::measure;
use serde_json::Value;

const DATA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/twitter-text-v3-length.json"
);

#[test]
fn weighted_length_matches_twitter_text_v3() {
    let raw = std::fs::read_to_string(DATA).unwrap_or_else(|e| panic!("cannot read {DATA}: {e}"));
    let doc: Value =
        serde_json::from_str(&raw).unwrap_or_else(|e| panic!("{DATA} is not JSON: {e}"));
    let Some(cases) = doc["cases"].as_array() else {
        panic!("{DATA} has no \"cases\" array");
    };
    assert!(!cases.is_empty(), "{DATA} has no cases");

    let mut failures = Vec::new();
    for case in cases {
        let fields = (
            case["description"].as_str(),
            case["text"].as_str(),
            case["weighted_length"].as_u64(),
            case["valid"].as_bool(),
        );
        let (Some(description), Some(text), Some(weighted), Some(valid)) = fields else {
            panic!("malformed case in {DATA}: {case}");
        };
        let got = measure(text);
        if u64::try_from(got.weighted).ok() != Some(weighted) || got.valid != valid {
            failures.push(format!(
                "{description}: expected weighted {weighted} valid {valid}, got weighted {} valid {}",
                got.weighted, got.valid
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} conformance cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

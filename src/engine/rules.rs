//! What each network accepts as a reply: length limits and how they are
//! counted, direct-message availability and messaging windows, duplicates.
//!
//! Checked when a draft is made, before anyone is asked to approve it, so an
//! approver never approves something the network will refuse. Pure: no I/O;
//! the account's settings and the time come in as arguments.

use chrono::{DateTime, TimeDelta, Utc};
use unicode_normalization::UnicodeNormalization;
use unicode_segmentation::UnicodeSegmentation;

use super::model::{
    ActionKind, CanDm, Case, CasePost, Draft, DraftKind, DraftState, Platform, PostKind,
};
use super::{Lookup, Refusal, twitter_text};
use crate::config::AccountConfig;

/// How a network counts the length of a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// twitter-text v3 weighted length (URLs 23, CJK and emoji 2).
    Weighted,
    /// Mastodon's count: Unicode scalar values, every link counted as `url` (the instance's
    /// `characters_reserved_per_url`), a mention of a remote account as its `@username` only.
    Mastodon { url: usize },
    /// User-perceived characters (Bluesky).
    Graphemes,
    /// Unicode scalar values.
    Chars,
}

/// A length limit as a network applies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub max: usize,
    pub unit: Unit,
}

/// The platform whose rules apply to an account: demo accounts simulate one.
pub fn rules_platform(account: Option<&AccountConfig>, fallback: Platform) -> Platform {
    account.map_or(fallback, AccountConfig::platform)
}

/// The reply limit of a platform for a public reply or a direct message, as the account's
/// settings (its `max_length`, its Mastodon instance's link length) change it.
pub fn limit(platform: Platform, kind: DraftKind, account: Option<&AccountConfig>) -> Limit {
    let url = account
        .and_then(|a| a.mastodon.as_ref())
        .map_or(23, |m| m.url_length);
    let (max, unit) = match (platform, kind) {
        (Platform::X, DraftKind::Public) => (twitter_text::MAX_WEIGHTED_LENGTH, Unit::Weighted),
        // X DMs are plain text up to 10,000 characters.
        (Platform::X, DraftKind::Direct) => (10_000, Unit::Chars),
        (Platform::Mastodon, _) => (500, Unit::Mastodon { url }),
        (Platform::Bluesky, _) => (300, Unit::Graphemes),
        (Platform::Facebook, DraftKind::Public) => (8_000, Unit::Chars),
        (Platform::Facebook, DraftKind::Direct) => (2_000, Unit::Chars),
        (Platform::Instagram, DraftKind::Public) => (2_200, Unit::Chars),
        (Platform::Instagram, DraftKind::Direct) => (1_000, Unit::Chars),
        (Platform::Webhook | Platform::Demo, _) => (10_000, Unit::Chars),
    };
    Limit {
        max: account.and_then(|a| a.max_length).unwrap_or(max),
        unit,
    }
}

/// The text as it goes out: on Mastodon and Bluesky a reply must mention the customer's
/// `@handle` or they are not told of it (and a direct one reaches nobody), so it is put first
/// unless the agent wrote it. The length rules count this text; the Bluesky publisher marks
/// the mention where [`mentions`] finds it in this text.
pub fn addressed(platform: Platform, handle: &str, text: &str) -> String {
    let handle = handle.trim_start_matches('@');
    match platform {
        Platform::Mastodon | Platform::Bluesky
            if !handle.is_empty() && mentions(handle, text).is_empty() =>
        {
            format!("@{handle} {text}")
        }
        _ => text.to_owned(),
    }
}

/// Where `text` names `@handle`: the byte ranges of the words that are the mention (ASCII
/// case aside, and punctuation around it, as in "Thanks @jane.bsky.social!").
pub fn mentions(handle: &str, text: &str) -> Vec<std::ops::Range<usize>> {
    let handle = handle.trim_start_matches('@');
    words(text)
        .filter_map(|(start, word)| {
            let name = word.strip_prefix('@')?;
            (!handle.is_empty() && name.eq_ignore_ascii_case(handle))
                .then(|| start..start + word.len())
        })
        .collect()
}

/// The whitespace-separated words of `text` with their byte offsets, each without the
/// punctuation around it (brackets, quotes, and `,.:;!?` after it).
pub fn words(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split(char::is_whitespace).filter_map(move |piece| {
        // `piece` is a slice of `text`: its offset is the distance between their starts.
        let at = piece.as_ptr() as usize - text.as_ptr() as usize;
        let word = piece.trim_start_matches(['(', '[', '"', '\'', '“', '‘']);
        let at = at + (piece.len() - word.len());
        let word =
            word.trim_end_matches([',', '.', ':', ';', '!', '?', ')', ']', '"', '\'', '”', '’']);
        (!word.is_empty()).then_some((at, word))
    })
}

/// Length of `text` in `unit`.
pub fn count(text: &str, unit: Unit) -> usize {
    match unit {
        Unit::Weighted => twitter_text::measure(text).weighted,
        Unit::Graphemes => text.nfc().collect::<String>().graphemes(true).count(),
        Unit::Chars => text.chars().count(),
        Unit::Mastodon { url } => {
            text
            .split_whitespace()
            .map(|word| {
                if word.starts_with("http://") || word.starts_with("https://") {
                    url
                } else if let Some(user) = word.strip_prefix('@').and_then(|w| w.split_once('@')) {
                    // `@user@domain` counts as `@user`.
                    1 + user.0.chars().count()
                } else {
                    word.chars().count()
                }
            })
            .sum::<usize>()
            // split_whitespace drops the separators; each still counts one.
            + whitespace_runs(text)
        }
    }
}

fn whitespace_runs(text: &str) -> usize {
    text.chars().filter(|c| c.is_whitespace()).count()
}

/// NFC form used to compare texts for duplicates.
pub fn normalized(text: &str) -> String {
    text.trim().nfc().collect()
}

/// Checks a draft's text against the platform's rules.
pub fn check_text(
    case: &Case,
    account: Option<&AccountConfig>,
    kind: DraftKind,
    text: &str,
    lookup: &dyn Lookup,
) -> Result<(), Refusal> {
    let platform = rules_platform(account, case.platform);
    if text.trim().is_empty() {
        return Err(Refusal::EmptyText);
    }
    let limit = limit(platform, kind, account);
    let counted = count(&addressed(platform, &case.author.handle, text), limit.unit);
    if counted > limit.max {
        return Err(Refusal::TooLong {
            platform,
            count: counted,
            limit: limit.max,
            unit: limit.unit,
        });
    }
    if platform == Platform::X && kind == DraftKind::Public {
        if !twitter_text::measure(text).valid {
            return Err(Refusal::InvalidCharacters { platform });
        }
        // X refuses a post whose text this account already posted.
        let text = normalized(text);
        let in_flight = case.drafts.iter().any(|d| {
            d.kind == DraftKind::Public
                && matches!(
                    d.state,
                    DraftState::Pending | DraftState::Approved | DraftState::Published
                )
                && normalized(&d.text) == text
        });
        if in_flight || lookup.published_on_account(&case.account, &text) {
            return Err(Refusal::DuplicateText { platform });
        }
    }
    Ok(())
}

/// Checks the account has somewhere to send replies: a webhook account (not a demo simulating
/// one) answers only through its `callback_url`, so without one every draft is refused.
pub fn check_outlet(account: Option<&AccountConfig>) -> Result<(), Refusal> {
    match account {
        Some(a)
            if a.network == Platform::Webhook
                && a.webhook.as_ref().is_none_or(|w| w.callback_url.is_none()) =>
        {
            Err(Refusal::NoCallback {
                account: a.id.clone(),
            })
        }
        _ => Ok(()),
    }
}

/// Hours of the Messenger/Instagram messaging window for this account.
fn messaging_window_hours(account: Option<&AccountConfig>) -> i64 {
    if account.is_some_and(|a| a.human_agent_tag) {
        7 * 24
    } else {
        24
    }
}

/// Private replies to a Facebook/Instagram comment are allowed for 7 days.
const PRIVATE_REPLY_HOURS: i64 = 7 * 24;

/// Checks that a direct message to the author of `target` is possible now.
pub fn check_direct(
    case: &Case,
    account: Option<&AccountConfig>,
    target: &CasePost,
    now: DateTime<Utc>,
) -> Result<(), Refusal> {
    let platform = rules_platform(account, case.platform);
    match platform {
        Platform::Bluesky | Platform::Demo => {
            return Err(Refusal::DmUnsupported { platform });
        }
        // A webhook's receiver knows its people: a direct reply goes to its callback marked
        // `direct`, and a receiver that cannot deliver one says so there.
        Platform::X | Platform::Mastodon | Platform::Webhook => {}
        Platform::Facebook | Platform::Instagram => {
            if target.kind == PostKind::DirectMessage {
                let hours = messaging_window_hours(account);
                let last = case
                    .latest_post_of(true)
                    .map_or(target.at, |p| p.at.max(target.at));
                if now - last > TimeDelta::hours(hours) {
                    return Err(Refusal::WindowClosed {
                        platform,
                        hours,
                        last,
                    });
                }
            } else {
                // A DM answering a comment is a "private reply": one per comment, within 7 days.
                if now - target.at > TimeDelta::hours(PRIVATE_REPLY_HOURS) {
                    return Err(Refusal::WindowClosed {
                        platform,
                        hours: PRIVATE_REPLY_HOURS,
                        last: target.at,
                    });
                }
                let used = case.drafts.iter().any(|d| {
                    d.kind == DraftKind::Direct
                        && d.in_reply_to == target.id
                        && !matches!(
                            d.state,
                            DraftState::Rejected | DraftState::Recalled | DraftState::Failed
                        )
                });
                if used {
                    return Err(Refusal::PrivateReplyUsed {
                        post: target.id.clone(),
                    });
                }
            }
        }
    }
    if case.can_dm == CanDm::No && target.kind != PostKind::DirectMessage {
        return Err(Refusal::DmNotAllowed);
    }
    if let Some(by) = target.reply_by
        && now > by
    {
        return Err(Refusal::WindowClosed {
            platform,
            hours: (by - target.at).num_hours(),
            last: target.at,
        });
    }
    Ok(())
}

/// Checks a public reply to `target` is still possible (the network's own window).
pub fn check_public(
    case: &Case,
    account: Option<&AccountConfig>,
    target: &CasePost,
    now: DateTime<Utc>,
) -> Result<(), Refusal> {
    match target.reply_by {
        Some(by) if now > by => Err(Refusal::WindowClosed {
            platform: rules_platform(account, case.platform),
            hours: (by - target.at).num_hours(),
            last: target.at,
        }),
        _ => Ok(()),
    }
}

/// Whether the network lets the brand account do `action` at all (on public posts and
/// public replies; see [`check_post_action`] and [`check_delete`] for the targets).
///
/// X, Mastodon and Bluesky like, unlike, repost and delete our replies; Facebook pages like,
/// unlike, hide, unhide and delete comments and delete their own replies but cannot share;
/// Instagram hides, unhides and deletes comments and its own replies but can't like or share
/// through the API; a webhook or the demo network as itself does none of it.
pub fn supports(platform: Platform, action: ActionKind) -> bool {
    use ActionKind::{Delete, Hide, Like, Remove, Repost, Unhide, Unlike};
    match platform {
        Platform::X | Platform::Mastodon | Platform::Bluesky => {
            matches!(action, Like | Unlike | Repost | Delete)
        }
        Platform::Facebook => action != Repost,
        Platform::Instagram => matches!(action, Delete | Hide | Unhide | Remove),
        Platform::Webhook | Platform::Demo => false,
    }
}

/// Whether a published draft of `kind` can be deleted: public replies wherever deleting is
/// supported; a direct message only on Mastodon, where it is a status like any other (X and
/// Messenger cannot unsend a message for the recipient).
pub fn can_delete(platform: Platform, kind: DraftKind) -> bool {
    supports(platform, ActionKind::Delete)
        && (kind == DraftKind::Public || platform == Platform::Mastodon)
}

/// The refusal for an action the network can't do (at all, or on that target).
pub fn unsupported(platform: Platform, action: ActionKind) -> Refusal {
    Refusal::ActionUnsupported {
        platform,
        action: action.key().to_owned(),
    }
}

/// Checks the network allows `action` on the customer post `target`: only public posts can be
/// liked or reposted, only comments (on the brand's own posts and media) hidden or deleted,
/// and nothing done to a post that is gone.
pub fn check_post_action(
    case: &Case,
    account: Option<&AccountConfig>,
    action: ActionKind,
    target: &CasePost,
) -> Result<(), Refusal> {
    let platform = rules_platform(account, case.platform);
    let fits = match action {
        ActionKind::Hide | ActionKind::Unhide | ActionKind::Remove => {
            target.kind == PostKind::Comment
        }
        _ => !target.kind.is_direct(),
    };
    if !supports(platform, action) || !fits {
        return Err(unsupported(platform, action));
    }
    if target.removed {
        return Err(Refusal::PostGone {
            post: target.id.clone(),
        });
    }
    Ok(())
}

/// Checks the network lets us delete `draft`, which went out and is still there.
pub fn check_delete(
    case: &Case,
    account: Option<&AccountConfig>,
    draft: &Draft,
) -> Result<(), Refusal> {
    if draft.deleted_at.is_some() {
        return Err(Refusal::AlreadyDeleted {
            draft: draft.id.clone(),
        });
    }
    if draft.state != DraftState::Published || draft.published_id.is_none() {
        return Err(Refusal::NotPublished {
            draft: draft.id.clone(),
        });
    }
    let platform = rules_platform(account, case.platform);
    if !can_delete(platform, draft.kind) {
        return Err(unsupported(platform, ActionKind::Delete));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_support_per_platform() {
        let (y, n) = (true, false);
        // Like, Unlike, Repost, Delete, Hide, Unhide, Remove.
        let table = [
            (Platform::X, [y, y, y, y, n, n, n]),
            (Platform::Mastodon, [y, y, y, y, n, n, n]),
            (Platform::Bluesky, [y, y, y, y, n, n, n]),
            (Platform::Facebook, [y, y, n, y, y, y, y]),
            (Platform::Instagram, [n, n, n, y, y, y, y]),
            (Platform::Webhook, [n; 7]),
            (Platform::Demo, [n; 7]),
        ];
        for (platform, want) in table {
            let got = ActionKind::ALL.map(|a| supports(platform, a));
            assert_eq!(got, want, "{platform}");
        }
        for platform in [
            Platform::X,
            Platform::Facebook,
            Platform::Instagram,
            Platform::Bluesky,
        ] {
            assert!(can_delete(platform, DraftKind::Public), "{platform}");
            assert!(!can_delete(platform, DraftKind::Direct), "{platform}");
        }
        assert!(can_delete(Platform::Mastodon, DraftKind::Direct));
        assert!(!can_delete(Platform::Webhook, DraftKind::Public));
    }

    #[test]
    fn mastodon_counts_links_as_the_instance_says_and_remote_mentions_without_their_domain() {
        // platforms.md test vector 7.
        let mastodon = Unit::Mastodon { url: 23 };
        assert_eq!(count("a https://x.example/very/long/url", mastodon), 25);
        let wide = Unit::Mastodon { url: 30 };
        assert_eq!(count("a https://x.example/very/long/url", wide), 32);
        assert_eq!(count("@jane@other.social hi", mastodon), 8);
        assert_eq!(count("mail me@acme.com", mastodon), 16);
    }

    #[test]
    fn mastodon_replies_are_addressed_to_the_customer_once() {
        let m = Platform::Mastodon;
        assert_eq!(
            addressed(m, "jane@other.social", "Hi!"),
            "@jane@other.social Hi!"
        );
        assert_eq!(
            addressed(m, "jane", "Thanks @Jane, on it."),
            "Thanks @Jane, on it."
        );
        assert_eq!(addressed(m, "jane", "@janet hi"), "@jane @janet hi");
        assert_eq!(addressed(Platform::X, "jane", "Hi!"), "Hi!");
        assert_eq!(addressed(m, "", "Hi!"), "Hi!");
        // A remote account written by the agent, with the punctuation after it.
        assert_eq!(
            addressed(m, "jane@other.social", "Thanks @jane@other.social."),
            "Thanks @jane@other.social."
        );
    }

    #[test]
    fn bluesky_replies_are_addressed_and_the_mention_found_in_bytes() {
        let b = Platform::Bluesky;
        assert_eq!(
            addressed(b, "jane.bsky.social", "Hi!"),
            "@jane.bsky.social Hi!"
        );
        let written = "Thanks (@Jane.Bsky.Social), on it.";
        assert_eq!(addressed(b, "jane.bsky.social", written), written);
        assert_eq!(mentions("jane.bsky.social", written), vec![8..25]);
        // Platforms test vector 6: the family emoji is 25 bytes, then a space.
        let family = "👨‍👩‍👧‍👧 @handle.com 👨‍👩‍👧‍👧";
        assert_eq!(mentions("handle.com", family), vec![26..37]);
        assert_eq!(count(family, Unit::Graphemes), 15);
        assert!(mentions("jane", "@janet @jane_ mail@jane").is_empty());
        // The engine counts the mention it adds: 290 letters and `@jane.bsky.social ` are 308.
        let long = addressed(b, "jane.bsky.social", &"a".repeat(290));
        assert_eq!(count(&long, Unit::Graphemes), 308);
    }

    #[test]
    fn bluesky_counts_graphemes() {
        assert_eq!(count("👨‍👩‍👧‍👦 hi", Unit::Graphemes), 4);
        assert_eq!(count("e\u{301}", Unit::Graphemes), 1);
    }

    #[test]
    fn limits_per_platform_and_kind() {
        assert_eq!(limit(Platform::X, DraftKind::Public, None).max, 280);
        assert_eq!(limit(Platform::Mastodon, DraftKind::Public, None).max, 500);
        assert_eq!(limit(Platform::Bluesky, DraftKind::Public, None).max, 300);
        assert_eq!(limit(Platform::Facebook, DraftKind::Public, None).max, 8000);
        assert_eq!(
            limit(Platform::Instagram, DraftKind::Public, None).max,
            2200
        );
        assert_eq!(
            limit(Platform::Instagram, DraftKind::Direct, None).max,
            1000
        );
        assert_eq!(limit(Platform::Facebook, DraftKind::Direct, None).max, 2000);
    }
}

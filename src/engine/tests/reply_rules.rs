//! Table rows for the reply rules of each network: lengths and how they are counted, empty
//! text, duplicates, direct messages and their windows, private replies, the reply type, and
//! approval modes. Each refusal is checked with its numbers.

use super::table::Row;
use super::*;

use crate::engine::rules::Unit;
use Command as C;
use DraftKind::{Direct, Public};
use DraftState::{Approved, Pending};
use PostKind::{Comment, DirectMessage as Dm, Mention};
use Refusal::{DuplicateText, TooLong, WindowClosed};

/// A row where `input` makes the case's next draft, in `state`, of `kind`, answering the
/// case's latest post.
fn drafted(name: &str, f: Fixture, input: Input, state: DraftState, kind: DraftKind) -> Row {
    let id = format!("{}.{}", f.case.number, f.case.drafts.len() + 1);
    let target = f
        .case
        .latest_post()
        .map(|p| p.id.clone())
        .unwrap_or_default();
    let mut drafts = draft_states(&f.case);
    drafts.push((id.clone(), state));
    let mut effects = vec![Effect::ShowDraft { draft: id.clone() }];
    if state == Approved {
        effects.push(Effect::Publish { draft: id.clone() });
    }
    Row::new(name, f, input)
        .drafts(&drafts)
        .effects(effects)
        .audit(&["drafted"])
        .draft(&id, move |d| {
            eq("kind", d.kind, kind)?;
            eq("in reply to", d.in_reply_to.as_str(), target.as_str())?;
            eq("needs approval", d.needs_approval, state == Pending)
        })
}

fn too_long(platform: Platform, count: usize, limit: usize, unit: Unit) -> Refusal {
    TooLong {
        platform,
        count,
        limit,
        unit,
    }
}

fn window(platform: Platform, hours: i64) -> Refusal {
    WindowClosed {
        platform,
        hours,
        last: t0(),
    }
}

pub(super) fn rows() -> Vec<Row> {
    let mut rows = lengths();
    rows.extend(duplicates());
    rows.extend(direct_messages());
    rows.extend(approval_modes());
    rows.extend(webhooks());
    rows
}

fn a(n: usize) -> String {
    "a".repeat(n)
}

const URL: &str = "https://example.com/a/rather/long/path/to/some/page?with=query";
const FAMILY: &str = "👨\u{200d}👩\u{200d}👧\u{200d}👦";
/// Mastodon's count on an instance with the default link length.
const MASTODON: Unit = Unit::Mastodon { url: 23 };

fn lengths() -> Vec<Row> {
    use Fixture as F;
    let x = || F::on("x", Mention);
    vec![
        // X: twitter-text v3 weighted length.
        drafted(
            "x: 280 characters fit",
            x(),
            reply(ana(), &a(280)),
            Pending,
            Public,
        ),
        Row::new(
            "x: 281 characters are refused with the count",
            x(),
            reply(ana(), &a(281)),
        )
        .refused(too_long(Platform::X, 281, 280, Unit::Weighted)),
        drafted(
            "x: a link counts 23 (280 in all)",
            x(),
            reply(ana(), &format!("{} {URL}", a(256))),
            Pending,
            Public,
        ),
        Row::new(
            "x: a link counts 23 (281 in all)",
            x(),
            reply(ana(), &format!("{} {URL}", a(257))),
        )
        .refused(too_long(Platform::X, 281, 280, Unit::Weighted)),
        drafted(
            "x: emoji weigh 2 (140 emoji fit)",
            x(),
            reply(ana(), &"😀".repeat(140)),
            Pending,
            Public,
        ),
        Row::new(
            "x: emoji weigh 2 (140 emoji and a letter)",
            x(),
            reply(ana(), &format!("{}a", "😀".repeat(140))),
        )
        .refused(too_long(Platform::X, 281, 280, Unit::Weighted)),
        drafted(
            "x: an emoji sequence weighs 2 as a whole",
            x(),
            reply(ana(), &FAMILY.repeat(140)),
            Pending,
            Public,
        ),
        drafted(
            "x: CJK weighs 2 (140 fit)",
            x(),
            reply(ana(), &"漢".repeat(140)),
            Pending,
            Public,
        ),
        Row::new(
            "x: CJK weighs 2 (141 are refused)",
            x(),
            reply(ana(), &"漢".repeat(141)),
        )
        .refused(too_long(Platform::X, 282, 280, Unit::Weighted)),
        drafted(
            "x: counted after NFC normalization",
            x(),
            reply(ana(), &"e\u{301}".repeat(280)),
            Pending,
            Public,
        ),
        Row::new(
            "x: reserved characters are refused",
            x(),
            reply(ana(), "Thanks\u{FFFE}"),
        )
        .refused(Refusal::InvalidCharacters {
            platform: Platform::X,
        }),
        Row::new(
            "x: a byte order mark is refused",
            x(),
            reply(ana(), "\u{FEFF}Thanks"),
        )
        .refused(Refusal::InvalidCharacters {
            platform: Platform::X,
        }),
        drafted(
            "x dm: 10,000 characters fit",
            F::on("x", Dm),
            reply(ana(), &a(10_000)),
            Pending,
            Direct,
        ),
        Row::new(
            "x dm: 10,001 characters are refused",
            F::on("x", Dm),
            reply(ana(), &a(10_001)),
        )
        .refused(too_long(Platform::X, 10_001, 10_000, Unit::Chars)),
        // Mastodon: 500 characters, links 23, per-account override; the customer's @mention
        // (put first when the agent left it out) counts.
        drafted(
            "mastodon: 493 characters and the @carol put first fit (500)",
            F::on("masto", Mention),
            reply(ana(), &a(493)),
            Pending,
            Public,
        ),
        Row::new(
            "mastodon: 494 characters and the @carol put first are refused (501)",
            F::on("masto", Mention),
            reply(ana(), &a(494)),
        )
        .refused(too_long(Platform::Mastodon, 501, 500, MASTODON)),
        drafted(
            "mastodon: a reply that names @carol itself is not addressed twice (500)",
            F::on("masto", Mention),
            reply(ana(), &format!("{} @carol", a(493))),
            Pending,
            Public,
        ),
        drafted(
            "mastodon: a link counts 23 (500 in all)",
            F::on("masto", Mention),
            reply(ana(), &format!("{} {URL}", a(469))),
            Pending,
            Public,
        ),
        Row::new(
            "mastodon: a link counts 23 (501 in all)",
            F::on("masto", Mention),
            reply(ana(), &format!("{} {URL}", a(470))),
        )
        .refused(too_long(Platform::Mastodon, 501, 500, MASTODON)),
        drafted(
            "mastodon: max_length raises the limit",
            F::on("masto-big", Mention),
            reply(ana(), &a(993)),
            Approved,
            Public,
        ),
        Row::new(
            "mastodon: max_length is the limit then",
            F::on("masto-big", Mention),
            reply(ana(), &a(994)),
        )
        .refused(too_long(Platform::Mastodon, 1001, 1000, MASTODON)),
        // Bluesky: 300 graphemes; the customer's @mention (put first when the agent left it
        // out) counts.
        drafted(
            "bluesky: 293 characters and the @carol put first fit (300)",
            F::on("bsky", Mention),
            reply(ana(), &a(293)),
            Approved,
            Public,
        ),
        Row::new(
            "bluesky: 294 characters and the @carol put first are refused (301)",
            F::on("bsky", Mention),
            reply(ana(), &a(294)),
        )
        .refused(too_long(Platform::Bluesky, 301, 300, Unit::Graphemes)),
        drafted(
            "bluesky: a reply that names @carol itself is not addressed twice (300)",
            F::on("bsky", Mention),
            reply(ana(), &format!("{} @carol", a(293))),
            Approved,
            Public,
        ),
        drafted(
            "bluesky: an emoji family counts 1 (300 fit)",
            F::on("bsky", Mention),
            reply(ana(), &FAMILY.repeat(293)),
            Approved,
            Public,
        ),
        Row::new(
            "bluesky: an emoji family counts 1 (301 refused)",
            F::on("bsky", Mention),
            reply(ana(), &FAMILY.repeat(294)),
        )
        .refused(too_long(Platform::Bluesky, 301, 300, Unit::Graphemes)),
        drafted(
            "bluesky: a combining accent belongs to its letter",
            F::on("bsky", Mention),
            reply(ana(), &"e\u{301}".repeat(293)),
            Approved,
            Public,
        ),
        // Facebook and Messenger.
        drafted(
            "facebook: a comment reply of 8,000 fits",
            F::on("fb", Comment),
            reply(ana(), &a(8000)),
            Pending,
            Public,
        ),
        Row::new(
            "facebook: a comment reply of 8,001 is refused",
            F::on("fb", Comment),
            reply(ana(), &a(8001)),
        )
        .refused(too_long(Platform::Facebook, 8001, 8000, Unit::Chars)),
        drafted(
            "messenger: 2,000 characters fit",
            F::on("fb", Dm),
            reply(ana(), &a(2000)),
            Pending,
            Direct,
        ),
        Row::new(
            "messenger: 2,001 characters are refused",
            F::on("fb", Dm),
            reply(ana(), &a(2001)),
        )
        .refused(too_long(Platform::Facebook, 2001, 2000, Unit::Chars)),
        // Instagram.
        drafted(
            "instagram: a comment reply of 2,200 fits",
            F::on("ig", Comment),
            reply(ana(), &a(2200)),
            Approved,
            Public,
        ),
        Row::new(
            "instagram: a comment reply of 2,201 is refused",
            F::on("ig", Comment),
            reply(ana(), &a(2201)),
        )
        .refused(too_long(Platform::Instagram, 2201, 2200, Unit::Chars)),
        drafted(
            "instagram dm: 1,000 characters fit",
            F::on("ig", Dm),
            reply(ana(), &a(1000)),
            Approved,
            Direct,
        ),
        Row::new(
            "instagram dm: 1,001 characters are refused",
            F::on("ig", Dm),
            reply(ana(), &a(1001)),
        )
        .refused(too_long(Platform::Instagram, 1001, 1000, Unit::Chars)),
        Row::new(
            "instagram: a private reply to a comment is a DM, 1,001 refused",
            F::on("ig", Comment),
            dm(ana(), &a(1001)),
        )
        .refused(too_long(Platform::Instagram, 1001, 1000, Unit::Chars)),
        // No empty text anywhere.
        Row::new("empty text", F::open(), reply(ana(), "")).refused(Refusal::EmptyText),
        Row::new("whitespace only", F::open(), reply(ana(), "  \n\t ")).refused(Refusal::EmptyText),
        Row::new(
            "an empty direct message",
            F::on("masto", Mention),
            dm(ana(), ""),
        )
        .refused(Refusal::EmptyText),
        Row::new(
            "ideographic spaces only",
            F::on("bsky", Mention),
            reply(ana(), "\u{3000}\u{3000}"),
        )
        .refused(Refusal::EmptyText),
    ]
}

fn duplicates() -> Vec<Row> {
    use Fixture as F;
    let sent = [("x", "Thanks for waiting")];
    let dup = DuplicateText {
        platform: Platform::X,
    };
    vec![
        Row::new(
            "x: a text this account already published",
            F::open(),
            reply(ana(), "Thanks for waiting"),
        )
        .sent(&sent)
        .refused(dup.clone()),
        Row::new(
            "x: ... with spaces around it",
            F::open(),
            reply(ana(), "  Thanks for waiting \n"),
        )
        .sent(&sent)
        .refused(dup.clone()),
        Row::new(
            "x: ... in another Unicode form",
            F::open(),
            reply(ana(), "Cafe\u{301} au lait"),
        )
        .sent(&[("x", "Caf\u{e9} au lait")])
        .refused(dup.clone()),
        Row::new(
            "x: the text of a draft pending on the case",
            F::pending(),
            reply(bo(), "We're on it"),
        )
        .refused(dup.clone()),
        Row::new(
            "x: the text of a draft approved on the case",
            F::approved(),
            reply(bo(), "We're on it"),
        )
        .refused(dup.clone()),
        Row::new(
            "x: the text of a draft published on the case",
            F::waiting(),
            reply(bo(), "We're on it"),
        )
        .refused(dup.clone()),
        drafted(
            "x: a rejected draft's text may be used again",
            F::pending().then(react(lee(), "7.1", "❌", true)),
            reply(ana(), "We're on it"),
            Pending,
            Public,
        ),
        drafted(
            "x: a recalled draft's text may be used again",
            F::pending().then(cmd(ana(), C::Recall)),
            reply(ana(), "We're on it"),
            Pending,
            Public,
        ),
        drafted(
            "x: a direct message may repeat a published text",
            F::on("x", Dm),
            reply(ana(), "Thanks for waiting"),
            Pending,
            Direct,
        )
        .sent(&sent),
        drafted(
            "x: another account's text is no duplicate",
            F::open(),
            reply(ana(), "Thanks for waiting"),
            Pending,
            Public,
        )
        .sent(&[("fb", "Thanks for waiting")]),
        drafted(
            "mastodon: a text already published is fine",
            F::on("masto", Mention),
            reply(ana(), "Thanks for waiting"),
            Pending,
            Public,
        )
        .sent(&[("masto", "Thanks for waiting")]),
        drafted(
            "mastodon: the text of a pending draft is fine",
            F::on("masto", Mention).then(reply(ana(), "We're on it")),
            reply(bo(), "We're on it"),
            Pending,
            Public,
        ),
    ]
}

fn direct_messages() -> Vec<Row> {
    use Fixture as F;
    let no_dms = |kind| {
        F::from_post(&tweak(post("x", "p1", kind, "help"), |p| {
            p.can_dm = CanDm::No
        }))
    };
    let reply_by_1h = |kind| {
        F::from_post(&tweak(post("x", "p1", kind, "help"), |p| {
            p.reply_by = Some(hours(1))
        }))
    };
    let fb_comment = || F::on("fb", Comment);
    vec![
        Row::new(
            "dm: not where the author does not accept them",
            no_dms(Mention),
            dm(ana(), "Hi"),
        )
        .refused(Refusal::DmNotAllowed),
        drafted(
            "dm: tried where it is unknown whether they accept them",
            F::on("x", Mention),
            dm(ana(), "Hi"),
            Pending,
            Direct,
        ),
        drafted(
            "dm: a DM conversation is answered even if can_dm = no (reply)",
            no_dms(Dm),
            reply(ana(), "Hi"),
            Pending,
            Direct,
        ),
        drafted(
            "dm: a DM conversation is answered even if can_dm = no (dm)",
            no_dms(Dm),
            dm(ana(), "Hi"),
            Pending,
            Direct,
        ),
        Row::new(
            "dm: Bluesky has none",
            F::on("bsky", Mention),
            dm(ana(), "Hi"),
        )
        .refused(Refusal::DmUnsupported {
            platform: Platform::Bluesky,
        }),
        drafted(
            "dm: Mastodon has them",
            F::on("masto", Mention),
            dm(ana(), "Hi"),
            Pending,
            Direct,
        ),
        drafted(
            "reply: a comment gets a public reply",
            fb_comment(),
            reply(ana(), "Hi"),
            Pending,
            Public,
        ),
        drafted(
            "reply: a mention gets a public reply",
            F::on("bsky", Mention),
            reply(ana(), "Hi"),
            Approved,
            Public,
        ),
        drafted(
            "reply: a Messenger message gets a direct message",
            F::on("fb", Dm),
            reply(ana(), "Hi"),
            Pending,
            Direct,
        ),
        drafted(
            "dm: forces a direct message on a comment",
            fb_comment(),
            dm(ana(), "Hi"),
            Pending,
            Direct,
        ),
        // Messenger / Instagram messaging window.
        drafted(
            "messenger: 23h after the customer's message",
            F::on("fb", Dm).at(hours(23)),
            reply(ana(), "Hi"),
            Pending,
            Direct,
        ),
        Row::new(
            "messenger: 25h after the customer's message",
            F::on("fb", Dm).at(hours(25)),
            reply(ana(), "Hi"),
        )
        .refused(window(Platform::Facebook, 24)),
        drafted(
            "messenger: the window runs from the customer's latest message",
            F::on("fb", Dm)
                .at(hours(20))
                .posts(&tweak(post("fb", "p2", Dm, "hello?"), |p| {
                    p.created_at = hours(20)
                }))
                .at(hours(30)),
            reply(ana(), "Hi"),
            Pending,
            Direct,
        ),
        drafted(
            "instagram dm: 23h after",
            F::on("ig", Dm).at(hours(23)),
            reply(ana(), "Hi"),
            Approved,
            Direct,
        ),
        Row::new(
            "instagram dm: 25h after",
            F::on("ig", Dm).at(hours(25)),
            reply(ana(), "Hi"),
        )
        .refused(window(Platform::Instagram, 24)),
        drafted(
            "human agent tag: 25h after is fine",
            F::on("fb-tag", Dm).at(hours(25)),
            reply(ana(), "Hi"),
            Approved,
            Direct,
        ),
        drafted(
            "human agent tag: 6 days 23h after is fine",
            F::on("fb-tag", Dm).at(hours(167)),
            reply(ana(), "Hi"),
            Approved,
            Direct,
        ),
        Row::new(
            "human agent tag: 7 days 1h after",
            F::on("fb-tag", Dm).at(hours(169)),
            reply(ana(), "Hi"),
        )
        .refused(window(Platform::Facebook, 168)),
        // Private replies to comments.
        drafted(
            "private reply: within 7 days of the comment",
            fb_comment().at(hours(167)),
            dm(ana(), "Hi"),
            Pending,
            Direct,
        ),
        Row::new(
            "private reply: more than 7 days after the comment",
            fb_comment().at(hours(169)),
            dm(ana(), "Hi"),
        )
        .refused(window(Platform::Facebook, 168)),
        drafted(
            "private reply: a public reply to an old comment has no window",
            fb_comment().at(hours(200)),
            reply(ana(), "Hi"),
            Pending,
            Public,
        ),
        Row::new(
            "private reply: one per comment",
            fb_comment().then(dm(ana(), "first")),
            dm(bo(), "second"),
        )
        .refused(Refusal::PrivateReplyUsed { post: s("p1") }),
        Row::new(
            "private reply: one per comment, also once sent",
            fb_comment()
                .then(dm(ana(), "first"))
                .then(approve(lee(), "7.1"))
                .then(published("7.1")),
            dm(bo(), "second"),
        )
        .refused(Refusal::PrivateReplyUsed { post: s("p1") }),
        drafted(
            "private reply: another once the first was rejected",
            fb_comment()
                .then(dm(ana(), "first"))
                .then(react(lee(), "7.1", "❌", true)),
            dm(ana(), "second"),
            Pending,
            Direct,
        ),
        drafted(
            "private reply: a new comment may get its own",
            fb_comment().then(dm(ana(), "first")).posts(&post(
                "fb",
                "p2",
                Comment,
                "thanks, one more thing",
            )),
            dm(ana(), "second"),
            Pending,
            Direct,
        ),
        Row::new(
            "private reply: one per comment on Instagram",
            F::on("ig", Comment).then(dm(ana(), "first")),
            dm(ana(), "again"),
        )
        .refused(Refusal::PrivateReplyUsed { post: s("p1") }),
        // The network's own reply window on a post.
        drafted(
            "reply_by: before the network's deadline",
            reply_by_1h(Mention).at(mins(30)),
            reply(ana(), "Hi"),
            Pending,
            Public,
        ),
        Row::new(
            "reply_by: after the network's deadline",
            reply_by_1h(Mention).at(hours(2)),
            reply(ana(), "Hi"),
        )
        .refused(window(Platform::X, 1)),
        Row::new(
            "reply_by: a direct message after the deadline",
            reply_by_1h(Dm).at(hours(2)),
            reply(ana(), "Hi"),
        )
        .refused(window(Platform::X, 1)),
    ]
}

fn approval_modes() -> Vec<Row> {
    use Fixture as F;
    let masto_first = || F::on("masto", Mention).then(reply(ana(), "first"));
    vec![
        drafted(
            "approval always: the draft waits for an approver",
            F::on("fb", Comment),
            reply(ana(), "Hi"),
            Pending,
            Public,
        ),
        drafted(
            "approval never: approved and queued at once",
            F::on("ig", Comment),
            reply(ana(), "Hi"),
            Approved,
            Public,
        ),
        drafted(
            "first_reply: the first reply waits",
            F::on("masto", Mention),
            reply(ana(), "Hi"),
            Pending,
            Public,
        ),
        drafted(
            "first_reply: after a published reply, the next goes straight out",
            masto_first()
                .then(approve(lee(), "7.1"))
                .then(published("7.1")),
            reply(ana(), "second"),
            Approved,
            Public,
        ),
        drafted(
            "first_reply: while the first is only approved, the next still waits",
            masto_first().then(approve(lee(), "7.1")),
            reply(ana(), "second"),
            Pending,
            Public,
        ),
        drafted(
            "trusted agent: skips approval where it is always needed",
            F::open(),
            reply(tia(), "Hi"),
            Approved,
            Public,
        ),
        drafted(
            "trusted agent: only on the accounts that trust them",
            F::on("fb", Comment),
            reply(tia(), "Hi"),
            Pending,
            Public,
        ),
        drafted(
            "approval: an approver's own draft waits for another approver",
            F::open(),
            reply(lee(), "Hi"),
            Pending,
            Public,
        ),
    ]
}

/// The generic webhook: replies (public or direct) go to the callback; without one, every
/// draft is refused before anyone is asked to approve it; the network offers no actions.
fn webhooks() -> Vec<Row> {
    use Fixture as F;
    let mute = || F::on("hook-mute", Mention);
    let nowhere = || Refusal::NoCallback {
        account: s("hook-mute"),
    };
    let no = |action| rules::unsupported(Platform::Webhook, action);
    vec![
        drafted(
            "webhook: a reply goes to the callback",
            F::on("hook", Mention),
            reply(ana(), "Hi"),
            Approved,
            Public,
        ),
        drafted(
            "webhook: a direct message is answered directly",
            F::on("hook", Dm),
            reply(ana(), "Hi"),
            Approved,
            Direct,
        ),
        drafted(
            "webhook: dm on a public post is the receiver's to deliver",
            F::on("hook", Comment),
            dm(ana(), "Hi"),
            Approved,
            Direct,
        ),
        Row::new(
            "webhook without callback_url: reply is refused",
            mute(),
            reply(ana(), "Hi"),
        )
        .refused(nowhere()),
        Row::new(
            "webhook without callback_url: dm is refused",
            F::on("hook-mute", Dm),
            dm(ana(), "Hi"),
        )
        .refused(nowhere()),
        Row::new(
            "webhook without callback_url: canned is refused",
            mute(),
            cmd(ana(), C::Canned { name: s("thanks") }),
        )
        .refused(nowhere()),
        Row::new(
            "webhook without callback_url: the offline invitation is refused",
            mute().then(cmd(ana(), C::Claim)),
            cmd(
                ana(),
                C::Offline {
                    channel: OfflineChannel::Email,
                    address: None,
                },
            ),
        )
        .refused(nowhere()),
        Row::new(
            "webhook: like is refused before it is queued",
            F::on("hook", Mention),
            cmd(ana(), C::Like { post: None }),
        )
        .refused(no(ActionKind::Like)),
        Row::new(
            "webhook: hide is refused before it is queued",
            F::on("hook", Comment),
            cmd(ana(), C::Hide { post: None }),
        )
        .refused(no(ActionKind::Hide)),
        Row::new(
            "webhook: deleting our reply is refused before it is queued",
            F::on("hook", Mention)
                .then(reply(ana(), "Hi"))
                .then(published("7.1")),
            cmd(ana(), C::Delete { target: None }),
        )
        .refused(no(ActionKind::Delete)),
    ]
}

#[test]
fn a_webhook_without_callback_says_what_to_change() {
    let text = crate::text::refusal(
        &Refusal::NoCallback {
            account: s("hook-mute"),
        },
        &crate::text::at,
    );
    assert!(
        text.contains("`hook-mute`") && text.contains("Set `callback_url`"),
        "{text}"
    );
}

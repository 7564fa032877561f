//! Discord presentation for carebridge, as pure functions over serenity's
//! builders: the case card as an embed with buttons, the modals the buttons
//! open and their submissions mapped back to engine commands, thread names,
//! forum tags, and long messages split under the 2000-character limit.
//!
//! Holds no workflow rules (the card always offers every button; the engine
//! refuses what does not apply) and does no I/O. Wording comes from
//! [`crate::text::forms`] and [`crate::text::discord`]; lengths are cut with
//! [`crate::chat::split`], whose UTF-16 measure never undercounts Discord's.

use serenity::all::{
    ButtonStyle, Colour, CreateActionRow, CreateAllowedMentions, CreateButton, CreateEmbed,
    CreateInputText, CreateModal, InputTextStyle,
};

use crate::chat::form::{self, CardButton, FieldErrors, KIND_REPLY, ModalKind, input};
use crate::chat::split::{chunks, cut_plain};
use crate::engine::{Case, Command, Status, Urgency};
use crate::text::{self, Card, discord as words, forms};

/// Discord's limits as applied here (platforms.md §2.5, §2.4, §2.1), and the
/// budgets chosen under them (marked "ours").
pub mod limits {
    /// Message content.
    pub const CONTENT: usize = 2000;
    /// Embed title.
    pub const EMBED_TITLE: usize = 256;
    /// Thread and forum post names.
    pub const THREAD_NAME: usize = 100;
    /// Button labels.
    pub const BUTTON_LABEL: usize = 80;
    /// Modal titles and text input labels.
    pub const MODAL_TITLE: usize = 45;
    /// Text input placeholders.
    pub const PLACEHOLDER: usize = 100;
    /// Text input values.
    pub const TEXT_INPUT: u16 = 4000;
    /// Forum tag names.
    pub const TAG_NAME: usize = 20;
    /// Tags applied to one forum post.
    pub const APPLIED_TAGS: usize = 5;
    /// Tags a forum channel may offer.
    pub const FORUM_TAGS: usize = 20;
    /// Ours: the customer's post in the card (Discord allows 4096; with the
    /// fields below the card stays under the 6000 all embeds may hold).
    pub const CARD_TEXT: usize = 2500;
    /// Ours: each card field's value (Discord allows 1024).
    pub const FIELD_VALUE: usize = 256;
    /// Ours: fields on a card (Discord allows 25).
    pub const FIELDS: usize = 10;
    /// Ours: the escalation team and offline address inputs.
    pub const SHORT_INPUT: u16 = 320;
    /// Ours: the longest link the card carries as its embed URL.
    pub const LINK: usize = 2000;
}

/// How a [`CardButton`] or [`ModalKind`] and its case travel in a
/// `custom_id`: `care.claim:42`.
fn custom_id(id: &str, case: u64) -> String {
    format!("{id}:{case}")
}

/// The inverse of [`custom_id`]: the id and a case number we wrote.
fn split_custom_id(custom_id: &str) -> Option<(&str, u64)> {
    let (id, case) = custom_id.rsplit_once(':')?;
    // Digits only: we wrote it with `u64::to_string`.
    if case.is_empty() || !case.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((id, case.parse().ok()?))
}

/// The card's embed: title, the customer's post, the fields, the permalink,
/// and a colour that shows urgency at a glance (grey once closed).
pub fn card_embed(case: &Case, card: &Card) -> CreateEmbed {
    let title = match card.title.trim() {
        "" => forms::card_title_fallback(case.number),
        title => title.to_owned(),
    };
    let body = match card.text.trim() {
        "" => forms::NO_TEXT.to_owned(),
        text => quote(&cut_plain(text, limits::CARD_TEXT)),
    };
    let mut embed = CreateEmbed::new()
        .title(cut_plain(&title, limits::EMBED_TITLE))
        .description(body)
        .colour(colour(case));
    for (name, value) in card.fields.iter().take(limits::FIELDS) {
        let value = match value.trim() {
            "" => "—".to_owned(),
            v => cut_plain(v, limits::FIELD_VALUE),
        };
        embed = embed.field(*name, value, true);
    }
    if let Some(link) = card.link.as_deref().filter(|l| safe_link(l)) {
        embed = embed.url(link);
    }
    embed
}

/// Only http(s) links of sane length: anything else would make Discord
/// refuse the whole card.
fn safe_link(url: &str) -> bool {
    (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() <= limits::LINK
        && !url.contains(char::is_whitespace)
}

/// Each line of the customer's post as a Discord quote.
fn quote(text: &str) -> String {
    text.lines()
        .map(|line| format!("> {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn colour(case: &Case) -> Colour {
    if case.status == Status::Closed {
        return Colour::LIGHT_GREY;
    }
    match case.urgency {
        Urgency::Urgent => Colour::RED,
        Urgency::High => Colour::ORANGE,
        Urgency::Normal => Colour::BLURPLE,
        Urgency::Low => Colour::DARK_GREY,
    }
}

/// The card's buttons, one row. Close opens a modal (an optional note), which
/// is the confirmation step Discord buttons otherwise lack.
pub fn card_buttons(case: u64) -> Vec<CreateActionRow> {
    let buttons = CardButton::ALL
        .into_iter()
        .map(|b| {
            let style = match b {
                CardButton::Claim => ButtonStyle::Primary,
                CardButton::Close => ButtonStyle::Danger,
                _ => ButtonStyle::Secondary,
            };
            CreateButton::new(custom_id(b.action_id(), case))
                .label(cut_plain(b.label(), limits::BUTTON_LABEL))
                .style(style)
        })
        .collect();
    vec![CreateActionRow::Buttons(buttons)]
}

/// The Claim button's `custom_id` on case `case`'s card: what an uncertain retry looks
/// for among the channel's messages to find a card it may already have posted.
pub fn card_marker(case: u64) -> String {
    custom_id(CardButton::Claim.action_id(), case)
}

/// What a card button press asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Press {
    /// Act at once.
    Command { case: u64, command: Command },
    /// Open this modal first.
    Modal { case: u64, kind: ModalKind },
}

/// A button press's `custom_id` mapped to what it asks for; `None` for
/// anything that is not one of our buttons.
pub fn button_press(id: &str) -> Option<Press> {
    let (action, case) = split_custom_id(id)?;
    Some(match CardButton::from_action_id(action)? {
        CardButton::Claim => Press::Command {
            case,
            command: Command::Claim,
        },
        CardButton::Close => Press::Modal {
            case,
            kind: ModalKind::Close,
        },
        other => Press::Modal {
            case,
            kind: ModalKind::from_action(other.action_id())?,
        },
    })
}

/// The modal for `kind` on case `case`. Discord modals hold text inputs only,
/// so Reply… answers the customer (notes and DMs are `/care note`, `/care
/// dm`) and the offline channel is typed.
pub fn modal(kind: ModalKind, case: u64) -> CreateModal {
    let title = {
        let full = forms::modal_title(kind.title(), case);
        match full.chars().count() <= limits::MODAL_TITLE {
            true => full,
            false => cut_plain(kind.title(), limits::MODAL_TITLE),
        }
    };
    let paragraph = |id: &str, label: &str, placeholder: &str, required: bool| {
        CreateInputText::new(
            InputTextStyle::Paragraph,
            cut_plain(label, limits::MODAL_TITLE),
            id,
        )
        .placeholder(cut_plain(placeholder, limits::PLACEHOLDER))
        .required(required)
        .max_length(limits::TEXT_INPUT)
    };
    let short = |id: &str, label: &str, placeholder: &str, required: bool| {
        CreateInputText::new(
            InputTextStyle::Short,
            cut_plain(label, limits::MODAL_TITLE),
            id,
        )
        .placeholder(cut_plain(placeholder, limits::PLACEHOLDER))
        .required(required)
        .max_length(limits::SHORT_INPUT)
    };
    let inputs = match kind {
        ModalKind::Reply => vec![paragraph(
            input::TEXT,
            forms::REPLY_TEXT_LABEL,
            words::REPLY_HINT,
            true,
        )],
        ModalKind::Escalate => vec![
            short(
                input::TEAM,
                forms::ESCALATE_TEAM_LABEL,
                forms::ESCALATE_TEAM_PLACEHOLDER,
                true,
            ),
            paragraph(
                input::REASON,
                forms::ESCALATE_REASON_LABEL,
                forms::ESCALATE_REASON_PLACEHOLDER,
                false,
            ),
        ],
        ModalKind::Offline => vec![
            short(
                input::CHANNEL,
                forms::OFFLINE_CHANNEL_LABEL,
                words::OFFLINE_CHANNEL_PLACEHOLDER,
                true,
            ),
            short(
                input::ADDRESS,
                forms::OFFLINE_ADDRESS_LABEL,
                forms::OFFLINE_ADDRESS_PLACEHOLDER,
                false,
            ),
        ],
        ModalKind::Close => vec![paragraph(
            input::NOTE,
            forms::CLOSE_NOTE_LABEL,
            forms::CLOSE_NOTE_PLACEHOLDER,
            false,
        )],
    };
    CreateModal::new(custom_id(kind.callback_id(), case), title)
        .components(inputs.into_iter().map(CreateActionRow::InputText).collect())
}

/// What Discord's text inputs hold.
const FORM_LIMITS: form::Limits = form::Limits {
    text: limits::TEXT_INPUT as usize,
    team: limits::SHORT_INPUT as usize,
    address: limits::SHORT_INPUT as usize,
};

/// Why a modal submission did not become a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubmissionError {
    /// Not one of our modals (the custom id, cut for logging).
    Unknown(String),
    /// The person must fix these inputs (said back to them, ephemerally).
    Invalid { case: u64, errors: FieldErrors },
}

/// Maps a submitted modal (its `custom_id` and the text inputs' `(custom_id,
/// value)` pairs) to its case and command. Never panics, whatever it holds.
pub fn submission(
    id: &str,
    fields: &[(String, String)],
) -> Result<(u64, Command), SubmissionError> {
    let unknown = || SubmissionError::Unknown(cut_plain(id, 100));
    let (callback, case) = split_custom_id(id).ok_or_else(unknown)?;
    let kind = ModalKind::from_callback_id(callback).ok_or_else(unknown)?;
    // The channel is typed here, not picked: `Email` means email.
    let fields: Vec<(String, String)> = fields
        .iter()
        .map(|(field, value)| match field.as_str() {
            input::CHANNEL => (field.clone(), value.trim().to_lowercase()),
            _ => (field.clone(), value.clone()),
        })
        .collect();
    let lookup = |name: &str| {
        let given = fields
            .iter()
            .find(|(field, _)| field == name)
            .map(|(_, value)| value.as_str());
        // The Reply modal has no kind input here: it always answers publicly.
        match (given, name) {
            (None, input::KIND) => Some(KIND_REPLY),
            (given, _) => given,
        }
    };
    form::command(kind, &lookup, FORM_LIMITS)
        .map(|command| (case, command))
        .map_err(|errors| SubmissionError::Invalid { case, errors })
}

/// The field errors of a submission, said back in one message, labelled as
/// the modal labels its inputs.
pub fn form_errors(errors: &FieldErrors) -> String {
    let label = |id: &str| match id {
        input::TEXT => forms::REPLY_TEXT_LABEL,
        input::TEAM => forms::ESCALATE_TEAM_LABEL,
        input::REASON => forms::ESCALATE_REASON_LABEL,
        input::CHANNEL => forms::OFFLINE_CHANNEL_LABEL,
        input::ADDRESS => forms::OFFLINE_ADDRESS_LABEL,
        input::NOTE => forms::CLOSE_NOTE_LABEL,
        _ => "Input",
    };
    let mut listed: Vec<(&str, &str)> = errors
        .iter()
        .map(|(id, error)| (label(id), error.as_str()))
        .collect();
    listed.sort_unstable();
    words::form_errors(&listed)
}

/// A case thread's name, cut to Discord's limit.
pub fn thread_name(case: &Case) -> String {
    cut_plain(
        &words::thread_name(case.number, &case.author.handle),
        limits::THREAD_NAME,
    )
}

/// The forum tags a case shows: its network, urgency and status.
pub fn tag_names(case: &Case) -> Vec<String> {
    [
        text::platform_name(case.platform),
        case.urgency.key(),
        case.status.key(),
    ]
    .into_iter()
    .map(|name| cut_plain(name, limits::TAG_NAME))
    .collect()
}

/// Thread text split into messages of at most 2000 characters, between lines
/// where possible (never inside a `<@mention>`).
pub fn messages(body: &str) -> Vec<String> {
    chunks(body, limits::CONTENT)
}

/// Who a message may ping: the users it mentions, never roles or
/// `@everyone`/`@here`, whatever the customer's text holds.
pub fn allowed_mentions() -> CreateAllowedMentions {
    CreateAllowedMentions::new()
        .all_users(true)
        .all_roles(false)
        .everyone(false)
}

/// A Discord user mention for our own text: `<@id>` for a user id, plain
/// `@name` for anything else (so it can never become a role or channel ping).
pub fn mention(user: &str) -> String {
    match !user.is_empty() && user.bytes().all(|b| b.is_ascii_digit()) {
        true => format!("<@{user}>"),
        false => format!("@{user}"),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::chat::split::width;
    use crate::engine::OfflineChannel;

    fn pairs(fields: &[(&str, &str)]) -> Vec<(String, String)> {
        fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn buttons_round_trip_their_case() {
        let rows = serde_json::to_value(card_buttons(42)).unwrap();
        let buttons = rows[0]["components"].as_array().unwrap();
        assert_eq!(buttons.len(), 5);
        let ids: Vec<&str> = buttons
            .iter()
            .map(|b| b["custom_id"].as_str().unwrap())
            .collect();
        assert_eq!(
            ids,
            [
                "care.claim:42",
                "care.reply:42",
                "care.escalate:42",
                "care.offline:42",
                "care.close:42"
            ]
        );
        assert_eq!(
            card_marker(42),
            ids[0],
            "the marker is the Claim button's id"
        );
        assert_eq!(
            button_press("care.claim:42"),
            Some(Press::Command {
                case: 42,
                command: Command::Claim
            })
        );
        assert_eq!(
            button_press("care.close:7"),
            Some(Press::Modal {
                case: 7,
                kind: ModalKind::Close
            })
        );
        assert_eq!(
            button_press("care.offline:7"),
            Some(Press::Modal {
                case: 7,
                kind: ModalKind::Offline
            })
        );
        for bad in [
            "care.claim",
            "care.claim:",
            "care.claim:-1",
            "other:1",
            "care.claim:x",
        ] {
            assert_eq!(button_press(bad), None, "{bad}");
        }
    }

    #[test]
    fn modals_fit_discords_limits() {
        for kind in ModalKind::ALL {
            let modal = serde_json::to_value(modal(kind, u64::MAX)).unwrap();
            assert!(modal["title"].as_str().unwrap().chars().count() <= limits::MODAL_TITLE);
            assert!(modal["custom_id"].as_str().unwrap().len() <= 100);
            let rows = modal["components"].as_array().unwrap();
            assert!((1..=5).contains(&rows.len()));
            for row in rows {
                let input = &row["components"][0];
                assert!(input["label"].as_str().unwrap().chars().count() <= limits::MODAL_TITLE);
                assert!(input["placeholder"].as_str().unwrap().chars().count() <= 100);
            }
        }
    }

    #[test]
    fn submissions_become_commands() {
        assert_eq!(
            submission("care.reply:42", &pairs(&[("text", " Sorry! ")])),
            Ok((
                42,
                Command::Reply {
                    text: "Sorry!".into()
                }
            ))
        );
        assert_eq!(
            submission(
                "care.offline:3",
                &pairs(&[("channel", "Email"), ("address", "")])
            ),
            Ok((
                3,
                Command::Offline {
                    channel: OfflineChannel::Email,
                    address: None
                }
            ))
        );
        assert_eq!(
            submission("care.close:3", &[]),
            Ok((3, Command::Close { note: None }))
        );
        let Err(SubmissionError::Invalid { case, errors }) = submission(
            "care.escalate:5",
            &pairs(&[("team", " "), ("reason", "why")]),
        ) else {
            panic!("a blank team must be refused");
        };
        assert_eq!(case, 5);
        assert!(form_errors(&errors).contains("**Team**"));
        let Err(SubmissionError::Invalid { errors, .. }) =
            submission("care.offline:5", &pairs(&[("channel", "pigeon")]))
        else {
            panic!("an unknown channel must be refused");
        };
        assert!(errors.contains_key(input::CHANNEL));
        assert!(matches!(
            submission("care.unknown:5", &[]),
            Err(SubmissionError::Unknown(_))
        ));
        assert!(matches!(
            submission("care.reply", &[]),
            Err(SubmissionError::Unknown(_))
        ));
    }

    #[test]
    fn long_text_splits_under_2000_on_lines() {
        let line = "x".repeat(99);
        let body = vec![line; 25].join("\n"); // 2,499 characters
        let parts = messages(&body);
        assert_eq!(parts.len(), 2);
        assert!(parts.iter().all(|p| width(p) <= limits::CONTENT));
        assert!(parts.iter().all(|p| p.lines().all(|l| l.len() == 99)));
    }

    #[test]
    fn mentions_are_users_or_inert() {
        assert_eq!(mention("1600000000000000001"), "<@1600000000000000001>");
        assert_eq!(mention("everyone"), "@everyone");
        assert_eq!(mention("&123"), "@&123");
        let allowed = serde_json::to_value(allowed_mentions()).unwrap();
        assert_eq!(allowed["parse"], serde_json::json!(["users"]));
    }
}

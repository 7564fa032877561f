//! Slack presentation for carebridge, as pure functions over slack-morphism's
//! typed Block Kit models.
//!
//! Owns:
//! - safe mrkdwn: escaping untrusted text so it can never ping or link, and
//!   turning carebridge's own mention tokens ([`Mentions`]) into real mentions;
//! - the case card's blocks ([`card_blocks`]) and its fallback text;
//! - the action modals ([`modal`]) and mapping their `view_submission` back to
//!   engine [`Command`]s ([`submission`]);
//! - splitting long thread messages under Slack's limits ([`chunks`]).
//!
//! Holds no workflow rules: which actions are allowed on which case, by whom,
//! and what they do is the engine's business; the card always offers every
//! button and the engine refuses what does not apply. All wording comes from
//! [`crate::text::slack`]. No I/O.
//!
//! Lengths are measured with [`width`] (UTF-16 code units). Slack does not say
//! which unit its limits count; UTF-16 units are never fewer than chars, so a
//! text within our width is within Slack's limit whichever unit it uses.

use std::fmt;

use slack_morphism::prelude::{
    SlackActionBlockElement, SlackActionId, SlackActionsBlock, SlackBlock, SlackBlockButtonElement,
    SlackBlockButtonStyle, SlackBlockChoiceItem, SlackBlockConfirmItem, SlackBlockId,
    SlackBlockMarkDownText, SlackBlockPlainText, SlackBlockPlainTextInputElement,
    SlackBlockPlainTextOnly, SlackBlockStaticSelectElement, SlackBlockText, SlackCallbackId,
    SlackContextBlock, SlackContextBlockElement, SlackHeaderBlock, SlackInputBlock,
    SlackInputBlockElement, SlackModalView, SlackSectionBlock, SlackView, SlackViewState,
    SlackViewSubmissionErrorsResponse, SlackViewSubmissionResponse,
};

use crate::chat::form;
pub use crate::chat::form::{
    CardButton, FieldErrors, KIND_DM, KIND_NOTE, KIND_REPLY, ModalKind, input,
};
pub use crate::chat::split::chunks;
use crate::chat::split::{ELLIPSIS, TOKEN_CLOSE, TOKEN_OPEN, atoms, cut_plain, width};
use crate::engine::{Command, OfflineChannel};
use crate::text::Card;
use crate::text::slack as words;

/// Slack's limits as applied here, and the budgets we chose under them.
///
/// Documented by Slack (Block Kit reference): header, section, fields, button,
/// option, confirm, modal and input limits. Marked "ours" where we picked the
/// number; marked "guess" where Slack publishes nothing firm.
pub mod limits {
    /// Blocks per message.
    pub const BLOCKS: usize = 50;
    /// Header block text.
    pub const HEADER_TEXT: usize = 150;
    /// Section block text (any text object, in fact).
    pub const SECTION_TEXT: usize = 3000;
    /// Fields per section block.
    pub const SECTION_FIELDS: usize = 10;
    /// Each section field's text.
    pub const FIELD_TEXT: usize = 2000;
    /// `block_id`, `action_id` and `callback_id`.
    pub const ID: usize = 255;
    /// Button text.
    pub const BUTTON_TEXT: usize = 75;
    /// Button value.
    pub const BUTTON_VALUE: usize = 2000;
    /// Confirm dialog title.
    pub const CONFIRM_TITLE: usize = 100;
    /// Confirm dialog text.
    pub const CONFIRM_TEXT: usize = 300;
    /// Confirm dialog confirm/deny buttons.
    pub const CONFIRM_BUTTON: usize = 30;
    /// Option object text (select options).
    pub const OPTION_TEXT: usize = 75;
    /// Modal title.
    pub const MODAL_TITLE: usize = 24;
    /// Modal submit/close button text.
    pub const MODAL_BUTTON: usize = 24;
    /// Input block label.
    pub const INPUT_LABEL: usize = 2000;
    /// Input block hint.
    pub const INPUT_HINT: usize = 2000;
    /// Element placeholder.
    pub const PLACEHOLDER: usize = 150;
    /// `plain_text_input` `max_length`.
    pub const TEXT_INPUT: usize = 3000;

    /// Ours/guess: total text across one card's blocks. Slack rejects
    /// messages whose blocks hold too much text (`msg_blocks_too_long`) at an
    /// undocumented threshold; reports put it between ~9.6k (accepted) and
    /// ~11.3k (rejected) characters. 8,000 stays clear of it.
    pub const CARD_TEXT_BUDGET: usize = 8000;
    /// Ours: total text of all card fields together (each also ≤ [`FIELD_TEXT`]).
    pub const CARD_FIELDS_BUDGET: usize = 3000;
    /// Ours: at most this many field sections (10 fields each); more fields are dropped.
    pub const CARD_FIELD_SECTIONS: usize = 4;
    /// Ours: header and modal context line length for the case title.
    pub const TITLE: usize = HEADER_TEXT;
    /// Ours: permalinks longer than this are left off the card.
    pub const LINK: usize = 1000;
    /// Ours: the card message's notification/fallback text.
    pub const FALLBACK: usize = 300;
    /// Ours: how much of the customer's post the fallback quotes.
    pub const FALLBACK_SNIPPET: usize = 100;
    /// Ours: team name input on the escalate modal.
    pub const TEAM_INPUT: usize = 100;
    /// Ours: address input on the offline modal (an email address is ≤ 254).
    pub const ADDRESS_INPUT: usize = 320;
    /// Ours/guess: the longest Slack id we turn into a mention (real ones are ~9–11).
    pub const MENTION_ID: usize = 32;
}

// ----- Safe mrkdwn ----------------------------------------------------------

/// Nonce length: 20 alphanumerics ≈ 119 bits, far beyond guessing.
const NONCE_LEN: usize = 20;

/// Escapes `&`, `<` and `>`, the only characters Slack decodes, so the text
/// can hold no `<!channel>`, `<@U…>`, `<#C…>` or `<url|label>` sequences.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            _ => out.push(c),
        }
    }
    out
}

/// Mentions of Slack users inside carebridge's own text.
///
/// The text layer writes a mention as [`Mentions::token`], an opaque sentinel
/// carrying a per-process random nonce. [`Mentions::mrkdwn`] escapes all text
/// and only then turns tokens with *this* nonce into live mentions, so text
/// from customers (who never see the nonce) cannot ping anyone, even if it
/// imitates a token.
#[derive(Clone)]
pub struct Mentions {
    nonce: String,
}

/// What a token refers to.
enum Target<'a> {
    /// A user (`U…`/`W…`).
    User(&'a str),
    /// A user group (`S…`).
    Group(&'a str),
    /// A channel (`C…`/`G…`): a link, never a ping.
    Channel(&'a str),
    /// Not a Slack id: shown as text, never linked.
    Other(&'a str),
}

/// Text split around the valid tokens in it.
enum Piece<'a> {
    Text(&'a str),
    Mention(Target<'a>),
}

impl Default for Mentions {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Mentions {
    // The nonce is what makes tokens unforgeable: keep it out of logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mentions").finish_non_exhaustive()
    }
}

impl Mentions {
    /// A fresh random nonce (one per process is enough).
    pub fn new() -> Self {
        let nonce = std::iter::repeat_with(fastrand::alphanumeric)
            .take(NONCE_LEN)
            .collect();
        Self { nonce }
    }

    #[cfg(test)]
    /// A fixed nonce, for tests and reproducible output. Only ASCII letters
    /// and digits are kept (a `:` or sentinel in the nonce would make tokens
    /// ambiguous); if none remain, a random nonce is used instead.
    pub fn with_nonce(nonce: &str) -> Self {
        let nonce: String = nonce.chars().filter(char::is_ascii_alphanumeric).collect();
        if nonce.is_empty() {
            Self::new()
        } else {
            Self { nonce }
        }
    }

    /// The token for a mention of `user_id`; use this as the text layer's
    /// mention formatter on Slack. A channel id (`C…`/`G…`) works too and
    /// becomes a channel link.
    pub fn token(&self, user_id: &str) -> String {
        format!("{TOKEN_OPEN}{}:{user_id}{TOKEN_CLOSE}", self.nonce)
    }

    /// `text` as safe mrkdwn: everything escaped, valid tokens as mentions
    /// (`<@U…>`, `<!subteam^S…>`, `<#C…>`); a token for something that is not a Slack
    /// id becomes an inert `@id`; tokens with another nonce stay inert text.
    pub fn mrkdwn(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        for piece in self.pieces(text) {
            match piece {
                Piece::Text(t) => out.push_str(&escape(t)),
                Piece::Mention(Target::User(id)) => {
                    out.push_str("<@");
                    out.push_str(id);
                    out.push('>');
                }
                Piece::Mention(Target::Group(id)) => {
                    out.push_str("<!subteam^");
                    out.push_str(id);
                    out.push('>');
                }
                Piece::Mention(Target::Channel(id)) => {
                    out.push_str("<#");
                    out.push_str(id);
                    out.push('>');
                }
                Piece::Mention(Target::Other(id)) => {
                    out.push('@');
                    out.push_str(&escape(id));
                }
            }
        }
        out
    }

    /// `text` for a `plain_text` object (which Slack never parses): valid
    /// tokens become a readable `@id`, everything else is unchanged.
    pub fn plain(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        for piece in self.pieces(text) {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Mention(Target::Channel(id)) => {
                    out.push('#');
                    out.push_str(id);
                }
                Piece::Mention(Target::User(id) | Target::Group(id) | Target::Other(id)) => {
                    out.push('@');
                    out.push_str(id);
                }
            }
        }
        out
    }

    /// Splits `text` into plain runs and valid tokens. A token is
    /// OPEN nonce ':' id CLOSE with no other sentinel inside; anything else
    /// (a stray OPEN, a wrong nonce, an empty id) stays text.
    fn pieces<'a>(&self, text: &'a str) -> Vec<Piece<'a>> {
        let mut pieces = Vec::new();
        let mut rest = text;
        let mut search_from = 0;
        while let Some(found) = rest[search_from..].find(TOKEN_OPEN) {
            let open = search_from + found;
            let body_start = open + TOKEN_OPEN.len_utf8();
            let body = &rest[body_start..];
            let token = body
                .find([TOKEN_OPEN, TOKEN_CLOSE])
                .filter(|&end| body[end..].starts_with(TOKEN_CLOSE))
                .and_then(|end| {
                    let id = body[..end]
                        .strip_prefix(self.nonce.as_str())?
                        .strip_prefix(':')?;
                    (!id.is_empty()).then_some((id, body_start + end + TOKEN_CLOSE.len_utf8()))
                });
            match token {
                Some((id, after)) => {
                    if open > 0 {
                        pieces.push(Piece::Text(&rest[..open]));
                    }
                    pieces.push(Piece::Mention(classify(id)));
                    rest = &rest[after..];
                    search_from = 0;
                }
                // Not a token: keep the OPEN as text and look for the next one.
                None => search_from = body_start,
            }
        }
        if !rest.is_empty() {
            pieces.push(Piece::Text(rest));
        }
        pieces
    }
}

/// `text` for a `plain_text` object when no [`Mentions`] is at hand: any
/// token-shaped span, whatever its nonce, becomes `@id`. Safe because Slack
/// never parses plain_text, and it keeps nonces off the screen.
fn plain_any(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find(TOKEN_OPEN) {
        out.push_str(&rest[..open]);
        let body = &rest[open + TOKEN_OPEN.len_utf8()..];
        let id = body
            .find([TOKEN_OPEN, TOKEN_CLOSE])
            .filter(|&end| body[end..].starts_with(TOKEN_CLOSE))
            .and_then(|end| Some((body[..end].split_once(':')?.1, end)));
        match id {
            Some((id, end)) => {
                out.push('@');
                out.push_str(id);
                rest = &body[end + TOKEN_CLOSE.len_utf8()..];
            }
            None => {
                out.push(TOKEN_OPEN);
                rest = body;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Slack ids are upper-case letters and digits after a type letter: `U`/`W`
/// for users, `S` for user groups, `C`/`G` for channels.
fn classify(id: &str) -> Target<'_> {
    let shaped = id.len() >= 2
        && id.len() <= limits::MENTION_ID
        && id
            .bytes()
            .skip(1)
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    match id.as_bytes().first() {
        Some(b'U' | b'W') if shaped => Target::User(id),
        Some(b'S') if shaped => Target::Group(id),
        Some(b'C' | b'G') if shaped => Target::Channel(id),
        _ => Target::Other(id),
    }
}

// ----- Cutting to limits ----------------------------------------------------

/// `s` cut to `max` width with an ellipsis, never inside a mention, link or
/// entity (a half `<@U12` or `&am` would render as garbage or worse).
fn cut_mrkdwn(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_owned();
    }
    let budget = max.saturating_sub(1);
    let mut out = String::new();
    let mut used = 0;
    for atom in atoms(s) {
        let w = width(atom);
        if used + w > budget {
            break;
        }
        out.push_str(atom);
        used += w;
    }
    if max > 0 {
        out.push(ELLIPSIS);
    }
    out
}

// ----- Text objects ---------------------------------------------------------

/// A mrkdwn text object. `verbatim` stops Slack's automatic parsing (bare
/// URLs, channel names and "certain mentions" in plain text becoming links or
/// pings) while still honouring the `<…>` sequences we wrote on purpose.
fn md(text: String) -> SlackBlockText {
    SlackBlockText::MarkDown(SlackBlockMarkDownText::new(text).with_verbatim(true))
}

/// A plain_text-only text object cut to `max`.
fn pt(text: &str, max: usize) -> SlackBlockPlainTextOnly {
    SlackBlockPlainTextOnly::from(cut_plain(text, max))
}

/// A plain_text text object cut to `max`.
fn pt_text(text: &str, max: usize) -> SlackBlockText {
    SlackBlockText::Plain(SlackBlockPlainText::new(cut_plain(text, max)))
}

// ----- Case card ------------------------------------------------------------

/// `block_id` of the card's actions block.
pub const CARD_ACTIONS_BLOCK: &str = "care.card";

/// A card button press (`block_actions`): which button, on which case (the
/// button's `value`). `None` for anything that is not one of our buttons or
/// whose value is not a case number.
pub fn button_press(action_id: &str, value: Option<&str>) -> Option<(u64, CardButton)> {
    let button = CardButton::from_action_id(action_id)?;
    let case = value?.parse().ok()?;
    Some((case, button))
}

/// The Block Kit blocks of a case card: header (title), field section(s),
/// the customer's post quoted, the permalink, and the action buttons.
///
/// Every text is escaped and cut to Slack's limits and to
/// [`limits::CARD_TEXT_BUDGET`] overall, whatever the card holds.
pub fn card_blocks(m: &Mentions, case_number: u64, card: &Card) -> Vec<SlackBlock> {
    let mut blocks = Vec::new();

    // Headers are one line and Slack rejects empty ones.
    let title = one_line(&m.plain(&card.title));
    let title = if title.is_empty() {
        words::card_title_fallback(case_number)
    } else {
        title
    };
    blocks.push(SlackHeaderBlock::new(pt(&title, limits::TITLE)).into());

    for fields in field_sections(m, &card.fields) {
        blocks.push(SlackSectionBlock::new().with_fields(fields).into());
    }

    // The customer's text gets plain escaping, not `m.mrkdwn`: nothing a
    // customer wrote may ever become a mention, not even a valid token.
    let text = card.text.trim();
    let body = if text.is_empty() {
        escape(words::NO_TEXT)
    } else {
        quote(&escape(text))
    };
    blocks.push(
        SlackSectionBlock::new()
            .with_text(md(cut_mrkdwn(&body, limits::SECTION_TEXT)))
            .into(),
    );

    if let Some(url) = card.link.as_deref().and_then(safe_link) {
        let link = format!("<{url}|{}>", escape(words::PERMALINK_LABEL));
        let element = SlackContextBlockElement::MarkDown(
            SlackBlockMarkDownText::new(link).with_verbatim(true),
        );
        blocks.push(SlackContextBlock::new(vec![element]).into());
    }

    let buttons = CardButton::ALL
        .into_iter()
        .map(|b| SlackActionBlockElement::Button(button(b, case_number)))
        .collect();
    blocks.push(
        SlackActionsBlock::new(buttons)
            .with_block_id(SlackBlockId(CARD_ACTIONS_BLOCK.to_owned()))
            .into(),
    );
    blocks
}

/// The card message's top-level `text`: what notifications and clients that
/// cannot show blocks display. Title and the start of the post, escaped.
pub fn card_fallback(m: &Mentions, card: &Card) -> String {
    // One line, so the notification shows words rather than line breaks.
    let title = cut_mrkdwn(&m.mrkdwn(&one_line(&card.title)), limits::TITLE);
    let snippet = cut_mrkdwn(&escape(&one_line(&card.text)), limits::FALLBACK_SNIPPET);
    cut_mrkdwn(&words::card_fallback(&title, &snippet), limits::FALLBACK)
}

/// `text` with every run of whitespace (newlines included) as one space, trimmed.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Field texts grouped into sections of at most 10, within the field budget.
fn field_sections(m: &Mentions, fields: &[(&'static str, String)]) -> Vec<Vec<SlackBlockText>> {
    let max_fields = limits::SECTION_FIELDS * limits::CARD_FIELD_SECTIONS;
    let texts: Vec<String> = fields
        .iter()
        .take(max_fields)
        .map(|(label, value)| {
            let field = format!("*{}*\n{}", escape(label), m.mrkdwn(value.trim()));
            cut_mrkdwn(&field, limits::FIELD_TEXT)
        })
        .collect();
    let cap = fair_cap(
        &texts.iter().map(|t| width(t)).collect::<Vec<_>>(),
        limits::CARD_FIELDS_BUDGET,
    );
    let texts: Vec<SlackBlockText> = texts.iter().map(|t| md(cut_mrkdwn(t, cap))).collect();
    texts
        .chunks(limits::SECTION_FIELDS)
        .map(<[SlackBlockText]>::to_vec)
        .collect()
}

/// The largest per-item cap `c` with Σ min(wᵢ, c) ≤ `budget`: short fields
/// keep all their text and only the long ones are cut to share what is left.
fn fair_cap(widths: &[usize], budget: usize) -> usize {
    let total = |c: usize| widths.iter().map(|&w| w.min(c)).sum::<usize>();
    let top = widths.iter().copied().max().unwrap_or(0);
    if total(top) <= budget {
        return top;
    }
    let (mut lo, mut hi) = (0, top); // total(lo) ≤ budget < total(hi)
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if total(mid) <= budget {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}

/// Escaped text as a mrkdwn block quote. The marker is a raw `>`: a lone `>`
/// cannot start a `<…>` sequence, and Slack only reads it at a line start.
fn quote(escaped: &str) -> String {
    escaped
        .lines()
        .map(|line| format!(">{line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The permalink, escaped for use inside `<url|label>`, if it is safe to link:
/// http(s) only, no `|`, `<`, `>`, whitespace or control characters, and not
/// absurdly long. Anything else is left off rather than repaired.
fn safe_link(url: &str) -> Option<String> {
    let url = url.trim();
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &url[8..]
    } else if lower.starts_with("http://") {
        &url[7..]
    } else {
        return None;
    };
    let clean = !rest.is_empty()
        && width(url) <= limits::LINK
        && !url
            .chars()
            .any(|c| matches!(c, '|' | '<' | '>') || c.is_whitespace() || c.is_control());
    // Within `<…>` only `&` needs escaping (`<`, `>` and `|` are already refused).
    clean.then(|| url.replace('&', "&amp;"))
}

/// One card button; its value is the case number so a click needs no lookup
/// of which card it came from.
fn button(b: CardButton, case_number: u64) -> SlackBlockButtonElement {
    let element = SlackBlockButtonElement::new(pt(b.label(), limits::BUTTON_TEXT))
        .with_action_id(SlackActionId(b.action_id().to_owned()))
        .with_value(case_number.to_string());
    match b {
        CardButton::Claim => element.with_style(SlackBlockButtonStyle::Primary),
        CardButton::Close => element.with_confirm(
            SlackBlockConfirmItem::new(
                pt(words::CLOSE_CONFIRM_TITLE, limits::CONFIRM_TITLE),
                pt_text(
                    &words::close_confirm_text(case_number),
                    limits::CONFIRM_TEXT,
                ),
                pt(words::CLOSE_CONFIRM_YES, limits::CONFIRM_BUTTON),
                pt(words::CLOSE_CONFIRM_NO, limits::CONFIRM_BUTTON),
            )
            .with_style("danger".to_owned()),
        ),
        _ => element,
    }
}

/// The modal for `kind` on case `case_number` (for `views.open`). The case
/// number travels in `private_metadata`; `case_title` is shown at the top so
/// the agent knows which case this is (mention tokens in it show as `@id`).
pub fn modal(kind: ModalKind, case_number: u64, case_title: &str) -> SlackView {
    let mut blocks: Vec<SlackBlock> = Vec::new();
    let title_line = one_line(&plain_any(case_title));
    if !title_line.is_empty() {
        let element = SlackContextBlockElement::Plain(SlackBlockPlainText::new(cut_plain(
            &title_line,
            limits::TITLE,
        )));
        blocks.push(SlackContextBlock::new(vec![element]).into());
    }
    match kind {
        ModalKind::Reply => {
            blocks.push(text_input(TextInput {
                id: input::TEXT,
                label: words::REPLY_TEXT_LABEL,
                placeholder: words::REPLY_TEXT_PLACEHOLDER,
                hint: None,
                multiline: true,
                max_length: limits::TEXT_INPUT,
                optional: false,
            }));
            blocks.push(select_input(
                input::KIND,
                words::REPLY_KIND_LABEL,
                None,
                Some(words::REPLY_KIND_HINT),
                &[
                    (KIND_REPLY, words::REPLY_KIND_PUBLIC),
                    (KIND_DM, words::REPLY_KIND_DM),
                    (KIND_NOTE, words::REPLY_KIND_NOTE),
                ],
                Some(KIND_REPLY),
            ));
        }
        ModalKind::Escalate => {
            blocks.push(text_input(TextInput {
                id: input::TEAM,
                label: words::ESCALATE_TEAM_LABEL,
                placeholder: words::ESCALATE_TEAM_PLACEHOLDER,
                hint: None,
                multiline: false,
                max_length: limits::TEAM_INPUT,
                optional: false,
            }));
            blocks.push(text_input(TextInput {
                id: input::REASON,
                label: words::ESCALATE_REASON_LABEL,
                placeholder: words::ESCALATE_REASON_PLACEHOLDER,
                hint: None,
                multiline: true,
                max_length: limits::TEXT_INPUT,
                optional: true,
            }));
        }
        ModalKind::Offline => {
            blocks.push(select_input(
                input::CHANNEL,
                words::OFFLINE_CHANNEL_LABEL,
                Some(words::OFFLINE_CHANNEL_PLACEHOLDER),
                None,
                &[
                    (OfflineChannel::Email.key(), words::OFFLINE_CHANNEL_EMAIL),
                    (OfflineChannel::Sms.key(), words::OFFLINE_CHANNEL_SMS),
                    (OfflineChannel::Dm.key(), words::OFFLINE_CHANNEL_DM),
                ],
                None,
            ));
            blocks.push(text_input(TextInput {
                id: input::ADDRESS,
                label: words::OFFLINE_ADDRESS_LABEL,
                placeholder: words::OFFLINE_ADDRESS_PLACEHOLDER,
                hint: Some(words::OFFLINE_ADDRESS_HINT),
                multiline: false,
                max_length: limits::ADDRESS_INPUT,
                optional: true,
            }));
        }
        ModalKind::Close => {
            blocks.push(text_input(TextInput {
                id: input::NOTE,
                label: words::CLOSE_NOTE_LABEL,
                placeholder: words::CLOSE_NOTE_PLACEHOLDER,
                hint: None,
                multiline: true,
                max_length: limits::TEXT_INPUT,
                optional: true,
            }));
        }
    }

    SlackView::Modal(
        SlackModalView::new(modal_title(kind, case_number), blocks)
            .with_submit(pt(kind.submit(), limits::MODAL_BUTTON))
            .with_close(pt(words::MODAL_CANCEL, limits::MODAL_BUTTON))
            .with_callback_id(SlackCallbackId(kind.callback_id().to_owned()))
            .with_private_metadata(case_number.to_string()),
    )
}

/// "Reply · #123" when it fits the 24-char title, else just "Reply": a long
/// case number must not push the modal past Slack's limit.
fn modal_title(kind: ModalKind, case_number: u64) -> SlackBlockPlainTextOnly {
    let full = words::modal_title(kind.title(), case_number);
    if width(&full) <= limits::MODAL_TITLE {
        SlackBlockPlainTextOnly::from(full)
    } else {
        pt(kind.title(), limits::MODAL_TITLE)
    }
}

/// A plain_text_input in an input block.
struct TextInput<'a> {
    id: &'a str,
    label: &'a str,
    placeholder: &'a str,
    hint: Option<&'a str>,
    multiline: bool,
    max_length: usize,
    optional: bool,
}

fn text_input(spec: TextInput<'_>) -> SlackBlock {
    let element = SlackBlockPlainTextInputElement::new()
        .with_action_id(SlackActionId(spec.id.to_owned()))
        .with_placeholder(pt(spec.placeholder, limits::PLACEHOLDER))
        .with_multiline(spec.multiline)
        .with_max_length(spec.max_length as u64);
    input_block(
        spec.id,
        spec.label,
        spec.hint,
        spec.optional,
        SlackInputBlockElement::PlainTextInput(element),
    )
}

/// A required static_select in an input block; `options` are (value, label).
fn select_input(
    id: &str,
    label: &str,
    placeholder: Option<&str>,
    hint: Option<&str>,
    options: &[(&str, &str)],
    initial: Option<&str>,
) -> SlackBlock {
    let option = |(value, text): &(&str, &str)| {
        SlackBlockChoiceItem::new(pt(text, limits::OPTION_TEXT), (*value).to_owned())
    };
    let mut element = SlackBlockStaticSelectElement::new()
        .with_action_id(SlackActionId(id.to_owned()))
        .with_options(options.iter().map(option).collect());
    if let Some(p) = placeholder {
        element = element.with_placeholder(pt(p, limits::PLACEHOLDER));
    }
    if let Some(first) = options.iter().find(|(v, _)| Some(*v) == initial) {
        element = element.with_initial_option(option(first));
    }
    input_block(
        id,
        label,
        hint,
        false,
        SlackInputBlockElement::StaticSelect(element),
    )
}

fn input_block(
    id: &str,
    label: &str,
    hint: Option<&str>,
    optional: bool,
    element: SlackInputBlockElement,
) -> SlackBlock {
    let mut block = SlackInputBlock::new(pt(label, limits::INPUT_LABEL), element)
        .with_block_id(SlackBlockId(id.to_owned()))
        .with_optional(optional);
    if let Some(h) = hint {
        block = block.with_hint(pt(h, limits::INPUT_HINT));
    }
    block.into()
}

// ----- Submissions ----------------------------------------------------------

/// Why a `view_submission` did not become a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubmissionError {
    /// The person must fix these inputs: answer with [`errors_response`] so
    /// Slack keeps the modal open and shows them.
    Invalid(FieldErrors),
    /// Not one of our modals (the `callback_id`, cut for logging).
    UnknownCallback(String),
    /// `private_metadata` is not a case number (cut for logging).
    BadMetadata(String),
}

impl SubmissionError {
    /// The errors to show in the modal, if the person can fix this.
    pub fn field_errors(&self) -> Option<&FieldErrors> {
        match self {
            SubmissionError::Invalid(errors) => Some(errors),
            _ => None,
        }
    }
}

impl fmt::Display for SubmissionError {
    // Operator-facing (logs), not shown to agents.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SubmissionError::Invalid(errors) => {
                write!(f, "view submission has {} invalid input(s)", errors.len())
            }
            SubmissionError::UnknownCallback(id) => {
                write!(f, "view submission with unknown callback_id {id:?}")
            }
            SubmissionError::BadMetadata(meta) => {
                write!(
                    f,
                    "view submission private_metadata {meta:?} is not a case number"
                )
            }
        }
    }
}

impl std::error::Error for SubmissionError {}

/// How much of a bad `callback_id`/metadata we keep for logs.
const LOGGED: usize = 100;

/// Maps a modal submission (`view.callback_id`, `view.private_metadata`,
/// `view.state`; pass an empty state if Slack sent none) to the case number
/// and the engine command it asks for.
/// Blank required inputs and unknown choices become [`SubmissionError::Invalid`].
/// Never panics, whatever the payload holds.
pub fn submission(
    callback_id: &str,
    private_metadata: &str,
    state: &SlackViewState,
) -> Result<(u64, Command), SubmissionError> {
    let kind = ModalKind::from_callback_id(callback_id)
        .ok_or_else(|| SubmissionError::UnknownCallback(cut_plain(callback_id, LOGGED)))?;
    // Digits only: we wrote it with `u64::to_string`, so a sign or spaces mean
    // it is not ours.
    let case: u64 = Some(private_metadata)
        .filter(|meta| meta.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|meta| meta.parse().ok())
        .ok_or_else(|| SubmissionError::BadMetadata(cut_plain(private_metadata, LOGGED)))?;
    // Slack's state: `values[block_id][action_id]`, one id for both here.
    let lookup = |id: &str| {
        let value = state
            .values
            .get(&SlackBlockId(id.to_owned()))?
            .get(&SlackActionId(id.to_owned()))?;
        match &value.selected_option {
            Some(option) => Some(option.value.as_str()),
            None => value.value.as_deref(),
        }
    };
    form::command(kind, &lookup, FORM_LIMITS)
        .map(|command| (case, command))
        .map_err(SubmissionError::Invalid)
}

/// What Slack's inputs hold (`plain_text_input` `max_length`, ours for the rest).
const FORM_LIMITS: form::Limits = form::Limits {
    text: limits::TEXT_INPUT,
    team: limits::TEAM_INPUT,
    address: limits::ADDRESS_INPUT,
};

/// The `view_submission` response that shows `errors` under their inputs:
/// `{"response_action":"errors","errors":{block_id: message}}`.
pub fn errors_response(errors: &FieldErrors) -> serde_json::Value {
    serde_json::json!({ "response_action": "errors", "errors": errors })
}

/// The same response as slack-morphism's typed value, for interaction
/// handlers that return a `SlackViewSubmissionResponse`.
pub fn errors_view_response(errors: &FieldErrors) -> SlackViewSubmissionResponse {
    SlackViewSubmissionResponse::Errors(SlackViewSubmissionErrorsResponse::new(errors.clone()))
}

// ----- Long messages --------------------------------------------------------

/// A message's top-level `text` (notifications, clients without blocks):
/// the start of its first section, already mrkdwn, cut at a safe place.
pub fn notification(section: &str) -> String {
    cut_mrkdwn(section, limits::FALLBACK)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use proptest::prelude::*;

    fn mentions() -> Mentions {
        Mentions::with_nonce("testnonce123")
    }

    fn card(
        title: &str,
        fields: Vec<(&'static str, String)>,
        text: &str,
        link: Option<&str>,
    ) -> Card {
        Card {
            title: title.to_owned(),
            fields,
            text: text.to_owned(),
            link: link.map(str::to_owned),
        }
    }

    fn plain_card(m: &Mentions) -> Card {
        card(
            "#42 · X · @bob",
            vec![
                ("Network", "X · acme · mention".to_owned()),
                ("Owner", m.token("U024BE7LH")),
            ],
            "My order <!channel> & stuff",
            Some("https://x.com/bob/status/1?a=1&b=2"),
        )
    }

    /// Every text string in the serialised blocks, with the JSON key it sits under.
    fn texts(value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    if k == "text"
                        && let Some(s) = v.as_str()
                    {
                        out.push(s.to_owned());
                    }
                    texts(v, out);
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| texts(v, out)),
            _ => {}
        }
    }

    fn text_of(t: &SlackBlockText) -> &str {
        match t {
            SlackBlockText::Plain(p) => &p.text,
            SlackBlockText::MarkDown(m) => &m.text,
        }
    }

    fn plain_only(t: &SlackBlockPlainTextOnly) -> String {
        text_of(&SlackBlockText::from(t.clone())).to_owned()
    }

    /// Asserts every Block Kit limit we know of on a card's blocks.
    fn assert_card_limits(blocks: &[SlackBlock]) {
        assert!(blocks.len() <= limits::BLOCKS);
        for block in blocks {
            match block {
                SlackBlock::Header(h) => {
                    let t = plain_only(&h.text);
                    assert!(!t.is_empty());
                    assert!(width(&t) <= limits::HEADER_TEXT, "header {}", width(&t));
                }
                SlackBlock::Section(s) => {
                    assert!(s.text.is_some() || s.fields.is_some());
                    if let Some(t) = &s.text {
                        let t = text_of(t);
                        assert!(!t.is_empty());
                        assert!(width(t) <= limits::SECTION_TEXT, "section {}", width(t));
                    }
                    if let Some(fields) = &s.fields {
                        assert!(!fields.is_empty() && fields.len() <= limits::SECTION_FIELDS);
                        for f in fields {
                            let f = text_of(f);
                            assert!(!f.is_empty() && width(f) <= limits::FIELD_TEXT);
                        }
                    }
                }
                SlackBlock::Context(c) => {
                    for e in &c.elements {
                        if let SlackContextBlockElement::MarkDown(t) = e {
                            assert!(width(&t.text) <= limits::SECTION_TEXT);
                        }
                    }
                }
                SlackBlock::Actions(a) => {
                    let id = a.block_id.as_ref().unwrap();
                    assert!(id.0.len() <= limits::ID);
                    for e in &a.elements {
                        let SlackActionBlockElement::Button(b) = e else {
                            panic!("only buttons")
                        };
                        assert!(width(&plain_only(&b.text)) <= limits::BUTTON_TEXT);
                        assert!(b.action_id.as_ref().unwrap().0.len() <= limits::ID);
                        assert!(b.value.as_ref().unwrap().len() <= limits::BUTTON_VALUE);
                        if let Some(c) = &b.confirm {
                            assert!(width(&plain_only(&c.title)) <= limits::CONFIRM_TITLE);
                            assert!(width(text_of(&c.text)) <= limits::CONFIRM_TEXT);
                            assert!(width(&plain_only(&c.confirm)) <= limits::CONFIRM_BUTTON);
                            assert!(width(&plain_only(&c.deny)) <= limits::CONFIRM_BUTTON);
                        }
                    }
                }
                other => panic!("unexpected block {other:?}"),
            }
        }
        let json = serde_json::to_value(blocks).unwrap();
        let mut all = Vec::new();
        texts(&json, &mut all);
        let total: usize = all.iter().map(|t| width(t)).sum();
        assert!(total <= limits::CARD_TEXT_BUDGET, "card text {total}");
        // And slack-morphism reads back what it wrote.
        let back: Vec<SlackBlock> = serde_json::from_value(json).unwrap();
        assert_eq!(back, blocks);
    }

    // ----- mrkdwn ---------------------------------------------------------

    #[test]
    fn escape_neutralises_control_sequences() {
        assert_eq!(
            escape("<!channel> & <@U1> <#C1> <http://x|y>"),
            "&lt;!channel&gt; &amp; &lt;@U1&gt; &lt;#C1&gt; &lt;http://x|y&gt;"
        );
    }

    #[test]
    fn valid_tokens_become_mentions() {
        let m = mentions();
        let text = format!(
            "{} and {} ask {} & <!here>",
            m.token("U024BE7LH"),
            m.token("W123"),
            m.token("S0614TZR7")
        );
        assert_eq!(
            m.mrkdwn(&text),
            "<@U024BE7LH> and <@W123> ask <!subteam^S0614TZR7> &amp; &lt;!here&gt;"
        );
        assert_eq!(
            m.plain(&text),
            "@U024BE7LH and @W123 ask @S0614TZR7 & <!here>"
        );
    }

    #[test]
    fn channel_tokens_become_links() {
        let m = mentions();
        assert_eq!(m.mrkdwn(&m.token("C024BE91L")), "<#C024BE91L>");
        assert_eq!(m.mrkdwn(&m.token("G1")), "<#G1>");
        assert_eq!(m.plain(&m.token("C024BE91L")), "#C024BE91L");
    }

    #[test]
    fn plain_any_hides_every_token() {
        let m = mentions();
        let other = Mentions::with_nonce("other");
        let text = format!("{} {} {TOKEN_OPEN}x", m.token("U1"), other.token("bob"));
        assert_eq!(plain_any(&text), format!("@U1 @bob {TOKEN_OPEN}x"));
        let SlackView::Modal(v) = modal(ModalKind::Reply, 1, &text) else {
            panic!()
        };
        let SlackBlock::Context(c) = &v.blocks[0] else {
            panic!()
        };
        let SlackContextBlockElement::Plain(p) = &c.elements[0] else {
            panic!()
        };
        assert_eq!(p.text, format!("@U1 @bob {TOKEN_OPEN}x"));
    }

    #[test]
    fn tokens_for_non_ids_are_inert() {
        let m = mentions();
        for id in [
            "alice",
            "u123",
            "U",
            "D123",
            "c123",
            "U12>3",
            "U1 <!channel>",
            &"U".repeat(40),
        ] {
            let out = m.mrkdwn(&m.token(id));
            assert!(!out.contains('<'), "{id:?} -> {out:?}");
            assert!(out.starts_with('@'));
        }
    }

    #[test]
    fn forged_tokens_stay_inert() {
        let m = mentions();
        let other = Mentions::with_nonce("guess");
        let forged = [
            other.token("U123"),
            format!("{TOKEN_OPEN}:U123{TOKEN_CLOSE}"),
            format!("{TOKEN_OPEN}testnonce12:U123{TOKEN_CLOSE}"),
            format!("{TOKEN_OPEN}testnonce123U123{TOKEN_CLOSE}"),
            format!("{TOKEN_OPEN}testnonce123:{TOKEN_CLOSE}"),
            format!("{TOKEN_OPEN}testnonce123:U123"),
            format!("{TOKEN_OPEN}x{TOKEN_OPEN}testnonce12:U1{TOKEN_CLOSE}"),
        ];
        for f in forged {
            assert!(!m.mrkdwn(&f).contains('<'), "{f:?}");
        }
        // A stray sentinel before a real token does not swallow it.
        let mixed = format!("{TOKEN_OPEN}junk {}", m.token("U1"));
        assert!(m.mrkdwn(&mixed).ends_with("junk <@U1>"));
    }

    #[test]
    fn random_nonces_differ_and_debug_hides_them() {
        let (a, b) = (Mentions::new(), Mentions::new());
        assert_ne!(a.token("U1"), b.token("U1"));
        assert!(!a.mrkdwn(&b.token("U1")).contains('<'));
        assert!(!format!("{a:?}").contains(&a.nonce));
        // A nonce with nothing usable falls back to a random one.
        assert_eq!(Mentions::with_nonce(":\u{E001}").nonce.len(), NONCE_LEN);
    }

    proptest! {
        #[test]
        fn untrusted_mrkdwn_has_no_control_sequences(s in any::<String>(), t in "[<>&!@#|\u{E000}\u{E001}:a-zA-Z0-9 ]{0,60}") {
            let m = Mentions::new();
            for input in [s, t] {
                let out = m.mrkdwn(&input);
                prop_assert!(!out.contains('<') && !out.contains('>'));
                // every & starts one of our entities
                for (i, _) in out.match_indices('&') {
                    let rest = &out[i..];
                    prop_assert!(rest.starts_with("&amp;") || rest.starts_with("&lt;") || rest.starts_with("&gt;"));
                }
            }
        }

        #[test]
        fn only_valid_tokens_make_angle_brackets(
            parts in proptest::collection::vec(
                prop_oneof![
                    "[<>&!@#|\u{E000}\u{E001}:a-z ]{0,12}".prop_map(|s| (s, false)),
                    "[UWS][A-Z0-9]{1,10}".prop_map(|id| (id, true)),
                ],
                0..8,
            )
        ) {
            let m = mentions();
            let mut text = String::new();
            let mut tokens = 0;
            for (p, is_id) in &parts {
                if *is_id {
                    text.push_str(&m.token(p));
                    tokens += 1;
                } else {
                    text.push_str(p);
                }
            }
            let out = m.mrkdwn(&text);
            prop_assert_eq!(out.matches('<').count(), tokens);
            prop_assert_eq!(out.matches('>').count(), tokens);
        }
    }

    // ----- cutting ---------------------------------------------------------

    #[test]
    fn cuts_respect_atoms_and_width() {
        let s = "ab &amp; <@U123> 😀😀😀";
        for max in 0..=width(s) + 1 {
            let cut = cut_mrkdwn(s, max);
            assert!(width(&cut) <= max, "{max}: {cut:?}");
            let body = cut.trim_end_matches(ELLIPSIS);
            assert!(s.starts_with(body));
            assert_eq!(body.matches('<').count(), body.matches('>').count());
            assert_eq!(body.matches('&').count(), body.matches(';').count());
            assert!(width(&cut_plain(s, max)) <= max);
        }
        assert_eq!(cut_plain("héllo", 3), "hé…");
        assert_eq!(cut_mrkdwn("a&amp;b", 4), "a…");
    }

    #[test]
    fn fair_cap_shares_the_budget() {
        assert_eq!(fair_cap(&[], 10), 0);
        assert_eq!(fair_cap(&[3, 4], 10), 4);
        assert_eq!(fair_cap(&[2, 100, 100], 52), 25);
        assert_eq!(fair_cap(&[100; 4], 10), 2);
    }

    // ----- card ------------------------------------------------------------

    #[test]
    fn card_has_expected_shape() {
        let m = mentions();
        let blocks = card_blocks(&m, 42, &plain_card(&m));
        assert_card_limits(&blocks);
        assert_eq!(blocks.len(), 5);
        let SlackBlock::Header(h) = &blocks[0] else {
            panic!()
        };
        assert_eq!(plain_only(&h.text), "#42 · X · @bob");
        let SlackBlock::Section(fields) = &blocks[1] else {
            panic!()
        };
        let fields = fields.fields.as_ref().unwrap();
        assert_eq!(text_of(&fields[0]), "*Network*\nX · acme · mention");
        assert_eq!(text_of(&fields[1]), "*Owner*\n<@U024BE7LH>");
        let SlackBlock::Section(body) = &blocks[2] else {
            panic!()
        };
        let SlackBlockText::MarkDown(body) = body.text.as_ref().unwrap() else {
            panic!()
        };
        assert_eq!(body.text, ">My order &lt;!channel&gt; &amp; stuff");
        assert_eq!(body.verbatim, Some(true));
        let SlackBlock::Context(link) = &blocks[3] else {
            panic!()
        };
        let SlackContextBlockElement::MarkDown(link) = &link.elements[0] else {
            panic!()
        };
        assert_eq!(
            link.text,
            "<https://x.com/bob/status/1?a=1&amp;b=2|Open on the network>"
        );
        let json = serde_json::to_string(&blocks).unwrap();
        assert!(!json.contains("<!channel>"));
        assert!(!json.contains("<!here>"));
    }

    #[test]
    fn card_buttons_carry_ids_and_case_number() {
        let m = mentions();
        let blocks = card_blocks(&m, 1234, &plain_card(&m));
        let Some(SlackBlock::Actions(actions)) = blocks.last() else {
            panic!()
        };
        assert_eq!(actions.block_id.as_ref().unwrap().0, "care.card");
        let ids: Vec<_> = actions
            .elements
            .iter()
            .map(|e| {
                let SlackActionBlockElement::Button(b) = e else {
                    panic!()
                };
                assert_eq!(b.value.as_deref(), Some("1234"));
                let id = b.action_id.as_ref().unwrap().0.clone();
                assert_eq!(b.confirm.is_some(), id == "care.close");
                assert_eq!(
                    button_press(&id, b.value.as_deref()).map(|p| p.0),
                    Some(1234)
                );
                id
            })
            .collect();
        assert_eq!(
            ids,
            [
                "care.claim",
                "care.reply",
                "care.escalate",
                "care.offline",
                "care.close"
            ]
        );
        assert_eq!(button_press("care.claim", Some("x")), None);
        assert_eq!(button_press("care.nope", Some("1")), None);
        assert_eq!(
            button_press("care.close", Some("7")),
            Some((7, CardButton::Close))
        );
        assert_eq!(ModalKind::from_action("care.reply"), Some(ModalKind::Reply));
        assert_eq!(
            ModalKind::from_action("care.escalate"),
            Some(ModalKind::Escalate)
        );
        assert_eq!(
            ModalKind::from_action("care.offline"),
            Some(ModalKind::Offline)
        );
        assert_eq!(ModalKind::from_action("care.claim"), None);
        assert_eq!(ModalKind::from_action("care.close"), None);
    }

    #[test]
    fn huge_card_stays_within_limits() {
        let m = mentions();
        let long = format!("{}{}", "&<>".repeat(1000), "x".repeat(3000));
        let fields: Vec<(&'static str, String)> = (0..12)
            .map(|i| ("Label", format!("{i} {long} {}", m.token("U1"))))
            .collect();
        let title = format!("{}{}", "T&".repeat(150), m.token("U1"));
        let text = "line with <!channel> & 😀\n".repeat(500); // > 10k chars
        assert!(text.chars().count() > 10_000);
        let c = card(
            &title,
            fields,
            &text,
            Some(&format!("https://x.com/{}", "a".repeat(5000))),
        );
        let blocks = card_blocks(&m, u64::MAX, &c);
        assert_card_limits(&blocks);
        // 12 fields → two sections (10 + 2); the oversize link is left off.
        let sections: Vec<_> = blocks
            .iter()
            .filter_map(|b| match b {
                SlackBlock::Section(s) => s.fields.as_ref().map(Vec::len),
                _ => None,
            })
            .collect();
        assert_eq!(sections, [10, 2]);
        assert!(!blocks.iter().any(|b| matches!(b, SlackBlock::Context(_))));
        let fallback = card_fallback(&m, &c);
        assert!(width(&fallback) <= limits::FALLBACK);
        assert!(!fallback.contains('\n'));
    }

    #[test]
    fn many_fields_are_capped() {
        let m = mentions();
        let fields = (0..100).map(|_| ("F", "v".to_owned())).collect();
        let blocks = card_blocks(&m, 1, &card("t", fields, "", None));
        assert_card_limits(&blocks);
        let n: usize = blocks
            .iter()
            .filter_map(|b| match b {
                SlackBlock::Section(s) => s.fields.as_ref().map(Vec::len),
                _ => None,
            })
            .sum();
        assert_eq!(n, limits::SECTION_FIELDS * limits::CARD_FIELD_SECTIONS);
    }

    #[test]
    fn empty_card_is_still_valid() {
        let m = mentions();
        let blocks = card_blocks(&m, 0, &card("", vec![], "  \n ", None));
        assert_card_limits(&blocks);
        let SlackBlock::Header(h) = &blocks[0] else {
            panic!()
        };
        assert_eq!(plain_only(&h.text), words::card_title_fallback(0));
        let SlackBlock::Section(body) = &blocks[1] else {
            panic!()
        };
        assert_eq!(text_of(body.text.as_ref().unwrap()), words::NO_TEXT);
    }

    #[test]
    fn only_safe_links_are_linked() {
        assert_eq!(
            safe_link("https://a.b/c?d&e").as_deref(),
            Some("https://a.b/c?d&amp;e")
        );
        assert_eq!(safe_link(" HTTP://a.b ").as_deref(), Some("HTTP://a.b"));
        for bad in [
            "javascript:alert(1)",
            "https://a.b/|x",
            "https://a.b/<!channel>",
            "https://a.b/ x",
            "https://a.b/\nx",
            "https://",
            "ftp://a.b",
            "",
            "hTtPs:/",
            "é",
        ] {
            assert_eq!(safe_link(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn fallback_is_short_and_escaped() {
        let m = mentions();
        let fallback = card_fallback(&m, &plain_card(&m));
        assert_eq!(
            fallback,
            "#42 · X · @bob: My order &lt;!channel&gt; &amp; stuff"
        );
    }

    proptest! {
        #[test]
        fn any_card_is_within_limits(
            title in any::<String>(),
            text in any::<String>(),
            values in proptest::collection::vec(any::<String>(), 0..25),
            link in proptest::option::of(any::<String>()),
            case in any::<u64>(),
        ) {
            let m = mentions();
            let fields = values.into_iter().map(|v| ("Field", v)).collect();
            let c = Card { title, fields, text, link };
            assert_card_limits(&card_blocks(&m, case, &c));
            prop_assert!(width(&card_fallback(&m, &c)) <= limits::FALLBACK);
        }
    }

    // ----- modals -----------------------------------------------------------

    /// The (block_id, action_id, element type) of every input in a modal.
    fn inputs(view: &SlackView) -> Vec<(String, String, &'static str)> {
        let SlackView::Modal(modal) = view else {
            panic!("not a modal")
        };
        modal
            .blocks
            .iter()
            .filter_map(|b| match b {
                SlackBlock::Input(i) => {
                    let (action, kind) = match &i.element {
                        SlackInputBlockElement::PlainTextInput(e) => {
                            (e.action_id.clone(), "plain_text_input")
                        }
                        SlackInputBlockElement::StaticSelect(e) => {
                            (e.action_id.clone(), "static_select")
                        }
                        other => panic!("unexpected element {other:?}"),
                    };
                    Some((i.block_id.clone().unwrap().0, action.unwrap().0, kind))
                }
                _ => None,
            })
            .collect()
    }

    /// `view.state.values` as Slack would send it, built from the modal's own
    /// inputs: `answers` maps block_id to the typed text or chosen option value.
    fn state_for(view: &SlackView, answers: &[(&str, &str)]) -> SlackViewState {
        let mut values = serde_json::Map::new();
        for (block, action, kind) in inputs(view) {
            let answer = answers.iter().find(|(b, _)| *b == block).map(|(_, a)| *a);
            let value = match (kind, answer) {
                ("static_select", Some(v)) => serde_json::json!({
                    "type": kind,
                    "selected_option": {
                        "text": {"type": "plain_text", "text": v, "emoji": true},
                        "value": v
                    }
                }),
                ("static_select", None) => {
                    serde_json::json!({"type": kind, "selected_option": null})
                }
                (_, answer) => serde_json::json!({"type": kind, "value": answer}),
            };
            values.insert(block, serde_json::json!({ action: value }));
        }
        serde_json::from_value(serde_json::json!({ "values": values })).unwrap()
    }

    fn submit(
        view: &SlackView,
        answers: &[(&str, &str)],
    ) -> Result<(u64, Command), SubmissionError> {
        let SlackView::Modal(modal) = view else {
            panic!()
        };
        let state = state_for(view, answers);
        submission(
            &modal.callback_id.as_ref().unwrap().0,
            modal.private_metadata.as_deref().unwrap(),
            &state,
        )
    }

    #[test]
    fn modals_serialise_and_respect_limits() {
        let m = mentions();
        let title = format!("#9 · X · {} {}", m.token("U1"), "x".repeat(500));
        for kind in ModalKind::ALL {
            for case in [0, 9, 123, u64::MAX] {
                let view = modal(kind, case, &title);
                let json = serde_json::to_value(&view).unwrap();
                assert_eq!(json["type"], "modal");
                assert_eq!(json["callback_id"], kind.callback_id());
                assert_eq!(json["private_metadata"], case.to_string());
                let back: SlackView = serde_json::from_value(json.clone()).unwrap();
                assert_eq!(back, view);
                let SlackView::Modal(v) = &view else { panic!() };
                assert!(width(&plain_only(&v.title)) <= limits::MODAL_TITLE);
                assert!(width(&plain_only(v.submit.as_ref().unwrap())) <= limits::MODAL_BUTTON);
                assert!(width(&plain_only(v.close.as_ref().unwrap())) <= limits::MODAL_BUTTON);
                let mut all = Vec::new();
                texts(&json, &mut all);
                assert!(
                    all.iter()
                        .all(|t| !t.contains(TOKEN_OPEN) && !t.contains(TOKEN_CLOSE))
                );
                assert!(all.iter().all(|t| width(t) <= limits::SECTION_TEXT));
                for (block, action, _) in inputs(&view) {
                    assert_eq!(block, action);
                }
            }
        }
        let SlackView::Modal(v) = modal(ModalKind::Reply, 123, "t") else {
            panic!()
        };
        assert_eq!(plain_only(&v.title), "Reply · #123");
        let SlackView::Modal(v) = modal(ModalKind::Offline, u64::MAX, "t") else {
            panic!()
        };
        assert_eq!(plain_only(&v.title), "Take offline");
    }

    #[test]
    fn reply_modal_round_trips_each_kind() {
        let view = modal(ModalKind::Reply, 77, "#77");
        assert_eq!(
            inputs(&view),
            [
                ("text".to_owned(), "text".to_owned(), "plain_text_input"),
                ("kind".to_owned(), "kind".to_owned(), "static_select"),
            ]
        );
        let text = || " hi there \n".to_owned();
        assert_eq!(
            submit(&view, &[("text", &text()), ("kind", "reply")]),
            Ok((
                77,
                Command::Reply {
                    text: "hi there".into()
                }
            ))
        );
        assert_eq!(
            submit(&view, &[("text", &text()), ("kind", "dm")]),
            Ok((
                77,
                Command::Dm {
                    text: "hi there".into()
                }
            ))
        );
        assert_eq!(
            submit(&view, &[("text", &text()), ("kind", "note")]),
            Ok((
                77,
                Command::Note {
                    text: "hi there".into()
                }
            ))
        );
    }

    #[test]
    fn reply_submission_from_slack_shaped_json() {
        let values = serde_json::json!({
            "values": {
                "text": {"text": {"type": "plain_text_input", "value": "hi"}},
                "kind": {"kind": {"type": "static_select", "selected_option": {
                    "value": "dm",
                    "text": {"type": "plain_text", "text": "Direct message", "emoji": true}
                }}}
            }
        });
        let state: SlackViewState = serde_json::from_value(values).unwrap();
        assert_eq!(
            submission("care.reply", "5", &state),
            Ok((5, Command::Dm { text: "hi".into() }))
        );
    }

    #[test]
    fn other_modals_round_trip() {
        let esc = modal(ModalKind::Escalate, 3, "#3");
        assert_eq!(
            submit(&esc, &[("team", " billing "), ("reason", "refund > $500")]),
            Ok((
                3,
                Command::Escalate {
                    team: "billing".into(),
                    reason: Some("refund > $500".into())
                }
            ))
        );
        assert_eq!(
            submit(&esc, &[("team", "billing"), ("reason", "   ")]),
            Ok((
                3,
                Command::Escalate {
                    team: "billing".into(),
                    reason: None
                }
            ))
        );
        let off = modal(ModalKind::Offline, 4, "#4");
        assert_eq!(
            submit(&off, &[("channel", "sms"), ("address", "+1 555 0100")]),
            Ok((
                4,
                Command::Offline {
                    channel: OfflineChannel::Sms,
                    address: Some("+1 555 0100".into())
                }
            ))
        );
        assert_eq!(
            submit(&off, &[("channel", "email")]),
            Ok((
                4,
                Command::Offline {
                    channel: OfflineChannel::Email,
                    address: None
                }
            ))
        );
        let close = modal(ModalKind::Close, 5, "#5");
        assert_eq!(submit(&close, &[]), Ok((5, Command::Close { note: None })));
        assert_eq!(
            submit(&close, &[("note", "refunded")]),
            Ok((
                5,
                Command::Close {
                    note: Some("refunded".into())
                }
            ))
        );
    }

    #[test]
    fn blank_required_inputs_are_field_errors() {
        let reply = modal(ModalKind::Reply, 1, "#1");
        let Err(SubmissionError::Invalid(errors)) = submit(&reply, &[("text", " \n\t")]) else {
            panic!()
        };
        assert_eq!(
            errors.get("text").map(String::as_str),
            Some(words::ERR_TEXT_REQUIRED)
        );
        assert_eq!(
            errors.get("kind").map(String::as_str),
            Some(words::ERR_KIND_REQUIRED)
        );
        let Err(SubmissionError::Invalid(errors)) =
            submit(&reply, &[("text", "hi"), ("kind", "shout")])
        else {
            panic!()
        };
        assert_eq!(errors.len(), 1);
        assert_eq!(
            errors.get("kind").map(String::as_str),
            Some(words::ERR_KIND_REQUIRED)
        );

        let esc = modal(ModalKind::Escalate, 1, "#1");
        let Err(SubmissionError::Invalid(errors)) = submit(&esc, &[("reason", "why")]) else {
            panic!()
        };
        assert_eq!(errors.len(), 1);
        assert_eq!(
            errors.get("team").map(String::as_str),
            Some(words::ERR_TEAM_REQUIRED)
        );

        let off = modal(ModalKind::Offline, 1, "#1");
        let Err(SubmissionError::Invalid(errors)) = submit(&off, &[("channel", "pigeon")]) else {
            panic!()
        };
        assert_eq!(
            errors.get("channel").map(String::as_str),
            Some(words::ERR_CHANNEL_REQUIRED)
        );

        // No values at all: every required input is reported.
        let empty = SlackViewState::new(std::collections::HashMap::new());
        let Err(SubmissionError::Invalid(errors)) = submission("care.reply", "1", &empty) else {
            panic!()
        };
        assert_eq!(errors.len(), 2);
        let error = SubmissionError::Invalid(errors.clone());
        assert_eq!(error.field_errors(), Some(&errors));

        let long = "x".repeat(limits::TEAM_INPUT + 1);
        let Err(SubmissionError::Invalid(errors)) = submit(&esc, &[("team", &long)]) else {
            panic!()
        };
        assert_eq!(
            errors.get("team").map(String::as_str),
            Some(words::err_too_long(limits::TEAM_INPUT).as_str())
        );
    }

    #[test]
    fn unknown_callbacks_and_metadata_are_distinct_errors() {
        let state = state_for(&modal(ModalKind::Close, 1, ""), &[]);
        assert_eq!(
            submission("care.nope", "1", &state),
            Err(SubmissionError::UnknownCallback("care.nope".into()))
        );
        for meta in ["", "x", "-1", "+1", "1.5", " 1", "99999999999999999999999"] {
            assert_eq!(
                submission("care.close", meta, &state),
                Err(SubmissionError::BadMetadata(meta.into()))
            );
        }
        let Err(SubmissionError::UnknownCallback(logged)) =
            submission(&"z".repeat(10_000), "1", &state)
        else {
            panic!()
        };
        assert!(width(&logged) <= LOGGED);
    }

    #[test]
    fn errors_response_has_slacks_shape() {
        let mut errors = FieldErrors::new();
        errors.insert("text".into(), "Write it".into());
        errors.insert("kind".into(), "Pick one".into());
        let json = errors_response(&errors);
        assert_eq!(
            json,
            serde_json::json!({
                "response_action": "errors",
                "errors": {"text": "Write it", "kind": "Pick one"}
            })
        );
        assert_eq!(
            serde_json::to_value(errors_view_response(&errors)).unwrap(),
            json
        );
    }

    proptest! {
        #[test]
        fn submission_never_panics(
            callback in prop_oneof![Just("care.reply".to_owned()), Just("care.escalate".to_owned()),
                Just("care.offline".to_owned()), Just("care.close".to_owned()), any::<String>()],
            meta in prop_oneof!["[0-9]{1,25}", any::<String>()],
            entries in proptest::collection::vec(
                (prop_oneof![Just("text"), Just("kind"), Just("team"), Just("reason"),
                    Just("channel"), Just("address"), Just("note"), Just("other")],
                 any::<bool>(), any::<bool>(), any::<String>()),
                0..10,
            ),
        ) {
            let mut values = serde_json::Map::new();
            for (id, same_action, select, v) in entries {
                let action = if same_action { id } else { "elsewhere" };
                let value = if select {
                    serde_json::json!({"type": "static_select", "selected_option": {"value": v, "text": {"type": "plain_text", "text": "x"}}})
                } else {
                    serde_json::json!({"type": "plain_text_input", "value": v})
                };
                values.insert(id.to_owned(), serde_json::json!({ action: value }));
            }
            let state: SlackViewState =
                serde_json::from_value(serde_json::json!({ "values": values })).unwrap();
            match submission(&callback, &meta, &state) {
                Ok((case, _)) => prop_assert_eq!(Ok(case), meta.parse::<u64>()),
                Err(SubmissionError::Invalid(e)) => prop_assert!(!e.is_empty()),
                Err(_) => {}
            }
        }
    }
}

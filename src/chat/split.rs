//! Splitting and cutting chat text under a platform's length limits, shared
//! by every chat adapter: Slack section blocks and Discord's 2000-character
//! messages are cut the same way.
//!
//! Owns: how length is measured ([`width`]), which spans must never be cut in
//! half ([`atoms`]: `<…>` mentions and links, `&…;` entities, carebridge's
//! own mention tokens) and where long text is split ([`chunks`]: between
//! lines first). No I/O, no formatting of its own.
//!
//! Lengths are UTF-16 code units. Neither Slack nor Discord says exactly
//! which unit its limits count; UTF-16 units are never fewer than chars, so
//! text within our width is within the limit whichever unit is used.

/// Length as we measure it against a chat's limits: UTF-16 code units (see the module doc).
pub fn width(s: &str) -> usize {
    s.encode_utf16().count()
}

/// The ellipsis that marks text we cut.
pub const ELLIPSIS: char = '…';

/// Opens a mention token. Private-use code points: never typed by accident, and
/// a token is only honoured with the right nonce anyway.
pub const TOKEN_OPEN: char = '\u{E000}';
/// Closes a mention token.
pub const TOKEN_CLOSE: char = '\u{E001}';
/// Byte length of the unit at the start of `s` that must not be cut
/// through: a `<…>` span (mention or link), an `&…;` entity, a mention token
/// not yet rendered (a half token would show its nonce), else one char.
fn atom_len(s: &str) -> usize {
    let Some(first) = s.chars().next() else {
        return 0;
    };
    let single = first.len_utf8();
    match first {
        '<' => match s[1..].find(['<', '>', '\n']) {
            Some(i) if s[1 + i..].starts_with('>') => i + 2,
            _ => single,
        },
        TOKEN_OPEN => match s[single..].find([TOKEN_OPEN, TOKEN_CLOSE, '\n']) {
            Some(i) if s[single + i..].starts_with(TOKEN_CLOSE) => {
                single + i + TOKEN_CLOSE.len_utf8()
            }
            _ => single,
        },
        '&' => {
            // Entities we write are &amp; &lt; &gt;; allow any short &name; / &#n;.
            let name = s[1..]
                .bytes()
                .take(10)
                .take_while(|b| b.is_ascii_alphanumeric() || *b == b'#')
                .count();
            if name > 0 && s[1 + name..].starts_with(';') {
                name + 2
            } else {
                single
            }
        }
        _ => single,
    }
}

/// Splits mrkdwn into atoms (see [`atom_len`]).
pub fn atoms(s: &str) -> impl Iterator<Item = &str> {
    let mut rest = s;
    std::iter::from_fn(move || {
        let n = atom_len(rest);
        (n > 0).then(|| {
            let (atom, tail) = rest.split_at(n);
            rest = tail;
            atom
        })
    })
}

/// Plain text cut to `max` width on a char boundary, with an ellipsis.
pub fn cut_plain(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_owned();
    }
    let budget = max.saturating_sub(1);
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.len_utf16();
        if used + w > budget {
            break;
        }
        out.push(c);
        used += w;
    }
    if max > 0 {
        out.push(ELLIPSIS);
    }
    out
}

/// Splits `text` into pieces of at most `limit` width ([`width`]) each,
/// for posting as consecutive thread messages.
///
/// Splits between lines where it can (dropping the newline at the split), and
/// inside an over-long line only between atoms, so no mention, link or entity
/// is cut in half (an atom wider than `limit` is split by chars as a last
/// resort). Newlines at either end of a piece and whitespace-only pieces are
/// dropped, so empty text gives no pieces.
/// A `limit` below 2 is treated as 2 (one astral char is 2 units).
pub fn chunks(text: &str, limit: usize) -> Vec<String> {
    let limit = limit.max(2);
    let mut out = Vec::new();
    let mut current = String::new();
    let mut used = 0;
    let mut started = false;
    for line in text.split('\n') {
        let w = width(line);
        if started && used + 1 + w <= limit {
            current.push('\n');
            current.push_str(line);
            used += 1 + w;
            continue;
        }
        if started {
            out.push(std::mem::take(&mut current));
        }
        if w <= limit {
            current = line.to_owned();
            used = w;
        } else {
            let mut pieces = split_line(line, limit);
            let last = pieces.pop().unwrap_or_default();
            out.extend(pieces);
            used = width(&last);
            current = last;
        }
        started = true;
    }
    if started {
        out.push(current);
    }
    // Blank lines at a split point would only pad the messages.
    out.into_iter()
        .map(|piece| piece.trim_matches('\n').to_owned())
        .filter(|piece| !piece.trim().is_empty())
        .collect()
}

/// One line (no newlines) split into pieces of at most `limit` width.
fn split_line(line: &str, limit: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut used = 0;
    let mut push = |unit: &str, current: &mut String, used: &mut usize| {
        let w = width(unit);
        if *used + w > limit && !current.is_empty() {
            out.push(std::mem::take(current));
            *used = 0;
        }
        current.push_str(unit);
        *used += w;
    };
    for atom in atoms(line) {
        if width(atom) <= limit {
            push(atom, &mut current, &mut used);
        } else {
            let mut buf = [0u8; 4];
            for c in atom.chars() {
                push(c.encode_utf8(&mut buf), &mut current, &mut used);
            }
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use proptest::prelude::*;

    // ----- chunks -------------------------------------------------------------

    #[test]
    fn chunks_split_on_lines_first() {
        assert_eq!(chunks("", 10), Vec::<String>::new());
        assert_eq!(chunks("  \n \n", 10), Vec::<String>::new());
        assert_eq!(chunks("short", 10), ["short"]);
        assert_eq!(chunks("aaa\nbbb\nccc", 7), ["aaa\nbbb", "ccc"]);
        assert_eq!(chunks("aaa\n\nbbb", 4), ["aaa", "bbb"]);
        assert_eq!(chunks("abcdefghij\nk", 4), ["abcd", "efgh", "ij\nk"]);
        assert_eq!(chunks("abcdefghij\nklm", 4), ["abcd", "efgh", "ij", "klm"]);
    }

    #[test]
    fn chunks_keep_mentions_and_entities_whole() {
        let m = crate::chat::slack::format::Mentions::with_nonce("testnonce123");
        let text = format!("{}{} &&", "x".repeat(8), m.token("U123456"));
        let rendered = m.mrkdwn(&text); // xxxxxxxx<@U123456> &amp;&amp;
        let pieces = chunks(&rendered, 12);
        assert_eq!(pieces, ["xxxxxxxx", "<@U123456> ", "&amp;&amp;"]);
        // Raw (unrendered) tokens are atoms too: a split one would show its nonce.
        let raw = format!("{}{}", "x".repeat(8), m.token("U123456"));
        let pieces = chunks(&raw, 25);
        assert_eq!(pieces, ["xxxxxxxx", m.token("U123456").as_str()]);
        // An atom wider than the limit is split rather than overflowing.
        assert!(chunks("<@U123456789>", 4).iter().all(|p| width(p) <= 4));
    }

    proptest! {
        #[test]
        fn chunks_respect_limit_and_keep_text(text in any::<String>(), limit in 0usize..60) {
            let pieces = chunks(&text, limit);
            for p in &pieces {
                prop_assert!(width(p) <= limit.max(2));
                prop_assert!(!p.trim().is_empty());
            }
            // Nothing but split points (newlines) and whitespace-only pieces is lost.
            let strip = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
            prop_assert_eq!(strip(&pieces.concat()), strip(&text));
        }

        #[test]
        fn chunks_never_split_atoms(words in proptest::collection::vec(
            prop_oneof!["[a-z ]{1,8}", Just("&amp;".to_owned()), "<@U[A-Z0-9]{3,9}>", Just("\n".to_owned())], 0..40),
            limit in 16usize..40,
        ) {
            let text = words.concat();
            for p in chunks(&text, limit) {
                prop_assert_eq!(p.matches('<').count(), p.matches('>').count());
                prop_assert_eq!(p.matches('&').count(), p.matches(';').count());
            }
        }
    }
}

//! Key paths such as `accounts[1].offline.email`, the way problems name a place in `bot.toml`.
//!
//! Owns the path notation only (pure string building). Keys that are not TOML bare keys are
//! quoted (`canned."thank you"`) so the path can be pasted back into the file's syntax.

/// `prefix.key`, or just `key` at the top level.
pub(super) fn key(prefix: &str, key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let key = if bare {
        key.to_owned()
    } else {
        format!("{key:?}")
    };
    if prefix.is_empty() {
        key
    } else {
        format!("{prefix}.{key}")
    }
}

/// `prefix[index]`.
pub(super) fn index(prefix: &str, index: usize) -> String {
    format!("{prefix}[{index}]")
}

/// Renders a path reported by `serde_ignored` below `prefix`.
pub(super) fn from_ignored(prefix: &str, path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => prefix.to_owned(),
        Path::Seq { parent, index: i } => index(&from_ignored(prefix, parent), *i),
        Path::Map { parent, key: k } => key(&from_ignored(prefix, parent), k),
        // Option and newtype wrappers are invisible in the file.
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => from_ignored(prefix, parent),
    }
}

/// Renders a path reported by `serde_path_to_error` below `prefix`.
pub(super) fn from_tracked(prefix: &str, path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    path.iter()
        .fold(prefix.to_owned(), |at, segment| match segment {
            Segment::Seq { index: i } => index(&at, *i),
            Segment::Map { key: k } => key(&at, k),
            Segment::Enum { variant } => key(&at, variant),
            Segment::Unknown if at.is_empty() => "?".to_owned(),
            Segment::Unknown => format!("{at}.?"),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_dotted_and_indexed_paths() {
        assert_eq!(key("", "bot"), "bot");
        assert_eq!(key("bot", "listen"), "bot.listen");
        assert_eq!(index("accounts", 1), "accounts[1]");
        assert_eq!(
            key(&index("accounts", 1), "poll_interval"),
            "accounts[1].poll_interval"
        );
        assert_eq!(key("canned", "thank you"), r#"canned."thank you""#);
        assert_eq!(key("canned", ""), r#"canned."""#);
    }
}

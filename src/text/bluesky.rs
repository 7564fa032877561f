//! The Bluesky wording: what carebridge tells agents when the PDS refuses a
//! reply or an action.
//!
//! Pure: no I/O. Sorting XRPC answers is `social::bluesky::client`'s job;
//! this module says what each outcome means for the agent and what to do.

/// A delete of a record outside the brand account's repository.
pub const NOT_OURS: &str =
    "That post is not in the brand account's repository, so carebridge will not delete it.";

/// A post ingested without the content id Bluesky needs to answer it.
pub const NO_REFERENCE: &str = "carebridge does not know this post's content id (it came in before the account was on Bluesky), so it cannot be answered or liked from here.";

/// A draft to publish without an approval time (the record key and time come from it).
pub const NO_APPROVAL_TIME: &str =
    "The draft has no approval time, which its Bluesky record is made from; approve it again.";

/// The PDS refused the identifier and app password: nothing works until they are replaced.
pub fn login_refused(account: &str) -> String {
    format!(
        "Bluesky refused the login of `{account}`: check `auth.identifier` and create a new app password (Settings → Privacy and security → App passwords), set `auth.password` in bot.toml and restart."
    )
}

/// Another 4xx, in the PDS's own words.
pub fn refused(error: &str, message: &str) -> String {
    match error.is_empty() {
        true => format!("Bluesky refused it: {message}"),
        false => format!("Bluesky refused it ({error}): {message}"),
    }
}

//! Temporary stand-in until the real module lands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TweetLength {
    pub weighted: usize,
    pub valid: bool,
}
pub const MAX_WEIGHTED_LENGTH: usize = 280;
pub fn measure(text: &str) -> TweetLength {
    let w = text.chars().count();
    TweetLength {
        weighted: w,
        valid: w > 0 && w <= 280,
    }
}

//! The `/healthz` wording: the detail each component reports, read by whoever runs the bot.
//!
//! Pure: no I/O. Never a secret or a token in here; an account is named by its bot.toml id.

/// The console chat: the terminal is always there.
pub const CONSOLE: &str = "the terminal";
/// A chat connected (Slack's auth.test and socket, Discord's gateway).
pub const CONNECTED: &str = "connected";
/// Slack refused the bot's token or setup on a later call.
pub const SLACK_REFUSED: &str = "Slack refused the bot token";
/// Discord's gateway is ready.
pub const GATEWAY_READY: &str = "gateway ready";
/// Discord's REST API answered; the gateway is not ready yet.
pub const GATEWAY_CONNECTING: &str = "gateway connecting";
/// Discord's gateway is not connected (serenity reconnects by itself).
pub const GATEWAY_DOWN: &str = "gateway not connected";
/// An account nothing was asked of yet.
pub const NO_CALL_YET: &str = "no call yet";
/// An account whose last call went through.
pub const REACHABLE: &str = "calls succeed";
/// The network refused the account's token: someone must renew it.
pub const TOKEN_REFUSED: &str = "token refused; renew it in bot.toml and restart";

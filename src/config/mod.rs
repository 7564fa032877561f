//! `bot.toml`: loading, `${VAR}` substitution and validation into a typed [`Config`].
//!
//! Owns the file's shape (key names, defaults, meanings) and every check that can be made from
//! the file alone, reported as a list of [`Problem`]s that each name the key (`accounts[1].queue`)
//! and say why, all at once, so `check-config` can show everything in one go.
//!
//! Must not: do I/O beyond reading the config file (and checking that files it names exist),
//! read the environment except through [`Config::load`]'s lookup, or decide workflow (how cases
//! are routed, approved or timed is the engine's business; this module only hands it typed,
//! valid settings).
//!
//! The pipeline is: read the file → parse TOML → substitute `${VAR}` (module `env`) →
//! deserialize into raw structs collecting unknown keys and type errors (module `raw`) →
//! validate into [`Config`] (module `validate`).

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{NaiveDate, NaiveTime, Weekday};
use chrono_tz::Tz;
use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::engine::{OfflineChannel, Platform, PostKind, Urgency};

/// Re-exported because it is a config value (`accounts.approval`) as much as an engine type.
pub use crate::engine::ApprovalMode;

pub mod crontab;
mod env;
mod path;
mod raw;
mod validate;

#[cfg(test)]
mod tests;

pub use crate::duration::{DurationError, format_duration, parse_duration};
pub use crontab::{CrontabError, parse_crontab, translate_crontab};

/// Placeholders allowed in reply templates (`[canned]`, `close_loop_text`).
pub const TEMPLATE_PLACEHOLDERS: &[&str] = &["name", "handle", "agent", "case"];

/// Placeholders allowed in `[accounts.offline]` templates: the reply ones plus `{address}`.
pub const OFFLINE_PLACEHOLDERS: &[&str] = &["name", "handle", "agent", "case", "address"];

/// One thing wrong with the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where: a key path such as `accounts[1].poll_interval`, the file path when it cannot be
    /// read, or `line L, column C` for a TOML syntax error.
    pub path: String,
    /// What is wrong, in words a user can act on.
    pub message: String,
}

impl Problem {
    pub(crate) fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Every problem found in a configuration (never empty when returned as an error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<Problem>);

impl fmt::Display for ConfigErrors {
    /// One problem per line, in the order found.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// The validated contents of `bot.toml`.
#[derive(Debug, Clone)]
pub struct Config {
    /// `[bot]`: process-wide settings.
    pub bot: BotConfig,
    /// `[chat]`: where cases are worked.
    pub chat: ChatConfig,
    /// `[approval]`: which reactions approve or reject a draft reply.
    pub approval: ApprovalConfig,
    /// `[sla]`: first-response targets.
    pub sla: SlaConfig,
    /// `[business_hours]`: when the team works; `None` when the section is absent.
    pub business_hours: Option<BusinessHours>,
    /// `[[routing]]`: ordered rules, first match wins (default: none).
    pub routing: Vec<RoutingRule>,
    /// `[canned]`: reply templates by name, with placeholders `{name}` `{handle}` `{agent}`
    /// `{case}` (default: none).
    pub canned: BTreeMap<String, String>,
    /// `[[accounts]]`: the brand accounts watched (at least one, ids unique).
    pub accounts: Vec<AccountConfig>,
    /// `[[jobs]]`: timed work (default: none).
    pub jobs: Vec<JobConfig>,
}

/// `[bot]`.
#[derive(Debug, Clone)]
pub struct BotConfig {
    /// `data_dir`: where the store lives, resolved against the config file's directory
    /// (default `data`).
    pub data_dir: PathBuf,
    /// `listen`: the address of the one HTTP listener for webhooks, events, `/healthz` and
    /// `/metrics` (default `127.0.0.1:8080`).
    pub listen: SocketAddr,
    /// `monitor`: open the listener for `/healthz` and `/metrics` even when nothing else needs
    /// it (Slack and network webhooks open it anyway), e.g. for a Discord bot behind a load
    /// balancer's health check (default `false`).
    pub monitor: bool,
    /// `timezone`: IANA zone used to show times and as the default for jobs and business hours
    /// (default `UTC`).
    pub timezone: Tz,
    /// `flush_interval`: how often the store is flushed to disk at the latest (effects are
    /// only performed on flushed state, and shutdown flushes too); more than zero and at
    /// most 10s (default `100ms`).
    pub flush_interval: Duration,
    /// `reopen_window`: a new post from the same author within this time after a case was
    /// closed reopens that case instead of opening a new one; more than zero (default `72h`).
    pub reopen_window: Duration,
    /// `auto_close_after`: a case waiting on the customer this long is closed by the sweep,
    /// with a note in its thread; more than zero (default: none, cases wait for good).
    pub auto_close_after: Option<Duration>,
}

/// Which chat system cases are worked in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatKind {
    /// stdin/stdout, for trying the bot out and for tests.
    Console,
    /// Slack threads.
    Slack,
    /// Discord threads.
    Discord,
}

/// `[chat]`.
#[derive(Debug, Clone)]
pub struct ChatConfig {
    /// `kind`: `console`, `slack` or `discord` (default `console`).
    pub kind: ChatKind,
    /// `[chat.console]`: settings of the console adapter (defaults as documented there).
    pub console: ConsoleConfig,
    /// `[chat.slack]`: settings of the Slack adapter; required when `kind = "slack"`
    /// (default: absent).
    pub slack: Option<SlackConfig>,
    /// `[chat.discord]`: settings of the Discord adapter; required when `kind = "discord"`
    /// (default: absent).
    pub discord: Option<DiscordConfig>,
}

/// `chat.discord.command_permission`'s default: Manage Threads, which the
/// people who work case threads hold.
pub const DEFAULT_COMMAND_PERMISSION: Option<u64> = Some(1 << 34);

/// `[chat.discord]`.
#[derive(Debug, Clone)]
pub struct DiscordConfig {
    /// `token`: the bot token from the Developer Portal's Bot page; required (usually
    /// `${DISCORD_TOKEN}`).
    pub token: Secret,
    /// `application_id`: the application's id (General Information page); required.
    pub application_id: u64,
    /// `guild_id`: the server the bot works in; `/care` is registered there; required.
    pub guild_id: u64,
    /// `api_url`: REST base URL ending in `/api/` (default `https://discord.com/api/`). Any
    /// other URL is used as an HTTP proxy in front of Discord (a twilight-http-proxy, or a
    /// test's fake): the proxy then owns rate limits, and a 429 it passes back is retried.
    pub api_url: String,
    /// `approver_roles`: role ids whose members approve or reject drafts (default: none).
    pub approver_roles: Vec<u64>,
    /// `approvers`: user ids who approve or reject drafts, whatever their roles
    /// (default: none).
    pub approvers: Vec<u64>,
    /// `agent_roles`: role ids whose members may work cases; with `agents` empty too, every
    /// member of the server may (default: empty).
    pub agent_roles: Vec<u64>,
    /// `agents`: user ids who may work cases, whatever their roles (default: empty).
    pub agents: Vec<u64>,
    /// `thread_commands`: read messages in case threads, so `!claim`-style commands work
    /// there and other messages are kept as internal notes. Needs the privileged Message
    /// Content intent, switched on in the Developer Portal (default `false`: threads are
    /// worked with `/care` and the card's buttons, which need no privileged intent).
    pub thread_commands: bool,
    /// `archive_closed`: archive a case's thread when the case closes, and unarchive it when
    /// the case reopens (default `true`).
    pub archive_closed: bool,
    /// `auto_archive`: how long an idle case thread stays open before Discord archives it:
    /// `1h`, `24h`, `3d` or `7d` (default `7d`). Stored in minutes, as Discord takes it.
    pub auto_archive_minutes: u16,
    /// `command_permission`: the permission a member needs to see `/care` before a server
    /// admin changes it under Integrations: `manage_threads`, `manage_messages`,
    /// `moderate_members`, `manage_guild`, `administrator` or `everyone`
    /// (default `manage_threads`). Roles are still checked by carebridge on every command.
    pub command_permission: Option<u64>,
    /// `role_cache`: how long a member's roles, looked up for a reaction removal (which
    /// carries none), are cached (default `5m`).
    pub role_cache: Duration,
    /// `[chat.discord.channels]`: queue → channel id (a text or forum channel); `default`
    /// is required and takes every queue not listed.
    pub channels: BTreeMap<String, u64>,
    /// `[chat.discord.on_call]`: queue → the id of the role on call for it, pinged by the
    /// sweep's message when it lists cases nobody owns; `default` covers queues not listed
    /// (default: none).
    pub on_call: BTreeMap<String, u64>,
}

impl DiscordConfig {
    /// The channel a queue's cases go to (`0` only if `default` is missing, which the
    /// config check refuses).
    pub fn channel_for(&self, queue: &str) -> u64 {
        self.channels
            .get(queue)
            .or_else(|| self.channels.get("default"))
            .copied()
            .unwrap_or(0)
    }
}

/// How the Slack adapter receives events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlackMode {
    /// Socket Mode: a websocket opened with the app-level token; no public URL needed.
    Socket,
    /// Events API: Slack POSTs signed requests to `/slack/*` on `bot.listen`.
    Events,
}

/// `[chat.slack]`.
#[derive(Debug, Clone)]
pub struct SlackConfig {
    /// `mode`: `socket` or `events` (default `socket`).
    pub mode: SlackMode,
    /// `bot_token`: the bot user OAuth token, `xoxb-…`; required (usually `${SLACK_BOT_TOKEN}`).
    pub bot_token: Secret,
    /// `app_token`: the app-level token, `xapp-…`, with `connections:write`; required in
    /// socket mode (default: none).
    pub app_token: Option<Secret>,
    /// `signing_secret`: verifies requests in events mode, where it is required (default: none).
    pub signing_secret: Option<Secret>,
    /// `api_url`: Web API base URL, for GovSlack (`https://slack-gov.com/api/`), proxies and
    /// tests (default `https://slack.com/api/`).
    pub api_url: String,
    /// `public_url`: the HTTPS base URL Slack reaches `bot.listen` at, used for the request URLs
    /// in `carebridge manifest slack` in events mode (default: none).
    pub public_url: Option<String>,
    /// `app_name`: the app's name in the generated manifest (default `carebridge`).
    pub app_name: String,
    /// `approvers`: Slack user ids (`U…`/`W…`) and user-group ids (`S…`) whose reactions
    /// approve or reject drafts (default: none, so nothing can be approved).
    pub approvers: Vec<String>,
    /// `agents`: user and user-group ids who may work cases; empty means every member of the
    /// workspace (default: empty).
    pub agents: Vec<String>,
    /// `group_cache`: how long user-group membership is cached (default `5m`).
    pub group_cache: Duration,
    /// `[chat.slack.channels]`: queue → channel id (`C…` or `G…`); `default` is required and
    /// takes every queue not listed.
    pub channels: BTreeMap<String, String>,
    /// `[chat.slack.on_call]`: queue → the user group (`S…`) or user (`U…`/`W…`) on call for
    /// it, pinged by the sweep's message when it lists cases nobody owns; `default` covers
    /// queues not listed (default: none).
    pub on_call: BTreeMap<String, String>,
}

impl SlackConfig {
    /// The channel a queue's cards go to.
    pub fn channel_for(&self, queue: &str) -> &str {
        self.channels
            .get(queue)
            .or_else(|| self.channels.get("default"))
            .map_or("", String::as_str)
    }
}

/// A credential from the environment: usable, but never shown by `Debug` or logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value, for the one place that sends it to the platform.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// `[chat.console]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleConfig {
    /// `approvers`: user names whose reactions count as approvals (default: none).
    pub approvers: Vec<String>,
    /// `agents`: user names allowed to work cases; empty means everyone typing is an agent
    /// (default: empty).
    pub agents: Vec<String>,
    /// `user`: the identity the console starts as (default `agent`).
    pub user: String,
    /// `[chat.console.on_call]`: queue → who is on call for it, named in the sweep's message
    /// when it lists cases nobody owns; `default` covers queues not listed (default: none).
    pub on_call: BTreeMap<String, String>,
}

/// Who is on call for `queue` in a chat's `on_call` table: its own entry, else `default`.
pub fn on_call_for<'a, V>(table: &'a BTreeMap<String, V>, queue: &str) -> Option<&'a V> {
    table.get(queue).or_else(|| table.get("default"))
}

/// `[approval]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalConfig {
    /// `approve`: reactions (emoji or Slack/Discord names) that approve a draft; non-empty
    /// (default `["✅", "white_check_mark", "heavy_check_mark"]`).
    pub approve: Vec<String>,
    /// `reject`: reactions that reject a draft; non-empty and disjoint from `approve`
    /// (default `["❌", "x"]`).
    pub reject: Vec<String>,
    /// `allow_self_approval`: whether the author of a draft may approve it (default `false`).
    pub allow_self_approval: bool,
}

/// `[sla]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaConfig {
    /// `business_hours`: count SLA time only inside `[business_hours]`, which must then exist
    /// (default `false`).
    pub business_hours: bool,
    /// `warn_before`: how long before a target the case is marked due soon and its owner
    /// warned; `0s` turns warnings off (default `15m`).
    pub warn_before: Duration,
    /// `[sla.first_response]`: time to the first answer per urgency, each more than zero
    /// (defaults: urgent `15m`, high `1h`, normal `4h`, low `24h`).
    pub first_response: PerUrgency<Duration>,
    /// `[sla.next_response]`: time to answer a customer who wrote again after our answer, per
    /// urgency, each more than zero (defaults: as for the first response).
    pub next_response: PerUrgency<Duration>,
    /// `[sla.resolution]`: time from opening to closing per urgency, not counting time spent
    /// waiting on the customer; an urgency left out has no resolution target (default: none).
    pub resolution: PerUrgency<Option<Duration>>,
    /// `[sla.breach] raise_urgency`: a breach raises the case's urgency one step, up to
    /// urgent (default `false`).
    pub raise_urgency: bool,
    /// `[sla.breach] channel`: a queue whose channel also hears of every breach, e.g.
    /// `escalations` (default: none, each case's own queue only).
    pub breach_queue: Option<String>,
    /// `unclaimed_after`: a new case nobody claimed this long is listed to its queue, once;
    /// `0s` turns it off (default `30m`).
    pub unclaimed_after: Option<Duration>,
}

/// One value per urgency, as the `[sla.*]` target tables write them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PerUrgency<T> {
    /// `urgent`.
    pub urgent: T,
    /// `high`.
    pub high: T,
    /// `normal`.
    pub normal: T,
    /// `low`.
    pub low: T,
}

impl<T: Copy> PerUrgency<T> {
    /// The value for `urgency`.
    pub fn for_urgency(&self, urgency: Urgency) -> T {
        match urgency {
            Urgency::Urgent => self.urgent,
            Urgency::High => self.high,
            Urgency::Normal => self.normal,
            Urgency::Low => self.low,
        }
    }
}

/// `[business_hours]`: when the team works, in `bot.timezone`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessHours {
    /// `days`: working days, written like `Mon-Fri`, `Mon,Wed,Fri` or `Sat-Sun`
    /// (case-insensitive); stored Monday first without repeats (default `Mon-Fri`).
    pub days: Vec<Weekday>,
    /// `open`: start of the working day, `HH:MM` (default `09:00`).
    pub open: NaiveTime,
    /// `close`: end of the working day, `HH:MM`, after `open` (default `17:30`).
    pub close: NaiveTime,
    /// `holidays`: dates (`YYYY-MM-DD`) that are not working days (default: none).
    pub holidays: Vec<NaiveDate>,
}

/// One `[[routing]]` rule. Every condition that is set must hold; an empty list means "any".
#[derive(Debug, Clone)]
pub struct RoutingRule {
    /// `name`: required and unique; shown when explaining why a case was routed.
    pub name: String,
    /// `platforms`: networks the post must come from (default: any).
    pub platforms: Vec<Platform>,
    /// `accounts`: ids of configured accounts the post must arrive on (default: any).
    pub accounts: Vec<String>,
    /// `kinds`: kinds of post (`mention`, `comment`, `direct_message`) (default: any).
    pub kinds: Vec<PostKind>,
    /// `keywords`: the text must contain one of these as a whole word, case-insensitive
    /// (default: any text).
    pub keywords: Vec<String>,
    /// `keywords` compiled into one case-insensitive whole-word pattern; `None` when there are
    /// no keywords.
    pub keyword_regex: Option<Regex>,
    /// `regex`: the text must match this pattern (default: any text).
    pub regex: Option<Regex>,
    /// `urgency`: urgency given to matching cases (default: unchanged).
    pub urgency: Option<Urgency>,
    /// `queue`: queue for matching cases (default: the account's queue).
    pub queue: Option<String>,
    /// `tags`: tags added to matching cases (default: none).
    pub tags: Vec<String>,
}

impl RoutingRule {
    /// Whether `text` satisfies the rule's text conditions (`keywords` and `regex`); the
    /// platform, account and kind conditions are left to the caller, which has the post.
    pub fn matches_text(&self, text: &str) -> bool {
        self.keyword_regex
            .as_ref()
            .is_none_or(|re| re.is_match(text))
            && self.regex.as_ref().is_none_or(|re| re.is_match(text))
    }
}

/// When closing a case drafts a public "closing the loop" follow-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CloseLoop {
    /// Never.
    Never,
    /// Only when the conversation was moved offline (email, SMS, DM).
    Offline,
    /// Always.
    Always,
}

/// `[accounts.offline]`: the public replies that move a conversation off the network.
/// Placeholders: `{name}` `{handle}` `{agent}` `{case}` `{address}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfflineTemplates {
    /// `email` (default `crate::text::defaults::OFFLINE_EMAIL`).
    pub email: String,
    /// `sms` (default `crate::text::defaults::OFFLINE_SMS`).
    pub sms: String,
    /// `dm` (default `crate::text::defaults::OFFLINE_DM`).
    pub dm: String,
}

/// `[accounts.off_hours]`: an automatic answer to customers who write outside business hours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffHours {
    /// `message`: the answer, sent once per conversation per off-hours period; placeholders
    /// `{name}` `{handle}` `{case}` `{opens}` (the next opening time) (default
    /// `crate::text::defaults::OFF_HOURS`).
    pub message: String,
    /// `public`: also answer public posts (mentions, comments), publicly; otherwise only
    /// direct messages are answered (default `false`).
    pub public: bool,
}

/// Placeholders an off-hours message may use.
pub const OFF_HOURS_PLACEHOLDERS: &[&str] = &["name", "handle", "case", "opens"];

impl OfflineTemplates {
    /// The template for `channel`.
    pub fn get(&self, channel: OfflineChannel) -> &str {
        match channel {
            OfflineChannel::Email => &self.email,
            OfflineChannel::Sms => &self.sms,
            OfflineChannel::Dm => &self.dm,
        }
    }
}

/// Where a demo account's posts come from (the demo-only keys of `[[accounts]]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoSource {
    /// `simulate`: the network the demo account behaves as, whose reply rules apply; required,
    /// not `demo`.
    pub platform: Platform,
    /// `pace`: time between replayed posts; zero replays as fast as possible (default `3s`).
    pub pace: Duration,
    /// `feed`: a JSON-lines feed replayed instead of the bundled one, resolved against the
    /// config file's directory; must exist (default: the bundled feed).
    pub feed: Option<PathBuf>,
}

/// One `[[accounts]]` entry: a brand account on one network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountConfig {
    /// `id`: required, unique, `[a-z0-9_-]+`; used in case ids, routing rules and the store.
    pub id: String,
    /// `network`: `x`, `facebook`, `instagram`, `mastodon`, `bluesky`, `webhook` or `demo`;
    /// required.
    pub network: Platform,
    /// `name`: display name of the brand account (default: none).
    pub name: Option<String>,
    /// `handle`: the brand account's handle, e.g. `@acme` (default: none).
    pub handle: Option<String>,
    /// `approval`: when drafts need approval: `always`, `never` or `first_reply`
    /// (default `always`).
    pub approval: ApprovalMode,
    /// `trusted_agents`: agents whose drafts skip approval (default: none).
    pub trusted_agents: Vec<String>,
    /// `queue`: queue for this account's cases unless a routing rule says otherwise
    /// (default `default`).
    pub queue: String,
    /// `max_length`: overrides the platform's reply length limit, e.g. for a Mastodon instance
    /// allowing more; more than zero (default: the platform's limit).
    pub max_length: Option<usize>,
    /// `human_agent_tag`: Messenger/Instagram DMs may be answered up to 7 days instead of 24h;
    /// only for facebook and instagram (or demo accounts simulating them) (default `false`).
    pub human_agent_tag: bool,
    /// `close_loop`: when closing a case drafts the public "closing the loop" follow-up:
    /// `never`, `offline` or `always` (default `offline`).
    pub close_loop: CloseLoop,
    /// `close_loop_text`: that follow-up's template, placeholders `{name}` `{handle}` `{agent}`
    /// `{case}` (default `crate::text::defaults::CLOSE_LOOP`).
    pub close_loop_text: String,
    /// `[accounts.offline]`: templates for `offline <channel>` (defaults as documented there).
    pub offline: OfflineTemplates,
    /// `[accounts.off_hours]`: the autoresponder outside `[business_hours]`, which must then
    /// exist (default: absent, no autoresponder).
    pub off_hours: Option<OffHours>,
    /// The demo-only keys (`simulate`, `pace`, `feed`); `Some` exactly for `network = "demo"`.
    pub demo: Option<DemoSource>,
    /// `api_url`: the network's API base, for proxies and tests (default: the network's public
    /// API, e.g. `https://api.x.com/`, for Bluesky the account's PDS `https://bsky.social/`;
    /// normalised to end with `/`).
    pub api_url: String,
    /// `poll_interval`: time between polls of the network; the connector waits longer when the
    /// network's rate limit asks it to (default `60s`, at least `1s`).
    pub poll_interval: Duration,
    /// The X-only keys (`auth`, `webhook`, `user_id`, `backfill`, `mentions`, `dms`,
    /// `listening`); `Some` exactly for `network = "x"`.
    pub x: Option<XAccount>,
    /// The Facebook/Instagram keys (`page_id`, `graph_version`, `auth`, `webhook`); `Some`
    /// exactly for `network = "facebook"` and `network = "instagram"`.
    pub meta: Option<MetaAccount>,
    /// The generic-webhook keys (`secret`, `replay_window`, `callback_url`); `Some` exactly for
    /// `network = "webhook"`.
    pub webhook: Option<WebhookAccount>,
    /// The Mastodon keys (`auth`, `visibility`, `streaming`); `Some` exactly for
    /// `network = "mastodon"`, whose `api_url` (the instance) is required.
    pub mastodon: Option<MastodonAccount>,
    /// The Bluesky keys (`auth`); `Some` exactly for `network = "bluesky"`, whose `api_url`
    /// is the account's PDS.
    pub bluesky: Option<BlueskyAccount>,
}

/// The keys of an `[[accounts]]` entry with `network = "bluesky"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlueskyAccount {
    /// `auth.identifier`: the account's handle (`acme.bsky.social`) or DID; required, in
    /// `auth = { kind = "app_password", identifier = "acme.bsky.social", password =
    /// "${BSKY_APP_PASSWORD}" }`.
    pub identifier: String,
    /// `auth.password` (or `auth.app_password`): an app password (Settings → Privacy and
    /// security → App passwords), not the account's own; required. Used to log in only when
    /// no session kept in the store works (logins are rate-limited per day).
    pub password: Secret,
}

/// The keys of an `[[accounts]]` entry with `network = "webhook"`: any source that signs its
/// posts with a shared secret delivers them to `/webhooks/generic/<account id>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookAccount {
    /// `secret`: the shared secret both sides sign with (HMAC-SHA256 over
    /// `"{timestamp}.{body}"`), at least 16 characters; required (write `"${VARIABLE}"` to
    /// read it from the environment).
    pub secret: Secret,
    /// `replay_window`: how far a delivery's `X-Carebridge-Timestamp` may be from the bot's
    /// clock, either way, before it is refused as stale; from `1s` to `1h` (default `5m`).
    pub replay_window: Duration,
    /// `callback_url`: the http(s) URL approved replies are POSTed to, signed the same way
    /// (default: none, and replies on the account's cases are refused when drafted).
    pub callback_url: Option<String>,
}

/// The keys of an `[[accounts]]` entry with `network = "mastodon"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MastodonAccount {
    /// `auth`: `{ kind = "access_token", access_token = "${MASTODON_TOKEN}" }`, the token of an
    /// application on the instance with the scopes `read:accounts read:notifications
    /// read:statuses write:statuses write:favourites`; required.
    pub access_token: Secret,
    /// `visibility`: how a public mention is answered: `public`, `unlisted` or `private`; a
    /// direct mention is always answered `direct` (default `unlisted`).
    pub visibility: Visibility,
    /// `streaming`: also listen to the instance's notification stream, so mentions arrive in
    /// a second; polling goes on beside it and catches up after every reconnect (default
    /// `true`).
    pub streaming: bool,
    /// Not a key: the instance's `characters_reserved_per_url` (`GET /api/v2/instance`, read
    /// at start and remembered in the store); how long a link counts (default `23`).
    pub url_length: usize,
}

/// The visibility of a Mastodon answer to a public mention (a direct one is answered
/// `direct`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    Public,
    Unlisted,
    /// Followers only.
    Private,
}

/// The keys of an `[[accounts]]` entry with `network = "facebook"` or `"instagram"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaAccount {
    /// `page_id`: the Facebook Page's id, or for Instagram the Instagram professional
    /// account's id (the `entry[].id` of its webhook deliveries); required.
    pub page_id: String,
    /// `graph_version`: the Graph API version in every request path, e.g. `v21.0`
    /// (default `v21.0`).
    pub graph_version: String,
    /// `auth`: `{ kind = "page_token", page_token = "${FB_PAGE_TOKEN}" }`, a long-lived Page
    /// access token (for Instagram: the token of the Page linked to the account); required.
    pub page_token: Secret,
    /// `webhook`: `{ app_secret, verify_token }`: the Meta app's secret, which signs deliveries
    /// to `/webhooks/meta` (`X-Hub-Signature-256`), and the token the subscription's
    /// verification request must carry; required (Meta delivers these accounts' posts only
    /// by webhook).
    pub webhook: MetaWebhook,
}

/// `accounts.webhook` of a Facebook/Instagram account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaWebhook {
    /// `app_secret`: the Meta app's secret (App settings → Basic); required.
    pub app_secret: Secret,
    /// `verify_token`: any string, also entered in the app's webhook settings; required.
    pub verify_token: Secret,
}

/// The keys of an `[[accounts]]` entry with `network = "x"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XAccount {
    /// `auth`: how the bot acts as the account; required. Either OAuth 2.0 user context
    /// `{ kind = "oauth2", access_token, refresh_token, client_id, client_secret }`
    /// (`refresh_token` needs the `offline.access` scope; `client_secret` only for confidential
    /// clients) or OAuth 1.0a user context `{ kind = "oauth1", consumer_key, consumer_secret,
    /// access_token, access_token_secret }`.
    pub auth: XAuth,
    /// `webhook`: receive mentions and DMs through the Account Activity API at
    /// `/webhooks/x/<account id>` as well as by polling: `{ consumer_secret = "…" }`, which may
    /// be left out with OAuth 1.0a auth (its consumer secret is used) (default: none, polling
    /// only).
    pub webhook: Option<XWebhook>,
    /// `user_id`: the account's numeric X user id (default: asked once from `GET /2/users/me`
    /// and remembered in the store).
    pub user_id: Option<String>,
    /// `backfill`: on the first start, import mentions and DMs from this far back; `0s` imports
    /// nothing older than the start (default `0s`).
    pub backfill: Duration,
    /// `mentions`: poll the account's mentions (default `true`).
    pub mentions: bool,
    /// `dms`: poll the account's direct messages (needs the `dm.read` scope) (default `true`).
    pub dms: bool,
    /// `[[accounts.listening]]`: recent-search queries whose results open `listening` cases
    /// (default: none).
    pub listening: Vec<ListeningQuery>,
}

/// `accounts.auth` of an X account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum XAuth {
    /// OAuth 2.0 user context; refreshed tokens are kept in the store.
    OAuth2 {
        access_token: Secret,
        refresh_token: Option<Secret>,
        client_id: String,
        client_secret: Option<Secret>,
    },
    /// OAuth 1.0a user context (HMAC-SHA1 request signing).
    OAuth1 {
        consumer_key: Secret,
        consumer_secret: Secret,
        access_token: Secret,
        access_token_secret: Secret,
    },
}

/// `accounts.webhook` of an X account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XWebhook {
    /// `consumer_secret`: the X app's consumer secret, which signs deliveries and CRC checks
    /// (default: the OAuth 1.0a `auth.consumer_secret`; required with OAuth 2.0).
    pub consumer_secret: Secret,
}

/// One `[[accounts.listening]]` query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListeningQuery {
    /// `query`: an X recent-search query, e.g. `"acme outage -is:retweet"`; required.
    pub query: String,
    /// `queue`: queue for the cases it opens (default `listening`).
    pub queue: String,
}

impl AccountConfig {
    /// The platform whose rules apply: what a demo account simulates, else its network.
    pub fn platform(&self) -> Platform {
        self.demo
            .as_ref()
            .map_or(self.network, |demo| demo.platform)
    }

    /// The demo settings, for demo accounts.
    pub fn demo(&self) -> Option<&DemoSource> {
        self.demo.as_ref()
    }

    /// The X settings, for X accounts.
    pub fn x(&self) -> Option<&XAccount> {
        self.x.as_ref()
    }
}

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobKind {
    /// Brings back snoozed cases whose time has come and marks SLA breaches.
    Sweep,
    /// Posts the report of the last `period` to a queue's channel.
    Digest,
}

/// The keys of a `[[jobs]]` entry with `kind = "digest"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestJob {
    /// `channel`: the queue whose chat channel the digest goes to (`default`, `billing`, …;
    /// a queue without a channel of its own uses the default channel); required for digest
    /// jobs and refused for others.
    pub queue: String,
    /// `period`: how far back each digest looks, ending at its slot; more than zero
    /// (default `24h`).
    pub period: Duration,
}

/// `jobs.period`'s default: a daily digest covers the day before it.
pub const DEFAULT_DIGEST_PERIOD: Duration = Duration::from_secs(24 * 3600);

/// One `[[jobs]]` entry: timed work.
#[derive(Debug, Clone)]
pub struct JobConfig {
    /// `name`: required and unique; the key under which the last run is remembered.
    pub name: String,
    /// `cron`, as written: a 5-field crontab line or `@daily`-style shorthand; required.
    pub cron: String,
    /// `cron`, translated into a schedule with crontab's meaning.
    pub schedule: cron::Schedule,
    /// `timezone`: IANA zone the schedule is read in (default `bot.timezone`).
    pub timezone: Tz,
    /// `kind`: what the job does: `sweep` or `digest`; required.
    pub kind: JobKind,
    /// The digest-only keys (`channel`, `period`); `Some` exactly for `kind = "digest"`.
    pub digest: Option<DigestJob>,
}

impl Config {
    /// Reads and validates the file at `path`, taking `${VAR}`s from the process environment
    /// and resolving relative paths against the file's directory.
    ///
    /// # Errors
    ///
    /// Every [`Problem`] found: one naming the path if the file cannot be read, one with line
    /// and column for a TOML syntax error, otherwise all key-level problems together.
    pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigErrors(vec![Problem::new(
                path.display().to_string(),
                format!("cannot read the config file: {e}"),
            )])
        })?;
        let parent = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        // Absolute, so that paths in the config keep meaning the same if the process later
        // changes directory; falls back to the relative form if the cwd is unknown.
        let base_dir = std::path::absolute(parent).unwrap_or_else(|_| parent.to_path_buf());
        // Lossy rather than `env::var`, which would call a set but non-UTF-8 variable unset.
        let lookup =
            |name: &str| std::env::var_os(name).map(|value| value.to_string_lossy().into_owned());
        Config::from_toml_str(&text, &base_dir, &lookup)
    }

    /// Validates configuration text. `base_dir` is what relative paths are resolved against;
    /// `env` looks up `${VAR}`s (`None` = unset).
    ///
    /// # Errors
    ///
    /// As [`Config::load`], minus the unreadable-file case.
    pub fn from_toml_str(
        text: &str,
        base_dir: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigErrors> {
        let mut table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| ConfigErrors(vec![syntax_problem(text, &e)]))?;
        let mut problems = Vec::new();
        let substitution = env::substitute(&mut table, env, &mut problems);
        let raw = raw::read(table, &mut problems);
        let config = validate::validate(raw, base_dir, &substitution.failed, &mut problems);
        if problems.is_empty() {
            Ok(config)
        } else {
            env::redact(&mut problems, &substitution.done);
            Err(ConfigErrors(problems))
        }
    }

    /// The account with this id.
    pub fn account(&self, id: &str) -> Option<&AccountConfig> {
        self.accounts.iter().find(|account| account.id == id)
    }
}

/// A TOML syntax error as one problem located by line and column (both 1-based, column in
/// characters).
fn syntax_problem(text: &str, error: &toml::de::Error) -> Problem {
    let message = error.message().trim().replace('\n', "; ");
    let Some(span) = error.span() else {
        return Problem::new("TOML syntax", message);
    };
    let before = text.get(..span.start).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    Problem::new(format!("line {line}, column {column}"), message)
}

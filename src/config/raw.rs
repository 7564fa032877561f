//! The `bot.toml` shape as written: serde structs with every value optional and every enum a
//! string, plus the deserialization that reports unknown keys and type errors with their paths.
//!
//! Owns syntax-level reading only. It applies no defaults and checks no meaning (that is
//! `validate`'s job), so that "missing" stays distinguishable from "written" and bad values can
//! all be reported together instead of serde stopping at the first one. Meanings and defaults of
//! the fields are documented on the typed structs in the parent module.
//!
//! Unknown keys are found with `serde_ignored` rather than `deny_unknown_fields`, which would
//! stop at the first one; each section and each `[[array]]` element is deserialized on its own
//! so one type error does not hide problems elsewhere.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use toml::{Table, Value};

use super::{Problem, path};

/// The top level: each section is kept as a raw value and deserialized separately.
#[derive(Debug, Default, Deserialize)]
pub(super) struct RawTop {
    /// `[bot]`, see [`super::BotConfig`].
    pub bot: Option<Value>,
    /// `[chat]`, see [`super::ChatConfig`].
    pub chat: Option<Value>,
    /// `[approval]`, see [`super::ApprovalConfig`].
    pub approval: Option<Value>,
    /// `[sla]`, see [`super::SlaConfig`].
    pub sla: Option<Value>,
    /// `[business_hours]`, see [`super::BusinessHours`].
    pub business_hours: Option<Value>,
    /// `[[routing]]`, see [`super::RoutingRule`].
    pub routing: Option<Value>,
    /// `[canned]`, see [`super::Config::canned`].
    pub canned: Option<Value>,
    /// `[[accounts]]`, see [`super::AccountConfig`].
    pub accounts: Option<Value>,
    /// `[[jobs]]`, see [`super::JobConfig`].
    pub jobs: Option<Value>,
}

/// `[bot]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(expecting = "a [bot] table")]
pub(super) struct RawBot {
    /// [`super::BotConfig::data_dir`].
    pub data_dir: Option<String>,
    /// [`super::BotConfig::listen`].
    pub listen: Option<String>,
    /// [`super::BotConfig::monitor`].
    pub monitor: Option<bool>,
    /// [`super::BotConfig::timezone`].
    pub timezone: Option<String>,
    /// [`super::BotConfig::flush_interval`].
    pub flush_interval: Option<String>,
    /// [`super::BotConfig::reopen_window`].
    pub reopen_window: Option<String>,
    /// [`super::BotConfig::auto_close_after`].
    pub auto_close_after: Option<String>,
}

/// `[chat]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(expecting = "a [chat] table")]
pub(super) struct RawChat {
    /// [`super::ChatConfig::kind`].
    pub kind: Option<String>,
    /// [`super::ChatConfig::console`].
    pub console: Option<RawConsole>,
    /// [`super::ChatConfig::slack`].
    pub slack: Option<RawSlack>,
    /// [`super::ChatConfig::discord`].
    pub discord: Option<RawDiscord>,
}

/// `[chat.discord]` as written. Ids are strings: Discord's snowflakes, copied from the
/// client, and too long to be safe as TOML integers everywhere.
#[derive(Debug, Default, Deserialize)]
#[serde(expecting = "a [chat.discord] table")]
pub(super) struct RawDiscord {
    /// [`super::DiscordConfig::token`].
    pub token: Option<String>,
    /// [`super::DiscordConfig::application_id`].
    pub application_id: Option<String>,
    /// [`super::DiscordConfig::guild_id`].
    pub guild_id: Option<String>,
    /// [`super::DiscordConfig::api_url`].
    pub api_url: Option<String>,
    /// [`super::DiscordConfig::approver_roles`].
    pub approver_roles: Option<Vec<String>>,
    /// [`super::DiscordConfig::approvers`].
    pub approvers: Option<Vec<String>>,
    /// [`super::DiscordConfig::agent_roles`].
    pub agent_roles: Option<Vec<String>>,
    /// [`super::DiscordConfig::agents`].
    pub agents: Option<Vec<String>>,
    /// [`super::DiscordConfig::thread_commands`].
    pub thread_commands: Option<bool>,
    /// [`super::DiscordConfig::archive_closed`].
    pub archive_closed: Option<bool>,
    /// [`super::DiscordConfig::auto_archive_minutes`].
    pub auto_archive: Option<String>,
    /// [`super::DiscordConfig::command_permission`].
    pub command_permission: Option<String>,
    /// [`super::DiscordConfig::role_cache`].
    pub role_cache: Option<String>,
    /// [`super::DiscordConfig::channels`].
    pub channels: Option<BTreeMap<String, String>>,
    /// [`super::DiscordConfig::on_call`].
    pub on_call: Option<BTreeMap<String, String>>,
}

/// `[chat.slack]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(expecting = "a [chat.slack] table")]
pub(super) struct RawSlack {
    /// [`super::SlackConfig::mode`].
    pub mode: Option<String>,
    /// [`super::SlackConfig::bot_token`].
    pub bot_token: Option<String>,
    /// [`super::SlackConfig::app_token`].
    pub app_token: Option<String>,
    /// [`super::SlackConfig::signing_secret`].
    pub signing_secret: Option<String>,
    /// [`super::SlackConfig::api_url`].
    pub api_url: Option<String>,
    /// [`super::SlackConfig::public_url`].
    pub public_url: Option<String>,
    /// [`super::SlackConfig::app_name`].
    pub app_name: Option<String>,
    /// [`super::SlackConfig::approvers`].
    pub approvers: Option<Vec<String>>,
    /// [`super::SlackConfig::agents`].
    pub agents: Option<Vec<String>>,
    /// [`super::SlackConfig::group_cache`].
    pub group_cache: Option<String>,
    /// [`super::SlackConfig::channels`].
    pub channels: Option<BTreeMap<String, String>>,
    /// [`super::SlackConfig::on_call`].
    pub on_call: Option<BTreeMap<String, String>>,
}

/// `[chat.console]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(expecting = "a [chat.console] table")]
pub(super) struct RawConsole {
    /// [`super::ConsoleConfig::approvers`].
    pub approvers: Option<Vec<String>>,
    /// [`super::ConsoleConfig::agents`].
    pub agents: Option<Vec<String>>,
    /// [`super::ConsoleConfig::user`].
    pub user: Option<String>,
    /// [`super::ConsoleConfig::on_call`].
    pub on_call: Option<BTreeMap<String, String>>,
}

/// `[approval]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(expecting = "an [approval] table")]
pub(super) struct RawApproval {
    /// [`super::ApprovalConfig::approve`].
    pub approve: Option<Vec<String>>,
    /// [`super::ApprovalConfig::reject`].
    pub reject: Option<Vec<String>>,
    /// [`super::ApprovalConfig::allow_self_approval`].
    pub allow_self_approval: Option<bool>,
}

/// `[sla]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(expecting = "an [sla] table")]
pub(super) struct RawSla {
    /// [`super::SlaConfig::business_hours`].
    pub business_hours: Option<bool>,
    /// [`super::SlaConfig::warn_before`].
    pub warn_before: Option<String>,
    /// [`super::SlaConfig::unclaimed_after`].
    pub unclaimed_after: Option<String>,
    /// [`super::SlaConfig::first_response`].
    pub first_response: Option<RawTargets>,
    /// [`super::SlaConfig::next_response`].
    pub next_response: Option<RawTargets>,
    /// [`super::SlaConfig::resolution`].
    pub resolution: Option<RawTargets>,
    /// `[sla.breach]`.
    pub breach: Option<RawBreach>,
}

/// `[sla.first_response]`, `[sla.next_response]` or `[sla.resolution]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(expecting = "a table of durations per urgency (urgent, high, normal, low)")]
pub(super) struct RawTargets {
    /// [`super::PerUrgency::urgent`].
    pub urgent: Option<String>,
    /// [`super::PerUrgency::high`].
    pub high: Option<String>,
    /// [`super::PerUrgency::normal`].
    pub normal: Option<String>,
    /// [`super::PerUrgency::low`].
    pub low: Option<String>,
}

/// `[sla.breach]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(expecting = "an [sla.breach] table")]
pub(super) struct RawBreach {
    /// [`super::SlaConfig::raise_urgency`].
    pub raise_urgency: Option<bool>,
    /// [`super::SlaConfig::breach_queue`].
    pub channel: Option<String>,
}

/// `[business_hours]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(expecting = "a [business_hours] table")]
pub(super) struct RawBusinessHours {
    /// [`super::BusinessHours::days`].
    pub days: Option<String>,
    /// [`super::BusinessHours::open`]; a TOML time literal arrives here as its text.
    pub open: Option<String>,
    /// [`super::BusinessHours::close`]; a TOML time literal arrives here as its text.
    pub close: Option<String>,
    /// [`super::BusinessHours::holidays`]; TOML date literals arrive here as their text.
    pub holidays: Option<Vec<String>>,
}

/// One `[[routing]]` rule as written.
#[derive(Debug, Default, Deserialize)]
#[serde(expecting = "a [[routing]] table")]
pub(super) struct RawRoutingRule {
    /// [`super::RoutingRule::name`].
    pub name: Option<String>,
    /// [`super::RoutingRule::platforms`].
    pub platforms: Option<Vec<String>>,
    /// [`super::RoutingRule::accounts`].
    pub accounts: Option<Vec<String>>,
    /// [`super::RoutingRule::kinds`].
    pub kinds: Option<Vec<String>>,
    /// [`super::RoutingRule::keywords`].
    pub keywords: Option<Vec<String>>,
    /// [`super::RoutingRule::regex`].
    pub regex: Option<String>,
    /// [`super::RoutingRule::urgency`].
    pub urgency: Option<String>,
    /// [`super::RoutingRule::queue`].
    pub queue: Option<String>,
    /// [`super::RoutingRule::tags`].
    pub tags: Option<Vec<String>>,
}

/// One `[[accounts]]` entry as written.
#[derive(Debug, Default, Deserialize)]
#[serde(expecting = "an [[accounts]] table")]
pub(super) struct RawAccount {
    /// [`super::AccountConfig::id`].
    pub id: Option<String>,
    /// [`super::AccountConfig::network`].
    pub network: Option<String>,
    /// [`super::AccountConfig::name`].
    pub name: Option<String>,
    /// [`super::AccountConfig::handle`].
    pub handle: Option<String>,
    /// [`super::AccountConfig::approval`].
    pub approval: Option<String>,
    /// [`super::AccountConfig::trusted_agents`].
    pub trusted_agents: Option<Vec<String>>,
    /// [`super::AccountConfig::queue`].
    pub queue: Option<String>,
    /// [`super::AccountConfig::max_length`].
    pub max_length: Option<usize>,
    /// [`super::AccountConfig::human_agent_tag`].
    pub human_agent_tag: Option<bool>,
    /// [`super::AccountConfig::close_loop`].
    pub close_loop: Option<String>,
    /// [`super::AccountConfig::close_loop_text`].
    pub close_loop_text: Option<String>,
    /// [`super::AccountConfig::offline`].
    pub offline: Option<RawOffline>,
    /// [`super::AccountConfig::off_hours`].
    pub off_hours: Option<RawOffHours>,
    /// [`super::DemoSource::platform`] (demo accounts only).
    pub simulate: Option<String>,
    /// [`super::DemoSource::pace`] (demo accounts only).
    pub pace: Option<String>,
    /// [`super::DemoSource::feed`] (demo accounts only).
    pub feed: Option<String>,
    /// [`super::AccountConfig::api_url`].
    pub api_url: Option<String>,
    /// [`super::AccountConfig::poll_interval`].
    pub poll_interval: Option<String>,
    /// [`super::XAccount::auth`] (network accounts).
    pub auth: Option<RawAuth>,
    /// [`super::XAccount::webhook`].
    pub webhook: Option<RawWebhook>,
    /// [`super::XAccount::user_id`].
    pub user_id: Option<String>,
    /// [`super::XAccount::backfill`].
    pub backfill: Option<String>,
    /// [`super::XAccount::mentions`].
    pub mentions: Option<bool>,
    /// [`super::XAccount::dms`].
    pub dms: Option<bool>,
    /// [`super::XAccount::listening`].
    pub listening: Option<Vec<RawListening>>,
    /// [`super::MetaAccount::page_id`].
    pub page_id: Option<String>,
    /// [`super::MetaAccount::graph_version`].
    pub graph_version: Option<String>,
    /// [`super::MastodonAccount::visibility`].
    pub visibility: Option<String>,
    /// [`super::MastodonAccount::streaming`].
    pub streaming: Option<bool>,
    /// [`super::WebhookAccount::secret`].
    pub secret: Option<String>,
    /// [`super::WebhookAccount::replay_window`].
    pub replay_window: Option<String>,
    /// [`super::WebhookAccount::callback_url`].
    pub callback_url: Option<String>,
}

/// `accounts.auth` as written: one table for every network's credential kinds; which keys
/// belong depends on `kind`, which `validate` checks.
#[derive(Debug, Default, Deserialize)]
#[serde(expecting = "an auth table, e.g. { kind = \"oauth2\", … }")]
pub(super) struct RawAuth {
    /// The credential kind (`oauth2`, `oauth1`).
    pub kind: Option<String>,
    /// OAuth 2.0, OAuth 1.0a and Mastodon's `access_token`.
    pub access_token: Option<String>,
    /// OAuth 2.0.
    pub refresh_token: Option<String>,
    /// OAuth 2.0.
    pub client_id: Option<String>,
    /// OAuth 2.0 (confidential clients).
    pub client_secret: Option<String>,
    /// OAuth 1.0a.
    pub consumer_key: Option<String>,
    /// OAuth 1.0a.
    pub consumer_secret: Option<String>,
    /// OAuth 1.0a.
    pub access_token_secret: Option<String>,
    /// Facebook/Instagram `page_token`.
    pub page_token: Option<String>,
    /// Bluesky's `identifier` (handle or DID).
    pub identifier: Option<String>,
    /// Bluesky's app `password` (also spelt `app_password`).
    #[serde(alias = "app_password")]
    pub password: Option<String>,
}

impl RawAuth {
    /// The token keys and whether each is written: all but `kind` and Bluesky's
    /// `identifier` and `password` (those are checked for every network in one place).
    pub fn token_keys(&self) -> [(&'static str, bool); 8] {
        [
            ("access_token", self.access_token.is_some()),
            ("refresh_token", self.refresh_token.is_some()),
            ("client_id", self.client_id.is_some()),
            ("client_secret", self.client_secret.is_some()),
            ("consumer_key", self.consumer_key.is_some()),
            ("consumer_secret", self.consumer_secret.is_some()),
            ("access_token_secret", self.access_token_secret.is_some()),
            ("page_token", self.page_token.is_some()),
        ]
    }
}

/// `accounts.webhook` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(expecting = "a webhook table")]
pub(super) struct RawWebhook {
    /// [`super::XWebhook::consumer_secret`].
    pub consumer_secret: Option<String>,
    /// [`super::MetaWebhook::app_secret`].
    pub app_secret: Option<String>,
    /// [`super::MetaWebhook::verify_token`].
    pub verify_token: Option<String>,
}

/// One `[[accounts.listening]]` query as written.
#[derive(Debug, Default, Deserialize)]
#[serde(expecting = "a listening table, e.g. { query = \"acme outage\" }")]
pub(super) struct RawListening {
    /// [`super::ListeningQuery::query`].
    pub query: Option<String>,
    /// [`super::ListeningQuery::queue`].
    pub queue: Option<String>,
}

/// `[accounts.offline]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(expecting = "an [accounts.offline] table")]
pub(super) struct RawOffline {
    /// [`super::OfflineTemplates::email`].
    pub email: Option<String>,
    /// [`super::OfflineTemplates::sms`].
    pub sms: Option<String>,
    /// [`super::OfflineTemplates::dm`].
    pub dm: Option<String>,
}

/// `[accounts.off_hours]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(expecting = "an [accounts.off_hours] table")]
pub(super) struct RawOffHours {
    /// [`super::OffHours::message`].
    pub message: Option<String>,
    /// [`super::OffHours::public`].
    pub public: Option<bool>,
}

/// One `[[jobs]]` entry as written.
#[derive(Debug, Default, Deserialize)]
#[serde(expecting = "a [[jobs]] table")]
pub(super) struct RawJob {
    /// [`super::JobConfig::name`].
    pub name: Option<String>,
    /// [`super::JobConfig::schedule`], as a crontab line.
    pub cron: Option<String>,
    /// [`super::JobConfig::timezone`].
    pub timezone: Option<String>,
    /// [`super::JobConfig::kind`].
    pub kind: Option<String>,
    /// [`super::DigestJob::queue`].
    pub channel: Option<String>,
    /// [`super::DigestJob::period`].
    pub period: Option<String>,
}

/// A top-level table section.
#[derive(Debug)]
pub(super) enum Section<T> {
    /// Not in the file.
    Absent,
    /// In the file, but it could not be read (the problem is already recorded).
    Broken,
    /// In the file and read.
    Present(T),
}

impl<T: Default> Section<T> {
    /// The section as read, or an empty one (all defaults) when absent or broken.
    pub fn or_default(self) -> T {
        match self {
            Section::Present(value) => value,
            Section::Absent | Section::Broken => T::default(),
        }
    }
}

/// A top-level array of tables; an element that could not be read is `None` (its problem is
/// already recorded) so the others keep their indices for paths.
pub(super) type Elements<T> = Vec<Option<T>>;

/// The whole file as written, section by section.
#[derive(Debug)]
pub(super) struct RawDocument {
    /// `[bot]`.
    pub bot: Section<RawBot>,
    /// `[chat]`.
    pub chat: Section<RawChat>,
    /// `[approval]`.
    pub approval: Section<RawApproval>,
    /// `[sla]`.
    pub sla: Section<RawSla>,
    /// `[business_hours]`.
    pub business_hours: Section<RawBusinessHours>,
    /// `[[routing]]`.
    pub routing: Section<Elements<RawRoutingRule>>,
    /// `[canned]`.
    pub canned: Section<BTreeMap<String, String>>,
    /// `[[accounts]]`.
    pub accounts: Section<Elements<RawAccount>>,
    /// `[[jobs]]`.
    pub jobs: Section<Elements<RawJob>>,
}

/// Reads the (already substituted) document, recording unknown keys and type errors.
pub(super) fn read(table: Table, problems: &mut Vec<Problem>) -> RawDocument {
    let top: RawTop = deserialize(Value::Table(table), "", problems).unwrap_or_default();
    RawDocument {
        bot: section(top.bot, "bot", problems),
        chat: section(top.chat, "chat", problems),
        approval: section(top.approval, "approval", problems),
        sla: section(top.sla, "sla", problems),
        business_hours: section(top.business_hours, "business_hours", problems),
        routing: elements(top.routing, "routing", problems),
        canned: section(top.canned, "canned", problems),
        accounts: elements(top.accounts, "accounts", problems),
        jobs: elements(top.jobs, "jobs", problems),
    }
}

fn section<T: DeserializeOwned>(
    value: Option<Value>,
    at: &str,
    problems: &mut Vec<Problem>,
) -> Section<T> {
    match value {
        None => Section::Absent,
        Some(value) => match deserialize(value, at, problems) {
            Some(read) => Section::Present(read),
            None => Section::Broken,
        },
    }
}

fn elements<T: DeserializeOwned>(
    value: Option<Value>,
    at: &str,
    problems: &mut Vec<Problem>,
) -> Section<Elements<T>> {
    let Some(value) = value else {
        return Section::Absent;
    };
    match value {
        Value::Array(items) => Section::Present(
            items
                .into_iter()
                .enumerate()
                .map(|(i, item)| deserialize(item, &path::index(at, i), problems))
                .collect(),
        ),
        other => {
            problems.push(Problem::new(
                at,
                format!(
                    "expected an array of tables (write [[{at}]] sections), found {}",
                    other.type_str()
                ),
            ));
            Section::Broken
        }
    }
}

/// Deserializes `value` into `T`, recording every unknown key and the first type error, each
/// with its full path below `prefix`.
pub(super) fn deserialize<T: DeserializeOwned>(
    value: Value,
    prefix: &str,
    problems: &mut Vec<Problem>,
) -> Option<T> {
    let mut unknown = Vec::new();
    let mut on_ignored = |ignored: serde_ignored::Path<'_>| {
        unknown.push(path::from_ignored(prefix, &ignored));
    };
    let result: Result<T, _> =
        serde_path_to_error::deserialize(serde_ignored::Deserializer::new(value, &mut on_ignored));
    problems.extend(
        unknown
            .into_iter()
            .map(|at| Problem::new(at, "unknown key")),
    );
    match result {
        Ok(read) => Some(read),
        Err(error) => {
            let at = path::from_tracked(prefix, error.path());
            // `message()` is the bare serde message; `Display` would add TOML-document context
            // that a detached value does not have.
            let message = error.inner().message().trim().replace('\n', "; ");
            problems.push(Problem::new(at, message));
            None
        }
    }
}

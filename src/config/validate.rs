//! Raw `bot.toml` values → typed [`Config`]: defaults, value parsing and cross-checks.
//!
//! Owns the meaning of each key and every check that needs only the file: enum names, durations,
//! time zones, regexes, crontab lines, placeholders, uniqueness and references between sections.
//! Every problem is recorded and checking carries on (with the default standing in for a bad
//! value), so one run reports them all. The only I/O is checking that a demo `feed` file exists.
//! It must not encode workflow: what the engine does with these settings is not decided here.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{NaiveDate, NaiveTime, Weekday};
use chrono_tz::Tz;
use regex::{Regex, RegexBuilder};

use super::raw::{
    Elements, RawAccount, RawApproval, RawAuth, RawBot, RawBusinessHours, RawChat, RawDiscord,
    RawDocument, RawJob, RawListening, RawOffline, RawRoutingRule, RawSla, RawSlack, RawTargets,
    RawWebhook, Section,
};
use super::{
    AccountConfig, ApprovalConfig, BlueskyAccount, BotConfig, BusinessHours, ChatConfig, ChatKind,
    CloseLoop, Config, ConsoleConfig, DEFAULT_COMMAND_PERMISSION, DEFAULT_DIGEST_PERIOD,
    DemoSource, DigestJob, DiscordConfig, JobConfig, JobKind, ListeningQuery, MastodonAccount,
    MetaAccount, MetaWebhook, OFF_HOURS_PLACEHOLDERS, OFFLINE_PLACEHOLDERS, OffHours,
    OfflineTemplates, PerUrgency, Problem, RoutingRule, Secret, SlaConfig, SlackConfig, SlackMode,
    TEMPLATE_PLACEHOLDERS, Visibility, WebhookAccount, XAccount, XAuth, XWebhook, parse_crontab,
    parse_duration, path,
};
use crate::engine::{ApprovalMode, Platform, PostKind, Urgency};
use crate::text::defaults;

// The values each enum key accepts, spelt as the engine's serde spells them (a test checks that
// they agree), in the order messages list them.

/// `network`, `routing.platforms`.
const PLATFORMS: &[(&str, Platform)] = &[
    ("x", Platform::X),
    ("facebook", Platform::Facebook),
    ("instagram", Platform::Instagram),
    ("mastodon", Platform::Mastodon),
    ("bluesky", Platform::Bluesky),
    ("webhook", Platform::Webhook),
    ("demo", Platform::Demo),
];
/// `simulate`: what a demo account may pretend to be, i.e. any real network
/// (all of the above but `demo`, which is last).
const SIMULATED_PLATFORMS: &[(&str, Platform)] = PLATFORMS.split_at(PLATFORMS.len() - 1).0;
/// `routing.kinds`.
const POST_KINDS: &[(&str, PostKind)] = &[
    ("mention", PostKind::Mention),
    ("comment", PostKind::Comment),
    ("direct_message", PostKind::DirectMessage),
    ("listening", PostKind::Listening),
];
/// `routing.urgency`.
const URGENCIES: &[(&str, Urgency)] = &[
    ("urgent", Urgency::Urgent),
    ("high", Urgency::High),
    ("normal", Urgency::Normal),
    ("low", Urgency::Low),
];
/// `accounts.approval`.
const APPROVAL_MODES: &[(&str, ApprovalMode)] = &[
    ("always", ApprovalMode::Always),
    ("never", ApprovalMode::Never),
    ("first_reply", ApprovalMode::FirstReply),
];
/// `accounts.close_loop`.
const CLOSE_LOOPS: &[(&str, CloseLoop)] = &[
    ("never", CloseLoop::Never),
    ("offline", CloseLoop::Offline),
    ("always", CloseLoop::Always),
];
/// `chat.kind`.
const CHAT_KINDS: &[(&str, ChatKind)] = &[
    ("console", ChatKind::Console),
    ("slack", ChatKind::Slack),
    ("discord", ChatKind::Discord),
];
/// `chat.slack.mode`.
const SLACK_MODES: &[(&str, SlackMode)] =
    &[("socket", SlackMode::Socket), ("events", SlackMode::Events)];
/// `chat.discord.auto_archive`: the durations Discord offers, in minutes.
const AUTO_ARCHIVE: &[(&str, u16)] = &[("1h", 60), ("24h", 1440), ("3d", 4320), ("7d", 10080)];
/// `chat.discord.command_permission`: permission bits (platforms.md §2; `everyone` = no
/// default restriction).
const COMMAND_PERMISSIONS: &[(&str, Option<u64>)] = &[
    ("manage_threads", Some(1 << 34)),
    ("manage_messages", Some(1 << 13)),
    ("moderate_members", Some(1 << 40)),
    ("manage_guild", Some(1 << 5)),
    ("administrator", Some(1 << 3)),
    ("everyone", None),
];
/// `jobs.kind`.
const JOB_KINDS: &[(&str, JobKind)] = &[("sweep", JobKind::Sweep), ("digest", JobKind::Digest)];

/// Chat adapters compiled into this build; widen as adapters land.
const AVAILABLE_CHATS: &[ChatKind] = &[ChatKind::Console, ChatKind::Slack, ChatKind::Discord];
/// `accounts.auth.kind` for X accounts.
const X_AUTH_KINDS: &[(&str, XAuthKind)] =
    &[("oauth2", XAuthKind::OAuth2), ("oauth1", XAuthKind::OAuth1)];
/// Polling faster than this only burns the network's rate limit (tests poll every second).
const MIN_POLL_INTERVAL: Duration = Duration::from_secs(1);
/// X's recent search refuses longer queries (512 characters on the standard tiers).
const MAX_X_QUERY: usize = 512;
/// A shorter shared secret is too easy to guess for a signature anyone on the internet may try.
const MIN_WEBHOOK_SECRET: usize = 16;
/// `accounts.replay_window` default: as long as Stripe's tolerance.
const DEFAULT_REPLAY_WINDOW: Duration = Duration::from_secs(300);
/// A longer window lets a captured delivery be replayed for longer, and clocks are never
/// that far apart.
const MAX_REPLAY_WINDOW: Duration = Duration::from_secs(3600);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum XAuthKind {
    OAuth2,
    OAuth1,
}

/// The network's public API, where `api_url` is not written.
fn default_api_url(network: Platform) -> &'static str {
    match network {
        Platform::X => "https://api.x.com/",
        Platform::Facebook | Platform::Instagram => "https://graph.facebook.com/",
        // The PDS most accounts live on; an account elsewhere names its own.
        Platform::Bluesky => "https://bsky.social/",
        Platform::Mastodon | Platform::Webhook | Platform::Demo => "",
    }
}

/// `accounts.visibility`: a public mention's answer is never `direct` (only a direct mention's).
const VISIBILITIES: &[(&str, Visibility)] = &[
    ("public", Visibility::Public),
    ("unlisted", Visibility::Unlisted),
    ("private", Visibility::Private),
];

/// `approval.approve` default: the emoji itself (Discord, console) and Slack's names for it.
const DEFAULT_APPROVE: &[&str] = &["✅", "white_check_mark", "heavy_check_mark"];
/// `approval.reject` default, likewise.
const DEFAULT_REJECT: &[&str] = &["❌", "x", "no_entry"];
/// Longer batching would make the console and chat feel stuck.
const MAX_FLUSH_INTERVAL: Duration = Duration::from_secs(10);

/// Turns the raw document into a [`Config`], recording every problem. The returned config is
/// only meaningful when no problem was recorded (bad values are replaced by defaults so checking
/// can go on). `unsubstituted` lists values whose `${VAR}` failed: they are not checked again.
pub(super) fn validate(
    raw: RawDocument,
    base_dir: &Path,
    unsubstituted: &[String],
    problems: &mut Vec<Problem>,
) -> Config {
    let mut v = Validator {
        problems,
        unsubstituted,
        base_dir,
    };
    let bot = v.bot(raw.bot.or_default());
    let chat = v.chat(raw.chat.or_default());
    let approval = v.approval(raw.approval.or_default());
    // A broken [business_hours] section is already reported; don't also claim it is missing.
    let business_hours_written = !matches!(raw.business_hours, Section::Absent);
    let sla = v.sla(raw.sla.or_default(), business_hours_written);
    let business_hours = match raw.business_hours {
        Section::Present(hours) => Some(v.business_hours(hours)),
        Section::Absent | Section::Broken => None,
    };
    // Routing rules refer to accounts by id; if an account could not be read its id is unknown,
    // and references are then not checked rather than reported as dangling.
    let account_ids: Option<BTreeSet<String>> = match &raw.accounts {
        Section::Absent => Some(BTreeSet::new()),
        Section::Broken => None,
        Section::Present(accounts) => accounts
            .iter()
            .map(|account| account.as_ref().map(|a| a.id.clone().unwrap_or_default()))
            .collect(),
    };
    let routing = v.routing(raw.routing.or_default(), account_ids.as_ref());
    let canned = v.canned(raw.canned.or_default());
    let accounts = v.accounts(raw.accounts, business_hours_written);
    let jobs = v.jobs(raw.jobs.or_default(), bot.timezone);
    Config {
        bot,
        chat,
        approval,
        sla,
        business_hours,
        routing,
        canned,
        accounts,
        jobs,
    }
}

struct Validator<'a> {
    problems: &'a mut Vec<Problem>,
    unsubstituted: &'a [String],
    base_dir: &'a Path,
}

impl Validator<'_> {
    fn problem(&mut self, at: &str, message: impl Into<String>) {
        // A value whose `${VAR}` is unset was already reported; whatever else is "wrong" with
        // its unexpanded text would only be noise.
        let already_reported = self.unsubstituted.iter().any(|failed| {
            failed == at
                || failed
                    .strip_prefix(at)
                    .is_some_and(|rest| rest.starts_with('['))
        });
        if !already_reported {
            self.problems.push(Problem::new(at, message));
        }
    }

    fn bot(&mut self, raw: RawBot) -> BotConfig {
        let data_dir = match raw.data_dir {
            Some(dir) if dir.trim().is_empty() => {
                self.problem("bot.data_dir", "must not be empty");
                PathBuf::new()
            }
            Some(dir) => self.resolve(&dir),
            None => self.resolve("data"),
        };
        let default_listen = SocketAddr::from(([127, 0, 0, 1], 8080));
        let listen = match raw.listen {
            None => default_listen,
            Some(text) => text.trim().parse().unwrap_or_else(|_| {
                self.problem(
                    "bot.listen",
                    format!(
                        "{text:?} is not an IP address with a port (use e.g. 127.0.0.1:8080 \
                         or [::]:8080)"
                    ),
                );
                default_listen
            }),
        };
        let timezone = self.timezone("bot.timezone", raw.timezone, Tz::UTC);
        let flush_interval = self.duration(
            "bot.flush_interval",
            raw.flush_interval,
            Duration::from_millis(100),
            false,
        );
        if flush_interval > MAX_FLUSH_INTERVAL {
            self.problem("bot.flush_interval", "must be at most 10s");
        }
        let reopen_window = self.duration(
            "bot.reopen_window",
            raw.reopen_window,
            Duration::from_secs(72 * 3600),
            false,
        );
        let auto_close_after = raw
            .auto_close_after
            .map(|text| self.duration("bot.auto_close_after", Some(text), Duration::ZERO, false));
        BotConfig {
            data_dir,
            listen,
            monitor: raw.monitor.unwrap_or(false),
            timezone,
            flush_interval,
            reopen_window,
            auto_close_after,
        }
    }

    fn chat(&mut self, raw: RawChat) -> ChatConfig {
        let kind = match raw.kind {
            None => ChatKind::Console,
            Some(text) => self
                .choice("chat.kind", &text, CHAT_KINDS)
                .unwrap_or(ChatKind::Console),
        };
        if !AVAILABLE_CHATS.contains(&kind) {
            self.problem(
                "chat.kind",
                format!(
                    "`{}` is not available in this build yet (available: {})",
                    name_of(CHAT_KINDS, kind),
                    names_of(CHAT_KINDS, AVAILABLE_CHATS)
                ),
            );
        }
        let console = raw.console.unwrap_or_default();
        let user = console.user.unwrap_or_else(|| "agent".to_owned());
        if user.trim().is_empty() {
            self.problem("chat.console.user", "must not be empty");
        }
        let slack = match raw.slack {
            Some(slack) => Some(self.slack(slack)),
            None if kind == ChatKind::Slack => {
                self.problem("chat.slack", "is required when chat.kind is \"slack\"");
                None
            }
            None => None,
        };
        let discord = match raw.discord {
            Some(discord) => Some(self.discord(discord)),
            None if kind == ChatKind::Discord => {
                self.problem("chat.discord", "is required when chat.kind is \"discord\"");
                None
            }
            None => None,
        };
        ChatConfig {
            kind,
            console: ConsoleConfig {
                approvers: console.approvers.unwrap_or_default(),
                agents: console.agents.unwrap_or_default(),
                user,
                on_call: console.on_call.unwrap_or_default(),
            },
            slack,
            discord,
        }
    }

    fn discord(&mut self, raw: RawDiscord) -> DiscordConfig {
        let token = self
            .token("chat.discord.token", raw.token, "", true)
            .unwrap_or_else(|| Secret::new(""));
        let application_id = self.snowflake("chat.discord.application_id", raw.application_id);
        let guild_id = self.snowflake("chat.discord.guild_id", raw.guild_id);
        let api_url = self.url(
            "chat.discord.api_url",
            raw.api_url,
            "https://discord.com/api/",
        );
        if !api_url.ends_with("/api/") {
            self.problem(
                "chat.discord.api_url",
                format!("{api_url:?} must end in /api/ (Discord's REST paths start there)"),
            );
        }
        let auto_archive_minutes = match raw.auto_archive {
            None => 10080,
            Some(text) => self
                .choice("chat.discord.auto_archive", &text, AUTO_ARCHIVE)
                .unwrap_or(10080),
        };
        let command_permission = match raw.command_permission {
            None => DEFAULT_COMMAND_PERMISSION,
            Some(text) => self
                .choice(
                    "chat.discord.command_permission",
                    &text,
                    COMMAND_PERMISSIONS,
                )
                .unwrap_or(DEFAULT_COMMAND_PERMISSION),
        };
        let role_cache = self.duration(
            "chat.discord.role_cache",
            raw.role_cache,
            Duration::from_secs(300),
            false,
        );
        let mut channels = BTreeMap::new();
        for (queue, channel) in raw.channels.unwrap_or_default() {
            let at = path::key("chat.discord.channels", &queue);
            if let Some(id) = self.snowflake(&at, Some(channel)) {
                channels.insert(queue, id);
            }
        }
        let mut on_call = BTreeMap::new();
        for (queue, role) in raw.on_call.unwrap_or_default() {
            let at = path::key("chat.discord.on_call", &queue);
            if let Some(id) = self.snowflake(&at, Some(role)) {
                on_call.insert(queue, id);
            }
        }
        if !channels.contains_key("default") {
            self.problem(
                "chat.discord.channels.default",
                "is required: the text or forum channel for every queue not listed",
            );
        }
        DiscordConfig {
            token,
            application_id: application_id.unwrap_or(0),
            guild_id: guild_id.unwrap_or(0),
            api_url,
            approver_roles: self.snowflakes("chat.discord.approver_roles", raw.approver_roles),
            approvers: self.snowflakes("chat.discord.approvers", raw.approvers),
            agent_roles: self.snowflakes("chat.discord.agent_roles", raw.agent_roles),
            agents: self.snowflakes("chat.discord.agents", raw.agents),
            thread_commands: raw.thread_commands.unwrap_or(false),
            archive_closed: raw.archive_closed.unwrap_or(true),
            auto_archive_minutes,
            command_permission,
            role_cache,
            channels,
            on_call,
        }
    }

    /// A required Discord id; `None` (reported) when missing or malformed.
    fn snowflake(&mut self, at: &str, raw: Option<String>) -> Option<u64> {
        let Some(text) = raw else {
            self.problem(
                at,
                "is required (a Discord id: enable Developer Mode, then Copy ID)",
            );
            return None;
        };
        let id = parse_snowflake(&text);
        if id.is_none() {
            self.problem(
                at,
                format!("{text:?} is not a Discord id (a number like \"1234567890123456789\"; enable Developer Mode, then Copy ID)"),
            );
        }
        id
    }

    fn snowflakes(&mut self, at: &str, raw: Option<Vec<String>>) -> Vec<u64> {
        let mut ids = Vec::new();
        for (i, text) in raw.unwrap_or_default().into_iter().enumerate() {
            if let Some(id) = self.snowflake(&path::index(at, i), Some(text)) {
                ids.push(id);
            }
        }
        ids
    }

    fn slack(&mut self, raw: RawSlack) -> SlackConfig {
        let mode = raw
            .mode
            .and_then(|text| self.choice("chat.slack.mode", &text, SLACK_MODES))
            .unwrap_or(SlackMode::Socket);
        let bot_token = self
            .token("chat.slack.bot_token", raw.bot_token, "xoxb-", true)
            .unwrap_or_else(|| Secret::new(""));
        let app_token = self.token(
            "chat.slack.app_token",
            raw.app_token,
            "xapp-",
            mode == SlackMode::Socket,
        );
        let signing_secret = self.token(
            "chat.slack.signing_secret",
            raw.signing_secret,
            "",
            mode == SlackMode::Events,
        );
        let api_url = self.url("chat.slack.api_url", raw.api_url, "https://slack.com/api/");
        let public_url = raw
            .public_url
            .map(|u| self.url("chat.slack.public_url", Some(u), ""));
        let app_name = raw.app_name.unwrap_or_else(|| "carebridge".to_owned());
        if app_name.trim().is_empty() {
            self.problem("chat.slack.app_name", "must not be empty");
        }
        let approvers = self.slack_ids("chat.slack.approvers", raw.approvers);
        let agents = self.slack_ids("chat.slack.agents", raw.agents);
        let group_cache = self.duration(
            "chat.slack.group_cache",
            raw.group_cache,
            Duration::from_secs(300),
            false,
        );
        let channels = raw.channels.unwrap_or_default();
        let on_call = raw.on_call.unwrap_or_default();
        for (queue, who) in &on_call {
            if !is_slack_id(who, &['S', 'U', 'W']) {
                self.problem(
                    &path::key("chat.slack.on_call", queue),
                    format!("{who:?} is not a Slack user group (S…) or user (U…/W…) id"),
                );
            }
        }
        if !channels.contains_key("default") {
            self.problem(
                "chat.slack.channels.default",
                "is required: the channel for every queue not listed (a channel id like C0123ABCD)",
            );
        }
        for (queue, channel) in &channels {
            if !is_slack_id(channel, &['C', 'G']) {
                self.problem(
                    &path::key("chat.slack.channels", queue),
                    format!(
                        "{channel:?} is not a Slack channel id (C… or G…; in Slack, open the \
                         channel's details to copy it)"
                    ),
                );
            }
        }
        SlackConfig {
            mode,
            bot_token,
            app_token,
            signing_secret,
            api_url,
            public_url,
            app_name,
            approvers,
            agents,
            group_cache,
            channels,
            on_call,
        }
    }

    /// A credential: `required` ones must be present; a `prefix` names its Slack token type.
    fn token(
        &mut self,
        at: &str,
        raw: Option<String>,
        prefix: &str,
        required: bool,
    ) -> Option<Secret> {
        match raw.as_deref() {
            None if required => self.problem(
                at,
                "is required (write \"${VARIABLE}\" to read it from the environment)",
            ),
            Some(value) if value.trim().is_empty() => self.problem(at, "must not be empty"),
            // The value is secret: say what it should look like, never what it is.
            Some(value) if !value.starts_with(prefix) => {
                self.problem(at, format!("must start with {prefix:?}"));
            }
            _ => {}
        }
        raw.map(Secret::new)
    }

    /// An http(s) base URL, normalised to end with `/`.
    fn url(&mut self, at: &str, raw: Option<String>, default: &str) -> String {
        let Some(text) = raw else {
            return default.to_owned();
        };
        let text = text.trim();
        if !(text.starts_with("https://") || text.starts_with("http://"))
            || text.contains(char::is_whitespace)
        {
            self.problem(at, format!("{text:?} is not an http(s) URL"));
        }
        if text.ends_with('/') {
            text.to_owned()
        } else {
            format!("{text}/")
        }
    }

    fn slack_ids(&mut self, at: &str, raw: Option<Vec<String>>) -> Vec<String> {
        let ids = raw.unwrap_or_default();
        for (i, id) in ids.iter().enumerate() {
            if !is_slack_id(id, &['U', 'W', 'S']) {
                self.problem(
                    &path::index(at, i),
                    format!("{id:?} is not a Slack user id (U…/W…) or user-group id (S…)"),
                );
            }
        }
        ids
    }

    fn approval(&mut self, raw: RawApproval) -> ApprovalConfig {
        let approve = self.reactions("approval.approve", raw.approve, DEFAULT_APPROVE);
        let reject = self.reactions("approval.reject", raw.reject, DEFAULT_REJECT);
        for (i, reaction) in reject.iter().enumerate() {
            if approve.contains(reaction) {
                self.problem(
                    &path::index("approval.reject", i),
                    format!("{reaction:?} is also in approval.approve"),
                );
            }
        }
        ApprovalConfig {
            approve,
            reject,
            allow_self_approval: raw.allow_self_approval.unwrap_or(false),
        }
    }

    fn reactions(&mut self, at: &str, raw: Option<Vec<String>>, default: &[&str]) -> Vec<String> {
        let Some(reactions) = raw else {
            return default.iter().map(|r| (*r).to_owned()).collect();
        };
        if reactions.is_empty() {
            self.problem(at, "must list at least one reaction");
        }
        for (i, reaction) in reactions.iter().enumerate() {
            if reaction.trim().is_empty() {
                self.problem(&path::index(at, i), "must not be empty");
            }
        }
        reactions
    }

    fn sla(&mut self, raw: RawSla, business_hours_written: bool) -> SlaConfig {
        let business_hours = raw.business_hours.unwrap_or(false);
        if business_hours && !business_hours_written {
            self.problem(
                "sla.business_hours",
                "is true but there is no [business_hours] section to count in",
            );
        }
        let warn_before = self.duration(
            "sla.warn_before",
            raw.warn_before,
            Duration::from_secs(15 * 60),
            true,
        );
        let minutes = |m: u64| Duration::from_secs(m * 60);
        let defaults = PerUrgency {
            urgent: minutes(15),
            high: minutes(60),
            normal: minutes(4 * 60),
            low: minutes(24 * 60),
        };
        let first_response = self.targets("sla.first_response", raw.first_response, defaults);
        let next_response = self.targets("sla.next_response", raw.next_response, defaults);
        let written = raw.resolution.unwrap_or_default();
        let mut resolution = |key: &str, text: Option<String>| {
            text.map(|text| {
                let at = path::key("sla.resolution", key);
                self.duration(&at, Some(text), Duration::ZERO, false)
            })
        };
        let resolution = PerUrgency {
            urgent: resolution("urgent", written.urgent),
            high: resolution("high", written.high),
            normal: resolution("normal", written.normal),
            low: resolution("low", written.low),
        };
        let unclaimed_after = self.duration(
            "sla.unclaimed_after",
            raw.unclaimed_after,
            Duration::from_secs(30 * 60),
            true,
        );
        let breach = raw.breach.unwrap_or_default();
        let breach_queue = breach.channel.filter(|queue| {
            let named = !queue.trim().is_empty();
            if !named {
                self.problem(
                    "sla.breach.channel",
                    "is empty: name a queue, e.g. \"escalations\"",
                );
            }
            named
        });
        SlaConfig {
            business_hours,
            warn_before,
            first_response,
            next_response,
            resolution,
            raise_urgency: breach.raise_urgency.unwrap_or(false),
            breach_queue,
            unclaimed_after: (!unclaimed_after.is_zero()).then_some(unclaimed_after),
        }
    }

    /// A table of targets per urgency under `section`, each more than zero.
    fn targets(
        &mut self,
        section: &str,
        raw: Option<RawTargets>,
        defaults: PerUrgency<Duration>,
    ) -> PerUrgency<Duration> {
        let raw = raw.unwrap_or_default();
        let mut target = |key: &str, text: Option<String>, default: Duration| {
            self.duration(&path::key(section, key), text, default, false)
        };
        PerUrgency {
            urgent: target("urgent", raw.urgent, defaults.urgent),
            high: target("high", raw.high, defaults.high),
            normal: target("normal", raw.normal, defaults.normal),
            low: target("low", raw.low, defaults.low),
        }
    }

    fn business_hours(&mut self, raw: RawBusinessHours) -> BusinessHours {
        let weekdays = [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
        ];
        let days = match raw.days {
            None => weekdays.to_vec(),
            Some(text) => parse_days(&text).unwrap_or_else(|message| {
                self.problem("business_hours.days", message);
                weekdays.to_vec()
            }),
        };
        let open = self.time("business_hours.open", raw.open, (9, 0));
        let close = self.time("business_hours.close", raw.close, (17, 30));
        if close <= open {
            self.problem(
                "business_hours.close",
                format!(
                    "{} is not after open ({}); hours past midnight are not supported",
                    close.format("%H:%M"),
                    open.format("%H:%M")
                ),
            );
        }
        let mut holidays = Vec::new();
        for (i, text) in raw.holidays.unwrap_or_default().into_iter().enumerate() {
            match NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d") {
                Ok(date) => holidays.push(date),
                Err(_) => self.problem(
                    &path::index("business_hours.holidays", i),
                    format!("{text:?} is not a date (use YYYY-MM-DD, e.g. 2026-12-25)"),
                ),
            }
        }
        holidays.sort_unstable();
        holidays.dedup();
        BusinessHours {
            days,
            open,
            close,
            holidays,
        }
    }

    fn time(&mut self, at: &str, raw: Option<String>, default: (u32, u32)) -> NaiveTime {
        let fallback = NaiveTime::from_hms_opt(default.0, default.1, 0).unwrap_or(NaiveTime::MIN);
        let Some(text) = raw else {
            return fallback;
        };
        let trimmed = text.trim();
        NaiveTime::parse_from_str(trimmed, "%H:%M")
            .or_else(|_| NaiveTime::parse_from_str(trimmed, "%H:%M:%S"))
            .unwrap_or_else(|_| {
                self.problem(
                    at,
                    format!("{text:?} is not a time (use HH:MM, e.g. 09:00)"),
                );
                fallback
            })
    }

    fn routing(
        &mut self,
        raw: Elements<RawRoutingRule>,
        account_ids: Option<&BTreeSet<String>>,
    ) -> Vec<RoutingRule> {
        let mut names: BTreeMap<String, String> = BTreeMap::new();
        let mut rules = Vec::new();
        for (i, rule) in raw.into_iter().enumerate() {
            if let Some(rule) = rule {
                let at = path::index("routing", i);
                rules.push(self.routing_rule(&at, rule, &mut names, account_ids));
            }
        }
        rules
    }

    fn routing_rule(
        &mut self,
        at: &str,
        raw: RawRoutingRule,
        names: &mut BTreeMap<String, String>,
        account_ids: Option<&BTreeSet<String>>,
    ) -> RoutingRule {
        let name = self.unique_name(at, raw.name, names, "rule");
        let platforms = self.choices(&path::key(at, "platforms"), raw.platforms, PLATFORMS);
        let accounts = raw.accounts.unwrap_or_default();
        if let Some(known) = account_ids {
            for (j, id) in accounts.iter().enumerate() {
                if !known.contains(id) {
                    self.problem(
                        &path::index(&path::key(at, "accounts"), j),
                        format!("no [[accounts]] entry has id {id:?}"),
                    );
                }
            }
        }
        let kinds = self.choices(&path::key(at, "kinds"), raw.kinds, POST_KINDS);
        let keywords = raw.keywords.unwrap_or_default();
        let keywords_at = path::key(at, "keywords");
        for (j, keyword) in keywords.iter().enumerate() {
            if keyword.trim().is_empty() {
                self.problem(&path::index(&keywords_at, j), "must not be empty");
            }
        }
        let keyword_regex = keyword_regex(&keywords).unwrap_or_else(|e| {
            self.problem(&keywords_at, regex_message(&e));
            None
        });
        let regex = raw.regex.and_then(|pattern| {
            Regex::new(&pattern)
                .map_err(|e| self.problem(&path::key(at, "regex"), regex_message(&e)))
                .ok()
        });
        // Judged on what was written: a misspelt urgency is its own problem, not "does nothing".
        let acts = raw.urgency.is_some()
            || raw.queue.is_some()
            || raw.tags.as_ref().is_some_and(|tags| !tags.is_empty());
        let urgency = raw
            .urgency
            .and_then(|text| self.choice(&path::key(at, "urgency"), &text, URGENCIES));
        let queue = raw.queue;
        if queue.as_ref().is_some_and(|q| q.trim().is_empty()) {
            self.problem(&path::key(at, "queue"), "must not be empty");
        }
        let tags = raw.tags.unwrap_or_default();
        if !acts {
            self.problem(
                at,
                "does nothing: set at least one of urgency, queue or tags",
            );
        }
        RoutingRule {
            name,
            platforms,
            accounts,
            kinds,
            keywords,
            keyword_regex,
            regex,
            urgency,
            queue,
            tags,
        }
    }

    fn canned(&mut self, raw: BTreeMap<String, String>) -> BTreeMap<String, String> {
        for (name, template) in &raw {
            let at = path::key("canned", name);
            if template.trim().is_empty() {
                self.problem(&at, "must not be empty");
            }
            self.placeholders(&at, template, TEMPLATE_PLACEHOLDERS);
        }
        raw
    }

    fn accounts(
        &mut self,
        raw: Section<Elements<RawAccount>>,
        business_hours_written: bool,
    ) -> Vec<AccountConfig> {
        // When `accounts` is there but not an array, that is already reported.
        let broken = matches!(raw, Section::Broken);
        let raw = raw.or_default();
        if raw.is_empty() && !broken {
            self.problem(
                "accounts",
                "at least one [[accounts]] entry is required (try network = \"demo\" with \
                 simulate = \"x\")",
            );
        }
        let mut ids: BTreeMap<String, String> = BTreeMap::new();
        let mut accounts = Vec::new();
        for (i, account) in raw.into_iter().enumerate() {
            if let Some(account) = account {
                let at = path::index("accounts", i);
                accounts.push(self.account(&at, account, &mut ids, business_hours_written));
            }
        }
        accounts
    }

    fn account(
        &mut self,
        at: &str,
        mut raw: RawAccount,
        ids: &mut BTreeMap<String, String>,
        business_hours_written: bool,
    ) -> AccountConfig {
        let id = self.account_id(at, raw.id.take(), ids);
        let network = self.network(at, raw.network.take());
        let credentials_written = [
            ("auth", raw.auth.is_some()),
            ("webhook", raw.webhook.is_some()),
        ];
        let x_keys_written = [
            ("user_id", raw.user_id.is_some()),
            ("backfill", raw.backfill.is_some()),
            ("mentions", raw.mentions.is_some()),
            ("dms", raw.dms.is_some()),
            ("listening", raw.listening.is_some()),
        ];
        let meta_keys_written = [
            ("page_id", raw.page_id.is_some()),
            ("graph_version", raw.graph_version.is_some()),
        ];
        let webhook_keys_written = [
            ("secret", raw.secret.is_some()),
            ("replay_window", raw.replay_window.is_some()),
            ("callback_url", raw.callback_url.is_some()),
        ];
        let is_meta = matches!(network, Some(Platform::Facebook | Platform::Instagram));
        if network.is_some() && network != Some(Platform::Webhook) {
            self.misplaced(
                at,
                &webhook_keys_written,
                "only applies to webhook accounts (network = \"webhook\")",
            );
        }
        if network.is_some() && network != Some(Platform::X) {
            self.misplaced(
                at,
                &x_keys_written,
                "only applies to X accounts (network = \"x\") in this build",
            );
        }
        if network.is_some() && !is_meta {
            self.misplaced(
                at,
                &meta_keys_written,
                "only applies to facebook and instagram accounts",
            );
        }
        let is_mastodon = network == Some(Platform::Mastodon);
        let is_bluesky = network == Some(Platform::Bluesky);
        if network.is_some()
            && !is_bluesky
            && let Some(auth) = &raw.auth
        {
            self.misplaced(
                &path::key(at, "auth"),
                &[
                    ("identifier", auth.identifier.is_some()),
                    ("password", auth.password.is_some()),
                ],
                "only applies to bluesky accounts",
            );
        }
        if network.is_some() && network != Some(Platform::X) && !is_meta {
            let [auth, webhook] = credentials_written;
            if !is_mastodon && !is_bluesky {
                self.misplaced(
                    at,
                    &[auth],
                    "only applies to X, facebook, instagram, mastodon and bluesky accounts",
                );
            }
            self.misplaced(
                at,
                &[webhook],
                "only applies to X, facebook and instagram accounts in this build",
            );
        }
        if network.is_some() && !is_mastodon {
            self.misplaced(
                at,
                &[
                    ("visibility", raw.visibility.is_some()),
                    ("streaming", raw.streaming.is_some()),
                ],
                "only applies to mastodon accounts",
            );
        }
        let x = match network {
            Some(Platform::X) => Some(self.x_account(at, &mut raw)),
            _ => None,
        };
        let meta = match is_meta {
            true => Some(self.meta_account(at, &mut raw)),
            false => None,
        };
        let mastodon = match is_mastodon {
            true => Some(self.mastodon_account(at, &mut raw)),
            false => None,
        };
        let bluesky = match is_bluesky {
            true => Some(self.bluesky_account(at, &mut raw)),
            false => None,
        };
        let webhook = match network {
            Some(Platform::Webhook) => Some(self.webhook_account(at, &mut raw)),
            _ => None,
        };
        let network_keys = (raw.api_url.take(), raw.poll_interval.take());
        let (api_url, poll_interval) = match network {
            Some(network @ (Platform::Demo | Platform::Webhook)) => {
                let why = match network {
                    Platform::Demo => "does not apply to demo accounts (they use `pace`)",
                    _ => {
                        "does not apply to webhook accounts (posts arrive at \
                         /webhooks/generic/<account id>; replies go to `callback_url`)"
                    }
                };
                let keys = [
                    ("api_url", network_keys.0.is_some()),
                    ("poll_interval", network_keys.1.is_some()),
                ];
                self.misplaced(at, &keys, why);
                (String::new(), Duration::ZERO)
            }
            _ => {
                let default = default_api_url(network.unwrap_or(Platform::Demo));
                if is_mastodon && network_keys.0.is_none() {
                    self.problem(
                        &path::key(at, "api_url"),
                        "is required for mastodon accounts: the instance's address, e.g. \
                         \"https://mastodon.social\"",
                    );
                }
                let api_url = self.url(&path::key(at, "api_url"), network_keys.0, default);
                let poll_at = path::key(at, "poll_interval");
                let poll_interval =
                    self.duration(&poll_at, network_keys.1, Duration::from_secs(60), false);
                if poll_interval < MIN_POLL_INTERVAL {
                    self.problem(&poll_at, "must be at least 1s");
                }
                (api_url, poll_interval)
            }
        };
        let demo = match network {
            Some(Platform::Demo) => self.demo(at, raw.simulate, raw.pace, raw.feed),
            Some(_) => {
                let keys = [
                    ("simulate", raw.simulate.is_some()),
                    ("pace", raw.pace.is_some()),
                    ("feed", raw.feed.is_some()),
                ];
                self.misplaced(
                    at,
                    &keys,
                    "only applies to demo accounts (network = \"demo\")",
                );
                None
            }
            // The network is already reported; which keys belong is unknowable.
            None => None,
        };

        let human_agent_tag = raw.human_agent_tag.unwrap_or(false);
        let platform = demo.as_ref().map(|d| d.platform).or(network);
        if human_agent_tag
            && let Some(platform) = platform
            && !matches!(platform, Platform::Facebook | Platform::Instagram)
        {
            self.problem(
                &path::key(at, "human_agent_tag"),
                format!(
                    "only applies to facebook and instagram accounts (this one is {})",
                    name_of(PLATFORMS, platform)
                ),
            );
        }

        let approval = raw
            .approval
            .and_then(|text| self.choice(&path::key(at, "approval"), &text, APPROVAL_MODES))
            .unwrap_or(ApprovalMode::Always);
        let queue = raw.queue.unwrap_or_else(|| "default".to_owned());
        if queue.trim().is_empty() {
            self.problem(&path::key(at, "queue"), "must not be empty");
        }
        if raw.max_length == Some(0) {
            self.problem(&path::key(at, "max_length"), "must be more than zero");
        }
        let close_loop = raw
            .close_loop
            .and_then(|text| self.choice(&path::key(at, "close_loop"), &text, CLOSE_LOOPS))
            .unwrap_or(CloseLoop::Offline);
        let close_loop_text = self.template(
            &path::key(at, "close_loop_text"),
            raw.close_loop_text,
            defaults::CLOSE_LOOP,
            TEMPLATE_PLACEHOLDERS,
        );
        let offline = self.offline(&path::key(at, "offline"), raw.offline.unwrap_or_default());
        let off_hours = raw.off_hours.take().map(|off| {
            let at = path::key(at, "off_hours");
            if !business_hours_written {
                self.problem(
                    &at,
                    "answers outside business hours, but there is no [business_hours] section",
                );
            }
            OffHours {
                message: self.template(
                    &path::key(&at, "message"),
                    off.message,
                    defaults::OFF_HOURS,
                    OFF_HOURS_PLACEHOLDERS,
                ),
                public: off.public.unwrap_or(false),
            }
        });

        AccountConfig {
            id,
            network: network.unwrap_or(Platform::Demo),
            name: raw.name,
            handle: raw.handle,
            approval,
            trusted_agents: raw.trusted_agents.unwrap_or_default(),
            queue,
            max_length: raw.max_length,
            human_agent_tag,
            close_loop,
            close_loop_text,
            offline,
            off_hours,
            demo,
            api_url,
            poll_interval,
            x,
            meta,
            webhook,
            mastodon,
            bluesky,
        }
    }

    /// The keys of a Bluesky account (taken out of `raw`).
    fn bluesky_account(&mut self, at: &str, raw: &mut RawAccount) -> BlueskyAccount {
        let auth_at = path::key(at, "auth");
        let Some(mut auth) = raw.auth.take() else {
            self.problem(
                &auth_at,
                "is required: { kind = \"app_password\", identifier = \"acme.bsky.social\", \
                 password = \"${BSKY_APP_PASSWORD}\" }",
            );
            return BlueskyAccount {
                identifier: String::new(),
                password: Secret::new(""),
            };
        };
        let kind = self.required_choice(
            &path::key(&auth_at, "kind"),
            auth.kind.take(),
            &[("app_password", ())],
            " for bluesky accounts",
        );
        self.misplaced(
            &auth_at,
            &auth.token_keys(),
            "does not apply to bluesky accounts",
        );
        let identifier = auth.identifier.unwrap_or_default().trim().to_owned();
        if identifier.is_empty() {
            self.problem(
                &path::key(&auth_at, "identifier"),
                "is required: the account's handle (e.g. \"acme.bsky.social\") or DID",
            );
        }
        let password =
            kind.and(self.token(&path::key(&auth_at, "password"), auth.password, "", true));
        BlueskyAccount {
            identifier,
            password: password.unwrap_or_else(|| Secret::new("")),
        }
    }

    /// The keys of a Mastodon account (taken out of `raw`).
    fn mastodon_account(&mut self, at: &str, raw: &mut RawAccount) -> MastodonAccount {
        let auth_at = path::key(at, "auth");
        let access_token = match raw.auth.take() {
            Some(mut auth) => {
                let kind = self.required_choice(
                    &path::key(&auth_at, "kind"),
                    auth.kind.take(),
                    &[("access_token", ())],
                    " for mastodon accounts",
                );
                let others = auth
                    .token_keys()
                    .map(|(key, written)| (key, written && key != "access_token"));
                self.misplaced(&auth_at, &others, "does not apply to mastodon accounts");
                kind.and(self.token(
                    &path::key(&auth_at, "access_token"),
                    auth.access_token,
                    "",
                    true,
                ))
            }
            None => {
                self.problem(
                    &auth_at,
                    "is required: { kind = \"access_token\", access_token = \"${MASTODON_TOKEN}\" }",
                );
                None
            }
        };
        let visibility = raw
            .visibility
            .take()
            .and_then(|text| self.choice(&path::key(at, "visibility"), &text, VISIBILITIES))
            .unwrap_or(Visibility::Unlisted);
        MastodonAccount {
            access_token: access_token.unwrap_or_else(|| Secret::new("")),
            visibility,
            streaming: raw.streaming.take().unwrap_or(true),
            url_length: 23,
        }
    }

    /// Reports each of `keys` (under `at`) that is written as not belonging there, saying `why`.
    fn misplaced(&mut self, at: &str, keys: &[(&str, bool)], why: &str) {
        for (key, written) in keys {
            if *written {
                self.problem(&path::key(at, key), why);
            }
        }
    }

    /// The keys of a generic webhook account (taken out of `raw`).
    fn webhook_account(&mut self, at: &str, raw: &mut RawAccount) -> WebhookAccount {
        let secret_at = path::key(at, "secret");
        let secret = self.token(&secret_at, raw.secret.take(), "", true);
        if let Some(secret) = &secret
            && !secret.expose().trim().is_empty()
            && secret.expose().chars().count() < MIN_WEBHOOK_SECRET
        {
            self.problem(
                &secret_at,
                format!(
                    "must be at least {MIN_WEBHOOK_SECRET} characters (a random string, e.g. \
                     from `openssl rand -hex 32`)"
                ),
            );
        }
        let window_at = path::key(at, "replay_window");
        let replay_window = self.duration(
            &window_at,
            raw.replay_window.take(),
            DEFAULT_REPLAY_WINDOW,
            false,
        );
        if replay_window < Duration::from_secs(1) || replay_window > MAX_REPLAY_WINDOW {
            self.problem(&window_at, "must be from 1s to 1h");
        }
        let callback_url = raw.callback_url.take().map(|text| {
            let text = text.trim().to_owned();
            let web = url::Url::parse(&text)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host());
            if !web {
                self.problem(
                    &path::key(at, "callback_url"),
                    format!("{text:?} is not an http(s) URL"),
                );
            }
            text
        });
        WebhookAccount {
            secret: secret.unwrap_or_else(|| Secret::new("")),
            replay_window,
            callback_url,
        }
    }

    /// The keys of a Facebook or Instagram account (taken out of `raw`).
    fn meta_account(&mut self, at: &str, raw: &mut RawAccount) -> MetaAccount {
        let page_id = raw.page_id.take().unwrap_or_default();
        if page_id.is_empty() || !page_id.bytes().all(|b| b.is_ascii_digit()) {
            self.problem(
                &path::key(at, "page_id"),
                match page_id.is_empty() {
                    true => "is required: the Page's id (Page → About → Page transparency), or \
                             the Instagram professional account's id"
                        .to_owned(),
                    false => format!("{page_id:?} is not a numeric Page or Instagram account id"),
                },
            );
        }
        let graph_version = raw
            .graph_version
            .take()
            .unwrap_or_else(|| "v21.0".to_owned());
        let shaped = graph_version
            .strip_prefix('v')
            .and_then(|v| v.split_once('.'))
            .is_some_and(|(major, minor)| {
                !major.is_empty()
                    && !minor.is_empty()
                    && major
                        .bytes()
                        .chain(minor.bytes())
                        .all(|b| b.is_ascii_digit())
            });
        if !shaped {
            self.problem(
                &path::key(at, "graph_version"),
                format!("{graph_version:?} is not a Graph API version like \"v21.0\""),
            );
        }
        let auth_at = path::key(at, "auth");
        let page_token = match raw.auth.take() {
            Some(auth) => self.meta_auth(&auth_at, auth),
            None => {
                self.problem(
                    &auth_at,
                    "is required: { kind = \"page_token\", page_token = \"${FB_PAGE_TOKEN}\" }",
                );
                None
            }
        };
        let webhook_at = path::key(at, "webhook");
        let webhook = match raw.webhook.take() {
            Some(webhook) => self.meta_webhook(&webhook_at, webhook),
            None => {
                self.problem(
                    &webhook_at,
                    "is required: { app_secret = \"${META_APP_SECRET}\", verify_token = \
                     \"${META_VERIFY_TOKEN}\" } (Meta delivers posts by webhook only)",
                );
                MetaWebhook {
                    app_secret: Secret::new(""),
                    verify_token: Secret::new(""),
                }
            }
        };
        MetaAccount {
            page_id,
            graph_version,
            page_token: page_token.unwrap_or_else(|| Secret::new("")),
            webhook,
        }
    }

    fn meta_auth(&mut self, at: &str, raw: RawAuth) -> Option<Secret> {
        self.required_choice(
            &path::key(at, "kind"),
            raw.kind,
            &[("page_token", ())],
            " for facebook and instagram accounts",
        )?;
        for (key, written) in [
            ("access_token", raw.access_token.is_some()),
            ("refresh_token", raw.refresh_token.is_some()),
            ("client_id", raw.client_id.is_some()),
            ("client_secret", raw.client_secret.is_some()),
            ("consumer_key", raw.consumer_key.is_some()),
            ("consumer_secret", raw.consumer_secret.is_some()),
            ("access_token_secret", raw.access_token_secret.is_some()),
        ] {
            if written {
                self.problem(&path::key(at, key), "only applies to X accounts");
            }
        }
        self.token(&path::key(at, "page_token"), raw.page_token, "", true)
    }

    fn meta_webhook(&mut self, at: &str, raw: RawWebhook) -> MetaWebhook {
        if raw.consumer_secret.is_some() {
            self.problem(
                &path::key(at, "consumer_secret"),
                "only applies to X accounts",
            );
        }
        let app_secret = self.token(&path::key(at, "app_secret"), raw.app_secret, "", true);
        let verify_token = self.token(&path::key(at, "verify_token"), raw.verify_token, "", true);
        MetaWebhook {
            app_secret: app_secret.unwrap_or_else(|| Secret::new("")),
            verify_token: verify_token.unwrap_or_else(|| Secret::new("")),
        }
    }

    /// The keys of an X account (taken out of `raw`).
    fn x_account(&mut self, at: &str, raw: &mut RawAccount) -> XAccount {
        let auth_at = path::key(at, "auth");
        let auth = match raw.auth.take() {
            Some(auth) => self.x_auth(&auth_at, auth),
            None => {
                self.problem(
                    &auth_at,
                    "is required for X accounts: { kind = \"oauth2\", access_token, \
                     refresh_token, client_id } or { kind = \"oauth1\", consumer_key, \
                      consumer_secret, access_token, access_token_secret }",
                );
                None
            }
        };
        let webhook = raw
            .webhook
            .take()
            .map(|w| self.x_webhook(&path::key(at, "webhook"), w, auth.as_ref()));
        let user_id = raw.user_id.take();
        if let Some(id) = &user_id
            && (id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()))
        {
            self.problem(
                &path::key(at, "user_id"),
                format!("{id:?} is not a numeric X user id"),
            );
        }
        let backfill = self.duration(
            &path::key(at, "backfill"),
            raw.backfill.take(),
            Duration::ZERO,
            true,
        );
        let listening = raw
            .listening
            .take()
            .unwrap_or_default()
            .into_iter()
            .enumerate()
            .map(|(i, q)| self.listening(&path::index(&path::key(at, "listening"), i), q))
            .collect();
        XAccount {
            // A placeholder keeps checking going; the problem is recorded.
            auth: auth.unwrap_or(XAuth::OAuth2 {
                access_token: Secret::new(""),
                refresh_token: None,
                client_id: String::new(),
                client_secret: None,
            }),
            webhook,
            user_id,
            backfill,
            mentions: raw.mentions.unwrap_or(true),
            dms: raw.dms.unwrap_or(true),
            listening,
        }
    }

    fn x_auth(&mut self, at: &str, raw: RawAuth) -> Option<XAuth> {
        let kind = self.required_choice(
            &path::key(at, "kind"),
            raw.kind,
            X_AUTH_KINDS,
            " for X accounts",
        )?;
        let (others, kind_name) = match kind {
            XAuthKind::OAuth2 => (
                [
                    ("consumer_key", raw.consumer_key.is_some()),
                    ("consumer_secret", raw.consumer_secret.is_some()),
                    ("access_token_secret", raw.access_token_secret.is_some()),
                ],
                "oauth1",
            ),
            XAuthKind::OAuth1 => (
                [
                    ("refresh_token", raw.refresh_token.is_some()),
                    ("client_id", raw.client_id.is_some()),
                    ("client_secret", raw.client_secret.is_some()),
                ],
                "oauth2",
            ),
        };
        for (key, written) in others {
            if written {
                self.problem(
                    &path::key(at, key),
                    format!("only applies to kind = \"{kind_name}\""),
                );
            }
        }
        if raw.page_token.is_some() {
            self.problem(
                &path::key(at, "page_token"),
                "only applies to facebook and instagram accounts",
            );
        }
        let access_token = self.token(&path::key(at, "access_token"), raw.access_token, "", true);
        match kind {
            XAuthKind::OAuth2 => {
                let refresh_at = path::key(at, "refresh_token");
                if raw.refresh_token.is_none() {
                    self.problem(
                        &refresh_at,
                        "is required: X's OAuth 2.0 access tokens expire after two hours, and \
                          only a refresh token (scope offline.access) keeps the account working",
                    );
                }
                let refresh_token = self.token(&refresh_at, raw.refresh_token, "", false);
                let client_id = raw.client_id.unwrap_or_default();
                if client_id.trim().is_empty() {
                    self.problem(
                        &path::key(at, "client_id"),
                        "is required: the X app's OAuth 2.0 client id, needed to refresh tokens",
                    );
                }
                let client_secret = self.token(
                    &path::key(at, "client_secret"),
                    raw.client_secret,
                    "",
                    false,
                );
                Some(XAuth::OAuth2 {
                    access_token: access_token?,
                    refresh_token,
                    client_id,
                    client_secret,
                })
            }
            XAuthKind::OAuth1 => {
                let consumer_key =
                    self.token(&path::key(at, "consumer_key"), raw.consumer_key, "", true);
                let consumer_secret = self.token(
                    &path::key(at, "consumer_secret"),
                    raw.consumer_secret,
                    "",
                    true,
                );
                let access_token_secret = self.token(
                    &path::key(at, "access_token_secret"),
                    raw.access_token_secret,
                    "",
                    true,
                );
                Some(XAuth::OAuth1 {
                    consumer_key: consumer_key?,
                    consumer_secret: consumer_secret?,
                    access_token: access_token?,
                    access_token_secret: access_token_secret?,
                })
            }
        }
    }

    fn x_webhook(&mut self, at: &str, raw: RawWebhook, auth: Option<&XAuth>) -> XWebhook {
        for (key, written) in [
            ("app_secret", raw.app_secret.is_some()),
            ("verify_token", raw.verify_token.is_some()),
        ] {
            if written {
                self.problem(
                    &path::key(at, key),
                    "only applies to facebook and instagram accounts",
                );
            }
        }
        let secret_at = path::key(at, "consumer_secret");
        let written = self.token(&secret_at, raw.consumer_secret, "", false);
        let consumer_secret = match (written, auth) {
            (Some(secret), _) => secret,
            (
                None,
                Some(XAuth::OAuth1 {
                    consumer_secret, ..
                }),
            ) => consumer_secret.clone(),
            (None, Some(XAuth::OAuth2 { .. })) => {
                self.problem(
                    &secret_at,
                    "is required with OAuth 2.0 auth: the X app's consumer secret (API key \
                     secret), which signs webhook deliveries",
                );
                Secret::new("")
            }
            // The auth problem is already reported.
            (None, None) => Secret::new(""),
        };
        XWebhook { consumer_secret }
    }

    fn listening(&mut self, at: &str, raw: RawListening) -> ListeningQuery {
        let query = raw.query.unwrap_or_default();
        if query.trim().is_empty() {
            self.problem(
                &path::key(at, "query"),
                "is required: an X search query, e.g. \"acme outage -is:retweet\"",
            );
        } else if query.chars().count() > MAX_X_QUERY {
            self.problem(
                &path::key(at, "query"),
                format!("is longer than X allows ({MAX_X_QUERY} characters)"),
            );
        }
        let queue = raw.queue.unwrap_or_else(|| "listening".to_owned());
        if queue.trim().is_empty() {
            self.problem(&path::key(at, "queue"), "must not be empty");
        }
        ListeningQuery { query, queue }
    }

    /// A required id, `[a-z0-9_-]+` (it ends up in case ids and store keys), unique among
    /// accounts (`ids` maps each to where it was first seen).
    fn account_id(
        &mut self,
        at: &str,
        raw: Option<String>,
        ids: &mut BTreeMap<String, String>,
    ) -> String {
        let id_at = path::key(at, "id");
        let Some(id) = raw else {
            self.problem(&id_at, "is required (letters a-z, digits, _ and -)");
            return String::new();
        };
        let valid = !id.is_empty()
            && id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
        if !valid {
            self.problem(
                &id_at,
                format!("{id:?} is not a valid id (use only a-z, 0-9, _ and -)"),
            );
        } else if let Some(first) = ids.get(&id) {
            self.problem(
                &id_at,
                format!("duplicate account id {id:?} (also {first})"),
            );
        } else {
            ids.insert(id.clone(), at.to_owned());
        }
        id
    }

    /// A required network that this build has a connector for.
    fn network(&mut self, at: &str, raw: Option<String>) -> Option<Platform> {
        let network_at = path::key(at, "network");
        self.required_choice(&network_at, raw, PLATFORMS, "")
    }

    fn demo(
        &mut self,
        at: &str,
        simulate: Option<String>,
        pace: Option<String>,
        feed: Option<String>,
    ) -> Option<DemoSource> {
        let platform = self.required_choice(
            &path::key(at, "simulate"),
            simulate,
            SIMULATED_PLATFORMS,
            " for demo accounts: the network to behave as",
        );
        let pace = self.duration(&path::key(at, "pace"), pace, Duration::from_secs(3), true);
        let feed = feed.map(|text| {
            let resolved = self.resolve(&text);
            if !resolved.is_file() {
                self.problem(
                    &path::key(at, "feed"),
                    format!("{} is not an existing file", resolved.display()),
                );
            }
            resolved
        });
        platform.map(|platform| DemoSource {
            platform,
            pace,
            feed,
        })
    }

    fn offline(&mut self, at: &str, raw: RawOffline) -> OfflineTemplates {
        let mut template = |key: &str, text: Option<String>, default: &str| {
            self.template(&path::key(at, key), text, default, OFFLINE_PLACEHOLDERS)
        };
        OfflineTemplates {
            email: template("email", raw.email, defaults::OFFLINE_EMAIL),
            sms: template("sms", raw.sms, defaults::OFFLINE_SMS),
            dm: template("dm", raw.dm, defaults::OFFLINE_DM),
        }
    }

    fn template(
        &mut self,
        at: &str,
        raw: Option<String>,
        default: &str,
        allowed: &[&str],
    ) -> String {
        match raw {
            None => default.to_owned(),
            Some(text) => {
                if text.trim().is_empty() {
                    self.problem(at, "must not be empty");
                }
                self.placeholders(at, &text, allowed);
                text
            }
        }
    }

    fn placeholders(&mut self, at: &str, template: &str, allowed: &[&str]) {
        let mut reported = BTreeSet::new();
        for name in placeholders(template) {
            if !allowed.contains(&name) && reported.insert(name) {
                let available: Vec<String> = allowed.iter().map(|a| format!("{{{a}}}")).collect();
                self.problem(
                    at,
                    format!(
                        "unknown placeholder {{{name}}} (available: {})",
                        available.join(", ")
                    ),
                );
            }
        }
    }

    fn jobs(&mut self, raw: Elements<RawJob>, default_timezone: Tz) -> Vec<JobConfig> {
        let mut names: BTreeMap<String, String> = BTreeMap::new();
        let mut jobs = Vec::new();
        for (i, job) in raw.into_iter().enumerate() {
            let Some(job) = job else { continue };
            let at = path::index("jobs", i);
            let name = self.unique_name(&at, job.name, &mut names, "job");
            let cron_at = path::key(&at, "cron");
            let schedule = match &job.cron {
                None => {
                    self.problem(
                        &cron_at,
                        "is required: a 5-field crontab line such as \"*/5 * * * *\" or @hourly",
                    );
                    None
                }
                Some(line) => parse_crontab(line)
                    .map_err(|e| self.problem(&cron_at, e.to_string()))
                    .ok(),
            };
            let timezone =
                self.timezone(&path::key(&at, "timezone"), job.timezone, default_timezone);
            let kind = self.required_choice(&path::key(&at, "kind"), job.kind, JOB_KINDS, "");
            let digest = self.digest_job(&at, kind, job.channel, job.period);
            // A job without a schedule or kind cannot be built; its problem is recorded, so the
            // config as a whole is rejected anyway.
            if let (Some(schedule), Some(kind), Some(cron)) = (schedule, kind, job.cron) {
                jobs.push(JobConfig {
                    name,
                    cron,
                    schedule,
                    timezone,
                    kind,
                    digest,
                });
            }
        }
        jobs
    }

    /// The digest-only keys of job `at`: required for a digest, refused for any other kind
    /// (an unknown kind is already reported, so they are not checked against it).
    fn digest_job(
        &mut self,
        at: &str,
        kind: Option<JobKind>,
        channel: Option<String>,
        period: Option<String>,
    ) -> Option<DigestJob> {
        let (channel_at, period_at) = (path::key(at, "channel"), path::key(at, "period"));
        match kind {
            Some(JobKind::Digest) => {
                let queue = match channel {
                    None => {
                        self.problem(
                            &channel_at,
                            "is required for a digest job: the queue whose channel it posts to, \
                             such as \"default\"",
                        );
                        String::new()
                    }
                    Some(queue) if queue.trim().is_empty() => {
                        self.problem(&channel_at, "must not be empty");
                        queue
                    }
                    Some(queue) => queue.trim().to_owned(),
                };
                let period = self.duration(&period_at, period, DEFAULT_DIGEST_PERIOD, false);
                Some(DigestJob { queue, period })
            }
            Some(other) => {
                let kind = name_of(JOB_KINDS, other);
                if channel.is_some() {
                    self.problem(&channel_at, format!("is only for digest jobs, not {kind}"));
                }
                if period.is_some() {
                    self.problem(&period_at, format!("is only for digest jobs, not {kind}"));
                }
                None
            }
            None => None,
        }
    }

    /// A required `name`, unique among its siblings (`names` maps each to where it was first
    /// seen).
    fn unique_name(
        &mut self,
        at: &str,
        raw: Option<String>,
        names: &mut BTreeMap<String, String>,
        what: &str,
    ) -> String {
        let name_at = path::key(at, "name");
        let Some(name) = raw else {
            self.problem(
                &name_at,
                format!("is required: a unique name for this {what}"),
            );
            return String::new();
        };
        if name.trim().is_empty() {
            self.problem(&name_at, "must not be empty");
        } else if let Some(first) = names.get(&name) {
            self.problem(
                &name_at,
                format!("duplicate {what} name {name:?} (also {first})"),
            );
        } else {
            names.insert(name.clone(), at.to_owned());
        }
        name
    }

    fn duration(
        &mut self,
        at: &str,
        raw: Option<String>,
        default: Duration,
        zero_allowed: bool,
    ) -> Duration {
        let Some(text) = raw else {
            return default;
        };
        match parse_duration(&text) {
            Ok(duration) if duration.is_zero() && !zero_allowed => {
                self.problem(at, "must be more than zero");
                default
            }
            Ok(duration) => duration,
            Err(e) => {
                self.problem(at, e.to_string());
                default
            }
        }
    }

    fn timezone(&mut self, at: &str, raw: Option<String>, default: Tz) -> Tz {
        let Some(text) = raw else {
            return default;
        };
        text.trim().parse().unwrap_or_else(|_| {
            self.problem(
                at,
                format!(
                    "{text:?} is not a known time zone (use an IANA name such as Europe/London, \
                     America/New_York or UTC)"
                ),
            );
            default
        })
    }

    fn choice<T: Copy>(&mut self, at: &str, text: &str, table: &[(&str, T)]) -> Option<T> {
        let found = table
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(text.trim()))
            .map(|(_, value)| *value);
        if found.is_none() {
            self.problem(at, format!("{text:?} is not one of {}", all_names(table)));
        }
        found
    }

    /// Like [`Self::choice`], for a key without a default; `what_for` explains the key in the
    /// "is required" message.
    fn required_choice<T: Copy>(
        &mut self,
        at: &str,
        raw: Option<String>,
        table: &[(&str, T)],
        what_for: &str,
    ) -> Option<T> {
        match raw {
            Some(text) => self.choice(at, &text, table),
            None => {
                self.problem(
                    at,
                    format!("is required{what_for} (one of {})", all_names(table)),
                );
                None
            }
        }
    }

    fn choices<T: Copy>(
        &mut self,
        at: &str,
        raw: Option<Vec<String>>,
        table: &[(&str, T)],
    ) -> Vec<T> {
        raw.unwrap_or_default()
            .iter()
            .enumerate()
            .filter_map(|(i, text)| self.choice(&path::index(at, i), text, table))
            .collect()
    }

    /// A path from the file, relative to the config file's directory.
    fn resolve(&self, text: &str) -> PathBuf {
        self.base_dir.join(text.trim())
    }
}

/// A Discord snowflake: digits only, non-zero, within 64 bits.
fn parse_snowflake(text: &str) -> Option<u64> {
    let text = text.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok().filter(|id| *id != 0)
}

/// Slack ids are an upper-case type letter followed by upper-case letters and digits.
fn is_slack_id(id: &str, kinds: &[char]) -> bool {
    let mut chars = id.chars();
    chars.next().is_some_and(|c| kinds.contains(&c))
        && id.len() >= 3
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

fn all_names<T>(table: &[(&str, T)]) -> String {
    table
        .iter()
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(", ")
}

fn name_of<T: PartialEq>(table: &[(&'static str, T)], value: T) -> &'static str {
    table
        .iter()
        .find(|(_, v)| *v == value)
        .map_or("?", |(name, _)| *name)
}

fn names_of<T: PartialEq + Copy>(table: &[(&'static str, T)], values: &[T]) -> String {
    values
        .iter()
        .map(|value| name_of(table, *value))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `Mon-Fri`, `Mon,Wed,Fri`, `Sat-Sun`, `fri-mon` (wrapping) → days, Monday first, no repeats.
fn parse_days(text: &str) -> Result<Vec<Weekday>, String> {
    let bad =
        || format!("{text:?} is not a list of days (use e.g. Mon-Fri, Mon,Wed,Fri or Sat-Sun)");
    let day = |name: &str| name.trim().parse::<Weekday>().map_err(|_| bad());
    let mut on = [false; 7];
    for item in text.split(',') {
        let (first, last) = match item.split_once('-') {
            Some((first, last)) => (day(first)?, day(last)?),
            None => {
                let single = day(item)?;
                (single, single)
            }
        };
        let mut current = first;
        loop {
            on[current.num_days_from_monday() as usize] = true;
            if current == last {
                break;
            }
            current = current.succ();
        }
    }
    let week = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ];
    Ok(week
        .into_iter()
        .zip(on)
        .filter(|(_, on)| *on)
        .map(|(day, _)| day)
        .collect())
}

/// The `{name}` placeholders in a template: an identifier in braces; other braces are text.
fn placeholders(template: &str) -> impl Iterator<Item = &str> {
    template.match_indices('{').filter_map(move |(start, _)| {
        let rest = &template[start + 1..];
        let end = rest.find('}')?;
        let name = &rest[..end];
        let identifier = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        identifier.then_some(name)
    })
}

/// All keywords as one case-insensitive whole-word pattern, compiled once so matching a post is
/// one scan. A keyword edge that is a word character gets `\b`; one that is not (`@acme`,
/// `c++`) gets `\B`, so it still cannot be glued to a word (`x@acme`) yet matches after a space.
fn keyword_regex(keywords: &[String]) -> Result<Option<Regex>, regex::Error> {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let alternatives: Vec<String> = keywords
        .iter()
        .map(|keyword| keyword.trim())
        .filter(|keyword| !keyword.is_empty())
        .map(|keyword| {
            let edge = |c: Option<char>| if c.is_some_and(is_word) { r"\b" } else { r"\B" };
            format!(
                "{}{}{}",
                edge(keyword.chars().next()),
                regex::escape(keyword),
                edge(keyword.chars().next_back())
            )
        })
        .collect();
    if alternatives.is_empty() {
        return Ok(None);
    }
    RegexBuilder::new(&alternatives.join("|"))
        .case_insensitive(true)
        .build()
        .map(Some)
}

/// The regex crate's error on one line: its `Display` draws the pattern with a caret under the
/// fault over several lines, which would break "one problem per line".
fn regex_message(error: &regex::Error) -> String {
    let text = error.to_string();
    let lines: Vec<&str> = text.lines().collect();
    // Layout: "regex parse error:", "    <pattern>", "    <spaces>^", "error: <what>".
    let what = lines.iter().find_map(|line| line.strip_prefix("error: "));
    let caret = lines
        .iter()
        .position(|line| line.trim_start().starts_with('^'))
        .filter(|&i| i >= 2)
        .and_then(|i| {
            let pattern_indent = lines[i - 1].len() - lines[i - 1].trim_start().len();
            let caret_indent = lines[i].len() - lines[i].trim_start().len();
            caret_indent.checked_sub(pattern_indent)
        });
    match (what, caret) {
        (Some(what), Some(column)) => {
            format!("invalid regex: {what} (at character {})", column + 1)
        }
        (Some(what), None) => format!("invalid regex: {what}"),
        _ => format!("invalid regex: {}", lines.join(" ").trim()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn enum_names_agree_with_the_engines_serde_names() {
        fn check<T: serde::Serialize>(table: &[(&str, T)]) {
            for (name, value) in table {
                assert_eq!(serde_json::to_value(value).unwrap(), *name);
            }
        }
        check(PLATFORMS);
        check(SIMULATED_PLATFORMS);
        check(POST_KINDS);
        check(URGENCIES);
        check(APPROVAL_MODES);
        check(CLOSE_LOOPS);
        check(CHAT_KINDS);
        check(JOB_KINDS);
        assert_eq!(PLATFORMS.len(), 7);
        assert_eq!(URGENCIES.len(), 4);
    }

    #[test]
    fn days() {
        use Weekday::*;
        assert_eq!(parse_days("Mon-Fri").unwrap(), [Mon, Tue, Wed, Thu, Fri]);
        assert_eq!(parse_days("mon,WED, Friday").unwrap(), [Mon, Wed, Fri]);
        assert_eq!(parse_days("Sat-Sun").unwrap(), [Sat, Sun]);
        assert_eq!(parse_days("Fri-Mon").unwrap(), [Mon, Fri, Sat, Sun]);
        assert_eq!(parse_days("Tue").unwrap(), [Tue]);
        assert_eq!(parse_days("Mon-Sun,Tue").unwrap().len(), 7);
        for bad in ["", "Mon-", "Mon-Fry", "1-5", "Mon;Tue", "Mon,,Tue"] {
            assert!(parse_days(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn placeholder_scan() {
        let found: Vec<&str> =
            placeholders("Hi {name}, {x y} {} {{case}} {1a} {_ok} { agent").collect();
        assert_eq!(found, ["name", "case", "_ok"]);
    }

    #[test]
    fn keywords_match_whole_words_case_insensitively() {
        let keywords: Vec<String> = ["refund", "Lawyer", "@acme", "c++", "not working"]
            .iter()
            .map(|k| (*k).to_owned())
            .collect();
        let re = keyword_regex(&keywords).unwrap().unwrap();
        for yes in [
            "I want a REFUND!",
            "my lawyer says",
            "hey @acme help",
            "@acme",
            "love c++ but",
            "app is not working.",
            "refund",
        ] {
            assert!(re.is_match(yes), "{yes:?}");
        }
        for no in [
            "refunded",
            "prerefund",
            "lawyers",
            "bob@acme.com",
            "cc++",
            "notworking",
        ] {
            assert!(!re.is_match(no), "{no:?}");
        }
        assert!(keyword_regex(&[]).unwrap().is_none());
        assert!(keyword_regex(&[" ".to_owned()]).unwrap().is_none());
    }

    #[test]
    fn regex_errors_fit_on_one_line() {
        // Built at run time: clippy rightly refuses an invalid regex literal.
        let pattern = [r"(?i)\bunsafe\b", "("].concat();
        let error = Regex::new(&pattern).unwrap_err();
        let message = regex_message(&error);
        assert!(!message.contains('\n'));
        assert!(
            message.starts_with("invalid regex: unclosed group"),
            "{message}"
        );
    }
}

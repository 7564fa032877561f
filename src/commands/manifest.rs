//! Registration artifacts generated from the command specs: the Slack app
//! manifest and the Discord application-command JSON.
//!
//! Owns: the shape of both documents (platforms.md §1.11 and §2.1) and the
//! fixed choices in them (scopes, events, settings).
//!
//! Must not: call any API or read configuration — the CLI (`carebridge
//! manifest slack|discord`) prints these and the Discord adapter PUTs the
//! JSON; both own their I/O.
//!
//! **Decision — Discord:** one chat-input command `care` (type 1) with one
//! sub-command (option type 1) per spec, mirroring Slack's `/care <command>`,
//! so both platforms read the same and help text fits both. Each spec arg
//! becomes an option: `text`, `word`, `duration` and `choice` are STRING (3),
//! `choice` with `choices`; `user` is USER (6). Every sub-command except those
//! with `takes_case = false` (`help`) ends with an optional INTEGER (4)
//! option `case` (min 1): inside a case's thread Discord tells us the case,
//! elsewhere the user names it. Required options always precede optional
//! ones (Discord rejects the reverse): spec validation guarantees it for the
//! args, `case` is optional and last, and the options are stably sorted
//! required-first regardless. Guild only (`contexts: [0]`,
//! `dm_permission: false`). Discord caps a command at 25 sub-commands; a test
//! checks we stay under it.
//!
//! **Slack:** one `/care` slash command (Slack cannot run it in threads, so
//! it always takes a case number), Socket Mode, interactivity for buttons,
//! and the message/reaction events that carry `!commands` and approvals.

use serde_json::{Value, json};

use super::spec::ArgKind;
use super::{SLASH_NAME, Specs};
use crate::text::usage;

/// Bot token scopes the Slack app requests, and why; no more than the
/// adapter uses (a test checks every Web API method it calls is covered).
pub const SLACK_BOT_SCOPES: &[&str] = &[
    // chat.postMessage, chat.update, chat.postEphemeral
    "chat:write",
    // the /care slash command
    "commands",
    // reaction_added / reaction_removed events
    "reactions:read",
    // message.channels / message.groups events (thread messages)
    "channels:history",
    "groups:history",
    // usergroups.users.list, for approvers and agents given as user groups
    "usergroups:read",
];

/// The Web API methods the adapter calls and the bot scope each needs
/// (`None`: no scope, e.g. `views.open` with a trigger, or the app-level
/// token's `apps.connections.open`).
pub const SLACK_METHOD_SCOPES: &[(&str, Option<&str>)] = &[
    ("auth.test", None),
    ("chat.postMessage", Some("chat:write")),
    ("chat.update", Some("chat:write")),
    ("chat.postEphemeral", Some("chat:write")),
    ("views.open", None),
    // finding what an interrupted attempt posted (public and private channels)
    ("conversations.history", Some("channels:history")),
    ("conversations.replies", Some("channels:history")),
    ("usergroups.users.list", Some("usergroups:read")),
    ("apps.connections.open", None),
];

/// How the Slack app is reached, for the manifest's settings.
#[derive(Debug, Clone, Default)]
pub struct SlackApp<'a> {
    /// The app's name (blank → `carebridge`).
    pub name: &'a str,
    /// Events API mode: the base URL Slack POSTs to. `None`: Socket Mode.
    pub public_url: Option<&'a str>,
}

/// Bot events the Slack app subscribes to: thread messages (public and
/// private channels) for `!commands` and notes, reactions for approvals.
pub const SLACK_BOT_EVENTS: &[&str] = &[
    "message.channels",
    "message.groups",
    "reaction_added",
    "reaction_removed",
];

/// Slack's limit on `display_information.name`.
const SLACK_NAME_MAX: usize = 35;
/// Slack's limit on `features.bot_user.display_name`.
const SLACK_DISPLAY_NAME_MAX: usize = 80;
/// Used when the configured app name is blank.
const DEFAULT_APP_NAME: &str = "carebridge";

/// Discord option types (platforms.md §2.1).
const SUB_COMMAND: u8 = 1;
const STRING: u8 = 3;
const INTEGER: u8 = 4;
const USER: u8 = 6;
/// Discord command type CHAT_INPUT.
const CHAT_INPUT: u8 = 1;
/// Discord interaction context GUILD.
const GUILD: u8 = 0;

impl Specs {
    /// The Slack app manifest (schema 1.0.0). Slack caps the name at 35
    /// characters (80 for the bot's display name), so longer names are cut;
    /// a blank name becomes `carebridge`. With a `public_url` the app uses
    /// the Events API at `{public_url}/slack/…`; without, Socket Mode.
    pub fn slack_manifest(&self, app: &SlackApp<'_>) -> Value {
        let app_name = match app.name.trim() {
            "" => DEFAULT_APP_NAME,
            name => name,
        };
        let cut = |max: usize| app_name.chars().take(max).collect::<String>();
        let url = |path: &str| {
            app.public_url
                .map(|base| format!("{}/slack/{path}", base.trim_end_matches('/')))
        };
        let mut command = json!({
            "command": format!("/{SLASH_NAME}"),
            "description": usage::SLASH_DESCRIPTION,
            "usage_hint": self.slack_usage_hint(),
            // Without escaping, `/care assign 42 @maria` arrives as
            // plain `@maria`; the parser accepts that as well as the
            // `<@U…>` form that thread messages carry.
            "should_escape": false,
        });
        let mut events = json!({ "bot_events": SLACK_BOT_EVENTS });
        let mut interactivity = json!({ "is_enabled": true });
        if let (Some(commands), Some(events_url), Some(actions)) =
            (url("commands"), url("events"), url("interactivity"))
        {
            command["url"] = json!(commands);
            events["request_url"] = json!(events_url);
            interactivity["request_url"] = json!(actions);
        }
        json!({
            "_metadata": { "major_version": 1, "minor_version": 1 },
            "display_information": {
                "name": cut(SLACK_NAME_MAX),
                "description": usage::SLACK_APP_DESCRIPTION,
            },
            "features": {
                "bot_user": {
                    "display_name": cut(SLACK_DISPLAY_NAME_MAX),
                    "always_online": true,
                },
                "slash_commands": [command],
            },
            "oauth_config": { "scopes": { "bot": SLACK_BOT_SCOPES } },
            "settings": {
                "event_subscriptions": events,
                "interactivity": interactivity,
                "org_deploy_enabled": false,
                "socket_mode_enabled": app.public_url.is_none(),
                "token_rotation_enabled": false,
            },
        })
    }

    /// The `/care` usage hint Slack shows while typing:
    /// `[assign|claim|…|status] <case> …`, commands in help order.
    pub fn slack_usage_hint(&self) -> String {
        let names: Vec<&str> = self
            .in_help_order()
            .into_iter()
            .map(|s| s.name.as_str())
            .collect();
        format!("[{}] <case> …", names.join("|"))
    }

    /// The Discord application-command array for a bulk overwrite
    /// (`PUT /applications/{id}/guilds/{guild}/commands`): one `care`
    /// command with a sub-command per spec. See the module docs.
    /// `permission` is `default_member_permissions`: the permission bits a
    /// member needs to see `/care` until a server admin says otherwise
    /// (`None`: every member).
    pub fn discord_commands(&self, permission: Option<u64>) -> Value {
        let subcommands: Vec<Value> = self
            .iter()
            .map(|spec| {
                let mut options: Vec<(bool, Value)> = spec
                    .args
                    .iter()
                    .map(|arg| {
                        let mut option = json!({
                            "type": if arg.kind == ArgKind::User { USER } else { STRING },
                            "name": arg.name,
                            "description": arg.help,
                            "required": arg.required,
                        });
                        if arg.kind == ArgKind::Choice {
                            option["choices"] = arg
                                .choices
                                .iter()
                                .map(|c| json!({ "name": c, "value": c }))
                                .collect();
                        }
                        (arg.required, option)
                    })
                    .collect();
                if spec.takes_case {
                    options.push((
                        false,
                        json!({
                            "type": INTEGER,
                            "name": super::spec::RESERVED_ARG,
                            "description": usage::DISCORD_CASE_OPTION_DESCRIPTION,
                            "required": false,
                            "min_value": 1,
                        }),
                    ));
                }
                // Stable: keeps spec order within required and optional.
                options.sort_by_key(|(required, _)| !*required);
                json!({
                    "type": SUB_COMMAND,
                    "name": spec.name,
                    "description": spec.summary,
                    "options": options.into_iter().map(|(_, o)| o).collect::<Vec<_>>(),
                })
            })
            .collect();
        json!([{
            "name": SLASH_NAME,
            "type": CHAT_INPUT,
            "description": usage::DISCORD_COMMAND_DESCRIPTION,
            "contexts": [GUILD],
            "dm_permission": false,
            // Discord takes the bit set as a string (it outgrows JSON numbers).
            "default_member_permissions": permission.map(|p| p.to_string()),
            "options": subcommands,
        }])
    }
}

/// What the bot needs in the channels it works in (platforms.md §2): see
/// them and their history, post (embeds too) and reply in threads, start
/// threads from its cards, archive/unarchive and tag them (Manage Threads),
/// and create a forum's missing tags (Manage Channels; it may be granted on
/// the forum channels alone instead).
pub const DISCORD_BOT_PERMISSIONS: u64 = (1 << 4) // MANAGE_CHANNELS
    | (1 << 10) // VIEW_CHANNEL
    | (1 << 11) // SEND_MESSAGES
    | (1 << 14) // EMBED_LINKS
    | (1 << 16) // READ_MESSAGE_HISTORY
    | (1 << 34) // MANAGE_THREADS
    | (1 << 35) // CREATE_PUBLIC_THREADS
    | (1 << 38); // SEND_MESSAGES_IN_THREADS

/// The OAuth2 URL that adds the bot (and its slash commands) to a server
/// with [`DISCORD_BOT_PERMISSIONS`]; with a guild, that server is preselected.
pub fn discord_invite(application_id: Option<u64>, guild_id: Option<u64>) -> String {
    let client =
        application_id.map_or_else(|| "YOUR_APPLICATION_ID".to_owned(), |id| id.to_string());
    let mut url = format!(
        "https://discord.com/oauth2/authorize?client_id={client}&scope=bot+applications.commands&permissions={DISCORD_BOT_PERMISSIONS}"
    );
    if let Some(guild) = guild_id {
        url.push_str(&format!("&guild_id={guild}&disable_guild_select=true"));
    }
    url
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn specs() -> Specs {
        Specs::load().unwrap()
    }

    fn strings(v: &Value) -> Vec<&str> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect()
    }

    /// Discord: `^[-_\p{L}\p{N}]{1,32}$`, lowercase where a lowercase exists.
    fn valid_discord_name(name: &str) -> bool {
        let n = name.chars().count();
        (1..=32).contains(&n)
            && name
                .chars()
                .all(|c| c == '-' || c == '_' || c.is_alphanumeric())
            && name.to_lowercase() == name
    }

    fn description_ok(v: &Value) -> bool {
        let n = v.as_str().unwrap().chars().count();
        (1..=100).contains(&n)
    }

    #[test]
    fn slack_manifest_has_care_command_scopes_and_events() {
        let m = specs().slack_manifest(&SlackApp {
            name: "Acme Care",
            public_url: None,
        });
        assert_eq!(m["display_information"]["name"], "Acme Care");
        assert_eq!(m["features"]["bot_user"]["display_name"], "Acme Care");
        assert_eq!(m["features"]["bot_user"]["always_online"], true);

        let commands = m["features"]["slash_commands"].as_array().unwrap();
        assert_eq!(commands.len(), 1);
        let care = &commands[0];
        assert_eq!(care["command"], "/care");
        assert_eq!(care["should_escape"], false);
        assert!(care.get("url").is_none(), "socket mode needs no url");
        let hint = care["usage_hint"].as_str().unwrap();
        assert!(hint.starts_with("[assign|claim|escalate|"), "{hint}");
        assert!(hint.ends_with("|help|status] <case> …"), "{hint}");
        for name in specs().names() {
            assert!(hint.contains(name), "{name} missing from {hint}");
        }
        assert!((1..=1000).contains(&hint.chars().count()));
        let desc = care["description"].as_str().unwrap();
        assert!((1..=2000).contains(&desc.chars().count()));

        let scopes = strings(&m["oauth_config"]["scopes"]["bot"]);
        for (method, scope) in SLACK_METHOD_SCOPES {
            if let Some(scope) = scope {
                assert!(scopes.contains(scope), "{method} needs {scope}");
            }
        }
        // No scope that nothing uses.
        for scope in &scopes {
            let used = SLACK_METHOD_SCOPES.iter().any(|(_, s)| s == &Some(*scope))
                || [
                    "commands",
                    "reactions:read",
                    "channels:history",
                    "groups:history",
                ]
                .contains(scope);
            assert!(used, "{scope} is requested but unused");
        }
        let events = strings(&m["settings"]["event_subscriptions"]["bot_events"]);
        assert_eq!(
            events,
            [
                "message.channels",
                "message.groups",
                "reaction_added",
                "reaction_removed"
            ]
        );
        let settings = &m["settings"];
        assert_eq!(settings["interactivity"]["is_enabled"], true);
        assert_eq!(settings["socket_mode_enabled"], true);
        assert_eq!(settings["org_deploy_enabled"], false);
        assert_eq!(settings["token_rotation_enabled"], false);
        assert_eq!(m["_metadata"]["major_version"], 1);
    }

    #[test]
    fn slack_manifest_in_events_mode_has_request_urls() {
        let m = specs().slack_manifest(&SlackApp {
            name: "Acme",
            public_url: Some("https://care.acme.example/"),
        });
        assert_eq!(m["settings"]["socket_mode_enabled"], false);
        assert_eq!(
            m["settings"]["event_subscriptions"]["request_url"],
            "https://care.acme.example/slack/events"
        );
        assert_eq!(
            m["settings"]["interactivity"]["request_url"],
            "https://care.acme.example/slack/interactivity"
        );
        assert_eq!(
            m["features"]["slash_commands"][0]["url"],
            "https://care.acme.example/slack/commands"
        );
    }

    #[test]
    fn slack_manifest_respects_name_limits() {
        let long = "A".repeat(100);
        let m = specs().slack_manifest(&SlackApp {
            name: &long,
            public_url: None,
        });
        assert_eq!(m["display_information"]["name"].as_str().unwrap().len(), 35);
        assert_eq!(
            m["features"]["bot_user"]["display_name"]
                .as_str()
                .unwrap()
                .len(),
            80
        );
        let m = specs().slack_manifest(&SlackApp::default());
        assert_eq!(m["display_information"]["name"], "carebridge");
        let desc = m["display_information"]["description"].as_str().unwrap();
        assert!((1..=140).contains(&desc.chars().count()));
    }

    #[test]
    fn discord_commands_shape() {
        let specs = specs();
        let json = specs.discord_commands(Some(1 << 34));
        let all = json.as_array().unwrap();
        assert_eq!(all.len(), 1);
        let care = &all[0];
        assert_eq!(care["name"], "care");
        assert_eq!(care["type"], 1);
        assert_eq!(care["contexts"], json!([0]));
        assert_eq!(care["default_member_permissions"], "17179869184");
        assert_eq!(care["dm_permission"], false);
        assert!(description_ok(&care["description"]));

        let subs = care["options"].as_array().unwrap();
        assert!(subs.len() <= 25, "Discord allows 25 sub-commands");
        assert_eq!(subs.len(), specs.len());
        for sub in subs {
            let name = sub["name"].as_str().unwrap();
            assert_eq!(sub["type"], 1, "{name}");
            assert!(valid_discord_name(name), "{name}");
            assert!(description_ok(&sub["description"]), "{name}");
            let options = sub["options"].as_array().unwrap();
            assert!(options.len() <= 25, "{name}");

            // Required before optional.
            let required: Vec<bool> = options
                .iter()
                .map(|o| o["required"].as_bool().unwrap())
                .collect();
            let mut sorted = required.clone();
            sorted.sort_by_key(|r| !*r);
            assert_eq!(required, sorted, "{name}: required options first");

            for o in options {
                let oname = o["name"].as_str().unwrap();
                assert!(valid_discord_name(oname), "{name}.{oname}");
                assert!(description_ok(&o["description"]), "{name}.{oname}");
                assert!([3, 4, 6].contains(&o["type"].as_u64().unwrap()));
                if let Some(choices) = o.get("choices") {
                    let choices = choices.as_array().unwrap();
                    assert!((1..=25).contains(&choices.len()));
                    for c in choices {
                        assert!((1..=100).contains(&c["name"].as_str().unwrap().len()));
                        assert!(c["value"].as_str().unwrap().len() <= 100);
                    }
                }
            }

            // `case` last, optional, integer ≥ 1 — except on help.
            let case = options.iter().find(|o| o["name"] == "case");
            if name == "help" {
                assert!(case.is_none());
            } else {
                let case = case.unwrap_or_else(|| panic!("{name} lacks case"));
                assert_eq!(case["type"], 4);
                assert_eq!(case["required"], false);
                assert_eq!(case["min_value"], 1);
                assert_eq!(
                    case["description"],
                    "Case number; not needed inside the case's thread"
                );
                assert_eq!(options.last().unwrap()["name"], "case");
            }
        }
    }

    #[test]
    fn discord_option_kinds() {
        let json = specs().discord_commands(None);
        let sub = |name: &str| {
            json[0]["options"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["name"] == name)
                .unwrap()
                .clone()
        };
        assert_eq!(
            sub("offline")["options"],
            json!([
                {"type": 3, "name": "channel", "description": "Where to continue the conversation",
                 "required": true,
                 "choices": [{"name": "email", "value": "email"}, {"name": "sms", "value": "sms"},
                             {"name": "dm", "value": "dm"}]},
                {"type": 3, "name": "address",
                 "description": "The customer's email address or phone number, if you already have it",
                 "required": false},
                {"type": 4, "name": "case", "description": "Case number; not needed inside the case's thread",
                 "required": false, "min_value": 1}
            ])
        );
        assert_eq!(sub("assign")["options"][0]["type"], 6);
        assert_eq!(sub("snooze")["options"][0]["type"], 3);
        assert_eq!(sub("claim")["options"].as_array().unwrap().len(), 1);
        assert_eq!(sub("help")["options"][0]["name"], "command");
    }

    #[test]
    fn discord_command_fits_total_size_limit() {
        // Discord: name + description + option names, descriptions and choice
        // names/values must total at most 8000 characters per command.
        fn count(v: &Value) -> usize {
            let mut n = 0;
            for key in ["name", "description", "value"] {
                if let Some(s) = v.get(key).and_then(Value::as_str) {
                    n += s.chars().count();
                }
            }
            for key in ["options", "choices"] {
                if let Some(a) = v.get(key).and_then(Value::as_array) {
                    n += a.iter().map(count).sum::<usize>();
                }
            }
            n
        }
        let json = specs().discord_commands(None);
        let total = count(&json[0]);
        assert!(total <= 8000, "{total}");
    }

    #[test]
    fn discord_invite_asks_for_what_the_bot_uses() {
        let url = discord_invite(Some(11), Some(12));
        assert_eq!(
            url,
            "https://discord.com/oauth2/authorize?client_id=11&scope=bot+applications.commands&permissions=326417599504&guild_id=12&disable_guild_select=true"
        );
        assert!(discord_invite(None, None).contains("client_id=YOUR_APPLICATION_ID&"));
    }
}

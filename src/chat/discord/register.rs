//! `/care` in the guild: the application-command JSON generated from
//! `commands/` (see `commands::manifest`) registered with one bulk overwrite
//! when it differs from what Discord has, so restarts neither duplicate it
//! nor spend the 200-a-day command creations, and a changed spec updates it.

use serde_json::Value;
use serenity::all::{GuildId, Http, LightMethod, Request, Route};

use crate::commands::Specs;
use crate::config::DiscordConfig;

/// Registers `/care` in the configured guild unless it is already current.
pub async fn commands(http: &Http, config: &DiscordConfig, specs: &Specs) -> anyhow::Result<()> {
    let wanted = specs.discord_commands(config.command_permission);
    let guild = GuildId::new(config.guild_id.max(1));
    let application = http
        .application_id()
        .ok_or_else(|| anyhow::anyhow!("chat.discord.application_id is missing"))?;
    // Raw JSON, not serenity's `Command`: the comparison is with what we send.
    let current: Value = http
        .fire(Request::new(
            Route::GuildCommands {
                application_id: application,
                guild_id: guild,
            },
            LightMethod::Get,
        ))
        .await?;
    if same(&wanted, &current) {
        tracing::info!(guild = config.guild_id, "Slash commands are up to date.");
        return Ok(());
    }
    let registered = http.create_guild_commands(guild, &wanted).await?;
    tracing::info!(
        guild = config.guild_id,
        commands = registered.len(),
        "Slash commands registered."
    );
    Ok(())
}

/// Whether Discord's registered commands are the ones we would register:
/// every field we send has the same value there (Discord adds ids, versions
/// and defaults of its own, and leaves out fields that are false or empty).
fn same(wanted: &Value, current: &Value) -> bool {
    match (wanted, current) {
        (Value::Array(w), Value::Array(c)) => {
            w.len() == c.len() && w.iter().zip(c).all(|(w, c)| same(w, c))
        }
        (Value::Object(w), Value::Object(c)) => w.iter().all(|(key, value)| match c.get(key) {
            Some(theirs) => same(value, theirs),
            None => is_default(value),
        }),
        (Value::Number(w), Value::String(c)) | (Value::String(c), Value::Number(w)) => {
            w.to_string() == *c
        }
        (w, c) => w == c,
    }
}

/// Values Discord omits when echoing a command back.
fn is_default(value: &Value) -> bool {
    match value {
        Value::Null | Value::Bool(false) => true,
        Value::Array(items) => items.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use serde_json::json;

    use super::*;

    #[test]
    fn registered_commands_compare_by_what_we_send() {
        let wanted = Specs::load().unwrap().discord_commands(Some(1 << 34));
        // What Discord echoes: ids and versions added, `required: false` dropped.
        let mut echoed = wanted.clone();
        echoed[0]["id"] = json!("1700000000000000001");
        echoed[0]["version"] = json!("1700000000000000002");
        for sub in echoed[0]["options"].as_array_mut().unwrap() {
            for option in sub["options"].as_array_mut().unwrap() {
                if option["required"] == json!(false) {
                    option.as_object_mut().unwrap().remove("required");
                }
            }
        }
        assert!(same(&wanted, &echoed));
        assert!(!same(&wanted, &json!([])));
        let mut renamed = echoed.clone();
        renamed[0]["options"][0]["description"] = json!("An older summary");
        assert!(!same(&wanted, &renamed));
        let mut open = echoed;
        open[0]["default_member_permissions"] = Value::Null;
        assert!(!same(&wanted, &open));
    }
}

//! The health registry behind `GET /healthz`: each component (the chat, every social account)
//! reports its state here as it learns it, and the route shows the latest.
//!
//! Owns only the bookkeeping: when a state changed, the last success, and the JSON shape.
//! Must not: probe anything itself (the components report what their own calls found), hold
//! a secret (details are fixed sentences from `text::health`), or block (one short lock).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::text;

/// One component's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Component {
    pub name: String,
    pub ok: bool,
    pub detail: String,
    /// When `ok` last changed (or the component was registered).
    pub since: DateTime<Utc>,
    /// The last call that went through, or webhook delivery that arrived (accounts only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_success: Option<DateTime<Utc>>,
}

/// What `/healthz` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// `ok` when every component is; `down` otherwise.
    pub status: &'static str,
    pub components: Vec<Component>,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.status == "ok"
    }
}

/// The components' states, by name (`chat:slack`, `account:acme-x`).
#[derive(Debug, Default)]
pub struct Health {
    components: Mutex<BTreeMap<String, Component>>,
}

fn account_name(id: &str) -> String {
    format!("account:{id}")
}

impl Health {
    pub fn new() -> Arc<Health> {
        Arc::default()
    }

    /// Sets `name`'s state; `since` moves only when `ok` changes.
    fn set(&self, name: String, ok: bool, detail: &str, success: bool, now: DateTime<Utc>) {
        let mut components = self
            .components
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let entry = components.entry(name.clone()).or_insert_with(|| Component {
            name,
            ok,
            detail: String::new(),
            since: now,
            last_success: None,
        });
        if entry.ok != ok {
            entry.ok = ok;
            entry.since = now;
        }
        if entry.detail != detail {
            detail.clone_into(&mut entry.detail);
        }
        if success {
            entry.last_success = Some(now);
        }
    }

    /// The chat `kind` (`console`, `slack`, `discord`) is up or down, and why.
    pub fn chat(&self, kind: &str, ok: bool, detail: &str) {
        self.set(format!("chat:{kind}"), ok, detail, false, Utc::now());
    }

    /// Registers account `id` before anything was asked of it: up until proven otherwise, so
    /// a quiet webhook-only account does not read as down.
    pub fn account(&self, id: &str) {
        let mut components = self
            .components
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let name = account_name(id);
        components.entry(name.clone()).or_insert_with(|| Component {
            name,
            ok: true,
            detail: text::health::NO_CALL_YET.to_owned(),
            since: Utc::now(),
            last_success: None,
        });
    }

    /// A call for account `id` went through (a poll, a publish, a webhook delivery).
    pub fn account_ok(&self, id: &str) {
        self.set(
            account_name(id),
            true,
            text::health::REACHABLE,
            true,
            Utc::now(),
        );
    }

    /// The network reached us for account `id` (a signed webhook delivery). That proves
    /// nothing about the account's token, so only the time is kept, not the state.
    pub fn heard(&self, id: &str) {
        let mut components = self
            .components
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = components.get_mut(&account_name(id)) {
            entry.last_success = Some(Utc::now());
        }
    }

    /// The network refused account `id`'s token; down until a call goes through again.
    pub fn token_refused(&self, id: &str) {
        self.set(
            account_name(id),
            false,
            text::health::TOKEN_REFUSED,
            false,
            Utc::now(),
        );
    }

    pub fn report(&self) -> Report {
        let components: Vec<Component> = self
            .components
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect();
        let status = match components.iter().all(|c| c.ok) {
            true => "ok",
            false => "down",
        };
        Report { status, components }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn all_up_is_ok_and_one_down_is_down_until_it_recovers() {
        let health = Health::new();
        health.chat("console", true, text::health::CONSOLE);
        health.account("acme-fb");
        let report = health.report();
        assert!(report.ok());
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["status"], "ok");
        assert_eq!(json["components"][0]["name"], "account:acme-fb");
        assert_eq!(json["components"][0]["detail"], text::health::NO_CALL_YET);
        assert!(json["components"][0].get("last_success").is_none());
        assert_eq!(json["components"][1]["name"], "chat:console");
        assert!(
            json["components"][1]["since"]
                .as_str()
                .unwrap()
                .contains('T')
        );

        health.account_ok("acme-fb");
        let succeeded = health.report().components[0].last_success.unwrap();
        health.token_refused("acme-fb");
        let report = health.report();
        assert!(!report.ok());
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["status"], "down");
        assert_eq!(json["components"][0]["ok"], false);
        assert_eq!(json["components"][0]["detail"], text::health::TOKEN_REFUSED);
        // The last success stays visible while the account is down.
        assert_eq!(report.components[0].last_success, Some(succeeded));

        health.account_ok("acme-fb");
        assert!(health.report().ok());
    }

    #[test]
    fn since_moves_only_when_the_state_changes() {
        let health = Health::new();
        let t0 = Utc::now();
        health.set("chat:discord".into(), true, "a", false, t0);
        health.set(
            "chat:discord".into(),
            true,
            "b",
            false,
            t0 + chrono::TimeDelta::seconds(5),
        );
        assert_eq!(health.report().components[0].since, t0);
        let t1 = t0 + chrono::TimeDelta::seconds(9);
        health.set("chat:discord".into(), false, "c", false, t1);
        assert_eq!(health.report().components[0].since, t1);
        // Registering an account again keeps what it learned.
        health.token_refused("a");
        health.account("a");
        assert!(!health.report().ok());
    }
}

//! Routing: which urgency, queue and tags a new case gets.
//!
//! The ordered `[[routing]]` rules of the config are tried in turn; the first
//! rule that matches decides. Pure: no I/O.

use std::collections::BTreeSet;

use super::model::{Platform, SocialPost, Urgency};
use super::rules::rules_platform;
use crate::config::{Config, RoutingRule};

/// Where a new case goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub urgency: Urgency,
    pub queue: String,
    pub tags: BTreeSet<String>,
    /// Name of the rule that matched, for the audit trail.
    pub rule: Option<String>,
}

fn matches(rule: &RoutingRule, platform: Platform, post: &SocialPost) -> bool {
    (rule.platforms.is_empty()
        || rule.platforms.contains(&platform)
        || rule.platforms.contains(&post.platform))
        && (rule.accounts.is_empty() || rule.accounts.contains(&post.account))
        && (rule.kinds.is_empty() || rule.kinds.contains(&post.kind))
        && rule.matches_text(&post.text)
}

/// Routes a post that opens a new case.
pub fn route(config: &Config, post: &SocialPost) -> Route {
    let account = config.account(&post.account);
    let account_queue = post
        .queue
        .clone()
        .or_else(|| account.map(|a| a.queue.clone()))
        .unwrap_or_else(|| "default".to_owned());
    // Demo accounts are routed as the platform they simulate (a rule naming
    // `demo` itself matches them too).
    let platform = rules_platform(account, post.platform);
    match config
        .routing
        .iter()
        .find(|rule| matches(rule, platform, post))
    {
        Some(rule) => Route {
            urgency: rule.urgency.unwrap_or(Urgency::Normal),
            queue: rule.queue.clone().unwrap_or(account_queue),
            tags: rule.tags.iter().cloned().collect(),
            rule: Some(rule.name.clone()),
        },
        None => Route {
            urgency: Urgency::Normal,
            queue: account_queue,
            tags: BTreeSet::new(),
            rule: None,
        },
    }
}

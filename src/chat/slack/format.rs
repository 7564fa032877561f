//! TEMPORARY STUB (replaced by the helper's format.rs).
use slack_morphism::prelude::*;
use crate::engine::Command;
use crate::text::Card;
pub type FieldErrors = std::collections::HashMap<String, String>;
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModalKind { Reply, Escalate, Offline, Close }
impl ModalKind { pub fn from_action(a: &str) -> Option<Self> { match a { "care.reply" => Some(Self::Reply), "care.escalate" => Some(Self::Escalate), "care.offline" => Some(Self::Offline), _ => None } } }
pub struct Mentions;
impl Mentions { pub fn new() -> Self { Mentions } pub fn token(&self, u: &str) -> String { format!("<@{u}>") } pub fn mrkdwn(&self, t: &str) -> String { t.to_owned() } }
pub fn card_blocks(_m: &Mentions, _n: u64, _c: &Card) -> Vec<SlackBlock> { vec![] }
pub fn card_fallback(_m: &Mentions, c: &Card) -> String { c.title.clone() }
pub fn chunks(t: &str, _l: usize) -> Vec<String> { vec![t.to_owned()] }
pub fn modal(_k: ModalKind, _n: u64, _t: &str) -> SlackView { todo!() }
pub fn submission(_cb: &str, _pm: &str, _v: &SlackViewState) -> Result<(u64, Command), FieldErrors> { todo!() }

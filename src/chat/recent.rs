//! Event ids seen lately, in memory, shared by the chat adapters' inbound
//! queues: a redelivery that arrives while the first delivery is still
//! queued is dropped before it costs anything. The store remembers the ids
//! of events already worked; this only covers the gap before that.

use std::collections::{HashSet, VecDeque};
use std::sync::{Mutex, PoisonError};

/// Event ids remembered; the oldest are forgotten first.
const RECENT: usize = 10_000;

#[derive(Default)]
pub struct Recent(Mutex<Ids>);

#[derive(Default)]
struct Ids {
    order: VecDeque<String>,
    ids: HashSet<String>,
}

impl Recent {
    /// False when `id` was seen lately.
    pub fn insert(&self, id: &str) -> bool {
        let mut seen = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if seen.ids.contains(id) {
            return false;
        }
        if seen.order.len() >= RECENT
            && let Some(old) = seen.order.pop_front()
        {
            seen.ids.remove(&old);
        }
        seen.order.push_back(id.to_owned());
        seen.ids.insert(id.to_owned());
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_the_latest_ids_only() {
        let recent = Recent::default();
        assert!(recent.insert("a"));
        assert!(!recent.insert("a"));
        for i in 0..RECENT {
            recent.insert(&i.to_string());
        }
        assert!(recent.insert("a"), "the oldest id is forgotten");
    }
}

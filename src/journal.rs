//! An append-only JSON-lines journal keyed by idempotency key.
//!
//! The console chat and the demo publisher stand in for real platforms; a
//! real platform lets us look up whether an earlier attempt went through
//! (Slack thread history, X's recent replies). The journal gives the stand-ins
//! the same property: an effect retried after a crash finds its earlier
//! result instead of happening twice. Owns only its file; knows nothing of
//! cases or workflow.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use serde_json::Value;

pub struct Journal {
    path: PathBuf,
    state: Mutex<(File, HashMap<String, Value>)>,
}

impl Journal {
    /// Opens (or creates) the journal, reading what earlier runs recorded.
    /// A torn last line, as a crash mid-write leaves, is skipped.
    pub fn open(path: &Path) -> io::Result<Journal> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut index = HashMap::new();
        if path.exists() {
            for line in BufReader::new(File::open(path)?).lines() {
                let line = line?;
                if let Ok(Value::Object(mut record)) = serde_json::from_str::<Value>(&line)
                    && let Some(Value::String(key)) = record.remove("key")
                {
                    index.insert(key, Value::Object(record));
                }
            }
        }
        let mut file = OpenOptions::new().create(true).append(true).open(path)?;
        // Terminate a torn last line so the next record starts on its own line.
        let bytes = std::fs::read(path)?;
        if bytes.last().is_some_and(|b| *b != b'\n') {
            file.write_all(b"\n")?;
        }
        Ok(Journal {
            path: path.to_owned(),
            state: Mutex::new((file, index)),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What was recorded under `key`, if anything.
    pub fn get(&self, key: &str) -> Option<Value> {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.1.get(key).cloned()
    }

    /// Records `value` (a JSON object) under `key`, durably, unless the key is
    /// already there; returns the value that is recorded for the key.
    pub fn record(&self, key: &str, value: Value) -> io::Result<Value> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(existing) = state.1.get(key) {
            return Ok(existing.clone());
        }
        let mut line = match &value {
            Value::Object(map) => {
                let mut map = map.clone();
                map.insert("key".to_owned(), Value::String(key.to_owned()));
                Value::Object(map)
            }
            other => serde_json::json!({ "key": key, "value": other }),
        }
        .to_string();
        line.push('\n');
        state.0.write_all(line.as_bytes())?;
        state.0.sync_data()?;
        state.1.insert(key.to_owned(), value.clone());
        Ok(value)
    }

    pub fn len(&self) -> usize {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .1
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_once_and_survives_reopen_and_torn_lines() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("j.jsonl");
        let j = Journal::open(&path)?;
        j.record("a", serde_json::json!({"id": "1"}))?;
        let again = j.record("a", serde_json::json!({"id": "2"}))?;
        assert_eq!(again["id"], "1");
        drop(j);
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)?
            .write_all(b"{\"key\":\"b\",\"id\"")?;
        let j = Journal::open(&path)?;
        assert_eq!(j.get("a").map(|v| v["id"].clone()), Some(Value::from("1")));
        assert!(j.get("b").is_none());
        assert_eq!(j.len(), 1);
        j.record("c", serde_json::json!({"id": "3"}))?;
        drop(j);
        assert!(Journal::open(&path)?.get("c").is_some());
        Ok(())
    }
}

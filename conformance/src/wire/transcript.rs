//! The record of one case's exchange with the server: every request and
//! response, every WebSocket frame each way, every close; and every place
//! where the server's output broke the spec documents.
//!
//! Entries are redacted as they are recorded ([`super::redact`]), so no
//! report can leak a usable token or a password.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde::Serialize;
use serde_json::Value;

use super::redact;

/// Most entries kept per case; a property case can talk a lot.
const MAX_ENTRIES: usize = 400;

/// Longest string kept whole in an entry; an oversized body is not worth
/// reading in full.
const MAX_STRING_CHARS: usize = 512;

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Entry {
    Request {
        method: String,
        path: String,
        #[serde(skip_serializing_if = "BTreeMap::is_empty")]
        headers: BTreeMap<String, String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        body: Option<Value>,
    },
    Response {
        status: u16,
        #[serde(skip_serializing_if = "BTreeMap::is_empty")]
        headers: BTreeMap<String, String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        body: Option<Value>,
    },
    WsConnect {
        connection: String,
        path: String,
        #[serde(skip_serializing_if = "BTreeMap::is_empty")]
        headers: BTreeMap<String, String>,
    },
    WsRefused {
        connection: String,
        status: u16,
        body: Value,
    },
    WsSent {
        connection: String,
        frame: Value,
    },
    WsReceived {
        connection: String,
        frame: Value,
    },
    WsClosed {
        connection: String,
        code: Option<u16>,
        reason: String,
    },
    Note {
        text: String,
    },
}

/// A place where the server's output broke a spec document.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Violation {
    /// What was being checked (`GET /v1/me 200`, `frame on ws#1`).
    pub subject: String,
    pub problems: Vec<String>,
}

#[derive(Debug, Default)]
struct Log {
    entries: Vec<Entry>,
    omitted: usize,
    violations: Vec<Violation>,
    connections: usize,
    /// Ids of the chats the case started, for the runner to close after it.
    started_chats: Vec<String>,
}

/// A case's shared log; clones write to the same record.
#[derive(Debug, Clone, Default)]
pub struct Recorder(Arc<Mutex<Log>>);

/// What a finished case recorded.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Transcript {
    pub entries: Vec<Entry>,
    /// Entries left out past the per-case limit.
    #[serde(skip_serializing_if = "is_zero")]
    pub omitted: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Recorder {
    fn lock(&self) -> MutexGuard<'_, Log> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records `entry`, redacted.
    pub fn record(&self, mut entry: Entry) {
        redact::entry(&mut entry);
        abbreviate_entry(&mut entry);
        let mut log = self.lock();
        if log.entries.len() < MAX_ENTRIES {
            log.entries.push(entry);
        } else {
            log.omitted += 1;
        }
    }

    pub fn note(&self, text: impl Into<String>) {
        self.record(Entry::Note { text: text.into() });
    }

    pub fn violation(&self, subject: impl Into<String>, problems: Vec<String>) {
        if problems.is_empty() {
            return;
        }
        self.lock().violations.push(Violation {
            subject: subject.into(),
            problems,
        });
    }

    /// A name for the next WebSocket of this case: `ws#1`, `ws#2`, ...
    pub fn next_connection(&self, who: &str) -> String {
        let mut log = self.lock();
        log.connections += 1;
        format!("ws#{} ({who})", log.connections)
    }

    /// Notes that the case started chat `id`: the runner closes it when
    /// the case ends, so no case holds a place in the server's bound on
    /// open chats per address after it.
    pub fn chat_started(&self, id: String) {
        self.lock().started_chats.push(id);
    }

    /// The chats the case started, oldest first.
    pub fn started_chats(&self) -> Vec<String> {
        self.lock().started_chats.clone()
    }

    pub fn violations(&self) -> Vec<Violation> {
        self.lock().violations.clone()
    }

    pub fn transcript(&self) -> Transcript {
        let log = self.lock();
        Transcript {
            entries: log.entries.clone(),
            omitted: log.omitted,
        }
    }
}

fn abbreviate_entry(entry: &mut Entry) {
    match entry {
        Entry::Request { body, .. } | Entry::Response { body, .. } => {
            if let Some(body) = body {
                abbreviate(body);
            }
        }
        Entry::WsRefused { body, .. } => abbreviate(body),
        Entry::WsSent { frame, .. } | Entry::WsReceived { frame, .. } => abbreviate(frame),
        Entry::WsConnect { path, .. } => *path = abbreviate_text(path),
        Entry::WsClosed { .. } | Entry::Note { .. } => {}
    }
}

/// Shortens every long string inside `value`, saying how long it was.
pub fn abbreviate(value: &mut Value) {
    match value {
        Value::String(text) => *text = abbreviate_text(text),
        Value::Array(items) => items.iter_mut().for_each(abbreviate),
        Value::Object(map) => map.values_mut().for_each(abbreviate),
        _ => {}
    }
}

fn abbreviate_text(text: &str) -> String {
    let chars = text.chars().count();
    if chars <= MAX_STRING_CHARS {
        return text.to_owned();
    }
    let head: String = text.chars().take(64).collect();
    format!("{head}... ({chars} characters)")
}

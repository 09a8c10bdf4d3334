//! Normalised transcripts, for snapshots: every id, time and token that
//! changes from run to run is replaced by a placeholder, so two runs of a
//! conforming server give the same text and a change of behaviour shows
//! as a reviewable diff.
//!
//! A JWK's `kid`, `x` and `y` become their shape (`[base64url, 43
//! chars]`): the key changes, its encoding must not.
//!
//! Ids become `[uuid-1]`, `[uuid-2]`, ... numbered by first appearance, so
//! the snapshot still shows which ids are the same (the chat in a message
//! is the chat that was started). Ambient frames (`presence`,
//! `chat_updated`) are left out: they tell what else the server is doing,
//! not what the case exchanged.

use std::collections::HashMap;

use serde_json::Value;

use super::redact::{REDACTED, jwt_parts};
use super::transcript::{Entry, Transcript};
use super::ws::{AMBIENT, kind};

/// Headers whose values change between runs.
const VOLATILE_HEADERS: [&str; 3] = ["retry-after", "etag", "if-none-match"];

/// Members of a JWK that differ with every key: shown by their shape.
const KEY_MEMBERS: [&str; 3] = ["kid", "x", "y"];

pub fn transcript(transcript: &Transcript) -> Value {
    let exchanged = Transcript {
        entries: transcript
            .entries
            .iter()
            .filter(|entry| !matches!(entry, Entry::WsReceived { frame, .. } if AMBIENT.contains(&kind(frame))))
            .cloned()
            .collect(),
        omitted: transcript.omitted,
    };
    let mut value = serde_json::to_value(&exchanged).unwrap_or(Value::Null);
    let mut ids = Ids::default();
    walk(&mut value, None, &mut ids);
    value
}

#[derive(Default)]
struct Ids(HashMap<String, usize>);

impl Ids {
    fn label(&mut self, id: &str) -> String {
        let next = self.0.len() + 1;
        let n = *self.0.entry(id.to_ascii_lowercase()).or_insert(next);
        format!("[uuid-{n}]")
    }
}

fn walk(value: &mut Value, key: Option<&str>, ids: &mut Ids) {
    match value {
        Value::String(text) => {
            if key.is_some_and(|key| VOLATILE_HEADERS.contains(&key)) {
                *text = "[volatile]".to_owned();
            } else {
                *text = string(text, ids);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| walk(item, None, ids)),
        Value::Object(map) => {
            let jwk = map.contains_key("kty");
            for (key, item) in map.iter_mut() {
                match item {
                    Value::String(text) if jwk && KEY_MEMBERS.contains(&key.as_str()) => {
                        *text = shape(text);
                    }
                    _ => walk(item, Some(key), ids),
                }
            }
        }
        _ => {}
    }
}

/// A key's member by its shape: how long, and whether base64url.
fn shape(text: &str) -> String {
    let base64url = text
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    let kind = if base64url { "base64url" } else { "text" };
    format!("[{kind}, {} chars]", text.len())
}

/// A JWT, whole or with its signature already redacted.
fn is_jwt(text: &str) -> bool {
    match text.strip_suffix(REDACTED) {
        Some(unsigned) => jwt_parts(&format!("{unsigned}signature")).is_some(),
        None => jwt_parts(text).is_some(),
    }
}

fn string(text: &str, ids: &mut Ids) -> String {
    if is_jwt(text) {
        return "[jwt]".to_owned();
    }
    if let Some((scheme, token)) = text.split_once(' ')
        && is_jwt(token)
    {
        return format!("{scheme} [jwt]");
    }
    if chrono::DateTime::parse_from_rfc3339(text).is_ok() {
        return "[time]".to_owned();
    }
    if let Some((path, query)) = text.split_once('?') {
        let query: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, value)) => format!("{key}={}", string(value, ids)),
                None => pair.to_owned(),
            })
            .collect();
        return format!("{}?{}", replace_uuids(path, ids), query.join("&"));
    }
    replace_uuids(text, ids)
}

/// Replaces every UUID inside `text` (`8-4-4-4-12` hex digits).
fn replace_uuids(text: &str, ids: &mut Ids) -> String {
    const LEN: usize = 36;
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut copied = 0;
    while i + LEN <= bytes.len() {
        if is_uuid(&bytes[i..i + LEN]) {
            out.push_str(&text[copied..i]);
            out.push_str(&ids.label(&text[i..i + LEN]));
            i += LEN;
            copied = i;
        } else {
            i += 1;
        }
    }
    out.push_str(&text[copied..]);
    out
}

fn is_uuid(bytes: &[u8]) -> bool {
    bytes.iter().enumerate().all(|(i, b)| match i {
        8 | 13 | 18 | 23 => *b == b'-',
        _ => b.is_ascii_hexdigit(),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::wire::transcript::Entry;

    #[test]
    fn ids_times_and_tokens_become_placeholders() {
        let chat = "0193a5f2-7000-7abc-8def-0123456789ab";
        let transcript = Transcript {
            entries: vec![
                Entry::Request {
                    method: "GET".into(),
                    path: format!("/v1/chats/{chat}"),
                    headers: [(
                        "authorization".to_owned(),
                        "Bearer aaaa.bbbb.cccc".to_owned(),
                    )]
                    .into(),
                    body: None,
                },
                Entry::Response {
                    status: 200,
                    headers: [("retry-after".to_owned(), "3".to_owned())].into(),
                    body: Some(json!({
                        "id": chat,
                        "created_at": "2026-01-01T12:00:00.123Z",
                        "visitor": {"id": "0193a5f2-7001-7abc-8def-0123456789ab"},
                        "email": format!("qa-{chat}@example.com"),
                        "keys": [{"kty": "OKP", "kid": "k-1", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}],
                    })),
                },
            ],
            omitted: 0,
        };
        let normal = super::transcript(&transcript);
        assert_eq!(
            normal,
            json!({"entries": [
                {"kind": "request", "method": "GET", "path": "/v1/chats/[uuid-1]",
                 "headers": {"authorization": "Bearer [jwt]"}},
                {"kind": "response", "status": 200, "headers": {"retry-after": "[volatile]"},
                 "body": {"id": "[uuid-1]", "created_at": "[time]",
                          "visitor": {"id": "[uuid-2]"}, "email": "qa-[uuid-1]@example.com",
                          "keys": [{"kty": "OKP", "kid": "[base64url, 3 chars]",
                                    "x": "[base64url, 43 chars]"}]}}
            ]})
        );
    }
}

//! What nodes tell each other over the broker: one JSON object per
//! PUBLISH, small, each naming the node it comes from.
//!
//! Every event is a hint. A lost `message` is found again by the receiving
//! node's gap fill or sweep, from the database; a lost `chat_updated` by
//! the sweep's look at recently changed chats; a lost `revoked` by its
//! look at recent revocations; a lost `presence` by the next presence
//! round. `typing` and `read` are best effort: a typing indicator is stale
//! within seconds anyway, and read positions are stored, for a client to
//! read when it needs them.

use byrd_spec::chat::Chat;
use byrd_spec::message::{Author, Message};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Longest body an event carries; larger messages are read from the
/// database by the nodes that need them.
pub const MAX_INLINE_BODY_BYTES: usize = 1024;

/// An event and the node it comes from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Envelope {
    pub node: Uuid,
    #[serde(flatten)]
    pub event: Event,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// Message `seq` of `chat_id` is committed; `message` is it when small.
    Message {
        chat_id: Uuid,
        seq: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<Message>,
    },
    ChatUpdated {
        chat: Chat,
    },
    Typing {
        chat_id: Uuid,
        author: Author,
        active: bool,
    },
    Read {
        chat_id: Uuid,
        author: Author,
        seq: i64,
    },
    /// An access token (`jti`) or a whole login session was revoked.
    Revoked {
        jti: Option<String>,
        session: Option<Uuid>,
    },
    /// The sender's online agents changed: read the presence set again.
    Presence,
}

impl Event {
    /// The event announcing a committed message; the body rides along
    /// when it is small.
    pub fn committed(message: &Message) -> Event {
        Event::Message {
            chat_id: message.chat_id,
            seq: message.seq,
            message: (message.body.len() <= MAX_INLINE_BODY_BYTES).then(|| message.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_envelope_is_flat_json_with_its_type() {
        let node = Uuid::now_v7();
        let envelope = Envelope {
            node,
            event: Event::Revoked {
                jti: Some("j".into()),
                session: None,
            },
        };
        let json = serde_json::to_value(&envelope).unwrap();
        assert_eq!(json["type"], "revoked");
        assert_eq!(json["node"], node.to_string());
        let back: Envelope = serde_json::from_value(json).unwrap();
        assert!(matches!(back.event, Event::Revoked { jti: Some(j), .. } if j == "j"));
    }
}

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
//!
//! The hub publishes its own [`hub::Event`]s; translating them to and from
//! what crosses the broker happens here, so the hub knows nothing of it.

use byrd_spec::chat::Chat;
use byrd_spec::message::{Author, Message};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::hub;

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
    /// What tells the other nodes of `event`, which happened on this node.
    /// A message's body rides along when it is small.
    pub fn of(event: &hub::Event<'_>) -> Event {
        match *event {
            hub::Event::Message {
                chat_id,
                seq,
                message,
            } => Event::Message {
                chat_id,
                seq,
                message: message
                    .filter(|message| message.body.len() <= MAX_INLINE_BODY_BYTES)
                    .cloned(),
            },
            hub::Event::ChatUpdated(chat) => Event::ChatUpdated { chat: chat.clone() },
            hub::Event::Typing {
                chat_id,
                author,
                active,
            } => Event::Typing {
                chat_id,
                author: author.clone(),
                active,
            },
            hub::Event::Read {
                chat_id,
                author,
                seq,
            } => Event::Read {
                chat_id,
                author: author.clone(),
                seq,
            },
            hub::Event::Revoked { jti, session } => Event::Revoked {
                jti: jti.map(str::to_owned),
                session,
            },
        }
    }

    /// What the hub delivers of an event from another node; `None` for
    /// `presence`, which is the presence rounds' business.
    pub fn as_hub(&self) -> Option<hub::Event<'_>> {
        Some(match self {
            Event::Message {
                chat_id,
                seq,
                message,
            } => hub::Event::Message {
                chat_id: *chat_id,
                seq: *seq,
                message: message.as_ref(),
            },
            Event::ChatUpdated { chat } => hub::Event::ChatUpdated(chat),
            Event::Typing {
                chat_id,
                author,
                active,
            } => hub::Event::Typing {
                chat_id: *chat_id,
                author,
                active: *active,
            },
            Event::Read {
                chat_id,
                author,
                seq,
            } => hub::Event::Read {
                chat_id: *chat_id,
                author,
                seq: *seq,
            },
            Event::Revoked { jti, session } => hub::Event::Revoked {
                jti: jti.as_deref(),
                session: *session,
            },
            Event::Presence => return None,
        })
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

    #[test]
    fn a_hub_event_crosses_the_broker_and_comes_back_the_same() {
        let author = Author {
            kind: byrd_spec::message::PartyType::Agent,
            id: Uuid::now_v7(),
            name: Some("Ada".into()),
        };
        let typing = hub::Event::Typing {
            chat_id: Uuid::now_v7(),
            author: &author,
            active: true,
        };
        let sent = Event::of(&typing);
        let json = serde_json::to_value(&sent).unwrap();
        let received: Event = serde_json::from_value(json).unwrap();
        assert_eq!(
            format!("{:?}", received.as_hub()),
            format!("{:?}", Some(typing))
        );
        assert!(Event::Presence.as_hub().is_none());
    }
}

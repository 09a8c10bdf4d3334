//! What nodes tell each other over the broker: one JSON object per
//! PUBLISH, small, each naming the node it comes from, its number among
//! that node's events and when it was sent. On the wire each is sealed
//! with a MAC (see `wire`), so that only a node holding the cluster key
//! can say anything to the others.
//!
//! Every event is a hint. A lost `message` is found again by the receiving
//! node's gap fill or sweep, from the database; a lost `chat_updated` by
//! the sweep's look at recently changed chats; a lost `revoked` by its
//! look at recent revocations; a lost `presence` by the next presence
//! round. `typing` and `read` are best effort: a typing indicator is stale
//! within seconds anyway, and read positions are stored, for a client to
//! read when it needs them.
//!
//! Even a sealed event is checked field by field before the hub sees it
//! ([`Event::check`]): a message must belong to the chat it is announced
//! for and be no larger than an inline body may be, an author must look
//! like one. What a check cannot prove (that the `seq` exists, that a
//! chat is in the state announced) the hub and the listener read from the
//! database rather than believe.
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

/// Longest display name an event's author may carry.
const MAX_AUTHOR_NAME_CHARS: usize = 256;

/// An event, the node it comes from, its number among that node's events
/// (from 0 at the node's start) and when it was sent (Unix milliseconds),
/// which is how a receiver refuses a replay (see `replays`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Envelope {
    pub node: Uuid,
    pub n: u64,
    pub at: i64,
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
    /// A type this node does not know (a newer node's): never sent.
    #[serde(other)]
    Unknown,
}

/// Why an event's fields disagree with each other or with the limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mismatch {
    /// The message inside belongs to another chat or `seq`.
    Message,
    /// An inline body larger than a node ever inlines.
    Body,
    /// A `seq` below 1.
    Seq,
    /// An author with a nil id or an overlong name.
    Author,
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

    /// The event's `type`, for metrics and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Message { .. } => "message",
            Event::ChatUpdated { .. } => "chat_updated",
            Event::Typing { .. } => "typing",
            Event::Read { .. } => "read",
            Event::Revoked { .. } => "revoked",
            Event::Presence => "presence",
            Event::Unknown => "unknown",
        }
    }

    /// Whether the fields agree with each other and with the limits; a
    /// sealed event that does not came from a broken or hostile node.
    pub fn check(&self) -> Result<(), Mismatch> {
        match self {
            Event::Message {
                chat_id,
                seq,
                message,
            } => {
                if *seq < 1 {
                    return Err(Mismatch::Seq);
                }
                let Some(message) = message else {
                    return Ok(());
                };
                if message.chat_id != *chat_id || message.seq != *seq {
                    return Err(Mismatch::Message);
                }
                if message.body.len() > MAX_INLINE_BODY_BYTES {
                    return Err(Mismatch::Body);
                }
                check_author(&message.author)
            }
            Event::Typing { author, .. } => check_author(author),
            Event::Read { author, seq, .. } => {
                if *seq < 0 {
                    return Err(Mismatch::Seq);
                }
                check_author(author)
            }
            Event::ChatUpdated { .. }
            | Event::Revoked { .. }
            | Event::Presence
            | Event::Unknown => Ok(()),
        }
    }

    /// What the hub delivers of an event from another node; `None` for
    /// `presence`, which is the presence rounds' business, and for a type
    /// this node does not know.
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
            Event::Presence | Event::Unknown => return None,
        })
    }
}

fn check_author(author: &Author) -> Result<(), Mismatch> {
    let name_fits = author
        .name
        .as_ref()
        .is_none_or(|name| name.chars().count() <= MAX_AUTHOR_NAME_CHARS);
    if author.id.is_nil() || !name_fits {
        return Err(Mismatch::Author);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_envelope_is_flat_json_with_its_type() {
        let node = Uuid::now_v7();
        let envelope = Envelope {
            node,
            n: 7,
            at: 1,
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
        assert_eq!((back.n, back.at), (7, 1));
    }

    #[test]
    fn a_type_this_node_does_not_know_parses_as_unknown() {
        let json = serde_json::json!({"node": Uuid::now_v7(), "n": 0, "at": 0, "type": "later"});
        let envelope: Envelope = serde_json::from_value(json).unwrap();
        assert!(matches!(envelope.event, Event::Unknown));
    }

    fn message(chat_id: Uuid, seq: i64, body: &str) -> Message {
        Message {
            id: Uuid::now_v7(),
            chat_id,
            seq,
            author: Author {
                kind: byrd_spec::message::PartyType::Guest,
                id: Uuid::now_v7(),
                name: None,
            },
            body: body.into(),
            client_msg_id: "c".into(),
            created_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn a_message_must_be_the_one_announced_and_no_larger_than_an_inline_body() {
        let chat_id = Uuid::now_v7();
        let event = |seq, message| Event::Message {
            chat_id,
            seq,
            message,
        };
        assert_eq!(event(3, Some(message(chat_id, 3, "hi"))).check(), Ok(()));
        assert_eq!(event(3, None).check(), Ok(()));
        assert_eq!(event(0, None).check(), Err(Mismatch::Seq));
        let elsewhere = message(Uuid::now_v7(), 3, "hi");
        assert_eq!(event(3, Some(elsewhere)).check(), Err(Mismatch::Message));
        assert_eq!(
            event(4, Some(message(chat_id, 3, "hi"))).check(),
            Err(Mismatch::Message)
        );
        let large = "x".repeat(MAX_INLINE_BODY_BYTES + 1);
        assert_eq!(
            event(3, Some(message(chat_id, 3, &large))).check(),
            Err(Mismatch::Body)
        );
        let mut nobody = message(chat_id, 3, "hi");
        nobody.author.id = Uuid::nil();
        assert_eq!(event(3, Some(nobody)).check(), Err(Mismatch::Author));
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

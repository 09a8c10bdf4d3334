//! Frames the server sends.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::chat::Chat;
use crate::error::ErrorCode;
use crate::message::{Author, Message, PartyType};

/// Who a connection is authenticated as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Principal {
    /// Agent or guest.
    #[serde(rename = "type")]
    pub kind: PartyType,
    /// Agent id, or visitor id for a guest.
    pub id: Uuid,
}

/// Whether an agent has at least one open connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PresenceStatus {
    /// At least one connection is open.
    Online,
    /// The agent's last connection closed.
    Offline,
}

/// What this connection may send, so clients can pace themselves instead
/// of learning the limits from refusals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ConnectionLimits {
    /// Client frames per second, sustained; past it a frame is refused with
    /// `rate_limited`.
    pub frames_per_second: u32,
    /// Client frames that may be sent at once before the sustained rate
    /// applies.
    pub frame_burst: u32,
    /// The largest frame accepted, in bytes; a larger one closes with 1009.
    pub max_frame_bytes: u64,
    /// The longest message body, in characters.
    pub max_message_chars: u64,
    /// The most messages one `subscribe` replays; past it `subscribed` says
    /// `recovered: false`.
    pub replay_cap: u32,
}

/// A frame the server sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
#[schemars(extend("x-byrd-open" = true))]
#[non_exhaustive]
pub enum ServerFrame {
    /// First frame of every connection.
    Hello {
        /// The protocol version the server speaks, such as `1.0.0`; its
        /// major number is the `v1` of the paths.
        protocol_version: String,
        /// This connection's id, as the server's logs name it.
        connection_id: Uuid,
        /// Who the token says the client is.
        principal: Principal,
        /// The server pings this often; a peer silent for twice as long is
        /// disconnected.
        heartbeat_interval_ms: u64,
        /// When the connection's token expires; `token_expiring` comes a
        /// minute before (halfway through a token's life when that is later).
        token_expires_at: DateTime<Utc>,
        /// What this connection may send.
        limits: ConnectionLimits,
    },
    /// A message of a subscribed chat, in `seq` order, the receiver's own
    /// messages included.
    Message {
        /// The stored message.
        message: Message,
    },
    /// The sender's message is durably stored.
    Ack {
        /// The `client_msg_id` of the `send` this answers.
        client_msg_id: String,
        /// The stored message.
        message: Message,
        /// True when an earlier `send` with this `client_msg_id` stored the
        /// message (this one was a resend): nothing new was stored or
        /// delivered.
        duplicate: bool,
    },
    /// Someone in a subscribed chat started or stopped typing.
    Typing {
        /// The chat.
        chat_id: Uuid,
        /// Who is typing.
        author: Author,
        /// True while typing, false once stopped.
        active: bool,
    },
    /// Someone in a subscribed chat read up to a message.
    Read {
        /// The chat.
        chat_id: Uuid,
        /// Who read.
        author: Author,
        /// Their stored read position: every message up to this `seq`.
        seq: i64,
    },
    /// An agent came online or went offline (agents only).
    Presence {
        /// The agent.
        agent_id: Uuid,
        /// Online or offline.
        status: PresenceStatus,
    },
    /// A chat was created, assigned or closed.
    ChatUpdated {
        /// The chat as it is now.
        chat: Chat,
    },
    /// A subscribe's replay is done; live messages follow, `seq > last_seq`.
    Subscribed {
        /// The chat.
        chat_id: Uuid,
        /// False when the backlog was over the replay cap and nothing was
        /// replayed: page `(after_seq, last_seq]` over REST.
        recovered: bool,
        /// The `seq` live messages continue after.
        last_seq: i64,
    },
    /// `subscribe_queue` was accepted: from now on the `message`, `typing`
    /// and `read` events of every chat that is not closed come live.
    QueueSubscribed {},
    /// `unsubscribe_queue` was accepted: the chats this connection did
    /// not `subscribe` to no longer come through the queue.
    QueueUnsubscribed {},
    /// The chat's messages are no longer delivered on this connection.
    Unsubscribed {
        /// The chat.
        chat_id: Uuid,
    },
    /// A frame was refused; the connection stays open.
    Error {
        /// Why; a stable code.
        code: ErrorCode,
        /// For people; may change.
        message: String,
        /// The refused frame's `ref`, else its `client_msg_id`, cut to 64
        /// characters; `null` when it had neither or was not parsed.
        #[serde(rename = "ref")]
        reference: Option<String>,
    },
    /// The answer to a `ping`.
    Pong {
        /// The `ping`'s nonce, or `null`.
        nonce: Option<String>,
    },
    /// The token expires soon: send `refresh_token` before `expires_at` or
    /// the connection closes with 4001.
    TokenExpiring {
        /// When the connection's token expires.
        expires_at: DateTime<Utc>,
    },
    /// A `refresh_token` was accepted.
    TokenRefreshed {
        /// When the new token expires.
        token_expires_at: DateTime<Utc>,
    },
    /// A `type` this crate does not know (a newer server's frame); clients
    /// ignore it. Never sent.
    #[serde(other)]
    #[schemars(skip)]
    Unknown,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_unknown_frame_type_decodes_to_unknown() {
        let frame =
            json!({"type": "chat_archived", "chat_id": "0193a5f2-7000-7abc-8def-0123456789ab"});
        assert_eq!(
            serde_json::from_value::<ServerFrame>(frame).unwrap(),
            ServerFrame::Unknown
        );
    }

    #[test]
    fn an_error_frame_with_an_unknown_code_still_decodes() {
        let frame = json!({"type": "error", "code": "quota_exceeded", "message": "m", "ref": null});
        let decoded = serde_json::from_value::<ServerFrame>(frame).unwrap();
        assert!(matches!(
            decoded,
            ServerFrame::Error {
                code: ErrorCode::Unknown,
                ..
            }
        ));
    }
}

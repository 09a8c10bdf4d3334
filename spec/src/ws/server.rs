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
    #[serde(rename = "type")]
    pub kind: PartyType,
    /// Agent id, or visitor id for a guest.
    pub id: Uuid,
}

/// Whether an agent has at least one open connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PresenceStatus {
    Online,
    Offline,
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
        connection_id: Uuid,
        principal: Principal,
        /// The server pings this often; a peer silent for twice as long is
        /// disconnected.
        heartbeat_interval_ms: u64,
        token_expires_at: DateTime<Utc>,
    },
    /// A message of a subscribed chat, in `seq` order, the receiver's own
    /// messages included.
    Message {
        message: Message,
    },
    /// The sender's message is durably stored.
    Ack {
        client_msg_id: String,
        message: Message,
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
    Presence {
        agent_id: Uuid,
        status: PresenceStatus,
    },
    /// A chat was created, assigned or closed.
    ChatUpdated {
        chat: Chat,
    },
    /// A subscribe's replay is done; live messages follow, `seq > last_seq`.
    Subscribed {
        chat_id: Uuid,
        /// False when the backlog was over the replay cap and nothing was
        /// replayed: page `(after_seq, last_seq]` over REST.
        recovered: bool,
        last_seq: i64,
    },
    /// The chat's messages are no longer delivered on this connection.
    Unsubscribed {
        chat_id: Uuid,
    },
    /// A frame was refused; the connection stays open.
    Error {
        code: ErrorCode,
        message: String,
        #[serde(rename = "ref")]
        reference: Option<String>,
    },
    Pong {
        nonce: Option<String>,
    },
    /// The token expires soon: send `refresh_token` before `expires_at` or
    /// the connection closes with 4001.
    TokenExpiring {
        expires_at: DateTime<Utc>,
    },
    /// A `refresh_token` was accepted.
    TokenRefreshed {
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

//! WebSocket frames of `GET /v1/ws`.
//!
//! Every frame is one JSON text message tagged by `type`. Clients may add
//! a `ref` string to any frame; an `error` answering that frame echoes it
//! (or the frame's `client_msg_id`).

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::chat::Chat;
use crate::error::ErrorCode;
use crate::message::{Author, Message, PartyType};

/// A frame the client sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ClientFrame {
    Send(SendFrame),
    Subscribe(SubscribeFrame),
    Unsubscribe(UnsubscribeFrame),
    Typing(TypingFrame),
    Read(ReadFrame),
    Ping(PingFrame),
    RefreshToken(RefreshTokenFrame),
}

impl ClientFrame {
    /// Every client frame `type`, to tell an unknown type from a bad frame.
    pub const TYPES: &'static [&'static str] = &[
        "send",
        "subscribe",
        "unsubscribe",
        "typing",
        "read",
        "ping",
        "refresh_token",
    ];
}

/// Send a message. Idempotent per author, chat and `client_msg_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SendFrame {
    pub chat_id: Uuid,
    /// 1 to 64 printable ASCII characters, chosen by the client.
    pub client_msg_id: String,
    pub body: String,
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// Receive a chat's messages with `seq > after_seq`, then live ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SubscribeFrame {
    pub chat_id: Uuid,
    /// The last `seq` the client has; 0 (the default) replays from the start.
    #[serde(default)]
    pub after_seq: i64,
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// Stop receiving a chat's messages, typing and read events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UnsubscribeFrame {
    pub chat_id: Uuid,
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// Tell the chat's other subscribers the sender is (or stopped) typing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TypingFrame {
    pub chat_id: Uuid,
    pub active: bool,
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// Mark every message up to `seq` as read by the sender.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReadFrame {
    pub chat_id: Uuid,
    pub seq: i64,
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// Application-level liveness check; answered by `pong` with the same nonce.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PingFrame {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// Swap in a fresh token of the same principal without reconnecting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RefreshTokenFrame {
    pub token: String,
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

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
#[non_exhaustive]
pub enum ServerFrame {
    /// First frame of every connection.
    Hello {
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
}

/// Close codes the server uses beyond RFC 6455's (1000 normal, 1001 going
/// away on shutdown, 1009 frame too large).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[repr(u16)]
pub enum CloseCode {
    /// The token expired without a `refresh_token`.
    TokenExpired = 4001,
    /// The token was revoked (agent logout).
    TokenRevoked = 4002,
    /// The client did not read its frames fast enough.
    SlowConsumer = 4008,
    /// Nothing was heard from the client for twice the heartbeat interval.
    HeartbeatTimeout = 4009,
}

impl CloseCode {
    pub const ALL: &'static [CloseCode] = &[
        CloseCode::TokenExpired,
        CloseCode::TokenRevoked,
        CloseCode::SlowConsumer,
        CloseCode::HeartbeatTimeout,
    ];

    pub fn code(self) -> u16 {
        self as u16
    }

    /// The close frame's reason text.
    pub fn reason(self) -> &'static str {
        match self {
            CloseCode::TokenExpired => "token_expired",
            CloseCode::TokenRevoked => "token_revoked",
            CloseCode::SlowConsumer => "slow_consumer",
            CloseCode::HeartbeatTimeout => "heartbeat_timeout",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_listed_type_parses_and_no_other() {
        let id = "0193a5f2-7000-7abc-8def-0123456789ab";
        let samples = [
            json!({"type": "send", "chat_id": id, "client_msg_id": "c", "body": "b"}),
            json!({"type": "subscribe", "chat_id": id, "after_seq": 3}),
            json!({"type": "unsubscribe", "chat_id": id}),
            json!({"type": "typing", "chat_id": id, "active": true}),
            json!({"type": "read", "chat_id": id, "seq": 1}),
            json!({"type": "ping", "nonce": "n"}),
            json!({"type": "refresh_token", "token": "t"}),
        ];
        assert_eq!(samples.len(), ClientFrame::TYPES.len());
        for (sample, ty) in samples.iter().zip(ClientFrame::TYPES) {
            assert_eq!(sample["type"], *ty);
            serde_json::from_value::<ClientFrame>(sample.clone()).unwrap();
        }
        assert!(serde_json::from_value::<ClientFrame>(json!({"type": "shout"})).is_err());
    }
}

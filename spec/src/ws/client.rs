//! Frames a client sends.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A frame the client sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
#[schemars(extend("x-byrd-open" = true))]
#[non_exhaustive]
pub enum ClientFrame {
    Send(SendFrame),
    Subscribe(SubscribeFrame),
    Unsubscribe(UnsubscribeFrame),
    Typing(TypingFrame),
    Read(ReadFrame),
    Ping(PingFrame),
    RefreshToken(RefreshTokenFrame),
    SubscribeQueue(SubscribeQueueFrame),
    UnsubscribeQueue(UnsubscribeQueueFrame),
    /// A `type` this crate does not know (a newer client's frame). It is
    /// never sent; a server answers it with `unknown_frame_type`.
    #[serde(other)]
    #[schemars(skip)]
    Unknown,
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
        "subscribe_queue",
        "unsubscribe_queue",
    ];
}

/// Send a message. Idempotent per author, chat and `client_msg_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SendFrame {
    /// The chat.
    pub chat_id: Uuid,
    /// 1 to 64 printable ASCII characters, chosen by the client.
    pub client_msg_id: String,
    /// The message text: 1 to the server's limit (4000 characters by default), not blank.
    pub body: String,
    /// Any string; an `error` answering this frame echoes it.
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// Receive a chat's messages with `seq > after_seq`, then live ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SubscribeFrame {
    /// The chat.
    pub chat_id: Uuid,
    /// The last `seq` the client has; 0 (the default) replays from the start.
    #[serde(default)]
    pub after_seq: i64,
    /// Any string; an `error` answering this frame echoes it.
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// Stop receiving a chat's messages, typing and read events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UnsubscribeFrame {
    /// The chat.
    pub chat_id: Uuid,
    /// Any string; an `error` answering this frame echoes it.
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// Tell the chat's other subscribers the sender is (or stopped) typing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TypingFrame {
    /// The chat.
    pub chat_id: Uuid,
    /// True while typing, false once stopped.
    pub active: bool,
    /// Any string; an `error` answering this frame echoes it.
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// Mark every message up to `seq` as read by the sender.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReadFrame {
    /// The chat.
    pub chat_id: Uuid,
    /// Every message up to this `seq` is read.
    pub seq: i64,
    /// Any string; an `error` answering this frame echoes it.
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// Application-level liveness check; answered by `pong` with the same nonce.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PingFrame {
    /// Any string; the `pong` echoes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// Any string; an `error` answering this frame echoes it.
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// Swap in a fresh token of the same principal without reconnecting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RefreshTokenFrame {
    /// A fresh token of the same principal.
    pub token: String,
    /// Any string; an `error` answering this frame echoes it.
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// Receive, live and without replay, the `message`, `typing` and `read`
/// events of every chat that is not closed (agents only); answered by
/// `queue_subscribed`. A chat also followed with `subscribe` delivers each
/// event once. What came while disconnected is found by comparing the
/// chat list's `last_seq` with what the client has.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SubscribeQueueFrame {
    /// Any string; an `error` answering this frame echoes it.
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// Stop following the queue (agents only); answered by
/// `queue_unsubscribed`, also when the connection did not follow it. The
/// chats subscribed with `subscribe` stay subscribed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UnsubscribeQueueFrame {
    /// Any string; an `error` answering this frame echoes it.
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_listed_type_parses_to_its_variant() {
        let id = "0193a5f2-7000-7abc-8def-0123456789ab";
        let samples = [
            json!({"type": "send", "chat_id": id, "client_msg_id": "c", "body": "b"}),
            json!({"type": "subscribe", "chat_id": id, "after_seq": 3}),
            json!({"type": "unsubscribe", "chat_id": id}),
            json!({"type": "typing", "chat_id": id, "active": true}),
            json!({"type": "read", "chat_id": id, "seq": 1}),
            json!({"type": "ping", "nonce": "n"}),
            json!({"type": "refresh_token", "token": "t"}),
            json!({"type": "subscribe_queue", "ref": "q"}),
            json!({"type": "unsubscribe_queue", "ref": "q"}),
        ];
        assert_eq!(samples.len(), ClientFrame::TYPES.len());
        for (sample, ty) in samples.iter().zip(ClientFrame::TYPES) {
            assert_eq!(sample["type"], *ty);
            let frame = serde_json::from_value::<ClientFrame>(sample.clone()).unwrap();
            assert_ne!(frame, ClientFrame::Unknown, "{ty}");
        }
    }

    #[test]
    fn an_unknown_type_decodes_to_unknown_and_a_known_one_still_needs_its_fields() {
        let shout = json!({"type": "shout", "volume": 11});
        assert_eq!(
            serde_json::from_value::<ClientFrame>(shout).unwrap(),
            ClientFrame::Unknown
        );
        assert!(serde_json::from_value::<ClientFrame>(json!({"type": "send"})).is_err());
    }
}

//! Chat messages and their REST bodies.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Which side of a chat a party is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PartyType {
    Agent,
    Guest,
}

impl PartyType {
    pub fn as_str(self) -> &'static str {
        match self {
            PartyType::Agent => "agent",
            PartyType::Guest => "guest",
        }
    }
}

/// Who wrote a message, typed, read or marked something read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct Author {
    #[serde(rename = "type")]
    pub kind: PartyType,
    /// The agent id, or the visitor id of a guest.
    pub id: Uuid,
    /// Display name; a guest that gave none has `null`.
    pub name: Option<String>,
}

/// One stored chat message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct Message {
    /// The message's id.
    pub id: Uuid,
    /// The chat it belongs to.
    pub chat_id: Uuid,
    /// Position in the chat: starts at 1, no gaps, never reused.
    pub seq: i64,
    /// Who wrote it.
    pub author: Author,
    /// The text.
    pub body: String,
    /// The sender's idempotency key.
    pub client_msg_id: String,
    /// When it was stored.
    pub created_at: DateTime<Utc>,
}

/// `POST /v1/chats/{chat_id}/messages` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct SendMessageRequest {
    /// Idempotency key chosen by the sender: 1 to 64 printable ASCII
    /// characters. A retry with the same key gets the stored message back.
    pub client_msg_id: String,
    /// 1 to the server's limit (4000 by default) characters.
    pub body: String,
}

/// `GET /v1/chats/{chat_id}/messages` query.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MessagesQuery {
    /// Only messages with a greater `seq`.
    #[param(minimum = 0)]
    pub after_seq: Option<i64>,
    /// Only messages with a smaller `seq`. Without `after_seq`, the page is
    /// the newest messages before this one (for scrolling back).
    #[param(minimum = 0)]
    pub before_seq: Option<i64>,
    /// Page size, 1 to 200; 50 when absent.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

/// A page of messages in ascending `seq` order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct MessagePage {
    /// The page, ascending by `seq`.
    pub messages: Vec<Message>,
    /// More messages match the query beyond this page.
    pub has_more: bool,
}

//! Read positions: how far each party of a chat has read it.
//!
//! A position only moves forward and is set by the `read` WebSocket frame;
//! `GET /v1/chats/{chat_id}/reads` gives every stored one, so a client that
//! starts afresh (a reload, another device) knows what is unread and what
//! the other side has seen.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::message::PartyType;

/// A party of a chat, by kind and id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct Party {
    #[serde(rename = "type")]
    pub kind: PartyType,
    /// The agent id, or the visitor id of the chat's guest.
    pub id: Uuid,
}

/// One party's stored read position in a chat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct ReadPosition {
    /// Who read.
    pub author: Party,
    /// Every message up to this `seq` has been read.
    pub seq: i64,
    /// When the position last moved.
    pub updated_at: DateTime<Utc>,
}

/// `GET /v1/chats/{chat_id}/reads` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct ChatReads {
    /// Every stored read position of the chat, guest and agents, the
    /// least recently moved first; a party that never read has none.
    pub reads: Vec<ReadPosition>,
}

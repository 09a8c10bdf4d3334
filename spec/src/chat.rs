//! Chats: one conversation between a visitor and the support team.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::message::Message;

/// Where a chat is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChatStatus {
    /// Waiting in the queue for an agent.
    Open,
    /// An agent has taken it.
    Assigned,
    /// Finished; no more changes.
    Closed,
}

impl ChatStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ChatStatus::Open => "open",
            ChatStatus::Assigned => "assigned",
            ChatStatus::Closed => "closed",
        }
    }
}

/// Why a chat was closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CloseReason {
    /// An agent closed it (`POST /v1/chats/{chat_id}/close`).
    Agent,
    /// No agent took it and nothing was written in it for the server's
    /// idle time (`--chat-idle-close-secs`): the server closed it.
    Idle,
}

impl CloseReason {
    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::Agent => "agent",
            CloseReason::Idle => "idle",
        }
    }
}

/// The website visitor behind a chat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct Visitor {
    /// The `sub` of the chat's guest tokens.
    pub id: Uuid,
    /// The visitor's name, or `null` when they gave none.
    pub name: Option<String>,
    /// The visitor's email, or `null` when they gave none.
    pub email: Option<String>,
}

/// A chat as clients see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct Chat {
    /// The chat's id.
    pub id: Uuid,
    /// Where the chat is in its life.
    pub status: ChatStatus,
    /// Who started it.
    pub visitor: Visitor,
    /// What the visitor said it is about, or `null`.
    pub subject: Option<String>,
    /// The agent who has it, or `null` while open.
    pub assigned_agent_id: Option<Uuid>,
    /// That agent's display name, or `null` while open; what a visitor
    /// sees of who answers them.
    pub assigned_agent_name: Option<String>,
    /// When it was started.
    pub created_at: DateTime<Utc>,
    /// When it last changed (a message, an assignment, the close).
    pub updated_at: DateTime<Utc>,
    /// When it was closed, or `null`.
    pub closed_at: Option<DateTime<Utc>>,
    /// Why it was closed (`agent`, `idle`; v1 may add reasons), or `null`
    /// while it is not closed.
    pub close_reason: Option<CloseReason>,
    /// `seq` of the chat's newest message; 0 before the first.
    pub last_seq: i64,
}

/// What a visitor may say about themselves when starting a chat.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct VisitorInput {
    /// 1 to 100 characters once trimmed, on one line: no control
    /// characters or line separators (U+2028, U+2029), and no invisible format characters (Unicode category
    /// Cf: bidirectional overrides, isolates and marks, zero-width spaces,
    /// tags) but the zero-width joiner and non-joiner.
    pub name: Option<String>,
    /// A valid email address.
    pub email: Option<String>,
}

/// `POST /v1/chats` body; every field is optional, and so is the body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct CreateChatRequest {
    /// What the visitor says about themselves.
    pub visitor: Option<VisitorInput>,
    /// 1 to 200 characters once trimmed, on one line: no control
    /// characters or line separators (U+2028, U+2029), and no invisible format characters (Unicode category
    /// Cf: bidirectional overrides, isolates and marks, zero-width spaces,
    /// tags) but the zero-width joiner and non-joiner.
    pub subject: Option<String>,
}

/// `POST /v1/chats` response: the chat and the guest token that opens it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct CreateChatResponse {
    /// The new chat, `open`.
    pub chat: Chat,
    /// A guest JWT for this chat only; pass it as `Authorization: Bearer` or,
    /// for the WebSocket, as the `token` query parameter.
    pub guest_token: String,
    /// Seconds until `guest_token` expires.
    pub expires_in: u64,
}

/// `POST /v1/chats/{chat_id}/token` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct GuestTokenResponse {
    /// A guest JWT for this chat only.
    pub guest_token: String,
    /// Seconds until the token expires.
    pub expires_in: u64,
}

/// `POST /v1/chats/{chat_id}/assign` body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct AssignChatRequest {
    /// The agent to assign; the caller when absent.
    pub agent_id: Option<Uuid>,
}

/// `GET /v1/chats` query.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListChatsQuery {
    /// Only chats with this status.
    pub status: Option<ChatStatus>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1 to 100; 50 when absent.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// A page of chats, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct ChatPage {
    /// The page, newest first.
    pub chats: Vec<Chat>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// `GET /v1/chat-summaries` query.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListChatSummariesQuery {
    /// Only chats with this status.
    pub status: Option<ChatStatus>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1 to 250; 100 when absent.
    #[param(minimum = 1, maximum = 250)]
    pub limit: Option<u32>,
}

/// A chat with what a queue shows of it: its newest message and how far
/// the caller and the visitor have read it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct ChatSummary {
    /// The chat.
    pub chat: Chat,
    /// The chat's newest message (`seq` = `chat.last_seq`), or `null`
    /// before the first.
    pub last_message: Option<Message>,
    /// The calling agent's stored read position in the chat, or `null`
    /// when it never read it.
    pub read_seq: Option<i64>,
    /// The visitor's stored read position, or `null` when they never read.
    pub visitor_read_seq: Option<i64>,
}

/// A page of chat summaries, newest chat first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct ChatSummaryPage {
    /// The page, newest chat first.
    pub summaries: Vec<ChatSummary>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

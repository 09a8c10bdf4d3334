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
///
/// One visitor may start many chats: an anonymous visitor whose widget
/// presents its `visitor_token`, or a visitor whose identity a trusted
/// issuer vouched for (`verified`), on any device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct Visitor {
    /// The visitor's id: the `sub` of the guest tokens of every chat they
    /// start. `GET /v1/visitors/{visitor_id}/chats` lists those chats.
    pub id: Uuid,
    /// The visitor's name as given for this chat, or `null` when they gave
    /// none.
    pub name: Option<String>,
    /// The visitor's email as given for this chat, or `null` when they gave
    /// none.
    pub email: Option<String>,
    /// True when a trusted issuer vouched for who the visitor is (an
    /// identity token at the chat start); false for an anonymous visitor,
    /// whose name and email are only what they typed.
    pub verified: bool,
    /// The issuer (`iss`) that vouched for the visitor, or `null` for an
    /// anonymous visitor.
    pub issuer: Option<String>,
    /// The visitor's user id at that issuer, or `null` for an anonymous
    /// visitor.
    pub external_id: Option<String>,
    /// What the issuer said of the visitor besides (a plan, an account
    /// number), by name; empty for an anonymous visitor. Plain text, never
    /// markup.
    pub attributes: Vec<VisitorAttribute>,
}

/// One attribute an issuer gave of a verified visitor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct VisitorAttribute {
    /// 1 to 40 characters: ASCII letters, digits, `_`, `-` and `.`.
    pub name: String,
    /// 1 to 200 characters on one line, as the visitor's name.
    pub value: String,
}

/// Where the visitor was and what they used when they started a chat: what
/// the widget reported, and the browser and operating system the server
/// read from the `User-Agent` header. Every field is plain text (never
/// markup) or `null` when unknown.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct ChatContext {
    /// The page the chat was started from (`http` or `https`).
    pub page_url: Option<String>,
    /// That page's title.
    pub page_title: Option<String>,
    /// The page that led to it (`http` or `https`).
    pub referrer: Option<String>,
    /// The browser's language, a BCP 47 tag such as `en-GB`.
    pub locale: Option<String>,
    /// The browser's IANA time zone, such as `Europe/Paris`.
    pub time_zone: Option<String>,
    /// The browser's family and major version, such as `Firefox 128`, or
    /// `Other`.
    pub browser: Option<String>,
    /// The operating system's family, such as `Android` or `Windows`, or
    /// `Other`.
    pub os: Option<String>,
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
    /// Where the visitor was when they started it; kept per chat, since a
    /// returning visitor comes from another page each time. (Boxed: most
    /// frames and events that may carry a chat carry a message instead,
    /// and should not be the size of seven strings more.)
    pub context: Box<ChatContext>,
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

/// What the widget reports of where the visitor is; every field is
/// optional, and an empty string counts as absent (a page without a
/// referrer). No field may hold control characters, line or paragraph
/// separators, or invisible format characters (as a name); a field that
/// breaks its rules is refused with `422 validation_failed` naming it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct ChatContextInput {
    /// An absolute `http` or `https` URL without spaces, at most 2048
    /// characters.
    pub page_url: Option<String>,
    /// At most 300 characters.
    pub page_title: Option<String>,
    /// An absolute `http` or `https` URL without spaces, at most 2048
    /// characters.
    pub referrer: Option<String>,
    /// A BCP 47 language tag (ASCII letters, digits, `-`, `_`), at most 35
    /// characters.
    pub locale: Option<String>,
    /// An IANA time zone name (ASCII letters, digits, `/`, `_`, `+`, `-`),
    /// at most 64 characters.
    pub time_zone: Option<String>,
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
    /// The `visitor_token` an earlier chat start answered: the new chat is
    /// then the same visitor's. A token that is unknown, expired or
    /// malformed is no error: the chat starts for a new visitor, whose
    /// token the answer carries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visitor_token: Option<String>,
    /// Where the visitor is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<ChatContextInput>,
    /// A visitor identity token the site's backend signed with a trusted
    /// issuer's key: the chat is then that verified visitor's, on any
    /// device. A forged, foreign or out-of-bounds one is refused with
    /// `401 identity_invalid` (a server that trusts no issuer refuses
    /// every one), an expired one with `401 identity_expired`; the widget
    /// then starts the chat without it, as an anonymous visitor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
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
    /// The anonymous visitor's continuity token: present it as
    /// `visitor_token` at the next chat start to be the same visitor. It is
    /// the token presented when that one was still valid (its expiry then
    /// moves on, so two tabs never replace each other's), or a new one.
    /// `null` for a verified visitor, whose identity token already says who
    /// they are: a browser shared after logging out must not keep it.
    pub visitor_token: Option<String>,
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

/// `GET /v1/visitors/{visitor_id}/chats` and `GET /v1/visitor/chats`
/// query.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListVisitorChatsQuery {
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1 to 100; 50 when absent.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
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

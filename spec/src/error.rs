//! Error bodies and the stable list of error codes.
//!
//! Every error Byrd returns, over REST or WebSocket, carries one of these
//! codes. Clients branch on the code, never on the message; the message is
//! for people and may change.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A stable, machine-readable error code.
///
/// Codes are never renamed or removed inside v1; new ones may be added, so
/// clients must treat an unknown code like a generic failure of its status.
/// Decoding a code this crate does not know gives [`ErrorCode::Unknown`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorCode {
    InvalidRequest,
    ValidationFailed,
    InvalidCredentials,
    TokenMissing,
    TokenInvalid,
    TokenExpired,
    TokenRevoked,
    Forbidden,
    NotFound,
    ChatNotFound,
    AgentNotFound,
    MethodNotAllowed,
    EmailTaken,
    ChatClosed,
    PayloadTooLarge,
    RateLimited,
    InternalError,
    InvalidJson,
    UnknownFrameType,
    InvalidFrame,
    BodyTooLong,
    ClientMsgIdReused,
    LimitExceeded,
    Unavailable,
    TooManyOpenChats,
    TicketInvalid,
    IdentityInvalid,
    IdentityExpired,
    CannotDeactivateSelf,
    LastActiveAdmin,
    /// A code this version of the crate does not know (a newer server's).
    /// Never sent; handle it by the HTTP status.
    #[serde(other)]
    Unknown,
}

impl ErrorCode {
    /// Every code, in the order the spec lists them.
    pub const ALL: &'static [ErrorCode] = &[
        ErrorCode::InvalidRequest,
        ErrorCode::ValidationFailed,
        ErrorCode::InvalidCredentials,
        ErrorCode::TokenMissing,
        ErrorCode::TokenInvalid,
        ErrorCode::TokenExpired,
        ErrorCode::TokenRevoked,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::ChatNotFound,
        ErrorCode::AgentNotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::EmailTaken,
        ErrorCode::ChatClosed,
        ErrorCode::PayloadTooLarge,
        ErrorCode::RateLimited,
        ErrorCode::InternalError,
        ErrorCode::InvalidJson,
        ErrorCode::UnknownFrameType,
        ErrorCode::InvalidFrame,
        ErrorCode::BodyTooLong,
        ErrorCode::ClientMsgIdReused,
        ErrorCode::LimitExceeded,
        ErrorCode::Unavailable,
        ErrorCode::TooManyOpenChats,
        ErrorCode::TicketInvalid,
        ErrorCode::IdentityInvalid,
        ErrorCode::IdentityExpired,
        ErrorCode::CannotDeactivateSelf,
        ErrorCode::LastActiveAdmin,
    ];

    /// The code as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::ValidationFailed => "validation_failed",
            ErrorCode::InvalidCredentials => "invalid_credentials",
            ErrorCode::TokenMissing => "token_missing",
            ErrorCode::TokenInvalid => "token_invalid",
            ErrorCode::TokenExpired => "token_expired",
            ErrorCode::TokenRevoked => "token_revoked",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::ChatNotFound => "chat_not_found",
            ErrorCode::AgentNotFound => "agent_not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::EmailTaken => "email_taken",
            ErrorCode::ChatClosed => "chat_closed",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::InternalError => "internal_error",
            ErrorCode::InvalidJson => "invalid_json",
            ErrorCode::UnknownFrameType => "unknown_frame_type",
            ErrorCode::InvalidFrame => "invalid_frame",
            ErrorCode::BodyTooLong => "body_too_long",
            ErrorCode::ClientMsgIdReused => "client_msg_id_reused",
            ErrorCode::LimitExceeded => "limit_exceeded",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::TooManyOpenChats => "too_many_open_chats",
            ErrorCode::TicketInvalid => "ticket_invalid",
            ErrorCode::IdentityInvalid => "identity_invalid",
            ErrorCode::IdentityExpired => "identity_expired",
            ErrorCode::CannotDeactivateSelf => "cannot_deactivate_self",
            ErrorCode::LastActiveAdmin => "last_active_admin",
            ErrorCode::Unknown => "unknown",
        }
    }

    /// The HTTP status a REST response with this code carries.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::InvalidRequest | ErrorCode::InvalidJson | ErrorCode::UnknownFrameType => 400,
            ErrorCode::InvalidCredentials
            | ErrorCode::TokenMissing
            | ErrorCode::TokenInvalid
            | ErrorCode::TokenExpired
            | ErrorCode::TokenRevoked
            | ErrorCode::TicketInvalid
            | ErrorCode::IdentityInvalid
            | ErrorCode::IdentityExpired => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound | ErrorCode::ChatNotFound | ErrorCode::AgentNotFound => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::EmailTaken
            | ErrorCode::ChatClosed
            | ErrorCode::ClientMsgIdReused
            | ErrorCode::CannotDeactivateSelf
            | ErrorCode::LastActiveAdmin => 409,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::ValidationFailed | ErrorCode::InvalidFrame | ErrorCode::BodyTooLong => 422,
            // Caps on what a client holds open answer like rate limits.
            ErrorCode::RateLimited | ErrorCode::LimitExceeded | ErrorCode::TooManyOpenChats => 429,
            ErrorCode::InternalError | ErrorCode::Unknown => 500,
            ErrorCode::Unavailable => 503,
        }
    }

    /// One sentence on when the code is returned; the spec's error table.
    pub fn description(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => {
                "The request is malformed: bad JSON, a wrong content type, or a bad query or path parameter."
            }
            ErrorCode::ValidationFailed => {
                "The request is well-formed JSON but a field is missing, of the wrong type, or out of range."
            }
            ErrorCode::InvalidCredentials => "The email and password do not match an agent.",
            ErrorCode::TokenMissing => "The endpoint needs a token and none was sent.",
            ErrorCode::TokenInvalid => {
                "The token is malformed, tampered with, signed with another key or algorithm, not yet valid, for another issuer or audience, or its claims break the rules of its type."
            }
            ErrorCode::TokenExpired => "The token (or refresh token) has expired.",
            ErrorCode::TokenRevoked => {
                "The token was revoked by a logout, or the refresh token was already used or its session revoked."
            }
            ErrorCode::Forbidden => {
                "The token is valid but does not grant this: a guest outside its own chat, an agent on a guest-only route, a non-admin on an admin route."
            }
            ErrorCode::NotFound => "No such route.",
            ErrorCode::ChatNotFound => "No chat has this id.",
            ErrorCode::AgentNotFound => "No agent has this id.",
            ErrorCode::MethodNotAllowed => "The route exists but not with this HTTP method.",
            ErrorCode::EmailTaken => "Another agent already has this email.",
            ErrorCode::ChatClosed => "The chat is closed and cannot be changed.",
            ErrorCode::PayloadTooLarge => "The request body is larger than the server accepts.",
            ErrorCode::RateLimited => {
                "Too many requests from this client; retry after the number of seconds in `Retry-After`."
            }
            ErrorCode::InternalError => {
                "The server failed; the details are in its logs, never in the response."
            }
            ErrorCode::InvalidJson => "A WebSocket frame is not a JSON text frame.",
            ErrorCode::UnknownFrameType => {
                "A WebSocket frame's `type` is not one the protocol defines."
            }
            ErrorCode::InvalidFrame => {
                "A WebSocket frame lacks a field, has one of the wrong type, or is not an object with a `type`."
            }
            ErrorCode::BodyTooLong => {
                "A message body is empty, blank, or longer than the server's limit."
            }
            ErrorCode::ClientMsgIdReused => {
                "The author already stored a different message under this `client_msg_id`; a retry must resend the same body."
            }
            ErrorCode::LimitExceeded => {
                "A cap on open resources is reached: WebSockets per principal or per client address, or subscriptions per WebSocket."
            }
            ErrorCode::Unavailable => {
                "The server is overloaded or its database stayed busy; nothing was changed. Retry after the number of seconds in `Retry-After`."
            }
            ErrorCode::TooManyOpenChats => {
                "This client address (for IPv6, its /64) already holds as many open chats as the server allows; a place frees when one of them closes (an agent's close, or the idle close). `Retry-After` is a hint, not a promise."
            }
            ErrorCode::TicketInvalid => {
                "The WebSocket ticket is unknown, already used, expired, or not a ticket; ask for a new one."
            }
            ErrorCode::IdentityInvalid => {
                "The visitor identity token is malformed, tampered with, not signed by a trusted issuer allowed to vouch for visitors, for another audience, not yet valid, meant to live longer than 10 minutes, or its claims break their bounds. Continue as an anonymous visitor."
            }
            ErrorCode::IdentityExpired => {
                "The visitor identity token has expired; ask the site's backend for a fresh one, or continue as an anonymous visitor."
            }
            ErrorCode::CannotDeactivateSelf => {
                "An admin cannot deactivate themself; another admin must."
            }
            ErrorCode::LastActiveAdmin => {
                "The agent is the last active admin: deactivating them would leave nobody to manage agents."
            }
            ErrorCode::Unknown => "A code this version of the protocol types does not know.",
        }
    }
}

/// A string with one branch per code, each with its description and HTTP
/// status (`x-byrd-http-status`), marked open (`x-byrd-open`): v1 may add
/// codes, which clients handle by their status.
impl JsonSchema for ErrorCode {
    fn schema_name() -> Cow<'static, str> {
        "ErrorCode".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let branches: Vec<serde_json::Value> = ErrorCode::ALL
            .iter()
            .map(|code| {
                serde_json::json!({
                    "const": code.as_str(),
                    "description": code.description(),
                    "x-byrd-http-status": code.http_status(),
                })
            })
            .collect();
        json_schema!({
            "type": "string",
            "description": "A stable, machine-readable error code. v1 may add codes: handle an unknown one by the HTTP status it came with.",
            "oneOf": branches,
            "x-byrd-open": true,
        })
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The body of every REST error response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// What went wrong: a stable code and a message for people.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct ErrorDetail {
    /// Stable: branch on it.
    pub code: ErrorCode,
    /// For people; may change.
    pub message: String,
}

impl ErrorBody {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ErrorBody {
            error: ErrorDetail {
                code,
                message: message.into(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_code_decodes_to_unknown_and_known_ones_to_themselves() {
        let unknown: ErrorCode = serde_json::from_str("\"quota_exceeded\"").unwrap();
        assert_eq!(unknown, ErrorCode::Unknown);
        assert!(!ErrorCode::ALL.contains(&ErrorCode::Unknown));
        for code in ErrorCode::ALL {
            let wire = serde_json::to_string(code).unwrap();
            assert_eq!(serde_json::from_str::<ErrorCode>(&wire).unwrap(), *code);
        }
    }

    #[test]
    fn as_str_matches_serde_name_for_every_code() {
        for code in ErrorCode::ALL {
            let wire = serde_json::to_value(code).unwrap();
            assert_eq!(wire, serde_json::Value::from(code.as_str()));
        }
    }
}

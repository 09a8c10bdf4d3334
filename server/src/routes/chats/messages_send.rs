//! `POST /v1/chats/{chat_id}/messages`: send a message without a socket.
//! Same rules and idempotency as the WebSocket `send`; live subscribers
//! receive it too.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use byrd_spec::error::{ErrorBody, ErrorCode};
use byrd_spec::message::{Message, SendMessageRequest};
use uuid::Uuid;

use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath};
use crate::messaging::new_message;
use crate::operation::{Behaviour, Operation};
use crate::state::AppState;
use crate::store::Appended;

/// What the annotation below cannot say; see `crate::operation`.
pub const OPERATION: Operation = Operation {
    id: "sendMessage",
    errors: &[
        ErrorCode::InvalidRequest,
        ErrorCode::TokenMissing,
        ErrorCode::TokenInvalid,
        ErrorCode::TokenExpired,
        ErrorCode::TokenRevoked,
        ErrorCode::Forbidden,
        ErrorCode::ChatNotFound,
        ErrorCode::ChatClosed,
        ErrorCode::ClientMsgIdReused,
        ErrorCode::ValidationFailed,
        ErrorCode::BodyTooLong,
        ErrorCode::RateLimited,
        ErrorCode::Unavailable,
    ],
    behaviour: Some(Behaviour::IdempotencyKey {
        body_field: "client_msg_id",
    }),
};

/// Send a message to a chat.
///
/// Idempotent per author, chat and `client_msg_id`: a retry answers `200` with
/// the stored message and stores nothing new. Subscribers receive it over the
/// WebSocket.
#[utoipa::path(
    post,
    path = "/v1/chats/{chat_id}/messages",
    operation_id = OPERATION.id,
    tag = "chats",
    params(("chat_id" = Uuid, Path, description = "The chat's id.")),
    request_body = SendMessageRequest,
    security(("agent_token" = []), ("guest_token" = [])),
    responses(
        (status = 201, description = "Stored now.", body = Message),
        (status = 200, description = "The author sent this `client_msg_id` before: the stored message, unchanged.", body = Message),
        (status = 400, description = "`invalid_request`", body = ErrorBody),
        (status = 401, description = "`token_missing`, `token_invalid`, `token_expired`, `token_revoked`.", body = ErrorBody),
        (status = 403, description = "`forbidden`: a guest token of another chat.", body = ErrorBody),
        (status = 404, description = "`chat_not_found`", body = ErrorBody),
        (status = 409, description = "`chat_closed`, or `client_msg_id_reused`: this `client_msg_id` already holds a different message of the author.", body = ErrorBody),
        (status = 422, description = "`validation_failed` (a bad `client_msg_id`) or `body_too_long`.", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many messages from this principal; see `Retry-After`.", body = ErrorBody),
        (status = 503, description = "`unavailable`: the server is overloaded or its database busy; nothing was changed; retry after `Retry-After`.", body = ErrorBody),
    )
)]
pub async fn post_message(
    State(state): State<AppState>,
    Authenticated(claims): Authenticated,
    ApiPath(chat_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<SendMessageRequest>,
) -> Result<(StatusCode, Json<Message>), ApiError> {
    let new = new_message(&state, &claims, chat_id, &body.client_msg_id, body.body)?;
    // The writer publishes the message once committed, even if this
    // request is dropped meanwhile.
    match state.store.append_message(new).await? {
        Appended::Created(message) => Ok((StatusCode::CREATED, Json(message))),
        Appended::Existing(message) => Ok((StatusCode::OK, Json(message))),
    }
}

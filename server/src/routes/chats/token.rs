//! `POST /v1/chats/{chat_id}/token`: a fresh guest token for the same chat
//! and visitor, so a long chat outlives its first token.

use axum::Json;
use axum::extract::State;
use byrd_spec::chat::{ChatStatus, GuestTokenResponse};
use byrd_spec::error::{ErrorBody, ErrorCode};
use uuid::Uuid;

use crate::auth::GuestAuth;
use crate::error::ApiError;
use crate::extract::ApiPath;
use crate::messaging::guest_may_open;
use crate::operation::Operation;
use crate::state::AppState;

/// What the annotation below cannot say; see `crate::operation`.
pub const OPERATION: Operation = Operation {
    id: "renewGuestToken",
    errors: &[
        ErrorCode::InvalidRequest,
        ErrorCode::TokenMissing,
        ErrorCode::TokenInvalid,
        ErrorCode::TokenExpired,
        ErrorCode::TokenRevoked,
        ErrorCode::Forbidden,
        ErrorCode::ChatNotFound,
        ErrorCode::ChatClosed,
    ],
    behaviour: None,
};

/// Renew a guest token before it expires.
///
/// Answers a fresh 24-hour guest token for the same chat and visitor. Closed
/// chats get no new token.
#[utoipa::path(
    post,
    path = "/v1/chats/{chat_id}/token",
    operation_id = OPERATION.id,
    tag = "chats",
    params(("chat_id" = Uuid, Path, description = "The chat's id.")),
    security(("guest_token" = [])),
    responses(
        (status = 200, description = "A new guest token for this chat and visitor.", body = GuestTokenResponse),
        (status = 400, description = "`invalid_request`", body = ErrorBody),
        (status = 401, description = "`token_missing`, `token_invalid`, `token_expired`, `token_revoked`.", body = ErrorBody),
        (status = 403, description = "`forbidden`: an agent token, or a guest token of another chat.", body = ErrorBody),
        (status = 404, description = "`chat_not_found`: the chat was deleted.", body = ErrorBody),
        (status = 409, description = "`chat_closed`: closed chats get no new tokens.", body = ErrorBody),
    )
)]
pub async fn renew_guest_token(
    State(state): State<AppState>,
    GuestAuth(claims): GuestAuth,
    ApiPath(chat_id): ApiPath<Uuid>,
) -> Result<Json<GuestTokenResponse>, ApiError> {
    guest_may_open(&claims, chat_id)?;
    // Read the chat rather than trusting the claim: renewing must stop once
    // the chat is closed, or a guest token could be kept alive forever.
    let chat = state
        .store
        .chat_by_id(chat_id)
        .await?
        .ok_or_else(|| ApiError::from_code(ErrorCode::ChatNotFound))?;
    if chat.status == ChatStatus::Closed {
        return Err(ApiError::from_code(ErrorCode::ChatClosed));
    }
    let guest = state.tokens.issue_guest_token(&chat)?;
    Ok(Json(GuestTokenResponse {
        guest_token: guest.token,
        expires_in: guest.expires_in,
    }))
}

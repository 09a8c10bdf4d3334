//! `POST /v1/visitor/chats/{chat_id}/token`: a guest token for another
//! chat of the same verified visitor, so the widget on any device can
//! open it.

use axum::Json;
use axum::extract::State;
use byrd_spec::chat::{ChatStatus, GuestTokenResponse};
use byrd_spec::error::{ErrorBody, ErrorCode};
use uuid::Uuid;

use crate::auth::GuestAuth;
use crate::error::ApiError;
use crate::extract::ApiPath;
use crate::operation::Operation;
use crate::state::AppState;

/// What the annotation below cannot say; see `crate::operation`.
pub const OPERATION: Operation = Operation {
    id: "issueOwnChatToken",
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

/// Get a guest token for another chat of the calling verified visitor.
///
/// For the guest token of a verified visitor; answers a guest token for
/// `chat_id` when that chat is the same visitor's. Another visitor's chat
/// is `chat_not_found`, as a chat that does not exist, so nothing tells
/// whether it does. Closed chats get no new tokens, as with
/// `POST /v1/chats/{chat_id}/token`.
#[utoipa::path(
    post,
    path = "/v1/visitor/chats/{chat_id}/token",
    operation_id = OPERATION.id,
    tag = "chats",
    params(("chat_id" = Uuid, Path, description = "The chat's id.")),
    security(("guest_token" = [])),
    responses(
        (status = 200, description = "A guest token for that chat and this visitor.", body = GuestTokenResponse),
        (status = 400, description = "`invalid_request`: `chat_id` is not a UUID.", body = ErrorBody),
        (status = 401, description = "`token_missing`, `token_invalid`, `token_expired`, `token_revoked`.", body = ErrorBody),
        (status = 403, description = "`forbidden`: an agent token, or the guest token of an anonymous visitor.", body = ErrorBody),
        (status = 404, description = "`chat_not_found`: no chat of this visitor has that id.", body = ErrorBody),
        (status = 409, description = "`chat_closed`: closed chats get no new tokens.", body = ErrorBody),
    )
)]
pub async fn issue_own_chat_token(
    State(state): State<AppState>,
    GuestAuth(claims): GuestAuth,
    ApiPath(chat_id): ApiPath<Uuid>,
) -> Result<Json<GuestTokenResponse>, ApiError> {
    super::require_verified(&state, claims.sub).await?;
    let chat = state
        .store
        .chat_by_id(chat_id)
        .await?
        .filter(|chat| chat.visitor.id == claims.sub)
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

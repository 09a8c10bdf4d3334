//! `GET /v1/chats/{chat_id}`: one chat, for agents and for its own guest.

use axum::Json;
use axum::extract::State;
use byrd_spec::chat::Chat;
use byrd_spec::error::{ErrorBody, ErrorCode};
use uuid::Uuid;

use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::extract::ApiPath;
use crate::messaging::authorize_chat;
use crate::operation::Operation;
use crate::state::AppState;

/// What the annotation below cannot say; see `crate::operation`.
pub const OPERATION: Operation = Operation {
    id: "getChat",
    errors: &[
        ErrorCode::InvalidRequest,
        ErrorCode::TokenMissing,
        ErrorCode::TokenInvalid,
        ErrorCode::TokenExpired,
        ErrorCode::TokenRevoked,
        ErrorCode::Forbidden,
        ErrorCode::ChatNotFound,
    ],
    behaviour: None,
};

/// Get one chat.
///
/// Agents may read any chat; a guest token reads only its own.
#[utoipa::path(
    get,
    path = "/v1/chats/{chat_id}",
    operation_id = OPERATION.id,
    tag = "chats",
    params(("chat_id" = Uuid, Path, description = "The chat's id.")),
    security(("agent_token" = []), ("guest_token" = [])),
    responses(
        (status = 200, description = "The chat.", body = Chat),
        (status = 400, description = "`invalid_request`: `chat_id` is not a UUID.", body = ErrorBody),
        (status = 401, description = "`token_missing`, `token_invalid`, `token_expired`, `token_revoked`.", body = ErrorBody),
        (status = 403, description = "`forbidden`: a guest token of another chat.", body = ErrorBody),
        (status = 404, description = "`chat_not_found`", body = ErrorBody),
    )
)]
pub async fn get_chat(
    State(state): State<AppState>,
    Authenticated(claims): Authenticated,
    ApiPath(chat_id): ApiPath<Uuid>,
) -> Result<Json<Chat>, ApiError> {
    authorize_chat(&claims, chat_id)?;
    let chat = state
        .store
        .chat_by_id(chat_id)
        .await?
        .ok_or_else(|| ApiError::from_code(ErrorCode::ChatNotFound))?;
    Ok(Json(chat))
}

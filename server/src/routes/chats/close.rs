//! `POST /v1/chats/{chat_id}/close`: end a chat.

use axum::Json;
use axum::extract::State;
use byrd_spec::chat::Chat;
use byrd_spec::error::{ErrorBody, ErrorCode};
use uuid::Uuid;

use crate::auth::AgentAuth;
use crate::error::ApiError;
use crate::extract::ApiPath;
use crate::operation::Operation;
use crate::state::AppState;

/// What the annotation below cannot say; see `crate::operation`.
pub const OPERATION: Operation = Operation {
    id: "closeChat",
    errors: &[
        ErrorCode::InvalidRequest,
        ErrorCode::TokenMissing,
        ErrorCode::TokenInvalid,
        ErrorCode::TokenExpired,
        ErrorCode::TokenRevoked,
        ErrorCode::Forbidden,
        ErrorCode::ChatNotFound,
        ErrorCode::ChatClosed,
        ErrorCode::Unavailable,
    ],
    behaviour: None,
};

/// Close a chat.
///
/// A closed chat takes no more messages and its guest token cannot be renewed.
#[utoipa::path(
    post,
    path = "/v1/chats/{chat_id}/close",
    operation_id = OPERATION.id,
    tag = "chats",
    params(("chat_id" = Uuid, Path, description = "The chat's id.")),
    security(("agent_token" = [])),
    responses(
        (status = 200, description = "The chat, now `closed`.", body = Chat),
        (status = 400, description = "`invalid_request`", body = ErrorBody),
        (status = 401, description = "`token_missing`, `token_invalid`, `token_expired`, `token_revoked`.", body = ErrorBody),
        (status = 403, description = "`forbidden`: a guest token.", body = ErrorBody),
        (status = 404, description = "`chat_not_found`", body = ErrorBody),
        (status = 409, description = "`chat_closed`: it was closed already.", body = ErrorBody),
        (status = 503, description = "`unavailable`: the server is overloaded or its database busy; nothing was changed; retry after `Retry-After`.", body = ErrorBody),
    )
)]
pub async fn close_chat(
    State(state): State<AppState>,
    AgentAuth(claims): AgentAuth,
    ApiPath(chat_id): ApiPath<Uuid>,
) -> Result<Json<Chat>, ApiError> {
    let chat = state.store.close_chat(chat_id).await?;
    tracing::info!(%chat_id, by = %claims.sub, "chat closed");
    Ok(Json(chat))
}

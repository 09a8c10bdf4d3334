//! `POST /v1/chats/{chat_id}/assign`: an agent takes a chat, or hands it on.

use axum::Json;
use axum::extract::State;
use byrd_spec::chat::{AssignChatRequest, Chat};
use byrd_spec::error::{ErrorBody, ErrorCode};
use uuid::Uuid;

use crate::auth::AgentAuth;
use crate::error::ApiError;
use crate::extract::{ApiPath, OptionalJson};
use crate::operation::Operation;
use crate::state::AppState;

/// What the annotation below cannot say; see `crate::operation`.
pub const OPERATION: Operation = Operation {
    id: "assignChat",
    errors: &[
        ErrorCode::InvalidRequest,
        ErrorCode::TokenMissing,
        ErrorCode::TokenInvalid,
        ErrorCode::TokenExpired,
        ErrorCode::TokenRevoked,
        ErrorCode::Forbidden,
        ErrorCode::ChatNotFound,
        ErrorCode::AgentNotFound,
        ErrorCode::ChatClosed,
        ErrorCode::ValidationFailed,
        ErrorCode::Unavailable,
    ],
    behaviour: None,
};

/// Assign a chat to an agent.
///
/// Without `agent_id` the caller takes the chat. Every agent and the chat's
/// guest hear of it as `chat_updated`.
#[utoipa::path(
    post,
    path = "/v1/chats/{chat_id}/assign",
    operation_id = OPERATION.id,
    tag = "chats",
    params(("chat_id" = Uuid, Path, description = "The chat's id.")),
    request_body(content = Option<AssignChatRequest>, description = "Optional; without `agent_id` the caller takes the chat."),
    security(("agent_token" = [])),
    responses(
        (status = 200, description = "The chat, now `assigned`.", body = Chat),
        (status = 400, description = "`invalid_request`", body = ErrorBody),
        (status = 401, description = "`token_missing`, `token_invalid`, `token_expired`, `token_revoked`.", body = ErrorBody),
        (status = 403, description = "`forbidden`: a guest token.", body = ErrorBody),
        (status = 404, description = "`chat_not_found` or `agent_not_found`.", body = ErrorBody),
        (status = 409, description = "`chat_closed`", body = ErrorBody),
        (status = 422, description = "`validation_failed`", body = ErrorBody),
        (status = 503, description = "`unavailable`: the server is overloaded or its database busy; nothing was changed; retry after `Retry-After`.", body = ErrorBody),
    )
)]
pub async fn assign_chat(
    State(state): State<AppState>,
    AgentAuth(claims): AgentAuth,
    ApiPath(chat_id): ApiPath<Uuid>,
    OptionalJson(body): OptionalJson<AssignChatRequest>,
) -> Result<Json<Chat>, ApiError> {
    let agent_id = body.agent_id.unwrap_or(claims.sub);
    let chat = state.store.assign_chat(chat_id, agent_id).await?;
    tracing::info!(%chat_id, %agent_id, by = %claims.sub, "chat assigned");
    Ok(Json(chat))
}

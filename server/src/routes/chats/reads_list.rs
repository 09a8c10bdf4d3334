//! `GET /v1/chats/{chat_id}/reads`: where each party of a chat has read to.

use axum::Json;
use axum::extract::State;
use byrd_spec::error::{ErrorBody, ErrorCode};
use byrd_spec::read::ChatReads;
use uuid::Uuid;

use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::extract::ApiPath;
use crate::messaging::{author_of, authorize_chat};
use crate::operation::Operation;
use crate::state::AppState;

/// What the annotation below cannot say; see `crate::operation`.
pub const OPERATION: Operation = Operation {
    id: "listReads",
    errors: &[
        ErrorCode::InvalidRequest,
        ErrorCode::TokenMissing,
        ErrorCode::TokenInvalid,
        ErrorCode::TokenExpired,
        ErrorCode::TokenRevoked,
        ErrorCode::Forbidden,
        ErrorCode::ChatNotFound,
        ErrorCode::RateLimited,
    ],
    behaviour: None,
};

/// List a chat's read positions.
///
/// Every stored position, the chat's guest and agents alike, as the `read`
/// frames left them: what a client that starts afresh needs to count
/// unread messages and to show what the other side has seen. Agents may
/// read any chat's; a guest token only its own chat's.
#[utoipa::path(
    get,
    path = "/v1/chats/{chat_id}/reads",
    operation_id = OPERATION.id,
    tag = "chats",
    params(("chat_id" = Uuid, Path, description = "The chat's id.")),
    security(("agent_token" = []), ("guest_token" = [])),
    responses(
        (status = 200, description = "Every stored read position of the chat.", body = ChatReads),
        (status = 400, description = "`invalid_request`: `chat_id` is not a UUID.", body = ErrorBody),
        (status = 401, description = "`token_missing`, `token_invalid`, `token_expired`, `token_revoked`.", body = ErrorBody),
        (status = 403, description = "`forbidden`: a guest token of another chat.", body = ErrorBody),
        (status = 404, description = "`chat_not_found`", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many history reads by this principal; see `Retry-After`.", body = ErrorBody),
    )
)]
pub async fn list_reads(
    State(state): State<AppState>,
    Authenticated(claims): Authenticated,
    ApiPath(chat_id): ApiPath<Uuid>,
) -> Result<Json<ChatReads>, ApiError> {
    authorize_chat(&claims, chat_id)?;
    state.read_limiter.check_key(&author_of(&claims).id)?;
    if state.store.chat_last_seq(chat_id).await?.is_none() {
        return Err(ApiError::from_code(ErrorCode::ChatNotFound));
    }
    let reads = state.store.read_positions(chat_id).await?;
    Ok(Json(ChatReads { reads }))
}

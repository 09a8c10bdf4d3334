//! `GET /v1/chats/{chat_id}/messages`: page through a chat's history.

use axum::Json;
use axum::extract::State;
use byrd_spec::error::{ErrorBody, ErrorCode};
use byrd_spec::message::{MessagePage, MessagesQuery};
use uuid::Uuid;

use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery};
use crate::messaging::{author_of, authorize_chat};
use crate::operation::{Behaviour, Operation};
use crate::state::AppState;
use crate::store::MessageRange;

const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 200;

/// What the annotation below cannot say; see `crate::operation`.
pub const OPERATION: Operation = Operation {
    id: "listMessages",
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
    behaviour: Some(Behaviour::SeqPages {
        parameter: "after_seq",
        key: "seq",
        has_more: "has_more",
        items: "messages",
    }),
};

/// Page a chat's messages in ascending `seq` order.
///
/// With `after_seq` the page follows that `seq` (for catching up); with only
/// `before_seq` it is the newest messages before it (for scrolling back).
#[utoipa::path(
    get,
    path = "/v1/chats/{chat_id}/messages",
    operation_id = OPERATION.id,
    tag = "chats",
    params(("chat_id" = Uuid, Path, description = "The chat's id."), MessagesQuery),
    security(("agent_token" = []), ("guest_token" = [])),
    responses(
        (status = 200, description = "Messages in ascending `seq` order.", body = MessagePage),
        (status = 400, description = "`invalid_request`: a bad id, seq or limit.", body = ErrorBody),
        (status = 401, description = "`token_missing`, `token_invalid`, `token_expired`, `token_revoked`.", body = ErrorBody),
        (status = 403, description = "`forbidden`: a guest token of another chat.", body = ErrorBody),
        (status = 404, description = "`chat_not_found`", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many history reads by this principal; see `Retry-After`.", body = ErrorBody),
    )
)]
pub async fn list_messages(
    State(state): State<AppState>,
    Authenticated(claims): Authenticated,
    ApiPath(chat_id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<MessagesQuery>,
) -> Result<Json<MessagePage>, ApiError> {
    authorize_chat(&claims, chat_id)?;
    state.read_limiter.check_key(&author_of(&claims).id)?;
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            "limit must be 1 to 200.",
        ));
    }
    if query.after_seq.is_some_and(|s| s < 0) || query.before_seq.is_some_and(|s| s < 0) {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            "after_seq and before_seq must not be negative.",
        ));
    }
    if state.store.chat_last_seq(chat_id).await?.is_none() {
        return Err(ApiError::from_code(ErrorCode::ChatNotFound));
    }
    let range = MessageRange {
        after_seq: query.after_seq,
        before_seq: query.before_seq,
        limit,
    };
    let (messages, has_more) = state.store.list_messages(chat_id, range).await?;
    Ok(Json(MessagePage { messages, has_more }))
}

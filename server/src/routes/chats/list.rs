//! `GET /v1/chats`: the agents' view of all chats, newest first.

use axum::Json;
use axum::extract::State;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use byrd_spec::chat::{ChatPage, ListChatsQuery};
use byrd_spec::error::{ErrorBody, ErrorCode};
use uuid::Uuid;

use crate::auth::AgentAuth;
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::operation::{Behaviour, Operation};
use crate::state::AppState;
use crate::store::ChatFilter;

const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 100;

/// Cursors are opaque to clients: the last chat id of a page, base64url.
pub(crate) fn encode_cursor(last: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(last.as_bytes())
}

pub(crate) fn decode_cursor(cursor: &str) -> Result<Uuid, ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| Uuid::from_slice(&bytes).ok())
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidRequest,
                "The cursor is not one this server issued.",
            )
        })
}

/// What the annotation below cannot say; see `crate::operation`.
pub const OPERATION: Operation = Operation {
    id: "listChats",
    errors: &[
        ErrorCode::InvalidRequest,
        ErrorCode::TokenMissing,
        ErrorCode::TokenInvalid,
        ErrorCode::TokenExpired,
        ErrorCode::TokenRevoked,
        ErrorCode::Forbidden,
    ],
    behaviour: Some(Behaviour::CursorPages {
        parameter: "cursor",
        next: "next_cursor",
        items: "chats",
    }),
};

/// List chats, newest first, a page at a time.
///
/// Filter by `status`; follow `next_cursor` for the next page until it is
/// `null`.
#[utoipa::path(
    get,
    path = "/v1/chats",
    operation_id = OPERATION.id,
    tag = "chats",
    params(ListChatsQuery),
    security(("agent_token" = [])),
    responses(
        (status = 200, description = "A page of chats, newest first.", body = ChatPage),
        (status = 400, description = "`invalid_request`: a bad `status`, `cursor` or `limit`.", body = ErrorBody),
        (status = 401, description = "`token_missing`, `token_invalid`, `token_expired`, `token_revoked`.", body = ErrorBody),
        (status = 403, description = "`forbidden`: a guest token.", body = ErrorBody),
    )
)]
pub async fn list_chats(
    State(state): State<AppState>,
    _agent: AgentAuth,
    ApiQuery(query): ApiQuery<ListChatsQuery>,
) -> Result<Json<ChatPage>, ApiError> {
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            "limit must be 1 to 100.",
        ));
    }
    let filter = ChatFilter {
        status: query.status,
        before: query.cursor.as_deref().map(decode_cursor).transpose()?,
        // One more than asked tells whether another page exists.
        limit: limit + 1,
    };
    let mut chats = state.store.list_chats(&filter).await?;
    let next_cursor = if chats.len() > limit as usize {
        chats.truncate(limit as usize);
        chats.last().map(|c| encode_cursor(c.id))
    } else {
        None
    };
    Ok(Json(ChatPage { chats, next_cursor }))
}

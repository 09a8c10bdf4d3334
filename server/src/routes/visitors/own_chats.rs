//! `GET /v1/visitor/chats`: a verified visitor's own chats, for their
//! guest session on any device.

use axum::Json;
use axum::extract::State;
use byrd_spec::chat::{ChatPage, ListVisitorChatsQuery};
use byrd_spec::error::{ErrorBody, ErrorCode};

use crate::auth::GuestAuth;
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::operation::{Behaviour, Operation};
use crate::state::AppState;

/// What the annotation below cannot say; see `crate::operation`.
pub const OPERATION: Operation = Operation {
    id: "listOwnChats",
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

/// List the calling visitor's chats, newest first, a page at a time.
///
/// For the guest token of a verified visitor: every chat that visitor
/// started, on any device. An anonymous visitor's guest token is refused.
#[utoipa::path(
    get,
    path = "/v1/visitor/chats",
    operation_id = OPERATION.id,
    tag = "chats",
    params(ListVisitorChatsQuery),
    security(("guest_token" = [])),
    responses(
        (status = 200, description = "A page of the visitor's chats, newest first.", body = ChatPage),
        (status = 400, description = "`invalid_request`: a bad `cursor` or `limit`.", body = ErrorBody),
        (status = 401, description = "`token_missing`, `token_invalid`, `token_expired`, `token_revoked`.", body = ErrorBody),
        (status = 403, description = "`forbidden`: an agent token, or the guest token of an anonymous visitor.", body = ErrorBody),
    )
)]
pub async fn list_own_chats(
    State(state): State<AppState>,
    GuestAuth(claims): GuestAuth,
    ApiQuery(query): ApiQuery<ListVisitorChatsQuery>,
) -> Result<Json<ChatPage>, ApiError> {
    super::require_verified(&state, claims.sub).await?;
    super::page(&state, claims.sub, &query).await.map(Json)
}

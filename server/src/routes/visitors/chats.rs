//! `GET /v1/visitors/{visitor_id}/chats`: one visitor's chats, for
//! agents, so a returning visitor's new chat shows their earlier ones.

use axum::Json;
use axum::extract::State;
use byrd_spec::chat::{ChatPage, ListVisitorChatsQuery};
use byrd_spec::error::{ErrorBody, ErrorCode};
use uuid::Uuid;

use crate::auth::AgentAuth;
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery};
use crate::operation::{Behaviour, Operation};
use crate::state::AppState;

/// What the annotation below cannot say; see `crate::operation`.
pub const OPERATION: Operation = Operation {
    id: "listVisitorChats",
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

/// List one visitor's chats, newest first, a page at a time.
///
/// `visitor_id` is a chat's `visitor.id`; an id no visitor has lists no
/// chats. Follow `next_cursor` for the next page until it is `null`.
#[utoipa::path(
    get,
    path = "/v1/visitors/{visitor_id}/chats",
    operation_id = OPERATION.id,
    tag = "chats",
    params(
        ("visitor_id" = Uuid, Path, description = "The visitor's id (`Chat.visitor.id`)."),
        ListVisitorChatsQuery,
    ),
    security(("agent_token" = [])),
    responses(
        (status = 200, description = "A page of the visitor's chats, newest first.", body = ChatPage),
        (status = 400, description = "`invalid_request`: a bad `visitor_id`, `cursor` or `limit`.", body = ErrorBody),
        (status = 401, description = "`token_missing`, `token_invalid`, `token_expired`, `token_revoked`.", body = ErrorBody),
        (status = 403, description = "`forbidden`: a guest token.", body = ErrorBody),
    )
)]
pub async fn list_visitor_chats(
    State(state): State<AppState>,
    _agent: AgentAuth,
    ApiPath(visitor_id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<ListVisitorChatsQuery>,
) -> Result<Json<ChatPage>, ApiError> {
    super::page(&state, visitor_id, &query).await.map(Json)
}

//! `GET /v1/chat-summaries`: a page of chats with what a queue shows of
//! each (its newest message, the caller's and the visitor's read
//! positions), so a console loads a queue of a thousand chats in a handful
//! of requests rather than two per chat.

use axum::Json;
use axum::extract::State;
use byrd_spec::chat::{ChatSummaryPage, ListChatSummariesQuery};
use byrd_spec::error::{ErrorBody, ErrorCode};

use super::list::{PageLimit, PageLimits, decode_cursor};
use crate::auth::AgentAuth;
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::operation::{Behaviour, Operation};
use crate::state::AppState;
use crate::store::ChatFilter;

/// A page carries a message body per chat: 250 keeps the largest answer
/// to a few megabytes while 1,000 chats still load in four requests.
const LIMITS: PageLimits = PageLimits {
    default: 100,
    max: 250,
};

/// What the annotation below cannot say; see `crate::operation`.
pub const OPERATION: Operation = Operation {
    id: "listChatSummaries",
    errors: &[
        ErrorCode::InvalidRequest,
        ErrorCode::TokenMissing,
        ErrorCode::TokenInvalid,
        ErrorCode::TokenExpired,
        ErrorCode::TokenRevoked,
        ErrorCode::Forbidden,
        ErrorCode::RateLimited,
    ],
    behaviour: Some(Behaviour::CursorPages {
        parameter: "cursor",
        next: "next_cursor",
        items: "summaries",
    }),
};

/// List chats with their newest message and read positions, newest chat
/// first, a page at a time.
///
/// The chats of a page are those `GET /v1/chats` lists with the same
/// `status` and `cursor`; each comes with its newest message and how far
/// the calling agent and the chat's visitor have read it. Each page counts
/// as one history read. Follow `next_cursor` until it is `null`.
#[utoipa::path(
    get,
    path = "/v1/chat-summaries",
    operation_id = OPERATION.id,
    tag = "chats",
    params(ListChatSummariesQuery),
    security(("agent_token" = [])),
    responses(
        (status = 200, description = "A page of chat summaries, newest chat first.", body = ChatSummaryPage),
        (status = 400, description = "`invalid_request`: a bad `status`, `cursor` or `limit`.", body = ErrorBody),
        (status = 401, description = "`token_missing`, `token_invalid`, `token_expired`, `token_revoked`.", body = ErrorBody),
        (status = 403, description = "`forbidden`: a guest token.", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many history reads by this agent; see `Retry-After`.", body = ErrorBody),
    )
)]
pub async fn list_chat_summaries(
    State(state): State<AppState>,
    AgentAuth(agent): AgentAuth,
    ApiQuery(query): ApiQuery<ListChatSummariesQuery>,
) -> Result<Json<ChatSummaryPage>, ApiError> {
    let limit = PageLimit::parse(query.limit, LIMITS)?;
    let filter = ChatFilter {
        status: query.status,
        before: query.cursor.as_deref().map(decode_cursor).transpose()?,
        limit: limit.fetched(),
    };
    state.read_limiter.check_key(&agent.sub)?;
    let mut summaries = state.store.chat_summaries(&filter, agent.sub).await?;
    let next_cursor = limit.next_cursor(&mut summaries, |summary| summary.chat.id);
    Ok(Json(ChatSummaryPage {
        summaries,
        next_cursor,
    }))
}

//! Visitors across their chats: an agent's view of one visitor's chats
//! (`/v1/visitors/*`) and a verified visitor's own (`/v1/visitor/*`).
//!
//! An anonymous visitor's guest session sees only its chat: its
//! continuity token only says "the same browser", which a shared computer
//! also is. A verified visitor's identity was vouched for by the site, so
//! their guest session may list their chats and open any of them.

pub mod chats;
pub mod own_chats;
pub mod own_token;

use byrd_spec::chat::{ChatPage, ListVisitorChatsQuery};
use byrd_spec::error::ErrorCode;
use uuid::Uuid;

use super::chats::list::{PageLimit, PageLimits, decode_cursor};
use crate::error::ApiError;
use crate::state::AppState;

const LIMITS: PageLimits = PageLimits {
    default: 50,
    max: 100,
};

/// One page of `visitor_id`'s chats, newest first, paged as `GET
/// /v1/chats` is.
async fn page(
    state: &AppState,
    visitor_id: Uuid,
    query: &ListVisitorChatsQuery,
) -> Result<ChatPage, ApiError> {
    let limit = PageLimit::parse(query.limit, LIMITS)?;
    let before = query.cursor.as_deref().map(decode_cursor).transpose()?;
    let mut chats = state
        .store
        .visitor_chats(visitor_id, before, limit.fetched())
        .await?;
    let next_cursor = limit.next_cursor(&mut chats, |chat| chat.id);
    Ok(ChatPage { chats, next_cursor })
}

/// Refuses the guest session of an anonymous visitor.
async fn require_verified(state: &AppState, visitor_id: Uuid) -> Result<(), ApiError> {
    if state.store.is_visitor_verified(visitor_id).await? {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::Forbidden,
            "Only a verified visitor's guest token reaches the visitor's other chats.",
        ))
    }
}

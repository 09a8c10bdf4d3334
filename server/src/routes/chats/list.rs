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

const LIMITS: PageLimits = PageLimits {
    default: 50,
    max: 100,
};

/// What a paged endpoint allows for its `limit`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PageLimits {
    /// The page size when `limit` is absent.
    pub default: u32,
    /// The largest `limit` accepted.
    pub max: u32,
}

/// A page's `limit`, parsed: once you hold one, it is within the
/// endpoint's bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PageLimit(u32);

impl PageLimit {
    /// `requested` (or the default when absent), refused with
    /// `invalid_request` outside 1 to `limits.max`.
    pub(crate) fn parse(requested: Option<u32>, limits: PageLimits) -> Result<PageLimit, ApiError> {
        let limit = requested.unwrap_or(limits.default);
        if (1..=limits.max).contains(&limit) {
            Ok(PageLimit(limit))
        } else {
            Err(ApiError::new(
                ErrorCode::InvalidRequest,
                format!("limit must be 1 to {}.", limits.max),
            ))
        }
    }

    /// How many items to fetch: one more than asked tells whether another
    /// page exists.
    pub(crate) fn fetched(self) -> u32 {
        self.0 + 1
    }

    /// Cuts `items`, fetched with [`PageLimit::fetched`], to the page and
    /// returns the cursor of the next page, if there is one.
    pub(crate) fn next_cursor<T>(
        self,
        items: &mut Vec<T>,
        id: impl Fn(&T) -> Uuid,
    ) -> Option<String> {
        let limit = self.0 as usize;
        if items.len() <= limit {
            return None;
        }
        items.truncate(limit);
        items.last().map(|last| encode_cursor(id(last)))
    }
}

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
    let limit = PageLimit::parse(query.limit, LIMITS)?;
    let filter = ChatFilter {
        status: query.status,
        before: query.cursor.as_deref().map(decode_cursor).transpose()?,
        limit: limit.fetched(),
    };
    let mut chats = state.store.list_chats(&filter).await?;
    let next_cursor = limit.next_cursor(&mut chats, |chat| chat.id);
    Ok(Json(ChatPage { chats, next_cursor }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: PageLimits = PageLimits { default: 2, max: 3 };

    #[test]
    fn an_absent_limit_is_the_default_and_the_bounds_are_inclusive() {
        assert_eq!(PageLimit::parse(None, SMALL).unwrap(), PageLimit(2));
        assert_eq!(PageLimit::parse(Some(1), SMALL).unwrap(), PageLimit(1));
        assert_eq!(PageLimit::parse(Some(3), SMALL).unwrap(), PageLimit(3));
    }

    #[test]
    fn a_limit_outside_one_to_the_maximum_is_invalid_request_naming_the_bounds() {
        for requested in [0, 4, u32::MAX] {
            let error = PageLimit::parse(Some(requested), SMALL).unwrap_err();
            assert_eq!(error.code(), ErrorCode::InvalidRequest, "limit {requested}");
            assert_eq!(
                error.message(),
                "limit must be 1 to 3.",
                "limit {requested}"
            );
        }
    }

    #[test]
    fn one_more_is_fetched_and_only_a_longer_fetch_has_a_next_page() {
        let limit = PageLimit::parse(Some(2), SMALL).unwrap();
        assert_eq!(limit.fetched(), 3);
        let ids: Vec<Uuid> = (0..3).map(|_| Uuid::new_v4()).collect();
        let mut full = ids.clone();
        assert_eq!(
            limit.next_cursor(&mut full, |id| *id),
            Some(encode_cursor(ids[1]))
        );
        assert_eq!(full, ids[..2]);
        let mut last_page = ids[..2].to_vec();
        assert_eq!(limit.next_cursor(&mut last_page, |id| *id), None);
        assert_eq!(last_page.len(), 2);
    }
}

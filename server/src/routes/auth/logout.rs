//! `POST /v1/auth/logout`: end the caller's session.

use axum::extract::State;
use axum::http::StatusCode;
use byrd_spec::error::{ErrorBody, ErrorCode};

use crate::auth::LoggingOut;
use crate::error::ApiError;
use crate::operation::Operation;
use crate::state::AppState;

/// What the annotation below cannot say; see `crate::operation`.
pub const OPERATION: Operation = Operation {
    id: "logout",
    errors: &[
        ErrorCode::TokenMissing,
        ErrorCode::TokenInvalid,
        ErrorCode::TokenExpired,
        ErrorCode::Forbidden,
        ErrorCode::Unavailable,
    ],
    behaviour: None,
};

/// End the agent's login session.
///
/// Revokes the presented access token until it would have expired, and the
/// session it came from; WebSocket connections using either close with 4002.
#[utoipa::path(
    post,
    path = "/v1/auth/logout",
    operation_id = OPERATION.id,
    tag = "auth",
    security(("agent_token" = [])),
    responses(
        (status = 204, description = "The access token is revoked until it expires, and so is its session with every refresh and access token of it; WebSocket connections using either close with 4002. A retry with the same token answers 204 again."),
        (status = 401, description = "`token_missing`, `token_invalid`, `token_expired`.", body = ErrorBody),
        (status = 403, description = "`forbidden`: a guest token.", body = ErrorBody),
        (status = 503, description = "`unavailable`: the database is busy; retry after `Retry-After`.", body = ErrorBody),
    )
)]
pub async fn logout(
    State(state): State<AppState>,
    LoggingOut(claims): LoggingOut,
) -> Result<StatusCode, ApiError> {
    // One transaction; the writer closes the sockets of the token and its
    // session once it commits, whether or not this request is still there.
    state
        .store
        .logout(claims.jti.clone(), claims.exp, claims.sid)
        .await?;
    tracing::info!(agent_id = %claims.sub, "agent logged out");
    Ok(StatusCode::NO_CONTENT)
}

//! `POST /v1/auth/logout`: end the caller's session.

use axum::extract::State;
use axum::http::StatusCode;
use byrd_spec::error::ErrorBody;

use crate::auth::AgentAuth;
use crate::error::ApiError;
use crate::state::AppState;

/// End the agent's login session.
///
/// Revokes the presented access token until it would have expired, and the
/// session it came from; WebSocket connections using either close with 4002.
#[utoipa::path(
    post,
    path = "/v1/auth/logout",
    operation_id = "logout",
    tag = "auth",
    security(("agent_token" = [])),
    responses(
        (status = 204, description = "The access token is revoked until it expires, and so is the session's refresh token; WebSocket connections using either close with 4002."),
        (status = 401, description = "`token_missing`, `token_invalid`, `token_expired`, `token_revoked`.", body = ErrorBody),
        (status = 403, description = "`forbidden`: a guest token.", body = ErrorBody),
    )
)]
pub async fn logout(
    State(state): State<AppState>,
    AgentAuth(claims): AgentAuth,
) -> Result<StatusCode, ApiError> {
    state.store.revoke_token(&claims.jti, claims.exp).await?;
    if let Some(session) = claims.sid {
        state.store.revoke_session(session).await?;
    }
    // Open WebSockets authenticated by this token or session close too.
    state.hub.revoke(Some(&claims.jti), claims.sid);
    tracing::info!(agent_id = %claims.sub, "agent logged out");
    Ok(StatusCode::NO_CONTENT)
}

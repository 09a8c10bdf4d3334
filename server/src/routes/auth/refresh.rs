//! `POST /v1/auth/refresh`: trade a refresh token for a new pair.
//!
//! Refresh tokens are single use. Presenting one that was already used
//! revokes its whole session: it means a copy is in someone else's hands.
//! The exception is a retry moments after the use, while the successor is
//! still unused: the client lost the answer, and gets the same successor.

use axum::Json;
use axum::extract::State;
use byrd_spec::auth::{RefreshRequest, TokenResponse};
use byrd_spec::error::{ErrorBody, ErrorCode};

use super::{refresh_expiry, token_response};
use crate::auth::RefreshToken;
use crate::error::ApiError;
use crate::extract::{ApiJson, ClientAddr};
use crate::operation::Operation;
use crate::state::AppState;
use crate::store::{RefreshOutcome, Successor};

/// What the annotation below cannot say; see `crate::operation`.
pub const OPERATION: Operation = Operation {
    id: "refreshSession",
    errors: &[
        ErrorCode::InvalidRequest,
        ErrorCode::TokenInvalid,
        ErrorCode::TokenExpired,
        ErrorCode::TokenRevoked,
        ErrorCode::ValidationFailed,
        ErrorCode::RateLimited,
        ErrorCode::Unavailable,
    ],
    behaviour: None,
};

/// Trade a refresh token for a new access token and refresh token.
///
/// The presented refresh token is spent. Presenting a spent one again revokes
/// its whole session (reuse detection). Rate limited per client address,
/// together with logins.
#[utoipa::path(
    post,
    path = "/v1/auth/refresh",
    operation_id = OPERATION.id,
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new access token and a new refresh token; the presented one is spent.", body = TokenResponse),
        (status = 400, description = "`invalid_request`", body = ErrorBody),
        (status = 401, description = "`token_invalid` (unknown refresh token), `token_expired`, or `token_revoked` (already used: its whole session is now revoked; or the session was logged out).", body = ErrorBody),
        (status = 422, description = "`validation_failed`", body = ErrorBody),
        (status = 429, description = "`rate_limited`", body = ErrorBody),
        (status = 503, description = "`unavailable`: the server is overloaded or its database busy; nothing was changed; retry after `Retry-After`.", body = ErrorBody),
    )
)]
pub async fn refresh(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    state.login_limiter.check(client)?;
    let successor = RefreshToken::generate();
    let outcome = state
        .store
        .rotate_refresh_token(
            RefreshToken::hash(&body.refresh_token),
            Successor {
                hash: successor.hash,
                sealed: successor.sealed_for(&body.refresh_token),
                expires_at: refresh_expiry(&state),
            },
            state.settings.jwt.refresh_grace.get(),
        )
        .await?;
    let (agent_id, session, refresh) = match outcome {
        RefreshOutcome::Rotated {
            agent_id,
            session_id,
        } => (agent_id, session_id, successor),
        RefreshOutcome::Replayed {
            agent_id,
            session_id,
            sealed_successor,
        } => {
            let Some(same) = RefreshToken::unseal(&sealed_successor, &body.refresh_token) else {
                return Err(ApiError::internal(anyhow::anyhow!(
                    "a sealed refresh successor is malformed"
                )));
            };
            (agent_id, session_id, same)
        }
        RefreshOutcome::Unknown => {
            return Err(ApiError::new(
                ErrorCode::TokenInvalid,
                "The refresh token is not valid.",
            ));
        }
        RefreshOutcome::Expired => {
            return Err(ApiError::new(
                ErrorCode::TokenExpired,
                "The refresh token has expired.",
            ));
        }
        RefreshOutcome::Revoked => {
            return Err(ApiError::new(
                ErrorCode::TokenRevoked,
                "The session has been revoked.",
            ));
        }
        RefreshOutcome::Reused { session_id } => {
            // The store's commit already closed the session's sockets.
            tracing::warn!(%session_id, "refresh token reused; its session is revoked");
            return Err(ApiError::new(
                ErrorCode::TokenRevoked,
                "The refresh token was already used; its session has been revoked.",
            ));
        }
    };
    let Some(agent) = state.store.agent_by_id(agent_id).await? else {
        return Err(ApiError::new(
            ErrorCode::TokenRevoked,
            "The agent no longer exists.",
        ));
    };
    token_response(&state, agent, session, refresh).map(Json)
}

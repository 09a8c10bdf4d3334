//! Whether a verified token still stands: the one revocation check every
//! way in makes (a request's bearer token, the WebSocket handshake, its
//! `refresh_token` frame, and a socket ticket when it is spent).
//!
//! A token ends early in two ways: its own `jti` is revoked (a logout),
//! or, for an agent, the login session it belongs to ends (a logout, a
//! refresh token reused); its access tokens end with it, not when they
//! expire.

use byrd_spec::claims::{AgentClaims, Claims};
use byrd_spec::error::ErrorCode;

use crate::error::ApiError;
use crate::store::Store;

/// `401 token_revoked` if `claims`' token or its session has been revoked.
pub async fn ensure_not_revoked(store: &Store, claims: &Claims) -> Result<(), ApiError> {
    if store.is_token_revoked(claims.jti()).await? {
        return Err(ApiError::new(
            ErrorCode::TokenRevoked,
            "The token has been revoked.",
        ));
    }
    if let Claims::Agent(AgentClaims {
        sid: Some(session), ..
    }) = claims
        && store.is_session_revoked(*session).await?
    {
        return Err(ApiError::new(
            ErrorCode::TokenRevoked,
            "The token's session has ended.",
        ));
    }
    Ok(())
}

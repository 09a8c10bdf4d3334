//! `/v1/auth/*`: agent login sessions.

pub mod login;
pub mod logout;
pub mod refresh;

use byrd_spec::agent::Agent;
use byrd_spec::auth::{TokenResponse, TokenType};
use uuid::Uuid;

use crate::auth::RefreshToken;
use crate::error::ApiError;
use crate::state::AppState;

/// The answer to a login or refresh: a new access token for `session` and
/// the refresh token that was stored for it.
fn token_response(
    state: &AppState,
    agent: Agent,
    session: Uuid,
    refresh: RefreshToken,
) -> Result<TokenResponse, ApiError> {
    let access = state.tokens.issue_agent_token(&agent, Some(session))?;
    Ok(TokenResponse {
        access_token: access.token,
        token_type: TokenType::Bearer,
        expires_in: access.expires_in,
        refresh_token: refresh.token,
        agent,
    })
}

/// When a refresh token issued now expires.
fn refresh_expiry(state: &AppState) -> chrono::DateTime<chrono::Utc> {
    let ttl = chrono::Duration::from_std(state.settings.jwt.refresh_token_ttl)
        .unwrap_or(chrono::Duration::days(30));
    chrono::Utc::now() + ttl
}

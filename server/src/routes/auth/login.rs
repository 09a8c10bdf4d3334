//! `POST /v1/auth/login`: email and password for a token pair.

use axum::Json;
use axum::extract::State;
use byrd_spec::auth::{LoginRequest, TokenResponse};
use byrd_spec::error::{ErrorBody, ErrorCode};
use secrecy::SecretString;

use super::{refresh_expiry, token_response};
use crate::auth::{RefreshToken, verify_password};
use crate::domain::{EmailAddress, Password};
use crate::error::ApiError;
use crate::extract::{ApiJson, ClientAddr};
use crate::operation::Operation;
use crate::state::AppState;
use crate::store::StoreError;

/// What the annotation below cannot say; see `crate::operation`.
pub const OPERATION: Operation = Operation {
    id: "login",
    errors: &[
        ErrorCode::InvalidRequest,
        ErrorCode::InvalidCredentials,
        ErrorCode::ValidationFailed,
        ErrorCode::RateLimited,
        ErrorCode::Unavailable,
    ],
    behaviour: None,
};

/// Log an agent in with email and password.
///
/// Starts a login session and answers a 15-minute agent access token and a
/// single-use refresh token. A wrong email and a wrong password get the same
/// answer in about the same time. Rate limited per client address.
#[utoipa::path(
    post,
    path = "/v1/auth/login",
    operation_id = OPERATION.id,
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in.", body = TokenResponse),
        (status = 400, description = "`invalid_request`: the body is not JSON.", body = ErrorBody),
        (status = 401, description = "`invalid_credentials`: no agent has this email and password. The answer and its timing are the same whether or not the email exists.", body = ErrorBody),
        (status = 422, description = "`validation_failed`: a field is missing or mistyped.", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many attempts from this address, or too many failed ones for this email; see `Retry-After`.", body = ErrorBody),
        (status = 503, description = "`unavailable`: the server is overloaded or its database busy; nothing was changed; retry after `Retry-After`.", body = ErrorBody),
    )
)]
pub async fn login(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    state.login_limiter.check(client)?;
    state.failed_logins.check(&body.email)?;
    let slot = state.password_slots.take()?;
    let record = match EmailAddress::parse("email", &body.email) {
        Ok(email) => state.store.agent_for_login(&email).await?,
        // A malformed email matches no agent; still pay for a hash below.
        Err(_) => None,
    };
    // A password no agent can have is refused before hashing, so a huge one
    // cannot make the server burn CPU.
    let password_ok = body.password.chars().count() <= Password::MAX_CHARS
        && verify_password(
            slot,
            SecretString::from(body.password),
            record.as_ref().map(|r| r.password_hash.clone()),
        )
        .await?;
    let Some(record) = record.filter(|_| password_ok) else {
        state.failed_logins.failed(&body.email);
        return Err(ApiError::from_code(ErrorCode::InvalidCredentials));
    };
    state.failed_logins.succeeded(&body.email);
    let refresh = RefreshToken::generate();
    let session = match state
        .store
        .create_session(record.agent.id, refresh.hash, refresh_expiry(&state))
        .await
    {
        Ok(session) => session,
        // Deactivated (or removed) since the lookup above: as if unknown.
        Err(StoreError::AgentNotFound) => {
            return Err(ApiError::from_code(ErrorCode::InvalidCredentials));
        }
        Err(error) => return Err(error.into()),
    };
    tracing::info!(agent_id = %record.agent.id, "agent logged in");
    token_response(&state, record.agent, session, refresh).map(Json)
}

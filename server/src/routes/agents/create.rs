//! `POST /v1/agents`: an admin adds an agent.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use byrd_spec::agent::{Agent, CreateAgentRequest};
use byrd_spec::error::{ErrorBody, ErrorCode};
use secrecy::SecretString;

use crate::auth::{AdminAuth, hash_password_in};
use crate::domain::{DisplayName, EmailAddress, Password};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::operation::Operation;
use crate::state::AppState;
use crate::store::NewAgent;

/// What the annotation below cannot say; see `crate::operation`.
pub const OPERATION: Operation = Operation {
    id: "createAgent",
    errors: &[
        ErrorCode::InvalidRequest,
        ErrorCode::TokenMissing,
        ErrorCode::TokenInvalid,
        ErrorCode::TokenExpired,
        ErrorCode::TokenRevoked,
        ErrorCode::Forbidden,
        ErrorCode::EmailTaken,
        ErrorCode::ValidationFailed,
        ErrorCode::Unavailable,
    ],
    behaviour: None,
};

/// Add an agent (admins only).
#[utoipa::path(
    post,
    path = "/v1/agents",
    operation_id = OPERATION.id,
    tag = "agents",
    request_body = CreateAgentRequest,
    security(("agent_token" = [])),
    responses(
        (status = 201, description = "The new agent.", body = Agent),
        (status = 400, description = "`invalid_request`", body = ErrorBody),
        (status = 401, description = "`token_missing`, `token_invalid`, `token_expired`, `token_revoked`.", body = ErrorBody),
        (status = 403, description = "`forbidden`: not an admin.", body = ErrorBody),
        (status = 409, description = "`email_taken`", body = ErrorBody),
        (status = 422, description = "`validation_failed`: a bad email, name, role or password.", body = ErrorBody),
        (status = 503, description = "`unavailable`: the server is overloaded or its database busy; nothing was changed; retry after `Retry-After`.", body = ErrorBody),
    )
)]
pub async fn create_agent(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    ApiJson(body): ApiJson<CreateAgentRequest>,
) -> Result<(StatusCode, Json<Agent>), ApiError> {
    let slot = state.password_slots.take()?;
    let new = NewAgent {
        email: EmailAddress::parse("email", &body.email)?,
        name: DisplayName::parse("name", &body.name)?,
        role: body.role,
        password_hash: hash_password_in(
            slot,
            Password::parse("password", SecretString::from(body.password))?,
        )
        .await?,
    };
    let agent = state.store.insert_agent(new).await?;
    tracing::info!(agent_id = %agent.id, by = %admin.sub, "agent created");
    Ok((StatusCode::CREATED, Json(agent)))
}

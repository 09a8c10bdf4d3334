//! `POST /v1/agents/{agent_id}/deactivate` and
//! `POST /v1/agents/{agent_id}/reactivate`: an admin removes an agent who
//! leaves, or brings them back.
//!
//! A deactivated agent stays listed (`active: false`) and keeps their
//! messages, but cannot log in (the same `invalid_credentials` as a wrong
//! password), their sessions end and their sockets close with
//! `token_revoked`, a backend's token naming them is refused, no chat can
//! be assigned to them, and their assigned chats go back to the queue.
//! What may be deactivated is `store::rules::agents`' to say.

use axum::Json;
use axum::extract::State;
use byrd_spec::agent::Agent;
use byrd_spec::error::{ErrorBody, ErrorCode};
use uuid::Uuid;

use crate::auth::AdminAuth;
use crate::error::ApiError;
use crate::extract::ApiPath;
use crate::operation::Operation;
use crate::state::AppState;

/// What the annotation below cannot say; see `crate::operation`.
pub const DEACTIVATE_OPERATION: Operation = Operation {
    id: "deactivateAgent",
    errors: &[
        ErrorCode::InvalidRequest,
        ErrorCode::TokenMissing,
        ErrorCode::TokenInvalid,
        ErrorCode::TokenExpired,
        ErrorCode::TokenRevoked,
        ErrorCode::Forbidden,
        ErrorCode::AgentNotFound,
        ErrorCode::CannotDeactivateSelf,
        ErrorCode::LastActiveAdmin,
        ErrorCode::Unavailable,
    ],
    behaviour: None,
};

/// Deactivate an agent (admins only).
///
/// The agent can no longer log in or use a token, their sockets close with
/// 4002 `token_revoked`, and the chats assigned to them go back to the
/// queue. Deactivating an inactive agent changes nothing.
#[utoipa::path(
    post,
    path = "/v1/agents/{agent_id}/deactivate",
    operation_id = DEACTIVATE_OPERATION.id,
    tag = "agents",
    params(("agent_id" = Uuid, Path, description = "The agent's id.")),
    security(("agent_token" = [])),
    responses(
        (status = 200, description = "The agent, now inactive.", body = Agent),
        (status = 400, description = "`invalid_request`", body = ErrorBody),
        (status = 401, description = "`token_missing`, `token_invalid`, `token_expired`, `token_revoked`.", body = ErrorBody),
        (status = 403, description = "`forbidden`: not an admin.", body = ErrorBody),
        (status = 404, description = "`agent_not_found`", body = ErrorBody),
        (status = 409, description = "`cannot_deactivate_self`: the caller's own id; `last_active_admin`: no active admin would remain.", body = ErrorBody),
        (status = 503, description = "`unavailable`: the server is overloaded or its database busy; nothing was changed; retry after `Retry-After`.", body = ErrorBody),
    )
)]
pub async fn deactivate_agent(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    ApiPath(agent_id): ApiPath<Uuid>,
) -> Result<Json<Agent>, ApiError> {
    let agent = state
        .store
        .deactivate_agent(agent_id, Some(admin.sub))
        .await?;
    tracing::info!(%agent_id, by = %admin.sub, "agent deactivated");
    Ok(Json(agent))
}

/// What the annotation below cannot say; see `crate::operation`.
pub const REACTIVATE_OPERATION: Operation = Operation {
    id: "reactivateAgent",
    errors: &[
        ErrorCode::InvalidRequest,
        ErrorCode::TokenMissing,
        ErrorCode::TokenInvalid,
        ErrorCode::TokenExpired,
        ErrorCode::TokenRevoked,
        ErrorCode::Forbidden,
        ErrorCode::AgentNotFound,
        ErrorCode::Unavailable,
    ],
    behaviour: None,
};

/// Reactivate an agent (admins only).
///
/// The agent may log in again; chats they had went to the queue and stay
/// there. Reactivating an active agent changes nothing.
#[utoipa::path(
    post,
    path = "/v1/agents/{agent_id}/reactivate",
    operation_id = REACTIVATE_OPERATION.id,
    tag = "agents",
    params(("agent_id" = Uuid, Path, description = "The agent's id.")),
    security(("agent_token" = [])),
    responses(
        (status = 200, description = "The agent, now active.", body = Agent),
        (status = 400, description = "`invalid_request`", body = ErrorBody),
        (status = 401, description = "`token_missing`, `token_invalid`, `token_expired`, `token_revoked`.", body = ErrorBody),
        (status = 403, description = "`forbidden`: not an admin.", body = ErrorBody),
        (status = 404, description = "`agent_not_found`", body = ErrorBody),
        (status = 503, description = "`unavailable`: the server is overloaded or its database busy; nothing was changed; retry after `Retry-After`.", body = ErrorBody),
    )
)]
pub async fn reactivate_agent(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    ApiPath(agent_id): ApiPath<Uuid>,
) -> Result<Json<Agent>, ApiError> {
    let agent = state.store.reactivate_agent(agent_id).await?;
    tracing::info!(%agent_id, by = %admin.sub, "agent reactivated");
    Ok(Json(agent))
}

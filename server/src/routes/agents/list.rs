//! `GET /v1/agents`: every agent, so that any agent can hand a chat on.

use axum::Json;
use axum::extract::State;
use byrd_spec::agent::AgentList;
use byrd_spec::error::{ErrorBody, ErrorCode};

use crate::auth::AgentAuth;
use crate::error::ApiError;
use crate::operation::Operation;
use crate::state::AppState;

/// What the annotation below cannot say; see `crate::operation`.
pub const OPERATION: Operation = Operation {
    id: "listAgents",
    errors: &[
        ErrorCode::TokenMissing,
        ErrorCode::TokenInvalid,
        ErrorCode::TokenExpired,
        ErrorCode::TokenRevoked,
        ErrorCode::Forbidden,
    ],
    behaviour: None,
};

/// List the support team, oldest first.
#[utoipa::path(
    get,
    path = "/v1/agents",
    operation_id = OPERATION.id,
    tag = "agents",
    security(("agent_token" = [])),
    responses(
        (status = 200, description = "All agents, oldest first.", body = AgentList),
        (status = 401, description = "`token_missing`, `token_invalid`, `token_expired`, `token_revoked`.", body = ErrorBody),
        (status = 403, description = "`forbidden`: a guest token.", body = ErrorBody),
    )
)]
pub async fn list_agents(
    State(state): State<AppState>,
    _agent: AgentAuth,
) -> Result<Json<AgentList>, ApiError> {
    let agents = state.store.list_agents().await?;
    Ok(Json(AgentList { agents }))
}

//! `GET /v1/me`: who the presented token says its bearer is.
//!
//! Answered from the claims alone, so a client can check a token (and the
//! chat a guest token opens) without another lookup.

use axum::Json;
use byrd_spec::claims::Claims;
use byrd_spec::error::ErrorCode;
use byrd_spec::me::{AgentMe, GuestMe, Me};
use chrono::DateTime;

use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::operation::Operation;

/// What the annotation below cannot say; see `crate::operation`.
pub const OPERATION: Operation = Operation {
    id: "getMe",
    errors: &[
        ErrorCode::TokenMissing,
        ErrorCode::TokenInvalid,
        ErrorCode::TokenExpired,
        ErrorCode::TokenRevoked,
    ],
    behaviour: None,
};

/// Tell who the presented token's bearer is.
///
/// Read from the token's claims alone: an agent's id, name and role, or a
/// guest's visitor id and chat.
#[utoipa::path(
    get,
    path = "/v1/me",
    operation_id = OPERATION.id,
    tag = "auth",
    security(("agent_token" = []), ("guest_token" = [])),
    responses(
        (status = 200, description = "The token's bearer.", body = Me),
        (status = 401, description = "`token_missing`, `token_invalid`, `token_expired`, `token_revoked`.", body = byrd_spec::error::ErrorBody),
    )
)]
pub async fn me(Authenticated(claims): Authenticated) -> Result<Json<Me>, ApiError> {
    let expires_at = |exp: i64| {
        DateTime::from_timestamp(exp, 0).ok_or_else(|| {
            ApiError::new(
                byrd_spec::error::ErrorCode::TokenInvalid,
                "The token's exp is out of range.",
            )
        })
    };
    let me = match claims {
        Claims::Agent(c) => Me::Agent(AgentMe {
            id: c.sub,
            name: c.name,
            role: c.role,
            token_expires_at: expires_at(c.exp)?,
        }),
        Claims::Guest(c) => Me::Guest(GuestMe {
            id: c.sub,
            chat_id: c.chat.id,
            token_expires_at: expires_at(c.exp)?,
        }),
    };
    Ok(Json(me))
}

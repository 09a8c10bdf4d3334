//! `POST /v1/ws/tickets`: a single-use ticket that opens the WebSocket in
//! place of the bearer's token (`GET /v1/ws?ticket=...`); see
//! `ws::ticket` for what a ticket is and why.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use byrd_spec::error::{ErrorBody, ErrorCode};
use byrd_spec::ticket::WsTicketResponse;

use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::operation::Operation;
use crate::state::AppState;
use crate::ws::ticket;

/// What the annotation below cannot say; see `crate::operation`.
pub const OPERATION: Operation = Operation {
    id: "createWsTicket",
    errors: &[
        ErrorCode::TokenMissing,
        ErrorCode::TokenInvalid,
        ErrorCode::TokenExpired,
        ErrorCode::TokenRevoked,
        ErrorCode::RateLimited,
        ErrorCode::Unavailable,
    ],
    behaviour: None,
};

/// Get a single-use ticket for the WebSocket.
///
/// Answers a ticket that opens `GET /v1/ws?ticket=...` once, within 30
/// seconds, as the presented token would: the socket lives by that
/// token's expiry and sees what it may see. Ask for a fresh ticket before
/// every connect and reconnect. A principal holds at most 20 unspent
/// tickets at once.
#[utoipa::path(
    post,
    path = "/v1/ws/tickets",
    operation_id = OPERATION.id,
    tag = "realtime",
    security(("agent_token" = []), ("guest_token" = [])),
    responses(
        (status = 201, description = "A ticket for one WebSocket handshake.", body = WsTicketResponse),
        (status = 401, description = "`token_missing`, `token_invalid`, `token_expired`, `token_revoked`.", body = ErrorBody),
        (status = 429, description = "`rate_limited`: this principal holds as many unspent tickets as it may; see `Retry-After`.", body = ErrorBody),
        (status = 503, description = "`unavailable`: the database is busy; nothing was changed; retry after `Retry-After`.", body = ErrorBody),
    )
)]
pub async fn create_ws_ticket(
    State(state): State<AppState>,
    Authenticated(claims): Authenticated,
) -> Result<(StatusCode, Json<WsTicketResponse>), ApiError> {
    let made = ticket::issue(&state, &claims).await?;
    Ok((StatusCode::CREATED, Json(made)))
}

//! `GET /v1/ws`: authenticate, check the origin, then upgrade.
//!
//! Every refusal happens before the upgrade, as a plain HTTP answer with
//! the JSON error body, so clients see why they were refused.

use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::http::HeaderMap;
use axum::http::header::ORIGIN;
use axum::response::Response;
use byrd_spec::error::{ErrorBody, ErrorCode};
use serde::Deserialize;
use utoipa::IntoParams;

use super::connection::{Connection, principal_of};
use crate::auth::{authenticate_token, bearer_token};
use crate::error::ApiError;
use crate::extract::{ApiQuery, ClientAddr};
use crate::state::AppState;

/// Bytes of frames gathered before they are written out, within one turn
/// of a connection's loop.
const WRITE_BURST_BYTES: usize = 16 * 1024;

/// `GET /v1/ws` query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WsQuery {
    /// An agent or guest JWT; alternatively send `Authorization: Bearer`.
    token: Option<String>,
    /// Guests only: replay their chat's messages with a greater `seq` at
    /// once, as a `subscribe` would. Without it the guest's chat is live
    /// from the moment of connecting.
    after_seq: Option<i64>,
}

/// The token from the query string, else from the `Authorization` header.
fn presented_token(query: &WsQuery, headers: &HeaderMap) -> Result<String, ApiError> {
    if let Some(token) = query.token.as_ref().filter(|t| !t.is_empty()) {
        return Ok(token.clone());
    }
    bearer_token(headers).map(str::to_owned)
}

fn check_origin(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let (Some(allowed), Some(origin)) = (&state.settings.ws.allowed_origins, headers.get(ORIGIN))
    else {
        return Ok(());
    };
    let origin = origin.to_str().unwrap_or_default();
    if allowed.iter().any(|a| a.eq_ignore_ascii_case(origin)) {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::Forbidden,
            "This Origin may not open a WebSocket here.",
        ))
    }
}

/// Open the live-chat WebSocket.
///
/// Not a REST operation: generators of REST clients skip it
/// (`x-byrd-websocket`). The frames, their order and recovery are in
/// `asyncapi.yaml` and `ws.schema.json`. Every refusal happens before the
/// upgrade, as an ordinary HTTP answer with the JSON error body.
#[utoipa::path(
    get,
    path = "/v1/ws",
    operation_id = "connectWebSocket",
    tag = "realtime",
    params(WsQuery),
    security(("agent_query_token" = []), ("guest_query_token" = []), ("agent_token" = []), ("guest_token" = [])),
    responses(
        (status = 101, description = "Switching to the WebSocket protocol; the frames are in spec/v1/asyncapi.yaml and ws.schema.json."),
        (status = 400, description = "`invalid_request`: not a WebSocket upgrade request, or an `after_seq` that is not an integer.", body = ErrorBody),
        (status = 401, description = "`token_missing`, `token_invalid`, `token_expired`, `token_revoked`.", body = ErrorBody),
        (status = 403, description = "`forbidden`: the `Origin` is not on the allow-list.", body = ErrorBody),
        (status = 429, description = "`limit_exceeded`: this principal or this address holds as many WebSockets as it may.", body = ErrorBody),
    )
)]
pub async fn upgrade(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<WsQuery>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    check_origin(&state, &headers)?;
    let token = presented_token(&query, &headers)?;
    let claims = authenticate_token(&state, &token).await?;
    let upgrade = upgrade
        .map_err(|rejection| ApiError::new(ErrorCode::InvalidRequest, rejection.body_text()))?;
    // Held by the connection for its whole life.
    let slot = state
        .socket_caps
        .acquire(principal_of(&claims).id, client)?;
    let ws = &state.settings.ws;
    Ok(upgrade
        // Small buffers keep idle connections cheap; tungstenite's defaults
        // (128 KiB read buffer) would cost gigabytes at 10,000 connections.
        // Chat frames are small; a larger one grows the buffer as needed.
        // The connection flushes what it wrote once per turn, so frames
        // written together share a system call up to this size; the
        // buffer is only as large as the largest burst so far.
        .read_buffer_size(256)
        .write_buffer_size(WRITE_BURST_BYTES)
        .max_write_buffer_size(WRITE_BURST_BYTES + ws.max_frame_bytes * 4)
        .max_message_size(ws.max_frame_bytes)
        .max_frame_size(ws.max_frame_bytes)
        .on_upgrade(move |socket| async move {
            Connection::run(state, socket, claims, query.after_seq).await;
            drop(slot);
        }))
}

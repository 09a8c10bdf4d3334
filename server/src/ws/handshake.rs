//! `GET /v1/ws`: authenticate, check the origin, then upgrade.
//!
//! Every refusal happens before the upgrade, as a plain HTTP answer with
//! the JSON error body, so clients see why they were refused.

use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::http::HeaderMap;
use axum::http::header::{HOST, ORIGIN};
use axum::response::Response;
use byrd_spec::error::{ErrorBody, ErrorCode};
use serde::Deserialize;
use utoipa::IntoParams;

use super::connection::Connection;
use super::session::principal_of;
use crate::auth::{authenticate_token, bearer_token};
use crate::error::ApiError;
use crate::extract::{ApiQuery, ClientAddr};
use crate::metrics::{Limit, handles};
use crate::operation::Operation;
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

/// An `Origin` passes when it is on the allow-list, or when it is this
/// server's own: the console it serves must not need listing. Without an
/// allow-list every origin passes.
fn check_origin(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let (Some(allowed), Some(origin)) = (&state.settings.ws.allowed_origins, headers.get(ORIGIN))
    else {
        return Ok(());
    };
    let origin = origin.to_str().unwrap_or_default();
    let host = headers
        .get(HOST)
        .and_then(|host| host.to_str().ok())
        .unwrap_or_default();
    if allowed.iter().any(|a| a.eq_ignore_ascii_case(origin)) || is_own_origin(origin, host) {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::Forbidden,
            "This Origin may not open a WebSocket here.",
        ))
    }
}

/// Whether `origin` (`http` or `https`, then `host[:port]`) names the
/// server the request reached, as its `Host` header says: a page this
/// server served. A port that is the scheme's default may be written or not.
/// Tokens never ride in cookies, so a forged `Host` gains a non-browser
/// client nothing it could not already send.
fn is_own_origin(origin: &str, host: &str) -> bool {
    let Some((scheme, authority)) = origin.split_once("://") else {
        return false;
    };
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "http" => ":80",
        "https" => ":443",
        _ => return false,
    };
    let bare = |authority: &str| -> String {
        let lower = authority.to_ascii_lowercase();
        match lower.strip_suffix(default_port) {
            Some(without) => without.to_owned(),
            None => lower,
        }
    };
    !host.is_empty() && !authority.contains(['/', '@']) && bare(authority) == bare(host)
}

/// What the annotation below cannot say; see `crate::operation`.
pub const OPERATION: Operation = Operation {
    id: "connectWebSocket",
    errors: &[
        ErrorCode::InvalidRequest,
        ErrorCode::TokenMissing,
        ErrorCode::TokenInvalid,
        ErrorCode::TokenExpired,
        ErrorCode::TokenRevoked,
        ErrorCode::Forbidden,
        ErrorCode::LimitExceeded,
    ],
    behaviour: None,
};

/// Open the live-chat WebSocket.
///
/// Not a REST operation: generators of REST clients skip it
/// (`x-byrd-websocket`). The frames, their order and recovery are in
/// `asyncapi.yaml` and `ws.schema.json`. Every refusal happens before the
/// upgrade, as an ordinary HTTP answer with the JSON error body.
#[utoipa::path(
    get,
    path = "/v1/ws",
    operation_id = OPERATION.id,
    tag = "realtime",
    params(WsQuery),
    security(("agent_query_token" = []), ("guest_query_token" = []), ("agent_token" = []), ("guest_token" = [])),
    responses(
        (status = 101, description = "Switching to the WebSocket protocol; the frames are in spec/v1/asyncapi.yaml and ws.schema.json."),
        (status = 400, description = "`invalid_request`: not a WebSocket upgrade request, or an `after_seq` that is not an integer.", body = ErrorBody),
        (status = 401, description = "`token_missing`, `token_invalid`, `token_expired`, `token_revoked`.", body = ErrorBody),
        (status = 403, description = "`forbidden`: the `Origin` is neither on the allow-list nor this server's own.", body = ErrorBody),
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
        .acquire(principal_of(&claims).id, client)
        .inspect_err(|_| handles().refused(Limit::WsConnect))?;
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

#[cfg(test)]
mod tests {
    use super::is_own_origin;

    #[test]
    fn an_origin_is_the_servers_own_when_it_names_the_host_it_reached() {
        assert!(is_own_origin("http://127.0.0.1:8080", "127.0.0.1:8080"));
        assert!(is_own_origin(
            "https://Chat.Example.com",
            "chat.example.com"
        ));
        assert!(is_own_origin(
            "https://chat.example.com:443",
            "chat.example.com"
        ));
        assert!(is_own_origin(
            "http://chat.example.com",
            "chat.example.com:80"
        ));
    }

    #[test]
    fn any_other_origin_is_not() {
        assert!(!is_own_origin("http://127.0.0.1:8081", "127.0.0.1:8080"));
        assert!(!is_own_origin(
            "https://chat.example.com",
            "chat.example.com:80"
        ));
        assert!(!is_own_origin(
            "https://evil.example.com",
            "chat.example.com"
        ));
        assert!(!is_own_origin("ftp://chat.example.com", "chat.example.com"));
        assert!(!is_own_origin("null", "chat.example.com"));
        assert!(!is_own_origin(
            "http://chat.example.com/path",
            "chat.example.com"
        ));
        assert!(!is_own_origin("http://", ""));
    }
}

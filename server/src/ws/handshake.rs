//! `GET /v1/ws`: authenticate, check the origin, then upgrade.
//!
//! A client is let in by a token (query or `Authorization`) or by a
//! single-use ticket (see `ticket`), never both. Every refusal happens
//! before the upgrade, as a plain HTTP answer with the JSON error body,
//! so clients see why they were refused.

use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, HOST, ORIGIN};
use axum::response::Response;
use byrd_spec::error::{ErrorBody, ErrorCode};
use serde::Deserialize;
use utoipa::IntoParams;

use super::connection::Connection;
use super::session::principal_of;
use super::ticket;
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
    /// Prefer `ticket`: a URL may be logged on its way.
    token: Option<String>,
    /// A single-use ticket from `POST /v1/ws/tickets`, in place of a token:
    /// the socket it opens lives by the token it was made from. Not with
    /// `token` or `Authorization`.
    ticket: Option<String>,
    /// Guests only: replay their chat's messages with a greater `seq` at
    /// once, as a `subscribe` would. Without it the guest's chat is live
    /// from the moment of connecting.
    after_seq: Option<i64>,
}

/// What the handshake presents to be let in.
#[derive(Debug)]
enum Credential {
    Token(String),
    Ticket(String),
}

/// The ticket, else the token from the query string, else from the
/// `Authorization` header. A ticket beside a token is refused rather than
/// one of them chosen.
fn presented(query: &WsQuery, headers: &HeaderMap) -> Result<Credential, ApiError> {
    let token = query.token.as_ref().filter(|t| !t.is_empty());
    if let Some(ticket) = &query.ticket {
        if token.is_some() || headers.contains_key(AUTHORIZATION) {
            return Err(ApiError::new(
                ErrorCode::InvalidRequest,
                "Present a ticket or a token, not both.",
            ));
        }
        return Ok(Credential::Ticket(ticket.clone()));
    }
    if let Some(token) = token {
        return Ok(Credential::Token(token.clone()));
    }
    bearer_token(headers).map(|token| Credential::Token(token.to_owned()))
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
        ErrorCode::TicketInvalid,
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
/// upgrade, as an ordinary HTTP answer with the JSON error body. Clients
/// should connect with a `ticket` from `POST /v1/ws/tickets` rather than a
/// `token`, which the URL would carry into logs for its whole life.
#[utoipa::path(
    get,
    path = "/v1/ws",
    operation_id = OPERATION.id,
    tag = "realtime",
    params(WsQuery),
    security(("agent_query_token" = []), ("guest_query_token" = []), ("agent_token" = []), ("guest_token" = [])),
    responses(
        (status = 101, description = "Switching to the WebSocket protocol; the frames are in spec/v1/asyncapi.yaml and ws.schema.json."),
        (status = 400, description = "`invalid_request`: not a WebSocket upgrade request, an `after_seq` that is not an integer, or a `ticket` beside a token.", body = ErrorBody),
        (status = 401, description = "`token_missing`, `token_invalid`, `token_expired`, `token_revoked` (also for the token a ticket was made from, revoked since); `ticket_invalid`: the ticket is unknown, spent, expired or malformed, one answer for all.", body = ErrorBody),
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
    let not_upgrade = |rejection: WebSocketUpgradeRejection| {
        ApiError::new(ErrorCode::InvalidRequest, rejection.body_text())
    };
    let credential = presented(&query, &headers)?;
    // Held until the answer: the connection's own task greets.
    let _turn = state
        .handshakes
        .enter(match &credential {
            Credential::Token(token) => Some(token),
            Credential::Ticket(_) => None,
        })
        .await;
    let (claims, upgrade) = match credential {
        Credential::Token(token) => {
            let claims = authenticate_token(&state, &token).await?;
            (claims, upgrade.map_err(not_upgrade)?)
        }
        // A ticket is spent only by a request that can upgrade.
        Credential::Ticket(presented) => {
            let upgrade = upgrade.map_err(not_upgrade)?;
            (ticket::redeem(&state, &presented).await?, upgrade)
        }
    };
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
        // The connection's own future, not one awaiting it: an outer
        // `async` block would keep a second copy of it (see
        // `Connection::run`).
        .on_upgrade(move |socket| Connection::run(state, socket, claims, query.after_seq, slot)))
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

//! `POST /v1/ws/tickets`: a single-use ticket that opens the WebSocket.
//!
//! A ticket stands in for a token in the WebSocket's query string, where
//! proxies and browsers log URLs: it lives seconds, opens one socket, and
//! the socket it opens lives by the token it was made from.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `POST /v1/ws/tickets` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct WsTicketResponse {
    /// Opens `GET /v1/ws?ticket=...` once, as the token it was made from
    /// would. Opaque: `byrd_wst_` and 43 base64url characters.
    pub ticket: String,
    /// Seconds until the ticket expires unused: 30, or less when the token
    /// it was made from expires sooner.
    pub expires_in: u64,
}

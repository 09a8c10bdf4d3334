//! Agent login, refresh and the token response.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::agent::Agent;

/// `POST /v1/auth/login` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct LoginRequest {
    /// The agent's email.
    pub email: String,
    /// The agent's password.
    pub password: String,
}

/// `POST /v1/auth/refresh` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct RefreshRequest {
    /// The opaque refresh token from the last login or refresh. Single use.
    pub refresh_token: String,
}

/// The kind of access token; always `Bearer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub enum TokenType {
    Bearer,
}

/// Answer to a login or refresh.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct TokenResponse {
    /// An agent JWT; send it as `Authorization: Bearer <token>`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: TokenType,
    /// Seconds until `access_token` expires.
    pub expires_in: u64,
    /// Opaque, single use: trade it at `POST /v1/auth/refresh` for a new pair.
    pub refresh_token: String,
    /// The agent logged in.
    pub agent: Agent,
}

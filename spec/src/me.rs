//! `GET /v1/me`: who a token says its bearer is.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::agent::Role;

/// The bearer of a token, read from the token's claims; `type` tells which.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Me {
    Agent(AgentMe),
    Guest(GuestMe),
}

/// The bearer of an agent token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct AgentMe {
    /// The agent id.
    pub id: Uuid,
    /// The agent's display name.
    pub name: String,
    /// What the agent may do.
    pub role: Role,
    /// When the presented token expires.
    pub token_expires_at: DateTime<Utc>,
}

/// The bearer of a guest token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct GuestMe {
    /// The visitor id.
    pub id: Uuid,
    /// The one chat the token opens.
    pub chat_id: Uuid,
    /// When the presented token expires.
    pub token_expires_at: DateTime<Utc>,
}

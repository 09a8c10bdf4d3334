//! `GET /v1/me`: who a token says its bearer is.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::agent::Role;

/// The bearer of a token, read from the token's claims.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Me {
    Agent {
        id: Uuid,
        name: String,
        role: Role,
        token_expires_at: DateTime<Utc>,
    },
    Guest {
        /// The visitor id.
        id: Uuid,
        chat_id: Uuid,
        token_expires_at: DateTime<Utc>,
    },
}

//! Agents: the support staff who answer chats.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// What an agent may do. Admins also manage agents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Agent,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Agent => "agent",
        }
    }
}

/// An agent as clients see it. Never carries the password hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[schema(example = json!({
    "id": "0193a5f2-6c1e-7d40-9a5e-3f1b2c4d5e6f",
    "email": "ada@example.com",
    "name": "Ada",
    "role": "admin",
    "created_at": "2026-01-01T12:00:00Z"
}))]
pub struct Agent {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
}

/// `POST /v1/agents` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[schema(example = json!({
    "email": "grace@example.com",
    "name": "Grace",
    "role": "agent",
    "password": "correct horse battery staple"
}))]
pub struct CreateAgentRequest {
    /// A valid email address, unique among agents (compared case-insensitively).
    pub email: String,
    /// Shown to guests; 1 to 100 characters.
    pub name: String,
    pub role: Role,
    /// 12 to 1024 characters.
    pub password: String,
}

/// `GET /v1/agents` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct AgentList {
    pub agents: Vec<Agent>,
}

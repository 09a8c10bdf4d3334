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
pub struct Agent {
    /// The agent's id: the `sub` of its tokens.
    pub id: Uuid,
    /// Unique among agents, compared without regard to case.
    pub email: String,
    /// Shown to guests.
    pub name: String,
    /// What the agent may do.
    pub role: Role,
    /// When the agent was added.
    pub created_at: DateTime<Utc>,
    /// Whether the agent may log in, be assigned chats and use tokens:
    /// `false` once an admin deactivated them.
    pub active: bool,
    /// When the agent was deactivated, or `null` while active.
    pub deactivated_at: Option<DateTime<Utc>>,
}

/// `POST /v1/agents` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct CreateAgentRequest {
    /// A valid email address, unique among agents (compared case-insensitively).
    pub email: String,
    /// Shown to guests; 1 to 100 characters once trimmed, on one line: no control
    /// characters or line separators (U+2028, U+2029), and no invisible format characters (Unicode category
    /// Cf: bidirectional overrides, isolates and marks, zero-width spaces,
    /// tags) but the zero-width joiner and non-joiner.
    pub name: String,
    /// What the agent may do.
    pub role: Role,
    /// 12 to 1024 characters.
    pub password: String,
}

/// `GET /v1/agents` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct AgentList {
    /// Every agent, oldest first.
    pub agents: Vec<Agent>,
}

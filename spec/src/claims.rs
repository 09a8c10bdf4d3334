//! JWT claims of agent and guest tokens.
//!
//! The `type` claim splits the two kinds, and each kind has its own closed
//! set of claims (RFC 8725, sections 3.11 and 3.12): an agent token must
//! carry `role` and may not carry `chat`, a guest token must carry `chat`
//! and may not carry `role`, and any other `type` is invalid. Unknown claims
//! are refused, so a token of one kind can never be read as the other.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::agent::Role;

/// The claims of any Byrd token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Claims {
    Agent(AgentClaims),
    Guest(GuestClaims),
}

/// Claims of an agent access token (`type: "agent"`).
///
/// A trusted backend holding `BYRD_JWT_SECRET` may mint these itself; `sub`
/// must then be the id of an agent that exists in Byrd.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentClaims {
    /// Issuer; must equal the server's configured issuer.
    pub iss: String,
    /// Audience; must equal the server's configured audience.
    pub aud: String,
    /// The agent's id.
    pub sub: Uuid,
    /// What the agent may do; admins also manage agents.
    pub role: Role,
    /// The agent's display name.
    pub name: String,
    /// Issued at, seconds since the Unix epoch.
    pub iat: i64,
    /// Expires at, seconds since the Unix epoch.
    pub exp: i64,
    /// Not before, seconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "i64")]
    pub nbf: Option<i64>,
    /// Unique token id; what a logout revokes.
    pub jti: String,
    /// The login session (refresh-token family) this token came from; a
    /// logout with this token also ends that session. Absent on tokens
    /// minted outside Byrd.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Uuid")]
    pub sid: Option<Uuid>,
}

/// Claims of a guest token (`type: "guest"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GuestClaims {
    /// Issuer; must equal the server's configured issuer.
    pub iss: String,
    /// Audience; must equal the server's configured audience.
    pub aud: String,
    /// The visitor's id.
    pub sub: Uuid,
    /// The one chat this token opens.
    pub chat: ChatClaim,
    /// Issued at, seconds since the Unix epoch.
    pub iat: i64,
    /// Expires at, seconds since the Unix epoch.
    pub exp: i64,
    /// Not before, seconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "i64")]
    pub nbf: Option<i64>,
    /// Unique token id, 1 to 128 bytes.
    pub jti: String,
}

/// The chat a guest token belongs to, carried in the token so the server
/// need not look it up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChatClaim {
    /// The chat's id.
    pub id: Uuid,
    /// When the chat was started.
    pub created_at: DateTime<Utc>,
}

impl Claims {
    pub fn jti(&self) -> &str {
        match self {
            Claims::Agent(c) => &c.jti,
            Claims::Guest(c) => &c.jti,
        }
    }

    pub fn exp(&self) -> i64 {
        match self {
            Claims::Agent(c) => c.exp,
            Claims::Guest(c) => c.exp,
        }
    }

    pub fn iat(&self) -> i64 {
        match self {
            Claims::Agent(c) => c.iat,
            Claims::Guest(c) => c.iat,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn agent_json() -> serde_json::Value {
        json!({
            "iss": "byrd", "aud": "byrd", "type": "agent",
            "sub": "0193a5f2-6c1e-7d40-9a5e-3f1b2c4d5e6f",
            "role": "admin", "name": "Ada", "iat": 1, "exp": 2, "jti": "j"
        })
    }

    #[test]
    fn agent_claims_parse() {
        let claims: Claims = serde_json::from_value(agent_json()).unwrap();
        assert!(matches!(claims, Claims::Agent(ref c) if c.role == Role::Admin));
    }

    #[test]
    fn agent_claims_with_chat_are_refused() {
        let mut v = agent_json();
        v["chat"] = json!({"id": "0193a5f2-6c1e-7d40-9a5e-3f1b2c4d5e6f", "created_at": "2026-01-01T00:00:00Z"});
        assert!(serde_json::from_value::<Claims>(v).is_err());
    }

    #[test]
    fn guest_type_with_agent_claims_is_refused() {
        let mut v = agent_json();
        v["type"] = json!("guest");
        assert!(serde_json::from_value::<Claims>(v).is_err());
    }

    #[test]
    fn unknown_type_is_refused() {
        let mut v = agent_json();
        v["type"] = json!("admin");
        assert!(serde_json::from_value::<Claims>(v).is_err());
    }
}

//! JWT claims of agent and guest tokens, and of the visitor identity
//! tokens a site's backend signs.
//!
//! The `type` claim splits the two kinds, and each kind has its own closed
//! set of claims (RFC 8725, sections 3.11 and 3.12): an agent token must
//! carry `role` and may not carry `chat`, a guest token must carry `chat`
//! and may not carry `role`, and any other `type` is invalid. Unknown claims
//! are refused, so a token of one kind can never be read as the other.
//! A visitor identity token has no `type` and claims of its own, closed
//! too, so it can be neither an agent's nor a guest's token.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
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

/// Claims of a visitor identity token: who a logged-in user of the site
/// is, signed by the site's backend with a trusted issuer's key and
/// presented when a chat starts. It lives at most 10 minutes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VisitorIdentityClaims {
    /// Issuer: the `iss` of a trusted issuer whose purposes include
    /// `visitor_identity`.
    pub iss: String,
    /// Audience: that issuer's configured audience.
    pub aud: String,
    /// The user's id on the site, exactly as the site has it: 1 to 255
    /// characters on one line, neither starting nor ending with
    /// whitespace (refused, not trimmed: `" 42"` and `"42"` would
    /// otherwise be one visitor).
    #[schemars(length(min = 1, max = 255))]
    pub sub: String,
    /// The user's name as agents see it, 1 to 100 characters on one line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String", length(min = 1, max = 100))]
    pub name: Option<String>,
    /// The user's email address, up to 254 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String", length(min = 3, max = 254))]
    pub email: Option<String>,
    /// Up to 20 more facts for agents (a plan, an account id): keys of 1
    /// to 40 ASCII letters, digits, `_`, `-` or `.`, each key once; values
    /// of 1 to 200 characters on one line once trimmed.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(schema_with = "identity_attributes_schema")]
    pub attributes: BTreeMap<String, String>,
    /// Issued at, seconds since the Unix epoch.
    pub iat: i64,
    /// Expires at, seconds since the Unix epoch; at most 10 minutes after
    /// `iat`.
    pub exp: i64,
    /// Not before, seconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "i64")]
    pub nbf: Option<i64>,
    /// Unique token id, 1 to 128 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String", length(min = 1, max = 128))]
    pub jti: Option<String>,
}

/// The longest user id (`sub`) an identity token may carry, in characters.
pub const MAX_IDENTITY_SUBJECT_CHARS: usize = 255;
/// The most attributes an identity token may carry.
pub const MAX_IDENTITY_ATTRIBUTES: usize = 20;
/// The longest attribute key, in characters.
pub const MAX_IDENTITY_ATTRIBUTE_KEY_CHARS: usize = 40;
/// The longest attribute value, in characters.
pub const MAX_IDENTITY_ATTRIBUTE_VALUE_CHARS: usize = 200;

fn identity_attributes_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "maxProperties": MAX_IDENTITY_ATTRIBUTES,
        "propertyNames": {"pattern": "^[A-Za-z0-9_.-]{1,40}$"},
        "additionalProperties": {
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_IDENTITY_ATTRIBUTE_VALUE_CHARS,
        },
    })
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

    fn identity_json() -> serde_json::Value {
        json!({
            "iss": "https://shop.example", "aud": "byrd", "sub": "user-42",
            "name": "Ada", "email": "ada@shop.example",
            "attributes": {"plan": "pro"}, "iat": 1, "exp": 2
        })
    }

    #[test]
    fn identity_claims_parse_and_are_closed() {
        let claims: VisitorIdentityClaims = serde_json::from_value(identity_json()).unwrap();
        assert_eq!(claims.sub, "user-42");
        assert_eq!(claims.attributes["plan"], "pro");
        let mut typed = identity_json();
        typed["type"] = json!("agent");
        assert!(serde_json::from_value::<VisitorIdentityClaims>(typed).is_err());
        // An identity is no agent or guest token: it has no `type`.
        assert!(serde_json::from_value::<Claims>(identity_json()).is_err());
    }

    #[test]
    fn unknown_type_is_refused() {
        let mut v = agent_json();
        v["type"] = json!("admin");
        assert!(serde_json::from_value::<Claims>(v).is_err());
    }
}

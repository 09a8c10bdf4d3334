//! The ways to present a token, for both `openapi.json` and
//! `asyncapi.yaml`.
//!
//! Agent and guest tokens are both bearer JWTs; `x-byrd-token-type` tells
//! a machine which kind an operation takes, since the two `http bearer`
//! schemes are otherwise alike. The query-string schemes exist for
//! `GET /v1/ws` alone: browsers cannot set headers on a WebSocket.

use serde_json::{Value, json};

/// One security scheme.
pub struct Scheme {
    pub name: &'static str,
    /// `agent` or `guest`: the token's `type` claim.
    pub token_type: &'static str,
    /// `Some(parameter)` for a token in the query string, `None` for an
    /// `Authorization: Bearer` header.
    pub query_parameter: Option<&'static str>,
    pub description: &'static str,
}

pub const AGENT_TOKEN: &str = "agent_token";
pub const GUEST_TOKEN: &str = "guest_token";
pub const AGENT_QUERY_TOKEN: &str = "agent_query_token";
pub const GUEST_QUERY_TOKEN: &str = "guest_query_token";

pub const SCHEMES: &[Scheme] = &[
    Scheme {
        name: AGENT_TOKEN,
        token_type: "agent",
        query_parameter: None,
        description: "An agent JWT (`type: \"agent\"`) from `POST /v1/auth/login`, `POST /v1/auth/refresh` or a trusted backend, as `Authorization: Bearer <token>`.",
    },
    Scheme {
        name: GUEST_TOKEN,
        token_type: "guest",
        query_parameter: None,
        description: "A guest JWT (`type: \"guest\"`) from `POST /v1/chats` or `POST /v1/chats/{chat_id}/token`, as `Authorization: Bearer <token>`; opens its own chat only.",
    },
    Scheme {
        name: AGENT_QUERY_TOKEN,
        token_type: "agent",
        query_parameter: Some("token"),
        description: "An agent JWT in the `token` query parameter; read by `GET /v1/ws` only.",
    },
    Scheme {
        name: GUEST_QUERY_TOKEN,
        token_type: "guest",
        query_parameter: Some("token"),
        description: "A guest JWT in the `token` query parameter; read by `GET /v1/ws` only.",
    },
];

impl Scheme {
    /// The scheme as an OpenAPI 3.1 Security Scheme Object.
    pub fn openapi(&self) -> Value {
        self.render("apiKey")
    }

    /// The scheme as an AsyncAPI 3.0 Security Scheme Object.
    pub fn asyncapi(&self) -> Value {
        self.render("httpApiKey")
    }

    /// The two documents differ only in the name of a query-string key's
    /// type.
    fn render(&self, api_key_type: &str) -> Value {
        let mut value = json!({
            "description": self.description,
            "x-byrd-token-type": self.token_type,
        });
        match self.query_parameter {
            Some(name) => {
                value["type"] = api_key_type.into();
                value["in"] = "query".into();
                value["name"] = name.into();
            }
            None => {
                value["type"] = "http".into();
                value["scheme"] = "bearer".into();
                value["bearerFormat"] = "JWT".into();
            }
        }
        value
    }
}

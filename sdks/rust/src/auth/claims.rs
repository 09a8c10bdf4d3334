//! What the SDK reads from a token it holds: its kind, its expiry, its
//! chat. The claims are decoded, not verified: only the server can verify
//! a token, and the SDK uses these facts to schedule refreshes and to
//! refuse calls a token cannot make, never to grant anything.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

use crate::operations::TokenKind;
use crate::types::Claims;

/// The facts of one token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TokenFacts {
    pub kind: TokenKind,
    /// `iat` and `exp`, seconds since the Unix epoch.
    pub issued_at: i64,
    pub expires_at: i64,
    /// The chat of a guest token.
    pub chat_id: Option<Uuid>,
}

/// Reads the claims of a compact JWT, as `claims.schema.json` defines them.
pub(crate) fn token_facts(token: &str) -> Result<TokenFacts, String> {
    let payload = token
        .split('.')
        .nth(1)
        .ok_or("not a JWT: it has no payload part")?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| "not a JWT: the payload is not base64url")?;
    let claims: Claims =
        serde_json::from_slice(&bytes).map_err(|error| format!("not a Byrd token: {error}"))?;
    Ok(match claims {
        Claims::Agent(agent) => TokenFacts {
            kind: TokenKind::Agent,
            issued_at: agent.iat,
            expires_at: agent.exp,
            chat_id: None,
        },
        Claims::Guest(guest) => TokenFacts {
            kind: TokenKind::Guest,
            issued_at: guest.iat,
            expires_at: guest.exp,
            chat_id: Some(guest.chat.id),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: serde_json::Value) -> String {
        let part = |value: &serde_json::Value| URL_SAFE_NO_PAD.encode(value.to_string());
        format!(
            "{}.{}.c2ln",
            part(&serde_json::json!({"alg": "HS256"})),
            part(&claims)
        )
    }

    #[test]
    fn a_guest_token_names_its_chat_and_expiry() {
        let chat = Uuid::new_v4();
        let token = jwt(serde_json::json!({
            "type": "guest", "iss": "byrd", "aud": "byrd", "sub": Uuid::new_v4(),
            "chat": {"id": chat, "created_at": "2026-01-01T12:00:00Z"},
            "iat": 100, "exp": 200, "jti": "j"
        }));
        let facts = token_facts(&token).unwrap();
        assert_eq!(facts.kind, TokenKind::Guest);
        assert_eq!((facts.issued_at, facts.expires_at), (100, 200));
        assert_eq!(facts.chat_id, Some(chat));
    }

    #[test]
    fn anything_else_is_refused() {
        assert!(token_facts("opaque").is_err());
        assert!(token_facts("a.!!!.c").is_err());
        assert!(token_facts(&jwt(serde_json::json!({"type": "robot"}))).is_err());
    }
}

//! The catalogue of token attacks that apply to HS256 with a `kid`,
//! after jwt_tool's playbook and the PortSwigger JWT labs: each attack
//! turns valid tokens into the forgeries a hostile client would try, and
//! says which error code the spec's check order gives each one.
//!
//! Attacks that change only the signature or header work from the
//! server's own tokens. Attacks on the claims need the server's key, so
//! that each forgery is wrong for the one thing it changes.
//!
//! This module holds the catalogue and the types it speaks in; the
//! forgeries are made in [`issued`] (from the server's own tokens) and
//! [`keyed`] (signed with the server's key).

mod issued;
mod keyed;

use serde_json::Value;

use crate::context::Minter;

/// Which socket a forgery pretends to belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Agent,
    Guest,
}

/// How a forgery is presented.
#[derive(Debug, Clone)]
pub enum Presented {
    /// A token, wherever the presentation puts it.
    Token(String),
    /// An `Authorization` header value exactly as given.
    Authorization(String),
}

/// One forged token and the code the spec gives it.
#[derive(Debug, Clone)]
pub struct Forged {
    pub label: String,
    pub kind: Kind,
    pub presented: Presented,
    pub code: &'static str,
}

fn forged(label: impl Into<String>, kind: Kind, token: String, code: &'static str) -> Forged {
    Forged {
        label: label.into(),
        kind,
        presented: Presented::Token(token),
        code,
    }
}

/// The valid tokens attacks start from.
pub struct Bases {
    /// An agent (role `agent`) token the server issued at login.
    pub agent_token: String,
    /// That agent's refresh token (presented, never spent).
    pub refresh_token: String,
    /// A guest token the server issued at chat start.
    pub guest_token: String,
    /// Valid claims for the same agent and chat, for signing with the key.
    pub agent_claims: Value,
    pub guest_claims: Value,
}

impl Bases {
    fn issued(&self) -> [(Kind, &str); 2] {
        [
            (Kind::Agent, self.agent_token.as_str()),
            (Kind::Guest, self.guest_token.as_str()),
        ]
    }

    fn claims(&self) -> [(Kind, &Value); 2] {
        [
            (Kind::Agent, &self.agent_claims),
            (Kind::Guest, &self.guest_claims),
        ]
    }
}

/// What an attack needs to make its forgeries.
pub enum Forge {
    /// Only the server's own tokens.
    Issued(fn(&Bases) -> Vec<Forged>),
    /// The server's key as well (`jwt_secret`).
    Keyed(fn(&Bases, &Minter<'_>) -> Vec<Forged>),
}

pub struct Attack {
    pub slug: &'static str,
    /// Anchor of the section of `spec/v1/README.md` it checks.
    pub section: &'static str,
    pub expectation: &'static str,
    /// Only meaningful as an `Authorization` header.
    pub header_only: bool,
    pub forge: Forge,
}
pub fn catalogue() -> Vec<Attack> {
    vec![
        Attack {
            slug: "alg-none",
            section: "token-format",
            expectation: "`alg: none` in every spelling, signed or not, is refused with 401 token_invalid",
            header_only: false,
            forge: Forge::Issued(issued::alg_none),
        },
        Attack {
            slug: "null-signature",
            section: "token-format",
            expectation: "a token with an empty or all-zero signature is refused with 401 token_invalid",
            header_only: false,
            forge: Forge::Issued(issued::null_signature),
        },
        Attack {
            slug: "tampered-signature",
            section: "token-format",
            expectation: "a truncated or bit-flipped signature is refused with 401 token_invalid",
            header_only: false,
            forge: Forge::Issued(issued::tampered_signature),
        },
        Attack {
            slug: "guessed-key",
            section: "token-format",
            expectation: "tokens signed with a blank or common secret are refused with 401 token_invalid",
            header_only: false,
            forge: Forge::Issued(issued::guessed_key),
        },
        Attack {
            slug: "kid-path-traversal",
            section: "token-format",
            expectation: "a `kid` naming a file (`../../dev/null`), signed with its empty contents, is refused with 401 token_invalid",
            header_only: false,
            forge: Forge::Issued(issued::kid_path_traversal),
        },
        Attack {
            slug: "kid-injection",
            section: "token-format",
            expectation: "a `kid` carrying SQL or shell injection, signed with the key it would select, is refused with 401 token_invalid",
            header_only: false,
            forge: Forge::Issued(issued::kid_injection),
        },
        Attack {
            slug: "key-url-headers",
            section: "token-format",
            expectation: "`jku` and `x5u` headers pointing at an attacker's keys are not followed: the token is refused with 401 token_invalid",
            header_only: false,
            forge: Forge::Issued(issued::key_url_headers),
        },
        Attack {
            slug: "embedded-jwk",
            section: "token-format",
            expectation: "a `jwk` header embedding the attacker's key is ignored: the token is refused with 401 token_invalid",
            header_only: false,
            forge: Forge::Issued(issued::embedded_jwk),
        },
        Attack {
            slug: "tampered-claims",
            section: "token-format",
            expectation: "claims changed without re-signing (role, sub, type, chat, exp) are refused with 401 token_invalid",
            header_only: false,
            forge: Forge::Issued(issued::tampered_claims),
        },
        Attack {
            slug: "garbage",
            section: "token-format",
            expectation: "malformed tokens (not three base64url parts of JSON, over 8 KiB) are refused with 401 token_invalid",
            header_only: false,
            forge: Forge::Issued(issued::garbage),
        },
        Attack {
            slug: "refresh-token-as-access",
            section: "agents-login-refresh-logout",
            expectation: "a refresh token presented where an access token belongs is refused with 401 token_invalid",
            header_only: false,
            forge: Forge::Issued(issued::refresh_as_access),
        },
        Attack {
            slug: "authorization-format",
            section: "token-format",
            expectation: "an `Authorization` header that is not `Bearer <token>` is refused with 401 token_invalid",
            header_only: true,
            forge: Forge::Issued(issued::authorization_format),
        },
        Attack {
            slug: "other-algorithms",
            section: "token-format",
            expectation: "HS384, HS512 and asymmetric `alg` headers, even over the server's own key, are refused with 401 token_invalid",
            header_only: false,
            forge: Forge::Keyed(keyed::other_algorithms),
        },
        Attack {
            slug: "kid-mismatch",
            section: "token-format",
            expectation: "a token signed with the server's key but with a missing, empty, unknown or mis-typed `kid` is refused with 401 token_invalid",
            header_only: false,
            forge: Forge::Keyed(keyed::kid_mismatch),
        },
        Attack {
            slug: "claim-types",
            section: "token-claims",
            expectation: "every claim set in turn to null, true, 0 or a stray string (where that is not a valid value) is refused with 401 token_invalid, or token_expired for exp: 0",
            header_only: false,
            forge: Forge::Keyed(keyed::claim_types),
        },
        Attack {
            slug: "missing-claims",
            section: "token-claims",
            expectation: "a token without one of its required claims is refused with 401 token_invalid",
            header_only: false,
            forge: Forge::Keyed(keyed::missing_claims),
        },
        Attack {
            slug: "wrong-issuer",
            section: "token-format",
            expectation: "a token for another `iss` is refused with 401 token_invalid",
            header_only: false,
            forge: Forge::Keyed(keyed::wrong_issuer),
        },
        Attack {
            slug: "wrong-audience",
            section: "token-format",
            expectation: "a token for another `aud` is refused with 401 token_invalid",
            header_only: false,
            forge: Forge::Keyed(keyed::wrong_audience),
        },
        Attack {
            slug: "expired",
            section: "token-format",
            expectation: "a token past `exp` (beyond the 30 s leeway) is refused with 401 token_expired",
            header_only: false,
            forge: Forge::Keyed(keyed::expired),
        },
        Attack {
            slug: "not-yet-valid",
            section: "token-format",
            expectation: "a token whose `nbf` or `iat` is in the future (beyond the leeway) is refused with 401 token_invalid",
            header_only: false,
            forge: Forge::Keyed(keyed::not_yet_valid),
        },
        Attack {
            slug: "lifetime-cap",
            section: "minting-agent-tokens-from-your-own-backend",
            expectation: "a token valid for more than 24 hours is refused with 401 token_invalid",
            header_only: false,
            forge: Forge::Keyed(keyed::lifetime_cap),
        },
        Attack {
            slug: "empty-jti",
            section: "token-claims",
            expectation: "a token with an empty `jti` is refused with 401 token_invalid",
            header_only: false,
            forge: Forge::Keyed(keyed::empty_jti),
        },
        Attack {
            slug: "crossed-claims",
            section: "agent-or-guest-the-exclusion-rules",
            expectation: "agent and guest claims are exclusive: a token mixing them, relabelled, or of another `type` is refused with 401 token_invalid",
            header_only: false,
            forge: Forge::Keyed(keyed::crossed_claims),
        },
        Attack {
            slug: "unknown-claims",
            section: "agent-or-guest-the-exclusion-rules",
            expectation: "a token with a claim its `type` does not list is refused with 401 token_invalid",
            header_only: false,
            forge: Forge::Keyed(keyed::unknown_claims),
        },
        Attack {
            slug: "oversized",
            section: "token-format",
            expectation: "a correctly signed token over 8 KiB is refused with 401 token_invalid",
            header_only: false,
            forge: Forge::Keyed(keyed::oversized),
        },
    ]
}

fn label_of(kind: Kind) -> &'static str {
    match kind {
        Kind::Agent => "agent",
        Kind::Guest => "guest",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_unique_and_lowercase() {
        let attacks = catalogue();
        let mut slugs: Vec<&str> = attacks.iter().map(|attack| attack.slug).collect();
        assert!(
            slugs
                .iter()
                .all(|slug| slug.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
        );
        slugs.sort_unstable();
        slugs.dedup();
        assert_eq!(slugs.len(), attacks.len());
    }
}

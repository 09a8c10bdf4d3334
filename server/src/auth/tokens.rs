//! Issuing and verifying Byrd JWTs.
//!
//! Tokens are signed by the keyring's current key (see `keyring`) and
//! carry its `kid`. Verification finds the key by `kid`, pins the
//! algorithm to that key's own before looking at the signature (an HS256
//! token under an Ed25519 key's `kid` is refused, whatever its signature),
//! requires every claim the server relies on, checks `iss`, `aud`, `exp`,
//! `nbf` and `iat` with a small leeway, and then lets the closed claim
//! types of `byrd_spec::claims` refuse anything that is neither a
//! well-formed agent nor guest token.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use byrd_spec::agent::Agent;
use byrd_spec::chat::Chat;
use byrd_spec::claims::{AgentClaims, ChatClaim, Claims, GuestClaims};
use byrd_spec::error::ErrorCode;
use jsonwebtoken::Validation;
use jsonwebtoken::errors::ErrorKind;
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use super::keyring::{JwkSet, Keyring, KeyringHandle, jwt_algorithm};
use crate::configuration::{JwtSettings, MIN_JWT_SECRET_BYTES};
use crate::error::ApiError;
use crate::store::KeyAlgorithm;

/// Why a token was refused. The reason is for logs only; clients see the
/// code (`token_invalid` or `token_expired`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("token is invalid: {0}")]
    Invalid(&'static str),
    #[error("token has expired")]
    Expired,
}

// Here rather than in `error`, which stays below `auth`.
impl From<TokenError> for ApiError {
    fn from(error: TokenError) -> Self {
        match error {
            TokenError::Expired => ApiError::new(ErrorCode::TokenExpired, "The token has expired."),
            // The reason stays in the logs: telling an attacker which check
            // failed helps them, not the integrator.
            TokenError::Invalid(reason) => {
                tracing::debug!(reason, "token refused");
                ApiError::new(ErrorCode::TokenInvalid, "The token is not valid.")
            }
        }
    }
}

/// A freshly signed token with the claims inside it.
#[derive(Debug, Clone)]
pub struct IssuedToken<C> {
    pub token: String,
    pub claims: C,
    /// Seconds from now until the token expires.
    pub expires_in: u64,
}

/// Longest token the server will try to parse; real ones are under 1 KiB.
const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// The keys tokens are signed and verified with, and the rules tokens are
/// checked against.
pub struct TokenKeys {
    keyring: Arc<KeyringHandle>,
    /// One per algorithm, each allowing that algorithm alone.
    validations: [(KeyAlgorithm, Validation); 3],
    issuer: String,
    audience: String,
    agent_ttl: Duration,
    guest_ttl: Duration,
    leeway: Duration,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys")
            .field("kids", &self.keyring.current().kids().collect::<Vec<_>>())
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

impl TokenKeys {
    /// Builds the keys from the HS256 secret exactly as configured: the
    /// `hs256` deployment, whose keyring is the secret alone.
    pub fn new(secret: &SecretString, settings: &JwtSettings) -> anyhow::Result<Self> {
        check_secret(secret)?;
        let keyring = Keyring::shared_secret(&settings.kid, secret.expose_secret().as_bytes());
        Ok(TokenKeys::with_keyring(
            Arc::new(KeyringHandle::new(keyring)),
            settings,
        ))
    }

    /// Keys that sign and verify with whatever `keyring` holds when asked.
    pub fn with_keyring(keyring: Arc<KeyringHandle>, settings: &JwtSettings) -> Self {
        let validation = |alg: KeyAlgorithm| {
            let mut validation = Validation::new(jwt_algorithm(alg));
            validation.leeway = settings.leeway.as_secs();
            validation.validate_exp = true;
            validation.validate_nbf = true;
            validation.validate_aud = true;
            validation.set_issuer(&[&settings.issuer]);
            validation.set_audience(&[&settings.audience]);
            validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
            (alg, validation)
        };
        TokenKeys {
            keyring,
            validations: [
                validation(KeyAlgorithm::EdDsa),
                validation(KeyAlgorithm::Es256),
                validation(KeyAlgorithm::Hs256),
            ],
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
            agent_ttl: settings.agent_token_ttl.get(),
            guest_ttl: settings.guest_token_ttl,
            leeway: settings.leeway.get(),
        }
    }

    /// The keyring this node signs and verifies with.
    pub fn keyring(&self) -> &Arc<KeyringHandle> {
        &self.keyring
    }

    /// The public keys that verify now: empty for `hs256`.
    pub fn jwks(&self) -> JwkSet {
        self.keyring.current().jwks(chrono::Utc::now())
    }

    pub fn agent_token_ttl(&self) -> Duration {
        self.agent_ttl
    }

    /// Signs an access token for `agent`, tied to login session `session`.
    pub fn issue_agent_token(
        &self,
        agent: &Agent,
        session: Option<Uuid>,
    ) -> anyhow::Result<IssuedToken<AgentClaims>> {
        let (iat, exp) = self.lifetime(self.agent_ttl);
        let claims = AgentClaims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: agent.id,
            role: agent.role,
            name: agent.name.clone(),
            iat,
            exp,
            nbf: None,
            jti: Uuid::new_v4().to_string(),
            sid: session,
        };
        self.sign(Claims::Agent(claims.clone()), claims, self.agent_ttl)
    }

    /// Signs a guest token that opens `chat` and nothing else.
    pub fn issue_guest_token(&self, chat: &Chat) -> anyhow::Result<IssuedToken<GuestClaims>> {
        let (iat, exp) = self.lifetime(self.guest_ttl);
        let claims = GuestClaims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: chat.visitor.id,
            chat: ChatClaim {
                id: chat.id,
                created_at: chat.created_at,
            },
            iat,
            exp,
            nbf: None,
            jti: Uuid::new_v4().to_string(),
        };
        self.sign(Claims::Guest(claims.clone()), claims, self.guest_ttl)
    }

    fn lifetime(&self, ttl: Duration) -> (i64, i64) {
        let iat = chrono::Utc::now().timestamp();
        (iat, iat + ttl.as_secs() as i64)
    }

    fn sign<C>(&self, all: Claims, claims: C, ttl: Duration) -> anyhow::Result<IssuedToken<C>> {
        let keyring = self.keyring.current();
        let key = keyring
            .signer(chrono::Utc::now())
            .context("the keyring has no key that signs now")?;
        let encoding = key
            .encoding
            .as_ref()
            .context("the signing key is not loaded")?;
        let token =
            jsonwebtoken::encode(&key.header, &all, encoding).context("cannot sign a token")?;
        Ok(IssuedToken {
            token,
            claims,
            expires_in: ttl.as_secs(),
        })
    }

    /// Checks a token's header, signature and claims.
    ///
    /// Never panics, whatever the input; a revoked `jti` is the caller's
    /// concern, since revocation lives in the store.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        if token.is_empty() || token.len() > MAX_TOKEN_BYTES {
            return Err(TokenError::Invalid("empty or oversized token"));
        }
        // An `alg` outside jsonwebtoken's list, `none` in any spelling
        // among them, fails to parse here.
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| TokenError::Invalid("malformed header"))?;
        let Some(kid) = header.kid.as_deref() else {
            return Err(TokenError::Invalid("unknown kid"));
        };
        let keyring = self.keyring.current();
        let (alg, key) = match keyring.verifier(kid, chrono::Utc::now()) {
            Ok(found) => found,
            Err(known) => {
                if !known {
                    self.keyring.saw_unknown_kid();
                }
                return Err(TokenError::Invalid("unknown or retired kid"));
            }
        };
        // The key's algorithm, not the token's, decides how it is checked.
        if header.alg != jwt_algorithm(alg) {
            return Err(TokenError::Invalid("algorithm not allowed"));
        }
        let validation = self
            .validations
            .iter()
            .find_map(|(each, validation)| (*each == alg).then_some(validation))
            .ok_or(TokenError::Invalid("algorithm not allowed"))?;
        let data =
            jsonwebtoken::decode::<Claims>(token, &key.decoding, validation).map_err(|error| {
                match error.kind() {
                    ErrorKind::ExpiredSignature => TokenError::Expired,
                    ErrorKind::InvalidSignature => TokenError::Invalid("bad signature"),
                    ErrorKind::ImmatureSignature => TokenError::Invalid("not valid yet"),
                    ErrorKind::InvalidIssuer => TokenError::Invalid("wrong issuer"),
                    ErrorKind::InvalidAudience => TokenError::Invalid("wrong audience"),
                    ErrorKind::MissingRequiredClaim(_) => TokenError::Invalid("missing claim"),
                    ErrorKind::InvalidClaimFormat(_) => TokenError::Invalid("wrongly typed claim"),
                    ErrorKind::Json(_) => {
                        TokenError::Invalid("claims break the rules of their type")
                    }
                    _ => TokenError::Invalid("malformed token"),
                }
            })?;
        let claims = data.claims;
        let (iat, issuer, audience) = match &claims {
            Claims::Agent(c) => (c.iat, &c.iss, &c.aud),
            Claims::Guest(c) => (c.iat, &c.iss, &c.aud),
        };
        // jsonwebtoken checks these too; checking the typed values again
        // keeps the guarantee independent of its validation details.
        if issuer != &self.issuer || audience != &self.audience {
            return Err(TokenError::Invalid("wrong issuer or audience"));
        }
        let now = chrono::Utc::now().timestamp();
        if iat > now + self.leeway.as_secs() as i64 {
            return Err(TokenError::Invalid("issued in the future"));
        }
        // A token valid for longer than Byrd issues its kind was not
        // minted with care; refusing it bounds the damage of a leaked one.
        // Agent tokens minted by a backend get the agent lifetime too.
        let lifetime = match &claims {
            Claims::Agent(_) => self.agent_ttl,
            Claims::Guest(_) => self.guest_ttl,
        };
        let longest = lifetime + self.leeway;
        if claims.exp() > now + longest.as_secs() as i64 {
            return Err(TokenError::Invalid("lifetime too long"));
        }
        // Logout revokes by `jti`: an empty or shared one would revoke others.
        if claims.jti().is_empty() || claims.jti().len() > 128 {
            return Err(TokenError::Invalid("jti must be 1 to 128 characters"));
        }
        Ok(claims)
    }
}

/// Refuses a shared secret too short to sign with.
pub fn check_secret(secret: &SecretString) -> anyhow::Result<()> {
    let bytes = secret.expose_secret().as_bytes();
    anyhow::ensure!(
        bytes.len() >= MIN_JWT_SECRET_BYTES,
        "BYRD_JWT_SECRET must be at least {MIN_JWT_SECRET_BYTES} bytes (it is {})",
        bytes.len()
    );
    Ok(())
}

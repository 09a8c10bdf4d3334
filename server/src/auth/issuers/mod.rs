//! Trusted issuers: backends that mint agent tokens and visitor identity
//! tokens with keys of their own, which Byrd verifies but never holds the
//! private half of.
//!
//! The operator lists them in a TOML file (`--trusted-issuers-file`,
//! parsed by `config`); each has an `iss`, an audience, the algorithms it
//! signs with, what its tokens may be used for, and its public keys, from
//! a file (`keys`) or a JWKS URL (`jwks`). A presented token is routed by
//! its unverified `iss`: one naming a trusted issuer is verified by that
//! issuer's rules and keys alone (`verify`), anything else by Byrd's own
//! keys. Routing by a claim the signature has not yet covered is safe
//! because the claim only picks which keys must have signed it; the
//! verified `iss` must then equal it.

mod config;
mod identity;
mod jwks;
mod keys;
mod spki;
mod verify;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use byrd_spec::claims::{AgentClaims, Claims, VisitorIdentityClaims};
use serde::Deserialize;

pub use config::{ConfigError, Problem};
pub use identity::IdentityError;
pub use jwks::JWKS_FETCHES;
pub use verify::IssuerTokenError;

use config::{IssuerConfig, KeySource};
use jwks::JwksCache;
use verify::{Issuer, IssuerKeys, MAX_TOKEN_BYTES, Rules, TimedClaims};

use crate::domain::VerifiedIdentity;

/// The longest a visitor identity token may live: it is minted for one
/// page view's chat start, not kept.
pub const IDENTITY_TOKEN_LIFETIME: Duration = Duration::from_secs(10 * 60);

/// What the trusted issuers take from Byrd's own token settings.
#[derive(Debug, Clone)]
pub struct OwnTokens {
    /// Byrd's own `iss`, which no trusted issuer may take.
    pub issuer: String,
    /// The longest an agent token may live, Byrd's or a backend's.
    pub agent_token_ttl: Duration,
    /// Clock skew allowed on `exp`, `nbf` and `iat`.
    pub leeway: Duration,
}

/// Every trusted issuer, by `iss`; fixed at start-up.
pub struct TrustedIssuers {
    by_iss: HashMap<String, Issuer>,
    own: OwnTokens,
}

impl std::fmt::Debug for TrustedIssuers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustedIssuers")
            .field("issuers", &self.by_iss.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl TrustedIssuers {
    /// No trusted issuer: every token is Byrd's own.
    pub fn none(own: OwnTokens) -> Self {
        TrustedIssuers {
            by_iss: HashMap::new(),
            own,
        }
    }

    /// The issuers of the file at `path`, if any.
    pub fn load(path: Option<&Path>, own: OwnTokens) -> Result<Self, ConfigError> {
        let Some(path) = path else {
            return Ok(TrustedIssuers::none(own));
        };
        let configs = config::load(path, &own.issuer)?;
        Ok(TrustedIssuers::from_configs(configs, own))
    }

    /// The issuers of a file's `text`, its relative paths taken from `base`.
    pub fn parse(text: &str, base: &Path, own: OwnTokens) -> Result<Self, ConfigError> {
        let configs = config::parse(text, base, &own.issuer)?;
        Ok(TrustedIssuers::from_configs(configs, own))
    }

    fn from_configs(configs: Vec<IssuerConfig>, own: OwnTokens) -> Self {
        let by_iss = configs
            .into_iter()
            .map(|config| {
                let keys = match config.keys {
                    KeySource::Fixed(keys) => IssuerKeys::Fixed(keys),
                    KeySource::Jwks(source) => IssuerKeys::Jwks(Arc::new(JwksCache::new(
                        config.iss.clone(),
                        source,
                        config.algorithms.clone(),
                    ))),
                };
                let issuer = Issuer {
                    iss: config.iss.clone(),
                    audience: config.audience,
                    algorithms: config.algorithms,
                    purposes: config.purposes,
                    keys,
                };
                (config.iss, issuer)
            })
            .collect();
        TrustedIssuers { by_iss, own }
    }

    /// How many issuers there are.
    pub fn len(&self) -> usize {
        self.by_iss.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_iss.is_empty()
    }

    /// Starts fetching every JWKS, so the first token need not wait for
    /// it. Needs a Tokio runtime.
    pub fn prefetch(&self) {
        for issuer in self.by_iss.values() {
            if let IssuerKeys::Jwks(cache) = &issuer.keys {
                let cache = cache.clone();
                tokio::spawn(async move { cache.refresh_if_due().await });
            }
        }
    }

    /// Whether `token` claims to come from a trusted issuer. Its claims
    /// are read unverified, only to choose the keys that must have signed
    /// it; with no trusted issuer nothing is read.
    pub fn names_issuer_of(&self, token: &str) -> bool {
        !self.by_iss.is_empty() && self.issuer_named_by(token).is_some()
    }

    fn issuer_named_by(&self, token: &str) -> Option<&Issuer> {
        #[derive(Deserialize)]
        struct Unverified {
            iss: Option<String>,
        }
        if token.len() > MAX_TOKEN_BYTES {
            return None;
        }
        let payload = token.split('.').nth(1)?;
        let json = URL_SAFE_NO_PAD.decode(payload).ok()?;
        let claims: Unverified = serde_json::from_slice(&json).ok()?;
        self.by_iss.get(&claims.iss?)
    }

    /// Verifies an agent token a trusted backend minted. Whether the agent
    /// it names exists is the caller's to check, in the store.
    pub async fn verify_agent(&self, token: &str) -> Result<AgentClaims, IssuerTokenError> {
        use IssuerTokenError::Invalid;
        let issuer = self
            .issuer_named_by(token)
            .ok_or(Invalid("not a trusted issuer's token"))?;
        if !issuer.purposes.agent_tokens {
            return Err(Invalid("the issuer may not mint agent tokens"));
        }
        let rules = Rules {
            leeway: self.own.leeway,
            max_lifetime: self.own.agent_token_ttl,
        };
        let claims = match issuer.verify::<Claims>(token, rules).await? {
            Claims::Agent(claims) => claims,
            Claims::Guest(_) => return Err(Invalid("a backend may not mint guest tokens")),
        };
        // Logout revokes by `jti`: an empty or shared one would revoke others.
        if claims.jti.is_empty() || claims.jti.len() > 128 {
            return Err(Invalid("jti must be 1 to 128 characters"));
        }
        // A session is Byrd's own: a backend's token cannot end one.
        if claims.sid.is_some() {
            return Err(Invalid("sid is for Byrd's own tokens"));
        }
        Ok(claims)
    }

    /// Verifies a visitor identity token: a trusted issuer with the
    /// `visitor_identity` purpose signed it, for its audience, less than
    /// 10 minutes before it expires.
    pub async fn verify_identity(&self, token: &str) -> Result<VerifiedIdentity, IdentityError> {
        use IdentityError::Invalid;
        let issuer = self
            .issuer_named_by(token)
            .ok_or(Invalid("not a trusted issuer's token"))?;
        if !issuer.purposes.visitor_identity {
            return Err(Invalid("the issuer may not vouch for visitors"));
        }
        let rules = Rules {
            leeway: self.own.leeway,
            max_lifetime: IDENTITY_TOKEN_LIFETIME,
        };
        let claims = issuer.verify::<VisitorIdentityClaims>(token, rules).await?;
        identity::identity_of(claims)
    }
}

impl TimedClaims for Claims {
    fn iss(&self) -> &str {
        match self {
            Claims::Agent(c) => &c.iss,
            Claims::Guest(c) => &c.iss,
        }
    }
    fn aud(&self) -> &str {
        match self {
            Claims::Agent(c) => &c.aud,
            Claims::Guest(c) => &c.aud,
        }
    }
    fn iat(&self) -> i64 {
        Claims::iat(self)
    }
    fn exp(&self) -> i64 {
        Claims::exp(self)
    }
}

#[cfg(test)]
mod tests;

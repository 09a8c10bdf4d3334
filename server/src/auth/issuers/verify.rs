//! Verifying a token against one trusted issuer.
//!
//! The header is checked before any key is chosen: `alg: none` does not
//! parse, a header pointing at a key (`jku`, `x5u`, `jwk`, `x5c`) or
//! demanding an extension (`crit`) is refused, and `alg` must be one the
//! issuer lists. The keys tried are then the issuer's own, pinned to that
//! `alg` (`keys`): another issuer's key, or a public key as an HMAC
//! secret, is never among them. The claims must name the issuer and its
//! audience, carry `exp` and `iat`, be valid now within Byrd's leeway
//! (`nbf` too), and live no longer than the kind of token may.

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Header, Validation};
use serde::de::DeserializeOwned;

use super::config::Purposes;
use super::jwks::JwksCache;
use super::keys::{KeySet, VerifyingKey};

/// Longest token parsed, as for Byrd's own.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// Why a trusted issuer's token was refused. The reason is for logs only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IssuerTokenError {
    #[error("token is invalid: {0}")]
    Invalid(&'static str),
    #[error("token has expired")]
    Expired,
}

/// The claims every checked token carries, read from its typed claims.
pub trait TimedClaims {
    fn iss(&self) -> &str;
    fn aud(&self) -> &str;
    fn iat(&self) -> i64;
    fn exp(&self) -> i64;
}

/// What a token of one kind must meet beyond its signature.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    /// Clock skew allowed on `exp`, `nbf` and `iat`: Byrd's own.
    pub leeway: Duration,
    /// The longest a token of this kind may live, `iat` to `exp`.
    pub max_lifetime: Duration,
}

/// Where an issuer's keys are.
pub enum IssuerKeys {
    Fixed(KeySet),
    Jwks(Arc<JwksCache>),
}

/// A trusted issuer, ready to verify.
pub struct Issuer {
    pub iss: String,
    pub audience: String,
    pub algorithms: Vec<Algorithm>,
    pub purposes: Purposes,
    pub keys: IssuerKeys,
}

impl Issuer {
    async fn candidates(&self, header: &Header) -> Vec<Arc<VerifyingKey>> {
        let kid = header.kid.as_deref();
        match &self.keys {
            IssuerKeys::Fixed(keys) => keys.candidates(kid, header.alg),
            IssuerKeys::Jwks(cache) => cache.candidates(kid, header.alg).await,
        }
    }

    /// Checks `token`'s header, signature and claims, and reads them as `C`.
    pub async fn verify<C>(&self, token: &str, rules: Rules) -> Result<C, IssuerTokenError>
    where
        C: DeserializeOwned + TimedClaims,
    {
        use IssuerTokenError::Invalid;
        if token.is_empty() || token.len() > MAX_TOKEN_BYTES {
            return Err(Invalid("empty or oversized token"));
        }
        // An `alg` outside jsonwebtoken's list, `none` among them, fails here.
        let header = jsonwebtoken::decode_header(token).map_err(|_| Invalid("malformed header"))?;
        check_header(&header)?;
        if !self.algorithms.contains(&header.alg) {
            return Err(Invalid("algorithm not allowed"));
        }
        let candidates = self.candidates(&header).await;
        if candidates.is_empty() {
            return Err(Invalid("no key of the issuer has this kid and alg"));
        }
        let validation = self.validation(header.alg, rules.leeway);
        let mut verified = None;
        for key in &candidates {
            match jsonwebtoken::decode::<C>(token, &key.key, &validation) {
                Ok(data) => {
                    verified = Some(data.claims);
                    break;
                }
                // Another of the candidates may have signed it.
                Err(error) if matches!(error.kind(), ErrorKind::InvalidSignature) => {}
                Err(error) => return Err(refusal(error.kind())),
            }
        }
        let claims = verified.ok_or(Invalid("bad signature"))?;
        self.check_claims(&claims, rules)?;
        Ok(claims)
    }

    fn validation(&self, algorithm: Algorithm, leeway: Duration) -> Validation {
        let mut validation = Validation::new(algorithm);
        validation.leeway = leeway.as_secs();
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = true;
        validation.set_issuer(&[&self.iss]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation
    }

    fn check_claims(
        &self,
        claims: &impl TimedClaims,
        rules: Rules,
    ) -> Result<(), IssuerTokenError> {
        use IssuerTokenError::Invalid;
        // jsonwebtoken checks these too; checking the typed values again
        // keeps the guarantee independent of its validation details.
        if claims.iss() != self.iss || claims.aud() != self.audience {
            return Err(Invalid("wrong issuer or audience"));
        }
        let now = chrono::Utc::now().timestamp();
        let leeway = rules.leeway.as_secs() as i64;
        let longest = rules.max_lifetime.as_secs() as i64;
        if claims.iat() > now + leeway {
            return Err(Invalid("issued in the future"));
        }
        if claims.exp() <= claims.iat() {
            return Err(Invalid("expires before it was issued"));
        }
        // A token valid for longer than its kind may live was not minted
        // with care; refusing it bounds the damage of a leaked one.
        if claims.exp() - claims.iat() > longest || claims.exp() > now + longest + leeway {
            return Err(Invalid("lifetime too long"));
        }
        Ok(())
    }
}

/// Refuses headers that would let the token choose its own key or
/// demand processing Byrd does not do (RFC 8725, sections 2.1 and 3.1).
fn check_header(header: &Header) -> Result<(), IssuerTokenError> {
    use IssuerTokenError::Invalid;
    if header.jku.is_some() || header.x5u.is_some() {
        return Err(Invalid("header points at a key URL"));
    }
    if header.jwk.is_some() || header.x5c.is_some() {
        return Err(Invalid("header embeds a key"));
    }
    if header.crit.is_some() {
        return Err(Invalid("header has critical extensions"));
    }
    Ok(())
}

fn refusal(kind: &ErrorKind) -> IssuerTokenError {
    use IssuerTokenError::{Expired, Invalid};
    match kind {
        ErrorKind::ExpiredSignature => Expired,
        ErrorKind::ImmatureSignature => Invalid("not valid yet"),
        ErrorKind::InvalidIssuer => Invalid("wrong issuer"),
        ErrorKind::InvalidAudience => Invalid("wrong audience"),
        ErrorKind::MissingRequiredClaim(_) => Invalid("missing claim"),
        ErrorKind::InvalidClaimFormat(_) => Invalid("wrongly typed claim"),
        ErrorKind::Json(_) => Invalid("claims break the rules of their type"),
        ErrorKind::InvalidAlgorithm => Invalid("algorithm does not fit the key"),
        _ => Invalid("malformed token"),
    }
}

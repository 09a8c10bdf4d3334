//! Visitor identity tokens: who a logged-in user of the site is, signed
//! by the site's backend.
//!
//! The claims' closed shape is `byrd_spec::claims::VisitorIdentityClaims`;
//! once the token's signature, issuer, audience and lifetime are checked,
//! the claims become a [`crate::domain::VerifiedIdentity`], which holds
//! every field to the bounds the schema states: the rule is written once,
//! there. Every refusal is `identity_invalid` or `identity_expired`; which
//! check failed stays in the logs.

use byrd_spec::claims::VisitorIdentityClaims;
use byrd_spec::error::ErrorCode;

use super::verify::{IssuerTokenError, TimedClaims};
use crate::domain::{ValidationError, VerifiedIdentity};
use crate::error::ApiError;

/// Why an identity token was refused. The reason is for logs only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("identity token is invalid: {0}")]
    Invalid(&'static str),
    /// The signer vouched for claims that break their bounds: the token
    /// is at fault, not the visitor's input.
    #[error("identity claims out of bounds: {0}")]
    OutOfBounds(ValidationError),
    #[error("identity token has expired")]
    Expired,
}

impl From<IssuerTokenError> for IdentityError {
    fn from(error: IssuerTokenError) -> Self {
        match error {
            IssuerTokenError::Invalid(reason) => IdentityError::Invalid(reason),
            IssuerTokenError::Expired => IdentityError::Expired,
        }
    }
}

impl From<IdentityError> for ApiError {
    fn from(error: IdentityError) -> Self {
        match error {
            IdentityError::Expired => ApiError::new(
                ErrorCode::IdentityExpired,
                "The visitor identity token has expired.",
            ),
            IdentityError::Invalid(_) | IdentityError::OutOfBounds(_) => {
                tracing::debug!(%error, "identity token refused");
                ApiError::new(
                    ErrorCode::IdentityInvalid,
                    "The visitor identity token is not valid.",
                )
            }
        }
    }
}

/// The identity verified `claims` vouch for, each field parsed.
pub(super) fn identity_of(
    claims: VisitorIdentityClaims,
) -> Result<VerifiedIdentity, IdentityError> {
    // The `jti` is no part of the identity, but the schema bounds it as
    // every token's, and it may reach the logs.
    let jti_ok = claims.jti.as_deref().is_none_or(|jti| {
        (1..=128).contains(&jti.chars().count()) && !jti.chars().any(char::is_control)
    });
    if !jti_ok {
        return Err(IdentityError::Invalid("jti must be 1 to 128 characters"));
    }
    VerifiedIdentity::parse(
        &claims.iss,
        &claims.sub,
        claims.name.as_deref(),
        claims.email.as_deref(),
        claims.attributes,
    )
    .map_err(IdentityError::OutOfBounds)
}

impl TimedClaims for VisitorIdentityClaims {
    fn iss(&self) -> &str {
        &self.iss
    }
    fn aud(&self) -> &str {
        &self.aud
    }
    fn iat(&self) -> i64 {
        self.iat
    }
    fn exp(&self) -> i64 {
        self.exp
    }
}

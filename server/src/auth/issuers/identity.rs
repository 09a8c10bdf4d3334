//! Visitor identity tokens: who a logged-in user of the site is, signed
//! by the site's backend and read into bounded fields.
//!
//! The claims' closed shape is `byrd_spec::claims::VisitorIdentityClaims`;
//! here each field is held to its bounds, so a [`VerifiedIdentity`] only
//! ever holds what its schema allows. Every refusal is `identity_invalid`
//! or `identity_expired`; which check failed stays in the logs.

use std::collections::BTreeMap;

use byrd_spec::claims::{
    MAX_IDENTITY_ATTRIBUTE_KEY_CHARS, MAX_IDENTITY_ATTRIBUTE_VALUE_CHARS, MAX_IDENTITY_ATTRIBUTES,
    VisitorIdentityClaims,
};
use byrd_spec::error::ErrorCode;

use super::verify::{IssuerTokenError, TimedClaims};
use crate::error::ApiError;

/// Why an identity token was refused. The reason is for logs only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("identity token is invalid: {0}")]
    Invalid(&'static str),
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
            IdentityError::Invalid(reason) => {
                tracing::debug!(reason, "identity token refused");
                ApiError::new(
                    ErrorCode::IdentityInvalid,
                    "The visitor identity token is not valid.",
                )
            }
        }
    }
}

/// A user of the site, as its backend vouched for them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedIdentity {
    issuer: String,
    user_id: String,
    name: Option<String>,
    email: Option<String>,
    attributes: BTreeMap<String, String>,
    expires_at: i64,
}

impl VerifiedIdentity {
    /// The trusted issuer that signed it (its `iss`).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The user's id on the site (`sub`), 1 to 128 characters.
    pub fn user_id(&self) -> &str {
        &self.user_id
    }

    /// 1 to 100 characters on one line.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Up to 254 characters, with an `@`.
    pub fn email(&self) -> Option<&str> {
        self.email.as_deref()
    }

    /// At most 20; keys `[a-z0-9_]{1,40}`, values up to 200 characters.
    pub fn attributes(&self) -> &BTreeMap<String, String> {
        &self.attributes
    }

    /// When the token expires, seconds since the Unix epoch.
    pub fn expires_at(&self) -> i64 {
        self.expires_at
    }

    /// The claims' fields, each held to its bounds.
    pub fn parse(claims: VisitorIdentityClaims) -> Result<Self, IdentityError> {
        use IdentityError::Invalid;
        if !within(&claims.sub, 1, 128) {
            return Err(Invalid("sub must be 1 to 128 characters"));
        }
        if claims
            .name
            .as_deref()
            .is_some_and(|name| !within(name, 1, 100))
        {
            return Err(Invalid("name must be 1 to 100 characters on one line"));
        }
        if claims.email.as_deref().is_some_and(|email| {
            !within(email, 3, 254) || !email.contains('@') || email.contains(char::is_whitespace)
        }) {
            return Err(Invalid("email must be an address of up to 254 characters"));
        }
        if claims
            .jti
            .as_deref()
            .is_some_and(|jti| !within(jti, 1, 128))
        {
            return Err(Invalid("jti must be 1 to 128 characters"));
        }
        check_attributes(&claims.attributes)?;
        Ok(VerifiedIdentity {
            issuer: claims.iss,
            user_id: claims.sub,
            name: claims.name,
            email: claims.email,
            attributes: claims.attributes,
            expires_at: claims.exp,
        })
    }
}

fn check_attributes(attributes: &BTreeMap<String, String>) -> Result<(), IdentityError> {
    use IdentityError::Invalid;
    if attributes.len() > MAX_IDENTITY_ATTRIBUTES {
        return Err(Invalid("more than 20 attributes"));
    }
    for (key, value) in attributes {
        let key_ok = (1..=MAX_IDENTITY_ATTRIBUTE_KEY_CHARS).contains(&key.len())
            && key
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !key_ok {
            return Err(Invalid("attribute keys are 1 to 40 of [a-z0-9_]"));
        }
        if !within(value, 0, MAX_IDENTITY_ATTRIBUTE_VALUE_CHARS) {
            return Err(Invalid(
                "attribute values are up to 200 characters on one line",
            ));
        }
    }
    Ok(())
}

/// `min..=max` characters, none of them a control character or a line
/// or paragraph separator: each is shown to agents on one line.
fn within(text: &str, min: usize, max: usize) -> bool {
    let count = text.chars().count();
    (min..=max).contains(&count)
        && !text
            .chars()
            .any(|c| c.is_control() || c == '\u{2028}' || c == '\u{2029}')
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

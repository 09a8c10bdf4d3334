//! The keyring's rows, as both stores keep them in `signing_keys`.
//!
//! A row is a key's public part (a JWK, as JSON text), its private part
//! sealed under the keyring key (base64url text, so that both stores and
//! both SQLite bindings read it as they read any text), and the four times
//! the rules in `rules::keys` decide by. Rows are never deleted: a retired
//! key stays listed, and its `kid` is never reused.

use chrono::{DateTime, Utc};

use super::StoreError;
use super::rows::Columns;
pub use super::rules::keys::KeyAlgorithm;

pub(super) const KEY_COLUMNS: &str =
    "kid, alg, public_jwk, sealed_private, created_at, activates_at, verify_until, retired_at";

/// One key of the keyring.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKeyRow {
    pub kid: String,
    pub alg: KeyAlgorithm,
    /// The public key as a JWK; `None` for the shared-secret entry, which
    /// has no public part.
    pub public_jwk: Option<String>,
    /// The private key, sealed; `None` for the shared-secret entry, whose
    /// key is `BYRD_JWT_SECRET` itself and never stored.
    pub sealed_private: Option<String>,
    pub created_at: DateTime<Utc>,
    /// When it starts signing.
    pub activates_at: DateTime<Utc>,
    /// When it stops verifying; `None` while nothing has superseded it.
    pub verify_until: Option<DateTime<Utc>>,
    pub retired_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for SigningKeyRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The sealed part is useless without the keyring key, but a log is
        // no place for it either.
        f.debug_struct("SigningKeyRow")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("created_at", &self.created_at)
            .field("activates_at", &self.activates_at)
            .field("verify_until", &self.verify_until)
            .field("retired_at", &self.retired_at)
            .finish_non_exhaustive()
    }
}

/// One change a rule asks a store to make to `signing_keys`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyChange {
    Insert(SigningKeyRow),
    /// `None`: verifies for as long as it is the newest key.
    VerifyUntil {
        kid: String,
        at: Option<DateTime<Utc>>,
    },
    ActivatesAt {
        kid: String,
        at: DateTime<Utc>,
    },
    Retire {
        kid: String,
        at: DateTime<Utc>,
    },
}

/// A row of `signing_keys`, from either store.
pub(super) fn key_from_row(row: &impl Columns) -> Result<SigningKeyRow, StoreError> {
    let alg = row.text("alg")?;
    Ok(SigningKeyRow {
        kid: row.text("kid")?,
        alg: KeyAlgorithm::from_jws(&alg)
            .ok_or_else(|| super::rows::undecodable("alg", format!("unknown algorithm {alg}")))?,
        public_jwk: row.opt_text("public_jwk")?,
        sealed_private: row.opt_text("sealed_private")?,
        created_at: row.time("created_at")?,
        activates_at: row.time("activates_at")?,
        verify_until: row.opt_time("verify_until")?,
        retired_at: row.opt_time("retired_at")?,
    })
}

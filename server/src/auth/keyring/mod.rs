//! The keyring: the keys Byrd signs its tokens with, shared by every node
//! through the database.
//!
//! By default tokens are signed with an asymmetric key (Ed25519, or P-256)
//! whose public part anyone may fetch from `/.well-known/jwks.json`, so
//! verifying a Byrd token no longer takes the power to forge one. Keys
//! live in `signing_keys` (private parts sealed, see [`seal`]); what each
//! key may do when is decided by `store::key_rules` alone. Each node holds
//! a [`Keyring`], an immutable snapshot of the rows and their loaded keys,
//! behind a [`KeyringHandle`]: a request takes the current snapshot (one
//! `Arc` clone under a read lock held for no longer), and the reloader
//! ([`refresh`]) swaps in a new one every `BYRD_KEYRING_REFRESH_SECS`, or
//! soon after a token names a `kid` this node does not know.
//!
//! `hs256` deployments hold a keyring of one key, the shared secret, and
//! never reload it.

mod jwk;
mod manage;
mod material;
mod refresh;
mod seal;
mod start;

use std::sync::{Arc, PoisonError, RwLock};

use chrono::{DateTime, Utc};
use tokio::sync::Notify;

pub use jwk::{Jwk, JwkSet};
pub use manage::{KeyringSource, ensure_first_key, list, retire, rotate};
pub use material::{LoadedKey, jwt_algorithm};
pub use refresh::RefreshTask;
pub use seal::{KeyringKey, MIN_KEYRING_KEY_BYTES, SealError, derive_key};
pub use start::{keyring_key, start};

use crate::store::{KeyAlgorithm, SigningKeyRow, key_rules};

/// The keys one node knows at one moment.
#[derive(Debug)]
pub struct Keyring {
    /// The rows, for the rules; `keys[i]` is `rows[i]` loaded.
    rows: Vec<SigningKeyRow>,
    keys: Vec<LoadedKey>,
    /// The shared secret alone (`hs256`): it signs, whatever the rules say
    /// of HMAC keys in a keyring.
    shared_secret_only: bool,
}

impl Keyring {
    /// The keyring of an `hs256` deployment: the secret under `kid`.
    pub fn shared_secret(kid: &str, secret: &[u8]) -> Keyring {
        let row = SigningKeyRow {
            kid: kid.to_owned(),
            alg: KeyAlgorithm::Hs256,
            public_jwk: None,
            sealed_private: None,
            created_at: DateTime::UNIX_EPOCH,
            activates_at: DateTime::UNIX_EPOCH,
            verify_until: None,
            retired_at: None,
        };
        Keyring {
            rows: vec![row],
            keys: vec![LoadedKey::shared_secret(kid, secret, true)],
            shared_secret_only: true,
        }
    }

    /// A keyring of loaded rows.
    fn loaded(rows: Vec<SigningKeyRow>, keys: Vec<LoadedKey>) -> Keyring {
        Keyring {
            rows,
            keys,
            shared_secret_only: false,
        }
    }

    /// The key that signs at `now`.
    pub fn signer(&self, now: DateTime<Utc>) -> Option<&LoadedKey> {
        let index = if self.shared_secret_only {
            Some(0)
        } else {
            key_rules::signer(&self.rows, now)
        };
        index
            .and_then(|index| self.keys.get(index))
            .filter(|key| key.encoding.is_some())
    }

    /// The key named `kid`, if it verifies at `now`, with its algorithm;
    /// `Err(false)` for a key this node does not know, `Err(true)` for
    /// one it knows but that verifies no more.
    pub fn verifier(
        &self,
        kid: &str,
        now: DateTime<Utc>,
    ) -> Result<(KeyAlgorithm, &LoadedKey), bool> {
        let index = self
            .rows
            .iter()
            .position(|row| row.kid == kid)
            .ok_or(false)?;
        let row = &self.rows[index];
        if !key_rules::verifies(row, now) {
            return Err(true);
        }
        Ok((row.alg, &self.keys[index]))
    }

    /// The public keys that verify at `now`: the JWKS.
    pub fn jwks(&self, now: DateTime<Utc>) -> JwkSet {
        let keys = self
            .rows
            .iter()
            .zip(&self.keys)
            .filter(|(row, _)| key_rules::published(row, now))
            .filter_map(|(_, key)| key.jwk.clone())
            .collect();
        JwkSet { keys }
    }

    /// The `kid`s this keyring knows, for tests and logs.
    pub fn kids(&self) -> impl Iterator<Item = &str> {
        self.rows.iter().map(|row| row.kid.as_str())
    }
}

/// Where a node's current [`Keyring`] lives.
#[derive(Debug)]
pub struct KeyringHandle {
    current: RwLock<Arc<Keyring>>,
    /// Woken when a token names an unknown `kid`; the reloader decides
    /// whether it is time to look again.
    unknown_kid: Notify,
}

impl KeyringHandle {
    pub fn new(keyring: Keyring) -> KeyringHandle {
        KeyringHandle {
            current: RwLock::new(Arc::new(keyring)),
            unknown_kid: Notify::new(),
        }
    }

    /// The keyring now. The lock is held for the clone only.
    pub fn current(&self) -> Arc<Keyring> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn replace(&self, keyring: Keyring) {
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(keyring);
    }

    /// A token named a `kid` this node does not know: it may be a key
    /// published since the last reload.
    pub fn saw_unknown_kid(&self) {
        self.unknown_kid.notify_one();
    }
}

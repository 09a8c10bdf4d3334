//! What is done to the keyring: its first key, rotations, retirements and
//! the listing, for the server's start, `byrd keys` and the tests alike.
//! Each change is one rule of `store::key_rules`, carried out by the store
//! in one transaction.

use std::time::Duration;

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};

use super::Keyring;
use super::material::{self, LoadedKey};
use super::seal::KeyringKey;
use crate::store::{KeyAlgorithm, KeyState, Retired, SigningKeyRow, Store, key_rules};

/// The database a keyring lives in and the keys to open it with.
#[derive(Debug)]
pub struct KeyringSource {
    pub store: Store,
    pub sealing: KeyringKey,
    /// The shared secret: what the entry of a deployment that came from
    /// HS256 verifies with.
    secret: SecretString,
}

impl KeyringSource {
    pub fn new(store: Store, sealing: KeyringKey, secret: SecretString) -> KeyringSource {
        KeyringSource {
            store,
            sealing,
            secret,
        }
    }

    /// The keyring as the database holds it now, after retiring for good
    /// the keys whose verification has ended.
    pub async fn load(&self) -> anyhow::Result<Keyring> {
        let mut rows = self.store.signing_keys().await?;
        if !key_rules::due(&rows, Utc::now()).is_empty() {
            self.store
                .change_signing_keys(|keys| ((), key_rules::due(keys, Utc::now())))
                .await?;
            rows = self.store.signing_keys().await?;
        }
        let now = Utc::now();
        rows.retain(|row| key_rules::verifies(row, now));
        let keys = rows
            .iter()
            .map(|row| match row.alg {
                KeyAlgorithm::Hs256 => Ok(LoadedKey::shared_secret(
                    &row.kid,
                    self.secret.expose_secret().as_bytes(),
                    false,
                )),
                // A superseded key still signs until its successor is
                // active, so every private part that verifies is opened.
                _ => LoadedKey::from_row(row, &self.sealing, true),
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Keyring::loaded(rows, keys))
    }
}

/// Makes the keyring's first key, of `alg`, unless another node made one
/// first. `legacy` is the shared secret's `kid` and how long it keeps
/// verifying, for a deployment that signed with it until now. Answers
/// whether this call made the key.
pub async fn ensure_first_key(
    source: &KeyringSource,
    alg: KeyAlgorithm,
    legacy: Option<(String, Duration)>,
) -> anyhow::Result<bool> {
    let now = Utc::now();
    let first = material::generate(alg, &source.sealing, now)?;
    let legacy = legacy.map(|(kid, window)| SigningKeyRow {
        kid,
        alg: KeyAlgorithm::Hs256,
        public_jwk: None,
        sealed_private: None,
        created_at: now,
        activates_at: now,
        verify_until: Some(now + window),
        retired_at: None,
    });
    let made = source
        .store
        .change_signing_keys(move |keys| key_rules::first_key(keys, first, legacy, Utc::now()))
        .await?;
    Ok(made)
}

/// Publishes a new key of `alg` now; it signs from `publish_delay` later,
/// and the keys it supersedes verify for `window` after that. Answers its
/// `kid` and when it starts signing.
pub async fn rotate(
    source: &KeyringSource,
    alg: KeyAlgorithm,
    publish_delay: Duration,
    window: Duration,
) -> anyhow::Result<(String, DateTime<Utc>)> {
    let new = material::generate(alg, &source.sealing, Utc::now())?;
    let kid = new.kid.clone();
    let activates_at = source
        .store
        .change_signing_keys(move |keys| {
            key_rules::rotate(keys, new, Utc::now(), publish_delay, window)
        })
        .await?;
    Ok((kid, activates_at))
}

/// Retires `kid` at once: every node refuses its tokens within one reload.
pub async fn retire(store: &Store, kid: &str) -> anyhow::Result<Retired> {
    let kid = kid.to_owned();
    Ok(store
        .change_signing_keys(move |keys| key_rules::retire(keys, &kid, Utc::now()))
        .await?)
}

/// Every key with where it is in its life; never a private part.
pub async fn list(store: &Store) -> anyhow::Result<Vec<(SigningKeyRow, KeyState)>> {
    let mut rows = store.signing_keys().await?;
    let now = Utc::now();
    let states: Vec<KeyState> = (0..rows.len())
        .map(|index| key_rules::state(&rows, index, now))
        .collect();
    for row in &mut rows {
        row.sealed_private = None;
    }
    Ok(rows.into_iter().zip(states).collect())
}

//! Argon2id password hashing.
//!
//! Hashing is CPU-heavy, so it runs on tokio's blocking pool. A login for an
//! unknown email still verifies against a dummy hash, so a wrong email and a
//! wrong password take about the same time.
//!
//! Requests hash only in one of a few [`PasswordSlots`], sized to the
//! cores: when all are taken the request fails fast with `503` rather than
//! queueing, so a login flood cannot pile up hashes and starve the server.

use std::sync::{Arc, LazyLock};

use anyhow::Context;
use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::domain::Password;
use crate::error::ApiError;

/// A hash of a random password nobody knows, made with the same parameters
/// as real hashes, verified against when the email is unknown.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let salt = SaltString::generate(&mut OsRng);
    let secret = uuid::Uuid::new_v4().to_string();
    Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .map(|h| h.to_string())
        .unwrap_or_default()
});

/// Computes the dummy hash ahead of the first login.
pub fn warm_up() {
    LazyLock::force(&DUMMY_HASH);
}

/// Room for this many password hashes at once.
#[derive(Debug, Clone)]
pub struct PasswordSlots(Arc<Semaphore>);

/// One hash's place; held by the hashing thread until it is done, even if
/// the request that asked for it is gone.
#[derive(Debug)]
pub struct PasswordSlot(#[allow(dead_code)] OwnedSemaphorePermit);

impl PasswordSlots {
    pub fn new(at_once: usize) -> Self {
        PasswordSlots(Arc::new(Semaphore::new(at_once.max(1))))
    }

    /// A free slot, or `503 unavailable` at once.
    pub fn take(&self) -> Result<PasswordSlot, ApiError> {
        self.0
            .clone()
            .try_acquire_owned()
            .map(PasswordSlot)
            .map_err(|_| ApiError::unavailable())
    }
}

/// Hashes in `slot`; see [`hash_password`].
pub async fn hash_password_in(slot: PasswordSlot, password: Password) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || {
        let _slot = slot;
        hash_blocking(&password)
    })
    .await
    .context("password hashing task failed")?
}

pub async fn hash_password(password: Password) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || hash_blocking(&password))
        .await
        .context("password hashing task failed")?
}

fn hash_blocking(password: &Password) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.secret().expose_secret().as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("cannot hash a password: {e}"))
}

/// True when `candidate` matches `stored`. With no stored hash (unknown
/// email) it checks the dummy hash and answers false.
pub async fn verify_password(
    slot: PasswordSlot,
    candidate: SecretString,
    stored: Option<String>,
) -> anyhow::Result<bool> {
    tokio::task::spawn_blocking(move || {
        let _slot = slot;
        let known = stored.is_some();
        let hash = stored.unwrap_or_else(|| DUMMY_HASH.clone());
        let parsed = PasswordHash::new(&hash)
            .map_err(|e| anyhow::anyhow!("stored password hash is malformed: {e}"))?;
        let matches = Argon2::default()
            .verify_password(candidate.expose_secret().as_bytes(), &parsed)
            .is_ok();
        Ok(known && matches)
    })
    .await
    .context("password verification task failed")?
}

//! A node's keyring at start: the first key made if there is none, the
//! keyring loaded, and the reloader started.

use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};

use super::KeyringHandle;
use super::manage::{KeyringSource, ensure_first_key};
use super::refresh::RefreshTask;
use super::seal::KeyringKey;
use crate::auth::{TokenKeys, check_secret};
use crate::configuration::JwtSettings;
use crate::store::{KeyAlgorithm, Store};

/// The keyring key `settings` give, or the one derived from `secret`.
pub fn keyring_key(settings: &JwtSettings, secret: &SecretString) -> anyhow::Result<KeyringKey> {
    match &settings.keyring_key {
        Some(key) => Ok(KeyringKey::given(key.expose_secret())?),
        None => Ok(KeyringKey::derived(secret.expose_secret().as_bytes())),
    }
}

/// The token keys of a node, and the reloader that keeps them current
/// (none for `hs256`, whose only key is the secret).
pub async fn start(
    settings: &JwtSettings,
    store: &Store,
    secret: &SecretString,
) -> anyhow::Result<(TokenKeys, Option<RefreshTask>)> {
    if settings.algorithm == KeyAlgorithm::Hs256 {
        return Ok((TokenKeys::new(secret, settings)?, None));
    }
    // The secret still derives the keyring key and, for a while, verifies
    // the tokens it signed before the keyring.
    check_secret(secret)?;
    let source = KeyringSource::new(
        store.clone(),
        keyring_key(settings, secret)?,
        secret.clone(),
    );
    if source.store.signing_keys().await?.is_empty() {
        // A database with agents served tokens signed with the secret:
        // those stay valid until the longest of them has expired. A new
        // deployment never signed with it, and accepts none.
        let migrating = store.count_agents().await? > 0;
        let legacy = migrating.then(|| (settings.kid.clone(), settings.verification_window()));
        if ensure_first_key(&source, settings.algorithm, legacy).await? {
            tracing::info!(
                algorithm = settings.algorithm.jws(),
                migrating,
                "made the keyring's first key"
            );
        }
    }
    let keyring = source.load().await?;
    anyhow::ensure!(
        keyring.signer(chrono::Utc::now()).is_some(),
        "the keyring has no key that signs now: run `byrd keys rotate`"
    );
    let handle = Arc::new(KeyringHandle::new(keyring));
    let tokens = TokenKeys::with_keyring(handle.clone(), settings);
    let task = RefreshTask::start(handle, source, settings.keyring_refresh.get());
    Ok((tokens, Some(task)))
}

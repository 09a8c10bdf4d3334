//! The rules of the keyring, apart from any database.
//!
//! Which key signs now, which keys verify, which the JWKS shows and when a
//! key is due for retirement are decided here, from the rows alone, by
//! both stores (inside the transaction that changes `signing_keys`) and by
//! every node (on each reload and at each signature), so that no two of
//! them can disagree about the same rows at the same time.
//!
//! A key's life: *published* (it verifies and is in the JWKS, but signs
//! only from `activates_at`, two reload intervals later, when every node
//! and every JWKS cache knows it), *signing* (the latest activated key),
//! *verifying* (superseded: it stops at `verify_until`, the successor's
//! activation plus the longest token lifetime plus the leeway, when every
//! token it signed has expired), *retired* (never again). The shared
//! secret of a deployment that came from HS256 is an entry too: it never
//! signs and verifies until its own `verify_until`.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::store::keys::{KeyChange, SigningKeyRow};

/// A signature algorithm of the keyring, by its JWS name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyAlgorithm {
    /// Ed25519 (`EdDSA`): the default.
    EdDsa,
    /// ECDSA on P-256 with SHA-256 (`ES256`).
    Es256,
    /// HMAC-SHA256 under the shared secret (`HS256`).
    Hs256,
}

impl KeyAlgorithm {
    /// The JWS `alg` name, as stored and as in a token's header.
    pub fn jws(self) -> &'static str {
        match self {
            KeyAlgorithm::EdDsa => "EdDSA",
            KeyAlgorithm::Es256 => "ES256",
            KeyAlgorithm::Hs256 => "HS256",
        }
    }

    pub fn from_jws(name: &str) -> Option<KeyAlgorithm> {
        [Self::EdDsa, Self::Es256, Self::Hs256]
            .into_iter()
            .find(|alg| alg.jws() == name)
    }

    /// The value of `BYRD_JWT_ALGORITHM` / `--algorithm`.
    pub fn from_option(value: &str) -> anyhow::Result<KeyAlgorithm> {
        match value.to_ascii_lowercase().as_str() {
            "eddsa" => Ok(KeyAlgorithm::EdDsa),
            "es256" => Ok(KeyAlgorithm::Es256),
            "hs256" => Ok(KeyAlgorithm::Hs256),
            _ => anyhow::bail!("BYRD_JWT_ALGORITHM: {value:?} is none of eddsa, es256, hs256"),
        }
    }

    /// Whether keys of this algorithm live in the keyring (with a public
    /// part to publish) rather than being the shared secret.
    pub fn is_asymmetric(self) -> bool {
        self != KeyAlgorithm::Hs256
    }
}

/// Where a key is in its life, for `byrd keys list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    Published,
    Signing,
    Verifying,
    Retired,
}

impl KeyState {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::Published => "published",
            KeyState::Signing => "signing",
            KeyState::Verifying => "verifying",
            KeyState::Retired => "retired",
        }
    }
}

/// Whether `key` verifies tokens at `now`.
pub fn verifies(key: &SigningKeyRow, now: DateTime<Utc>) -> bool {
    key.retired_at.is_none() && key.verify_until.is_none_or(|until| now <= until)
}

/// Whether the JWKS shows `key` at `now`: it verifies and has a public
/// part (an HMAC key never does).
pub fn published(key: &SigningKeyRow, now: DateTime<Utc>) -> bool {
    key.alg.is_asymmetric() && verifies(key, now)
}

/// The position in `keys` of the key that signs at `now`: of the active
/// keys, the newest (the one nothing superseded); until it is active, the
/// superseded one that verifies longest. That one was superseded by a key
/// not active yet, so it verifies for at least a token lifetime more: no
/// token outlives its key, however rotations pile up.
pub fn signer(keys: &[SigningKeyRow], now: DateTime<Utc>) -> Option<usize> {
    keys.iter()
        .enumerate()
        .filter(|(_, key)| key.alg.is_asymmetric() && key.activates_at <= now && verifies(key, now))
        .max_by_key(|(_, key)| {
            let newest = key.verify_until.is_none();
            (newest, key.verify_until, key.activates_at, &key.kid)
        })
        .map(|(index, _)| index)
}

/// The newest key: the one no rotation has superseded (`verify_until` not
/// set), which signs once active.
fn newest(keys: &[SigningKeyRow], now: DateTime<Utc>) -> Option<&SigningKeyRow> {
    keys.iter()
        .find(|key| key.alg.is_asymmetric() && key.verify_until.is_none() && verifies(key, now))
}

/// What `keys[index]` is at `now`.
pub fn state(keys: &[SigningKeyRow], index: usize, now: DateTime<Utc>) -> KeyState {
    let key = &keys[index];
    if !verifies(key, now) {
        KeyState::Retired
    } else if signer(keys, now) == Some(index) {
        KeyState::Signing
    } else if key.alg.is_asymmetric() && key.activates_at > now {
        KeyState::Published
    } else {
        KeyState::Verifying
    }
}

/// The keyring's first key, `first`, signing at once; with it, for a
/// deployment that signed with the shared secret until now, `legacy`: that
/// secret's entry, verifying for one more `window`. Nothing when the
/// keyring already has a key that may sign (another node made it first).
pub fn first_key(
    keys: &[SigningKeyRow],
    mut first: SigningKeyRow,
    legacy: Option<SigningKeyRow>,
    now: DateTime<Utc>,
) -> (bool, Vec<KeyChange>) {
    let has_key = keys
        .iter()
        .any(|key| key.alg.is_asymmetric() && verifies(key, now));
    if has_key {
        return (false, Vec::new());
    }
    first.activates_at = now;
    first.verify_until = None;
    let mut changes = vec![KeyChange::Insert(first)];
    if let Some(legacy) = legacy.filter(|legacy| keys.iter().all(|key| key.kid != legacy.kid)) {
        changes.push(KeyChange::Insert(legacy));
    }
    (true, changes)
}

/// Publishes `new` now, signing from `publish_delay` later; every key that
/// was signing or waiting to sign verifies until `window` after that.
/// Answers when `new` starts signing.
pub fn rotate(
    keys: &[SigningKeyRow],
    mut new: SigningKeyRow,
    now: DateTime<Utc>,
    publish_delay: Duration,
    window: Duration,
) -> (DateTime<Utc>, Vec<KeyChange>) {
    let activates_at = now + publish_delay;
    new.created_at = now;
    new.activates_at = activates_at;
    new.verify_until = None;
    let mut changes: Vec<KeyChange> = keys
        .iter()
        .filter(|key| key.alg.is_asymmetric() && key.verify_until.is_none() && verifies(key, now))
        .map(|key| KeyChange::VerifyUntil {
            kid: key.kid.clone(),
            at: Some(activates_at + window),
        })
        .collect();
    changes.push(KeyChange::Insert(new));
    (activates_at, changes)
}

/// What retiring a key comes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Retired {
    /// It verifies nothing from now on; `successor` signs from now on
    /// when the key was signing.
    Retired {
        successor: Option<String>,
    },
    AlreadyRetired,
    NotFound,
    /// It is the key that signs, and no other key is ready to take over:
    /// rotate first.
    OnlySigner,
}

/// Retires `kid` at once (a compromised key). The key that signs now is
/// retired only when a published key can take over at once.
pub fn retire(keys: &[SigningKeyRow], kid: &str, now: DateTime<Utc>) -> (Retired, Vec<KeyChange>) {
    let Some(index) = keys.iter().position(|key| key.kid == kid) else {
        return (Retired::NotFound, Vec::new());
    };
    if !verifies(&keys[index], now) {
        return (Retired::AlreadyRetired, Vec::new());
    }
    let mut changes = Vec::new();
    let mut successor = None;
    let is_newest = newest(keys, now).is_some_and(|key| key.kid == kid);
    if signer(keys, now) != Some(index) && is_newest {
        // A waiting key withdrawn: the newest of the others takes its
        // place, and verifies for as long as it is the newest.
        let next = keys
            .iter()
            .filter(|key| key.kid != kid && key.alg.is_asymmetric() && verifies(key, now))
            .max_by_key(|key| (key.activates_at, &key.kid));
        if let Some(next) = next {
            changes.push(KeyChange::VerifyUntil {
                kid: next.kid.clone(),
                at: None,
            });
        }
    }
    if signer(keys, now) == Some(index) {
        let ready = keys
            .iter()
            .filter(|key| key.kid != kid && key.alg.is_asymmetric() && verifies(key, now))
            .filter(|key| key.activates_at > now)
            .max_by(|a, b| (a.created_at, &a.kid).cmp(&(b.created_at, &b.kid)));
        let Some(ready) = ready else {
            return (Retired::OnlySigner, Vec::new());
        };
        successor = Some(ready.kid.clone());
        // It signs from now on, as the newest key.
        changes.push(KeyChange::ActivatesAt {
            kid: ready.kid.clone(),
            at: now,
        });
        changes.push(KeyChange::VerifyUntil {
            kid: ready.kid.clone(),
            at: None,
        });
    }
    changes.push(KeyChange::Retire {
        kid: kid.to_owned(),
        at: now,
    });
    (Retired::Retired { successor }, changes)
}

/// The keys whose verification ended by `now`: retired for good.
pub fn due(keys: &[SigningKeyRow], now: DateTime<Utc>) -> Vec<KeyChange> {
    keys.iter()
        .filter(|key| key.retired_at.is_none() && key.verify_until.is_some_and(|u| u < now))
        .map(|key| KeyChange::Retire {
            kid: key.kid.clone(),
            at: now,
        })
        .collect()
}

/// `changes` made to `keys`, as a store makes them: for the tests, and
/// for a node that wants the rows a change leads to.
pub fn apply(keys: &mut Vec<SigningKeyRow>, changes: Vec<KeyChange>) {
    for change in changes {
        match change {
            KeyChange::Insert(row) => keys.push(row),
            KeyChange::VerifyUntil { kid, at } => {
                keys.iter_mut()
                    .filter(|key| key.kid == kid)
                    .for_each(|key| key.verify_until = at);
            }
            KeyChange::ActivatesAt { kid, at } => {
                keys.iter_mut()
                    .filter(|key| key.kid == kid)
                    .for_each(|key| key.activates_at = at);
            }
            KeyChange::Retire { kid, at } => {
                keys.iter_mut()
                    .filter(|key| key.kid == kid)
                    .for_each(|key| key.retired_at = Some(at));
            }
        }
    }
}

#[cfg(test)]
mod tests;

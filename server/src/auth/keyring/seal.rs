//! The keyring key: what seals the keyring's private keys in the database.
//!
//! AES-256-GCM (`ring::aead`) with a random 96-bit nonce per seal and the
//! key's `kid` as associated data, so a sealed private part moved to
//! another row no longer opens. The AES key is derived, with HMAC-SHA256
//! under a label of its own, either from `BYRD_KEYRING_KEY` (or
//! `--keyring-key-file`) or, by default, from `BYRD_JWT_SECRET`, which
//! every node already shares: the same derivation the cluster key uses
//! ([`derive_key`]), under another label, so neither key is ever the
//! other's or the secret itself.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use sha2::Sha256;

/// Label under which the keyring key is derived.
const DERIVATION_LABEL: &[u8] = b"byrd keyring v1";

/// Smallest keyring key a deployment may give, as for an HS256 key.
pub const MIN_KEYRING_KEY_BYTES: usize = 32;

/// HMAC-SHA256 of `label` under `secret`: a key for one purpose drawn from
/// a secret shared for another. The cluster key and the keyring key are
/// both derived this way, each under its own label.
pub fn derive_key(secret: &[u8], label: &[u8]) -> [u8; 32] {
    // HMAC takes a key of any length.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key"));
    mac.update(label);
    mac.finalize().into_bytes().into()
}

/// Why a private part could not be opened.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("the keyring key must be at least {MIN_KEYRING_KEY_BYTES} bytes (it is {0})")]
    KeyTooShort(usize),
    /// Not base64url, too short, or not sealed under this key and `kid`:
    /// most likely the nodes were given different keyring keys.
    #[error("the sealed private key does not open with this keyring key")]
    DoesNotOpen,
}

/// Seals and opens the keyring's private keys.
pub struct KeyringKey(LessSafeKey);

impl std::fmt::Debug for KeyringKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyringKey(..)")
    }
}

impl KeyringKey {
    /// The default key, derived from the token-signing secret.
    pub fn derived(signing_secret: &[u8]) -> KeyringKey {
        KeyringKey::from_bytes(&derive_key(signing_secret, DERIVATION_LABEL))
    }

    /// A key of the deployment's own.
    pub fn given(key: &[u8]) -> Result<KeyringKey, SealError> {
        if key.len() < MIN_KEYRING_KEY_BYTES {
            return Err(SealError::KeyTooShort(key.len()));
        }
        Ok(KeyringKey::from_bytes(&derive_key(key, DERIVATION_LABEL)))
    }

    fn from_bytes(key: &[u8; 32]) -> KeyringKey {
        let key = UnboundKey::new(&AES_256_GCM, key)
            .unwrap_or_else(|_| unreachable!("an AES-256 key is 32 bytes"));
        KeyringKey(LessSafeKey::new(key))
    }

    /// `private` sealed for the key `kid`, as base64url text.
    pub fn seal(&self, kid: &str, private: &[u8]) -> anyhow::Result<String> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| anyhow::anyhow!("no randomness for a nonce"))?;
        let mut sealed = private.to_vec();
        self.0
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(kid.as_bytes()),
                &mut sealed,
            )
            .map_err(|_| anyhow::anyhow!("cannot seal a private key"))?;
        let mut out = nonce.to_vec();
        out.append(&mut sealed);
        Ok(URL_SAFE_NO_PAD.encode(out))
    }

    /// Opens what [`seal`](Self::seal) made for `kid`.
    pub fn open(&self, kid: &str, sealed: &str) -> Result<Vec<u8>, SealError> {
        let mut bytes = URL_SAFE_NO_PAD
            .decode(sealed)
            .map_err(|_| SealError::DoesNotOpen)?;
        if bytes.len() < NONCE_LEN {
            return Err(SealError::DoesNotOpen);
        }
        let mut body = bytes.split_off(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(&bytes).map_err(|_| SealError::DoesNotOpen)?;
        let opened = self
            .0
            .open_in_place(nonce, Aad::from(kid.as_bytes()), &mut body)
            .map_err(|_| SealError::DoesNotOpen)?;
        Ok(opened.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_key_opens_only_with_its_key_and_kid() {
        let key = KeyringKey::derived(b"a secret of thirty-two bytes or more!");
        let sealed = key.seal("kid-a", b"private").unwrap();
        assert!(!sealed.contains("private"));
        assert_eq!(key.open("kid-a", &sealed).unwrap(), b"private");
        assert_eq!(key.open("kid-b", &sealed), Err(SealError::DoesNotOpen));
        let other = KeyringKey::derived(b"another secret of thirty-two bytes!!");
        assert_eq!(other.open("kid-a", &sealed), Err(SealError::DoesNotOpen));
        assert_eq!(key.open("kid-a", "!!"), Err(SealError::DoesNotOpen));
        assert_ne!(sealed, key.seal("kid-a", b"private").unwrap());
    }

    #[test]
    fn a_short_key_is_refused() {
        assert_eq!(
            KeyringKey::given(&[7; 31]).unwrap_err(),
            SealError::KeyTooShort(31)
        );
        assert!(KeyringKey::given(&[7; 32]).is_ok());
    }
}

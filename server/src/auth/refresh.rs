//! Opaque refresh tokens.
//!
//! A refresh token is 32 random bytes, base64url, behind a `byrd_rt_`
//! prefix that makes leaked ones easy to spot in logs and secret scanners.
//! Only its SHA-256 is stored: a database leak yields no usable token, and
//! a plain hash suffices because the token has 256 bits of entropy.
//!
//! For the short grace window in which a spent token may be presented
//! again (its answer was lost), its successor is kept sealed: XORed with a
//! key derived from the spent token, which only its holder can rebuild.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

const PREFIX: &str = "byrd_rt_";
const SEAL_CONTEXT: &[u8] = b"byrd refresh successor\0";

pub struct RefreshToken {
    /// What the client gets.
    pub token: String,
    /// What the store keeps.
    pub hash: [u8; 32],
    secret: [u8; 32],
}

impl RefreshToken {
    pub fn generate() -> Self {
        let mut secret = [0u8; 32];
        rand::rng().fill_bytes(&mut secret);
        Self::from_secret(secret)
    }

    fn from_secret(secret: [u8; 32]) -> Self {
        let token = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(secret));
        let hash = Self::hash(&token);
        RefreshToken {
            token,
            hash,
            secret,
        }
    }

    pub fn hash(presented: &str) -> [u8; 32] {
        Sha256::digest(presented.as_bytes()).into()
    }

    /// This token sealed so that only the holder of `presented` can open it.
    pub fn sealed_for(&self, presented: &str) -> Vec<u8> {
        xor(&self.secret, &seal_key(presented)).to_vec()
    }

    /// Opens what [`sealed_for`](Self::sealed_for) made with `presented`.
    pub fn unseal(sealed: &[u8], presented: &str) -> Option<Self> {
        let sealed: [u8; 32] = sealed.try_into().ok()?;
        Some(Self::from_secret(xor(&sealed, &seal_key(presented))))
    }
}

fn seal_key(presented: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(SEAL_CONTEXT);
    hasher.update(presented.as_bytes());
    hasher.finalize().into()
}

fn xor(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    std::array::from_fn(|i| a[i] ^ b[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_and_hash_to_their_stored_hash() {
        let a = RefreshToken::generate();
        let b = RefreshToken::generate();
        assert_ne!(a.token, b.token);
        assert!(a.token.starts_with(PREFIX));
        assert_eq!(RefreshToken::hash(&a.token), a.hash);
        assert_ne!(a.hash, b.hash);
    }

    #[test]
    fn a_sealed_successor_opens_only_with_the_spent_token() {
        let spent = RefreshToken::generate();
        let successor = RefreshToken::generate();
        let sealed = successor.sealed_for(&spent.token);
        assert_ne!(sealed, successor.secret.to_vec());
        let opened = RefreshToken::unseal(&sealed, &spent.token).unwrap();
        assert_eq!(opened.token, successor.token);
        let wrong = RefreshToken::unseal(&sealed, &RefreshToken::generate().token).unwrap();
        assert_ne!(wrong.token, successor.token);
    }
}

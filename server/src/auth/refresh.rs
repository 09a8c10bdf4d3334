//! Opaque refresh tokens.
//!
//! A refresh token is 32 random bytes, base64url, behind a `byrd_rt_`
//! prefix that makes leaked ones easy to spot in logs and secret scanners.
//! Only its SHA-256 is stored: a database leak yields no usable token, and
//! a plain hash suffices because the token has 256 bits of entropy.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

const PREFIX: &str = "byrd_rt_";

pub struct RefreshToken {
    /// What the client gets, once.
    pub token: String,
    /// What the store keeps.
    pub hash: [u8; 32],
}

impl RefreshToken {
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let token = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
        let hash = Self::hash(&token);
        RefreshToken { token, hash }
    }

    pub fn hash(presented: &str) -> [u8; 32] {
        Sha256::digest(presented.as_bytes()).into()
    }
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
}

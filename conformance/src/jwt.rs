//! Making tokens by hand: compact JWS encoding, HMAC over SHA-2, and the
//! pieces the attacks recombine (headers, claims and signatures taken
//! apart and joined again, signed or not).
//!
//! This module never verifies anything: it builds what a hostile client
//! would send.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::digest::{Digest, core_api::BlockSizeUser};
use sha2::{Sha256, Sha384, Sha512};

/// A hash for HMAC (RFC 2104).
pub enum Hmac {
    Sha256,
    Sha384,
    Sha512,
}

impl Hmac {
    pub fn mac(&self, key: &[u8], message: &[u8]) -> Vec<u8> {
        match self {
            Hmac::Sha256 => hmac::<Sha256>(key, message),
            Hmac::Sha384 => hmac::<Sha384>(key, message),
            Hmac::Sha512 => hmac::<Sha512>(key, message),
        }
    }
}

fn hmac<D: Digest + BlockSizeUser>(key: &[u8], message: &[u8]) -> Vec<u8> {
    let block_size = D::block_size();
    let mut block = vec![0u8; block_size];
    if key.len() > block_size {
        let digest = D::digest(key);
        block[..digest.len()].copy_from_slice(&digest);
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let inner_pad: Vec<u8> = block.iter().map(|b| b ^ 0x36).collect();
    let outer_pad: Vec<u8> = block.iter().map(|b| b ^ 0x5c).collect();
    let inner = D::new()
        .chain_update(&inner_pad)
        .chain_update(message)
        .finalize();
    D::new()
        .chain_update(&outer_pad)
        .chain_update(inner)
        .finalize()
        .to_vec()
}

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes base64url without padding; `None` when `text` is not that.
pub fn unb64(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}

pub fn b64_json(value: &Value) -> String {
    b64(value.to_string().as_bytes())
}

/// `header.claims` for `header` and `claims`, unsigned.
pub fn signing_input(header: &Value, claims: &Value) -> String {
    format!("{}.{}", b64_json(header), b64_json(claims))
}

/// A token signed with `key` under `hmac`, whatever the header says.
pub fn sign(header: &Value, claims: &Value, hmac: &Hmac, key: &[u8]) -> String {
    let input = signing_input(header, claims);
    let signature = hmac.mac(key, input.as_bytes());
    format!("{input}.{}", b64(&signature))
}

/// `header.claims.` with any signature text appended as given.
pub fn with_signature(header: &Value, claims: &Value, signature: &str) -> String {
    format!("{}.{signature}", signing_input(header, claims))
}

/// The three decoded parts of a compact token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parts {
    pub header: Vec<u8>,
    pub claims: Vec<u8>,
    pub signature: Vec<u8>,
}

impl Parts {
    /// Splits and decodes `token`; `None` unless it has exactly three
    /// canonical base64url parts.
    pub fn of(token: &str) -> Option<Parts> {
        let mut parts = token.split('.');
        let (header, claims, signature) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        Some(Parts {
            header: URL_SAFE_NO_PAD.decode(header).ok()?,
            claims: URL_SAFE_NO_PAD.decode(claims).ok()?,
            signature: URL_SAFE_NO_PAD.decode(signature).ok()?,
        })
    }

    pub fn join(&self) -> String {
        format!(
            "{}.{}.{}",
            b64(&self.header),
            b64(&self.claims),
            b64(&self.signature)
        )
    }

    pub fn header_json(&self) -> Option<Value> {
        serde_json::from_slice(&self.header).ok()
    }

    pub fn claims_json(&self) -> Option<Value> {
        serde_json::from_slice(&self.claims).ok()
    }
}

/// The claims of `token`, read without verifying it.
pub fn claims_of(token: &str) -> Option<Value> {
    Parts::of(token)?.claims_json()
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The header the server's own tokens carry.
pub fn byrd_header(kid: &str) -> Value {
    json!({"alg": "HS256", "typ": "JWT", "kid": kid})
}

/// `claims` with `key` set to `value`.
pub fn with(mut claims: Value, key: &str, value: Value) -> Value {
    if let Some(map) = claims.as_object_mut() {
        map.insert(key.to_owned(), value);
    }
    claims
}

/// `claims` without `key`.
pub fn without(mut claims: Value, key: &str) -> Value {
    if let Some(map) = claims.as_object_mut() {
        map.remove(key);
    }
    claims
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn hmac_matches_rfc_4231_test_case_2() {
        let key = b"Jefe";
        let data = b"what do ya want for nothing?";
        assert_eq!(
            hex(&Hmac::Sha256.mac(key, data)),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hex(&Hmac::Sha384.mac(key, data)),
            "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649"
        );
        assert_eq!(
            hex(&Hmac::Sha512.mac(key, data)),
            "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"
        );
    }

    #[test]
    fn a_long_key_is_hashed_first() {
        // RFC 4231 test case 6: a 131-byte key.
        let key = [0xaa_u8; 131];
        let data = b"Test Using Larger Than Block-Size Key - Hash Key First";
        assert_eq!(
            hex(&Hmac::Sha256.mac(&key, data)),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn parts_round_trip() {
        let token = sign(
            &byrd_header("byrd-1"),
            &json!({"sub": "x"}),
            &Hmac::Sha256,
            b"key",
        );
        let parts = Parts::of(&token).unwrap();
        assert_eq!(parts.join(), token);
        assert_eq!(claims_of(&token), Some(json!({"sub": "x"})));
        assert!(Parts::of("a.b").is_none());
        assert!(Parts::of("a.b.c.d").is_none());
    }
}

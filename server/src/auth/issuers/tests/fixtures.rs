//! Keys, files and tokens for the tests.

use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use super::super::{OwnTokens, TrustedIssuers};

/// A key pair: the private half to sign with, the public half as PEM.
pub struct TestKey {
    pub algorithm: Algorithm,
    pub private: EncodingKey,
    pub public_pem: String,
    /// The public key's bare bytes, as an attacker would use them as an
    /// HMAC secret.
    pub public_raw: Vec<u8>,
}

fn generate(algorithm: Algorithm, rcgen_algorithm: &'static rcgen::SignatureAlgorithm) -> TestKey {
    let pair = rcgen::KeyPair::generate_for(rcgen_algorithm).unwrap();
    let der = pair.serialize_der();
    let private = match algorithm {
        Algorithm::EdDSA => EncodingKey::from_ed_der(&der),
        _ => EncodingKey::from_ec_der(&der),
    };
    TestKey {
        algorithm,
        private,
        public_pem: pair.public_key_pem(),
        public_raw: pair.public_key_raw().to_vec(),
    }
}

pub fn ed25519() -> TestKey {
    generate(Algorithm::EdDSA, &rcgen::PKCS_ED25519)
}

pub fn p256() -> TestKey {
    generate(Algorithm::ES256, &rcgen::PKCS_ECDSA_P256_SHA256)
}

/// A 2048-bit RSA public key, made with `openssl genpkey`.
pub const RSA_PUBLIC_PEM: &str = "-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA0AN0zJwBrhJDmxp17jKe
4e8vVaA2OSSvXHn/UlMrQpQFcyX/co9YiRZwkthF5HbZlTbVLRZ0Q/KTB6XUAWb0
g1hwvdvLdkneTfvmPZ83uOT65oEcEsOGo9WJLy/0m98QgSdfMdR7m/zFSfzL6Z4J
3tWxL0imfu3Gd4DAJ1MPFcIJpyYLtecx3TWT3xaQDJG9rM5kcF8PiWOJNNi8Ly5O
l9aWIFNecAy5SW0vrbBQNhFUYPgqXpFcf6OFTxo1Nbsnse0dWzI9Rn012TeNuNFG
hJwZFwv9/CNSXEEiX13ZydYo9xsxWbhSlYNXPySDn4ZFU63tgpbHWexRJFxej2+W
zQIDAQAB
-----END PUBLIC KEY-----
";

pub fn own() -> OwnTokens {
    OwnTokens {
        issuer: "byrd".into(),
        agent_token_ttl: Duration::from_secs(900),
        leeway: Duration::from_secs(30),
    }
}

pub fn write(dir: &Path, name: &str, contents: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

/// One `[[issuer]]` table for a key file, with both purposes.
pub fn key_file_issuer(iss: &str, algorithms: &str, keys_file: &Path) -> String {
    format!(
        "[[issuer]]\niss = {iss:?}\naudience = \"byrd\"\nalgorithms = {algorithms}\n\
         purposes = [\"agent_tokens\", \"visitor_identity\"]\nkeys_file = {:?}\n",
        keys_file.display().to_string()
    )
}

/// Trusted issuers from the file `text`.
pub fn issuers(text: &str) -> TrustedIssuers {
    TrustedIssuers::parse(text, Path::new("/"), own()).unwrap()
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Valid agent claims from `iss`.
pub fn agent_claims(iss: &str) -> Value {
    json!({
        "iss": iss, "aud": "byrd", "type": "agent",
        "sub": "0193a5f2-6c1e-7d40-9a5e-3f1b2c4d5e6f",
        "role": "agent", "name": "Tess", "iat": now(), "exp": now() + 300,
        "jti": uuid::Uuid::new_v4().to_string()
    })
}

/// Valid identity claims from `iss`.
pub fn identity_claims(iss: &str) -> Value {
    json!({
        "iss": iss, "aud": "byrd", "sub": "user-42", "name": "Ada Lovelace",
        "email": "ada@shop.example", "attributes": {"plan": "pro"},
        "iat": now(), "exp": now() + 300
    })
}

/// `claims` signed by `key` under a header of its algorithm.
pub fn mint(key: &TestKey, claims: &Value) -> String {
    mint_with(Header::new(key.algorithm), key, claims)
}

pub fn mint_with(header: Header, key: &TestKey, claims: &Value) -> String {
    jsonwebtoken::encode(&header, claims, &key.private).unwrap()
}

/// A token with any header JSON and an HMAC-SHA256 signature made with
/// `secret`: what an attacker holding only public material can make.
pub fn hmac_token(header: &Value, claims: &Value, secret: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret).unwrap();
    mac.update(input.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{input}.{signature}")
}

/// A token whose header is `header`, unsigned.
pub fn unsigned(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

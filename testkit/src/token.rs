//! Tokens for tests: [`mint`] signs claims the way Byrd does (HS256 under
//! the test key, with `jsonwebtoken`), [`sign_hs256`] signs any header and
//! claims (for forged tokens the server must refuse), and [`sign_raw`]
//! signs exact bytes, for tokens no JSON value can spell.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::{AUDIENCE, ISSUER, JWT_KID, JWT_SECRET};

/// Signs `claims` the way Byrd does, with the test key.
pub fn mint(claims: &Value) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(JWT_KID.to_owned());
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .expect("HS256 signs any claims")
}

/// Signs `claims` under `header` with `key` (HS256), whatever they say.
pub fn sign_hs256(header: &Value, claims: &Value, key: &[u8]) -> String {
    let header = URL_SAFE_NO_PAD.encode(serde_json::to_vec(header).unwrap());
    let claims = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap());
    let signing_input = format!("{header}.{claims}");
    let signature = sign_raw(signing_input.as_bytes(), key);
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// The HS256 signature (raw bytes) of exactly `signing_input` under `key`.
pub fn sign_raw(signing_input: &[u8], key: &[u8]) -> Vec<u8> {
    let encoded = jsonwebtoken::crypto::sign(
        signing_input,
        &EncodingKey::from_secret(key),
        Algorithm::HS256,
    )
    .expect("HS256 signs any bytes");
    URL_SAFE_NO_PAD
        .decode(encoded)
        .expect("jsonwebtoken encodes signatures as base64url")
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Valid agent claims for agent `id`; tests change one thing at a time.
pub fn agent_claims(id: &str) -> Value {
    json!({
        "iss": ISSUER, "aud": AUDIENCE, "type": "agent", "sub": id,
        "role": "agent", "name": "Tess", "iat": now(), "exp": now() + 600,
        "jti": uuid::Uuid::new_v4().to_string()
    })
}

/// Valid guest claims for chat `chat_id` (created at `created_at`).
pub fn guest_claims(chat_id: &str, created_at: &str) -> Value {
    json!({
        "iss": ISSUER, "aud": AUDIENCE, "type": "guest", "sub": uuid::Uuid::new_v4().to_string(),
        "chat": {"id": chat_id, "created_at": created_at},
        "iat": now(), "exp": now() + 600, "jti": uuid::Uuid::new_v4().to_string()
    })
}

/// A token of agent `id`, signed like the server's: agent tokens are
/// checked by signature and revocation, so no agent row is needed.
pub fn agent_token(id: &str) -> String {
    mint(&agent_claims(id))
}

/// Splits a JWT into its decoded header, payload and signature bytes.
pub fn jwt_parts(token: &str) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let mut parts = token.split('.').map(|part| {
        URL_SAFE_NO_PAD
            .decode(part)
            .expect("a JWT part is base64url")
    });
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        panic!("a JWT has three parts");
    };
    (header, payload, signature)
}

/// Joins decoded parts back into a compact JWT, without re-signing.
pub fn jwt_join(header: &[u8], payload: &[u8], signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_raw_signer_and_jsonwebtoken_agree() {
        let claims = agent_claims("a");
        let minted = mint(&claims);
        let (header, payload, signature) = jwt_parts(&minted);
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&header),
            URL_SAFE_NO_PAD.encode(&payload)
        );
        assert_eq!(sign_raw(input.as_bytes(), JWT_SECRET.as_bytes()), signature);
        let header: Value = serde_json::from_slice(&header).unwrap();
        assert_eq!(header["alg"], "HS256");
        assert_eq!(header["kid"], JWT_KID);
        assert_eq!(serde_json::from_slice::<Value>(&payload).unwrap(), claims);
    }

    #[test]
    fn a_forged_header_is_signed_as_written() {
        let token = sign_hs256(&json!({"alg": "none"}), &json!({"a": 1}), b"k");
        let (header, _, signature) = jwt_parts(&token);
        assert_eq!(header, br#"{"alg":"none"}"#);
        assert_eq!(signature.len(), 32);
    }
}

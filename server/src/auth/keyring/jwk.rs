//! Public keys as JWKs (RFC 7517), as the JWKS endpoint publishes them and
//! the keyring stores them.
//!
//! Only public members exist here: a private key (`d`) or an HMAC key
//! (`kty: oct`) has no field to be put in, so none can be published.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One public signing key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
    "kid": "x3hQ2v1kq9dZr0bWq8aQ7w", "alg": "EdDSA", "use": "sig"
}))]
pub struct Jwk {
    /// `OKP` (Ed25519) or `EC` (P-256).
    pub kty: String,
    /// `Ed25519` or `P-256`.
    pub crv: String,
    /// The public key (Ed25519), or its x coordinate (P-256), base64url.
    pub x: String,
    /// The y coordinate (P-256 only), base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    /// The `kid` header of the tokens this key signs.
    pub kid: String,
    /// The `alg` header of the tokens this key signs: `EdDSA` or `ES256`.
    pub alg: String,
    /// Always `sig`.
    #[serde(rename = "use")]
    pub usage: String,
}

/// The public keys that verify Byrd's tokens now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct JwkSet {
    pub keys: Vec<Jwk>,
}

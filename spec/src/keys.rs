//! `GET /.well-known/jwks.json`: the public keys that verify Byrd's tokens,
//! as JWKs (RFC 7517).
//!
//! Only public members exist here: a private key (`d`) or an HMAC key
//! (`kty: oct`) has no field to be put in, so none can be published.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One public signing key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ToSchema)]
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

/// The public keys that verify Byrd's tokens now: the signing key, keys
/// published before they sign, and older keys until every token they
/// signed has expired. Empty on a server that signs with HS256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct JwkSet {
    /// The keys, each named by the `kid` of the tokens it verifies.
    pub keys: Vec<Jwk>,
}

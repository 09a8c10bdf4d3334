//! An issuer's verifying keys, each pinned to the one algorithm it may
//! verify.
//!
//! A key's algorithm comes from the key itself: its type (Ed25519 is
//! EdDSA, P-256 is ES256, P-384 is ES384) or, for RSA, the JWK's `alg` or
//! else the issuer's only RSA algorithm. A token's header `alg` must then
//! equal it, so a public key can never be used as an HMAC secret, nor an
//! RSA key under PKCS#1 v1.5 when it was published for PSS. Shared secrets
//! come only from an issuer's `hs256_secret_file`: a JWK of type `oct` is
//! refused, as is any private key.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;

use super::spki::{self, SpkiKey};

/// The shortest RSA modulus accepted (RFC 7518, section 3.3).
const MIN_RSA_BITS: usize = 2048;
/// The shortest HS256 secret accepted, as for Byrd's own (RFC 7518, 3.2).
pub const MIN_SECRET_BYTES: usize = 32;

/// What is wrong with a key; the configuration error names where it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("holds no public key")]
    Empty,
    #[error("holds a private key; give the public key only")]
    PrivateKey,
    #[error("holds a {0}, not a public key")]
    NotAPublicKey(&'static str),
    #[error("a key is malformed: {0}")]
    Malformed(&'static str),
    #[error("a key of type {0} is not supported (Ed25519, P-256, P-384 or RSA)")]
    Unsupported(String),
    #[error("a shared secret (JWK `oct`) belongs in `hs256_secret_file`")]
    SharedSecret,
    #[error("a key is marked for encryption (`use: enc`), not signatures")]
    NotForSignatures,
    #[error("a {key_type} key cannot verify {declared}")]
    AlgorithmMismatch {
        key_type: &'static str,
        declared: String,
    },
    #[error("a {key_type} key verifies {algorithm}, which `algorithms` does not list")]
    AlgorithmNotListed {
        key_type: &'static str,
        algorithm: String,
    },
    #[error("an RSA key without `alg` needs exactly one RSA algorithm in `algorithms`")]
    AmbiguousRsa,
    #[error("an RSA key is shorter than {MIN_RSA_BITS} bits")]
    RsaTooShort,
    #[error("the secret is shorter than {MIN_SECRET_BYTES} bytes")]
    SecretTooShort,
}

/// One key and the algorithm it verifies.
pub struct VerifyingKey {
    /// Matched against the token's `kid`; a key without one (a PEM key)
    /// matches any `kid`.
    pub kid: Option<String>,
    pub algorithm: Algorithm,
    pub key: DecodingKey,
}

impl std::fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

/// An issuer's keys at one moment; replaced whole when a JWKS is fetched.
#[derive(Debug, Default)]
pub struct KeySet {
    keys: Vec<Arc<VerifyingKey>>,
}

impl KeySet {
    pub fn new(keys: Vec<VerifyingKey>) -> Self {
        KeySet {
            keys: keys.into_iter().map(Arc::new).collect(),
        }
    }

    pub fn algorithms(&self) -> impl Iterator<Item = Algorithm> + '_ {
        self.keys.iter().map(|key| key.algorithm)
    }

    /// The keys that may have signed a token with this header: pinned to
    /// `algorithm`, and with the token's `kid` or none.
    pub fn candidates(&self, kid: Option<&str>, algorithm: Algorithm) -> Vec<Arc<VerifyingKey>> {
        self.keys
            .iter()
            .filter(|key| key.algorithm == algorithm)
            .filter(|key| key.kid.is_none() || key.kid.as_deref() == kid)
            .cloned()
            .collect()
    }
}

/// The keys of a `keys_file`: PEM public keys, one JWK or a JWKS.
pub fn parse_key_file(text: &str, listed: &[Algorithm]) -> Result<Vec<VerifyingKey>, KeyError> {
    let keys = if text.trim_start().starts_with('{') {
        let document: serde_json::Value =
            serde_json::from_str(text).map_err(|_| KeyError::Malformed("not valid JSON"))?;
        jwks_members(&document)
            .iter()
            .map(|jwk| from_jwk(jwk, listed))
            .collect::<Result<Vec<_>, _>>()?
    } else {
        parse_pem(text, listed)?
    };
    if keys.is_empty() {
        return Err(KeyError::Empty);
    }
    Ok(keys)
}

/// The members of a JWKS (`{"keys": [...]}`), or the one JWK a document is.
pub fn jwks_members(document: &serde_json::Value) -> Vec<serde_json::Value> {
    match document.get("keys") {
        Some(serde_json::Value::Array(keys)) => keys.clone(),
        Some(_) => Vec::new(),
        None => vec![document.clone()],
    }
}

fn parse_pem(text: &str, listed: &[Algorithm]) -> Result<Vec<VerifyingKey>, KeyError> {
    use rustls_pemfile::Item;
    let mut keys = Vec::new();
    for item in rustls_pemfile::read_all(&mut text.as_bytes()) {
        match item.map_err(|_| KeyError::Malformed("not valid PEM"))? {
            Item::SubjectPublicKeyInfo(der) => {
                let key = spki::parse(der.as_ref()).map_err(KeyError::Malformed)?;
                keys.push(from_spki(key, None, listed)?);
            }
            Item::Pkcs1Key(_) | Item::Pkcs8Key(_) | Item::Sec1Key(_) => {
                return Err(KeyError::PrivateKey);
            }
            Item::X509Certificate(_) => return Err(KeyError::NotAPublicKey("certificate")),
            _ => return Err(KeyError::NotAPublicKey("PEM section of another kind")),
        }
    }
    Ok(keys)
}

fn from_spki(
    key: SpkiKey<'_>,
    kid: Option<String>,
    listed: &[Algorithm],
) -> Result<VerifyingKey, KeyError> {
    let (key_type, algorithm, key) = match key {
        SpkiKey::Ed25519(x) => ("Ed25519", Algorithm::EdDSA, DecodingKey::from_ed_der(x)),
        SpkiKey::P256(point) => ("P-256", Algorithm::ES256, DecodingKey::from_ec_der(point)),
        SpkiKey::P384(point) => ("P-384", Algorithm::ES384, DecodingKey::from_ec_der(point)),
        SpkiKey::Rsa { n, e } => return rsa_key(n, e, kid, None, listed),
    };
    listed_key(key_type, algorithm, key, kid, listed)
}

/// The key, once its algorithm is known to be among the issuer's.
fn listed_key(
    key_type: &'static str,
    algorithm: Algorithm,
    key: DecodingKey,
    kid: Option<String>,
    listed: &[Algorithm],
) -> Result<VerifyingKey, KeyError> {
    if !listed.contains(&algorithm) {
        return Err(KeyError::AlgorithmNotListed {
            key_type,
            algorithm: format!("{algorithm:?}"),
        });
    }
    Ok(VerifyingKey {
        kid,
        algorithm,
        key,
    })
}

fn rsa_algorithm(declared: Option<Algorithm>, listed: &[Algorithm]) -> Result<Algorithm, KeyError> {
    if let Some(declared) = declared {
        return Ok(declared);
    }
    let mut rsa = listed.iter().filter(|algorithm| is_rsa(**algorithm));
    match (rsa.next(), rsa.next()) {
        (Some(only), None) => Ok(*only),
        _ => Err(KeyError::AmbiguousRsa),
    }
}

pub fn is_rsa(algorithm: Algorithm) -> bool {
    matches!(
        algorithm,
        Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512
    )
}

/// The members of a JWK this server reads; anything else is ignored.
#[derive(Deserialize)]
struct Jwk {
    kty: String,
    kid: Option<String>,
    alg: Option<String>,
    #[serde(rename = "use")]
    usage: Option<String>,
    crv: Option<String>,
    x: Option<String>,
    y: Option<String>,
    n: Option<String>,
    e: Option<String>,
    /// Present only in private keys.
    d: Option<serde_json::Value>,
}

/// A public JWK as a verifying key (RFC 7517, RFC 8037).
pub fn from_jwk(value: &serde_json::Value, listed: &[Algorithm]) -> Result<VerifyingKey, KeyError> {
    let jwk = Jwk::deserialize(value).map_err(|_| KeyError::Malformed("not a JWK"))?;
    if jwk.d.is_some() {
        return Err(KeyError::PrivateKey);
    }
    if jwk.usage.as_deref().is_some_and(|usage| usage != "sig") {
        return Err(KeyError::NotForSignatures);
    }
    let declared = match jwk.alg.as_deref() {
        Some(alg) => Some(
            alg.parse::<Algorithm>()
                .map_err(|_| KeyError::AlgorithmMismatch {
                    key_type: "JWK",
                    declared: alg.to_owned(),
                })?,
        ),
        None => None,
    };
    let bytes = |part: &Option<String>| -> Result<Vec<u8>, KeyError> {
        let part = part
            .as_deref()
            .ok_or(KeyError::Malformed("a JWK lacks a member"))?;
        URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| KeyError::Malformed("a JWK member is not base64url"))
    };
    let (key_type, algorithm, key) = match (jwk.kty.as_str(), jwk.crv.as_deref()) {
        ("OKP", Some("Ed25519")) => {
            let x = bytes(&jwk.x)?;
            if x.len() != 32 {
                return Err(wrong_length());
            }
            ("Ed25519", Algorithm::EdDSA, DecodingKey::from_ed_der(&x))
        }
        ("EC", Some(curve @ ("P-256" | "P-384"))) => {
            let (x, y) = (bytes(&jwk.x)?, bytes(&jwk.y)?);
            let (size, algorithm) = match curve {
                "P-256" => (32, Algorithm::ES256),
                _ => (48, Algorithm::ES384),
            };
            if x.len() != size || y.len() != size {
                return Err(wrong_length());
            }
            let point = [&[0x04][..], &x, &y].concat();
            ("EC", algorithm, DecodingKey::from_ec_der(&point))
        }
        ("RSA", _) => {
            let (n, e) = (bytes(&jwk.n)?, bytes(&jwk.e)?);
            return rsa_key(&n, &e, jwk.kid, declared, listed);
        }
        ("oct", _) => return Err(KeyError::SharedSecret),
        (kty, crv) => {
            return Err(KeyError::Unsupported(match crv {
                Some(crv) => format!("{kty} {crv}"),
                None => kty.to_owned(),
            }));
        }
    };
    if let Some(declared) = declared
        && declared != algorithm
    {
        return Err(KeyError::AlgorithmMismatch {
            key_type,
            declared: format!("{declared:?}"),
        });
    }
    listed_key(key_type, algorithm, key, jwk.kid, listed)
}

/// An RSA key from its modulus and exponent, with its algorithm: the
/// declared one, or else the issuer's only RSA one.
fn rsa_key(
    n: &[u8],
    e: &[u8],
    kid: Option<String>,
    declared: Option<Algorithm>,
    listed: &[Algorithm],
) -> Result<VerifyingKey, KeyError> {
    if let Some(declared) = declared
        && !is_rsa(declared)
    {
        return Err(KeyError::AlgorithmMismatch {
            key_type: "RSA",
            declared: format!("{declared:?}"),
        });
    }
    let n = n.strip_prefix(&[0]).unwrap_or(n);
    if n.len() * 8 < MIN_RSA_BITS {
        return Err(KeyError::RsaTooShort);
    }
    let algorithm = rsa_algorithm(declared, listed)?;
    let key = DecodingKey::from_rsa_raw_components(n, e);
    listed_key("RSA", algorithm, key, kid, listed)
}

fn wrong_length() -> KeyError {
    KeyError::Malformed("a JWK's coordinates have the wrong length for its curve")
}

/// An `hs256_secret_file`'s key: its bytes less one final newline.
pub fn hs256_secret(mut bytes: Vec<u8>) -> Result<VerifyingKey, KeyError> {
    if bytes.ends_with(b"\n") {
        bytes.pop();
        if bytes.ends_with(b"\r") {
            bytes.pop();
        }
    }
    if bytes.len() < MIN_SECRET_BYTES {
        return Err(KeyError::SecretTooShort);
    }
    Ok(VerifyingKey {
        kid: None,
        algorithm: Algorithm::HS256,
        key: DecodingKey::from_secret(&bytes),
    })
}

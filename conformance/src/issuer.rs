//! The test issuer: a backend the server under test trusts (README,
//! "Trusted issuers"), whose private key the config names so the runner
//! can mint what that backend would: visitor identity tokens and agent
//! tokens. Also keys made on the spot, for tokens signed by a key no
//! issuer holds.
//!
//! Only Ed25519 (`EdDSA`) and P-256 (`ES256`) keys in PKCS#8 PEM are read,
//! which is what `openssl genpkey` writes. The private key never leaves
//! this module: nothing prints it, and `Debug` shows only its algorithm.

use std::fmt;
use std::path::{Path, PathBuf};

use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _,
};
use serde_json::{Value, json};

use crate::jwt;

/// DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410), before the
/// 32 key bytes.
const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];
/// DER prefix of a P-256 SubjectPublicKeyInfo (RFC 5480), before the
/// 65-byte uncompressed point.
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// What purposes the server trusts the test issuer for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Purposes {
    pub agent_tokens: bool,
    pub visitor_identity: bool,
}

/// A backend the server trusts, as the config names it.
#[derive(Debug)]
pub struct TestIssuer {
    /// The tokens' `iss`.
    pub iss: String,
    /// The tokens' `aud`: the issuer's audience in the server's file.
    pub audience: String,
    /// A `kid` header, when the server's issuer keys carry kids.
    pub kid: Option<String>,
    pub purposes: Purposes,
    pub key: SigningKey,
}

impl TestIssuer {
    /// The header of a token this issuer signs.
    pub fn header(&self) -> Value {
        let mut header = json!({"alg": self.key.alg(), "typ": "JWT"});
        if let Some(kid) = &self.kid {
            header["kid"] = json!(kid);
        }
        header
    }

    /// Valid identity claims for the site's user `sub`, living five
    /// minutes (the server takes up to ten).
    pub fn identity_claims(&self, sub: &str) -> Value {
        let now = jwt::now();
        json!({
            "iss": self.iss, "aud": self.audience, "sub": sub,
            "name": "Conformance Shopper", "email": "shopper@conformance.example",
            "attributes": {"plan": "conformance"},
            "iat": now, "exp": now + 300,
        })
    }

    /// Valid agent claims for agent `agent_id`, living `lifetime` seconds.
    /// They claim the agent is an admin called "Claimed": the server must
    /// take role and name from its own records.
    pub fn agent_claims(&self, agent_id: &str, lifetime: i64) -> Value {
        let now = jwt::now();
        json!({
            "type": "agent", "iss": self.iss, "aud": self.audience, "sub": agent_id,
            "role": "admin", "name": "Claimed", "iat": now, "exp": now + lifetime,
            "jti": uuid::Uuid::new_v4().to_string(),
        })
    }

    /// `claims` under this issuer's header and key.
    pub fn sign(&self, claims: &Value) -> String {
        self.key.sign(&self.header(), claims)
    }
}

/// Why the test issuer's key file cannot be used; never quotes the file.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{} holds no PKCS#8 private key (`-----BEGIN PRIVATE KEY-----`, as `openssl genpkey` writes)",
        path.display()
    )]
    NoPkcs8 { path: PathBuf },
    #[error("{} is no Ed25519 or P-256 private key", path.display())]
    Unsupported { path: PathBuf },
}

/// A private signing key: Ed25519 or P-256.
pub struct SigningKey(Pair);

enum Pair {
    Ed25519(Ed25519KeyPair),
    P256(EcdsaKeyPair),
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("alg", &self.alg())
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Reads a PKCS#8 PEM file.
    pub fn read(path: &Path) -> Result<SigningKey, KeyFileError> {
        let text = std::fs::read(path).map_err(|source| KeyFileError::Read {
            path: path.to_owned(),
            source,
        })?;
        let no_pkcs8 = || KeyFileError::NoPkcs8 {
            path: path.to_owned(),
        };
        let key = rustls_pemfile::private_key(&mut text.as_slice())
            .ok()
            .flatten()
            .ok_or_else(no_pkcs8)?;
        let rustls::pki_types::PrivateKeyDer::Pkcs8(der) = key else {
            return Err(no_pkcs8());
        };
        SigningKey::from_pkcs8(der.secret_pkcs8_der()).ok_or_else(|| KeyFileError::Unsupported {
            path: path.to_owned(),
        })
    }

    fn from_pkcs8(der: &[u8]) -> Option<SigningKey> {
        if let Ok(pair) = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der) {
            return Some(SigningKey(Pair::Ed25519(pair)));
        }
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der, &SystemRandom::new())
            .ok()
            .map(|pair| SigningKey(Pair::P256(pair)))
    }

    /// A new key of the same kind as `self`, which no issuer holds.
    pub fn stranger(&self) -> SigningKey {
        match self.0 {
            Pair::Ed25519(_) => SigningKey::generate_ed25519(),
            Pair::P256(_) => SigningKey::generate_p256(),
        }
    }

    /// A new Ed25519 key.
    pub fn generate_ed25519() -> SigningKey {
        SigningKey::generated(Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()))
    }

    /// A new P-256 key.
    pub fn generate_p256() -> SigningKey {
        SigningKey::generated(EcdsaKeyPair::generate_pkcs8(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            &SystemRandom::new(),
        ))
    }

    fn generated(document: Result<ring::pkcs8::Document, ring::error::Unspecified>) -> SigningKey {
        document
            .ok()
            .and_then(|document| SigningKey::from_pkcs8(document.as_ref()))
            .unwrap_or_else(|| unreachable!("ring makes keys it can read"))
    }

    /// The JWS `alg` of this key.
    pub fn alg(&self) -> &'static str {
        match self.0 {
            Pair::Ed25519(_) => "EdDSA",
            Pair::P256(_) => "ES256",
        }
    }

    /// The public key's raw bytes: 32 for Ed25519, the 65-byte point for
    /// P-256.
    pub fn public_raw(&self) -> &[u8] {
        match &self.0 {
            Pair::Ed25519(pair) => pair.public_key().as_ref(),
            Pair::P256(pair) => pair.public_key().as_ref(),
        }
    }

    /// The public key as SPKI PEM, as the server's issuer `keys_file` has it.
    pub fn public_pem(&self) -> String {
        let prefix: &[u8] = match self.0 {
            Pair::Ed25519(_) => &ED25519_SPKI_PREFIX,
            Pair::P256(_) => &P256_SPKI_PREFIX,
        };
        let der = [prefix, self.public_raw()].concat();
        let text = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, der);
        let lines: Vec<&str> = text
            .as_bytes()
            .chunks(64)
            .map(|line| std::str::from_utf8(line).unwrap_or_default())
            .collect();
        format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            lines.join("\n")
        )
    }

    /// The public key as a JWK, as a hostile `jwk` header would carry it.
    pub fn public_jwk(&self) -> Value {
        let raw = self.public_raw();
        match self.0 {
            Pair::Ed25519(_) => json!({"kty": "OKP", "crv": "Ed25519", "x": jwt::b64(raw)}),
            Pair::P256(_) => json!({"kty": "EC", "crv": "P-256",
                "x": jwt::b64(&raw[1..33]), "y": jwt::b64(&raw[33..])}),
        }
    }

    /// `claims` under `header`, signed with this key whatever the header
    /// says.
    pub fn sign(&self, header: &Value, claims: &Value) -> String {
        let input = jwt::signing_input(header, claims);
        let signature = match &self.0 {
            Pair::Ed25519(pair) => pair.sign(input.as_bytes()).as_ref().to_vec(),
            Pair::P256(pair) => pair
                .sign(&SystemRandom::new(), input.as_bytes())
                .map(|signature| signature.as_ref().to_vec())
                .unwrap_or_default(),
        };
        format!("{input}.{}", jwt::b64(&signature))
    }
}

/// Reads the test issuer's keys from the config file's values: all of
/// `test_issuer`, `test_issuer_audience` and `test_issuer_key_file`, or
/// none (no test issuer).
pub struct IssuerKeys {
    pub iss: Option<String>,
    pub audience: Option<String>,
    pub key_file: Option<PathBuf>,
    pub kid: Option<String>,
    pub purposes: Option<Vec<String>>,
}

/// Why the test issuer's keys do not make a test issuer.
#[derive(Debug, thiserror::Error)]
pub enum IssuerConfigError {
    #[error(
        "`{missing}` is missing: a test issuer needs `test_issuer`, `test_issuer_audience` and `test_issuer_key_file`"
    )]
    Incomplete { missing: &'static str },
    #[error(
        "`test_issuer_purposes` may hold only \"agent_tokens\" and \"visitor_identity\", and at least one"
    )]
    Purposes,
    #[error(transparent)]
    Key(#[from] KeyFileError),
}

impl IssuerKeys {
    pub fn load(self) -> Result<Option<TestIssuer>, IssuerConfigError> {
        let IssuerKeys {
            iss,
            audience,
            key_file,
            kid,
            purposes,
        } = self;
        if iss.is_none() && audience.is_none() && key_file.is_none() {
            return Ok(None);
        }
        let (iss, audience, key_file) = match (iss, audience, key_file) {
            (Some(iss), Some(audience), Some(key_file)) => (iss, audience, key_file),
            (None, _, _) => {
                return Err(IssuerConfigError::Incomplete {
                    missing: "test_issuer",
                });
            }
            (_, None, _) => {
                return Err(IssuerConfigError::Incomplete {
                    missing: "test_issuer_audience",
                });
            }
            (_, _, None) => {
                return Err(IssuerConfigError::Incomplete {
                    missing: "test_issuer_key_file",
                });
            }
        };
        let purposes = match purposes {
            None => Purposes {
                agent_tokens: true,
                visitor_identity: true,
            },
            Some(list) => {
                let known = ["agent_tokens", "visitor_identity"];
                if list.is_empty() || list.iter().any(|p| !known.contains(&p.as_str())) {
                    return Err(IssuerConfigError::Purposes);
                }
                Purposes {
                    agent_tokens: list.iter().any(|p| p == "agent_tokens"),
                    visitor_identity: list.iter().any(|p| p == "visitor_identity"),
                }
            }
        };
        Ok(Some(TestIssuer {
            key: SigningKey::read(&key_file)?,
            iss,
            audience,
            kid,
            purposes,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ed25519_pem() -> String {
        let document = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
        pem("PRIVATE KEY", document.as_ref())
    }

    fn pem(label: &str, der: &[u8]) -> String {
        let text = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, der);
        format!("-----BEGIN {label}-----\n{text}\n-----END {label}-----\n")
    }

    #[test]
    fn keys_sign_what_their_public_half_verifies() {
        let ed = SigningKey::generate_ed25519();
        let es = ed.stranger();
        assert_eq!(ed.alg(), "EdDSA");
        let p256 = SigningKey::generate_p256();
        assert_eq!(p256.alg(), "ES256");
        assert_eq!(p256.stranger().alg(), "ES256");
        let claims = json!({"sub": "x"});
        for (key, algorithm) in [
            (
                &ed,
                &ring::signature::ED25519 as &dyn ring::signature::VerificationAlgorithm,
            ),
            (&p256, &ring::signature::ECDSA_P256_SHA256_FIXED),
        ] {
            let token = key.sign(&json!({"alg": key.alg()}), &claims);
            let (input, signature) = token.rsplit_once('.').unwrap();
            let signature = jwt::unb64(signature).unwrap();
            let public = ring::signature::UnparsedPublicKey::new(algorithm, key.public_raw());
            assert!(public.verify(input.as_bytes(), &signature).is_ok());
            // The stranger's public key does not verify it.
            let stranger = key.stranger();
            let other = ring::signature::UnparsedPublicKey::new(algorithm, stranger.public_raw());
            assert!(other.verify(input.as_bytes(), &signature).is_err());
        }
        assert_ne!(es.public_raw(), ed.public_raw());
        assert!(
            ed.public_pem()
                .starts_with("-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA")
        );
        assert!(
            p256.public_pem()
                .starts_with("-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE")
        );
    }

    #[test]
    fn the_test_issuer_is_all_three_keys_or_none() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("issuer.pem");
        std::fs::write(&path, ed25519_pem()).unwrap();
        let keys = |iss: Option<&str>, audience: Option<&str>, file: Option<&Path>| IssuerKeys {
            iss: iss.map(str::to_owned),
            audience: audience.map(str::to_owned),
            key_file: file.map(Path::to_owned),
            kid: None,
            purposes: None,
        };
        assert!(keys(None, None, None).load().unwrap().is_none());
        let issuer = keys(Some("https://shop.test"), Some("byrd"), Some(&path))
            .load()
            .unwrap()
            .unwrap();
        assert_eq!(issuer.key.alg(), "EdDSA");
        assert!(issuer.purposes.agent_tokens && issuer.purposes.visitor_identity);
        assert_eq!(issuer.header(), json!({"alg": "EdDSA", "typ": "JWT"}));
        let missing = keys(Some("https://shop.test"), None, Some(&path))
            .load()
            .unwrap_err();
        assert!(
            missing.to_string().contains("test_issuer_audience"),
            "{missing}"
        );
        let only = IssuerKeys {
            purposes: Some(vec!["visitor_identity".into()]),
            kid: Some("k1".into()),
            ..keys(Some("i"), Some("a"), Some(&path))
        };
        let only = only.load().unwrap().unwrap();
        assert!(!only.purposes.agent_tokens && only.purposes.visitor_identity);
        assert_eq!(only.header()["kid"], "k1");
        let typo = IssuerKeys {
            purposes: Some(vec!["visitor_identities".into()]),
            ..keys(Some("i"), Some("a"), Some(&path))
        };
        assert!(matches!(typo.load(), Err(IssuerConfigError::Purposes)));
    }

    #[test]
    fn a_key_file_that_is_no_usable_key_is_refused_without_quoting_it() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            (
                "public.pem",
                ed25519_pem().replace("PRIVATE KEY", "PUBLIC KEY"),
            ),
            ("garbage.pem", "s3cr3t but no key".to_owned()),
            (
                "rsa.pem",
                pem("PRIVATE KEY", b"s3cr3t bytes that are no key"),
            ),
        ];
        for (name, text) in cases {
            let path = dir.path().join(name);
            std::fs::write(&path, &text).unwrap();
            let error = SigningKey::read(&path).unwrap_err().to_string();
            assert!(error.contains(name), "{error}");
            assert!(
                !error.contains("s3cr3t") && !error.contains("MC4C"),
                "{error}"
            );
        }
        let absent = SigningKey::read(&dir.path().join("absent.pem")).unwrap_err();
        assert!(matches!(absent, KeyFileError::Read { .. }));
    }

    #[test]
    fn debug_output_shows_no_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("issuer.pem");
        let text = ed25519_pem();
        std::fs::write(&path, &text).unwrap();
        let key = SigningKey::read(&path).unwrap();
        let printed = format!("{key:?}");
        assert_eq!(printed, "SigningKey { alg: \"EdDSA\", .. }");
    }

    /// The identity claims the runner mints, as a reviewer reads them: a
    /// change of their shape shows as a diff, and they must stay valid
    /// under `spec/v1/visitor-identity.schema.json`.
    #[test]
    fn minted_identity_claims_follow_the_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("issuer.pem");
        std::fs::write(&path, ed25519_pem()).unwrap();
        let issuer = IssuerKeys {
            iss: Some("https://shop.conformance.test".into()),
            audience: Some("byrd-visitors".into()),
            key_file: Some(path),
            kid: None,
            purposes: None,
        }
        .load()
        .unwrap()
        .unwrap();
        let claims = issuer.identity_claims("user-1");
        let schema: Value =
            serde_json::from_str(include_str!("../../spec/v1/visitor-identity.schema.json"))
                .unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        assert!(validator.is_valid(&claims), "{claims}");
        assert_eq!(
            claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
            300
        );
        insta::assert_json_snapshot!("identity_claims", claims, {".iat" => "[iat]", ".exp" => "[exp]"});
        let agent = issuer.agent_claims("0193a5f2-7000-7abc-8def-0123456789ab", 300);
        let documents = crate::documents::Documents::embedded().unwrap();
        assert_eq!(documents.claims_problems(&agent), Vec::<String>::new());
        insta::assert_json_snapshot!("agent_claims", agent, {
            ".iat" => "[iat]", ".exp" => "[exp]", ".jti" => "[jti]"
        });
    }
}

//! Key material: new keys made with `ring`, and stored keys made ready to
//! sign and verify with `jsonwebtoken`.
//!
//! A new key is a PKCS#8 document (Ed25519 or P-256), which is what is
//! sealed; its public part is kept as a [`Jwk`]. A key's `kid` is 128
//! random bits, so it says nothing about how many keys came before.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair};

use super::jwk::Jwk;
use super::seal::KeyringKey;
use crate::store::{KeyAlgorithm, SigningKeyRow};

/// `jsonwebtoken`'s name for `alg`.
pub fn jwt_algorithm(alg: KeyAlgorithm) -> Algorithm {
    match alg {
        KeyAlgorithm::EdDsa => Algorithm::EdDSA,
        KeyAlgorithm::Es256 => Algorithm::ES256,
        KeyAlgorithm::Hs256 => Algorithm::HS256,
    }
}

/// A new key of `alg` (`EdDsa` or `Es256`), its private part sealed under
/// `sealing`; its times are the rules' to set.
pub fn generate(
    alg: KeyAlgorithm,
    sealing: &KeyringKey,
    now: DateTime<Utc>,
) -> anyhow::Result<SigningKeyRow> {
    let rng = SystemRandom::new();
    let mut kid = [0u8; 16];
    rng.fill(&mut kid)
        .map_err(|_| anyhow::anyhow!("no randomness for a kid"))?;
    let kid = URL_SAFE_NO_PAD.encode(kid);
    let (pkcs8, jwk) = match alg {
        KeyAlgorithm::EdDsa => {
            let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng)
                .map_err(|_| anyhow::anyhow!("cannot generate an Ed25519 key"))?;
            let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref())
                .map_err(|_| anyhow::anyhow!("ring refused its own Ed25519 key"))?;
            let jwk = Jwk {
                kty: "OKP".into(),
                crv: "Ed25519".into(),
                x: URL_SAFE_NO_PAD.encode(pair.public_key().as_ref()),
                y: None,
                kid: kid.clone(),
                alg: alg.jws().into(),
                usage: "sig".into(),
            };
            (pkcs8.as_ref().to_vec(), jwk)
        }
        KeyAlgorithm::Es256 => {
            let signing = &ECDSA_P256_SHA256_FIXED_SIGNING;
            let pkcs8 = EcdsaKeyPair::generate_pkcs8(signing, &rng)
                .map_err(|_| anyhow::anyhow!("cannot generate a P-256 key"))?;
            let pair = EcdsaKeyPair::from_pkcs8(signing, pkcs8.as_ref(), &rng)
                .map_err(|_| anyhow::anyhow!("ring refused its own P-256 key"))?;
            // Uncompressed point: 0x04, then x and y, 32 bytes each.
            let point = pair.public_key().as_ref();
            let jwk = Jwk {
                kty: "EC".into(),
                crv: "P-256".into(),
                x: URL_SAFE_NO_PAD.encode(&point[1..33]),
                y: Some(URL_SAFE_NO_PAD.encode(&point[33..65])),
                kid: kid.clone(),
                alg: alg.jws().into(),
                usage: "sig".into(),
            };
            (pkcs8.as_ref().to_vec(), jwk)
        }
        KeyAlgorithm::Hs256 => anyhow::bail!("the keyring holds no HS256 keys of its own"),
    };
    Ok(SigningKeyRow {
        sealed_private: Some(sealing.seal(&kid, &pkcs8)?),
        public_jwk: Some(serde_json::to_string(&jwk)?),
        kid,
        alg,
        created_at: now,
        activates_at: now,
        verify_until: None,
        retired_at: None,
    })
}

/// A key ready for `jsonwebtoken`.
pub struct LoadedKey {
    /// `alg` and `kid`, the header of the tokens it signs.
    pub header: Header,
    /// `None` for a key this node will not sign with (superseded, or the
    /// shared secret in a keyring).
    pub encoding: Option<EncodingKey>,
    pub decoding: DecodingKey,
    /// What the JWKS shows; `None` for an HMAC key.
    pub jwk: Option<Jwk>,
}

impl std::fmt::Debug for LoadedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedKey")
            .field("kid", &self.header.kid)
            .field("alg", &self.header.alg)
            .field("signs", &self.encoding.is_some())
            .finish_non_exhaustive()
    }
}

impl LoadedKey {
    /// The shared secret as a key: HS256 under `kid`.
    pub fn shared_secret(kid: &str, secret: &[u8], signs: bool) -> LoadedKey {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(kid.to_owned());
        LoadedKey {
            header,
            encoding: signs.then(|| EncodingKey::from_secret(secret)),
            decoding: DecodingKey::from_secret(secret),
            jwk: None,
        }
    }

    /// A keyring key from its row; its private part is opened only when
    /// `signs`.
    pub fn from_row(
        row: &SigningKeyRow,
        sealing: &KeyringKey,
        signs: bool,
    ) -> anyhow::Result<LoadedKey> {
        let Some(public) = &row.public_jwk else {
            anyhow::bail!("key {} has no public part", row.kid);
        };
        let jwk: Jwk = serde_json::from_str(public)?;
        anyhow::ensure!(
            jwk.kid == row.kid && jwk.alg == row.alg.jws(),
            "key {}'s public part names another key",
            row.kid
        );
        let decoding = match (row.alg, &jwk.y) {
            (KeyAlgorithm::EdDsa, None) => DecodingKey::from_ed_components(&jwk.x)?,
            (KeyAlgorithm::Es256, Some(y)) => DecodingKey::from_ec_components(&jwk.x, y)?,
            _ => anyhow::bail!("key {}'s public part does not fit its algorithm", row.kid),
        };
        let encoding = match (&row.sealed_private, signs) {
            (Some(sealed), true) => {
                let pkcs8 = sealing.open(&row.kid, sealed).map_err(|error| {
                    anyhow::anyhow!(
                        "key {}: {error}: is the keyring key (BYRD_KEYRING_KEY, or BYRD_JWT_SECRET it is derived from) the same on every node?",
                        row.kid
                    )
                })?;
                Some(match row.alg {
                    KeyAlgorithm::Es256 => EncodingKey::from_ec_der(&pkcs8),
                    _ => EncodingKey::from_ed_der(&pkcs8),
                })
            }
            _ => None,
        };
        let mut header = Header::new(jwt_algorithm(row.alg));
        header.kid = Some(row.kid.clone());
        Ok(LoadedKey {
            header,
            encoding,
            decoding,
            jwk: Some(jwk),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keys `ring` makes sign with `jsonwebtoken` and verify from their
    /// JWK alone, for both algorithms.
    #[test]
    fn generated_keys_sign_and_verify_through_their_jwk() {
        let sealing = KeyringKey::derived(b"a secret of thirty-two bytes or more!");
        for alg in [KeyAlgorithm::EdDsa, KeyAlgorithm::Es256] {
            let row = generate(alg, &sealing, Utc::now()).unwrap();
            assert_eq!(row.kid.len(), 22);
            let public = row.public_jwk.clone().unwrap();
            assert!(!public.contains("\"d\""), "{public}");
            let key = LoadedKey::from_row(&row, &sealing, true).unwrap();
            let claims = serde_json::json!({"sub": "x", "exp": 4_000_000_000u64});
            let token =
                jsonwebtoken::encode(&key.header, &claims, key.encoding.as_ref().unwrap()).unwrap();
            let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_str(&public).unwrap();
            let mut validation = jsonwebtoken::Validation::new(jwt_algorithm(alg));
            validation.required_spec_claims.clear();
            let decoded = jsonwebtoken::decode::<serde_json::Value>(
                &token,
                &DecodingKey::from_jwk(&jwk).unwrap(),
                &validation,
            );
            assert!(decoded.is_ok(), "{alg:?}: {decoded:?}");
            assert!(
                jsonwebtoken::decode::<serde_json::Value>(&token, &key.decoding, &validation)
                    .is_ok()
            );
        }
    }

    #[test]
    fn a_key_sealed_under_another_keyring_key_does_not_load_to_sign() {
        let sealing = KeyringKey::derived(b"a secret of thirty-two bytes or more!");
        let other = KeyringKey::derived(b"another secret of thirty-two bytes!!");
        let row = generate(KeyAlgorithm::EdDsa, &sealing, Utc::now()).unwrap();
        assert!(LoadedKey::from_row(&row, &other, true).is_err());
        // Verifying needs the public part only.
        assert!(LoadedKey::from_row(&row, &other, false).is_ok());
    }
}

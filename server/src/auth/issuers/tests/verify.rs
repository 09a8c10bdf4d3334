//! Verifying tokens of key-file issuers: what passes, and every forgery
//! and mistake that must not.

use jsonwebtoken::{Algorithm, Header};
use serde_json::json;

use super::super::keys::{KeySet, hs256_secret};
use super::super::{IssuerTokenError, TrustedIssuers};
use super::fixtures::*;

/// Two issuers, `shop` (EdDSA) and `partner` (ES256), and their keys.
struct World {
    issuers: TrustedIssuers,
    shop: TestKey,
    partner: TestKey,
    _dir: tempfile::TempDir,
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let (shop, partner) = (ed25519(), p256());
    let shop_file = write(dir.path(), "shop.pem", &shop.public_pem);
    let partner_file = write(dir.path(), "partner.pem", &partner.public_pem);
    let text = format!(
        "{}{}",
        key_file_issuer("shop", r#"["EdDSA"]"#, &shop_file),
        key_file_issuer("partner", r#"["ES256"]"#, &partner_file)
    );
    World {
        issuers: issuers(&text),
        shop,
        partner,
        _dir: dir,
    }
}

async fn refused(world: &World, token: &str) -> IssuerTokenError {
    match world.issuers.verify_agent(token).await {
        Ok(claims) => panic!("accepted: {claims:?}"),
        Err(error) => error,
    }
}

#[tokio::test]
async fn agent_tokens_of_each_issuer_verify_with_its_own_key() {
    let world = world();
    let token = mint(&world.shop, &agent_claims("shop"));
    assert!(world.issuers.names_issuer_of(&token));
    let claims = world.issuers.verify_agent(&token).await.unwrap();
    assert_eq!(claims.iss, "shop");
    let token = mint(&world.partner, &agent_claims("partner"));
    assert_eq!(
        world.issuers.verify_agent(&token).await.unwrap().iss,
        "partner"
    );
}

#[tokio::test]
async fn a_token_signed_by_another_issuers_key_is_refused() {
    let world = world();
    // `partner`'s key, `shop`'s name: each alone is genuine.
    let mut header = Header::new(Algorithm::ES256);
    header.kid = None;
    let forged = mint_with(header, &world.partner, &agent_claims("shop"));
    assert!(matches!(
        refused(&world, &forged).await,
        IssuerTokenError::Invalid(_)
    ));
}

#[tokio::test]
async fn a_public_key_used_as_an_hmac_secret_is_refused() {
    let world = world();
    let claims = agent_claims("shop");
    let header = json!({"alg": "HS256", "typ": "JWT"});
    for secret in [world.shop.public_pem.as_bytes(), &world.shop.public_raw] {
        let forged = hmac_token(&header, &claims, secret);
        refused(&world, &forged).await;
    }
    // Even an issuer with an HS256 secret never tries its public key as one.
    let secret = hs256_secret(b"a shared secret of at least 32 bytes".to_vec()).unwrap();
    let keys = KeySet::new(vec![secret]);
    assert_eq!(keys.candidates(None, Algorithm::HS256).len(), 1);
    assert!(keys.candidates(None, Algorithm::EdDSA).is_empty());
}

#[tokio::test]
async fn alg_none_and_key_carrying_headers_are_refused() {
    let world = world();
    let claims = agent_claims("shop");
    for alg in ["none", "None", "NONE"] {
        refused(&world, &unsigned(&json!({"alg": alg}), &claims)).await;
    }
    let mut jku = Header::new(Algorithm::EdDSA);
    jku.jku = Some("https://attacker.example/jwks.json".into());
    let mut x5u = Header::new(Algorithm::EdDSA);
    x5u.x5u = Some("https://attacker.example/cert.pem".into());
    let mut x5c = Header::new(Algorithm::EdDSA);
    x5c.x5c = Some(vec!["MIIB".into()]);
    let mut jwk = Header::new(Algorithm::EdDSA);
    jwk.jwk = Some(
        serde_json::from_value(json!({"kty": "OKP", "crv": "Ed25519",
        "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}))
        .unwrap(),
    );
    // Signed with the genuine key: the header alone must refuse them.
    for header in [jku, x5u, x5c, jwk] {
        let token = mint_with(header, &world.shop, &claims);
        assert!(matches!(
            refused(&world, &token).await,
            IssuerTokenError::Invalid(_)
        ));
    }
}

#[tokio::test]
async fn wrong_audience_time_and_lifetime_are_refused() {
    let world = world();
    let base = agent_claims("shop");
    let now = now();
    let mut cases = Vec::new();
    for (claim, value) in [
        ("aud", json!("someone-else")),
        ("iat", json!(now + 120)),
        ("nbf", json!(now + 120)),
        ("exp", json!(now + 3600)),
    ] {
        let mut claims = base.clone();
        claims[claim] = value;
        cases.push(claims);
    }
    for missing in ["iat", "exp", "jti", "aud"] {
        let mut claims = base.clone();
        claims.as_object_mut().unwrap().remove(missing);
        cases.push(claims);
    }
    let mut session = base.clone();
    session["sid"] = json!("0193a5f2-6c1e-7d40-9a5e-3f1b2c4d5e6f");
    cases.push(session);
    let mut guest = base.clone();
    guest["type"] = json!("guest");
    cases.push(guest);
    for claims in cases {
        let token = mint(&world.shop, &claims);
        assert!(
            world.issuers.verify_agent(&token).await.is_err(),
            "{claims}"
        );
    }
    let mut expired = base.clone();
    expired["iat"] = json!(now - 400);
    expired["exp"] = json!(now - 100);
    let token = mint(&world.shop, &expired);
    assert_eq!(refused(&world, &token).await, IssuerTokenError::Expired);
}

#[tokio::test]
async fn tokens_of_byrd_or_of_no_trusted_issuer_are_not_theirs() {
    let world = world();
    let byrd = mint(&world.shop, &agent_claims("byrd"));
    assert!(!world.issuers.names_issuer_of(&byrd));
    for garbage in ["", "a.b.c", "x.eyJpc3MiOjF9.y", "...."] {
        assert!(!world.issuers.names_issuer_of(garbage), "{garbage}");
    }
    let none = TrustedIssuers::none(own());
    assert!(!none.names_issuer_of(&mint(&world.shop, &agent_claims("shop"))));
}

#[tokio::test]
async fn each_kind_of_token_needs_its_purpose() {
    let dir = tempfile::tempdir().unwrap();
    let key = ed25519();
    let file = write(dir.path(), "key.pem", &key.public_pem);
    let agents_only =
        key_file_issuer("shop", r#"["EdDSA"]"#, &file).replace(", \"visitor_identity\"", "");
    let issuers = issuers(&agents_only);
    let identity = mint(&key, &identity_claims("shop"));
    assert!(issuers.verify_identity(&identity).await.is_err());
    assert!(
        issuers
            .verify_agent(&mint(&key, &agent_claims("shop")))
            .await
            .is_ok()
    );

    let identities_only =
        key_file_issuer("shop", r#"["EdDSA"]"#, &file).replace("\"agent_tokens\", ", "");
    let issuers = super::fixtures::issuers(&identities_only);
    assert!(issuers.verify_identity(&identity).await.is_ok());
    assert!(
        issuers
            .verify_agent(&mint(&key, &agent_claims("shop")))
            .await
            .is_err()
    );
}

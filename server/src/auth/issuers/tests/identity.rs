//! Visitor identity tokens: their bounded fields, and the property that
//! any token with a wrong signature, issuer, audience or lifetime is
//! refused.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::super::{IdentityError, TrustedIssuers};
use super::fixtures::*;

fn shop() -> (TrustedIssuers, TestKey, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let key = ed25519();
    let file = write(dir.path(), "key.pem", &key.public_pem);
    let issuers = issuers(&key_file_issuer("shop", r#"["EdDSA"]"#, &file));
    (issuers, key, dir)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_valid_identity_is_read_into_its_fields() {
    let (issuers, key, _dir) = shop();
    let identity = issuers
        .verify_identity(&mint(&key, &identity_claims("shop")))
        .await
        .unwrap();
    assert_eq!(identity.issuer(), "shop");
    assert_eq!(identity.subject(), "user-42");
    assert_eq!(identity.name().unwrap().as_str(), "Ada Lovelace");
    assert_eq!(identity.email().unwrap().as_str(), "ada@shop.example");
    assert_eq!(identity.attributes()[0].name, "plan");
    assert_eq!(identity.attributes()[0].value, "pro");
}

/// The schema allows attribute keys of ASCII letters, digits, `_`, `-`
/// and `.`, and values of at least one character: a token within those
/// bounds is accepted, as a chat start's identity.
#[tokio::test]
async fn attributes_within_the_schema_bounds_are_accepted() {
    let (issuers, key, _dir) = shop();
    let mut claims = identity_claims("shop");
    claims["sub"] = json!("u".repeat(255));
    claims["attributes"] = json!({"account.id": "A-7", "Plan": "pro", "sign-up": "2026"});
    let identity = issuers.verify_identity(&mint(&key, &claims)).await.unwrap();
    let names: Vec<_> = identity
        .attributes()
        .iter()
        .map(|a| a.name.as_str())
        .collect();
    assert_eq!(names, ["Plan", "account.id", "sign-up"]);
    assert_eq!(identity.subject().len(), 255);
}

#[tokio::test]
async fn fields_out_of_their_bounds_are_refused() {
    let (issuers, key, _dir) = shop();
    let many: serde_json::Map<String, Value> =
        (0..21).map(|i| (format!("k{i}"), json!("v"))).collect();
    for (claim, value) in [
        ("sub", json!("")),
        ("sub", json!("u".repeat(256))),
        ("sub", json!("u\u{202E}")),
        ("name", json!("Ada\nLovelace")),
        ("name", json!("")),
        ("email", json!("not an address")),
        ("attributes", Value::Object(many)),
        ("attributes", json!({"plan code": "pro"})),
        ("attributes", json!({"k".repeat(41): "v"})),
        ("attributes", json!({"plan": "p".repeat(201)})),
        ("attributes", json!({"plan": ""})),
        ("attributes", json!({"plan": 3})),
        ("jti", json!("")),
        ("role", json!("admin")),
    ] {
        let mut claims = identity_claims("shop");
        claims[claim] = value;
        let refusal = issuers.verify_identity(&mint(&key, &claims)).await;
        assert!(
            matches!(
                refusal,
                Err(IdentityError::Invalid(_) | IdentityError::OutOfBounds(_))
            ),
            "{claims}"
        );
    }
    let mut expired = identity_claims("shop");
    expired["iat"] = json!(now() - 400);
    expired["exp"] = json!(now() - 100);
    let refusal = issuers.verify_identity(&mint(&key, &expired)).await;
    assert_eq!(refusal, Err(IdentityError::Expired));
}

/// What is wrong with a generated token.
#[derive(Debug, Clone)]
enum Flaw {
    /// Signed by a key the issuer does not have.
    Signature,
    /// Names another issuer than the one whose key signed it.
    Issuer(String),
    Audience(String),
    /// Lives this many seconds, past the 10 minutes allowed.
    Lifetime(i64),
}

fn flaw() -> impl Strategy<Value = Flaw> {
    prop_oneof![
        Just(Flaw::Signature),
        "[a-z:/.]{0,20}"
            .prop_filter("not the issuer", |s| s != "shop")
            .prop_map(Flaw::Issuer),
        "[a-z]{0,12}"
            .prop_filter("not the audience", |s| s != "byrd")
            .prop_map(Flaw::Audience),
        (601i64..1_000_000).prop_map(Flaw::Lifetime),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_identity_with_a_wrong_signature_issuer_audience_or_lifetime_is_refused(
        flaw in flaw(),
        sub in "[a-zA-Z0-9_-]{1,128}",
        age in 0i64..300,
    ) {
        let (issuers, key, _dir) = shop();
        let mut claims = identity_claims("shop");
        claims["sub"] = json!(sub);
        claims["iat"] = json!(now() - age);
        claims["exp"] = json!(now() - age + 600);
        let runtime = runtime();
        // The same token without its flaw passes: the flaw alone refuses it.
        let sound = mint(&key, &claims);
        prop_assert!(runtime.block_on(issuers.verify_identity(&sound)).is_ok());
        let token = match flaw {
            Flaw::Signature => mint(&ed25519(), &claims),
            Flaw::Issuer(iss) => {
                claims["iss"] = json!(iss);
                mint(&key, &claims)
            }
            Flaw::Audience(aud) => {
                claims["aud"] = json!(aud);
                mint(&key, &claims)
            }
            Flaw::Lifetime(lifetime) => {
                claims["exp"] = json!(now() - age + lifetime);
                mint(&key, &claims)
            }
        };
        prop_assert!(runtime.block_on(issuers.verify_identity(&token)).is_err());
    }
}

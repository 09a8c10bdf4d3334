//! `keys.jwks.*`: the public keys that verify the server's tokens
//! (README, "Signing keys and rotation"; spec: "Token format").
//! `GET /.well-known/jwks.json` needs no token and lists every key that
//! verifies: Ed25519 (`EdDSA`) or P-256 (`ES256`), never a private member
//! and never an HMAC key; it may be cached for `max-age` and revalidated
//! with its `ETag`. Every token the server issues names such a key by
//! `kid` and verifies with it under the key's own algorithm. An `hs256`
//! server publishes no key, and its tokens are HS256.

use ring::signature::{ECDSA_P256_SHA256_FIXED, ED25519, UnparsedPublicKey, VerificationAlgorithm};
use serde_json::{Value, json};

use crate::case::{Case, CaseResult, Failure};
use crate::checks::{self, ensure};
use crate::context::{Ctx, chat_of};
use crate::jwt::{self, Parts};
use crate::wire::http::Reply;

const SECTION: &str = "token-format";
const PATH: &str = "/.well-known/jwks.json";

/// Members that would make a JWK a private or a symmetric key (RFC 7518).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

pub fn cases() -> Vec<Case> {
    vec![
        Case::must(
            "keys.jwks.shape",
            SECTION,
            "GET /.well-known/jwks.json without a token answers 200 {keys: [...]}; each key is exactly {kty, crv, x, (y), kid, alg, use: sig} of an Ed25519 (EdDSA) or P-256 (ES256) public key, and no two share a kid",
            shape,
        ),
        Case::must(
            "keys.jwks.public-only",
            SECTION,
            "no key in the JWKS carries a private member (d, p, q, dp, dq, qi, oth, k), and none is an HMAC key (kty oct)",
            public_only,
        ),
        Case::must(
            "keys.jwks.caching",
            SECTION,
            "the JWKS answers Cache-Control: public, max-age=N (N > 0) and an ETag; the same request with If-None-Match: <that ETag> answers 304",
            caching,
        ),
        Case::must(
            "keys.jwks.tokens-verify",
            SECTION,
            "every token the server issues (agent login, chat start) names a kid in the JWKS, its alg is that key's, and its signature verifies with that key; an HS256 server publishes no key and issues HS256 tokens",
            tokens_verify,
        ),
    ]
}

/// The JWKS document, after checking it answered `200` with a key list.
async fn fetch(ctx: &Ctx) -> Result<(Reply, Vec<Value>), Failure> {
    let reply = ctx.get(PATH).send().await?;
    checks::expect_status(&reply, 200, "GET /.well-known/jwks.json")?;
    let keys = reply
        .json()
        .get("keys")
        .and_then(Value::as_array)
        .cloned()
        .ok_or_else(|| {
            Failure::new(
                "the JWKS document",
                "an object with a `keys` array",
                reply.describe(),
            )
        })?;
    Ok((reply, keys))
}

/// What is wrong with `key` as a published key, if anything.
fn key_problem(key: &Value) -> Option<String> {
    let text = |name: &str| key.get(name).and_then(Value::as_str);
    let (kty, crv, alg) = (text("kty"), text("crv"), text("alg"));
    let expected_members: &[&str] = match (kty, crv, alg) {
        (Some("OKP"), Some("Ed25519"), Some("EdDSA")) => &["alg", "crv", "kid", "kty", "use", "x"],
        (Some("EC"), Some("P-256"), Some("ES256")) => {
            &["alg", "crv", "kid", "kty", "use", "x", "y"]
        }
        _ => return Some("kty/crv/alg not OKP/Ed25519/EdDSA or EC/P-256/ES256".into()),
    };
    let mut members: Vec<&str> = key
        .as_object()
        .map(|map| map.keys().map(String::as_str).collect())
        .unwrap_or_default();
    members.sort_unstable();
    if members != expected_members {
        return Some(format!("members {members:?}, not {expected_members:?}"));
    }
    if text("use") != Some("sig") || text("kid").is_none_or(str::is_empty) {
        return Some("`use` is not `sig`, or `kid` is empty".into());
    }
    // 32 bytes of key or of a P-256 coordinate: 43 base64url characters.
    let coordinates = if kty == Some("EC") {
        &["x", "y"][..]
    } else {
        &["x"]
    };
    if coordinates.iter().any(|name| {
        text(name)
            .and_then(jwt::unb64)
            .is_none_or(|bytes| bytes.len() != 32)
    }) {
        return Some("a coordinate is not 32 bytes of base64url".into());
    }
    None
}

async fn shape(ctx: Ctx) -> CaseResult {
    let (_, keys) = fetch(&ctx).await?;
    for key in &keys {
        if let Some(problem) = key_problem(key) {
            return Err(Failure::new(
                "a key of the JWKS",
                "a public Ed25519/EdDSA or P-256/ES256 JWK with exactly its members",
                format!("{problem}: {}", checks::show(key)),
            )
            .into());
        }
    }
    let mut kids: Vec<&str> = keys.iter().filter_map(|key| key["kid"].as_str()).collect();
    kids.sort_unstable();
    let count = kids.len();
    kids.dedup();
    ensure(
        kids.len() == count,
        "the kids of the JWKS",
        "no two keys with the same kid",
        || format!("{count} keys, {} distinct kids", kids.len()),
    )?;
    Ok(())
}

async fn public_only(ctx: Ctx) -> CaseResult {
    let (_, keys) = fetch(&ctx).await?;
    for key in &keys {
        let private = PRIVATE_MEMBERS
            .iter()
            .find(|member| key.get(**member).is_some());
        ensure(
            private.is_none() && key["kty"] != "oct",
            "a key of the JWKS",
            "a public key: no private member and not kty oct",
            || match private {
                Some(member) => format!("a key with the private member `{member}`"),
                None => "a key of kty oct".into(),
            },
        )?;
    }
    Ok(())
}

async fn caching(ctx: Ctx) -> CaseResult {
    let (reply, _) = fetch(&ctx).await?;
    let cache = reply.header("cache-control").unwrap_or_default().to_owned();
    let max_age = cache
        .split(',')
        .map(str::trim)
        .find_map(|directive| directive.strip_prefix("max-age="))
        .and_then(|seconds| seconds.parse::<u64>().ok());
    ensure(
        cache
            .split(',')
            .any(|directive| directive.trim() == "public")
            && max_age.is_some_and(|seconds| seconds > 0),
        "the JWKS's Cache-Control",
        "public, max-age=N with N > 0",
        || format!("{cache:?}"),
    )?;
    let etag = reply.header("etag").unwrap_or_default().to_owned();
    ensure(
        !etag.is_empty(),
        "the JWKS's ETag",
        "an ETag header",
        || "none".into(),
    )?;
    let again = ctx.get(PATH).header("if-none-match", &etag).send().await?;
    checks::expect_status(&again, 304, "GET /.well-known/jwks.json with If-None-Match")?;
    Ok(())
}

/// The tokens a client gets without any key: an agent's access token and
/// a guest's.
async fn issued_tokens(ctx: &Ctx) -> Result<Vec<(&'static str, String)>, Failure> {
    let agent = ctx.agent().await?;
    let reply = ctx
        .post("/v1/chats")
        .json(json!({"visitor": {"name": "Conformance Visitor"}}))
        .send()
        .await?;
    checks::expect_status(&reply, 201, "starting a chat (POST /v1/chats)")?;
    let chat = chat_of(&reply)?;
    Ok(vec![
        ("an agent's access token", agent.access_token),
        ("a guest token", chat.guest_token),
    ])
}

async fn tokens_verify(ctx: Ctx) -> CaseResult {
    let (_, keys) = fetch(&ctx).await?;
    for (what, token) in issued_tokens(&ctx).await? {
        let header = Parts::of(&token)
            .and_then(|parts| parts.header_json())
            .unwrap_or(Value::Null);
        if keys.is_empty() {
            // An hs256 deployment: one shared secret, which is never published.
            ensure(
                header["alg"] == "HS256",
                format!("the header of {what}, with an empty JWKS"),
                "alg HS256 (a server with no public key signs with its secret)",
                || checks::show(&header),
            )?;
            continue;
        }
        let key = keys
            .iter()
            .find(|key| header["kid"].is_string() && key["kid"] == header["kid"]);
        let Some(key) = key else {
            return Err(Failure::new(
                format!("the kid of {what}"),
                "the kid of a key in the JWKS",
                checks::show(&header),
            )
            .into());
        };
        ensure(
            header["alg"] == key["alg"],
            format!("the alg of {what}"),
            format!("the alg of its key, {}", key["alg"]),
            || checks::show(&header),
        )?;
        ensure(
            verifies(key, &token),
            format!("the signature of {what}"),
            "valid under the JWKS key its kid names",
            || format!("it does not verify ({})", checks::show(&header)),
        )?;
    }
    Ok(())
}

/// Whether `token`'s signature verifies under the public JWK `key`.
fn verifies(key: &Value, token: &str) -> bool {
    let Some((input, _)) = token.rsplit_once('.') else {
        return false;
    };
    let coordinate = |name: &str| key[name].as_str().and_then(jwt::unb64);
    let (algorithm, public): (&dyn VerificationAlgorithm, Vec<u8>) = match key["alg"].as_str() {
        Some("EdDSA") => match coordinate("x") {
            Some(x) => (&ED25519, x),
            None => return false,
        },
        Some("ES256") => match (coordinate("x"), coordinate("y")) {
            (Some(x), Some(y)) => (&ECDSA_P256_SHA256_FIXED, [&[4u8][..], &x, &y].concat()),
            _ => return false,
        },
        _ => return false,
    };
    let Some(parts) = Parts::of(token) else {
        return false;
    };
    UnparsedPublicKey::new(algorithm, public)
        .verify(input.as_bytes(), &parts.signature)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::issuer::SigningKey;

    #[test]
    fn a_published_key_is_checked_member_by_member() {
        let x = jwt::b64(&[7u8; 32]);
        let good = json!({"kty": "OKP", "crv": "Ed25519", "x": x, "kid": "k1", "alg": "EdDSA", "use": "sig"});
        assert_eq!(key_problem(&good), None);
        let ec = json!({"kty": "EC", "crv": "P-256", "x": x, "y": x, "kid": "k2", "alg": "ES256", "use": "sig"});
        assert_eq!(key_problem(&ec), None);
        for bad in [
            jwt::with(good.clone(), "d", json!(x)),
            jwt::with(good.clone(), "alg", json!("ES256")),
            jwt::with(good.clone(), "x", json!("short")),
            jwt::with(good.clone(), "use", json!("enc")),
            jwt::without(ec.clone(), "y"),
            json!({"kty": "oct", "k": "c2VjcmV0", "kid": "k3", "alg": "HS256", "use": "sig"}),
        ] {
            assert!(key_problem(&bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn a_token_verifies_under_its_own_public_key_only() {
        for key in [SigningKey::generate_ed25519(), SigningKey::generate_p256()] {
            let jwk = jwt::with(key.public_jwk(), "alg", json!(key.alg()));
            let token = key.sign(&json!({"alg": key.alg()}), &json!({"sub": "x"}));
            assert!(verifies(&jwk, &token), "{jwk}");
            let stranger = jwt::with(key.stranger().public_jwk(), "alg", json!(key.alg()));
            assert!(!verifies(&stranger, &token));
            let tampered = format!("{}A", &token[..token.len() - 1]);
            assert!(!verifies(&jwk, &tampered) || tampered == token);
        }
    }
}

//! Every kind of bad token gets 401 with a code that tells which
//! (`token_missing`, `token_invalid`, `token_expired`), never a 5xx
//! (issue 2, "Token claims"; RFC 8725).
//!
//! Forged tokens are signed with the server's own key unless the test is
//! about the key, so each is refused for the one thing it changes. The
//! first tests show the unchanged forgeries are accepted.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest, Sha384, Sha512};

use crate::helpers::{
    JWT_KID, JWT_SECRET, TestApp, agent_claims, error_code, guest_claims, jwt_join, jwt_parts,
    mint, now, sign_hs256, spawn_app,
};

const AGENT_ID: &str = "0193a5f2-6c1e-7d40-9a5e-3f1b2c4d5e6f";
const CHAT_ID: &str = "0193a5f2-7000-7abc-8def-0123456789ab";
const CHAT_CREATED_AT: &str = "2026-01-01T12:00:00Z";

fn header(alg: &str) -> Value {
    json!({"alg": alg, "typ": "JWT", "kid": JWT_KID})
}

fn guest() -> Value {
    guest_claims(CHAT_ID, CHAT_CREATED_AT)
}

/// HMAC (RFC 2104) over SHA-384 or SHA-512, whose blocks are 128 bytes:
/// a correct HS384/HS512 signature with the server's own key.
fn hmac_sha2_128<D: Digest>(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut block = [0u8; 128];
    block[..key.len()].copy_from_slice(key);
    let inner_key: Vec<u8> = block.iter().map(|b| b ^ 0x36).collect();
    let outer_key: Vec<u8> = block.iter().map(|b| b ^ 0x5c).collect();
    let inner = D::new()
        .chain_update(&inner_key)
        .chain_update(message)
        .finalize();
    D::new()
        .chain_update(&outer_key)
        .chain_update(inner)
        .finalize()
        .to_vec()
}

fn sign_with(alg: &str, claims: &Value) -> String {
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header(alg)).unwrap()),
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap())
    );
    let key = JWT_SECRET.as_bytes();
    let signature = match alg {
        "HS384" => hmac_sha2_128::<Sha384>(key, signing_input.as_bytes()),
        "HS512" => hmac_sha2_128::<Sha512>(key, signing_input.as_bytes()),
        other => panic!("no signer for {other}"),
    };
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// The `error.code` of `GET /v1/me` with `token`, which must be a 401.
async fn refused(app: &TestApp, token: &str) -> String {
    error_code(app.get("/v1/me", Some(token)).await, 401).await
}

/// Same, with the `Authorization` header exactly as given.
async fn refused_header(app: &TestApp, authorization: reqwest::header::HeaderValue) -> String {
    let response = app
        .client
        .get(app.url("/v1/me"))
        .header("authorization", authorization)
        .send()
        .await
        .unwrap();
    error_code(response, 401).await
}

fn without(mut claims: Value, key: &str) -> Value {
    claims
        .as_object_mut()
        .unwrap()
        .remove(key)
        .unwrap_or_else(|| panic!("the claims had {key}"));
    claims
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

#[tokio::test]
async fn forged_tokens_signed_like_byrd_are_accepted() {
    // A trusted backend holding `BYRD_JWT_SECRET` may mint agent tokens; the
    // unchanged forgeries of this file are valid agent and guest tokens.
    let app = spawn_app().await;

    let agent = app
        .get("/v1/me", Some(&mint(&agent_claims(AGENT_ID))))
        .await;
    let guest = app.get("/v1/me", Some(&mint(&guest()))).await;

    assert_eq!(agent.status(), 200);
    assert_eq!(guest.status(), 200);
}

#[tokio::test]
async fn a_request_without_authorization_is_token_missing() {
    // No token at all -> 401 `token_missing`.
    let app = spawn_app().await;

    let response = app.get("/v1/me", None).await;

    assert_eq!(error_code(response, 401).await, "token_missing");
}

#[tokio::test]
async fn an_authorization_header_that_is_not_bearer_is_token_invalid() {
    // Only `Authorization: Bearer <token>` carries a token.
    let app = spawn_app().await;
    let token = mint(&agent_claims(AGENT_ID));

    for value in [
        format!("Basic {token}"),
        format!("Token {token}"),
        token.clone(),
        "Bearer".to_owned(),
        "Bearer    ".to_owned(),
    ] {
        let value = reqwest::header::HeaderValue::from_str(&value).unwrap();
        assert_eq!(
            refused_header(&app, value.clone()).await,
            "token_invalid",
            "{value:?}"
        );
    }
    let not_utf8 = reqwest::header::HeaderValue::from_bytes(b"Bearer \xff\xfe").unwrap();
    assert_eq!(refused_header(&app, not_utf8).await, "token_invalid");
}

#[tokio::test]
async fn garbage_tokens_are_token_invalid() {
    // Malformed tokens are 401 `token_invalid`.
    let app = spawn_app().await;

    for token in [
        "garbage",
        "a.b.c",
        "...",
        "e30.e30.",
        "eyJhbGciOiJIUzI1NiJ9",
        &"A".repeat(10_000),
    ] {
        assert_eq!(refused(&app, token).await, "token_invalid", "{token:.40}");
    }
}

#[tokio::test]
async fn a_token_with_a_tampered_payload_is_token_invalid() {
    // Tampering with a real agent token (raising its role) breaks its signature.
    let app = spawn_app().await;
    let (_, token) = app.agent("tess@example.com", "agent").await;
    let (header, payload, signature) = jwt_parts(&token);
    let mut claims: Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(claims["role"], "agent");
    claims["role"] = json!("admin");

    let forged = jwt_join(&header, &serde_json::to_vec(&claims).unwrap(), &signature);

    assert_eq!(refused(&app, &forged).await, "token_invalid");
}

#[tokio::test]
async fn a_token_with_a_tampered_signature_is_token_invalid() {
    // Any change to the signature of a real token is refused.
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let (header, payload, mut signature) = jwt_parts(&token);
    signature[0] ^= 0x01;

    let forged = jwt_join(&header, &payload, &signature);
    let truncated = jwt_join(&header, &payload, &signature[..16]);
    let stripped = jwt_join(&header, &payload, &[]);

    assert_eq!(refused(&app, &forged).await, "token_invalid");
    assert_eq!(refused(&app, &truncated).await, "token_invalid");
    assert_eq!(refused(&app, &stripped).await, "token_invalid");
}

#[tokio::test]
async fn a_token_signed_with_another_key_is_token_invalid() {
    // Only the server's own key signs valid tokens.
    let app = spawn_app().await;
    let other_key = b"another-secret-that-is-also-32-bytes-long";

    let agent = sign_hs256(&header("HS256"), &agent_claims(AGENT_ID), other_key);
    let guest = sign_hs256(&header("HS256"), &guest(), other_key);

    assert_eq!(refused(&app, &agent).await, "token_invalid");
    assert_eq!(refused(&app, &guest).await, "token_invalid");
}

#[tokio::test]
async fn an_expired_token_is_token_expired() {
    // `exp` is checked with a small leeway; past it the token is expired.
    let app = spawn_app().await;
    let mut agent = agent_claims(AGENT_ID);
    agent["iat"] = json!(now() - 3600);
    agent["exp"] = json!(now() - 120);
    let mut guest = guest();
    guest["iat"] = json!(now() - 3600);
    guest["exp"] = json!(now() - 120);

    assert_eq!(refused(&app, &mint(&agent)).await, "token_expired");
    assert_eq!(refused(&app, &mint(&guest)).await, "token_expired");
}

#[tokio::test]
async fn a_token_just_past_exp_is_still_accepted_within_the_leeway() {
    // The leeway is small but real: clocks a few seconds apart still agree.
    let app = spawn_app().await;
    let claims = with(agent_claims(AGENT_ID), "exp", json!(now() - 5));

    let response = app.get("/v1/me", Some(&mint(&claims))).await;

    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn a_token_not_valid_yet_is_token_invalid() {
    // `nbf` or `iat` in the future (past the leeway) -> `token_invalid`.
    let app = spawn_app().await;
    let later = now() + 600;
    let exp = now() + 1200;

    let nbf = with(
        with(agent_claims(AGENT_ID), "nbf", json!(later)),
        "exp",
        json!(exp),
    );
    let iat = with(
        with(agent_claims(AGENT_ID), "iat", json!(later)),
        "exp",
        json!(exp),
    );
    let guest_iat = with(with(guest(), "iat", json!(later)), "exp", json!(exp));

    assert_eq!(refused(&app, &mint(&nbf)).await, "token_invalid");
    assert_eq!(refused(&app, &mint(&iat)).await, "token_invalid");
    assert_eq!(refused(&app, &mint(&guest_iat)).await, "token_invalid");
}

#[tokio::test]
async fn alg_none_in_any_spelling_is_token_invalid() {
    // `alg: none` in any spelling, with an empty signature, is refused.
    let app = spawn_app().await;

    for alg in ["none", "None", "NONE", "nOnE"] {
        for claims in [agent_claims(AGENT_ID), guest()] {
            let unsigned = format!(
                "{}.{}.",
                URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header(alg)).unwrap()),
                URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap())
            );
            assert_eq!(refused(&app, &unsigned).await, "token_invalid", "{alg}");
            let no_dot = unsigned.trim_end_matches('.');
            assert_eq!(refused(&app, no_dot).await, "token_invalid", "{alg}");
        }
    }
}

#[tokio::test]
async fn other_algorithms_are_token_invalid_even_with_the_right_key() {
    // The algorithm is pinned to HS256: a correct HS384 or HS512 signature
    // with the server's key is refused.
    let app = spawn_app().await;

    for alg in ["HS384", "HS512"] {
        let token = sign_with(alg, &agent_claims(AGENT_ID));
        assert_eq!(refused(&app, &token).await, "token_invalid", "{alg}");
    }
}

#[tokio::test]
async fn an_asymmetric_alg_header_is_token_invalid() {
    // Algorithm confusion: an `RS256`/`ES256` header over an HMAC made with the
    // shared secret (as if it were a public key) is refused.
    let app = spawn_app().await;

    for alg in ["RS256", "ES256", "PS256", "EdDSA"] {
        let token = sign_hs256(&header(alg), &agent_claims(AGENT_ID), JWT_SECRET.as_bytes());
        assert_eq!(refused(&app, &token).await, "token_invalid", "{alg}");
    }
}

#[tokio::test]
async fn an_unknown_or_missing_kid_is_token_invalid() {
    // Tokens name their key with `kid`; any other kid, or none, is refused.
    let app = spawn_app().await;
    let key = JWT_SECRET.as_bytes();
    let claims = agent_claims(AGENT_ID);

    let unknown = sign_hs256(
        &json!({"alg": "HS256", "typ": "JWT", "kid": "byrd-2"}),
        &claims,
        key,
    );
    let missing = sign_hs256(&json!({"alg": "HS256", "typ": "JWT"}), &claims, key);
    let numeric = sign_hs256(&json!({"alg": "HS256", "kid": 1}), &claims, key);

    assert_eq!(refused(&app, &unknown).await, "token_invalid");
    assert_eq!(refused(&app, &missing).await, "token_invalid");
    assert_eq!(refused(&app, &numeric).await, "token_invalid");
}

#[tokio::test]
async fn a_wrong_issuer_or_audience_is_token_invalid() {
    // `iss` and `aud` must be the server's.
    let app = spawn_app().await;

    for (key, value) in [
        ("iss", json!("someone-else")),
        ("aud", json!("someone-else")),
        ("aud", json!(["someone-else"])),
        ("iss", json!("")),
    ] {
        let agent = with(agent_claims(AGENT_ID), key, value.clone());
        let guest = with(guest(), key, value.clone());
        assert_eq!(
            refused(&app, &mint(&agent)).await,
            "token_invalid",
            "{key}={value}"
        );
        assert_eq!(
            refused(&app, &mint(&guest)).await,
            "token_invalid",
            "{key}={value}"
        );
    }
}

#[tokio::test]
async fn wrongly_typed_claims_are_token_invalid() {
    // An `exp` that is a string (and other wrongly typed claims) is refused,
    // not skipped.
    let app = spawn_app().await;
    let far = now() + 600;

    for (key, value) in [
        ("exp", json!(far.to_string())),
        ("exp", json!(far as f64 + 0.5)),
        ("exp", json!(null)),
        ("nbf", json!((now() - 10).to_string())),
        ("iat", json!(now().to_string())),
        ("sub", json!("not-a-uuid")),
        ("sub", json!(42)),
        ("jti", json!(7)),
        ("role", json!("superuser")),
        ("name", json!(["Tess"])),
    ] {
        let claims = with(agent_claims(AGENT_ID), key, value.clone());
        assert_eq!(
            refused(&app, &mint(&claims)).await,
            "token_invalid",
            "{key}={value}"
        );
    }
    let bad_chat = with(
        guest(),
        "chat",
        json!({"id": CHAT_ID, "created_at": "yesterday"}),
    );
    assert_eq!(refused(&app, &mint(&bad_chat)).await, "token_invalid");
    let bad_chat_id = with(
        guest(),
        "chat",
        json!({"id": "chat-1", "created_at": CHAT_CREATED_AT}),
    );
    assert_eq!(refused(&app, &mint(&bad_chat_id)).await, "token_invalid");
}

#[tokio::test]
async fn a_token_missing_a_required_claim_is_token_invalid() {
    // Every claim the server relies on is required.
    let app = spawn_app().await;

    for key in ["iss", "aud", "sub", "role", "name", "iat", "exp", "jti"] {
        let claims = without(agent_claims(AGENT_ID), key);
        assert_eq!(
            refused(&app, &mint(&claims)).await,
            "token_invalid",
            "agent without {key}"
        );
    }
    for key in ["iss", "aud", "sub", "chat", "iat", "exp", "jti"] {
        let claims = without(guest(), key);
        assert_eq!(
            refused(&app, &mint(&claims)).await,
            "token_invalid",
            "guest without {key}"
        );
    }
}

#[tokio::test]
async fn an_agent_token_carrying_a_chat_is_token_invalid() {
    // Agent and guest validation rules are mutually exclusive (RFC 8725,
    // 3.11-3.12): an agent token may not carry `chat`.
    let app = spawn_app().await;
    let claims = with(
        agent_claims(AGENT_ID),
        "chat",
        json!({"id": CHAT_ID, "created_at": CHAT_CREATED_AT}),
    );

    assert_eq!(refused(&app, &mint(&claims)).await, "token_invalid");
}

#[tokio::test]
async fn a_guest_token_carrying_a_role_is_token_invalid() {
    // A guest token may not carry `role`, so it can never pass for an agent's.
    let app = spawn_app().await;

    for role in ["admin", "agent"] {
        let claims = with(guest(), "role", json!(role));
        assert_eq!(refused(&app, &mint(&claims)).await, "token_invalid");
    }
}

#[tokio::test]
async fn a_guest_token_with_agent_claims_is_token_invalid() {
    // Relabelling an agent token as a guest (or back) does not make it valid.
    let app = spawn_app().await;

    let agent_as_guest = with(agent_claims(AGENT_ID), "type", json!("guest"));
    let guest_as_agent = with(guest(), "type", json!("agent"));

    assert_eq!(refused(&app, &mint(&agent_as_guest)).await, "token_invalid");
    assert_eq!(refused(&app, &mint(&guest_as_agent)).await, "token_invalid");
}

#[tokio::test]
async fn a_type_other_than_agent_or_guest_is_token_invalid() {
    // `type` decides the kind of token; any other value, or none, is invalid.
    let app = spawn_app().await;

    for value in [
        json!("admin"),
        json!("Agent"),
        json!("GUEST"),
        json!(""),
        json!(null),
        json!(1),
    ] {
        let agent = with(agent_claims(AGENT_ID), "type", value.clone());
        assert_eq!(
            refused(&app, &mint(&agent)).await,
            "token_invalid",
            "type={value}"
        );
    }
    let untyped_agent = without(agent_claims(AGENT_ID), "type");
    let untyped_guest = without(guest(), "type");
    assert_eq!(refused(&app, &mint(&untyped_agent)).await, "token_invalid");
    assert_eq!(refused(&app, &mint(&untyped_guest)).await, "token_invalid");
}

#[tokio::test]
async fn unknown_claims_are_token_invalid() {
    // Each kind has a closed set of claims; an extra one is refused.
    let app = spawn_app().await;

    let agent = with(agent_claims(AGENT_ID), "scope", json!("everything"));
    let guest = with(guest(), "admin", json!(true));

    assert_eq!(refused(&app, &mint(&agent)).await, "token_invalid");
    assert_eq!(refused(&app, &mint(&guest)).await, "token_invalid");
}

#[tokio::test]
async fn bad_tokens_are_refused_on_every_protected_route() {
    // The checks guard every protected route, not only `/v1/me`.
    let app = spawn_app().await;
    let expired = mint(&with(
        with(agent_claims(AGENT_ID), "iat", json!(now() - 3600)),
        "exp",
        json!(now() - 120),
    ));
    let chat = format!("/v1/chats/{CHAT_ID}");

    for (method, path) in [
        ("GET", "/v1/chats".to_owned()),
        ("GET", chat.clone()),
        ("POST", format!("{chat}/assign")),
        ("POST", format!("{chat}/close")),
        ("POST", format!("{chat}/token")),
        ("GET", "/v1/agents".to_owned()),
        ("POST", "/v1/agents".to_owned()),
        ("POST", "/v1/auth/logout".to_owned()),
    ] {
        let send = |token: Option<&str>| {
            let mut request = match method {
                "GET" => app.client.get(app.url(&path)),
                _ => app.client.post(app.url(&path)),
            };
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            request.send()
        };
        let missing = send(None).await.unwrap();
        assert_eq!(error_code(missing, 401).await, "token_missing", "{path}");
        let garbage = send(Some("garbage")).await.unwrap();
        assert_eq!(error_code(garbage, 401).await, "token_invalid", "{path}");
        let old = send(Some(&expired)).await.unwrap();
        assert_eq!(error_code(old, 401).await, "token_expired", "{path}");
    }
}

#[tokio::test]
async fn a_token_valid_for_longer_than_byrd_issues_is_token_invalid() {
    // No Byrd token lives longer than a guest token (24 h); a longer-lived
    // one was not minted with care and is refused, guest or agent.
    let app = spawn_app().await;
    let month = now() + 30 * 24 * 3600;
    for claims in [
        with(agent_claims(AGENT_ID), "exp", json!(month)),
        with(guest(), "exp", json!(month)),
    ] {
        assert_eq!(refused(&app, &mint(&claims)).await, "token_invalid");
    }
    let day = with(guest(), "exp", json!(now() + 24 * 3600 - 60));
    let accepted = app.get("/v1/me", Some(&mint(&day))).await;
    assert_eq!(accepted.status(), 200, "a 24-hour guest token is fine");
}

#[tokio::test]
async fn an_empty_or_huge_jti_is_token_invalid() {
    // Logout revokes by `jti`, so a token must carry a real one: an empty
    // `jti` would let one logout revoke every token sharing it.
    let app = spawn_app().await;
    for jti in [json!(""), json!("j".repeat(129))] {
        let claims = with(agent_claims(AGENT_ID), "jti", jti);
        assert_eq!(refused(&app, &mint(&claims)).await, "token_invalid");
    }
}

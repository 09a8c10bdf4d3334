//! Bad tokens get 401 with a code that tells which (`token_invalid`,
//! `token_expired`), never a 5xx (`spec/v1/README.md#token-format`,
//! `#token-claims`; RFC 8725).
//!
//! The conformance runner's `auth.jwt.*` cases check the catalogue of
//! token attacks over the wire; what stays here are the tests with
//! variants they do not make: a header that is not UTF-8, malformed values inside `chat`
//! and a fractional `exp`, a guest token with role `agent`, an over-long
//! `jti`, the 24-hour guest token accepted, and every protected route.
//!
//! Forged tokens are signed with the server's own key, so each is refused
//! for the one thing it changes. The first test shows the unchanged
//! forgeries are accepted.

use serde_json::{Value, json};

use crate::helpers::{TestApp, agent_claims, error_code, guest_claims, mint, now, spawn_app};

const AGENT_ID: &str = "0193a5f2-6c1e-7d40-9a5e-3f1b2c4d5e6f";
const CHAT_ID: &str = "0193a5f2-7000-7abc-8def-0123456789ab";
const CHAT_CREATED_AT: &str = "2026-01-01T12:00:00Z";

fn guest() -> Value {
    guest_claims(CHAT_ID, CHAT_CREATED_AT)
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
async fn a_guest_token_carrying_a_role_is_token_invalid() {
    // A guest token may not carry `role`, so it can never pass for an agent's.
    let app = spawn_app().await;

    for role in ["admin", "agent"] {
        let claims = with(guest(), "role", json!(role));
        assert_eq!(refused(&app, &mint(&claims)).await, "token_invalid");
    }
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

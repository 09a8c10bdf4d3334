//! Agent login sessions: `POST /v1/auth/login`, `/refresh`, `/logout`, and
//! `GET /v1/me` (`spec/v1/openapi.json` operations `login`,
//! `refreshSession`, `logout`, `getMe`;
//! `spec/v1/README.md#agents-login-refresh-logout`): the sessions and
//! refresh-token families each store keeps, rotated, reused, raced,
//! expired and revoked.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{
    ADMIN_EMAIL, ADMIN_PASSWORD, error_code, json_body, snapshot_settings, spawn_app,
    spawn_app_with,
};

async fn refresh(app: &crate::helpers::TestApp, refresh_token: &str) -> reqwest::Response {
    app.post(
        "/v1/auth/refresh",
        None,
        Some(&json!({ "refresh_token": refresh_token })),
    )
    .await
}

fn str_field<'a>(body: &'a Value, key: &str) -> &'a str {
    body[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is a string"))
}

#[tokio::test]
async fn login_returns_a_bearer_token_pair_and_the_agent() {
    // Login answers 200 `{access_token, token_type: "Bearer", expires_in,
    // refresh_token, agent: {id, email, name, role}}`; agent tokens last ~15 min.
    let app = spawn_app().await;

    let body = json_body(app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await, 200).await;

    snapshot_settings().bind(|| insta::assert_json_snapshot!("login_response", body));
    let me = json_body(
        app.get("/v1/me", Some(str_field(&body, "access_token")))
            .await,
        200,
    )
    .await;
    assert_eq!(me["id"], body["agent"]["id"], "the token is the agent's");
}

#[tokio::test]
async fn login_compares_emails_case_insensitively() {
    // Agent emails are unique case-insensitively, so login matches them so too.
    let app = spawn_app().await;

    let response = app.login(&ADMIN_EMAIL.to_uppercase(), ADMIN_PASSWORD).await;

    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_invalid_credentials_answer() {
    // Wrong credentials -> 401 `invalid_credentials`, the same answer whether
    // or not the email exists.
    let app = spawn_app().await;

    let wrong_password = app.login(ADMIN_EMAIL, "not the admin password").await;
    let unknown_email = app
        .login("nobody@example.com", "not the admin password")
        .await;
    let malformed_email = app.login("not an email", "whatever password").await;

    let mut bodies = Vec::new();
    for response in [wrong_password, unknown_email, malformed_email] {
        assert_eq!(response.status(), 401);
        assert_eq!(
            response.headers().get("www-authenticate").unwrap(),
            "Bearer"
        );
        bodies.push(response.text().await.unwrap());
    }
    assert_eq!(bodies[0], bodies[1], "unknown email answers differently");
    assert_eq!(bodies[0], bodies[2], "malformed email answers differently");
    let body: Value = serde_json::from_str(&bodies[0]).unwrap();
    assert_eq!(body["error"]["code"], "invalid_credentials");
    snapshot_settings().bind(|| insta::assert_json_snapshot!("invalid_credentials", body));
}

#[tokio::test]
async fn login_with_a_malformed_body_is_refused() {
    // Bad JSON is 400 `invalid_request`; a missing or mistyped field is 422
    // `validation_failed`.
    let app = spawn_app().await;

    let bad_json = app
        .client
        .post(app.url("/v1/auth/login"))
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .unwrap();
    let missing_password = app
        .post(
            "/v1/auth/login",
            None,
            Some(&json!({ "email": ADMIN_EMAIL })),
        )
        .await;
    let number_password = app
        .post(
            "/v1/auth/login",
            None,
            Some(&json!({ "email": ADMIN_EMAIL, "password": 12 })),
        )
        .await;

    assert_eq!(error_code(bad_json, 400).await, "invalid_request");
    assert_eq!(error_code(missing_password, 422).await, "validation_failed");
    assert_eq!(error_code(number_password, 422).await, "validation_failed");
}

#[tokio::test]
async fn logins_are_rate_limited_per_client_address() {
    // Login attempts are rate limited per address (429 `rate_limited` with
    // `Retry-After`), so passwords cannot be guessed at speed.
    let app = spawn_app_with(|settings| settings.limits.logins_per_minute = 2).await;

    for _ in 0..2 {
        let response = app.login(ADMIN_EMAIL, "wrong password guess").await;
        assert_eq!(response.status(), 401);
    }
    let refused = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;

    assert!(refused.headers().contains_key("retry-after"));
    assert_eq!(error_code(refused, 429).await, "rate_limited");
}

#[tokio::test]
async fn refresh_returns_a_new_pair_that_works() {
    // `POST /v1/auth/refresh {refresh_token}` answers with the login shape; the
    // refresh token is rotated, and the new one can be used in turn.
    let app = spawn_app().await;
    let session = app.admin_session().await;

    let first = json_body(
        refresh(&app, str_field(&session, "refresh_token")).await,
        200,
    )
    .await;

    snapshot_settings().bind(|| insta::assert_json_snapshot!("refresh_response", first));
    assert_ne!(first["refresh_token"], session["refresh_token"]);
    assert_ne!(first["access_token"], session["access_token"]);
    assert_eq!(first["agent"], session["agent"]);
    let me = app
        .get("/v1/me", Some(str_field(&first, "access_token")))
        .await;
    assert_eq!(me.status(), 200);
    let second = refresh(&app, str_field(&first, "refresh_token")).await;
    assert_eq!(second.status(), 200, "the rotated refresh token works");
}

#[tokio::test]
async fn presenting_a_used_refresh_token_revokes_the_whole_family() {
    // Refresh tokens are single use; presenting a used one (past the grace
    // window for lost answers, here none) is 401 `token_revoked` and
    // revokes its whole family, newest token included.
    let app =
        spawn_app_with(|settings| settings.jwt.refresh_grace = Duration::ZERO.try_into().unwrap())
            .await;
    let session = app.admin_session().await;
    let original = str_field(&session, "refresh_token");
    let rotated = json_body(refresh(&app, original).await, 200).await;

    let replayed = refresh(&app, original).await;
    let newest = refresh(&app, str_field(&rotated, "refresh_token")).await;

    assert_eq!(error_code(replayed, 401).await, "token_revoked");
    assert_eq!(error_code(newest, 401).await, "token_revoked");
}

#[tokio::test]
async fn reuse_detection_also_ends_the_sessions_access_tokens() {
    // Reuse means a copy of the session is in someone else's hands: the
    // access tokens issued to that session stop working at once (401
    // `token_revoked`), not when they expire.
    let app = spawn_app().await;
    let session = app.admin_session().await;
    let original = str_field(&session, "refresh_token");
    let rotated = json_body(refresh(&app, original).await, 200).await;
    let newest = json_body(
        refresh(&app, str_field(&rotated, "refresh_token")).await,
        200,
    )
    .await;
    let access = str_field(&newest, "access_token");
    assert_eq!(app.get("/v1/me", Some(access)).await.status(), 200);

    // The successor was used, so this is no lost answer: it is a reuse.
    assert_eq!(refresh(&app, original).await.status(), 401);

    let after = app.get("/v1/me", Some(access)).await;
    assert_eq!(error_code(after, 401).await, "token_revoked");
    let first = app
        .get("/v1/me", Some(str_field(&session, "access_token")))
        .await;
    assert_eq!(error_code(first, 401).await, "token_revoked");
}

#[tokio::test]
async fn reuse_detection_leaves_other_sessions_alone() {
    // Reuse revokes one family, not every session of the agent.
    let app = spawn_app().await;
    let stolen = app.admin_session().await;
    let other = app.admin_session().await;
    let original = str_field(&stolen, "refresh_token");
    let rotated = json_body(refresh(&app, original).await, 200).await;
    assert_eq!(
        refresh(&app, str_field(&rotated, "refresh_token"))
            .await
            .status(),
        200
    );

    assert_eq!(refresh(&app, original).await.status(), 401);
    let unaffected = refresh(&app, str_field(&other, "refresh_token")).await;

    assert_eq!(unaffected.status(), 200);
}

#[tokio::test]
async fn a_refresh_retried_within_the_grace_window_gets_the_same_successor() {
    // A client whose refresh answer was lost presents the spent token again
    // moments later: it gets the same successor (and a fresh access
    // token), and the session lives on. The successor still works.
    let app = spawn_app().await;
    let session = app.admin_session().await;
    let original = str_field(&session, "refresh_token");

    let first = json_body(refresh(&app, original).await, 200).await;
    let retried = json_body(refresh(&app, original).await, 200).await;

    assert_eq!(retried["refresh_token"], first["refresh_token"]);
    let me = app
        .get("/v1/me", Some(str_field(&retried, "access_token")))
        .await;
    assert_eq!(me.status(), 200);
    let next = refresh(&app, str_field(&first, "refresh_token")).await;
    assert_eq!(next.status(), 200, "the successor is still good");
}

#[tokio::test]
async fn a_spent_refresh_token_after_the_grace_window_is_a_reuse() {
    // Past the grace window the same retry is a reuse: the session ends.
    let app = spawn_app_with(|settings| {
        settings.jwt.refresh_grace = Duration::from_millis(200).try_into().unwrap();
    })
    .await;
    let session = app.admin_session().await;
    let original = str_field(&session, "refresh_token");
    let first = json_body(refresh(&app, original).await, 200).await;

    tokio::time::sleep(Duration::from_millis(400)).await;
    let late = refresh(&app, original).await;

    assert_eq!(error_code(late, 401).await, "token_revoked");
    let successor = refresh(&app, str_field(&first, "refresh_token")).await;
    assert_eq!(error_code(successor, 401).await, "token_revoked");
}

#[tokio::test]
async fn an_unknown_refresh_token_is_token_invalid() {
    // A refresh token the server never issued is refused as invalid.
    let app = spawn_app().await;

    let response = refresh(&app, "byrd_rt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").await;

    assert_eq!(error_code(response, 401).await, "token_invalid");
}

#[tokio::test]
async fn logout_revokes_the_access_token_and_the_sessions_refresh_token() {
    // Logout (Bearer agent) -> 204; it revokes the refresh family and the
    // access token's `jti` until it expires.
    let app = spawn_app().await;
    let session = app.admin_session().await;
    let access = str_field(&session, "access_token");

    let response = app.post("/v1/auth/logout", Some(access), None).await;

    assert_eq!(response.status(), 204);
    assert!(
        response.bytes().await.unwrap().is_empty(),
        "204 has no body"
    );
    let me = app.get("/v1/me", Some(access)).await;
    assert_eq!(error_code(me, 401).await, "token_revoked");
    // A retry (the first answer was lost) succeeds and changes nothing.
    let again = app.post("/v1/auth/logout", Some(access), None).await;
    assert_eq!(again.status(), 204);
    let refreshed = refresh(&app, str_field(&session, "refresh_token")).await;
    assert_eq!(error_code(refreshed, 401).await, "token_revoked");
}

#[tokio::test]
async fn logout_with_a_refreshed_access_token_ends_the_same_session() {
    // An access token from a refresh belongs to the same family, so logging
    // out with it revokes the family's current refresh token.
    let app = spawn_app().await;
    let session = app.admin_session().await;
    let rotated = json_body(
        refresh(&app, str_field(&session, "refresh_token")).await,
        200,
    )
    .await;

    let response = app
        .post(
            "/v1/auth/logout",
            Some(str_field(&rotated, "access_token")),
            None,
        )
        .await;

    assert_eq!(response.status(), 204);
    let refreshed = refresh(&app, str_field(&rotated, "refresh_token")).await;
    assert_eq!(error_code(refreshed, 401).await, "token_revoked");
}

#[tokio::test]
async fn logout_leaves_other_sessions_working() {
    // Logout ends the caller's session only.
    let app = spawn_app().await;
    let leaving = app.admin_token().await;
    let staying = app.admin_session().await;

    let response = app.post("/v1/auth/logout", Some(&leaving), None).await;

    assert_eq!(response.status(), 204);
    let me = app
        .get("/v1/me", Some(str_field(&staying, "access_token")))
        .await;
    assert_eq!(me.status(), 200);
    let refreshed = refresh(&app, str_field(&staying, "refresh_token")).await;
    assert_eq!(refreshed.status(), 200);
}

#[tokio::test]
async fn me_describes_an_agent_token() {
    // `GET /v1/me` (any valid token) answers who the token says you are.
    let app = spawn_app().await;
    let session = app.admin_session().await;

    let me = json_body(
        app.get("/v1/me", Some(str_field(&session, "access_token")))
            .await,
        200,
    )
    .await;

    assert_eq!(me["id"], session["agent"]["id"]);
    snapshot_settings().bind(|| insta::assert_json_snapshot!("me_agent", me));
}

#[tokio::test]
async fn me_describes_a_guest_token() {
    // A guest's `/v1/me` names the visitor and the one chat the token opens.
    let app = spawn_app().await;
    let started = app.start_chat().await;

    let me = json_body(
        app.get("/v1/me", Some(str_field(&started, "guest_token")))
            .await,
        200,
    )
    .await;

    assert_eq!(me["id"], started["chat"]["visitor"]["id"]);
    assert_eq!(me["chat_id"], started["chat"]["id"]);
    snapshot_settings().bind(|| insta::assert_json_snapshot!("me_guest", me));
}

#[tokio::test]
async fn racing_refreshes_with_one_token_let_exactly_one_win() {
    // Single use holds under concurrency: without a grace window, one of
    // several racing refreshes wins, the rest are reuse (`token_revoked`,
    // family revoked), none is a 5xx.
    let app =
        spawn_app_with(|settings| settings.jwt.refresh_grace = Duration::ZERO.try_into().unwrap())
            .await;
    let session = app.admin_session().await;
    let token = str_field(&session, "refresh_token");

    let responses = futures_util::future::join_all((0..4).map(|_| refresh(&app, token))).await;

    let mut winners = Vec::new();
    for response in responses {
        if response.status() == 200 {
            winners.push(response.json::<Value>().await.unwrap());
        } else {
            assert_eq!(error_code(response, 401).await, "token_revoked");
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    let after = refresh(&app, str_field(&winners[0], "refresh_token")).await;
    assert_eq!(error_code(after, 401).await, "token_revoked");
}

#[tokio::test]
async fn an_expired_refresh_token_is_token_expired() {
    // Refresh tokens expire too: 401 `token_expired`.
    let app = spawn_app_with(|settings| {
        settings.jwt.refresh_token_ttl = std::time::Duration::ZERO;
    })
    .await;
    let session = app.admin_session().await;

    let response = refresh(&app, str_field(&session, "refresh_token")).await;

    assert_eq!(error_code(response, 401).await, "token_expired");
}

#[tokio::test]
async fn logout_with_a_backend_minted_agent_token_revokes_that_token() {
    // A token minted by a trusted backend has no session, but logout still
    // revokes its `jti`.
    let app = spawn_app().await;
    let token = crate::helpers::mint(&crate::helpers::agent_claims(
        "0193a5f2-6c1e-7d40-9a5e-3f1b2c4d5e6f",
    ));

    let response = app.post("/v1/auth/logout", Some(&token), None).await;

    assert_eq!(response.status(), 204);
    let me = app.get("/v1/me", Some(&token)).await;
    assert_eq!(error_code(me, 401).await, "token_revoked");
}

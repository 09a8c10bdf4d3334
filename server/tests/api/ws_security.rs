//! A token's lifetime on a connection
//! (`spec/v1/README.md#token-lifetime-on-a-connection`, `#close-codes`;
//! `spec/v1/asyncapi.yaml` messages `ClientRefreshToken`,
//! `ServerTokenRefreshed`, `ServerTokenExpiring`): tokens are refreshed over the socket, with the
//! server's configured warning and leeway; expiry closes it with 4001,
//! logout of the session with 4002.
//!
//! Which chats a guest may name in a frame, and which tokens a
//! `refresh_token` accepts, are the conformance runner's
//! `auth.scope.other-chat.ws-*` and `ws.lifetime.refresh-other-principal`
//! cases.

use std::time::Duration;

use byrd_server::options::bounded::Bounded;
use serde_json::{Value, json};

use crate::helpers::{TestApp, guest_claims, json_body, mint, now, spawn_app, spawn_app_with};
use crate::ws_client::{WsClient, agent_token, chat_and_guest, frame_snapshot_settings};

/// A guest token for `started`'s chat and visitor that expires in
/// `seconds`, signed like the server's own.
fn short_guest_token(started: &Value, seconds: i64) -> String {
    let chat = &started["chat"];
    let mut claims = guest_claims(
        chat["id"].as_str().unwrap(),
        chat["created_at"].as_str().unwrap(),
    );
    claims["sub"] = chat["visitor"]["id"].clone();
    claims["exp"] = json!(now() + seconds);
    mint(&claims)
}

async fn renewed_guest_token(app: &TestApp, chat: &str, token: &str) -> String {
    let renewed = json_body(
        app.post(&format!("/v1/chats/{chat}/token"), Some(token), None)
            .await,
        200,
    )
    .await;
    renewed["guest_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn refresh_token_over_the_socket_keeps_the_connection_past_the_old_expiry() {
    // `refresh_token {token}` with a fresh token of the same principal
    // answers `token_refreshed {token_expires_at}`; the connection then
    // lives past the old token's expiry.
    let app = spawn_app_with(|s| s.ws.token_expiry_warning = Duration::from_millis(500)).await;
    let started = app.start_chat().await;
    let (chat, guest_token) = chat_and_guest(&started);
    let (mut guest, hello) = WsClient::connect(&app, &short_guest_token(&started, 3)).await;
    let old_expiry = hello["token_expires_at"].as_str().unwrap().to_owned();

    let fresh = renewed_guest_token(&app, &chat, &guest_token).await;
    guest
        .send_json(json!({"type": "refresh_token", "token": fresh, "ref": "r1"}))
        .await;
    let refreshed = guest.expect_type("token_refreshed").await;

    let mut keys: Vec<_> = refreshed.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["token_expires_at", "type"]);
    let expires_at =
        chrono::DateTime::parse_from_rfc3339(refreshed["token_expires_at"].as_str().unwrap())
            .unwrap();
    assert!(
        expires_at.timestamp() - now() > 86_000,
        "{refreshed} replaces {old_expiry}"
    );
    frame_snapshot_settings()
        .bind(|| insta::assert_json_snapshot!("ws_token_refreshed", refreshed));
    // Time itself is under test here: wait out the old token.
    tokio::time::sleep(Duration::from_millis(3200)).await;
    guest.assert_alive("past the old expiry").await;

    // Agents refresh the same way, with the access token of a refresh.
    let session = app.admin_session().await;
    let (mut agent, _) = WsClient::connect(&app, session["access_token"].as_str().unwrap()).await;
    let renewed = app
        .post(
            "/v1/auth/refresh",
            None,
            Some(&json!({"refresh_token": session["refresh_token"]})),
        )
        .await;
    let renewed = json_body(renewed, 200).await;
    agent
        .send_json(json!({"type": "refresh_token", "token": renewed["access_token"]}))
        .await;
    agent.expect_type("token_refreshed").await;
}

#[tokio::test]
async fn an_unrefreshed_token_closes_the_socket_with_4001_after_token_expiring() {
    // `token_expiring {expires_at}` comes `token_expiry_warning` before the
    // token's `exp`; without a `refresh_token`, the server then closes with
    // 4001 `token_expired`, once the clock leeway has passed too.
    let app = spawn_app_with(|s| {
        s.ws.token_expiry_warning = Duration::from_secs(1);
        s.jwt.leeway = Duration::from_secs(1).try_into().unwrap();
    })
    .await;
    let started = app.start_chat().await;
    let (mut guest, hello) = WsClient::connect(&app, &short_guest_token(&started, 2)).await;

    let expiring = guest.expect_type("token_expiring").await;
    assert_eq!(
        expiring,
        json!({"type": "token_expiring", "expires_at": hello["token_expires_at"]})
    );
    frame_snapshot_settings().bind(|| insta::assert_json_snapshot!("ws_token_expiring", expiring));

    assert_eq!(
        guest.expect_close().await,
        (4001, "token_expired".to_owned())
    );
}

#[tokio::test]
async fn a_short_lived_token_is_announced_as_expiring_halfway_through_its_life() {
    // A token living less than twice `token_expiry_warning` gets its
    // `token_expiring` halfway through its life rather than at once: a
    // client that refreshes on the warning would otherwise refresh again
    // the moment each fresh token arrived.
    let app = spawn_app_with(|s| {
        s.ws.token_expiry_warning = Duration::from_secs(60);
        s.jwt.agent_token_ttl = Bounded::below_floor_for_tests(Duration::from_secs(4)).unwrap();
    })
    .await;
    let (id, _) = agent_token();
    let mut claims = crate::helpers::agent_claims(&id);
    claims["exp"] = json!(now() + 4);
    let connected = std::time::Instant::now();
    let (mut agent, hello) = WsClient::connect(&app, &mint(&claims)).await;

    agent.assert_alive("no warning on arrival").await;
    let expiring = agent.expect_type("token_expiring").await;

    assert_eq!(expiring["expires_at"], hello["token_expires_at"]);
    assert!(
        connected.elapsed() >= Duration::from_secs(1),
        "warned {:?} after connecting, for a token of 4 seconds",
        connected.elapsed()
    );
}

#[tokio::test]
async fn logout_closes_the_agents_sockets_with_4002_and_no_others() {
    // `POST /v1/auth/logout` revokes the access token and its session:
    // sockets opened with that token, or with another access token of the
    // same session, close with 4002 `token_revoked`; other agents' stay.
    let app = spawn_app().await;
    let (_, other_token) = agent_token();
    let (mut other, _) = WsClient::connect(&app, &other_token).await;
    let session = app.admin_session().await;
    let access = session["access_token"].as_str().unwrap();
    let renewed = app
        .post(
            "/v1/auth/refresh",
            None,
            Some(&json!({"refresh_token": session["refresh_token"]})),
        )
        .await;
    let renewed = json_body(renewed, 200).await;
    let (mut admin, _) = WsClient::connect(&app, access).await;
    admin.expect_type("presence").await;
    let (mut same_session, _) =
        WsClient::connect(&app, renewed["access_token"].as_str().unwrap()).await;
    same_session.expect_type("presence").await;
    assert_eq!(other.expect_type("presence").await["status"], "online");

    let logout = app.post("/v1/auth/logout", Some(access), None).await;
    assert_eq!(logout.status(), 204);

    assert_eq!(
        admin.expect_close().await,
        (4002, "token_revoked".to_owned())
    );
    assert_eq!(
        same_session.expect_close().await,
        (4002, "token_revoked".to_owned())
    );
    assert_eq!(other.expect_type("presence").await["status"], "offline");
    other.assert_alive("another agent stays").await;
}

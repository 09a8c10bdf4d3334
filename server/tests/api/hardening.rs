//! Token lifetimes, revocations and data files that stay tight at their
//! edges (`spec/v1/README.md#token-format`,
//! `#minting-agent-tokens-from-your-own-backend`,
//! `#token-lifetime-on-a-connection`, `#cross-origin-requests`): the clock
//! leeway, housekeeping, file permissions and browser origins.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use serde_json::json;

use crate::helpers::{
    agent_claims, error_code, guest_claims, mint, now, on_postgres, spawn_app, spawn_app_with,
};
use crate::ws_client::{WsClient, chat_and_guest};

#[tokio::test]
async fn a_revocation_outlives_the_purge_while_the_leeway_still_admits_its_token() {
    // A token is accepted until `exp` plus the clock leeway, so its
    // revocation must be kept that long: housekeeping after `exp` but
    // within the leeway leaves the token refused.
    let app = spawn_app().await;
    let mut claims = agent_claims("0193a5f2-6c1e-7d40-9a5e-3f1b2c4d5e6f");
    claims["exp"] = json!(now() - 5);
    let token = mint(&claims);
    let logout = app.post("/v1/auth/logout", Some(&token), None).await;
    assert_eq!(logout.status(), 204);

    let jwt = &app.state.settings.jwt;
    app.state
        .store
        .purge_expired(jwt.leeway.get(), jwt.refresh_grace.get())
        .await
        .unwrap();

    let me = app.get("/v1/me", Some(&token)).await;
    assert_eq!(error_code(me, 401).await, "token_revoked");
}

#[tokio::test]
async fn the_live_socket_keeps_the_expiry_rule_of_the_handshake() {
    // A token the handshake admits (expired, but within the leeway) is
    // not cut off the moment the socket opens: the socket closes with 4001
    // at `exp` plus the same leeway.
    let app = spawn_app().await;
    let started = app.start_chat().await;
    let (chat, _) = chat_and_guest(&started);
    let mut claims = guest_claims(&chat, started["chat"]["created_at"].as_str().unwrap());
    claims["exp"] = json!(now() - 5);
    let (mut guest, _) = WsClient::connect(&app, &mint(&claims)).await;

    tokio::time::sleep(Duration::from_millis(300)).await;
    guest
        .send_json(json!({"type": "ping", "nonce": "still-admitted"}))
        .await;
    // `token_expiring` may come first: the token is past its `exp`.
    loop {
        let frame = guest.next_json().await;
        match frame["type"].as_str() {
            Some("token_expiring") => continue,
            _ => {
                assert_eq!(frame, json!({"type": "pong", "nonce": "still-admitted"}));
                break;
            }
        }
    }
}

#[tokio::test]
async fn backend_minted_agent_tokens_get_the_agent_lifetime_cap() {
    // Agent tokens live 15 minutes; one minted to live two hours is
    // refused although guest tokens may live 24 hours.
    let app = spawn_app().await;
    let mut claims = agent_claims("0193a5f2-6c1e-7d40-9a5e-3f1b2c4d5e6f");
    claims["exp"] = json!(now() + 2 * 60 * 60);

    let me = app.get("/v1/me", Some(&mint(&claims))).await;

    assert_eq!(error_code(me, 401).await, "token_invalid");
}

#[tokio::test]
async fn the_database_files_are_owner_only() {
    // Messages are private: the SQLite file and its WAL and shared-memory
    // files are created readable by the owner only, whatever the umask.
    // PostgreSQL keeps no file of Byrd's: its own server owns the data.
    if on_postgres() {
        return;
    }
    let app = spawn_app().await;
    let (chat, guest_token) = chat_and_guest(&app.start_chat().await);
    let sent = app
        .post(
            &format!("/v1/chats/{chat}/messages"),
            Some(&guest_token),
            Some(&json!({"client_msg_id": "m1", "body": "private"})),
        )
        .await;
    assert_eq!(sent.status(), 201);

    for name in ["byrd.db", "byrd.db-wal", "byrd.db-shm"] {
        let path = app.data_dir.path().join(name);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "{name} has mode {:o}", mode & 0o777);
    }
}

#[tokio::test]
async fn cors_admits_exactly_the_allowed_widget_origins() {
    // The widget calls the API from the customer's site: a preflight from
    // an origin on the WebSocket allow-list is admitted, any other gets no
    // `Access-Control-Allow-Origin`.
    let app = spawn_app_with(|s| {
        s.ws.allowed_origins = Some(vec!["https://shop.example".into()]);
    })
    .await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/v1/chats"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };

    let allowed = preflight("https://shop.example").await.unwrap();
    let other = preflight("https://evil.example").await.unwrap();

    assert_eq!(
        allowed
            .headers()
            .get("access-control-allow-origin")
            .unwrap(),
        "https://shop.example"
    );
    assert!(other.headers().get("access-control-allow-origin").is_none());
}

//! `GET /v1/ws` handshake (`spec/v1/README.md#handshake`; `spec/v1/openapi.json`
//! operation `connectWebSocket`; `spec/v1/asyncapi.yaml` messages `ServerHello` and
//! `ServerPresence`): a token revoked in the store is refused before the upgrade,
//! the server's own origin passes an allow-list naming other sites, and the
//! frames that open every connection.
//!
//! The token refusals (`auth.jwt.token-missing`, `auth.jwt.*.ws-query`,
//! `auth.jwt.*.ws-header`), the allow-list itself (`ws.handshake.origin`)
//! and the bearer header (`ws.handshake.bearer-header`) are the conformance
//! runner's.

use serde_json::{Value, json};

use crate::helpers::{TestApp, now, spawn_app, spawn_app_with};
use crate::ws_client::{Handshake, WsClient, agent_token, chat_and_guest, frame_snapshot_settings};

async fn refusal(app: &TestApp, handshake: Handshake<'_>) -> (u16, Value) {
    match WsClient::try_connect(app, handshake).await {
        Ok(_) => panic!("the handshake was accepted"),
        Err(refusal) => (refusal.status, refusal.body),
    }
}

fn with_query_token(token: &str) -> Handshake<'_> {
    Handshake {
        query_token: Some(token),
        ..Handshake::default()
    }
}

/// Asserts the whole error body: `{"error": {"code", "message"}}`.
fn assert_error_body(body: &Value, code: &str) {
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body["error"]["message"].is_string(), "{body}");
    let keys: Vec<_> = body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["error"], "{body}");
}

#[tokio::test]
async fn handshake_with_a_token_revoked_by_logout_is_refused_with_401_token_revoked() {
    // After `POST /v1/auth/logout` the access token opens no socket:
    // 401 `token_revoked`. Before it, the same token is accepted.
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let (before, _) = WsClient::connect(&app, &token).await;
    drop(before);

    let logout = app.post("/v1/auth/logout", Some(&token), None).await;
    assert_eq!(logout.status(), 204);
    let (status, body) = refusal(&app, with_query_token(&token)).await;

    assert_eq!(status, 401);
    assert_error_body(&body, "token_revoked");
}

#[tokio::test]
async fn the_servers_own_origin_is_let_in_without_being_listed() {
    // A page this server served (the console) opens its WebSocket with the
    // server's own origin as `Origin`: its host and port are the request's
    // `Host`. It needs no place on an allow-list that names other sites,
    // while the same host on another port is still refused.
    let app = spawn_app_with(|s| {
        s.ws.allowed_origins = Some(vec!["https://shop.example.com".to_owned()]);
    })
    .await;
    let (_, token) = agent_token();
    let own = format!("http://127.0.0.1:{}", app.port);
    let other_port = format!("http://127.0.0.1:{}", app.port.wrapping_add(1));

    let mut client = WsClient::try_connect(
        &app,
        Handshake {
            query_token: Some(&token),
            origin: Some(&own),
            ..Handshake::default()
        },
    )
    .await
    .expect("the server's own origin is accepted");
    client.expect_type("hello").await;
    let elsewhere = Handshake {
        query_token: Some(&token),
        origin: Some(&other_port),
        ..Handshake::default()
    };
    let (status, body) = refusal(&app, elsewhere).await;
    assert_eq!(status, 403);
    assert_error_body(&body, "forbidden");
}

#[tokio::test]
async fn hello_is_the_first_frame_and_names_the_guest_principal() {
    // `hello {connection_id, principal: {type, id}, heartbeat_interval_ms,
    // token_expires_at}` comes first; a guest's id is its visitor id and
    // its token's expiry is the guest token's.
    let app = spawn_app().await;
    let started = app.start_chat().await;
    let (_, guest_token) = chat_and_guest(&started);

    let (_client, hello) = WsClient::connect(&app, &guest_token).await;

    assert_eq!(
        hello["principal"],
        json!({"type": "guest", "id": started["chat"]["visitor"]["id"]})
    );
    assert_eq!(hello["heartbeat_interval_ms"], 25_000);
    let expires_at =
        chrono::DateTime::parse_from_rfc3339(hello["token_expires_at"].as_str().unwrap()).unwrap();
    let in_secs = expires_at.timestamp() - now();
    assert!(
        (86_000..=86_400).contains(&in_secs),
        "guest token expiry in {in_secs} s"
    );
    frame_snapshot_settings().bind(|| insta::assert_json_snapshot!("ws_hello_guest", hello));
}

#[tokio::test]
async fn agents_hear_of_agents_already_online_and_of_those_coming_and_going() {
    // After `hello`, an agent gets one `presence {agent_id, status:
    // "online"}` per other agent already online; agents online see another
    // come online with its first connection and go offline with its last.
    let app = spawn_app().await;
    let (first_id, first_token) = agent_token();
    let (second_id, second_token) = agent_token();
    let (mut first, first_hello) = WsClient::connect(&app, &first_token).await;
    assert_eq!(
        first_hello["principal"],
        json!({"type": "agent", "id": first_id})
    );

    let (mut second, _) = WsClient::connect(&app, &second_token).await;
    let already_online = second.expect_type("presence").await;
    assert_eq!(
        already_online,
        json!({"type": "presence", "agent_id": first_id, "status": "online"})
    );
    second.assert_alive("only one presence").await;

    let came_online = first.expect_type("presence").await;
    assert_eq!(
        came_online,
        json!({"type": "presence", "agent_id": second_id, "status": "online"})
    );
    frame_snapshot_settings().bind(|| insta::assert_json_snapshot!("ws_presence", came_online));

    // A second connection of the same agent is no news, and its first
    // frames name only the other agent.
    let (mut second_again, _) = WsClient::connect(&app, &second_token).await;
    let presence = second_again.expect_type("presence").await;
    assert_eq!(presence["agent_id"], first_id.as_str());
    second_again.assert_alive("no presence of itself").await;
    drop(second);
    first.assert_alive("still online").await;
    drop(second_again);

    let went_offline = first.expect_type("presence").await;
    assert_eq!(
        went_offline,
        json!({"type": "presence", "agent_id": second_id, "status": "offline"})
    );
}

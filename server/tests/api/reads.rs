//! Read positions: `GET /v1/chats/{chat_id}/reads` (`spec/v1/openapi.json`
//! operation `listReads`; `spec/v1/asyncapi.yaml` message `ClientRead`)
//! answers every stored position of a chat, as the `read` frames left
//! them, to agents and to the chat's own guest only.

use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code, json_body, mint, spawn_app, spawn_app_with};
use crate::ws_client::{WsClient, agent_token, chat_and_guest, expect_ack_and_message};

fn reads_path(chat: &str) -> String {
    format!("/v1/chats/{chat}/reads")
}

/// A chat with one message from the guest, its guest token and the guest's visitor id.
async fn chat_with_a_message(app: &TestApp) -> (String, String, String) {
    let started = app.start_chat().await;
    let (chat, guest_token) = chat_and_guest(&started);
    let sent = app
        .post(
            &format!("/v1/chats/{chat}/messages"),
            Some(&guest_token),
            Some(&json!({"client_msg_id": "g-1", "body": "Hello"})),
        )
        .await;
    assert_eq!(sent.status(), 201);
    let visitor = started["chat"]["visitor"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (chat, guest_token, visitor)
}

#[tokio::test]
async fn a_chat_nobody_read_has_no_read_positions() {
    // Positions exist only once a party has sent `read`.
    let app = spawn_app().await;
    let (chat, guest_token, _) = chat_with_a_message(&app).await;
    let (_, agent) = agent_token();

    let as_agent = json_body(app.get(&reads_path(&chat), Some(&agent)).await, 200).await;
    let as_guest = json_body(app.get(&reads_path(&chat), Some(&guest_token)).await, 200).await;

    assert_eq!(as_agent, json!({"reads": []}));
    assert_eq!(as_guest, as_agent);
}

#[tokio::test]
async fn read_frames_are_what_the_reads_answer() {
    // After the guest and an agent send `read`, both positions are listed
    // with `author {type, id}`, the stored `seq` (clamped to the chat's last
    // message, never moving back) and `updated_at`.
    let app = spawn_app().await;
    let (chat, guest_token, visitor) = chat_with_a_message(&app).await;
    let (agent_id, agent) = agent_token();
    let (mut guest_ws, _) = WsClient::connect(&app, &guest_token).await;
    let (mut agent_ws, _) = WsClient::connect(&app, &agent).await;
    agent_ws
        .send_json(json!({"type": "subscribe", "chat_id": chat, "after_seq": 1}))
        .await;
    agent_ws.expect_type("subscribed").await;
    agent_ws
        .send_json(json!({"type": "send", "chat_id": chat, "client_msg_id": "a-1", "body": "Hi"}))
        .await;
    expect_ack_and_message(&mut agent_ws).await;
    guest_ws.expect_type("message").await;

    // Each side hears the other's read once it is stored.
    guest_ws
        .send_json(json!({"type": "read", "chat_id": chat, "seq": 99}))
        .await;
    assert_eq!(agent_ws.expect_type("read").await["seq"], 2);
    agent_ws
        .send_json(json!({"type": "read", "chat_id": chat, "seq": 1}))
        .await;
    assert_eq!(guest_ws.expect_type("read").await["seq"], 1);
    guest_ws
        .send_json(json!({"type": "read", "chat_id": chat, "seq": 1}))
        .await;
    agent_ws.expect_type("read").await;

    let body = json_body(app.get(&reads_path(&chat), Some(&guest_token)).await, 200).await;
    let reads = body["reads"].as_array().expect("reads");
    let position = |kind: &str| -> &Value {
        reads
            .iter()
            .find(|r| r["author"]["type"] == kind)
            .unwrap_or_else(|| panic!("no {kind} position in {body}"))
    };
    assert_eq!(reads.len(), 2, "{body}");
    assert_eq!(
        position("guest")["author"],
        json!({"type": "guest", "id": visitor})
    );
    assert_eq!(position("guest")["seq"], 2, "never moves back");
    assert_eq!(
        position("agent")["author"],
        json!({"type": "agent", "id": agent_id})
    );
    assert_eq!(position("agent")["seq"], 1);
    for read in reads {
        let keys: Vec<_> = read
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, ["author", "seq", "updated_at"]);
        assert!(
            chrono::DateTime::parse_from_rfc3339(read["updated_at"].as_str().unwrap()).is_ok(),
            "{read}"
        );
    }
    let as_agent = json_body(app.get(&reads_path(&chat), Some(&agent)).await, 200).await;
    assert_eq!(as_agent, body);
}

#[tokio::test]
async fn a_guest_of_another_chat_is_refused_like_for_any_chat_route() {
    // A guest token names one chat; another chat's reads answer 403
    // `forbidden`, whether that chat exists or not, so nothing leaks.
    let app = spawn_app().await;
    let (chat, _, _) = chat_with_a_message(&app).await;
    let (_, other_guest) = chat_and_guest(&app.start_chat().await);

    let existing = app.get(&reads_path(&chat), Some(&other_guest)).await;
    let missing = app
        .get(
            &reads_path(&uuid::Uuid::now_v7().to_string()),
            Some(&other_guest),
        )
        .await;
    let messages = app
        .get(&format!("/v1/chats/{chat}/messages"), Some(&other_guest))
        .await;

    assert_eq!(error_code(existing, 403).await, "forbidden");
    assert_eq!(error_code(missing, 403).await, "forbidden");
    assert_eq!(error_code(messages, 403).await, "forbidden");
}

#[tokio::test]
async fn reads_need_a_valid_token_and_a_chat_that_exists() {
    // The auth matrix: no token, a bad or expired one, then a chat id that
    // is not a UUID or that nobody has.
    let app = spawn_app().await;
    let (chat, _, _) = chat_with_a_message(&app).await;
    let (agent_id, agent) = agent_token();
    let mut expired = crate::helpers::agent_claims(&agent_id);
    expired["iat"] = json!(crate::helpers::now() - 3600);
    expired["exp"] = json!(crate::helpers::now() - 600);

    let none = app.get(&reads_path(&chat), None).await;
    let garbage = app.get(&reads_path(&chat), Some("not-a-jwt")).await;
    let stale = app.get(&reads_path(&chat), Some(&mint(&expired))).await;
    let malformed = app.get(&reads_path("not-a-uuid"), Some(&agent)).await;
    let unknown = app
        .get(&reads_path(&uuid::Uuid::now_v7().to_string()), Some(&agent))
        .await;

    assert_eq!(error_code(none, 401).await, "token_missing");
    assert_eq!(error_code(garbage, 401).await, "token_invalid");
    assert_eq!(error_code(stale, 401).await, "token_expired");
    assert_eq!(error_code(malformed, 400).await, "invalid_request");
    assert_eq!(error_code(unknown, 404).await, "chat_not_found");
}

#[tokio::test]
async fn reads_draw_on_the_history_read_allowance() {
    // The same per-principal allowance as history pages and `subscribe`.
    let app = spawn_app_with(|s| s.limits.reads_per_minute = 2).await;
    let (chat, guest_token, _) = chat_with_a_message(&app).await;

    assert_eq!(
        app.get(&reads_path(&chat), Some(&guest_token))
            .await
            .status(),
        200
    );
    let history = app
        .get(&format!("/v1/chats/{chat}/messages"), Some(&guest_token))
        .await;
    assert_eq!(history.status(), 200);
    let refused = app.get(&reads_path(&chat), Some(&guest_token)).await;

    assert!(refused.headers().contains_key("retry-after"));
    assert_eq!(error_code(refused, 429).await, "rate_limited");
}

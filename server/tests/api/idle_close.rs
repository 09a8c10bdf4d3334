//! Idle chats close by themselves (`spec/v1/README.md#endpoints`, `Chat`'s
//! `close_reason`; the `--chat-idle-close-secs` option): an open chat no
//! agent took and nobody wrote in for the idle time is closed by the
//! server, announced as `chat_updated` like an agent's close, and says
//! `close_reason: idle`; a chat taken or written in meanwhile stays open,
//! and an agent's close says `agent`.

use std::time::{Duration, Instant};

use byrd_server::store::IdleClose;
use serde_json::{Value, json};

use crate::helpers::{TestApp, json_body, spawn_app_with};
use crate::ws_client::{WsClient, chat_and_guest, send_frame};

async fn chat_of(app: &TestApp, token: &str, chat: &str) -> Value {
    json_body(
        app.get(&format!("/v1/chats/{chat}"), Some(token)).await,
        200,
    )
    .await
}

/// Waits for the `chat_updated` of `chat` on `client`, skipping other frames.
async fn next_chat_updated(client: &mut WsClient, chat: &str) -> Value {
    loop {
        let frame = client.next_json().await;
        if frame["type"] == "chat_updated" && frame["chat"]["id"] == chat {
            return frame["chat"].clone();
        }
    }
}

#[tokio::test]
async fn an_open_chat_nobody_took_closes_after_the_idle_time_and_says_why() {
    let app = spawn_app_with(|s| s.limits.chat_idle_close = Some(Duration::from_secs(1))).await;
    let admin = app.admin_token().await;
    let (agent, _) = WsClient::connect(&app, &admin).await;
    let mut agent = agent;
    let started_at = Instant::now();
    let (chat, guest_token) = chat_and_guest(&app.start_chat().await);
    let (mut guest, _) = WsClient::connect(&app, &guest_token).await;

    let seen_by_guest = next_chat_updated(&mut guest, &chat).await;
    let waited = started_at.elapsed();
    assert!(waited >= Duration::from_secs(1), "closed after {waited:?}");
    assert_eq!(seen_by_guest["status"], "closed");
    assert_eq!(seen_by_guest["close_reason"], "idle");
    assert!(seen_by_guest["closed_at"].is_string());
    let seen_by_agent = loop {
        let chat_now = next_chat_updated(&mut agent, &chat).await;
        if chat_now["status"] == "closed" {
            break chat_now;
        }
    };
    assert_eq!(seen_by_agent["close_reason"], "idle");
    let stored = chat_of(&app, &admin, &chat).await;
    assert_eq!(stored["close_reason"], "idle");
    assert_eq!(stored["assigned_agent_id"], Value::Null);

    guest.send_json(send_frame(&chat, "late", "anyone?")).await;
    let refused = guest.expect_type("error").await;
    assert_eq!(refused["code"], "chat_closed");
}

#[tokio::test]
async fn a_message_starts_the_idle_time_again() {
    let app = spawn_app_with(|s| s.limits.chat_idle_close = Some(Duration::from_secs(2))).await;
    let admin = app.admin_token().await;
    let (chat, guest_token) = chat_and_guest(&app.start_chat().await);
    let started_at = Instant::now();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let sent = app
        .post(
            &format!("/v1/chats/{chat}/messages"),
            Some(&guest_token),
            Some(&json!({"client_msg_id": "still-here", "body": "Hello?"})),
        )
        .await;
    assert_eq!(sent.status(), 201);
    // Past the idle time counted from the start, within it from the message.
    tokio::time::sleep_until((started_at + Duration::from_millis(2700)).into()).await;
    assert_eq!(chat_of(&app, &admin, &chat).await["status"], "open");

    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = chat_of(&app, &admin, &chat).await;
        if now["status"] == "closed" {
            assert_eq!(now["close_reason"], "idle");
            break;
        }
        assert!(Instant::now() < deadline, "never closed: {now}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn the_close_is_conditional_a_chat_taken_just_before_stays_open_and_none_closes_twice() {
    // The sweep itself, run by hand at an idle time of zero: every open
    // chat is idle, a taken one is not, and a second sweep (another node's)
    // finds nothing left.
    let app = spawn_app_with(|s| s.limits.chat_idle_close = None).await;
    let admin = app.admin_token().await;
    let (taken, _) = chat_and_guest(&app.start_chat().await);
    let (waiting, _) = chat_and_guest(&app.start_chat().await);
    let assigned = app
        .post(&format!("/v1/chats/{taken}/assign"), Some(&admin), None)
        .await;
    assert_eq!(assigned.status(), 200);

    let idle = IdleClose {
        idle: Duration::ZERO,
    };
    let closed = app.state.store.close_idle_chats(idle).await.unwrap();
    let ids: Vec<String> = closed.iter().map(|chat| chat.id.to_string()).collect();
    assert_eq!(ids, vec![waiting.clone()]);
    assert!(
        app.state
            .store
            .close_idle_chats(idle)
            .await
            .unwrap()
            .is_empty()
    );

    let taken_now = chat_of(&app, &admin, &taken).await;
    assert_eq!(taken_now["status"], "assigned");
    assert_eq!(taken_now["close_reason"], Value::Null);
    assert_eq!(
        chat_of(&app, &admin, &waiting).await["close_reason"],
        "idle"
    );
}

#[tokio::test]
async fn an_agents_close_says_agent_and_an_open_chat_says_nothing() {
    let app = spawn_app_with(|_| {}).await;
    let admin = app.admin_token().await;
    let (chat, _) = chat_and_guest(&app.start_chat().await);
    assert_eq!(
        chat_of(&app, &admin, &chat).await["close_reason"],
        Value::Null
    );
    let closed = app
        .post(&format!("/v1/chats/{chat}/close"), Some(&admin), None)
        .await;
    let closed = json_body(closed, 200).await;
    assert_eq!(closed["close_reason"], "agent");
    assert_eq!(chat_of(&app, &admin, &chat).await["close_reason"], "agent");
}

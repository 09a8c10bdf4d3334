//! Read markers as `read` frames move them (`spec/v1/asyncapi.yaml`
//! messages `ClientRead` and `ServerRead`; `spec/v1/openapi.json` schema
//! `ReadPosition`): a marker is clamped to the chat's last message and
//! never moves back; every `read` is answered to the chat with the stored
//! position, and `updated_at` says when that position last moved, so a
//! `read` that does not move it leaves it, and the listing's order, alone.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, json_body, spawn_app};
use crate::ws_client::{WsClient, agent_token, chat_and_guest, subscribe};

/// Long enough for two stored times to differ on either database.
const APART: Duration = Duration::from_millis(20);

/// A chat with `messages` messages from its guest, the guest connected and
/// an agent connected and subscribed after them.
struct ReadChat {
    app: TestApp,
    chat: String,
    guest_token: String,
    guest: WsClient,
    agent: WsClient,
}

async fn read_chat(messages: usize) -> ReadChat {
    let app = spawn_app().await;
    let (chat, guest_token) = chat_and_guest(&app.start_chat().await);
    for n in 1..=messages {
        post_message(&app, &chat, &guest_token, n).await;
    }
    let (guest, _) = WsClient::connect(&app, &guest_token).await;
    let (mut agent, _) = WsClient::connect(&app, &agent_token().1).await;
    subscribe(&mut agent, &chat, messages as i64).await;
    ReadChat {
        app,
        chat,
        guest_token,
        guest,
        agent,
    }
}

async fn post_message(app: &TestApp, chat: &str, guest_token: &str, n: usize) {
    let sent = app
        .post(
            &format!("/v1/chats/{chat}/messages"),
            Some(guest_token),
            Some(&json!({"client_msg_id": format!("g-{n}"), "body": "Hello"})),
        )
        .await;
    assert_eq!(sent.status(), 201);
}

impl ReadChat {
    /// `client` sends `read` up to `seq`; `witness` hears it stored, and the
    /// `seq` it was told comes back.
    async fn read(&mut self, reader: Reader, seq: i64) -> i64 {
        let (client, witness) = match reader {
            Reader::Guest => (&mut self.guest, &mut self.agent),
            Reader::Agent => (&mut self.agent, &mut self.guest),
        };
        client
            .send_json(json!({"type": "read", "chat_id": self.chat, "seq": seq}))
            .await;
        witness.expect_type("read").await["seq"].as_i64().unwrap()
    }

    /// The chat's stored read positions, in the order listed.
    async fn positions(&self) -> Vec<Value> {
        let path = format!("/v1/chats/{}/reads", self.chat);
        let body = json_body(self.app.get(&path, Some(&self.guest_token)).await, 200).await;
        body["reads"].as_array().unwrap().clone()
    }
}

#[derive(Clone, Copy)]
enum Reader {
    Guest,
    Agent,
}

#[tokio::test]
async fn a_read_that_does_not_move_the_marker_is_announced_but_keeps_its_time() {
    let mut chat = read_chat(2).await;
    assert_eq!(chat.read(Reader::Guest, 2).await, 2);
    let stored = chat.positions().await;
    assert_eq!(stored.len(), 1);

    // Repeated, older, and past the end (clamped to where it stands):
    // each is told to the chat with the stored position, none moves it.
    tokio::time::sleep(APART).await;
    assert_eq!(chat.read(Reader::Guest, 2).await, 2);
    assert_eq!(chat.read(Reader::Guest, 1).await, 2);
    assert_eq!(chat.read(Reader::Guest, 0).await, 2);
    assert_eq!(chat.read(Reader::Guest, 99).await, 2);
    assert_eq!(chat.positions().await, stored, "the marker did not move");

    // A read that moves it does change its time.
    post_message(&chat.app, &chat.chat, &chat.guest_token, 3).await;
    chat.agent.expect_type("message").await;
    chat.guest.expect_type("message").await;
    tokio::time::sleep(APART).await;
    assert_eq!(chat.read(Reader::Guest, 99).await, 3);
    let moved = chat.positions().await;
    assert_eq!(moved[0]["seq"], 3);
    assert_ne!(moved[0]["updated_at"], stored[0]["updated_at"]);
}

#[tokio::test]
async fn positions_are_listed_in_the_order_they_last_moved() {
    // The guest's marker moved before the agent's; the guest repeating its
    // read does not make it the most recently moved.
    let mut chat = read_chat(2).await;
    assert_eq!(chat.read(Reader::Guest, 2).await, 2);
    tokio::time::sleep(APART).await;
    assert_eq!(chat.read(Reader::Agent, 2).await, 2);
    tokio::time::sleep(APART).await;
    assert_eq!(chat.read(Reader::Guest, 2).await, 2);

    let order: Vec<_> = chat
        .positions()
        .await
        .iter()
        .map(|position| position["author"]["type"].clone())
        .collect();

    assert_eq!(order, [json!("guest"), json!("agent")]);
}

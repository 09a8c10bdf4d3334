//! The `ws_*` tests' WebSocket client: `byrd-testkit`'s JSON client,
//! opened on a [`TestApp`], plus the frame snapshots and the small steps
//! those tests repeat (a `send` frame, a subscription, a guest and an
//! agent in one chat, a page of history).

use std::ops::{Deref, DerefMut};

use byrd_testkit::ws::{self, ws_url};
use serde_json::{Value, json};

use crate::helpers::{TestApp, json_body, snapshot_settings, spawn_app};

pub use byrd_testkit::ws::{FRAME_TIMEOUT, Handshake, Refusal, kind};

/// The kit's client, opened on a [`TestApp`]; every other method is the
/// kit's (`send_json`, `next_json`, `expect_type`, `expect_close`, ...).
pub struct WsClient(ws::WsClient);

impl Deref for WsClient {
    type Target = ws::WsClient;

    fn deref(&self) -> &ws::WsClient {
        &self.0
    }
}

impl DerefMut for WsClient {
    fn deref_mut(&mut self) -> &mut ws::WsClient {
        &mut self.0
    }
}

fn address(app: &TestApp) -> String {
    format!("127.0.0.1:{}", app.port)
}

impl WsClient {
    /// Opens `/v1/ws` with the token in the query string and returns the
    /// client and its `hello` frame.
    pub async fn connect(app: &TestApp, token: &str) -> (WsClient, Value) {
        let (client, hello) = ws::WsClient::connect(&address(app), token).await;
        (WsClient(client), hello)
    }

    /// Opens `/v1/ws` as `handshake` says; a refusal before the upgrade
    /// comes back as its status and JSON body.
    pub async fn try_connect(app: &TestApp, handshake: Handshake<'_>) -> Result<WsClient, Refusal> {
        ws::WsClient::try_connect(&address(app), handshake)
            .await
            .map(WsClient)
    }

    /// Opens `/v1/ws` over a socket whose kernel receive buffer is fixed at
    /// about `bytes`, so a client that stops reading backs the server up
    /// after little data rather than the many megabytes loopback autotunes to.
    pub async fn connect_with_receive_buffer(
        app: &TestApp,
        token: &str,
        bytes: u32,
    ) -> (WsClient, Value) {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(bytes).unwrap();
        let tcp = socket
            .connect(([127, 0, 0, 1], app.port).into())
            .await
            .expect("the server accepts");
        let url = ws_url(&address(app), &format!("token={token}"));
        let (client, hello) = ws::WsClient::connect_over(tcp, &url).await;
        (WsClient(client), hello)
    }
}

/// Snapshot settings for server frames: the response redactions plus the
/// ids and times only frames have.
pub fn frame_snapshot_settings() -> insta::Settings {
    let mut settings = snapshot_settings();
    for key in ["connection_id", "agent_id"] {
        settings.add_dynamic_redaction(&format!(".**.{key}"), |value, path| {
            let text = value
                .as_str()
                .unwrap_or_else(|| panic!("{path} is not a string"));
            assert!(
                uuid::Uuid::parse_str(text).is_ok(),
                "{path} is not a uuid: {text:?}"
            );
            insta::internals::Content::from("[uuid]")
        });
    }
    settings.add_dynamic_redaction(".**.expires_at", |value, path| {
        let text = value
            .as_str()
            .unwrap_or_else(|| panic!("{path} is not a string"));
        assert!(
            chrono::DateTime::parse_from_rfc3339(text).is_ok(),
            "{path} is not a time: {text:?}"
        );
        insta::internals::Content::from("[time]")
    });
    settings
}

/// A token of a fresh agent id, signed like the server's: agent tokens are
/// checked by signature and revocation, so no agent row is needed.
pub fn agent_token() -> (String, String) {
    let id = uuid::Uuid::new_v4().to_string();
    (id.clone(), byrd_testkit::token::agent_token(&id))
}

/// The chat id and guest token of a `start_chat` response.
pub fn chat_and_guest(started: &Value) -> (String, String) {
    (
        started["chat"]["id"].as_str().expect("chat.id").to_owned(),
        started["guest_token"]
            .as_str()
            .expect("guest_token")
            .to_owned(),
    )
}

/// A `send` frame.
pub fn send_frame(chat: &str, client_msg_id: &str, body: &str) -> Value {
    json!({"type": "send", "chat_id": chat, "client_msg_id": client_msg_id, "body": body})
}

/// The sender's two answers to a `send`, in whichever order they come:
/// its `ack` and, as a subscriber of the chat, the `message` frame.
pub async fn expect_ack_and_message(client: &mut WsClient) -> (Value, Value) {
    let first = client.next_json().await;
    let second = client.next_json().await;
    match (kind(&first), kind(&second)) {
        ("ack", "message") => (first, second),
        ("message", "ack") => (second, first),
        _ => panic!("expected an ack and a message, got {first} and {second}"),
    }
}

/// Subscribes `client` to `chat` from `after_seq` and returns the replayed
/// `message` frames and the closing `subscribed` frame.
pub async fn subscribe(client: &mut WsClient, chat: &str, after_seq: i64) -> (Vec<Value>, Value) {
    client
        .send_json(json!({"type": "subscribe", "chat_id": chat, "after_seq": after_seq}))
        .await;
    let mut replayed = Vec::new();
    loop {
        let frame = client.next_json().await;
        match kind(&frame) {
            "message" => replayed.push(frame),
            "subscribed" => return (replayed, frame),
            _ => panic!("expected a replayed message or subscribed, got {frame}"),
        }
    }
}

/// A started chat with its guest connected and an agent connected and
/// subscribed from the start: the setup most delivery tests share.
pub struct Conversation {
    /// Keep it bound (`app: _app`): dropping it stops the server.
    pub app: TestApp,
    /// The `POST /v1/chats` answer.
    pub started: Value,
    pub chat: String,
    pub guest_token: String,
    pub agent_id: String,
    pub agent_token: String,
    pub guest: WsClient,
    pub agent: WsClient,
}

/// Starts a chat and opens its [`Conversation`].
pub async fn conversation() -> Conversation {
    let app = spawn_app().await;
    let started = app.start_chat().await;
    let (chat, guest_token) = chat_and_guest(&started);
    let (agent_id, agent_token) = agent_token();
    let (guest, _) = WsClient::connect(&app, &guest_token).await;
    let (mut agent, _) = WsClient::connect(&app, &agent_token).await;
    subscribe(&mut agent, &chat, 0).await;
    Conversation {
        app,
        started,
        chat,
        guest_token,
        agent_id,
        agent_token,
        guest,
        agent,
    }
}

/// The keys of a JSON object, sorted.
pub fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<_> = value
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

/// A page of `chat`'s history: `GET /v1/chats/{chat_id}/messages{query}`.
pub async fn history(app: &TestApp, token: &str, chat: &str, query: &str) -> Value {
    json_body(
        app.get(&format!("/v1/chats/{chat}/messages{query}"), Some(token))
            .await,
        200,
    )
    .await
}

/// The `seq` of each message of a JSON array.
pub fn seqs(messages: &Value) -> Vec<i64> {
    messages
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect()
}

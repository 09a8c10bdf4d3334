//! A small WebSocket client for the `ws_*` tests: JSON in, JSON out, every
//! wait bounded, nothing an application frame skipped without a trace.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::helpers::{TestApp, snapshot_settings};

/// How long any single wait for a server frame may take before the test
/// fails; generous for a loaded 2-core machine, short enough to fail fast.
pub const FRAME_TIMEOUT: Duration = Duration::from_secs(10);

/// How a handshake is made: the token's place and an optional `Origin`.
#[derive(Debug, Clone, Default)]
pub struct Handshake<'a> {
    pub query_token: Option<&'a str>,
    pub bearer_token: Option<&'a str>,
    pub origin: Option<&'a str>,
}

/// A refused handshake: the HTTP status and the JSON body.
#[derive(Debug)]
pub struct Refusal {
    pub status: u16,
    pub body: Value,
}

pub struct WsClient {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl WsClient {
    /// Opens `/v1/ws` with the token in the query string and returns the
    /// client and its `hello` frame.
    pub async fn connect(app: &TestApp, token: &str) -> (WsClient, Value) {
        let handshake = Handshake {
            query_token: Some(token),
            ..Handshake::default()
        };
        let mut client = WsClient::try_connect(app, handshake)
            .await
            .unwrap_or_else(|refusal| panic!("the handshake was refused: {refusal:?}"));
        let hello = client.expect_type("hello").await;
        (client, hello)
    }

    /// Opens `/v1/ws` as `handshake` says; a refusal before the upgrade
    /// comes back as its status and JSON body.
    pub async fn try_connect(app: &TestApp, handshake: Handshake<'_>) -> Result<WsClient, Refusal> {
        let mut url = format!("ws://127.0.0.1:{}/v1/ws", app.port);
        if let Some(token) = handshake.query_token {
            url.push_str("?token=");
            url.push_str(token);
        }
        let mut request = url.into_client_request().expect("a valid WebSocket URL");
        if let Some(token) = handshake.bearer_token {
            let value = HeaderValue::from_str(&format!("Bearer {token}")).unwrap();
            request.headers_mut().insert("authorization", value);
        }
        if let Some(origin) = handshake.origin {
            request
                .headers_mut()
                .insert("origin", HeaderValue::from_str(origin).unwrap());
        }
        match tokio::time::timeout(FRAME_TIMEOUT, tokio_tungstenite::connect_async(request)).await {
            Err(_) => panic!("the handshake timed out"),
            Ok(Ok((stream, _))) => Ok(WsClient { stream }),
            Ok(Err(WsError::Http(response))) => {
                let status = response.status().as_u16();
                let body = response.body().as_deref().unwrap_or_default();
                let body = serde_json::from_slice(body).unwrap_or_else(|_| {
                    panic!(
                        "a refused handshake ({status}) has a JSON body, got {:?}",
                        String::from_utf8_lossy(body)
                    )
                });
                Err(Refusal { status, body })
            }
            Ok(Err(error)) => panic!("the handshake failed: {error}"),
        }
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
        let url = format!("ws://127.0.0.1:{}/v1/ws?token={token}", app.port);
        let (stream, _) = tokio_tungstenite::client_async(url, MaybeTlsStream::Plain(tcp))
            .await
            .expect("the handshake succeeds");
        let mut client = WsClient { stream };
        let hello = client.expect_type("hello").await;
        (client, hello)
    }

    pub async fn send_json(&mut self, frame: Value) {
        self.send_raw(Message::text(frame.to_string())).await;
    }

    /// Sends any WebSocket message, for frames the JSON helper cannot make.
    pub async fn send_raw(&mut self, message: Message) {
        tokio::time::timeout(FRAME_TIMEOUT, self.stream.send(message))
            .await
            .expect("the send timed out")
            .expect("the socket accepts the frame");
    }

    /// The next WebSocket message that is not a ping or pong. Control pings
    /// are answered by tungstenite while we read; they carry no frame.
    async fn next_message(&mut self) -> Option<Result<Message, WsError>> {
        loop {
            let next = tokio::time::timeout(FRAME_TIMEOUT, self.stream.next())
                .await
                .unwrap_or_else(|_| panic!("no frame within {FRAME_TIMEOUT:?}"));
            match next {
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                other => return other,
            }
        }
    }

    /// The next server frame as JSON. Anything but a JSON text frame (a
    /// close, a binary frame, the socket ending) fails the test.
    pub async fn next_json(&mut self) -> Value {
        match self.next_message().await {
            Some(Ok(Message::Text(text))) => serde_json::from_str(text.as_str())
                .unwrap_or_else(|_| panic!("a text frame that is not JSON: {text}")),
            other => panic!("expected a JSON text frame, got {other:?}"),
        }
    }

    /// The next frame, which must have `type` `kind`.
    pub async fn expect_type(&mut self, kind: &str) -> Value {
        let frame = self.next_json().await;
        assert_eq!(
            frame["type"], kind,
            "expected a {kind:?} frame, got {frame}"
        );
        frame
    }

    /// The close frame, which must come next: its code and reason.
    pub async fn expect_close(&mut self) -> (u16, String) {
        let (frames, code, reason) = self.drain_until_close().await;
        assert!(frames.is_empty(), "frames before the close: {frames:?}");
        (code, reason)
    }

    /// Reads up to the close frame, returning the JSON frames read before it
    /// and the close's code and reason. The socket ending without a close
    /// frame fails the test.
    pub async fn drain_until_close(&mut self) -> (Vec<Value>, u16, String) {
        let mut frames = Vec::new();
        loop {
            match self.next_message().await {
                Some(Ok(Message::Text(text))) => {
                    frames.push(serde_json::from_str(text.as_str()).unwrap())
                }
                Some(Ok(Message::Close(Some(CloseFrame { code, reason })))) => {
                    return (frames, code.into(), reason.to_string());
                }
                other => panic!(
                    "expected a close frame, got {other:?} after {} frames",
                    frames.len()
                ),
            }
        }
    }

    /// Sends `ping` and waits for its `pong`: the connection still answers,
    /// and every frame it queued before the ping has been read.
    pub async fn assert_alive(&mut self, nonce: &str) {
        self.send_json(serde_json::json!({"type": "ping", "nonce": nonce}))
            .await;
        let pong = self.expect_type("pong").await;
        assert_eq!(pong, serde_json::json!({"type": "pong", "nonce": nonce}));
    }
}

/// The `type` of a frame, for messages about it.
pub fn kind(frame: &Value) -> &str {
    frame["type"].as_str().unwrap_or("<no type>")
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
    (
        id.clone(),
        crate::helpers::mint(&crate::helpers::agent_claims(&id)),
    )
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

//! A test's own WebSocket client of one node: connect, send frames, wait
//! for the frame a test expects.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens `/v1/ws` on `address` with `token` and reads its `hello`.
pub async fn connect(address: &str, token: &str) -> Socket {
    let url = format!("ws://{address}/v1/ws?token={token}");
    let mut socket = tokio_tungstenite::connect_async(url).await.unwrap().0;
    next_matching(&mut socket, Duration::from_secs(5), |f| {
        f["type"] == "hello"
    })
    .await
    .expect("hello");
    socket
}

/// Sends one client frame.
pub async fn send(socket: &mut Socket, frame: Value) {
    socket
        .send(Message::Text(frame.to_string().into()))
        .await
        .unwrap();
}

/// Subscribes an agent's socket to `chat` and waits until it is.
pub async fn subscribe(socket: &mut Socket, chat: &str) {
    send(
        socket,
        serde_json::json!({"type": "subscribe", "chat_id": chat}),
    )
    .await;
    next_matching(socket, Duration::from_secs(5), |f| {
        f["type"] == "subscribed" && f["chat_id"] == chat
    })
    .await
    .expect("subscribed");
}

/// The next frame satisfying `wanted`, or the close code if the socket
/// closes first; fails after `within`.
pub async fn next_matching(
    socket: &mut Socket,
    within: Duration,
    wanted: impl Fn(&Value) -> bool,
) -> Result<Value, Option<u16>> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let frame = tokio::time::timeout_at(deadline, socket.next())
            .await
            .expect("no such frame in time");
        match frame {
            Some(Ok(Message::Text(text))) => {
                let value: Value = serde_json::from_str(&text).unwrap();
                if wanted(&value) {
                    return Ok(value);
                }
            }
            Some(Ok(Message::Close(close))) => return Err(close.map(|c| c.code.into())),
            Some(Ok(_)) => {}
            _ => return Err(None),
        }
    }
}

/// Every frame satisfying `wanted` that arrives within `during`.
pub async fn all_matching(
    socket: &mut Socket,
    during: Duration,
    wanted: impl Fn(&Value) -> bool,
) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + during;
    let mut found = Vec::new();
    while let Ok(Some(Ok(frame))) = tokio::time::timeout_at(deadline, socket.next()).await {
        if let Message::Text(text) = frame {
            let value: Value = serde_json::from_str(&text).unwrap();
            if wanted(&value) {
                found.push(value);
            }
        }
    }
    found
}

/// The `message` frames a socket receives, as they arrive, read by a task
/// of their own so that arrival times are measured, not polled.
pub struct Inbox {
    arrived: tokio::sync::mpsc::UnboundedReceiver<(i64, String, tokio::time::Instant)>,
    /// Every message seen so far: `(seq, client_msg_id)` in arrival order.
    pub seen: Vec<(i64, String)>,
}

impl Inbox {
    pub fn new(mut socket: Socket) -> Inbox {
        let (tx, arrived) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Some(Ok(frame)) = socket.next().await {
                let Message::Text(text) = frame else {
                    continue;
                };
                let frame: Value = serde_json::from_str(&text).unwrap();
                if frame["type"] == "message" {
                    let message = &frame["message"];
                    let seq = message["seq"].as_i64().unwrap();
                    let id = message["client_msg_id"].as_str().unwrap().to_owned();
                    if tx.send((seq, id, tokio::time::Instant::now())).is_err() {
                        return;
                    }
                }
            }
        });
        Inbox {
            arrived,
            seen: Vec::new(),
        }
    }

    /// Waits for message `client_msg_id`; when it arrived. Panics after
    /// `within`.
    pub async fn wait_for(
        &mut self,
        client_msg_id: &str,
        within: Duration,
    ) -> tokio::time::Instant {
        if self.seen.iter().any(|(_, id)| id == client_msg_id) {
            panic!("{client_msg_id} was seen already");
        }
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let (seq, id, at) = tokio::time::timeout_at(deadline, self.arrived.recv())
                .await
                .unwrap_or_else(|_| panic!("{client_msg_id} did not arrive within {within:?}"))
                .expect("the socket closed");
            self.seen.push((seq, id.clone()));
            if id == client_msg_id {
                return at;
            }
        }
    }

    /// Takes what else arrives within `during`.
    pub async fn drain(&mut self, during: Duration) {
        let deadline = tokio::time::Instant::now() + during;
        while let Ok(Some((seq, id, _))) =
            tokio::time::timeout_at(deadline, self.arrived.recv()).await
        {
            self.seen.push((seq, id));
        }
    }
}

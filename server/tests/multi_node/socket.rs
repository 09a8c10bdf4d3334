//! A test's own WebSocket client of one node (`byrd-testkit`'s): connect,
//! send frames, wait for the frame a test expects.

use std::time::Duration;

use byrd_testkit::ws::{Received, WsClient};
use serde_json::Value;

pub type Socket = WsClient;

/// Opens `/v1/ws` on `address` with `token` and reads its `hello`.
pub async fn connect(address: &str, token: &str) -> Socket {
    WsClient::connect(address, token).await.0
}

/// Sends one client frame.
pub async fn send(socket: &mut Socket, frame: Value) {
    socket.send_json(frame).await;
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
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match socket.receive(left).await.expect("no such frame in time") {
            Received::Json(value) if wanted(&value) => return Ok(value),
            Received::Close(code, _) => return Err(Some(code)),
            Received::Ended => return Err(None),
            Received::Json(_) | Received::Other(_) => {}
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
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match socket.receive(left).await {
            Some(Received::Json(value)) if wanted(&value) => found.push(value),
            Some(Received::Json(_) | Received::Other(_)) => {}
            _ => return found,
        }
    }
}

/// What a `message` frame says about its message.
pub struct Delivered {
    pub chat_id: String,
    pub seq: i64,
    pub client_msg_id: String,
}

impl Delivered {
    /// The message of a `message` frame; `None` for any other frame. A
    /// message frame without these fields fails the test.
    pub fn of(frame: &Value) -> Option<Delivered> {
        if frame["type"] != "message" {
            return None;
        }
        let message = &frame["message"];
        Some(Delivered {
            chat_id: message["chat_id"].as_str().unwrap().to_owned(),
            seq: message["seq"].as_i64().unwrap(),
            client_msg_id: message["client_msg_id"].as_str().unwrap().to_owned(),
        })
    }
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
            // An idle socket is no reason to stop: wait for as long as the
            // test keeps the inbox.
            loop {
                let frame = match socket.receive_unbounded().await {
                    Received::Json(frame) => frame,
                    Received::Other(_) => continue,
                    Received::Close(..) | Received::Ended => return,
                };
                if let Some(message) = Delivered::of(&frame) {
                    let arrived = (
                        message.seq,
                        message.client_msg_id,
                        tokio::time::Instant::now(),
                    );
                    if tx.send(arrived).is_err() {
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

//! A client that watches chats over WebSocket on one node, and when that
//! node goes away reconnects to the next with the `seq` it has, as the
//! protocol tells clients to: `after_seq` in a guest's URL, `subscribe`
//! with `after_seq` for an agent. It records every message frame.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

/// Who watches: a guest its one chat, an agent a list of chats.
#[derive(Clone)]
pub enum Watcher {
    Guest { chat: String, token: String },
    Agent { chats: Vec<String>, token: String },
}

/// `(seq, client_msg_id)` of every message frame received, per chat, in
/// the order received; and how often the observer reconnected.
#[derive(Default)]
pub struct Seen {
    pub messages: HashMap<String, Vec<(i64, String)>>,
    pub reconnects: u32,
}

impl Seen {
    fn last_seq(&self, chat: &str) -> i64 {
        self.messages
            .get(chat)
            .and_then(|list| list.last())
            .map_or(0, |(seq, _)| *seq)
    }
}

/// Watches from `nodes[first]` on, moving to the next node whenever the
/// connection ends, until `stop` says true.
pub async fn observe(
    watcher: Watcher,
    nodes: Vec<String>,
    first: usize,
    seen: Arc<Mutex<Seen>>,
    mut stop: watch::Receiver<bool>,
) {
    let mut node = first;
    loop {
        if *stop.borrow() {
            return;
        }
        let session = watch_once(&watcher, &nodes[node % nodes.len()], &seen);
        tokio::select! {
            () = session => {}
            _ = stop.changed() => return,
        }
        seen.lock().unwrap().reconnects += 1;
        node += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One connection, until it ends.
async fn watch_once(watcher: &Watcher, node: &str, seen: &Arc<Mutex<Seen>>) {
    let url = match watcher {
        Watcher::Guest { chat, token } => {
            let after = seen.lock().unwrap().last_seq(chat);
            format!("ws://{node}/v1/ws?token={token}&after_seq={after}")
        }
        Watcher::Agent { token, .. } => format!("ws://{node}/v1/ws?token={token}"),
    };
    let Ok(Ok((mut socket, _))) = tokio::time::timeout(
        Duration::from_secs(5),
        tokio_tungstenite::connect_async(url),
    )
    .await
    else {
        return;
    };
    if let Watcher::Agent { chats, .. } = watcher {
        for chat in chats {
            let after = seen.lock().unwrap().last_seq(chat);
            let subscribe = json!({"type": "subscribe", "chat_id": chat, "after_seq": after});
            if socket
                .send(Message::Text(subscribe.to_string().into()))
                .await
                .is_err()
            {
                return;
            }
        }
    }
    while let Some(Ok(frame)) = socket.next().await {
        let Message::Text(text) = frame else {
            continue;
        };
        let Ok(frame) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        if frame["type"] == "message" {
            let message = &frame["message"];
            let chat = message["chat_id"].as_str().unwrap().to_owned();
            let seq = message["seq"].as_i64().unwrap();
            let client_msg_id = message["client_msg_id"].as_str().unwrap().to_owned();
            seen.lock()
                .unwrap()
                .messages
                .entry(chat)
                .or_default()
                .push((seq, client_msg_id));
        }
    }
}

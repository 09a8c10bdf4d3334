//! A client that watches chats over WebSocket on one node, and when that
//! node goes away reconnects to the next with the `seq` it has, as the
//! protocol tells clients to: `after_seq` in a guest's URL, `subscribe`
//! with `after_seq` for an agent. It records every message frame. It is
//! the kit's WebSocket client, opened without failing the test when a
//! node is gone.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use byrd_testkit::ws::{Handshake, Received, WsClient};
use serde_json::json;
use tokio::sync::watch;

use crate::socket::Delivered;

/// Who watches: a guest its one chat, an agent a list of chats.
#[derive(Clone)]
pub enum Watcher {
    Guest { chat: String, token: String },
    Agent { chats: Vec<String>, token: String },
}

impl Watcher {
    /// The chats it watches.
    pub fn chats(&self) -> Vec<String> {
        match self {
            Watcher::Guest { chat, .. } => vec![chat.clone()],
            Watcher::Agent { chats, .. } => chats.clone(),
        }
    }
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
    let (token, after_seq) = match watcher {
        Watcher::Guest { chat, token } => {
            let after = seen.lock().unwrap().last_seq(chat);
            (token, Some(format!("after_seq={after}")))
        }
        Watcher::Agent { token, .. } => (token, None),
    };
    let handshake = Handshake {
        query_token: Some(token),
        query: after_seq.as_deref(),
        ..Handshake::default()
    };
    // A node killed on purpose refuses the connection: try the next one.
    let Ok(mut socket) = WsClient::open(node, handshake).await else {
        return;
    };
    if let Watcher::Agent { chats, .. } = watcher {
        for chat in chats {
            let after = seen.lock().unwrap().last_seq(chat);
            let subscribe = json!({"type": "subscribe", "chat_id": chat, "after_seq": after});
            if !socket.try_send_json(subscribe).await {
                return;
            }
        }
    }
    loop {
        match socket.receive_unbounded().await {
            Received::Json(frame) => {
                if let Some(message) = Delivered::of(&frame) {
                    seen.lock()
                        .unwrap()
                        .messages
                        .entry(message.chat_id)
                        .or_default()
                        .push((message.seq, message.client_msg_id));
                }
            }
            Received::Other(_) => {}
            Received::Close(..) | Received::Ended => return,
        }
    }
}

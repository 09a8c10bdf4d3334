//! Recovery when connections drop (`spec/v1/README.md#recovery-after-reconnect`,
//! `#ordering-and-delivery`), as a property: whatever the interleaving of
//! sends and vanished connections on both sides, a client written as the
//! spec says (reconnect with `after_seq` = the last seq it saw, retry
//! unacked sends with the same `client_msg_id`) ends with every message
//! exactly once, and the store holds each `client_msg_id` once.

use std::collections::{BTreeMap, HashMap};

use proptest::prelude::*;
use serde_json::{Value, json};

use crate::helpers::{TestApp, json_body, runtime, spawn_app};
use crate::ws_client::{WsClient, agent_token, chat_and_guest, kind, send_frame};

async fn stored_messages(app: &TestApp, token: &str, chat: &str) -> Vec<Value> {
    let page = json_body(
        app.get(&format!("/v1/chats/{chat}/messages?limit=200"), Some(token))
            .await,
        200,
    )
    .await;
    assert_eq!(page["has_more"], false);
    page["messages"].as_array().unwrap().clone()
}

/// One step of a chat where connections drop.
#[derive(Debug, Clone)]
enum Step {
    /// The side sends a message (reconnecting first if it is offline).
    Send(Party),
    /// The side reads whatever has arrived, up to a ping's pong.
    Read(Party),
    /// The side's connection vanishes without a close frame.
    Drop(Party),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Party {
    Guest,
    Agent,
}

fn step() -> impl Strategy<Value = Step> {
    let party = prop_oneof![Just(Party::Guest), Just(Party::Agent)];
    party.prop_flat_map(|p| prop_oneof![3 => Just(Step::Send(p)), 2 => Just(Step::Read(p)), 1 => Just(Step::Drop(p))])
}

/// A client as a real one would be written: it remembers every message by
/// `seq`, keeps unacked sends to retry after a reconnect, and checks each
/// connection's stream against the protocol as it reads.
struct Side {
    name: &'static str,
    token: String,
    chat: String,
    connection: Option<WsClient>,
    /// Every message received, by `seq`.
    have: BTreeMap<i64, Value>,
    /// Highest `seq` delivered on the current connection since `subscribed`.
    connection_last: i64,
    /// Sent but not yet acked: `client_msg_id` to body.
    pending: BTreeMap<String, String>,
    /// Every `client_msg_id` acked, with its `seq`.
    acked: HashMap<String, i64>,
    sent: usize,
    nonce: u64,
}

impl Side {
    fn new(name: &'static str, token: String, chat: String) -> Side {
        Side {
            name,
            token,
            chat,
            connection: None,
            have: BTreeMap::new(),
            connection_last: 0,
            pending: BTreeMap::new(),
            acked: HashMap::new(),
            sent: 0,
            nonce: 0,
        }
    }

    fn last_seen(&self) -> i64 {
        self.have.keys().next_back().copied().unwrap_or(0)
    }

    fn remember(&mut self, message: &Value) {
        let seq = message["seq"].as_i64().unwrap();
        if let Some(earlier) = self.have.insert(seq, message.clone()) {
            assert_eq!(
                &earlier, message,
                "{}: two different messages with seq {seq}",
                self.name
            );
        }
    }

    /// Connects, subscribes with `after_seq` = the last seq seen, checks
    /// the replay, then retries every unacked send.
    async fn reconnect(&mut self, app: &TestApp) {
        let (mut connection, _) = WsClient::connect(app, &self.token).await;
        let after = self.last_seen();
        connection
            .send_json(json!({"type": "subscribe", "chat_id": self.chat, "after_seq": after}))
            .await;
        let mut before_subscribed = Vec::new();
        let subscribed = loop {
            let frame = connection.next_json().await;
            match kind(&frame) {
                "message" => before_subscribed.push(frame["message"].clone()),
                "subscribed" => break frame,
                _ => panic!("{}: unexpected {frame} while subscribing", self.name),
            }
        };
        assert_eq!(subscribed["recovered"], true, "{}: {subscribed}", self.name);
        let last = subscribed["last_seq"].as_i64().unwrap();
        let seqs: Vec<i64> = before_subscribed
            .iter()
            .map(|m| m["seq"].as_i64().unwrap())
            .collect();
        // The replay is exactly after+1..=last, in order. A guest is in its
        // chat live from connect, so live messages may precede its replay;
        // those are a contiguous run inside the replayed range.
        let replay_start = seqs
            .len()
            .checked_sub(usize::try_from(last - after).unwrap())
            .unwrap_or_else(|| panic!("{}: replay {seqs:?} short of {after}..={last}", self.name));
        assert_eq!(
            seqs[replay_start..],
            (after + 1..=last).collect::<Vec<_>>()[..],
            "{}: replay {seqs:?}",
            self.name
        );
        let early = &seqs[..replay_start];
        assert!(
            self.name == "guest" || early.is_empty(),
            "{}: messages before the replay {seqs:?}",
            self.name
        );
        assert!(
            early.windows(2).all(|w| w[1] == w[0] + 1)
                && early.iter().all(|s| (after + 1..=last).contains(s)),
            "{}: early live messages {seqs:?} after {after}",
            self.name
        );
        for message in &before_subscribed {
            self.remember(message);
        }
        self.connection_last = last;
        self.connection = Some(connection);
        let retries: Vec<_> = self.pending.clone().into_iter().collect();
        for (client_msg_id, body) in retries {
            let frame = send_frame(&self.chat, &client_msg_id, &body);
            self.connection().send_json(frame).await;
        }
    }

    fn connection(&mut self) -> &mut WsClient {
        self.connection.as_mut().expect("connected")
    }

    async fn send_next(&mut self, app: &TestApp) {
        if self.connection.is_none() {
            self.reconnect(app).await;
        }
        self.sent += 1;
        let client_msg_id = format!("{}-{}", self.name, self.sent);
        let body = format!("{} says {}", self.name, self.sent);
        self.pending.insert(client_msg_id.clone(), body.clone());
        let frame = send_frame(&self.chat, &client_msg_id, &body);
        self.connection().send_json(frame).await;
    }

    /// Handles one frame after `subscribed`: messages strictly in order.
    fn handle(&mut self, frame: &Value) {
        match kind(frame) {
            "message" => {
                let seq = frame["message"]["seq"].as_i64().unwrap();
                assert_eq!(
                    seq,
                    self.connection_last + 1,
                    "{}: gap or duplicate at {frame}",
                    self.name
                );
                assert!(
                    !self.have.contains_key(&seq),
                    "{}: {seq} seen before",
                    self.name
                );
                self.connection_last = seq;
                self.remember(&frame["message"]);
            }
            "ack" => {
                let client_msg_id = frame["client_msg_id"].as_str().unwrap().to_owned();
                let seq = frame["message"]["seq"].as_i64().unwrap();
                if let Some(earlier) = self.acked.insert(client_msg_id.clone(), seq) {
                    assert_eq!(
                        earlier, seq,
                        "{}: a retry of {client_msg_id} got another seq",
                        self.name
                    );
                }
                self.pending.remove(&client_msg_id);
            }
            _ => panic!("{}: unexpected {frame}", self.name),
        }
    }

    /// Reads until a ping's pong: every ack of a send made before it is in.
    async fn read_until_pong(&mut self, app: &TestApp) {
        if self.connection.is_none() {
            self.reconnect(app).await;
        }
        self.nonce += 1;
        let nonce = self.nonce.to_string();
        self.connection()
            .send_json(json!({"type": "ping", "nonce": nonce}))
            .await;
        loop {
            let frame = self.connection().next_json().await;
            if kind(&frame) == "pong" {
                assert_eq!(frame["nonce"], nonce.as_str());
                return;
            }
            self.handle(&frame);
        }
    }

    async fn read_until_seq(&mut self, seq: i64) {
        while self.connection_last < seq {
            let frame = self.connection().next_json().await;
            self.handle(&frame);
        }
    }
}

async fn run_dropping_connections(steps: Vec<Step>) {
    let app = spawn_app().await;
    let started = app.start_chat().await;
    let (chat, guest_token) = chat_and_guest(&started);
    let (_, agent_token) = agent_token();
    let mut guest = Side::new("guest", guest_token.clone(), chat.clone());
    let mut agent = Side::new("agent", agent_token, chat.clone());
    guest.reconnect(&app).await;
    agent.reconnect(&app).await;

    for step in steps {
        let (Step::Send(party) | Step::Read(party) | Step::Drop(party)) = step;
        let side = match party {
            Party::Guest => &mut guest,
            Party::Agent => &mut agent,
        };
        match step {
            Step::Send(_) => side.send_next(&app).await,
            Step::Read(_) => side.read_until_pong(&app).await,
            Step::Drop(_) => side.connection = None,
        }
    }

    // Settle: both online, every send acked.
    for side in [&mut guest, &mut agent] {
        side.read_until_pong(&app).await;
        assert!(
            side.pending.is_empty(),
            "{}: unacked after a pong {:?}",
            side.name,
            side.pending
        );
    }
    let stored = stored_messages(&app, &guest_token, &chat).await;
    let total = i64::try_from(stored.len()).unwrap();
    assert_eq!(
        stored.len(),
        guest.sent + agent.sent,
        "every sent message is stored exactly once"
    );
    for side in [&mut guest, &mut agent] {
        side.read_until_seq(total).await;
        assert_eq!(
            side.have.keys().copied().collect::<Vec<_>>(),
            (1..=total).collect::<Vec<_>>(),
            "{}",
            side.name
        );
        assert_eq!(
            side.have.values().cloned().collect::<Vec<_>>(),
            stored,
            "{}",
            side.name
        );
        for n in 1..=side.sent {
            let client_msg_id = format!("{}-{n}", side.name);
            let copies = stored
                .iter()
                .filter(|m| m["client_msg_id"] == client_msg_id.as_str())
                .count();
            assert_eq!(copies, 1, "{client_msg_id} stored {copies} times");
        }
    }
}

#[test]
fn dropped_connections_recover_every_message_exactly_once() {
    // Property: whatever the interleaving of sends and dropped connections
    // on both sides, a client that reconnects with `after_seq` = the last
    // seq it saw and retries unacked sends ends with exactly seqs 1..=N,
    // each once, and every `client_msg_id` is stored exactly once.
    let rt = runtime();
    let config = ProptestConfig {
        cases: 8,
        max_shrink_iters: 32,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |(steps in prop::collection::vec(step(), 4..28))| {
        rt.block_on(run_dropping_connections(steps));
    });
}

//! Recovery after reconnect (`spec/v1/README.md#recovery-after-reconnect`):
//! `subscribe {chat_id, after_seq}` replays every stored message with
//! `seq > after_seq` in order, then live ones, with no gap and no
//! duplicate between the two; past the replay cap it replays nothing and
//! answers `recovered: false`.

use std::collections::{BTreeMap, HashMap};

use byrd_server::store::ReadFaults;
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::helpers::{TestApp, json_body, runtime, spawn_app, spawn_app_with};
use crate::ws_client::{
    WsClient, agent_token, chat_and_guest, expect_ack_and_message, frame_snapshot_settings, kind,
};

fn send(chat: &str, client_msg_id: &str, body: &str) -> Value {
    json!({"type": "send", "chat_id": chat, "client_msg_id": client_msg_id, "body": body})
}

async fn post_message(app: &TestApp, token: &str, chat: &str, client_msg_id: &str) -> Value {
    let body = json!({"client_msg_id": client_msg_id, "body": format!("body of {client_msg_id}")});
    json_body(
        app.post(
            &format!("/v1/chats/{chat}/messages"),
            Some(token),
            Some(&body),
        )
        .await,
        201,
    )
    .await
}

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

#[tokio::test]
async fn reconnecting_with_after_seq_replays_exactly_the_missed_messages() {
    // A client that saw up to `seq` 2, reconnects and subscribes with
    // `after_seq: 2` gets 3..=5 in order, then `subscribed {recovered:
    // true, last_seq: 5}`, then live messages from 6 on, nothing twice.
    let app = spawn_app().await;
    let started = app.start_chat().await;
    let (chat, guest_token) = chat_and_guest(&started);
    let (_, agent_token) = agent_token();
    let (mut agent, _) = WsClient::connect(&app, &agent_token).await;
    agent
        .send_json(json!({"type": "subscribe", "chat_id": chat, "after_seq": 0}))
        .await;
    agent.expect_type("subscribed").await;
    let mut stored = Vec::new();
    for n in 1..=2 {
        stored.push(post_message(&app, &guest_token, &chat, &format!("g-{n}")).await);
        assert_eq!(agent.expect_type("message").await["message"], stored[n - 1]);
    }
    drop(agent);
    for n in 3..=5 {
        stored.push(post_message(&app, &guest_token, &chat, &format!("g-{n}")).await);
    }

    let (mut agent, _) = WsClient::connect(&app, &agent_token).await;
    agent
        .send_json(json!({"type": "subscribe", "chat_id": chat, "after_seq": 2}))
        .await;
    for expected in &stored[2..] {
        assert_eq!(
            agent.expect_type("message").await,
            json!({"type": "message", "message": expected})
        );
    }
    let subscribed = agent.expect_type("subscribed").await;
    assert_eq!(
        subscribed,
        json!({"type": "subscribed", "chat_id": chat, "recovered": true, "last_seq": 5})
    );
    frame_snapshot_settings().bind(|| insta::assert_json_snapshot!("ws_subscribed", subscribed));

    let live = post_message(&app, &guest_token, &chat, "g-6").await;
    assert_eq!(agent.expect_type("message").await["message"], live);
    assert_eq!(live["seq"], 6);

    // A guest recovers the same way on its own chat.
    let (mut guest, _) = WsClient::connect(&app, &guest_token).await;
    guest
        .send_json(json!({"type": "subscribe", "chat_id": chat, "after_seq": 4}))
        .await;
    assert_eq!(guest.expect_type("message").await["message"]["seq"], 5);
    assert_eq!(guest.expect_type("message").await["message"]["seq"], 6);
    let subscribed = guest.expect_type("subscribed").await;
    assert_eq!(
        subscribed,
        json!({"type": "subscribed", "chat_id": chat, "recovered": true, "last_seq": 6})
    );
    agent.send_json(send(&chat, "a-7", "live again")).await;
    expect_ack_and_message(&mut agent).await;
    assert_eq!(guest.expect_type("message").await["message"]["seq"], 7);
}

#[tokio::test]
async fn a_backlog_over_the_replay_cap_is_not_replayed_and_says_recovered_false() {
    // A replay is capped (`replay_cap`): past the cap nothing is replayed
    // and `subscribed` says `recovered: false` with the chat's last seq;
    // live messages follow from there. At the cap exactly, all is replayed.
    let app = spawn_app_with(|s| s.ws.replay_cap = 3).await;
    let started = app.start_chat().await;
    let (chat, guest_token) = chat_and_guest(&started);
    for n in 1..=5 {
        post_message(&app, &guest_token, &chat, &format!("g-{n}")).await;
    }
    let (_, agent_token) = agent_token();
    let (mut agent, _) = WsClient::connect(&app, &agent_token).await;

    agent
        .send_json(json!({"type": "subscribe", "chat_id": chat, "after_seq": 1}))
        .await;
    let subscribed = agent.expect_type("subscribed").await;
    assert_eq!(
        subscribed,
        json!({"type": "subscribed", "chat_id": chat, "recovered": false, "last_seq": 5})
    );
    let live = post_message(&app, &guest_token, &chat, "g-6").await;
    assert_eq!(agent.expect_type("message").await["message"], live);

    agent
        .send_json(json!({"type": "subscribe", "chat_id": chat, "after_seq": 3}))
        .await;
    for seq in 4..=6 {
        assert_eq!(agent.expect_type("message").await["message"]["seq"], seq);
    }
    let subscribed = agent.expect_type("subscribed").await;
    assert_eq!(
        subscribed,
        json!({"type": "subscribed", "chat_id": chat, "recovered": true, "last_seq": 6})
    );
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
            let frame = send(&self.chat, &client_msg_id, &body);
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
        let frame = send(&self.chat, &client_msg_id, &body);
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

#[tokio::test]
async fn a_guest_reconnecting_with_after_seq_in_the_url_gets_the_replay_at_once() {
    // A guest may put `after_seq` in the WebSocket URL: its connect-time
    // subscription then replays `seq > after_seq` before `subscribed`, so
    // a reconnect needs no `subscribe` frame and sees nothing twice.
    let app = spawn_app().await;
    let started = app.start_chat().await;
    let (chat, guest_token) = chat_and_guest(&started);
    for id in ["a", "b", "c"] {
        post_message(&app, &guest_token, &chat, id).await;
    }
    let (mut guest, _) = WsClient::connect(&app, &format!("{guest_token}&after_seq=1")).await;
    let replayed: Vec<i64> = vec![
        guest.expect_type("message").await["message"]["seq"]
            .as_i64()
            .unwrap(),
        guest.expect_type("message").await["message"]["seq"]
            .as_i64()
            .unwrap(),
    ];
    assert_eq!(replayed, vec![2, 3]);
    let subscribed = guest.expect_type("subscribed").await;
    assert_eq!(subscribed["recovered"], true);
    assert_eq!(subscribed["last_seq"], 3);
    post_message(&app, &guest_token, &chat, "d").await;
    assert_eq!(guest.expect_type("message").await["message"]["seq"], 4);
    guest.assert_alive("after-replay").await;
}

/// Waits until a message read is held by `faults`.
async fn until_a_read_waits(faults: &ReadFaults) {
    tokio::time::timeout(crate::ws_client::FRAME_TIMEOUT, async {
        while faults.waiting() == 0 {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the replay's read started");
}

#[tokio::test]
async fn a_replay_lets_the_connections_other_chats_through_and_holds_its_own() {
    // A replay must not stall a busy connection until its outbound queue
    // (8 frames here) overflows and it is closed with 4008: while a
    // `subscribe`'s replay is being read, live messages of the
    // connection's other chats keep going out. Live messages of the chat
    // being replayed wait for the replay and its `subscribed`, in order.
    let faults = ReadFaults::armed();
    let app = spawn_app_with(|settings| {
        settings.ws.outbound_queue = 8;
        settings.store.read_faults = faults.clone();
    })
    .await;
    let (quiet, quiet_guest) = chat_and_guest(&app.start_chat().await);
    let (busy, busy_guest) = chat_and_guest(&app.start_chat().await);
    for n in 1..=3 {
        post_message(&app, &quiet_guest, &quiet, &format!("q{n}")).await;
    }
    let (_, agent_token) = agent_token();
    let (mut agent, _) = WsClient::connect(&app, &agent_token).await;
    agent
        .send_json(json!({"type": "subscribe", "chat_id": busy, "after_seq": 0}))
        .await;
    agent.expect_type("subscribed").await;

    faults.hold();
    agent
        .send_json(json!({"type": "subscribe", "chat_id": quiet, "after_seq": 0}))
        .await;
    until_a_read_waits(&faults).await;
    post_message(&app, &quiet_guest, &quiet, "q4").await;
    for n in 1..=20 {
        post_message(&app, &busy_guest, &busy, &format!("b{n}")).await;
        let frame = agent.expect_type("message").await;
        assert_eq!(frame["message"]["chat_id"], busy.as_str());
        assert_eq!(frame["message"]["seq"], n);
    }
    faults.release();

    for n in 1..=3 {
        let frame = agent.expect_type("message").await;
        assert_eq!(frame["message"]["chat_id"], quiet.as_str());
        assert_eq!(frame["message"]["seq"], n);
    }
    let subscribed = agent.expect_type("subscribed").await;
    assert_eq!(subscribed["recovered"], true);
    assert_eq!(subscribed["last_seq"], 3);
    let live = agent.expect_type("message").await;
    assert_eq!(live["message"]["seq"], 4);
    agent.assert_alive("after the replay").await;
}

#[tokio::test]
async fn a_replay_longer_than_a_page_comes_whole_and_in_order() {
    // The replay is read a page at a time; the client still gets every
    // message after `after_seq` once, in `seq` order, then `subscribed`.
    let app = spawn_app().await;
    let (chat, guest) = chat_and_guest(&app.start_chat().await);
    for n in 1..=250 {
        post_message(&app, &guest, &chat, &format!("m{n}")).await;
    }
    let (_, agent_token) = agent_token();
    let (mut agent, _) = WsClient::connect(&app, &agent_token).await;
    agent
        .send_json(json!({"type": "subscribe", "chat_id": chat, "after_seq": 20}))
        .await;
    for seq in 21..=250 {
        let frame = agent.expect_type("message").await;
        assert_eq!(frame["message"]["seq"], seq);
    }
    let subscribed = agent.expect_type("subscribed").await;
    assert_eq!(subscribed["last_seq"], 250);
}

#[tokio::test]
async fn a_gap_that_cannot_be_read_closes_with_resume_required() {
    // A subscriber never gets a message past a hole: when the messages
    // below a live one cannot be read, the server closes with 1011
    // `resume_required`, and the client resumes from the last `seq` it
    // has. Here the `subscribe`'s replay fails (answered with an error),
    // and the fill before the next live message fails too.
    let faults = ReadFaults::armed();
    let app = spawn_app_with(|settings| settings.store.read_faults = faults.clone()).await;
    let (chat, guest) = chat_and_guest(&app.start_chat().await);
    for n in 1..=2 {
        post_message(&app, &guest, &chat, &format!("m{n}")).await;
    }
    let (_, agent_token) = agent_token();
    let (mut agent, _) = WsClient::connect(&app, &agent_token).await;
    faults.fail_next(2);
    agent
        .send_json(json!({"type": "subscribe", "chat_id": chat, "after_seq": 0, "ref": "s1"}))
        .await;
    let refused = agent.expect_type("error").await;
    assert_eq!(refused["ref"], "s1");

    post_message(&app, &guest, &chat, "m3").await;
    let (code, reason) = agent.expect_close().await;
    assert_eq!((code, reason.as_str()), (1011, "resume_required"));
}

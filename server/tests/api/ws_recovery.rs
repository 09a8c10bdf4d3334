//! Recovery after reconnect (`spec/v1/README.md#recovery-after-reconnect`,
//! `#ordering-and-delivery`; `spec/v1/asyncapi.yaml` messages
//! `ClientSubscribe` and `ServerSubscribed`): `subscribe {chat_id,
//! after_seq}` replays every stored message with `seq > after_seq` in
//! order, then live ones, with no gap and no duplicate between the two;
//! past the configured replay cap it replays nothing and answers
//! `recovered: false`. With the store's reads held or failed
//! (`ReadFaults`), a replay holds back only its own chat, and a gap it
//! cannot read closes the socket with `resume_required`.

use byrd_server::store::ReadFaults;
use serde_json::{Value, json};

use crate::helpers::{TestApp, json_body, spawn_app, spawn_app_with};
use crate::ws_client::{
    WsClient, agent_token, chat_and_guest, expect_ack_and_message, frame_snapshot_settings,
    send_frame,
};

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
    agent
        .send_json(send_frame(&chat, "a-7", "live again"))
        .await;
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

#[tokio::test]
async fn an_agents_subscribes_sent_together_each_replay_their_own_chat_in_order() {
    // The server reads an agent's subscribes received together ahead, in
    // one go (`ws/read_ahead.rs`); each must still replay its own chat,
    // from its own `after_seq`, and be answered in the order sent.
    let app = spawn_app().await;
    let mut chats = Vec::new();
    let mut stored: Vec<Vec<Value>> = Vec::new();
    for c in 0..6 {
        let started = app.start_chat().await;
        let (chat, guest) = chat_and_guest(&started);
        let mut messages = Vec::new();
        for n in 0..c {
            messages.push(post_message(&app, &guest, &chat, &format!("c{c}-{n}")).await);
        }
        chats.push(chat);
        stored.push(messages);
    }
    let unknown = uuid::Uuid::now_v7().to_string();
    // (chat index, after_seq): from the start, partway, up to date, and
    // an unknown chat in between.
    let asked: [(usize, i64); 6] = [(5, 0), (2, 1), (4, 4), (0, 0), (3, 1), (1, 0)];
    let mut frames: Vec<Value> = asked
        .iter()
        .map(|&(c, after)| json!({"type": "subscribe", "chat_id": chats[c], "after_seq": after}))
        .collect();
    frames.insert(
        3,
        json!({"type": "subscribe", "chat_id": unknown, "ref": "nowhere"}),
    );
    frames.push(json!({"type": "ping", "nonce": "end"}));

    let (_, agent_token) = agent_token();
    let (mut agent, _) = WsClient::connect(&app, &agent_token).await;
    agent.send_json_together(&frames).await;

    let mut expected = Vec::new();
    for (i, &(c, after)) in asked.iter().enumerate() {
        if i == 3 {
            expected.push(json!({"error": "chat_not_found", "ref": "nowhere"}));
        }
        for message in &stored[c][after as usize..] {
            expected.push(json!({"type": "message", "message": message}));
        }
        expected.push(json!({
            "type": "subscribed", "chat_id": chats[c], "recovered": true,
            "last_seq": stored[c].len(),
        }));
    }
    expected.push(json!({"type": "pong", "nonce": "end"}));
    let mut received = Vec::new();
    while received.len() < expected.len() {
        let frame = agent.next_json().await;
        received.push(match frame["type"].as_str() {
            Some("error") => json!({"error": frame["code"], "ref": frame["ref"]}),
            _ => frame,
        });
    }
    assert_eq!(received, expected);
}

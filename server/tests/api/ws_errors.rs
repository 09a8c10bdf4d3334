//! Refused frames and closed connections under configured limits
//! (`spec/v1/README.md#errors-1`, `#close-codes`, `#heartbeats`,
//! `#limits`; `spec/v1/asyncapi.yaml` messages `ServerError` and
//! `ServerPong`): malformed frames get an `error` and the socket lives;
//! an oversized frame closes with 1009, a slow consumer with 4008, a
//! silent peer with 4009, a shutdown with 1001.

use std::time::Duration;

use byrd_server::options::bounded::Bounded;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{TestApp, spawn_app, spawn_app_with};
use crate::ws_client::{
    WsClient, agent_token, chat_and_guest, expect_ack_and_message, frame_snapshot_settings, kind,
};

/// Sends `raw` as a text frame and returns the `error` that answers it.
async fn error_for(client: &mut WsClient, raw: Message) -> Value {
    client.send_raw(raw).await;
    let error = client.expect_type("error").await;
    let mut keys: Vec<_> = error.as_object().unwrap().keys().cloned().collect();
    keys.sort_unstable();
    assert_eq!(keys, ["code", "message", "ref", "type"], "{error}");
    assert!(!error["message"].as_str().unwrap().is_empty(), "{error}");
    error
}

/// Frames the server must refuse, with the `error` code and `ref` that
/// answer each, for a guest of `chat` on a server whose `max_body_chars`
/// is 10.
fn malformed_frames(chat: &str) -> Vec<(String, &'static str, Value)> {
    let send = |client_msg_id: &str, body: &str| {
        json!({"type": "send", "chat_id": chat, "client_msg_id": client_msg_id, "body": body})
            .to_string()
    };
    vec![
        (
            "{\"type\": \"ping\"".to_owned(),
            "invalid_json",
            Value::Null,
        ),
        ("[1, 2]".to_owned(), "invalid_frame", Value::Null),
        (
            r#"{"type": "shout", "ref": "r-1"}"#.to_owned(),
            "unknown_frame_type",
            json!("r-1"),
        ),
        (
            r#"{"ref": "r-2"}"#.to_owned(),
            "invalid_frame",
            json!("r-2"),
        ),
        (
            json!({"type": "send", "chat_id": chat, "client_msg_id": "c-1"}).to_string(),
            "invalid_frame",
            json!("c-1"),
        ),
        (
            json!({"type": "subscribe", "chat_id": "not-a-uuid", "ref": "r-3"}).to_string(),
            "invalid_frame",
            json!("r-3"),
        ),
        (
            send("c-2", "this body is too long"),
            "body_too_long",
            json!("c-2"),
        ),
        (send("c-3", "   "), "body_too_long", json!("c-3")),
        (
            send("has space", "hi"),
            "validation_failed",
            json!("has space"),
        ),
    ]
}

#[tokio::test]
async fn malformed_frames_are_answered_with_error_codes_and_the_socket_lives() {
    // Each refused frame is answered with `error {code, message, ref}`,
    // `ref` echoing the frame's `ref` or `client_msg_id`; the connection
    // stays open and still answers `ping` with `pong {nonce}`.
    let app = spawn_app_with(|s| s.ws.max_body_chars = 10).await;
    let (chat, guest_token) = chat_and_guest(&app.start_chat().await);
    let (mut guest, _) = WsClient::connect(&app, &guest_token).await;
    for (raw, code, reference) in malformed_frames(&chat) {
        let error = error_for(&mut guest, Message::text(raw.clone())).await;
        assert_eq!(error["code"], code, "{raw} -> {error}");
        assert_eq!(error["ref"], reference, "{raw} -> {error}");
    }
    let binary = error_for(&mut guest, Message::binary(br#"{"type":"ping"}"#.to_vec())).await;
    assert_eq!(binary["code"], "invalid_json");
    assert_eq!(binary["ref"], Value::Null);

    let error = error_for(
        &mut guest,
        Message::text(r#"{"type": "shout", "ref": "r-9"}"#),
    )
    .await;
    frame_snapshot_settings().bind(|| insta::assert_json_snapshot!("ws_error", error));
    guest
        .send_json(json!({"type": "ping", "nonce": "n-1"}))
        .await;
    let pong = guest.expect_type("pong").await;
    assert_eq!(pong, json!({"type": "pong", "nonce": "n-1"}));
    frame_snapshot_settings().bind(|| insta::assert_json_snapshot!("ws_pong", pong));
    guest.send_json(json!({"type": "ping"})).await;
    assert_eq!(
        guest.expect_type("pong").await,
        json!({"type": "pong", "nonce": null})
    );
    // Nothing refused was stored.
    guest
        .send_json(json!({"type": "send", "chat_id": chat, "client_msg_id": "ok", "body": "fine"}))
        .await;
    let (ack, _) = expect_ack_and_message(&mut guest).await;
    assert_eq!(ack["message"]["seq"], 1);
}

#[tokio::test]
async fn a_frame_over_max_frame_bytes_closes_with_1009() {
    // A frame larger than `max_frame_bytes` is not read: the server closes
    // with 1009 (message too big). One just under the limit is fine.
    let app = spawn_app_with(|s| s.ws.max_frame_bytes = 1024).await;
    let (_, guest_token) = chat_and_guest(&app.start_chat().await);
    let (mut guest, _) = WsClient::connect(&app, &guest_token).await;
    let nonce = |len: usize| json!({"type": "ping", "nonce": "n".repeat(len)});
    let fits = nonce(950);
    assert!(fits.to_string().len() <= 1024);
    guest.send_json(fits).await;
    guest.expect_type("pong").await;

    guest.send_json(nonce(2000)).await;

    let (code, _reason) = guest.expect_close().await;
    assert_eq!(code, 1009);
}

/// Posts `body` to `chat` as its guest until `fast`, an agent subscribed
/// to the chat, hears that the agent `slow_id` went offline, checking that
/// `fast` meanwhile gets every message in order. Answers how many were
/// posted; a bound keeps a broken server from looping forever.
async fn post_until_offline(
    app: &TestApp,
    chat: &str,
    guest_token: &str,
    body: &str,
    fast: &mut WsClient,
    slow_id: &str,
) -> i64 {
    let mut posted = 0;
    let mut heard = 0;
    let mut slow_offline = false;
    while !slow_offline {
        posted += 1;
        assert!(posted <= 400, "the slow consumer was never cut off");
        let message = json!({"client_msg_id": format!("m-{posted}"), "body": body});
        let response = app
            .post(
                &format!("/v1/chats/{chat}/messages"),
                Some(guest_token),
                Some(&message),
            )
            .await;
        assert_eq!(response.status(), 201);
        // Up to this message, every one in order; the news of the slow
        // one going offline may come in between.
        while heard < posted {
            let frame = fast.next_json().await;
            match kind(&frame) {
                "message" => {
                    heard += 1;
                    assert_eq!(frame["message"]["seq"], heard);
                }
                "presence" => {
                    assert_eq!(
                        frame,
                        json!({"type": "presence", "agent_id": slow_id, "status": "offline"})
                    );
                    slow_offline = true;
                }
                _ => panic!("unexpected {frame}"),
            }
        }
    }
    posted
}

#[tokio::test]
async fn a_slow_consumer_is_closed_with_4008_while_others_keep_receiving() {
    // Each connection has a bounded outbound queue: a client that stops
    // reading is closed with 4008 `slow_consumer` once its queue is full,
    // after the frames it was already sent; other connections keep
    // receiving without a stall.
    const BODY_CHARS: usize = 30_000;
    let app = spawn_app_with(|s| {
        s.ws.outbound_queue = 4;
        s.ws.max_body_chars = BODY_CHARS;
    })
    .await;
    let (chat, guest_token) = chat_and_guest(&app.start_chat().await);
    let (slow_id, slow_token) = agent_token();
    let (_, fast_token) = agent_token();
    let (mut fast, _) = WsClient::connect(&app, &fast_token).await;
    let (mut slow, _) = WsClient::connect_with_receive_buffer(&app, &slow_token, 8 * 1024).await;
    slow.expect_type("presence").await;
    fast.expect_type("presence").await;
    for client in [&mut fast, &mut slow] {
        client
            .send_json(json!({"type": "subscribe", "chat_id": chat, "after_seq": 0}))
            .await;
        client.expect_type("subscribed").await;
    }

    // The slow client reads nothing more.
    let body = "x".repeat(BODY_CHARS);
    let posted = post_until_offline(&app, &chat, &guest_token, &body, &mut fast, &slow_id).await;

    let (frames, code, reason) = slow.drain_until_close().await;
    assert_eq!((code, reason.as_str()), (4008, "slow_consumer"));
    let seqs: Vec<_> = frames
        .iter()
        .map(|f| f["message"]["seq"].as_i64().unwrap())
        .collect();
    assert!(frames.iter().all(|f| kind(f) == "message"));
    assert_eq!(
        seqs,
        (1..=seqs.len() as i64).collect::<Vec<_>>(),
        "what it got has no gap"
    );
    assert!((seqs.len() as i64) < posted);

    let message = json!({"client_msg_id": "after", "body": "still flowing"});
    let response = app
        .post(
            &format!("/v1/chats/{chat}/messages"),
            Some(&guest_token),
            Some(&message),
        )
        .await;
    assert_eq!(response.status(), 201);
    assert_eq!(
        fast.expect_type("message").await["message"]["seq"],
        posted + 1
    );
}

#[tokio::test]
async fn a_peer_that_never_answers_pings_is_closed_with_4009() {
    // The server pings every `heartbeat_interval`; a peer silent for twice
    // that is closed with 4009 `heartbeat_timeout`. A tungstenite client
    // answers pings only while it reads, so not reading is silence.
    let interval = Duration::from_millis(150);
    let app = spawn_app_with(|s| {
        s.ws.heartbeat_interval = Bounded::below_floor_for_tests(interval).unwrap()
    })
    .await;
    let (_, token) = agent_token();
    let (mut silent, hello) = WsClient::connect(&app, &token).await;
    let (mut chatty, _) = WsClient::connect(&app, &token).await;
    assert_eq!(hello["heartbeat_interval_ms"], 150);

    // Time is under test: the silent client must not read for a while,
    // while the chatty one reads (and so answers pings) throughout.
    let deadline = tokio::time::Instant::now() + interval * 5;
    let mut n = 0;
    while tokio::time::Instant::now() < deadline {
        n += 1;
        chatty.assert_alive(&n.to_string()).await;
        tokio::time::sleep(interval / 3).await;
    }

    assert_eq!(
        silent.expect_close().await,
        (4009, "heartbeat_timeout".to_owned())
    );
    chatty.assert_alive("answering pings keeps it open").await;
}

#[tokio::test]
async fn shutting_the_server_down_closes_sockets_with_1001() {
    // On shutdown the server closes every socket with 1001 (going away).
    let app = spawn_app().await;
    let (_, guest_token) = chat_and_guest(&app.start_chat().await);
    let (mut guest, _) = WsClient::connect(&app, &guest_token).await;

    drop(app);

    let (code, _reason) = guest.expect_close().await;
    assert_eq!(code, 1001);
}

#[tokio::test]
async fn frames_past_the_per_connection_rate_are_refused_and_the_socket_lives() {
    // A client cannot make the server work as fast as it can write: past
    // `frames_per_second` (bursts of twice that) a frame is answered with
    // `error rate_limited` and not processed, not even parsed (so no `ref`
    // is echoed); once the rate recovers the same connection is served
    // again.
    let app = spawn_app_with(|s| s.ws.frames_per_second = 2).await;
    let (_, guest_token) = chat_and_guest(&app.start_chat().await);
    let (mut guest, _) = WsClient::connect(&app, &guest_token).await;
    for i in 0..6 {
        guest
            .send_json(json!({"type": "ping", "nonce": format!("n{i}"), "ref": format!("r{i}")}))
            .await;
    }
    let mut pongs = Vec::new();
    let mut limited = Vec::new();
    for _ in 0..6 {
        let frame = guest.next_json().await;
        match kind(&frame) {
            "pong" => pongs.push(frame["nonce"].as_str().unwrap().to_owned()),
            "error" => {
                assert_eq!(frame["code"], "rate_limited", "{frame}");
                assert_eq!(frame["ref"], Value::Null, "{frame}");
                limited.push(frame);
            }
            other => panic!("unexpected {other}: {frame}"),
        }
    }
    assert_eq!(pongs, ["n0", "n1", "n2", "n3"], "the burst of 4 is served");
    assert_eq!(limited.len(), 2);
    tokio::time::sleep(Duration::from_millis(600)).await;
    guest.assert_alive("after-the-burst").await;
}

//! A hostile WebSocket client (`spec/v1/README.md#limits`, `#errors-1`,
//! `#close-codes`): floods, oversized echoes, and rule breakers cost the
//! server little and are cut off; a `client_msg_id` reused with another
//! body is refused by the store over REST and the socket alike.

use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::spawn_app_with;
use crate::ws_client::{WsClient, chat_and_guest, kind};

#[tokio::test]
async fn frames_are_charged_to_the_rate_limit_before_they_are_parsed() {
    // Malformed frames count against the per-connection rate like any
    // other: past the burst they are refused as `rate_limited` unparsed,
    // so a flood of garbage costs no JSON work.
    let app = spawn_app_with(|s| s.ws.frames_per_second = 1).await;
    let (_, guest_token) = chat_and_guest(&app.start_chat().await);
    let (mut guest, _) = WsClient::connect(&app, &guest_token).await;

    for _ in 0..4 {
        guest.send_raw(Message::text("{not json")).await;
    }
    let mut codes = Vec::new();
    for _ in 0..4 {
        let error = guest.expect_type("error").await;
        codes.push(error["code"].as_str().unwrap().to_owned());
    }

    assert_eq!(
        codes,
        [
            "invalid_json",
            "invalid_json",
            "rate_limited",
            "rate_limited"
        ]
    );
}

#[tokio::test]
async fn echoed_refs_and_unknown_frame_types_are_cut_short() {
    // An `error` echoes at most 64 characters of the frame's `ref` and
    // names at most 64 characters of an unknown `type`: a client cannot
    // make the server repeat a large payload back.
    let app = spawn_app_with(|_| {}).await;
    let (_, guest_token) = chat_and_guest(&app.start_chat().await);
    let (mut guest, _) = WsClient::connect(&app, &guest_token).await;
    let long_type = "t".repeat(10_000);
    let long_ref = "r".repeat(10_000);

    guest
        .send_json(json!({"type": long_type, "ref": long_ref}))
        .await;
    let error = guest.expect_type("error").await;

    assert_eq!(error["code"], "unknown_frame_type");
    assert_eq!(error["ref"].as_str().unwrap(), "r".repeat(64));
    assert!(error["message"].as_str().unwrap().len() < 200, "{error}");
}

#[tokio::test]
async fn a_client_that_keeps_flooding_is_closed_with_1008() {
    // A client that ignores `rate_limited` and keeps sending is closed
    // with 1008 (policy violation) rather than answered forever.
    let app = spawn_app_with(|s| s.ws.frames_per_second = 1).await;
    let (_, guest_token) = chat_and_guest(&app.start_chat().await);
    let (mut guest, _) = WsClient::connect(&app, &guest_token).await;

    for i in 0..40 {
        guest
            .send_json(json!({"type": "ping", "nonce": i.to_string()}))
            .await;
    }
    let (frames, code, reason) = guest.drain_until_close().await;

    assert_eq!((code, reason.as_str()), (1008, "policy_violation"));
    let limited = frames
        .iter()
        .filter(|f| f["code"] == "rate_limited")
        .count();
    assert!(limited >= 20, "{frames:?}");
}

#[tokio::test]
async fn a_client_msg_id_resent_with_another_body_is_refused() {
    // A `client_msg_id` names one message: resending it with the same body
    // is a retry and gets the stored message; with another body it is
    // refused with `client_msg_id_reused` (409 over REST), and nothing new
    // is stored or delivered.
    let app = spawn_app_with(|_| {}).await;
    let (chat, guest_token) = chat_and_guest(&app.start_chat().await);
    let (mut guest, _) = WsClient::connect(&app, &guest_token).await;
    let send =
        |body: &str| json!({"type": "send", "chat_id": chat, "client_msg_id": "m1", "body": body});

    guest.send_json(send("first")).await;
    guest.send_json(send("first")).await;
    guest.send_json(send("second")).await;
    guest
        .send_json(json!({"type": "ping", "nonce": "settled"}))
        .await;
    while kind(&guest.next_json().await) != "pong" {}
    let rest = app
        .post(
            &format!("/v1/chats/{chat}/messages"),
            Some(&guest_token),
            Some(&json!({"client_msg_id": "m1", "body": "third"})),
        )
        .await;

    assert_eq!(
        crate::helpers::error_code(rest, 409).await,
        "client_msg_id_reused"
    );
    let page: Value = app
        .get(&format!("/v1/chats/{chat}/messages"), Some(&guest_token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["messages"].as_array().unwrap().len(), 1);
    assert_eq!(page["messages"][0]["body"], "first");
}

#[tokio::test]
async fn a_resent_client_msg_id_with_another_body_is_refused_over_the_websocket() {
    // The same rule over the socket: the retry is acked with the stored
    // message, the other body gets `error client_msg_id_reused` naming it.
    let app = spawn_app_with(|_| {}).await;
    let (chat, guest_token) = chat_and_guest(&app.start_chat().await);
    let (mut guest, _) = WsClient::connect(&app, &guest_token).await;
    let send =
        |body: &str| json!({"type": "send", "chat_id": chat, "client_msg_id": "m1", "body": body});

    guest.send_json(send("first")).await;
    guest.send_json(send("first")).await;
    guest.send_json(send("second")).await;
    let mut acks = Vec::new();
    let mut errors = Vec::new();
    for _ in 0..4 {
        let frame = guest.next_json().await;
        match kind(&frame) {
            "ack" => acks.push(frame["message"]["seq"].clone()),
            "error" => errors.push(frame),
            "message" => {}
            other => panic!("unexpected {other}: {frame}"),
        }
    }

    assert_eq!(acks, [json!(1), json!(1)]);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["code"], "client_msg_id_reused");
    assert_eq!(errors[0]["ref"], "m1");
}

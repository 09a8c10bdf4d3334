//! Storing messages (`spec/v1/README.md#rest-for-messages`,
//! `#ordering-and-delivery`; `spec/v1/openapi.json` operations
//! `sendMessage` and `listMessages`; `spec/v1/asyncapi.yaml` messages
//! `ClientSend`, `ServerAck` and `ServerError`): history pages by `seq`,
//! a `client_msg_id` retried over either transport is stored once per
//! author, a closed chat takes nothing, and racing senders get distinct,
//! gapless seqs. Each runs on both stores (`BYRD_TEST_DATABASE`).

use std::collections::HashSet;

use serde_json::json;

use crate::helpers::{json_body, spawn_app};
use crate::ws_client::{
    Conversation, WsClient, agent_token, chat_and_guest, conversation, expect_ack_and_message,
    history, keys, kind, send_frame, seqs, subscribe,
};

/// Sends `count` messages on `client` as fast as it can write, then reads
/// until all are acked and (for a sender that is a subscriber) `hears`
/// messages have arrived, which must be seqs `1..=hears` in order.
/// Answers the acked seqs.
async fn race_sends(
    mut client: WsClient,
    chat: String,
    sender: usize,
    count: usize,
    hears: usize,
) -> Vec<i64> {
    for i in 0..count {
        client
            .send_json(send_frame(&chat, &format!("s{sender}-{i}"), "racing"))
            .await;
    }
    let mut acked = Vec::new();
    let mut heard = Vec::new();
    while acked.len() < count || heard.len() < hears {
        let frame = client.next_json().await;
        match kind(&frame) {
            "ack" => acked.push(frame["message"]["seq"].as_i64().unwrap()),
            "message" => heard.push(frame["message"]["seq"].as_i64().unwrap()),
            _ => panic!("unexpected {frame}"),
        }
    }
    if hears > 0 {
        let all: Vec<i64> = (1..=hears as i64).collect();
        assert_eq!(
            heard, all,
            "sender {sender} hears every message in seq order"
        );
    }
    acked
}

#[tokio::test]
async fn history_pages_with_after_seq_before_seq_and_limit() {
    // `GET /v1/chats/{chat_id}/messages?after_seq&before_seq&limit` answers
    // `{messages, has_more}` in ascending `seq`; with only `before_seq`
    // the page is the newest before it; limit is 1 to 200, 50 by default.
    let app = spawn_app().await;
    let started = app.start_chat().await;
    let (chat, guest_token) = chat_and_guest(&started);
    for n in 1..=7 {
        let body = json!({"client_msg_id": format!("m-{n}"), "body": format!("message {n}")});
        let posted = app
            .post(
                &format!("/v1/chats/{chat}/messages"),
                Some(&guest_token),
                Some(&body),
            )
            .await;
        assert_eq!(posted.status(), 201);
    }

    let all = history(&app, &guest_token, &chat, "").await;
    assert_eq!(keys(&all), ["has_more", "messages"]);
    assert_eq!(seqs(&all["messages"]), [1, 2, 3, 4, 5, 6, 7]);
    assert_eq!(all["has_more"], false);

    let page = history(&app, &guest_token, &chat, "?after_seq=2&limit=3").await;
    assert_eq!(seqs(&page["messages"]), [3, 4, 5]);
    assert_eq!(page["has_more"], true);
    let page = history(&app, &guest_token, &chat, "?after_seq=5&limit=3").await;
    assert_eq!(seqs(&page["messages"]), [6, 7]);
    assert_eq!(page["has_more"], false);

    let page = history(&app, &guest_token, &chat, "?before_seq=6&limit=2").await;
    assert_eq!(seqs(&page["messages"]), [4, 5]);
    assert_eq!(page["has_more"], true);
    let page = history(&app, &guest_token, &chat, "?before_seq=3&limit=2").await;
    assert_eq!(seqs(&page["messages"]), [1, 2]);
    assert_eq!(page["has_more"], false);

    let page = history(
        &app,
        &guest_token,
        &chat,
        "?after_seq=1&before_seq=6&limit=2",
    )
    .await;
    assert_eq!(seqs(&page["messages"]), [2, 3]);
    assert_eq!(page["has_more"], true);

    for bad in ["?limit=0", "?limit=201", "?after_seq=-1"] {
        let response = app
            .get(
                &format!("/v1/chats/{chat}/messages{bad}"),
                Some(&guest_token),
            )
            .await;
        assert_eq!(response.status(), 400, "{bad}");
    }
}

#[tokio::test]
async fn resending_a_client_msg_id_returns_the_same_message_and_stores_no_copy() {
    // `send` is idempotent per author and `client_msg_id`: a retry is acked
    // with the stored message (same id and seq) and fans out nothing new;
    // REST answers a retry with 200 and the same message.
    let Conversation {
        app,
        started: _,
        chat,
        guest_token,
        agent_id: _,
        agent_token: _,
        mut guest,
        mut agent,
    } = conversation().await;

    guest
        .send_json(send_frame(&chat, "same", "first try"))
        .await;
    let (first, _) = expect_ack_and_message(&mut guest).await;
    agent.expect_type("message").await;
    guest
        .send_json(send_frame(&chat, "same", "first try"))
        .await;
    let retry = guest.expect_type("ack").await;
    assert_eq!(retry["message"], first["message"]);
    assert_eq!(first["duplicate"], false);
    assert_eq!(retry["duplicate"], true, "a resend is marked as such");

    let body = json!({"client_msg_id": "same", "body": "first try"});
    let over_rest = app
        .post(
            &format!("/v1/chats/{chat}/messages"),
            Some(&guest_token),
            Some(&body),
        )
        .await;
    assert_eq!(json_body(over_rest, 200).await, first["message"]);

    // The same key from another author is another message.
    agent
        .send_json(send_frame(&chat, "same", "the agent's own"))
        .await;
    let (agent_ack, _) = expect_ack_and_message(&mut agent).await;
    assert_eq!(agent_ack["message"]["seq"], 2);
    assert_ne!(agent_ack["message"]["id"], first["message"]["id"]);
    let at_guest = guest.expect_type("message").await;
    assert_eq!(
        at_guest["message"]["seq"], 2,
        "the retries fanned out nothing"
    );

    let stored = history(&app, &guest_token, &chat, "").await;
    assert_eq!(seqs(&stored["messages"]), [1, 2]);
}

#[tokio::test]
async fn sending_to_a_closed_chat_is_refused_with_chat_closed() {
    // A closed chat takes no messages: `error {code: "chat_closed"}` with
    // `ref` = the frame's `client_msg_id` over the socket, 409 over REST.
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let started = app.start_chat().await;
    let (chat, guest_token) = chat_and_guest(&started);
    let (mut guest, _) = WsClient::connect(&app, &guest_token).await;
    let closed = app
        .post(&format!("/v1/chats/{chat}/close"), Some(&admin), None)
        .await;
    assert_eq!(closed.status(), 200);
    guest.expect_type("chat_updated").await;

    guest
        .send_json(send_frame(&chat, "late", "still there?"))
        .await;
    let error = guest.expect_type("error").await;

    assert_eq!(error["code"], "chat_closed");
    assert_eq!(error["ref"], "late");
    assert_eq!(keys(&error), ["code", "message", "ref", "type"]);
    let body = json!({"client_msg_id": "late-rest", "body": "still there?"});
    let over_rest = app
        .post(
            &format!("/v1/chats/{chat}/messages"),
            Some(&guest_token),
            Some(&body),
        )
        .await;
    assert_eq!(
        crate::helpers::error_code(over_rest, 409).await,
        "chat_closed"
    );
    assert_eq!(
        history(&app, &guest_token, &chat, "").await["messages"],
        json!([])
    );
}

#[tokio::test]
async fn concurrent_senders_in_one_chat_get_distinct_gapless_seqs() {
    // `seq` is per chat, starts at 1 and has no gaps, however many senders
    // race; every subscriber receives all of them in `seq` order.
    const SENDERS: usize = 4;
    const EACH: usize = 10;
    let app = spawn_app().await;
    let started = app.start_chat().await;
    let (chat, guest_token) = chat_and_guest(&started);
    // One agent on several connections: no presence news among them.
    let (_, agent_token) = agent_token();
    let (mut watcher, _) = WsClient::connect(&app, &agent_token).await;
    subscribe(&mut watcher, &chat, 0).await;

    let mut senders = Vec::new();
    for n in 0..SENDERS {
        let token = if n == 0 {
            guest_token.clone()
        } else {
            agent_token.clone()
        };
        let (client, _) = WsClient::connect(&app, &token).await;
        senders.push(client);
    }
    let mut tasks = Vec::new();
    for (n, client) in senders.into_iter().enumerate() {
        // The guest is in its chat from connect and hears every message.
        let hears = if n == 0 { SENDERS * EACH } else { 0 };
        tasks.push(tokio::spawn(race_sends(
            client,
            chat.clone(),
            n,
            EACH,
            hears,
        )));
    }
    let mut acked = Vec::new();
    for task in tasks {
        acked.extend(task.await.unwrap());
    }

    let total = (SENDERS * EACH) as i64;
    acked.sort_unstable();
    assert_eq!(
        acked,
        (1..=total).collect::<Vec<_>>(),
        "acks have distinct, gapless seqs"
    );
    let mut delivered = Vec::new();
    for _ in 0..total {
        delivered.push(
            watcher.expect_type("message").await["message"]["seq"]
                .as_i64()
                .unwrap(),
        );
    }
    assert_eq!(
        delivered,
        (1..=total).collect::<Vec<_>>(),
        "delivered in seq order"
    );
    let stored = history(&app, &guest_token, &chat, "?limit=200").await;
    assert_eq!(seqs(&stored["messages"]), (1..=total).collect::<Vec<_>>());
    let ids: HashSet<_> = stored["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["client_msg_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), SENDERS * EACH);
}

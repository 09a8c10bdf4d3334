//! Following the queue and loading it: `subscribe_queue` and
//! `unsubscribe_queue` (spec/v1/README.md,
//! "WebSocket", the frame tables and "Following the queue"), `GET
//! /v1/chat-summaries` (openapi.json `listChatSummaries`), and the
//! `subscribe` from a chat's end that costs no history read ("Rate
//! limits").

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code, json_body, spawn_app, spawn_app_with};
use crate::ws_client::{WsClient, agent_token, chat_and_guest, kind, send_frame, subscribe};

/// Sends `subscribe_queue` and expects `queue_subscribed`, after any
/// `chat_updated` of chats started before.
async fn follow_queue(client: &mut WsClient) {
    client
        .send_json(json!({"type": "subscribe_queue", "ref": "q1"}))
        .await;
    let answer = loop {
        let frame = client.next_json().await;
        if kind(&frame) != "chat_updated" {
            break frame;
        }
    };
    assert_eq!(answer, json!({"type": "queue_subscribed"}));
}

/// Every frame `client` receives before the `pong` of a `ping` sent now:
/// the server answers frames in order, so whatever it queued before is in.
async fn frames_before_pong(client: &mut WsClient) -> Vec<Value> {
    // Live events are queued by the hub, not answered in order with the
    // ping: give those already committed a moment to arrive.
    tokio::time::sleep(Duration::from_millis(200)).await;
    client
        .send_json(json!({"type": "ping", "nonce": "barrier"}))
        .await;
    let mut frames = Vec::new();
    loop {
        let frame = client.next_json().await;
        if kind(&frame) == "pong" {
            return frames;
        }
        frames.push(frame);
    }
}

/// A started chat with its guest connected: chat id, guest token, guest.
async fn chat_with_guest(app: &TestApp) -> (String, String, WsClient) {
    let (chat, token) = chat_and_guest(&app.start_chat().await);
    let (guest, _) = WsClient::connect(app, &token).await;
    (chat, token, guest)
}

/// The guest's message `body` in its chat, once acknowledged.
async fn guest_says(guest: &mut WsClient, chat: &str, id: &str, body: &str) -> Value {
    guest.send_json(send_frame(chat, id, body)).await;
    loop {
        let frame = guest.next_json().await;
        if kind(&frame) == "ack" {
            return frame["message"].clone();
        }
    }
}

fn messages_of(frames: &[Value], chat: &str) -> Vec<i64> {
    frames
        .iter()
        .filter(|f| kind(f) == "message" && f["message"]["chat_id"] == chat)
        .map(|f| f["message"]["seq"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn a_queue_follower_gets_the_messages_of_chats_it_never_subscribed_to() {
    let app = spawn_app().await;
    let (_, token) = agent_token();
    let (mut agent, _) = WsClient::connect(&app, &token).await;
    follow_queue(&mut agent).await;
    let (first, _, mut first_guest) = chat_with_guest(&app).await;
    let (second, _, mut second_guest) = chat_with_guest(&app).await;
    guest_says(&mut first_guest, &first, "a1", "one").await;
    guest_says(&mut second_guest, &second, "b1", "two").await;
    guest_says(&mut first_guest, &first, "a2", "three").await;

    let frames = frames_before_pong(&mut agent).await;
    assert_eq!(messages_of(&frames, &first), vec![1, 2]);
    assert_eq!(messages_of(&frames, &second), vec![1]);
}

#[tokio::test]
async fn a_chat_both_subscribed_and_followed_in_the_queue_delivers_each_message_once() {
    let app = spawn_app().await;
    let (_, token) = agent_token();
    let (mut agent, _) = WsClient::connect(&app, &token).await;
    let (chat, _, mut guest) = chat_with_guest(&app).await;
    guest_says(&mut guest, &chat, "c1", "before").await;
    follow_queue(&mut agent).await;
    let (replayed, _) = subscribe(&mut agent, &chat, 0).await;
    assert_eq!(replayed.len(), 1);
    guest_says(&mut guest, &chat, "c2", "after one").await;
    guest_says(&mut guest, &chat, "c3", "after two").await;

    let frames = frames_before_pong(&mut agent).await;
    assert_eq!(messages_of(&frames, &chat), vec![2, 3]);

    // Unsubscribed, the chat still comes through the queue, once.
    agent
        .send_json(json!({"type": "unsubscribe", "chat_id": chat}))
        .await;
    agent.expect_type("unsubscribed").await;
    guest_says(&mut guest, &chat, "c4", "later").await;
    let frames = frames_before_pong(&mut agent).await;
    assert_eq!(messages_of(&frames, &chat), vec![4]);
}

#[tokio::test]
async fn typing_and_read_reach_queue_followers() {
    let app = spawn_app().await;
    let (_, token) = agent_token();
    let (mut agent, _) = WsClient::connect(&app, &token).await;
    follow_queue(&mut agent).await;
    let (chat, _, mut guest) = chat_with_guest(&app).await;
    guest_says(&mut guest, &chat, "t1", "hello").await;
    guest
        .send_json(json!({"type": "typing", "chat_id": chat, "active": true}))
        .await;
    guest
        .send_json(json!({"type": "read", "chat_id": chat, "seq": 1}))
        .await;

    let frames = frames_before_pong(&mut agent).await;
    // The chat's start came as `chat_updated`, as to every agent.
    let frames: Vec<Value> = frames
        .into_iter()
        .filter(|f| kind(f) != "chat_updated")
        .collect();
    let kinds: Vec<&str> = frames.iter().map(kind).collect();
    assert_eq!(kinds, vec!["message", "typing", "read"], "{frames:?}");
    assert_eq!(frames[1]["chat_id"], chat.as_str());
    assert_eq!(frames[1]["author"]["type"], "guest");
    assert_eq!(frames[2]["seq"], 1);
}

/// Sends `unsubscribe_queue` and expects `queue_unsubscribed`, after any
/// `chat_updated`.
async fn unfollow_queue(client: &mut WsClient) {
    client
        .send_json(json!({"type": "unsubscribe_queue", "ref": "uq1"}))
        .await;
    let answer = loop {
        let frame = client.next_json().await;
        if kind(&frame) != "chat_updated" {
            break frame;
        }
    };
    assert_eq!(answer, json!({"type": "queue_unsubscribed"}));
}

#[tokio::test]
async fn after_unsubscribe_queue_only_the_chats_subscribed_to_come() {
    let app = spawn_app().await;
    let (_, token) = agent_token();
    let (mut agent, _) = WsClient::connect(&app, &token).await;
    let (kept, _, mut kept_guest) = chat_with_guest(&app).await;
    let (other, _, mut other_guest) = chat_with_guest(&app).await;
    follow_queue(&mut agent).await;
    subscribe(&mut agent, &kept, 0).await;
    guest_says(&mut other_guest, &other, "o1", "through the queue").await;
    let frames = frames_before_pong(&mut agent).await;
    assert_eq!(messages_of(&frames, &other), vec![1]);

    unfollow_queue(&mut agent).await;
    guest_says(&mut other_guest, &other, "o2", "nobody follows").await;
    guest_says(&mut kept_guest, &kept, "k1", "subscribed").await;
    let frames = frames_before_pong(&mut agent).await;
    assert_eq!(messages_of(&frames, &other), Vec::<i64>::new());
    assert_eq!(messages_of(&frames, &kept), vec![1]);

    // Following again brings the queue back, live.
    follow_queue(&mut agent).await;
    guest_says(&mut other_guest, &other, "o3", "followed again").await;
    let frames = frames_before_pong(&mut agent).await;
    assert_eq!(messages_of(&frames, &other), vec![3]);
}

#[tokio::test]
async fn unsubscribe_queue_without_following_is_answered_all_the_same() {
    let app = spawn_app().await;
    let (_, token) = agent_token();
    let (mut agent, _) = WsClient::connect(&app, &token).await;
    unfollow_queue(&mut agent).await;
    unfollow_queue(&mut agent).await;
}

#[tokio::test]
async fn a_guest_may_not_follow_the_queue() {
    let app = spawn_app().await;
    let (chat, _, mut guest) = chat_with_guest(&app).await;
    guest
        .send_json(json!({"type": "subscribe_queue", "ref": "q-guest"}))
        .await;
    let error = guest.expect_type("error").await;
    assert_eq!(
        (error["code"].as_str(), error["ref"].as_str()),
        (Some("forbidden"), Some("q-guest"))
    );
    guest
        .send_json(json!({"type": "unsubscribe_queue", "ref": "uq-guest"}))
        .await;
    let error = guest.expect_type("error").await;
    assert_eq!(
        (error["code"].as_str(), error["ref"].as_str()),
        (Some("forbidden"), Some("uq-guest"))
    );
    // The connection stays open and in its own chat.
    guest_says(&mut guest, &chat, "g1", "still here").await;
}

#[tokio::test]
async fn a_subscribe_from_the_chat_end_reads_no_history_and_is_not_charged() {
    let app = spawn_app_with(|s| s.limits.reads_per_minute = 2).await;
    let (_, token) = agent_token();
    let (chat, _, mut guest) = chat_with_guest(&app).await;
    guest_says(&mut guest, &chat, "e1", "one").await;
    let (mut agent, _) = WsClient::connect(&app, &token).await;
    // Many subscribes from the end: none replays, none is charged.
    for _ in 0..5 {
        let (replayed, subscribed) = subscribe(&mut agent, &chat, 1).await;
        assert!(replayed.is_empty());
        assert_eq!(subscribed["last_seq"], 1);
    }
    // Those that replay are charged: two pass, the third is refused.
    for _ in 0..2 {
        let (replayed, _) = subscribe(&mut agent, &chat, 0).await;
        assert_eq!(replayed.len(), 1);
    }
    agent
        .send_json(json!({"type": "subscribe", "chat_id": chat, "after_seq": 0, "ref": "s3"}))
        .await;
    let error = agent.expect_type("error").await;
    assert_eq!(
        (error["code"].as_str(), error["ref"].as_str()),
        (Some("rate_limited"), Some("s3"))
    );
}

/// The summaries of `GET /v1/chat-summaries{query}`, by chat id.
async fn summaries(app: &TestApp, token: &str, query: &str) -> Value {
    json_body(
        app.get(&format!("/v1/chat-summaries{query}"), Some(token))
            .await,
        200,
    )
    .await
}

fn summary_of<'a>(page: &'a Value, chat: &str) -> &'a Value {
    page["summaries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["chat"]["id"] == chat)
        .unwrap_or_else(|| panic!("no summary of {chat} in {page}"))
}

#[tokio::test]
async fn chat_summaries_give_each_chat_its_newest_message_and_both_read_positions() {
    let app = spawn_app().await;
    let (_, token) = app.agent("reader@example.com", "agent").await;
    let (_, other_token) = app.agent("other@example.com", "agent").await;
    let (read, _, mut read_guest) = chat_with_guest(&app).await;
    let (quiet, _, _quiet_guest) = chat_with_guest(&app).await;
    let (unread, _, mut unread_guest) = chat_with_guest(&app).await;
    guest_says(&mut read_guest, &read, "r1", "first").await;
    let newest = guest_says(&mut read_guest, &read, "r2", "second").await;
    guest_says(&mut unread_guest, &unread, "u1", "only").await;
    read_guest
        .send_json(json!({"type": "read", "chat_id": read, "seq": 1}))
        .await;
    let (mut agent, _) = WsClient::connect(&app, &token).await;
    agent
        .send_json(json!({"type": "read", "chat_id": read, "seq": 2}))
        .await;
    // Another agent's position is not the caller's.
    let (mut other, _) = WsClient::connect(&app, &other_token).await;
    other
        .send_json(json!({"type": "read", "chat_id": unread, "seq": 1}))
        .await;
    frames_before_pong(&mut agent).await;
    frames_before_pong(&mut other).await;
    frames_before_pong(&mut read_guest).await;

    let page = summaries(&app, &token, "?status=open").await;
    assert_eq!(page["summaries"].as_array().unwrap().len(), 3);
    assert_eq!(page["next_cursor"], Value::Null);
    let summary = summary_of(&page, &read);
    assert_eq!(summary["last_message"], newest);
    assert_eq!(summary["chat"]["last_seq"], 2);
    assert_eq!(
        (
            summary["read_seq"].as_i64(),
            summary["visitor_read_seq"].as_i64()
        ),
        (Some(2), Some(1))
    );
    let summary = summary_of(&page, &quiet);
    assert_eq!(summary["last_message"], Value::Null);
    assert_eq!(
        (
            summary["read_seq"].clone(),
            summary["visitor_read_seq"].clone()
        ),
        (Value::Null, Value::Null)
    );
    let summary = summary_of(&page, &unread);
    assert_eq!(summary["last_message"]["body"], "only");
    assert_eq!(summary["read_seq"], Value::Null);

    // The other agent sees its own position.
    let page = summaries(&app, &other_token, "").await;
    assert_eq!(summary_of(&page, &unread)["read_seq"], 1);
}

#[tokio::test]
async fn chat_summaries_page_like_the_chat_list_within_bounds() {
    let app = spawn_app().await;
    let (_, token) = agent_token();
    let mut started = Vec::new();
    for _ in 0..3 {
        started.push(chat_and_guest(&app.start_chat().await).0);
    }
    let first = summaries(&app, &token, "?limit=2").await;
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let second = summaries(&app, &token, &format!("?limit=2&cursor={cursor}")).await;
    assert_eq!(second["next_cursor"], Value::Null);
    let ids = |page: &Value| -> Vec<String> {
        page["summaries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["chat"]["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let mut listed = [ids(&first), ids(&second)].concat();
    // The same chats, in the same order, as the chat list gives.
    let list = json_body(app.get("/v1/chats", Some(&token)).await, 200).await;
    let chats: Vec<String> = list["chats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(listed, chats);
    listed.sort();
    started.sort();
    assert_eq!(listed, started);

    for limit in ["0", "251"] {
        let response = app
            .get(&format!("/v1/chat-summaries?limit={limit}"), Some(&token))
            .await;
        assert_eq!(error_code(response, 400).await, "invalid_request");
    }
    assert_eq!(
        summaries(&app, &token, "?limit=250").await["summaries"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[tokio::test]
async fn chat_summaries_are_for_agents_and_count_as_history_reads() {
    let app = spawn_app_with(|s| s.limits.reads_per_minute = 1).await;
    let (_, guest_token) = chat_and_guest(&app.start_chat().await);
    let response = app.get("/v1/chat-summaries", Some(&guest_token)).await;
    assert_eq!(error_code(response, 403).await, "forbidden");
    let (_, token) = agent_token();
    summaries(&app, &token, "").await;
    let refused = app.get("/v1/chat-summaries", Some(&token)).await;
    assert_eq!(error_code(refused, 429).await, "rate_limited");
}

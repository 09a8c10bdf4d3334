//! Live delivery over `GET /v1/ws` (`spec/v1/README.md#frames`,
//! `#ordering-and-delivery`, `#rest-for-messages`): messages with acks, typing and read events,
//! `chat_updated`, REST sending and history, idempotency and `seq`.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::helpers::{TestApp, json_body, spawn_app};
use crate::ws_client::{
    WsClient, agent_token, chat_and_guest, expect_ack_and_message, frame_snapshot_settings, kind,
};

/// Subscribes `client` to `chat` from `after_seq` and returns the replayed
/// `message` frames and the closing `subscribed` frame.
async fn subscribe(client: &mut WsClient, chat: &str, after_seq: i64) -> (Vec<Value>, Value) {
    client
        .send_json(json!({"type": "subscribe", "chat_id": chat, "after_seq": after_seq}))
        .await;
    let mut replayed = Vec::new();
    loop {
        let frame = client.next_json().await;
        match kind(&frame) {
            "message" => replayed.push(frame),
            "subscribed" => return (replayed, frame),
            _ => panic!("expected a replayed message or subscribed, got {frame}"),
        }
    }
}

/// A started chat with its guest connected and an agent connected and
/// subscribed from the start: the setup most delivery tests share.
struct Conversation {
    /// Keep it bound (`app: _app`): dropping it stops the server.
    app: TestApp,
    /// The `POST /v1/chats` answer.
    started: Value,
    chat: String,
    guest_token: String,
    agent_id: String,
    agent_token: String,
    guest: WsClient,
    agent: WsClient,
}

async fn conversation() -> Conversation {
    let app = spawn_app().await;
    let started = app.start_chat().await;
    let (chat, guest_token) = chat_and_guest(&started);
    let (agent_id, agent_token) = agent_token();
    let (guest, _) = WsClient::connect(&app, &guest_token).await;
    let (mut agent, _) = WsClient::connect(&app, &agent_token).await;
    subscribe(&mut agent, &chat, 0).await;
    Conversation {
        app,
        started,
        chat,
        guest_token,
        agent_id,
        agent_token,
        guest,
        agent,
    }
}

fn send(chat: &str, client_msg_id: &str, body: &str) -> Value {
    json!({"type": "send", "chat_id": chat, "client_msg_id": client_msg_id, "body": body})
}

/// The keys of a JSON object, sorted.
fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<_> = value
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

async fn history(app: &TestApp, token: &str, chat: &str, query: &str) -> Value {
    json_body(
        app.get(&format!("/v1/chats/{chat}/messages{query}"), Some(token))
            .await,
        200,
    )
    .await
}

fn seqs(messages: &Value) -> Vec<i64> {
    messages
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn a_guest_and_an_agent_chat_both_ways_with_acks_and_messages() {
    // Each subscriber receives every `message` of the chat in `seq` order,
    // its own included; the sender also gets `ack {client_msg_id, message}`
    // once the message is stored. A guest is in its chat from connect.
    let app = spawn_app().await;
    let started = app.start_chat().await;
    let (chat, guest_token) = chat_and_guest(&started);
    let (agent_id, agent_token) = agent_token();
    let (mut guest, _) = WsClient::connect(&app, &guest_token).await;
    let (mut agent, _) = WsClient::connect(&app, &agent_token).await;
    let (replayed, subscribed) = subscribe(&mut agent, &chat, 0).await;
    assert!(replayed.is_empty());
    assert_eq!(
        subscribed,
        json!({"type": "subscribed", "chat_id": chat, "recovered": true, "last_seq": 0})
    );

    guest
        .send_json(send(&chat, "g-1", "Hello, anyone there?"))
        .await;
    let (ack, own) = expect_ack_and_message(&mut guest).await;
    let at_agent = agent.expect_type("message").await;

    let message = &ack["message"];
    assert_eq!(ack["client_msg_id"], "g-1");
    assert_eq!(
        keys(&ack),
        ["client_msg_id", "duplicate", "message", "type"]
    );
    assert_eq!(ack["duplicate"], false);
    assert_eq!(
        keys(message),
        [
            "author",
            "body",
            "chat_id",
            "client_msg_id",
            "created_at",
            "id",
            "seq"
        ]
    );
    assert_eq!(message["seq"], 1);
    assert_eq!(message["chat_id"], chat.as_str());
    assert_eq!(message["body"], "Hello, anyone there?");
    assert_eq!(message["client_msg_id"], "g-1");
    assert_eq!(
        message["author"],
        json!({"type": "guest", "id": started["chat"]["visitor"]["id"], "name": "Sam"})
    );
    assert_eq!(own, json!({"type": "message", "message": message}));
    assert_eq!(at_agent, own);
    frame_snapshot_settings().bind(|| {
        insta::assert_json_snapshot!("ws_ack", ack);
        insta::assert_json_snapshot!("ws_message", at_agent);
    });

    agent
        .send_json(send(&chat, "a-1", "Yes, how can I help?"))
        .await;
    let (agent_ack, agent_own) = expect_ack_and_message(&mut agent).await;
    let at_guest = guest.expect_type("message").await;
    assert_eq!(agent_ack["message"]["seq"], 2);
    assert_eq!(
        agent_ack["message"]["author"],
        json!({"type": "agent", "id": agent_id, "name": "Tess"})
    );
    assert_eq!(agent_own["message"], agent_ack["message"]);
    assert_eq!(at_guest["message"], agent_ack["message"]);

    let stored = history(&app, &guest_token, &chat, "").await;
    assert_eq!(stored["messages"], json!([message, agent_ack["message"]]));
}

#[tokio::test]
async fn typing_and_read_reach_the_chats_other_subscribers_but_not_the_sender() {
    // `typing {chat_id, active}` and `read {chat_id, seq}` go to the chat's
    // other subscribers as `typing {chat_id, author, active}` and `read
    // {chat_id, author, seq}`; the sender does not hear its own.
    let Conversation {
        app: _app,
        started,
        chat,
        guest_token: _,
        agent_id,
        agent_token: _,
        mut guest,
        mut agent,
    } = conversation().await;
    agent.send_json(send(&chat, "a-1", "Welcome")).await;
    expect_ack_and_message(&mut agent).await;
    guest.expect_type("message").await;
    let guest_author =
        json!({"type": "guest", "id": started["chat"]["visitor"]["id"], "name": "Sam"});
    let agent_author = json!({"type": "agent", "id": agent_id, "name": "Tess"});

    guest
        .send_json(json!({"type": "typing", "chat_id": chat, "active": true}))
        .await;
    let typing = agent.expect_type("typing").await;
    assert_eq!(
        typing,
        json!({"type": "typing", "chat_id": chat, "author": guest_author, "active": true})
    );
    frame_snapshot_settings().bind(|| insta::assert_json_snapshot!("ws_typing", typing));

    guest
        .send_json(json!({"type": "read", "chat_id": chat, "seq": 1}))
        .await;
    let read = agent.expect_type("read").await;
    assert_eq!(
        read,
        json!({"type": "read", "chat_id": chat, "author": guest_author, "seq": 1})
    );
    frame_snapshot_settings().bind(|| insta::assert_json_snapshot!("ws_read", read));

    // The other way round. Had the guest heard its own typing or read,
    // those frames would be queued before these and come first.
    agent
        .send_json(json!({"type": "typing", "chat_id": chat, "active": false}))
        .await;
    let typing = guest.expect_type("typing").await;
    assert_eq!(
        typing,
        json!({"type": "typing", "chat_id": chat, "author": agent_author, "active": false})
    );
    agent
        .send_json(json!({"type": "read", "chat_id": chat, "seq": 1}))
        .await;
    let read = guest.expect_type("read").await;
    assert_eq!(
        read,
        json!({"type": "read", "chat_id": chat, "author": agent_author, "seq": 1})
    );
    agent.assert_alive("agent heard nothing of its own").await;
    guest.assert_alive("guest heard nothing more").await;
}

#[tokio::test]
async fn agents_see_chat_updated_for_a_new_chat_an_assign_and_a_close() {
    // `chat_updated {chat}` goes to every agent connection when a chat is
    // created, assigned or closed, and to the guest for its own chat.
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (mut agent, _) = WsClient::connect(&app, &admin).await;

    let started = app.start_chat().await;
    let (chat, guest_token) = chat_and_guest(&started);
    let created = agent.expect_type("chat_updated").await;
    assert_eq!(
        created,
        json!({"type": "chat_updated", "chat": started["chat"]})
    );
    frame_snapshot_settings().bind(|| insta::assert_json_snapshot!("ws_chat_updated", created));
    let (mut guest, _) = WsClient::connect(&app, &guest_token).await;

    let assigned = json_body(
        app.post(&format!("/v1/chats/{chat}/assign"), Some(&admin), None)
            .await,
        200,
    )
    .await;
    let at_agent = agent.expect_type("chat_updated").await;
    assert_eq!(at_agent, json!({"type": "chat_updated", "chat": assigned}));
    assert_eq!(at_agent["chat"]["status"], "assigned");
    assert!(
        at_agent["chat"]["assigned_agent_name"].is_string(),
        "the agent's name travels with the assignment: {at_agent}"
    );
    assert_eq!(guest.expect_type("chat_updated").await, at_agent);

    let closed = json_body(
        app.post(&format!("/v1/chats/{chat}/close"), Some(&admin), None)
            .await,
        200,
    )
    .await;
    let at_agent = agent.expect_type("chat_updated").await;
    assert_eq!(at_agent, json!({"type": "chat_updated", "chat": closed}));
    assert_eq!(at_agent["chat"]["status"], "closed");
    assert_eq!(guest.expect_type("chat_updated").await, at_agent);

    // Another chat's news is not the guest's.
    app.start_chat().await;
    agent.expect_type("chat_updated").await;
    guest.assert_alive("no other chat's news").await;
}

#[tokio::test]
async fn a_message_sent_over_rest_reaches_live_subscribers() {
    // `POST /v1/chats/{chat_id}/messages` stores like `send` does, and the
    // chat's live subscribers receive it as a `message` frame.
    let Conversation {
        app,
        started: _,
        chat,
        guest_token: _,
        agent_id: _,
        agent_token,
        mut guest,
        mut agent,
    } = conversation().await;

    let posted = app
        .post(
            &format!("/v1/chats/{chat}/messages"),
            Some(&agent_token),
            Some(&json!({"client_msg_id": "rest-1", "body": "Sent over REST"})),
        )
        .await;
    let stored = json_body(posted, 201).await;

    assert_eq!(stored["seq"], 1);
    assert_eq!(
        guest.expect_type("message").await,
        json!({"type": "message", "message": stored})
    );
    assert_eq!(
        agent.expect_type("message").await,
        json!({"type": "message", "message": stored})
    );
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

    guest.send_json(send(&chat, "same", "first try")).await;
    let (first, _) = expect_ack_and_message(&mut guest).await;
    agent.expect_type("message").await;
    guest.send_json(send(&chat, "same", "first try")).await;
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
        .send_json(send(&chat, "same", "the agent's own"))
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

    guest.send_json(send(&chat, "late", "still there?")).await;
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
    for (n, mut client) in senders.into_iter().enumerate() {
        let chat = chat.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..EACH {
                client
                    .send_json(send(&chat, &format!("s{n}-{i}"), "racing"))
                    .await;
            }
            let mut acked = Vec::new();
            let mut heard = Vec::new();
            while acked.len() < EACH || (n == 0 && heard.len() < SENDERS * EACH) {
                let frame = client.next_json().await;
                match kind(&frame) {
                    "ack" => acked.push(frame["message"]["seq"].as_i64().unwrap()),
                    // The guest is in its chat from connect and hears all.
                    "message" => heard.push(frame["message"]["seq"].as_i64().unwrap()),
                    _ => panic!("unexpected {frame}"),
                }
            }
            if n == 0 {
                let all: Vec<i64> = (1..=(SENDERS * EACH) as i64).collect();
                assert_eq!(heard, all, "the guest hears every message in seq order");
            }
            acked
        }));
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

//! Live delivery over `GET /v1/ws` (`spec/v1/README.md#frames`,
//! `#ordering-and-delivery`; `spec/v1/asyncapi.yaml` messages `ServerAck`,
//! `ServerMessage`, `ServerTyping`, `ServerRead` and `ServerChatUpdated`):
//! what a `send`, a REST message, `typing`, `read`, and a chat's start,
//! assignment and close bring each connection, in the exact frames the
//! snapshots hold. How messages are stored is `messages.rs`.

use serde_json::json;

use crate::helpers::{json_body, spawn_app};
use crate::ws_client::{
    Conversation, WsClient, agent_token, chat_and_guest, conversation, expect_ack_and_message,
    frame_snapshot_settings, history, keys, send_frame, subscribe,
};

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
        .send_json(send_frame(&chat, "g-1", "Hello, anyone there?"))
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
        .send_json(send_frame(&chat, "a-1", "Yes, how can I help?"))
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
    agent.send_json(send_frame(&chat, "a-1", "Welcome")).await;
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

//! Appends under concurrency (`spec/v1/README.md#ordering-and-delivery`):
//! with several writers per node (`--database-writers`, PostgreSQL), a
//! chat's messages still commit in the order its sender sent them, and two
//! nodes racing the same messages into the same chats store each once,
//! with gapless `seq`s. Each runs on both stores (`BYRD_TEST_DATABASE`);
//! on SQLite, which has one writer and one node per file, the "two nodes"
//! are one node twice.

use std::collections::{HashMap, HashSet};

use secrecy::SecretString;
use serde_json::json;

use crate::helpers::{TestApp, fresh_postgres_schema, on_postgres, spawn_app_with};
use crate::ws_client::{WsClient, chat_and_guest, history, kind, send_frame, seqs};

const WRITERS: usize = 4;

/// A node with several writers; with `database_url`, on that database.
async fn node(database_url: Option<&str>) -> TestApp {
    spawn_app_with(|settings| {
        settings.store.writers = WRITERS;
        if let Some(url) = database_url {
            settings.database_url = SecretString::from(url.to_owned());
        }
    })
    .await
}

/// Two nodes on one PostgreSQL database; on SQLite, one node.
async fn two_nodes() -> (TestApp, Option<TestApp>) {
    if !on_postgres() {
        return (node(None).await, None);
    }
    let url = std::env::var("BYRD_TEST_POSTGRES_URL").unwrap();
    let shared = fresh_postgres_schema(&url).await;
    (node(Some(&shared)).await, Some(node(Some(&shared)).await))
}

#[tokio::test]
async fn each_chats_messages_commit_in_the_order_they_were_sent() {
    // Eight guests each write 60 `send`s without waiting for an ack, all at
    // once: the writers take many chats' messages together, and each
    // chat's must still get seqs in its sender's order. A node that spread
    // one chat's messages over several writers would commit some out of
    // order.
    const CHATS: usize = 8;
    const EACH: usize = 60;
    let app = node(None).await;
    let mut senders = Vec::new();
    for _ in 0..CHATS {
        let (chat, guest_token) = chat_and_guest(&app.start_chat().await);
        let (client, _) = WsClient::connect(&app, &guest_token).await;
        senders.push((chat, client));
    }
    let tasks = senders.into_iter().map(|(chat, mut client)| {
        tokio::spawn(async move {
            for i in 0..EACH {
                client
                    .send_json(send_frame(&chat, &format!("m{i}"), "in order"))
                    .await;
            }
            let mut acked = HashMap::new();
            while acked.len() < EACH {
                let frame = client.next_json().await;
                if kind(&frame) == "ack" {
                    let message = &frame["message"];
                    acked.insert(
                        message["client_msg_id"].as_str().unwrap().to_owned(),
                        message["seq"].as_i64().unwrap(),
                    );
                }
            }
            acked
        })
    });
    for task in futures_util::future::join_all(tasks).await {
        let acked = task.unwrap();
        for i in 0..EACH {
            assert_eq!(
                acked[&format!("m{i}")],
                i as i64 + 1,
                "the {i}th message sent is the {i}th stored"
            );
        }
    }
}

#[tokio::test]
async fn two_nodes_racing_the_same_messages_store_each_once_with_gapless_seqs() {
    // Every message of six chats is posted to both nodes at the same
    // moment, under the same `client_msg_id`: both answers must be the one
    // stored message, and each chat must hold every message once, at seqs
    // 1..=n. The chat row lock orders the nodes' writers and the
    // idempotency look-up under it finds the other node's copy; without
    // either, the nodes would hand out one seq twice or store a key twice.
    const CHATS: usize = 6;
    const EACH: usize = 25;
    let (first, second) = two_nodes().await;
    let second = second.as_ref().unwrap_or(&first);
    let mut chats = Vec::new();
    for _ in 0..CHATS {
        chats.push(chat_and_guest(&first.start_chat().await));
    }
    let post = |node: &TestApp, chat: &str, token: &str, key: String| {
        let request = node
            .client
            .post(node.url(&format!("/v1/chats/{chat}/messages")))
            .bearer_auth(token)
            .json(&json!({"client_msg_id": key, "body": "raced"}));
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let body: serde_json::Value = response.json().await.unwrap();
            assert!(
                status == 200 || status == 201,
                "a raced send answers 200 or 201, not {status}: {body}"
            );
            (status, body)
        }
    };
    let first = &first;
    let races = chats.iter().map(|(chat, token)| async move {
        for i in 0..EACH {
            let key = format!("k{i}");
            let ((status_a, a), (status_b, b)) = tokio::join!(
                post(first, chat, token, key.clone()),
                post(second, chat, token, key)
            );
            assert_eq!(a, b, "both nodes answer with the one stored message");
            // Exactly one of the two created it; the other found it.
            assert_eq!(
                [status_a, status_b].iter().filter(|s| **s == 201).count(),
                1,
                "one 201 and one 200 for message {i} of {chat}"
            );
        }
    });
    futures_util::future::join_all(races).await;

    for (chat, token) in &chats {
        let stored = history(first, token, chat, "?limit=200").await;
        assert_eq!(
            seqs(&stored["messages"]),
            (1..=EACH as i64).collect::<Vec<_>>(),
            "chat {chat} holds gapless seqs"
        );
        let keys: HashSet<_> = stored["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["client_msg_id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(keys.len(), EACH, "chat {chat} holds each key once");
    }
}

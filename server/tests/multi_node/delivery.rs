//! Nothing is lost when a node dies: every client sees every acknowledged
//! message exactly once and in `seq` order, and every acknowledged
//! `client_msg_id` is stored exactly once, while one node is killed with
//! SIGKILL, Redis cuts every subscriber connection, and one publish in
//! five is dropped on purpose.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sqlx::Connection;
use tokio::sync::watch;

use crate::cluster::{Node, Services, agent_token, serial, start_chat};
use crate::observer::{Seen, Watcher, observe};

const NODES: usize = 3;
const CHATS: usize = 6;
const MESSAGES: usize = 300;
/// The node killed a third of the way through.
const VICTIM: usize = 2;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acked_message_reaches_every_client_once_in_order_across_a_node_kill() {
    let Some(services) = Services::from_env() else {
        return;
    };
    let _serial = serial().await;
    let database = services.fresh_database().await;
    let mut nodes = Vec::new();
    for _ in 0..NODES {
        let drop_publishes = [("BYRD_TEST_DROP_PUBLISHES", "5")];
        nodes.push(Node::start(&database, &services.redis_url, &drop_publishes).await);
    }
    let addresses: Vec<String> = nodes.iter().map(|n| n.address.clone()).collect();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();

    // Chats started on different nodes; each guest watches from the node
    // after the one it started on, two agents watch every chat.
    let mut chats = Vec::new();
    for i in 0..CHATS {
        chats.push(start_chat(&http, &addresses[i % NODES]).await);
    }
    let mut watchers = Vec::new();
    for (i, (chat, token)) in chats.iter().enumerate() {
        let guest = Watcher::Guest {
            chat: chat.clone(),
            token: token.clone(),
        };
        watchers.push((guest, (i + 1) % NODES));
    }
    let all_chats: Vec<String> = chats.iter().map(|(chat, _)| chat.clone()).collect();
    for (agent, node) in [
        ("0190a000-0000-7000-8000-000000000001", 0),
        ("0190a000-0000-7000-8000-000000000002", VICTIM),
    ] {
        let agent = Watcher::Agent {
            chats: all_chats.clone(),
            token: agent_token(agent),
        };
        watchers.push((agent, node));
    }
    let (stop, stopped) = watch::channel(false);
    let mut observers = Vec::new();
    for (watcher, node) in watchers {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let task = tokio::spawn(observe(
            watcher.clone(),
            addresses.clone(),
            node,
            seen.clone(),
            stopped.clone(),
        ));
        observers.push((watcher, seen, task));
    }
    // Let the observers connect and subscribe.
    tokio::time::sleep(Duration::from_millis(500)).await;

    // The writer: round-robin over the nodes; a send that fails goes again,
    // same client_msg_id, to the next node.
    let mut acked: HashMap<String, (String, i64)> = HashMap::new();
    let mut resent = 0;
    for i in 0..MESSAGES {
        if i == MESSAGES / 3 {
            nodes[VICTIM].kill();
        }
        if i == 2 * MESSAGES / 3 {
            let killed = services.redis(&["CLIENT", "KILL", "TYPE", "pubsub"]);
            assert!(
                killed.trim() != "0",
                "no subscriber connection to kill: {killed}"
            );
        }
        let (chat, token) = &chats[i % CHATS];
        let client_msg_id = format!("m{i}");
        let mut node = i % NODES;
        let message = loop {
            let sent = http
                .post(format!(
                    "http://{}/v1/chats/{chat}/messages",
                    addresses[node]
                ))
                .bearer_auth(token)
                .json(&json!({"client_msg_id": client_msg_id, "body": format!("message {i}")}))
                .send()
                .await;
            match sent {
                Ok(response) if response.status().is_success() => {
                    break response.json::<Value>().await.unwrap();
                }
                _ => {
                    resent += 1;
                    node = (node + 1) % NODES;
                }
            }
        };
        assert_eq!(message["client_msg_id"], client_msg_id.as_str());
        acked.insert(
            client_msg_id,
            (chat.clone(), message["seq"].as_i64().unwrap()),
        );
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    assert!(resent > 0, "the kill should have cost some sends");

    // Every acked message, by chat and seq.
    let mut expected: HashMap<String, Vec<(i64, String)>> = HashMap::new();
    for (client_msg_id, (chat, seq)) in &acked {
        expected
            .entry(chat.clone())
            .or_default()
            .push((*seq, client_msg_id.clone()));
    }
    for list in expected.values_mut() {
        list.sort();
    }

    // Wait (bounded) until every observer has caught up: lost publishes
    // and the broken subscriptions are made good by the sweeps.
    let deadline = Instant::now() + Duration::from_secs(30);
    let caught_up = |seen: &Seen, watcher: &Watcher| match watcher {
        Watcher::Guest { chat, .. } => {
            seen.messages.get(chat).map(Vec::len) >= expected.get(chat).map(Vec::len)
        }
        Watcher::Agent { chats, .. } => chats
            .iter()
            .all(|chat| seen.messages.get(chat).map(Vec::len) >= expected.get(chat).map(Vec::len)),
    };
    while Instant::now() < deadline
        && !observers
            .iter()
            .all(|(watcher, seen, _)| caught_up(&seen.lock().unwrap(), watcher))
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A little longer, for a duplicate that would come late.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.send(true).unwrap();

    let mut reconnects = 0;
    for (watcher, seen, task) in observers {
        task.await.unwrap();
        let seen = seen.lock().unwrap();
        reconnects += seen.reconnects;
        let watched = match &watcher {
            Watcher::Guest { chat, .. } => vec![chat.clone()],
            Watcher::Agent { chats, .. } => chats.clone(),
        };
        for chat in watched {
            let got = seen.messages.get(&chat).cloned().unwrap_or_default();
            let want = expected.get(&chat).cloned().unwrap_or_default();
            assert_eq!(
                got, want,
                "a client saw chat {chat}'s messages differently from what was acked"
            );
        }
    }
    assert!(
        reconnects > 0,
        "the victim's clients should have reconnected"
    );

    // Every acked client_msg_id is stored exactly once, and nothing else is.
    let mut db = sqlx::PgConnection::connect(&database).await.unwrap();
    let stored: Vec<(String, i64)> =
        sqlx::query_as("SELECT client_msg_id, count(*) FROM messages GROUP BY client_msg_id")
            .fetch_all(&mut db)
            .await
            .unwrap();
    assert_eq!(stored.len(), MESSAGES);
    for (client_msg_id, count) in stored {
        assert_eq!(count, 1, "{client_msg_id} stored {count} times");
        assert!(acked.contains_key(&client_msg_id));
    }
    eprintln!(
        "{MESSAGES} messages over {NODES} nodes: {resent} sends resent, {reconnects} reconnections"
    );
}

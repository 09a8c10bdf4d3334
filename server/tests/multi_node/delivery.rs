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

/// `client_msg_id` to the chat and `seq` it was acknowledged with.
type Acked = HashMap<String, (String, i64)>;
/// Per chat, `(seq, client_msg_id)` of every acknowledged message, by `seq`.
type Expected = HashMap<String, Vec<(i64, String)>>;

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

    let mut chats = Vec::new();
    for i in 0..CHATS {
        chats.push(start_chat(&http, &addresses[i % NODES]).await);
    }
    let (stop, stopped) = watch::channel(false);
    let observers: Vec<Observer> = watchers(&chats)
        .into_iter()
        .map(|(watcher, node)| Observer::start(watcher, &addresses, node, &stopped))
        .collect();
    // Let the observers connect and subscribe.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let (acked, resent) = write_messages(&http, &services, &mut nodes, &addresses, &chats).await;
    assert!(resent > 0, "the kill should have cost some sends");
    let expected = by_chat(&acked);

    // Wait (bounded) until every observer has caught up: lost publishes
    // and the broken subscriptions are made good by the sweeps.
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline && !observers.iter().all(|o| o.caught_up(&expected)) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A little longer, for a duplicate that would come late.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.send(true).unwrap();

    let mut reconnects = 0;
    for observer in observers {
        reconnects += observer.finish(&expected).await;
    }
    assert!(
        reconnects > 0,
        "the victim's clients should have reconnected"
    );
    assert_stored_once(&database, &acked).await;
    eprintln!(
        "{MESSAGES} messages over {NODES} nodes: {resent} sends resent, {reconnects} reconnections"
    );
}

/// Who watches from where: each guest from the node after the one its
/// chat started on, and two agents every chat, one of them from the node
/// that will be killed.
fn watchers(chats: &[(String, String)]) -> Vec<(Watcher, usize)> {
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
    watchers
}

/// One watcher's task and what it has seen.
struct Observer {
    watcher: Watcher,
    seen: Arc<Mutex<Seen>>,
    task: tokio::task::JoinHandle<()>,
}

impl Observer {
    fn start(
        watcher: Watcher,
        addresses: &[String],
        node: usize,
        stop: &watch::Receiver<bool>,
    ) -> Observer {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let task = tokio::spawn(observe(
            watcher.clone(),
            addresses.to_vec(),
            node,
            seen.clone(),
            stop.clone(),
        ));
        Observer {
            watcher,
            seen,
            task,
        }
    }

    /// Whether it has seen as many messages as were acked in each chat.
    fn caught_up(&self, expected: &Expected) -> bool {
        let seen = self.seen.lock().unwrap();
        self.watcher
            .chats()
            .iter()
            .all(|chat| seen.messages.get(chat).map(Vec::len) >= expected.get(chat).map(Vec::len))
    }

    /// Waits for its task to stop, checks that it saw exactly what was
    /// acked in each chat, once and in order, and says how often it
    /// reconnected.
    async fn finish(self, expected: &Expected) -> u32 {
        self.task.await.unwrap();
        let seen = self.seen.lock().unwrap();
        for chat in self.watcher.chats() {
            let got = seen.messages.get(&chat).cloned().unwrap_or_default();
            let want = expected.get(&chat).cloned().unwrap_or_default();
            assert_eq!(
                got, want,
                "a client saw chat {chat}'s messages differently from what was acked"
            );
        }
        seen.reconnects
    }
}

/// The writer: [`MESSAGES`] messages round-robin over the chats and the
/// nodes, killing [`VICTIM`] a third of the way through and every Redis
/// subscriber connection two thirds of the way. Returns what was acked
/// and how many sends had to go again.
async fn write_messages(
    http: &reqwest::Client,
    services: &Services,
    nodes: &mut [Node],
    addresses: &[String],
    chats: &[(String, String)],
) -> (Acked, usize) {
    let mut acked = Acked::new();
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
        let (message, tries) =
            send_until_acked(http, addresses, i, chat, token, &client_msg_id).await;
        resent += tries;
        assert_eq!(message["client_msg_id"], client_msg_id.as_str());
        acked.insert(
            client_msg_id,
            (chat.clone(), message["seq"].as_i64().unwrap()),
        );
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    (acked, resent)
}

/// Sends message `i` to node `i % NODES`; a send that fails goes again,
/// same `client_msg_id`, to the next node. The stored message, and how
/// many sends failed first.
async fn send_until_acked(
    http: &reqwest::Client,
    addresses: &[String],
    i: usize,
    chat: &str,
    token: &str,
    client_msg_id: &str,
) -> (Value, usize) {
    let mut node = i % NODES;
    let mut failed = 0;
    loop {
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
                return (response.json::<Value>().await.unwrap(), failed);
            }
            _ => {
                failed += 1;
                node = (node + 1) % NODES;
            }
        }
    }
}

/// Every acked message, by chat and seq.
fn by_chat(acked: &Acked) -> Expected {
    let mut expected = Expected::new();
    for (client_msg_id, (chat, seq)) in acked {
        expected
            .entry(chat.clone())
            .or_default()
            .push((*seq, client_msg_id.clone()));
    }
    for list in expected.values_mut() {
        list.sort();
    }
    expected
}

/// Every acked `client_msg_id` is stored exactly once, and nothing else is.
async fn assert_stored_once(database: &str, acked: &Acked) {
    let mut db = sqlx::PgConnection::connect(database).await.unwrap();
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
}

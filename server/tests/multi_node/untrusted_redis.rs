//! Redis is not trusted (README, "Several nodes"): an event a node did not
//! seal with the cluster key, one sealed but replayed, too old, too large,
//! malformed, of an unknown type, or whose fields disagree is dropped; a
//! far-ahead `seq` and a `chat_updated` are hints checked against the
//! database. Published here with a raw Redis client, none of them reaches
//! a guest's or an agent's socket on either node, real messages keep
//! flowing, and a far-ahead `seq` in one chat does not hold up another.

use std::time::Duration;

use byrd_testkit::ws::Received;
use futures_util::StreamExt;
use hmac::{Hmac, Mac};
use redis::AsyncCommands;
use serde_json::{Value, json};
use sha2::Sha256;
use uuid::Uuid;

use crate::cluster::{Node, Services, login_admin, post_message, serial};
use crate::socket::{Socket, all_matching, connect, next_matching, send, subscribe};

/// The cluster key the nodes are given, so that this test can seal events
/// that pass the MAC and must be caught by the later checks.
const KEY: &str = "a cluster key of the multi-node tests, over 32 bytes";
const CHANNEL: &str = "byrd:events";
const SOON: Duration = Duration::from_secs(3);
/// How long the real messages after the untrusted events may take: well
/// under the sweep's interval (60 s here), so only live delivery and fills
/// bring them, and a fill held up for good by another chat's far-ahead
/// `seq` fails the test. Not `SOON`: under a loaded suite, a node behind
/// the burst of events has been seen to take over 3 s.
const AFTER_THE_BURST: Duration = Duration::from_secs(8);

/// `MAC || JSON`, as a node seals an event, under `key`.
fn seal(key: &[u8], json: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(json);
    let mut payload = mac.finalize().into_bytes().to_vec();
    payload.extend_from_slice(json);
    payload
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// An event from a node nobody runs, with `fields` (its `type` among them).
fn envelope(n: u64, at: i64, fields: Value) -> Vec<u8> {
    let mut event = json!({"node": Uuid::now_v7(), "n": n, "at": at});
    event
        .as_object_mut()
        .unwrap()
        .extend(fields.as_object().unwrap().clone());
    serde_json::to_vec(&event).unwrap()
}

fn message(outer_chat: &str, chat: &str, seq: i64, body: &str) -> Value {
    json!({"type": "message", "chat_id": outer_chat, "seq": seq, "message": {
        "id": Uuid::now_v7(), "chat_id": chat, "seq": seq,
        "author": {"type": "guest", "id": Uuid::now_v7(), "name": "Mallory"},
        "body": body, "client_msg_id": body, "created_at": chrono::Utc::now(),
    }})
}

/// Starts a chat on `node`: the chat as the server answered, and the
/// guest token.
async fn start_chat(http: &reqwest::Client, node: &str) -> (Value, String) {
    let response = http
        .post(format!("http://{node}/v1/chats"))
        .json(&json!({"visitor": {"name": "Sam"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let started: Value = response.json().await.unwrap();
    let token = started["guest_token"].as_str().unwrap().to_owned();
    (started["chat"].clone(), token)
}

/// Every frame `socket` receives until one satisfies `last` (included);
/// fails after [`AFTER_THE_BURST`], saying what came instead and what the
/// nodes logged (`logs`).
async fn frames_until(
    socket: &mut Socket,
    last: impl Fn(&Value) -> bool,
    logs: &dyn Fn() -> String,
) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + AFTER_THE_BURST;
    let mut frames = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match socket.receive(left).await {
            Some(Received::Json(frame)) => {
                let done = last(&frame);
                frames.push(frame);
                if done {
                    return frames;
                }
            }
            Some(Received::Other(_)) => {}
            other => panic!(
                "the awaited frame did not come ({other:?}); came: {frames:?}\n{}",
                logs()
            ),
        }
    }
}

fn is_message(frame: &Value, client_msg_id: &str) -> bool {
    frame["type"] == "message" && frame["message"]["client_msg_id"] == client_msg_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_not_sealed_by_a_node_or_out_of_bounds_reach_no_socket() {
    let Some(services) = Services::from_env() else {
        return;
    };
    let _serial = serial().await;
    let database = services.fresh_database().await;
    // A sweep too rare to be what delivers the real messages below.
    let env = [
        ("BYRD_CLUSTER_KEY", KEY),
        ("BYRD_SWEEP_INTERVAL_MS", "60000"),
    ];
    let a = Node::start(&database, &services.redis_url, &env).await;
    let b = Node::start(&database, &services.redis_url, &env).await;
    let http = reqwest::Client::new();
    let (chat1, guest1) = start_chat(&http, &b.address).await;
    let (chat2, guest2) = start_chat(&http, &b.address).await;
    let (id1, id2) = (chat1["id"].as_str().unwrap(), chat2["id"].as_str().unwrap());

    // An agent on each node following both chats, the guest of the first
    // on A, and one more of its sockets on B that types.
    let mut agents = Vec::new();
    for node in [&a, &b] {
        let mut agent = connect(&node.address, &login_admin(&http, &node.address).await.0).await;
        subscribe(&mut agent, id1).await;
        subscribe(&mut agent, id2).await;
        agents.push(agent);
    }
    let mut guest_on_a = connect(&a.address, &guest1).await;
    let mut typist_on_b = connect(&b.address, &guest1).await;
    post_message(&http, &b.address, id1, &guest1, "real-1").await;
    for socket in agents.iter_mut().chain([&mut guest_on_a]) {
        next_matching(socket, SOON, |f| is_message(f, "real-1"))
            .await
            .unwrap();
    }

    // A real `typing` from B, recorded off the channel as it reaches A.
    let redis = services.redis_client();
    let mut pubsub = redis.get_async_pubsub().await.unwrap();
    pubsub.subscribe(CHANNEL).await.unwrap();
    send(
        &mut typist_on_b,
        json!({"type": "typing", "chat_id": id1, "active": true}),
    )
    .await;
    let recorded = tokio::time::timeout(SOON, async {
        let mut stream = pubsub.on_message();
        loop {
            let payload = stream.next().await.unwrap().get_payload_bytes().to_vec();
            if payload.windows(15).any(|w| w == b"\"type\":\"typing\"") {
                return payload;
            }
        }
    })
    .await
    .expect("the typing event on the channel");
    for agent in agents.iter_mut() {
        next_matching(agent, SOON, |f| f["type"] == "typing")
            .await
            .unwrap();
    }
    next_matching(&mut guest_on_a, SOON, |f| f["type"] == "typing")
        .await
        .unwrap();

    let key = KEY.as_bytes();
    let now = now_ms();
    let typing = |name: String| {
        json!({"type": "typing", "chat_id": id1, "active": true,
            "author": {"type": "guest", "id": Uuid::now_v7(), "name": name}})
    };
    let mut closed = chat1.clone();
    closed["status"] = json!("closed");
    let mut phantom = chat1.clone();
    phantom["id"] = json!(Uuid::now_v7());
    let events: Vec<(&str, Vec<u8>)> = vec![
        (
            "forged",
            seal(&[7; 32], &envelope(0, now, message(id1, id1, 2, "forged"))),
        ),
        (
            "unsealed",
            envelope(0, now, message(id1, id1, 2, "unsealed")),
        ),
        ("replayed", recorded),
        (
            "oversized",
            seal(key, &envelope(0, now, typing("x".repeat(20_000)))),
        ),
        ("malformed", seal(key, b"{\"node\": not json")),
        (
            "mismatched",
            seal(key, &envelope(1, now, message(id2, id1, 2, "mismatched"))),
        ),
        (
            "body over the limit",
            seal(
                key,
                &envelope(2, now, message(id1, id1, 2, &"b".repeat(2000))),
            ),
        ),
        (
            "too old",
            seal(key, &envelope(3, now - 60_000, typing("Old".into()))),
        ),
        (
            "unknown type",
            seal(key, &envelope(4, now, json!({"type": "surprise"}))),
        ),
        (
            "far-ahead seq",
            seal(
                key,
                &envelope(5, now, message(id1, id1, 1_000_000, "far-ahead")),
            ),
        ),
        (
            "fake close",
            seal(
                key,
                &envelope(6, now, json!({"type": "chat_updated", "chat": closed})),
            ),
        ),
        (
            "phantom chat",
            seal(
                key,
                &envelope(7, now, json!({"type": "chat_updated", "chat": phantom})),
            ),
        ),
    ];
    let mut publisher = redis.get_multiplexed_async_connection().await.unwrap();
    for (what, payload) in events {
        let receivers: usize = publisher.publish(CHANNEL, payload).await.unwrap();
        assert!(receivers >= 2, "{what}: published to both nodes");
    }

    // Real messages right after: the second chat first, held up by
    // nothing in the first (its body too large to ride in the event, so
    // node A fills it from the database), then the first chat's real
    // `seq` 2.
    let response = http
        .post(format!("http://{}/v1/chats/{id2}/messages", b.address))
        .bearer_auth(&guest2)
        .json(&json!({"client_msg_id": "real-2", "body": "2".repeat(1500)}))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    post_message(&http, &b.address, id1, &guest1, "real-3").await;
    let logs = || format!("node A logged:\n{}\nnode B logged:\n{}", a.log(), b.log());
    let mut seen = Vec::new();
    for socket in agents.iter_mut() {
        let mut frames = frames_until(socket, |f| is_message(f, "real-2"), &logs).await;
        frames.extend(frames_until(socket, |f| is_message(f, "real-3"), &logs).await);
        frames.extend(all_matching(socket, Duration::from_secs(1), |_| true).await);
        seen.push(frames);
    }
    let mut frames = frames_until(&mut guest_on_a, |f| is_message(f, "real-3"), &logs).await;
    frames.extend(all_matching(&mut guest_on_a, Duration::from_secs(1), |_| true).await);
    seen.push(frames);

    for frames in &seen {
        let kinds: Vec<String> = frames
            .iter()
            .map(|f| match f["type"].as_str().unwrap() {
                "message" => format!("message {}", f["message"]["client_msg_id"]),
                other => other.to_owned(),
            })
            // Heartbeats, and the admin online on both nodes.
            .filter(|kind| kind != "ping" && kind != "presence")
            .collect();
        assert!(
            kinds.iter().all(|kind| kind.starts_with("message \"real-")),
            "only the real messages reached a socket: {kinds:?}"
        );
        let real3 = frames.iter().find(|f| is_message(f, "real-3")).unwrap();
        assert_eq!(real3["message"]["seq"], 2);
    }
    assert!(
        a.log().contains("dropped an event from Redis")
            && b.log().contains("dropped an event from Redis"),
        "each node says it dropped events"
    );
    // And each node counts what it dropped, by why (README, "Metrics");
    // the replayed `typing` was B's own, which B passes over uncounted.
    for (node, replays) in [(&a, 1), (&b, 0)] {
        let exposition = http
            .get(format!("http://{}/metrics", node.address))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        for (reason, at_least) in [
            ("bad_mac", 2),
            ("replayed", replays),
            ("too_large", 1),
            ("malformed", 1),
            ("mismatch", 2),
            ("too_old", 1),
            ("unknown_kind", 1),
        ] {
            let dropped = counter(&exposition, "byrd_redis_events_dropped_total", reason);
            assert!(
                dropped >= at_least,
                "{reason}: {dropped} counted, at least {at_least} dropped\n{exposition}"
            );
        }
    }
}

/// The value of `name{reason="..."}` in a Prometheus exposition; 0 when
/// the series is absent.
fn counter(exposition: &str, name: &str, reason: &str) -> u64 {
    let series = format!("{name}{{reason=\"{reason}\"}} ");
    exposition
        .lines()
        .find_map(|line| line.strip_prefix(&series))
        .map_or(0, |value| value.trim().parse::<f64>().unwrap() as u64)
}

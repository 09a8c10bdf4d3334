//! The rest of the hub across nodes: `chat_updated` (a chat created,
//! assigned, closed), `read` and `typing` made on one node reach the
//! clients on another over Redis, well before a sweep could have brought
//! them; and a `chat_updated` whose publish is lost is announced by the
//! sweep, once. Typing is best effort: nothing recovers a lost one.

use std::time::Duration;

use serde_json::{Value, json};

use crate::cluster::{Node, Services, login_admin, serial, start_chat};
use crate::socket::{Socket, all_matching, connect, next_matching, send, subscribe};

/// A sweep too rare to be what brings an event within [`SOON`].
const RARE_SWEEP: [(&str, &str); 1] = [("BYRD_SWEEP_INTERVAL_MS", "10000")];
const SOON: Duration = Duration::from_secs(3);

/// Two nodes on a fresh database and the shared Redis, for one test at a
/// time.
struct TwoNodes {
    a: Node,
    b: Node,
    _serial: tokio::sync::MutexGuard<'static, ()>,
}

impl TwoNodes {
    /// `None` (the test is skipped) outside `scripts/services`.
    async fn start(env: &[(&str, &str)]) -> Option<TwoNodes> {
        let services = Services::from_env()?;
        let serial = serial().await;
        let database = services.fresh_database().await;
        Some(TwoNodes {
            a: Node::start(&database, &services.redis_url, env).await,
            b: Node::start(&database, &services.redis_url, env).await,
            _serial: serial,
        })
    }
}

/// Waits for `chat_updated` of `chat` in `status`.
async fn chat_updated(socket: &mut Socket, chat: &str, status: &str, within: Duration) -> Value {
    next_matching(socket, within, |f| {
        f["type"] == "chat_updated" && f["chat"]["id"] == chat && f["chat"]["status"] == status
    })
    .await
    .unwrap_or_else(|closed| panic!("no chat_updated {status} for {chat}: closed {closed:?}"))
}

async fn post(http: &reqwest::Client, url: String, token: &str, body: Value) {
    let response = http
        .post(url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_created_assigned_and_closed_on_one_node_is_announced_on_another() {
    let Some(TwoNodes { a, b, .. }) = TwoNodes::start(&RARE_SWEEP).await else {
        return;
    };
    let http = reqwest::Client::new();
    let (admin, admin_id) = login_admin(&http, &b.address).await;
    let mut watcher = connect(&a.address, &login_admin(&http, &a.address).await.0).await;

    let (chat, guest_token) = start_chat(&http, &b.address).await;
    chat_updated(&mut watcher, &chat, "open", SOON).await;
    let mut guest = connect(&a.address, &guest_token).await;

    let chat_url = format!("http://{}/v1/chats/{chat}", b.address);
    post(&http, format!("{chat_url}/assign"), &admin, json!({})).await;
    for socket in [&mut watcher, &mut guest] {
        let assigned = chat_updated(socket, &chat, "assigned", SOON).await;
        assert_eq!(assigned["chat"]["assigned_agent_id"], admin_id.as_str());
    }
    post(&http, format!("{chat_url}/close"), &admin, json!({})).await;
    for socket in [&mut watcher, &mut guest] {
        chat_updated(socket, &chat, "closed", SOON).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_markers_and_typing_reach_the_chat_on_another_node() {
    let Some(TwoNodes { a, b, .. }) = TwoNodes::start(&RARE_SWEEP).await else {
        return;
    };
    let http = reqwest::Client::new();
    let (chat, guest_token) = start_chat(&http, &a.address).await;
    let mut guest = connect(&a.address, &guest_token).await;
    let (admin, admin_id) = login_admin(&http, &b.address).await;
    let mut agent = connect(&b.address, &admin).await;
    subscribe(&mut agent, &chat).await;
    crate::cluster::post_message(&http, &a.address, &chat, &guest_token, "m1").await;

    // Read: the guest on A, then the agent on B.
    send(
        &mut guest,
        json!({"type": "read", "chat_id": chat, "seq": 1}),
    )
    .await;
    let read = next_matching(&mut agent, SOON, |f| f["type"] == "read")
        .await
        .unwrap();
    assert_eq!(
        (read["chat_id"].as_str(), read["seq"].as_i64()),
        (Some(chat.as_str()), Some(1))
    );
    assert_eq!(read["author"]["type"], "guest");
    send(
        &mut agent,
        json!({"type": "read", "chat_id": chat, "seq": 1}),
    )
    .await;
    let read = next_matching(&mut guest, SOON, |f| f["type"] == "read")
        .await
        .unwrap();
    assert_eq!(read["author"]["id"], admin_id.as_str());

    // Typing, both ways.
    send(
        &mut agent,
        json!({"type": "typing", "chat_id": chat, "active": true}),
    )
    .await;
    let typing = next_matching(&mut guest, SOON, |f| f["type"] == "typing")
        .await
        .unwrap();
    assert_eq!(
        (typing["author"]["id"].as_str(), typing["active"].as_bool()),
        (Some(admin_id.as_str()), Some(true))
    );
    send(
        &mut guest,
        json!({"type": "typing", "chat_id": chat, "active": false}),
    )
    .await;
    let typing = next_matching(&mut agent, SOON, |f| f["type"] == "typing")
        .await
        .unwrap();
    assert_eq!(
        (
            typing["author"]["type"].as_str(),
            typing["active"].as_bool()
        ),
        (Some("guest"), Some(false))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_updated_whose_publish_is_lost_is_announced_by_the_sweep_once() {
    // Every `message` and `chat_updated` publish is dropped: only the
    // sweep (every half second) can tell the other node.
    let lossy = [("BYRD_TEST_DROP_PUBLISHES", "1")];
    let Some(TwoNodes { a, b, .. }) = TwoNodes::start(&lossy).await else {
        return;
    };
    // The switch exists only in the test build (the `fault-injection`
    // feature); without it this test would prove nothing.
    assert!(a.log().contains("fault injection"), "{}", a.log());
    let http = reqwest::Client::new();
    let (admin, _) = login_admin(&http, &b.address).await;
    let mut watcher = connect(&a.address, &login_admin(&http, &a.address).await.0).await;

    let (chat, guest_token) = start_chat(&http, &b.address).await;
    let sweep_time = Duration::from_secs(10);
    chat_updated(&mut watcher, &chat, "open", sweep_time).await;
    let mut guest = connect(&a.address, &guest_token).await;
    // A message moves the chat's `updated_at` but is no change of its
    // state: the sweep must not announce the chat again.
    crate::cluster::post_message(&http, &b.address, &chat, &guest_token, "m1").await;
    let quiet = Duration::from_secs(2);
    let is_update = |f: &Value| f["type"] == "chat_updated" && f["chat"]["id"] == chat;
    let repeats = all_matching(&mut watcher, quiet, is_update).await;
    assert!(repeats.is_empty(), "announced again: {repeats:?}");

    post(
        &http,
        format!("http://{}/v1/chats/{chat}/close", b.address),
        &admin,
        json!({}),
    )
    .await;
    for socket in [&mut watcher, &mut guest] {
        chat_updated(socket, &chat, "closed", sweep_time).await;
    }
    let repeats = all_matching(&mut watcher, quiet, is_update).await;
    assert!(repeats.is_empty(), "announced again: {repeats:?}");
}

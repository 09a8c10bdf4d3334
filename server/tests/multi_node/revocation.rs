//! Nodes that start together, and the rest of the hub across nodes: a
//! logout on one node closes the token's socket on another, and an agent
//! connected to a node that dies goes offline for the agents on the other
//! nodes once its presence entries expire.

use std::time::Duration;

use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

use crate::cluster::{Node, Services, agent_token, serial};
use crate::socket::{connect, next_matching};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_on_one_node_closes_the_socket_on_another_and_a_dead_nodes_agents_go_offline() {
    let Some(services) = Services::from_env() else {
        return;
    };
    let _serial = serial().await;
    let database = services.fresh_database().await;
    let ttl = [("BYRD_PRESENCE_TTL_SECS", "2")];
    // Started at once: both find no agent and race to create the first
    // admin; the loser must start all the same.
    let (a, mut b) = tokio::join!(
        Node::start(&database, &services.redis_url, &ttl),
        Node::start(&database, &services.redis_url, &ttl)
    );

    // Presence: an agent on B shows up online for an agent on A.
    let watcher_token = agent_token("0190a000-0000-7000-8000-00000000000a");
    let mut watcher = connect(&a.address, &watcher_token).await;
    let away_id = "0190a000-0000-7000-8000-00000000000b";
    let mut away = connect(&b.address, &agent_token(away_id)).await;
    let is_presence = |status: &'static str| {
        move |frame: &Value| {
            frame["type"] == "presence" && frame["agent_id"] == away_id && frame["status"] == status
        }
    };
    next_matching(&mut watcher, Duration::from_secs(10), is_presence("online"))
        .await
        .expect("the agent on the other node is announced online");

    // Revocation: logging out through A closes the socket held on B.
    let revoked_token = agent_token("0190a000-0000-7000-8000-00000000000c");
    let mut revoked = connect(&b.address, &revoked_token).await;
    let logout = reqwest::Client::new()
        .post(format!("http://{}/v1/auth/logout", a.address))
        .bearer_auth(&revoked_token)
        .send()
        .await
        .unwrap();
    assert!(logout.status().is_success(), "logout: {}", logout.status());
    let closed = next_matching(&mut revoked, Duration::from_secs(10), |_| false).await;
    assert_eq!(
        closed,
        Err(Some(4002)),
        "the revoked socket closes with 4002"
    );

    // Presence: B dies without a word; its agent goes offline on A.
    away.try_send_raw(Message::Ping(Default::default())).await;
    b.kill();
    next_matching(
        &mut watcher,
        Duration::from_secs(15),
        is_presence("offline"),
    )
    .await
    .expect("the dead node's agent is announced offline");
}

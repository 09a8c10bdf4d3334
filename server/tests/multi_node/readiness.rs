//! `GET /readyz` on a node of a cluster (README, "Readiness and
//! liveness"): ready only while its Redis subscription is live, not ready
//! (`redis_subscription`) while Redis is down, ready again once it is back;
//! `/healthz`, liveness only, stays `200` throughout.

use std::time::Duration;

use serde_json::{Value, json};

use crate::cluster::{Node, PrivateRedis, Services, serial};

/// Polls `/readyz` until it answers `status` with `body`, or fails after
/// `within`.
async fn wait_for_readiness(node: &Node, status: u16, body: &Value, within: Duration) {
    let deadline = tokio::time::Instant::now() + within;
    let url = format!("http://{}/readyz", node.address);
    loop {
        let response = reqwest::get(&url).await.unwrap();
        let answered = response.status().as_u16();
        let answer: Value = response.json().await.unwrap();
        if answered == status && answer == *body {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "/readyz still answers {answered} {answer}, not {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn health(node: &Node) -> u16 {
    let url = format!("http://{}/healthz", node.address);
    reqwest::get(url).await.unwrap().status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_is_ready_only_while_its_redis_subscription_is_live() {
    let Some(services) = Services::from_env() else {
        return;
    };
    let _serial = serial().await;
    let mut redis = PrivateRedis::started();
    let database = services.fresh_database().await;
    let node = Node::start(&database, &redis.url(), &[]).await;
    let ready = json!({"status": "ok", "failing": []});
    let not_ready = json!({"status": "unavailable", "failing": ["redis_subscription"]});

    wait_for_readiness(&node, 200, &ready, Duration::from_secs(10)).await;
    redis.stop();
    wait_for_readiness(&node, 503, &not_ready, Duration::from_secs(15)).await;
    assert_eq!(
        health(&node).await,
        200,
        "liveness does not depend on Redis"
    );
    redis.start();
    wait_for_readiness(&node, 200, &ready, Duration::from_secs(15)).await;
}

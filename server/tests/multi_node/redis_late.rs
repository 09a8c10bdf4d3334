//! A node whose Redis does not answer at start starts all the same: it
//! says loudly that delivery across nodes falls back to its sweep, keeps
//! trying in the background, and joins the others' fan-out once Redis
//! answers.

use std::time::Duration;

use crate::cluster::{Node, PrivateRedis, Services, post_message, serial, start_chat};
use crate::socket::{Inbox, connect};

/// Long enough that a message arriving much sooner came over Redis.
const SWEEP_MS: &str = "3000";
const INSTANT: Duration = Duration::from_millis(1000);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_start_without_redis_deliver_by_sweep_and_join_when_it_answers() {
    let Some(services) = Services::from_env() else {
        return;
    };
    let _serial = serial().await;
    let mut redis = PrivateRedis::stopped();
    let database = services.fresh_database().await;
    let env = [("BYRD_SWEEP_INTERVAL_MS", SWEEP_MS)];
    let a = Node::start(&database, &redis.url(), &env).await;
    let b = Node::start(&database, &redis.url(), &env).await;
    for node in [&a, &b] {
        let log = node.log();
        assert!(
            log.contains("WARN") && log.contains("Redis does not answer"),
            "no warning at start: {log}"
        );
    }

    // Without Redis, a message stored by B reaches the guest on A by A's
    // sweep.
    let http = reqwest::Client::new();
    let (chat, token) = start_chat(&http, &a.address).await;
    let mut guest = Inbox::new(connect(&a.address, &token).await);
    post_message(&http, &b.address, &chat, &token, "without-redis").await;
    guest
        .wait_for("without-redis", Duration::from_secs(15))
        .await;

    // Redis comes: both nodes join, and delivery across them is instant.
    redis.start();
    redis.wait_for_nodes(2, Duration::from_secs(20)).await;
    for n in 0..3 {
        let id = format!("with-redis-{n}");
        let sent = tokio::time::Instant::now();
        post_message(&http, &b.address, &chat, &token, &id).await;
        let took = guest.wait_for(&id, INSTANT).await - sent;
        eprintln!("after Redis came: {took:?}");
    }
    guest.drain(Duration::from_millis(300)).await;
    let seqs: Vec<i64> = guest.seen.iter().map(|(seq, _)| *seq).collect();
    assert_eq!(seqs, vec![1, 2, 3, 4]);
}

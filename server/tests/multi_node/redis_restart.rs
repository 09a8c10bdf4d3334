//! Redis stopped entirely and started again while clients on two nodes
//! exchange messages: what is sent meanwhile reaches the other node by its
//! sweep, within seconds, and nothing is lost; once Redis is back, both
//! connections of each node return and delivery across nodes is instant
//! again, well under the sweep's interval.

use std::time::Duration;

use crate::cluster::{Node, PrivateRedis, Services, agent_token, post_message, serial, start_chat};
use crate::socket::{Inbox, connect, subscribe};

/// Long enough that a message arriving much sooner came over Redis.
const SWEEP_MS: &str = "3000";
/// What "instant" means here: a small fraction of the sweep's interval.
const INSTANT: Duration = Duration::from_millis(1000);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_cross_nodes_while_redis_is_down_and_instantly_once_it_is_back() {
    let Some(services) = Services::from_env() else {
        return;
    };
    let _serial = serial().await;
    let mut redis = PrivateRedis::started();
    let database = services.fresh_database().await;
    let env = [("BYRD_SWEEP_INTERVAL_MS", SWEEP_MS)];
    let a = Node::start(&database, &redis.url(), &env).await;
    let b = Node::start(&database, &redis.url(), &env).await;
    redis.wait_for_nodes(2, Duration::from_secs(10)).await;

    // The guest watches from A, an agent from B; the guest's messages are
    // stored by one node or the other in turn.
    let http = reqwest::Client::new();
    let (chat, guest_token) = start_chat(&http, &a.address).await;
    let guest = Inbox::new(connect(&a.address, &guest_token).await);
    let mut agent_socket = connect(
        &b.address,
        &agent_token("0190a000-0000-7000-8000-0000000000a1"),
    )
    .await;
    subscribe(&mut agent_socket, &chat).await;
    let agent = Inbox::new(agent_socket);
    let mut inboxes = [guest, agent];
    let nodes = [&a, &b];

    // Sends message `id` through node `i` and times its arrival at the
    // client on the other node.
    let exchange = async |inboxes: &mut [Inbox; 2], i: usize, id: &str, within: Duration| {
        let sent = tokio::time::Instant::now();
        post_message(&http, &nodes[i].address, &chat, &guest_token, id).await;
        let arrived = inboxes[1 - i].wait_for(id, within).await;
        arrived - sent
    };

    for (n, i) in [0, 1, 0, 1].into_iter().enumerate() {
        let took = exchange(&mut inboxes, i, &format!("before-{n}"), INSTANT).await;
        eprintln!("before the stop: {took:?}");
    }

    redis.stop();
    for (n, i) in [0, 1, 0, 1].into_iter().enumerate() {
        let took = exchange(
            &mut inboxes,
            i,
            &format!("down-{n}"),
            Duration::from_secs(15),
        )
        .await;
        eprintln!("Redis down: {took:?}");
    }

    redis.start();
    redis.wait_for_nodes(2, Duration::from_secs(15)).await;
    for (n, i) in [0, 1, 0, 1].into_iter().enumerate() {
        let took = exchange(&mut inboxes, i, &format!("after-{n}"), INSTANT).await;
        eprintln!("Redis back: {took:?}");
    }

    // Each client saw every message once, in seq order, its own included.
    for inbox in &mut inboxes {
        inbox.drain(Duration::from_millis(500)).await;
        let seqs: Vec<i64> = inbox.seen.iter().map(|(seq, _)| *seq).collect();
        assert_eq!(seqs, (1..=12).collect::<Vec<_>>(), "{:?}", inbox.seen);
    }
}

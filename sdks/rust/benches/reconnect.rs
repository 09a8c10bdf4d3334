//! How long reconnect-and-resume takes: a guest's realtime connection runs
//! through a proxy that resets it; each round times from the cut to the
//! `resumed` event and to the arrival of a message stored while the guest
//! was away.
//!
//! Starts the release `byrd` binary as its own process through
//! `byrd-testkit` (build it first: `cargo build --release -p byrd-server`;
//! `BYRD_BIN` names another), then
//! runs `BYRD_BENCH_ROUNDS` rounds (default 50) with the default backoff
//! and again with a 10 ms base. Run:
//! `cargo bench -p byrd-sdk --bench reconnect`. It prints numbers and
//! asserts nothing.

// The test suite's proxy; the bench only cuts.
#[path = "../tests/sdk/proxy.rs"]
#[allow(dead_code)]
mod proxy;

use std::time::{Duration, Instant};

use byrd_sdk::Client;
use byrd_sdk::realtime::{Backoff, ConnectionState, Event, Events, RealtimeOptions};
use byrd_sdk::types::{CreateChatRequest, SendMessageRequest};
use byrd_testkit::server::ByrdServer;
use byrd_testkit::{ADMIN_EMAIL, ADMIN_PASSWORD};

use proxy::Proxy;

/// The kit's server, and the port the proxy forwards to.
struct Server {
    port: u16,
    _process: ByrdServer,
}

async fn start_server() -> Server {
    let process = tokio::task::spawn_blocking(|| ByrdServer::start(&[]))
        .await
        .expect("the server starts");
    let port = process
        .address
        .rsplit_once(':')
        .and_then(|(_, port)| port.parse().ok())
        .expect("host:port");
    Server {
        port,
        _process: process,
    }
}

/// Waits for the first event `pick` accepts.
async fn wait_for<T>(events: &mut Events, mut pick: impl FnMut(&Event) -> Option<T>) -> T {
    let wait = async {
        loop {
            let event = events.recv().await.expect("the client runs");
            if let Some(found) = pick(&event) {
                return found;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), wait)
        .await
        .expect("within a minute")
}

struct Round {
    /// Cut to `resumed`.
    resumed: Duration,
    /// Cut to the message stored during the outage.
    caught_up: Duration,
    /// The backoff delay the client drew.
    delay: Duration,
}

async fn rounds(server: &Server, backoff: Backoff, count: usize) -> Vec<Round> {
    let proxy = Proxy::start(server.port).await;
    let direct = Client::new(&format!("http://127.0.0.1:{}", server.port)).expect("a URL");
    let agent = direct
        .login_agent(ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .expect("login");
    let (guest, chat) = Client::new(&proxy.address)
        .expect("a URL")
        .start_guest(&CreateChatRequest::default())
        .await
        .expect("a chat");
    let mut results = Vec::new();
    for round in 0..count {
        // A fresh connection each round, so every cut is a first retry: a
        // connection that drops again soon after would wait longer.
        let (realtime, mut events) = guest
            .connect_realtime(RealtimeOptions::default().backoff(backoff))
            .expect("a session");
        wait_for(&mut events, |e| {
            matches!(e, Event::Resumed { .. }).then_some(())
        })
        .await;
        let cut = Instant::now();
        proxy.cut();
        let delay = wait_for(&mut events, |e| match e {
            Event::State(ConnectionState::Reconnecting { delay, .. }) => Some(*delay),
            _ => None,
        })
        .await;
        // Stored while the guest is away: the resume must bring it.
        let request = SendMessageRequest {
            client_msg_id: format!("r{round}"),
            body: format!("round {round}"),
        };
        let sent = agent.send_message(chat.id, &request).await.expect("stored");
        let mut resumed = None;
        let caught_up = wait_for(&mut events, |e| match e {
            Event::Resumed { .. } => {
                resumed.get_or_insert(cut.elapsed());
                None
            }
            Event::Message(m) if m.seq == sent.seq => Some(cut.elapsed()),
            _ => None,
        })
        .await;
        let resumed = match resumed {
            Some(at) => at,
            None => {
                wait_for(&mut events, |e| {
                    matches!(e, Event::Resumed { .. }).then(|| cut.elapsed())
                })
                .await
            }
        };
        results.push(Round {
            resumed,
            caught_up,
            delay,
        });
        realtime.close();
    }
    results
}

fn percentile(mut values: Vec<Duration>, p: f64) -> Duration {
    values.sort();
    let index = ((values.len() as f64 - 1.0) * p).round() as usize;
    values[index]
}

fn report(label: &str, rounds: &[Round]) {
    let line = |what: &str, values: Vec<Duration>| {
        println!(
            "  {what:<34} p50 {:>8.1?}  p90 {:>8.1?}  max {:>8.1?}",
            percentile(values.clone(), 0.5),
            percentile(values.clone(), 0.9),
            percentile(values, 1.0)
        );
    };
    println!("{label} ({} rounds):", rounds.len());
    line(
        "backoff delay drawn",
        rounds.iter().map(|r| r.delay).collect(),
    );
    line("cut to resumed", rounds.iter().map(|r| r.resumed).collect());
    line(
        "cut to resumed, less the delay",
        rounds
            .iter()
            .map(|r| r.resumed.saturating_sub(r.delay))
            .collect(),
    );
    line(
        "cut to the missed message",
        rounds.iter().map(|r| r.caught_up).collect(),
    );
}

#[tokio::main]
async fn main() {
    let count = std::env::var("BYRD_BENCH_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(50);
    let server = start_server().await;
    let default = rounds(&server, Backoff::default(), count).await;
    report("default backoff (base 500 ms, floor 100 ms)", &default);
    let quick = Backoff {
        base: Duration::from_millis(10),
        floor: Duration::from_millis(1),
        cap: Duration::from_millis(100),
        ..Backoff::default()
    };
    let fast = rounds(&server, quick, count).await;
    report("base 10 ms, floor 1 ms", &fast);
}

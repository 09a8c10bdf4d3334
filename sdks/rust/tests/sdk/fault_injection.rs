//! A guest and an agent chat through a proxy that resets every connection
//! (WebSocket and REST alike) at random moments. Whatever the schedule of
//! cuts, two properties hold (`sdks/README.md`, "Delivery" and "Sending"):
//! - every message the server stored reaches each party exactly once and
//!   in `seq` order, and so does every acked send;
//! - every `send` settles exactly once, here always with its stored
//!   message, which the server stored exactly once.
//!
//! Cut schedules come from proptest with a fixed seed, so CI runs the same
//! cases every time; `PROPTEST_CASES=64` runs more.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use uuid::Uuid;

use byrd_sdk::operations::ListMessagesQuery;
use byrd_sdk::realtime::{ConnectionState, Event, Events, Realtime};
use byrd_sdk::types::Message;

use crate::helpers::{TIMEOUT, TestApp, client_of, quick_options, spawn_app_with};
use crate::proxy::Proxy;

/// One case: when to cut, and what each side says.
#[derive(Debug, Clone)]
struct Schedule {
    /// Milliseconds from the start of the conversation.
    cuts: Vec<u64>,
    guest_messages: usize,
    agent_messages: usize,
    /// Pause between two sends of one side, in milliseconds.
    pace: u64,
}

fn schedules() -> impl Strategy<Value = Schedule> {
    (
        prop::collection::vec(0u64..900, 1..6),
        1usize..10,
        1usize..10,
        0u64..40,
    )
        .prop_map(|(mut cuts, guest_messages, agent_messages, pace)| {
            cuts.sort_unstable();
            Schedule {
                cuts,
                guest_messages,
                agent_messages,
                pace,
            }
        })
}

/// What the runs saw, for the closing line.
#[derive(Default)]
struct Tally {
    cases: usize,
    cuts: usize,
    reconnects: usize,
    messages: usize,
}

#[test]
fn every_acked_message_arrives_once_in_order_and_every_send_settles_once() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let app = runtime.block_on(spawn_app_with(|settings| {
        settings.ws.heartbeat_interval = Duration::from_secs(1);
    }));
    let proxy = runtime.block_on(Proxy::start(app.port));
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(8);
    let config = Config {
        cases,
        failure_persistence: None,
        // A failing case is reported as found: shrinking would replay
        // timing-dependent runs that need not fail the same way.
        max_shrink_iters: 0,
        ..Config::default()
    };
    let seed = *b"byrd-sdk fault injection seed 01";
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed));
    let tally = std::cell::RefCell::new(Tally::default());
    let started = Instant::now();
    let outcome = runner.run(&schedules(), |schedule| {
        runtime.block_on(conversation(
            &app,
            &proxy,
            &schedule,
            &mut tally.borrow_mut(),
        ))
    });
    let tally = tally.into_inner();
    eprintln!(
        "fault injection: {} cases, {} cuts, {} reconnects, {} messages in {:.1?}",
        tally.cases,
        tally.cuts,
        tally.reconnects,
        tally.messages,
        started.elapsed()
    );
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
}

async fn conversation(
    app: &TestApp,
    proxy: &Proxy,
    schedule: &Schedule,
    tally: &mut Tally,
) -> Result<(), TestCaseError> {
    // Sessions start before the cuts: what is under test is the realtime
    // client, and REST calls it makes on the way (gap fills, refreshes).
    let (guest, chat) = client_of(&proxy.address)
        .start_guest(&crate::helpers::visitor("Sam"))
        .await
        .map_err(fail)?;
    let agent = app
        .agent_at(&proxy.address, &format!("a{}@example.com", Uuid::new_v4()))
        .await;
    let (guest_rt, guest_events) = guest.connect_realtime(quick_options()).map_err(fail)?;
    let (agent_rt, agent_events) = agent.connect_realtime(quick_options()).map_err(fail)?;
    agent_rt.subscribe(chat.id, 0).map_err(fail)?;
    let total = schedule.guest_messages + schedule.agent_messages;
    let expected_last = i64::try_from(total).unwrap_or(i64::MAX);
    let guest_reader = tokio::spawn(read_chat(guest_events, chat.id, expected_last));
    let agent_reader = tokio::spawn(read_chat(agent_events, chat.id, expected_last));

    let cutter = async {
        let start = tokio::time::Instant::now();
        for at in &schedule.cuts {
            tokio::time::sleep_until(start + Duration::from_millis(*at)).await;
            proxy.cut();
        }
    };
    let (guest_sent, agent_sent, ()) = tokio::join!(
        talk(
            &guest_rt,
            chat.id,
            "guest",
            schedule.guest_messages,
            schedule.pace
        ),
        talk(
            &agent_rt,
            chat.id,
            "agent",
            schedule.agent_messages,
            schedule.pace
        ),
        cutter,
    );
    let sent: Vec<(String, Message)> = guest_sent?.into_iter().chain(agent_sent?).collect();

    // The server's record, read past the proxy.
    let stored = app
        .admin()
        .await
        .list_messages(
            chat.id,
            &ListMessagesQuery {
                limit: Some(200),
                ..ListMessagesQuery::default()
            },
        )
        .await
        .map_err(fail)?
        .messages;
    prop_assert_eq!(stored.len(), total, "every send stored exactly once");
    let by_key: HashMap<&str, &Message> = stored
        .iter()
        .map(|m| (m.client_msg_id.as_str(), m))
        .collect();
    for (key, acked) in &sent {
        prop_assert_eq!(
            by_key.get(key.as_str()),
            Some(&acked),
            "the ack is the stored message"
        );
    }

    // Each side's stream: exactly the stored messages, in order. Once the
    // last one arrived the client closes, and whatever else the stream
    // still held (a duplicate, say) is read too.
    for (side, reader, rt) in [
        ("guest", guest_reader, &guest_rt),
        ("agent", agent_reader, &agent_rt),
    ] {
        let (mut events, mut seen, mut reconnects) = reader.await.map_err(fail)?;
        rt.close();
        let rest = tokio::time::timeout(TIMEOUT, drain(&mut events, chat.id))
            .await
            .map_err(fail)?;
        seen.extend(rest.0);
        reconnects += rest.1;
        tally.reconnects += reconnects;
        let seqs: Vec<i64> = seen.iter().map(|m| m.seq).collect();
        prop_assert_eq!(
            seqs,
            (1..=expected_last).collect::<Vec<_>>(),
            "{} saw each message once, in order",
            side
        );
        prop_assert_eq!(&seen, &stored, "{} saw the stored messages", side);
    }
    tally.cases += 1;
    tally.cuts += schedule.cuts.len();
    tally.messages += total;
    Ok(())
}

/// Sends `count` messages, one every `pace` ms without waiting for acks,
/// then waits for every one to settle; each must settle exactly once, with
/// its stored message.
async fn talk(
    rt: &Realtime,
    chat_id: Uuid,
    who: &str,
    count: usize,
    pace: u64,
) -> Result<Vec<(String, Message)>, TestCaseError> {
    let mut pending = Vec::new();
    for n in 0..count {
        let send = rt.send_with_id(
            chat_id,
            format!("{who}-{n}-{}", Uuid::new_v4()),
            format!("{who} {n}"),
        );
        pending.push(send);
        tokio::time::sleep(Duration::from_millis(pace)).await;
    }
    let keys: Vec<String> = pending
        .iter()
        .map(|p| p.client_msg_id().to_owned())
        .collect();
    let settled = tokio::time::timeout(TIMEOUT, join_all(pending))
        .await
        .map_err(|_| TestCaseError::fail(format!("{who}: a send never settled")))?;
    keys.into_iter()
        .zip(settled)
        .map(|(key, outcome)| match outcome {
            Ok(message) => Ok((key, message)),
            Err(error) => Err(TestCaseError::fail(format!(
                "{who}: send {key} failed: {error}"
            ))),
        })
        .collect()
}

/// The messages of `chat_id` the stream delivers until `last_seq` came
/// (or [`TIMEOUT`] passed), and how often the client reconnected meanwhile.
async fn read_chat(
    mut events: Events,
    chat_id: Uuid,
    last_seq: i64,
) -> (Events, Vec<Message>, usize) {
    let mut seen = Vec::new();
    let mut reconnects = 0;
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while seen.last().map(|m: &Message| m.seq) != Some(last_seq) {
        let Ok(Some(event)) = tokio::time::timeout_at(deadline, events.recv()).await else {
            break;
        };
        tally_event(event, chat_id, &mut seen, &mut reconnects);
    }
    (events, seen, reconnects)
}

/// Everything left in the stream until it ends.
async fn drain(events: &mut Events, chat_id: Uuid) -> (Vec<Message>, usize) {
    let mut seen = Vec::new();
    let mut reconnects = 0;
    while let Some(event) = events.recv().await {
        tally_event(event, chat_id, &mut seen, &mut reconnects);
    }
    (seen, reconnects)
}

fn tally_event(event: Event, chat_id: Uuid, seen: &mut Vec<Message>, reconnects: &mut usize) {
    match event {
        Event::Message(message) if message.chat_id == chat_id => seen.push(message),
        Event::State(ConnectionState::Reconnecting { .. }) => *reconnects += 1,
        _ => {}
    }
}

fn fail(error: impl std::fmt::Display) -> TestCaseError {
    TestCaseError::fail(error.to_string())
}

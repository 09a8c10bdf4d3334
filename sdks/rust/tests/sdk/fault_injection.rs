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
use byrd_sdk::realtime::{Backoff, ConnectionState, Event, Events, Realtime};
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
    /// The reconnect backoff's base, in milliseconds: the longer, the more
    /// messages pile up while a side is away.
    backoff_ms: u64,
}

fn schedules() -> impl Strategy<Value = Schedule> {
    (
        prop::collection::vec(0u64..1000, 1..8),
        1usize..12,
        1usize..12,
        0u64..40,
        5u64..150,
    )
        .prop_map(
            |(mut cuts, guest_messages, agent_messages, pace, backoff_ms)| {
                cuts.sort_unstable();
                Schedule {
                    cuts,
                    guest_messages,
                    agent_messages,
                    pace,
                    backoff_ms,
                }
            },
        )
}

/// What the runs saw, for the closing line.
#[derive(Default)]
struct Tally {
    cases: usize,
    cuts: usize,
    reconnects: usize,
    /// Resumes the server could not replay whole, and messages paged over
    /// REST instead.
    unrecovered: usize,
    fetched: usize,
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
        settings.ws.heartbeat_interval = Duration::from_secs(1).try_into().unwrap();
        // A tiny replay cap: most resumes answer `recovered: false`, so the
        // REST gap fill runs, through the proxy, and gets cut too.
        settings.ws.replay_cap = 2;
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
        "fault injection: {} cases, {} cuts, {} reconnects, {} resumes with `recovered: false` ({} messages paged over REST), {} messages in {:.1?}",
        tally.cases,
        tally.cuts,
        tally.reconnects,
        tally.unrecovered,
        tally.fetched,
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
    let options = quick_options().backoff(Backoff {
        base: Duration::from_millis(schedule.backoff_ms),
        floor: Duration::from_millis(5),
        cap: Duration::from_millis(schedule.backoff_ms * 4),
        ..Backoff::default()
    });
    let (guest_rt, guest_events) = guest.connect_realtime(options.clone()).map_err(fail)?;
    let (agent_rt, agent_events) = agent.connect_realtime(options).map_err(fail)?;
    agent_rt.subscribe(chat.id, 0).map_err(fail)?;
    let total = schedule.guest_messages + schedule.agent_messages;
    let expected_last = i64::try_from(total).unwrap_or(i64::MAX);
    let guest_reader = tokio::spawn(read_chat(guest_events, chat.id, expected_last));
    let agent_reader = tokio::spawn(read_chat(agent_events, chat.id, expected_last));

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
        cut_on_schedule(proxy, &schedule.cuts),
    );
    let sent: Vec<(String, Message)> = guest_sent?.into_iter().chain(agent_sent?).collect();
    let stored = stored_once(app, chat.id, total, &sent).await?;

    // Each side's stream: exactly the stored messages, in order.
    for (side, reader, rt) in [
        ("guest", guest_reader, &guest_rt),
        ("agent", agent_reader, &agent_rt),
    ] {
        let seen = reader.await.map_err(fail)?;
        check_stream(side, seen, rt, chat.id, &stored, tally).await?;
    }
    tally.cases += 1;
    tally.cuts += schedule.cuts.len();
    tally.messages += total;
    Ok(())
}

/// Cuts every connection through the proxy at each of `cuts` (ms from now).
async fn cut_on_schedule(proxy: &Proxy, cuts: &[u64]) {
    let start = tokio::time::Instant::now();
    for at in cuts {
        tokio::time::sleep_until(start + Duration::from_millis(*at)).await;
        proxy.cut();
    }
}

/// The server's record, read past the proxy: every send stored exactly
/// once, and each ack is the stored message.
async fn stored_once(
    app: &TestApp,
    chat_id: Uuid,
    total: usize,
    sent: &[(String, Message)],
) -> Result<Vec<Message>, TestCaseError> {
    let stored = app
        .admin()
        .await
        .list_messages(
            chat_id,
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
    for (key, acked) in sent {
        prop_assert_eq!(
            by_key.get(key.as_str()),
            Some(&acked),
            "the ack is the stored message"
        );
    }
    Ok(stored)
}

/// One side's stream holds exactly the stored messages, in order. Once the
/// last one arrived the client closes, and whatever else the stream still
/// held (a duplicate, say) is read too.
async fn check_stream(
    side: &str,
    (mut events, mut seen): (Events, Seen),
    rt: &Realtime,
    chat_id: Uuid,
    stored: &[Message],
    tally: &mut Tally,
) -> Result<(), TestCaseError> {
    rt.close();
    tokio::time::timeout(TIMEOUT, drain(&mut events, chat_id, &mut seen))
        .await
        .map_err(fail)?;
    tally.reconnects += seen.reconnects;
    tally.unrecovered += seen.unrecovered;
    tally.fetched += seen.fetched;
    let seen = seen.messages;
    let seqs: Vec<i64> = seen.iter().map(|m| m.seq).collect();
    let expected_last = i64::try_from(stored.len()).unwrap_or(i64::MAX);
    prop_assert_eq!(
        seqs,
        (1..=expected_last).collect::<Vec<_>>(),
        "{} saw each message once, in order",
        side
    );
    prop_assert_eq!(&seen[..], stored, "{} saw the stored messages", side);
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

/// What one side's stream showed.
#[derive(Default)]
struct Seen {
    messages: Vec<Message>,
    reconnects: usize,
    unrecovered: usize,
    fetched: usize,
}

impl Seen {
    fn note(&mut self, event: Event, chat_id: Uuid) {
        match event {
            Event::Message(message) if message.chat_id == chat_id => self.messages.push(message),
            Event::State(ConnectionState::Reconnecting { .. }) => self.reconnects += 1,
            Event::Resumed {
                recovered: false,
                fetched,
                ..
            } => {
                self.unrecovered += 1;
                self.fetched += fetched;
            }
            _ => {}
        }
    }
}

/// What the stream shows until message `last_seq` of `chat_id` came (or
/// [`TIMEOUT`] passed).
async fn read_chat(mut events: Events, chat_id: Uuid, last_seq: i64) -> (Events, Seen) {
    let mut seen = Seen::default();
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while seen.messages.last().map(|m| m.seq) != Some(last_seq) {
        let Ok(Some(event)) = tokio::time::timeout_at(deadline, events.recv()).await else {
            break;
        };
        seen.note(event, chat_id);
    }
    (events, seen)
}

/// Everything left in the stream until it ends.
async fn drain(events: &mut Events, chat_id: Uuid, seen: &mut Seen) {
    while let Some(event) = events.recv().await {
        seen.note(event, chat_id);
    }
}

fn fail(error: impl std::fmt::Display) -> TestCaseError {
    TestCaseError::fail(error.to_string())
}

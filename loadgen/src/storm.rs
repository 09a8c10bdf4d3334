//! The storm scenario: every socket cut at once, and every client back.
//!
//! Guests (one socket each, in its own chat) and agents (each following
//! an equal share of the chats) connect and subscribe, while messages go
//! to the chats over REST at a fixed rate, open loop, whatever happens.
//! Then every socket is cut at once, as when a node restarts or a load
//! balancer drops its connections, and every client reconnects as the
//! SDKs do: full-jitter backoff from the shared behaviour table
//! (`RECONNECT_BACKOFF`), then a resume from the last `seq` it saw (a
//! guest with `after_seq` in the URL, an agent with a `subscribe` per
//! chat). A client has resumed when its `hello` and every `subscribed`
//! are in.
//!
//! Agents run on a thread of their own, as people at their own computers
//! would, so that an agent's reads never queue behind the thousands of
//! guests the generator plays.
//!
//! Reported: how long until every client had resumed, and the agents;
//! the latency of the messages, from their intended send to their first
//! delivery at an agent, before the cut and from the cut until the last resume (a
//! message stored while its followers were away counts the wait); the
//! refused handshakes by cause; the server's CPU and peak memory during
//! the storm; and whether anything was lost: after the drain, every
//! client must have seen every chat it follows up to the last stored
//! `seq`, with no gap on the way.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use byrd_sdk::client_behaviour::{BackoffTable, RECONNECT_BACKOFF};
use futures_util::{SinkExt, StreamExt, TryStreamExt, stream};
use hdrhistogram::Histogram;
use rand::Rng;
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::{self, Message};

use crate::StormArgs;
use crate::proc_stats;
use crate::rest::{GuestChat, Rest};
use crate::sources::Sources;
use crate::tally::new_histogram;
use crate::target::Target;
use crate::ws::{self, Socket};

const BEFORE: u8 = 0;
const STORM: u8 = 1;
const AFTER: u8 = 2;

/// What every client task shares.
struct Shared {
    ws_base: String,
    sources: Sources,
    /// The run's zero: message bodies carry their intended send time
    /// from it.
    start: Instant,
    /// Becomes true once, at the cut.
    cut: watch::Receiver<bool>,
    /// Where the run is: before the cut, in the storm (from the cut
    /// until every client is back), after it.
    phase: AtomicU8,
    /// Latency of first deliveries at agents in each phase.
    latency: [Mutex<Histogram<u64>>; 3],
    /// Microseconds from the run's start at which each client resumed
    /// after the cut, and whether it was an agent.
    resumed: Mutex<Vec<(u64, bool)>>,
    /// Refused or failed reconnects, by cause.
    refusals: Mutex<HashMap<String, u64>>,
    gaps: AtomicU64,
    duplicates: AtomicU64,
    connects: AtomicU64,
}

/// One client: whose token, which chats it follows, and the last `seq`
/// it saw in each.
struct Client {
    token: String,
    guest: bool,
    seen: HashMap<String, i64>,
    /// Connected before: a guest's next connect resumes (`after_seq`, even
    /// 0), where its first only joins.
    resuming: bool,
}

pub async fn run(target: &Target, args: &StormArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.guests >= args.agents.max(1),
        "need a guest per agent at least"
    );
    let rest = Rest::new(target);
    let admin = rest
        .login(&target.admin_email, &target.admin_password)
        .await
        .context("admin login")?;
    let set_up = Instant::now();
    let chats: Vec<GuestChat> = stream::iter(0..args.guests)
        .map(|_| rest.start_chat())
        .buffered(32)
        .try_collect()
        .await?;
    let run = &uuid::Uuid::new_v4().simple().to_string()[..8];
    let mut clients: Vec<Client> = chats
        .iter()
        .map(|chat| Client {
            token: chat.guest_token.clone(),
            guest: true,
            seen: HashMap::from([(chat.chat_id.clone(), 0)]),
            resuming: false,
        })
        .collect();
    for a in 0..args.agents {
        let token = rest
            .new_agent(&admin, &format!("loadgen-{run}-storm-{a}@example.com"))
            .await?;
        let seen = chats
            .iter()
            .skip(a)
            .step_by(args.agents)
            .map(|chat| (chat.chat_id.clone(), 0))
            .collect();
        clients.push(Client {
            token,
            guest: false,
            seen,
            resuming: false,
        });
    }
    eprintln!(
        "set up {} chats and {} agents in {:.1} s",
        chats.len(),
        args.agents,
        set_up.elapsed().as_secs_f64()
    );

    let (cut, cut_seen) = watch::channel(false);
    let shared = Arc::new(Shared {
        ws_base: target.ws_base.clone(),
        sources: Sources::resolve(&target.ws_base, args.sources).await?,
        start: Instant::now(),
        cut: cut_seen,
        phase: AtomicU8::new(BEFORE),
        latency: [
            Mutex::new(new_histogram()),
            Mutex::new(new_histogram()),
            Mutex::new(new_histogram()),
        ],
        resumed: Mutex::new(Vec::new()),
        refusals: Mutex::new(HashMap::new()),
        gaps: AtomicU64::new(0),
        duplicates: AtomicU64::new(0),
        connects: AtomicU64::new(0),
    });

    // Connect everyone, 100 at a time, and wait until all are subscribed.
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::unbounded_channel();
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = Vec::with_capacity(clients.len());
    let opening = Arc::new(tokio::sync::Semaphore::new(100));
    // Agents are people at their own computers: here they get a thread of
    // their own, so that an agent's reads never queue behind the guests
    // this process plays and the generator's delay is not counted as the
    // server's.
    let agents_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("storm-agents")
        .enable_all()
        .build()?;
    for (n, client) in clients.into_iter().enumerate() {
        let shared = shared.clone();
        let ready = ready_tx.clone();
        let stop = stop_rx.clone();
        let opening = opening.clone();
        let runtime = if client.guest {
            tokio::runtime::Handle::current()
        } else {
            agents_runtime.handle().clone()
        };
        tasks
            .push(runtime.spawn(async move {
                follow(shared, n as u64, client, ready, stop, opening).await
            }));
    }
    drop(ready_tx);
    let total = tasks.len();
    for _ in 0..total {
        ready_rx
            .recv()
            .await
            .context("a client ended before it was subscribed")?;
    }
    eprintln!(
        "{total} clients connected and subscribed in {:.1} s",
        shared.start.elapsed().as_secs_f64()
    );

    // Messages at the offered rate from now to the end.
    let stored: Arc<Mutex<HashMap<String, i64>>> = Arc::default();
    let sender = tokio::spawn(send_messages(
        target.base.clone(),
        chats,
        args.rate,
        shared.start,
        stored.clone(),
        stop_rx.clone(),
    ));
    tokio::time::sleep(Duration::from_secs(args.before)).await;

    // The cut, and the storm until every client is back.
    let pid = target.pid;
    let cpu_before = pid.and_then(|pid| proc_stats::sample(Some(pid)));
    let cut_at = shared.start.elapsed();
    let cut_wall = Instant::now();
    shared.phase.store(STORM, Ordering::Relaxed);
    cut.send_replace(true);
    let mut peak_rss = 0;
    let deadline = Instant::now() + Duration::from_secs(args.within);
    loop {
        if let Some(sample) = pid.and_then(|pid| proc_stats::sample(Some(pid))) {
            peak_rss = peak_rss.max(sample.rss_kib);
        }
        let back = shared
            .resumed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .len();
        if back == total || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    shared.phase.store(AFTER, Ordering::Relaxed);
    let storm_wall = cut_wall.elapsed();
    let cpu_after = pid.and_then(|pid| proc_stats::sample(Some(pid)));

    tokio::time::sleep(Duration::from_secs(args.after)).await;
    stop_tx.send_replace(true);
    let sent = sender.await.context("the sender failed")?;
    let mut seen = Vec::with_capacity(total);
    for task in tasks {
        seen.push(task.await.context("a client failed")?);
    }

    // Nothing lost: every client saw each chat it follows up to its last
    // stored seq.
    agents_runtime.shutdown_background();
    let stored = stored.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let mut behind = 0u64;
    for client in &seen {
        for (chat, last) in &client.seen {
            if stored.get(chat).copied().unwrap_or(0) != *last {
                behind += 1;
            }
        }
    }
    let mut resumed = shared
        .resumed
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    resumed.sort_unstable();
    let cut_us = cut_at.as_micros() as u64;
    let since_cut = |resumed: &[(u64, bool)], q: f64| {
        resumed
            .get(((resumed.len() as f64 - 1.0) * q).round() as usize)
            .map_or(f64::NAN, |(us, _)| us.saturating_sub(cut_us) as f64 / 1e6)
    };
    let agents: Vec<(u64, bool)> = resumed
        .iter()
        .copied()
        .filter(|(_, agent)| *agent)
        .collect();
    let ms = |histogram: &Histogram<u64>, q: f64| histogram.value_at_quantile(q) as f64 / 1000.0;
    let lock = |phase: u8| {
        shared.latency[usize::from(phase)]
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    };
    let (before, storm, after) = (lock(BEFORE), lock(STORM), lock(AFTER));
    println!(
        "{} guests and {} agents ({} chats each), {} messages a second over REST ({} sent, {} stored)",
        args.guests,
        args.agents,
        args.guests / args.agents.max(1),
        args.rate,
        sent.0,
        sent.1
    );
    println!(
        "resumed after the cut: {} of {total}; p50 {:.2} s, p99 {:.2} s, last {:.2} s; agents: first {:.2} s, p50 {:.2} s, last {:.2} s",
        resumed.len(),
        since_cut(&resumed, 0.5),
        since_cut(&resumed, 0.99),
        since_cut(&resumed, 1.0),
        since_cut(&agents, 0.0),
        since_cut(&agents, 0.5),
        since_cut(&agents, 1.0)
    );
    println!(
        "message latency, intended send to first delivery at an agent: before the cut p50 {:.2} ms, p99 {:.2} ms ({}); from the cut to the last resume p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({}); after it p50 {:.2} ms, p99 {:.2} ms ({})",
        ms(&before, 0.5),
        ms(&before, 0.99),
        before.len(),
        ms(&storm, 0.5),
        ms(&storm, 0.99),
        storm.max() as f64 / 1000.0,
        storm.len(),
        ms(&after, 0.5),
        ms(&after, 0.99),
        after.len()
    );
    let refusals = shared.refusals.lock().unwrap_or_else(|p| p.into_inner());
    println!(
        "reconnect attempts {}; refused or failed: {}",
        shared.connects.load(Ordering::Relaxed),
        if refusals.is_empty() {
            "none".to_owned()
        } else {
            let mut causes: Vec<_> = refusals.iter().collect();
            causes.sort();
            causes
                .iter()
                .map(|(cause, n)| format!("{cause} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    );
    if let (Some(before), Some(after)) = (cpu_before, cpu_after) {
        println!(
            "server during the storm ({:.1} s): CPU {:.0}%, peak RSS {:.1} MiB",
            storm_wall.as_secs_f64(),
            proc_stats::cpu_percent(&before, &after, storm_wall),
            peak_rss as f64 / 1024.0
        );
    }
    println!(
        "lost: {behind} followed chats behind their last stored seq, {} gaps; {} duplicate deliveries",
        shared.gaps.load(Ordering::Relaxed),
        shared.duplicates.load(Ordering::Relaxed)
    );
    Ok(())
}

/// Sends messages round the chats at `rate` a second until `stop`, each
/// body carrying its intended send time; answers (sent, stored) and
/// fills `stored` with each chat's highest stored `seq`.
async fn send_messages(
    base: String,
    chats: Vec<GuestChat>,
    rate: u32,
    start: Instant,
    stored: Arc<Mutex<HashMap<String, i64>>>,
    stop: watch::Receiver<bool>,
) -> (u64, u64) {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap_or_default();
    let began = Instant::now();
    let mut calls = Vec::new();
    let mut n: u64 = 0;
    while !*stop.borrow() {
        let due = began + Duration::from_secs_f64(n as f64 / f64::from(rate.max(1)));
        tokio::time::sleep_until(due.into()).await;
        let chat = &chats[(n % chats.len() as u64) as usize];
        let intended = due.saturating_duration_since(start).as_micros();
        let request = client
            .post(format!("{base}/v1/chats/{}/messages", chat.chat_id))
            .bearer_auth(&chat.guest_token)
            .json(&json!({"client_msg_id": format!("storm-{n}"), "body": format!("t{intended}")}));
        let chat_id = chat.chat_id.clone();
        let stored = stored.clone();
        calls.push(tokio::spawn(async move {
            // A refused send is resent as a client would, under its key.
            for _ in 0..20 {
                if let Ok(answer) = request.try_clone()?.send().await
                    && answer.status().is_success()
                    && let Ok(body) = answer.json::<Value>().await
                    && let Some(seq) = body["seq"].as_i64()
                {
                    let mut stored = stored.lock().unwrap_or_else(|p| p.into_inner());
                    let last = stored.entry(chat_id).or_insert(0);
                    *last = (*last).max(seq);
                    return Some(());
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            None
        }));
        n += 1;
    }
    let mut ok = 0;
    for call in calls {
        if let Ok(Some(())) = call.await {
            ok += 1;
        }
    }
    (n, ok)
}

/// A client's whole life: connect and subscribe, tell `ready`, follow
/// until the cut, reconnect with backoff and resume, follow until `stop`
/// and a drain; answers what it saw.
async fn follow(
    shared: Arc<Shared>,
    n: u64,
    mut client: Client,
    ready: tokio::sync::mpsc::UnboundedSender<()>,
    mut stop: watch::Receiver<bool>,
    opening: Arc<tokio::sync::Semaphore>,
) -> Client {
    let mut cut = shared.cut.clone();
    let mut socket = {
        let _turn = opening.acquire().await;
        loop {
            match resume(&shared, n, &mut client).await {
                Ok(socket) => break socket,
                Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
            }
        }
    };
    let _ = ready.send(());
    let mut after_cut = false;
    loop {
        tokio::select! {
            frame = socket.next() => match frame {
                Some(Ok(Message::Text(text))) => on_frame(&shared, &mut client, text.as_str()),
                Some(Ok(_)) => {}
                // The server cut it: reconnect like any client would.
                _ => socket = reconnect(&shared, n, &mut client).await,
            },
            _ = cut.changed(), if !after_cut => {
                after_cut = true;
                drop(socket);
                socket = reconnect(&shared, n, &mut client).await;
                let at = shared.start.elapsed().as_micros() as u64;
                shared.resumed.lock().unwrap_or_else(|p| p.into_inner()).push((at, !client.guest));
            }
            _ = stop.changed() => break,
        }
    }
    // Drain what is still on its way.
    let drain = tokio::time::sleep(Duration::from_secs(3));
    tokio::pin!(drain);
    loop {
        tokio::select! {
            frame = socket.next() => match frame {
                Some(Ok(Message::Text(text))) => on_frame(&shared, &mut client, text.as_str()),
                Some(Ok(_)) => {}
                _ => break,
            },
            () = &mut drain => break,
        }
    }
    client
}

/// Reconnects after the SDKs' backoff until a resume succeeds.
async fn reconnect(shared: &Shared, n: u64, client: &mut Client) -> Socket {
    let mut attempt = 1;
    loop {
        tokio::time::sleep(backoff(&RECONNECT_BACKOFF, attempt)).await;
        shared.connects.fetch_add(1, Ordering::Relaxed);
        match resume(shared, n, client).await {
            Ok(socket) => return socket,
            Err(cause) => {
                *shared
                    .refusals
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .entry(cause)
                    .or_default() += 1;
                attempt += 1;
            }
        }
    }
}

/// Full jitter: a random wait up to the attempt's ceiling, never under
/// the floor, as the SDKs wait.
fn backoff(table: &BackoffTable, attempt: u32) -> Duration {
    let ceiling = table
        .base
        .saturating_mul(table.factor.saturating_pow(attempt.saturating_sub(1)))
        .min(table.cap);
    let wait = rand::rng().random_range(Duration::ZERO..=ceiling);
    wait.max(table.floor)
}

/// Connects and resumes every chat the client follows from the last
/// `seq` it saw; the socket once its `hello` and every `subscribed` are
/// in, or why not.
async fn resume(shared: &Shared, n: u64, client: &mut Client) -> Result<Socket, String> {
    let stream = shared
        .sources
        .connect(n)
        .await
        .map_err(|error| format!("connect {:?}", error.kind()))?;
    let mut url = format!("{}/v1/ws?token={}", shared.ws_base, client.token);
    let replays = client.guest && client.resuming;
    if replays && let Some(last) = client.seen.values().next() {
        url.push_str(&format!("&after_seq={last}"));
    }
    let mut socket = ws::upgrade(stream, &url)
        .await
        .map_err(|error| match error {
            tungstenite::Error::Http(response) => format!("HTTP {}", response.status().as_u16()),
            _ => "upgrade failed".to_owned(),
        })?;
    let mut waiting = if client.guest {
        usize::from(replays)
    } else {
        for (chat, last) in &client.seen {
            let frame = json!({"type": "subscribe", "chat_id": chat, "after_seq": last});
            socket
                .feed(Message::text(frame.to_string()))
                .await
                .map_err(|_| "subscribe write failed".to_owned())?;
        }
        socket
            .flush()
            .await
            .map_err(|_| "subscribe write failed".to_owned())?;
        client.seen.len()
    };
    let mut greeted = false;
    while !greeted || waiting > 0 {
        let text = ws::next_text(&mut socket)
            .await
            .map_err(|_| "no hello or subscribed within 10 s".to_owned())?;
        let frame: Value = serde_json::from_str(&text).map_err(|_| "bad frame".to_owned())?;
        match frame["type"].as_str() {
            Some("hello") => greeted = true,
            Some("subscribed") => waiting = waiting.saturating_sub(1),
            Some("error") => return Err(format!("error {}", frame["error"]["code"])),
            _ => on_frame(shared, client, &text),
        }
    }
    client.resuming = true;
    Ok(socket)
}

/// Counts a `message`: the next `seq` of its chat, a duplicate, or past a
/// gap; an agent's first delivery is timed from the body's send time.
fn on_frame(shared: &Shared, client: &mut Client, text: &str) {
    if !text.starts_with(r#"{"type":"message""#) {
        return;
    }
    let Ok(frame) = serde_json::from_str::<Value>(text) else {
        return;
    };
    let message = &frame["message"];
    let (Some(chat), Some(seq)) = (message["chat_id"].as_str(), message["seq"].as_i64()) else {
        return;
    };
    let Some(last) = client.seen.get_mut(chat) else {
        return;
    };
    if seq <= *last {
        shared.duplicates.fetch_add(1, Ordering::Relaxed);
        return;
    }
    if seq != *last + 1 {
        shared.gaps.fetch_add(1, Ordering::Relaxed);
    }
    *last = seq;
    if client.guest {
        return;
    }
    let intended = message["body"]
        .as_str()
        .and_then(|body| body.strip_prefix('t'))
        .and_then(|micros| micros.parse::<u64>().ok());
    if let Some(intended) = intended {
        let now = shared.start.elapsed().as_micros() as u64;
        let latency = now.saturating_sub(intended).max(1);
        let phase = usize::from(shared.phase.load(Ordering::Relaxed));
        let _ = shared.latency[phase]
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .record(latency);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconnect_waits_stay_between_the_floor_and_each_attempts_ceiling() {
        let table = RECONNECT_BACKOFF;
        for attempt in 1..=12 {
            let ceiling = (table.base * table.factor.pow(attempt - 1)).min(table.cap);
            for _ in 0..200 {
                let wait = backoff(&table, attempt);
                assert!(wait >= table.floor, "attempt {attempt}: {wait:?}");
                assert!(
                    wait <= ceiling.max(table.floor),
                    "attempt {attempt}: {wait:?}"
                );
            }
        }
        // Full jitter: the first waits spread over the whole range.
        let waits: Vec<Duration> = (0..500).map(|_| backoff(&table, 1)).collect();
        assert!(waits.iter().any(|w| *w < table.base / 2));
        assert!(waits.iter().any(|w| *w > table.base / 2));
    }
}

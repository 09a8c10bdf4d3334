//! The open-loop throughput scenario.
//!
//! `chats` chats, each with one guest socket; `agents` agent sockets, each
//! subscribed to an equal share of the chats. At each offered rate, the
//! guests together send that many messages a second, message `n` at
//! exactly `start + n / rate` whether or not earlier ones were answered
//! (the pacer's thread keeps that schedule, see `pacer`). The agents'
//! sockets time each delivery from that intended moment; the guests'
//! sockets time each `ack` the same way. Rates are counted from arrival
//! times inside the measurement window, after a warm-up. Each step also
//! reports how late the load generator itself wrote its frames (send lag)
//! and how late its pacer woke from its sleeps (wake delay): the part of
//! the latency that is this machine's, not the server's.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt, TryStreamExt, stream};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio_tungstenite::tungstenite::Message;

use crate::ThroughputArgs;
use crate::pacer::{self, Schedule};
use crate::proc_stats::{self, ProcSample};
use crate::rest::{GuestChat, Rest};
use crate::tally::{self, BUCKET, SharedTally, Tag};
use crate::target::Target;
use crate::ws::{self, Socket, string_field};

type Sink = SplitSink<Socket, Message>;

/// State every receiver shares.
#[derive(Clone)]
struct Clock {
    /// Time zero of every tag and bucket.
    epoch: Instant,
    /// The step being run; arrivals of other steps count only as traffic.
    step: Arc<AtomicU32>,
    /// Why sockets were closed by the server, if any were.
    closes: Arc<Mutex<Vec<String>>>,
}

/// One step's result, for the closing table.
struct StepResult {
    offered: u32,
    sent_rate: f64,
    acked_rate: f64,
    delivered_rate: f64,
    latency: hdrhistogram::Histogram<u64>,
    ack_p99_us: u64,
    send_lag: hdrhistogram::Histogram<u64>,
    oversleep: hdrhistogram::Histogram<u64>,
    unacked: u64,
    undelivered: u64,
    server_cpu: Option<f64>,
    server_rss_kib: Option<u64>,
    loadgen_cpu: f64,
    errors: Vec<(String, u64)>,
}

pub async fn run(target: &Target, args: &ThroughputArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.agents >= 1 && args.chats >= args.agents,
        "need at least one agent and as many chats as agents"
    );
    let rest = Rest::new(target);
    let admin = rest
        .login(&target.admin_email, &target.admin_password)
        .await
        .context("admin login")?;
    let run = &uuid::Uuid::new_v4().simple().to_string()[..8];
    let mut agent_tokens = Vec::with_capacity(args.agents);
    for i in 0..args.agents {
        let email = format!("loadgen-{run}-{i}@example.com");
        agent_tokens.push(rest.new_agent(&admin, &email).await?);
    }
    let chats: Vec<GuestChat> = stream::iter(0..args.chats)
        .map(|_| rest.start_chat())
        .buffered(16)
        .try_collect()
        .await?;
    eprintln!(
        "set up {} chats and {} agents",
        chats.len(),
        agent_tokens.len()
    );

    let clock = Clock {
        epoch: Instant::now(),
        step: Arc::new(AtomicU32::new(0)),
        closes: Arc::default(),
    };
    let mut deliveries = Vec::new();
    let mut agent_sinks = Vec::new();
    for (a, token) in agent_tokens.iter().enumerate() {
        let mut socket = ws::connect(&target.agent_ws_base, token).await?;
        let mine: Vec<&GuestChat> = chats.iter().skip(a).step_by(args.agents).collect();
        for chat in &mine {
            let frame = format!(r#"{{"type":"subscribe","chat_id":"{}"}}"#, chat.chat_id);
            socket.send(Message::text(frame)).await?;
        }
        let mut subscribed = 0;
        while subscribed < mine.len() {
            if ws::next_text(&mut socket)
                .await?
                .starts_with(r#"{"type":"subscribed""#)
            {
                subscribed += 1;
            }
        }
        let (sink, stream) = socket.split();
        let tally = tally::shared();
        tokio::spawn(receive(stream, tally.clone(), clock.clone(), Role::Agent));
        deliveries.push(tally);
        agent_sinks.push(sink);
    }
    let mut acks = Vec::new();
    let mut guests: Vec<(Sink, String)> = Vec::new();
    for chat in &chats {
        let socket = ws::connect(&target.ws_base, &chat.guest_token).await?;
        let (sink, stream) = socket.split();
        let tally = tally::shared();
        tokio::spawn(receive(stream, tally.clone(), clock.clone(), Role::Guest));
        acks.push(tally);
        guests.push((sink, chat.chat_id.clone()));
    }

    let body: String = "x".repeat(args.body_chars.max(1));
    let mut results = Vec::new();
    for (step, &rate) in args.rates.iter().enumerate() {
        let step = step as u32 + 1;
        let (result, returned) = run_step(
            target,
            args,
            &clock,
            step,
            rate,
            guests,
            &body,
            &deliveries,
            &acks,
        )
        .await;
        guests = returned;
        print_step(&result);
        results.push(result);
        if guests.is_empty() {
            break;
        }
    }
    print_table(args, &results);
    let closes = clock.closes.lock().map(|c| c.clone()).unwrap_or_default();
    if !closes.is_empty() {
        println!("sockets closed by the server: {}", closes.join(", "));
    }
    drop(agent_sinks);
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn run_step(
    target: &Target,
    args: &ThroughputArgs,
    clock: &Clock,
    step: u32,
    rate: u32,
    guests: Vec<(Sink, String)>,
    body: &str,
    deliveries: &[SharedTally],
    acks: &[SharedTally],
) -> (StepResult, Vec<(Sink, String)>) {
    tally::reset_step(deliveries);
    tally::reset_step(acks);
    clock.step.store(step, Ordering::SeqCst);
    // Start on a bucket boundary, so the window's buckets are whole.
    let lead = Instant::now() + Duration::from_millis(200) - clock.epoch;
    let first_bucket = lead.as_micros().div_ceil(BUCKET.as_micros()) as u32;
    let start = clock.epoch + BUCKET * first_bucket;
    let window_start = start + Duration::from_secs(args.warmup);
    let window_end = window_start + Duration::from_secs(args.duration);
    let schedule = Schedule::new(start, window_end, f64::from(rate.max(1)));
    let mut turns = Vec::with_capacity(guests.len());
    let senders: Vec<_> = guests
        .into_iter()
        .map(|(sink, chat_id)| {
            let (turn, numbers) = tokio::sync::mpsc::unbounded_channel();
            turns.push(turn);
            let plan = SendPlan {
                schedule,
                window_start,
                epoch: clock.epoch,
                step,
            };
            let body = body.to_owned();
            tokio::spawn(async move { send_step(sink, chat_id, body, plan, numbers).await })
        })
        .collect();
    let pacer = pacer::start(schedule, Turns(turns));
    if let Err(error) = &pacer {
        // Its turns are dropped with it: this step sends nothing.
        eprintln!("byrd-loadgen: cannot start the pacer thread: {error}");
    }

    tokio::time::sleep_until(window_start.into()).await;
    let server_before = target.pid.and_then(|pid| proc_stats::sample(Some(pid)));
    let loadgen_before = proc_stats::sample(None).unwrap_or_default();
    tokio::time::sleep_until(window_end.into()).await;
    let server_after = target.pid.and_then(|pid| proc_stats::sample(Some(pid)));
    let loadgen_after = proc_stats::sample(None).unwrap_or_default();
    let window = window_end - window_start;

    // The pacer's end closes the guests' turns, which ends their tasks.
    let mut oversleep = tally::new_histogram();
    if let Ok(pacer) = pacer
        && let Ok(Ok(slept)) = tokio::task::spawn_blocking(move || pacer.join()).await
    {
        oversleep = slept;
    }
    let mut returned = Vec::new();
    let (mut sent, mut sent_measured) = (0u64, 0u64);
    let mut send_lag = tally::new_histogram();
    for sender in senders {
        if let Ok(outcome) = sender.await {
            let _ = send_lag.add(&outcome.send_lag);
            sent += outcome.sent;
            sent_measured += outcome.measured;
            if let Some(sink) = outcome.sink {
                returned.push(sink);
            }
        }
    }
    // Wait for late deliveries and acks, up to the drain time.
    let drain_until = Instant::now() + Duration::from_secs(args.drain);
    while Instant::now() < drain_until
        && (tally::measured_arrivals(deliveries) < sent_measured
            || tally::step_arrivals(acks) < sent)
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let from = ((window_start - clock.epoch).as_micros() / BUCKET.as_micros()) as usize;
    let to = ((window_end - clock.epoch).as_micros() / BUCKET.as_micros()) as usize;
    let delivered = tally::sum(deliveries, from, to);
    let acked = tally::sum(acks, from, to);
    let secs = window.as_secs_f64();
    let mut errors = acked.errors.clone();
    errors.extend(delivered.errors.iter().cloned());
    let cpu = match (server_before, server_after) {
        (Some(before), Some(after)) => Some(proc_stats::cpu_percent(&before, &after, window)),
        _ => None,
    };
    let result = StepResult {
        offered: rate,
        sent_rate: sent_measured as f64 / secs,
        acked_rate: acked.window_arrivals as f64 / secs,
        delivered_rate: delivered.window_arrivals as f64 / secs,
        ack_p99_us: acked.latency.value_at_quantile(0.99),
        send_lag,
        oversleep,
        unacked: sent.saturating_sub(acked.step_arrivals),
        undelivered: sent_measured.saturating_sub(delivered.latency.len()),
        latency: delivered.latency,
        server_cpu: cpu,
        server_rss_kib: server_after.map(|s: ProcSample| s.rss_kib),
        loadgen_cpu: proc_stats::cpu_percent(&loadgen_before, &loadgen_after, window),
        errors,
    };
    (result, returned)
}

/// The guests' turns: message `n` is handed to guest `n % guests`, whose
/// task writes it at once.
struct Turns(Vec<UnboundedSender<u64>>);

impl pacer::Sender for Turns {
    fn send(&mut self, n: u64, _due: Instant) {
        let guest = (n % self.0.len() as u64) as usize;
        // A guest whose socket failed has stopped listening.
        let _ = self.0[guest].send(n);
    }
}

/// When one guest's messages are due and counted.
#[derive(Clone, Copy)]
struct SendPlan {
    schedule: Schedule,
    window_start: Instant,
    epoch: Instant,
    step: u32,
}

struct SendOutcome {
    /// The socket, unless it failed.
    sink: Option<(Sink, String)>,
    sent: u64,
    measured: u64,
    /// How late this guest's measured frames were written, microseconds
    /// after their intended send time: the load generator's own error.
    send_lag: hdrhistogram::Histogram<u64>,
}

/// Sends this guest's share: each message number the pacer hands it, at
/// once, late or not.
async fn send_step(
    mut sink: Sink,
    chat_id: String,
    body: String,
    plan: SendPlan,
    mut numbers: UnboundedReceiver<u64>,
) -> SendOutcome {
    let (mut sent, mut measured) = (0, 0);
    let mut send_lag = tally::new_histogram();
    while let Some(n) = numbers.recv().await {
        let at = plan.schedule.due(n);
        let tag = Tag {
            step: plan.step,
            intended_us: (at - plan.epoch).as_micros() as u64,
            measured: at >= plan.window_start,
        };
        let frame = format!(
            r#"{{"type":"send","chat_id":"{chat_id}","client_msg_id":"{}","body":"{body}"}}"#,
            tag.encode(n)
        );
        if sink.send(Message::text(frame)).await.is_err() {
            return SendOutcome {
                sink: None,
                sent,
                measured,
                send_lag,
            };
        }
        sent += 1;
        if tag.measured {
            measured += 1;
            let lag = Instant::now().saturating_duration_since(at).as_micros() as u64;
            send_lag.saturating_record(lag.max(1));
        }
    }
    SendOutcome {
        sink: Some((sink, chat_id)),
        sent,
        measured,
        send_lag,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Counts `message` frames: deliveries.
    Agent,
    /// Counts `ack` frames; its own messages' echoes are read and dropped.
    Guest,
}

async fn receive(mut stream: SplitStream<Socket>, tally: SharedTally, clock: Clock, role: Role) {
    let counted = match role {
        Role::Agent => r#"{"type":"message""#,
        Role::Guest => r#"{"type":"ack""#,
    };
    while let Some(frame) = stream.next().await {
        match frame {
            Ok(Message::Text(text)) => {
                let now = Instant::now();
                let text = text.as_str();
                if text.starts_with(counted) {
                    if let Some(tag) = string_field(text, "client_msg_id").and_then(Tag::decode) {
                        let step = clock.step.load(Ordering::Relaxed);
                        if let Ok(mut tally) = tally.lock() {
                            tally.arrived(tag, step, clock.epoch, now);
                        }
                    }
                } else if text.starts_with(r#"{"type":"error""#) {
                    let code = string_field(text, "code").unwrap_or("unknown");
                    if let Ok(mut tally) = tally.lock() {
                        tally.error(code);
                    }
                }
            }
            Ok(Message::Close(frame)) => {
                let why = frame.map_or_else(
                    || "no close frame".to_owned(),
                    |f| format!("{} {}", f.code, f.reason),
                );
                if let Ok(mut closes) = clock.closes.lock() {
                    closes.push(why);
                }
                return;
            }
            Ok(_) => {}
            Err(_) => return,
        }
    }
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

fn print_step(r: &StepResult) {
    let l = &r.latency;
    println!(
        "offered {:>6}/s  sent {:>8.0}/s  acked {:>8.0}/s  delivered {:>8.0}/s  latency p50 {:.2} ms  p90 {:.2} ms  p99 {:.2} ms  p99.9 {:.2} ms  max {:.2} ms  (ack p99 {:.2} ms)  send lag p50 {:.2} ms p99 {:.2} ms  wake delay p99 {:.2} ms p99.9 {:.2} ms  unacked {}  undelivered {}  server CPU {}  RSS {}  load generator CPU {:.0}%{}",
        r.offered,
        r.sent_rate,
        r.acked_rate,
        r.delivered_rate,
        ms(l.value_at_quantile(0.5)),
        ms(l.value_at_quantile(0.9)),
        ms(l.value_at_quantile(0.99)),
        ms(l.value_at_quantile(0.999)),
        ms(l.max()),
        ms(r.ack_p99_us),
        ms(r.send_lag.value_at_quantile(0.5)),
        ms(r.send_lag.value_at_quantile(0.99)),
        ms(r.oversleep.value_at_quantile(0.99)),
        ms(r.oversleep.value_at_quantile(0.999)),
        r.unacked,
        r.undelivered,
        r.server_cpu.map_or("n/a".into(), |c| format!("{c:.0}%")),
        r.server_rss_kib
            .map_or("n/a".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0)),
        r.loadgen_cpu,
        if r.errors.is_empty() {
            String::new()
        } else {
            format!("  errors {:?}", r.errors)
        }
    );
}

fn print_table(args: &ThroughputArgs, results: &[StepResult]) {
    println!();
    println!(
        "{} chats (one guest socket each), {} agent sockets; {} s measured after {} s warm-up at each rate; latency from intended send to delivery at the agent",
        args.chats, args.agents, args.duration, args.warmup
    );
    println!(
        "| offered/s | sent/s | acked/s | delivered/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | unacked | server CPU | server RSS | send lag p99 ms | wake delay p99 ms |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for r in results {
        let l = &r.latency;
        println!(
            "| {} | {:.0} | {:.0} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {} | {} | {:.2} | {:.2} |",
            r.offered,
            r.sent_rate,
            r.acked_rate,
            r.delivered_rate,
            ms(l.value_at_quantile(0.5)),
            ms(l.value_at_quantile(0.9)),
            ms(l.value_at_quantile(0.99)),
            ms(l.value_at_quantile(0.999)),
            ms(l.max()),
            r.unacked,
            r.server_cpu.map_or("n/a".into(), |c| format!("{c:.0}%")),
            r.server_rss_kib
                .map_or("n/a".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0)),
            ms(r.send_lag.value_at_quantile(0.99)),
            ms(r.oversleep.value_at_quantile(0.99)),
        );
    }
}

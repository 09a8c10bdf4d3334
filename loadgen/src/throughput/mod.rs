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

mod report;
mod sockets;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::SinkExt;
use futures_util::stream::SplitSink;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

use self::report::{print_step, print_table};
use self::sockets::{connect_agents, connect_guests, set_up};
use crate::ThroughputArgs;
use crate::pacer::{self, Schedule};
use crate::proc_stats::{self, ProcSample};
use crate::tally::{self, BUCKET, SharedTally, Tag};
use crate::target::Target;
use crate::ws::Socket;

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
    let (agent_tokens, chats) = set_up(target, args).await?;
    let clock = Clock {
        epoch: Instant::now(),
        step: Arc::new(AtomicU32::new(0)),
        closes: Arc::default(),
    };
    let (deliveries, agent_sinks) =
        connect_agents(target, args, &agent_tokens, &chats, &clock).await?;
    let (acks, mut guests) = connect_guests(target, &chats, &clock).await?;
    let load = Load {
        target,
        args,
        clock,
        body: "x".repeat(args.body_chars.max(1)),
        deliveries,
        acks,
    };

    let mut results = Vec::new();
    for (step, &rate) in args.rates.iter().enumerate() {
        let (result, returned) = load.run_step(step as u32 + 1, rate, guests).await;
        guests = returned;
        print_step(&result);
        results.push(result);
        if guests.is_empty() {
            break;
        }
    }
    print_table(args, &results);
    let closes = load
        .clock
        .closes
        .lock()
        .map(|c| c.clone())
        .unwrap_or_default();
    if !closes.is_empty() {
        println!("sockets closed by the server: {}", closes.join(", "));
    }
    drop(agent_sinks);
    Ok(())
}

/// What every step of a run shares.
struct Load<'a> {
    target: &'a Target,
    args: &'a ThroughputArgs,
    clock: Clock,
    /// The body of every message.
    body: String,
    /// One tally per agent socket: deliveries.
    deliveries: Vec<SharedTally>,
    /// One tally per guest socket: acks.
    acks: Vec<SharedTally>,
}

/// When a step sends, and the part of it that is measured.
#[derive(Clone, Copy)]
struct StepTimes {
    schedule: Schedule,
    window_start: Instant,
    window_end: Instant,
}

/// The pacer's thread; it returns how late it woke (see `pacer`).
type Pacer = std::thread::JoinHandle<hdrhistogram::Histogram<u64>>;

/// What the guests' tasks of one step sent.
struct Sent {
    /// The sockets that did not fail, to send the next step.
    returned: Vec<(Sink, String)>,
    all: u64,
    measured: u64,
    send_lag: hdrhistogram::Histogram<u64>,
}

/// Server and load generator readings at both ends of the window.
struct Usage {
    server: (Option<ProcSample>, Option<ProcSample>),
    loadgen: (ProcSample, ProcSample),
}

impl Load<'_> {
    /// One rate: sends through `guests` for the warm-up and the window,
    /// waits for late arrivals, and gives the guests back for the next.
    async fn run_step(
        &self,
        step: u32,
        rate: u32,
        guests: Vec<(Sink, String)>,
    ) -> (StepResult, Vec<(Sink, String)>) {
        tally::reset_step(&self.deliveries);
        tally::reset_step(&self.acks);
        self.clock.step.store(step, Ordering::SeqCst);
        let times = self.step_times(rate);
        let (senders, pacer) = self.start_sending(step, times, guests);
        let usage = self.usage_over(times).await;

        // The pacer's end closes the guests' turns, which ends their tasks.
        let mut oversleep = tally::new_histogram();
        if let Ok(pacer) = pacer
            && let Ok(Ok(slept)) = tokio::task::spawn_blocking(move || pacer.join()).await
        {
            oversleep = slept;
        }
        let mut sent = collect(senders).await;
        self.drain(&sent).await;
        let returned = std::mem::take(&mut sent.returned);
        (self.result(rate, times, usage, oversleep, sent), returned)
    }

    /// The next step's times, from a bucket boundary 200 ms or so ahead,
    /// so the window's buckets are whole.
    fn step_times(&self, rate: u32) -> StepTimes {
        let epoch = self.clock.epoch;
        let lead = Instant::now() + Duration::from_millis(200) - epoch;
        let first_bucket = lead.as_micros().div_ceil(BUCKET.as_micros()) as u32;
        let start = epoch + BUCKET * first_bucket;
        let window_start = start + Duration::from_secs(self.args.warmup);
        let window_end = window_start + Duration::from_secs(self.args.duration);
        StepTimes {
            schedule: Schedule::new(start, window_end, f64::from(rate.max(1))),
            window_start,
            window_end,
        }
    }

    /// A task per guest that sends each message number handed to it, and
    /// the pacer's thread that hands them out on schedule.
    fn start_sending(
        &self,
        step: u32,
        times: StepTimes,
        guests: Vec<(Sink, String)>,
    ) -> (Vec<JoinHandle<SendOutcome>>, std::io::Result<Pacer>) {
        let mut turns = Vec::with_capacity(guests.len());
        let senders = guests
            .into_iter()
            .map(|(sink, chat_id)| {
                let (turn, numbers) = tokio::sync::mpsc::unbounded_channel();
                turns.push(turn);
                let plan = SendPlan {
                    schedule: times.schedule,
                    window_start: times.window_start,
                    epoch: self.clock.epoch,
                    step,
                };
                let body = self.body.clone();
                tokio::spawn(async move { send_step(sink, chat_id, body, plan, numbers).await })
            })
            .collect();
        let pacer = pacer::start(times.schedule, Turns(turns));
        if let Err(error) = &pacer {
            // Its turns are dropped with it: this step sends nothing.
            eprintln!("byrd-loadgen: cannot start the pacer thread: {error}");
        }
        (senders, pacer)
    }

    /// Reads the server's and this process's CPU and memory at the start
    /// and the end of the window, sleeping until each.
    async fn usage_over(&self, times: StepTimes) -> Usage {
        let server = || {
            self.target
                .pid
                .and_then(|pid| proc_stats::sample(Some(pid)))
        };
        let loadgen = || proc_stats::sample(None).unwrap_or_default();
        tokio::time::sleep_until(times.window_start.into()).await;
        let before = (server(), loadgen());
        tokio::time::sleep_until(times.window_end.into()).await;
        let after = (server(), loadgen());
        Usage {
            server: (before.0, after.0),
            loadgen: (before.1, after.1),
        }
    }

    /// Waits for late deliveries and acks, up to the drain time.
    async fn drain(&self, sent: &Sent) {
        let drain_until = Instant::now() + Duration::from_secs(self.args.drain);
        while Instant::now() < drain_until
            && (tally::measured_arrivals(&self.deliveries) < sent.measured
                || tally::step_arrivals(&self.acks) < sent.all)
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The step's counts, summed over the window's buckets.
    fn result(
        &self,
        rate: u32,
        times: StepTimes,
        usage: Usage,
        oversleep: hdrhistogram::Histogram<u64>,
        sent: Sent,
    ) -> StepResult {
        let bucket =
            |at: Instant| ((at - self.clock.epoch).as_micros() / BUCKET.as_micros()) as usize;
        let (from, to) = (bucket(times.window_start), bucket(times.window_end));
        let delivered = tally::sum(&self.deliveries, from, to);
        let acked = tally::sum(&self.acks, from, to);
        let window = times.window_end - times.window_start;
        let secs = window.as_secs_f64();
        let mut errors = acked.errors.clone();
        errors.extend(delivered.errors.iter().cloned());
        let cpu = match usage.server {
            (Some(before), Some(after)) => Some(proc_stats::cpu_percent(&before, &after, window)),
            _ => None,
        };
        StepResult {
            offered: rate,
            sent_rate: sent.measured as f64 / secs,
            acked_rate: acked.window_arrivals as f64 / secs,
            delivered_rate: delivered.window_arrivals as f64 / secs,
            ack_p99_us: acked.latency.value_at_quantile(0.99),
            send_lag: sent.send_lag,
            oversleep,
            unacked: sent.all.saturating_sub(acked.step_arrivals),
            undelivered: sent.measured.saturating_sub(delivered.latency.len()),
            latency: delivered.latency,
            server_cpu: cpu,
            server_rss_kib: usage.server.1.map(|s| s.rss_kib),
            loadgen_cpu: proc_stats::cpu_percent(&usage.loadgen.0, &usage.loadgen.1, window),
            errors,
        }
    }
}

/// Waits for the guests' tasks of a step and adds up what they sent.
async fn collect(senders: Vec<JoinHandle<SendOutcome>>) -> Sent {
    let mut sent = Sent {
        returned: Vec::new(),
        all: 0,
        measured: 0,
        send_lag: tally::new_histogram(),
    };
    for sender in senders {
        if let Ok(outcome) = sender.await {
            let _ = sent.send_lag.add(&outcome.send_lag);
            sent.all += outcome.sent;
            sent.measured += outcome.measured;
            if let Some(sink) = outcome.sink {
                sent.returned.push(sink);
            }
        }
    }
    sent
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

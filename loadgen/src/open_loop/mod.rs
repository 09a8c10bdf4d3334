//! Open-loop steps of independent calls: REST sends, WebSocket handshakes.
//!
//! At each offered rate the pacer's thread (see `pacer`) starts call `n` at
//! exactly `start + n / rate`, each as a task of its own, whether or not
//! earlier calls have ended: a server that falls behind meets more calls in
//! flight, not fewer calls, and every latency counts from the scheduled
//! moment. After a warm-up, the window is measured (see `outcomes`); after
//! it, calls still in flight get the drain time to end, and then are
//! dropped, so that a step the server could not keep up with does not
//! load the next one.

mod outcomes;
mod report;

use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use clap::Args;
use hdrhistogram::Histogram;

pub use self::outcomes::{Outcome, StepTally, Window};
use crate::pacer::{self, Schedule};
use crate::proc_stats::{self, ProcSample};
use crate::tally::new_histogram;

/// How long each rate runs.
#[derive(Debug, Args)]
pub struct StepArgs {
    /// Seconds measured at each rate.
    #[arg(long, default_value_t = 10)]
    pub duration: u64,
    /// Seconds of load before measuring starts, at each rate.
    #[arg(long, default_value_t = 2)]
    pub warmup: u64,
    /// Seconds to wait after the last call for calls still in flight.
    #[arg(long, default_value_t = 10)]
    pub drain: u64,
    /// Calls in flight at most: a call due beyond that fails at once,
    /// counted as not started, rather than exhaust this process's file
    /// descriptors.
    #[arg(long, default_value_t = 10_000)]
    pub max_in_flight: u64,
}

/// One rate's result.
pub struct StepResult {
    pub offered: u32,
    /// Calls scheduled in the window, a second.
    pub started_rate: f64,
    /// Calls that succeeded in the window, a second.
    pub done_rate: f64,
    /// Scheduled to success of the window's calls, microseconds.
    pub latency: Histogram<u64>,
    pub failures: Vec<(String, u64)>,
    /// The window's calls that had not ended when the drain time ran out.
    pub unfinished: u64,
    pub most_in_flight: u64,
    pub server_cpu: Option<f64>,
    pub server_rss_kib: Option<u64>,
    pub loadgen_cpu: f64,
    /// How late the pacer woke from its sleeps, microseconds.
    pub wake_delay: Histogram<u64>,
}

/// What a run of steps is, for its report.
pub struct Run<'a> {
    /// What a call is, plural: "sends", "handshakes".
    pub calls: &'a str,
    /// A sentence on the set-up, printed above the table.
    pub setting: String,
    pub rates: &'a [u32],
    pub steps: &'a StepArgs,
    /// Whose CPU and memory to read.
    pub server_pid: Option<u32>,
}

/// Runs `call` open loop at each of `run.rates`, printing each step as it
/// ends and a table of all of them at the end.
pub async fn run<F, Fut>(run: &Run<'_>, call: F) -> Vec<StepResult>
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Outcome> + Send + 'static,
{
    let call = Arc::new(call);
    let mut results = Vec::new();
    for &rate in run.rates {
        let result = step(run, rate, call.clone()).await;
        report::print_step(run.calls, &result);
        results.push(result);
        // Let the server settle (sockets closing, writes landing).
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    report::print_table(run, &results);
    results
}

/// One rate, from its schedule to its drain.
async fn step<F, Fut>(run: &Run<'_>, rate: u32, call: Arc<F>) -> StepResult
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Outcome> + Send + 'static,
{
    let start = Instant::now() + Duration::from_millis(200);
    let window_start = start + Duration::from_secs(run.steps.warmup);
    let window = Window {
        start: window_start,
        end: window_start + Duration::from_secs(run.steps.duration),
    };
    let schedule = Schedule::new(start, window.end, f64::from(rate.max(1)));
    let tally = Arc::new(Mutex::new(StepTally::new(window, run.steps.max_in_flight)));
    let (over, over_seen) = tokio::sync::watch::channel(false);
    let launch = Launch {
        runtime: tokio::runtime::Handle::current(),
        call,
        tally: tally.clone(),
        over: over_seen,
    };
    let pacer = pacer::start(schedule, launch);
    if let Err(error) = &pacer {
        eprintln!("byrd-loadgen: cannot start the pacer thread: {error}");
    }
    let usage = Usage::over(window, run.server_pid).await;
    let mut wake_delay = new_histogram();
    if let Ok(pacer) = pacer
        && let Ok(Ok(slept)) = tokio::task::spawn_blocking(move || pacer.join()).await
    {
        wake_delay = slept;
    }
    let drain_until = Instant::now() + Duration::from_secs(run.steps.drain);
    while Instant::now() < drain_until && lock(&tally).in_flight > 0 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The calls still in flight end now, unfinished.
    let _ = over.send(true);
    let tally = lock(&tally);
    let secs = window.length().as_secs_f64();
    StepResult {
        offered: rate,
        started_rate: tally.measured as f64 / secs,
        done_rate: tally.done_in_window as f64 / secs,
        latency: tally.latency.clone(),
        failures: tally.failures.clone(),
        unfinished: tally.unfinished(),
        most_in_flight: tally.most_in_flight,
        server_cpu: match usage.server {
            (Some(before), Some(after)) => {
                Some(proc_stats::cpu_percent(&before, &after, window.length()))
            }
            _ => None,
        },
        server_rss_kib: usage.server.1.map(|s| s.rss_kib),
        loadgen_cpu: proc_stats::cpu_percent(&usage.loadgen.0, &usage.loadgen.1, window.length()),
        wake_delay,
    }
}

fn lock(tally: &Mutex<StepTally>) -> MutexGuard<'_, StepTally> {
    tally
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Starts each call as the pacer hands it over, as a task of its own.
struct Launch<F> {
    runtime: tokio::runtime::Handle,
    call: Arc<F>,
    tally: Arc<Mutex<StepTally>>,
    /// Turns true when the step is over: calls still running are dropped.
    over: tokio::sync::watch::Receiver<bool>,
}

impl<F, Fut> pacer::Sender for Launch<F>
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Outcome> + Send + 'static,
{
    fn send(&mut self, n: u64, due: Instant) {
        if !lock(&self.tally).start(due) {
            return;
        }
        let call = (self.call)(n);
        let tally = self.tally.clone();
        let mut over = self.over.clone();
        self.runtime.spawn(async move {
            tokio::select! {
                outcome = call => {
                    let ended = Instant::now();
                    lock(&tally).ended(due, ended, outcome);
                }
                _ = over.wait_for(|over| *over) => {}
            }
        });
    }
}

/// Server and load generator readings at both ends of the window.
struct Usage {
    server: (Option<ProcSample>, Option<ProcSample>),
    loadgen: (ProcSample, ProcSample),
}

impl Usage {
    /// Sleeps to the window's start and end, reading at each.
    async fn over(window: Window, pid: Option<u32>) -> Usage {
        let server = || pid.and_then(|pid| proc_stats::sample(Some(pid)));
        let loadgen = || proc_stats::sample(None).unwrap_or_default();
        tokio::time::sleep_until(window.start.into()).await;
        let before = (server(), loadgen());
        tokio::time::sleep_until(window.end.into()).await;
        let after = (server(), loadgen());
        Usage {
            server: (before.0, after.0),
            loadgen: (before.1, after.1),
        }
    }
}

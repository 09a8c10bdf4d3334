//! What one step of independent calls adds up to.
//!
//! Every call is timed from the moment the schedule gave it, not from when
//! it started, so a server that falls behind shows its queueing. A call
//! counts towards the step's rate when it succeeds inside the measurement
//! window (whenever it was scheduled), and towards its latency when it was
//! scheduled inside the window (whenever it ended): the same split the
//! throughput scenario makes between arrivals and measured messages.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::tally::new_histogram;

/// How one call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The server did what was asked: a message stored, a `hello` received.
    Done,
    /// Refused or failed, by kind: `"429 rate_limited"`, `"connect"`.
    Failed(String),
}

/// The part of a step that is measured.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub start: Instant,
    pub end: Instant,
}

impl Window {
    fn holds(&self, at: Instant) -> bool {
        self.start <= at && at < self.end
    }

    pub fn length(&self) -> Duration {
        self.end - self.start
    }
}

/// The counts of one step's calls, as they end.
pub struct StepTally {
    window: Window,
    /// Calls in flight at most; a call due beyond that is not started.
    limit: u64,
    /// Calls started and not yet ended.
    pub in_flight: u64,
    /// The most calls in flight at once.
    pub most_in_flight: u64,
    /// Calls scheduled inside the window.
    pub measured: u64,
    /// Calls that succeeded inside the window, whenever scheduled.
    pub done_in_window: u64,
    /// Scheduled to success, microseconds, of the measured calls.
    pub latency: Histogram<u64>,
    /// Failed measured calls, by kind, in the order first seen.
    pub failures: Vec<(String, u64)>,
}

impl StepTally {
    pub fn new(window: Window, limit: u64) -> Self {
        StepTally {
            window,
            limit,
            in_flight: 0,
            most_in_flight: 0,
            measured: 0,
            done_in_window: 0,
            latency: new_histogram(),
            failures: Vec::new(),
        }
    }

    /// A call due at `due` starts, unless `limit` calls are in flight
    /// already: then it fails at once, as the load generator's own, and
    /// `false` says not to start it. Past that many open sockets the load
    /// generator would run out of file descriptors, and fail in ways
    /// (reading /proc among them) that hide what it measures.
    pub fn start(&mut self, due: Instant) -> bool {
        if self.window.holds(due) {
            self.measured += 1;
        }
        if self.in_flight >= self.limit {
            let kind = format!("not started: {} in flight", self.limit);
            self.count_failure(due, kind);
            return false;
        }
        self.in_flight += 1;
        self.most_in_flight = self.most_in_flight.max(self.in_flight);
        true
    }

    /// The call due at `due` ended at `ended` with `outcome`.
    pub fn ended(&mut self, due: Instant, ended: Instant, outcome: Outcome) {
        self.in_flight = self.in_flight.saturating_sub(1);
        match outcome {
            Outcome::Done => {
                if self.window.holds(ended) {
                    self.done_in_window += 1;
                }
                if self.window.holds(due) {
                    let late = ended.saturating_duration_since(due).as_micros() as u64;
                    self.latency.saturating_record(late.max(1));
                }
            }
            Outcome::Failed(kind) => self.count_failure(due, kind),
        }
    }

    /// Counts a failure of the call due at `due`, if it is measured.
    fn count_failure(&mut self, due: Instant, kind: String) {
        if !self.window.holds(due) {
            return;
        }
        match self.failures.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, count)) => *count += 1,
            None => self.failures.push((kind, 1)),
        }
    }

    /// Measured calls that have not ended.
    pub fn unfinished(&self) -> u64 {
        let failed: u64 = self.failures.iter().map(|(_, n)| n).sum();
        self.measured.saturating_sub(self.latency.len() + failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(at: Instant) -> Window {
        Window {
            start: at + Duration::from_secs(2),
            end: at + Duration::from_secs(4),
        }
    }

    fn secs(epoch: Instant, s: f64) -> Instant {
        epoch + Duration::from_secs_f64(s)
    }

    #[test]
    fn latency_counts_from_the_scheduled_time_and_only_for_calls_scheduled_in_the_window() {
        let epoch = Instant::now();
        let mut tally = StepTally::new(window(epoch), 100);
        // Warm-up call, late into the window: counts towards the rate only.
        assert!(tally.start(secs(epoch, 1.9)));
        tally.ended(secs(epoch, 1.9), secs(epoch, 2.5), Outcome::Done);
        // Measured call that took 250 ms from its due time.
        assert!(tally.start(secs(epoch, 3.0)));
        tally.ended(secs(epoch, 3.0), secs(epoch, 3.25), Outcome::Done);
        // Measured call that ends after the window: latency, not rate.
        assert!(tally.start(secs(epoch, 3.9)));
        tally.ended(secs(epoch, 3.9), secs(epoch, 4.5), Outcome::Done);

        assert_eq!(tally.measured, 2);
        assert_eq!(tally.done_in_window, 2);
        assert_eq!(tally.latency.len(), 2);
        assert!((249_000..=251_000).contains(&tally.latency.min()));
        assert!((599_000..=601_000).contains(&tally.latency.max()));
        assert_eq!(tally.unfinished(), 0);
    }

    #[test]
    fn failures_are_counted_by_kind_and_the_rest_are_unfinished() {
        let epoch = Instant::now();
        let mut tally = StepTally::new(window(epoch), 100);
        for s in [2.1, 2.2, 2.3, 2.4, 2.5] {
            assert!(tally.start(secs(epoch, s)));
        }
        assert_eq!((tally.in_flight, tally.most_in_flight), (5, 5));
        let limited = || Outcome::Failed("429 rate_limited".into());
        tally.ended(secs(epoch, 2.1), secs(epoch, 2.2), limited());
        tally.ended(
            secs(epoch, 2.2),
            secs(epoch, 2.3),
            Outcome::Failed("connect".into()),
        );
        tally.ended(secs(epoch, 2.3), secs(epoch, 2.4), limited());
        // A warm-up call's failure is not the window's.
        assert!(tally.start(secs(epoch, 1.0)));
        tally.ended(secs(epoch, 1.0), secs(epoch, 2.5), limited());

        assert_eq!(
            tally.failures,
            vec![
                ("429 rate_limited".to_owned(), 2),
                ("connect".to_owned(), 1)
            ]
        );
        assert_eq!(tally.done_in_window, 0);
        assert_eq!(tally.unfinished(), 2);
        assert_eq!((tally.in_flight, tally.most_in_flight), (2, 5));
    }

    #[test]
    fn a_call_due_with_the_limit_in_flight_fails_without_starting() {
        let epoch = Instant::now();
        let mut tally = StepTally::new(window(epoch), 2);
        assert!(tally.start(secs(epoch, 2.1)));
        assert!(tally.start(secs(epoch, 2.2)));
        assert!(!tally.start(secs(epoch, 2.3)));
        // Beyond the limit in the warm-up: not started, not counted.
        assert!(!tally.start(secs(epoch, 1.0)));
        assert_eq!((tally.in_flight, tally.most_in_flight), (2, 2));
        tally.ended(secs(epoch, 2.1), secs(epoch, 2.4), Outcome::Done);
        assert!(tally.start(secs(epoch, 2.5)));

        assert_eq!(
            tally.failures,
            vec![("not started: 2 in flight".to_owned(), 1)]
        );
        assert_eq!(tally.measured, 4);
        assert_eq!(tally.unfinished(), 2);
    }
}

//! What receivers count, and how a step's counts are summed.
//!
//! Every message carries its step, its number and its intended send time
//! in its `client_msg_id`, so a receiver needs no shared table to know how
//! late a message is. Each receiver task has its own [`Tally`] behind its
//! own mutex: the load's hot path never contends.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

/// Width of the arrival-time buckets that rates are computed from.
pub const BUCKET: Duration = Duration::from_millis(100);

/// What one message's `client_msg_id` says about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tag {
    pub step: u32,
    /// Intended send time, microseconds after the run's epoch.
    pub intended_us: u64,
    /// Sent inside the measurement window (not warm-up).
    pub measured: bool,
}

impl Tag {
    pub fn encode(&self, number: u64) -> String {
        format!(
            "{}.{number}.{}.{}",
            self.step,
            self.intended_us,
            u8::from(self.measured)
        )
    }

    pub fn decode(id: &str) -> Option<Tag> {
        let mut parts = id.split('.');
        let step = parts.next()?.parse().ok()?;
        let _number: u64 = parts.next()?.parse().ok()?;
        let intended_us = parts.next()?.parse().ok()?;
        let measured = parts.next()? == "1";
        Some(Tag {
            step,
            intended_us,
            measured,
        })
    }
}

/// Counts of one receiver.
pub struct Tally {
    /// Latency from intended send to arrival, microseconds, of the current
    /// step's measured messages.
    pub latency: Histogram<u64>,
    /// Arrivals of the current step's messages, measured or not.
    pub step_arrivals: u64,
    /// All arrivals per [`BUCKET`] since the epoch, whatever their step.
    pub arrivals: Vec<u32>,
    /// `error` frames received, by code.
    pub errors: Vec<(String, u64)>,
}

impl Tally {
    pub fn new() -> Self {
        Tally {
            latency: new_histogram(),
            step_arrivals: 0,
            arrivals: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// Counts a message of `tag` arriving at `now`.
    pub fn arrived(&mut self, tag: Tag, current_step: u32, epoch: Instant, now: Instant) {
        let since = now.duration_since(epoch);
        let bucket = (since.as_micros() / BUCKET.as_micros()) as usize;
        if self.arrivals.len() <= bucket {
            self.arrivals.resize(bucket + 1, 0);
        }
        self.arrivals[bucket] += 1;
        if tag.step == current_step {
            self.step_arrivals += 1;
            if tag.measured {
                let late = (since.as_micros() as u64).saturating_sub(tag.intended_us);
                self.latency.saturating_record(late.max(1));
            }
        }
    }

    pub fn error(&mut self, code: &str) {
        match self.errors.iter_mut().find(|(c, _)| c == code) {
            Some((_, count)) => *count += 1,
            None => self.errors.push((code.to_owned(), 1)),
        }
    }

    /// Arrivals in buckets `[from, to)`.
    fn arrivals_between(&self, from: usize, to: usize) -> u64 {
        self.arrivals
            .iter()
            .skip(from)
            .take(to.saturating_sub(from))
            .map(|&n| u64::from(n))
            .sum()
    }
}

pub fn new_histogram() -> Histogram<u64> {
    // 1 µs to 10 minutes, 3 significant digits.
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("constant, valid histogram bounds")
}

pub type SharedTally = Arc<Mutex<Tally>>;

pub fn shared() -> SharedTally {
    Arc::new(Mutex::new(Tally::new()))
}

fn lock(tally: &SharedTally) -> std::sync::MutexGuard<'_, Tally> {
    tally
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The sum of several receivers' tallies for one step.
pub struct StepSum {
    pub latency: Histogram<u64>,
    pub step_arrivals: u64,
    pub window_arrivals: u64,
    pub errors: Vec<(String, u64)>,
}

/// Sums `tallies` for the window of buckets `[from, to)`.
pub fn sum(tallies: &[SharedTally], from: usize, to: usize) -> StepSum {
    let mut total = StepSum {
        latency: new_histogram(),
        step_arrivals: 0,
        window_arrivals: 0,
        errors: Vec::new(),
    };
    for tally in tallies {
        let tally = lock(tally);
        let _ = total.latency.add(&tally.latency);
        total.step_arrivals += tally.step_arrivals;
        total.window_arrivals += tally.arrivals_between(from, to);
        for (code, count) in &tally.errors {
            match total.errors.iter_mut().find(|(c, _)| c == code) {
                Some((_, n)) => *n += count,
                None => total.errors.push((code.clone(), *count)),
            }
        }
    }
    total
}

/// Arrivals of the current step so far, over all `tallies`.
pub fn step_arrivals(tallies: &[SharedTally]) -> u64 {
    tallies.iter().map(|t| lock(t).step_arrivals).sum()
}

/// Measured arrivals of the current step so far.
pub fn measured_arrivals(tallies: &[SharedTally]) -> u64 {
    tallies.iter().map(|t| lock(t).latency.len()).sum()
}

/// Clears the per-step counts before a new step.
pub fn reset_step(tallies: &[SharedTally]) {
    for tally in tallies {
        let mut tally = lock(tally);
        tally.latency.reset();
        tally.step_arrivals = 0;
        tally.errors.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_round_trip_through_client_msg_ids() {
        let tag = Tag {
            step: 3,
            intended_us: 1_234_567,
            measured: true,
        };
        let id = tag.encode(42);
        assert!(id.len() <= 64 && id.bytes().all(|b| b.is_ascii_graphic()));
        assert_eq!(Tag::decode(&id), Some(tag));
        assert_eq!(Tag::decode("not-a-tag"), None);
    }

    #[test]
    fn latency_counts_from_the_intended_time_and_only_for_the_current_step() {
        let epoch = Instant::now();
        let mut tally = Tally::new();
        let tag = Tag {
            step: 1,
            intended_us: 1_000,
            measured: true,
        };
        tally.arrived(tag, 1, epoch, epoch + Duration::from_millis(6));
        tally.arrived(
            Tag { step: 0, ..tag },
            1,
            epoch,
            epoch + Duration::from_millis(250),
        );
        assert_eq!(tally.latency.len(), 1);
        assert!((4_990..=5_010).contains(&tally.latency.max()));
        assert_eq!(tally.step_arrivals, 1);
        assert_eq!(tally.arrivals_between(0, 1), 1);
        assert_eq!(tally.arrivals_between(2, 3), 1);
    }
}

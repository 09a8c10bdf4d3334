//! Sends on time: one thread keeps a step's schedule.
//!
//! Tokio's timers fire on a one-millisecond wheel, so a task that sleeps
//! until a send time wakes up to a millisecond or two late, and that
//! lateness would be counted as the server's (it was: about 1 ms at the
//! median, 3 ms at p99). Instead one OS thread sleeps to each send time on
//! the kernel's high-resolution timer and hands each message, as it falls
//! due, to whoever sends it. Waking for every message costs CPU at high
//! rates (at 25,000 a second, about a tenth of a core taken from the
//! server being measured), so above [`BATCHED_ABOVE`] a second the thread wakes
//! at most every [`QUANTUM`] and hands over everything due by then: at
//! most that much late, where the timer wheel was up to four times as
//! late.

use std::time::{Duration, Instant};

/// Rate (messages a second) above which sends are batched per wake.
pub const BATCHED_ABOVE: f64 = 10_000.0;

/// Shortest time between two wakes when sends are batched.
pub const QUANTUM: Duration = Duration::from_micros(250);

/// Message `n` is due at `start + n / rate`, until `end`.
#[derive(Clone, Copy, Debug)]
pub struct Schedule {
    pub start: Instant,
    pub end: Instant,
    pub rate: f64,
    /// Shortest time between two wakes of the pacer.
    pub quantum: Duration,
}

impl Schedule {
    /// `rate` messages a second from `start` until `end`, batched above
    /// [`BATCHED_ABOVE`].
    pub fn new(start: Instant, end: Instant, rate: f64) -> Schedule {
        let quantum = if rate > BATCHED_ABOVE {
            QUANTUM
        } else {
            Duration::ZERO
        };
        Schedule {
            start,
            end,
            rate,
            quantum,
        }
    }

    /// When message `n` is due.
    pub fn due(&self, n: u64) -> Instant {
        self.start + Duration::from_secs_f64(n as f64 / self.rate)
    }
}

/// What the pacer does when a message is due.
pub trait Sender {
    /// Sends (or hands on) message `n`, due at `due`, now or a little
    /// earlier.
    fn send(&mut self, n: u64, due: Instant);
}

/// Runs `schedule` on a thread of its own, calling `sender` for each
/// message as it falls due. The thread ends with how much later than asked
/// it woke from each sleep, in microseconds: the scheduling delay any
/// thread on this machine meets under this load, the server's included.
pub fn start<S>(
    schedule: Schedule,
    mut sender: S,
) -> std::io::Result<std::thread::JoinHandle<hdrhistogram::Histogram<u64>>>
where
    S: Sender + Send + 'static,
{
    std::thread::Builder::new()
        .name("loadgen-pacer".into())
        .spawn(move || {
            let mut next_wake = schedule.start;
            let mut oversleep = crate::tally::new_histogram();
            for n in 0u64.. {
                let due = schedule.due(n);
                if due >= schedule.end {
                    break;
                }
                let now = Instant::now();
                if due > now {
                    let wake = due.max(next_wake);
                    std::thread::sleep(wake - now);
                    let woke = Instant::now();
                    oversleep.saturating_record((woke - wake).as_micros() as u64);
                    next_wake = woke + schedule.quantum;
                }
                sender.send(n, due);
            }
            oversleep
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::sync::{Arc, Mutex};

    /// Each message's number, due time and send time.
    type Sent = Arc<Mutex<Vec<(u64, Instant, Instant)>>>;

    struct Record(Sent);

    impl Sender for Record {
        fn send(&mut self, n: u64, due: Instant) {
            self.0.lock().unwrap().push((n, due, Instant::now()));
        }
    }

    #[test]
    fn each_message_is_sent_in_order_not_before_it_is_due() {
        let start = Instant::now();
        let schedule = Schedule::new(start, start + Duration::from_millis(10), 1000.0);
        let (sent, _) = start_and_wait(schedule);
        let numbers: Vec<u64> = sent.iter().map(|(n, _, _)| *n).collect();
        assert_eq!(numbers, (0..10).collect::<Vec<_>>());
        for (n, due, at) in sent {
            let asked = start + Duration::from_millis(n);
            assert!(due.max(asked) - due.min(asked) < Duration::from_micros(1));
            assert!(at >= due, "message {n} went out early");
        }
    }

    #[test]
    fn at_high_rates_each_wake_sends_everything_due_by_then() {
        let start = Instant::now();
        let window = Duration::from_millis(20);
        // A long quantum, so that sleeping for every message (which with
        // the thread's usual oversleep means some hundreds of sleeps) cannot
        // pass for batching.
        let quantum = Duration::from_millis(2);
        let schedule = Schedule {
            quantum,
            ..Schedule::new(start, start + window, 50_000.0)
        };
        let (sent, sleeps) = start_and_wait(schedule);
        assert_eq!(sent.len(), 1000);
        assert!(sent.iter().all(|(_, due, at)| at >= due));
        // One sleep a message would be a thousand; each sleep ends at
        // least a quantum after the last wake, however late the thread is.
        let most = (window.as_micros() / quantum.as_micros()) as u64 + 1;
        assert!(
            !sleeps.is_empty() && sleeps.len() <= most,
            "slept {} times for 1000 messages",
            sleeps.len()
        );
    }

    fn start_and_wait(
        schedule: Schedule,
    ) -> (Vec<(u64, Instant, Instant)>, hdrhistogram::Histogram<u64>) {
        let sent = Sent::default();
        let oversleep = start(schedule, Record(sent.clone()))
            .expect("the thread starts")
            .join()
            .expect("the pacer does not panic");
        let sent = sent.lock().unwrap().clone();
        (sent, oversleep)
    }
}

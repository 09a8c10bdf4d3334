//! Client frames, paced to the allowance the server announces.
//!
//! A server takes so many frames a second on a connection (`hello.limits`:
//! a sustained rate and a burst), refuses the rest unread with a
//! `rate_limited` error that names no frame, and closes a connection that
//! keeps overrunning with 1008, whose action is to stop. So the client
//! never overruns: a write past the allowance waits until the bucket has
//! refilled. After a reconnect the resubscribes and resends then go out
//! spread over time instead of being refused.
//!
//! The client keeps below the announced allowance (a tenth, by the
//! spec's client behaviour table): the server
//! counts frames as they arrive, and a frame delayed on the way arrives
//! closer to the next one than it was written; at exactly the allowance
//! that is enough for a refusal.
//!
//! The wait happens on the connection's task, so frames are not read while
//! it lasts; at the protocol's defaults (20 a second) a backlog of a
//! hundred frames holds reading for about three seconds, far inside the
//! heartbeat interval.

use std::time::{Duration, Instant};

use crate::generated::client_behaviour::PACING_MARGIN as MARGIN;
use crate::types::ConnectionLimits;

/// Typing and read frames that may wait for the pace at once; past it
/// [`Realtime::typing`](super::Realtime::typing) and
/// [`Realtime::mark_read`](super::Realtime::mark_read) fail with
/// [`Error::QueueFull`](crate::Error::QueueFull). From the client table,
/// as the TypeScript SDK's bound.
pub use crate::generated::client_behaviour::PACED_FRAMES;

/// A token bucket: `burst` frames at once, then `per_second`.
#[derive(Debug, Clone)]
pub(crate) struct Pacer {
    per_second: f64,
    burst: f64,
    tokens: f64,
    refilled_at: Instant,
}

/// The pace an application asked for, if any; it can only be lower than
/// the server's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pace {
    /// Frames a second, sustained.
    pub per_second: u32,
    /// Frames that may go at once.
    pub burst: u32,
}

impl Pacer {
    /// The server's allowance, lowered to `cap` where that is lower.
    pub fn new(limits: &ConnectionLimits, cap: Option<Pace>) -> Pacer {
        let mut per_second = limits.frames_per_second as f64;
        let mut burst = limits.frame_burst as f64;
        if let Some(cap) = cap {
            per_second = per_second.min(f64::from(cap.per_second));
            burst = burst.min(f64::from(cap.burst));
        }
        // A server announcing zero would otherwise stall every write.
        let per_second = (per_second * MARGIN).max(0.1);
        let burst = (burst * MARGIN).floor().max(1.0);
        Pacer {
            per_second,
            burst,
            tokens: burst,
            refilled_at: Instant::now(),
        }
    }

    /// How long the next frame must wait, counting it as sent.
    fn take(&mut self, now: Instant) -> Duration {
        let elapsed = now
            .saturating_duration_since(self.refilled_at)
            .as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.burst);
        self.refilled_at = now;
        self.tokens -= 1.0;
        if self.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.tokens / self.per_second)
        }
    }

    /// Waits until one more frame is within the allowance.
    pub async fn ready(&mut self) {
        let wait = self.take(Instant::now());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(per_second: u64, burst: u64) -> ConnectionLimits {
        ConnectionLimits {
            frames_per_second: per_second,
            frame_burst: burst,
            max_frame_bytes: 65_536,
            max_message_chars: 4_000,
            replay_cap: 1_000,
        }
    }

    /// When each of `n` frames written back to back may go, in seconds
    /// from the first.
    fn schedule(pacer: &mut Pacer, n: usize) -> Vec<f64> {
        let start = pacer.refilled_at;
        let mut now = start;
        (0..n)
            .map(|_| {
                now += pacer.take(now);
                (now - start).as_secs_f64()
            })
            .collect()
    }

    #[test]
    fn a_burst_goes_at_once_and_the_rest_at_the_rate() {
        // 90 % of 20 a second and a burst of 10.
        let mut pacer = Pacer::new(&limits(20, 10), None);
        let at = schedule(&mut pacer, 13);
        assert_eq!(&at[..9], &[0.0; 9], "the burst");
        for (i, t) in at[9..].iter().enumerate() {
            let expected = (i + 1) as f64 / 18.0;
            assert!((t - expected).abs() < 1e-6, "frame {} at {t}", i + 9);
        }
    }

    #[test]
    fn an_application_cap_only_lowers_the_pace() {
        let capped = Pacer::new(
            &limits(10, 4),
            Some(Pace {
                per_second: 2,
                burst: 100,
            }),
        );
        assert!((capped.per_second - 1.8).abs() < 1e-9);
        assert_eq!(capped.burst, 3.0);
    }

    #[test]
    fn an_idle_bucket_refills_up_to_the_burst_only() {
        let mut pacer = Pacer::new(&limits(10, 4), None);
        schedule(&mut pacer, 3);
        let later = pacer.refilled_at + Duration::from_secs(60);
        assert_eq!(pacer.take(later), Duration::ZERO);
        assert_eq!(pacer.take(later), Duration::ZERO);
        assert_eq!(pacer.take(later), Duration::ZERO);
        assert!(
            pacer.take(later) > Duration::ZERO,
            "three, not five hundred"
        );
    }
}

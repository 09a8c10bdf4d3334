//! Reconnect delays: exponential, with full jitter, between a floor and a
//! cap. Full jitter spreads the reconnects of many clients that lost the
//! same server at the same moment; the floor keeps a client that fails at
//! once from spinning.

use std::time::Duration;

/// Reconnect delays: before retry `n` (1, 2, ...), a random wait in
/// `[0, min(cap, base × 2^(n-1))]`, never less than `floor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The ceiling before the first retry; it doubles with each retry.
    pub base: Duration,
    /// The shortest wait, whatever the draw.
    pub floor: Duration,
    /// The highest ceiling; a connection that stayed up longer than this
    /// starts the count over.
    pub cap: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_millis(500),
            floor: Duration::from_millis(100),
            cap: Duration::from_secs(30),
        }
    }
}

impl Backoff {
    /// The wait before retry `retry` (1 for the first retry).
    pub fn delay(&self, retry: u32) -> Duration {
        self.delay_with(retry, rand::random::<f64>())
    }

    /// The wait for a jitter draw `unit` in `[0, 1)`.
    fn delay_with(&self, retry: u32, unit: f64) -> Duration {
        let doublings = retry.saturating_sub(1).min(31);
        let ceiling = self.base.saturating_mul(1u32 << doublings).min(self.cap);
        ceiling.mul_f64(unit.clamp(0.0, 1.0)).max(self.floor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ceiling_doubles_up_to_the_cap_and_the_floor_holds() {
        let backoff = Backoff::default();
        let almost_one = 0.999_999;
        let ceilings: Vec<u128> = (1..=8)
            .map(|n| backoff.delay_with(n, almost_one).as_millis())
            .collect();
        assert_eq!(ceilings, [499, 999, 1999, 3999, 7999, 15999, 29999, 29999]);
        assert_eq!(backoff.delay_with(1, 0.0), backoff.floor);
        assert_eq!(backoff.delay_with(u32::MAX, almost_one).as_millis(), 29999);
    }

    #[test]
    fn draws_stay_within_floor_and_ceiling() {
        let backoff = Backoff::default();
        for retry in 1..12 {
            for _ in 0..50 {
                let delay = backoff.delay(retry);
                assert!(delay >= backoff.floor && delay <= backoff.cap, "{delay:?}");
            }
        }
    }
}

//! Reconnect delays: exponential, with full jitter, between a floor and a
//! cap. Full jitter spreads the reconnects of many clients that lost the
//! same server at the same moment; the floor keeps a client that fails at
//! once from spinning. The defaults, and the rule that starts the count
//! over, come from the spec's client behaviour table.

use std::time::Duration;

use crate::generated::client_behaviour::{
    BackoffTable, FRAME_BACKOFF, RECONNECT_BACKOFF, RECONNECT_RESET_AFTER,
};

/// Reconnect delays: before retry `n` (1, 2, ...), a random wait in
/// `[0, min(cap, base × factor^(n-1))]`, never less than `floor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The ceiling before the first retry.
    pub base: Duration,
    /// How the ceiling grows with each retry.
    pub factor: u32,
    /// The shortest wait, whatever the draw.
    pub floor: Duration,
    /// The highest ceiling.
    pub cap: Duration,
    /// A connection that got its `hello` and stayed up this long starts
    /// the count over: short, so a link that drops every few seconds
    /// reconnects at once each time instead of climbing to the cap.
    pub reset_after: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::from_table(RECONNECT_BACKOFF)
    }
}

impl Backoff {
    pub(crate) fn from_table(table: BackoffTable) -> Backoff {
        Backoff {
            base: table.base,
            factor: table.factor,
            floor: table.floor,
            cap: table.cap,
            reset_after: RECONNECT_RESET_AFTER,
        }
    }

    /// The waits before a refused frame goes again.
    pub(crate) fn for_frames() -> Backoff {
        Backoff::from_table(FRAME_BACKOFF)
    }

    /// The wait before retry `retry` (1 for the first retry).
    pub fn delay(&self, retry: u32) -> Duration {
        self.delay_with(retry, rand::random::<f64>())
    }

    /// The wait for a jitter draw `unit` in `[0, 1)`.
    fn delay_with(&self, retry: u32, unit: f64) -> Duration {
        let growth = self
            .factor
            .max(1)
            .saturating_pow(retry.saturating_sub(1).min(31));
        let ceiling = self.base.saturating_mul(growth).min(self.cap);
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

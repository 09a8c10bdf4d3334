//! Durations that cannot be out of their option's range.
//!
//! A `Settings` built in code (tests, embedders) skips the command line,
//! so the range of a duration option lives in the type of its field: the
//! only way to get a [`BoundedDuration`] is [`BoundedDuration::new`] (or
//! `try_from`), which refuses a duration out of `MIN_MS..=MAX_MS`. The
//! aliases below take their bounds from the declared options.

use std::fmt;
use std::ops::Deref;
use std::time::Duration;

use super::declared::{
    AGENT_TOKEN_TTL_SECS, JWT_LEEWAY_SECS, PRESENCE_TTL_SECS, REFRESH_GRACE_SECS,
    SWEEP_INTERVAL_MS, WS_HEARTBEAT_SECS, WS_VIOLATION_WINDOW_SECS,
};

/// A duration of at least `MIN_MS` and at most `MAX_MS` milliseconds.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BoundedDuration<const MIN_MS: u64, const MAX_MS: u64>(Duration);

/// A duration outside the range its setting accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{given:?} is not within {min:?}..={max:?}")]
pub struct OutOfRange {
    pub given: Duration,
    pub min: Duration,
    pub max: Duration,
}

impl<const MIN_MS: u64, const MAX_MS: u64> BoundedDuration<MIN_MS, MAX_MS> {
    pub const MIN: Duration = Duration::from_millis(MIN_MS);
    pub const MAX: Duration = Duration::from_millis(MAX_MS);

    /// `duration`, if it is within the bounds.
    pub const fn new(duration: Duration) -> Result<Self, OutOfRange> {
        // `Duration`'s comparisons are not `const`; its parts are.
        let at_least_min = duration.as_millis() >= MIN_MS as u128;
        let at_most_max = duration.as_millis() < MAX_MS as u128
            || (duration.as_millis() == MAX_MS as u128
                && duration.subsec_nanos().is_multiple_of(1_000_000));
        if at_least_min && at_most_max {
            Ok(BoundedDuration(duration))
        } else {
            Err(OutOfRange {
                given: duration,
                min: Self::MIN,
                max: Self::MAX,
            })
        }
    }

    /// A constant within the bounds: one outside them does not compile.
    pub const fn constant(duration: Duration) -> Self {
        match Self::new(duration) {
            Ok(bounded) => bounded,
            Err(_) => panic!("a constant duration out of its bounds"),
        }
    }

    pub const fn get(self) -> Duration {
        self.0
    }
}

impl<const MIN_MS: u64, const MAX_MS: u64> TryFrom<Duration> for BoundedDuration<MIN_MS, MAX_MS> {
    type Error = OutOfRange;

    fn try_from(duration: Duration) -> Result<Self, Self::Error> {
        Self::new(duration)
    }
}

impl<const MIN_MS: u64, const MAX_MS: u64> Deref for BoundedDuration<MIN_MS, MAX_MS> {
    type Target = Duration;

    fn deref(&self) -> &Duration {
        &self.0
    }
}

/// Printed as the duration it holds, as the plain `Duration` was.
impl<const MIN_MS: u64, const MAX_MS: u64> fmt::Debug for BoundedDuration<MIN_MS, MAX_MS> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// `BYRD_SWEEP_INTERVAL_MS`.
pub type SweepInterval =
    BoundedDuration<{ SWEEP_INTERVAL_MS.floor_millis() }, { SWEEP_INTERVAL_MS.ceiling_millis() }>;
/// `BYRD_PRESENCE_TTL_SECS`.
pub type PresenceTtl =
    BoundedDuration<{ PRESENCE_TTL_SECS.floor_millis() }, { PRESENCE_TTL_SECS.ceiling_millis() }>;
/// `BYRD_JWT_LEEWAY_SECS`.
pub type Leeway =
    BoundedDuration<{ JWT_LEEWAY_SECS.floor_millis() }, { JWT_LEEWAY_SECS.ceiling_millis() }>;
/// `BYRD_AGENT_TOKEN_TTL_SECS`; the flag's floor of 30 seconds keeps
/// deployments from refreshing all the time, tests may go shorter.
pub type AgentTokenTtl = BoundedDuration<
    { AGENT_TOKEN_TTL_SECS.floor_millis() },
    { AGENT_TOKEN_TTL_SECS.ceiling_millis() },
>;
/// `BYRD_REFRESH_GRACE_SECS`.
pub type RefreshGrace =
    BoundedDuration<{ REFRESH_GRACE_SECS.floor_millis() }, { REFRESH_GRACE_SECS.ceiling_millis() }>;
/// `BYRD_WS_HEARTBEAT_SECS`.
pub type HeartbeatInterval =
    BoundedDuration<{ WS_HEARTBEAT_SECS.floor_millis() }, { WS_HEARTBEAT_SECS.ceiling_millis() }>;
/// `BYRD_WS_VIOLATION_WINDOW_SECS`.
pub type ViolationWindow = BoundedDuration<
    { WS_VIOLATION_WINDOW_SECS.floor_millis() },
    { WS_VIOLATION_WINDOW_SECS.ceiling_millis() },
>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_duration_out_of_its_options_range_cannot_be_held() {
        assert!(Leeway::try_from(Duration::from_secs(300)).is_ok());
        assert!(Leeway::try_from(Duration::from_millis(300_001)).is_err());
        assert!(Leeway::try_from(Duration::ZERO).is_ok());
        assert!(AgentTokenTtl::try_from(Duration::from_secs(901)).is_err());
        assert!(AgentTokenTtl::try_from(Duration::ZERO).is_err());
        assert!(HeartbeatInterval::try_from(Duration::ZERO).is_err());
        assert!(HeartbeatInterval::try_from(Duration::from_millis(150)).is_ok());
        assert!(SweepInterval::try_from(Duration::from_millis(99)).is_err());
        assert!(SweepInterval::try_from(Duration::from_millis(100)).is_ok());
        assert!(ViolationWindow::try_from(Duration::ZERO).is_err());
        assert!(PresenceTtl::try_from(Duration::ZERO).is_err());
        assert!(RefreshGrace::try_from(Duration::from_secs(301)).is_err());
    }

    #[test]
    fn a_fraction_of_a_millisecond_past_the_ceiling_is_refused() {
        assert!(Leeway::try_from(Duration::from_secs(300) + Duration::from_nanos(1)).is_err());
    }
}

//! Durations that cannot be out of their option's range.
//!
//! A `Settings` built in code (embedders, tests) skips the command line,
//! so the range of a duration option lives in the type of its field: a
//! [`Bounded<O>`] holds a duration within the range declared for option
//! `O` in `declared`, the same `min..=max` clap enforces on the flag, and
//! every way to get one checks it, refusing with an [`OutOfRange`] that
//! names the option.
//!
//! Tests that watch a token expire or a heartbeat lapse cannot wait
//! minutes, so [`Bounded::below_floor_for_tests`] lets them under a floor
//! (never to zero when the floor is above it, never over a ceiling).
//! Nothing a deployment sets leads to it: flags and variables go through
//! [`Bounded::new`].

use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;
use std::time::Duration;

use super::Setting;
use super::declared::{
    AGENT_TOKEN_TTL_SECS, JWT_LEEWAY_SECS, KEYRING_REFRESH_SECS, PRESENCE_TTL_SECS,
    REFRESH_GRACE_SECS, SWEEP_INTERVAL_MS, WS_HEARTBEAT_SECS, WS_VIOLATION_WINDOW_SECS,
};

/// A duration option, as a type: what a [`Bounded`] field is checked
/// against.
pub trait DurationOption {
    /// Its declaration; a number option counted in seconds or
    /// milliseconds.
    const SETTING: &'static Setting;
}

/// A duration within the declared range of option `O`.
pub struct Bounded<O>(Duration, PhantomData<O>);

/// A duration outside the range its option accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{setting}: {given:?} is not within {min:?}..={max:?}")]
pub struct OutOfRange {
    /// The option's environment variable, which its flag also names.
    pub setting: &'static str,
    pub given: Duration,
    pub min: Duration,
    pub max: Duration,
}

/// `a <= b`, in a `const fn`, where `Duration`'s comparisons are not
/// available.
const fn not_longer(a: Duration, b: Duration) -> bool {
    a.as_secs() < b.as_secs()
        || (a.as_secs() == b.as_secs() && a.subsec_nanos() <= b.subsec_nanos())
}

impl<O: DurationOption> Bounded<O> {
    /// The least duration the option accepts.
    pub const MIN: Duration = O::SETTING.min_duration();
    /// The most duration the option accepts.
    pub const MAX: Duration = O::SETTING.max_duration();

    /// `duration`, if it is within the option's declared range.
    pub const fn new(duration: Duration) -> Result<Self, OutOfRange> {
        if not_longer(Self::MIN, duration) && not_longer(duration, Self::MAX) {
            Ok(Bounded(duration, PhantomData))
        } else {
            Err(Self::out_of_range(duration))
        }
    }

    /// A constant within the range: one outside it does not compile.
    pub const fn constant(duration: Duration) -> Self {
        match Self::new(duration) {
            Ok(bounded) => bounded,
            Err(_) => panic!("a constant duration out of its option's range"),
        }
    }

    /// `duration`, even under the option's floor, for tests that cannot
    /// wait as long as a deployment must; still refused when zero (unless
    /// the floor is zero) or over the ceiling. Hidden from the docs: an
    /// embedder has no business under a floor.
    #[doc(hidden)]
    pub const fn below_floor_for_tests(duration: Duration) -> Result<Self, OutOfRange> {
        let zero_refused = duration.is_zero() && !Self::MIN.is_zero();
        if zero_refused || !not_longer(duration, Self::MAX) {
            return Err(Self::out_of_range(duration));
        }
        Ok(Bounded(duration, PhantomData))
    }

    const fn out_of_range(given: Duration) -> OutOfRange {
        OutOfRange {
            setting: O::SETTING.env,
            given,
            min: Self::MIN,
            max: Self::MAX,
        }
    }

    pub const fn get(self) -> Duration {
        self.0
    }
}

impl<O: DurationOption> TryFrom<Duration> for Bounded<O> {
    type Error = OutOfRange;

    fn try_from(duration: Duration) -> Result<Self, Self::Error> {
        Self::new(duration)
    }
}

impl<O> Deref for Bounded<O> {
    type Target = Duration;

    fn deref(&self) -> &Duration {
        &self.0
    }
}

// Written out rather than derived: a derive would ask the same of `O`,
// which is only a name.
impl<O> Clone for Bounded<O> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<O> Copy for Bounded<O> {}

impl<O> PartialEq for Bounded<O> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl<O> Eq for Bounded<O> {}

/// Printed as the duration it holds, as the plain `Duration` was.
impl<O> fmt::Debug for Bounded<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Declares, for each duration option, a name for it as a type and the
/// alias of the field type that holds its value.
macro_rules! duration_options {
    ($($(#[$doc:meta])* $alias:ident: $option:ident = $setting:ident;)*) => {$(
        #[doc = concat!("The option `", stringify!($setting), "`, as a type.")]
        #[derive(Debug)]
        pub enum $option {}

        impl DurationOption for $option {
            const SETTING: &'static Setting = &$setting;
        }

        $(#[$doc])*
        pub type $alias = Bounded<$option>;
    )*};
}

duration_options! {
    /// `BYRD_SWEEP_INTERVAL_MS`.
    SweepInterval: SweepIntervalOption = SWEEP_INTERVAL_MS;
    /// `BYRD_PRESENCE_TTL_SECS`.
    PresenceTtl: PresenceTtlOption = PRESENCE_TTL_SECS;
    /// `BYRD_JWT_LEEWAY_SECS`.
    Leeway: LeewayOption = JWT_LEEWAY_SECS;
    /// `BYRD_AGENT_TOKEN_TTL_SECS`; the floor of 30 seconds keeps
    /// deployments from refreshing all the time.
    AgentTokenTtl: AgentTokenTtlOption = AGENT_TOKEN_TTL_SECS;
    /// `BYRD_REFRESH_GRACE_SECS`.
    RefreshGrace: RefreshGraceOption = REFRESH_GRACE_SECS;
    /// `BYRD_WS_HEARTBEAT_SECS`.
    HeartbeatInterval: HeartbeatIntervalOption = WS_HEARTBEAT_SECS;
    /// `BYRD_WS_VIOLATION_WINDOW_SECS`.
    ViolationWindow: ViolationWindowOption = WS_VIOLATION_WINDOW_SECS;
    /// `BYRD_KEYRING_REFRESH_SECS`.
    KeyringRefresh: KeyringRefreshOption = KEYRING_REFRESH_SECS;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_duration_out_of_its_options_declared_range_cannot_be_held() {
        assert!(Leeway::try_from(Duration::from_secs(300)).is_ok());
        assert!(Leeway::try_from(Duration::from_millis(300_001)).is_err());
        assert!(Leeway::try_from(Duration::ZERO).is_ok());
        assert!(AgentTokenTtl::try_from(Duration::from_secs(901)).is_err());
        assert!(AgentTokenTtl::try_from(Duration::from_secs(30)).is_ok());
        assert!(SweepInterval::try_from(Duration::from_millis(99)).is_err());
        assert!(SweepInterval::try_from(Duration::from_millis(100)).is_ok());
        assert!(RefreshGrace::try_from(Duration::from_secs(301)).is_err());
    }

    #[test]
    fn a_floor_in_whole_seconds_holds_in_code_as_on_the_command_line() {
        assert!(AgentTokenTtl::try_from(Duration::from_secs(29)).is_err());
        assert!(AgentTokenTtl::try_from(Duration::from_millis(29_999)).is_err());
        assert!(HeartbeatInterval::try_from(Duration::from_millis(999)).is_err());
        assert!(HeartbeatInterval::try_from(Duration::from_secs(1)).is_ok());
        assert!(ViolationWindow::try_from(Duration::from_millis(999)).is_err());
        assert!(PresenceTtl::try_from(Duration::from_millis(999)).is_err());
        assert!(PresenceTtl::try_from(Duration::from_secs(1)).is_ok());
    }

    #[test]
    fn a_refusal_names_the_option_and_its_range() {
        let refused = AgentTokenTtl::try_from(Duration::from_secs(4)).unwrap_err();
        assert_eq!(
            refused,
            OutOfRange {
                setting: "BYRD_AGENT_TOKEN_TTL_SECS",
                given: Duration::from_secs(4),
                min: Duration::from_secs(30),
                max: Duration::from_secs(900),
            }
        );
        assert!(
            refused
                .to_string()
                .starts_with("BYRD_AGENT_TOKEN_TTL_SECS: 4s "),
            "{refused}"
        );
    }

    #[test]
    fn tests_may_go_under_a_floor_but_not_to_zero_or_over_a_ceiling() {
        let short = AgentTokenTtl::below_floor_for_tests(Duration::from_secs(2)).unwrap();
        assert_eq!(short.get(), Duration::from_secs(2));
        assert!(AgentTokenTtl::below_floor_for_tests(Duration::ZERO).is_err());
        assert!(AgentTokenTtl::below_floor_for_tests(Duration::from_secs(901)).is_err());
        assert!(HeartbeatInterval::below_floor_for_tests(Duration::from_millis(150)).is_ok());
        assert!(RefreshGrace::below_floor_for_tests(Duration::ZERO).is_ok());
    }

    #[test]
    fn a_fraction_of_a_millisecond_past_the_ceiling_is_refused() {
        assert!(Leeway::try_from(Duration::from_secs(300) + Duration::from_nanos(1)).is_err());
    }
}

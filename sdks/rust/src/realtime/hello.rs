//! What a connection runs with, read from its `hello`: the heartbeat, the
//! frame limit and the allowance the pacer keeps to.
//!
//! Every value is held to the range the client table gives it
//! (`pacing.hello_bounds` in `client.json`, the TypeScript SDK's too),
//! whatever a server sends: a zero heartbeat would ping without pause, a
//! zero allowance would hold every frame for ten seconds, a zero frame
//! limit would refuse every message, and the ceilings keep the arithmetic
//! on durations far from overflowing.

use std::time::Duration;

use crate::generated::client_behaviour::{
    HELLO_FRAME_BURST, HELLO_FRAMES_PER_SECOND, HELLO_HEARTBEAT_INTERVAL_MS, HELLO_MAX_FRAME_BYTES,
    HelloBound,
};
use crate::types::{ConnectionLimits, ServerHello};

/// `value` within `bound`.
fn within(value: u64, bound: HelloBound) -> u64 {
    value.clamp(bound.min, bound.max)
}

/// The limits of one connection, each within its range.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HelloLimits {
    /// How often the client pings; silence for twice as long is a dead socket.
    pub heartbeat: Duration,
    /// The allowance and frame limit, held to their ranges.
    pub limits: ConnectionLimits,
}

impl HelloLimits {
    pub fn of(hello: &ServerHello) -> HelloLimits {
        let announced = &hello.limits;
        HelloLimits {
            heartbeat: Duration::from_millis(within(
                hello.heartbeat_interval_ms,
                HELLO_HEARTBEAT_INTERVAL_MS,
            )),
            limits: ConnectionLimits {
                frames_per_second: within(announced.frames_per_second, HELLO_FRAMES_PER_SECOND),
                frame_burst: within(announced.frame_burst, HELLO_FRAME_BURST),
                max_frame_bytes: within(announced.max_frame_bytes, HELLO_MAX_FRAME_BYTES),
                ..announced.clone()
            },
        }
    }

    /// The frame limit, in bytes.
    pub fn max_frame_bytes(&self) -> usize {
        usize::try_from(self.limits.max_frame_bytes).unwrap_or(usize::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    fn hello(heartbeat_ms: u64, per_second: u64, burst: u64, frame_bytes: u64) -> ServerHello {
        serde_json::from_value(serde_json::json!({
            "protocol_version": "1.0.0",
            "connection_id": "00000000-0000-4000-8000-00000000000c",
            "principal": {"type": "agent", "id": "00000000-0000-4000-8000-00000000000a"},
            "heartbeat_interval_ms": heartbeat_ms,
            "token_expires_at": "2030-01-01T00:00:00Z",
            "limits": {
                "frames_per_second": per_second, "frame_burst": burst,
                "max_frame_bytes": frame_bytes, "max_message_chars": 4_000, "replay_cap": 1_000
            }
        }))
        .unwrap()
    }

    #[test]
    fn the_usual_hello_is_taken_as_it_is() {
        let usual = hello(25_000, 20, 40, 65_536);
        let limits = HelloLimits::of(&usual);
        assert_eq!(limits.heartbeat, Duration::from_secs(25));
        assert_eq!(limits.limits, usual.limits);
    }

    #[test]
    fn zeros_rise_to_their_floors() {
        let limits = HelloLimits::of(&hello(0, 0, 0, 0));
        assert_eq!(limits.heartbeat, Duration::from_millis(100));
        assert_eq!(
            (limits.limits.frames_per_second, limits.limits.frame_burst),
            (1, 1)
        );
        assert_eq!(limits.max_frame_bytes(), 128);
    }

    #[test]
    fn the_largest_values_fall_to_the_ceiling() {
        let limits = HelloLimits::of(&hello(u64::MAX, u64::MAX, u64::MAX, u64::MAX));
        let ceiling = 2_147_483_647;
        assert_eq!(limits.heartbeat, Duration::from_millis(ceiling));
        assert_eq!(limits.limits.frames_per_second, ceiling);
        assert_eq!(limits.limits.frame_burst, ceiling);
        assert_eq!(limits.max_frame_bytes(), 2_147_483_647);
    }
}

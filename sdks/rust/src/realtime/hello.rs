//! What a connection runs with, read from its `hello`: the heartbeat, the
//! frame limit and the allowance the pacer keeps to.
//!
//! Every value is held to a range whatever a server sends, the same ranges
//! as the TypeScript SDK's: a heartbeat from 100 ms (a zero interval would
//! ping without pause) to 2^31 - 1 ms (the longest timer a browser keeps);
//! at least one frame a second and in a burst (a zero allowance would hold
//! every frame for ten seconds); a frame limit an empty `send` fits in (a
//! zero limit would refuse every message). Each ceiling keeps the arithmetic
//! on durations far from overflowing.

use std::time::Duration;

use crate::types::{ConnectionLimits, ServerHello};

/// The ceiling of every `hello` value: 2^31 - 1.
const CEILING: u64 = (1 << 31) - 1;
/// The floor of the heartbeat interval, in ms.
const HEARTBEAT_FLOOR_MS: u64 = 100;
/// The smallest frame limit: about what an empty `send` takes.
const MIN_FRAME_BYTES: u64 = 128;

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
            heartbeat: Duration::from_millis(
                hello
                    .heartbeat_interval_ms
                    .clamp(HEARTBEAT_FLOOR_MS, CEILING),
            ),
            limits: ConnectionLimits {
                frames_per_second: announced.frames_per_second.clamp(1, CEILING),
                frame_burst: announced.frame_burst.clamp(1, CEILING),
                max_frame_bytes: announced.max_frame_bytes.clamp(MIN_FRAME_BYTES, CEILING),
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
        assert_eq!(limits.heartbeat, Duration::from_millis(CEILING));
        assert_eq!(limits.limits.frames_per_second, CEILING);
        assert_eq!(limits.limits.frame_burst, CEILING);
        assert_eq!(limits.max_frame_bytes(), 2_147_483_647);
    }
}

//! What one client may make the server do however fast it writes: a frame
//! rate with a burst, and a close (1008) for a client that keeps ignoring
//! `rate_limited`. Also the limits `hello` announces.

use std::num::NonZeroU32;
use std::sync::LazyLock;

use byrd_spec::error::ErrorCode;
use byrd_spec::ws::{CloseCode, ConnectionLimits};
use tokio::time::Instant;

use super::exit::{CommandError, Exit};
use crate::configuration::WsSettings;
use crate::error::ApiError;
use crate::metrics::{Limit, handles};

/// Client frames a connection may send at once: twice its per-second rate.
fn frame_burst(per_second: u32) -> NonZeroU32 {
    let rate = NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN);
    rate.saturating_mul(NonZeroU32::new(2).unwrap_or(NonZeroU32::MIN))
}

/// The limits `hello` announces: the ones this connection is held to.
pub(super) fn connection_limits(ws: &WsSettings) -> ConnectionLimits {
    ConnectionLimits {
        frames_per_second: ws.frames_per_second.max(1),
        frame_burst: frame_burst(ws.frames_per_second).get(),
        max_frame_bytes: ws.max_frame_bytes as u64,
        max_message_chars: ws.max_body_chars as u64,
        replay_cap: ws.replay_cap,
    }
}

/// The clock every connection's frame limiter reads. A limiter made with
/// `RateLimiter::direct` builds its own, and building one probes the CPU
/// (`cpuid`, a trap under virtualisation): about as much of a handshake's
/// cost as verifying its token. One shared clock costs it once.
static FRAME_CLOCK: LazyLock<governor::clock::DefaultClock> = LazyLock::new(Default::default);

/// One connection's frame rate and the refusals it earned.
pub(super) struct FrameLimits {
    /// Bounds what one client can make the server do (store messages,
    /// fan out typing) however fast it writes.
    limiter: governor::DefaultDirectRateLimiter,
    /// Frames refused for rate in the current window.
    violations: Violations,
}

impl FrameLimits {
    pub fn new(ws: &WsSettings) -> FrameLimits {
        let rate = NonZeroU32::new(ws.frames_per_second).unwrap_or(NonZeroU32::MIN);
        let quota =
            governor::Quota::per_second(rate).allow_burst(frame_burst(ws.frames_per_second));
        FrameLimits {
            limiter: governor::RateLimiter::direct_with_clock(quota, FRAME_CLOCK.clone()),
            violations: Violations::new(),
        }
    }

    /// Charges one frame: refused (`rate_limited`) past the rate, and the
    /// connection closed (1008) past `max_violations` refusals within
    /// `violation_window`.
    pub fn admit(&mut self, ws: &WsSettings) -> Result<(), CommandError> {
        if self.limiter.check().is_ok() {
            return Ok(());
        }
        handles().refused(Limit::WsFrames);
        if self.violations.count(Instant::now(), ws) {
            return Err(Exit::Close(CloseCode::PolicyViolation).into());
        }
        Err(ApiError::new(
            ErrorCode::RateLimited,
            "Too many frames; this one was not processed.",
        )
        .into())
    }
}

/// Counts frames refused for rate; more than `max_violations` within
/// `violation_window` (settings) closes the connection with 1008, so a
/// client that ignores `rate_limited` does not keep the server answering
/// it.
#[derive(Debug)]
struct Violations {
    window_start: Instant,
    count: u32,
}

impl Violations {
    fn new() -> Self {
        Violations {
            window_start: Instant::now(),
            count: 0,
        }
    }

    /// Counts one violation at `now`; true when it is one too many.
    fn count(&mut self, now: Instant, ws: &WsSettings) -> bool {
        if now.duration_since(self.window_start) > ws.violation_window.get() {
            self.window_start = now;
            self.count = 0;
        }
        self.count = self.count.saturating_add(1);
        self.count > ws.max_violations
    }
}

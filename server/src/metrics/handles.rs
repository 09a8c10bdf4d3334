//! The handles the hot paths record through, registered once.
//!
//! Looking a metric up by name hashes its name and labels; at 30,000
//! messages a second that is work for nothing. So every handle the
//! connection loop, the fan-out and the writers use is registered here
//! on first use, after the recorder is installed (a handle registered
//! before would record nowhere), and a per-frame label is an index into
//! a fixed array. Every label value is registered up front, so each
//! series starts at zero and `rate()` sees its first increase.

use std::sync::LazyLock;
use std::time::{Duration, Instant};

use byrd_spec::message::PartyType;
use byrd_spec::ws::ClientFrame;
use metrics::{Counter, Gauge, Histogram, counter, gauge, histogram};

use super::frames::{self, CloseLabel, ReceivedFrame};
use super::*;

/// What refused a request or a frame: the `limit` label of
/// `byrd_rate_limited_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Logins and refreshes per address.
    Login,
    /// History reads per principal.
    Read,
    /// Sends per principal.
    Send,
    /// Chat starts per address.
    ChatCreate,
    /// WebSockets per principal or per address.
    WsConnect,
    /// Client frames per second on one connection.
    WsFrames,
}

impl Limit {
    const ALL: [Limit; 6] = [
        Limit::Login,
        Limit::Read,
        Limit::Send,
        Limit::ChatCreate,
        Limit::WsConnect,
        Limit::WsFrames,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Limit::Login => "login",
            Limit::Read => "read",
            Limit::Send => "send",
            Limit::ChatCreate => "chat_create",
            Limit::WsConnect => "ws_connect",
            Limit::WsFrames => "ws_frames",
        }
    }
}

/// Every handle a hot path records through.
pub struct Handles {
    /// By principal: agents, then guests.
    connections: [Gauge; 2],
    /// By [`ReceivedFrame::index`].
    frames_received: Box<[Counter]>,
    /// By [`frames::sent_index`].
    frames_sent: Box<[Counter]>,
    /// By [`CloseLabel::index`].
    closes: Box<[Counter]>,
    messages_stored: Counter,
    batch_size: Histogram,
    commit_seconds: Histogram,
    delivery_latency: Histogram,
    /// By [`Limit::ALL`] order.
    rate_limited: Box<[Counter]>,
}

static HANDLES: LazyLock<Handles> = LazyLock::new(|| {
    install();
    Handles::register()
});

/// The handles, registered (and the recorder installed) on first use.
pub fn handles() -> &'static Handles {
    &HANDLES
}

impl Handles {
    fn register() -> Handles {
        let received = ClientFrame::TYPES
            .iter()
            .copied()
            .chain([frames::UNKNOWN, frames::INVALID]);
        Handles {
            connections: [
                gauge!(WS_CONNECTIONS, "principal" => "agent"),
                gauge!(WS_CONNECTIONS, "principal" => "guest"),
            ],
            frames_received: received
                .map(|kind| counter!(WS_FRAMES_RECEIVED, "type" => kind))
                .collect(),
            frames_sent: frames::SENT_LABELS
                .iter()
                .map(|kind| counter!(WS_FRAMES_SENT, "type" => *kind))
                .collect(),
            closes: frames::CLOSE_LABELS
                .iter()
                .map(|code| counter!(WS_CLOSES, "code" => *code))
                .collect(),
            messages_stored: counter!(MESSAGES_STORED),
            batch_size: histogram!(WRITER_BATCH_SIZE),
            commit_seconds: histogram!(WRITER_COMMIT_SECONDS),
            delivery_latency: histogram!(DELIVERY_LATENCY_SECONDS),
            rate_limited: Limit::ALL
                .iter()
                .map(|limit| counter!(RATE_LIMITED, "limit" => limit.label()))
                .collect(),
        }
    }

    pub fn frame_received(&self, frame: ReceivedFrame) {
        if let Some(counter) = self.frames_received.get(frame.index()) {
            counter.increment(1);
        }
    }

    /// Counts a frame written, by the `type` its rendering starts with.
    pub fn frame_sent(&self, rendered: &str) {
        if let Some(counter) = self.frames_sent.get(frames::sent_index(rendered)) {
            counter.increment(1);
        }
    }

    pub fn closed(&self, close: CloseLabel) {
        if let Some(counter) = self.closes.get(close.index()) {
            counter.increment(1);
        }
    }

    /// A writer committed `sends` sends (appends) in `took`; a commit of
    /// other writes only has no batch size.
    pub fn committed(&self, sends: usize, took: Duration) {
        if sends > 0 {
            self.batch_size.record(sends as f64);
        }
        self.commit_seconds.record(took.as_secs_f64());
    }

    /// Messages a commit stored.
    pub fn stored(&self, messages: usize) {
        self.messages_stored.increment(messages as u64);
    }

    /// A message that reached the store at `arrived` was handed to this
    /// node's subscribers just now.
    pub fn delivered(&self, arrived: Instant) {
        self.delivery_latency
            .record(arrived.elapsed().as_secs_f64());
    }

    pub fn refused(&self, limit: Limit) {
        let index = Limit::ALL.iter().position(|l| *l == limit);
        if let Some(counter) = index.and_then(|i| self.rate_limited.get(i)) {
            counter.increment(1);
        }
    }
}

/// One open WebSocket connection in `byrd_ws_connections`: counted up
/// when made, down when dropped, however the connection ends (a panic
/// included), so the gauge never drifts.
pub struct OpenConnection(&'static Gauge);

impl OpenConnection {
    pub fn new(principal: PartyType) -> OpenConnection {
        let [agents, guests] = &handles().connections;
        let gauge = match principal {
            PartyType::Agent => agents,
            PartyType::Guest => guests,
        };
        gauge.increment(1.0);
        OpenConnection(gauge)
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.decrement(1.0);
    }
}

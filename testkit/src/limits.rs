//! The limits every test server raises, declared once: high enough that
//! no suite's traffic from one loopback address is refused, while the
//! limits a test is about stay reachable by setting them (a test of the
//! per-address socket cap, say, sets that cap itself).

/// Raised limits, by setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub chat_starts_per_minute: u32,
    /// Open chats per client address: every suite starts its chats from
    /// one loopback address.
    pub open_chats_per_address: u32,
    pub logins_per_minute: u32,
    pub ws_frames_per_second: u32,
    pub sends_per_minute: u32,
    pub reads_per_minute: u32,
    pub sockets_per_principal: u32,
    pub failed_logins_per_account: u32,
    /// In process only: many tests log in at once on few cores.
    pub password_hashes_at_once: u32,
}

/// The one set of lifted limits.
pub const LIFTED: Limits = Limits {
    chat_starts_per_minute: 10_000,
    open_chats_per_address: 1_000_000,
    logins_per_minute: 10_000,
    ws_frames_per_second: 10_000,
    sends_per_minute: 100_000,
    reads_per_minute: 100_000,
    sockets_per_principal: 1_000,
    failed_logins_per_account: 1_000,
    password_hashes_at_once: 64,
};

impl Limits {
    /// The limits as the environment variables `byrd serve` reads; the
    /// password-hashing slots have none (a process gets one per core).
    pub fn env(&self) -> Vec<(&'static str, String)> {
        [
            ("BYRD_CHAT_STARTS_PER_MINUTE", self.chat_starts_per_minute),
            ("BYRD_OPEN_CHATS_PER_ADDRESS", self.open_chats_per_address),
            ("BYRD_LOGINS_PER_MINUTE", self.logins_per_minute),
            ("BYRD_WS_FRAMES_PER_SECOND", self.ws_frames_per_second),
            ("BYRD_SENDS_PER_MINUTE", self.sends_per_minute),
            ("BYRD_READS_PER_MINUTE", self.reads_per_minute),
            ("BYRD_SOCKETS_PER_PRINCIPAL", self.sockets_per_principal),
            (
                "BYRD_FAILED_LOGINS_PER_ACCOUNT",
                self.failed_logins_per_account,
            ),
        ]
        .into_iter()
        .map(|(name, value)| (name, value.to_string()))
        .collect()
    }
}

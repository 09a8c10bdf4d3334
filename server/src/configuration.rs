//! Server settings.
//!
//! The command line and environment (see `cli`) produce a [`Settings`];
//! tests build one directly. Secrets are `SecretString`s so that a stray
//! `{:?}` never prints them.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;

pub use crate::cluster::ClusterSettings;
pub use crate::store::StoreSettings;

/// Everything the server needs to start.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Address to bind; port 0 picks a free port.
    pub listen: SocketAddr,
    /// sqlx connection URL. May hold a password, hence secret.
    pub database_url: SecretString,
    /// Where the generated JWT key and first admin password live.
    pub data_dir: PathBuf,
    pub jwt: JwtSettings,
    pub limits: LimitSettings,
    pub ws: WsSettings,
    pub store: StoreSettings,
    /// The other nodes sharing the database, reached through Redis;
    /// `None` for a node that runs alone.
    pub cluster: Option<ClusterSettings>,
    /// First admin, created when the database has no agent yet.
    pub bootstrap_admin: BootstrapAdmin,
    /// Take the client address from `X-Forwarded-For`. Only safe behind
    /// a proxy that sets that header.
    pub trust_forwarded_for: bool,
    /// Which `X-Forwarded-For` entry, counted from the right, is the
    /// client's: 1 behind one proxy, 2 behind two. Entries further left
    /// were written by the client and are never used.
    pub forwarded_for_hops: usize,
}

/// Token signing and lifetimes.
#[derive(Debug, Clone)]
pub struct JwtSettings {
    /// The HS256 key exactly as given; `None` means a random key kept in
    /// the data folder.
    pub secret: Option<SecretString>,
    /// `kid` header of issued tokens; tokens with any other `kid` are refused.
    pub kid: String,
    pub issuer: String,
    pub audience: String,
    pub agent_token_ttl: Duration,
    pub guest_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    /// Clock skew allowed on `exp`, `nbf` and `iat`.
    pub leeway: Duration,
    /// How long after a refresh the spent refresh token may be presented
    /// again for the same successor (the answer was lost) instead of
    /// counting as a reuse.
    pub refresh_grace: Duration,
}

/// Request limits.
#[derive(Debug, Clone)]
pub struct LimitSettings {
    /// `POST /v1/chats` per client address per minute.
    pub chat_starts_per_minute: u32,
    /// `POST /v1/auth/login` and `/refresh` per client address per minute.
    pub logins_per_minute: u32,
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// Messages one principal may send per minute, REST and WebSocket
    /// together.
    pub sends_per_minute: u32,
    /// History reads (`GET .../messages`, `subscribe`) one principal may
    /// make per minute, REST and WebSocket together.
    pub reads_per_minute: u32,
    /// WebSockets one principal may hold open.
    pub sockets_per_principal: usize,
    /// WebSockets one client address (an IPv6 /64) may hold open.
    pub sockets_per_address: usize,
    /// Failed logins for one email within 15 minutes before its logins
    /// are refused until the 15 minutes end.
    pub failed_logins_per_account: u32,
    /// Password hashes computed at once; past it logins fail with 503.
    pub password_hashes_at_once: usize,
}

/// WebSocket and messaging limits.
#[derive(Debug, Clone)]
pub struct WsSettings {
    /// `Origin`s allowed to open a WebSocket; `None` allows any (for
    /// development). Requests without `Origin` (non-browser clients) pass.
    pub allowed_origins: Option<Vec<String>>,
    /// Most messages a `subscribe` replays before answering `recovered: false`.
    pub replay_cap: u32,
    /// How often the server pings; silence for twice this closes (4009).
    pub heartbeat_interval: Duration,
    /// Largest WebSocket frame or message accepted; larger closes with 1009.
    pub max_frame_bytes: usize,
    /// Longest message body, in characters.
    pub max_body_chars: usize,
    /// Frames queued for one connection before it counts as a slow consumer.
    /// Room for a commit's share of a busy chat load: the queue costs
    /// nothing until used.
    pub outbound_queue: usize,
    /// How long one write to a client may take before it is cut off.
    pub write_timeout: Duration,
    /// How long before token expiry `token_expiring` is sent.
    pub token_expiry_warning: Duration,
    /// Client frames one connection may send per second, with bursts of
    /// twice as many; past it frames are refused with `rate_limited`.
    pub frames_per_second: u32,
    /// Chats one connection may be subscribed to at once.
    pub max_subscriptions: usize,
    /// Sends one connection may have waiting for the store; past it the
    /// connection stops reading frames until one is answered.
    pub max_sends_in_flight: usize,
    /// Frames refused for rate within `violation_window` past which the
    /// connection is closed with 1008: a client that ignores
    /// `rate_limited` does not keep the server answering it.
    pub max_violations: u32,
    /// The window `max_violations` counts in.
    pub violation_window: Duration,
}

impl Default for WsSettings {
    fn default() -> Self {
        WsSettings {
            allowed_origins: None,
            replay_cap: 1000,
            heartbeat_interval: Duration::from_secs(25),
            max_frame_bytes: 64 * 1024,
            max_body_chars: 4000,
            outbound_queue: 1024,
            write_timeout: Duration::from_secs(10),
            token_expiry_warning: Duration::from_secs(60),
            frames_per_second: 20,
            max_subscriptions: 1000,
            max_sends_in_flight: 64,
            max_violations: 20,
            violation_window: Duration::from_secs(10),
        }
    }
}

/// How to create the first admin.
#[derive(Debug, Clone, Default)]
pub struct BootstrapAdmin {
    pub email: Option<String>,
    pub password: Option<SecretString>,
}

/// The smallest HS256 key the server accepts (RFC 7518, section 3.2).
pub const MIN_JWT_SECRET_BYTES: usize = 32;

impl Default for JwtSettings {
    fn default() -> Self {
        JwtSettings {
            secret: None,
            kid: "byrd-1".into(),
            issuer: "byrd".into(),
            audience: "byrd".into(),
            agent_token_ttl: Duration::from_secs(15 * 60),
            guest_token_ttl: Duration::from_secs(24 * 60 * 60),
            refresh_token_ttl: Duration::from_secs(30 * 24 * 60 * 60),
            leeway: Duration::from_secs(30),
            refresh_grace: Duration::from_secs(30),
        }
    }
}

impl Default for LimitSettings {
    fn default() -> Self {
        LimitSettings {
            chat_starts_per_minute: 10,
            logins_per_minute: 20,
            max_body_bytes: 64 * 1024,
            sends_per_minute: 120,
            reads_per_minute: 600,
            sockets_per_principal: 16,
            sockets_per_address: 1000,
            failed_logins_per_account: 10,
            password_hashes_at_once: std::thread::available_parallelism().map_or(2, |n| n.get()),
        }
    }
}

impl Settings {
    /// Defaults for a server whose data lives in `data_dir`.
    pub fn with_data_dir(data_dir: PathBuf) -> Self {
        let database_url = format!("sqlite://{}", data_dir.join("byrd.db").display());
        Settings {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: database_url.into(),
            data_dir,
            jwt: JwtSettings::default(),
            limits: LimitSettings::default(),
            ws: WsSettings::default(),
            store: StoreSettings::default(),
            cluster: None,
            bootstrap_admin: BootstrapAdmin::default(),
            trust_forwarded_for: false,
            forwarded_for_hops: 1,
        }
    }
}

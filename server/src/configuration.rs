//! Server settings.
//!
//! [`Settings::from_options`] turns the values of the declared options
//! (`crate::options`: from the command line and environment, see `cli`, or
//! their defaults) into a [`Settings`]; tests and embedders build one from
//! [`Settings::with_data_dir`] and change what they need. A setting with a
//! range holds a type that cannot be out of it (`options::bounded`), so
//! both ways get the range checks. Secrets are `SecretString`s so that a
//! stray `{:?}` never prints them.

use std::net::SocketAddr;
use std::num::{NonZeroU16, NonZeroUsize};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use secrecy::{SecretSlice, SecretString};

pub use crate::cluster::ClusterSettings;
use crate::options::bounded::{
    AgentTokenTtl, Bounded, DurationOption, HeartbeatInterval, KeyringRefresh, Leeway,
    RefreshGrace, ViolationWindow,
};
use crate::options::{self, Values};
pub use crate::store::{KeyAlgorithm, StoreSettings};

/// Everything the server needs to start.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Address to bind; port 0 picks a free port.
    pub listen: SocketAddr,
    /// A listener of its own for `/metrics`, which the main one then does
    /// not serve; `None` serves it on `listen`.
    pub metrics_listen: Option<SocketAddr>,
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
    pub forwarded_for_hops: NonZeroU16,
    /// The TOML file listing the backends whose tokens are trusted;
    /// `None` trusts Byrd's own tokens only.
    pub trusted_issuers_file: Option<PathBuf>,
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
    pub agent_token_ttl: AgentTokenTtl,
    pub guest_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    /// Clock skew allowed on `exp`, `nbf` and `iat`.
    pub leeway: Leeway,
    /// How long after a refresh the spent refresh token may be presented
    /// again for the same successor (the answer was lost) instead of
    /// counting as a reuse.
    pub refresh_grace: RefreshGrace,
    /// How tokens are signed: with the keyring's keys of this algorithm,
    /// or (`Hs256`) with the secret alone, as before the keyring.
    pub algorithm: KeyAlgorithm,
    /// The key the keyring's private parts are sealed under, when the
    /// deployment gives one; `None` derives it from the secret.
    pub keyring_key: Option<SecretSlice<u8>>,
    /// How often a node reloads the keyring; a rotated key signs two of
    /// these after it is published.
    pub keyring_refresh: KeyringRefresh,
}

impl JwtSettings {
    /// The longest any token Byrd issues lives, plus the leeway: how long
    /// a key must keep verifying after it last signed.
    pub fn verification_window(&self) -> Duration {
        self.agent_token_ttl.get().max(self.guest_token_ttl) + self.leeway.get()
    }
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
    /// Chats one client address (an IPv6 /64) may hold open; 0: no bound.
    pub open_chats_per_address: u32,
    /// How long an open chat no agent took may stay quiet before the
    /// server closes it; `None`: never.
    pub chat_idle_close: Option<Duration>,
    /// How long an anonymous visitor's continuity token stays valid after
    /// its last use; each chat start with it begins the time again.
    pub visitor_token_ttl: Duration,
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
    pub heartbeat_interval: HeartbeatInterval,
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
    pub max_sends_in_flight: NonZeroUsize,
    /// Frames refused for rate within `violation_window` past which the
    /// connection is closed with 1008: a client that ignores
    /// `rate_limited` does not keep the server answering it.
    pub max_violations: u32,
    /// The window `max_violations` counts in.
    pub violation_window: ViolationWindow,
    /// How long a WebSocket ticket (`POST /v1/ws/tickets`) opens a socket:
    /// long enough to connect, short enough that one seen in a log is
    /// already dead.
    pub ticket_ttl: Duration,
    /// Unspent tickets one principal may hold at once; past it asking for
    /// another is refused with `rate_limited`.
    pub max_unspent_tickets: u32,
}

/// How to create the first admin.
#[derive(Debug, Clone, Default)]
pub struct BootstrapAdmin {
    pub email: Option<String>,
    pub password: Option<SecretString>,
}

/// The smallest HS256 key the server accepts (RFC 7518, section 3.2).
pub const MIN_JWT_SECRET_BYTES: usize = 32;

impl Settings {
    /// Defaults for a server whose data lives in `data_dir`: every option's
    /// declared default, and the database in `data_dir`.
    pub fn with_data_dir(data_dir: PathBuf) -> Self {
        let mut settings = Settings::from_options(&Values::default())
            .unwrap_or_else(|error| unreachable!("the declared defaults are valid: {error:#}"));
        settings.database_url = default_database_url(&data_dir);
        settings.data_dir = data_dir;
        settings
    }

    /// The settings the option `values` give, every other option taking its
    /// default. Refuses a value out of its option's range. Options read
    /// from the environment only (secrets, the first admin) are not among
    /// the values: the caller reads them.
    pub fn from_options(values: &Values) -> anyhow::Result<Settings> {
        let data_dir = PathBuf::from(values.text(&options::DATA_DIR)?);
        let listen = values.text(&options::LISTEN)?;
        let cluster = match values.optional(&options::REDIS_URL) {
            Some(url) => Some(ClusterSettings {
                key: key_file(values, &options::CLUSTER_KEY_FILE)?,
                redis_ca_file: values.optional(&options::REDIS_CA_FILE).map(PathBuf::from),
                sweep_interval: bounded(values)?,
                presence_ttl: bounded(values)?,
                ..ClusterSettings::new(SecretString::from(url))
            }),
            None => {
                anyhow::ensure!(
                    values.optional(&options::REDIS_CA_FILE).is_none(),
                    "BYRD_REDIS_CA_FILE is set but BYRD_REDIS_URL is not: the CA would check nothing"
                );
                None
            }
        };
        let metrics_listen = match values.optional(&options::METRICS_LISTEN) {
            Some(address) => Some(address.parse().with_context(|| {
                format!("BYRD_METRICS_LISTEN: {address:?} is not an address and port")
            })?),
            None => None,
        };
        Ok(Settings {
            listen: listen
                .parse()
                .with_context(|| format!("BYRD_LISTEN: {listen:?} is not an address and port"))?,
            metrics_listen,
            database_url: values
                .optional(&options::DATABASE_URL)
                .map(SecretString::from)
                .unwrap_or_else(|| default_database_url(&data_dir)),
            data_dir,
            jwt: JwtSettings::from_options(values)?,
            limits: LimitSettings::from_options(values)?,
            ws: WsSettings::from_options(values)?,
            store: StoreSettings {
                busy_timeout: values.duration(&options::DATABASE_BUSY_TIMEOUT_MS)?,
                writers: number(values, &options::DATABASE_WRITERS)?,
                ..StoreSettings::default()
            },
            cluster,
            bootstrap_admin: BootstrapAdmin::default(),
            trust_forwarded_for: values.switch(&options::TRUST_X_FORWARDED_FOR),
            forwarded_for_hops: NonZeroU16::try_from(number::<u16>(
                values,
                &options::X_FORWARDED_FOR_HOPS,
            )?)
            .context("BYRD_X_FORWARDED_FOR_HOPS must be at least 1")?,
            trusted_issuers_file: values
                .optional(&options::TRUSTED_ISSUERS_FILE)
                .map(PathBuf::from),
        })
    }
}

impl JwtSettings {
    fn from_options(values: &Values) -> anyhow::Result<Self> {
        Ok(JwtSettings {
            secret: None,
            kid: values.text(&options::JWT_KID)?,
            issuer: values.text(&options::JWT_ISSUER)?,
            audience: values.text(&options::JWT_AUDIENCE)?,
            agent_token_ttl: bounded(values)?,
            guest_token_ttl: Duration::from_secs(24 * 60 * 60),
            refresh_token_ttl: Duration::from_secs(30 * 24 * 60 * 60),
            leeway: bounded(values)?,
            refresh_grace: bounded(values)?,
            algorithm: KeyAlgorithm::from_option(&values.text(&options::JWT_ALGORITHM)?)?,
            keyring_key: key_file(values, &options::KEYRING_KEY_FILE)?,
            keyring_refresh: bounded(values)?,
        })
    }
}

impl LimitSettings {
    fn from_options(values: &Values) -> anyhow::Result<Self> {
        Ok(LimitSettings {
            chat_starts_per_minute: number(values, &options::CHAT_STARTS_PER_MINUTE)?,
            logins_per_minute: number(values, &options::LOGINS_PER_MINUTE)?,
            max_body_bytes: 64 * 1024,
            sends_per_minute: number(values, &options::SENDS_PER_MINUTE)?,
            reads_per_minute: number(values, &options::READS_PER_MINUTE)?,
            sockets_per_principal: number(values, &options::SOCKETS_PER_PRINCIPAL)?,
            sockets_per_address: number(values, &options::SOCKETS_PER_ADDRESS)?,
            failed_logins_per_account: number(values, &options::FAILED_LOGINS_PER_ACCOUNT)?,
            password_hashes_at_once: std::thread::available_parallelism().map_or(2, |n| n.get()),
            open_chats_per_address: number(values, &options::OPEN_CHATS_PER_ADDRESS)?,
            chat_idle_close: Some(values.duration(&options::CHAT_IDLE_CLOSE_SECS)?)
                .filter(|idle| !idle.is_zero()),
            visitor_token_ttl: values.duration(&options::VISITOR_TOKEN_TTL_SECS)?,
        })
    }
}

impl WsSettings {
    fn from_options(values: &Values) -> anyhow::Result<Self> {
        Ok(WsSettings {
            allowed_origins: values.list(&options::WS_ALLOWED_ORIGINS),
            replay_cap: number(values, &options::WS_REPLAY_CAP)?,
            heartbeat_interval: bounded(values)?,
            max_frame_bytes: number(values, &options::WS_MAX_FRAME_BYTES)?,
            max_body_chars: number(values, &options::MAX_MESSAGE_CHARS)?,
            outbound_queue: 1024,
            write_timeout: Duration::from_secs(10),
            token_expiry_warning: Duration::from_secs(60),
            frames_per_second: number(values, &options::WS_FRAMES_PER_SECOND)?,
            max_subscriptions: number(values, &options::WS_MAX_SUBSCRIPTIONS)?,
            max_sends_in_flight: NonZeroUsize::try_from(number::<usize>(
                values,
                &options::WS_MAX_SENDS_IN_FLIGHT,
            )?)
            .context("BYRD_WS_MAX_SENDS_IN_FLIGHT must be at least 1")?,
            max_violations: number(values, &options::WS_MAX_VIOLATIONS)?,
            violation_window: bounded(values)?,
            ticket_ttl: Duration::from_secs(30),
            max_unspent_tickets: 20,
        })
    }
}

/// The database when none is given: `byrd.db` in the data folder.
pub fn default_database_url(data_dir: &std::path::Path) -> SecretString {
    SecretString::from(format!("sqlite://{}", data_dir.join("byrd.db").display()))
}

/// A number option's value in the type of its setting.
fn number<T: TryFrom<u64>>(values: &Values, setting: &options::Setting) -> anyhow::Result<T> {
    let number = values.number(setting)?;
    T::try_from(number).map_err(|_| anyhow::anyhow!("{}: {number} is too large", setting.env))
}

/// The key in the file option `setting` names (`--cluster-key-file`,
/// `--keyring-key-file`), if given: the file's bytes less one final
/// newline, which editors add. Its length is checked where the key is
/// made (`cluster::ClusterKey::given`, `auth::keyring::KeyringKey`).
pub fn key_file(
    values: &Values,
    setting: &options::Setting,
) -> anyhow::Result<Option<SecretSlice<u8>>> {
    let Some(path) = values.optional(setting) else {
        return Ok(None);
    };
    let flag = setting.flag.unwrap_or(setting.env);
    let mut key = std::fs::read(&path).with_context(|| format!("--{flag}: cannot read {path}"))?;
    if key.ends_with(b"\n") {
        key.pop();
        if key.ends_with(b"\r") {
            key.pop();
        }
    }
    Ok(Some(SecretSlice::from(key)))
}

/// A duration option's value in the ranged type of its setting.
fn bounded<O: DurationOption>(values: &Values) -> anyhow::Result<Bounded<O>> {
    Ok(Bounded::new(values.duration(O::SETTING)?)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_the_declared_ones() {
        let settings = Settings::with_data_dir(PathBuf::from("data"));
        assert_eq!(settings.listen, SocketAddr::from(([127, 0, 0, 1], 8080)));
        assert_eq!(settings.jwt.kid, "byrd-1");
        assert_eq!(settings.jwt.issuer, "byrd");
        assert_eq!(*settings.jwt.agent_token_ttl, Duration::from_secs(900));
        assert_eq!(*settings.jwt.leeway, Duration::from_secs(30));
        assert_eq!(*settings.jwt.refresh_grace, Duration::from_secs(30));
        assert_eq!(settings.limits.chat_starts_per_minute, 10);
        assert_eq!(settings.limits.open_chats_per_address, 10);
        assert_eq!(
            settings.limits.chat_idle_close,
            Some(Duration::from_secs(3600))
        );
        assert_eq!(settings.limits.logins_per_minute, 20);
        assert_eq!(settings.limits.sends_per_minute, 120);
        assert_eq!(settings.limits.reads_per_minute, 600);
        assert_eq!(settings.limits.sockets_per_principal, 16);
        assert_eq!(settings.limits.sockets_per_address, 1000);
        assert_eq!(settings.limits.failed_logins_per_account, 10);
        assert_eq!(settings.ws.max_subscriptions, 1000);
        assert_eq!(settings.ws.replay_cap, 1000);
        assert_eq!(*settings.ws.heartbeat_interval, Duration::from_secs(25));
        assert_eq!(settings.ws.max_frame_bytes, 65_536);
        assert_eq!(settings.ws.max_body_chars, 4000);
        assert_eq!(settings.ws.frames_per_second, 20);
        assert_eq!(settings.ws.max_sends_in_flight.get(), 64);
        assert_eq!(settings.ws.max_violations, 20);
        assert_eq!(*settings.ws.violation_window, Duration::from_secs(10));
        assert_eq!(settings.ws.allowed_origins, None);
        assert_eq!(settings.store.busy_timeout, Duration::from_secs(5));
        assert_eq!(settings.forwarded_for_hops.get(), 1);
        assert!(!settings.trust_forwarded_for);
        assert!(settings.cluster.is_none());
        let cluster = ClusterSettings::new(SecretString::from("redis://r/"));
        assert_eq!(cluster.redis_ca_file, None);
        assert_eq!(*cluster.sweep_interval, Duration::from_secs(2));
        assert_eq!(*cluster.presence_ttl, Duration::from_secs(15));
    }

    #[test]
    fn the_cluster_key_file_is_read_less_its_final_newline() {
        use secrecy::ExposeSecret;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cluster-key");
        std::fs::write(&path, b"k\n".repeat(20)).unwrap();
        let mut values = Values::default();
        values.set(&options::REDIS_URL, "redis://r/");
        values.set(&options::CLUSTER_KEY_FILE, path.to_str().unwrap());
        let settings = Settings::from_options(&values).unwrap();
        let key = settings.cluster.unwrap().key.unwrap();
        assert_eq!(key.expose_secret().len(), 39);
        values.set(&options::CLUSTER_KEY_FILE, "/nonexistent/cluster-key");
        assert!(Settings::from_options(&values).is_err());
    }

    #[test]
    fn given_values_replace_the_defaults_and_out_of_range_ones_are_refused() {
        let mut values = Values::default();
        values.set(&options::JWT_LEEWAY_SECS, "300");
        values.set(&options::REDIS_URL, "redis://r/");
        values.set(&options::REDIS_CA_FILE, "/etc/byrd/redis-ca.pem");
        values.set(&options::SWEEP_INTERVAL_MS, "100");
        values.set(
            &options::WS_ALLOWED_ORIGINS,
            " https://a.example , ,https://b.example",
        );
        values.set(&options::TRUST_X_FORWARDED_FOR, "true");
        let settings = Settings::from_options(&values).unwrap();
        assert_eq!(*settings.jwt.leeway, Duration::from_secs(300));
        let cluster = settings.cluster.unwrap();
        assert_eq!(*cluster.sweep_interval, Duration::from_millis(100));
        assert_eq!(
            cluster.redis_ca_file.as_deref(),
            Some(std::path::Path::new("/etc/byrd/redis-ca.pem"))
        );
        assert_eq!(
            settings.ws.allowed_origins.unwrap(),
            ["https://a.example", "https://b.example"]
        );
        assert!(settings.trust_forwarded_for);

        for (setting, value) in [
            (&options::JWT_LEEWAY_SECS, "301"),
            (&options::AGENT_TOKEN_TTL_SECS, "29"),
            (&options::WS_MAX_SENDS_IN_FLIGHT, "0"),
            (&options::X_FORWARDED_FOR_HOPS, "65536"),
            (&options::WS_HEARTBEAT_SECS, "0"),
            (&options::LISTEN, "not an address"),
            (&options::REDIS_CA_FILE, "/etc/byrd/redis-ca.pem"),
        ] {
            let mut values = Values::default();
            values.set(setting, value);
            assert!(
                Settings::from_options(&values).is_err(),
                "{} {value}",
                setting.env
            );
        }
    }

    #[test]
    fn sensitive_values_are_never_printed() {
        let mut values = Values::default();
        values.set(
            &options::DATABASE_URL,
            "postgres://byrd:db-password@db/byrd",
        );
        values.set(&options::JWT_KID, "kid-7");
        let printed = format!("{values:?}");
        assert!(!printed.contains("db-password"), "{printed}");
        assert!(printed.contains("kid-7"), "{printed}");
    }
}

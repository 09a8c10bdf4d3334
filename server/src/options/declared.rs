//! The options themselves, in the order the README lists them.

use super::{Kind, Setting, Unit};

/// Every option, in the order of `--help` and the README's table.
pub const OPTIONS: &[&Setting] = &[
    &LISTEN,
    &METRICS_LISTEN,
    &DATABASE_URL,
    &DATA_DIR,
    &JWT_ALGORITHM,
    &JWT_SECRET,
    &JWT_KID,
    &JWT_ISSUER,
    &JWT_AUDIENCE,
    &AGENT_TOKEN_TTL_SECS,
    &JWT_LEEWAY_SECS,
    &TRUSTED_ISSUERS_FILE,
    &ADMIN_EMAIL,
    &ADMIN_PASSWORD,
    &CHAT_STARTS_PER_MINUTE,
    &OPEN_CHATS_PER_ADDRESS,
    &CHAT_IDLE_CLOSE_SECS,
    &VISITOR_TOKEN_TTL_SECS,
    &LOGINS_PER_MINUTE,
    &TRUST_X_FORWARDED_FOR,
    &X_FORWARDED_FOR_HOPS,
    &SENDS_PER_MINUTE,
    &READS_PER_MINUTE,
    &SOCKETS_PER_PRINCIPAL,
    &SOCKETS_PER_ADDRESS,
    &FAILED_LOGINS_PER_ACCOUNT,
    &WS_MAX_SUBSCRIPTIONS,
    &DATABASE_BUSY_TIMEOUT_MS,
    &DATABASE_WRITERS,
    &WS_ALLOWED_ORIGINS,
    &WS_REPLAY_CAP,
    &WS_HEARTBEAT_SECS,
    &WS_MAX_FRAME_BYTES,
    &MAX_MESSAGE_CHARS,
    &WS_FRAMES_PER_SECOND,
    &WS_MAX_SENDS_IN_FLIGHT,
    &WS_MAX_VIOLATIONS,
    &WS_VIOLATION_WINDOW_SECS,
    &REFRESH_GRACE_SECS,
    &REDIS_URL,
    &REDIS_CA_FILE,
    &SWEEP_INTERVAL_MS,
    &PRESENCE_TTL_SECS,
    &CLUSTER_KEY,
    &CLUSTER_KEY_FILE,
    &KEYRING_KEY,
    &KEYRING_KEY_FILE,
    &KEYRING_REFRESH_SECS,
    &RUST_LOG,
    &LOG_FORMAT,
];

pub const LISTEN: Setting = Setting {
    flag: Some("listen"),
    env: "BYRD_LISTEN",
    kind: Kind::Text {
        default: "127.0.0.1:8080",
    },
    about: "Address and port to listen on.",
};

pub const METRICS_LISTEN: Setting = Setting {
    flag: Some("metrics-listen"),
    env: "BYRD_METRICS_LISTEN",
    kind: Kind::Optional {
        unset: "none: `/metrics` is served on `--listen`",
        sensitive: false,
    },
    about: "Address and port of a listener serving `/metrics` alone; when set, the main listener does not serve it. Keep either private: see [Metrics, dashboard and readiness](#metrics-dashboard-and-readiness).",
};

pub const DATABASE_URL: Setting = Setting {
    flag: Some("database-url"),
    env: "DATABASE_URL",
    kind: Kind::Optional {
        unset: "`sqlite://<data dir>/byrd.db`",
        sensitive: true,
    },
    about: "`sqlite://...` (one node) or `postgres://...` (one or [several nodes](#several-nodes)). The SQLite file is created on first start (WAL mode); migrations run on every start. For PostgreSQL over TLS, `?sslmode=verify-full` (and `SSL_CERT_FILE=<CA file>` to trust a private CA alone); see [TLS to PostgreSQL and Redis](#tls-to-postgresql-and-redis).",
};

pub const DATA_DIR: Setting = Setting {
    flag: Some("data-dir"),
    env: "BYRD_DATA_DIR",
    kind: Kind::Text {
        default: "byrd-data",
    },
    about: "Folder (created owner-only) for the default database, the generated signing key and the first admin's password.",
};

pub const JWT_ALGORITHM: Setting = Setting {
    flag: Some("jwt-algorithm"),
    env: "BYRD_JWT_ALGORITHM",
    kind: Kind::Text { default: "eddsa" },
    about: "How Byrd signs its tokens: `eddsa` (Ed25519) or `es256` (P-256) with keys from its keyring, kept in the database and rotated without logging anyone out (see [Signing keys and rotation](#signing-keys-and-rotation)); or `hs256`, the shared `BYRD_JWT_SECRET` as the only key, for deployments whose backend mints tokens with it.",
};

pub const JWT_SECRET: Setting = Setting {
    flag: None,
    env: "BYRD_JWT_SECRET",
    kind: Kind::EnvOnly {
        default: "generated",
    },
    about: "The HS256 signing key, used exactly as given (not decoded); at least 32 bytes, or the server refuses to start. When unset, a random key is generated on first start into `<data dir>/jwt-secret` with permissions 0600, and reused afterwards. Set it when a backend of yours mints agent tokens (see [the spec](spec/v1/README.md#minting-agent-tokens-from-your-own-backend)).",
};

pub const JWT_KID: Setting = Setting {
    flag: Some("jwt-kid"),
    env: "BYRD_JWT_KID",
    kind: Kind::Text { default: "byrd-1" },
    about: "`kid` header of issued tokens; presented tokens must carry the same.",
};

pub const JWT_ISSUER: Setting = Setting {
    flag: Some("jwt-issuer"),
    env: "BYRD_JWT_ISSUER",
    kind: Kind::Text { default: "byrd" },
    about: "`iss` claim of issued tokens, required on presented ones.",
};

pub const JWT_AUDIENCE: Setting = Setting {
    flag: Some("jwt-audience"),
    env: "BYRD_JWT_AUDIENCE",
    kind: Kind::Text { default: "byrd" },
    about: "`aud` claim of issued tokens, required on presented ones.",
};

pub const AGENT_TOKEN_TTL_SECS: Setting = Setting {
    flag: Some("agent-token-ttl-secs"),
    env: "BYRD_AGENT_TOKEN_TTL_SECS",
    kind: Kind::Number {
        default: 900,
        min: 30,
        max: 900,
        unit: Unit::Seconds,
    },
    about: "Seconds an agent access token lives, 30 to 900. Shorter lives end a revoked session's last token sooner, at the cost of more refreshes (clients refresh halfway through a short life; the console does it unseen). Agent tokens minted by your backend may live no longer. Give every node the same value.",
};

pub const JWT_LEEWAY_SECS: Setting = Setting {
    flag: Some("jwt-leeway-secs"),
    env: "BYRD_JWT_LEEWAY_SECS",
    kind: Kind::Number {
        default: 30,
        min: 0,
        max: 300,
        unit: Unit::Seconds,
    },
    about: "Clock skew allowed on `exp`, `nbf` and `iat`, 0 to 300 seconds. A WebSocket closes with 4001 at its token's `exp` plus this.",
};

pub const TRUSTED_ISSUERS_FILE: Setting = Setting {
    flag: Some("trusted-issuers-file"),
    env: "BYRD_TRUSTED_ISSUERS_FILE",
    kind: Kind::Optional {
        unset: "none: only Byrd's own tokens",
        sensitive: false,
    },
    about: "TOML file of the backends trusted to mint agent tokens and visitor identity tokens with keys of their own (public keys in a file or a JWKS URL); a mistake in it stops the start. See [Trusted issuers](#trusted-issuers).",
};

pub const ADMIN_EMAIL: Setting = Setting {
    flag: None,
    env: "BYRD_ADMIN_EMAIL",
    kind: Kind::EnvOnly {
        default: "`admin@byrd.localhost`",
    },
    about: "Email of the first admin, created only when the database has no agent yet.",
};

pub const ADMIN_PASSWORD: Setting = Setting {
    flag: None,
    env: "BYRD_ADMIN_PASSWORD",
    kind: Kind::EnvOnly {
        default: "generated",
    },
    about: "Password of that first admin (12 to 1024 characters; needs `BYRD_ADMIN_EMAIL`). When unset, a random one is written to `<data dir>/initial-admin-password` (0600): keep it somewhere safe, then delete the file.",
};

pub const CHAT_STARTS_PER_MINUTE: Setting = Setting {
    flag: Some("chat-starts-per-minute"),
    env: "BYRD_CHAT_STARTS_PER_MINUTE",
    kind: Kind::Number {
        default: 10,
        min: 0,
        max: u32::MAX as u64,
        unit: Unit::Count,
    },
    about: "Chats one client address may start per minute (`POST /v1/chats`).",
};

/// Ten: a household or a small office behind one NAT can hold several
/// chats at once, while a spammer rotating chats from one address (or one
/// IPv6 /64) fills ten places of the queue instead of hundreds. Carrier
/// NATs that put many visitors behind one IPv4 address are the cost; an
/// operator who sees them raises it.
pub const OPEN_CHATS_PER_ADDRESS: Setting = Setting {
    flag: Some("open-chats-per-address"),
    env: "BYRD_OPEN_CHATS_PER_ADDRESS",
    kind: Kind::Number {
        default: 10,
        min: 0,
        max: u32::MAX as u64,
        unit: Unit::Count,
    },
    about: "Chats one client address (an IPv6 /64) may hold open (not closed) at once; past it `POST /v1/chats` answers 429 `too_many_open_chats`. 0: no bound.",
};

/// An hour: a visitor whose question waits out a busy hour is not dropped
/// (and any message they write starts the hour again), while abandoned and
/// spam chats leave the queue within the working hour they came in.
pub const CHAT_IDLE_CLOSE_SECS: Setting = Setting {
    flag: Some("chat-idle-close-secs"),
    env: "BYRD_CHAT_IDLE_CLOSE_SECS",
    kind: Kind::Number {
        default: 3600,
        min: 0,
        max: 10 * 365 * 24 * 60 * 60,
        unit: Unit::Seconds,
    },
    about: "Seconds an open chat no agent took may go without a message before the server closes it (`close_reason: idle`). 0: never.",
};

pub const VISITOR_TOKEN_TTL_SECS: Setting = Setting {
    flag: Some("visitor-token-ttl-secs"),
    env: "BYRD_VISITOR_TOKEN_TTL_SECS",
    kind: Kind::Number {
        default: 180 * 24 * 60 * 60,
        min: 60,
        max: 10 * 365 * 24 * 60 * 60,
        unit: Unit::Seconds,
    },
    about: "Seconds an anonymous visitor's `visitor_token` stays valid after its last use (default 180 days); each chat start with it begins the time again, and an expired one is forgotten (the visitor and their chats stay).",
};

pub const LOGINS_PER_MINUTE: Setting = Setting {
    flag: Some("logins-per-minute"),
    env: "BYRD_LOGINS_PER_MINUTE",
    kind: Kind::Number {
        default: 20,
        min: 0,
        max: u32::MAX as u64,
        unit: Unit::Count,
    },
    about: "Logins and refreshes one client address may make per minute.",
};

pub const TRUST_X_FORWARDED_FOR: Setting = Setting {
    flag: Some("trust-x-forwarded-for"),
    env: "BYRD_TRUST_X_FORWARDED_FOR",
    kind: Kind::Switch,
    about: "Take the client address from `X-Forwarded-For` (`BYRD_TRUST_X_FORWARDED_FOR=true`). Only behind a reverse proxy that sets that header; otherwise clients could pick their own address and dodge the rate limits.",
};

pub const X_FORWARDED_FOR_HOPS: Setting = Setting {
    flag: Some("x-forwarded-for-hops"),
    env: "BYRD_X_FORWARDED_FOR_HOPS",
    kind: Kind::Number {
        default: 1,
        min: 1,
        max: u16::MAX as u64,
        unit: Unit::Count,
    },
    about: "Which `X-Forwarded-For` entry, from the right, is the client's: the number of proxies in front of Byrd. An entry that does not parse means the peer address is used.",
};

pub const SENDS_PER_MINUTE: Setting = Setting {
    flag: Some("sends-per-minute"),
    env: "BYRD_SENDS_PER_MINUTE",
    kind: Kind::Number {
        default: 120,
        min: 0,
        max: u32::MAX as u64,
        unit: Unit::Count,
    },
    about: "Messages one principal may send per minute, REST and WebSocket together.",
};

pub const READS_PER_MINUTE: Setting = Setting {
    flag: Some("reads-per-minute"),
    env: "BYRD_READS_PER_MINUTE",
    kind: Kind::Number {
        default: 600,
        min: 0,
        max: u32::MAX as u64,
        unit: Unit::Count,
    },
    about: "History pages and `subscribe`s one principal may make per minute.",
};

pub const SOCKETS_PER_PRINCIPAL: Setting = Setting {
    flag: Some("sockets-per-principal"),
    env: "BYRD_SOCKETS_PER_PRINCIPAL",
    kind: Kind::Number {
        default: 16,
        min: 0,
        max: usize::MAX as u64,
        unit: Unit::Count,
    },
    about: "WebSockets one principal may hold open.",
};

pub const SOCKETS_PER_ADDRESS: Setting = Setting {
    flag: Some("sockets-per-address"),
    env: "BYRD_SOCKETS_PER_ADDRESS",
    kind: Kind::Number {
        default: 1000,
        min: 0,
        max: usize::MAX as u64,
        unit: Unit::Count,
    },
    about: "WebSockets one client address (an IPv6 /64) may hold open.",
};

pub const FAILED_LOGINS_PER_ACCOUNT: Setting = Setting {
    flag: Some("failed-logins-per-account"),
    env: "BYRD_FAILED_LOGINS_PER_ACCOUNT",
    kind: Kind::Number {
        default: 10,
        min: 0,
        max: u32::MAX as u64,
        unit: Unit::Count,
    },
    about: "Failed logins for one email within 15 minutes before its logins are refused until the 15 minutes end.",
};

pub const WS_MAX_SUBSCRIPTIONS: Setting = Setting {
    flag: Some("ws-max-subscriptions"),
    env: "BYRD_WS_MAX_SUBSCRIPTIONS",
    kind: Kind::Number {
        default: 1000,
        min: 0,
        max: usize::MAX as u64,
        unit: Unit::Count,
    },
    about: "Chats one WebSocket may follow at once.",
};

pub const DATABASE_BUSY_TIMEOUT_MS: Setting = Setting {
    flag: Some("database-busy-timeout-ms"),
    env: "BYRD_DATABASE_BUSY_TIMEOUT_MS",
    kind: Kind::Number {
        default: 5000,
        min: 0,
        max: u64::MAX,
        unit: Unit::Milliseconds,
    },
    about: "How long a write may wait for the database before it is refused with `503 unavailable`.",
};

pub const DATABASE_WRITERS: Setting = Setting {
    flag: Some("database-writers"),
    env: "BYRD_DATABASE_WRITERS",
    kind: Kind::Number {
        default: 2,
        min: 1,
        max: 64,
        unit: Unit::Count,
    },
    about: "PostgreSQL only: writers appending messages on each node, each on a database connection of its own. A chat's messages always go through the same writer, so they are stored in the order they were sent; other chats' commit beside them. A database across a network, where each round trip costs more, may want more. SQLite has one writer.",
};

pub const WS_ALLOWED_ORIGINS: Setting = Setting {
    flag: Some("ws-allowed-origins"),
    env: "BYRD_WS_ALLOWED_ORIGINS",
    kind: Kind::List {
        unset: "any origin",
    },
    about: "Comma-separated `Origin`s allowed to open a WebSocket and to call the API from a browser (CORS) (e.g. `https://example.com`); others are refused with `403`. The server's own origin (an `Origin` whose host and port are the request's `Host`, as for the console it serves) is always allowed to open a WebSocket, so it needs no listing; a reverse proxy in front must pass `Host` on. Requests without `Origin` (non-browser clients) are not checked. Unset allows any origin, which suits development only: set it in production.",
};

pub const WS_REPLAY_CAP: Setting = Setting {
    flag: Some("ws-replay-cap"),
    env: "BYRD_WS_REPLAY_CAP",
    kind: Kind::Number {
        default: 1000,
        min: 0,
        max: u32::MAX as u64,
        unit: Unit::Count,
    },
    about: "Most messages one WebSocket `subscribe` replays; past it the client pages the history over REST.",
};

pub const WS_HEARTBEAT_SECS: Setting = Setting {
    flag: Some("ws-heartbeat-secs"),
    env: "BYRD_WS_HEARTBEAT_SECS",
    kind: Kind::Number {
        default: 25,
        min: 1,
        max: u64::MAX,
        unit: Unit::Seconds,
    },
    about: "Seconds between the server's WebSocket pings (at least 1); a client silent for twice as long is disconnected (close code 4009).",
};

pub const WS_MAX_FRAME_BYTES: Setting = Setting {
    flag: Some("ws-max-frame-bytes"),
    env: "BYRD_WS_MAX_FRAME_BYTES",
    kind: Kind::Number {
        default: 64 * 1024,
        min: 0,
        max: usize::MAX as u64,
        unit: Unit::Count,
    },
    about: "Largest WebSocket frame or message accepted, in bytes; a larger one closes the connection (close code 1009).",
};

pub const MAX_MESSAGE_CHARS: Setting = Setting {
    flag: Some("max-message-chars"),
    env: "BYRD_MAX_MESSAGE_CHARS",
    kind: Kind::Number {
        default: 4000,
        min: 0,
        max: usize::MAX as u64,
        unit: Unit::Count,
    },
    about: "Longest chat message body, in characters, over the WebSocket and REST alike.",
};

pub const WS_FRAMES_PER_SECOND: Setting = Setting {
    flag: Some("ws-frames-per-second"),
    env: "BYRD_WS_FRAMES_PER_SECOND",
    kind: Kind::Number {
        default: 20,
        min: 0,
        max: u32::MAX as u64,
        unit: Unit::Count,
    },
    about: "Client frames one WebSocket may send per second (bursts of twice as many); past it a frame is refused with `rate_limited`.",
};

pub const WS_MAX_SENDS_IN_FLIGHT: Setting = Setting {
    flag: Some("ws-max-sends-in-flight"),
    env: "BYRD_WS_MAX_SENDS_IN_FLIGHT",
    kind: Kind::Number {
        default: 64,
        min: 1,
        max: u32::MAX as u64,
        unit: Unit::Count,
    },
    about: "`send`s one WebSocket may have waiting for the database (at least 1); past it the server stops reading that socket until one is acked.",
};

pub const WS_MAX_VIOLATIONS: Setting = Setting {
    flag: Some("ws-max-violations"),
    env: "BYRD_WS_MAX_VIOLATIONS",
    kind: Kind::Number {
        default: 20,
        min: 0,
        max: u32::MAX as u64,
        unit: Unit::Count,
    },
    about: "Frames refused with `rate_limited` within the violation window past which the WebSocket is closed with 1008.",
};

pub const WS_VIOLATION_WINDOW_SECS: Setting = Setting {
    flag: Some("ws-violation-window-secs"),
    env: "BYRD_WS_VIOLATION_WINDOW_SECS",
    kind: Kind::Number {
        default: 10,
        min: 1,
        max: u64::MAX,
        unit: Unit::Seconds,
    },
    about: "The window, in seconds (at least 1), in which those refusals are counted.",
};

pub const REFRESH_GRACE_SECS: Setting = Setting {
    flag: Some("refresh-grace-secs"),
    env: "BYRD_REFRESH_GRACE_SECS",
    kind: Kind::Number {
        default: 30,
        min: 0,
        max: 300,
        unit: Unit::Seconds,
    },
    about: "Seconds (0 to 300) after a refresh in which the spent refresh token, presented again, gets the same new pair (its answer was lost) instead of revoking the session as a reuse; 0 turns this off.",
};

pub const REDIS_URL: Setting = Setting {
    flag: Some("redis-url"),
    env: "BYRD_REDIS_URL",
    kind: Kind::Optional {
        unset: "none",
        sensitive: true,
    },
    about: "Redis through which nodes sharing a PostgreSQL database pass live events (`redis://[:password@]host:port/`, or `rediss://...` for TLS); see [Several nodes](#several-nodes).",
};

pub const REDIS_CA_FILE: Setting = Setting {
    flag: Some("redis-ca-file"),
    env: "BYRD_REDIS_CA_FILE",
    kind: Kind::Optional {
        unset: "the public roots",
        sensitive: false,
    },
    about: "PEM file of the CA certificates a `rediss://` Redis's certificate must chain to, instead of the public roots; needs a `rediss://` URL. See [TLS to PostgreSQL and Redis](#tls-to-postgresql-and-redis).",
};

pub const SWEEP_INTERVAL_MS: Setting = Setting {
    flag: Some("sweep-interval-ms"),
    env: "BYRD_SWEEP_INTERVAL_MS",
    kind: Kind::Number {
        default: 2000,
        min: 100,
        max: u64::MAX,
        unit: Unit::Milliseconds,
    },
    about: "How often a node of several compares the chats it serves with the database and delivers what no event announced (at least 100).",
};

pub const PRESENCE_TTL_SECS: Setting = Setting {
    flag: Some("presence-ttl-secs"),
    env: "BYRD_PRESENCE_TTL_SECS",
    kind: Kind::Number {
        default: 15,
        min: 1,
        max: u64::MAX,
        unit: Unit::Seconds,
    },
    about: "How long an agent stays online for the other nodes after its node stops renewing it (the node died).",
};

pub const CLUSTER_KEY: Setting = Setting {
    flag: None,
    env: "BYRD_CLUSTER_KEY",
    kind: Kind::EnvOnly { default: "derived" },
    about: "The key every node seals and checks the events on Redis with, used exactly as given; at least 32 bytes, the same on every node. When unset (and no `--cluster-key-file`), it is derived from the signing key. See [Several nodes](#several-nodes).",
};

pub const CLUSTER_KEY_FILE: Setting = Setting {
    flag: Some("cluster-key-file"),
    env: "BYRD_CLUSTER_KEY_FILE",
    kind: Kind::Optional {
        unset: "none",
        sensitive: false,
    },
    about: "A file holding the cluster key instead of `BYRD_CLUSTER_KEY` (its bytes, less one final newline).",
};

pub const KEYRING_KEY: Setting = Setting {
    flag: None,
    env: "BYRD_KEYRING_KEY",
    kind: Kind::EnvOnly { default: "derived" },
    about: "The key the keyring's private keys are encrypted under in the database; at least 32 bytes, the same on every node. When unset (and no `--keyring-key-file`), it is derived from `BYRD_JWT_SECRET` (or the generated key).",
};

pub const KEYRING_KEY_FILE: Setting = Setting {
    flag: Some("keyring-key-file"),
    env: "BYRD_KEYRING_KEY_FILE",
    kind: Kind::Optional {
        unset: "none",
        sensitive: false,
    },
    about: "A file holding the keyring key instead of `BYRD_KEYRING_KEY` (its bytes, less one final newline).",
};

pub const KEYRING_REFRESH_SECS: Setting = Setting {
    flag: Some("keyring-refresh-secs"),
    env: "BYRD_KEYRING_REFRESH_SECS",
    kind: Kind::Number {
        default: 60,
        min: 1,
        max: 3600,
        unit: Unit::Seconds,
    },
    about: "How often a node reloads the keyring from the database (1 to 3600): a retired key stops verifying on every node within it, and a rotated key starts signing two of it after it is published. Give every node the same value.",
};

pub const RUST_LOG: Setting = Setting {
    flag: None,
    env: "RUST_LOG",
    kind: Kind::EnvOnly {
        default: "`info,sqlx=warn,tower_http=info`",
    },
    about: "Log filter ([`tracing` `EnvFilter`](https://docs.rs/tracing-subscriber/latest/tracing_subscriber/filter/struct.EnvFilter.html) syntax).",
};

pub const LOG_FORMAT: Setting = Setting {
    flag: None,
    env: "BYRD_LOG_FORMAT",
    kind: Kind::EnvOnly { default: "text" },
    about: "`json` logs one JSON object per line.",
};

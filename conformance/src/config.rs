//! The runner's configuration: a TOML file whose keys are named after the
//! server's own settings (`jwt_secret` is `BYRD_JWT_SECRET`, `ws_replay_cap`
//! is `BYRD_WS_REPLAY_CAP`, ...), so QA copies values across without a
//! translation table.
//!
//! Secrets may stay out of the file: `admin_email`, `admin_password` and
//! `jwt_secret` fall back to the server's environment variables
//! (`BYRD_ADMIN_EMAIL`, `BYRD_ADMIN_PASSWORD`, `BYRD_JWT_SECRET`). Every
//! other value defaults to the server's default. Secrets are held as
//! [`SecretString`] and never printed.
//!
//! A test issuer (`test_issuer`, `test_issuer_audience`,
//! `test_issuer_key_file`, optionally `test_issuer_kid` and
//! `test_issuer_purposes`) names a backend the server trusts and the file
//! of its private key, read once at load and never printed.
//!
//! A malformed file is reported by line number and what is wrong with it,
//! never by quoting the line or the value: the line may be the password
//! or the signing key, and the report goes to a terminal or a CI log.

use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::issuer::{IssuerConfigError, IssuerKeys, TestIssuer};

/// The file as written; every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    admin_email: Option<String>,
    admin_password: Option<String>,
    jwt_secret: Option<String>,
    jwt_kid: Option<String>,
    jwt_issuer: Option<String>,
    jwt_audience: Option<String>,
    jwt_leeway_secs: Option<u64>,
    agent_token_ttl_secs: Option<u64>,
    ws_allowed_origins: Option<Vec<String>>,
    ws_replay_cap: Option<u32>,
    ws_max_frame_bytes: Option<usize>,
    ws_frames_per_second: Option<u32>,
    max_message_chars: Option<usize>,
    chat_starts_per_minute: Option<u32>,
    logins_per_minute: Option<u32>,
    open_chats_per_address: Option<u32>,
    chat_idle_close_secs: Option<u64>,
    trust_x_forwarded_for: Option<bool>,
    property_cases: Option<u32>,
    property_seed: Option<u64>,
    timeout_secs: Option<u64>,
    ca_file: Option<PathBuf>,
    test_issuer: Option<String>,
    test_issuer_audience: Option<String>,
    test_issuer_key_file: Option<PathBuf>,
    test_issuer_kid: Option<String>,
    test_issuer_purposes: Option<Vec<String>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a valid config: {malformed}")]
    Parse { path: String, malformed: Malformed },
    #[error(
        "no admin password: set `admin_password` in the config or BYRD_ADMIN_PASSWORD in the environment"
    )]
    MissingAdminPassword,
    #[error("`{key}` must be at least {min}")]
    TooSmall { key: &'static str, min: u64 },
    #[error("the test issuer: {0}")]
    TestIssuer(#[from] IssuerConfigError),
}

/// The admin the runner logs in as, to create the agents and chats the
/// cases need.
#[derive(Debug)]
pub struct Admin {
    pub email: String,
    pub password: SecretString,
}

/// What the runner needs to sign tokens the way the server does.
#[derive(Debug)]
pub struct Jwt {
    /// `None` skips the cases that need correctly signed wrong tokens.
    pub secret: Option<SecretString>,
    pub kid: String,
    pub issuer: String,
    pub audience: String,
    /// The server's clock leeway on `exp`, `nbf` and `iat`.
    pub leeway: Duration,
    /// How long the server's agent access tokens live, when the config
    /// says; otherwise a token's lifetime is checked only against its
    /// own `expires_in`.
    pub agent_token_ttl_secs: Option<u64>,
}

/// The server's limits, as the cases must assume them.
#[derive(Debug, Clone)]
pub struct Limits {
    pub ws_replay_cap: u32,
    pub ws_max_frame_bytes: usize,
    pub ws_frames_per_second: u32,
    pub max_message_chars: usize,
    pub chat_starts_per_minute: u32,
    pub logins_per_minute: u32,
}

/// How the property cases search.
#[derive(Debug, Clone, Copy)]
pub struct Properties {
    /// Generated inputs per property.
    pub cases: u32,
    /// Seed of the generator: the same seed replays the same inputs.
    pub seed: u64,
}

#[derive(Debug)]
pub struct Config {
    pub admin: Admin,
    pub jwt: Jwt,
    /// The server's `ws_allowed_origins`, when the config names them.
    pub ws_allowed_origins: Option<Vec<String>>,
    pub limits: Limits,
    /// The server's bound on open chats per client address (0: none).
    pub open_chats_per_address: u32,
    /// The server's idle time before it closes an open chat, in seconds
    /// (0: never), when the config says.
    pub chat_idle_close_secs: Option<u64>,
    /// Whether the server takes the client address from
    /// `X-Forwarded-For`, so the runner may pick addresses.
    pub trust_x_forwarded_for: bool,
    pub properties: Properties,
    /// The longest any one wait for the server may take.
    pub timeout: Duration,
    /// A PEM file of the CAs that certify an `https://` server, instead
    /// of the public roots.
    pub ca_file: Option<PathBuf>,
    /// A backend the server trusts, whose key signs identity and agent
    /// tokens; `None` skips the cases that need one.
    pub test_issuer: Option<TestIssuer>,
}

/// Where secrets come from when the file does not name them.
pub trait Environment {
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
pub struct ProcessEnvironment;

impl Environment for ProcessEnvironment {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|value| !value.is_empty())
    }
}

impl Config {
    /// Reads `path` (or nothing, when `None`) and fills in from `env`.
    pub fn load(path: Option<&Path>, env: &dyn Environment) -> Result<Config, ConfigError> {
        let file = match path {
            None => ConfigFile::default(),
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.display().to_string(),
                    source,
                })?;
                parse(&text).map_err(|malformed| ConfigError::Parse {
                    path: path.display().to_string(),
                    malformed,
                })?
            }
        };
        Config::from_file(file, env)
    }

    /// Parses TOML text, for tests.
    pub fn from_toml(text: &str, env: &dyn Environment) -> Result<Config, ConfigError> {
        let file = parse(text).map_err(|malformed| ConfigError::Parse {
            path: "<config>".to_owned(),
            malformed,
        })?;
        Config::from_file(file, env)
    }

    fn from_file(file: ConfigFile, env: &dyn Environment) -> Result<Config, ConfigError> {
        let admin_password = file
            .admin_password
            .or_else(|| env.var("BYRD_ADMIN_PASSWORD"))
            .ok_or(ConfigError::MissingAdminPassword)?;
        let timeout_secs = file.timeout_secs.unwrap_or(10);
        if timeout_secs == 0 {
            return Err(ConfigError::TooSmall {
                key: "timeout_secs",
                min: 1,
            });
        }
        let ws_frames_per_second = file.ws_frames_per_second.unwrap_or(20);
        if ws_frames_per_second == 0 {
            return Err(ConfigError::TooSmall {
                key: "ws_frames_per_second",
                min: 1,
            });
        }
        let test_issuer = IssuerKeys {
            iss: file.test_issuer,
            audience: file.test_issuer_audience,
            key_file: file.test_issuer_key_file,
            kid: file.test_issuer_kid,
            purposes: file.test_issuer_purposes,
        }
        .load()?;
        Ok(Config {
            test_issuer,
            admin: Admin {
                email: file
                    .admin_email
                    .or_else(|| env.var("BYRD_ADMIN_EMAIL"))
                    .unwrap_or_else(|| "admin@byrd.localhost".to_owned()),
                password: SecretString::from(admin_password),
            },
            jwt: Jwt {
                secret: file
                    .jwt_secret
                    .or_else(|| env.var("BYRD_JWT_SECRET"))
                    .map(SecretString::from),
                kid: file.jwt_kid.unwrap_or_else(|| "byrd-1".to_owned()),
                issuer: file.jwt_issuer.unwrap_or_else(|| "byrd".to_owned()),
                audience: file.jwt_audience.unwrap_or_else(|| "byrd".to_owned()),
                leeway: Duration::from_secs(file.jwt_leeway_secs.unwrap_or(30)),
                agent_token_ttl_secs: file.agent_token_ttl_secs,
            },
            ws_allowed_origins: file.ws_allowed_origins.filter(|list| !list.is_empty()),
            limits: Limits {
                ws_replay_cap: file.ws_replay_cap.unwrap_or(1000),
                ws_max_frame_bytes: file.ws_max_frame_bytes.unwrap_or(64 * 1024),
                ws_frames_per_second,
                max_message_chars: file.max_message_chars.unwrap_or(4000),
                chat_starts_per_minute: file.chat_starts_per_minute.unwrap_or(10).max(1),
                logins_per_minute: file.logins_per_minute.unwrap_or(20).max(1),
            },
            open_chats_per_address: file.open_chats_per_address.unwrap_or(10),
            chat_idle_close_secs: file.chat_idle_close_secs,
            trust_x_forwarded_for: file.trust_x_forwarded_for.unwrap_or(false),
            properties: Properties {
                cases: file.property_cases.unwrap_or(32).max(1),
                seed: file.property_seed.unwrap_or(0x00b1_7d5e_ed00_0001),
            },
            timeout: Duration::from_secs(timeout_secs),
            ca_file: file.ca_file,
        })
    }

    /// The signing key's bytes, exactly as configured (not decoded).
    pub fn jwt_key(&self) -> Option<&[u8]> {
        self.jwt
            .secret
            .as_ref()
            .map(|secret| secret.expose_secret().as_bytes())
    }
}

/// What is wrong with a config file, and where, without its text.
#[derive(Debug)]
pub struct Malformed {
    /// 1-based; `None` when the parser could not place the problem.
    pub line: Option<usize>,
    pub problem: String,
}

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}", self.problem),
            None => f.write_str(&self.problem),
        }
    }
}

impl Malformed {
    fn at(text: &str, error: &toml::de::Error, problem: String) -> Self {
        let line = error
            .span()
            .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1);
        Malformed { line, problem }
    }
}

/// Reads the file in two steps, so each error's message is known to be
/// safe to print: TOML syntax first (the parser names tokens and types,
/// never values), then the keys, whose type errors quote the value and
/// are rewritten without it.
fn parse(text: &str) -> Result<ConfigFile, Malformed> {
    if let Err(error) = text.parse::<toml::Table>() {
        let problem = format!("not valid TOML: {}", error.message());
        return Err(Malformed::at(text, &error, problem));
    }
    toml::from_str(text).map_err(|error| {
        let problem = without_value(error.message());
        Malformed::at(text, &error, problem)
    })
}

/// A key error's message with any quoted value left out: serde writes
/// "invalid type: string \"the value\", expected u32"; what was expected
/// is kept, what was found is not.
fn without_value(message: &str) -> String {
    let known = [
        "unknown field `",
        "missing field `",
        "duplicate key",
        "duplicate field `",
    ];
    if known.iter().any(|start| message.starts_with(start)) {
        // Key names, not values: "unknown field `admin_pasword`, expected ...".
        return message.to_owned();
    }
    let wrong = ["invalid type: ", "invalid value: ", "invalid length "];
    match message.rsplit_once(", expected ") {
        Some((_, expected)) if wrong.iter().any(|start| message.starts_with(start)) => {
            format!("a value of the wrong type or out of range: expected {expected}")
        }
        _ => "a value this key cannot take".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    struct FakeEnvironment(HashMap<&'static str, &'static str>);

    impl Environment for FakeEnvironment {
        fn var(&self, name: &str) -> Option<String> {
            self.0.get(name).map(|value| (*value).to_owned())
        }
    }

    #[test]
    fn values_default_to_the_servers_defaults() {
        let env = FakeEnvironment(HashMap::from([("BYRD_ADMIN_PASSWORD", "from the env")]));
        let config = Config::from_toml("", &env).unwrap();
        assert_eq!(config.admin.email, "admin@byrd.localhost");
        assert_eq!(config.admin.password.expose_secret(), "from the env");
        assert!(config.jwt.secret.is_none());
        assert_eq!(config.jwt.kid, "byrd-1");
        assert_eq!(config.limits.ws_replay_cap, 1000);
        assert_eq!(config.limits.chat_starts_per_minute, 10);
        assert_eq!(config.limits.logins_per_minute, 20);
    }

    #[test]
    fn the_file_wins_over_the_environment() {
        let env = FakeEnvironment(HashMap::from([
            ("BYRD_ADMIN_PASSWORD", "from the env"),
            ("BYRD_JWT_SECRET", "env secret"),
        ]));
        let config = Config::from_toml(
            "admin_password = \"from the file\"\njwt_secret = \"file secret\"\nws_replay_cap = 5",
            &env,
        )
        .unwrap();
        assert_eq!(config.admin.password.expose_secret(), "from the file");
        assert_eq!(config.jwt_key(), Some(&b"file secret"[..]));
        assert_eq!(config.limits.ws_replay_cap, 5);
        assert_eq!(config.ca_file, None);
        let with_ca = Config::from_toml("ca_file = \"certs/ca.pem\"", &env).unwrap();
        assert_eq!(with_ca.ca_file, Some(PathBuf::from("certs/ca.pem")));
    }

    #[test]
    fn a_missing_password_and_unknown_keys_are_refused() {
        let env = FakeEnvironment(HashMap::new());
        assert!(matches!(
            Config::from_toml("", &env),
            Err(ConfigError::MissingAdminPassword)
        ));
        let typo = Config::from_toml("admin_pasword = \"x\"", &env).unwrap_err();
        assert!(typo.to_string().contains("admin_pasword"), "{typo}");
    }

    #[test]
    fn debug_output_hides_secrets() {
        let env = FakeEnvironment(HashMap::new());
        let config = Config::from_toml(
            "admin_password = \"hunter2hunter2\"\njwt_secret = \"s3cr3t\"",
            &env,
        )
        .unwrap();
        let printed = format!("{config:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(!printed.contains("s3cr3t"), "{printed}");
    }

    #[test]
    fn a_malformed_line_is_reported_by_number_never_by_its_text() {
        let env = FakeEnvironment(HashMap::new());
        let malformed = [
            // An unclosed string: a syntax error on line 2.
            (
                "admin_email = \"a@example.com\"\njwt_secret = \"s3cr3t-key\n",
                2,
            ),
            // A password where a number goes: a type error on line 3.
            (
                "admin_password = \"x\"\n\nws_replay_cap = \"s3cr3t-key\"\n",
                3,
            ),
            // A value without a key.
            ("admin_password = \"x\"\ns3cr3t-key\n", 2),
            // A secret in a list of origins.
            (
                "admin_password = \"x\"\nws_allowed_origins = [\"s3cr3t-key\", 5]\n",
                2,
            ),
        ];
        for (text, line) in malformed {
            let error = Config::from_toml(text, &env).unwrap_err();
            let printed = error.to_string();
            assert!(!printed.contains("s3cr3t"), "{text:?} printed {printed}");
            assert!(
                printed.contains(&format!("line {line}: ")),
                "{text:?} printed {printed}"
            );
        }
        let wrong_type =
            Config::from_toml("admin_password = \"x\"\ntimeout_secs = \"ten\"", &env).unwrap_err();
        assert!(
            wrong_type.to_string().contains("expected u64"),
            "{wrong_type}"
        );
    }
}

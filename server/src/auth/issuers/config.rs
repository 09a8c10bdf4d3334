//! The trusted issuers file, read into types that cannot hold a bad
//! issuer.
//!
//! The file is TOML, one `[[issuer]]` table per backend (see the README's
//! "Trusted issuers"). Every mistake an operator can make stops the start
//! with an error naming the issuer and the field: an unknown field, a
//! duplicate `iss` or Byrd's own, an `http://` JWKS URL, HS256 without its
//! secret, an algorithm that fits no key, a key that fits no listed
//! algorithm, an empty key set. Once parsed, an [`IssuerConfig`] is
//! usable as it is.

use std::path::{Path, PathBuf};
use std::time::Duration;

use jsonwebtoken::Algorithm;
use serde::Deserialize;

use super::keys::{self, KeyError, KeySet, VerifyingKey};

/// The algorithms an issuer may list. HS256 needs `hs256_secret_file`.
pub const ALGORITHMS: &[&str] = &[
    "EdDSA", "ES256", "ES384", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "HS256",
];

/// How often an unknown `kid` may refetch a JWKS, unless configured.
pub const DEFAULT_MIN_REFRESH: Duration = Duration::from_secs(60);
const MAX_MIN_REFRESH_SECS: u64 = 24 * 60 * 60;
/// How long a JWKS fetch may take to connect, and in all: a token waiting
/// for its issuer's keys waits no longer.
const FETCH_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// Why the file was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the trusted issuers file {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("the trusted issuers file is not valid: {0}")]
    Syntax(String),
    #[error("trusted issuer {issuer:?}: `{field}` {problem}")]
    Issuer {
        issuer: String,
        field: &'static str,
        problem: Problem,
    },
}

/// What is wrong with one field of one issuer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("is empty")]
    Empty,
    #[error("is listed by another issuer already")]
    DuplicateIssuer,
    #[error("is Byrd's own issuer (`--jwt-issuer`)")]
    OwnIssuer,
    #[error("is not an https:// URL")]
    NotHttps,
    #[error("lists {0}, which is not one of {ALGORITHMS:?}")]
    UnknownAlgorithm(String),
    #[error("lists HS256, which needs `hs256_secret_file`")]
    Hs256WithoutSecret,
    #[error("is given, but `algorithms` does not list HS256")]
    SecretWithoutHs256,
    #[error("lists {0}, which none of the issuer's keys verifies")]
    AlgorithmWithoutKey(String),
    #[error("lists {0}, which is not `agent_tokens` or `visitor_identity`")]
    UnknownPurpose(String),
    #[error("lists {0} twice")]
    Repeated(String),
    #[error("and `jwks_url` are both given; keys come from one of them")]
    TwoKeySources,
    #[error(
        "is missing: give `keys_file` or `jwks_url` (or, for HS256 alone, `hs256_secret_file`)"
    )]
    NoKeys,
    #[error("goes with `keys_file`, not with `jwks_url`")]
    SecretWithJwks,
    #[error("is given without `jwks_url`")]
    WithoutJwksUrl,
    #[error("must be 1 to {MAX_MIN_REFRESH_SECS} seconds")]
    OutOfRange,
    #[error("cannot be read: {0}")]
    Unreadable(String),
    #[error("{0}")]
    Key(#[from] KeyError),
}

/// What an issuer's tokens may be used for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purposes {
    /// Agent access tokens, as Byrd's own.
    pub agent_tokens: bool,
    /// Visitor identity tokens, presented at chat start.
    pub visitor_identity: bool,
}

/// Where an issuer's keys come from.
pub enum KeySource {
    /// Read once from `keys_file` (and `hs256_secret_file`).
    Fixed(KeySet),
    /// Fetched from a JWKS URL, kept fresh by `jwks::JwksCache`.
    Jwks(JwksSource),
}

/// A JWKS URL and how to fetch it.
pub struct JwksSource {
    /// Always `https`.
    pub url: reqwest::Url,
    /// Fetches it: https only, no redirects, bounded in time; trusting
    /// the issuer's `ca_file` besides the public roots.
    pub client: reqwest::Client,
    /// The least time between two fetches an unknown `kid` may cause.
    pub min_refresh: Duration,
}

/// One trusted issuer, as configured.
pub struct IssuerConfig {
    pub iss: String,
    pub audience: String,
    /// The algorithms its tokens may use; never empty.
    pub algorithms: Vec<Algorithm>,
    pub purposes: Purposes,
    pub keys: KeySource,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    issuer: Vec<RawIssuer>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIssuer {
    iss: String,
    audience: String,
    algorithms: Vec<String>,
    purposes: Vec<String>,
    keys_file: Option<PathBuf>,
    jwks_url: Option<String>,
    ca_file: Option<PathBuf>,
    hs256_secret_file: Option<PathBuf>,
    min_refresh_secs: Option<u64>,
}

/// Reads the file at `path`; relative key and CA paths in it are taken
/// from its folder.
pub fn load(path: &Path, own_issuer: &str) -> Result<Vec<IssuerConfig>, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
        path: path.to_owned(),
        reason: error.to_string(),
    })?;
    parse(&text, path.parent().unwrap_or(Path::new(".")), own_issuer)
}

/// Parses the file's `text`.
pub fn parse(text: &str, base: &Path, own_issuer: &str) -> Result<Vec<IssuerConfig>, ConfigError> {
    let file: RawFile =
        toml::from_str(text).map_err(|error| ConfigError::Syntax(error.to_string()))?;
    let mut issuers: Vec<IssuerConfig> = Vec::with_capacity(file.issuer.len());
    for raw in file.issuer {
        let iss = raw.iss.clone();
        let refuse = |field, problem| ConfigError::Issuer {
            issuer: iss.clone(),
            field,
            problem,
        };
        if raw.iss.trim().is_empty() {
            return Err(refuse("iss", Problem::Empty));
        }
        if raw.iss == own_issuer {
            return Err(refuse("iss", Problem::OwnIssuer));
        }
        if issuers.iter().any(|issuer| issuer.iss == raw.iss) {
            return Err(refuse("iss", Problem::DuplicateIssuer));
        }
        let issuer = parse_issuer(raw, base).map_err(|(field, problem)| refuse(field, problem))?;
        issuers.push(issuer);
    }
    Ok(issuers)
}

type FieldError = (&'static str, Problem);

fn parse_issuer(raw: RawIssuer, base: &Path) -> Result<IssuerConfig, FieldError> {
    if raw.audience.trim().is_empty() {
        return Err(("audience", Problem::Empty));
    }
    let algorithms = parse_algorithms(&raw.algorithms)?;
    let purposes = parse_purposes(&raw.purposes)?;
    let hs256 = algorithms.contains(&Algorithm::HS256);
    match (&raw.hs256_secret_file, hs256) {
        (None, true) => return Err(("algorithms", Problem::Hs256WithoutSecret)),
        (Some(_), false) => return Err(("hs256_secret_file", Problem::SecretWithoutHs256)),
        _ => {}
    }
    if raw.ca_file.is_some() && raw.jwks_url.is_none() {
        return Err(("ca_file", Problem::WithoutJwksUrl));
    }
    if raw.min_refresh_secs.is_some() && raw.jwks_url.is_none() {
        return Err(("min_refresh_secs", Problem::WithoutJwksUrl));
    }
    let keys = match (&raw.keys_file, &raw.jwks_url) {
        (Some(_), Some(_)) => return Err(("keys_file", Problem::TwoKeySources)),
        (None, Some(url)) => {
            if raw.hs256_secret_file.is_some() {
                return Err(("hs256_secret_file", Problem::SecretWithJwks));
            }
            KeySource::Jwks(jwks_source(url, &raw, &algorithms, base)?)
        }
        (keys_file, None) => KeySource::Fixed(fixed_keys(keys_file, &raw, &algorithms, base)?),
    };
    Ok(IssuerConfig {
        iss: raw.iss,
        audience: raw.audience,
        algorithms,
        purposes,
        keys,
    })
}

fn parse_algorithms(names: &[String]) -> Result<Vec<Algorithm>, FieldError> {
    if names.is_empty() {
        return Err(("algorithms", Problem::Empty));
    }
    let mut algorithms = Vec::with_capacity(names.len());
    for name in names {
        if !ALGORITHMS.contains(&name.as_str()) {
            return Err(("algorithms", Problem::UnknownAlgorithm(name.clone())));
        }
        let algorithm = name
            .parse::<Algorithm>()
            .map_err(|_| ("algorithms", Problem::UnknownAlgorithm(name.clone())))?;
        if algorithms.contains(&algorithm) {
            return Err(("algorithms", Problem::Repeated(name.clone())));
        }
        algorithms.push(algorithm);
    }
    Ok(algorithms)
}

fn parse_purposes(names: &[String]) -> Result<Purposes, FieldError> {
    if names.is_empty() {
        return Err(("purposes", Problem::Empty));
    }
    let mut purposes = Purposes::default();
    for name in names {
        let slot = match name.as_str() {
            "agent_tokens" => &mut purposes.agent_tokens,
            "visitor_identity" => &mut purposes.visitor_identity,
            _ => return Err(("purposes", Problem::UnknownPurpose(name.clone()))),
        };
        if std::mem::replace(slot, true) {
            return Err(("purposes", Problem::Repeated(name.clone())));
        }
    }
    Ok(purposes)
}

fn read(base: &Path, path: &Path, field: &'static str) -> Result<Vec<u8>, FieldError> {
    std::fs::read(base.join(path)).map_err(|error| (field, Problem::Unreadable(error.to_string())))
}

/// The keys of `keys_file` and `hs256_secret_file`; every listed
/// algorithm must be some key's.
fn fixed_keys(
    keys_file: &Option<PathBuf>,
    raw: &RawIssuer,
    algorithms: &[Algorithm],
    base: &Path,
) -> Result<KeySet, FieldError> {
    let mut keys: Vec<VerifyingKey> = Vec::new();
    if let Some(path) = keys_file {
        let bytes = read(base, path, "keys_file")?;
        let text = String::from_utf8(bytes)
            .map_err(|_| ("keys_file", Problem::Key(KeyError::Malformed("not text"))))?;
        // HS256 is the secret's alone: keys from this file never verify it.
        let listed: Vec<Algorithm> = algorithms
            .iter()
            .copied()
            .filter(|algorithm| *algorithm != Algorithm::HS256)
            .collect();
        keys = keys::parse_key_file(&text, &listed).map_err(|error| ("keys_file", error.into()))?;
    }
    if let Some(path) = &raw.hs256_secret_file {
        let secret = read(base, path, "hs256_secret_file")?;
        let key =
            keys::hs256_secret(secret).map_err(|error| ("hs256_secret_file", error.into()))?;
        keys.push(key);
    }
    if keys.is_empty() {
        return Err(("keys_file", Problem::NoKeys));
    }
    let set = KeySet::new(keys);
    for algorithm in algorithms {
        if !set.algorithms().any(|found| found == *algorithm) {
            let name = format!("{algorithm:?}");
            return Err(("algorithms", Problem::AlgorithmWithoutKey(name)));
        }
    }
    Ok(set)
}

fn jwks_source(
    url: &str,
    raw: &RawIssuer,
    algorithms: &[Algorithm],
    base: &Path,
) -> Result<JwksSource, FieldError> {
    let url = reqwest::Url::parse(url).map_err(|_| ("jwks_url", Problem::NotHttps))?;
    if url.scheme() != "https" || url.host_str().is_none() {
        return Err(("jwks_url", Problem::NotHttps));
    }
    // Checked above, but said again for the reader: a JWKS never carries
    // a shared secret.
    debug_assert!(!algorithms.contains(&Algorithm::HS256));
    let mut client = reqwest::Client::builder()
        .https_only(true)
        // A redirect could lead anywhere, http included: the URL is the
        // one configured or none.
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(FETCH_CONNECT_TIMEOUT)
        .timeout(FETCH_TIMEOUT);
    if let Some(path) = &raw.ca_file {
        let pem = read(base, path, "ca_file")?;
        let unreadable =
            |error: reqwest::Error| ("ca_file", Problem::Unreadable(error.to_string()));
        let cas = reqwest::Certificate::from_pem_bundle(&pem).map_err(unreadable)?;
        if cas.is_empty() {
            return Err((
                "ca_file",
                Problem::Unreadable("no certificate in it".into()),
            ));
        }
        for ca in cas {
            client = client.add_root_certificate(ca);
        }
    }
    let client = client
        .build()
        .map_err(|error| ("ca_file", Problem::Unreadable(error.to_string())))?;
    let min_refresh = match raw.min_refresh_secs {
        Some(secs @ 1..=MAX_MIN_REFRESH_SECS) => Duration::from_secs(secs),
        Some(_) => return Err(("min_refresh_secs", Problem::OutOfRange)),
        None => DEFAULT_MIN_REFRESH,
    };
    Ok(JwksSource {
        url,
        client,
        min_refresh,
    })
}

//! How a node reaches Redis: the client a `redis://` or `rediss://` URL
//! gives, what is refused before any connection is tried, and which
//! failures to connect end the start rather than wait for Redis.
//!
//! TLS is the redis crate's, on rustls with the ring provider. A
//! `rediss://` URL checks the server's certificate and that it names the
//! URL's host, against the public roots the crate bundles (webpki-roots)
//! or, with `--redis-ca-file`, against that file's CAs only. Refused at
//! start: the crate's `#insecure` fragment (no certificate check at all),
//! and a CA file with a `redis://` URL (a CA that would check nothing).
//!
//! A Redis that does not answer at start does not stop a node (it falls
//! back to its sweep and keeps trying), but a TLS handshake that fails
//! does: a certificate nobody trusts will not mend by itself, and retrying
//! it quietly would hide a misconfiguration behind a slower node. (A Redis
//! without TLS says nothing to a TLS greeting, so it is one that does not
//! answer.)
//!
//! After start, a certificate that fails on a reconnect (Redis came back
//! with another one, or it expired) is said at warn once per streak of
//! failures, naming the cause ([`CertificateWarnings`]): the node goes on
//! retrying, but an operator must hear why it stays on its sweep.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use redis::{ConnectionAddr, IntoConnectionInfo, ProtocolVersion, TlsCertificates};
use rustls::CertificateError as Certificate;
use secrecy::{ExposeSecret, SecretString};

/// A Redis setting that cannot be used as it is. Never holds the URL,
/// which may hold a password.
#[derive(Debug, thiserror::Error)]
pub enum RedisConfigError {
    #[error("invalid Redis URL")]
    InvalidUrl(#[source] redis::RedisError),
    #[error(
        "the Redis URL turns certificate checks off (#insecure), which Byrd refuses; \
         to trust a private CA, name its certificate with --redis-ca-file"
    )]
    Insecure,
    #[error("--redis-ca-file needs a rediss:// Redis URL: without TLS no certificate is checked")]
    CaWithoutTls,
    #[error("cannot read the Redis CA file {}", .path.display())]
    CaUnreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the Redis CA file {} holds no PEM certificate", .path.display())]
    CaEmpty { path: PathBuf },
}

/// A client for `url` speaking RESP3 (which pub/sub pushes need), trusting
/// the CAs of `ca_file` only when one is given.
pub fn client(
    url: &SecretString,
    ca_file: Option<&Path>,
) -> Result<redis::Client, RedisConfigError> {
    let info = url
        .expose_secret()
        .into_connection_info()
        .map_err(RedisConfigError::InvalidUrl)?;
    let tls = match info.addr() {
        ConnectionAddr::TcpTls { insecure: true, .. } => return Err(RedisConfigError::Insecure),
        ConnectionAddr::TcpTls { .. } => true,
        _ => false,
    };
    let redis = info
        .redis_settings()
        .clone()
        .set_protocol(ProtocolVersion::RESP3);
    let info = info.set_redis_settings(redis);
    // The crate's rustls configuration takes the process's provider: ring,
    // the only one built in. Installing it twice is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
    match (ca_file, tls) {
        (None, _) => redis::Client::open(info).map_err(RedisConfigError::InvalidUrl),
        (Some(_), false) => Err(RedisConfigError::CaWithoutTls),
        (Some(path), true) => {
            let certificates = TlsCertificates {
                client_tls: None,
                root_cert: Some(read_ca_file(path)?),
            };
            redis::Client::build_with_tls(info, certificates).map_err(RedisConfigError::InvalidUrl)
        }
    }
}

/// The PEM text of `path`, once it is known to hold a certificate.
fn read_ca_file(path: &Path) -> Result<Vec<u8>, RedisConfigError> {
    let pem = std::fs::read(path).map_err(|source| RedisConfigError::CaUnreadable {
        path: path.to_owned(),
        source,
    })?;
    let mut reader = pem.as_slice();
    if !rustls_pemfile::certs(&mut reader).any(|certificate| certificate.is_ok()) {
        return Err(RedisConfigError::CaEmpty {
            path: path.to_owned(),
        });
    }
    Ok(pem)
}

/// What a failure to connect means when it is a failed TLS handshake,
/// which retrying will not mend; `None` for any other failure.
pub fn tls_failure(error: &anyhow::Error) -> Option<&'static str> {
    error.chain().find_map(rustls_error).map(meaning)
}

/// The rustls error behind `error`, looking through the wrappers the redis
/// crate and tokio-rustls put around it (an `Arc`, an `io::Error`).
fn rustls_error<'e>(error: &'e (dyn std::error::Error + 'static)) -> Option<&'e rustls::Error> {
    if let Some(tls) = error.downcast_ref::<rustls::Error>() {
        return Some(tls);
    }
    if let Some(io) = error.downcast_ref::<std::io::Error>() {
        return rustls_error(io.get_ref()?);
    }
    if let Some(shared) = error.downcast_ref::<Arc<dyn std::error::Error + Send + Sync>>() {
        return rustls_error(shared.as_ref());
    }
    None
}

/// Says at warn when reconnecting to Redis starts failing its TLS
/// handshake, once for the whole streak rather than at every retry, and
/// at info when a connection succeeds again. Only the cause is said,
/// never the error's text, which may hold the URL and its password.
#[derive(Debug, Default)]
pub struct CertificateWarnings {
    /// Whether the last attempts failed their TLS handshake.
    failing: bool,
}

impl CertificateWarnings {
    /// After a failed attempt: warns when `error` is a TLS failure that
    /// starts a streak. Returns whether it was a TLS failure at all.
    pub fn failed(&mut self, error: &anyhow::Error) -> bool {
        let Some(cause) = tls_failure(error) else {
            return false;
        };
        if !self.failing {
            self.failing = true;
            tracing::warn!(
                cause,
                "cannot reconnect to Redis: its TLS handshake fails; other nodes' messages \
                 reach this node's sockets only by the sweep until it succeeds (retrying)"
            );
        }
        true
    }

    /// After an attempt that connected: ends a streak.
    pub fn connected(&mut self) {
        if std::mem::take(&mut self.failing) {
            tracing::info!("Redis's certificate is accepted again");
        }
    }
}

fn meaning(error: &rustls::Error) -> &'static str {
    match error {
        rustls::Error::InvalidCertificate(
            Certificate::UnknownIssuer | Certificate::BadSignature,
        ) => {
            "Redis's certificate is not signed by a trusted CA (is --redis-ca-file the CA \
             that signed it?)"
        }
        rustls::Error::InvalidCertificate(
            Certificate::NotValidForName | Certificate::NotValidForNameContext { .. },
        ) => "Redis's certificate does not name the host of the Redis URL",
        rustls::Error::InvalidCertificate(
            Certificate::Expired | Certificate::ExpiredContext { .. },
        ) => "Redis's certificate has expired",
        rustls::Error::InvalidCertificate(_) => "Redis's certificate is refused",
        _ => "the TLS handshake with Redis failed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client_of(url: &str, ca_file: Option<&Path>) -> Result<redis::Client, RedisConfigError> {
        client(&SecretString::from(url), ca_file)
    }

    fn ca_pem() -> String {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.self_signed(&key).unwrap().pem()
    }

    #[test]
    fn insecure_tls_is_refused_without_showing_the_url() {
        let error =
            client_of("rediss://:secret-pw@redis.example:6380/#insecure", None).unwrap_err();
        assert!(matches!(error, RedisConfigError::Insecure), "{error}");
        assert!(!format!("{error:?}").contains("secret-pw"));
    }

    #[test]
    fn a_ca_file_needs_tls_and_a_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, ca_pem()).unwrap();
        let error = client_of("redis://redis.example/", Some(&ca)).unwrap_err();
        assert!(matches!(error, RedisConfigError::CaWithoutTls), "{error}");

        let client = client_of("rediss://redis.example/", Some(&ca)).unwrap();
        assert!(matches!(
            client.get_connection_info().addr(),
            ConnectionAddr::TcpTls {
                insecure: false,
                tls_params: Some(_),
                ..
            }
        ));

        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate").unwrap();
        let error = client_of("rediss://redis.example/", Some(&empty)).unwrap_err();
        assert!(matches!(error, RedisConfigError::CaEmpty { .. }), "{error}");
        let error =
            client_of("rediss://redis.example/", Some(&dir.path().join("missing"))).unwrap_err();
        assert!(
            matches!(error, RedisConfigError::CaUnreadable { .. }),
            "{error}"
        );
    }

    fn certificate_error(url_with_password: &str) -> anyhow::Error {
        let tls = rustls::Error::InvalidCertificate(rustls::CertificateError::Expired);
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, tls);
        anyhow::Error::new(redis::RedisError::from(io))
            .context(format!("connecting to {url_with_password}"))
    }

    /// The log lines `during` writes, at debug and above, as text.
    fn logged(during: impl FnOnce()) -> String {
        #[derive(Clone, Default)]
        struct Lines(Arc<std::sync::Mutex<Vec<u8>>>);
        impl std::io::Write for Lines {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(bytes);
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let lines = Lines::default();
        let writer = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, during);
        let bytes = lines.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn a_certificate_failing_on_reconnect_is_a_warning_once_per_streak_naming_its_cause() {
        let mut warnings = CertificateWarnings::default();
        let error = certificate_error("rediss://:secret-pw@redis.example:6380");
        let log = logged(|| {
            assert!(warnings.failed(&error));
            assert!(warnings.failed(&error));
            warnings.connected();
            assert!(warnings.failed(&error));
        });
        let warned: Vec<&str> = log.lines().filter(|line| line.contains("WARN")).collect();
        assert_eq!(warned.len(), 2, "one warning a streak, two streaks: {log}");
        assert!(
            warned.iter().all(|line| line.contains("has expired")),
            "{log}"
        );
        assert!(
            !log.contains("secret-pw") && !log.contains("redis.example"),
            "{log}"
        );
        assert!(log.contains("accepted again"), "{log}");
    }

    #[test]
    fn a_redis_that_does_not_answer_is_no_certificate_warning() {
        let mut warnings = CertificateWarnings::default();
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let error = anyhow::Error::new(redis::RedisError::from(refused));
        let log = logged(|| {
            assert!(!warnings.failed(&error));
            warnings.connected();
        });
        assert!(log.is_empty(), "{log}");
    }

    #[test]
    fn a_certificate_failure_is_found_behind_the_wrappers() {
        let tls = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, tls);
        let error = anyhow::Error::new(redis::RedisError::from(io)).context("cannot connect");
        assert!(tls_failure(&error).unwrap().contains("--redis-ca-file"));

        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let error = anyhow::Error::new(redis::RedisError::from(refused));
        assert_eq!(tls_failure(&error), None);
    }
}

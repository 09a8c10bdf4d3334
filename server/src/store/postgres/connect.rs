//! How a node reaches PostgreSQL: the connect options a database URL
//! gives, TLS included, what is refused before any connection is tried,
//! and a failure to connect said in words an operator can act on.
//!
//! TLS is sqlx's, on rustls with the ring provider. The URL's `sslmode`
//! says how much is checked and `sslrootcert` names a PEM file of private
//! CA certificates, trusted besides the system's roots. The system's roots
//! are those rustls-native-certs loads: the platform's store, or only the
//! files `SSL_CERT_FILE` and `SSL_CERT_DIR` name when either is set. That
//! is how an operator trusts a private CA alone: `SSL_CERT_FILE=<CA file>`.
//! What sqlx does with each mode:
//!
//! - `disable`, `allow`: plaintext (sqlx never tries TLS under `allow`).
//! - `prefer`, the default: TLS when the server offers it, with its
//!   certificate unchecked; plaintext when it does not. Someone on the path
//!   can have either, so it protects against nothing but a passive reader.
//! - `require`: TLS or no connection; the certificate is not checked.
//! - `verify-ca`: also, the certificate chains to a trusted CA, whatever
//!   name it carries (with the platform's public roots trusted too, any
//!   public certificate passes: use it with `SSL_CERT_FILE` only).
//! - `verify-full`: also, the certificate names the URL's host. What
//!   production should use.
//!
//! A mode that asks for TLS never falls back: when the server answers that
//! it has no TLS, sqlx ends the connection with an error.
//!
//! Refused: `sslrootcert` under a mode that checks no certificate. libpq
//! verifies against it under `require`; sqlx ignores it, so whoever set it
//! would count on a check that never happens. Refused at start: a mode
//! that checks certificates while `SSL_CERT_FILE` or `SSL_CERT_DIR` names
//! nothing readable (sqlx would only log it, and trust no root). Warned at
//! start: a mode that checks no certificate towards a host that is not this
//! machine, and `verify-ca` trusting the platform's public roots.

use std::str::FromStr;

use rustls::CertificateError as Certificate;
use secrecy::{ExposeSecret, SecretString};
use sqlx::ConnectOptions;
use sqlx::postgres::{PgConnectOptions, PgSslMode};

use crate::store::StoreSettings;

/// A database URL that cannot be used as it is.
#[derive(Debug, thiserror::Error)]
pub enum ConnectOptionsError {
    /// Not a PostgreSQL URL sqlx understands; the cause never holds the URL.
    #[error("invalid PostgreSQL database URL")]
    InvalidUrl(#[source] sqlx::Error),
    /// `sslrootcert` with a mode that ignores it.
    #[error(
        "the PostgreSQL URL names a CA (sslrootcert) but sslmode={0} checks no certificate; \
         use sslmode=verify-full"
    )]
    RootCertNotChecked(&'static str),
}

/// The options every connection of the store uses: the URL's (TLS
/// included), a lock timeout of the store's busy timeout and Byrd's
/// application name.
pub fn connect_options(
    database_url: &SecretString,
    settings: &StoreSettings,
) -> Result<PgConnectOptions, ConnectOptionsError> {
    let options = PgConnectOptions::from_str(database_url.expose_secret())
        .map_err(ConnectOptionsError::InvalidUrl)?;
    let mode = options.get_ssl_mode();
    if names_root_cert(&options) && !checks_certificate(mode) {
        return Err(ConnectOptionsError::RootCertNotChecked(mode_name(mode)));
    }
    Ok(options
        // A lock held by a stuck transaction (another node's, say) is
        // waited for as long as a write may wait, then refused as busy.
        .options([(
            "lock_timeout",
            settings.busy_timeout.as_millis().to_string(),
        )])
        .application_name("byrd"))
}

/// The variables that replace the platform's roots with files of CAs.
const ROOTS_FROM: [&str; 2] = ["SSL_CERT_FILE", "SSL_CERT_DIR"];

/// Checks at start the roots a mode that verifies certificates trusts
/// besides `sslrootcert`: when `SSL_CERT_FILE` or `SSL_CERT_DIR` replaces
/// the platform's, they must be readable and hold a certificate; when the
/// platform's are trusted under `verify-ca`, says that any public
/// certificate passes.
pub fn check_trusted_roots(options: &PgConnectOptions) -> anyhow::Result<()> {
    let mode = options.get_ssl_mode();
    if !checks_certificate(mode) {
        return Ok(());
    }
    if ROOTS_FROM
        .iter()
        .any(|name| std::env::var_os(name).is_some())
    {
        let loaded = rustls_native_certs::load_native_certs();
        if let Some(error) = loaded.errors.first() {
            anyhow::bail!(
                "cannot read the CA certificates SSL_CERT_FILE or SSL_CERT_DIR names, which \
                 PostgreSQL's certificate must chain to under sslmode={}: {error}",
                mode_name(mode)
            );
        }
        if loaded.certs.is_empty() {
            anyhow::bail!(
                "SSL_CERT_FILE or SSL_CERT_DIR names no CA certificate, and sslmode={} \
                 checks PostgreSQL's certificate against them",
                mode_name(mode)
            );
        }
    } else if matches!(mode, PgSslMode::VerifyCa) {
        tracing::warn!(
            host = options.get_host(),
            "sslmode=verify-ca checks no host name and trusts this system's public roots too, \
             so any certificate a public CA signed passes; set SSL_CERT_FILE=<CA file> to \
             trust your CA alone, or use sslmode=verify-full"
        );
    }
    Ok(())
}

/// Says at start when the link to a database on another machine can be
/// read or altered by someone on the path.
pub fn warn_if_unverified(options: &PgConnectOptions) {
    let mode = options.get_ssl_mode();
    if checks_certificate(mode) || options.get_socket().is_some() || is_local(options.get_host()) {
        return;
    }
    tracing::warn!(
        host = options.get_host(),
        sslmode = mode_name(mode),
        "the link to PostgreSQL is not verified: sslmode={} checks no certificate, so whoever \
         sits between this node and the database can read or change what crosses it; use \
         sslmode=verify-full (with SSL_CERT_FILE=<CA file> for a private CA)",
        mode_name(mode)
    );
}

/// A failure to open the first connection, with where it was going, the
/// TLS mode, and what a TLS failure means; never the URL or the password.
pub fn cannot_connect(options: &PgConnectOptions, error: sqlx::Error) -> anyhow::Error {
    let meaning = tls_failure(&error);
    let error = anyhow::Error::new(error);
    let error = match meaning {
        Some(meaning) => error.context(meaning),
        None => error,
    };
    error.context(format!(
        "cannot connect to PostgreSQL database {:?} on {}:{} with sslmode={}",
        options.get_database().unwrap_or_default(),
        options.get_host(),
        options.get_port(),
        mode_name(options.get_ssl_mode()),
    ))
}

/// What a failed TLS handshake means, when the error is one.
fn tls_failure(error: &sqlx::Error) -> Option<&'static str> {
    let sqlx::Error::Io(io) = error else {
        return None;
    };
    let tls = io.get_ref()?.downcast_ref::<rustls::Error>()?;
    Some(match tls {
        rustls::Error::InvalidCertificate(
            Certificate::UnknownIssuer | Certificate::BadSignature,
        ) => {
            "the server's certificate is not signed by a trusted CA (is sslrootcert, or \
             SSL_CERT_FILE, the CA that signed it?)"
        }
        rustls::Error::InvalidCertificate(
            Certificate::NotValidForName | Certificate::NotValidForNameContext { .. },
        ) => "the server's certificate does not name the host of the URL",
        rustls::Error::InvalidCertificate(
            Certificate::Expired | Certificate::ExpiredContext { .. },
        ) => "the server's certificate has expired",
        rustls::Error::InvalidCertificate(_) => "the server's certificate is refused",
        _ => "the TLS handshake with the server failed",
    })
}

/// Whether `mode` checks the server's certificate.
fn checks_certificate(mode: PgSslMode) -> bool {
    matches!(mode, PgSslMode::VerifyCa | PgSslMode::VerifyFull)
}

/// `mode` as the URL spells it.
fn mode_name(mode: PgSslMode) -> &'static str {
    match mode {
        PgSslMode::Disable => "disable",
        PgSslMode::Allow => "allow",
        PgSslMode::Prefer => "prefer",
        PgSslMode::Require => "require",
        PgSslMode::VerifyCa => "verify-ca",
        PgSslMode::VerifyFull => "verify-full",
    }
}

/// This machine: a link that never crosses a network.
fn is_local(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Whether a CA is named, by the URL or `PGSSLROOTCERT`: sqlx keeps it
/// without a getter, but writes it back into the URL it rebuilds.
fn names_root_cert(options: &PgConnectOptions) -> bool {
    options
        .to_url_lossy()
        .query_pairs()
        .any(|(key, _)| key == "sslrootcert")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(url: &str) -> Result<PgConnectOptions, ConnectOptionsError> {
        connect_options(&SecretString::from(url), &StoreSettings::default())
    }

    #[test]
    fn the_url_says_how_much_tls_checks() {
        for (query, mode) in [
            ("", "prefer"),
            ("sslmode=require", "require"),
            ("sslmode=verify-ca&sslrootcert=/ca.pem", "verify-ca"),
            ("sslmode=verify-full&sslrootcert=/ca.pem", "verify-full"),
        ] {
            let options = parsed(&format!("postgres://u:p@db.example/byrd?{query}")).unwrap();
            assert_eq!(mode_name(options.get_ssl_mode()), mode, "{query}");
            assert_eq!(options.get_application_name(), Some("byrd"));
        }
        let options = parsed("postgres://u:p@db.example/byrd?sslmode=verify-full").unwrap();
        assert!(!names_root_cert(&options));
        let options =
            parsed("postgres://u:p@db.example/byrd?sslmode=verify-ca&sslrootcert=/ca.pem").unwrap();
        assert!(names_root_cert(&options));
    }

    #[test]
    fn a_ca_under_a_mode_that_checks_no_certificate_is_refused() {
        for mode in ["disable", "allow", "prefer", "require"] {
            let url = format!("postgres://u:secret-pw@db/byrd?sslmode={mode}&sslrootcert=/ca.pem");
            let error = parsed(&url).unwrap_err();
            assert!(
                matches!(error, ConnectOptionsError::RootCertNotChecked(m) if m == mode),
                "{mode}: {error}"
            );
            assert!(error.to_string().contains("verify-full"), "{error}");
            assert!(!error.to_string().contains("secret-pw"), "{error}");
        }
    }

    #[test]
    fn a_failed_connection_names_the_mode_and_the_cause_but_no_password() {
        let options = parsed("postgres://u:secret-pw@db.example/byrd?sslmode=verify-full").unwrap();
        let tls = rustls::Error::InvalidCertificate(Certificate::UnknownIssuer);
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, tls);
        let message = format!("{:#}", cannot_connect(&options, sqlx::Error::Io(io)));
        assert!(
            message.contains("db.example:5432 with sslmode=verify-full"),
            "{message}"
        );
        assert!(message.contains("not signed by a trusted CA"), "{message}");
        assert!(!message.contains("secret-pw"), "{message}");

        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let message = format!("{:#}", cannot_connect(&options, sqlx::Error::Io(refused)));
        assert!(!message.contains("certificate"), "{message}");
    }

    #[test]
    fn loopback_hosts_are_this_machine() {
        assert!(is_local("localhost"));
        assert!(is_local("127.0.0.1"));
        assert!(is_local("::1"));
        assert!(is_local("[::1]"));
        assert!(!is_local("db.example"));
        assert!(!is_local("10.0.0.5"));
    }
}

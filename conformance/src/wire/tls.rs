//! TLS for `https://` base URLs, and `wss://` for their WebSocket: whom
//! the runner trusts, and what it says when the server's certificate is
//! not one of them.
//!
//! The server's certificate is always verified; there is no switch to
//! turn that off, since a runner that accepts any certificate would
//! certify a connection it cannot vouch for. By default it is checked
//! against the public roots (the Mozilla set that `webpki-roots` carries,
//! which both reqwest and tokio-tungstenite are built with); with
//! `ca_file` (or `--ca-file`), against the certificates of that PEM file
//! only, as a staging server behind a private CA needs.
//!
//! REST and the WebSocket share one client configuration, so they can
//! never disagree on whom to trust.

use std::error::Error as StdError;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::RootCertStore;

/// Whom the runner trusts to certify the server.
#[derive(Debug, Clone)]
pub enum Trust {
    /// The public roots.
    PublicRoots,
    /// Only the certificates of a PEM file.
    CaFile(PathBuf),
}

impl Trust {
    pub fn from_ca_file(ca_file: Option<&Path>) -> Trust {
        ca_file.map_or(Trust::PublicRoots, |path| Trust::CaFile(path.to_owned()))
    }

    /// How a report names it: "the public roots", "the CA file ca.pem".
    pub fn describe(&self) -> String {
        match self {
            Trust::PublicRoots => "the public roots".to_owned(),
            Trust::CaFile(path) => format!("the CA file {}", path.display()),
        }
    }

    /// The client configuration both transports use, or `None` for the
    /// public roots (each transport's built-in default).
    pub fn client_config(&self) -> Result<Option<Arc<rustls::ClientConfig>>, TlsError> {
        let Trust::CaFile(path) = self else {
            return Ok(None);
        };
        let pem = std::fs::read(path).map_err(|source| TlsError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let mut roots = RootCertStore::empty();
        for certificate in rustls_pemfile::certs(&mut pem.as_slice()) {
            let certificate =
                certificate.map_err(|_| TlsError::NotPem(path.display().to_string()))?;
            roots
                .add(certificate)
                .map_err(|error| TlsError::BadCertificate {
                    path: path.display().to_string(),
                    reason: error.to_string(),
                })?;
        }
        if roots.is_empty() {
            return Err(TlsError::NotPem(path.display().to_string()));
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|error| TlsError::BadCertificate {
                path: path.display().to_string(),
                reason: error.to_string(),
            })?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Some(Arc::new(config)))
    }
}

/// A CA file the runner cannot use (exit 2, before any case).
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read the CA file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("the CA file {0} holds no PEM certificate (`-----BEGIN CERTIFICATE-----`)")]
    NotPem(String),
    #[error("the CA file {path} holds a certificate that cannot be a root: {reason}")]
    BadCertificate { path: String, reason: String },
}

/// The TLS failure inside a transport error, if that is what it was
/// (reqwest and hyper wrap it in `io::Error`s).
pub fn tls_failure<'a>(error: &'a (dyn StdError + 'static)) -> Option<&'a rustls::Error> {
    let mut next = Some(error);
    while let Some(error) = next {
        if let Some(tls) = error.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        next = cause(error);
    }
    None
}

/// The error `error` wraps: an `io::Error`'s own `source()` is that of
/// the error it carries, so the carried one is taken instead.
fn cause<'a>(error: &'a (dyn StdError + 'static)) -> Option<&'a (dyn StdError + 'static)> {
    match error
        .downcast_ref::<std::io::Error>()
        .and_then(std::io::Error::get_ref)
    {
        Some(carried) => Some(carried),
        None => error.source(),
    }
}

/// An error with every cause it wraps, on one line: reqwest's own text
/// ("error sending request") names none of them.
pub fn with_causes(error: &(dyn StdError + 'static)) -> String {
    let mut text = error.to_string();
    let mut next = cause(error);
    while let Some(inner) = next {
        let inner_text = inner.to_string();
        if !text.contains(&inner_text) {
            text.push_str(": ");
            text.push_str(&inner_text);
        }
        next = cause(inner);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ca_file_without_a_certificate_is_refused_by_name() {
        let dir = std::env::temp_dir().join(format!("byrd-tls-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let error = Trust::CaFile(empty.clone()).client_config().unwrap_err();
        assert!(matches!(error, TlsError::NotPem(_)), "{error}");
        assert!(error.to_string().contains("empty.pem"), "{error}");
        let missing = Trust::CaFile(dir.join("missing.pem"))
            .client_config()
            .unwrap_err();
        assert!(matches!(missing, TlsError::Read { .. }), "{missing}");
        assert!(Trust::PublicRoots.client_config().unwrap().is_none());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_tls_error_is_found_inside_the_io_errors_that_carry_it() {
        let tls = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, tls);
        let outer = std::io::Error::other(io);
        assert!(matches!(
            tls_failure(&outer),
            Some(rustls::Error::InvalidCertificate(_))
        ));
        let plain = std::io::Error::other("connection refused");
        assert!(tls_failure(&plain).is_none());
    }
}

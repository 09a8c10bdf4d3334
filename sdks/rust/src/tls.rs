//! TLS for `https://` and `wss://` servers.
//!
//! One rustls configuration serves both the REST client and the WebSocket,
//! so a root added for one is trusted by the other: a deployment with a
//! private CA would otherwise log in over REST and then fail to open its
//! socket. The crypto is ring's; the trusted roots are Mozilla's (from
//! `webpki-roots`, compiled in, so the SDK behaves the same on every
//! machine) plus any the application adds, or only those.

use std::sync::Arc;

use rustls::RootCertStore;
use rustls::crypto::ring;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use crate::error::Error;

/// Which roots a client trusts; parsed when the client is built.
#[derive(Debug, Clone)]
pub(crate) struct TlsRoots {
    /// Trust the Mozilla roots (default).
    pub built_in: bool,
    /// PEM documents, each holding one or more certificates.
    pub extra_pem: Vec<Vec<u8>>,
}

impl Default for TlsRoots {
    fn default() -> Self {
        TlsRoots {
            built_in: true,
            extra_pem: Vec::new(),
        }
    }
}

impl TlsRoots {
    /// The client configuration; fails on a PEM document without a
    /// certificate, a certificate rustls refuses, or no root at all.
    pub fn client_config(&self) -> Result<Arc<rustls::ClientConfig>, Error> {
        let mut roots = RootCertStore::empty();
        if self.built_in {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        for (index, pem) in self.extra_pem.iter().enumerate() {
            let certificates = CertificateDer::pem_slice_iter(pem)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|error| {
                    Error::Config(format!("root certificate {index}: not PEM ({error})"))
                })?;
            if certificates.is_empty() {
                return Err(Error::Config(format!(
                    "root certificate {index}: no certificate in the PEM document"
                )));
            }
            for certificate in certificates {
                roots
                    .add(certificate)
                    .map_err(|error| Error::Config(format!("root certificate {index}: {error}")))?;
            }
        }
        if roots.is_empty() {
            return Err(Error::Config(
                "no trusted root certificates: add one or keep the built-in roots".into(),
            ));
        }
        let config =
            rustls::ClientConfig::builder_with_provider(Arc::new(ring::default_provider()))
                .with_safe_default_protocol_versions()
                .map_err(|error| Error::Config(format!("TLS: {error}")))?
                .with_root_certificates(roots)
                .with_no_client_auth();
        Ok(Arc::new(config))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_roots_make_a_configuration() {
        assert!(TlsRoots::default().client_config().is_ok());
    }

    #[test]
    fn no_roots_at_all_is_refused() {
        let roots = TlsRoots {
            built_in: false,
            extra_pem: Vec::new(),
        };
        let error = roots.client_config().expect_err("nothing to trust");
        assert!(matches!(error, Error::Config(message) if message.contains("no trusted root")));
    }

    #[test]
    fn a_document_without_a_certificate_is_refused() {
        let roots = TlsRoots {
            built_in: true,
            extra_pem: vec![b"not a certificate".to_vec()],
        };
        let error = roots.client_config().expect_err("no certificate in it");
        assert!(matches!(error, Error::Config(message) if message.contains("root certificate 0")));
    }
}

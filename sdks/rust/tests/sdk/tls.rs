//! `https://` and `wss://`: the SDK through a TLS front whose certificate
//! only the test's own root vouches for, as with a private CA.

use std::sync::Arc;

use byrd_sdk::realtime::{ConnectionState, Event};
use byrd_sdk::{Client, Error};
use rcgen::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use crate::helpers::{next_matching, next_message, quick_options, spawn_app, visitor};

/// Terminates TLS on a free loopback port and forwards the plain bytes to
/// the server.
struct TlsFront {
    /// `https://localhost:<port>`.
    address: String,
    /// The self-signed certificate, PEM: the root to trust.
    root_pem: String,
    accept_loop: JoinHandle<()>,
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        self.accept_loop.abort();
    }
}

impl TlsFront {
    async fn start(target_port: u16) -> TlsFront {
        let CertifiedKey { cert, signing_key } =
            rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let chain = vec![CertificateDer::from_pem_slice(cert.pem().as_bytes()).unwrap()];
        let key = PrivateKeyDer::from_pem_slice(signing_key.serialize_pem().as_bytes()).unwrap();
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let accept_loop = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    // A client that refuses the certificate ends here.
                    let Ok(mut client) = acceptor.accept(client).await else {
                        return;
                    };
                    let mut server = TcpStream::connect(("127.0.0.1", target_port))
                        .await
                        .unwrap();
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                });
            }
        });
        TlsFront {
            address: format!("https://localhost:{port}"),
            root_pem: cert.pem(),
            accept_loop,
        }
    }

    /// A guest's chat, started over https by a client that trusts this
    /// front's certificate.
    async fn start_trusted_guest(&self) -> (Client, byrd_sdk::types::Chat) {
        self.trusting_client()
            .start_guest(&visitor("Sam"))
            .await
            .expect("the chat starts over https")
    }

    /// A client that trusts this front's certificate.
    fn trusting_client(&self) -> Client {
        Client::builder(&self.address)
            .add_root_certificate_pem(self.root_pem.clone())
            .build()
            .unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_root_is_trusted_by_rest_and_the_websocket() {
    let app = spawn_app().await;
    let front = TlsFront::start(app.port).await;

    let (guest, chat) = front.start_trusted_guest().await;
    let agent = front
        .trusting_client()
        .login_agent(crate::helpers::ADMIN_EMAIL, crate::helpers::ADMIN_PASSWORD)
        .await
        .expect("the agent logs in over https");
    let (guest_rt, mut guest_events) = guest.connect_realtime(quick_options()).unwrap();
    let (agent_rt, mut agent_events) = agent.connect_realtime(quick_options()).unwrap();
    agent_rt.subscribe(chat.id, 0).unwrap();

    let sent = guest_rt
        .send(chat.id, "over wss")
        .await
        .expect("acked over wss");
    assert_eq!(sent.seq, 1);
    assert_eq!(next_message(&mut guest_events).await, sent);
    assert_eq!(next_message(&mut agent_events).await, sent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_certificate_is_refused() {
    let app = spawn_app().await;
    let front = TlsFront::start(app.port).await;

    // The built-in roots do not vouch for a self-signed certificate.
    let error = Client::new(&front.address)
        .unwrap()
        .start_guest(&visitor("Sam"))
        .await
        .expect_err("the certificate is not trusted");
    assert!(matches!(error, Error::Transport { .. }), "{error:?}");
    let chain = error_chain(&error);
    assert!(chain.contains("certificate"), "{chain}");
}

/// Each retry would meet the same certificate: the realtime client stops
/// with the reason instead of reconnecting forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_realtime_client_stops_at_an_untrusted_certificate() {
    let app = spawn_app().await;
    let front = TlsFront::start(app.port).await;
    let (guest, chat) = front.start_trusted_guest().await;
    let token = guest.token().await.expect("the guest has a token");

    // The same session from a client that trusts only the built-in roots.
    let untrusting = Client::new(&front.address)
        .unwrap()
        .resume_guest(&token)
        .expect("the token is a guest's");
    let (realtime, mut events) = untrusting.connect_realtime(quick_options()).unwrap();
    let mut attempts = 0;
    let error = next_matching(&mut events, |event| match event {
        Event::State(ConnectionState::Connecting { .. }) => {
            attempts += 1;
            None
        }
        Event::State(ConnectionState::Closed { error, .. }) => Some(error),
        _ => None,
    })
    .await
    .expect("a final error, not a close by the application");
    assert_eq!(attempts, 1, "it tried again");
    assert!(matches!(error, Error::Transport { .. }), "{error:?}");
    assert!(error_chain(&error).contains("certificate"), "{error:?}");

    let send = realtime.send(chat.id, "never sent").await;
    assert!(matches!(send, Err(Error::Transport { .. })), "{send:?}");
}

/// Every message in `error`'s chain of sources, lowercased.
fn error_chain(error: &Error) -> String {
    std::iter::successors(Some(error as &dyn std::error::Error), |e| e.source())
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join(": ")
        .to_lowercase()
}

#[test]
fn a_client_with_nothing_to_trust_is_not_built() {
    let built = Client::builder("https://localhost:1")
        .built_in_root_certificates(false)
        .build();
    assert!(matches!(built, Err(Error::Config(_))));

    let built = Client::builder("https://localhost:1")
        .add_root_certificate_pem(
            "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n",
        )
        .build();
    assert!(matches!(built, Err(Error::Config(_))));
}

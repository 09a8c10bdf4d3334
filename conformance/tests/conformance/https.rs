//! The runner over `https://` and `wss://`: a TLS-terminating proxy,
//! certified by a CA made for the test, in front of the fake server
//! without faults. With that CA's file the cases pass over TLS, REST and
//! WebSocket alike; with another CA's, or with only the public roots, the
//! runner stops before any case and says whom it did not trust.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

use crate::fake_server;

/// Cases over both transports: REST, the handshake, frames each way.
const OVER_TLS: &str = "rest.health,auth.jwt.alg-none.*,ws.handshake.hello-guest,ws.frames.ping,\
ws.send.own-message,ws.typing.relay,ws.typing.agent-to-guest,ws.resume.announced-cap";

/// A CA named `name`: its certificate in PEM, and its issuer.
fn ca(name: &str) -> (String, Issuer<'static, KeyPair>) {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    let key = KeyPair::generate().unwrap();
    let certificate = params.self_signed(&key).unwrap();
    (certificate.pem(), Issuer::new(params, key))
}

/// A server configuration for localhost and 127.0.0.1, signed by `issuer`.
fn server_config(issuer: &Issuer<'static, KeyPair>) -> Arc<rustls::ServerConfig> {
    let params =
        CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
    let key = KeyPair::generate().unwrap();
    let certificate = params.signed_by(&key, issuer).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![certificate.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
        .unwrap();
    Arc::new(config)
}

/// Terminates TLS on a free port and relays each connection, bytes as
/// they are, to `backend`.
async fn tls_proxy(config: Arc<rustls::ServerConfig>, backend: SocketAddr) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let acceptor = TlsAcceptor::from(config);
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A client that refuses the certificate ends the handshake.
                let Ok(mut tls) = acceptor.accept(client).await else {
                    return;
                };
                let Ok(mut upstream) = TcpStream::connect(backend).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut upstream).await;
            });
        }
    });
    address
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

async fn run(base_url: &str, config: &Path, extra: &[&str]) -> (Option<i32>, String, String) {
    let mut args = vec![
        "--base-url".to_owned(),
        base_url.to_owned(),
        "--config".to_owned(),
        config.display().to_string(),
        "--cases".to_owned(),
        OVER_TLS.to_owned(),
    ];
    args.extend(extra.iter().map(|arg| (*arg).to_owned()));
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_byrd-conformance"))
            .args(&args)
            .env_remove("BYRD_ADMIN_PASSWORD")
            .env_remove("BYRD_JWT_SECRET")
            .env_remove("BYRD_ADMIN_EMAIL")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cases_pass_over_https_and_wss_with_the_ca_file_and_stop_up_front_without_it() {
    let (ca_pem, issuer) = ca("Byrd conformance test CA");
    let (other_pem, _) = ca("Some other CA");
    let backend = fake_server::spawn(&[]).await;
    let proxy = tls_proxy(server_config(&issuer), backend).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    let ca_file = write(dir.path(), "ca.pem", &ca_pem);
    let other_file = write(dir.path(), "other.pem", &other_pem);
    std::fs::write(
        &config,
        format!(
            "admin_email = \"{}\"\nadmin_password = \"{}\"\njwt_secret = \"{}\"\nca_file = \"{}\"\n",
            fake_server::ADMIN_EMAIL,
            fake_server::ADMIN_PASSWORD,
            fake_server::SECRET,
            ca_file.replace('\\', "\\\\"),
        ),
    )
    .unwrap();
    let base_url = format!("https://127.0.0.1:{}", proxy.port());

    // The CA file in the config: every case passes, the WebSocket ones
    // over wss://.
    let (code, stdout, stderr) = run(&base_url, &config, &[]).await;
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let last = stdout.lines().last().unwrap_or_default();
    assert!(last.ends_with("passed, 0 failed, 0 skipped"), "{stdout}");
    assert!(
        stdout.contains("pass  MUST   ws.typing.agent-to-guest"),
        "{stdout}"
    );
    let localhost = format!("https://localhost:{}", proxy.port());
    let (code, stdout, stderr) =
        run(&localhost, &config, &["--cases", "ws.send.own-message"]).await;
    assert_eq!(code, Some(0), "by name too: {stdout}{stderr}");

    // Another CA, named on the command line over the config: one clear
    // error before any case.
    let (code, stdout, stderr) = run(&base_url, &config, &["--ca-file", &other_file]).await;
    assert_eq!(code, Some(2), "{stdout}{stderr}");
    assert!(stdout.is_empty(), "no case ran: {stdout}");
    assert!(
        stderr.contains("presented a certificate not vouched for by the CA file")
            && stderr.contains("other.pem")
            && stderr.contains("UnknownIssuer"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");

    // No CA file: the public roots do not know the test CA either.
    let bare = dir.path().join("bare.toml");
    let without: String = std::fs::read_to_string(&config)
        .unwrap()
        .lines()
        .filter(|line| !line.starts_with("ca_file"))
        .map(|line| format!("{line}\n"))
        .collect();
    std::fs::write(&bare, without).unwrap();
    let (code, stdout, stderr) = run(&base_url, &bare, &[]).await;
    assert_eq!(code, Some(2), "{stdout}{stderr}");
    assert!(
        stderr.contains("the public roots") && stderr.contains("--ca-file"),
        "{stderr}"
    );
}

//! TLS to PostgreSQL and Redis (README "TLS to PostgreSQL and Redis"): a
//! setting that asks for TLS gets TLS or no start, a certificate that no
//! trusted CA signed stops the start with a message naming the cause, and
//! the Redis URL cannot turn certificate checks off; `SSL_CERT_FILE` alone
//! decides whom PostgreSQL may chain to when it is set. Under
//! `scripts/services` both services speak TLS only; the PostgreSQL without
//! TLS is a stand-in that answers the TLS request as such a server does.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};

use byrd_server::configuration::StoreSettings;
use byrd_server::store::postgres::connect::connect_options;
use byrd_testkit::server::{ByrdServer, StartError};
use secrecy::SecretString;
use sqlx::{ConnectOptions, Connection};

use crate::cluster::{Node, Services, serial};

/// A CA certificate no service was signed by, written to `dir`.
fn foreign_ca(dir: &Path) -> PathBuf {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Not the services' CA");
    let path = dir.join("foreign-ca.pem");
    std::fs::write(&path, params.self_signed(&key).unwrap().pem()).unwrap();
    path
}

/// The server's log when it did not start; fails the test if it did.
fn refused(started: Result<ByrdServer, StartError>) -> String {
    match started {
        Err(StartError::NotReady { exited: true, log }) => log,
        Err(error) => panic!("the server did not exit with an error: {error}"),
        Ok(server) => panic!("the server started on {}", server.address),
    }
}

/// A PostgreSQL with `ssl = off` as far as a client can tell: it answers
/// every TLS request with `N`, "no TLS here".
fn postgres_without_tls() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().map_while(Result::ok) {
            let mut request = [0u8; 8];
            if stream.read_exact(&mut request).is_ok() {
                // SSLRequest: length 8, code 80877103.
                assert_eq!(request, [0, 0, 0, 8, 4, 210, 22, 47], "not an SSLRequest");
                let _ = stream.write_all(b"N");
            }
        }
    });
    port
}

#[tokio::test]
async fn a_mode_that_asks_for_tls_never_falls_back_to_plaintext() {
    let port = postgres_without_tls();
    for mode in ["require", "verify-ca", "verify-full"] {
        let url = format!("postgres://byrd:db-password@127.0.0.1:{port}/byrd?sslmode={mode}");
        let log = refused(Node::try_start(&url, "redis://127.0.0.1:1/", &[]).await);
        assert!(log.contains("server does not support TLS"), "{mode}: {log}");
        assert!(log.contains(&format!("sslmode={mode}")), "{mode}: {log}");
        assert!(!log.contains("db-password"), "{mode}: {log}");
    }
}

#[tokio::test]
async fn a_ca_under_a_mode_that_checks_nothing_is_refused_before_connecting() {
    let url = "postgres://byrd:db-password@127.0.0.1:1/byrd?sslmode=require&sslrootcert=/ca.pem";
    let log = refused(Node::try_start(url, "redis://127.0.0.1:1/", &[]).await);
    assert!(
        log.contains("sslmode=require checks no certificate"),
        "{log}"
    );
    assert!(!log.contains("db-password"), "{log}");
}

#[tokio::test]
async fn postgres_signed_by_another_ca_fails_at_start_naming_the_cause() {
    let Some(services) = Services::from_env() else {
        return;
    };
    let _serial = serial().await;
    let dir = tempfile::tempdir().unwrap();
    let (address, _) = services.postgres_url.split_once('?').unwrap();
    let url = format!(
        "{address}?sslmode=verify-full&sslrootcert={}",
        foreign_ca(dir.path()).display()
    );
    let log = refused(Node::try_start(&url, &services.redis_url, &[]).await);
    assert!(log.contains("with sslmode=verify-full"), "{log}");
    assert!(log.contains("not signed by a trusted CA"), "{log}");
    let password = address
        .split(':')
        .nth(2)
        .unwrap()
        .split('@')
        .next()
        .unwrap();
    assert!(!log.contains(password), "{log}");
}

#[tokio::test]
async fn ssl_cert_file_alone_decides_which_ca_postgres_may_chain_to() {
    let Some(services) = Services::from_env() else {
        return;
    };
    let _serial = serial().await;
    let dir = tempfile::tempdir().unwrap();
    let (address, query) = services.postgres_url.split_once('?').unwrap();
    let services_ca = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("sslrootcert="))
        .expect("the services' URL names their CA");
    // No sslrootcert: the roots are what SSL_CERT_FILE names, or nothing.
    // SSL_CERT_DIR would add its own (some hosts set it to the system's).
    let url = format!("{address}?sslmode=verify-full");
    let node = Node::start(
        &url,
        &services.redis_url,
        &[("SSL_CERT_FILE", services_ca), ("SSL_CERT_DIR", "")],
    )
    .await;
    assert!(!node.log().contains("ERROR"), "{}", node.log());
    drop(node);
    let foreign = foreign_ca(dir.path());
    let log = refused(
        Node::try_start(
            &url,
            &services.redis_url,
            &[
                ("SSL_CERT_FILE", foreign.to_str().unwrap()),
                ("SSL_CERT_DIR", ""),
            ],
        )
        .await,
    );
    assert!(log.contains("not signed by a trusted CA"), "{log}");
}

#[tokio::test]
async fn an_ssl_cert_file_that_holds_no_ca_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "").unwrap();
    let missing = dir.path().join("missing.pem");
    let url = "postgres://byrd:db-password@127.0.0.1:1/byrd?sslmode=verify-full";
    for (file, says) in [
        (&missing, "cannot read the CA certificates"),
        (&empty, "names no CA certificate"),
    ] {
        let log = refused(
            Node::try_start(
                url,
                "redis://127.0.0.1:1/",
                &[
                    ("SSL_CERT_FILE", file.to_str().unwrap()),
                    ("SSL_CERT_DIR", ""),
                ],
            )
            .await,
        );
        assert!(log.contains(says), "{}: {log}", file.display());
        assert!(!log.contains("db-password"), "{log}");
    }
}

#[tokio::test]
async fn every_link_of_a_node_to_postgres_is_encrypted() {
    let Some(services) = Services::from_env() else {
        return;
    };
    let _serial = serial().await;
    let database = services.fresh_database().await;
    let node = Node::start(&database, &services.redis_url, &[]).await;
    let options = connect_options(
        &SecretString::from(database.clone()),
        &StoreSettings::default(),
    )
    .unwrap();
    let mut db = options.connect().await.unwrap();
    let (ssl,): (bool,) =
        sqlx::query_as("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            .fetch_one(&mut db)
            .await
            .unwrap();
    assert!(ssl, "the options builder's connection is not encrypted");
    let (encrypted, all): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE s.ssl), count(*) \
         FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) \
         WHERE a.application_name = 'byrd' AND a.datname = current_database() \
         AND a.pid <> pg_backend_pid()",
    )
    .fetch_one(&mut db)
    .await
    .unwrap();
    assert!(all > 0, "the node holds no connection");
    assert_eq!(
        encrypted, all,
        "{} holds plaintext connections",
        node.address
    );
    let _ = db.close().await;
}

#[tokio::test]
async fn redis_signed_by_another_ca_fails_at_start_naming_the_cause() {
    let Some(services) = Services::from_env() else {
        return;
    };
    if !services.redis_url.starts_with("rediss://") {
        eprintln!("skipped: the services' Redis does not speak TLS");
        return;
    }
    let _serial = serial().await;
    let dir = tempfile::tempdir().unwrap();
    let ca = foreign_ca(dir.path());
    let database = services.fresh_database().await;
    let env = [("BYRD_REDIS_CA_FILE", ca.to_str().unwrap())];
    let log = refused(Node::try_start(&database, &services.redis_url, &env).await);
    assert!(log.contains("not signed by a trusted CA"), "{log}");
    assert!(log.contains("--redis-ca-file"), "{log}");
}

#[tokio::test]
async fn a_redis_url_that_turns_certificate_checks_off_is_refused() {
    let Some(services) = Services::from_env() else {
        return;
    };
    let _serial = serial().await;
    let database = services.fresh_database().await;
    let (_, address) = services.redis_url.split_once("://").unwrap();
    let url = format!("rediss://:redis-password@{address}#insecure");
    let log = refused(Node::try_start(&database, &url, &[]).await);
    assert!(log.contains("#insecure"), "{log}");
    assert!(!log.contains("redis-password"), "{log}");
}

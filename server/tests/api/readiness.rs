//! `GET /readyz` when the database goes away (README, "Readiness";
//! `spec/v1/openapi.json`, `getReadiness`): a node whose link to
//! PostgreSQL is cut answers `503` naming `database` within the check's
//! time limit, and `200` again once the link mends, with no restart.
//!
//! The cut is made by a TCP relay between the server and PostgreSQL, as a
//! network partition would make it, so the shared PostgreSQL of the other
//! tests is never touched. On SQLite there is no link to cut: the
//! variant there (`metrics::readyz_is_200_while_...`) moves the database
//! file away under the running server.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use secrecy::SecretString;
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::helpers::{TestApp, fresh_postgres_schema, on_postgres, spawn_app_with};

/// A TCP relay to `upstream` that a test can cut (every relayed
/// connection closed, new ones closed on arrival) and mend.
struct Relay {
    address: SocketAddr,
    cut: watch::Sender<bool>,
}

impl Relay {
    async fn to(upstream: SocketAddr) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (cut, watcher) = watch::channel(false);
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if *watcher.borrow() {
                    continue;
                }
                let mut cut = watcher.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cut.wait_for(|cut| *cut) => {}
                    }
                });
            }
        });
        Relay { address, cut }
    }

    fn cut(&self) {
        self.cut.send_replace(true);
    }

    fn mend(&self) {
        self.cut.send_replace(false);
    }
}

/// Asks `/readyz` until it answers `status` with `body`; fails after
/// `within`, showing the last answer.
async fn readyz_becomes(app: &TestApp, status: u16, body: Value, within: Duration) {
    let started = Instant::now();
    loop {
        let response = app.get("/readyz", None).await;
        let answered = response.status().as_u16();
        let answer: Value = response.json().await.unwrap();
        if answered == status && answer == body {
            return;
        }
        assert!(
            started.elapsed() < within,
            "/readyz still answers {answered} {answer} after {within:?}, not {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn readyz_names_the_database_while_the_link_to_postgresql_is_cut_and_recovers_when_it_mends()
{
    if !on_postgres() {
        return;
    }
    let url = std::env::var("BYRD_TEST_POSTGRES_URL").unwrap();
    let mut relayed = reqwest::Url::parse(&fresh_postgres_schema(&url).await).unwrap();
    let upstream = format!(
        "{}:{}",
        relayed.host_str().unwrap(),
        relayed.port().unwrap_or(5432)
    );
    let relay = Relay::to(upstream.parse().unwrap()).await;
    // The host stays the one PostgreSQL's certificate names; only the
    // port is the relay's.
    relayed.set_port(Some(relay.address.port())).unwrap();
    let app = spawn_app_with(|settings| {
        settings.database_url = SecretString::from(relayed.to_string());
    })
    .await;
    let ready = json!({"status": "ok", "failing": []});
    readyz_becomes(&app, 200, ready.clone(), Duration::from_secs(5)).await;

    relay.cut();
    // One check waits at most 2 s for the database; a few more for the
    // requests around it.
    readyz_becomes(
        &app,
        503,
        json!({"status": "unavailable", "failing": ["database"]}),
        Duration::from_secs(5),
    )
    .await;

    relay.mend();
    readyz_becomes(&app, 200, ready, Duration::from_secs(15)).await;
}

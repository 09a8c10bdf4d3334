//! No log line ever contains a token or a password, query strings
//! included (README, "Configuration": `RUST_LOG`; `spec/v1/README.md#token-format`).
//! The real binary runs with debug logging while a session exercises
//! every secret-carrying path; then its whole log is searched for each
//! secret.

use std::time::Duration;

use byrd_testkit::server::{ByrdServer, ServerBuilder};
use byrd_testkit::ws::WsClient;
use byrd_testkit::{ADMIN_EMAIL, ADMIN_PASSWORD, JWT_SECRET};
use serde_json::{Value, json};

/// `byrd serve` with debug logging, ready on its readiness line; its
/// stderr is the log searched.
fn start_logging_server() -> ByrdServer {
    ServerBuilder::new(env!("CARGO_BIN_EXE_byrd"))
        .env("RUST_LOG", "debug")
        .start()
}

/// The secrets a session handed out, to look for in the log.
struct Secrets {
    access: String,
    refresh: String,
    guest: String,
}

/// A session over every path that carries a secret: a login, a failed
/// login, a chat start, the guest token in the query string over REST and
/// the WebSocket, a tampered bearer token, and a refresh.
async fn exercise_secrets(server: &ByrdServer) -> Secrets {
    let base = &server.base_url;
    let http = reqwest::Client::new();
    let login: Value = http
        .post(format!("{base}/v1/auth/login"))
        .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = login["access_token"].as_str().unwrap().to_owned();
    let refresh = login["refresh_token"].as_str().unwrap().to_owned();
    let wrong = http
        .post(format!("{base}/v1/auth/login"))
        .json(&json!({"email": ADMIN_EMAIL, "password": "a wrong password here"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let chat: Value = http
        .post(format!("{base}/v1/chats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let guest = chat["guest_token"].as_str().unwrap().to_owned();
    // The guest token in a query string, over REST and over the WebSocket.
    let (socket, _) = WsClient::connect(&server.address, &guest).await;
    drop(socket);
    let refused = http
        .get(format!("{base}/v1/me?token={guest}"))
        .bearer_auth(format!("{access}tampered"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let rotated = http
        .post(format!("{base}/v1/auth/refresh"))
        .json(&json!({"refresh_token": refresh}))
        .send()
        .await
        .unwrap();
    assert_eq!(rotated.status(), 200);
    Secrets {
        access,
        refresh,
        guest,
    }
}

#[tokio::test]
async fn debug_logs_contain_no_token_password_or_key() {
    let mut server = start_logging_server();

    let Secrets {
        access,
        refresh,
        guest,
    } = exercise_secrets(&server).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    server.kill();

    let log = server.log();
    assert!(
        log.contains("/v1/auth/login"),
        "the log has request lines: {log}"
    );
    let signature = |token: &str| token.rsplit('.').next().unwrap().to_owned();
    for (what, secret) in [
        ("admin password", ADMIN_PASSWORD.to_owned()),
        ("wrong password", "a wrong password here".to_owned()),
        ("JWT key", JWT_SECRET.to_owned()),
        ("access token", signature(&access)),
        ("guest token", signature(&guest)),
        ("refresh token", refresh.clone()),
    ] {
        assert!(!log.contains(&secret), "the log contains the {what}");
    }
}

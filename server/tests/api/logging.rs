//! No log line ever contains a token or a password, query strings
//! included (README, "Configuration": `RUST_LOG`; `spec/v1/README.md#token-format`).
//! The real binary runs with debug logging while a session exercises
//! every secret-carrying path; then its whole log is searched for each
//! secret.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

const SECRET: &str = "logging-test-secret-that-is-over-32-bytes";
const ADMIN_PASSWORD: &str = "logging test admin password";

/// `byrd serve` on a free port with debug logging into `log_path`, once
/// it answers `/healthz`; answers the process and its port.
async fn start_logging_server(data: &std::path::Path, log_path: &std::path::Path) -> (Child, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_byrd"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(data.join("data"))
        .env("BYRD_JWT_SECRET", SECRET)
        .env("BYRD_ADMIN_EMAIL", "admin@example.com")
        .env("BYRD_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("RUST_LOG", "debug")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log_path).unwrap())
        .spawn()
        .unwrap();
    let http = reqwest::Client::new();
    for _ in 0..200 {
        if http
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .await
            .is_ok()
        {
            return (child, port);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    panic!("byrd did not start");
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
async fn exercise_secrets(port: u16) -> Secrets {
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let login: Value = http
        .post(format!("{base}/v1/auth/login"))
        .json(&json!({"email": "admin@example.com", "password": ADMIN_PASSWORD}))
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
        .json(&json!({"email": "admin@example.com", "password": "a wrong password here"}))
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
    let url = format!("ws://127.0.0.1:{port}/v1/ws?token={guest}");
    let (socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
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
    let data = tempfile::tempdir().unwrap();
    let log_path = data.path().join("byrd.log");
    let (mut child, port) = start_logging_server(data.path(), &log_path).await;

    let Secrets {
        access,
        refresh,
        guest,
    } = exercise_secrets(port).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    child.kill().unwrap();
    child.wait().unwrap();

    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        log.contains("/v1/auth/login"),
        "the log has request lines: {log}"
    );
    let signature = |token: &str| token.rsplit('.').next().unwrap().to_owned();
    for (what, secret) in [
        ("admin password", ADMIN_PASSWORD.to_owned()),
        ("wrong password", "a wrong password here".to_owned()),
        ("JWT key", SECRET.to_owned()),
        ("access token", signature(&access)),
        ("guest token", signature(&guest)),
        ("refresh token", refresh.clone()),
    ] {
        assert!(!log.contains(&secret), "the log contains the {what}");
    }
}

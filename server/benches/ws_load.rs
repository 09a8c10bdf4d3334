//! WebSocket load benchmark: idle-connection memory and delivery latency.
//!
//! Starts the release `byrd` binary as its own process (so its memory is
//! measured alone), opens many idle authenticated guest connections, reads
//! the server's resident memory from /proc, then times guest-to-agent
//! message delivery with those connections still open.
//!
//! Run: `cargo bench -p byrd-server --bench ws_load` (optionally
//! `BYRD_BENCH_CONNECTIONS=N` and `BYRD_BENCH_MESSAGES=M`). It prints numbers
//! and asserts nothing: targets are judged by people, not by timed tests.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures_util::{SinkExt, StreamExt, stream};
use hmac_sha256::HMAC;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

const SECRET: &str = "benchmark-secret-that-is-at-least-32-bytes";
const ADMIN_EMAIL: &str = "bench@example.com";
const ADMIN_PASSWORD: &str = "benchmark admin password";

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn mint(claims: &Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT","kid":"byrd-1"}"#);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).expect("claims serialise"));
    let input = format!("{header}.{payload}");
    let signature = URL_SAFE_NO_PAD.encode(HMAC::mac(input.as_bytes(), SECRET.as_bytes()));
    format!("{input}.{signature}")
}

fn guest_token() -> String {
    let now = chrono::Utc::now().timestamp();
    mint(&json!({
        "iss": "byrd", "aud": "byrd", "type": "guest", "sub": uuid::Uuid::new_v4(),
        "chat": {"id": uuid::Uuid::now_v7(), "created_at": chrono::Utc::now()},
        "iat": now, "exp": now + 3600, "jti": uuid::Uuid::new_v4().to_string()
    }))
}

/// Resident memory of `pid`, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

struct Server {
    child: Child,
    port: u16,
    _data: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server() -> Server {
    let data = tempfile::tempdir().expect("temp dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = Command::new(env!("CARGO_BIN_EXE_byrd"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(data.path())
        // Idle clients here never answer pings; keep them past the run.
        // The guest sends as fast as delivery allows: lift its frame limit.
        .args([
            "--ws-heartbeat-secs",
            "600",
            "--chat-starts-per-minute",
            "1000000",
            "--ws-frames-per-second",
            "1000000",
        ])
        .env("BYRD_JWT_SECRET", SECRET)
        .env("BYRD_ADMIN_EMAIL", ADMIN_EMAIL)
        .env("BYRD_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("byrd starts");
    Server {
        child,
        port,
        _data: data,
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(port: u16, token: &str) -> Socket {
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let url = format!("ws://127.0.0.1:{port}/v1/ws?token={token}");
    let (mut socket, _) = tokio_tungstenite::connect_async_with_config(url, Some(config), false)
        .await
        .expect("websocket connects");
    next_json(&mut socket).await; // hello
    socket
}

async fn next_json(socket: &mut Socket) -> Value {
    loop {
        let next = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a frame within 10 s");
        match next.expect("socket open").expect("frame") {
            Message::Text(text) => {
                let frame: Value = serde_json::from_str(&text).expect("JSON frame");
                assert_ne!(
                    frame["type"], "error",
                    "the server refused a frame: {frame}"
                );
                return frame;
            }
            Message::Close(frame) => panic!("closed: {frame:?}"),
            _ => {}
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

#[tokio::main]
async fn main() {
    let connections = env_number("BYRD_BENCH_CONNECTIONS", 10_000);
    let messages = env_number("BYRD_BENCH_MESSAGES", 1_000);
    let server = start_server();
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{}", server.port);
    let started = Instant::now();
    while http.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "server did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let pid = server.child.id();
    let baseline = rss_kib(pid);

    let opening = Instant::now();
    let idle: Vec<Socket> = stream::iter(0..connections)
        .map(|_| connect(server.port, Box::leak(guest_token().into_boxed_str())))
        .buffer_unordered(100)
        .collect()
        .await;
    let open_time = opening.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let loaded = rss_kib(pid);

    // A real chat, its guest and an agent subscribed to it.
    let chat: Value = http
        .post(format!("{base}/v1/chats"))
        .send()
        .await
        .expect("chat start")
        .json()
        .await
        .expect("chat JSON");
    let chat_id = chat["chat"]["id"].as_str().expect("chat id").to_owned();
    let login: Value = http
        .post(format!("{base}/v1/auth/login"))
        .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("login JSON");
    let mut guest = connect(
        server.port,
        chat["guest_token"].as_str().expect("guest token"),
    )
    .await;
    let mut agent = connect(
        server.port,
        login["access_token"].as_str().expect("access token"),
    )
    .await;
    agent
        .send(Message::text(
            json!({"type": "subscribe", "chat_id": chat_id, "after_seq": 0}).to_string(),
        ))
        .await
        .expect("subscribe sent");
    while next_json(&mut agent).await["type"] != "subscribed" {}

    let mut latencies = Vec::with_capacity(messages);
    for i in 0..messages + 50 {
        let frame = json!({"type": "send", "chat_id": chat_id, "client_msg_id": format!("m{i}"), "body": "Hello there"});
        let sent = Instant::now();
        guest
            .send(Message::text(frame.to_string()))
            .await
            .expect("send");
        loop {
            let frame = next_json(&mut agent).await;
            if frame["type"] == "message" && frame["message"]["client_msg_id"] == format!("m{i}") {
                break;
            }
        }
        if i >= 50 {
            latencies.push(sent.elapsed());
        }
        // Drain the guest's ack and echo so its socket never backs up.
        while let Ok(Some(_)) = tokio::time::timeout(Duration::ZERO, guest.next()).await {}
    }
    latencies.sort();

    println!(
        "ws_load: {connections} idle guest connections opened in {:.1} s",
        open_time.as_secs_f64()
    );
    println!(
        "ws_load: server RSS {:.1} MiB before, {:.1} MiB with them open: {:.1} MiB for all, {:.1} KiB each",
        baseline as f64 / 1024.0,
        loaded as f64 / 1024.0,
        loaded.saturating_sub(baseline) as f64 / 1024.0,
        loaded.saturating_sub(baseline) as f64 / connections.max(1) as f64
    );
    println!(
        "ws_load: guest-to-agent delivery over {messages} messages (stored, fsynced, fanned out): p50 {:?}, p90 {:?}, p99 {:?}, max {:?}",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.9),
        percentile(&latencies, 0.99),
        latencies[latencies.len() - 1]
    );
    drop(idle);
}

//! The shared realtime scenarios of `sdks/scenarios/` (see the README
//! there), each run against a scripted server: a local axum server whose
//! WebSocket the test plays frame by frame, and whose REST answers are
//! canned. The TypeScript SDK runs the same files against a fake socket.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use byrd_sdk::Client;
use byrd_sdk::realtime::{Backoff, ConnectionState, Event, Realtime, RealtimeOptions};
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use uuid::Uuid;

/// What the fake server shares with the test.
#[derive(Clone)]
struct Server {
    sockets: mpsc::UnboundedSender<WebSocket>,
    /// The next `GET /v1/me` is refused as `token_expired`.
    expire_next_me: Arc<AtomicBool>,
}

async fn upgrade(State(server): State<Server>, ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(move |socket| async move {
        let _ = server.sockets.send(socket);
    })
}

async fn rest(State(server): State<Server>, request: axum::extract::Request) -> Response {
    if request.uri().path() == "/v1/me" {
        if server.expire_next_me.swap(false, Ordering::SeqCst) {
            let body = json!({"error": {"code": "token_expired", "message": "expired"}});
            return (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response();
        }
        let me = json!({"type": "agent", "id": Uuid::new_v4(), "name": "Ann", "role": "agent", "token_expires_at": "2030-01-01T00:00:00Z"});
        return axum::Json(me).into_response();
    }
    axum::Json(json!({"messages": [], "has_more": false})).into_response()
}

/// An unsigned agent token; the SDK reads its claims, never its signature.
fn agent_token(n: u64) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = json!({"type": "agent", "iss": "byrd", "aud": "byrd", "sub": Uuid::new_v4(), "role": "agent", "name": "Ann", "iat": now, "exp": now + 3600, "jti": format!("t{n}")});
    let part = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    format!("{}.{}.c2ln", part(&json!({"alg": "HS256"})), part(&claims))
}

fn hello() -> Value {
    json!({
        "type": "hello", "protocol_version": "1.0.0",
        "connection_id": "00000000-0000-4000-8000-00000000000c",
        "principal": {"type": "agent", "id": "00000000-0000-4000-8000-00000000000a"},
        "heartbeat_interval_ms": 25_000, "token_expires_at": "2030-01-01T00:00:00Z",
        "limits": {"frames_per_second": 20, "frame_burst": 40, "max_frame_bytes": 65_536, "max_message_chars": 4_000, "replay_cap": 1_000}
    })
}

/// One socket the test plays.
struct Played {
    sink: SplitSink<WebSocket, WsMessage>,
    frames: mpsc::UnboundedReceiver<Value>,
    reader: tokio::task::JoinHandle<()>,
}

/// What the application saw.
#[derive(Default)]
struct Seen {
    delivered: Vec<i64>,
    settled: HashMap<String, bool>,
}

struct Run {
    client: Client,
    options: RealtimeOptions,
    accepted: mpsc::UnboundedReceiver<WebSocket>,
    expire_next_me: Arc<AtomicBool>,
    rt: Option<Realtime>,
    /// Follows asked for before `connect`.
    early: Vec<(Uuid, i64)>,
    socket: Option<Played>,
    seen: Arc<Mutex<Seen>>,
}

fn ms(value: &Value) -> Duration {
    Duration::from_millis(value.as_u64().unwrap_or(3000))
}

/// Every field of `partial` is in `frame`, recursively.
fn holds(frame: &Value, partial: &Value) -> bool {
    match partial {
        Value::Object(fields) => fields
            .iter()
            .all(|(key, value)| frame.get(key).is_some_and(|f| holds(f, value))),
        other => frame == other,
    }
}

impl Run {
    async fn new(scenario: &Value) -> Run {
        let (sockets, accepted) = mpsc::unbounded_channel();
        let expire_next_me = Arc::new(AtomicBool::new(false));
        let server = Server {
            sockets,
            expire_next_me: expire_next_me.clone(),
        };
        let app = Router::new()
            .route("/v1/ws", get(upgrade))
            .fallback(rest)
            .with_state(server);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let counter = Arc::new(AtomicU64::new(0));
        let client = Client::new(&format!("http://{address}"))
            .unwrap()
            .with_token_provider(move || {
                let n = counter.fetch_add(1, Ordering::SeqCst);
                async move { Ok(agent_token(n)) }
            });
        let mut backoff = Backoff {
            base: Duration::from_millis(10),
            floor: Duration::from_millis(1),
            cap: Duration::from_millis(40),
            ..Backoff::default()
        };
        if let Some(b) = scenario.get("backoff") {
            backoff = Backoff {
                base: ms(&b["base"]),
                factor: u32::try_from(b["factor"].as_u64().unwrap_or(2)).unwrap(),
                floor: ms(&b["floor"]),
                cap: ms(&b["cap"]),
                reset_after: ms(&b["reset_after"]),
            };
        }
        Run {
            client,
            // The scenarios play sockets, not ticket requests: the token
            // opens them, as in the TypeScript runner.
            options: RealtimeOptions::default().backoff(backoff).tickets(false),
            accepted,
            expire_next_me,
            rt: None,
            early: Vec::new(),
            socket: None,
            seen: Arc::default(),
        }
    }

    fn rt(&self) -> &Realtime {
        self.rt.as_ref().expect("the scenario connects first")
    }

    async fn step(&mut self, step: &Value) {
        if let Some(wait) = step.get("wait_ms") {
            tokio::time::sleep(ms(wait)).await;
        } else if let Some(action) = step.get("app") {
            self.app(action).await;
        } else if let Some(action) = step.get("server") {
            self.server(action).await;
        } else if let Some(expectation) = step.get("expect") {
            self.expect(expectation).await;
        } else {
            panic!("unknown step {step}");
        }
    }

    async fn app(&mut self, action: &Value) {
        match action.as_str() {
            Some("connect") => {
                let (rt, mut events) = self.client.connect_realtime(self.options.clone()).unwrap();
                for (chat_id, after_seq) in self.early.drain(..) {
                    rt.subscribe(chat_id, after_seq).unwrap();
                }
                let seen = self.seen.clone();
                tokio::spawn(async move {
                    while let Some(event) = events.next().await {
                        if let Event::Message(message) = event {
                            seen.lock().unwrap().delivered.push(message.seq);
                        }
                    }
                });
                self.rt = Some(rt);
            }
            Some("close") => self.rt().close(),
            Some("refresh_via_rest") => {
                self.expire_next_me.store(true, Ordering::SeqCst);
                self.client.get_me().await.unwrap();
            }
            _ => {
                if let Some(subscribe) = action.get("subscribe") {
                    let chat_id: Uuid =
                        serde_json::from_value(subscribe["chat_id"].clone()).unwrap();
                    let after_seq = subscribe["after_seq"].as_i64().unwrap();
                    match &self.rt {
                        Some(rt) => rt.subscribe(chat_id, after_seq).unwrap(),
                        None => self.early.push((chat_id, after_seq)),
                    }
                } else if let Some(send) = action.get("send") {
                    let chat_id: Uuid = serde_json::from_value(send["chat_id"].clone()).unwrap();
                    let id = send["client_msg_id"].as_str().unwrap().to_owned();
                    let pending =
                        self.rt()
                            .send_with_id(chat_id, id.clone(), send["body"].as_str().unwrap());
                    let seen = self.seen.clone();
                    tokio::spawn(async move {
                        let ok = pending.await.is_ok();
                        seen.lock().unwrap().settled.insert(id, ok);
                    });
                } else {
                    panic!("unknown action {action}");
                }
            }
        }
    }

    async fn server(&mut self, action: &Value) {
        if action.as_str() == Some("drop") {
            if let Some(played) = self.socket.take() {
                played.reader.abort();
                drop(played.sink);
            }
            return;
        }
        if let Some(accept) = action.get("accept") {
            let within = Duration::from_millis(accept["within_ms"].as_u64().unwrap_or(5000));
            let socket = tokio::time::timeout(within, self.accepted.recv())
                .await
                .unwrap_or_else(|_| panic!("no socket opened within {within:?}"))
                .unwrap();
            let (mut sink, mut stream) = socket.split();
            let (frames_tx, frames) = mpsc::unbounded_channel();
            let reader = tokio::spawn(async move {
                while let Some(Ok(message)) = stream.next().await {
                    if let WsMessage::Text(text) = message
                        && let Ok(frame) = serde_json::from_str::<Value>(&text)
                    {
                        let _ = frames_tx.send(frame);
                    }
                }
            });
            sink.send(WsMessage::Text(hello().to_string().into()))
                .await
                .unwrap();
            self.socket = Some(Played {
                sink,
                frames,
                reader,
            });
        } else if let Some(frame) = action.get("send") {
            let played = self.socket.as_mut().expect("a socket is open");
            played
                .sink
                .send(WsMessage::Text(frame.to_string().into()))
                .await
                .unwrap();
        } else if let Some(code) = action.get("close") {
            let mut played = self.socket.take().expect("a socket is open");
            let close = CloseFrame {
                code: u16::try_from(code.as_u64().unwrap()).unwrap(),
                reason: "".into(),
            };
            let _ = played.sink.send(WsMessage::Close(Some(close))).await;
            played.reader.abort();
        } else {
            panic!("unknown server action {action}");
        }
    }

    /// The client's next frame other than `ping`, within `within`.
    async fn next_frame(&mut self, within: Duration) -> Option<Value> {
        let played = self.socket.as_mut()?;
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, played.frames.recv()).await {
                Ok(Some(frame)) if frame["type"] == "ping" => continue,
                Ok(Some(frame)) => return Some(frame),
                _ => return None,
            }
        }
    }

    async fn expect(&mut self, what: &Value) {
        if let Some(partial) = what.get("frame") {
            let within = what.get("within_ms").map_or(Duration::from_secs(3), ms);
            let frame = self.next_frame(within).await;
            assert!(
                frame.as_ref().is_some_and(|f| holds(f, partial)),
                "expected a frame like {partial}, got {frame:?}"
            );
        } else if let Some(quiet) = what.get("no_frame_ms") {
            let frame = self.next_frame(ms(quiet)).await;
            assert!(frame.is_none(), "no frame expected, got {frame:?}");
        } else if let Some(expected) = what.get("delivered") {
            let expected: Vec<i64> = serde_json::from_value(expected.clone()).unwrap();
            self.wait(|seen| seen.delivered.len() >= expected.len())
                .await;
            assert_eq!(self.seen.lock().unwrap().delivered, expected);
        } else if let Some(settled) = what.get("settled") {
            let id = settled["client_msg_id"].as_str().unwrap().to_owned();
            let waiting = id.clone();
            self.wait(move |seen| seen.settled.contains_key(&waiting))
                .await;
            let ok = self.seen.lock().unwrap().settled[&id];
            assert_eq!(Some(ok), settled["ok"].as_bool(), "send {id}");
        } else if let Some(state) = what.get("state").and_then(Value::as_str) {
            let mut watch = self.rt().watch_state();
            let reached = tokio::time::timeout(
                Duration::from_secs(3),
                watch.wait_for(|current| state_name(current) == state),
            )
            .await;
            assert!(
                reached.is_ok(),
                "state {state} not reached: {:?}",
                self.rt().state()
            );
        } else {
            panic!("unknown expectation {what}");
        }
    }

    /// Waits up to 3 s for `done`; the assertion after it says what is wrong.
    async fn wait(&self, done: impl Fn(&Seen) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
        while !done(&self.seen.lock().unwrap()) && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

fn state_name(state: &ConnectionState) -> &'static str {
    match state {
        ConnectionState::Connecting { .. } => "connecting",
        ConnectionState::Connected => "connected",
        ConnectionState::Reconnecting { .. } => "reconnecting",
        ConnectionState::Closed { .. } => "closed",
        _ => "other",
    }
}

#[tokio::test]
async fn every_shared_scenario_passes() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 5,
        "the scenarios are missing from {}",
        dir.display()
    );
    let only = std::env::var("BYRD_SCENARIO").ok();
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        if only
            .as_ref()
            .is_some_and(|only| !name.contains(only.as_str()))
        {
            continue;
        }
        let scenario: Value =
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let mut run = Run::new(&scenario).await;
        for (index, step) in scenario["steps"].as_array().unwrap().iter().enumerate() {
            eprintln!("{name}: step {} {step}", index + 1);
            run.step(step).await;
        }
        if let Some(rt) = &run.rt {
            rt.close();
        }
    }
}

//! A small Byrd server with faults that can be planted, to show that the
//! runner fails what it should and only that: with every [`Fault`]
//! planted, exactly the cases that meet one fail; with none, the same
//! cases pass, so it is the fault each case catches, not the fake.
//!
//! It implements just enough of the protocol for the self-test's cases
//! (login, agents, chats, messages, `/v1/me`, and a WebSocket with
//! `hello`, `send`, `subscribe`, `typing`, `ping`, `refresh_token`, the
//! replay cap, `token_expiring` and the expiry close), correctly, except
//! for the faults planted.
//!
//! Tokens are in `tokens`, the REST endpoints in `rest`, the WebSocket in
//! `ws`; this module holds the state they share and the router.

mod rest;
mod tokens;
mod ws;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::sync::broadcast;
use uuid::Uuid;

pub const SECRET: &str = "fake-server-secret-that-is-at-least-32-bytes";
pub const KID: &str = "byrd-1";
pub const ADMIN_EMAIL: &str = "admin@fake.example";
pub const ADMIN_PASSWORD: &str = "fake admin password";
/// The fake's clock leeway past `exp`, short so the expiry cases end soon.
pub const LEEWAY_SECS: i64 = 1;
/// The replay cap `hello` announces, small so the cap cases fill it fast.
pub const REPLAY_CAP: i64 = 10;

/// A server bug the fake can plant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Every answer carries `Access-Control-Allow-Origin: *` with
    /// `Access-Control-Allow-Credentials: true`.
    WildcardWithCredentials,
    /// `alg: none` tokens are accepted without a signature.
    AlgNone,
    /// `aud` is never looked at.
    IgnoredAudience,
    /// A guest may read any chat with `GET /v1/chats/{chat_id}`.
    GuestReadsAnyChat,
    /// A WebSocket `send` is acked before the message is stored.
    AckBeforeStore,
    /// A resent `send` is acked `duplicate: false`, as if it were new.
    ResendAckedAsNew,
    /// A `seq` is skipped after a chat's third message.
    SkippedSeq,
    /// A client's close frame drops the connection instead of being
    /// answered.
    CloseUnanswered,
    /// `hello` announces a replay cap, but `subscribe` replays everything
    /// and says `recovered: true`.
    IgnoredReplayCap,
    /// A token's expiry closes the socket with 1000 instead of 4001.
    ExpiryClosedWith1000,
    /// `typing` reaches no one.
    DroppedTyping,
    /// Every chat's messages are pushed to every guest.
    OtherChatsPushedToGuests,
}

struct Agent {
    id: String,
    email: String,
    name: String,
    role: String,
    password: String,
    created_at: String,
}

#[derive(Default)]
struct Store {
    agents: Vec<Agent>,
    chats: HashMap<String, Value>,
    messages: HashMap<String, Vec<Value>>,
    /// Last `seq` handed out per chat (reserved, maybe not yet stored).
    last_seq: HashMap<String, i64>,
    /// Every message handed out, by chat, author and client_msg_id: a
    /// resend gets the same one back.
    sent: HashMap<(String, String, String), Value>,
}

/// A chat event on its way to the connections: the chat, the frame, and
/// the connection it came from (which does not hear it back).
#[derive(Clone)]
struct Event {
    chat: String,
    frame: Value,
    from: Option<String>,
}

struct Fake {
    store: Mutex<Store>,
    /// Every chat event, to every connection; each keeps its chats.
    events: broadcast::Sender<Event>,
    /// The faults planted in this instance.
    faults: Vec<Fault>,
}

type Shared = Arc<Fake>;

/// Starts the fake server with `faults` on a free port; it lives as long
/// as the runtime.
pub async fn spawn(faults: &[Fault]) -> SocketAddr {
    let (events, _) = broadcast::channel(1024);
    let fake = Arc::new(Fake {
        store: Mutex::new(Store::default()),
        events,
        faults: faults.to_vec(),
    });
    fake.lock().agents.push(Agent {
        id: Uuid::new_v4().to_string(),
        email: ADMIN_EMAIL.to_owned(),
        name: "Admin".to_owned(),
        role: "admin".to_owned(),
        password: ADMIN_PASSWORD.to_owned(),
        created_at: now_rfc3339(),
    });
    let app = Router::new()
        .route("/healthz", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/v1/auth/login", post(rest::login))
        .route("/v1/agents", post(rest::create_agent))
        .route("/v1/chats", post(rest::start_chat))
        .route("/v1/chats/{chat_id}", get(rest::get_chat))
        .route(
            "/v1/chats/{chat_id}/messages",
            get(rest::list_messages).post(rest::post_message),
        )
        .route("/v1/me", get(rest::me))
        .route("/v1/ws", get(ws::upgrade))
        .layer(axum::middleware::map_response_with_state(
            fake.clone(),
            admit_any_origin_with_credentials,
        ))
        .with_state(fake);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let address = listener.local_addr().expect("a bound address");
    tokio::spawn(async move {
        axum::serve(listener, app)
            .await
            .expect("the fake server runs");
    });
    address
}

impl Fake {
    fn lock(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock().expect("the store is not poisoned")
    }

    fn planted(&self, fault: Fault) -> bool {
        self.faults.contains(&fault)
    }
}

/// Planted: any origin, with credentials, on every answer.
async fn admit_any_origin_with_credentials(
    State(fake): State<Shared>,
    mut response: Response,
) -> Response {
    if !fake.planted(Fault::WildcardWithCredentials) {
        return response;
    }
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
        HeaderValue::from_static("true"),
    );
    response
}

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn rfc3339(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn error(status: StatusCode, code: &str) -> Response {
    let body = Json(json!({"error": {"code": code, "message": format!("Refused: {code}.")}}));
    if status == StatusCode::UNAUTHORIZED {
        (status, [(header::WWW_AUTHENTICATE, "Bearer")], body).into_response()
    } else {
        (status, body).into_response()
    }
}

fn own_chat(claims: &Value, chat: &str) -> bool {
    claims["type"] == "agent" || claims["chat"]["id"] == chat
}

fn author(claims: &Value) -> Value {
    match claims["type"].as_str() {
        Some("agent") => json!({"type": "agent", "id": claims["sub"], "name": claims["name"]}),
        _ => json!({"type": "guest", "id": claims["sub"], "name": "Visitor"}),
    }
}

/// A message handed out to a send, and whether an earlier send with the
/// same client_msg_id got it first.
struct Reserved {
    message: Value,
    duplicate: bool,
}

/// Reserves the next `seq` and builds the message, not yet stored; a
/// resend gets the message of its first send.
fn reserve(fake: &Fake, chat: &str, claims: &Value, client_msg_id: &str, body: &str) -> Reserved {
    let mut store = fake.lock();
    let key = (
        chat.to_owned(),
        claims["sub"].as_str().unwrap_or_default().to_owned(),
        client_msg_id.to_owned(),
    );
    if let Some(message) = store.sent.get(&key) {
        return Reserved {
            message: message.clone(),
            duplicate: true,
        };
    }
    let skip = fake.planted(Fault::SkippedSeq);
    let last = store.last_seq.entry(chat.to_owned()).or_insert(0);
    // Planted: after a chat's third message, one seq is skipped.
    *last += if skip && *last == 3 { 2 } else { 1 };
    let message = json!({
        "id": Uuid::new_v4().to_string(), "chat_id": chat, "seq": *last, "author": author(claims),
        "body": body, "client_msg_id": client_msg_id, "created_at": now_rfc3339(),
    });
    store.sent.insert(key, message.clone());
    Reserved {
        message,
        duplicate: false,
    }
}

fn store(fake: &Fake, message: &Value) {
    let chat = message["chat_id"].as_str().unwrap_or_default().to_owned();
    let mut store = fake.lock();
    let messages = store.messages.entry(chat.clone()).or_default();
    messages.push(message.clone());
    messages.sort_by_key(|message| message["seq"].as_i64());
    if let Some(row) = store.chats.get_mut(&chat) {
        row["last_seq"] = message["seq"].clone();
    }
    drop(store);
    let _ = fake.events.send(Event {
        chat,
        frame: json!({"type": "message", "message": message}),
        from: None,
    });
}

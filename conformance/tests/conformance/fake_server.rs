//! A small, deliberately non-conforming Byrd server, to show that the
//! runner fails what it should and only that.
//!
//! It implements just enough of the protocol for the self-test's cases
//! (login, agents, chats, messages, `/v1/me`, and a WebSocket with
//! `hello`, `send`, `subscribe`, `ping` and `refresh_token`), correctly,
//! except for six planted faults:
//!
//! - it accepts `alg: none` tokens without a signature;
//! - it ignores `aud`;
//! - it lets a guest read any chat with `GET /v1/chats/{chat_id}`;
//! - it acks a WebSocket `send` before storing the message;
//! - it skips a `seq` after a chat's third message;
//! - it drops the connection on a client's close frame instead of
//!   answering it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use byrd_conformance::jwt::{self, Hmac};
use serde_json::{Value, json};
use tokio::sync::broadcast;
use uuid::Uuid;

pub const SECRET: &str = "fake-server-secret-that-is-at-least-32-bytes";
pub const KID: &str = "byrd-1";
pub const ADMIN_EMAIL: &str = "admin@fake.example";
pub const ADMIN_PASSWORD: &str = "fake admin password";

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
}

struct Fake {
    store: Mutex<Store>,
    /// Every stored message, to every connection; each keeps its chats.
    events: broadcast::Sender<(String, Value)>,
}

type Shared = Arc<Fake>;

/// Starts the fake server on a free port; it lives as long as the runtime.
pub async fn spawn() -> SocketAddr {
    let (events, _) = broadcast::channel(1024);
    let fake = Arc::new(Fake {
        store: Mutex::new(Store::default()),
        events,
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
        .route("/v1/auth/login", post(login))
        .route("/v1/agents", post(create_agent))
        .route("/v1/chats", post(start_chat))
        .route("/v1/chats/{chat_id}", get(get_chat))
        .route(
            "/v1/chats/{chat_id}/messages",
            get(list_messages).post(post_message),
        )
        .route("/v1/me", get(me))
        .route("/v1/ws", get(upgrade))
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

fn sign(claims: &Value) -> String {
    jwt::sign(
        &jwt::byrd_header(KID),
        claims,
        &Hmac::Sha256,
        SECRET.as_bytes(),
    )
}

/// Token checks in the spec's order, with two planted faults.
fn verify(token: &str) -> Result<Value, &'static str> {
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() < 2 || parts.len() > 3 {
        return Err("token_invalid");
    }
    let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).map_err(|_| "token_invalid");
    let header: Value = serde_json::from_slice(&decode(parts[0])?).map_err(|_| "token_invalid")?;
    let claims: Value = serde_json::from_slice(&decode(parts[1])?).map_err(|_| "token_invalid")?;
    let alg = header["alg"].as_str().unwrap_or_default();
    // FAULT: `alg: none` skips the signature.
    if !alg.eq_ignore_ascii_case("none") {
        if alg != "HS256" || header["kid"] != KID || parts.len() != 3 {
            return Err("token_invalid");
        }
        let input = format!("{}.{}", parts[0], parts[1]);
        let expected = Hmac::Sha256.mac(SECRET.as_bytes(), input.as_bytes());
        if decode(parts[2])? != expected {
            return Err("token_invalid");
        }
    }
    let now = chrono::Utc::now().timestamp();
    match claims["exp"].as_i64() {
        None => return Err("token_invalid"),
        Some(exp) if exp < now - 30 => return Err("token_expired"),
        Some(_) => {}
    }
    // FAULT: `aud` is never looked at.
    if claims["iss"] != "byrd" {
        return Err("token_invalid");
    }
    let shaped = match claims["type"].as_str() {
        Some("agent") => claims["role"].is_string() && claims["name"].is_string(),
        Some("guest") => claims["chat"]["id"].is_string(),
        _ => false,
    };
    if !shaped || !claims["sub"].is_string() || claims["jti"].as_str().is_none_or(str::is_empty) {
        return Err("token_invalid");
    }
    Ok(claims)
}

/// The verified claims of a request's bearer token.
struct Claims(Value);

impl<S: Send + Sync> FromRequestParts<S> for Claims {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            return Err(error(StatusCode::UNAUTHORIZED, "token_missing"));
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|value| value.strip_prefix("Bearer "))
            .ok_or_else(|| error(StatusCode::UNAUTHORIZED, "token_invalid"))?;
        verify(token.trim())
            .map(Claims)
            .map_err(|code| error(StatusCode::UNAUTHORIZED, code))
    }
}

fn agent_json(agent: &Agent) -> Value {
    json!({"id": agent.id, "email": agent.email, "name": agent.name, "role": agent.role, "created_at": agent.created_at})
}

async fn login(State(fake): State<Shared>, Json(body): Json<Value>) -> Response {
    let store = fake.lock();
    let email = body["email"]
        .as_str()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let Some(agent) = store
        .agents
        .iter()
        .find(|agent| agent.email == email && body["password"] == agent.password.as_str())
    else {
        return error(StatusCode::UNAUTHORIZED, "invalid_credentials");
    };
    let now = chrono::Utc::now().timestamp();
    let claims = json!({
        "type": "agent", "iss": "byrd", "aud": "byrd", "sub": agent.id, "role": agent.role,
        "name": agent.name, "iat": now, "exp": now + 900, "jti": Uuid::new_v4().to_string(),
        "sid": Uuid::new_v4().to_string(),
    });
    Json(json!({
        "access_token": sign(&claims), "token_type": "Bearer", "expires_in": 900,
        "refresh_token": format!("byrd_rt_{}", Uuid::new_v4().simple()),
        "agent": agent_json(agent),
    }))
    .into_response()
}

async fn create_agent(
    State(fake): State<Shared>,
    Claims(claims): Claims,
    Json(body): Json<Value>,
) -> Response {
    if claims["type"] != "agent" || claims["role"] != "admin" {
        return error(StatusCode::FORBIDDEN, "forbidden");
    }
    let agent = Agent {
        id: Uuid::new_v4().to_string(),
        email: body["email"]
            .as_str()
            .unwrap_or_default()
            .to_ascii_lowercase(),
        name: body["name"].as_str().unwrap_or("Agent").to_owned(),
        role: body["role"].as_str().unwrap_or("agent").to_owned(),
        password: body["password"].as_str().unwrap_or_default().to_owned(),
        created_at: now_rfc3339(),
    };
    let created = agent_json(&agent);
    fake.lock().agents.push(agent);
    (StatusCode::CREATED, Json(created)).into_response()
}

async fn start_chat(State(fake): State<Shared>) -> Response {
    let id = Uuid::new_v4().to_string();
    let visitor = Uuid::new_v4().to_string();
    let created_at = now_rfc3339();
    let chat = json!({
        "id": id, "status": "open", "visitor": {"id": visitor, "name": "Visitor", "email": null},
        "subject": null, "assigned_agent_id": null, "assigned_agent_name": null, "created_at": created_at,
        "updated_at": created_at, "closed_at": null, "last_seq": 0,
    });
    let now = chrono::Utc::now().timestamp();
    let token = sign(&json!({
        "type": "guest", "iss": "byrd", "aud": "byrd", "sub": visitor,
        "chat": {"id": id, "created_at": created_at}, "iat": now, "exp": now + 86_400,
        "jti": Uuid::new_v4().to_string(),
    }));
    fake.lock().chats.insert(id, chat.clone());
    (
        StatusCode::CREATED,
        Json(json!({"chat": chat, "guest_token": token, "expires_in": 86_400})),
    )
        .into_response()
}

fn own_chat(claims: &Value, chat: &str) -> bool {
    claims["type"] == "agent" || claims["chat"]["id"] == chat
}

async fn get_chat(
    State(fake): State<Shared>,
    Claims(_claims): Claims,
    Path(chat): Path<String>,
) -> Response {
    // FAULT: no check that a guest's chat claim names this chat.
    match fake.lock().chats.get(&chat) {
        Some(found) => Json(found.clone()).into_response(),
        None => error(StatusCode::NOT_FOUND, "chat_not_found"),
    }
}

async fn list_messages(
    State(fake): State<Shared>,
    Claims(claims): Claims,
    Path(chat): Path<String>,
) -> Response {
    if !own_chat(&claims, &chat) {
        return error(StatusCode::FORBIDDEN, "forbidden");
    }
    let store = fake.lock();
    if !store.chats.contains_key(&chat) {
        return error(StatusCode::NOT_FOUND, "chat_not_found");
    }
    let messages = store.messages.get(&chat).cloned().unwrap_or_default();
    Json(json!({"messages": messages, "has_more": false})).into_response()
}

fn author(claims: &Value) -> Value {
    match claims["type"].as_str() {
        Some("agent") => json!({"type": "agent", "id": claims["sub"], "name": claims["name"]}),
        _ => json!({"type": "guest", "id": claims["sub"], "name": "Visitor"}),
    }
}

/// Reserves the next `seq` and builds the message, not yet stored.
fn reserve(fake: &Fake, chat: &str, claims: &Value, client_msg_id: &str, body: &str) -> Value {
    let mut store = fake.lock();
    let last = store.last_seq.entry(chat.to_owned()).or_insert(0);
    // FAULT: after a chat's third message, one seq is skipped.
    *last += if *last == 3 { 2 } else { 1 };
    json!({
        "id": Uuid::new_v4().to_string(), "chat_id": chat, "seq": *last, "author": author(claims),
        "body": body, "client_msg_id": client_msg_id, "created_at": now_rfc3339(),
    })
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
    let _ = fake
        .events
        .send((chat, json!({"type": "message", "message": message})));
}

async fn post_message(
    State(fake): State<Shared>,
    Claims(claims): Claims,
    Path(chat): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    if !own_chat(&claims, &chat) {
        return error(StatusCode::FORBIDDEN, "forbidden");
    }
    if !fake.lock().chats.contains_key(&chat) {
        return error(StatusCode::NOT_FOUND, "chat_not_found");
    }
    let client_msg_id = body["client_msg_id"].as_str().unwrap_or_default();
    let text = body["body"].as_str().unwrap_or_default();
    let message = reserve(&fake, &chat, &claims, client_msg_id, text);
    store(&fake, &message);
    (StatusCode::CREATED, Json(message)).into_response()
}

async fn me(Claims(claims): Claims) -> Response {
    let expires = rfc3339(claims["exp"].as_i64().unwrap_or_default());
    Json(match claims["type"].as_str() {
        Some("agent") => json!({
            "type": "agent", "id": claims["sub"], "name": claims["name"],
            "role": claims["role"], "token_expires_at": expires,
        }),
        _ => json!({
            "type": "guest", "id": claims["sub"], "chat_id": claims["chat"]["id"],
            "token_expires_at": expires,
        }),
    })
    .into_response()
}

async fn upgrade(
    State(fake): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    let token = query.get("token").cloned().or_else(|| {
        headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::to_owned)
    });
    let Some(token) = token else {
        return error(StatusCode::UNAUTHORIZED, "token_missing");
    };
    let claims = match verify(&token) {
        Ok(claims) => claims,
        Err(code) => return error(StatusCode::UNAUTHORIZED, code),
    };
    let Ok(ws) = ws else {
        return error(StatusCode::BAD_REQUEST, "invalid_request");
    };
    ws.on_upgrade(move |socket| serve(fake, socket, claims))
}

async fn send(socket: &mut WebSocket, frame: Value) -> bool {
    socket.send(Message::text(frame.to_string())).await.is_ok()
}

fn error_frame(code: &str, reference: &Value) -> Value {
    json!({"type": "error", "code": code, "message": format!("Refused: {code}."), "ref": reference})
}

async fn serve(fake: Shared, mut socket: WebSocket, mut claims: Value) {
    let mut events = fake.events.subscribe();
    let hello = json!({
        "type": "hello", "protocol_version": "1.0.0", "connection_id": Uuid::new_v4().to_string(),
        "principal": {"type": claims["type"], "id": claims["sub"]},
        "heartbeat_interval_ms": 25_000,
        "token_expires_at": rfc3339(claims["exp"].as_i64().unwrap_or_default()),
        "limits": {"frames_per_second": 20, "frame_burst": 40, "max_frame_bytes": 65_536,
                   "max_message_chars": 4000, "replay_cap": 1000},
    });
    if !send(&mut socket, hello).await {
        return;
    }
    let mut chats: Vec<String> = claims["chat"]["id"]
        .as_str()
        .map(str::to_owned)
        .into_iter()
        .collect();
    loop {
        tokio::select! {
            event = events.recv() => {
                let Ok((chat, frame)) = event else { continue };
                if chats.contains(&chat) && !send(&mut socket, frame).await {
                    return;
                }
            }
            incoming = socket.recv() => {
                let Some(Ok(message)) = incoming else { return };
                let text = match message {
                    Message::Text(text) => text.to_string(),
                    // Planted: the close is not answered.
                    Message::Close(_) => return,
                    Message::Binary(_) => {
                        if !send(&mut socket, error_frame("invalid_json", &Value::Null)).await { return; }
                        continue;
                    }
                    _ => continue,
                };
                let Ok(frame) = serde_json::from_str::<Value>(&text) else {
                    if !send(&mut socket, error_frame("invalid_json", &Value::Null)).await { return; }
                    continue;
                };
                for answer in apply(&fake, &mut claims, &mut chats, &frame).await {
                    if !send(&mut socket, answer).await { return; }
                }
            }
        }
    }
}

/// The answers to one client frame.
async fn apply(
    fake: &Shared,
    claims: &mut Value,
    chats: &mut Vec<String>,
    frame: &Value,
) -> Vec<Value> {
    let reference = frame
        .get("ref")
        .or_else(|| frame.get("client_msg_id"))
        .cloned()
        .unwrap_or(Value::Null);
    let chat = frame["chat_id"].as_str().unwrap_or_default().to_owned();
    match frame["type"].as_str() {
        Some("ping") => vec![
            json!({"type": "pong", "nonce": frame.get("nonce").cloned().unwrap_or(Value::Null)}),
        ],
        Some("send") => {
            if !own_chat(claims, &chat) {
                return vec![error_frame("forbidden", &reference)];
            }
            let client_msg_id = frame["client_msg_id"].as_str().unwrap_or_default();
            let body = frame["body"].as_str().unwrap_or_default();
            let message = reserve(fake, &chat, claims, client_msg_id, body);
            // FAULT: the ack goes out before the message is stored.
            let ack = json!({"type": "ack", "client_msg_id": client_msg_id, "message": message, "duplicate": false});
            let fake = Arc::clone(fake);
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(300)).await;
                store(&fake, &message);
            });
            vec![ack]
        }
        Some("subscribe") => {
            if !own_chat(claims, &chat) {
                return vec![error_frame("forbidden", &reference)];
            }
            let after = frame["after_seq"].as_i64().unwrap_or(0);
            let messages = fake.lock().messages.get(&chat).cloned().unwrap_or_default();
            let mut answers: Vec<Value> = messages
                .iter()
                .filter(|message| message["seq"].as_i64().unwrap_or(0) > after)
                .map(|message| json!({"type": "message", "message": message}))
                .collect();
            let last = messages
                .last()
                .map_or(0, |message| message["seq"].as_i64().unwrap_or(0));
            answers.push(
                json!({"type": "subscribed", "chat_id": chat, "recovered": true, "last_seq": last}),
            );
            if !chats.contains(&chat) {
                chats.push(chat);
            }
            answers
        }
        Some("refresh_token") => {
            let token = frame["token"].as_str().unwrap_or_default();
            match verify(token) {
                Err(code) => vec![error_frame(code, &reference)],
                Ok(new) if new["type"] != claims["type"] || new["sub"] != claims["sub"] => {
                    vec![error_frame("forbidden", &reference)]
                }
                Ok(new) => {
                    let expires = rfc3339(new["exp"].as_i64().unwrap_or_default());
                    *claims = new;
                    vec![json!({"type": "token_refreshed", "token_expires_at": expires})]
                }
            }
        }
        Some(_) => vec![error_frame("unknown_frame_type", &reference)],
        None => vec![error_frame("invalid_frame", &reference)],
    }
}

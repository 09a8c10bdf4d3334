//! The fake's WebSocket: `hello`, then `send`, `subscribe`, `typing`,
//! `ping` and `refresh_token`, `token_expiring` a minute before the
//! token's `exp` and the 4001 close past it, right unless a fault is
//! planted (see [`Fault`]).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};
use tokio::sync::broadcast;
use tokio::time::Instant;
use uuid::Uuid;

use super::tokens::verify;
use super::{
    Event, Fault, LEEWAY_SECS, REPLAY_CAP, Shared, author, error, own_chat, reserve, rfc3339, store,
};

pub(super) async fn upgrade(
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
    let claims = match verify(&fake, &token) {
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

/// When a token's warning and its close are due.
struct Expiry {
    exp: i64,
    warn_at: Instant,
    close_at: Instant,
    warned: bool,
}

impl Expiry {
    fn of(claims: &Value) -> Expiry {
        let exp = claims["exp"].as_i64().unwrap_or_default();
        let in_millis = |at: i64| {
            let millis = at * 1000 - chrono::Utc::now().timestamp_millis();
            Instant::now() + Duration::from_millis(u64::try_from(millis).unwrap_or(0))
        };
        Expiry {
            exp,
            warn_at: in_millis(exp - 60),
            close_at: in_millis(exp + LEEWAY_SECS),
            warned: false,
        }
    }
}

/// A connection: its principal, the chats it follows, its token's expiry.
struct Connection {
    id: String,
    claims: Value,
    chats: Vec<String>,
    expiry: Expiry,
}

async fn serve(fake: Shared, mut socket: WebSocket, claims: Value) {
    let mut events = fake.events.subscribe();
    let hello = json!({
        "type": "hello", "protocol_version": "1.0.0", "connection_id": Uuid::new_v4().to_string(),
        "principal": {"type": claims["type"], "id": claims["sub"]},
        "heartbeat_interval_ms": 25_000,
        "token_expires_at": rfc3339(claims["exp"].as_i64().unwrap_or_default()),
        "limits": {"frames_per_second": 20, "frame_burst": 40, "max_frame_bytes": 65_536,
                   "max_message_chars": 4000, "replay_cap": REPLAY_CAP},
    });
    if !send(&mut socket, hello).await {
        return;
    }
    let mut connection = Connection {
        id: Uuid::new_v4().to_string(),
        chats: claims["chat"]["id"]
            .as_str()
            .map(str::to_owned)
            .into_iter()
            .collect(),
        expiry: Expiry::of(&claims),
        claims,
    };
    loop {
        let warned = connection.expiry.warned;
        tokio::select! {
            () = tokio::time::sleep_until(connection.expiry.warn_at), if !warned => {
                connection.expiry.warned = true;
                let warning = json!({"type": "token_expiring", "expires_at": rfc3339(connection.expiry.exp)});
                if !send(&mut socket, warning).await { return; }
            }
            () = tokio::time::sleep_until(connection.expiry.close_at) => {
                // Planted: the expiry close goes out as a normal one.
                let code = if fake.planted(Fault::ExpiryClosedWith1000) { 1000 } else { 4001 };
                let close = CloseFrame { code, reason: "token_expired".into() };
                let _ = socket.send(Message::Close(Some(close))).await;
                return;
            }
            event = events.recv() => {
                let Ok(event) = event else { continue };
                if hears(&fake, &connection, &event) && !send(&mut socket, event.frame).await {
                    return;
                }
            }
            incoming = socket.recv() => {
                let Some(Ok(message)) = incoming else { return };
                let text = match message {
                    Message::Text(text) => text.to_string(),
                    Message::Close(_) => {
                        // Reading on sends the echo of the close that the
                        // WebSocket layer queued. Planted: it never goes.
                        if !fake.planted(Fault::CloseUnanswered) {
                            while let Some(Ok(_)) = socket.recv().await {}
                        }
                        return;
                    }
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
                if !deliver_pending(&fake, &connection, &mut events, &mut socket).await {
                    return;
                }
                for answer in apply(&fake, &mut connection, &frame) {
                    if !send(&mut socket, answer).await { return; }
                }
            }
        }
    }
}

/// Delivers the events already published, judged by the chats followed
/// before the client frame being handled, as a server's fan-out would;
/// `false` when the socket is gone.
async fn deliver_pending(
    fake: &Shared,
    connection: &Connection,
    events: &mut broadcast::Receiver<Event>,
    socket: &mut WebSocket,
) -> bool {
    while let Ok(event) = events.try_recv() {
        if hears(fake, connection, &event) && !send(socket, event.frame).await {
            return false;
        }
    }
    true
}

/// Whether `connection` hears `event`: a chat it follows, from another
/// connection.
fn hears(fake: &Shared, connection: &Connection, event: &Event) -> bool {
    if event.from.as_deref() == Some(connection.id.as_str()) {
        return false;
    }
    // Planted: a guest hears every chat's messages.
    let pushed = fake.planted(Fault::OtherChatsPushedToGuests)
        && connection.claims["type"] == "guest"
        && event.frame["type"] == "message";
    pushed || connection.chats.contains(&event.chat)
}

/// The answers to one client frame.
fn apply(fake: &Shared, connection: &mut Connection, frame: &Value) -> Vec<Value> {
    let reference = frame
        .get("ref")
        .or_else(|| frame.get("client_msg_id"))
        .cloned()
        .unwrap_or(Value::Null);
    let chat = frame["chat_id"].as_str().unwrap_or_default().to_owned();
    let claims = &connection.claims;
    match frame["type"].as_str() {
        Some("ping") => vec![
            json!({"type": "pong", "nonce": frame.get("nonce").cloned().unwrap_or(Value::Null)}),
        ],
        Some("send" | "subscribe" | "typing") if !own_chat(claims, &chat) => {
            vec![error_frame("forbidden", &reference)]
        }
        Some("send") => send_message(fake, claims, &chat, frame),
        Some("subscribe") => {
            let answers = replay(fake, &chat, frame["after_seq"].as_i64().unwrap_or(0));
            if !connection.chats.contains(&chat) {
                connection.chats.push(chat);
            }
            answers
        }
        Some("typing") => {
            // Planted: `typing` reaches no one.
            if !fake.planted(Fault::DroppedTyping) {
                let _ = fake.events.send(Event {
                    frame: json!({"type": "typing", "chat_id": chat, "author": author(claims), "active": frame["active"] == true}),
                    chat,
                    from: Some(connection.id.clone()),
                });
            }
            Vec::new()
        }
        Some("refresh_token") => match verify(fake, frame["token"].as_str().unwrap_or_default()) {
            Err(code) => vec![error_frame(code, &reference)],
            Ok(new) if new["type"] != claims["type"] || new["sub"] != claims["sub"] => {
                vec![error_frame("forbidden", &reference)]
            }
            Ok(new) => {
                connection.expiry = Expiry::of(&new);
                let expires = rfc3339(connection.expiry.exp);
                connection.claims = new;
                vec![json!({"type": "token_refreshed", "token_expires_at": expires})]
            }
        },
        Some(_) => vec![error_frame("unknown_frame_type", &reference)],
        None => vec![error_frame("invalid_frame", &reference)],
    }
}

/// A `send`: reserved, stored, acked.
fn send_message(fake: &Shared, claims: &Value, chat: &str, frame: &Value) -> Vec<Value> {
    let client_msg_id = frame["client_msg_id"].as_str().unwrap_or_default();
    let body = frame["body"].as_str().unwrap_or_default();
    let reserved = reserve(fake, chat, claims, client_msg_id, body);
    let message = reserved.message;
    // Planted: a resend is acked as new, `duplicate: false`.
    let duplicate = reserved.duplicate && !fake.planted(Fault::ResendAckedAsNew);
    let ack = json!({"type": "ack", "client_msg_id": client_msg_id, "message": message, "duplicate": duplicate});
    if reserved.duplicate {
        return vec![ack];
    }
    if !fake.planted(Fault::AckBeforeStore) {
        store(fake, &message);
        return vec![ack];
    }
    // Planted: the ack goes out before the message is stored.
    let fake = Arc::clone(fake);
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        store(&fake, &message);
    });
    vec![ack]
}

/// The replay of a `subscribe` after `after`, then `subscribed`: nothing
/// and `recovered: false` past the announced cap.
fn replay(fake: &Shared, chat: &str, after: i64) -> Vec<Value> {
    let messages = fake.lock().messages.get(chat).cloned().unwrap_or_default();
    let last = messages
        .last()
        .map_or(0, |message| message["seq"].as_i64().unwrap_or(0));
    let missing: Vec<&Value> = messages
        .iter()
        .filter(|message| message["seq"].as_i64().unwrap_or(0) > after)
        .collect();
    // Planted: the cap `hello` announces is not kept.
    let capped = i64::try_from(missing.len()).unwrap_or(i64::MAX) > REPLAY_CAP
        && !fake.planted(Fault::IgnoredReplayCap);
    let mut answers: Vec<Value> = if capped {
        Vec::new()
    } else {
        missing
            .iter()
            .map(|message| json!({"type": "message", "message": message}))
            .collect()
    };
    answers.push(
        json!({"type": "subscribed", "chat_id": chat, "recovered": !capped, "last_seq": last}),
    );
    answers
}

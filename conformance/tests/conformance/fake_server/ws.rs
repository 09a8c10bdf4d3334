//! The fake's WebSocket: `hello`, then `send`, `subscribe`, `ping` and
//! `refresh_token`, right except that a `send` is acked before it is
//! stored, a resend's `ack` says `duplicate: false` and a client's close
//! frame is not answered.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};
use uuid::Uuid;

use super::tokens::verify;
use super::{Shared, error, own_chat, reserve, rfc3339, store};

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
            let reserved = reserve(fake, &chat, claims, client_msg_id, body);
            let message = reserved.message;
            // FAULT: a resend is acked as new, `duplicate: false`.
            let ack = json!({"type": "ack", "client_msg_id": client_msg_id, "message": message, "duplicate": false});
            if reserved.duplicate {
                return vec![ack];
            }
            // FAULT: the ack goes out before the message is stored.
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

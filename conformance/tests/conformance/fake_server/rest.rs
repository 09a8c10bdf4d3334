//! The fake's REST endpoints: login, agents, chats, messages and
//! `/v1/me`, right unless a guest may read any chat.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use uuid::Uuid;

use super::tokens::{Claims, sign};
use super::{Agent, Fault, Shared, error, now_rfc3339, own_chat, reserve, rfc3339, store};

fn agent_json(agent: &Agent) -> Value {
    json!({"id": agent.id, "email": agent.email, "name": agent.name, "role": agent.role, "created_at": agent.created_at, "active": true, "deactivated_at": null})
}

pub(super) async fn login(State(fake): State<Shared>, Json(body): Json<Value>) -> Response {
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

pub(super) async fn create_agent(
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

pub(super) async fn start_chat(State(fake): State<Shared>) -> Response {
    let id = Uuid::new_v4().to_string();
    let visitor = Uuid::new_v4().to_string();
    let created_at = now_rfc3339();
    let chat = json!({
        "id": id, "status": "open",
        "visitor": {"id": visitor, "name": "Visitor", "email": null, "verified": false,
                    "issuer": null, "external_id": null, "attributes": []},
        "subject": null, "assigned_agent_id": null, "assigned_agent_name": null, "created_at": created_at,
        "updated_at": created_at, "closed_at": null, "close_reason": null, "last_seq": 0,
        "context": {"page_url": null, "page_title": null, "referrer": null, "locale": null,
                    "time_zone": null, "browser": null, "os": null},
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
        Json(json!({"chat": chat, "guest_token": token, "expires_in": 86_400, "visitor_token": null})),
    )
        .into_response()
}

pub(super) async fn get_chat(
    State(fake): State<Shared>,
    Claims(claims): Claims,
    Path(chat): Path<String>,
) -> Response {
    // Planted: no check that a guest's chat claim names this chat.
    if !fake.planted(Fault::GuestReadsAnyChat) && !own_chat(&claims, &chat) {
        return error(StatusCode::FORBIDDEN, "forbidden");
    }
    match fake.lock().chats.get(&chat) {
        Some(found) => Json(found.clone()).into_response(),
        None => error(StatusCode::NOT_FOUND, "chat_not_found"),
    }
}

pub(super) async fn list_messages(
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

pub(super) async fn post_message(
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
    let reserved = reserve(&fake, &chat, &claims, client_msg_id, text);
    if reserved.duplicate {
        return Json(reserved.message).into_response();
    }
    store(&fake, &reserved.message);
    (StatusCode::CREATED, Json(reserved.message)).into_response()
}

pub(super) async fn me(Claims(claims): Claims) -> Response {
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

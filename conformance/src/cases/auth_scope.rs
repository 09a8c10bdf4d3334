//! `auth.scope.*`: who may call what (spec: "Agent or guest: the
//! exclusion rules", "Guests: the chat-start token", "Who may do what").
//!
//! A guest token opens its own chat and nothing else, over REST and the
//! WebSocket alike; an agent token is refused where only a guest may act;
//! an agent whose role is `agent` is refused where only an admin may act.
//! Every refusal is `403 forbidden` (an `error` frame over the socket),
//! and the other chat hears nothing of the attempt.

use reqwest::Method;
use serde_json::{Value, json};

use crate::case::{Case, CaseResult};
use crate::checks::{self, expect_error, expect_error_frame};
use crate::context::{Chat, Ctx};
use crate::wire::ws::kind;

use super::properties::leaks;
use super::ws_steps::{ack_and_message, send_frame};

/// Agent-only operations, as `(slug, method, path template)`; `{own}` is
/// the guest's own chat.
const AGENT_ONLY: [(&str, &str, &str); 6] = [
    ("list-chats", "GET", "/v1/chats"),
    ("assign", "POST", "/v1/chats/{own}/assign"),
    ("close", "POST", "/v1/chats/{own}/close"),
    ("list-agents", "GET", "/v1/agents"),
    ("create-agent", "POST", "/v1/agents"),
    ("logout", "POST", "/v1/auth/logout"),
];

/// What a guest of chat A may try on chat B over REST.
const OTHER_CHAT_REST: [(&str, &str, &str); 5] = [
    ("get-chat", "GET", "/v1/chats/{chat}"),
    ("list-messages", "GET", "/v1/chats/{chat}/messages"),
    ("list-reads", "GET", "/v1/chats/{chat}/reads"),
    ("post-message", "POST", "/v1/chats/{chat}/messages"),
    ("renew-token", "POST", "/v1/chats/{chat}/token"),
];

pub fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for (slug, method, path) in AGENT_ONLY {
        cases.push(Case::must(
            format!("auth.scope.guest-on-agent-endpoint.{slug}"),
            "agent-or-guest-the-exclusion-rules",
            format!("`{method} {path}` answers a guest token with 403 forbidden"),
            move |ctx| guest_on_agent_endpoint(ctx, method, path),
        ));
    }
    cases.push(Case::must(
        "auth.scope.agent-on-guest-endpoint",
        "guests-the-chat-start-token",
        "`POST /v1/chats/{chat_id}/token` answers an agent token with 403 forbidden",
        agent_on_guest_endpoint,
    ));
    cases.push(Case::must(
        "auth.scope.agent-on-admin-endpoint",
        "agent-or-guest-the-exclusion-rules",
        "`POST /v1/agents` answers an agent whose role is `agent` with 403 forbidden",
        agent_on_admin_endpoint,
    ));
    for (slug, method, path) in OTHER_CHAT_REST {
        cases.push(Case::must(
            format!("auth.scope.other-chat.{slug}"),
            "guests-the-chat-start-token",
            format!("`{method} {path}` answers a guest token of another chat with 403 forbidden, and changes nothing"),
            move |ctx| other_chat_rest(ctx, method, path),
        ));
    }
    cases.push(Case::must(
        "auth.scope.other-chat.unknown-chat",
        "guests-the-chat-start-token",
        "a guest asking for a chat that does not exist gets 403 forbidden, not 404, so it cannot probe for chats",
        unknown_chat,
    ));
    cases.push(Case::must(
        "auth.scope.other-chat.never-delivered",
        "who-may-do-what",
        "a guest hears nothing of another chat when that chat's guest posts over REST and an agent sends there over the WebSocket, and its own chat's history holds none of it",
        never_delivered,
    ));
    for slug in ["subscribe", "send", "typing", "read"] {
        cases.push(Case::must(
            format!("auth.scope.other-chat.ws-{slug}"),
            "who-may-do-what",
            format!("a guest's `{slug}` naming another chat is answered with `error` forbidden echoing `ref`, and that chat hears nothing"),
            move |ctx| other_chat_ws(ctx, slug),
        ));
    }
    cases
}

fn fill(path: &str, chat: &str) -> String {
    path.replace("{own}", chat).replace("{chat}", chat)
}

fn body_for(path: &str) -> Option<Value> {
    if path.ends_with("/messages") {
        Some(json!({"client_msg_id": "intruder-1", "body": "let me in"}))
    } else if path == "/v1/agents" {
        Some(json!({
            "email": format!("intruder-{}@example.com", uuid::Uuid::new_v4()),
            "name": "Intruder", "role": "admin", "password": "a password of the intruder",
        }))
    } else {
        None
    }
}

async fn call(
    ctx: &Ctx,
    method: &str,
    path: &str,
    token: &str,
) -> Result<crate::wire::http::Reply, crate::case::Failure> {
    let method = Method::from_bytes(method.as_bytes()).unwrap_or(Method::GET);
    let mut request = ctx.request(method, path).bearer(token);
    if let Some(body) = body_for(path) {
        request = request.json(body);
    }
    request.send().await
}

async fn guest_on_agent_endpoint(ctx: Ctx, method: &'static str, path: &'static str) -> CaseResult {
    let chat = ctx.shared_chat().await?;
    let path = fill(path, &chat.id);
    let reply = call(&ctx, method, &path, &chat.guest_token).await?;
    expect_error(
        &reply,
        403,
        "forbidden",
        &format!("{method} {path} with a guest token"),
    )?;
    Ok(())
}

async fn agent_on_guest_endpoint(ctx: Ctx) -> CaseResult {
    let agent = ctx.agent().await?;
    let chat = ctx.shared_chat().await?;
    let path = format!("/v1/chats/{}/token", chat.id);
    let reply = ctx.post(&path).bearer(&agent.access_token).send().await?;
    expect_error(
        &reply,
        403,
        "forbidden",
        &format!("POST {path} with an agent token"),
    )?;
    Ok(())
}

async fn agent_on_admin_endpoint(ctx: Ctx) -> CaseResult {
    let agent = ctx.agent().await?;
    let reply = call(&ctx, "POST", "/v1/agents", &agent.access_token).await?;
    expect_error(
        &reply,
        403,
        "forbidden",
        "POST /v1/agents with the token of an agent whose role is `agent`",
    )?;
    Ok(())
}

/// Chat B's messages, as the admin sees them.
async fn history(ctx: &Ctx, chat: &Chat) -> Result<Vec<Value>, crate::case::Failure> {
    let admin = ctx.admin()?;
    let reply = ctx
        .get(format!("/v1/chats/{}/messages?limit=200", chat.id))
        .bearer(&admin.access_token)
        .send()
        .await?;
    checks::expect_status(&reply, 200, "reading the other chat's history as an agent")?;
    Ok(checks::array_at(reply.json(), "/messages", "the other chat's history")?.clone())
}

fn intruder_messages(messages: &[Value]) -> Vec<Value> {
    messages
        .iter()
        .filter(|message| {
            message["client_msg_id"]
                .as_str()
                .is_some_and(|id| id.starts_with("intruder"))
        })
        .cloned()
        .collect()
}

async fn other_chat_rest(ctx: Ctx, method: &'static str, path: &'static str) -> CaseResult {
    let own = ctx.shared_chat().await?;
    let other = ctx.other_chat().await?;
    let path = fill(path, &other.id);
    let reply = call(&ctx, method, &path, &own.guest_token).await?;
    expect_error(
        &reply,
        403,
        "forbidden",
        &format!("{method} {path} with the guest token of another chat"),
    )?;
    let stored = intruder_messages(&history(&ctx, &other).await?);
    checks::ensure(
        stored.is_empty(),
        "the other chat's history after the attempt",
        "no message of the intruder",
        || checks::show(&Value::Array(stored.clone())),
    )?;
    Ok(())
}

async fn unknown_chat(ctx: Ctx) -> CaseResult {
    let own = ctx.shared_chat().await?;
    let nowhere = uuid::Uuid::new_v4();
    for path in [
        format!("/v1/chats/{nowhere}"),
        format!("/v1/chats/{nowhere}/messages"),
    ] {
        let reply = ctx.get(&path).bearer(&own.guest_token).send().await?;
        expect_error(
            &reply,
            403,
            "forbidden",
            &format!("GET {path} (no such chat) with a guest token"),
        )?;
    }
    Ok(())
}

async fn other_chat_ws(ctx: Ctx, slug: &'static str) -> CaseResult {
    let own = ctx.shared_chat().await?;
    let other = ctx.other_chat().await?;
    let admin = ctx.admin()?;
    let (mut listener, _) = ctx.connect("agent", &admin.access_token).await?;
    // An `after_seq` past the end replays nothing: live messages only.
    listener
        .send(json!({"type": "subscribe", "chat_id": other.id, "after_seq": i64::from(i32::MAX)}))
        .await?;
    listener.expect("subscribed").await?;
    let (mut intruder, _) = ctx.connect("guest", &own.guest_token).await?;

    let attempt = match slug {
        "subscribe" => {
            json!({"type": "subscribe", "chat_id": other.id, "after_seq": 0, "ref": "r-subscribe"})
        }
        "send" => {
            json!({"type": "send", "chat_id": other.id, "client_msg_id": "intruder-ws", "body": "let me in"})
        }
        "typing" => {
            json!({"type": "typing", "chat_id": other.id, "active": true, "ref": "r-typing"})
        }
        _ => json!({"type": "read", "chat_id": other.id, "seq": 0, "ref": "r-read"}),
    };
    let reference = attempt
        .get("ref")
        .unwrap_or(&attempt["client_msg_id"])
        .clone();
    intruder.send(attempt).await?;
    let answer = intruder.next_frame().await?;
    expect_error_frame(
        &answer,
        "forbidden",
        &reference,
        &format!("a guest's `{slug}` naming another chat"),
    )?;
    intruder.barrier().await?;

    // Anything the attempt leaked reached the listener before this marker.
    let marker = ctx
        .post(format!("/v1/chats/{}/messages", other.id))
        .bearer(&other.guest_token)
        .json(json!({"client_msg_id": format!("marker-{}", uuid::Uuid::new_v4()), "body": "the owner speaks"}))
        .send()
        .await?;
    checks::expect_status(&marker, 201, "the other chat's own guest posting a marker")?;
    let marker_id = marker.json()["client_msg_id"].clone();
    let heard = listener.next_frame().await?;
    checks::ensure(
        kind(&heard) == "message" && heard["message"]["client_msg_id"] == marker_id,
        "what an agent subscribed to the other chat hears after the attempt",
        "the owner's marker message, and nothing of the intruder before it",
        || checks::show(&heard),
    )?;
    let stored = intruder_messages(&history(&ctx, &other).await?);
    checks::ensure(
        stored.is_empty(),
        "the other chat's history after the attempt",
        "no message of the intruder",
        || checks::show(&Value::Array(stored.clone())),
    )?;
    intruder.close().await;
    listener.close().await;
    Ok(())
}

async fn never_delivered(ctx: Ctx) -> CaseResult {
    // A chat of its own, so its history holds only what this case sends.
    let own = ctx.new_chat().await?;
    let other = ctx.other_chat().await?;
    let admin = ctx.admin()?;
    let (mut guest, _) = ctx.connect("guest", &own.guest_token).await?;
    let (mut agent, _) = ctx.connect("agent", &admin.access_token).await?;
    agent
        .send(json!({"type": "subscribe", "chat_id": other.id, "after_seq": i64::from(i32::MAX)}))
        .await?;
    agent.expect("subscribed").await?;
    let secret = format!("for the other chat only {}", uuid::Uuid::new_v4());
    agent
        .send(send_frame(
            &other.id,
            &format!("other-ws-{}", uuid::Uuid::new_v4()),
            &secret,
        ))
        .await?;
    ack_and_message(&mut agent).await?;
    let posted = ctx
        .post(format!("/v1/chats/{}/messages", other.id))
        .bearer(&other.guest_token)
        .json(json!({"client_msg_id": format!("other-rest-{}", uuid::Uuid::new_v4()), "body": secret}))
        .send()
        .await?;
    checks::expect_status(&posted, 201, "the other chat's guest posting over REST")?;
    // Delivered to the other chat's subscriber: the fan-out is done.
    agent.expect("message").await?;
    let received = guest.barrier().await?;
    if let Some(leaked) = received.iter().find(|frame| leaks(frame, &other, &secret)) {
        return Err(crate::case::Failure::new(
            "what a guest of another chat received while the other chat spoke",
            "nothing of the other chat",
            checks::show(leaked),
        )
        .into());
    }
    let reply = ctx
        .get(format!("/v1/chats/{}/messages", own.id))
        .bearer(&own.guest_token)
        .send()
        .await?;
    checks::expect_status(&reply, 200, "the guest reading its own chat's history")?;
    let messages = checks::array_at(reply.json(), "/messages", "its own chat's history")?;
    let foreign: Vec<Value> = messages
        .iter()
        .filter(|message| message["chat_id"] != own.id.as_str() || leaks(message, &other, &secret))
        .cloned()
        .collect();
    checks::ensure(
        foreign.is_empty(),
        "the guest's own chat's history after the other chat spoke",
        "only messages of its own chat",
        || checks::show(&Value::Array(foreign.clone())),
    )?;
    guest.close().await;
    agent.close().await;
    Ok(())
}

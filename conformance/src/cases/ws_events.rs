//! The chat's frames besides its messages: `unsubscribe`, `typing`,
//! `read`, `chat_updated` and `presence`, and an agent naming a chat that
//! does not exist (spec: "Frames", "Who may do what").

use serde_json::{Value, json};

use crate::case::{Case, CaseResult, Failure};
use crate::checks::{self, ensure, expect_error_frame};
use crate::context::Ctx;
use crate::wire::ws::{Ws, kind};

use super::ws_steps::{post_as_guest, send_frame, subscribe};

pub fn cases() -> Vec<Case> {
    vec![
        Case::must(
            "ws.agent.unknown-chat",
            "who-may-do-what",
            "an agent's `send`, `subscribe` or `read` naming a chat that does not exist is answered `chat_not_found`; its `typing` there reaches no one and is not refused",
            agent_unknown_chat,
        ),
        Case::must(
            "ws.unsubscribe",
            "frames",
            "`unsubscribe` is always answered `unsubscribed`, even for a chat not followed; after it the chat's messages stop",
            unsubscribe,
        ),
        Case::must(
            "ws.typing.relay",
            "frames",
            "`typing` reaches the chat's other subscribers as `typing {chat_id, author, active}`, not the connection that sent it",
            typing_relay,
        ),
        Case::must(
            "ws.typing.agent-to-guest",
            "frames",
            "an agent's `typing`, started then stopped, reaches the chat's guest as `typing {chat_id, author: the agent, active}`, in that order, and not the agent",
            typing_to_guest,
        ),
        Case::must(
            "ws.read.relay",
            "frames",
            "`read` stores the position, clamped to the last seq and never moving back, tells the chat's other subscribers, and `GET /v1/chats/{chat_id}/reads` then lists it",
            read_relay,
        ),
        Case::must(
            "ws.chat-updated.agents",
            "frames",
            "every agent hears `chat_updated` when a chat is created and when it is closed",
            chat_updated,
        ),
        Case::must(
            "ws.presence.agents",
            "frames",
            "an agent hears `presence` online for agents already online after `hello`, and online/offline as another agent's first connection opens and last one closes",
            presence,
        ),
    ]
}

async fn agent_unknown_chat(ctx: Ctx) -> CaseResult {
    let admin = ctx.admin()?;
    let (mut ws, _) = ctx.connect("agent", &admin.access_token).await?;
    let nowhere = uuid::Uuid::new_v4().to_string();
    for (frame, reference) in [
        (
            json!({"type": "subscribe", "chat_id": nowhere, "after_seq": 0, "ref": "r-sub"}),
            json!("r-sub"),
        ),
        (send_frame(&nowhere, "lost", "anyone?"), json!("lost")),
        (
            json!({"type": "read", "chat_id": nowhere, "seq": 1, "ref": "r-read"}),
            json!("r-read"),
        ),
    ] {
        let what = kind(&frame).to_owned();
        ws.send(frame).await?;
        let answer = ws.next_frame().await?;
        expect_error_frame(
            &answer,
            "chat_not_found",
            &reference,
            &format!("an agent's `{what}` naming no chat"),
        )?;
    }
    ws.send(json!({"type": "typing", "chat_id": nowhere, "active": true, "ref": "r-typing"}))
        .await?;
    ws.expect_quiet("`typing` for a chat that does not exist is not checked")
        .await?;
    ws.close().await;
    Ok(())
}

async fn unsubscribe(ctx: Ctx) -> CaseResult {
    let chat = ctx.new_chat().await?;
    let admin = ctx.admin()?;
    let (mut ws, _) = ctx.connect("agent", &admin.access_token).await?;
    let stranger = uuid::Uuid::new_v4().to_string();
    ws.send(json!({"type": "unsubscribe", "chat_id": stranger}))
        .await?;
    let answer = ws.expect("unsubscribed").await?;
    checks::same(
        "unsubscribing from a chat not followed",
        &json!({"type": "unsubscribed", "chat_id": stranger}),
        &answer,
    )?;
    subscribe(&mut ws, &chat.id, 0).await?;
    post_as_guest(&ctx, &chat, "while-subscribed").await?;
    ws.expect("message").await?;
    ws.send(json!({"type": "unsubscribe", "chat_id": chat.id}))
        .await?;
    ws.expect("unsubscribed").await?;
    post_as_guest(&ctx, &chat, "after-unsubscribe").await?;
    ws.expect_quiet("no messages after `unsubscribe`").await?;
    ws.close().await;
    Ok(())
}

async fn typing_relay(ctx: Ctx) -> CaseResult {
    let chat = ctx.new_chat().await?;
    let admin = ctx.admin()?;
    let (mut agent, _) = ctx.connect("agent", &admin.access_token).await?;
    subscribe(&mut agent, &chat.id, 0).await?;
    let (mut guest, _) = ctx.connect("guest", &chat.guest_token).await?;
    guest
        .send(json!({"type": "typing", "chat_id": chat.id, "active": true}))
        .await?;
    let typing = agent.expect("typing").await?;
    ensure(
        typing["chat_id"] == chat.id.as_str()
            && typing["active"] == true
            && typing["author"]["type"] == "guest"
            && typing["author"]["id"] == chat.visitor_id.as_str(),
        "the `typing` an agent hears",
        format!(
            "chat_id {:?}, active true, author {{type: guest, id: {:?}}}",
            chat.id, chat.visitor_id
        ),
        || checks::show(&typing),
    )?;
    guest
        .expect_quiet("the sender does not hear its own `typing`")
        .await?;
    guest.close().await;
    agent.close().await;
    Ok(())
}

async fn typing_to_guest(ctx: Ctx) -> CaseResult {
    let chat = ctx.new_chat().await?;
    let admin = ctx.admin()?;
    let (mut guest, _) = ctx.connect("guest", &chat.guest_token).await?;
    let (mut agent, _) = ctx.connect("agent", &admin.access_token).await?;
    subscribe(&mut agent, &chat.id, 0).await?;
    for active in [true, false] {
        agent
            .send(json!({"type": "typing", "chat_id": chat.id, "active": active}))
            .await?;
        let typing = guest.expect("typing").await?;
        ensure(
            typing["chat_id"] == chat.id.as_str()
                && typing["active"] == active
                && typing["author"]["type"] == "agent"
                && typing["author"]["id"] == admin.agent_id.as_str(),
            format!("the `typing` a guest hears after its agent's `typing {{active: {active}}}`"),
            format!(
                "chat_id {:?}, active {active}, author {{type: agent, id: {:?}}}",
                chat.id, admin.agent_id
            ),
            || checks::show(&typing),
        )?;
    }
    agent
        .expect_quiet("the sender does not hear its own `typing`")
        .await?;
    agent.close().await;
    guest.close().await;
    Ok(())
}

async fn read_relay(ctx: Ctx) -> CaseResult {
    let chat = ctx.new_chat().await?;
    let admin = ctx.admin()?;
    for n in 1..=2 {
        post_as_guest(&ctx, &chat, &format!("m-{n}")).await?;
    }
    let (mut agent, _) = ctx.connect("agent", &admin.access_token).await?;
    subscribe(&mut agent, &chat.id, 2).await?;
    let (mut guest, _) = ctx.connect("guest", &chat.guest_token).await?;
    for (asked, stored) in [(99, 2), (1, 2)] {
        guest
            .send(json!({"type": "read", "chat_id": chat.id, "seq": asked}))
            .await?;
        let read = agent.expect("read").await?;
        ensure(
            read["chat_id"] == chat.id.as_str()
                && read["seq"] == stored
                && read["author"]["type"] == "guest"
                && read["author"]["id"] == chat.visitor_id.as_str(),
            format!("the `read` an agent hears after the guest reads up to {asked}"),
            format!("seq {stored} (clamped to the last seq, never moving back), author the guest"),
            || checks::show(&read),
        )?;
    }
    guest
        .expect_quiet("the sender does not hear its own `read`")
        .await?;
    let reply = ctx
        .get(format!("/v1/chats/{}/reads", chat.id))
        .bearer(&admin.access_token)
        .send()
        .await?;
    checks::expect_status(&reply, 200, "reading the chat's read positions over REST")?;
    let reads = checks::array_at(reply.json(), "/reads", "the read positions")?.clone();
    let guest_reads: Vec<&Value> = reads
        .iter()
        .filter(|read| read["author"]["type"] == "guest")
        .collect();
    ensure(
        guest_reads.len() == 1
            && guest_reads[0]["author"]["id"] == chat.visitor_id.as_str()
            && guest_reads[0]["seq"] == 2
            && guest_reads[0]["updated_at"].is_string(),
        "`GET /v1/chats/{chat_id}/reads` after the guest's reads",
        "one guest position: author {type: guest, id: the visitor}, seq 2, updated_at",
        || checks::show(&Value::Array(reads.clone())),
    )?;
    guest.close().await;
    agent.close().await;
    Ok(())
}

async fn chat_updated(ctx: Ctx) -> CaseResult {
    let admin = ctx.admin()?;
    let (mut agent, _) = ctx.connect("agent", &admin.access_token).await?;
    agent.set_ambient(&["presence"]);
    let chat = ctx.new_chat().await?;
    let wanted = |status: &'static str| {
        let id = chat.id.clone();
        move |frame: &Value| frame["chat"]["id"] == id.as_str() && frame["chat"]["status"] == status
    };
    expect_chat_update(&mut agent, wanted("open"), "the chat's start").await?;
    ctx.close_chat(&chat).await?;
    expect_chat_update(&mut agent, wanted("closed"), "the chat's close").await?;
    agent.close().await;
    Ok(())
}

/// Reads `chat_updated` frames (others' chats may come first) until one
/// `matches`.
async fn expect_chat_update(
    ws: &mut Ws,
    matches: impl Fn(&Value) -> bool,
    what: &str,
) -> Result<(), Failure> {
    loop {
        let frame = ws.expect("chat_updated").await.map_err(|mut failure| {
            failure.context = format!("waiting for `chat_updated` after {what}");
            failure
        })?;
        if matches(&frame) {
            return Ok(());
        }
    }
}

/// Reads `presence` frames until one for `agent` with `status`.
async fn expect_presence(ws: &mut Ws, agent: &str, status: &str) -> Result<(), Failure> {
    loop {
        let frame = ws.expect("presence").await.map_err(|mut failure| {
            failure.context = format!("waiting for `presence` {status} of agent {agent}");
            failure
        })?;
        if frame["agent_id"] == agent && frame["status"] == status {
            return Ok(());
        }
    }
}

async fn presence(ctx: Ctx) -> CaseResult {
    let admin = ctx.admin()?;
    // A new agent has no other connection, so this one is its first.
    let agent = ctx.create_agent().await?;
    let (mut first, _) = ctx.connect("admin", &admin.access_token).await?;
    first.set_ambient(&["chat_updated"]);
    let (mut second, _) = ctx.connect("agent", &agent.access_token).await?;
    second.set_ambient(&["chat_updated"]);
    expect_presence(&mut second, &admin.agent_id, "online").await?;
    expect_presence(&mut first, &agent.agent_id, "online").await?;
    second.close().await;
    expect_presence(&mut first, &agent.agent_id, "offline").await?;
    first.close().await;
    Ok(())
}

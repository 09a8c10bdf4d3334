//! `ws.send.*`, `ws.seq.*` and the chat's other events (spec: "Ordering
//! and delivery", "Frames", "Who may do what").

use serde_json::{Value, json};

use crate::case::{Case, CaseResult, Failure};
use crate::checks::{self, ensure, expect_error_frame, seqs};
use crate::context::Ctx;
use crate::wire::ws::{Ws, kind};

use super::ws_steps::{ack_and_message, history, post_as_guest, send_frame, subscribe};

const DELIVERY: &str = "ordering-and-delivery";

pub fn cases() -> Vec<Case> {
    vec![
        Case::must(
            "ws.send.ack-after-store",
            DELIVERY,
            "`ack` comes only once the message is stored: read over REST the moment the ack arrives, it is there, equal to ack.message",
            ack_after_store,
        ),
        Case::must(
            "ws.send.own-message",
            DELIVERY,
            "the sender, subscribed to the chat, receives its own `message` too, matching its `ack` by client_msg_id",
            own_message,
        ),
        Case::must(
            "ws.send.idempotent",
            "frames",
            "a `send` retried with the same client_msg_id gets the stored message back in its `ack`, is not stored twice and is not delivered again",
            idempotent,
        ),
        Case::must(
            "ws.send.closed-chat",
            "errors-1",
            "`send` to a closed chat is answered with `error` chat_closed; a retry of a message stored before the close still gets its `ack`",
            closed_chat,
        ),
        Case::must(
            "ws.seq.no-gaps",
            DELIVERY,
            "messages from concurrent senders (guest socket, agent socket, REST) get seq 1..n without gap or collision, and every subscriber receives them in seq order, each once",
            no_gaps,
        ),
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

async fn ack_after_store(ctx: Ctx) -> CaseResult {
    let chat = ctx.new_chat().await?;
    let (mut ws, _) = ctx.connect("guest", &chat.guest_token).await?;
    ws.send(send_frame(&chat.id, "stored-1", "Is this stored?"))
        .await?;
    // Read only up to the ack, then look at the store at once.
    let ack = loop {
        let frame = ws.next_frame().await?;
        match kind(&frame) {
            "ack" => break frame,
            "message" => continue,
            _ => {
                return Err(Failure::new(
                    "waiting for the ack",
                    "`ack` (and the sender's `message`)",
                    checks::show(&frame),
                )
                .into());
            }
        }
    };
    let stored = history(&ctx, &chat.id).await?;
    ensure(
        ack["client_msg_id"] == "stored-1",
        "the `ack`",
        "client_msg_id \"stored-1\"",
        || checks::show(&ack),
    )?;
    ensure(
        stored.len() == 1 && stored[0] == ack["message"],
        "the history read over REST right after the `ack`",
        format!(
            "exactly the acked message {}",
            checks::show(&ack["message"])
        ),
        || checks::show(&Value::Array(stored.clone())),
    )?;
    ws.close().await;
    Ok(())
}

async fn own_message(ctx: Ctx) -> CaseResult {
    let chat = ctx.new_chat().await?;
    let (mut ws, _) = ctx.connect("guest", &chat.guest_token).await?;
    ws.send(send_frame(&chat.id, "own-1", "Hello")).await?;
    let (ack, message) = ack_and_message(&mut ws).await?;
    ensure(
        message["message"] == ack["message"]
            && message["message"]["client_msg_id"] == "own-1"
            && message["message"]["seq"] == 1,
        "the sender's own `message`",
        format!(
            "the acked message (seq 1, client_msg_id own-1): {}",
            checks::show(&ack["message"])
        ),
        || checks::show(&message),
    )?;
    ws.close().await;
    Ok(())
}

async fn idempotent(ctx: Ctx) -> CaseResult {
    let chat = ctx.new_chat().await?;
    let admin = ctx.admin()?;
    let (mut agent, _) = ctx.connect("agent", &admin.access_token).await?;
    subscribe(&mut agent, &chat.id, 0).await?;
    let (mut guest, _) = ctx.connect("guest", &chat.guest_token).await?;
    guest
        .send(send_frame(&chat.id, "once", "only once"))
        .await?;
    let (first, _) = ack_and_message(&mut guest).await?;
    guest
        .send(send_frame(&chat.id, "once", "only once"))
        .await?;
    let retry = guest.expect("ack").await?;
    checks::same(
        "the `ack` of the retry",
        &first["message"],
        &retry["message"],
    )?;
    guest.expect_quiet("a retry is not delivered again").await?;
    guest
        .send(send_frame(&chat.id, "after", "next one"))
        .await?;
    ack_and_message(&mut guest).await?;
    let mut heard = Vec::new();
    for _ in 0..2 {
        heard.push(agent.expect("message").await?["message"].clone());
    }
    ensure(
        seqs(&heard) == [1, 2] && heard[0]["client_msg_id"] == "once",
        "what a subscribed agent hears of a send, its retry and the next send",
        "seq 1 (once), then seq 2 (after): the retry delivered nothing",
        || {
            format!(
                "seqs {:?}: {}",
                seqs(&heard),
                checks::show(&Value::Array(heard.clone()))
            )
        },
    )?;
    let stored = history(&ctx, &chat.id).await?;
    ensure(
        seqs(&stored) == [1, 2],
        "the history",
        "two messages, seq 1 and 2",
        || format!("seqs {:?}", seqs(&stored)),
    )?;
    guest.close().await;
    agent.close().await;
    Ok(())
}

async fn closed_chat(ctx: Ctx) -> CaseResult {
    let chat = ctx.new_chat().await?;
    let (mut ws, _) = ctx.connect("guest", &chat.guest_token).await?;
    ws.send(send_frame(&chat.id, "before-close", "still open"))
        .await?;
    let (before, _) = ack_and_message(&mut ws).await?;
    ctx.close_chat(&chat).await?;
    ws.send(send_frame(&chat.id, "after-close", "too late"))
        .await?;
    let answer = ws.expect("error").await?;
    expect_error_frame(
        &answer,
        "chat_closed",
        &json!("after-close"),
        "a `send` to a closed chat",
    )?;
    ws.send(send_frame(&chat.id, "before-close", "still open"))
        .await?;
    let retry = ws.expect("ack").await?;
    checks::same(
        "the `ack` of a retry of a message stored before the close",
        &before["message"],
        &retry["message"],
    )?;
    ws.close().await;
    Ok(())
}

/// Reads `count` `message` frames, their `ack`s set aside.
async fn messages(ws: &mut Ws, count: usize) -> Result<(Vec<Value>, Vec<Value>), Failure> {
    let mut delivered = Vec::new();
    let mut acks = Vec::new();
    while delivered.len() < count {
        let frame = ws.next_frame().await?;
        match kind(&frame) {
            "message" => delivered.push(frame["message"].clone()),
            "ack" => acks.push(frame),
            _ => {
                return Err(Failure::new(
                    format!("reading messages on {}", ws.name),
                    "`message` and `ack` frames",
                    checks::show(&frame),
                ));
            }
        }
    }
    Ok((delivered, acks))
}

async fn no_gaps(ctx: Ctx) -> CaseResult {
    const EACH: usize = 2;
    let chat = ctx.new_chat().await?;
    let admin = ctx.admin()?;
    let (mut agent, _) = ctx.connect("agent", &admin.access_token).await?;
    subscribe(&mut agent, &chat.id, 0).await?;
    let (mut guest, _) = ctx.connect("guest", &chat.guest_token).await?;
    // Everything is sent before anything is read, so the three senders race.
    for n in 0..EACH {
        guest
            .send(send_frame(
                &chat.id,
                &format!("g-{n}"),
                "from the guest socket",
            ))
            .await?;
        agent
            .send(send_frame(
                &chat.id,
                &format!("a-{n}"),
                "from the agent socket",
            ))
            .await?;
    }
    let posts: Vec<_> = (0..EACH)
        .map(|n| {
            let ctx = ctx.clone();
            let chat = chat.clone();
            tokio::spawn(async move { post_as_guest(&ctx, &chat, &format!("r-{n}")).await })
        })
        .collect();
    for post in posts {
        post.await.map_err(|error| {
            Failure::new("posting over REST", "the post to finish", error.to_string())
        })??;
    }
    let total = 3 * EACH;
    let expected: Vec<i64> = (1..=i64::try_from(total).unwrap_or(0)).collect();
    for ws in [&mut guest, &mut agent] {
        let (delivered, mut acks) = messages(ws, total).await?;
        ensure(
            seqs(&delivered) == expected,
            format!("the `message` frames on {}", ws.name),
            format!("seq {expected:?}, in order, each once"),
            || format!("seq {:?}", seqs(&delivered)),
        )?;
        while acks.len() < EACH {
            acks.push(ws.expect("ack").await?);
        }
        for ack in &acks {
            let seq = ack["message"]["seq"].as_i64().unwrap_or(0);
            let delivered_same = delivered
                .iter()
                .any(|message| message["seq"] == seq && *message == ack["message"]);
            ensure(
                delivered_same,
                format!("an `ack` on {}", ws.name),
                "the message delivered under the same seq",
                || checks::show(ack),
            )?;
        }
    }
    let stored = history(&ctx, &chat.id).await?;
    ensure(
        seqs(&stored) == expected,
        "the stored history",
        format!("seq {expected:?}"),
        || format!("seq {:?}", seqs(&stored)),
    )?;
    guest.close().await;
    agent.close().await;
    Ok(())
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

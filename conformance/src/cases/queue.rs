//! Following the queue and loading it (spec: "Following the queue",
//! "Frames", "Who may do what", "Endpoints"): `subscribe_queue` delivers
//! the messages, typing and read events of chats the connection never
//! subscribed to, each once even where it also subscribed, until
//! `unsubscribe_queue`; a guest may not follow or unfollow;
//! `GET /v1/chat-summaries` gives each chat's newest message and both
//! read positions in one page.

use serde_json::{Value, json};

use crate::case::{Case, CaseResult, Failure};
use crate::checks::{self, ensure, expect_error_frame};
use crate::context::{Chat, Ctx};
use crate::wire::ws::{Ws, kind};

use super::ws_steps::post_as_guest;

pub fn cases() -> Vec<Case> {
    vec![
        Case::must(
            "ws.queue.follow",
            "following-the-queue",
            "an agent's `subscribe_queue` is answered `queue_subscribed`; the messages of a chat it never subscribed to then arrive live, in `seq` order",
            follow,
        ),
        Case::must(
            "ws.queue.once",
            "following-the-queue",
            "a chat both subscribed and followed through the queue delivers each message once; after `unsubscribe` it comes through the queue",
            once,
        ),
        Case::must(
            "ws.queue.signals",
            "following-the-queue",
            "`typing` and `read` of a chat not subscribed reach a queue follower",
            signals,
        ),
        Case::must(
            "ws.queue.unfollow",
            "following-the-queue",
            "an agent's `unsubscribe_queue` is answered `queue_unsubscribed`; then only the chats it subscribed to deliver their messages",
            unfollow,
        ),
        Case::must(
            "ws.queue.guest-forbidden",
            "who-may-do-what",
            "a guest's `subscribe_queue` and `unsubscribe_queue` are each answered `error forbidden` echoing its `ref`, and the connection stays open",
            guest_forbidden,
        ),
        Case::must(
            "rest.chat-summaries.reads",
            "endpoints",
            "`GET /v1/chat-summaries` gives each chat its newest message and the caller's and the visitor's read positions (`null` where none is stored)",
            summaries,
        ),
    ]
}

/// An agent connection following the queue; `chat_updated` and
/// `presence` pass by.
async fn follower(ctx: &Ctx) -> Result<Ws, Failure> {
    let admin = ctx.admin()?;
    let (mut ws, _) = ctx.connect("agent", &admin.access_token).await?;
    ws.set_ambient(&["chat_updated", "presence"]);
    ws.send(json!({"type": "subscribe_queue", "ref": "queue"}))
        .await?;
    let answer = ws.expect("queue_subscribed").await?;
    checks::same(
        "the answer to `subscribe_queue`",
        &json!({"type": "queue_subscribed"}),
        &answer,
    )?;
    Ok(ws)
}

/// The `seq`s of `chat`'s messages among `frames`; other chats' (other
/// cases may run meanwhile) are left out.
fn seqs_of(frames: &[Value], chat: &Chat) -> Vec<i64> {
    frames
        .iter()
        .filter(|f| kind(f) == "message" && f["message"]["chat_id"] == chat.id.as_str())
        .filter_map(|f| f["message"]["seq"].as_i64())
        .collect()
}

/// The frames of `chat` that reach `ws` once everything posted so far is
/// delivered: live events come through the hub, not in order with a
/// `ping`, so this waits until `chat`'s message `seq` `last` came.
async fn frames_through(ws: &mut Ws, chat: &Chat, last: i64) -> Result<Vec<Value>, Failure> {
    let mut frames = Vec::new();
    loop {
        let frame = ws.next_frame().await.map_err(|mut failure| {
            failure.expected = format!("`message` seq {last} of chat {}", chat.id);
            failure
        })?;
        let done = kind(&frame) == "message"
            && frame["message"]["chat_id"] == chat.id.as_str()
            && frame["message"]["seq"] == last;
        frames.push(frame);
        if done {
            frames.extend(ws.barrier().await?);
            return Ok(frames);
        }
    }
}

async fn follow(ctx: Ctx) -> CaseResult {
    let mut ws = follower(&ctx).await?;
    let chat = ctx.new_chat().await?;
    for n in 1..=3 {
        post_as_guest(&ctx, &chat, &format!("q-{n}")).await?;
    }
    let frames = frames_through(&mut ws, &chat, 3).await?;
    let seqs = seqs_of(&frames, &chat);
    ensure(
        seqs == [1, 2, 3],
        "the `message` frames a queue follower gets of a chat it never subscribed to",
        "seq 1, 2, 3, each once",
        || format!("{seqs:?}"),
    )?;
    ws.close().await;
    Ok(())
}

async fn once(ctx: Ctx) -> CaseResult {
    let mut ws = follower(&ctx).await?;
    let chat = ctx.new_chat().await?;
    ws.send(json!({"type": "subscribe", "chat_id": chat.id, "after_seq": 0}))
        .await?;
    ws.expect("subscribed").await?;
    for n in 1..=2 {
        post_as_guest(&ctx, &chat, &format!("o-{n}")).await?;
    }
    let frames = frames_through(&mut ws, &chat, 2).await?;
    let seqs = seqs_of(&frames, &chat);
    ensure(
        seqs == [1, 2],
        "the `message` frames of a chat both subscribed and followed",
        "seq 1, 2, each once",
        || format!("{seqs:?}"),
    )?;
    ws.send(json!({"type": "unsubscribe", "chat_id": chat.id}))
        .await?;
    ws.expect("unsubscribed").await?;
    post_as_guest(&ctx, &chat, "o-3").await?;
    let frames = frames_through(&mut ws, &chat, 3).await?;
    let seqs = seqs_of(&frames, &chat);
    ensure(
        seqs == [3],
        "the `message` frames after `unsubscribe`, through the queue",
        "seq 3, once",
        || format!("{seqs:?}"),
    )?;
    ws.close().await;
    Ok(())
}

async fn signals(ctx: Ctx) -> CaseResult {
    let mut ws = follower(&ctx).await?;
    let chat = ctx.new_chat().await?;
    post_as_guest(&ctx, &chat, "s-1").await?;
    frames_through(&mut ws, &chat, 1).await?;
    let (mut guest, _) = ctx.connect("guest", &chat.guest_token).await?;
    guest
        .send(json!({"type": "typing", "chat_id": chat.id, "active": true}))
        .await?;
    guest
        .send(json!({"type": "read", "chat_id": chat.id, "seq": 1}))
        .await?;
    for (what, field, value) in [("typing", "active", json!(true)), ("read", "seq", json!(1))] {
        let frame = loop {
            let frame = ws.expect(what).await?;
            if frame["chat_id"] == chat.id.as_str() {
                break frame;
            }
        };
        ensure(
            frame[field] == value
                && frame["author"]["type"] == "guest"
                && frame["author"]["id"] == chat.visitor_id.as_str(),
            format!("the `{what}` a queue follower hears"),
            format!("{field} {value}, author the chat's guest"),
            || checks::show(&frame),
        )?;
    }
    guest.close().await;
    ws.close().await;
    Ok(())
}

/// A chat the follower subscribed to marks when the server is done: a
/// message of the other chat posted before it would have come first.
async fn unfollow(ctx: Ctx) -> CaseResult {
    let mut ws = follower(&ctx).await?;
    let (kept, other) = (ctx.new_chat().await?, ctx.new_chat().await?);
    ws.send(json!({"type": "subscribe", "chat_id": kept.id, "after_seq": 0}))
        .await?;
    ws.expect("subscribed").await?;
    ws.send(json!({"type": "unsubscribe_queue", "ref": "unqueue"}))
        .await?;
    let answer = ws.expect("queue_unsubscribed").await?;
    checks::same(
        "the answer to `unsubscribe_queue`",
        &json!({"type": "queue_unsubscribed"}),
        &answer,
    )?;
    post_as_guest(&ctx, &other, "u-other").await?;
    post_as_guest(&ctx, &kept, "u-kept").await?;
    let frames = frames_through(&mut ws, &kept, 1).await?;
    let seqs = seqs_of(&frames, &other);
    ensure(
        seqs.is_empty(),
        "the `message` frames, after `unsubscribe_queue`, of a chat not subscribed",
        "none",
        || format!("seq {seqs:?}"),
    )?;
    ws.close().await;
    Ok(())
}

async fn guest_forbidden(ctx: Ctx) -> CaseResult {
    let chat = ctx.new_chat().await?;
    let (mut guest, _) = ctx.connect("guest", &chat.guest_token).await?;
    for frame_type in ["subscribe_queue", "unsubscribe_queue"] {
        let reference = format!("r-{frame_type}");
        guest
            .send(json!({"type": frame_type, "ref": reference}))
            .await?;
        let answer = guest.next_frame().await?;
        expect_error_frame(
            &answer,
            "forbidden",
            &json!(reference),
            &format!("a guest's `{frame_type}`"),
        )?;
    }
    guest
        .expect_quiet("the connection stays open after the refusal")
        .await?;
    guest.close().await;
    Ok(())
}

async fn summaries(ctx: Ctx) -> CaseResult {
    let admin = ctx.admin()?;
    let chat = ctx.new_chat().await?;
    let quiet = ctx.new_chat().await?;
    for n in 1..=2 {
        post_as_guest(&ctx, &chat, &format!("r-{n}")).await?;
    }
    let (mut guest, _) = ctx.connect("guest", &chat.guest_token).await?;
    guest
        .send(json!({"type": "read", "chat_id": chat.id, "seq": 1}))
        .await?;
    guest.barrier().await?;
    let (mut agent, _) = ctx.connect("agent", &admin.access_token).await?;
    agent.set_ambient(&["chat_updated", "presence"]);
    agent
        .send(json!({"type": "read", "chat_id": chat.id, "seq": 2}))
        .await?;
    agent.barrier().await?;
    let reply = ctx
        .get("/v1/chat-summaries?status=open&limit=250")
        .bearer(&admin.access_token)
        .send()
        .await?;
    checks::expect_status(&reply, 200, "GET /v1/chat-summaries")?;
    let page = checks::array_at(reply.json(), "/summaries", "the summaries")?.clone();
    let find = |id: &str| page.iter().find(|s| s["chat"]["id"] == id).cloned();
    let Some(summary) = find(&chat.id) else {
        return Err(Failure::new(
            "GET /v1/chat-summaries?status=open",
            format!("a summary of the chat just started ({})", chat.id),
            format!("{} summaries, none of it", page.len()),
        )
        .into());
    };
    ensure(
        summary["last_message"]["seq"] == 2
            && summary["last_message"]["chat_id"] == chat.id.as_str()
            && summary["read_seq"] == 2
            && summary["visitor_read_seq"] == 1,
        "the summary of a chat with two messages, read to 2 by the caller and to 1 by its guest",
        "last_message seq 2, read_seq 2, visitor_read_seq 1",
        || checks::show(&summary),
    )?;
    if let Some(summary) = find(&quiet.id) {
        ensure(
            summary["last_message"].is_null()
                && summary["read_seq"].is_null()
                && summary["visitor_read_seq"].is_null(),
            "the summary of a chat without messages or reads",
            "last_message, read_seq and visitor_read_seq null",
            || checks::show(&summary),
        )?;
    }
    guest.close().await;
    agent.close().await;
    Ok(())
}

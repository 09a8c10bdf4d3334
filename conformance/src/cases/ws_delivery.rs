//! `ws.send.*` and `ws.seq.*`: a message is acked once stored, reaches
//! every subscriber (its sender too) once and in `seq` order, and a retry
//! is not stored twice, its `ack` saying `duplicate: true` (spec:
//! "Ordering and delivery", "Frames").

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
            "the sender, subscribed to the chat, receives its own `message` too, matching its `ack` (duplicate: false) by client_msg_id",
            own_message,
        ),
        Case::must(
            "ws.send.idempotent",
            "frames",
            "a `send` retried with the same client_msg_id gets the stored message back in an `ack` with duplicate: true (the first `ack` says false), is not stored twice and is not delivered again",
            idempotent,
        ),
        Case::must(
            "ws.send.closed-chat",
            "errors-1",
            "`send` to a closed chat is answered with `error` chat_closed; a retry of a message stored before the close still gets its `ack`, with duplicate: true",
            closed_chat,
        ),
        Case::must(
            "ws.seq.no-gaps",
            DELIVERY,
            "messages from concurrent senders (guest socket, agent socket, REST) get seq 1..n without gap or collision, and every subscriber receives them in seq order, each once",
            no_gaps,
        ),
    ]
}

/// An `ack`'s `duplicate` is exactly `expected`: it is all that tells a
/// client its resend was not a new message.
fn expect_duplicate(ack: &Value, expected: bool, context: &str) -> Result<(), Failure> {
    ensure(
        ack["duplicate"] == expected,
        context,
        format!("an `ack` with duplicate: {expected}"),
        || checks::show(ack),
    )
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
    expect_duplicate(&ack, false, "the `ack` of a first send")?;
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
    expect_duplicate(&first, false, "the `ack` of the first send")?;
    guest
        .send(send_frame(&chat.id, "once", "only once"))
        .await?;
    let retry = guest.expect("ack").await?;
    checks::same(
        "the `ack` of the retry",
        &first["message"],
        &retry["message"],
    )?;
    expect_duplicate(&retry, true, "the `ack` of the retry")?;
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
    let context = "the `ack` of a retry of a message stored before the close";
    checks::same(context, &before["message"], &retry["message"])?;
    expect_duplicate(&retry, true, context)?;
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

//! Steps the WebSocket cases are made of: sending a message and reading
//! its `ack` (and, for a subscriber, its `message`), subscribing and
//! reading the replay up to `subscribed`, posting over REST.

use serde_json::{Value, json};

use crate::case::Failure;
use crate::checks::{self, expect_status};
use crate::context::{Chat, Ctx};
use crate::wire::ws::{Ws, kind};

pub fn send_frame(chat: &str, client_msg_id: &str, body: &str) -> Value {
    json!({"type": "send", "chat_id": chat, "client_msg_id": client_msg_id, "body": body})
}

/// The sender's two answers to a `send` on a connection subscribed to
/// the chat, in whichever order they come: its `ack` and its `message`.
pub async fn ack_and_message(ws: &mut Ws) -> Result<(Value, Value), Failure> {
    let first = ws.next_frame().await?;
    let second = ws.next_frame().await?;
    match (kind(&first), kind(&second)) {
        ("ack", "message") => Ok((first, second)),
        ("message", "ack") => Ok((second, first)),
        _ => Err(Failure::new(
            format!("reading {}", ws.name),
            "an `ack` and a `message`, in either order",
            format!("{} and {}", checks::show(&first), checks::show(&second)),
        )),
    }
}

/// Subscribes and reads up to `subscribed`: the replayed messages and the
/// `subscribed` frame.
pub async fn subscribe(
    ws: &mut Ws,
    chat: &str,
    after_seq: i64,
) -> Result<(Vec<Value>, Value), Failure> {
    ws.send(json!({"type": "subscribe", "chat_id": chat, "after_seq": after_seq}))
        .await?;
    replay_until_subscribed(ws).await
}

/// Reads `message` frames up to `subscribed`.
pub async fn replay_until_subscribed(ws: &mut Ws) -> Result<(Vec<Value>, Value), Failure> {
    let mut replayed = Vec::new();
    loop {
        let frame = ws.next_frame().await?;
        match kind(&frame) {
            "message" => replayed.push(frame["message"].clone()),
            "subscribed" => return Ok((replayed, frame)),
            _ => {
                return Err(Failure::new(
                    format!("subscribing on {}", ws.name),
                    "replayed `message` frames, then `subscribed`",
                    checks::show(&frame),
                ));
            }
        }
    }
}

/// Posts a message as the chat's guest over REST; the stored message.
pub async fn post_as_guest(ctx: &Ctx, chat: &Chat, client_msg_id: &str) -> Result<Value, Failure> {
    let reply = ctx
        .post(format!("/v1/chats/{}/messages", chat.id))
        .bearer(&chat.guest_token)
        .json(json!({"client_msg_id": client_msg_id, "body": format!("body of {client_msg_id}")}))
        .send()
        .await?;
    expect_status(&reply, 201, &format!("posting {client_msg_id} over REST"))?;
    Ok(reply.json().clone())
}

/// The chat's whole history, read over REST as the admin.
pub async fn history(ctx: &Ctx, chat: &str) -> Result<Vec<Value>, Failure> {
    let admin = ctx.admin()?;
    let reply = ctx
        .get(format!("/v1/chats/{chat}/messages?limit=200"))
        .bearer(&admin.access_token)
        .send()
        .await?;
    expect_status(&reply, 200, "reading the history over REST")?;
    Ok(checks::array_at(reply.json(), "/messages", "the history")?.clone())
}

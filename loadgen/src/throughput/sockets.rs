//! The throughput scenario's sockets: the set-up over REST, the agents'
//! and guests' sockets, and the tasks that count what arrives on them.

use std::sync::atomic::Ordering;
use std::time::Instant;

use anyhow::Context;
use futures_util::stream::SplitStream;
use futures_util::{SinkExt, StreamExt, TryStreamExt, stream};
use tokio_tungstenite::tungstenite::Message;

use super::{Clock, Sink};
use crate::ThroughputArgs;
use crate::rest::{GuestChat, Rest};
use crate::tally::{self, SharedTally, Tag};
use crate::target::Target;
use crate::ws::{self, Socket, string_field};

/// Logs the admin in, creates the agents and starts the chats: the
/// agents' tokens and the chats.
pub(super) async fn set_up(
    target: &Target,
    args: &ThroughputArgs,
) -> anyhow::Result<(Vec<String>, Vec<GuestChat>)> {
    let rest = Rest::new(target);
    let admin = rest
        .login(&target.admin_email, &target.admin_password)
        .await
        .context("admin login")?;
    let run = &uuid::Uuid::new_v4().simple().to_string()[..8];
    let mut agent_tokens = Vec::with_capacity(args.agents);
    for i in 0..args.agents {
        let email = format!("loadgen-{run}-{i}@example.com");
        agent_tokens.push(rest.new_agent(&admin, &email).await?);
    }
    let chats: Vec<GuestChat> = stream::iter(0..args.chats)
        .map(|_| rest.start_chat())
        .buffered(16)
        .try_collect()
        .await?;
    eprintln!(
        "set up {} chats and {} agents",
        chats.len(),
        agent_tokens.len()
    );
    Ok((agent_tokens, chats))
}

/// Opens the agents' sockets, each subscribed to its share of the chats
/// (agent `a` takes every `agents`-th chat from the `a`-th), with a task
/// counting each one's deliveries: the tallies, and the sockets' sending
/// halves, which keep them open.
pub(super) async fn connect_agents(
    target: &Target,
    args: &ThroughputArgs,
    tokens: &[String],
    chats: &[GuestChat],
    clock: &Clock,
) -> anyhow::Result<(Vec<SharedTally>, Vec<Sink>)> {
    let mut deliveries = Vec::new();
    let mut sinks = Vec::new();
    for (a, token) in tokens.iter().enumerate() {
        let mut socket = ws::connect(&target.agent_ws_base, token).await?;
        let mine: Vec<&GuestChat> = chats.iter().skip(a).step_by(args.agents).collect();
        for chat in &mine {
            let frame = format!(r#"{{"type":"subscribe","chat_id":"{}"}}"#, chat.chat_id);
            socket.send(Message::text(frame)).await?;
        }
        let mut subscribed = 0;
        while subscribed < mine.len() {
            if ws::next_text(&mut socket)
                .await?
                .starts_with(r#"{"type":"subscribed""#)
            {
                subscribed += 1;
            }
        }
        let (sink, stream) = socket.split();
        let tally = tally::shared();
        tokio::spawn(receive(stream, tally.clone(), clock.clone(), Role::Agent));
        deliveries.push(tally);
        sinks.push(sink);
    }
    Ok((deliveries, sinks))
}

/// Opens one guest socket per chat, with a task counting each one's acks:
/// the tallies, and the sending halves with their chats.
pub(super) async fn connect_guests(
    target: &Target,
    chats: &[GuestChat],
    clock: &Clock,
) -> anyhow::Result<(Vec<SharedTally>, Vec<(Sink, String)>)> {
    let mut acks = Vec::new();
    let mut guests = Vec::new();
    for chat in chats {
        let socket = ws::connect(&target.ws_base, &chat.guest_token).await?;
        let (sink, stream) = socket.split();
        let tally = tally::shared();
        tokio::spawn(receive(stream, tally.clone(), clock.clone(), Role::Guest));
        acks.push(tally);
        guests.push((sink, chat.chat_id.clone()));
    }
    Ok((acks, guests))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Counts `message` frames: deliveries.
    Agent,
    /// Counts `ack` frames; its own messages' echoes are read and dropped.
    Guest,
}

async fn receive(mut stream: SplitStream<Socket>, tally: SharedTally, clock: Clock, role: Role) {
    let counted = match role {
        Role::Agent => r#"{"type":"message""#,
        Role::Guest => r#"{"type":"ack""#,
    };
    while let Some(frame) = stream.next().await {
        match frame {
            Ok(Message::Text(text)) => {
                let now = Instant::now();
                let text = text.as_str();
                if text.starts_with(counted) {
                    if let Some(tag) = string_field(text, "client_msg_id").and_then(Tag::decode) {
                        let step = clock.step.load(Ordering::Relaxed);
                        if let Ok(mut tally) = tally.lock() {
                            tally.arrived(tag, step, clock.epoch, now);
                        }
                    }
                } else if text.starts_with(r#"{"type":"error""#) {
                    let code = string_field(text, "code").unwrap_or("unknown");
                    if let Ok(mut tally) = tally.lock() {
                        tally.error(code);
                    }
                }
            }
            Ok(Message::Close(frame)) => {
                let why = frame.map_or_else(
                    || "no close frame".to_owned(),
                    |f| format!("{} {}", f.code, f.reason),
                );
                if let Ok(mut closes) = clock.closes.lock() {
                    closes.push(why);
                }
                return;
            }
            Ok(_) => {}
            Err(_) => return,
        }
    }
}

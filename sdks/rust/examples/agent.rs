//! A support agent: logs in, takes the oldest open chat and answers it.
//! Lines typed on standard input are sent to the chat; everything said in
//! it is printed.
//!
//! ```sh
//! cargo run --release -p byrd-server -- serve     # in one terminal
//! cargo run -p byrd-sdk --example guest           # in another: a visitor
//! cargo run -p byrd-sdk --example agent           # in a third, same folder as the server
//! ```
//!
//! The agent is `BYRD_EMAIL` with `BYRD_PASSWORD`; by default the first
//! admin, whose password the server wrote to
//! `byrd-data/initial-admin-password`. `BYRD_URL` names another server.

use std::time::Duration;

use byrd_sdk::Client;
use byrd_sdk::operations::ListChatsQuery;
use byrd_sdk::realtime::{ConnectionState, Event, RealtimeOptions};
use byrd_sdk::types::{Chat, ChatStatus};
use futures_util::TryStreamExt;
use tokio::io::{AsyncBufReadExt, BufReader};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("BYRD_URL").unwrap_or_else(|_| "http://127.0.0.1:8080".into());
    let email = std::env::var("BYRD_EMAIL").unwrap_or_else(|_| "admin@byrd.localhost".into());
    let password = match std::env::var("BYRD_PASSWORD") {
        Ok(password) => password,
        Err(_) => std::fs::read_to_string("byrd-data/initial-admin-password")
            .map_err(|error| format!("set BYRD_PASSWORD, or run where byrd-data/ is ({error})"))?
            .trim()
            .to_owned(),
    };
    let agent = Client::new(&url)?.login_agent(&email, &password).await?;
    println!("logged in as {email}; waiting for an open chat");

    let chat = oldest_open_chat(&agent).await?;
    let chat = agent.assign_chat(chat.id, None).await?;
    println!(
        "took chat {} ({}); type a line to answer, Ctrl-D to leave",
        chat.id,
        chat.subject.unwrap_or_default()
    );

    let (realtime, mut events) = agent.connect_realtime(RealtimeOptions::default())?;
    realtime.subscribe(chat.id, 0)?;
    let printer = tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            match event {
                Event::Message(message) => {
                    let who = message.author.name.unwrap_or_else(|| "guest".into());
                    println!("[{}] {who}: {}", message.seq, message.body);
                }
                Event::Resumed {
                    recovered: false,
                    fetched,
                    ..
                } => {
                    println!("(caught up: {fetched} messages fetched)");
                }
                Event::State(ConnectionState::Reconnecting { attempt, delay }) => {
                    println!("(connection lost; attempt {attempt} in {delay:?})");
                }
                Event::State(ConnectionState::Closed { reason, .. }) => {
                    println!("(closed: {reason})")
                }
                _ => {}
            }
        }
    });

    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if !line.trim().is_empty()
            && let Err(error) = realtime.send(chat.id, line).await
        {
            eprintln!("not sent: {error}");
        }
    }
    realtime.close();
    let _ = printer.await;
    agent.end_session().await?;
    Ok(())
}

/// The open chat that waited longest; polls until there is one.
async fn oldest_open_chat(agent: &Client) -> Result<Chat, byrd_sdk::Error> {
    loop {
        let query = ListChatsQuery {
            status: Some(ChatStatus::Open),
            ..ListChatsQuery::default()
        };
        // Newest first: the last one is the oldest.
        let open: Vec<Chat> = agent.list_chats_stream(query).try_collect().await?;
        if let Some(chat) = open.into_iter().last() {
            return Ok(chat);
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

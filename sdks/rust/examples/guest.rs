//! A website visitor: starts a chat and talks. Lines typed on standard
//! input are sent; everything said in the chat is printed.
//!
//! ```sh
//! cargo run --release -p byrd-server -- serve     # in one terminal
//! cargo run -p byrd-sdk --example guest           # in another
//! ```
//!
//! `BYRD_URL` names another server (default `http://127.0.0.1:8080`).

use byrd_sdk::Client;
use byrd_sdk::realtime::{ConnectionState, Event, RealtimeOptions};
use byrd_sdk::types::{CreateChatRequest, VisitorInput};
use tokio::io::{AsyncBufReadExt, BufReader};

#[tokio::main]
async fn main() -> Result<(), byrd_sdk::Error> {
    let url = std::env::var("BYRD_URL").unwrap_or_else(|_| "http://127.0.0.1:8080".into());
    let byrd = Client::new(&url)?;
    let request = CreateChatRequest {
        visitor: Some(VisitorInput {
            name: Some("Sam".into()),
            email: None,
        }),
        subject: Some("A question from the example".into()),
        ..CreateChatRequest::default()
    };
    let (guest, chat) = byrd.start_guest(&request).await?;
    println!(
        "chat {} started; type a line to send it, Ctrl-D to leave",
        chat.id
    );

    let (realtime, mut events) = guest.connect_realtime(RealtimeOptions::default())?;
    let printer = tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            match event {
                Event::Message(message) => {
                    let who = message.author.name.unwrap_or_else(|| "you".into());
                    println!("[{}] {who}: {}", message.seq, message.body);
                }
                Event::Typing(typing) if typing.active => println!("(someone is typing)"),
                Event::State(ConnectionState::Reconnecting { attempt, delay }) => {
                    println!("(connection lost; attempt {attempt} in {delay:?})");
                }
                Event::State(ConnectionState::Closed { reason, error, .. }) => {
                    println!(
                        "(closed: {reason}{})",
                        error.map(|e| format!(", {e}")).unwrap_or_default()
                    );
                }
                _ => {}
            }
        }
    });

    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if line.trim().is_empty() {
            continue;
        }
        if let Err(error) = realtime.send(chat.id, line).await {
            eprintln!("not sent: {error}");
        }
    }
    realtime.close();
    let _ = printer.await;
    Ok(())
}

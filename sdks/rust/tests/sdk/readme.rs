//! The README's quick starts, compiled and run: each function below holds
//! one quick start's code, and `the_readme_shows_the_quick_starts_compiled_here`
//! fails when the README's block differs from it. The README's server,
//! `"http://127.0.0.1:8080"`, is the only difference: here it is
//! `base_url`, the test server's address.

use std::time::Duration;

use byrd_sdk::types::{ChatStatus, CreateAgentRequest, Role};

use crate::helpers::{TIMEOUT, spawn_app};

const README_SERVER: &str = "\"http://127.0.0.1:8080\"";

async fn guest_quick_start(base_url: &str) -> Result<(), byrd_sdk::Error> {
    // README: a guest
    use byrd_sdk::Client;
    use byrd_sdk::realtime::{Event, RealtimeOptions};
    use byrd_sdk::types::{ChatStatus, CreateChatRequest};

    let byrd = Client::new(base_url)?;
    let (guest, chat) = byrd.start_guest(&CreateChatRequest::default()).await?;
    // Keep `guest.token().await?` to come back later with `byrd.resume_guest(..)`.

    let (realtime, mut events) = guest.connect_realtime(RealtimeOptions::default())?;
    let stored = realtime.send(chat.id, "Hello, about my bill.").await?;
    println!("stored as #{}", stored.seq);
    while let Some(event) = events.recv().await {
        match event {
            Event::Message(message) => println!("{}: {}", message.seq, message.body),
            // The agent closed the chat.
            Event::ChatUpdated(update) if update.status == ChatStatus::Closed => break,
            _ => {}
        }
    }
    realtime.close();
    // README end
    Ok(())
}

async fn agent_quick_start(base_url: &str) -> Result<(), byrd_sdk::Error> {
    // README: an agent
    use byrd_sdk::Client;
    use byrd_sdk::operations::ListChatsQuery;
    use byrd_sdk::realtime::RealtimeOptions;
    use byrd_sdk::types::ChatStatus;
    use futures_util::TryStreamExt;

    let agent = Client::new(base_url)?
        .login_agent("ada@example.com", "a long password")
        .await?;
    let query = ListChatsQuery {
        status: Some(ChatStatus::Open),
        ..Default::default()
    };
    let open: Vec<_> = agent.list_chats_stream(query).try_collect().await?; // every page
    if let Some(oldest) = open.last() {
        let chat = agent.assign_chat(oldest.id, None).await?;
        let (realtime, _events) = agent.connect_realtime(RealtimeOptions::default())?;
        realtime.subscribe(chat.id, 0)?; // from the first message on
        realtime.send(chat.id, "Hi, I'm Ada. Can I help?").await?;
    }
    agent.end_session().await?; // logs out
    // README end
    Ok(())
}

/// The lines between `// README: <title>` and `// README end` in this file,
/// as the README shows them: one level of indentation less, and the
/// README's server in place of `base_url`.
fn compiled_block(source: &str, title: &str) -> String {
    let start = format!("// README: {title}\n");
    let body = source
        .split_once(&start)
        .and_then(|(_, rest)| rest.split_once("    // README end"))
        .map(|(body, _)| body)
        .unwrap_or_else(|| panic!("no quick start `{title}` in readme.rs"));
    body.lines()
        .map(|line| line.strip_prefix("    ").unwrap_or(line))
        .map(|line| {
            line.replace(
                "Client::new(base_url)",
                &format!("Client::new({README_SERVER})"),
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// The first `rust` block after the README's "## Quick start: <title>".
fn readme_block(readme: &str, title: &str) -> String {
    let heading = format!("## Quick start: {title}\n");
    readme
        .split_once(&heading)
        .and_then(|(_, rest)| rest.split_once("```rust\n"))
        .and_then(|(_, rest)| rest.split_once("```\n"))
        .map(|(block, _)| block.to_owned())
        .unwrap_or_else(|| panic!("no quick start `{title}` in the README"))
}

#[test]
fn the_readme_shows_the_quick_starts_compiled_here() {
    let readme = include_str!("../../README.md");
    let source = include_str!("readme.rs");
    for title in ["a guest", "an agent"] {
        let shown = readme_block(readme, title);
        let compiled = compiled_block(source, title);
        assert_eq!(
            shown, compiled,
            "the README's quick start `{title}` differs from tests/sdk/readme.rs"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quick_starts_run_as_written() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    admin
        .create_agent(&CreateAgentRequest {
            email: "ada@example.com".into(),
            name: "Ada".into(),
            role: Role::Agent,
            password: "a long password".into(),
        })
        .await
        .unwrap();

    let guest = guest_quick_start(&app.address);
    let agent = async {
        // The agent's quick start takes the oldest open chat: the guest's,
        // once it holds the guest's message.
        let chat = loop {
            let open = admin.list_chats(&Default::default()).await.unwrap();
            if let Some(chat) = open.chats.into_iter().find(|c| c.last_seq >= 1) {
                break chat;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        agent_quick_start(&app.address).await.unwrap();
        let answered = admin.get_chat(chat.id).await.unwrap();
        assert_eq!(answered.status, ChatStatus::Assigned);
        assert_eq!(answered.last_seq, 2, "the agent's answer is stored");
        // Closing the chat ends the guest's quick start.
        admin.close_chat(chat.id).await.unwrap();
    };
    let (guest, ()) = tokio::time::timeout(TIMEOUT, async { tokio::join!(guest, agent) })
        .await
        .expect("the quick starts finish");
    guest.unwrap();
}

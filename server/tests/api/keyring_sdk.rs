//! Rotations under a live chat, seen through the Rust SDK (README
//! "Signing keys and rotation": a rotation invalidates no token and closes
//! no socket; "Socket tickets": the SDK connects with a ticket). A guest
//! and an agent chat while the keyring is rotated three times, each
//! rotation published, then signing; the multi-node suite does the same
//! across two nodes.

use std::time::Duration;

use byrd_sdk::Client;
use byrd_sdk::types::CreateChatRequest;
use serde_json::Value;

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, spawn_app_with};
use crate::keyring::{REFRESH, jwks, kid, kids, me_status, quick_refresh, rotate};
use crate::sdk_chat::{Party, assert_nothing_noticed, converse};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_rotations_under_a_live_chat_close_no_socket_lose_no_message_and_keep_every_token() {
    let app = spawn_app_with(quick_refresh).await;
    let sdk = Client::builder(&app.address).build().unwrap();
    let agent_client = sdk.login_agent(ADMIN_EMAIL, ADMIN_PASSWORD).await.unwrap();
    let (guest_client, chat) = sdk
        .start_guest(&CreateChatRequest::default())
        .await
        .unwrap();
    let mut guest = Party::connect("guest", &guest_client);
    let mut agent = Party::connect("agent", &agent_client);
    agent.realtime.subscribe(chat.id, 0).unwrap();
    guest.wait_connected().await;
    agent.wait_connected().await;

    // Tokens of every generation: the two sessions' own, then after each
    // rotation a new agent login and a new chat's guest token.
    let mut kept = vec![
        agent_client.token().await.unwrap(),
        guest_client.token().await.unwrap(),
    ];
    let mut published = vec![kid(&kept[0])];
    converse(&mut guest, &mut agent, chat.id, Duration::ZERO).await;
    for _ in 0..3 {
        let new = rotate(&app).await;
        // The chat goes on through the publication and past the moment
        // the new key starts signing (two refresh intervals).
        converse(&mut guest, &mut agent, chat.id, REFRESH * 3).await;
        let fresh = app.admin_token().await;
        assert_eq!(kid(&fresh), new, "the rotated key signs");
        let started: Value = app.start_chat().await;
        let fresh_guest = started["guest_token"].as_str().unwrap().to_owned();
        assert_eq!(kid(&fresh_guest), new);
        kept.extend([fresh, fresh_guest]);
        published.push(new);
    }
    converse(&mut guest, &mut agent, chat.id, Duration::ZERO).await;

    assert_nothing_noticed(&guest, &agent).await;
    assert_eq!(kids(&jwks(&app).await), published, "every key verifies");
    for (index, token) in kept.iter().enumerate() {
        assert_eq!(me_status(&app, token).await, 200, "token {index}");
    }
}

//! Rotations under a live chat, seen through the Rust SDK (README
//! "Signing keys and rotation": a rotation invalidates no token and closes
//! no socket; "Socket tickets": the SDK connects with a ticket). A guest
//! and an agent chat while the keyring is rotated three times, each
//! rotation published, then signing; the multi-node suite does the same
//! across two nodes.

use std::time::Duration;

use byrd_sdk::Client;
use serde_json::Value;

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, spawn_app_with};
use crate::keyring::{REFRESH, jwks, kid, kids, me_status, quick_refresh, rotate};
use crate::sdk_chat::LiveChat;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_rotations_under_a_live_chat_close_no_socket_lose_no_message_and_keep_every_token() {
    let app = spawn_app_with(quick_refresh).await;
    let sdk = Client::builder(&app.address).build().unwrap();
    let mut live = LiveChat::open(&sdk, &sdk, ADMIN_EMAIL, ADMIN_PASSWORD).await;

    // Tokens of every generation: the two sessions' own, then after each
    // rotation a new agent login and a new chat's guest token.
    let mut kept = live.first_tokens.to_vec();
    let mut published = vec![kid(&kept[0])];
    live.converse(Duration::ZERO).await;
    for _ in 0..3 {
        let new = rotate(&app).await;
        // The chat goes on through the publication and past the moment
        // the new key starts signing (two refresh intervals).
        live.converse(REFRESH * 3).await;
        let fresh = app.admin_token().await;
        assert_eq!(kid(&fresh), new, "the rotated key signs");
        let started: Value = app.start_chat().await;
        let fresh_guest = started["guest_token"].as_str().unwrap().to_owned();
        assert_eq!(kid(&fresh_guest), new);
        kept.extend([fresh, fresh_guest]);
        published.push(new);
    }
    live.converse(Duration::ZERO).await;

    live.assert_nothing_noticed().await;
    let set = jwks(&app).await;
    assert_eq!(kids(&set), published, "every key verifies");
    // The documented operation reads the same set through the SDK's types.
    let through_sdk = sdk.get_jwks().await.unwrap();
    assert_eq!(serde_json::to_value(&through_sdk).unwrap(), set);
    for (index, token) in kept.iter().enumerate() {
        assert_eq!(me_status(&app, token).await, 200, "token {index}");
    }
}

//! Rotations under a live chat across two nodes, through the Rust SDK
//! (README "Signing keys and rotation": every node sharing the database
//! signs and verifies with the same keys, and a rotation invalidates no
//! token and closes no socket). The guest is on one node, the agent on
//! the other; the keyring is rotated three times with `byrd keys rotate`,
//! as an operator does, while they chat.

use std::process::Command;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use byrd_sdk::Client;
use serde_json::Value;

use crate::cluster::{
    ADMIN_EMAIL, ADMIN_PASSWORD, Node, Services, login_admin, serial, start_chat,
};
use crate::sdk_chat::LiveChat;

/// The nodes reload the keyring every second (the least the option
/// allows): a rotated key signs two seconds after it is published.
const REFRESH_SECS: &str = "1";

/// `byrd keys rotate` against `database`, as an operator runs it beside
/// the nodes (same secret, same refresh interval); the new key's `kid`.
async fn rotate(database: &str) -> String {
    let database = database.to_owned();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_byrd"))
            .args(["keys", "rotate"])
            .env("DATABASE_URL", database)
            .env("BYRD_JWT_SECRET", byrd_testkit::JWT_SECRET)
            .env("BYRD_KEYRING_REFRESH_SECS", REFRESH_SECS)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "byrd keys rotate: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // "published <kid> (EdDSA); it signs from <time>"
    let kid = stdout
        .strip_prefix("published ")
        .and_then(|rest| rest.split(' ').next());
    kid.unwrap_or_else(|| panic!("no kid in {stdout:?}"))
        .to_owned()
}

/// The `kid` in a JWT's header.
fn kid(token: &str) -> String {
    let header = token.split('.').next().unwrap();
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

async fn me_status(client: &reqwest::Client, node: &str, token: &str) -> u16 {
    let response = client
        .get(format!("http://{node}/v1/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    response.status().as_u16()
}

async fn published(client: &reqwest::Client, node: &str) -> Vec<String> {
    let response = client
        .get(format!("http://{node}/.well-known/jwks.json"))
        .send()
        .await
        .unwrap();
    let set: Value = response.json().await.unwrap();
    let keys = set["keys"].as_array().unwrap();
    keys.iter()
        .map(|key| key["kid"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_rotations_across_two_nodes_close_no_socket_lose_no_message_and_keep_every_token() {
    let Some(services) = Services::from_env() else {
        return;
    };
    let _serial = serial().await;
    let database = services.fresh_database().await;
    let env = [
        ("BYRD_JWT_ALGORITHM", "eddsa"),
        ("BYRD_KEYRING_REFRESH_SECS", REFRESH_SECS),
    ];
    let a = Node::start(&database, &services.redis_url, &env).await;
    let b = Node::start(&database, &services.redis_url, &env).await;
    let nodes = [a.address.as_str(), b.address.as_str()];
    let http = reqwest::Client::new();

    let sdk = |node: &str| Client::builder(&format!("http://{node}")).build().unwrap();
    let (agents, guests) = (sdk(nodes[0]), sdk(nodes[1]));
    let mut live = LiveChat::open(&agents, &guests, ADMIN_EMAIL, ADMIN_PASSWORD).await;

    let mut kept = live.first_tokens.to_vec();
    let mut keys = vec![kid(&kept[0])];
    live.converse(Duration::ZERO).await;
    for _ in 0..3 {
        let new = rotate(&database).await;
        // Through the publication and past the moment the new key signs,
        // on both nodes.
        live.converse(Duration::from_millis(2500)).await;
        for node in nodes {
            let (fresh, _) = login_admin(&http, node).await;
            let (_, fresh_guest) = start_chat(&http, node).await;
            assert_eq!(kid(&fresh), new, "{node} signs with the rotated key");
            assert_eq!(kid(&fresh_guest), new, "{node}");
            kept.extend([fresh, fresh_guest]);
        }
        keys.push(new);
    }
    live.converse(Duration::ZERO).await;

    live.assert_nothing_noticed().await;
    for node in nodes {
        assert_eq!(published(&http, node).await, keys, "{node}'s JWKS");
        for (index, token) in kept.iter().enumerate() {
            let status = me_status(&http, node, token).await;
            assert_eq!(status, 200, "token {index} on {node}");
        }
    }
}

//! Guest tokens: minted at every chat start, carrying their chat, opening
//! that chat and nothing else, renewed for a chat the store still has open
//! (`spec/v1/openapi.json` operations `getChat` and `renewGuestToken`;
//! `spec/v1/README.md#guests-the-chat-start-token`, `#token-claims`).
//!
//! Renewal refused to an agent token or to another chat's guest is the
//! conformance runner's `auth.scope.agent-on-guest-endpoint` and
//! `auth.scope.other-chat.renew-token`.

use proptest::prelude::*;
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, error_code, guest_claims, json_body, mint, runtime, snapshot_settings, spawn_app,
};

fn guest_token(started: &Value) -> &str {
    started["guest_token"].as_str().expect("guest_token")
}

fn chat_id(started: &Value) -> &str {
    started["chat"]["id"].as_str().expect("chat.id")
}

async fn renew(app: &TestApp, chat_id: &str, token: &str) -> reqwest::Response {
    app.post(&format!("/v1/chats/{chat_id}/token"), Some(token), None)
        .await
}

#[tokio::test]
async fn guest_token_opens_its_own_chat() {
    // `GET /v1/chats/{chat_id}` is open to the guest of that chat.
    let app = spawn_app().await;
    let started = app.start_chat().await;

    let chat = json_body(
        app.get(
            &format!("/v1/chats/{}", chat_id(&started)),
            Some(guest_token(&started)),
        )
        .await,
        200,
    )
    .await;

    assert_eq!(chat, started["chat"]);
}

#[tokio::test]
async fn guest_token_for_chat_a_cannot_read_chat_b() {
    // A guest token only ever opens its own chat: 403 `forbidden` elsewhere,
    // with the same answer whether or not the other chat exists.
    let app = spawn_app().await;
    let a = app.start_chat().await;
    let b = app.start_chat().await;

    let existing = app
        .get(&format!("/v1/chats/{}", chat_id(&b)), Some(guest_token(&a)))
        .await;
    let missing = app
        .get(
            &format!("/v1/chats/{}", uuid::Uuid::now_v7()),
            Some(guest_token(&a)),
        )
        .await;

    assert_eq!(existing.status(), 403);
    assert_eq!(missing.status(), 403);
    let existing: Value = existing.json().await.unwrap();
    let missing: Value = missing.json().await.unwrap();
    assert_eq!(existing["error"]["code"], "forbidden");
    assert_eq!(
        existing, missing,
        "the answer tells whether the chat exists"
    );
}

#[tokio::test]
async fn a_forged_guest_token_opens_only_the_chat_in_its_claim() {
    // The chat is read from the claim: a guest token made with the server's
    // key for chat A opens A and is refused on B.
    let app = spawn_app().await;
    let a = app.start_chat().await;
    let b = app.start_chat().await;
    let token = mint(&guest_claims(
        chat_id(&a),
        a["chat"]["created_at"].as_str().unwrap(),
    ));

    let own = app
        .get(&format!("/v1/chats/{}", chat_id(&a)), Some(&token))
        .await;
    let other = app
        .get(&format!("/v1/chats/{}", chat_id(&b)), Some(&token))
        .await;

    assert_eq!(own.status(), 200);
    assert_eq!(error_code(other, 403).await, "forbidden");
}

#[tokio::test]
async fn guest_token_is_forbidden_on_agent_only_routes() {
    // An agent-only route answers a valid guest token with 403 `forbidden`,
    // even for the guest's own chat.
    let app = spawn_app().await;
    let started = app.start_chat().await;
    let token = guest_token(&started);
    let own = format!("/v1/chats/{}", chat_id(&started));

    let responses = [
        ("GET /v1/chats", app.get("/v1/chats", Some(token)).await),
        ("GET /v1/agents", app.get("/v1/agents", Some(token)).await),
        (
            "POST /v1/agents",
            app.post(
                "/v1/agents",
                Some(token),
                Some(&json!({"email": "g@example.com", "name": "G", "role": "admin", "password": "guest wants in"})),
            )
            .await,
        ),
        (
            "assign",
            app.post(&format!("{own}/assign"), Some(token), None).await,
        ),
        (
            "close",
            app.post(&format!("{own}/close"), Some(token), None).await,
        ),
        (
            "logout",
            app.post("/v1/auth/logout", Some(token), None).await,
        ),
    ];

    for (route, response) in responses {
        assert_eq!(error_code(response, 403).await, "forbidden", "{route}");
    }
    let chat = json_body(app.get(&own, Some(token)).await, 200).await;
    assert_eq!(chat["status"], "open", "the guest changed its chat");
}

#[tokio::test]
async fn guest_token_renewal_keeps_the_visitor_and_the_chat() {
    // `POST /v1/chats/{chat_id}/token` gives a fresh guest token for the same
    // chat and visitor.
    let app = spawn_app().await;
    let started = app.start_chat().await;

    let renewed = json_body(
        renew(&app, chat_id(&started), guest_token(&started)).await,
        200,
    )
    .await;

    snapshot_settings().bind(|| insta::assert_json_snapshot!("renewed_guest_token", renewed));
    let new_token = renewed["guest_token"].as_str().unwrap();
    assert_ne!(new_token, guest_token(&started));
    let before = json_body(app.get("/v1/me", Some(guest_token(&started))).await, 200).await;
    let after = json_body(app.get("/v1/me", Some(new_token)).await, 200).await;
    assert_eq!(after["id"], before["id"], "same visitor");
    assert_eq!(after["chat_id"], before["chat_id"], "same chat");
    let chat = app
        .get(&format!("/v1/chats/{}", chat_id(&started)), Some(new_token))
        .await;
    assert_eq!(chat.status(), 200);
}

#[tokio::test]
async fn guest_token_renewal_on_a_closed_chat_is_chat_closed() {
    // Closed chats get no new tokens: 409 `chat_closed`.
    let app = spawn_app().await;
    let started = app.start_chat().await;
    let admin = app.admin_token().await;
    let closed = app
        .post(
            &format!("/v1/chats/{}/close", chat_id(&started)),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(closed.status(), 200);

    let response = renew(&app, chat_id(&started), guest_token(&started)).await;

    assert_eq!(error_code(response, 409).await, "chat_closed");
}

#[tokio::test]
async fn guest_token_renewal_for_a_chat_that_does_not_exist_is_chat_not_found() {
    // Renewal reads the chat: a valid guest token whose chat is gone gets
    // 404 `chat_not_found`.
    let app = spawn_app().await;
    let ghost = uuid::Uuid::now_v7().to_string();
    let token = mint(&guest_claims(&ghost, "2026-01-01T12:00:00Z"));

    let response = renew(&app, &ghost, &token).await;

    assert_eq!(error_code(response, 404).await, "chat_not_found");
}

#[test]
fn guest_token_for_chat_a_never_opens_chat_b() {
    // Property: for any two distinct chats (or a chat id that does not
    // exist), A's guest token opens A and is refused on B, on every route.
    let rt = runtime();
    let app = rt.block_on(spawn_app());
    let chats: Vec<Value> = rt.block_on(async {
        let mut chats = Vec::new();
        for _ in 0..4 {
            chats.push(app.start_chat().await);
        }
        chats
    });

    let config = ProptestConfig {
        cases: 16,
        ..ProptestConfig::default()
    };
    proptest!(config, |(a in 0..4usize, b in 0..5usize, random in any::<u128>())| {
        prop_assume!(a != b);
        let owner = &chats[a];
        let other = match chats.get(b) {
            Some(chat) => chat_id(chat).to_owned(),
            None => uuid::Uuid::from_u128(random).to_string(),
        };
        rt.block_on(async {
            let token = guest_token(owner);
            let own = app.get(&format!("/v1/chats/{}", chat_id(owner)), Some(token)).await;
            assert_eq!(own.status(), 200);
            let read = app.get(&format!("/v1/chats/{other}"), Some(token)).await;
            assert_eq!(error_code(read, 403).await, "forbidden");
            let renewal = renew(&app, &other, token).await;
            assert_eq!(error_code(renewal, 403).await, "forbidden");
        });
    });
}

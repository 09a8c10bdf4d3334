//! Visitors across their chats (`spec/v1/openapi.json`: `startChat`'s
//! `visitor_token`, `context` and `identity`, `listVisitorChats`,
//! `listOwnChats`, `issueOwnChatToken`; `Chat.visitor` and
//! `Chat.context`).
//!
//! An anonymous visitor presenting the `visitor_token` of an earlier chat
//! start is the same visitor, and agents list their chats; a token that
//! names no valid visitor starts a new one and never fails the start. The
//! context a widget reports is kept and answered as plain text, each field
//! bounded; the browser and system come from `User-Agent`. A verified
//! visitor is one visitor across devices, and their guest session reaches
//! their own chats and no one else's.

use std::time::Duration;

use byrd_server::domain::{DisplayName, EmailAddress, VerifiedIdentity};
use byrd_server::store::{ChatVisitor, NewChat, StartedChat, VisitorFound};
use byrd_spec::chat::Chat;
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code, json_body, spawn_app, spawn_app_with};

const FIREFOX_ON_LINUX: &str =
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0";

async fn start(app: &TestApp, body: Value) -> Value {
    json_body(app.post("/v1/chats", None, Some(&body)).await, 201).await
}

fn visitor_id(started: &Value) -> &str {
    started["chat"]["visitor"]["id"].as_str().unwrap()
}

/// The ids of a page of chats, in its order.
fn ids(page: &Value) -> Vec<&str> {
    page["chats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|chat| chat["id"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_returning_visitor_keeps_its_id_and_agents_list_both_chats() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let first = start(&app, json!({"visitor": {"name": "Sam"}})).await;
    let token = first["visitor_token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("byrd_vt_"), "{token}");
    assert_eq!(first["chat"]["visitor"]["verified"], false);
    let stranger = start(&app, json!({})).await;
    assert_ne!(visitor_id(&stranger), visitor_id(&first));

    let second = start(&app, json!({"visitor_token": token})).await;
    assert_eq!(visitor_id(&second), visitor_id(&first));
    // Renewed, not replaced: a second tab holding it keeps a valid token.
    assert_eq!(second["visitor_token"], token.as_str());
    let third = start(&app, json!({"visitor_token": token})).await;
    assert_eq!(visitor_id(&third), visitor_id(&first));

    let path = format!("/v1/visitors/{}/chats", visitor_id(&first));
    let page = json_body(app.get(&path, Some(&admin)).await, 200).await;
    let newest_first = [&third, &second, &first].map(|s| s["chat"]["id"].as_str().unwrap());
    assert_eq!(ids(&page), newest_first);
    assert_eq!(page["next_cursor"], Value::Null);

    let paged = json_body(app.get(&format!("{path}?limit=2"), Some(&admin)).await, 200).await;
    assert_eq!(ids(&paged), newest_first[..2]);
    let cursor = paged["next_cursor"].as_str().unwrap();
    let rest = json_body(
        app.get(&format!("{path}?limit=2&cursor={cursor}"), Some(&admin))
            .await,
        200,
    )
    .await;
    assert_eq!(ids(&rest), newest_first[2..]);
    assert_eq!(
        error_code(app.get(&format!("{path}?limit=0"), Some(&admin)).await, 400).await,
        "invalid_request"
    );
}

#[tokio::test]
async fn an_unknown_malformed_or_expired_visitor_token_starts_a_new_visitor() {
    let app = spawn_app().await;
    let known = start(&app, json!({})).await;
    let known_token = known["visitor_token"].as_str().unwrap();
    let unknown = format!("byrd_vt_{}", "A".repeat(43));
    let truncated = &known_token[..known_token.len() - 1];
    for stale in ["", "garbage", truncated, &unknown, "byrd_vt_🦀"] {
        let started = start(&app, json!({"visitor_token": stale})).await;
        assert_ne!(visitor_id(&started), visitor_id(&known), "{stale:?}");
        let fresh = started["visitor_token"].as_str().unwrap();
        assert!(fresh.starts_with("byrd_vt_") && fresh != stale, "{stale:?}");
    }

    // A token lapses when its time since the last use runs out.
    let lapsing = spawn_app_with(|s| s.limits.visitor_token_ttl = Duration::ZERO).await;
    let first = start(&lapsing, json!({})).await;
    let again = start(&lapsing, json!({"visitor_token": first["visitor_token"]})).await;
    assert_ne!(visitor_id(&again), visitor_id(&first));
    assert_ne!(again["visitor_token"], first["visitor_token"]);
}

#[tokio::test]
async fn the_context_is_stored_and_answered_as_plain_text_with_the_user_agent_parsed() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let context = json!({
        "page_url": "https://shop.example/cart?item=7",
        "page_title": "<b>Cart</b> & more",
        "referrer": "",
        "locale": "en-GB",
        "time_zone": "Europe/London",
    });
    let response = app
        .client
        .post(app.url("/v1/chats"))
        .header("User-Agent", FIREFOX_ON_LINUX)
        .json(&json!({ "context": context }))
        .send()
        .await
        .unwrap();
    let started = json_body(response, 201).await;
    let expected = json!({
        "page_url": "https://shop.example/cart?item=7",
        "page_title": "<b>Cart</b> & more",
        "referrer": null,
        "locale": "en-GB",
        "time_zone": "Europe/London",
        "browser": "Firefox 121",
        "os": "Linux",
    });
    assert_eq!(started["chat"]["context"], expected);
    let path = format!("/v1/chats/{}", started["chat"]["id"].as_str().unwrap());
    let read = json_body(app.get(&path, Some(&admin)).await, 200).await;
    assert_eq!(read["context"], expected);

    // Without a context or a User-Agent every field is null.
    let bare = start(&app, json!({})).await;
    assert!(
        bare["chat"]["context"]
            .as_object()
            .unwrap()
            .values()
            .all(Value::is_null),
        "{bare}"
    );
}

#[tokio::test]
async fn a_context_field_that_breaks_its_rules_is_refused_by_name() {
    let app = spawn_app().await;
    let long_url = format!("https://shop.example/{}", "a".repeat(2048));
    let cases = [
        ("page_url", json!(long_url)),
        ("page_url", json!("javascript:alert(1)")),
        ("referrer", json!("ftp://files.example/")),
        ("page_title", json!("x".repeat(301))),
        ("page_title", json!("Cart\u{0007}")),
        ("page_title", json!("Cart\u{202E}tfig")),
        ("locale", json!("en\u{200B}GB")),
        ("locale", json!("e".repeat(36))),
        ("time_zone", json!("Europe/Paris\nUTC")),
    ];
    for (field, value) in cases {
        let input: serde_json::Map<String, Value> =
            [(field.to_owned(), value)].into_iter().collect();
        let body = json!({ "context": input });
        let response = app.post("/v1/chats", None, Some(&body)).await;
        let body: Value = json_body(response, 422).await;
        assert_eq!(body["error"]["code"], "validation_failed", "{field}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.starts_with(&format!("context.{field}: ")),
            "{message}"
        );
    }
}

#[tokio::test]
async fn a_guest_lists_no_visitor_chats_unless_verified() {
    let app = spawn_app().await;
    let started = start(&app, json!({})).await;
    let guest = started["guest_token"].as_str().unwrap();
    let own = format!("/v1/visitors/{}/chats", visitor_id(&started));
    assert_eq!(
        error_code(app.get(&own, Some(guest)).await, 403).await,
        "forbidden"
    );
    let other = start(&app, json!({})).await;
    let theirs = format!("/v1/visitors/{}/chats", visitor_id(&other));
    assert_eq!(
        error_code(app.get(&theirs, Some(guest)).await, 403).await,
        "forbidden"
    );
    // An anonymous visitor's guest session reaches only its chat.
    assert_eq!(
        error_code(app.get("/v1/visitor/chats", Some(guest)).await, 403).await,
        "forbidden"
    );
    let path = format!(
        "/v1/visitor/chats/{}/token",
        other["chat"]["id"].as_str().unwrap()
    );
    assert_eq!(
        error_code(app.post(&path, Some(guest), None).await, 403).await,
        "forbidden"
    );
}

#[tokio::test]
async fn an_identity_is_refused_while_the_server_trusts_no_issuer() {
    let app = spawn_app().await;
    let body = json!({"identity": "eyJhbGciOiJFUzI1NiJ9.e30.c2ln"});
    let response = app.post("/v1/chats", None, Some(&body)).await;
    assert_eq!(error_code(response, 401).await, "identity_invalid");
}

fn identity(subject: &str, plan: &str) -> VerifiedIdentity {
    VerifiedIdentity::parse(
        "https://shop.example",
        subject,
        Some("Ada Shopper"),
        Some("ada@shop.example"),
        [("plan".to_owned(), plan.to_owned())],
    )
    .unwrap()
}

/// Starts a chat for `identity` through the store, as the chat start does
/// once the identity is verified.
async fn start_verified(app: &TestApp, identity: VerifiedIdentity) -> Chat {
    let new = NewChat {
        visitor: ChatVisitor::Verified(identity),
        visitor_name: Some(DisplayName::parse("visitor.name", "typed").unwrap()),
        visitor_email: Some(EmailAddress::parse("visitor.email", "typed@example.org").unwrap()),
        subject: None,
        context: Default::default(),
        address: None,
    };
    let StartedChat { chat, visitor } = app.state.store.insert_chat(new).await.unwrap();
    assert_eq!(visitor, VisitorFound::Verified);
    chat
}

#[tokio::test]
async fn a_verified_identity_is_one_visitor_across_devices() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let laptop = start_verified(&app, identity("user-42", "free")).await;
    let phone = start_verified(&app, identity("user-42", "pro")).await;
    let someone_else = start_verified(&app, identity("user-43", "free")).await;
    assert_eq!(phone.visitor.id, laptop.visitor.id);
    assert_ne!(someone_else.visitor.id, laptop.visitor.id);
    assert!(phone.visitor.verified);
    assert_eq!(
        phone.visitor.issuer.as_deref(),
        Some("https://shop.example")
    );
    assert_eq!(phone.visitor.external_id.as_deref(), Some("user-42"));
    // The identity's name wins over what was typed.
    assert_eq!(phone.visitor.name.as_deref(), Some("Ada Shopper"));

    let path = format!("/v1/visitors/{}/chats", laptop.visitor.id);
    let page = json_body(app.get(&path, Some(&admin)).await, 200).await;
    let (phone_id, laptop_id) = (phone.id.to_string(), laptop.id.to_string());
    assert_eq!(ids(&page), [phone_id.as_str(), laptop_id.as_str()]);
    // Every chat shows the visitor as the issuer last described them.
    for chat in page["chats"].as_array().unwrap() {
        assert_eq!(chat["visitor"]["verified"], true);
        assert_eq!(chat["visitor"]["external_id"], "user-42");
        assert_eq!(
            chat["visitor"]["attributes"],
            json!([{"name": "plan", "value": "pro"}])
        );
    }
}

#[tokio::test]
async fn concurrent_starts_of_one_new_identity_end_with_one_visitor() {
    let app = spawn_app().await;
    let starts = (0..8).map(|_| start_verified(&app, identity("user-new", "free")));
    let chats = futures_util::future::join_all(starts).await;
    let first = chats[0].visitor.id;
    assert!(chats.iter().all(|chat| chat.visitor.id == first));
    let chats_of_visitor = app
        .state
        .store
        .visitor_chats(first, None, 100)
        .await
        .unwrap();
    assert_eq!(chats_of_visitor.len(), 8);
}

#[tokio::test]
async fn a_verified_guest_lists_and_opens_only_its_own_chats() {
    let app = spawn_app().await;
    let older = start_verified(&app, identity("user-42", "free")).await;
    let newer = start_verified(&app, identity("user-42", "free")).await;
    let theirs = start_verified(&app, identity("user-43", "free")).await;
    let anonymous = start(&app, json!({})).await;
    let guest = app.state.tokens.issue_guest_token(&newer).unwrap().token;

    let page = json_body(app.get("/v1/visitor/chats", Some(&guest)).await, 200).await;
    let (newer_id, older_id) = (newer.id.to_string(), older.id.to_string());
    assert_eq!(ids(&page), [newer_id.as_str(), older_id.as_str()]);

    let path = format!("/v1/visitor/chats/{}/token", older.id);
    let issued = json_body(app.post(&path, Some(&guest), None).await, 200).await;
    let token = issued["guest_token"].as_str().unwrap();
    let opened = app
        .get(&format!("/v1/chats/{}", older.id), Some(token))
        .await;
    assert_eq!(json_body(opened, 200).await["id"], older_id.as_str());

    // Another visitor's chat and no chat at all answer alike.
    let anonymous_id = anonymous["chat"]["id"].as_str().unwrap().to_owned();
    for other in [
        theirs.id.to_string(),
        anonymous_id,
        uuid::Uuid::now_v7().to_string(),
    ] {
        let path = format!("/v1/visitor/chats/{other}/token");
        assert_eq!(
            error_code(app.post(&path, Some(&guest), None).await, 404).await,
            "chat_not_found"
        );
    }
    let admin = app.admin_token().await;
    let close = format!("/v1/chats/{}/close", older.id);
    assert_eq!(app.post(&close, Some(&admin), None).await.status(), 200);
    assert_eq!(
        error_code(app.post(&path, Some(&guest), None).await, 409).await,
        "chat_closed"
    );
    assert_eq!(
        error_code(app.get("/v1/visitor/chats", Some(&admin)).await, 403).await,
        "forbidden"
    );
}

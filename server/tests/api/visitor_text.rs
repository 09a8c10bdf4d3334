//! Display text a reader must see as it was sent: a visitor's name and a
//! chat's subject (`POST /v1/chats`, `spec/v1/openapi.json` operation
//! `startChat`) and an agent's name (`createAgent`) refuse invisible format
//! characters (Unicode category Cf) but the zero-width joiner and
//! non-joiner (`spec/v1/README.md#endpoints`, "Field rules").

use serde_json::{Value, json};

use crate::helpers::{json_body, spawn_app};

/// Bidirectional embeddings, overrides, isolates and marks, zero-width
/// spaces and tags: each makes text read otherwise than it was sent.
const HIDDEN: [char; 12] = [
    '\u{202E}',
    '\u{202A}',
    '\u{2066}',
    '\u{2069}',
    '\u{200E}',
    '\u{200F}',
    '\u{061C}',
    '\u{200B}',
    '\u{2060}',
    '\u{FEFF}',
    '\u{E0001}',
    '\u{E0041}',
];

/// A 422 `validation_failed` whose message names `field`.
async fn refused_naming(response: reqwest::Response, field: &str) {
    let body: Value = json_body(response, 422).await;
    assert_eq!(body["error"]["code"], "validation_failed", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.starts_with(&format!("{field}: ")), "{message}");
    assert!(message.contains("format characters"), "{message}");
}

#[tokio::test]
async fn a_visitor_name_or_subject_with_a_hidden_format_character_is_refused() {
    // "Bob" + RIGHT-TO-LEFT OVERRIDE + "nimda" would read "Bobadmin".
    let app = spawn_app().await;
    for c in HIDDEN {
        let text = format!("Bob{c}nimda");
        let named = app
            .post("/v1/chats", None, Some(&json!({"visitor": {"name": text}})))
            .await;
        refused_naming(named, "visitor.name").await;
        let subject = app
            .post("/v1/chats", None, Some(&json!({"subject": text})))
            .await;
        refused_naming(subject, "subject").await;
    }
}

#[tokio::test]
async fn joiners_that_scripts_and_emoji_need_are_stored_as_sent() {
    // 👩‍💻 is woman, ZWJ, laptop; Persian writes "می‌خواهم" with a ZWNJ.
    let app = spawn_app().await;
    let name = "Sam 👩\u{200D}💻";
    let subject = "می\u{200C}خواهم";

    let started = json_body(
        app.post(
            "/v1/chats",
            None,
            Some(&json!({"visitor": {"name": name}, "subject": subject})),
        )
        .await,
        201,
    )
    .await;

    assert_eq!(started["chat"]["visitor"]["name"], name);
    assert_eq!(started["chat"]["subject"], subject);
}

#[tokio::test]
async fn an_agent_name_with_a_hidden_format_character_is_refused() {
    // Agents' names are shown to visitors: the same rule holds.
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let body = json!({
        "email": "grace@example.com",
        "name": "Grace\u{202E}nimda",
        "role": "agent",
        "password": "correct horse battery staple"
    });

    let response = app.post("/v1/agents", Some(&admin), Some(&body)).await;

    refused_naming(response, "name").await;
}

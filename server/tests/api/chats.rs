//! Chats: starting one (`spec/v1/openapi.json` operation `startChat`, with
//! its configured body size and rate limits, behind a proxy or not),
//! reading one (`getChat`), and the transitions `assignChat` and
//! `closeChat`, racing ones included (`spec/v1/README.md#endpoints`). The
//! chats each store keeps are read back; listing them is `chat_list.rs`.

use serde_json::{Value, json};

use crate::helpers::{
    TestApp, error_code, json_body, snapshot_settings, spawn_app, spawn_app_with,
};

fn id(value: &Value) -> &str {
    value["id"].as_str().expect("an id")
}

async fn post_raw(app: &TestApp, path: &str, content_type: &str, body: &str) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .header("content-type", content_type)
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

async fn close(app: &TestApp, token: &str, chat: &str) -> reqwest::Response {
    app.post(&format!("/v1/chats/{chat}/close"), Some(token), None)
        .await
}

async fn assign(app: &TestApp, token: &str, chat: &str, body: Option<&Value>) -> reqwest::Response {
    app.post(&format!("/v1/chats/{chat}/assign"), Some(token), body)
        .await
}

#[tokio::test]
async fn starting_a_chat_without_a_body_gives_an_anonymous_chat_and_its_guest_token() {
    // `POST /v1/chats` needs no auth and no body -> 201 `{chat, guest_token,
    // expires_in}`; guest tokens last about 24 hours.
    let app = spawn_app().await;

    let response = app.post("/v1/chats", None, None).await;
    let body = json_body(response, 201).await;

    snapshot_settings().bind(|| insta::assert_json_snapshot!("chat_started_anonymously", body));
    let me = json_body(
        app.get("/v1/me", Some(body["guest_token"].as_str().unwrap()))
            .await,
        200,
    )
    .await;
    assert_eq!(me["chat_id"], body["chat"]["id"]);
    assert_eq!(me["id"], body["chat"]["visitor"]["id"]);
}

#[tokio::test]
async fn starting_a_chat_with_visitor_and_subject_keeps_them() {
    // The optional body `{visitor: {name, email}, subject}` is stored with
    // the chat, trimmed.
    let app = spawn_app().await;

    let response = app
        .post(
            "/v1/chats",
            None,
            Some(&json!({"visitor": {"name": "  Sam ", "email": "sam@example.org"}, "subject": "Billing question"})),
        )
        .await;
    let body = json_body(response, 201).await;

    snapshot_settings().bind(|| insta::assert_json_snapshot!("chat_started_with_details", body));
}

#[tokio::test]
async fn starting_a_chat_with_an_empty_object_is_allowed() {
    // Every field of the body is optional.
    let app = spawn_app().await;

    let response = app.post("/v1/chats", None, Some(&json!({}))).await;

    assert_eq!(response.status(), 201);
}

#[tokio::test]
async fn starting_a_chat_with_invalid_fields_is_validation_failed() {
    // A field that breaks its rules is 422 `validation_failed`.
    let app = spawn_app().await;

    for body in [
        json!({"visitor": {"name": ""}}),
        json!({"visitor": {"name": "   "}}),
        json!({"visitor": {"name": "x".repeat(101)}}),
        json!({"visitor": {"name": "a\u{0007}b"}}),
        json!({"visitor": {"name": 7}}),
        json!({"visitor": {"email": "not an email"}}),
        json!({"visitor": {"email": "sam@"}}),
        json!({"visitor": "Sam"}),
        json!({"subject": ""}),
        json!({"subject": "x".repeat(201)}),
        json!({"subject": ["a"]}),
    ] {
        let response = app.post("/v1/chats", None, Some(&body)).await;
        assert_eq!(
            error_code(response, 422).await,
            "validation_failed",
            "{body}"
        );
    }
}

#[tokio::test]
async fn starting_a_chat_with_bad_json_is_invalid_request() {
    // A body that is not JSON, or not sent as JSON, is 400 `invalid_request`.
    let app = spawn_app().await;

    let truncated = post_raw(&app, "/v1/chats", "application/json", "{\"subject\": ").await;
    let not_json = post_raw(&app, "/v1/chats", "application/json", "subject=Help").await;
    let wrong_type = post_raw(&app, "/v1/chats", "text/plain", "{\"subject\": \"Help\"}").await;

    assert_eq!(error_code(truncated, 400).await, "invalid_request");
    assert_eq!(error_code(not_json, 400).await, "invalid_request");
    assert_eq!(error_code(wrong_type, 400).await, "invalid_request");
}

#[tokio::test]
async fn an_oversized_body_is_payload_too_large() {
    // Bodies over the configured limit get 413 `payload_too_large`, before
    // any parsing.
    let app = spawn_app_with(|settings| settings.limits.max_body_bytes = 256).await;
    let big = json!({"subject": "x".repeat(150), "visitor": {"name": "y".repeat(150)}});

    let chat = app.post("/v1/chats", None, Some(&big)).await;
    let login = app
        .post(
            "/v1/auth/login",
            None,
            Some(&json!({"email": "a@example.com", "password": "p".repeat(300)})),
        )
        .await;

    assert_eq!(error_code(chat, 413).await, "payload_too_large");
    assert_eq!(error_code(login, 413).await, "payload_too_large");
    let small = app
        .post("/v1/chats", None, Some(&json!({"subject": "ok"})))
        .await;
    assert_eq!(small.status(), 201, "a body under the limit passes");
}

#[tokio::test]
async fn chat_starts_are_rate_limited_per_client_address() {
    // `POST /v1/chats` is rate limited per client address: 429
    // `rate_limited` with a `Retry-After` of whole seconds.
    let app = spawn_app_with(|settings| settings.limits.chat_starts_per_minute = 2).await;
    app.start_chat().await;
    app.start_chat().await;

    let refused = app.post("/v1/chats", None, None).await;

    let retry_after: u64 = refused
        .headers()
        .get("retry-after")
        .expect("a Retry-After header")
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After is whole seconds");
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let body = json_body(refused, 429).await;
    snapshot_settings().bind(|| insta::assert_json_snapshot!("rate_limited", body));
}

#[tokio::test]
async fn an_agent_reads_any_chat() {
    // `GET /v1/chats/{chat_id}` is open to every agent.
    let app = spawn_app().await;
    let (_, agent) = app.agent("tess@example.com", "agent").await;
    let started = app.start_chat().await;

    let chat = json_body(
        app.get(&format!("/v1/chats/{}", id(&started["chat"])), Some(&agent))
            .await,
        200,
    )
    .await;

    assert_eq!(chat, started["chat"]);
}

#[tokio::test]
async fn reading_an_unknown_chat_is_chat_not_found() {
    // An agent asking for a chat id nobody has gets 404 `chat_not_found`.
    let app = spawn_app().await;
    let admin = app.admin_token().await;

    let response = app
        .get(&format!("/v1/chats/{}", uuid::Uuid::now_v7()), Some(&admin))
        .await;

    let body = json_body(response, 404).await;
    snapshot_settings().bind(|| insta::assert_json_snapshot!("chat_not_found", body));
}

#[tokio::test]
async fn an_agent_assigns_a_chat_to_itself() {
    // `POST /v1/chats/{chat_id}/assign` without `agent_id` gives the chat to
    // the caller; the chat is now `assigned`.
    let app = spawn_app().await;
    let (agent_id, agent) = app.agent("tess@example.com", "agent").await;
    let started = app.start_chat().await;

    let chat = json_body(assign(&app, &agent, id(&started["chat"]), None).await, 200).await;

    assert_eq!(chat["assigned_agent_id"], agent_id.as_str());
    assert_eq!(chat["status"], "assigned");
    snapshot_settings().bind(|| insta::assert_json_snapshot!("chat_assigned", chat));
    let empty_body = assign(&app, &agent, id(&started["chat"]), Some(&json!({}))).await;
    assert_eq!(empty_body.status(), 200, "an empty object means the caller");
}

#[tokio::test]
async fn an_agent_hands_a_chat_to_another_agent() {
    // With `agent_id`, the chat goes to that agent, and may be handed on again.
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (tess, _) = app.agent("tess@example.com", "agent").await;
    let (uma, _) = app.agent("uma@example.com", "agent").await;
    let chat_id = app.start_chat().await["chat"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let first = json_body(
        assign(&app, &admin, &chat_id, Some(&json!({"agent_id": tess}))).await,
        200,
    )
    .await;
    let second = json_body(
        assign(&app, &admin, &chat_id, Some(&json!({"agent_id": uma}))).await,
        200,
    )
    .await;

    assert_eq!(first["assigned_agent_id"], tess.as_str());
    assert_eq!(second["assigned_agent_id"], uma.as_str());
    let stored = json_body(
        app.get(&format!("/v1/chats/{chat_id}"), Some(&admin)).await,
        200,
    )
    .await;
    assert_eq!(stored["assigned_agent_id"], uma.as_str());
}

#[tokio::test]
async fn a_chat_names_its_agent_from_assign_to_close() {
    // `assigned_agent_name` is the assigned agent's display name wherever a
    // chat is returned (assign, get, list, close; the chat's own guest
    // included), and `null` while nobody has the chat.
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (tess, _) = app.agent("tess@example.com", "agent").await;
    let (uma, _) = app.agent("uma@example.com", "agent").await;
    let started = app.start_chat().await;
    let chat_id = id(&started["chat"]).to_owned();
    let guest = started["guest_token"].as_str().unwrap();
    assert_eq!(started["chat"]["assigned_agent_name"], Value::Null);

    let to_tess = json_body(
        assign(&app, &admin, &chat_id, Some(&json!({"agent_id": tess}))).await,
        200,
    )
    .await;
    let to_uma = json_body(
        assign(&app, &admin, &chat_id, Some(&json!({"agent_id": uma}))).await,
        200,
    )
    .await;
    let as_guest = json_body(
        app.get(&format!("/v1/chats/{chat_id}"), Some(guest)).await,
        200,
    )
    .await;
    let listed = json_body(app.get("/v1/chats", Some(&admin)).await, 200).await;
    let closed = json_body(close(&app, &admin, &chat_id).await, 200).await;

    assert_eq!(to_tess["assigned_agent_name"], "tess");
    assert_eq!(to_uma["assigned_agent_name"], "uma");
    assert_eq!(as_guest["assigned_agent_name"], "uma");
    assert_eq!(listed["chats"][0]["id"], chat_id.as_str());
    assert_eq!(listed["chats"][0]["assigned_agent_name"], "uma");
    assert_eq!(closed["assigned_agent_name"], "uma");
    let open = app.start_chat().await;
    let open_id = id(&open["chat"]);
    let unassigned = json_body(
        app.get(&format!("/v1/chats/{open_id}"), Some(&admin)).await,
        200,
    )
    .await;
    assert_eq!(unassigned["assigned_agent_name"], Value::Null);
}

#[tokio::test]
async fn assigning_to_an_unknown_agent_is_agent_not_found() {
    // 404 `agent_not_found` when no agent has `agent_id`; the chat is unchanged.
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let started = app.start_chat().await;
    let chat_id = id(&started["chat"]);

    let response = assign(
        &app,
        &admin,
        chat_id,
        Some(&json!({"agent_id": uuid::Uuid::now_v7()})),
    )
    .await;

    assert_eq!(error_code(response, 404).await, "agent_not_found");
    let stored = json_body(
        app.get(&format!("/v1/chats/{chat_id}"), Some(&admin)).await,
        200,
    )
    .await;
    assert_eq!(stored["status"], "open");
}

#[tokio::test]
async fn assigning_or_closing_an_unknown_chat_is_chat_not_found() {
    // 404 `chat_not_found` for a chat id nobody has.
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let ghost = uuid::Uuid::now_v7().to_string();

    let assigned = assign(&app, &admin, &ghost, None).await;
    let closed = close(&app, &admin, &ghost).await;

    assert_eq!(error_code(assigned, 404).await, "chat_not_found");
    assert_eq!(error_code(closed, 404).await, "chat_not_found");
}

#[tokio::test]
async fn assigning_with_a_malformed_agent_id_is_validation_failed() {
    // `agent_id` must be a UUID.
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let started = app.start_chat().await;

    let response = assign(
        &app,
        &admin,
        id(&started["chat"]),
        Some(&json!({"agent_id": "tess"})),
    )
    .await;

    assert_eq!(error_code(response, 422).await, "validation_failed");
}

#[tokio::test]
async fn closing_a_chat_closes_it_once() {
    // `POST /v1/chats/{chat_id}/close` -> the chat, `closed`, with
    // `closed_at`; closing it again is 409 `chat_closed`.
    let app = spawn_app().await;
    let (_, agent) = app.agent("tess@example.com", "agent").await;
    let started = app.start_chat().await;
    let chat_id = id(&started["chat"]);

    let closed = json_body(close(&app, &agent, chat_id).await, 200).await;
    let again = close(&app, &agent, chat_id).await;

    assert_eq!(closed["status"], "closed");
    assert!(closed["closed_at"].is_string());
    snapshot_settings().bind(|| insta::assert_json_snapshot!("chat_closed", closed));
    let body = json_body(again, 409).await;
    assert_eq!(body["error"]["code"], "chat_closed");
}

#[tokio::test]
async fn assigning_a_closed_chat_is_chat_closed() {
    // A closed chat cannot change: assign answers 409 `chat_closed`.
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let started = app.start_chat().await;
    let chat_id = id(&started["chat"]);
    assert_eq!(close(&app, &admin, chat_id).await.status(), 200);

    let response = assign(&app, &admin, chat_id, None).await;

    assert_eq!(error_code(response, 409).await, "chat_closed");
    let stored = json_body(
        app.get(&format!("/v1/chats/{chat_id}"), Some(&admin)).await,
        200,
    )
    .await;
    assert_eq!(stored["status"], "closed");
    assert!(stored["assigned_agent_id"].is_null());
}

#[tokio::test]
async fn a_malformed_chat_id_in_the_path_is_invalid_request() {
    // `chat_id` must be a UUID: 400 `invalid_request` otherwise.
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let started = app.start_chat().await;
    let guest = started["guest_token"].as_str().unwrap();

    for bad in ["not-a-uuid", "123", "0193a5f2-7000-7abc-8def-0123456789a"] {
        let read = app.get(&format!("/v1/chats/{bad}"), Some(&admin)).await;
        assert_eq!(error_code(read, 400).await, "invalid_request", "{bad}");
        let assigned = assign(&app, &admin, bad, None).await;
        assert_eq!(error_code(assigned, 400).await, "invalid_request", "{bad}");
        let closed = close(&app, &admin, bad).await;
        assert_eq!(error_code(closed, 400).await, "invalid_request", "{bad}");
        let renewed = app
            .post(&format!("/v1/chats/{bad}/token"), Some(guest), None)
            .await;
        assert_eq!(error_code(renewed, 400).await, "invalid_request", "{bad}");
    }
}

#[tokio::test]
async fn racing_assigns_and_closes_never_fail_with_a_server_error() {
    // Concurrent changes to one chat each get a definite answer (200, or 409
    // once it is closed), never a 5xx.
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let started = app.start_chat().await;
    let chat_id = id(&started["chat"]).to_owned();

    let requests = (0..12).map(|i| {
        let (app, admin, chat_id) = (&app, &admin, &chat_id);
        async move {
            if i % 4 == 3 {
                close(app, admin, chat_id).await
            } else {
                assign(app, admin, chat_id, None).await
            }
        }
    });
    let responses = futures_util::future::join_all(requests).await;

    let statuses: Vec<u16> = responses.iter().map(|r| r.status().as_u16()).collect();
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 409),
        "{statuses:?}"
    );
    assert!(statuses.contains(&200), "{statuses:?}");
}

#[tokio::test]
async fn a_spoofed_x_forwarded_for_does_not_escape_the_rate_limit() {
    // The client address comes from the connection unless the server is told
    // it sits behind a proxy, so a forged `X-Forwarded-For` buys no quota.
    let app = spawn_app_with(|settings| settings.limits.chat_starts_per_minute = 1).await;
    app.start_chat().await;

    let spoofed = app
        .client
        .post(app.url("/v1/chats"))
        .header("x-forwarded-for", "203.0.113.7")
        .send()
        .await
        .unwrap();

    assert_eq!(error_code(spoofed, 429).await, "rate_limited");
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_address_has_its_own_quota() {
    // With `trust_forwarded_for`, the last `X-Forwarded-For` entry is the
    // client, and each client has its own quota.
    let app = spawn_app_with(|settings| {
        settings.limits.chat_starts_per_minute = 1;
        settings.trust_forwarded_for = true;
    })
    .await;
    let start = |address: &'static str| {
        app.client
            .post(app.url("/v1/chats"))
            .header("x-forwarded-for", address)
            .send()
    };

    let first = start("198.51.100.1, 203.0.113.1").await.unwrap();
    let second = start("198.51.100.1, 203.0.113.2").await.unwrap();
    let again = start("203.0.113.1").await.unwrap();

    assert_eq!(first.status(), 201);
    assert_eq!(second.status(), 201);
    assert_eq!(error_code(again, 429).await, "rate_limited");
}

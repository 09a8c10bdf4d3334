//! The support team: `GET /v1/agents` and `POST /v1/agents` (admin only)
//! (`spec/v1/openapi.json` operations `listAgents` and `createAgent`;
//! `spec/v1/README.md#endpoints`): agents stored, listed oldest first, and
//! emails unique whatever their case.

use serde_json::{Value, json};

use crate::helpers::{ADMIN_EMAIL, TestApp, error_code, json_body, snapshot_settings, spawn_app};

fn new_agent(email: &str) -> Value {
    json!({
        "email": email,
        "name": "Grace",
        "role": "agent",
        "password": "correct horse battery staple"
    })
}

async fn create(app: &TestApp, token: &str, body: &Value) -> reqwest::Response {
    app.post("/v1/agents", Some(token), Some(body)).await
}

#[tokio::test]
async fn an_admin_creates_an_agent_who_can_then_log_in() {
    // `POST /v1/agents {email, name, role, password}` (admin) -> 201 with the
    // agent; the password never comes back.
    let app = spawn_app().await;
    let admin = app.admin_token().await;

    let created = json_body(
        create(&app, &admin, &new_agent("grace@example.com")).await,
        201,
    )
    .await;

    snapshot_settings().bind(|| insta::assert_json_snapshot!("agent_created", created));
    let session = json_body(
        app.login("grace@example.com", "correct horse battery staple")
            .await,
        200,
    )
    .await;
    assert_eq!(session["agent"], created);
}

#[tokio::test]
async fn an_admin_creates_another_admin() {
    // Admins may create agents of either role; the role is in the new token.
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (_, second_admin) = app.agent("ops@example.com", "admin").await;

    let me = json_body(app.get("/v1/me", Some(&second_admin)).await, 200).await;
    let created = create(&app, &second_admin, &new_agent("hal@example.com")).await;

    assert_eq!(me["role"], "admin");
    assert_eq!(created.status(), 201);
    let agents = json_body(app.get("/v1/agents", Some(&admin)).await, 200).await;
    assert_eq!(agents["agents"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn a_taken_email_is_email_taken_whatever_its_case() {
    // Emails are unique case-insensitively: 409 `email_taken`.
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    assert_eq!(
        create(&app, &admin, &new_agent("grace@example.com"))
            .await
            .status(),
        201
    );

    let same = create(&app, &admin, &new_agent("grace@example.com")).await;
    let shouting = create(&app, &admin, &new_agent("GRACE@Example.COM")).await;
    let padded = create(&app, &admin, &new_agent("  grace@example.com ")).await;
    let bootstrap = create(&app, &admin, &new_agent(&ADMIN_EMAIL.to_uppercase())).await;

    assert_eq!(error_code(same, 409).await, "email_taken");
    assert_eq!(error_code(shouting, 409).await, "email_taken");
    assert_eq!(error_code(padded, 409).await, "email_taken");
    assert_eq!(error_code(bootstrap, 409).await, "email_taken");
}

#[tokio::test]
async fn a_non_admin_cannot_create_agents() {
    // `POST /v1/agents` is admin only: an agent gets 403 `forbidden`.
    let app = spawn_app().await;
    let (_, agent) = app.agent("tess@example.com", "agent").await;

    let response = create(&app, &agent, &new_agent("grace@example.com")).await;

    assert_eq!(error_code(response, 403).await, "forbidden");
    let admin = app.admin_token().await;
    let agents = json_body(app.get("/v1/agents", Some(&admin)).await, 200).await;
    assert_eq!(
        agents["agents"].as_array().unwrap().len(),
        2,
        "no agent was added"
    );
}

#[tokio::test]
async fn creating_an_agent_with_invalid_fields_is_validation_failed() {
    // A bad email, name, role or password, or a missing field, is 422
    // `validation_failed`.
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let change = |key: &str, value: Value| {
        let mut body = new_agent("grace@example.com");
        body[key] = value;
        body
    };
    let mut missing_password = new_agent("grace@example.com");
    missing_password.as_object_mut().unwrap().remove("password");

    for body in [
        change("email", json!("grace")),
        change("email", json!("grace@example")),
        change("email", json!("")),
        change("name", json!("")),
        change("name", json!("x".repeat(101))),
        change("role", json!("owner")),
        change("role", json!("Admin")),
        change("password", json!("short")),
        change("password", json!("x".repeat(1025))),
        change("password", json!(123_456_789_012_u64)),
        missing_password,
    ] {
        let response = create(&app, &admin, &body).await;
        assert_eq!(
            error_code(response, 422).await,
            "validation_failed",
            "{body}"
        );
    }
}

#[tokio::test]
async fn any_agent_lists_the_team_oldest_first() {
    // `GET /v1/agents` (any agent) -> `{agents: [...]}`, oldest first, with no
    // password hashes.
    let app = spawn_app().await;
    let (_, agent) = app.agent("tess@example.com", "agent").await;

    let list = json_body(app.get("/v1/agents", Some(&agent)).await, 200).await;

    let emails: Vec<&str> = list["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, [ADMIN_EMAIL, "tess@example.com"]);
    snapshot_settings().bind(|| insta::assert_json_snapshot!("agent_list", list));
}

#[tokio::test]
async fn the_agent_routes_need_a_token() {
    // Without a token both routes answer 401 `token_missing`.
    let app = spawn_app().await;

    let list = app.get("/v1/agents", None).await;
    let create = app
        .post("/v1/agents", None, Some(&new_agent("grace@example.com")))
        .await;

    assert_eq!(error_code(list, 401).await, "token_missing");
    assert_eq!(error_code(create, 401).await, "token_missing");
}

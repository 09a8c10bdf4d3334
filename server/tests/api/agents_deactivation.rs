//! Deactivating an agent who leaves (`spec/v1/openapi.json` operations
//! `deactivateAgent` and `reactivateAgent`; README, "Agents"): a
//! deactivated agent is listed as inactive, cannot log in (the same 401 as
//! a wrong password), loses their sessions and sockets (4002
//! `token_revoked`), is refused in a backend-minted token, is assigned no
//! chat, and their assigned chats go back to the queue. An admin cannot
//! deactivate themself, nor anyone the last active admin.

use std::process::Command;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rcgen::KeyPair;
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::helpers::{ADMIN_EMAIL, TestApp, error_code, json_body, now, spawn_app, spawn_app_with};
use crate::ws_client::WsClient;

const PASSWORD: &str = "agent password for tests";

async fn deactivate(app: &TestApp, token: &str, agent_id: &str) -> reqwest::Response {
    let path = format!("/v1/agents/{agent_id}/deactivate");
    app.post(&path, Some(token), None).await
}

async fn reactivate(app: &TestApp, token: &str, agent_id: &str) -> reqwest::Response {
    let path = format!("/v1/agents/{agent_id}/reactivate");
    app.post(&path, Some(token), None).await
}

async fn my_id(app: &TestApp, token: &str) -> String {
    let me = json_body(app.get("/v1/me", Some(token)).await, 200).await;
    me["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_deactivated_agent_is_listed_inactive_and_cannot_log_in_until_reactivated() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (agent_id, _) = app.agent("grace@example.com", "agent").await;
    let wrong_password = app
        .login("grace@example.com", "not the password at all")
        .await;
    let wrong_password = json_body(wrong_password, 401).await;

    let deactivated = json_body(deactivate(&app, &admin, &agent_id).await, 200).await;
    assert_eq!(deactivated["id"], agent_id.as_str());
    assert_eq!(deactivated["active"], false);
    assert!(deactivated["deactivated_at"].is_string(), "{deactivated}");
    // Again: nothing changes, the same answer.
    let again = json_body(deactivate(&app, &admin, &agent_id).await, 200).await;
    assert_eq!(again, deactivated);

    // The right password is refused exactly as a wrong one.
    let login = app.login("grace@example.com", PASSWORD).await;
    assert_eq!(json_body(login, 401).await, wrong_password);
    let agents = json_body(app.get("/v1/agents", Some(&admin)).await, 200).await;
    let listed: Vec<(&str, bool)> = agents["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["email"].as_str().unwrap(), a["active"].as_bool().unwrap()))
        .collect();
    assert_eq!(listed, [(ADMIN_EMAIL, true), ("grace@example.com", false)]);

    let back = json_body(reactivate(&app, &admin, &agent_id).await, 200).await;
    assert_eq!(back["active"], true);
    assert_eq!(back["deactivated_at"], Value::Null);
    assert_eq!(app.login("grace@example.com", PASSWORD).await.status(), 200);
}

/// The login's lookup and its session are two steps: a deactivation that
/// commits between them must still leave the agent without a session, so
/// the store starts one only for an agent active at its commit.
#[tokio::test]
async fn a_session_starts_only_for_an_agent_active_when_it_commits() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (agent_id, _) = app.agent("grace@example.com", "agent").await;
    let id: uuid::Uuid = agent_id.parse().unwrap();
    let expires = chrono::Utc::now() + chrono::Duration::hours(1);
    let store = &app.state.store;
    store.create_session(id, [1; 32], expires).await.unwrap();

    json_body(deactivate(&app, &admin, &agent_id).await, 200).await;
    let late = store.create_session(id, [2; 32], expires).await;
    assert!(
        matches!(late, Err(byrd_server::store::StoreError::AgentNotFound)),
        "{late:?}"
    );
    json_body(reactivate(&app, &admin, &agent_id).await, 200).await;
    store.create_session(id, [3; 32], expires).await.unwrap();
}

#[tokio::test]
async fn deactivation_ends_the_agents_sessions_and_closes_their_sockets_with_4002() {
    // The agent's access token, refresh token and socket all end.
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    app.agent("grace@example.com", "agent").await;
    let session = json_body(app.login("grace@example.com", PASSWORD).await, 200).await;
    let access = session["access_token"].as_str().unwrap();
    let agent_id = my_id(&app, access).await;
    let (mut socket, _) = WsClient::connect(&app, access).await;

    assert_eq!(deactivate(&app, &admin, &agent_id).await.status(), 200);

    // Presence frames may come first; the close must follow.
    let (_, code, reason) = socket.drain_until_close().await;
    assert_eq!((code, reason.as_str()), (4002, "token_revoked"));
    assert_eq!(
        error_code(app.get("/v1/me", Some(access)).await, 401).await,
        "token_revoked"
    );
    let refresh = json!({"refresh_token": session["refresh_token"]});
    let refreshed = app.post("/v1/auth/refresh", None, Some(&refresh)).await;
    assert_eq!(refreshed.status(), 401);
}

#[tokio::test]
async fn the_agents_assigned_chats_go_back_to_the_queue_and_none_can_be_assigned_to_them() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (agent_id, agent) = app.agent("grace@example.com", "agent").await;
    let started = app.start_chat().await;
    let chat_id = started["chat"]["id"].as_str().unwrap();
    let assign = format!("/v1/chats/{chat_id}/assign");
    let taken = json_body(app.post(&assign, Some(&agent), None).await, 200).await;
    assert_eq!(taken["status"], "assigned");

    assert_eq!(deactivate(&app, &admin, &agent_id).await.status(), 200);

    let chat = json_body(
        app.get(&format!("/v1/chats/{chat_id}"), Some(&admin)).await,
        200,
    )
    .await;
    assert_eq!(chat["status"], "open", "{chat}");
    assert_eq!(chat["assigned_agent_id"], Value::Null);
    let to_them = json!({"agent_id": agent_id});
    let refused = app.post(&assign, Some(&admin), Some(&to_them)).await;
    assert_eq!(error_code(refused, 404).await, "agent_not_found");
}

#[tokio::test]
async fn an_admin_cannot_deactivate_themself_and_agents_cannot_deactivate() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let admin_id = my_id(&app, &admin).await;
    let (agent_id, agent) = app.agent("grace@example.com", "agent").await;

    let own = deactivate(&app, &admin, &admin_id).await;
    assert_eq!(error_code(own, 409).await, "cannot_deactivate_self");
    let by_agent = deactivate(&app, &agent, &admin_id).await;
    assert_eq!(error_code(by_agent, 403).await, "forbidden");
    let unknown = deactivate(&app, &admin, &uuid::Uuid::now_v7().to_string()).await;
    assert_eq!(error_code(unknown, 404).await, "agent_not_found");
    let unknown = reactivate(&app, &admin, &uuid::Uuid::now_v7().to_string()).await;
    assert_eq!(error_code(unknown, 404).await, "agent_not_found");
    let by_agent = reactivate(&app, &agent, &agent_id).await;
    assert_eq!(error_code(by_agent, 403).await, "forbidden");
}

#[tokio::test]
async fn two_admins_deactivating_each_other_at_once_leave_one_active_admin() {
    // Each request passes its authentication before either commits; the
    // store then takes them in turn, and the second finds the last active
    // admin (or its caller's session already ended).
    let app = spawn_app().await;
    let first = app.admin_token().await;
    let first_id = my_id(&app, &first).await;
    let (second_id, second) = app.agent("ops@example.com", "admin").await;

    let (one, two) = tokio::join!(
        deactivate(&app, &first, &second_id),
        deactivate(&app, &second, &first_id)
    );
    let mut outcomes = Vec::new();
    for response in [one, two] {
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap();
        outcomes.push((status, body["error"]["code"].clone()));
    }
    let succeeded = outcomes.iter().filter(|(status, _)| *status == 200).count();
    assert_eq!(succeeded, 1, "{outcomes:?}");
    assert!(
        outcomes.iter().any(
            |(status, code)| (*status == 409 && code == "last_active_admin")
                || (*status == 401 && code == "token_revoked")
        ),
        "{outcomes:?}"
    );
    let survivor = if outcomes[0].0 == 200 {
        &first
    } else {
        &second
    };
    let agents = json_body(app.get("/v1/agents", Some(survivor)).await, 200).await;
    let active_admins = agents["agents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["role"] == "admin" && a["active"] == true)
        .count();
    assert_eq!(active_admins, 1);
}

/// A trusted issuer's Ed25519 key, in a file the server reads.
fn trusting_backend(dir: &std::path::Path) -> (EncodingKey, std::path::PathBuf) {
    let pair = KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
    let pem = dir.join("backend.pem");
    std::fs::write(&pem, pair.public_key_pem()).unwrap();
    let file = dir.join("trusted-issuers.toml");
    std::fs::write(
        &file,
        format!(
            "[[issuer]]\niss = \"https://shop.example\"\naudience = \"byrd-agents\"\n\
             algorithms = [\"EdDSA\"]\npurposes = [\"agent_tokens\"]\nkeys_file = {:?}\n",
            pem.display().to_string()
        ),
    )
    .unwrap();
    (EncodingKey::from_ed_der(&pair.serialize_der()), file)
}

#[tokio::test]
async fn a_backend_minted_token_naming_a_deactivated_agent_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (key, file) = trusting_backend(dir.path());
    let app = spawn_app_with(|settings| settings.trusted_issuers_file = Some(file)).await;
    let admin = app.admin_token().await;
    let (agent_id, _) = app.agent("grace@example.com", "agent").await;
    let claims = json!({
        "iss": "https://shop.example", "aud": "byrd-agents", "type": "agent",
        "sub": agent_id, "role": "agent", "name": "Grace",
        "iat": now(), "exp": now() + 300, "jti": uuid::Uuid::new_v4().to_string()
    });
    let token = jsonwebtoken::encode(&Header::new(Algorithm::EdDSA), &claims, &key).unwrap();
    assert_eq!(app.get("/v1/me", Some(&token)).await.status(), 200);

    assert_eq!(deactivate(&app, &admin, &agent_id).await.status(), 200);

    let refused = app.get("/v1/me", Some(&token)).await;
    assert_eq!(error_code(refused, 401).await, "token_invalid");
    assert_eq!(reactivate(&app, &admin, &agent_id).await.status(), 200);
    assert_eq!(app.get("/v1/me", Some(&token)).await.status(), 200);
}

fn byrd_deactivate(data_dir: &std::path::Path, email: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_byrd"))
        .args(["agent", "deactivate", email, "--data-dir"])
        .arg(data_dir)
        .env_remove("DATABASE_URL")
        .output()
        .unwrap()
}

#[tokio::test]
async fn byrd_agent_deactivate_deactivates_anyone_but_the_last_active_admin() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let app = spawn_app_with(move |settings| {
        settings.database_url =
            SecretString::from(format!("sqlite://{}", path.join("byrd.db").display()));
        settings.data_dir = path;
    })
    .await;
    app.agent("grace@example.com", "agent").await;

    let output = byrd_deactivate(dir.path(), "GRACE@example.com");
    assert!(output.status.success(), "{output:?}");
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("deactivated agent grace@example.com")
    );
    assert_eq!(app.login("grace@example.com", PASSWORD).await.status(), 401);

    let last_admin = byrd_deactivate(dir.path(), ADMIN_EMAIL);
    assert!(!last_admin.status.success());
    assert!(String::from_utf8_lossy(&last_admin.stderr).contains("last active admin"));
    let unknown = byrd_deactivate(dir.path(), "nobody@example.com");
    assert!(!unknown.status.success());
    assert_eq!(app.admin_session().await["agent"]["active"], true);
}

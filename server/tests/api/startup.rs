//! Starting the server: the JWT key rule and the first admin (README,
//! "Configuration": `BYRD_JWT_SECRET`, `BYRD_ADMIN_EMAIL`).

use std::os::unix::fs::PermissionsExt;

use byrd_server::configuration::{BootstrapAdmin, MIN_JWT_SECRET_BYTES};
use byrd_server::startup::Application;
use secrecy::{ExposeSecret, SecretString};
use sqlx::{Connection, SqliteConnection};

use crate::helpers::{error_code, spawn_app_with, test_settings};

#[tokio::test]
async fn the_server_refuses_to_start_with_a_jwt_secret_shorter_than_32_bytes() {
    // `BYRD_JWT_SECRET` is used exactly as given and must be at least 32
    // bytes; the server refuses to start with a shorter one.
    let data_dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(&data_dir);
    settings.jwt.secret = Some(SecretString::from("x".repeat(MIN_JWT_SECRET_BYTES - 1)));

    let error = match Application::build(settings).await {
        Ok(_) => panic!("the server started with a 31-byte key"),
        Err(error) => format!("{error:#}"),
    };

    assert!(error.contains("BYRD_JWT_SECRET"), "{error}");
    assert!(error.contains("32"), "{error}");
}

#[tokio::test]
async fn a_jwt_secret_of_exactly_32_bytes_is_accepted() {
    // 32 bytes is the minimum, not a byte more (32 is 31 chars of ASCII plus
    // a two-byte character: the length is counted in bytes).
    let data_dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(&data_dir);
    let secret = format!("{}é", "x".repeat(30));
    assert_eq!(secret.len(), MIN_JWT_SECRET_BYTES);
    settings.jwt.secret = Some(SecretString::from(secret));

    assert!(Application::build(settings).await.is_ok());
}

#[tokio::test]
async fn the_first_admin_without_a_password_gets_an_owner_only_password_file_that_logs_in() {
    // First start, no agents, no admin password: a random password goes to an
    // owner-only file in the data folder, and it logs the admin in.
    let app = spawn_app_with(|settings| {
        settings.bootstrap_admin = BootstrapAdmin {
            email: Some("first@example.com".into()),
            password: None,
        };
    })
    .await;
    let path = app.data_dir.path().join("initial-admin-password");

    let mode = std::fs::metadata(&path)
        .expect("the password file exists")
        .permissions()
        .mode();
    let password = std::fs::read_to_string(&path).unwrap();

    assert_eq!(mode & 0o777, 0o600, "the file is not owner-only: {mode:o}");
    let password = password.trim();
    assert!(
        password.len() >= 32,
        "the password is weak: {} chars",
        password.len()
    );
    let session = app.login("first@example.com", password).await;
    assert_eq!(session.status(), 200);
    let session: serde_json::Value = session.json().await.unwrap();
    assert_eq!(session["agent"]["role"], "admin");
    let wrong = app.login("first@example.com", "not the password").await;
    assert_eq!(error_code(wrong, 401).await, "invalid_credentials");
}

#[tokio::test]
async fn with_an_admin_password_set_no_password_file_is_written() {
    // The file exists only when the server chose the password.
    let app = spawn_app_with(|_| {}).await;

    assert!(!app.data_dir.path().join("initial-admin-password").exists());
}

#[tokio::test]
async fn a_first_admin_that_cannot_be_stored_leaves_no_password_file() {
    // The generated password is written before the admin is stored; when
    // the insert fails, its file goes too: that password opens nothing.
    let data_dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(&data_dir);
    drop(Application::build(settings.clone()).await.unwrap());
    let mut db = SqliteConnection::connect(settings.database_url.expose_secret())
        .await
        .unwrap();
    for statement in [
        "DELETE FROM agents",
        "CREATE TRIGGER refuse_agents BEFORE INSERT ON agents \
         BEGIN SELECT RAISE(ABORT, 'agents refused'); END",
    ] {
        sqlx::query(statement).execute(&mut db).await.unwrap();
    }
    db.close().await.unwrap();
    settings.bootstrap_admin = BootstrapAdmin::default();

    let started = Application::build(settings).await;

    assert!(started.is_err(), "the admin was stored despite the trigger");
    assert!(!data_dir.path().join("initial-admin-password").exists());
}

#[tokio::test]
async fn a_restart_keeps_the_first_admin_and_writes_no_new_password() {
    // The first admin is created once, on a start with no agents.
    let data_dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(&data_dir);
    settings.bootstrap_admin = BootstrapAdmin::default();
    drop(Application::build(settings.clone()).await.unwrap());
    let path = data_dir.path().join("initial-admin-password");
    let first = std::fs::read_to_string(&path).unwrap();

    let restarted = Application::build(settings).await;

    assert!(restarted.is_ok(), "{:#}", restarted.err().unwrap());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), first);
}

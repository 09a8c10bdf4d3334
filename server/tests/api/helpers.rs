//! `spawn_app` and typed request helpers shared by every test module.
//!
//! The server runs in process here (`Application` with `Settings`), so
//! tests can reach its state and change any setting; the test admin, key,
//! lifted limits, token signer and WebSocket client are `byrd-testkit`'s,
//! shared with every other suite.

use std::time::Duration;

use byrd_server::configuration::{BootstrapAdmin, KeyAlgorithm, Settings};
use byrd_server::startup::Application;
use byrd_server::state::AppState;
use byrd_testkit::limits::LIFTED;
use reqwest::{Client, Response};
use secrecy::SecretString;
use serde_json::{Value, json};
use tempfile::TempDir;

// The kit's signer and constants, under the names every test module has
// always imported from here; some are for the tests that forge tokens.
#[allow(unused_imports)]
pub use byrd_testkit::token::{
    agent_claims, guest_claims, jwt_join, jwt_parts, mint, now, sign_hs256,
};
#[allow(unused_imports)]
pub use byrd_testkit::{ADMIN_EMAIL, ADMIN_PASSWORD, AUDIENCE, ISSUER, JWT_KID, JWT_SECRET};

/// A running server and what a test needs to talk to it.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    pub port: u16,
    pub client: Client,
    /// Holds the SQLite file (unless the test runs on PostgreSQL);
    /// deleted when the test ends.
    pub data_dir: TempDir,
    /// The server's state, for tests that run housekeeping.
    pub state: AppState,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Settings every test starts from: a fresh data folder, a known key and
/// admin, generous rate limits, tokens signed with the known key.
pub fn test_settings(data_dir: &TempDir) -> Settings {
    let mut settings = Settings::with_data_dir(data_dir.path().to_path_buf());
    settings.listen = "127.0.0.1:0".parse().unwrap();
    settings.jwt.secret = Some(SecretString::from(JWT_SECRET));
    // The suites mint and forge tokens with the test key (`mint`,
    // `ws_client::agent_token`), which only an `hs256` server accepts; the
    // keyring's own tests (`keyring.rs`) run the default, `eddsa`.
    hs256(&mut settings);
    settings.limits.chat_starts_per_minute = LIFTED.chat_starts_per_minute;
    settings.limits.open_chats_per_address = LIFTED.open_chats_per_address;
    settings.limits.logins_per_minute = LIFTED.logins_per_minute;
    settings.ws.frames_per_second = LIFTED.ws_frames_per_second;
    settings.limits.sends_per_minute = LIFTED.sends_per_minute;
    settings.limits.reads_per_minute = LIFTED.reads_per_minute;
    settings.limits.sockets_per_principal = LIFTED.sockets_per_principal as usize;
    settings.limits.failed_logins_per_account = LIFTED.failed_logins_per_account;
    settings.limits.password_hashes_at_once = LIFTED.password_hashes_at_once as usize;
    settings.bootstrap_admin = BootstrapAdmin {
        email: Some(ADMIN_EMAIL.into()),
        password: Some(SecretString::from(ADMIN_PASSWORD)),
    };
    settings
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Signs with the shared secret alone, as `BYRD_JWT_ALGORITHM=hs256`.
pub fn hs256(settings: &mut Settings) {
    settings.jwt.algorithm = KeyAlgorithm::Hs256;
}

/// Signs with the keyring, Ed25519: the production default.
pub fn keyring_default(settings: &mut Settings) {
    settings.jwt.algorithm = KeyAlgorithm::EdDsa;
}

/// Which database the tests run against: `BYRD_TEST_DATABASE=postgres`
/// puts every test on a fresh PostgreSQL schema of
/// `BYRD_TEST_POSTGRES_URL` (`scripts/services` starts one); by default
/// each gets a fresh SQLite file.
pub fn on_postgres() -> bool {
    std::env::var("BYRD_TEST_DATABASE").is_ok_and(|db| db == "postgres")
}

/// A fresh, empty schema of the PostgreSQL at `url`, as a database URL
/// whose connections work in it: as good as a database of its own, and
/// far cheaper to make.
pub async fn fresh_postgres_schema(url: &str) -> String {
    use sqlx::Connection;
    let schema = format!("test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(url)
        .await
        .expect("PostgreSQL answers at BYRD_TEST_POSTGRES_URL");
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&mut admin)
        .await
        .expect("a schema is created");
    let _ = admin.close().await;
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}options=-c%20search_path%3D{schema}")
}

/// Starts a server whose settings `configure` may change first.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut settings = test_settings(&data_dir);
    if on_postgres() {
        let url = std::env::var("BYRD_TEST_POSTGRES_URL")
            .expect("BYRD_TEST_DATABASE=postgres needs BYRD_TEST_POSTGRES_URL");
        settings.database_url = SecretString::from(fresh_postgres_schema(&url).await);
    }
    configure(&mut settings);
    let app = Application::build(settings)
        .await
        .expect("the server builds");
    let port = app.port();
    let state = app.state();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until_stopped(async move {
        let _ = rx.await;
    }));
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        client: Client::builder()
            .timeout(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        data_dir,
        state,
        shutdown: Some(tx),
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        let mut request = self.client.get(self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request sent")
    }

    /// POSTs `body` as JSON (or nothing when `None`).
    pub async fn post(&self, path: &str, token: Option<&str>, body: Option<&Value>) -> Response {
        let mut request = self.client.post(self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.expect("request sent")
    }

    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.post(
            "/v1/auth/login",
            None,
            Some(&json!({"email": email, "password": password})),
        )
        .await
    }

    /// Logs the bootstrap admin in; the whole token response.
    pub async fn admin_session(&self) -> Value {
        let response = self.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        assert_eq!(response.status(), 200, "admin login failed");
        response.json().await.unwrap()
    }

    pub async fn admin_token(&self) -> String {
        self.admin_session().await["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Creates an agent (as the admin) and returns its id and access token.
    pub async fn agent(&self, email: &str, role: &str) -> (String, String) {
        let admin = self.admin_token().await;
        let password = "agent password for tests";
        let created = self
            .post(
                "/v1/agents",
                Some(&admin),
                Some(&json!({"email": email, "name": email.split('@').next().unwrap(), "role": role, "password": password})),
            )
            .await;
        assert_eq!(created.status(), 201, "agent creation failed");
        let id = created.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let session: Value = self.login(email, password).await.json().await.unwrap();
        (id, session["access_token"].as_str().unwrap().to_owned())
    }

    /// Starts a chat; the whole response (`chat`, `guest_token`, `expires_in`).
    pub async fn start_chat(&self) -> Value {
        let response = self
            .post(
                "/v1/chats",
                None,
                Some(&json!({"visitor": {"name": "Sam"}, "subject": "Help"})),
            )
            .await;
        assert_eq!(response.status(), 201, "chat start failed");
        response.json().await.unwrap()
    }
}

/// The `error.code` of an error response, checking its status too.
pub async fn error_code(response: Response, status: u16) -> String {
    assert_eq!(response.status(), status, "unexpected status");
    let body: Value = response.json().await.expect("an error body is JSON");
    body["error"]["code"]
        .as_str()
        .expect("error.code is a string")
        .to_owned()
}

/// The JSON body of `response`, checking its status first.
pub async fn json_body(response: Response, status: u16) -> Value {
    assert_eq!(response.status(), status, "unexpected status");
    response.json().await.expect("the body is JSON")
}

/// A multi-threaded runtime for property tests, whose runner is synchronous:
/// the app spawned on it keeps serving between `block_on` calls.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// insta settings that hide every id, time and token of a response body,
/// after checking each has the right shape (a UUID, an RFC 3339 time, a
/// JWT, a `byrd_rt_` refresh token, a `byrd_vt_` visitor token). `null`
/// stays visible.
pub fn snapshot_settings() -> insta::Settings {
    fn checked(
        check: fn(&str) -> bool,
        what: &'static str,
    ) -> impl Fn(
        insta::internals::Content,
        insta::internals::ContentPath<'_>,
    ) -> insta::internals::Content
    + Send
    + Sync
    + 'static {
        move |value, path| match value.as_str() {
            Some(text) => {
                assert!(check(text), "{path} is not {what}: {text:?}");
                insta::internals::Content::from(format!("[{what}]"))
            }
            None => value,
        }
    }
    let mut settings = insta::Settings::clone_current();
    let uuid = |s: &str| uuid::Uuid::parse_str(s).is_ok();
    let time = |s: &str| chrono::DateTime::parse_from_rfc3339(s).is_ok();
    let jwt = |s: &str| s.split('.').count() == 3 && !s.contains(char::is_whitespace);
    let refresh = |s: &str| s.starts_with("byrd_rt_") && s.len() > 40;
    let cursor = |s: &str| !s.is_empty();
    for key in ["id", "chat_id", "assigned_agent_id"] {
        settings.add_dynamic_redaction(&format!(".**.{key}"), checked(uuid, "uuid"));
    }
    for key in ["created_at", "updated_at", "closed_at", "token_expires_at"] {
        settings.add_dynamic_redaction(&format!(".**.{key}"), checked(time, "time"));
    }
    for key in ["access_token", "guest_token"] {
        settings.add_dynamic_redaction(&format!(".**.{key}"), checked(jwt, "jwt"));
    }
    settings.add_dynamic_redaction(".**.refresh_token", checked(refresh, "refresh_token"));
    let visitor = |s: &str| s.starts_with("byrd_vt_") && s.len() == 51;
    settings.add_dynamic_redaction(".**.visitor_token", checked(visitor, "visitor_token"));
    settings.add_dynamic_redaction(".**.next_cursor", checked(cursor, "cursor"));
    settings
}

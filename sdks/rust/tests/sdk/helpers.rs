//! `spawn_app`, and what tests need to talk to it through the SDK. The
//! server runs in process (tests change its settings); its admin, key and
//! lifted limits are `byrd-testkit`'s, as in every other suite.

use std::time::Duration;

use byrd_sdk::realtime::{Backoff, ConnectionState, Event, Events, RealtimeOptions};
use byrd_sdk::types::{CreateAgentRequest, CreateChatRequest, Message, Role, VisitorInput};
use byrd_sdk::{Client, RetryPolicy};
use byrd_server::configuration::{BootstrapAdmin, Settings};
use byrd_server::startup::Application;
use byrd_testkit::JWT_SECRET;
use byrd_testkit::limits::LIFTED;
use secrecy::SecretString;
use tempfile::TempDir;

pub use byrd_testkit::{ADMIN_EMAIL, ADMIN_PASSWORD};
pub const AGENT_PASSWORD: &str = "agent password for tests";

/// How long any wait for the server may take before the test fails.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// A running server.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    pub port: u16,
    /// Holds the SQLite file; deleted when the test ends.
    _data_dir: TempDir,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts a server whose settings `configure` may change first: a fresh
/// data folder, a known key and admin, generous rate limits.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut settings = Settings::with_data_dir(data_dir.path().to_path_buf());
    settings.listen = "127.0.0.1:0".parse().unwrap();
    settings.jwt.secret = Some(SecretString::from(JWT_SECRET));
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
    configure(&mut settings);
    let app = Application::build(settings)
        .await
        .expect("the server builds");
    let port = app.port();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until_stopped(async move {
        let _ = rx.await;
    }));
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        _data_dir: data_dir,
        shutdown: Some(tx),
    }
}

impl TestApp {
    /// An SDK client of this server without a session.
    pub fn client(&self) -> Client {
        client_of(&self.address)
    }

    pub async fn admin(&self) -> Client {
        self.client()
            .login_agent(ADMIN_EMAIL, ADMIN_PASSWORD)
            .await
            .expect("the admin logs in")
    }

    /// Creates an agent and logs it in through `base` (the server or a
    /// proxy in front of it).
    pub async fn agent_at(&self, base: &str, email: &str) -> Client {
        self.admin()
            .await
            .create_agent(&CreateAgentRequest {
                email: email.into(),
                name: email.split('@').next().unwrap_or("agent").into(),
                role: Role::Agent,
                password: AGENT_PASSWORD.into(),
            })
            .await
            .expect("the agent is created");
        client_of(base)
            .login_agent(email, AGENT_PASSWORD)
            .await
            .expect("the agent logs in")
    }
}

pub fn client_of(base: &str) -> Client {
    Client::builder(base)
        .timeout(Duration::from_secs(10))
        .connect_timeout(Duration::from_secs(5))
        .retry(RetryPolicy {
            max_retries: 3,
            base_delay: Duration::from_millis(20),
            max_delay: Duration::from_secs(2),
            ..RetryPolicy::default()
        })
        .build()
        .expect("a valid base URL")
}

/// A visitor's chat request.
pub fn visitor(name: &str) -> CreateChatRequest {
    CreateChatRequest {
        visitor: Some(VisitorInput {
            name: Some(name.into()),
            email: None,
        }),
        subject: Some("Help".into()),
        ..CreateChatRequest::default()
    }
}

/// Realtime options for tests: quick reconnects.
pub fn quick_options() -> RealtimeOptions {
    RealtimeOptions::default().backoff(Backoff {
        base: Duration::from_millis(20),
        floor: Duration::from_millis(5),
        cap: Duration::from_millis(200),
        ..Backoff::default()
    })
}

/// The next event that `pick` accepts, skipping others; fails the test
/// after [`TIMEOUT`].
pub async fn next_matching<T>(events: &mut Events, mut pick: impl FnMut(Event) -> Option<T>) -> T {
    let wait = async {
        loop {
            let event = events.recv().await.expect("the event stream ended");
            if let Some(found) = pick(event) {
                return found;
            }
        }
    };
    tokio::time::timeout(TIMEOUT, wait)
        .await
        .expect("timed out waiting for an event")
}

pub async fn next_message(events: &mut Events) -> Message {
    next_matching(events, |event| match event {
        Event::Message(message) => Some(message),
        _ => None,
    })
    .await
}

pub async fn wait_connected(events: &mut Events) {
    next_matching(events, |event| match event {
        Event::State(ConnectionState::Connected) => Some(()),
        _ => None,
    })
    .await;
}

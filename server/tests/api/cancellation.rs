//! Requests that go away (`spec/v1/README.md#errors`: `unavailable`): a
//! client that gives up after sending still gets its change stored,
//! published, and enforced; a database held busy past the bound answers
//! 503 and changes nothing.

use std::time::Duration;

use secrecy::ExposeSecret;
use serde_json::{Value, json};
use sqlx::{Connection, Executor, PgConnection, SqliteConnection};

use crate::helpers::{TestApp, error_code, on_postgres, spawn_app, spawn_app_with};
use crate::ws_client::{WsClient, agent_token, chat_and_guest, kind};

/// Holds the database's write locks from another connection until
/// released, as a backup tool or a stuck process would: SQLite's one write
/// lock, or on PostgreSQL an `EXCLUSIVE` lock on every table a write
/// touches (reads still pass).
enum WriteLock {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

impl WriteLock {
    async fn take(app: &TestApp) -> WriteLock {
        let url = app.state.settings.database_url.expose_secret();
        if on_postgres() {
            let mut connection = PgConnection::connect(url).await.unwrap();
            // NOWAIT, and again until every table is had at once: waiting
            // for one table while holding another can deadlock with a write
            // the server is finishing, and PostgreSQL would then abort one.
            for _ in 0..250 {
                connection.execute("BEGIN").await.unwrap();
                let locked = connection
                    .execute(
                        "LOCK TABLE chats, messages, sessions, refresh_tokens, revoked_tokens
                         IN EXCLUSIVE MODE NOWAIT",
                    )
                    .await;
                if locked.is_ok() {
                    return WriteLock::Postgres(connection);
                }
                connection.execute("ROLLBACK").await.unwrap();
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            panic!("the tables stayed busy for 5 s");
        }
        let mut connection = SqliteConnection::connect(url).await.unwrap();
        connection.execute("BEGIN IMMEDIATE").await.unwrap();
        WriteLock::Sqlite(connection)
    }

    async fn release(self) {
        match self {
            WriteLock::Sqlite(mut connection) => connection.execute("ROLLBACK").await.map(drop),
            WriteLock::Postgres(mut connection) => connection.execute("ROLLBACK").await.map(drop),
        }
        .unwrap();
    }
}

/// POSTs and gives up after `after`, as a client whose connection drops.
async fn post_and_give_up(app: &TestApp, path: &str, token: &str, body: Option<&Value>) {
    let mut request = app
        .client
        .post(app.url(path))
        .bearer_auth(token)
        .timeout(Duration::from_millis(300));
    if let Some(body) = body {
        request = request.json(body);
    }
    assert!(
        request.send().await.is_err(),
        "the request must still be waiting for the database"
    );
}

/// An agent socket subscribed to `chat`.
async fn watching_agent(app: &TestApp, chat: &str) -> WsClient {
    let (_, token) = agent_token();
    let (mut agent, _) = WsClient::connect(app, &token).await;
    agent
        .send_json(json!({"type": "subscribe", "chat_id": chat}))
        .await;
    agent.expect_type("subscribed").await;
    agent
}

async fn next_of_kind(client: &mut WsClient, wanted: &str) -> Value {
    loop {
        let frame = client.next_json().await;
        if kind(&frame) == wanted {
            return frame;
        }
    }
}

#[tokio::test]
async fn a_rest_message_whose_client_gave_up_is_still_stored_and_delivered() {
    // Storing and publishing are not split by a dropped request: once the
    // message commits, every subscriber gets it, even though the client
    // that sent it is gone.
    let app = spawn_app().await;
    let (chat, guest_token) = chat_and_guest(&app.start_chat().await);
    let mut agent = watching_agent(&app, &chat).await;
    let lock = WriteLock::take(&app).await;

    post_and_give_up(
        &app,
        &format!("/v1/chats/{chat}/messages"),
        &guest_token,
        Some(&json!({"client_msg_id": "m1", "body": "are you there?"})),
    )
    .await;
    lock.release().await;

    let message = next_of_kind(&mut agent, "message").await;
    assert_eq!(message["message"]["body"], "are you there?");
    assert_eq!(message["message"]["seq"], 1);
}

#[tokio::test]
async fn an_assignment_whose_client_gave_up_is_still_announced() {
    // The same for `chat_updated`: an assignment that committed reaches
    // every agent, whatever became of the request.
    let app = spawn_app().await;
    let (chat, _) = chat_and_guest(&app.start_chat().await);
    let admin = app.admin_token().await;
    let mut agent = watching_agent(&app, &chat).await;
    let lock = WriteLock::take(&app).await;

    post_and_give_up(&app, &format!("/v1/chats/{chat}/assign"), &admin, None).await;
    lock.release().await;

    let updated = next_of_kind(&mut agent, "chat_updated").await;
    assert_eq!(updated["chat"]["status"], "assigned");
}

#[tokio::test]
async fn a_logout_whose_client_gave_up_still_closes_its_sockets() {
    // A logout that committed closes the token's sockets (4002) even when
    // its client is gone before the answer.
    let app = spawn_app().await;
    let access = app.admin_token().await;
    let (mut socket, _) = WsClient::connect(&app, &access).await;
    let lock = WriteLock::take(&app).await;

    post_and_give_up(&app, "/v1/auth/logout", &access, None).await;
    lock.release().await;

    let (_, code, _) = socket.drain_until_close().await;
    assert_eq!(code, 4002);
}

#[tokio::test]
async fn a_database_busy_past_the_bound_answers_503_and_stores_nothing() {
    // A write that cannot get the database within the busy timeout is
    // refused with `503 unavailable` and `Retry-After`, never a 500, and
    // leaves nothing behind; the same request succeeds once the database
    // is free.
    let app = spawn_app_with(|s| s.store.busy_timeout = Duration::from_millis(200)).await;
    let (chat, guest_token) = chat_and_guest(&app.start_chat().await);
    let path = format!("/v1/chats/{chat}/messages");
    let body = json!({"client_msg_id": "m1", "body": "hello"});
    let lock = WriteLock::take(&app).await;

    let refused = app.post(&path, Some(&guest_token), Some(&body)).await;

    assert!(refused.headers().contains_key("retry-after"));
    assert_eq!(error_code(refused, 503).await, "unavailable");
    lock.release().await;
    let stored = app.post(&path, Some(&guest_token), Some(&body)).await;
    assert_eq!(stored.status(), 201, "the retry is stored, as the first");
}

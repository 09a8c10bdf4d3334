//! REST through the generated operations: typed answers, typed errors,
//! retries, pagination.

use futures_util::TryStreamExt;
use uuid::Uuid;

use byrd_sdk::operations::{ListChatsQuery, ListMessagesQuery};
use byrd_sdk::types::{ChatStatus, ErrorCode, HealthStatus, Me, SendMessageRequest};
use byrd_sdk::{AuthErrorKind, Error};

use crate::helpers::{spawn_app, spawn_app_with, visitor};
use crate::proxy::Proxy;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_answer_typed_bodies_and_refusals_carry_code_status_and_request_id() {
    let app = spawn_app().await;
    assert_eq!(
        app.client().get_health().await.unwrap().status,
        HealthStatus::Ok
    );
    let (guest, chat) = app.client().start_guest(&visitor("Sam")).await.unwrap();
    assert_eq!(chat.status, ChatStatus::Open);
    let agent = app.admin().await;
    assert_eq!(agent.get_chat(chat.id).await.unwrap(), chat);
    match guest.get_me().await.unwrap() {
        Me::Guest(me) => assert_eq!(me.chat_id, chat.id),
        other => panic!("a guest is told it is {other:?}"),
    }

    let Err(Error::Api(refusal)) = agent.get_chat(Uuid::new_v4()).await else {
        panic!("an unknown chat is an API error");
    };
    assert_eq!(refusal.code, ErrorCode::ChatNotFound);
    assert_eq!(refusal.status, Some(404));
    let request_id = refusal.request_id.expect("the server names the request");
    assert!(Uuid::parse_str(&request_id).is_ok(), "{request_id}");

    // A guest token of another chat: forbidden, decided by the server.
    let (_, other) = app.client().start_guest(&visitor("Kim")).await.unwrap();
    let Err(Error::Api(refusal)) = guest.get_chat(other.id).await else {
        panic!("another chat is refused");
    };
    assert_eq!(refusal.code, ErrorCode::Forbidden);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_the_session_cannot_make_fails_before_any_request() {
    let app = spawn_app().await;
    let (guest, _) = app.client().start_guest(&visitor("Sam")).await.unwrap();
    let refused = guest.list_chats(&ListChatsQuery::default()).await;
    assert!(
        matches!(&refused, Err(Error::Auth(auth)) if auth.kind == AuthErrorKind::WrongTokenKind),
        "{refused:?}"
    );
    let anonymous = app.client().list_agents().await;
    assert!(
        matches!(&anonymous, Err(Error::Auth(auth)) if auth.kind == AuthErrorKind::NoCredential),
        "{anonymous:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chat_stream_pages_through_every_chat_newest_first() {
    let app = spawn_app().await;
    let mut started = Vec::new();
    for n in 0..7 {
        let (_, chat) = app
            .client()
            .start_guest(&visitor(&format!("v{n}")))
            .await
            .unwrap();
        started.push(chat.id);
    }
    let query = ListChatsQuery {
        limit: Some(2),
        ..ListChatsQuery::default()
    };
    let listed: Vec<Uuid> = app
        .admin()
        .await
        .list_chats_stream(query)
        .map_ok(|chat| chat.id)
        .try_collect()
        .await
        .unwrap();
    started.reverse();
    assert_eq!(listed, started);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_start_says_when_to_retry() {
    let app = spawn_app_with(|settings| settings.limits.chat_starts_per_minute = 1).await;
    // Retries off: `rate_limited` is otherwise waited out (spec/v1/client.json).
    let client = byrd_sdk::Client::builder(&app.address)
        .retry(byrd_sdk::RetryPolicy {
            max_retries: 0,
            ..byrd_sdk::RetryPolicy::default()
        })
        .build()
        .unwrap();
    client.start_guest(&visitor("Sam")).await.unwrap();
    let Err(Error::Api(refusal)) = client.start_guest(&visitor("Sam")).await else {
        panic!("the second start is rate limited");
    };
    assert_eq!(refusal.code, ErrorCode::RateLimited);
    assert_eq!(refusal.status, Some(429));
    let wait = refusal.retry_after.expect("429 carries Retry-After");
    assert!(wait.as_secs() >= 1 && wait.as_secs() <= 60, "{wait:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idempotent_call_survives_a_cut_connection_and_a_send_is_stored_once() {
    let app = spawn_app().await;
    let proxy = Proxy::start(app.port).await;
    let (guest, chat) = crate::helpers::client_of(&proxy.address)
        .start_guest(&visitor("Sam"))
        .await
        .unwrap();
    // Every byte held back, then the connection cut: the GET in flight fails
    // on the way and is retried on a new connection.
    proxy.stall(true);
    let listing = tokio::spawn({
        let guest = guest.clone();
        async move {
            guest
                .list_messages(chat.id, &ListMessagesQuery::default())
                .await
        }
    });
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    proxy.cut();
    proxy.stall(false);
    let page = listing.await.unwrap().expect("the retried GET answers");
    assert!(page.messages.is_empty());

    // sendMessage is idempotent by its key: the same key twice stores once.
    let request = SendMessageRequest {
        client_msg_id: "k1".into(),
        body: "Hello".into(),
    };
    let first = guest.send_message(chat.id, &request).await.unwrap();
    let again = guest.send_message(chat.id, &request).await.unwrap();
    assert_eq!(first, again);
    assert_eq!(first.seq, 1);
}

/// What a load balancer says while the server restarts.
fn unavailable() -> String {
    let body = r#"{"error":{"code":"internal_error","message":"restarting now"}}"#;
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotent_and_keyed_calls_wait_out_a_503_as_retry_after_says_other_posts_do_not() {
    let app = spawn_app().await;
    let proxy = Proxy::start(app.port).await;
    let (guest, chat) = crate::helpers::client_of(&proxy.address)
        .start_guest(&visitor("Sam"))
        .await
        .unwrap();
    // Fresh connections only, so each request meets the canned answer.
    let guest = crate::helpers::client_of(&proxy.address)
        .resume_guest(&guest.token().await.unwrap())
        .unwrap();
    proxy.answer_next(unavailable());
    let started = std::time::Instant::now();
    assert_eq!(guest.get_chat(chat.id).await.unwrap().id, chat.id);
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(1),
        "Retry-After was honoured"
    );

    // sendMessage carries an idempotency key (client_msg_id), so it is
    // retried too, and the server stores it once.
    proxy.answer_next(unavailable());
    let request = SendMessageRequest {
        client_msg_id: "k1".into(),
        body: "Hello".into(),
    };
    let stored = crate::helpers::client_of(&proxy.address)
        .resume_guest(&guest.token().await.unwrap())
        .unwrap()
        .send_message(chat.id, &request)
        .await
        .expect("a keyed POST waits out the 503");
    assert_eq!(stored.seq, 1);

    // Starting a chat has no key: a repeat would start a second chat.
    proxy.answer_next(unavailable());
    let Err(Error::Api(refusal)) = crate::helpers::client_of(&proxy.address)
        .start_guest(&visitor("Kim"))
        .await
    else {
        panic!("a POST without an idempotency key is not retried");
    };
    assert_eq!(
        (refusal.status, refusal.retry_after),
        (Some(503), Some(std::time::Duration::from_secs(1)))
    );
}

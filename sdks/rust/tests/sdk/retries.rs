//! REST retries against a scripted server (spec/v1/client.json,
//! `rest.rules` and `rest.replayable`): which failures are tried again,
//! for which operations.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderName, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use byrd_sdk::types::{ErrorCode, LoginRequest, RefreshRequest};
use byrd_sdk::{Client, Error};
use serde_json::json;
use uuid::Uuid;

/// Answers each call with the next of `answers` (the last one repeats),
/// after waiting its delay; counts the calls.
#[derive(Clone)]
struct Script {
    calls: Arc<AtomicUsize>,
    answers: Arc<Vec<(Duration, StatusCode, serde_json::Value)>>,
}

async fn answer(State(script): State<Script>) -> Response {
    let n = script.calls.fetch_add(1, Ordering::SeqCst);
    let (delay, status, body) = script.answers[n.min(script.answers.len() - 1)].clone();
    tokio::time::sleep(delay).await;
    let retry_after = (HeaderName::from_static("retry-after"), "0");
    (status, [retry_after], axum::Json(body)).into_response()
}

async fn serve(
    path: &str,
    answers: Vec<(Duration, StatusCode, serde_json::Value)>,
) -> (Client, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let script = Script {
        calls: calls.clone(),
        answers: Arc::new(answers),
    };
    let app = Router::new().route(path, post(answer)).with_state(script);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let client = Client::builder(&format!("http://{address}"))
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    (client, calls)
}

fn tokens() -> serde_json::Value {
    json!({
        "access_token": "a", "token_type": "Bearer", "expires_in": 900, "refresh_token": "r2",
        "agent": {"id": Uuid::new_v4(), "email": "ann@example.com", "name": "Ann", "role": "agent", "created_at": "2026-01-01T00:00:00Z", "active": true, "deactivated_at": null}
    })
}

fn refusal(code: &str) -> serde_json::Value {
    json!({"error": {"code": code, "message": "no"}})
}

fn login() -> LoginRequest {
    LoginRequest {
        email: "ann@example.com".into(),
        password: "secret".into(),
    }
}

/// A login, which is not safe to repeat, refused once with `status` and
/// `code` and then answered: the client must have tried it twice.
async fn login_is_retried_after(status: StatusCode, code: &str) {
    let (client, calls) = serve(
        "/v1/auth/login",
        vec![
            (Duration::ZERO, status, refusal(code)),
            (Duration::ZERO, StatusCode::OK, tokens()),
        ],
    )
    .await;
    let answer = client
        .login(&login())
        .await
        .unwrap_or_else(|error| panic!("{code} is retried after Retry-After: {error:?}"));
    assert_eq!(answer.refresh_token, "r2");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn unavailable_is_retried_for_any_operation() {
    login_is_retried_after(StatusCode::SERVICE_UNAVAILABLE, "unavailable").await;
}

#[tokio::test]
async fn rate_limited_is_retried_for_any_operation_and_another_429_only_for_safe_ones() {
    login_is_retried_after(StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;

    let (client, calls) = serve(
        "/v1/auth/login",
        vec![
            (
                Duration::ZERO,
                StatusCode::TOO_MANY_REQUESTS,
                refusal("limit_exceeded"),
            ),
            (Duration::ZERO, StatusCode::OK, tokens()),
        ],
    )
    .await;
    let error = client
        .login(&login())
        .await
        .expect_err("login is not safe to repeat");
    assert!(
        matches!(&error, Error::Api(api) if api.code == ErrorCode::LimitExceeded),
        "{error:?}"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_refresh_whose_answer_was_lost_is_asked_for_again_within_the_grace() {
    let (client, calls) = serve(
        "/v1/auth/refresh",
        vec![
            // Later than the client waits: the answer is lost.
            (Duration::from_secs(2), StatusCode::OK, tokens()),
            (Duration::ZERO, StatusCode::OK, tokens()),
        ],
    )
    .await;
    let request = RefreshRequest {
        refresh_token: "r1".into(),
    };
    let answer = client
        .refresh_session(&request)
        .await
        .expect("asked for again");
    assert_eq!(answer.refresh_token, "r2");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

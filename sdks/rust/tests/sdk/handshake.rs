//! The WebSocket handshake and `hello` as a scripted server plays them
//! (spec/v1/README.md, "Handshake": a `token` query parameter or an
//! `Authorization: Bearer` header; "Limits"). This client sends the header
//! and keeps the token out of the URL, which proxies and access logs
//! record; the real server accepting it is what every test of
//! `realtime.rs` shows. A server with single-use tickets
//! (`POST /v1/ws/tickets`) is connected to with a fresh ticket in the URL
//! every time instead, and the token stays in no handshake at all, even
//! when a ticket request fails; a refused ticket is replaced at once. And
//! however slow a pace `hello` announces, the frames waiting for it are
//! bounded.

use axum::Router;
use axum::extract::ws::{Message as WsMessage, WebSocketUpgrade};
use axum::http::{HeaderMap, Uri, header::AUTHORIZATION};
use axum::response::Response;
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use byrd_sdk::realtime::{ConnectionState, Event, Events, PACED_FRAMES, Realtime, RealtimeOptions};
use byrd_sdk::{Client, Error};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::helpers::{TIMEOUT, next_matching, quick_options};

/// An unsigned agent token; the SDK reads its claims, never its signature.
fn agent_token() -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = json!({"type": "agent", "iss": "byrd", "aud": "byrd", "sub": Uuid::new_v4(), "role": "agent", "name": "Ann", "iat": now, "exp": now + 3600, "jti": "t1"});
    let part = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    format!("{}.{}.c2ln", part(&json!({"alg": "HS256"})), part(&claims))
}

fn hello(frames_per_second: u64, frame_burst: u64) -> String {
    json!({
        "type": "hello", "protocol_version": "1.0.0",
        "connection_id": "00000000-0000-4000-8000-00000000000c",
        "principal": {"type": "agent", "id": "00000000-0000-4000-8000-00000000000a"},
        "heartbeat_interval_ms": 25_000, "token_expires_at": "2030-01-01T00:00:00Z",
        "limits": {"frames_per_second": frames_per_second, "frame_burst": frame_burst, "max_frame_bytes": 65_536, "max_message_chars": 4_000, "replay_cap": 1_000}
    })
    .to_string()
}

/// What a handshake brought: its URL and its `Authorization` header.
type Seen = (Uri, Option<String>);

/// A server that answers every handshake with `hello` and reads whatever
/// follows; its address, and what each handshake brought.
async fn scripted(hello: String) -> (String, mpsc::UnboundedReceiver<Seen>) {
    let (seen_tx, seen) = mpsc::unbounded_channel::<Seen>();
    let upgrade = move |uri: Uri, headers: HeaderMap, ws: WebSocketUpgrade| {
        let authorization = headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let _ = seen_tx.send((uri, authorization));
        let hello = hello.clone();
        async move {
            let answer: Response = ws.on_upgrade(|mut socket| async move {
                let _ = socket.send(WsMessage::Text(hello.into())).await;
                while let Some(Ok(_)) = socket.recv().await {}
            });
            answer
        }
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let app = Router::new().route("/v1/ws", get(upgrade));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{address}"), seen)
}

/// Connects to `address` with `token` and waits for `hello`.
async fn connected(address: &str, token: &str) -> (Realtime, Events) {
    let token = token.to_owned();
    let client = Client::new(address).unwrap().with_token_provider(move || {
        let token = token.clone();
        async move { Ok(token) }
    });
    let (rt, events) = client.connect_realtime(RealtimeOptions::default()).unwrap();
    let mut state = rt.watch_state();
    tokio::time::timeout(TIMEOUT, state.wait_for(ConnectionState::is_connected))
        .await
        .expect("connected in time")
        .unwrap();
    (rt, events)
}

/// A server with tickets: each `POST /v1/ws/tickets` answers the next
/// of `byrd_wst_1`, `byrd_wst_2`, ..., and every socket is closed right
/// after its `hello`, so the client reconnects; what each ticket request
/// and each handshake brought.
async fn scripted_with_tickets() -> (String, mpsc::UnboundedReceiver<Seen>) {
    ticket_script(&[], 0).await
}

/// [`scripted_with_tickets`], where the first ticket requests are
/// answered with `failures` (statuses, the spec's error body) instead, and
/// the first `refusals` handshakes with `401 ticket_invalid`.
async fn ticket_script(
    failures: &'static [u16],
    refusals: usize,
) -> (String, mpsc::UnboundedReceiver<Seen>) {
    let (seen_tx, seen) = mpsc::unbounded_channel::<Seen>();
    let made = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let make = move |headers: HeaderMap| {
        let n = made.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        let authorized = headers.contains_key(AUTHORIZATION);
        async move {
            let (status, body) = match failures.get(n - 1) {
                _ if !authorized => (
                    401,
                    json!({"error": {"code": "token_missing", "message": "no"}}),
                ),
                Some(&status) => (
                    status,
                    json!({"error": {"code": "internal_error", "message": "no"}}),
                ),
                None => (
                    201,
                    json!({"ticket": format!("byrd_wst_{n}"), "expires_in": 30}),
                ),
            };
            (
                axum::http::StatusCode::from_u16(status).unwrap(),
                axum::Json(body),
            )
        }
    };
    let handshakes = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let upgrade = move |uri: Uri, headers: HeaderMap, ws: WebSocketUpgrade| {
        let authorization = headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let _ = seen_tx.send((uri, authorization));
        let n = handshakes.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        async move {
            if n <= refusals {
                let body = json!({"error": {"code": "ticket_invalid", "message": "no"}});
                let refusal = (axum::http::StatusCode::UNAUTHORIZED, axum::Json(body));
                return axum::response::IntoResponse::into_response(refusal);
            }
            let answer: Response = ws.on_upgrade(|mut socket| async move {
                let _ = socket.send(WsMessage::Text(hello(20, 40).into())).await;
            });
            answer
        }
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let app = Router::new()
        .route("/v1/ws", get(upgrade))
        .route("/v1/ws/tickets", post(make));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{address}"), seen)
}

/// The states up to the first `Connected`, as words.
async fn states_until_connected(events: &mut Events) -> Vec<String> {
    let mut states = Vec::new();
    next_matching(events, |event| match event {
        Event::State(ConnectionState::Connected) => Some(()),
        Event::State(state) => {
            states.push(format!("{state:?}"));
            None
        }
        _ => None,
    })
    .await;
    states
}

/// The client behaviour table (`socket_auth`): a ticket request that
/// fails, here with a 500, fails the attempt into the reconnect backoff;
/// the token does not stand in for the ticket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_ticket_request_fails_the_attempt_instead_of_sending_the_token() {
    let (address, mut seen) = ticket_script(&[500], 0).await;
    let (rt, mut events) = ticketed(&address)
        .connect_realtime(quick_options())
        .unwrap();

    let states = states_until_connected(&mut events).await;
    assert!(
        states.iter().any(|s| s.starts_with("Reconnecting")),
        "{states:?}"
    );
    let (uri, authorization) = seen.recv().await.unwrap();
    assert_eq!(uri.query(), Some("ticket=byrd_wst_2"), "{uri}");
    assert_eq!(authorization, None, "the first handshake carries no token");
    rt.close();
}

/// The client behaviour table (`socket_auth.ticket_invalid`): a handshake
/// refused for its ticket is made again at once with a fresh one, within
/// the same attempt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_ticket_is_replaced_at_once_without_a_backoff() {
    let (address, mut seen) = ticket_script(&[], 1).await;
    let (rt, mut events) = ticketed(&address)
        .connect_realtime(quick_options())
        .unwrap();

    let states = states_until_connected(&mut events).await;
    assert_eq!(states, ["Connecting { attempt: 1 }"]);
    for n in 1..=2 {
        let (uri, _) = seen.recv().await.unwrap();
        assert_eq!(uri.query(), Some(format!("ticket=byrd_wst_{n}").as_str()));
    }
    rt.close();
}

/// A client of `address` with a fixed agent token.
fn ticketed(address: &str) -> Client {
    let token = agent_token();
    Client::new(address).unwrap().with_token_provider(move || {
        let token = token.clone();
        async move { Ok(token) }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_connect_and_reconnect_takes_a_fresh_ticket_and_carries_no_token() {
    let (address, mut seen) = scripted_with_tickets().await;
    let token = agent_token();
    let (rt, _events) = connected(&address, &token).await;

    for n in 1..=2 {
        let (uri, authorization) = tokio::time::timeout(TIMEOUT, seen.recv())
            .await
            .expect("a handshake in time")
            .unwrap();
        let query = uri.query().unwrap_or_default();
        assert_eq!(
            query,
            format!("ticket=byrd_wst_{n}"),
            "handshake {n}: {uri}"
        );
        assert_eq!(authorization, None, "handshake {n} carries no token");
    }
    rt.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_tickets_off_the_token_goes_in_the_header() {
    let (address, mut seen) = scripted_with_tickets().await;
    let token = agent_token();
    let provided = token.clone();
    let client = Client::new(&address).unwrap().with_token_provider(move || {
        let token = provided.clone();
        async move { Ok(token) }
    });
    let (rt, _events) = client
        .connect_realtime(RealtimeOptions::default().tickets(false))
        .unwrap();

    let (uri, authorization) = tokio::time::timeout(TIMEOUT, seen.recv())
        .await
        .expect("a handshake in time")
        .unwrap();
    assert_eq!(uri.query(), None, "{uri}");
    assert_eq!(authorization, Some(format!("Bearer {token}")));
    rt.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_goes_in_a_bearer_header_and_never_in_the_url() {
    // A server without tickets answers 404 to `POST /v1/ws/tickets`.
    let (address, mut seen) = scripted(hello(20, 40)).await;
    let token = agent_token();
    let (rt, _events) = connected(&address, &token).await;

    let (uri, authorization) = seen.recv().await.unwrap();
    let query = uri.query().unwrap_or_default();
    assert!(
        !query.contains(&token) && !query.contains("token="),
        "the token stays out of the URL: {uri}"
    );
    assert_eq!(authorization, Some(format!("Bearer {token}")));
    rt.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_frames_that_may_wait_for_a_slow_pace_typing_is_refused() {
    // One frame a second: the task holds the second frame for about a
    // second, and everything after it waits on the queue meanwhile.
    let (address, _seen) = scripted(hello(1, 1)).await;
    let (rt, _events) = connected(&address, &agent_token()).await;
    let chat = Uuid::new_v4();
    let answers: Vec<_> = (0..PACED_FRAMES + 10)
        .map(|i| rt.typing(chat, i % 2 == 0))
        .collect();
    assert!(answers[..PACED_FRAMES].iter().all(Result::is_ok));
    assert!(
        matches!(answers.last(), Some(Err(Error::QueueFull { capacity })) if *capacity == PACED_FRAMES),
        "the last one is refused"
    );
    rt.close();
}

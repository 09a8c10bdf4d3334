//! Limits that keep one client from degrading everyone
//! (`spec/v1/README.md#rate-limits`, `#limits`): per-principal rates
//! shared by REST and WebSocket, caps on sockets and subscriptions,
//! password hashing that fails fast, a per-account login throttle, and
//! client addresses that cannot be spoofed or multiplied, each with the
//! server's configured limits.

use std::time::Duration;

use serde_json::json;

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, error_code, spawn_app_with};
use crate::ws_client::{Handshake, WsClient, agent_token, chat_and_guest, kind};

#[tokio::test]
async fn sends_are_limited_per_principal_across_rest_and_websocket() {
    // One allowance per principal covers both paths: past it, REST answers
    // 429 `rate_limited` with `Retry-After` and a socket's `send` gets
    // `error rate_limited`.
    let app = spawn_app_with(|s| s.limits.sends_per_minute = 3).await;
    let (chat, guest_token) = chat_and_guest(&app.start_chat().await);
    let (mut guest, _) = WsClient::connect(&app, &guest_token).await;
    let path = format!("/v1/chats/{chat}/messages");
    for i in 0..2 {
        guest
            .send_json(json!({"type": "send", "chat_id": chat, "client_msg_id": format!("w{i}"), "body": "hi"}))
            .await;
    }
    let rest = app
        .post(
            &path,
            Some(&guest_token),
            Some(&json!({"client_msg_id": "r1", "body": "hi"})),
        )
        .await;
    assert_eq!(rest.status(), 201);

    let refused = app
        .post(
            &path,
            Some(&guest_token),
            Some(&json!({"client_msg_id": "r2", "body": "hi"})),
        )
        .await;
    assert!(refused.headers().contains_key("retry-after"));
    assert_eq!(error_code(refused, 429).await, "rate_limited");
    guest
        .send_json(json!({"type": "send", "chat_id": chat, "client_msg_id": "w9", "body": "hi"}))
        .await;
    loop {
        let frame = guest.next_json().await;
        if kind(&frame) == "error" {
            assert_eq!(frame["code"], "rate_limited");
            assert_eq!(frame["ref"], "w9");
            break;
        }
    }
}

#[tokio::test]
async fn history_reads_are_limited_per_principal_across_rest_and_websocket() {
    // Message pages and `subscribe`s draw on one read allowance.
    let app = spawn_app_with(|s| s.limits.reads_per_minute = 2).await;
    let (chat, guest_token) = chat_and_guest(&app.start_chat().await);
    let path = format!("/v1/chats/{chat}/messages");
    // A message to replay: a subscribe that replays nothing is no read.
    let body = json!({"client_msg_id": "m1", "body": "hello"});
    assert_eq!(
        app.post(&path, Some(&guest_token), Some(&body))
            .await
            .status(),
        201
    );
    assert_eq!(app.get(&path, Some(&guest_token)).await.status(), 200);
    let (mut guest, _) = WsClient::connect(&app, &guest_token).await;
    guest
        .send_json(json!({"type": "subscribe", "chat_id": chat, "ref": "s1"}))
        .await;
    guest.expect_type("message").await;
    guest.expect_type("subscribed").await;

    let refused = app.get(&path, Some(&guest_token)).await;
    assert_eq!(error_code(refused, 429).await, "rate_limited");
    guest
        .send_json(json!({"type": "subscribe", "chat_id": chat, "ref": "s2"}))
        .await;
    let error = guest.expect_type("error").await;
    assert_eq!(
        (error["code"].as_str(), error["ref"].as_str()),
        (Some("rate_limited"), Some("s2"))
    );
}

#[tokio::test]
async fn sockets_are_capped_per_principal_and_freed_when_they_close() {
    // A token's principal may hold only so many sockets; the next
    // handshake is refused with 429 `limit_exceeded`, and a closed socket
    // frees its place.
    let app = spawn_app_with(|s| s.limits.sockets_per_principal = 2).await;
    let (_, token) = agent_token();
    let (first, _) = WsClient::connect(&app, &token).await;
    let (_second, _) = WsClient::connect(&app, &token).await;
    let handshake = || Handshake {
        query_token: Some(&token),
        ..Handshake::default()
    };

    let refused = WsClient::try_connect(&app, handshake())
        .await
        .err()
        .unwrap();
    assert_eq!(refused.status, 429);
    assert_eq!(refused.body["error"]["code"], "limit_exceeded");
    let (_, other) = agent_token();
    WsClient::connect(&app, &other).await;
    drop(first);
    let mut reopened = false;
    for _ in 0..50 {
        if WsClient::try_connect(&app, handshake()).await.is_ok() {
            reopened = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(reopened, "a closed socket frees its place");
}

#[tokio::test]
async fn sockets_are_capped_per_client_address() {
    // Many principals from one address (fresh guest tokens, say) share
    // the address's cap.
    let app = spawn_app_with(|s| s.limits.sockets_per_address = 2).await;
    let mut open = Vec::new();
    for _ in 0..2 {
        let (_, token) = agent_token();
        open.push(WsClient::connect(&app, &token).await);
    }
    let (_, token) = agent_token();

    let refused = WsClient::try_connect(
        &app,
        Handshake {
            query_token: Some(&token),
            ..Handshake::default()
        },
    )
    .await
    .err()
    .unwrap();

    assert_eq!(refused.status, 429);
    assert_eq!(refused.body["error"]["code"], "limit_exceeded");
}

#[tokio::test]
async fn subscriptions_per_socket_are_bounded() {
    // An agent socket follows at most `max_subscriptions` chats; one more
    // is refused with `limit_exceeded`, and unsubscribing makes room.
    let app = spawn_app_with(|s| s.ws.max_subscriptions = 2).await;
    let mut chats = Vec::new();
    for _ in 0..3 {
        chats.push(chat_and_guest(&app.start_chat().await).0);
    }
    let (_, token) = agent_token();
    let (mut agent, _) = WsClient::connect(&app, &token).await;
    for chat in &chats[..2] {
        agent
            .send_json(json!({"type": "subscribe", "chat_id": chat}))
            .await;
        agent.expect_type("subscribed").await;
    }

    agent
        .send_json(json!({"type": "subscribe", "chat_id": chats[2], "ref": "third"}))
        .await;
    let error = agent.expect_type("error").await;
    assert_eq!(error["code"], "limit_exceeded");
    agent
        .send_json(json!({"type": "unsubscribe", "chat_id": chats[0]}))
        .await;
    agent.expect_type("unsubscribed").await;
    agent
        .send_json(json!({"type": "subscribe", "chat_id": chats[2]}))
        .await;
    agent.expect_type("subscribed").await;
}

#[tokio::test]
async fn password_hashing_fails_fast_with_503_when_every_slot_is_busy() {
    // Logins hash only in a few slots; when all are busy a login is
    // refused at once with 503 `unavailable` and `Retry-After` rather
    // than queueing behind the others.
    let app = spawn_app_with(|s| s.limits.password_hashes_at_once = 1).await;

    let answers =
        futures_util::future::join_all((0..8).map(|_| app.login(ADMIN_EMAIL, ADMIN_PASSWORD)))
            .await;

    let mut ok = 0;
    let mut unavailable = 0;
    for answer in answers {
        match answer.status().as_u16() {
            200 => ok += 1,
            503 => {
                assert!(answer.headers().contains_key("retry-after"));
                assert_eq!(error_code(answer, 503).await, "unavailable");
                unavailable += 1;
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert!(
        ok >= 1 && unavailable >= 1,
        "{ok} served, {unavailable} refused"
    );
}

#[tokio::test]
async fn failed_logins_are_throttled_per_account_from_any_address() {
    // Too many wrong passwords for one email lock that email's logins for
    // the window, the right password included, whatever the address;
    // other accounts are untouched.
    let app = spawn_app_with(|s| {
        s.limits.failed_logins_per_account = 3;
        s.trust_forwarded_for = true;
    })
    .await;
    let login_from = |address: &'static str, email: &'static str, password: &'static str| {
        app.client
            .post(app.url("/v1/auth/login"))
            .header("x-forwarded-for", address)
            .json(&json!({"email": email, "password": password}))
            .send()
    };
    for (i, address) in ["10.0.0.1", "10.0.0.2", "10.0.0.3"].into_iter().enumerate() {
        let answer = login_from(address, ADMIN_EMAIL, "wrong password guess")
            .await
            .unwrap();
        assert_eq!(answer.status(), 401, "attempt {i}");
    }

    let locked = login_from("10.0.0.4", ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .unwrap();
    assert!(locked.headers().contains_key("retry-after"));
    assert_eq!(error_code(locked, 429).await, "rate_limited");
    let other = login_from("10.0.0.4", "nobody@example.com", "wrong password guess")
        .await
        .unwrap();
    assert_eq!(other.status(), 401);
}

#[tokio::test]
async fn a_spoofed_forwarded_for_entry_is_never_taken_for_the_client() {
    // Behind one proxy, the client is the last `X-Forwarded-For` entry;
    // when it does not parse, the peer address is used, never an entry
    // to its left, which the client wrote itself.
    let app = spawn_app_with(|s| {
        s.trust_forwarded_for = true;
        s.limits.chat_starts_per_minute = 1;
    })
    .await;
    let start_from = |forwarded: &'static str| {
        app.client
            .post(app.url("/v1/chats"))
            .header("x-forwarded-for", forwarded)
            .send()
    };

    assert_eq!(start_from("1.1.1.1, garbage").await.unwrap().status(), 201);
    // Another spoofed left entry: still the peer's allowance, now spent.
    let refused = start_from("2.2.2.2, garbage").await.unwrap();
    assert_eq!(error_code(refused, 429).await, "rate_limited");
    assert_eq!(start_from("7.7.7.7, 3.3.3.3").await.unwrap().status(), 201);
}

#[tokio::test]
async fn ipv6_clients_are_limited_per_64() {
    // An IPv6 client holds a whole /64; taking another address in it does
    // not buy another allowance.
    let app = spawn_app_with(|s| {
        s.trust_forwarded_for = true;
        s.limits.chat_starts_per_minute = 1;
    })
    .await;
    let start_from = |forwarded: &'static str| {
        app.client
            .post(app.url("/v1/chats"))
            .header("x-forwarded-for", forwarded)
            .send()
    };

    assert_eq!(start_from("2001:db8::1").await.unwrap().status(), 201);
    let same_64 = start_from("2001:db8::2").await.unwrap();
    assert_eq!(error_code(same_64, 429).await, "rate_limited");
    assert_eq!(start_from("2001:db8:0:1::1").await.unwrap().status(), 201);
}

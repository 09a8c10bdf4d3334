//! Single-use WebSocket tickets (`spec/v1/openapi.json` operations
//! `createWsTicket` and `connectWebSocket`, its `ticket` parameter;
//! error code `ticket_invalid`): `POST /v1/ws/tickets` makes a ticket from
//! the bearer's token; `GET /v1/ws?ticket=` opens one socket with it, within
//! its lifetime, as that token would; a principal holds a bounded number of
//! unspent tickets; and neither a ticket nor a token reaches the log.

use std::time::Duration;

use byrd_testkit::server::ServerBuilder;
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code, json_body, spawn_app, spawn_app_with};
use crate::ws_client::{Handshake, WsClient, chat_and_guest, expect_ack_and_message, send_frame};

/// A ticket made with `token`; the whole answer.
async fn make_ticket(app: &TestApp, token: &str) -> Value {
    json_body(app.post("/v1/ws/tickets", Some(token), None).await, 201).await
}

async fn ticket_of(app: &TestApp, token: &str) -> String {
    make_ticket(app, token).await["ticket"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Opens `/v1/ws?ticket=...` and reads its `hello`.
async fn connect_with_ticket(app: &TestApp, ticket: &str) -> Result<(WsClient, Value), Value> {
    let query = format!("ticket={ticket}");
    let handshake = Handshake {
        query: Some(&query),
        ..Handshake::default()
    };
    match WsClient::try_connect(app, handshake).await {
        Ok(mut client) => {
            let hello = client.expect_type("hello").await;
            Ok((client, hello))
        }
        Err(refusal) => {
            assert_eq!(refusal.status, 401, "{:?}", refusal.body);
            Err(refusal.body)
        }
    }
}

async fn refused_ticket(app: &TestApp, ticket: &str) -> Value {
    match connect_with_ticket(app, ticket).await {
        Ok(_) => panic!("the ticket {ticket} opened a socket"),
        Err(body) => body,
    }
}

#[tokio::test]
async fn a_ticket_opens_one_socket_as_its_token_would_and_only_once() {
    let app = spawn_app().await;
    let session = app.admin_session().await;
    let token = session["access_token"].as_str().unwrap();

    let made = make_ticket(&app, token).await;
    let mut keys: Vec<_> = made.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["expires_in", "ticket"], "{made}");
    assert_eq!(made["expires_in"], 30);
    let ticket = made["ticket"].as_str().unwrap();
    assert!(
        ticket.starts_with("byrd_wst_") && ticket.len() == 52,
        "{ticket}"
    );

    let (mut socket, hello) = connect_with_ticket(&app, ticket).await.unwrap();
    assert_eq!(hello["principal"]["type"], "agent");
    assert_eq!(hello["principal"]["id"], session["agent"]["id"]);
    let (_, with_token) = WsClient::connect(&app, token).await;
    assert_eq!(
        hello["token_expires_at"], with_token["token_expires_at"],
        "the socket lives by the token the ticket was made from"
    );
    socket.assert_alive("opened by a ticket").await;

    let second = refused_ticket(&app, ticket).await;
    assert_eq!(second["error"]["code"], "ticket_invalid", "{second}");
}

#[tokio::test]
async fn unknown_garbage_spent_and_expired_tickets_get_one_answer() {
    let app = spawn_app_with(|s| s.ws.ticket_ttl = Duration::from_millis(300)).await;
    let token = app.admin_token().await;
    let spent = ticket_of(&app, &token).await;
    connect_with_ticket(&app, &spent).await.unwrap();
    let expired = ticket_of(&app, &token).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let unknown = format!("byrd_wst_{}", "A".repeat(43));

    let mut answers = Vec::new();
    for ticket in [spent.as_str(), &expired, &unknown, "garbage", "", &token] {
        let body = refused_ticket(&app, ticket).await;
        assert_eq!(
            body["error"]["code"], "ticket_invalid",
            "{ticket:?}: {body}"
        );
        answers.push(body);
    }
    assert!(
        answers.windows(2).all(|pair| pair[0] == pair[1]),
        "one answer for every bad ticket: {answers:?}"
    );
}

#[tokio::test]
async fn a_ticket_is_refused_once_its_token_is_revoked() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let ticket = ticket_of(&app, &token).await;

    let logout = app.post("/v1/auth/logout", Some(&token), None).await;
    assert_eq!(logout.status(), 204);

    let body = refused_ticket(&app, &ticket).await;
    assert_eq!(body["error"]["code"], "token_revoked", "{body}");
    let again = app.post("/v1/ws/tickets", Some(&token), None).await;
    assert_eq!(error_code(again, 401).await, "token_revoked");
}

#[tokio::test]
async fn a_guests_ticket_opens_its_own_chat_and_no_other() {
    let app = spawn_app().await;
    let started = app.start_chat().await;
    let (chat, guest_token) = chat_and_guest(&started);
    let (other, _) = chat_and_guest(&app.start_chat().await);
    let ticket = ticket_of(&app, &guest_token).await;

    let (mut guest, hello) = connect_with_ticket(&app, &ticket).await.unwrap();
    assert_eq!(hello["principal"]["type"], "guest");
    assert_eq!(hello["principal"]["id"], started["chat"]["visitor"]["id"]);

    guest.send_json(send_frame(&other, "c-other", "hi")).await;
    let error = guest.expect_type("error").await;
    assert_eq!(error["code"], "forbidden", "{error}");
    guest.send_json(send_frame(&chat, "c-own", "hello")).await;
    let (_, message) = expect_ack_and_message(&mut guest).await;
    assert_eq!(message["message"]["chat_id"], chat.as_str(), "{message}");
}

#[tokio::test]
async fn a_ticket_beside_a_token_is_refused_as_invalid_request() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let ticket = ticket_of(&app, &token).await;
    let query = format!("ticket={ticket}");
    for handshake in [
        Handshake {
            query_token: Some(&token),
            query: Some(&query),
            ..Handshake::default()
        },
        Handshake {
            bearer_token: Some(&token),
            query: Some(&query),
            ..Handshake::default()
        },
    ] {
        let refusal = WsClient::try_connect(&app, handshake)
            .await
            .err()
            .expect("refused");
        assert_eq!(refusal.status, 400);
        assert_eq!(refusal.body["error"]["code"], "invalid_request");
    }
    // Neither refusal spent the ticket.
    connect_with_ticket(&app, &ticket).await.unwrap();
}

#[tokio::test]
async fn the_ticket_route_wants_a_valid_token() {
    let app = spawn_app().await;
    let missing = app.post("/v1/ws/tickets", None, None).await;
    assert_eq!(error_code(missing, 401).await, "token_missing");
    let bad = app.post("/v1/ws/tickets", Some("not.a.token"), None).await;
    assert_eq!(error_code(bad, 401).await, "token_invalid");
}

#[tokio::test]
async fn a_principal_holds_at_most_twenty_unspent_tickets() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let mut tickets = Vec::new();
    for _ in 0..20 {
        tickets.push(ticket_of(&app, &token).await);
    }

    let refused = app.post("/v1/ws/tickets", Some(&token), None).await;
    let retry_after: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=30).contains(&retry_after), "Retry-After {retry_after}");
    assert_eq!(error_code(refused, 429).await, "rate_limited");

    // Another principal has its own tickets.
    let (_, guest_token) = chat_and_guest(&app.start_chat().await);
    make_ticket(&app, &guest_token).await;
    // Spending one frees its place.
    connect_with_ticket(&app, &tickets[0]).await.unwrap();
    make_ticket(&app, &token).await;
}

#[tokio::test]
async fn debug_logs_contain_no_ticket_nor_token() {
    let mut server = ServerBuilder::new(env!("CARGO_BIN_EXE_byrd"))
        .env("RUST_LOG", "debug")
        .start();
    let base = &server.base_url;
    let http = reqwest::Client::new();
    let started: Value = http
        .post(format!("{base}/v1/chats"))
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let guest = started["guest_token"].as_str().unwrap().to_owned();
    let made: Value = http
        .post(format!("{base}/v1/ws/tickets"))
        .bearer_auth(&guest)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ticket = made["ticket"].as_str().unwrap().to_owned();
    let query = format!("ticket={ticket}");
    let handshake = |query| Handshake {
        query: Some(query),
        ..Handshake::default()
    };
    let socket = byrd_testkit::ws::WsClient::try_connect(&server.address, handshake(&query))
        .await
        .expect("the ticket opens a socket");
    drop(socket);
    // Spent now: refused, and that refusal logged too.
    let refused = byrd_testkit::ws::WsClient::try_connect(&server.address, handshake(&query)).await;
    assert!(refused.is_err());
    tokio::time::sleep(Duration::from_millis(200)).await;
    server.kill();

    let log = server.log();
    assert!(
        log.contains("/v1/ws/tickets"),
        "the log has request lines: {log}"
    );
    let encoded = ticket.trim_start_matches("byrd_wst_");
    assert!(!log.contains(encoded), "the log contains the ticket");
    let signature = guest.rsplit('.').next().unwrap();
    assert!(!log.contains(signature), "the log contains the guest token");
}

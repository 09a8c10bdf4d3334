//! The realtime client against the real server: delivery, resume, sends
//! while disconnected, tokens on a live socket, final closes.

use std::time::Duration;

use byrd_sdk::close_codes::CloseCode;
use byrd_sdk::operations::TokenKind;
use byrd_sdk::realtime::{ConnectionState, Event};
use byrd_sdk::types::SendMessageRequest;
use byrd_sdk::{AuthErrorKind, Error};
use byrd_server::options::bounded::Bounded;

use crate::helpers::{
    TIMEOUT, client_of, next_matching, next_message, quick_options, spawn_app, spawn_app_with,
    visitor, wait_connected,
};
use crate::proxy::Proxy;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_and_an_agent_each_see_every_message_once_in_order() {
    let app = spawn_app().await;
    let (guest, chat) = app.client().start_guest(&visitor("Sam")).await.unwrap();
    let agent = app.admin().await;
    let (guest_rt, mut guest_events) = guest.connect_realtime(quick_options()).unwrap();
    let (agent_rt, mut agent_events) = agent.connect_realtime(quick_options()).unwrap();
    agent_rt.subscribe(chat.id, 0).unwrap();

    // Sent before the connection is up: it waits, then goes.
    let hello = guest_rt.send(chat.id, "Hello").await.unwrap();
    assert_eq!((hello.seq, hello.body.as_str()), (1, "Hello"));
    let answer = agent_rt.send(chat.id, "Hi, how can I help?").await.unwrap();
    assert_eq!(answer.seq, 2);

    for events in [&mut guest_events, &mut agent_events] {
        assert_eq!(next_message(events).await, hello);
        assert_eq!(next_message(events).await, answer);
    }
    agent_rt.typing(chat.id, true).unwrap();
    let typing = next_matching(&mut guest_events, |event| match event {
        Event::Typing(typing) => Some(typing),
        _ => None,
    })
    .await;
    assert!(typing.active);
    assert_eq!(typing.author.kind, byrd_sdk::types::PartyType::Agent);

    guest_rt.close();
    let closed = next_matching(&mut guest_events, |event| match event {
        Event::State(ConnectionState::Closed { code, error, .. }) => Some((code, error)),
        _ => None,
    })
    .await;
    assert_eq!(closed.0, Some(CloseCode::Normal));
    assert!(closed.1.is_none(), "closed by the application is no error");
    assert!(
        guest_events.recv().await.is_none(),
        "the stream ends after closed"
    );
    let late = guest_rt.send(chat.id, "too late").await;
    assert!(matches!(late, Err(Error::Closed { .. })), "{late:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_over_the_replay_cap_is_paged_over_rest() {
    let app = spawn_app_with(|settings| settings.ws.replay_cap = 3).await;
    let (guest, chat) = app.client().start_guest(&visitor("Sam")).await.unwrap();
    for n in 1..=10 {
        let request = SendMessageRequest {
            client_msg_id: format!("m{n}"),
            body: format!("message {n}"),
        };
        guest.send_message(chat.id, &request).await.unwrap();
    }
    let (_rt, mut events) = guest.connect_realtime(quick_options()).unwrap();
    let resumed = next_matching(&mut events, |event| match event {
        Event::Resumed {
            recovered, fetched, ..
        } => Some((recovered, fetched)),
        _ => None,
    })
    .await;
    assert_eq!(resumed, (false, 10), "nothing replayed, everything fetched");
    // The messages came before `resumed`; read them from a fresh client.
    let (_rt, mut events) = guest.connect_realtime(quick_options()).unwrap();
    for n in 1..=10 {
        assert_eq!(next_message(&mut events).await.seq, n);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_send_queue_refuses_at_once_and_closing_settles_the_rest() {
    let app = spawn_app().await;
    let (guest, chat) = app.client().start_guest(&visitor("Sam")).await.unwrap();
    // A proxy that holds every byte: the client never gets `hello`.
    let proxy = Proxy::start(app.port).await;
    proxy.stall(true);
    let guest = client_of(&proxy.address)
        .resume_guest(&guest.token().await.unwrap())
        .unwrap();
    let (rt, _events) = guest
        .connect_realtime(quick_options().send_queue(2))
        .unwrap();
    let first = rt.send(chat.id, "one");
    let second = rt.send(chat.id, "two");
    let third = rt.send(chat.id, "three").await;
    assert!(
        matches!(third, Err(Error::QueueFull { capacity: 2 })),
        "{third:?}"
    );
    rt.close();
    for pending in [first, second] {
        let settled = tokio::time::timeout(TIMEOUT, pending).await.unwrap();
        assert!(matches!(settled, Err(Error::Closed { .. })), "{settled:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logout_closes_the_socket_for_good_with_an_auth_error() {
    let app = spawn_app().await;
    let agent = app.admin().await;
    let (_rt, mut events) = agent.connect_realtime(quick_options()).unwrap();
    wait_connected(&mut events).await;
    agent.end_session().await.unwrap();
    let (code, error) = next_matching(&mut events, |event| match event {
        Event::State(ConnectionState::Closed { code, error, .. }) => Some((code, error)),
        Event::State(ConnectionState::Reconnecting { .. }) => {
            panic!("a revoked session reconnected")
        }
        _ => None,
    })
    .await;
    assert_eq!(code, Some(CloseCode::TokenRevoked));
    assert!(
        matches!(&error, Some(Error::Auth(auth)) if auth.kind == AuthErrorKind::Revoked),
        "{error:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_ends_in_closed_without_retrying() {
    let app = spawn_app().await;
    let (guest, _) = app.client().start_guest(&visitor("Sam")).await.unwrap();
    let token = guest.token().await.unwrap();
    let forged = format!("{}x", token.trim_end_matches(char::is_alphanumeric));
    let forged = app.client().resume_guest(&forged).unwrap();
    let (_rt, mut events) = forged.connect_realtime(quick_options()).unwrap();
    let error = next_matching(&mut events, |event| match event {
        Event::State(ConnectionState::Closed { error, .. }) => Some(error),
        Event::State(ConnectionState::Reconnecting { .. }) => panic!("a refused token was retried"),
        _ => None,
    })
    .await;
    assert!(
        matches!(&error, Some(Error::Auth(auth)) if auth.kind == AuthErrorKind::Refused),
        "{error:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_expiring_is_answered_on_the_live_socket() {
    let app = spawn_app_with(|settings| {
        settings.jwt.agent_token_ttl =
            Bounded::below_floor_for_tests(Duration::from_secs(3)).unwrap();
        settings.ws.token_expiry_warning = Duration::from_millis(2500);
    })
    .await;
    let agent = app.admin().await;
    let (rt, mut events) = agent.connect_realtime(quick_options()).unwrap();
    wait_connected(&mut events).await;
    let first = agent.token().await.unwrap();
    // Past the first token's expiry the same socket still works.
    tokio::time::sleep(Duration::from_millis(3500)).await;
    assert!(rt.state().is_connected(), "{:?}", rt.state());
    assert_ne!(
        agent.token().await.unwrap(),
        first,
        "the token was refreshed"
    );
    let (_, chat) = app.client().start_guest(&visitor("Sam")).await.unwrap();
    assert_eq!(rt.send(chat.id, "still here").await.unwrap().seq, 1);
    while let Ok(Some(event)) = tokio::time::timeout(Duration::from_millis(10), events.recv()).await
    {
        assert!(
            !matches!(event, Event::State(ConnectionState::Reconnecting { .. })),
            "the client reconnected instead of refreshing"
        );
    }
    assert_eq!(agent.session_kind(), Some(TokenKind::Agent));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_socket_counts_as_dead_and_the_client_resumes() {
    let app = spawn_app_with(|settings| {
        settings.ws.heartbeat_interval = Duration::from_secs(1).try_into().unwrap()
    })
    .await;
    let proxy = Proxy::start(app.port).await;
    let (guest, chat) = client_of(&proxy.address)
        .start_guest(&visitor("Sam"))
        .await
        .unwrap();
    let (rt, mut events) = guest.connect_realtime(quick_options()).unwrap();
    wait_connected(&mut events).await;
    proxy.stall(true);
    next_matching(&mut events, |event| match event {
        Event::State(ConnectionState::Reconnecting { .. }) => Some(()),
        _ => None,
    })
    .await;
    proxy.stall(false);
    wait_connected(&mut events).await;
    assert_eq!(rt.send(chat.id, "back").await.unwrap().seq, 1);
    assert_eq!(next_message(&mut events).await.seq, 1);
}

// Three times the server's burst, sent at once: without pacing, the frames
// past the allowance are refused unread, and the server closes a client
// that keeps overrunning with 1008 (final).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_is_paced_to_the_allowance_hello_announces_not_refused() {
    let app = spawn_app_with(|settings| settings.ws.frames_per_second = 10).await;
    let (guest, chat) = app.client().start_guest(&visitor("Sam")).await.unwrap();
    let (rt, mut events) = guest.connect_realtime(quick_options()).unwrap();
    let sends: Vec<_> = (0..60).map(|i| rt.send(chat.id, format!("m{i}"))).collect();

    let stored = tokio::time::timeout(Duration::from_secs(30), async {
        let mut stored = Vec::new();
        for send in sends {
            stored.push(send.await.expect("every send is stored"));
        }
        stored
    })
    .await
    .expect("the backlog drains within the allowance");
    let seqs: Vec<i64> = stored.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, (1..=60).collect::<Vec<i64>>());

    rt.close();
    let mut connections = 0;
    while let Some(event) = events.recv().await {
        match event {
            Event::State(ConnectionState::Connected) => connections += 1,
            Event::Error { error, .. } => panic!("the server refused a frame: {error:?}"),
            _ => {}
        }
    }
    assert_eq!(connections, 1, "one connection, never dropped for rate");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_over_the_announced_frame_limit_fails_alone() {
    let app = spawn_app_with(|settings| settings.ws.max_frame_bytes = 1_024).await;
    let (guest, chat) = app.client().start_guest(&visitor("Sam")).await.unwrap();
    let (rt, mut events) = guest.connect_realtime(quick_options()).unwrap();
    wait_connected(&mut events).await;

    let too_large = rt.send(chat.id, "x".repeat(2_000)).await;
    match too_large {
        Err(Error::Api(api)) => {
            assert_eq!(api.code, byrd_sdk::types::ErrorCode::PayloadTooLarge)
        }
        other => panic!("refused before it is written, got {other:?}"),
    }
    let fine = rt
        .send(chat.id, "small")
        .await
        .expect("the connection lives on");
    assert_eq!(fine.seq, 1);
}

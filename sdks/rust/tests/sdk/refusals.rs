//! A refused frame is never a reason to reconnect (`client.json`,
//! `frames`): against a real server with a tiny read allowance (30 a
//! minute, one back every 2 seconds), a guest whose connect-time replay is
//! refused (an `error` without `ref`) and an agent whose `subscribe` is
//! refused (its `ref` names it) both subscribe again on the same
//! connection once the allowance returns, and get their messages.

use byrd_sdk::operations::ListMessagesQuery;
use byrd_sdk::realtime::{ConnectionState, Event, Events};
use byrd_sdk::types::{Message, SendMessageRequest};
use byrd_sdk::{Client, RetryPolicy};
use uuid::Uuid;

use crate::helpers::{
    ADMIN_EMAIL, ADMIN_PASSWORD, TIMEOUT, TestApp, quick_options, spawn_app_with, visitor,
};

/// A server whose read allowance is 30 a minute, all of it one burst.
async fn limited_app() -> TestApp {
    spawn_app_with(|settings| settings.limits.reads_per_minute = 30).await
}

/// A client that never retries, so a refusal comes back at once.
fn unretried(app: &TestApp) -> Client {
    Client::builder(&app.address)
        .retry(RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        })
        .build()
        .unwrap()
}

/// Reads history until the allowance is spent: the next read is refused.
async fn spend_reads(client: &Client, chat_id: Uuid) {
    for _ in 0..100 {
        if client
            .list_messages(chat_id, &ListMessagesQuery::default())
            .await
            .is_err()
        {
            return;
        }
    }
    panic!("the read allowance never ran out");
}

/// The next message, with every connection state seen before it.
async fn message_and_states(events: &mut Events) -> (Message, Vec<ConnectionState>) {
    let mut states = Vec::new();
    let wait = async {
        loop {
            match events.recv().await.expect("the event stream ended") {
                Event::Message(message) => return message,
                Event::State(state) => states.push(state),
                _ => {}
            }
        }
    };
    let message = tokio::time::timeout(TIMEOUT, wait)
        .await
        .expect("the message never came");
    (message, states)
}

fn connects(states: &[ConnectionState]) -> usize {
    states
        .iter()
        .filter(|state| matches!(state, ConnectionState::Connecting { .. }))
        .count()
}

fn send(id: &str, body: &str) -> SendMessageRequest {
    SendMessageRequest {
        client_msg_id: id.into(),
        body: body.into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_whose_replay_is_refused_subscribes_again_on_the_same_connection() {
    let app = limited_app().await;
    let (guest, chat) = unretried(&app).start_guest(&visitor("Sam")).await.unwrap();
    let hello = guest
        .send_message(chat.id, &send("before", "Hello?"))
        .await
        .unwrap();
    spend_reads(&guest, chat.id).await;

    let (rt, mut events) = guest.connect_realtime(quick_options()).unwrap();
    let (message, states) = message_and_states(&mut events).await;
    assert_eq!(message.id, hello.id);
    assert_eq!(
        connects(&states),
        1,
        "one connection, never a reconnect: {states:?}"
    );
    assert!(matches!(rt.state(), ConnectionState::Connected));
    rt.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agents_subscribe_refused_for_reads_goes_again_and_succeeds_on_the_same_connection() {
    let app = limited_app().await;
    let (guest, chat) = app.client().start_guest(&visitor("Sam")).await.unwrap();
    let hello = guest
        .send_message(chat.id, &send("before", "Hello?"))
        .await
        .unwrap();
    let agent = unretried(&app)
        .login_agent(ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .unwrap();
    spend_reads(&agent, chat.id).await;

    let (rt, mut events) = agent.connect_realtime(quick_options()).unwrap();
    rt.subscribe(chat.id, 0).unwrap();
    let (message, states) = message_and_states(&mut events).await;
    assert_eq!(message.id, hello.id);
    assert_eq!(
        connects(&states),
        1,
        "one connection, never a reconnect: {states:?}"
    );
    rt.close();
}

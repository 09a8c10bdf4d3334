//! The hub's registry, presence, revocations and fan-out, together.

use byrd_spec::message::{Author, PartyType};
use byrd_spec::ws::CloseCode;

use super::*;

static AGENT: Author = Author {
    kind: PartyType::Agent,
    id: Uuid::nil(),
    name: None,
};

fn typing(chat_id: Uuid) -> Event<'static> {
    Event::Typing {
        chat_id,
        author: &AGENT,
        active: true,
    }
}

fn credentials() -> Credentials {
    Credentials {
        jti: Uuid::new_v4().to_string(),
        session: None,
    }
}

#[tokio::test]
async fn a_connection_leaves_the_hub_however_its_registration_is_dropped() {
    let hub = Hub::new(8);
    let registration = hub.register(PartyType::Guest, Uuid::now_v7(), &credentials());
    hub.subscribe(registration.id, Uuid::now_v7(), Some(0), hub.mark());
    let task = tokio::spawn(async move {
        let _registration = registration;
        panic!("the connection task fails");
    });
    assert!(task.await.is_err());
    assert_eq!(hub.connection_count(), 0);
    assert!(hub.lock().subscribers.is_empty());
}

#[tokio::test]
async fn a_connection_registering_just_after_its_revocation_is_closed() {
    // A logout can commit between a handshake's token check and its
    // registration; the registration still closes with 4002.
    let hub = Hub::new(8);
    let revoked = credentials();
    let session = Credentials {
        jti: Uuid::new_v4().to_string(),
        session: Some(Uuid::now_v7()),
    };
    let revoke = |jti: Option<&str>, session: Option<Uuid>| {
        hub.publish(Event::Revoked { jti, session }, Origin::COMMITTED);
    };
    revoke(Some(&revoked.jti), None);
    revoke(None, session.session);

    let by_token = hub.register(PartyType::Agent, Uuid::now_v7(), &revoked);
    let by_session = hub.register(PartyType::Agent, Uuid::now_v7(), &session);
    let other = hub.register(PartyType::Agent, Uuid::now_v7(), &credentials());

    let revoked_code = Some(CloseReason::Protocol(CloseCode::TokenRevoked));
    assert_eq!(by_token.kill.reason(), revoked_code);
    assert_eq!(by_session.kill.reason(), revoked_code);
    assert_eq!(other.kill.reason(), None);
}

#[tokio::test]
async fn a_full_queue_kills_only_the_slow_connection() {
    let hub = Hub::new(2);
    let chat = Uuid::now_v7();
    let mut fast = hub.register(PartyType::Guest, Uuid::now_v7(), &credentials());
    let slow = hub.register(PartyType::Guest, Uuid::now_v7(), &credentials());
    hub.subscribe(fast.id, chat, Some(0), hub.mark());
    hub.subscribe(slow.id, chat, Some(0), hub.mark());
    for _ in 0..3 {
        hub.publish(typing(chat), Origin::COMMITTED);
        fast.queue.recv().await;
    }
    assert_eq!(
        slow.kill.triggered().await,
        CloseReason::Protocol(CloseCode::SlowConsumer)
    );
    assert!(fast.kill.reason().is_none());
}

#[tokio::test]
async fn leaving_removes_every_subscription_of_the_connection() {
    let hub = Hub::new(8);
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    let leaving = hub.register(PartyType::Agent, Uuid::now_v7(), &credentials());
    let mut staying = hub.register(PartyType::Guest, Uuid::now_v7(), &credentials());
    hub.subscribe(leaving.id, a, Some(0), hub.mark());
    hub.subscribe(leaving.id, b, Some(0), hub.mark());
    hub.subscribe(staying.id, b, Some(0), hub.mark());
    drop(leaving);
    {
        let state = hub.lock();
        assert!(!state.subscribers.contains_key(&a));
        assert_eq!(state.subscribers[&b].len(), 1);
    }
    hub.publish(typing(b), Origin::COMMITTED);
    assert!(matches!(staying.queue.try_recv(), Some(Outbound::Frame(_))));
}

#[tokio::test]
async fn presence_goes_online_with_the_first_connection_and_offline_with_the_last() {
    let hub = Hub::new(8);
    let mut watcher = hub.register(PartyType::Agent, Uuid::now_v7(), &credentials());
    let agent = Uuid::now_v7();
    let a = hub.register(PartyType::Agent, agent, &credentials());
    let b = hub.register(PartyType::Agent, agent, &credentials());
    drop(a);
    drop(b);
    let mut frames = Vec::new();
    while let Some(Outbound::Frame(frame)) = watcher.queue.try_recv() {
        frames.push(frame.to_string());
    }
    assert_eq!(frames.len(), 2, "{frames:?}");
    assert!(frames[0].contains("online") && frames[1].contains("offline"));
}

#[tokio::test]
async fn a_message_committed_between_a_subscribers_read_and_its_join_is_filled() {
    let hub = Hub::new(8);
    let (fills, mut requested) = mpsc::unbounded_channel();
    hub.links.fills.set(fills).unwrap();
    let offer = |chat_id: Uuid, seq: i64| {
        let event = Event::Message {
            chat_id,
            seq,
            message: None,
        };
        hub.publish(event, Origin::COMMITTED);
    };
    let (raced, quiet) = (Uuid::now_v7(), Uuid::now_v7());
    let guest = hub.register(PartyType::Guest, Uuid::now_v7(), &credentials());

    // The subscriber read last_seq 4; message 5 commits, and is dropped
    // here for want of a subscriber, before it joins.
    let mark = hub.mark();
    offer(raced, 5);
    assert_eq!(hub.subscribe(guest.id, raced, Some(4), mark), Some(4));
    assert_eq!(requested.try_recv().ok(), Some(raced));
    assert_eq!(hub.lock().cursors[&raced].fill_to, Some(5));

    // Read after the commit: its position covers it, nothing to fill.
    offer(quiet, 7);
    let mark = hub.mark();
    assert_eq!(hub.subscribe(guest.id, quiet, Some(7), mark), Some(7));
    assert!(requested.try_recv().is_err());
    assert_eq!(hub.lock().cursors[&quiet].fill_to, None);
}

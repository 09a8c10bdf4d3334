//! Following the queue and loading it against the real server: an agent
//! that called `subscribe_queue` hears the messages of chats it never
//! subscribed to, once each, again after a reconnect, and after
//! `unsubscribe_queue` only the chats it subscribed to, also after a
//! reconnect; `list_chat_summaries`
//! gives each chat its newest message and both read positions.

use byrd_sdk::operations::ListChatSummariesQuery;
use byrd_sdk::realtime::{ConnectionState, Event};
use byrd_sdk::types::{ChatStatus, SendMessageRequest};

use crate::helpers::{
    next_matching, next_message, quick_options, spawn_app, visitor, wait_connected,
};
use crate::proxy::Proxy;

fn message(id: &str) -> SendMessageRequest {
    SendMessageRequest {
        client_msg_id: id.into(),
        body: format!("body of {id}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queue_follower_hears_every_chat_without_subscribing_across_a_reconnect() {
    let app = spawn_app().await;
    let proxy = Proxy::start(app.port).await;
    let agent = app.agent_at(&proxy.address, "queue@example.com").await;
    let (rt, mut events) = agent.connect_realtime(quick_options()).unwrap();
    rt.subscribe_queue().unwrap();
    wait_connected(&mut events).await;
    let (first, first_chat) = app.client().start_guest(&visitor("Ann")).await.unwrap();
    let (second, second_chat) = app.client().start_guest(&visitor("Bo")).await.unwrap();
    first
        .send_message(first_chat.id, &message("a1"))
        .await
        .unwrap();
    second
        .send_message(second_chat.id, &message("b1"))
        .await
        .unwrap();
    let heard = [
        next_message(&mut events).await,
        next_message(&mut events).await,
    ];
    let heard: Vec<_> = heard.iter().map(|m| (m.chat_id, m.seq)).collect();
    assert_eq!(heard, vec![(first_chat.id, 1), (second_chat.id, 1)]);

    proxy.cut();
    next_matching(&mut events, |event| match event {
        Event::State(ConnectionState::Reconnecting { .. }) => Some(()),
        _ => None,
    })
    .await;
    wait_connected(&mut events).await;
    // The queue is followed again on the new socket, without replay.
    first
        .send_message(first_chat.id, &message("a2"))
        .await
        .unwrap();
    let again = next_message(&mut events).await;
    assert_eq!((again.chat_id, again.seq), (first_chat.id, 2));
}

/// Waits for `chat_id`'s `subscribed`: the server has handled every frame
/// written before its `subscribe`.
async fn resumed(events: &mut byrd_sdk::realtime::Events, chat_id: uuid::Uuid) {
    next_matching(events, |event| match event {
        Event::Resumed { chat_id: id, .. } if id == chat_id => Some(()),
        _ => None,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_unsubscribe_queue_only_subscribed_chats_come_also_after_a_reconnect() {
    let app = spawn_app().await;
    let proxy = Proxy::start(app.port).await;
    let agent = app.agent_at(&proxy.address, "unqueue@example.com").await;
    let (rt, mut events) = agent.connect_realtime(quick_options()).unwrap();
    rt.subscribe_queue().unwrap();
    wait_connected(&mut events).await;
    let (queued, queued_chat) = app.client().start_guest(&visitor("Di")).await.unwrap();
    let (kept, kept_chat) = app.client().start_guest(&visitor("Ed")).await.unwrap();
    queued
        .send_message(queued_chat.id, &message("u1"))
        .await
        .unwrap();
    let heard = next_message(&mut events).await;
    assert_eq!((heard.chat_id, heard.seq), (queued_chat.id, 1));

    rt.unsubscribe_queue().unwrap();
    rt.subscribe(kept_chat.id, 0).unwrap();
    resumed(&mut events, kept_chat.id).await;
    let chats = [(&queued, queued_chat.id), (&kept, kept_chat.id)];
    only_the_subscribed_chat_comes(&mut events, chats, 1).await;

    proxy.cut();
    next_matching(&mut events, |event| match event {
        Event::State(ConnectionState::Reconnecting { .. }) => Some(()),
        _ => None,
    })
    .await;
    resumed(&mut events, kept_chat.id).await;
    only_the_subscribed_chat_comes(&mut events, chats, 2).await;
}

/// A message in the chat not subscribed to, then one in the subscribed
/// chat (its `seq` `n`): the next message heard is the second, which the
/// first would have come before had the queue been followed.
async fn only_the_subscribed_chat_comes(
    events: &mut byrd_sdk::realtime::Events,
    [(queued, queued_chat), (kept, kept_chat)]: [(&byrd_sdk::Client, uuid::Uuid); 2],
    n: i64,
) {
    queued
        .send_message(queued_chat, &message(&format!("u{}", n + 1)))
        .await
        .unwrap();
    kept.send_message(kept_chat, &message(&format!("k{n}")))
        .await
        .unwrap();
    let heard = next_message(events).await;
    assert_eq!((heard.chat_id, heard.seq), (kept_chat, n));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_summaries_give_the_newest_message_and_both_read_positions() {
    let app = spawn_app().await;
    let agent = app.admin().await;
    let (guest, chat) = app.client().start_guest(&visitor("Cy")).await.unwrap();
    guest.send_message(chat.id, &message("c1")).await.unwrap();
    let newest = guest.send_message(chat.id, &message("c2")).await.unwrap();
    let (rt, mut events) = agent.connect_realtime(quick_options()).unwrap();
    wait_connected(&mut events).await;
    rt.mark_read(chat.id, 1).unwrap();
    let query = ListChatSummariesQuery {
        status: Some(ChatStatus::Open),
        ..Default::default()
    };
    // The `read` frame is not answered: read until its position is stored.
    let mut summary = None;
    for _ in 0..50 {
        let page = agent.list_chat_summaries(&query).await.unwrap();
        summary = page.summaries.into_iter().find(|s| s.chat.id == chat.id);
        if summary.as_ref().and_then(|s| s.read_seq) == Some(1) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let summary = summary.expect("the chat is summarised");
    assert_eq!(summary.last_message.as_ref(), Some(&newest));
    assert_eq!(
        (summary.read_seq, summary.visitor_read_seq),
        (Some(1), None)
    );
}

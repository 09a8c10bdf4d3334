//! `subscribe`: replay what the client missed, then go live, with no gap
//! and no duplicate between the two.
//!
//! The connection joins the chat in the hub before reading the history:
//! the replay reaches the hub's position for the chat, and everything
//! after it is queued live, so nothing falls between the two; the
//! connection's `delivered` mark drops the one that comes twice. The
//! replay goes a page at a time (see `replay`), so the connection's other
//! traffic keeps flowing during a long one.

use byrd_spec::error::ErrorCode;
use byrd_spec::ws::{ServerFrame, SubscribeFrame};

use crate::error::ApiError;
use crate::messaging::authorize_chat;
use crate::ws::connection::{Connection, Subscription, principal_of};
use crate::ws::replay::ReplayStop;

pub(super) async fn apply(
    connection: &mut Connection,
    frame: SubscribeFrame,
) -> Result<bool, ApiError> {
    let chat_id = frame.chat_id;
    authorize_chat(&connection.claims, chat_id)?;
    if frame.after_seq < 0 {
        return Err(ApiError::new(
            ErrorCode::InvalidFrame,
            "after_seq must not be negative.",
        ));
    }
    let new_chat = !connection.subscriptions.contains_key(&chat_id);
    if new_chat && connection.subscriptions.len() >= connection.state.settings.ws.max_subscriptions
    {
        return Err(ApiError::limit_exceeded(
            "This connection follows as many chats as it may; unsubscribe from one first.",
        ));
    }
    // A subscribe reads the chat's history: it counts as a read.
    connection
        .state
        .read_limiter
        .check_key(&principal_of(&connection.claims).id)?;
    // Read before joining: a message committed in between is above this
    // position, so the hub fills it rather than skip it.
    let Some(last_seq) = connection.state.store.chat_last_seq(chat_id).await? else {
        return Err(ApiError::from_code(ErrorCode::ChatNotFound));
    };
    let position = connection
        .state
        .hub
        .subscribe(connection.id, chat_id, Some(last_seq));
    // Another subscriber here may have had messages past `last_seq`
    // already: the replay reaches them too.
    let last_seq = position.map_or(last_seq, |position| position.max(last_seq));
    // A client claiming more than exists gets everything from the real end.
    let after_seq = frame.after_seq.min(last_seq);
    let cap = connection.state.settings.ws.replay_cap;
    let recovered = last_seq - after_seq <= i64::from(cap);
    connection.subscriptions.insert(
        chat_id,
        Subscription {
            delivered: Some(if recovered { after_seq } else { last_seq }),
        },
    );
    if recovered {
        match connection.replay_pages(chat_id, after_seq, last_seq).await {
            Ok(()) => {}
            Err(ReplayStop::Read(error)) => return Err(error.into()),
            Err(ReplayStop::Exit(exit)) => {
                connection.stop(exit);
                return Ok(false);
            }
        }
    }
    let last_seq = connection
        .subscriptions
        .get(&chat_id)
        .and_then(|s| s.delivered)
        .unwrap_or(last_seq);
    Ok(connection
        .send_frame(&ServerFrame::Subscribed {
            chat_id,
            recovered,
            last_seq,
        })
        .await)
}

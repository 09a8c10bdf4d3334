//! `subscribe`: replay what the client missed, then go live, with no gap
//! and no duplicate between the two.
//!
//! The connection joins the chat in the hub before reading the history:
//! the replay reaches the hub's position for the chat, and everything
//! after it is queued live, so nothing falls between the two; the
//! connection's position drops the one that comes twice. The replay goes
//! a page at a time (see `replay`), so the connection's other traffic
//! keeps flowing during a long one.

use byrd_spec::error::ErrorCode;
use byrd_spec::ws::{ServerFrame, SubscribeFrame};

use crate::error::ApiError;
use crate::hub::Position;
use crate::messaging::authorize_chat;
use crate::ws::exit::CommandError;
use crate::ws::session::{Session, Subscription, principal_of};
use crate::ws::socket::Socket;

pub(super) async fn apply(
    session: &mut Session,
    out: &mut Socket,
    frame: SubscribeFrame,
) -> Result<(), CommandError> {
    let chat_id = frame.chat_id;
    authorize_chat(&session.claims, chat_id)?;
    if frame.after_seq < 0 {
        return Err(
            ApiError::new(ErrorCode::InvalidFrame, "after_seq must not be negative.").into(),
        );
    }
    let new_chat = !session.subscriptions.contains_key(&chat_id);
    if new_chat && session.subscriptions.len() >= session.state.settings.ws.max_subscriptions {
        return Err(ApiError::limit_exceeded(
            "This connection follows as many chats as it may; unsubscribe from one first.",
        )
        .into());
    }
    // Where the chat stands, taken before joining: a message committed in
    // between is above it, so the hub fills it rather than skip it. A
    // position read ahead with the frames around this one serves first.
    let ahead = session
        .read_ahead
        .as_mut()
        .and_then(|ahead| ahead.take(chat_id));
    let (mark, read) = match ahead {
        Some(ahead) => ahead,
        None => session.chat_position(chat_id, frame.after_seq).await,
    };
    let read = read?;
    let Some(last_seq) = read else {
        return Err(ApiError::from_code(ErrorCode::ChatNotFound).into());
    };
    // One that replays reads the chat's history: it counts as a read. One
    // from the chat's end on reads none and costs only its frame, so a
    // client can follow many chats it is up to date with.
    if frame.after_seq < last_seq {
        session
            .state
            .read_limiter
            .check_key(&principal_of(&session.claims).id)?;
    }
    let position = session
        .state
        .hub
        .subscribe(session.id, chat_id, Some(last_seq), mark);
    // Another subscriber here may have had messages past `last_seq`
    // already: the replay reaches them too.
    let last_seq = position.map_or(last_seq, |position| position.max(last_seq));
    // A client claiming more than exists gets everything from the real end.
    let after_seq = frame.after_seq.min(last_seq);
    let cap = session.state.settings.ws.replay_cap;
    let recovered = last_seq - after_seq <= i64::from(cap);
    let start = if recovered { after_seq } else { last_seq };
    session.subscriptions.insert(
        chat_id,
        Subscription {
            delivered: Position::at(Some(start)),
        },
    );
    if recovered {
        session
            .replay_pages(out, chat_id, after_seq, last_seq)
            .await?;
    }
    let last_seq = session
        .subscriptions
        .get(&chat_id)
        .and_then(|s| s.delivered.get())
        .unwrap_or(last_seq);
    out.send_frame(&ServerFrame::Subscribed {
        chat_id,
        recovered,
        last_seq,
    })
    .await?;
    Ok(())
}

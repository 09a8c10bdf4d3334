//! Per-connection delivery: what the hub queued, written in each chat's
//! `seq` order.
//!
//! The hub hands each message on once and in order (see `hub::cursors`),
//! but a connection's own replay (a `subscribe`) can overtake its queue:
//! so the connection keeps its own [`Position`](crate::hub::Position) per
//! chat, placed by the same rule, and drops what it already sent. A gap
//! below a live message is filled from the store first; seqs commit in
//! order, so it is always readable. When it cannot be read, the
//! connection closes (1011 `resume_required`) rather than deliver past a
//! silent hole: the client reconnects and resumes from the last `seq` it
//! has.

use byrd_spec::claims::Claims;
use byrd_spec::message::Message;
use byrd_spec::ws::{CloseCode, ServerFrame};
use uuid::Uuid;

use super::exit::Exit;
use super::session::Session;
use super::socket::Socket;
use crate::hub::{Outbound, Place, Revocation};
use crate::store::MessagesAfter;

impl Session {
    /// Writes one item the hub queued.
    pub async fn deliver(&mut self, out: &mut Socket, item: Outbound) -> Result<(), Exit> {
        match item {
            Outbound::Frame(frame) => out.send_text(&frame).await,
            Outbound::ChatMessage(message) => {
                self.deliver_message(out, message.chat_id, message.seq, &message.frame)
                    .await
            }
            Outbound::Revoked(revocation) if self.revoked_by(&revocation) => {
                Err(Exit::Close(CloseCode::TokenRevoked))
            }
            Outbound::Revoked(_) => Ok(()),
        }
    }

    /// Whether `revocation` covers this connection's token or session.
    fn revoked_by(&self, revocation: &Revocation) -> bool {
        let Revocation { jti, session } = revocation;
        match &self.claims {
            Claims::Agent(agent) => {
                jti.as_deref() == Some(agent.jti.as_str())
                    || (session.is_some() && agent.sid == *session)
            }
            Claims::Guest(guest) => jti.as_deref() == Some(guest.jti.as_str()),
        }
    }

    /// Delivers a live message in `seq` order.
    async fn deliver_message(
        &mut self,
        out: &mut Socket,
        chat_id: Uuid,
        seq: i64,
        frame: &str,
    ) -> Result<(), Exit> {
        let Some(subscription) = self.subscriptions.get(&chat_id) else {
            // A queue follower's: the hub's position for the chat put it
            // in order and sent it here once. Otherwise, unsubscribed
            // after the hub queued it.
            if self.follows_queue {
                out.send_text(frame).await?;
            }
            return Ok(());
        };
        match subscription.delivered.place(seq) {
            Place::Repeat => return Ok(()),
            Place::Ahead { after } => self.fill_gap(out, chat_id, after, seq).await?,
            Place::Unknown | Place::Next => {}
        }
        out.send_text(frame).await?;
        self.set_delivered(chat_id, seq);
        Ok(())
    }

    /// Sends the stored messages with `after < seq < before`.
    async fn fill_gap(
        &mut self,
        out: &mut Socket,
        chat_id: Uuid,
        after: i64,
        before: i64,
    ) -> Result<(), Exit> {
        let span = MessagesAfter {
            after,
            through: before - 1,
            limit: u32::try_from(before - after).unwrap_or(u32::MAX),
        };
        match self.state.store.messages_after(chat_id, span).await {
            Ok(messages) => self.send_messages(out, chat_id, messages).await,
            Err(error) => {
                tracing::warn!(%chat_id, after, before, error = %error, "cannot fill a gap; closing so the client resumes");
                Err(Exit::Close(CloseCode::ResumeRequired))
            }
        }
    }

    /// Sends stored messages of `chat_id` as `message` frames, in order.
    pub async fn send_messages(
        &mut self,
        out: &mut Socket,
        chat_id: Uuid,
        messages: Vec<Message>,
    ) -> Result<(), Exit> {
        for message in messages {
            let seq = message.seq;
            out.send_frame(&ServerFrame::Message { message }).await?;
            self.set_delivered(chat_id, seq);
        }
        Ok(())
    }

    fn set_delivered(&mut self, chat_id: Uuid, seq: i64) {
        if let Some(subscription) = self.subscriptions.get_mut(&chat_id) {
            subscription.delivered.advance(seq);
        }
    }
}

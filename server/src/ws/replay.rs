//! Replays of stored messages, a page at a time.
//!
//! A replay may be as long as the replay cap (1000 messages by default).
//! Read and written in one go, it would hold its connection for the whole
//! read and every write, while the hub keeps queueing live traffic of the
//! connection's other chats: a busy agent's queue would fill and close it
//! with 4008 though it reads everything it is sent. So a replay reads a
//! page at a time, and whatever the hub queues goes out while a page is
//! being read and after each page is written.
//!
//! Live messages of the chat being replayed must not overtake its replay.
//! They are held back, up to the outbound queue's bound, and put back at
//! the front of the queue once the replay ends however it ends; the
//! connection then drops the ones the replay already sent, by `seq`.

use byrd_spec::ws::CloseCode;
use uuid::Uuid;

use super::exit::{CommandError, Exit};
use super::session::Session;
use super::socket::Socket;
use crate::hub::Outbound;
use crate::store::MessagesAfter;

/// Messages read, and written, at a time.
const PAGE: u32 = 100;

/// The next page of a replay of the messages with `after < seq <= through`.
pub(super) fn replay_page(after: i64, through: i64) -> MessagesAfter {
    MessagesAfter {
        after,
        through,
        limit: PAGE,
    }
}

impl Session {
    /// Sends `chat_id`'s stored messages with `after < seq <= through`, in
    /// order, a page at a time, letting the outbound queue drain between
    /// and during reads. A page that cannot be read refuses the frame
    /// that asked for the replay.
    pub(super) async fn replay_pages(
        &mut self,
        out: &mut Socket,
        chat_id: Uuid,
        after: i64,
        through: i64,
    ) -> Result<(), CommandError> {
        let mut held = Vec::new();
        let replayed = self
            .replay_held(out, chat_id, after, through, &mut held)
            .await;
        self.queue.put_back(held);
        replayed
    }

    async fn replay_held(
        &mut self,
        out: &mut Socket,
        chat_id: Uuid,
        mut after: i64,
        through: i64,
        held: &mut Vec<Outbound>,
    ) -> Result<(), CommandError> {
        // Owned, so that a page's read does not borrow the session while
        // queued items are written.
        let state = self.state.clone();
        let kill = out.kill_switch();
        while after < through {
            // A first page read ahead with the subscribe serves first.
            let ahead = self
                .read_ahead
                .as_mut()
                .and_then(|ahead| ahead.take_page(chat_id, after));
            let mut messages = match ahead {
                Some(page) => page,
                None => {
                    let read = state
                        .store
                        .messages_after(chat_id, replay_page(after, through));
                    tokio::pin!(read);
                    let page = loop {
                        // Nothing written waits for the read.
                        out.flush().await?;
                        tokio::select! {
                            page = &mut read => break page,
                            item = self.queue.recv() => self.pass_queued(out, chat_id, item, held).await?,
                            _ = kill.triggered() => return Err(Exit::Gone.into()),
                        }
                    };
                    page?
                }
            };
            messages.retain(|message| message.seq <= through);
            let Some(last) = messages.last().map(|message| message.seq) else {
                break;
            };
            self.send_messages(out, chat_id, messages).await?;
            after = last;
            // What came during the page's writes; no more than the queue
            // holds, so that traffic cannot keep the replay waiting.
            for _ in 0..state.settings.ws.outbound_queue {
                let Some(item) = self.queue.try_recv() else {
                    break;
                };
                self.pass_queued(out, chat_id, item, held).await?;
            }
        }
        Ok(())
    }

    /// Writes a queued item during a replay of `chat_id`, or holds it
    /// back when it is a message of that chat.
    async fn pass_queued(
        &mut self,
        out: &mut Socket,
        chat_id: Uuid,
        item: Outbound,
        held: &mut Vec<Outbound>,
    ) -> Result<(), Exit> {
        if let Outbound::ChatMessage(message) = &item
            && message.chat_id == chat_id
        {
            if held.len() >= self.state.settings.ws.outbound_queue {
                return Err(Exit::Close(CloseCode::SlowConsumer));
            }
            held.push(item);
            return Ok(());
        }
        Box::pin(self.deliver(out, item)).await
    }
}

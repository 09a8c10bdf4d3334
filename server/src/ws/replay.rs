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

use uuid::Uuid;

use super::connection::{Connection, Exit};
use crate::hub::Outbound;
use crate::store::{MessageRange, StoreError};

/// Messages read, and written, at a time.
const PAGE: u32 = 100;

/// Why a replay stopped short.
pub(super) enum ReplayStop {
    /// A page could not be read; the connection goes on.
    Read(StoreError),
    /// The connection ends.
    Exit(Exit),
}

impl Connection {
    /// Sends `chat_id`'s stored messages with `after < seq <= through`, in
    /// order, a page at a time, letting the outbound queue drain between
    /// and during reads.
    pub(super) async fn replay_pages(
        &mut self,
        chat_id: Uuid,
        after: i64,
        through: i64,
    ) -> Result<(), ReplayStop> {
        let mut held = Vec::new();
        let replayed = self.replay_held(chat_id, after, through, &mut held).await;
        self.outbox.put_back(held);
        replayed
    }

    async fn replay_held(
        &mut self,
        chat_id: Uuid,
        mut after: i64,
        through: i64,
        held: &mut Vec<Outbound>,
    ) -> Result<(), ReplayStop> {
        // Owned, so that a page's read does not borrow the connection
        // while queued items are written.
        let state = self.state.clone();
        let kill = self.kill.clone();
        while after < through {
            let range = MessageRange {
                after_seq: Some(after),
                before_seq: Some(through.saturating_add(1)),
                limit: PAGE,
            };
            let read = state.store.list_messages(chat_id, range);
            tokio::pin!(read);
            let page = loop {
                // Nothing written waits for the read.
                if !self.flush().await {
                    return Err(ReplayStop::Exit(Exit::Gone));
                }
                tokio::select! {
                    page = &mut read => break page,
                    item = self.outbox.recv() => self.pass_queued(chat_id, item, held).await?,
                    _ = kill.triggered() => return Err(ReplayStop::Exit(Exit::Gone)),
                }
            };
            let (messages, _) = page.map_err(ReplayStop::Read)?;
            let Some(last) = messages.last().map(|message| message.seq) else {
                break;
            };
            if !self.send_messages(chat_id, messages).await {
                return Err(ReplayStop::Exit(Exit::Gone));
            }
            after = last;
            // What came during the page's writes; no more than the queue
            // holds, so that traffic cannot keep the replay waiting.
            for _ in 0..self.state.settings.ws.outbound_queue {
                let Some(item) = self.outbox.try_recv() else {
                    break;
                };
                self.pass_queued(chat_id, item, held).await?;
            }
        }
        Ok(())
    }

    /// Writes a queued item during a replay of `chat_id`, or holds it
    /// back when it is a message of that chat.
    async fn pass_queued(
        &mut self,
        chat_id: Uuid,
        item: Outbound,
        held: &mut Vec<Outbound>,
    ) -> Result<(), ReplayStop> {
        if let Outbound::ChatMessage(message) = &item
            && message.chat_id == chat_id
        {
            if held.len() >= self.state.settings.ws.outbound_queue {
                let code = byrd_spec::ws::CloseCode::SlowConsumer;
                return Err(ReplayStop::Exit(Exit::Close(code)));
            }
            held.push(item);
            return Ok(());
        }
        match Box::pin(self.handle_outbound(item)).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(ReplayStop::Exit(Exit::Gone)),
            Err(exit) => Err(ReplayStop::Exit(exit)),
        }
    }
}

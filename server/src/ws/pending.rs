//! The pending-send pipeline: `send`s queued to the store's writer,
//! answered in the order they were queued.
//!
//! A `send` does not wait for its commit: the connection reads on, and
//! many sends can be in flight. The writer answers in queue order, so the
//! acks go out in that order too. A frame that is not a `send` waits for
//! the acks of the sends before it ([`PendingSends::drain`]), so answers
//! go out in the order of the frames they answer and a client can use
//! `ping` as a barrier.

use std::collections::VecDeque;

use byrd_spec::ws::ServerFrame;
use futures_util::FutureExt;

use super::exit::Exit;
use super::socket::Socket;
use crate::error::ApiError;
use crate::store::{AppendTicket, Appended, StoreError};

/// A `send` queued to the store, waiting for its commit.
pub(super) struct PendingAck {
    pub client_msg_id: String,
    /// What an `error` answering it echoes.
    pub reference: Option<String>,
    pub answer: AppendTicket,
}

/// Sends queued to the store, oldest first.
#[derive(Default)]
pub(super) struct PendingSends(VecDeque<PendingAck>);

impl PendingSends {
    pub fn push(&mut self, pending: PendingAck) {
        self.0.push_back(pending);
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The answer to the oldest pending send; never resolves while none is.
    pub async fn first_answer(&mut self) -> Result<Appended, StoreError> {
        match self.0.front_mut() {
            Some(first) => (&mut first.answer).await,
            None => std::future::pending().await,
        }
    }

    /// Answers the oldest pending send with `answer`, then every other
    /// whose commit is already decided.
    pub async fn answer_ready(
        &mut self,
        out: &mut Socket,
        answer: Result<Appended, StoreError>,
    ) -> Result<(), Exit> {
        self.answer_first(out, answer).await?;
        while let Some(answer) = self
            .0
            .front_mut()
            .and_then(|first| (&mut first.answer).now_or_never())
        {
            self.answer_first(out, answer).await?;
        }
        Ok(())
    }

    /// Waits for every pending send and answers each, in order.
    pub async fn drain(&mut self, out: &mut Socket) -> Result<(), Exit> {
        while let Some(first) = self.0.front_mut() {
            let answer = match (&mut first.answer).now_or_never() {
                Some(answer) => answer,
                None => {
                    // Nothing written waits for the commit.
                    out.flush().await?;
                    match self.0.front_mut() {
                        Some(first) => (&mut first.answer).await,
                        None => break,
                    }
                }
            };
            self.answer_first(out, answer).await?;
        }
        Ok(())
    }

    /// Acks the oldest pending send, or answers it with its error.
    async fn answer_first(
        &mut self,
        out: &mut Socket,
        answer: Result<Appended, StoreError>,
    ) -> Result<(), Exit> {
        let Some(pending) = self.0.pop_front() else {
            return Ok(());
        };
        match answer {
            // Only now, with the message committed, does the sender hear of it.
            Ok(appended) => {
                let duplicate = matches!(appended, Appended::Existing(_));
                let ack = ServerFrame::Ack {
                    client_msg_id: pending.client_msg_id,
                    message: appended.into_message(),
                    duplicate,
                };
                out.send_frame(&ack).await
            }
            Err(error) => {
                let error = ApiError::from(error).into_ws_frame(pending.reference);
                out.send_frame(&error).await
            }
        }
    }
}

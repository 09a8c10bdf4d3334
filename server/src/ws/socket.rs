//! The socket as a connection's frame writer: frames go to the socket's
//! buffer and out at the next flush, every write bounded in time and cut
//! short by the hub's order to close.
//!
//! Every frame is counted by its type as it is written
//! (`byrd_ws_frames_sent_total`). Frames are flushed once per turn of the connection's loop, after a
//! burst of queued items or ready acks: under load one write carries many
//! frames instead of one system call each.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket};
use byrd_spec::ws::{CloseCode, ServerFrame};
use futures_util::SinkExt;

use super::exit::Exit;
use crate::hub::KillSwitch;
use crate::metrics::handles;

/// How long a closing connection waits for the client's close frame.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

pub(super) struct Socket {
    socket: WebSocket,
    /// The hub's order to close; also cuts short a write the peer blocks.
    kill: Arc<KillSwitch>,
    /// How long one write or flush may wait for a client that does not read.
    write_timeout: Duration,
    /// Frames were written to the socket's buffer since the last flush.
    unflushed: bool,
}

impl Socket {
    pub fn new(socket: WebSocket, kill: Arc<KillSwitch>, write_timeout: Duration) -> Socket {
        Socket {
            socket,
            kill,
            write_timeout,
            unflushed: false,
        }
    }

    /// The hub's order to close, for a wait that must end with it.
    pub fn kill_switch(&self) -> Arc<KillSwitch> {
        self.kill.clone()
    }

    /// The next message from the client; `None` once the stream ended.
    pub async fn recv(&mut self) -> Option<Result<WsMessage, axum::Error>> {
        self.socket.recv().await
    }

    /// Renders and sends a frame.
    pub async fn send_frame(&mut self, frame: &ServerFrame) -> Result<(), Exit> {
        match serde_json::to_string(frame) {
            Ok(text) => {
                handles().frame_sent(&text);
                self.send(WsMessage::Text(text.into())).await
            }
            Err(error) => {
                tracing::error!(%error, "cannot render a frame");
                Ok(())
            }
        }
    }

    /// Sends a frame rendered already.
    pub async fn send_text(&mut self, text: &str) -> Result<(), Exit> {
        handles().frame_sent(text);
        self.send(WsMessage::Text(text.into())).await
    }

    /// Sends a WebSocket ping, the heartbeat.
    pub async fn ping(&mut self) -> Result<(), Exit> {
        self.send(WsMessage::Ping(Default::default())).await
    }

    /// Writes to the socket's buffer, which goes out when it fills or at
    /// the next [`flush`](Self::flush).
    async fn send(&mut self, message: WsMessage) -> Result<(), Exit> {
        self.unflushed = true;
        let write = tokio::time::timeout(self.write_timeout, self.socket.feed(message));
        tokio::select! {
            written = write => written_or_gone(written),
            _ = self.kill.triggered() => Err(Exit::Gone),
        }
    }

    /// Writes out what [`send`](Self::send) buffered, giving up on a
    /// client that does not read.
    ///
    /// The hub's order to close cuts a blocked write short: a slow
    /// consumer's 4008 must not wait for `write_timeout`.
    pub async fn flush(&mut self) -> Result<(), Exit> {
        if !self.unflushed {
            return Ok(());
        }
        self.unflushed = false;
        let write = tokio::time::timeout(self.write_timeout, self.socket.flush());
        tokio::select! {
            written = write => written_or_gone(written),
            _ = self.kill.triggered() => Err(Exit::Gone),
        }
    }

    /// Sends the close frame and waits a little for the client's.
    pub async fn close(&mut self, code: CloseCode) {
        // Best effort: a peer that stopped reading will not get it.
        let frame = CloseFrame {
            code: code.code(),
            reason: code.reason().into(),
        };
        let _ = tokio::time::timeout(
            self.write_timeout,
            self.socket.send(WsMessage::Close(Some(frame))),
        )
        .await;
        // Read (and drop) what the client still sends until its close
        // answers ours: closing with unread data would reset the
        // connection and lose the close frame and the frames before it.
        let _ = tokio::time::timeout(CLOSE_GRACE, async {
            while let Some(Ok(message)) = self.socket.recv().await {
                if matches!(message, WsMessage::Close(_)) {
                    break;
                }
            }
        })
        .await;
    }

    /// Sends the answer to the client's close frame, echoing its code: the
    /// WebSocket layer queued it on reading the client's close, and it
    /// goes out with this flush. Without it the client sees the
    /// connection end abnormally (1006).
    pub async fn answer_close(&mut self) {
        // Best effort: a peer that stopped reading will not get it.
        let _ = tokio::time::timeout(self.write_timeout, self.socket.flush()).await;
    }
}

fn written_or_gone<E>(
    written: Result<Result<(), E>, tokio::time::error::Elapsed>,
) -> Result<(), Exit> {
    match written {
        Ok(Ok(())) => Ok(()),
        _ => Err(Exit::Gone),
    }
}

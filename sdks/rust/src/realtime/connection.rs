//! One live connection: resubscribe, resend, then read frames, write
//! commands and keep the heartbeat until the connection ends.
//!
//! Everything runs on the driver's task, one thing at a time, so frames
//! are handled in the order they arrived: a gap fill over REST finishes
//! before the next frame is read, which is what keeps delivery in `seq`
//! order without buffering.

use std::time::Instant;

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode as WsCloseCode;
use tokio_tungstenite::tungstenite::{self, Message as WsMessage};
use uuid::Uuid;

use super::delivery::Verdict;
use super::driver::Driver;
use super::hello::HelloLimits;
use super::pacer::Pacer;
use super::queue::{subscribe_queue_frame, unsubscribe_queue_frame};
use super::refusals::{Deferred, PING_REF, REFRESH_REF, SUBSCRIBE_REF, UNSUBSCRIBE_REF};
use super::socket::Socket;
use super::{Command, Event};
use crate::close_codes::CloseCode;
use crate::error::{ApiError, Error};
use crate::generated::client_behaviour::{GAP_PAGE, SEND_REFRESHED_TOKEN_ON_SOCKET};
use crate::operations::ListMessagesQuery;
use crate::types::{
    ClientFrame, ClientPing, ClientRefreshToken, ClientSubscribe, ErrorCode, Message, ServerFrame,
    ServerHello,
};

/// How a connection ended.
pub(crate) enum Ended {
    /// `close()`: final.
    ByApplication,
    /// The server closed with a code; its action decides what follows.
    Server { code: CloseCode, reason: String },
    /// Dropped, dead, or a gap fill failed: reconnect.
    Lost(Error),
    /// The session is over: final.
    Auth(Error),
}

impl Driver {
    pub(super) async fn serve(
        &mut self,
        mut socket: Socket,
        hello: ServerHello,
        mut token: String,
    ) -> Ended {
        let limits = HelloLimits::of(&hello);
        let heartbeat = limits.heartbeat;
        self.pacer = Some(Pacer::new(&limits.limits, self.pace));
        self.max_frame_bytes = limits.max_frame_bytes();
        let mut last_heard = Instant::now();
        let mut ticker =
            tokio::time::interval_at(tokio::time::Instant::now() + heartbeat, heartbeat);
        let mut deferred = Deferred::default();
        // A guest's socket replays its own chat by itself (`after_seq` in
        // its URL); an agent's subscribes are recorded as they are written.
        self.unanswered.clear();
        self.unanswered.extend(self.guest_chat);
        // Tokens refreshed elsewhere (a REST call) reach this socket too.
        let mut refreshes = self.credential.watch_refreshes();
        refreshes.mark_unchanged();

        if let Err(ended) = self.resubscribe(&mut socket).await {
            return ended;
        }

        loop {
            let deferred_at = self
                .shared
                .outbox
                .lock()
                .ok()
                .and_then(|o| o.next_deferred());
            let wake = [deferred_at, deferred.at].into_iter().flatten().min();
            let step = tokio::select! {
                frame = socket.next() => {
                    last_heard = Instant::now();
                    self.on_incoming(&mut socket, frame, &mut token, &mut deferred).await
                }
                command = self.commands.recv() => self.on_command(&mut socket, command).await,
                Ok(()) = refreshes.changed(), if SEND_REFRESHED_TOKEN_ON_SOCKET => {
                    self.on_refreshed(&mut socket, &mut token).await
                }
                _ = ticker.tick() => {
                    if last_heard.elapsed() > heartbeat * 2 {
                        Err(Ended::Lost(Error::Transport { message: "no frame for twice the heartbeat interval".into(), source: None }))
                    } else {
                        self.write(&mut socket, ping()).await
                    }
                }
                () = sleep_until(wake) => self.send_deferred(&mut socket, &mut deferred, &token).await,
            };
            if let Err(ended) = step {
                return ended;
            }
        }
    }

    /// Follows again every chat followed before (a guest's own chat is
    /// resumed by the URL), then resends what waits for its `ack`.
    async fn resubscribe(&mut self, socket: &mut Socket) -> Result<(), Ended> {
        for (chat_id, after_seq) in self.follows.positions() {
            if Some(chat_id) != self.guest_chat {
                self.write(socket, subscribe(chat_id, after_seq)).await?;
            }
        }
        if self.queue.following() {
            self.write(socket, subscribe_queue_frame()).await?;
        }
        self.flush(socket).await
    }

    /// What the socket gave: a frame, a close, or its end.
    async fn on_incoming(
        &mut self,
        socket: &mut Socket,
        frame: Option<Result<WsMessage, tungstenite::Error>>,
        token: &mut String,
        deferred: &mut Deferred,
    ) -> Result<(), Ended> {
        match frame {
            None => Err(Ended::Lost(Error::Transport {
                message: "the connection closed".into(),
                source: None,
            })),
            Some(Err(error)) => Err(Ended::Lost(Error::transport(
                "the connection failed",
                error,
            ))),
            Some(Ok(WsMessage::Close(frame))) => Err(server_close(frame)),
            Some(Ok(WsMessage::Text(text))) => match serde_json::from_str::<ServerFrame>(&text) {
                Ok(frame) => self.on_frame(socket, frame, token, deferred).await,
                Err(error) => {
                    tracing::warn!(%error, "an undecodable frame was ignored");
                    Ok(())
                }
            },
            Some(Ok(_)) => Ok(()),
        }
    }

    /// What the application asked for; `None` means every handle is gone.
    async fn on_command(
        &mut self,
        socket: &mut Socket,
        command: Option<Command>,
    ) -> Result<(), Ended> {
        if let Some(command) = &command {
            self.shared.took(command);
        }
        match command {
            None | Some(Command::Close) => {
                let _ = socket
                    .close(Some(CloseFrame {
                        code: WsCloseCode::Normal,
                        reason: "closed by the application".into(),
                    }))
                    .await;
                Err(Ended::ByApplication)
            }
            Some(Command::Flush) => self.flush(socket).await,
            // Following a chat already followed keeps its position (the
            // table's `subscribe_again`): nothing to send.
            Some(Command::Subscribe { chat_id, after_seq }) => {
                if self.follows.follow(chat_id, after_seq) {
                    self.write(socket, subscribe(chat_id, after_seq)).await
                } else {
                    Ok(())
                }
            }
            Some(Command::Unsubscribe { chat_id }) => {
                self.follows.unfollow(chat_id);
                self.unanswered.remove(&chat_id);
                let frame = ClientFrame::Unsubscribe(crate::types::ClientUnsubscribe {
                    chat_id,
                    reference: Some(format!("{UNSUBSCRIBE_REF}{chat_id}")),
                });
                self.write(socket, frame).await
            }
            Some(Command::SubscribeQueue) if self.queue.follow() => {
                self.write(socket, subscribe_queue_frame()).await
            }
            Some(Command::SubscribeQueue) => Ok(()),
            Some(Command::UnsubscribeQueue) if self.queue.unfollow() => {
                self.write(socket, unsubscribe_queue_frame()).await
            }
            Some(Command::UnsubscribeQueue) => Ok(()),
            Some(Command::Frame(frame)) => self.write(socket, frame).await,
        }
    }

    /// A token refreshed elsewhere (a REST call) goes to this socket too.
    async fn on_refreshed(&mut self, socket: &mut Socket, token: &mut String) -> Result<(), Ended> {
        match self.credential.current().await {
            Some(fresh) if fresh != *token => {
                *token = fresh.clone();
                self.write(socket, refresh_frame(fresh)).await
            }
            _ => Ok(()),
        }
    }

    /// Writes again what was refused without effect and is now due.
    async fn send_deferred(
        &mut self,
        socket: &mut Socket,
        deferred: &mut Deferred,
        token: &str,
    ) -> Result<(), Ended> {
        if deferred.at.is_some_and(|at| at <= Instant::now()) {
            deferred.at = None;
            for chat_id in std::mem::take(&mut deferred.subscribes) {
                if let Some(after_seq) = self.follows.delivered(chat_id) {
                    self.write(socket, subscribe(chat_id, after_seq)).await?;
                }
            }
            if std::mem::take(&mut deferred.refresh) {
                self.write(socket, refresh_frame(token.to_owned())).await?;
            }
            if std::mem::take(&mut deferred.unanswered) {
                self.resend_unanswered(socket).await?;
            }
        }
        self.flush(socket).await
    }

    /// A refusal named no frame: every chat whose `subscribe` is still
    /// unanswered is subscribed again from where it stands (subscribing
    /// again keeps its position), and every unacked send goes again with
    /// its `client_msg_id` (the server stores it once).
    async fn resend_unanswered(&mut self, socket: &mut Socket) -> Result<(), Ended> {
        let chats: Vec<Uuid> = self.unanswered.iter().copied().collect();
        for chat_id in chats {
            match self.follows.delivered(chat_id) {
                Some(after_seq) => self.write(socket, subscribe(chat_id, after_seq)).await?,
                None => {
                    self.unanswered.remove(&chat_id);
                }
            }
        }
        if let Ok(mut outbox) = self.shared.outbox.lock() {
            outbox.resend_written();
        }
        Ok(())
    }

    /// Writes every send that is due, in order.
    async fn flush(&mut self, socket: &mut Socket) -> Result<(), Ended> {
        let frames = match self.shared.outbox.lock() {
            Ok(mut outbox) => outbox.take_unsent(Instant::now()),
            Err(_) => Vec::new(),
        };
        for frame in frames {
            let frame = ClientFrame::Send(frame);
            // The server closes a connection on a frame over its limit
            // (1009, final): refuse that one send instead.
            let size = serde_json::to_string(&frame).map_or(0, |text| text.len());
            if size > self.max_frame_bytes {
                let ClientFrame::Send(send) = frame else {
                    continue;
                };
                let error = ApiError {
                    status: ErrorCode::PayloadTooLarge.http_status(),
                    code: ErrorCode::PayloadTooLarge,
                    message: format!(
                        "the send is {size} bytes as a frame; the server takes at most {}",
                        self.max_frame_bytes
                    ),
                    request_id: None,
                    retry_after: None,
                };
                if let Ok(mut outbox) = self.shared.outbox.lock() {
                    outbox.reject(&send.client_msg_id, Error::Api(error));
                }
                continue;
            }
            self.write(socket, frame).await?;
        }
        Ok(())
    }

    async fn on_frame(
        &mut self,
        socket: &mut Socket,
        frame: ServerFrame,
        token: &mut String,
        deferred: &mut Deferred,
    ) -> Result<(), Ended> {
        match frame {
            ServerFrame::Message(frame) => self.on_message(frame.message).await,
            ServerFrame::Ack(ack) => {
                if let Ok(mut outbox) = self.shared.outbox.lock() {
                    outbox.ack(&ack.client_msg_id, ack.message);
                }
                Ok(())
            }
            ServerFrame::Subscribed(subscribed) => {
                self.unanswered.remove(&subscribed.chat_id);
                let Some(delivered) = self.follows.delivered(subscribed.chat_id) else {
                    return Ok(());
                };
                let fetched = if delivered < subscribed.last_seq {
                    self.fill(subscribed.chat_id, delivered, subscribed.last_seq + 1)
                        .await?
                } else {
                    0
                };
                self.emit(Event::Resumed {
                    chat_id: subscribed.chat_id,
                    recovered: subscribed.recovered,
                    fetched,
                })
                .await;
                Ok(())
            }
            ServerFrame::Error(error) => self.on_error(error, deferred).await,
            ServerFrame::TokenExpiring(_) => {
                // A lost answer to the refresh is retried within the
                // server's refresh grace (`refreshSession` is replayable).
                match self.credential.refresh_after(&self.client, token).await {
                    Ok(fresh) if fresh != *token => {
                        *token = fresh.clone();
                        self.write(socket, refresh_frame(fresh)).await
                    }
                    Ok(_) => Ok(()),
                    Err(error @ Error::Auth(_)) => Err(Ended::Auth(error)),
                    // The server closes with 4001 at expiry; the client
                    // then refreshes and reconnects.
                    Err(error) => {
                        tracing::debug!(%error, "no fresh token before expiry");
                        Ok(())
                    }
                }
            }
            ServerFrame::Typing(typing) => {
                self.emit(Event::Typing(typing)).await;
                Ok(())
            }
            ServerFrame::Read(read) => {
                self.emit(Event::Read(read)).await;
                Ok(())
            }
            ServerFrame::Presence(presence) => {
                self.emit(Event::Presence(presence)).await;
                Ok(())
            }
            ServerFrame::ChatUpdated(updated) => {
                self.emit(Event::ChatUpdated(updated.chat)).await;
                Ok(())
            }
            // hello (only first), pong, unsubscribed, token_refreshed, and
            // frame types of newer servers: nothing to do.
            _ => Ok(()),
        }
    }

    /// Delivers `message` if it is the next of its chat, after fetching
    /// any gap before it; drops duplicates.
    async fn on_message(&mut self, message: Message) -> Result<(), Ended> {
        match self.follows.judge(message.chat_id, message.seq) {
            // A chat not followed by `subscribe` is the queue's: passed on
            // as it comes.
            Verdict::NotFollowed if self.queue.following() => {
                self.emit(Event::Message(message)).await;
                return Ok(());
            }
            Verdict::NotFollowed | Verdict::Duplicate => return Ok(()),
            Verdict::Gap { after, before } => {
                self.fill(message.chat_id, after, before).await?;
            }
            Verdict::Next => {}
        }
        self.deliver(message).await;
        Ok(())
    }

    async fn deliver(&mut self, message: Message) {
        if self.follows.mark_delivered(message.chat_id, message.seq) {
            self.emit(Event::Message(message)).await;
        }
    }

    /// Pages `(after, before)` of a chat over REST and delivers it; the
    /// count delivered. A failure ends the connection: the next one
    /// resumes from what was delivered.
    async fn fill(&mut self, chat_id: Uuid, after: i64, before: i64) -> Result<usize, Ended> {
        let mut fetched = 0;
        let mut from = after;
        loop {
            let query = ListMessagesQuery {
                after_seq: Some(from),
                before_seq: Some(before),
                limit: Some(GAP_PAGE),
            };
            let page = match self.client.list_messages(chat_id, &query).await {
                Ok(page) => page,
                Err(error @ Error::Auth(_)) => return Err(Ended::Auth(error)),
                Err(error) => return Err(Ended::Lost(error)),
            };
            for message in page.messages {
                from = from.max(message.seq);
                if self.follows.judge(chat_id, message.seq) == Verdict::Next {
                    self.deliver(message).await;
                    fetched += 1;
                }
            }
            let delivered = self.follows.delivered(chat_id).unwrap_or(before);
            if delivered + 1 >= before {
                return Ok(fetched);
            }
            if !page.has_more {
                return Err(Ended::Lost(Error::Decode {
                    status: None,
                    request_id: None,
                    message: format!(
                        "messages {} to {} of chat {chat_id} are missing from its history",
                        delivered + 1,
                        before - 1
                    ),
                }));
            }
        }
    }

    /// Writes one frame once the pace allows it.
    async fn write(&mut self, socket: &mut Socket, frame: ClientFrame) -> Result<(), Ended> {
        if let Some(pacer) = &mut self.pacer {
            pacer.ready().await;
        }
        if let ClientFrame::Subscribe(subscribe) = &frame {
            self.unanswered.insert(subscribe.chat_id);
        }
        write(socket, frame).await
    }
}

fn refresh_frame(token: String) -> ClientFrame {
    ClientFrame::RefreshToken(ClientRefreshToken {
        token,
        reference: Some(REFRESH_REF.into()),
    })
}

fn ping() -> ClientFrame {
    ClientFrame::Ping(ClientPing {
        nonce: None,
        reference: Some(PING_REF.into()),
    })
}

fn subscribe(chat_id: Uuid, after_seq: i64) -> ClientFrame {
    ClientFrame::Subscribe(ClientSubscribe {
        chat_id,
        after_seq,
        reference: Some(format!("{SUBSCRIBE_REF}{chat_id}")),
    })
}

async fn write(socket: &mut Socket, frame: ClientFrame) -> Result<(), Ended> {
    let text = serde_json::to_string(&frame).map_err(|error| {
        Ended::Lost(Error::Decode {
            status: None,
            request_id: None,
            message: format!("cannot encode a frame: {error}"),
        })
    })?;
    socket
        .send(WsMessage::text(text))
        .await
        .map_err(|error| Ended::Lost(Error::transport("a write failed", error)))
}

/// A close frame's code and reason; a close without a code is a drop.
fn server_close(frame: Option<CloseFrame>) -> Ended {
    match frame {
        Some(frame) => Ended::Server {
            code: CloseCode::from_code(u16::from(frame.code)),
            reason: frame.reason.to_string(),
        },
        None => Ended::Lost(Error::Transport {
            message: "closed without a code".into(),
            source: None,
        }),
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

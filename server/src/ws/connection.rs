//! One WebSocket connection: a single task owns the socket.
//!
//! The task waits on whichever comes first: a client frame, an item of the
//! hub's outbound queue, the heartbeat tick, the token's expiry, or the kill
//! switch. Doing everything in one task keeps per-connection memory small
//! and makes ordering simple: a subscribe's replay is written before any
//! live message queued meanwhile, which is then de-duplicated by `seq`.
//!
//! Frames are written to the socket's buffer and flushed once per turn of
//! the loop, after a burst of queued items or ready acks: under load one
//! write carries many frames instead of one system call each.

use std::collections::{HashMap, VecDeque};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket};
use byrd_spec::claims::Claims;
use byrd_spec::error::ErrorCode;
use byrd_spec::message::{Author, PartyType};
use byrd_spec::ws::{
    ClientFrame, CloseCode, ConnectionLimits, PresenceStatus, Principal, ServerFrame,
};
use chrono::{DateTime, Utc};
use futures_util::{FutureExt, SinkExt};
use tokio::time::{Instant, MissedTickBehavior};
use uuid::Uuid;

use super::commands;
use crate::configuration::WsSettings;
use crate::error::ApiError;
use crate::hub::{
    CloseReason, ConnectionId, Credentials, KillSwitch, Outbound, Registration, Revocation,
};
use crate::messaging::author_of;
use crate::outbox::OutboxReceiver;
use crate::state::AppState;
use crate::store::{AppendTicket, Appended, MessageRange, StoreError};

/// How long a closing connection waits for the client's close frame.
const CLOSE_GRACE: Duration = Duration::from_secs(2);
/// Longest `ref` (or `client_msg_id`) echoed, and longest unknown frame
/// type named, in an `error`: a client cannot make the server repeat a
/// large payload back.
pub(super) const MAX_ECHO_CHARS: usize = 64;

/// Counts frames refused for rate; more than `max_violations` within
/// `violation_window` (settings) closes the connection with 1008, so a
/// client that ignores `rate_limited` does not keep the server answering
/// it.
#[derive(Debug)]
struct Violations {
    window_start: Instant,
    count: u32,
}

impl Violations {
    fn new() -> Self {
        Violations {
            window_start: Instant::now(),
            count: 0,
        }
    }

    /// Counts one violation at `now`; true when it is one too many.
    fn count(&mut self, now: Instant, ws: &WsSettings) -> bool {
        if now.duration_since(self.window_start) > ws.violation_window.get() {
            self.window_start = now;
            self.count = 0;
        }
        self.count = self.count.saturating_add(1);
        self.count > ws.max_violations
    }
}

/// Most outbound items written in one turn of the loop before flushing:
/// enough to share a write among a commit's messages, few enough that the
/// other branches are not kept waiting.
const OUTBOUND_BURST: usize = 64;

/// A `send` queued to the store, waiting for its commit.
pub(super) struct PendingAck {
    pub client_msg_id: String,
    /// What an `error` answering it echoes.
    pub reference: Option<String>,
    pub answer: AppendTicket,
}

/// Delivery state of one subscribed chat.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Subscription {
    /// Highest `seq` delivered on this connection; `None` while a guest's
    /// connect-time subscription has delivered nothing yet.
    pub delivered: Option<i64>,
}

/// Why the loop stopped.
pub(super) enum Exit {
    /// The client closed or vanished; nothing more to send.
    Gone,
    /// The server closes with this code and reason.
    Close(CloseCode),
}

pub(super) struct Connection {
    pub state: AppState,
    pub id: ConnectionId,
    socket: WebSocket,
    /// The current token's claims; replaced by `refresh_token`.
    pub claims: Claims,
    pub token_expires_at: DateTime<Utc>,
    /// Whether `token_expiring` was sent for the current token.
    expiry_warned: bool,
    pub subscriptions: HashMap<Uuid, Subscription>,
    /// Sends queued to the store, oldest first; the writer answers in the
    /// order they were queued, so acks go out in that order too.
    pub pending: VecDeque<PendingAck>,
    /// Bounds what one client can make the server do (store messages,
    /// fan out typing) however fast it writes.
    frame_limiter: governor::DefaultDirectRateLimiter,
    /// Frames refused for rate in the current window.
    violations: Violations,
    /// The hub's order to close; also cuts short a write the peer blocks.
    pub kill: Arc<KillSwitch>,
    /// What the hub queued for this connection: live messages and events.
    pub outbox: OutboxReceiver,
    /// A close decided inside a command, which can only answer that the
    /// connection is done; the loop closes with it.
    pub close_with: Option<CloseCode>,
    /// Frames were written to the socket's buffer since the last flush.
    unflushed: bool,
    /// A guest's display name, read from its chat on first need: tokens
    /// do not carry it, and `typing` and `read` must name the guest as
    /// its messages do. `None` until read.
    guest_name: Option<Option<String>>,
}

/// `exp` (seconds) as a time; out-of-range values count as already expired.
pub(super) fn expiry_of(claims: &Claims) -> DateTime<Utc> {
    DateTime::from_timestamp(claims.exp(), 0).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

fn deadline(at: DateTime<Utc>) -> Instant {
    let from_now = (at - Utc::now()).to_std().unwrap_or(Duration::ZERO);
    Instant::now() + from_now
}

/// Client frames a connection may send at once: twice its per-second rate.
fn frame_burst(per_second: u32) -> NonZeroU32 {
    let rate = NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN);
    rate.saturating_mul(NonZeroU32::new(2).unwrap_or(NonZeroU32::MIN))
}

fn frame_limiter(per_second: u32) -> governor::DefaultDirectRateLimiter {
    let rate = NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN);
    let quota = governor::Quota::per_second(rate).allow_burst(frame_burst(per_second));
    governor::RateLimiter::direct(quota)
}

/// The limits `hello` announces: the ones this connection is held to.
fn connection_limits(ws: &WsSettings) -> ConnectionLimits {
    ConnectionLimits {
        frames_per_second: ws.frames_per_second.max(1),
        frame_burst: frame_burst(ws.frames_per_second).get(),
        max_frame_bytes: ws.max_frame_bytes as u64,
        max_message_chars: ws.max_body_chars as u64,
        replay_cap: ws.replay_cap,
    }
}

pub(super) fn principal_of(claims: &Claims) -> Principal {
    match claims {
        Claims::Agent(c) => Principal {
            kind: PartyType::Agent,
            id: c.sub,
        },
        Claims::Guest(c) => Principal {
            kind: PartyType::Guest,
            id: c.sub,
        },
    }
}

impl Connection {
    pub async fn run(
        state: AppState,
        socket: WebSocket,
        claims: Claims,
        guest_after_seq: Option<i64>,
    ) {
        let principal = principal_of(&claims);
        let credentials = match &claims {
            Claims::Agent(agent) => Credentials {
                jti: agent.jti.clone(),
                session: agent.sid,
            },
            Claims::Guest(guest) => Credentials {
                jti: guest.jti.clone(),
                session: None,
            },
        };
        let Registration {
            id,
            queue,
            kill,
            online_agents,
            membership,
        } = state
            .hub
            .register(principal.kind, principal.id, &credentials);
        let mut connection = Connection {
            token_expires_at: expiry_of(&claims),
            state: state.clone(),
            id,
            socket,
            claims,
            expiry_warned: false,
            subscriptions: HashMap::new(),
            pending: VecDeque::new(),
            frame_limiter: frame_limiter(state.settings.ws.frames_per_second),
            violations: Violations::new(),
            kill: kill.clone(),
            outbox: queue,
            close_with: None,
            unflushed: false,
            guest_name: None,
        };
        tracing::debug!(connection_id = %id, kind = principal.kind.as_str(), "websocket connected");
        let exit =
            Box::pin(connection.serve(principal, online_agents, guest_after_seq, &kill)).await;
        let exit = match (exit, kill.reason()) {
            // A write given up because the hub said close (a slow consumer
            // blocking its socket) still closes with the hub's code.
            (Exit::Gone, Some(reason)) => Exit::from(reason),
            (exit, _) => exit,
        };
        drop(membership);
        if let Exit::Close(code) = exit {
            Box::pin(connection.close(code)).await;
        }
        tracing::debug!(connection_id = %id, "websocket closed");
    }

    async fn serve(
        &mut self,
        principal: Principal,
        online_agents: Vec<Uuid>,
        guest_after_seq: Option<i64>,
        kill: &crate::hub::KillSwitch,
    ) -> Exit {
        let heartbeat_every = self.state.settings.ws.heartbeat_interval.get();
        if !Box::pin(self.greet(principal, online_agents, guest_after_seq)).await {
            return self.stopped();
        }

        let mut heartbeat =
            tokio::time::interval_at(Instant::now() + heartbeat_every, heartbeat_every);
        heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut last_heard = Instant::now();
        let max_in_flight = self.state.settings.ws.max_sends_in_flight.get();
        loop {
            // Whatever the last turn (or the greeting) wrote goes out now,
            // before waiting for anything.
            if !Box::pin(self.flush()).await {
                return Exit::Gone;
            }
            let warn_at = deadline(self.expiry_warning_at());
            // The handshake admits a token until `exp` plus the clock
            // leeway; the live socket keeps the same rule.
            let leeway = chrono::Duration::from_std(self.state.settings.jwt.leeway.get())
                .unwrap_or_default();
            let expire_at = deadline(self.token_expires_at + leeway);
            tokio::select! {
                reason = kill.triggered() => return Exit::from(reason),
                answer = first_answer(&mut self.pending) => {
                    if !Box::pin(self.answer_sends(answer)).await {
                        return Exit::Gone;
                    }
                }
                incoming = self.socket.recv(), if self.pending.len() < max_in_flight => {
                    last_heard = Instant::now();
                    match incoming {
                        None => return Exit::Gone,
                        Some(Err(error)) => return read_failure(error),
                        Some(Ok(WsMessage::Text(text))) => {
                            // Boxed, like every branch's work: the idle
                            // connection's future keeps only the waits.
                            if let Err(exit) = Box::pin(self.handle_text(text.as_str())).await {
                                return exit;
                            }
                        }
                        Some(Ok(WsMessage::Binary(_))) => {
                            let refusal = ApiError::new(ErrorCode::InvalidJson, "Frames must be JSON text frames.");
                            if !self.send_frame(&refusal.into_ws_frame(None)).await {
                                return Exit::Gone;
                            }
                        }
                        Some(Ok(WsMessage::Close(_))) => return Exit::Gone,
                        // Pings are answered by the WebSocket layer; pongs
                        // only matter as signs of life.
                        Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_))) => {}
                    }
                }
                item = self.outbox.recv() => {
                    if let Err(exit) = Box::pin(self.handle_outbound_burst(item)).await {
                        return exit;
                    }
                }
                _ = heartbeat.tick() => {
                    if last_heard.elapsed() >= heartbeat_every * 2 {
                        let code = CloseCode::HeartbeatTimeout;
                        return Exit::Close(code);
                    }
                    if !Box::pin(self.send(WsMessage::Ping(Default::default()))).await {
                        return Exit::Gone;
                    }
                }
                () = tokio::time::sleep_until(warn_at), if !self.expiry_warned => {
                    self.expiry_warned = true;
                    let warning = ServerFrame::TokenExpiring { expires_at: self.token_expires_at };
                    if !Box::pin(self.send_frame(&warning)).await {
                        return Exit::Gone;
                    }
                }
                () = tokio::time::sleep_until(expire_at) => {
                    let code = CloseCode::TokenExpired;
                    return Exit::Close(code);
                }
            }
        }
    }

    /// Records why a command ends the connection, which it then answers
    /// with `false`.
    pub(super) fn stop(&mut self, exit: Exit) {
        if let Exit::Close(code) = exit {
            self.close_with = Some(code);
        }
    }

    /// How the loop ends once a step answered that the connection is done:
    /// with the close a command decided on, or because the peer is gone.
    fn stopped(&mut self) -> Exit {
        match self.close_with.take() {
            Some(code) => Exit::Close(code),
            None => Exit::Gone,
        }
    }

    /// Sends the close frame and waits a little for the client's.
    async fn close(&mut self, code: CloseCode) {
        // Best effort: a peer that stopped reading will not get it.
        let frame = CloseFrame {
            code: code.code(),
            reason: code.reason().into(),
        };
        let _ = tokio::time::timeout(
            self.state.settings.ws.write_timeout,
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

    /// `hello`, the agents already online, and a guest's chat (replayed
    /// when its URL asked). False when the socket is gone.
    async fn greet(
        &mut self,
        principal: Principal,
        online_agents: Vec<Uuid>,
        guest_after_seq: Option<i64>,
    ) -> bool {
        let heartbeat_every = self.state.settings.ws.heartbeat_interval.get();
        let hello = ServerFrame::Hello {
            protocol_version: byrd_spec::PROTOCOL_VERSION.into(),
            connection_id: self.id,
            principal,
            heartbeat_interval_ms: heartbeat_every.as_millis() as u64,
            token_expires_at: self.token_expires_at,
            limits: connection_limits(&self.state.settings.ws),
        };
        if !self.send_frame(&hello).await {
            return false;
        }
        for agent_id in online_agents {
            let presence = ServerFrame::Presence {
                agent_id,
                status: PresenceStatus::Online,
            };
            if !self.send_frame(&presence).await {
                return false;
            }
        }
        if let Claims::Guest(guest) = &self.claims {
            // A guest is in its chat at once, from the claim alone; this
            // subscription is live-only until the client sends `subscribe`
            // (or asked for a replay with `after_seq` in the URL).
            let chat_id = guest.chat.id;
            // Where the hub's position for the chat starts if this is its
            // first subscriber here; unknown when the database fails.
            let last_seq = self.state.store.chat_last_seq(chat_id).await.ok().flatten();
            self.state.hub.subscribe(self.id, chat_id, last_seq);
            self.subscriptions.insert(chat_id, Subscription::default());
            if let Some(after_seq) = guest_after_seq {
                let replay = ClientFrame::Subscribe(byrd_spec::ws::SubscribeFrame {
                    chat_id,
                    after_seq,
                    reference: None,
                });
                let alive = match commands::apply(self, replay).await {
                    Ok(alive) => alive,
                    Err(error) => self.send_frame(&error.into_ws_frame(None)).await,
                };
                if !alive {
                    return false;
                }
            }
        }
        true
    }

    /// Answers the oldest pending send with `answer`, then every other
    /// whose commit is already decided.
    async fn answer_sends(&mut self, answer: Result<Appended, StoreError>) -> bool {
        if !self.answer_send(answer).await {
            return false;
        }
        while let Some(answer) = self
            .pending
            .front_mut()
            .and_then(|first| (&mut first.answer).now_or_never())
        {
            if !self.answer_send(answer).await {
                return false;
            }
        }
        true
    }

    /// Acks the oldest pending send, or answers it with its error.
    async fn answer_send(&mut self, answer: Result<Appended, StoreError>) -> bool {
        let Some(pending) = self.pending.pop_front() else {
            return true;
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
                self.send_frame(&ack).await
            }
            Err(error) => {
                let error = ApiError::from(error).into_ws_frame(pending.reference);
                self.send_frame(&error).await
            }
        }
    }

    /// Parses and runs one client frame. False when the socket is gone.
    ///
    /// Answers go out in the order of the frames they answer: a frame that
    /// is not a `send` waits for the acks of the sends before it, so a
    /// client can use `ping` as a barrier.
    async fn handle_text(&mut self, text: &str) -> Result<(), Exit> {
        // Charged before parsing: a flood costs the server no JSON work.
        if self.frame_limiter.check().is_err() {
            if self
                .violations
                .count(Instant::now(), &self.state.settings.ws)
            {
                return Err(Exit::Close(CloseCode::PolicyViolation));
            }
            let refusal = ApiError::new(
                ErrorCode::RateLimited,
                "Too many frames; this one was not processed.",
            );
            return self.answer(refusal.into_ws_frame(None)).await;
        }
        let (frame, reference) = match parse_frame(text) {
            Ok(parsed) => parsed,
            Err((error, reference)) => return self.answer(error.into_ws_frame(reference)).await,
        };
        let is_send = matches!(frame, ClientFrame::Send(_));
        if !is_send {
            self.drain_pending().await?;
        }
        match commands::apply(self, frame).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(self.stopped()),
            Err(error) => self.answer(error.into_ws_frame(reference)).await,
        }
    }

    /// Sends `frame` after the acks of every send before it.
    async fn answer(&mut self, frame: ServerFrame) -> Result<(), Exit> {
        self.drain_pending().await?;
        if self.send_frame(&frame).await {
            Ok(())
        } else {
            Err(Exit::Gone)
        }
    }

    /// Waits for every pending send and answers each, in order.
    async fn drain_pending(&mut self) -> Result<(), Exit> {
        while let Some(first) = self.pending.front_mut() {
            let answer = match (&mut first.answer).now_or_never() {
                Some(answer) => answer,
                None => {
                    // Nothing written waits for the commit.
                    if !self.flush().await {
                        return Err(Exit::Gone);
                    }
                    match self.pending.front_mut() {
                        Some(first) => (&mut first.answer).await,
                        None => break,
                    }
                }
            };
            if !self.answer_send(answer).await {
                return Err(Exit::Gone);
            }
        }
        Ok(())
    }

    /// Writes `first` and up to [`OUTBOUND_BURST`] more items already
    /// queued, unflushed. `Err` closes the connection.
    async fn handle_outbound_burst(&mut self, first: Outbound) -> Result<(), Exit> {
        if !self.handle_outbound(first).await? {
            return Err(Exit::Gone);
        }
        for _ in 0..OUTBOUND_BURST {
            let Some(item) = self.outbox.try_recv() else {
                break;
            };
            if !self.handle_outbound(item).await? {
                return Err(Exit::Gone);
            }
        }
        Ok(())
    }

    /// Sends one hub item. `Err` closes the connection with that code.
    pub(super) async fn handle_outbound(&mut self, item: Outbound) -> Result<bool, Exit> {
        match item {
            Outbound::Frame(frame) => Ok(self.send(WsMessage::Text(frame.as_ref().into())).await),
            Outbound::ChatMessage(message) => {
                self.deliver_message(message.chat_id, message.seq, &message.frame)
                    .await
            }
            Outbound::Revoked(revocation) => {
                let Revocation { jti, session } = revocation.as_ref();
                let ours = match &self.claims {
                    Claims::Agent(agent) => {
                        jti.as_deref() == Some(agent.jti.as_str())
                            || (session.is_some() && agent.sid == *session)
                    }
                    Claims::Guest(guest) => jti.as_deref() == Some(guest.jti.as_str()),
                };
                if ours {
                    let code = CloseCode::TokenRevoked;
                    Err(Exit::Close(code))
                } else {
                    Ok(true)
                }
            }
        }
    }

    /// Delivers a live message in `seq` order: drops what was already
    /// delivered, and fills a gap from the store first. Seqs commit in
    /// order, so a gap below a live message is always readable.
    ///
    /// When the gap cannot be read, the connection closes (1011
    /// `resume_required`) rather than deliver past a silent hole: the
    /// client reconnects and resumes from the last `seq` it has.
    async fn deliver_message(
        &mut self,
        chat_id: Uuid,
        seq: i64,
        frame: &str,
    ) -> Result<bool, Exit> {
        let Some(subscription) = self.subscriptions.get(&chat_id).copied() else {
            // Unsubscribed after the hub queued it.
            return Ok(true);
        };
        if let Some(delivered) = subscription.delivered {
            if seq <= delivered {
                return Ok(true);
            }
            if seq > delivered + 1 && !self.replay(chat_id, delivered, seq).await? {
                return Ok(false);
            }
        }
        if !self.send(WsMessage::Text(frame.into())).await {
            return Ok(false);
        }
        self.set_delivered(chat_id, seq);
        Ok(true)
    }

    /// Sends the stored messages with `after < seq < before`.
    async fn replay(&mut self, chat_id: Uuid, after: i64, before: i64) -> Result<bool, Exit> {
        let range = MessageRange {
            after_seq: Some(after),
            before_seq: Some(before),
            limit: u32::try_from(before - after).unwrap_or(u32::MAX),
        };
        match self.state.store.list_messages(chat_id, range).await {
            Ok((messages, _)) => Ok(self.send_messages(chat_id, messages).await),
            Err(error) => {
                tracing::warn!(%chat_id, after, before, error = %error, "cannot fill a gap; closing so the client resumes");
                Err(Exit::Close(CloseCode::ResumeRequired))
            }
        }
    }

    /// Sends stored messages of `chat_id` as `message` frames, in order.
    pub async fn send_messages(
        &mut self,
        chat_id: Uuid,
        messages: Vec<byrd_spec::message::Message>,
    ) -> bool {
        for message in messages {
            let seq = message.seq;
            if !self.send_frame(&ServerFrame::Message { message }).await {
                return false;
            }
            self.set_delivered(chat_id, seq);
        }
        true
    }

    /// Who this connection's `typing` and `read` events come from, named
    /// like the author of its messages.
    pub async fn author(&mut self) -> Result<Author, ApiError> {
        let mut author = author_of(&self.claims);
        if let Claims::Guest(guest) = &self.claims {
            if self.guest_name.is_none() {
                let chat = self.state.store.chat_by_id(guest.chat.id).await?;
                self.guest_name = Some(chat.and_then(|chat| chat.visitor.name));
            }
            author.name = self.guest_name.clone().flatten();
        }
        Ok(author)
    }

    /// When to send `token_expiring`: the configured time before `exp`,
    /// but not before half the token's life, so that a short-lived token is
    /// not announced as expiring (and refreshed) the moment it arrives.
    fn expiry_warning_at(&self) -> DateTime<Utc> {
        let warning = chrono::Duration::from_std(self.state.settings.ws.token_expiry_warning)
            .unwrap_or_default();
        let half_life =
            chrono::Duration::seconds((self.claims.exp() - self.claims.iat()).max(0) / 2);
        self.token_expires_at - warning.min(half_life)
    }

    pub fn reset_expiry_warning(&mut self) {
        self.expiry_warned = false;
    }

    pub fn set_delivered(&mut self, chat_id: Uuid, seq: i64) {
        if let Some(subscription) = self.subscriptions.get_mut(&chat_id) {
            subscription.delivered = Some(subscription.delivered.map_or(seq, |d| d.max(seq)));
        }
    }

    /// Renders and sends a frame. False when the socket is gone.
    pub async fn send_frame(&mut self, frame: &ServerFrame) -> bool {
        match serde_json::to_string(frame) {
            Ok(text) => self.send(WsMessage::Text(text.into())).await,
            Err(error) => {
                tracing::error!(%error, "cannot render a frame");
                true
            }
        }
    }

    /// Writes to the socket's buffer, which goes out when it fills or at
    /// the next [`flush`](Self::flush). False when the socket is gone.
    async fn send(&mut self, message: WsMessage) -> bool {
        self.unflushed = true;
        let write = tokio::time::timeout(
            self.state.settings.ws.write_timeout,
            self.socket.feed(message),
        );
        tokio::select! {
            written = write => matches!(written, Ok(Ok(()))),
            _ = self.kill.triggered() => false,
        }
    }

    /// Writes out what [`send`](Self::send) buffered, giving up on a
    /// client that does not read. False when the socket is gone.
    ///
    /// The hub's order to close cuts a blocked write short: a slow
    /// consumer's 4008 must not wait for `write_timeout`.
    pub(super) async fn flush(&mut self) -> bool {
        if !self.unflushed {
            return true;
        }
        self.unflushed = false;
        let write = tokio::time::timeout(self.state.settings.ws.write_timeout, self.socket.flush());
        tokio::select! {
            written = write => matches!(written, Ok(Ok(()))),
            _ = self.kill.triggered() => false,
        }
    }
}

impl From<CloseReason> for Exit {
    fn from(reason: CloseReason) -> Self {
        match reason {
            CloseReason::GoingAway => Exit::Close(CloseCode::GoingAway),
            CloseReason::Protocol(code) => Exit::Close(code),
        }
    }
}

/// The answer to the oldest pending send; never resolves while none is.
async fn first_answer(pending: &mut VecDeque<PendingAck>) -> Result<Appended, StoreError> {
    match pending.front_mut() {
        Some(first) => (&mut first.answer).await,
        None => std::future::pending().await,
    }
}

/// Maps a read error to how the connection ends: a frame over the size
/// limit closes with 1009, anything else means the peer is gone.
fn read_failure(error: axum::Error) -> Exit {
    match error.into_inner().downcast::<tungstenite::Error>() {
        Ok(error) if matches!(*error, tungstenite::Error::Capacity(_)) => {
            Exit::Close(CloseCode::MessageTooBig)
        }
        _ => Exit::Gone,
    }
}

/// At most `max` characters of `text`.
pub(super) fn truncated(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

/// Parses a text frame into a client frame, or the error to answer with
/// and the `ref` (or `client_msg_id`) to echo.
fn parse_frame(text: &str) -> Result<(ClientFrame, Option<String>), (ApiError, Option<String>)> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|_| {
        (
            ApiError::new(ErrorCode::InvalidJson, "The frame is not valid JSON."),
            None,
        )
    })?;
    let reference = ["ref", "client_msg_id"]
        .iter()
        .find_map(|key| value.get(key).and_then(|v| v.as_str()))
        .map(|echo| truncated(echo, MAX_ECHO_CHARS).to_owned());
    let Some(kind) = value.get("type").and_then(|t| t.as_str()) else {
        return Err((
            ApiError::new(
                ErrorCode::InvalidFrame,
                "A frame is a JSON object with a string `type`.",
            ),
            reference,
        ));
    };
    if !ClientFrame::TYPES.contains(&kind) {
        let message = format!("Unknown frame type {:?}.", truncated(kind, MAX_ECHO_CHARS));
        return Err((
            ApiError::new(ErrorCode::UnknownFrameType, message),
            reference,
        ));
    }
    match serde_json::from_value::<ClientFrame>(value) {
        Ok(frame) => Ok((frame, reference)),
        Err(error) => Err((
            ApiError::new(ErrorCode::InvalidFrame, error.to_string()),
            reference,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_errors_have_distinct_codes_and_echo_the_reference() {
        let code = |text: &str| parse_frame(text).err().map(|(e, r)| (e.code(), r));
        assert_eq!(code("{"), Some((ErrorCode::InvalidJson, None)));
        assert_eq!(code("[1]"), Some((ErrorCode::InvalidFrame, None)));
        assert_eq!(
            code(r#"{"type":"shout","ref":"r1"}"#),
            Some((ErrorCode::UnknownFrameType, Some("r1".into())))
        );
        assert_eq!(
            code(r#"{"type":"send","client_msg_id":"c1"}"#),
            Some((ErrorCode::InvalidFrame, Some("c1".into())))
        );
        assert!(parse_frame(r#"{"type":"ping"}"#).is_ok());
    }
}

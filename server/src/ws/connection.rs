//! One WebSocket connection: a single task owns the socket.
//!
//! The task waits on whichever comes first: a client frame, the answer to
//! a pending send, an item of the hub's outbound queue, the heartbeat
//! tick, the token's warning or expiry, or the kill switch. Doing
//! everything in one task keeps per-connection memory small and makes
//! ordering simple: a subscribe's replay is written before any live
//! message queued meanwhile, which is then de-duplicated by `seq`.
//!
//! This file is the loop and nothing else: each branch's work lives with
//! what it is about (`parse`, `limits`, `pending`, `delivery`, `token`,
//! `commands`), and every step answers `Result<(), Exit>`, so the loop is
//! the one place a connection stops.

use std::collections::HashMap;

use axum::extract::ws::{Message as WsMessage, Utf8Bytes, WebSocket};
use byrd_spec::claims::Claims;
use byrd_spec::error::ErrorCode;
use byrd_spec::ws::{ClientFrame, CloseCode, PresenceStatus, Principal, ServerFrame};
use futures_util::FutureExt;
use futures_util::future::join_all;
use tokio::time::{Instant, MissedTickBehavior};
use uuid::Uuid;

use super::commands;
use super::exit::{CommandError, Exit};
use super::limits::{FrameLimits, connection_limits};
use super::parse::parse_frame;
use super::read_ahead::{LOOK_AHEAD, ReadAhead, subscribe_of, subscribed_chat};
use super::replay::replay_page;
use super::session::{Session, Subscription, credentials_of, principal_of};
use super::socket::Socket;
use crate::error::ApiError;
use crate::hub::{KillSwitch, Outbound, Registration};
use crate::metrics::{CloseLabel, OpenConnection, ReceivedFrame, handles};
use crate::socket_caps::SocketSlot;
use crate::state::AppState;
use crate::store::MessagesAfter;

/// Most outbound items written in one turn of the loop before flushing:
/// enough to share a write among a commit's messages, few enough that the
/// other branches are not kept waiting.
const OUTBOUND_BURST: usize = 64;

pub(super) struct Connection {
    session: Session,
    socket: Socket,
    limits: FrameLimits,
}

impl Connection {
    /// Registers the connection and answers the future that serves it,
    /// holding `slot` (its place under the socket caps) until it ends.
    ///
    /// That future is an idle socket's task, so its size is a socket's
    /// cost. Hence not an `async fn`: everything is set up here, before
    /// the future exists, and the future holds the connection once; an
    /// `async fn` would also keep its arguments (the socket, the claims)
    /// in slots of their own for its whole life. The caller should spawn
    /// or hand on this future itself rather than `.await` it inside
    /// another `async` block, which would hold it twice (what it captured
    /// and what it awaits): together 2.5 KB a socket, against 1 KB.
    pub fn run(
        state: AppState,
        socket: WebSocket,
        claims: Claims,
        guest_after_seq: Option<i64>,
        slot: SocketSlot,
    ) -> impl Future<Output = ()> + Send + 'static {
        let principal = principal_of(&claims);
        // Counts this connection until it is dropped, however it ends.
        let _open = OpenConnection::new(principal.kind);
        let Registration {
            id,
            queue,
            kill,
            online_agents,
            membership,
        } = state
            .hub
            .register(principal.kind, principal.id, &credentials_of(&claims));
        let ws = &state.settings.ws;
        let mut connection = Connection {
            socket: Socket::new(socket, kill.clone(), ws.write_timeout),
            limits: FrameLimits::new(ws),
            session: Session::new(state.clone(), id, claims, queue),
        };
        tracing::debug!(connection_id = %id, kind = principal.kind.as_str(), "websocket connected");
        async move {
            let _open = _open;
            let exit =
                Box::pin(connection.serve(principal, online_agents, guest_after_seq, &kill)).await;
            let exit = match (exit, kill.reason()) {
                // A write given up because the hub said close (a slow
                // consumer blocking its socket) still closes with the
                // hub's code.
                (Err(Exit::Gone), Some(reason)) => Exit::from(reason),
                (Err(exit), _) => exit,
                (Ok(never), _) => match never {},
            };
            drop(membership);
            // A client's close was counted with its code when it arrived.
            match exit {
                Exit::Close(code) => {
                    handles().closed(CloseLabel(code.code()));
                    Box::pin(connection.socket.close(code)).await;
                }
                Exit::ClosedByClient => Box::pin(connection.socket.answer_close()).await,
                Exit::Gone => handles().closed(CloseLabel::ABNORMAL),
            }
            tracing::debug!(connection_id = %id, exit = ?exit, "websocket closed");
            drop(slot);
        }
    }

    /// Greets, then serves until the connection ends.
    async fn serve(
        &mut self,
        principal: Principal,
        online_agents: Vec<Uuid>,
        guest_after_seq: Option<i64>,
        kill: &KillSwitch,
    ) -> Result<std::convert::Infallible, Exit> {
        let (heartbeat_every, max_in_flight) = {
            let ws = &self.session.state.settings.ws;
            (ws.heartbeat_interval.get(), ws.max_sends_in_flight.get())
        };
        Box::pin(self.greet(principal, online_agents, guest_after_seq)).await?;

        let mut heartbeat =
            tokio::time::interval_at(Instant::now() + heartbeat_every, heartbeat_every);
        heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut last_heard = Instant::now();
        loop {
            // Whatever the last turn (or the greeting) wrote goes out now,
            // before waiting for anything.
            Box::pin(self.socket.flush()).await?;
            // In a block: the borrows must not live across the wait.
            let (warn_at, expire_at, warned) = {
                let Session {
                    token,
                    claims,
                    state,
                    ..
                } = &self.session;
                let settings = &state.settings;
                (
                    token.warn_at(claims, settings),
                    token.expire_at(settings),
                    token.warned,
                )
            };
            // Each branch's work is boxed: the idle connection's future
            // keeps only the waits.
            tokio::select! {
                reason = kill.triggered() => return Err(Exit::from(reason)),
                answer = self.session.pending.first_answer() => {
                    Box::pin(self.session.pending.answer_ready(&mut self.socket, answer)).await?;
                }
                incoming = self.socket.recv(), if self.session.pending.len() < max_in_flight => {
                    last_heard = Instant::now();
                    Box::pin(self.on_incoming(incoming)).await?;
                }
                item = self.session.queue.recv() => {
                    Box::pin(self.on_outbound_burst(item)).await?;
                }
                _ = heartbeat.tick() => {
                    if last_heard.elapsed() >= heartbeat_every * 2 {
                        return Err(Exit::Close(CloseCode::HeartbeatTimeout));
                    }
                    Box::pin(self.socket.ping()).await?;
                }
                () = tokio::time::sleep_until(warn_at), if !warned => {
                    let warning = self.session.token.warning();
                    Box::pin(self.socket.send_frame(&warning)).await?;
                }
                () = tokio::time::sleep_until(expire_at) => {
                    return Err(Exit::Close(CloseCode::TokenExpired));
                }
            }
        }
    }

    /// `hello`, the agents already online, and a guest's chat (replayed
    /// when its URL asked).
    async fn greet(
        &mut self,
        principal: Principal,
        online_agents: Vec<Uuid>,
        guest_after_seq: Option<i64>,
    ) -> Result<(), Exit> {
        let ws = &self.session.state.settings.ws;
        let hello = ServerFrame::Hello {
            protocol_version: byrd_spec::PROTOCOL_VERSION.into(),
            connection_id: self.session.id,
            principal,
            heartbeat_interval_ms: ws.heartbeat_interval.get().as_millis() as u64,
            token_expires_at: self.session.token.expires_at,
            limits: connection_limits(ws),
        };
        self.socket.send_frame(&hello).await?;
        for agent_id in online_agents {
            let presence = ServerFrame::Presence {
                agent_id,
                status: PresenceStatus::Online,
            };
            self.socket.send_frame(&presence).await?;
        }
        let Claims::Guest(guest) = &self.session.claims else {
            return Ok(());
        };
        // A guest is in its chat at once, from the claim alone. Asked for a
        // replay with `after_seq` in the URL, it joins as `subscribe`
        // would; otherwise, or when that is refused, the subscription is
        // live-only until the client sends `subscribe`.
        let chat_id = guest.chat.id;
        if let Some(after_seq) = guest_after_seq {
            let replay = ClientFrame::Subscribe(byrd_spec::ws::SubscribeFrame {
                chat_id,
                after_seq,
                reference: None,
            });
            match commands::apply(&mut self.session, &mut self.socket, replay).await {
                Ok(()) => return Ok(()),
                Err(CommandError::Refuse(error)) => {
                    self.socket.send_frame(&error.into_ws_frame(None)).await?;
                }
                Err(CommandError::End(exit)) => return Err(exit),
            }
        }
        let session = &mut self.session;
        if session.subscriptions.contains_key(&chat_id) {
            return Ok(());
        }
        // Where the hub's position for the chat starts if this is its
        // first subscriber here; unknown when the database fails.
        let (mark, read) = session.chat_position(chat_id, 0).await;
        let last_seq = read.ok().flatten();
        session
            .state
            .hub
            .subscribe(session.id, chat_id, last_seq, mark);
        session
            .subscriptions
            .insert(chat_id, Subscription::default());
        Ok(())
    }

    /// What the client sent, or how its side ended.
    async fn on_incoming(
        &mut self,
        incoming: Option<Result<WsMessage, axum::Error>>,
    ) -> Result<(), Exit> {
        match incoming {
            None => Err(Exit::Gone),
            Some(Err(error)) => Err(read_failure(error)),
            Some(Ok(WsMessage::Text(text))) => {
                if matches!(self.session.claims, Claims::Agent(_))
                    && subscribed_chat(text.as_str()).is_some()
                {
                    return Box::pin(self.on_subscribes(text)).await;
                }
                self.on_text(text.as_str()).await
            }
            Some(Ok(WsMessage::Binary(_))) => {
                handles().frame_received(ReceivedFrame::Invalid);
                let refusal =
                    ApiError::new(ErrorCode::InvalidJson, "Frames must be JSON text frames.");
                self.socket.send_frame(&refusal.into_ws_frame(None)).await
            }
            Some(Ok(WsMessage::Close(frame))) => {
                let code = frame.map_or(CloseLabel::NO_STATUS, |frame| CloseLabel(frame.code));
                handles().closed(code);
                Err(Exit::ClosedByClient)
            }
            // Pings are answered by the WebSocket layer; pongs only matter
            // as signs of life.
            Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_))) => Ok(()),
        }
    }

    /// Runs an agent's `subscribe` and the frames already received behind
    /// it, having read their chats' positions together (see `read_ahead`).
    async fn on_subscribes(&mut self, first: Utf8Bytes) -> Result<(), Exit> {
        let mut texts = vec![first];
        let mut after = None;
        while texts.len() < LOOK_AHEAD {
            match self.socket.recv().now_or_never() {
                Some(Some(Ok(WsMessage::Text(text)))) => {
                    let more = subscribed_chat(text.as_str()).is_some();
                    texts.push(text);
                    if !more {
                        break;
                    }
                }
                Some(other) => {
                    after = Some(other);
                    break;
                }
                None => break,
            }
        }
        let subscribes: HashMap<Uuid, i64> = texts
            .iter()
            .filter_map(|text| subscribe_of(text.as_str()))
            .collect();
        if subscribes.len() > 1 {
            let ahead = read_ahead(&self.session.state, subscribes).await;
            self.session.read_ahead = Some(Box::new(ahead));
        }
        let mut ran = Ok(());
        for text in &texts {
            ran = self.on_text(text.as_str()).await;
            if ran.is_err() {
                break;
            }
        }
        self.session.read_ahead = None;
        ran?;
        match after {
            Some(incoming) => Box::pin(self.on_incoming(incoming)).await,
            None => Ok(()),
        }
    }

    /// Runs one text frame; a refusal is answered after the acks of every
    /// send before it, echoing the frame's `ref`.
    async fn on_text(&mut self, text: &str) -> Result<(), Exit> {
        let mut reference = None;
        match self.run_text(text, &mut reference).await {
            Ok(()) => Ok(()),
            Err(CommandError::End(exit)) => Err(exit),
            Err(CommandError::Refuse(error)) => {
                self.session.pending.drain(&mut self.socket).await?;
                let frame = error.into_ws_frame(reference);
                self.socket.send_frame(&frame).await
            }
        }
    }

    /// Charges, parses and runs a text frame, setting `reference` to the
    /// `ref` its answers echo once the frame is parsed.
    ///
    /// A frame that is not a `send` waits for the acks of the sends before
    /// it, so answers go out in the order of the frames they answer and a
    /// client can use `ping` as a barrier.
    async fn run_text(
        &mut self,
        text: &str,
        reference: &mut Option<String>,
    ) -> Result<(), CommandError> {
        // Charged before parsing: a flood costs the server no JSON work.
        self.limits.admit(&self.session.state.settings.ws)?;
        let frame = match parse_frame(text) {
            Ok((frame, echo)) => {
                *reference = echo;
                frame
            }
            Err((error, echo)) => {
                *reference = echo;
                return Err(error.into());
            }
        };
        if !matches!(frame, ClientFrame::Send(_)) {
            self.session.pending.drain(&mut self.socket).await?;
        }
        commands::apply(&mut self.session, &mut self.socket, frame).await
    }

    /// Writes `first` and up to [`OUTBOUND_BURST`] more items already
    /// queued, unflushed.
    async fn on_outbound_burst(&mut self, first: Outbound) -> Result<(), Exit> {
        self.session.deliver(&mut self.socket, first).await?;
        for _ in 0..OUTBOUND_BURST {
            let Some(item) = self.session.queue.try_recv() else {
                break;
            };
            self.session.deliver(&mut self.socket, item).await?;
        }
        Ok(())
    }
}

/// Reads the positions of the chats in `subscribes` (chat, `after_seq`),
/// then the first page of every replay they ask for, each all at once.
async fn read_ahead(state: &AppState, subscribes: HashMap<Uuid, i64>) -> ReadAhead {
    let mark = state.hub.mark();
    let chats: Vec<Uuid> = subscribes.keys().copied().collect();
    let reads = chats.iter().map(|chat| state.store.chat_last_seq(*chat));
    let read = join_all(reads).await;
    let mut ahead = ReadAhead::new(mark, chats.into_iter().zip(read).collect());
    let cap = i64::from(state.settings.ws.replay_cap);
    let replays: Vec<(Uuid, MessagesAfter)> = subscribes
        .into_iter()
        .filter_map(|(chat, after)| {
            let last = ahead.last_seq(chat)?;
            let replays = after >= 0 && after < last && last - after <= cap;
            replays.then(|| (chat, replay_page(after, last)))
        })
        .collect();
    let pages = replays
        .iter()
        .map(|(chat, span)| state.store.messages_after(*chat, *span));
    for ((chat, span), page) in replays.iter().zip(join_all(pages).await) {
        if let Ok(page) = page {
            ahead.keep_page(*chat, span.after, page);
        }
    }
    ahead
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

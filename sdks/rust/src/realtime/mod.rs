//! The realtime client: the WebSocket `GET /v1/ws`, kept alive.
//!
//! [`Client::connect_realtime`] answers a [`Realtime`] handle and a stream
//! of [`Event`]s, and spawns the task that owns the connection. That task
//! is a state machine ([`ConnectionState`]): it connects, serves the
//! connection until it ends, reads the close code's action from the spec's
//! table ([`CloseCode::action`](crate::close_codes::CloseCode::action)),
//! and reconnects with exponential backoff and full jitter, refreshes
//! the token first, or stops with a typed error.
//!
//! The promises, shared with the TypeScript SDK (`sdks/README.md`):
//! - every stored message of a followed chat reaches the application
//!   exactly once, in `seq` order: the client remembers the last `seq`
//!   delivered per chat, resumes from it after every reconnect, pages
//!   over REST whatever the server could not replay, and drops duplicates;
//! - every [`Realtime::send`] settles exactly once: with the stored
//!   message from its `ack`, the server's error, or the final error; sends
//!   made while disconnected wait in a bounded queue, and unacked sends go
//!   again after a reconnect with the same `client_msg_id`;
//! - a `token_expiring` is answered with a fresh token on the live socket,
//!   and so is a token a REST call refreshed;
//! - silence for twice the heartbeat interval counts as a dead socket;
//! - every connect and reconnect opens with a fresh single-use ticket
//!   (unless [`RealtimeOptions::tickets`] is off), so the token is in no
//!   URL, and a failed ticket never puts it there (the table's
//!   `socket_auth`, carried out in `driver` and `opening`).
//!
//! The handle and the task share the send queue (so a full queue refuses
//! a send at once) and talk otherwise through a command channel, whose
//! typing and read frames are counted and bounded the same way.

mod backoff;
mod connection;
mod delivery;
mod driver;
mod events;
mod hello;
mod opening;
mod outbox;
mod pacer;
mod queue;
mod refusals;
mod socket;
mod state;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, watch};
use uuid::Uuid;

pub use backoff::Backoff;
pub use events::{Event, Events};
pub use outbox::PendingSend;
pub use pacer::{PACED_FRAMES, Pace};
pub use state::ConnectionState;

use self::delivery::Follows;
use self::driver::Driver;
use self::outbox::Outbox;
use self::refusals::{READ_REF, TYPING_REF};
use crate::Client;
use crate::error::{AuthErrorKind, Error};
use crate::generated::client_behaviour::{SEND_QUEUE, SOCKET_AUTH_DEFAULT, SocketAuth};
use crate::types::{ClientFrame, ClientRead, ClientTyping};

/// Options of the realtime client.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RealtimeOptions {
    /// Reconnect delays (default: the spec's client behaviour table, base
    /// 500 ms, floor 100 ms, cap 30 s, reset after 2 s up).
    pub backoff: Backoff,
    /// Most sends waiting for their `ack` at once (default 100); a send
    /// beyond it fails at once with [`Error::QueueFull`].
    pub send_queue: usize,
    /// Events buffered for the application (default 1024).
    pub event_buffer: usize,
    /// Where a guest's chat starts: messages with a greater `seq` are
    /// delivered (default 0: the whole chat).
    pub guest_after_seq: i64,
    /// A pace of frames lower than the server's (default none: the
    /// client writes as fast as `hello.limits` allows, and no faster).
    pub pace: Option<Pace>,
    /// Whether every connect and reconnect is opened by a fresh
    /// single-use ticket (`POST /v1/ws/tickets`; by default, as the spec's
    /// client behaviour table says) rather than by the token in an
    /// `Authorization` header. A server without tickets (404) is
    /// connected to with the token either way; a ticket request that
    /// fails otherwise fails the attempt, which the reconnect backoff
    /// spaces, and the token does not stand in.
    pub tickets: bool,
}

impl Default for RealtimeOptions {
    fn default() -> Self {
        RealtimeOptions {
            backoff: Backoff::default(),
            send_queue: SEND_QUEUE,
            event_buffer: 1024,
            guest_after_seq: 0,
            pace: None,
            tickets: SOCKET_AUTH_DEFAULT == SocketAuth::Ticket,
        }
    }
}

impl RealtimeOptions {
    /// Sets [`RealtimeOptions::backoff`].
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// Sets [`RealtimeOptions::tickets`].
    pub fn tickets(mut self, tickets: bool) -> Self {
        self.tickets = tickets;
        self
    }

    /// Sets [`RealtimeOptions::send_queue`].
    pub fn send_queue(mut self, capacity: usize) -> Self {
        self.send_queue = capacity;
        self
    }

    /// Sets [`RealtimeOptions::event_buffer`] (at least 1).
    pub fn event_buffer(mut self, capacity: usize) -> Self {
        self.event_buffer = capacity.max(1);
        self
    }

    /// Sets [`RealtimeOptions::pace`].
    pub fn pace(mut self, pace: Pace) -> Self {
        self.pace = Some(pace);
        self
    }

    /// Sets [`RealtimeOptions::guest_after_seq`].
    pub fn guest_after_seq(mut self, after_seq: i64) -> Self {
        self.guest_after_seq = after_seq;
        self
    }
}

/// What the handle asks of the task.
pub(crate) enum Command {
    /// New sends are in the outbox.
    Flush,
    Subscribe {
        chat_id: Uuid,
        after_seq: i64,
    },
    Unsubscribe {
        chat_id: Uuid,
    },
    /// Follow the queue (`subscribe_queue`).
    SubscribeQueue,
    /// Stop following the queue (`unsubscribe_queue`).
    UnsubscribeQueue,
    /// A frame sent if connected and dropped if not (typing, read marks).
    Frame(ClientFrame),
    Close,
}

/// What the handle and the task share.
pub(crate) struct Shared {
    /// Sends not yet settled; the handle pushes, the task writes and settles.
    outbox: Mutex<Outbox>,
    /// The current state, for [`Realtime::state`].
    state: watch::Sender<ConnectionState>,
    /// Typing and read frames the handle queued and the task has not yet
    /// taken: the task writes at the pace, so an application writing
    /// faster meets a refusal at [`PACED_FRAMES`] instead of a queue that
    /// grows without end.
    frames_waiting: AtomicUsize,
}

impl Shared {
    /// The task took a command off the queue.
    pub(crate) fn took(&self, command: &Command) {
        if matches!(command, Command::Frame(_)) {
            self.frames_waiting.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// The handle of a realtime connection; cheap to clone. Dropping every
/// clone closes the connection.
#[derive(Clone)]
pub struct Realtime {
    shared: Arc<Shared>,
    commands: mpsc::UnboundedSender<Command>,
}

impl Client {
    /// Connects the realtime client and answers its handle and events. A
    /// guest follows its chat from the start; an agent follows the chats
    /// it [`subscribe`](Realtime::subscribe)s to. Must be called within a
    /// tokio runtime: the connection runs on a task of its own.
    pub fn connect_realtime(&self, options: RealtimeOptions) -> Result<(Realtime, Events), Error> {
        let credential = self
            .credential
            .clone()
            .ok_or_else(|| Error::auth(AuthErrorKind::NoCredential, None))?;
        let (commands, receiver) = mpsc::unbounded_channel();
        let (events, events_receiver) = mpsc::channel(options.event_buffer.max(1));
        let shared = Arc::new(Shared {
            outbox: Mutex::new(Outbox::new(options.send_queue)),
            state: watch::Sender::new(ConnectionState::Connecting { attempt: 1 }),
            frames_waiting: AtomicUsize::new(0),
        });
        let guest_chat = credential.guest_chat_id();
        let mut follows = Follows::default();
        if let Some(chat_id) = guest_chat {
            follows.follow(chat_id, options.guest_after_seq);
        }
        let driver = Driver {
            unanswered: Default::default(),
            client: self.clone(),
            credential,
            shared: shared.clone(),
            commands: receiver,
            events,
            backoff: options.backoff,
            follows,
            queue: Default::default(),
            guest_chat,
            pace: options.pace,
            pacer: None,
            max_frame_bytes: usize::MAX,
            tickets: options.tickets,
        };
        tokio::spawn(driver.run());
        Ok((
            Realtime { shared, commands },
            Events {
                receiver: events_receiver,
            },
        ))
    }
}

impl Realtime {
    /// Sends a message with a fresh `client_msg_id` (a random UUID). It is
    /// queued at once (or refused at once when the queue is full or the
    /// client closed); the answer resolves with the stored message.
    pub fn send(&self, chat_id: Uuid, body: impl Into<String>) -> PendingSend {
        self.send_with_id(chat_id, Uuid::new_v4().to_string(), body)
    }

    /// Sends a message under the caller's `client_msg_id` (1 to 64
    /// printable ASCII characters): sending it again, even from another
    /// process, stores it at most once.
    pub fn send_with_id(
        &self,
        chat_id: Uuid,
        client_msg_id: impl Into<String>,
        body: impl Into<String>,
    ) -> PendingSend {
        let pending = match self.shared.outbox.lock() {
            Ok(mut outbox) => outbox.push(chat_id, client_msg_id.into(), body.into()),
            Err(poisoned) => poisoned
                .into_inner()
                .push(chat_id, client_msg_id.into(), body.into()),
        };
        // Only a queued send wakes the task: a refused one has nothing to
        // write, and an application retrying into a full queue while the
        // task is busy would otherwise grow the unbounded command channel.
        if pending.queued() {
            let _ = self.commands.send(Command::Flush);
        }
        pending
    }

    /// Follows a chat (agents): its messages with `seq > after_seq` are
    /// delivered, then live ones, across reconnects. Following a chat
    /// already followed changes nothing (the spec's client behaviour
    /// table): its position stays, so nothing is delivered twice or
    /// skipped; to move it, unsubscribe first.
    pub fn subscribe(&self, chat_id: Uuid, after_seq: i64) -> Result<(), Error> {
        self.command(Command::Subscribe { chat_id, after_seq })
    }

    /// Follows the queue (agents): the messages, typing and read events of
    /// every chat that is not closed arrive without a `subscribe` per chat,
    /// live and without replay, across reconnects. Find what came while
    /// disconnected by comparing `last_seq` from
    /// [`Client::list_chat_summaries`] with what you have; a chat also
    /// followed with [`Realtime::subscribe`] keeps its exactly-once delivery.
    pub fn subscribe_queue(&self) -> Result<(), Error> {
        self.command(Command::SubscribeQueue)
    }

    /// Stops following the queue: from then on only the chats followed with
    /// [`Realtime::subscribe`] deliver their events, and the queue is not
    /// followed again on reconnect.
    pub fn unsubscribe_queue(&self) -> Result<(), Error> {
        self.command(Command::UnsubscribeQueue)
    }

    /// Stops following a chat.
    pub fn unsubscribe(&self, chat_id: Uuid) -> Result<(), Error> {
        self.command(Command::Unsubscribe { chat_id })
    }

    /// Tells the chat's other members that the user is (or stopped)
    /// typing. Best effort: dropped while disconnected; refused with
    /// [`Error::QueueFull`] while [`PACED_FRAMES`] frames wait for the pace.
    pub fn typing(&self, chat_id: Uuid, active: bool) -> Result<(), Error> {
        self.frame(ClientFrame::Typing(ClientTyping {
            chat_id,
            active,
            reference: Some(format!("{TYPING_REF}{chat_id}")),
        }))
    }

    /// Marks the chat read up to `seq`. Best effort: dropped while
    /// disconnected (the server keeps the highest mark, so a later one
    /// covers it); refused with [`Error::QueueFull`] while [`PACED_FRAMES`]
    /// frames wait for the pace.
    pub fn mark_read(&self, chat_id: Uuid, seq: i64) -> Result<(), Error> {
        self.frame(ClientFrame::Read(ClientRead {
            chat_id,
            seq,
            reference: Some(format!("{READ_REF}{chat_id}")),
        }))
    }

    /// The current connection state.
    pub fn state(&self) -> ConnectionState {
        self.shared.state.borrow().clone()
    }

    /// A receiver of state changes, for waiting on one (`wait_for`).
    pub fn watch_state(&self) -> watch::Receiver<ConnectionState> {
        self.shared.state.subscribe()
    }

    /// Closes the connection for good; sends not yet acked fail with
    /// [`Error::Closed`].
    pub fn close(&self) {
        let _ = self.commands.send(Command::Close);
    }

    /// Queues a best-effort frame, unless [`PACED_FRAMES`] already wait.
    fn frame(&self, frame: ClientFrame) -> Result<(), Error> {
        let waiting = &self.shared.frames_waiting;
        if self.commands.is_closed() {
            return Err(closed());
        }
        if waiting.fetch_add(1, Ordering::Relaxed) >= PACED_FRAMES {
            waiting.fetch_sub(1, Ordering::Relaxed);
            return Err(Error::QueueFull {
                capacity: PACED_FRAMES,
            });
        }
        self.command(Command::Frame(frame)).inspect_err(|_| {
            waiting.fetch_sub(1, Ordering::Relaxed);
        })
    }

    fn command(&self, command: Command) -> Result<(), Error> {
        self.commands.send(command).map_err(|_| closed())
    }
}

fn closed() -> Error {
    Error::Closed {
        code: None,
        reason: "the realtime client is closed".into(),
    }
}

impl std::fmt::Debug for Realtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Realtime")
            .field("state", &self.state())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_send_refused_at_once_does_not_wake_the_task() {
        let (commands, mut receiver) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            outbox: Mutex::new(Outbox::new(1)),
            state: watch::Sender::new(ConnectionState::Connecting { attempt: 1 }),
            frames_waiting: AtomicUsize::new(0),
        });
        let realtime = Realtime { shared, commands };
        let chat_id = Uuid::new_v4();
        // One send fills the queue; the application keeps trying while
        // the task is busy elsewhere and reads no command.
        for n in 0..50 {
            drop(realtime.send(chat_id, format!("m{n}")));
        }
        let mut wakes = 0;
        while receiver.try_recv().is_ok() {
            wakes += 1;
        }
        assert_eq!(wakes, 1, "only the queued send wakes the task");
    }
}

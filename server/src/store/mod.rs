//! Storage: the database behind one small interface.
//!
//! Handlers see a [`Store`] with one method per operation and typed
//! results (`records`); the URL's scheme picks SQLite (`sqlite/`, one
//! node) or PostgreSQL (`postgres/`, several nodes sharing one database),
//! and [`Store`] dispatches to it. The two backends are peers: each keeps
//! its SQL in one file per table group, and both carry out the same
//! business rules, written once as pure decisions in `rules/` (appending a
//! message, chat transitions, refresh-token rotation, WebSocket tickets)
//! and unit-tested without a database. What a commit changed is announced, in commit
//! order, to a [`CommitListener`] (the hub); what a node of a cluster
//! reads to catch up on what its broker lost is [`ClusterReads`].

mod backend;
mod batched;
mod cluster_reads;
mod faults;
pub mod keys;
pub mod postgres;
mod records;
mod rows;
mod rules;
pub mod sqlite;

use std::time::Duration;

use byrd_spec::chat::Chat;
use byrd_spec::message::Message;
use uuid::Uuid;

pub use backend::Store;
pub use batched::{Batched, ReadBatch};
pub use cluster_reads::{ChangedChats, ChatState, ClusterReads, Revocations};
pub use faults::ReadFaults;
pub use keys::{KeyChange, SigningKeyRow};
pub use records::{
    AgentRecord, AppendTicket, Appended, ChatFilter, ChatVisitor, MessageRange, MessagesAfter,
    NewAgent, NewChat, NewMessage, NewWsTicket, RefreshOutcome, StartedChat, Successor,
    TicketIssue, VisitorFound,
};
pub use rules::keys as key_rules;
pub use rules::keys::{KeyAlgorithm, KeyState, Retired};
pub use rules::open_chats::{AddressBound, AddressKey};
pub use rules::transitions::IdleClose;

/// Failures a caller may want to tell apart; everything else is `Unexpected`.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("an agent with this email already exists")]
    EmailTaken,
    #[error("no such chat")]
    ChatNotFound,
    #[error("no such agent")]
    AgentNotFound,
    #[error("the chat is closed")]
    ChatClosed,
    /// An admin asked to deactivate themself.
    #[error("an admin cannot deactivate themself")]
    CannotDeactivateSelf,
    /// Deactivating the agent would leave no active admin.
    #[error("the agent is the last active admin")]
    LastActiveAdmin,
    /// The client address already holds as many open chats as allowed.
    #[error("too many open chats from this address")]
    TooManyOpenChats,
    /// The author stored another message under this `client_msg_id`.
    #[error("the client_msg_id was used for a different message")]
    ClientMsgIdReused,
    /// The database stayed busy past the configured bound; nothing was
    /// written. Retrying later is safe.
    #[error("the database is busy")]
    Unavailable,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// What a commit changed, announced after the commit in commit order.
#[derive(Debug, Clone)]
pub enum Committed {
    /// A new message; one chat's messages come in `seq` order.
    Message(Message),
    /// A chat was started, assigned or closed.
    ChatUpdated(Chat),
    /// An access token (`jti`) or a whole login session was revoked.
    Revoked {
        jti: Option<String>,
        session: Option<Uuid>,
    },
}

/// Hears of every commit, in commit order, on the thread that announces
/// them: it must not block.
pub trait CommitListener: Send + Sync + std::fmt::Debug {
    fn committed(&self, change: &Committed);
}

/// How busy the store is, sampled for the metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreLoad {
    /// Pooled connections running a query.
    pub in_use: u32,
    /// Pooled connections open and free.
    pub idle: u32,
    /// Tasks waiting for a pooled connection; 0 where the driver does
    /// not tell.
    pub waiting: u32,
    /// Writes queued for the writer.
    pub queued_writes: usize,
}

/// How the store uses the database.
#[derive(Debug, Clone)]
pub struct StoreSettings {
    /// How long a write may wait, for the writer or for a database lock
    /// held by another process, before it is refused as `Unavailable`.
    pub busy_timeout: Duration,
    /// Read-only connections.
    pub read_connections: u32,
    /// Writes that may wait for the writer; past it they are refused at
    /// once as `Unavailable`.
    pub write_queue: usize,
    /// Most writes committed in one transaction.
    pub max_batch: usize,
    /// Writer tasks appending messages, each on a connection of its own
    /// (PostgreSQL; SQLite has one writer whatever this says).
    pub writers: usize,
    /// Faults tests inject into reads of messages; inert by default.
    pub read_faults: ReadFaults,
}

impl StoreSettings {
    /// The pool for reads and the writes other than appends: the read
    /// connections and four for those writes.
    pub fn pool_connections(&self) -> u32 {
        self.read_connections.saturating_add(4)
    }

    /// Every connection a node may open to its database: the pool and,
    /// on PostgreSQL, one per writer.
    pub fn database_connections(&self) -> u64 {
        u64::from(self.pool_connections()) + self.writers as u64
    }
}

impl Default for StoreSettings {
    fn default() -> Self {
        StoreSettings {
            busy_timeout: crate::options::DATABASE_BUSY_TIMEOUT_MS.default_duration(),
            read_connections: 4,
            write_queue: 16_384,
            max_batch: 1024,
            writers: crate::options::DATABASE_WRITERS.default_number() as usize,
            read_faults: ReadFaults::default(),
        }
    }
}

//! [`Store`]: the database the handlers use, SQLite or PostgreSQL.
//!
//! The URL's scheme picks the backend at start; every operation then goes
//! to it unchanged. Both backends keep the same promises (group-commit
//! appends, per-chat `seq` without gaps, idempotent sends, announcements
//! in commit order) and run the same integration tests.

use std::sync::Arc;

use byrd_spec::agent::Agent;
use byrd_spec::chat::{Chat, ChatSummary};
use byrd_spec::message::{Message, PartyType};
use byrd_spec::read::ReadPosition;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use super::keys::{KeyChange, SigningKeyRow};
use super::postgres::{self, PostgresStore};
use super::sqlite::SqliteStore;
use super::{
    AgentRecord, AppendTicket, Appended, ChatFilter, CommitListener, IdleClose, MessageRange,
    MessagesAfter, NewAgent, NewChat, NewMessage, NewWsTicket, RefreshOutcome, StartedChat,
    StoreError, StoreLoad, StoreSettings, Successor, TicketIssue,
};
use crate::domain::EmailAddress;

/// A handle to the database; cheap to clone.
#[derive(Clone, Debug)]
pub enum Store {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

/// Runs the same call on whichever backend `$store` is.
macro_rules! on_backend {
    ($store:expr, $method:ident ( $($argument:expr),* )) => {
        match $store {
            Store::Sqlite(store) => store.$method($($argument),*).await,
            Store::Postgres(store) => store.$method($($argument),*).await,
        }
    };
}

impl Store {
    /// Opens the database `database_url` names (`sqlite:` or
    /// `postgres://`), runs pending migrations and starts the writer.
    /// `listener` hears of every commit.
    pub async fn connect(
        database_url: &SecretString,
        settings: &StoreSettings,
        listener: Option<Arc<dyn CommitListener>>,
    ) -> anyhow::Result<Store> {
        if postgres::handles(database_url.expose_secret()) {
            let store = PostgresStore::connect(database_url, settings, listener).await?;
            return Ok(Store::Postgres(store));
        }
        if !database_url.expose_secret().starts_with("sqlite:") {
            anyhow::bail!(
                "unsupported database URL scheme; Byrd supports sqlite: and postgres:// URLs"
            );
        }
        let store = SqliteStore::connect(database_url, settings, listener).await?;
        Ok(Store::Sqlite(store))
    }

    /// The PostgreSQL store, when that is the backend: what several nodes
    /// share.
    pub fn postgres(&self) -> Option<&PostgresStore> {
        match self {
            Store::Postgres(store) => Some(store),
            Store::Sqlite(_) => None,
        }
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        on_backend!(self, ping())
    }

    /// Whether this node may take traffic as far as its database goes:
    /// the database answers, and (SQLite) the file at the configured path
    /// is still the one the store opened. Used by `/readyz`.
    pub async fn check_ready(&self) -> Result<(), StoreError> {
        on_backend!(self, check_ready())
    }

    /// The pools' and the writer's load, for the metrics.
    pub fn load(&self) -> StoreLoad {
        match self {
            Store::Sqlite(store) => store.load(),
            Store::Postgres(store) => store.load(),
        }
    }

    pub async fn close(&self) {
        on_backend!(self, close())
    }

    /// Every key of the keyring, retired ones too, oldest first.
    pub async fn signing_keys(&self) -> Result<Vec<SigningKeyRow>, StoreError> {
        on_backend!(self, signing_keys())
    }

    /// Reads the keyring, asks `decide` (a rule of `key_rules`) what to
    /// change, and changes it, in one transaction no other writer of the
    /// keyring can interleave with.
    pub async fn change_signing_keys<T, F>(&self, decide: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&[SigningKeyRow]) -> (T, Vec<KeyChange>) + Send + 'static,
    {
        on_backend!(self, change_signing_keys(decide))
    }

    pub async fn insert_agent(&self, new: NewAgent) -> Result<Agent, StoreError> {
        on_backend!(self, insert_agent(new))
    }

    pub async fn count_agents(&self) -> Result<i64, StoreError> {
        on_backend!(self, count_agents())
    }

    pub async fn agent_for_login(
        &self,
        email: &EmailAddress,
    ) -> Result<Option<AgentRecord>, StoreError> {
        on_backend!(self, agent_for_login(email))
    }

    pub async fn agent_by_id(&self, id: Uuid) -> Result<Option<Agent>, StoreError> {
        on_backend!(self, agent_by_id(id))
    }

    pub async fn list_agents(&self) -> Result<Vec<Agent>, StoreError> {
        on_backend!(self, list_agents())
    }

    /// Deactivates the agent `id` at the request of the admin `by` (`None`:
    /// the operator): ends their sessions, closing their sockets, and puts
    /// their assigned chats back in the queue (`rules::agents`).
    pub async fn deactivate_agent(&self, id: Uuid, by: Option<Uuid>) -> Result<Agent, StoreError> {
        on_backend!(self, deactivate_agent(id, by))
    }

    /// Makes a deactivated agent active again.
    pub async fn reactivate_agent(&self, id: Uuid) -> Result<Agent, StoreError> {
        on_backend!(self, reactivate_agent(id))
    }

    /// Starts a chat, with its visitor found or created in the same
    /// write: the one a valid continuity token names, a new anonymous one,
    /// or the verified one by issuer and subject (created once however
    /// many starts race for it, its name, email and attributes brought up
    /// to date).
    pub async fn insert_chat(&self, new: NewChat) -> Result<StartedChat, StoreError> {
        on_backend!(self, insert_chat(new))
    }

    /// The chats of one visitor, newest first, strictly older than
    /// `before`.
    pub async fn visitor_chats(
        &self,
        visitor_id: Uuid,
        before: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<Chat>, StoreError> {
        on_backend!(self, visitor_chats(visitor_id, before, limit))
    }

    /// Whether a trusted issuer vouched for the visitor `visitor_id`.
    pub async fn is_visitor_verified(&self, visitor_id: Uuid) -> Result<bool, StoreError> {
        on_backend!(self, is_visitor_verified(visitor_id))
    }

    pub async fn chat_by_id(&self, id: Uuid) -> Result<Option<Chat>, StoreError> {
        on_backend!(self, chat_by_id(id))
    }

    pub async fn list_chats(&self, filter: &ChatFilter) -> Result<Vec<Chat>, StoreError> {
        on_backend!(self, list_chats(filter))
    }

    pub async fn chat_summaries(
        &self,
        filter: &ChatFilter,
        reader: Uuid,
    ) -> Result<Vec<ChatSummary>, StoreError> {
        on_backend!(self, chat_summaries(filter, reader))
    }

    pub async fn assign_chat(&self, chat_id: Uuid, agent_id: Uuid) -> Result<Chat, StoreError> {
        on_backend!(self, assign_chat(chat_id, agent_id))
    }

    pub async fn close_chat(&self, chat_id: Uuid) -> Result<Chat, StoreError> {
        on_backend!(self, close_chat(chat_id))
    }

    /// Closes a batch of open chats quiet for the idle time (a conditional
    /// update: a chat taken or written to meanwhile stays open); the chats
    /// closed, each announced as `chat_updated`.
    pub async fn close_idle_chats(&self, idle: IdleClose) -> Result<Vec<Chat>, StoreError> {
        on_backend!(self, close_idle_chats(idle))
    }

    /// Stores a message with the chat's next `seq`, or returns the one the
    /// author already stored under the same `client_msg_id` (when the body
    /// differs, that is `ClientMsgIdReused`). The answer comes once the
    /// message is committed.
    pub async fn append_message(&self, new: NewMessage) -> Result<Appended, StoreError> {
        on_backend!(self, append_message(new))
    }

    /// Queues a message without waiting for it: the ticket resolves like
    /// [`append_message`](Self::append_message). Messages queued one after
    /// another get their `seq`s in that order.
    pub fn queue_message(&self, new: NewMessage) -> Result<AppendTicket, StoreError> {
        match self {
            Store::Sqlite(store) => store.queue_message(new),
            Store::Postgres(store) => store.queue_message(new),
        }
    }

    pub async fn list_messages(
        &self,
        chat_id: Uuid,
        range: MessageRange,
    ) -> Result<(Vec<Message>, bool), StoreError> {
        on_backend!(self, list_messages(chat_id, range))
    }

    /// The messages of `chat_id` in `span`, in `seq` order: the one read
    /// behind every gap fill and replay (the hub's fills, a connection's
    /// fill before a live message, a subscribe's replay), so that they
    /// agree on what "after" means. Each caller keeps its own limit and
    /// its own answer to a failed read.
    pub async fn messages_after(
        &self,
        chat_id: Uuid,
        span: MessagesAfter,
    ) -> Result<Vec<Message>, StoreError> {
        let range = MessageRange {
            after_seq: Some(span.after),
            before_seq: Some(span.through.saturating_add(1)),
            limit: span.limit,
        };
        let (messages, _) = self.list_messages(chat_id, range).await?;
        Ok(messages)
    }

    pub async fn chat_last_seq(&self, chat_id: Uuid) -> Result<Option<i64>, StoreError> {
        on_backend!(self, chat_last_seq(chat_id))
    }

    pub async fn read_positions(&self, chat_id: Uuid) -> Result<Vec<ReadPosition>, StoreError> {
        on_backend!(self, read_positions(chat_id))
    }

    pub async fn mark_read(
        &self,
        chat_id: Uuid,
        reader: PartyType,
        reader_id: Uuid,
        seq: i64,
    ) -> Result<i64, StoreError> {
        on_backend!(self, mark_read(chat_id, reader, reader_id, seq))
    }

    pub async fn create_session(
        &self,
        agent_id: Uuid,
        token_hash: [u8; 32],
        expires_at: DateTime<Utc>,
    ) -> Result<Uuid, StoreError> {
        on_backend!(self, create_session(agent_id, token_hash, expires_at))
    }

    pub async fn rotate_refresh_token(
        &self,
        presented: [u8; 32],
        successor: Successor,
        grace: std::time::Duration,
    ) -> Result<RefreshOutcome, StoreError> {
        on_backend!(self, rotate_refresh_token(presented, successor, grace))
    }

    pub async fn logout(
        &self,
        jti: String,
        expires_at: i64,
        session: Option<Uuid>,
    ) -> Result<(), StoreError> {
        on_backend!(self, logout(jti, expires_at, session))
    }

    pub async fn is_session_revoked(&self, session_id: Uuid) -> Result<bool, StoreError> {
        on_backend!(self, is_session_revoked(session_id))
    }

    pub async fn is_token_revoked(&self, jti: &str) -> Result<bool, StoreError> {
        on_backend!(self, is_token_revoked(jti))
    }

    pub async fn purge_expired(
        &self,
        leeway: std::time::Duration,
        grace: std::time::Duration,
    ) -> Result<u64, StoreError> {
        on_backend!(self, purge_expired(leeway, grace))
    }

    /// Stores a WebSocket ticket unless its principal already holds
    /// `max_unspent` unspent ones (`rules::tickets`); expired tickets are
    /// swept in the same transaction.
    pub async fn issue_ws_ticket(
        &self,
        ticket: NewWsTicket,
        max_unspent: u32,
    ) -> Result<TicketIssue, StoreError> {
        on_backend!(self, issue_ws_ticket(ticket, max_unspent))
    }

    /// Spends the ticket with hash `hash`, atomically on every node
    /// sharing the database: the claims it carries, once; `None` for an
    /// unknown, spent or expired ticket.
    pub async fn redeem_ws_ticket(&self, hash: [u8; 32]) -> Result<Option<String>, StoreError> {
        on_backend!(self, redeem_ws_ticket(hash))
    }
}

//! What a node of a cluster reads from the shared database to catch up
//! on what its broker lost.
//!
//! Each node sweeps the database now and then (see `cluster::sweep`):
//! the `last_seq` of the chats it serves, the chats changed since its last
//! look, and the tokens and sessions revoked since then. [`ClusterReads`]
//! is just those reads, so the sweep depends on nothing else of the store
//! and can be tested against a fake. Only a database several nodes share
//! (PostgreSQL) offers it; times are the database's clock, so that every
//! node asks about the same timeline.

use std::future::Future;

use byrd_spec::chat::{Chat, ChatStatus};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::StoreError;

/// The part of a chat that a `chat_updated` announces a change of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatState {
    pub id: Uuid,
    pub status: ChatStatus,
    pub assigned_agent_id: Option<Uuid>,
    /// When the chat last changed, a message included.
    pub updated_at: DateTime<Utc>,
}

impl ChatState {
    pub fn of(chat: &Chat) -> ChatState {
        ChatState {
            id: chat.id,
            status: chat.status,
            assigned_agent_id: chat.assigned_agent_id,
            updated_at: chat.updated_at,
        }
    }
}

/// Chats changed at or after some time, and the database's clock when read.
#[derive(Debug)]
pub struct ChangedChats {
    pub chats: Vec<ChatState>,
    pub as_of: DateTime<Utc>,
}

/// Revocations committed in some span of time.
#[derive(Debug, Default)]
pub struct Revocations {
    /// Revoked access tokens, by `jti`.
    pub tokens: Vec<String>,
    /// Revoked login sessions.
    pub sessions: Vec<Uuid>,
    /// The database's clock when it answered: where the next look starts.
    pub as_of: DateTime<Utc>,
}

/// The reads a node's sweep makes.
pub trait ClusterReads: Send + Sync + 'static {
    /// The newest `seq` of each of `chats` that exists, in one query.
    fn chats_last_seq(
        &self,
        chats: &[Uuid],
    ) -> impl Future<Output = Result<Vec<(Uuid, i64)>, StoreError>> + Send;

    /// The state of every chat whose `updated_at` is at or after `since`
    /// (the database's clock); a message moves it too, so this includes
    /// the chats being written in.
    fn chats_changed_since(
        &self,
        since: DateTime<Utc>,
    ) -> impl Future<Output = Result<ChangedChats, StoreError>> + Send;

    /// The whole chat, to announce again one whose state changed.
    fn chat_by_id(&self, id: Uuid)
    -> impl Future<Output = Result<Option<Chat>, StoreError>> + Send;

    /// Tokens and sessions revoked at or after `since` (the database's
    /// clock); `None` asks only for the clock.
    fn revocations_since(
        &self,
        since: Option<DateTime<Utc>>,
    ) -> impl Future<Output = Result<Revocations, StoreError>> + Send;
}

//! The records handlers hand to the store and get back, whichever
//! database holds them.

use std::pin::Pin;
use std::task::{Context, Poll};

use byrd_spec::agent::{Agent, Role};
use byrd_spec::chat::{Chat, ChatContext, ChatStatus};
use byrd_spec::message::{Message, PartyType};
use chrono::{DateTime, Utc};
use tokio::sync::oneshot;
use uuid::Uuid;

use super::StoreError;
use super::rules::open_chats::AddressBound;
use crate::domain::{
    ClientMsgId, DisplayName, EmailAddress, MessageBody, Subject, VerifiedIdentity,
};

/// An agent to insert; the password is already hashed.
pub struct NewAgent {
    pub email: EmailAddress,
    pub name: DisplayName,
    pub role: Role,
    pub password_hash: String,
}

/// An agent with its password hash, for login only.
pub struct AgentRecord {
    pub agent: Agent,
    pub password_hash: String,
}

/// A chat a visitor starts.
#[derive(Debug)]
pub struct NewChat {
    /// Who starts it: found or created with the chat, in its transaction.
    pub visitor: ChatVisitor,
    pub visitor_name: Option<DisplayName>,
    pub visitor_email: Option<EmailAddress>,
    pub subject: Option<Subject>,
    /// What the widget reported and the server read of the browser.
    pub context: ChatContext,
    /// The bound on open chats of the visitor's address; `None` for a
    /// chat started without one (tools, tests).
    pub address: Option<AddressBound>,
}

/// Who starts a chat.
#[derive(Debug)]
pub enum ChatVisitor {
    /// An anonymous visitor: the one whose continuity token hashes to
    /// `presented` while it is valid, or else a new one holding `fresh`.
    /// Either way the token then lapses `ttl` after this chat start.
    Anonymous {
        presented: Option<[u8; 32]>,
        fresh: [u8; 32],
        ttl: std::time::Duration,
    },
    /// The visitor a trusted issuer vouched for: found by issuer and
    /// subject (on any device), or created; their name, email and
    /// attributes become the identity's.
    Verified(VerifiedIdentity),
}

/// Which visitor a chat start found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VisitorFound {
    /// The visitor whose continuity token was presented.
    Returning,
    /// A new anonymous visitor, holding the fresh token.
    New,
    /// The verified visitor, found or created.
    Verified,
}

/// A chat just started, and how its visitor was found.
#[derive(Debug)]
pub struct StartedChat {
    pub chat: Chat,
    pub visitor: VisitorFound,
}

/// Which chats a list returns: newest first, optionally by status, strictly
/// older than `before` (the last id of the previous page).
#[derive(Debug, Default)]
pub struct ChatFilter {
    pub status: Option<ChatStatus>,
    pub before: Option<Uuid>,
    pub limit: u32,
}

/// A message to append to a chat.
#[derive(Debug)]
pub struct NewMessage {
    pub chat_id: Uuid,
    pub author_kind: PartyType,
    pub author_id: Uuid,
    /// The agent's name; for a guest the store takes the visitor's name.
    pub author_name: Option<String>,
    pub client_msg_id: ClientMsgId,
    pub body: MessageBody,
}

/// What appending led to.
#[derive(Debug)]
pub enum Appended {
    /// Stored now, with the next `seq`.
    Created(Message),
    /// The author sent this `client_msg_id` before: the stored message.
    Existing(Message),
}

impl Appended {
    pub fn message(&self) -> &Message {
        match self {
            Appended::Created(m) | Appended::Existing(m) => m,
        }
    }

    pub fn into_message(self) -> Message {
        match self {
            Appended::Created(m) | Appended::Existing(m) => m,
        }
    }
}

/// The answer to a queued message, once it is committed.
#[derive(Debug)]
pub struct AppendTicket(oneshot::Receiver<Result<Appended, StoreError>>);

impl AppendTicket {
    /// The ticket for the answer `answer` will carry.
    pub(super) fn new(answer: oneshot::Receiver<Result<Appended, StoreError>>) -> Self {
        AppendTicket(answer)
    }
}

impl Future for AppendTicket {
    type Output = Result<Appended, StoreError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // A writer that dropped the message unanswered never wrote it: it
        // waited too long, its transaction could not begin, or the server
        // is stopping.
        Pin::new(&mut self.0)
            .poll(cx)
            .map(|answer| answer.unwrap_or(Err(StoreError::Unavailable)))
    }
}

/// Which messages of a chat to read, in `seq` terms.
#[derive(Debug, Clone, Copy)]
pub struct MessageRange {
    pub after_seq: Option<i64>,
    pub before_seq: Option<i64>,
    pub limit: u32,
}

/// Messages of one chat that follow a known `seq`: those with
/// `after < seq <= through`, at most `limit` of them, in `seq` order. What a
/// gap fill (the hub's or a connection's) and a subscribe's replay read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessagesAfter {
    pub after: i64,
    pub through: i64,
    pub limit: u32,
}

/// A refresh token to store in place of the one presented.
#[derive(Debug, Clone)]
pub struct Successor {
    pub hash: [u8; 32],
    /// The successor sealed with a key only the presented token yields.
    pub sealed: Vec<u8>,
    pub expires_at: DateTime<Utc>,
}

/// What presenting a refresh token led to.
#[derive(Debug, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// The token was valid and is now used; its successor was stored.
    Rotated {
        agent_id: Uuid,
        session_id: Uuid,
    },
    /// The token was traded in moments ago and its successor is unused: the
    /// client lost the answer. The same successor, still sealed.
    Replayed {
        agent_id: Uuid,
        session_id: Uuid,
        sealed_successor: Vec<u8>,
    },
    /// No such token.
    Unknown,
    Expired,
    /// The session was revoked (logout or earlier reuse).
    Revoked,
    /// The token had been used before: the whole session is now revoked.
    Reused {
        session_id: Uuid,
    },
}

/// A WebSocket ticket to store: its hash, never the ticket.
#[derive(Debug, Clone)]
pub struct NewWsTicket {
    /// SHA-256 of the ticket.
    pub hash: [u8; 32],
    /// Whose it is (the token's `sub`): the bound on unspent tickets
    /// counts by it.
    pub principal: Uuid,
    /// The verified claims of the token it was made from, as JSON.
    pub claims: String,
    /// Unix milliseconds.
    pub expires_at: i64,
}

/// What asking for a ticket led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketIssue {
    Issued,
    /// The principal holds as many unspent tickets as it may; one frees up
    /// within `retry_after`.
    TooMany {
        retry_after: std::time::Duration,
    },
}

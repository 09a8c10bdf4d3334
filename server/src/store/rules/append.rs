//! Appending a message, apart from any database.
//!
//! A message is known by its idempotency key: its chat, its author and
//! its `client_msg_id`. What appending it leads to, in this order:
//!
//! 1. A message already stored under the key answers, whatever the chat's
//!    state now: with the same body it is that message again
//!    ([`Outcome::Existing`], so a client that lost an ack may resend,
//!    even after the chat closed); with another body the key was reused
//!    ([`Refusal::ClientMsgIdReused`]).
//! 2. Otherwise the chat decides: a missing chat is
//!    [`Refusal::ChatNotFound`], a closed one [`Refusal::ChatClosed`]; an
//!    open or assigned chat stores the message with its next `seq`, so no
//!    `seq` is skipped. A guest writes under the visitor's name, an agent
//!    under the name it sent.
//! 3. Only a stored message is announced; a repeat or a refusal changes
//!    nothing.
//!
//! A batch decides its messages in queue order, and a message stored
//! earlier in the batch counts as stored. PostgreSQL looks up the batch's
//! keys first and asks [`decide`]; SQLite inserts first and looks a key up
//! only when the insert finds it taken, which is the same rule without a
//! look-up per message on its hot path (see `sqlite::append`).

use byrd_spec::message::{Author, Message, PartyType};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::store::{Appended, Committed, NewMessage, StoreError};

/// The chat a message goes to, as its batch found it.
#[derive(Debug)]
pub(in crate::store) enum AppendTarget {
    Missing,
    Closed,
    Open(OpenChat),
}

impl AppendTarget {
    /// A chat that exists: `last_seq` is its newest message's `seq`.
    pub fn found(closed: bool, last_seq: i64, visitor_name: Option<String>) -> AppendTarget {
        if closed {
            return AppendTarget::Closed;
        }
        AppendTarget::Open(OpenChat {
            next_seq: last_seq + 1,
            first_seq: last_seq + 1,
            visitor_name,
        })
    }

    /// The chat's new `last_seq` when the batch stored messages in it.
    pub fn moved_last_seq(&self) -> Option<i64> {
        match self {
            AppendTarget::Open(chat) => chat.moved_last_seq(),
            AppendTarget::Missing | AppendTarget::Closed => None,
        }
    }
}

/// An open or assigned chat, and the `seq`s its batch handed out.
#[derive(Debug)]
pub(in crate::store) struct OpenChat {
    /// The `seq` the next stored message gets.
    next_seq: i64,
    /// `next_seq` when the batch found the chat.
    first_seq: i64,
    visitor_name: Option<String>,
}

impl OpenChat {
    /// `new` as it is stored if it is stored next.
    pub fn next_message(&self, new: &NewMessage, now: DateTime<Utc>) -> Message {
        Message {
            id: Uuid::now_v7(),
            chat_id: new.chat_id,
            seq: self.next_seq,
            author: Author {
                kind: new.author_kind,
                id: new.author_id,
                name: match new.author_kind {
                    PartyType::Guest => self.visitor_name.clone(),
                    PartyType::Agent => new.author_name.clone(),
                },
            },
            body: new.body.as_str().to_owned(),
            client_msg_id: new.client_msg_id.as_str().to_owned(),
            created_at: now,
        }
    }

    /// Records that the message [`next_message`](Self::next_message) gave
    /// was stored: the next one gets the following `seq`.
    pub fn stored(&mut self) {
        self.next_seq += 1;
    }

    fn moved_last_seq(&self) -> Option<i64> {
        (self.next_seq > self.first_seq).then_some(self.next_seq - 1)
    }
}

/// How appending one message ends.
#[derive(Debug, PartialEq)]
pub(in crate::store) enum Outcome {
    /// Stored now.
    Created(Message),
    /// Stored before under the same key, with the same body.
    Existing(Message),
    Refused(Refusal),
}

/// Why a message was not stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::store) enum Refusal {
    ChatNotFound,
    ChatClosed,
    ClientMsgIdReused,
}

impl From<Refusal> for StoreError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::ChatNotFound => StoreError::ChatNotFound,
            Refusal::ChatClosed => StoreError::ChatClosed,
            Refusal::ClientMsgIdReused => StoreError::ClientMsgIdReused,
        }
    }
}

/// Decides `new`, given the message stored under its key, if any, and
/// its chat; a message decided `Created` takes the chat's next `seq`.
pub(in crate::store) fn decide(
    new: &NewMessage,
    stored: Option<&Message>,
    chat: &mut AppendTarget,
    now: DateTime<Utc>,
) -> Outcome {
    if let Some(stored) = stored {
        return repeat(stored, new);
    }
    match chat {
        AppendTarget::Missing => Outcome::Refused(Refusal::ChatNotFound),
        AppendTarget::Closed => Outcome::Refused(Refusal::ChatClosed),
        AppendTarget::Open(chat) => {
            let message = chat.next_message(new, now);
            chat.stored();
            Outcome::Created(message)
        }
    }
}

/// `new` sent again under the key of `stored`: the same message, or
/// another one under a `client_msg_id` already taken.
pub(in crate::store) fn repeat(stored: &Message, new: &NewMessage) -> Outcome {
    if stored.body == new.body.as_str() {
        Outcome::Existing(stored.clone())
    } else {
        Outcome::Refused(Refusal::ClientMsgIdReused)
    }
}

impl Outcome {
    /// What the commit announces: a stored message, and nothing else.
    pub fn announced(&self) -> Option<Committed> {
        match self {
            Outcome::Created(message) => Some(Committed::Message(message.clone())),
            Outcome::Existing(_) | Outcome::Refused(_) => None,
        }
    }

    /// The caller's answer.
    pub fn into_answer(self) -> Result<Appended, StoreError> {
        match self {
            Outcome::Created(message) => Ok(Appended::Created(message)),
            Outcome::Existing(message) => Ok(Appended::Existing(message)),
            Outcome::Refused(refusal) => Err(refusal.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ClientMsgId, MessageBody};

    fn new(author_kind: PartyType, client_msg_id: &str, body: &str) -> NewMessage {
        NewMessage {
            chat_id: Uuid::from_u128(1),
            author_kind,
            author_id: Uuid::from_u128(2),
            author_name: Some("Ada".to_owned()),
            client_msg_id: ClientMsgId::parse(client_msg_id).expect("a valid id"),
            body: MessageBody::parse(body.to_owned(), 100).expect("a valid body"),
        }
    }

    fn open(last_seq: i64) -> AppendTarget {
        AppendTarget::found(false, last_seq, Some("Visitor".to_owned()))
    }

    fn created(outcome: Outcome) -> Message {
        match outcome {
            Outcome::Created(message) => message,
            other => panic!("expected a stored message, got {other:?}"),
        }
    }

    #[test]
    fn messages_to_an_open_chat_take_the_next_seqs_in_order() {
        let mut chat = open(7);
        let now = Utc::now();
        let first = created(decide(
            &new(PartyType::Agent, "a", "hi"),
            None,
            &mut chat,
            now,
        ));
        let second = created(decide(
            &new(PartyType::Agent, "b", "yo"),
            None,
            &mut chat,
            now,
        ));
        assert_eq!((first.seq, second.seq), (8, 9));
        assert_eq!(chat.moved_last_seq(), Some(9));
        assert_eq!(
            (first.body.as_str(), first.client_msg_id.as_str()),
            ("hi", "a")
        );
    }

    #[test]
    fn a_guest_writes_under_the_visitors_name_and_an_agent_under_its_own() {
        let mut chat = open(0);
        let now = Utc::now();
        let guest = created(decide(
            &new(PartyType::Guest, "a", "hi"),
            None,
            &mut chat,
            now,
        ));
        let agent = created(decide(
            &new(PartyType::Agent, "b", "hi"),
            None,
            &mut chat,
            now,
        ));
        assert_eq!(guest.author.name.as_deref(), Some("Visitor"));
        assert_eq!(agent.author.name.as_deref(), Some("Ada"));
    }

    #[test]
    fn a_chat_that_stored_nothing_keeps_its_last_seq() {
        let mut chat = open(3);
        assert_eq!(chat.moved_last_seq(), None);
        let stored = created(decide(
            &new(PartyType::Agent, "a", "hi"),
            None,
            &mut open(0),
            Utc::now(),
        ));
        let again = decide(
            &new(PartyType::Agent, "a", "hi"),
            Some(&stored),
            &mut chat,
            Utc::now(),
        );
        assert_eq!(again, Outcome::Existing(stored));
        assert_eq!(chat.moved_last_seq(), None);
    }

    #[test]
    fn the_same_message_again_is_the_stored_one_even_in_a_closed_chat() {
        let stored = created(decide(
            &new(PartyType::Guest, "a", "hi"),
            None,
            &mut open(0),
            Utc::now(),
        ));
        for mut chat in [open(1), AppendTarget::Closed, AppendTarget::Missing] {
            let again = decide(
                &new(PartyType::Guest, "a", "hi"),
                Some(&stored),
                &mut chat,
                Utc::now(),
            );
            assert_eq!(again, Outcome::Existing(stored.clone()));
        }
    }

    #[test]
    fn another_body_under_a_taken_client_msg_id_is_refused_whatever_the_chat() {
        let stored = created(decide(
            &new(PartyType::Guest, "a", "hi"),
            None,
            &mut open(0),
            Utc::now(),
        ));
        for mut chat in [open(1), AppendTarget::Closed, AppendTarget::Missing] {
            let reused = decide(
                &new(PartyType::Guest, "a", "bye"),
                Some(&stored),
                &mut chat,
                Utc::now(),
            );
            assert_eq!(reused, Outcome::Refused(Refusal::ClientMsgIdReused));
        }
    }

    #[test]
    fn a_new_message_to_a_closed_or_missing_chat_is_refused() {
        let message = new(PartyType::Agent, "a", "hi");
        let now = Utc::now();
        assert_eq!(
            decide(&message, None, &mut AppendTarget::found(true, 4, None), now),
            Outcome::Refused(Refusal::ChatClosed)
        );
        assert_eq!(
            decide(&message, None, &mut AppendTarget::Missing, now),
            Outcome::Refused(Refusal::ChatNotFound)
        );
    }

    #[test]
    fn only_a_stored_message_is_announced_and_each_outcome_answers() {
        let stored = created(decide(
            &new(PartyType::Agent, "a", "hi"),
            None,
            &mut open(0),
            Utc::now(),
        ));
        assert!(matches!(
            Outcome::Created(stored.clone()).announced(),
            Some(Committed::Message(announced)) if announced == stored
        ));
        assert!(Outcome::Existing(stored.clone()).announced().is_none());
        assert!(Outcome::Refused(Refusal::ChatClosed).announced().is_none());
        assert!(matches!(
            Outcome::Existing(stored.clone()).into_answer(),
            Ok(Appended::Existing(answered)) if answered == stored
        ));
        assert!(matches!(
            Outcome::Refused(Refusal::ClientMsgIdReused).into_answer(),
            Err(StoreError::ClientMsgIdReused)
        ));
        assert!(matches!(
            Outcome::Refused(Refusal::ChatNotFound).into_answer(),
            Err(StoreError::ChatNotFound)
        ));
    }
}

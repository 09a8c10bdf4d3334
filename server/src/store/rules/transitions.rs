//! A chat's life, apart from any database.
//!
//! A chat starts `open` ([`opened`]). `assign` gives an open or assigned
//! chat to an agent, who takes it or hands it on, and makes it
//! `assigned`; `close` ends an open or assigned chat for good, keeping
//! its agent. A closed chat takes no transition (`ChatClosed`), nor does a
//! missing one (`ChatNotFound`); assigning to an agent that does not exist
//! is `AgentNotFound`, whatever the chat. Every change, the start
//! included, is announced as the whole chat ([`announced`]), so every
//! agent and the chat's guest hear of its new state.
//!
//! Both stores read the chat's status and agent (PostgreSQL locks the
//! row), ask [`decide`], and write the [`Change`] it gives in one
//! statement.
//!
//! An open chat that no agent took and where nothing was written for the
//! server's idle time closes by itself ([`IdleClose`]): every node runs
//! the sweep, and each store closes the chats [`IdleClose::sweep`] names
//! in one conditional update (still open, still quiet since the cutoff),
//! so nodes racing each other, an agent taking the chat or a last-moment
//! message, close nothing twice and nothing that moved. A closed chat
//! says why ([`CloseReason`]).

use std::time::Duration;

use byrd_spec::chat::{Chat, ChatStatus, CloseReason, Visitor};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::store::{Committed, NewChat, StoreError};

/// A change of a chat's state that a caller asks for.
#[derive(Debug, Clone, Copy)]
pub(in crate::store) enum Transition {
    /// Give the chat to `agent_id`; `agent_found` says whether that agent
    /// exists.
    Assign {
        agent_id: Uuid,
        agent_found: bool,
    },
    Close,
}

/// The part of a chat's row a transition depends on.
#[derive(Debug, Clone, Copy)]
pub(in crate::store) struct Current {
    pub status: ChatStatus,
    pub assigned_agent_id: Option<Uuid>,
}

/// What a transition writes to the chat's row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::store) struct Change {
    pub status: ChatStatus,
    pub assigned_agent_id: Option<Uuid>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub close_reason: Option<CloseReason>,
}

/// Decides `transition` of the chat that is `current` (`None`: there is
/// no such chat) at `now`.
pub(in crate::store) fn decide(
    current: Option<Current>,
    transition: Transition,
    now: DateTime<Utc>,
) -> Result<Change, StoreError> {
    if let Transition::Assign {
        agent_found: false, ..
    } = transition
    {
        return Err(StoreError::AgentNotFound);
    }
    let current = current.ok_or(StoreError::ChatNotFound)?;
    if current.status == ChatStatus::Closed {
        return Err(StoreError::ChatClosed);
    }
    Ok(match transition {
        Transition::Assign { agent_id, .. } => Change {
            status: ChatStatus::Assigned,
            assigned_agent_id: Some(agent_id),
            updated_at: now,
            closed_at: None,
            close_reason: None,
        },
        Transition::Close => Change {
            status: ChatStatus::Closed,
            assigned_agent_id: current.assigned_agent_id,
            updated_at: now,
            closed_at: Some(now),
            close_reason: Some(CloseReason::Agent),
        },
    })
}

/// Closing chats for idleness: open (no agent took them) and unchanged
/// (no message) for `idle`.
#[derive(Debug, Clone, Copy)]
pub struct IdleClose {
    pub idle: Duration,
}

/// One sweep of idle chats at `now`: what the stores' conditional update
/// selects and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::store) struct IdleSweep {
    /// A chat last changed at or before this is idle.
    pub cutoff: DateTime<Utc>,
    /// What an idle chat's row becomes.
    pub change: Change,
    /// Most chats closed by one statement; the next sweep takes the rest,
    /// so one sweep never holds the writer long.
    pub batch: u32,
}

impl IdleClose {
    /// Most chats one sweep closes; see [`IdleSweep::batch`].
    pub const BATCH: u32 = 500;

    pub(in crate::store) fn sweep(self, now: DateTime<Utc>) -> IdleSweep {
        let idle = chrono::Duration::from_std(self.idle).unwrap_or(chrono::Duration::MAX);
        IdleSweep {
            cutoff: now
                .checked_sub_signed(idle)
                .unwrap_or(DateTime::<Utc>::MIN_UTC),
            change: Change {
                status: ChatStatus::Closed,
                assigned_agent_id: None,
                updated_at: now,
                closed_at: Some(now),
                close_reason: Some(CloseReason::Idle),
            },
            batch: IdleClose::BATCH,
        }
    }
}

impl IdleSweep {
    /// Whether a chat in `status`, last changed at `updated_at`, closes:
    /// the condition each store's update states in its `WHERE`.
    #[cfg(test)]
    pub(in crate::store) fn closes(&self, status: ChatStatus, updated_at: DateTime<Utc>) -> bool {
        status == ChatStatus::Open && updated_at <= self.cutoff
    }
}

/// The chat a visitor starts at `now`: open, unassigned, without messages.
pub(in crate::store) fn opened(new: &NewChat, visitor: Visitor, now: DateTime<Utc>) -> Chat {
    Chat {
        id: Uuid::now_v7(),
        status: ChatStatus::Open,
        visitor,
        subject: new.subject.as_ref().map(|s| s.as_str().to_owned()),
        assigned_agent_id: None,
        assigned_agent_name: None,
        created_at: now,
        updated_at: now,
        closed_at: None,
        close_reason: None,
        last_seq: 0,
        context: Box::new(new.context.clone()),
    }
}

/// What a chat's start or transition announces: the chat as it now is.
pub(in crate::store) fn announced(chat: &Chat) -> Vec<Committed> {
    vec![Committed::ChatUpdated(chat.clone())]
}

#[cfg(test)]
mod tests {
    use super::*;

    const AGENT: Uuid = Uuid::from_u128(7);
    const OTHER: Uuid = Uuid::from_u128(8);

    fn assign(agent_id: Uuid) -> Transition {
        Transition::Assign {
            agent_id,
            agent_found: true,
        }
    }

    fn chat(status: ChatStatus, assigned_agent_id: Option<Uuid>) -> Option<Current> {
        Some(Current {
            status,
            assigned_agent_id,
        })
    }

    #[test]
    fn assigning_an_open_or_assigned_chat_gives_it_to_the_agent() {
        let now = Utc::now();
        for current in [
            chat(ChatStatus::Open, None),
            chat(ChatStatus::Assigned, Some(OTHER)),
        ] {
            assert_eq!(
                decide(current, assign(AGENT), now).expect("assigned"),
                Change {
                    status: ChatStatus::Assigned,
                    assigned_agent_id: Some(AGENT),
                    updated_at: now,
                    closed_at: None,
                    close_reason: None,
                }
            );
        }
    }

    #[test]
    fn closing_an_open_or_assigned_chat_keeps_its_agent() {
        let now = Utc::now();
        for agent in [None, Some(AGENT)] {
            for status in [ChatStatus::Open, ChatStatus::Assigned] {
                assert_eq!(
                    decide(chat(status, agent), Transition::Close, now).expect("closed"),
                    Change {
                        status: ChatStatus::Closed,
                        assigned_agent_id: agent,
                        updated_at: now,
                        closed_at: Some(now),
                        close_reason: Some(CloseReason::Agent),
                    }
                );
            }
        }
    }

    #[test]
    fn only_an_open_chat_quiet_since_the_cutoff_closes_for_idleness() {
        let now = Utc::now();
        let sweep = IdleClose {
            idle: Duration::from_secs(60),
        }
        .sweep(now);
        let quiet = now - chrono::Duration::seconds(61);
        let recent = now - chrono::Duration::seconds(59);
        assert!(sweep.closes(ChatStatus::Open, quiet));
        assert!(sweep.closes(ChatStatus::Open, sweep.cutoff));
        assert!(!sweep.closes(ChatStatus::Open, recent));
        assert!(!sweep.closes(ChatStatus::Assigned, quiet));
        assert!(!sweep.closes(ChatStatus::Closed, quiet));
        assert_eq!(sweep.change.status, ChatStatus::Closed);
        assert_eq!(sweep.change.close_reason, Some(CloseReason::Idle));
        assert_eq!(
            (sweep.change.updated_at, sweep.change.closed_at),
            (now, Some(now))
        );
        assert_eq!(sweep.change.assigned_agent_id, None);
    }

    #[test]
    fn an_idle_time_too_long_for_the_calendar_closes_nothing() {
        let now = Utc::now();
        let sweep = IdleClose {
            idle: Duration::from_secs(u64::MAX),
        }
        .sweep(now);
        assert!(!sweep.closes(ChatStatus::Open, now - chrono::Duration::days(365 * 100)));
    }

    #[test]
    fn a_closed_chat_takes_no_transition() {
        let closed = chat(ChatStatus::Closed, Some(AGENT));
        for transition in [assign(OTHER), Transition::Close] {
            assert!(matches!(
                decide(closed, transition, Utc::now()),
                Err(StoreError::ChatClosed)
            ));
        }
    }

    #[test]
    fn a_missing_chat_is_not_found() {
        for transition in [assign(AGENT), Transition::Close] {
            assert!(matches!(
                decide(None, transition, Utc::now()),
                Err(StoreError::ChatNotFound)
            ));
        }
    }

    #[test]
    fn a_missing_agent_is_refused_before_the_chat_is_looked_at() {
        let nobody = Transition::Assign {
            agent_id: AGENT,
            agent_found: false,
        };
        for current in [
            None,
            chat(ChatStatus::Closed, None),
            chat(ChatStatus::Open, None),
        ] {
            assert!(matches!(
                decide(current, nobody, Utc::now()),
                Err(StoreError::AgentNotFound)
            ));
        }
    }

    #[test]
    fn a_chat_starts_open_and_every_change_announces_the_whole_chat() {
        let now = Utc::now();
        let new = NewChat {
            visitor: crate::store::ChatVisitor::Anonymous {
                presented: None,
                fresh: [0; 32],
                ttl: Duration::from_secs(60),
            },
            visitor_name: None,
            visitor_email: None,
            subject: None,
            context: Default::default(),
            address: None,
        };
        let visitor = crate::store::rules::visitors::chat_visitor(&new, Uuid::from_u128(9));
        let chat = opened(&new, visitor, now);
        assert_eq!(chat.visitor.id, Uuid::from_u128(9));
        assert_eq!(chat.status, ChatStatus::Open);
        assert_eq!((chat.assigned_agent_id, chat.closed_at), (None, None));
        assert_eq!(
            (chat.created_at, chat.updated_at, chat.last_seq),
            (now, now, 0)
        );
        assert!(matches!(
            announced(&chat).as_slice(),
            [Committed::ChatUpdated(announced)] if *announced == chat
        ));
    }
}

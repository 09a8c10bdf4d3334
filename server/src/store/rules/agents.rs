//! Deactivating an agent, apart from any database.
//!
//! An agent who leaves is deactivated rather than deleted: their messages
//! keep their author and an admin may reactivate them. [`decide`] refuses
//! two deactivations: an admin's own (`CannotDeactivateSelf`: whoever
//! removes an admin should be someone else, and a slip must not lock the
//! caller out) and the last active admin's (`LastActiveAdmin`: nobody
//! could manage agents any more, and the first admin is only created in
//! an empty database). Deactivating an inactive agent changes nothing and
//! answers the agent as it is, so a retry is safe.
//!
//! A deactivation, in one transaction: the agent's `deactivated_at`, the
//! end of every login session of theirs, and their assigned chats back
//! in the queue. Back in the queue rather than kept: a chat assigned to
//! someone who will not answer waits unseen, while an open one is offered
//! to every agent and keeps its messages. [`announced`] tells the hub of
//! each ended session (its sockets close with `token_revoked`) and each
//! chat (agents see it in the queue again); other nodes learn both from
//! their sweep, as they learn of a logout.

use byrd_spec::agent::{Agent, Role};
use byrd_spec::chat::Chat;
use uuid::Uuid;

use super::transitions;
use crate::store::{Committed, StoreError};

/// What a deactivation asked for comes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::store) enum Step {
    /// Deactivate the agent, end their sessions, requeue their chats.
    Deactivate,
    /// The agent is inactive already: answer it unchanged.
    Unchanged,
}

/// Decides the deactivation of `target` (`None`: no such agent) asked for
/// by the admin `by` (`None`: the operator, from the command line), while
/// `active_admins` admins are active, the target included if it is one.
pub(in crate::store) fn decide(
    by: Option<Uuid>,
    target: Option<&Agent>,
    active_admins: i64,
) -> Result<Step, StoreError> {
    let target = target.ok_or(StoreError::AgentNotFound)?;
    if by == Some(target.id) {
        return Err(StoreError::CannotDeactivateSelf);
    }
    if !target.active {
        return Ok(Step::Unchanged);
    }
    if target.role == Role::Admin && active_admins <= 1 {
        return Err(StoreError::LastActiveAdmin);
    }
    Ok(Step::Deactivate)
}

/// What a deactivation wrote.
#[derive(Debug, Clone)]
pub(in crate::store) struct Deactivated {
    /// The agent as it now is.
    pub agent: Agent,
    /// The login sessions it ended.
    pub ended_sessions: Vec<Uuid>,
    /// The chats it put back in the queue.
    pub requeued_chats: Vec<Chat>,
}

impl Deactivated {
    pub(in crate::store) fn unchanged(agent: Agent) -> Self {
        Deactivated {
            agent,
            ended_sessions: Vec::new(),
            requeued_chats: Vec::new(),
        }
    }
}

/// What a deactivation announces: every session it ended, then every
/// chat it requeued.
pub(in crate::store) fn announced(done: &Deactivated) -> Vec<Committed> {
    let sessions = done
        .ended_sessions
        .iter()
        .map(|session| Committed::Revoked {
            jti: None,
            session: Some(*session),
        });
    let chats = done.requeued_chats.iter().flat_map(transitions::announced);
    sessions.chain(chats).collect()
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    fn agent(id: u128, role: Role, active: bool) -> Agent {
        Agent {
            id: Uuid::from_u128(id),
            email: format!("{id}@example.com"),
            name: "A".to_owned(),
            role,
            created_at: Utc::now(),
            active,
            deactivated_at: (!active).then(Utc::now),
        }
    }

    const ADMIN: Option<Uuid> = Some(Uuid::from_u128(1));

    #[test]
    fn an_admin_deactivates_an_agent_or_another_admin() {
        let agent = agent(2, Role::Agent, true);
        assert_eq!(decide(ADMIN, Some(&agent), 1).unwrap(), Step::Deactivate);
        let other_admin = self::agent(3, Role::Admin, true);
        assert_eq!(
            decide(ADMIN, Some(&other_admin), 2).unwrap(),
            Step::Deactivate
        );
        // The operator has no agent of their own.
        assert_eq!(
            decide(None, Some(&other_admin), 2).unwrap(),
            Step::Deactivate
        );
    }

    #[test]
    fn not_oneself_nor_the_last_active_admin() {
        let me = agent(1, Role::Admin, true);
        assert!(matches!(
            decide(ADMIN, Some(&me), 2),
            Err(StoreError::CannotDeactivateSelf)
        ));
        let last = agent(3, Role::Admin, true);
        assert!(matches!(
            decide(None, Some(&last), 1),
            Err(StoreError::LastActiveAdmin)
        ));
        assert!(matches!(
            decide(ADMIN, None, 2),
            Err(StoreError::AgentNotFound)
        ));
    }

    #[test]
    fn an_inactive_agent_stays_as_it_is() {
        let gone = agent(2, Role::Admin, false);
        // Whatever the count: an inactive admin is not among the active.
        assert_eq!(decide(ADMIN, Some(&gone), 1).unwrap(), Step::Unchanged);
    }

    #[test]
    fn ended_sessions_then_requeued_chats_are_announced() {
        let session = Uuid::from_u128(9);
        let mut done = Deactivated::unchanged(agent(2, Role::Agent, false));
        done.ended_sessions.push(session);
        let said = announced(&done);
        assert!(matches!(
            said.as_slice(),
            [Committed::Revoked { jti: None, session: Some(s) }] if *s == session
        ));
        assert!(announced(&Deactivated::unchanged(agent(2, Role::Agent, false))).is_empty());
    }
}

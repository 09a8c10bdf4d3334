//! The rules of refresh-token rotation, apart from any database.
//!
//! Both stores read the presented token's row, ask [`decide`] what to do,
//! and carry that out with their own statements, so the rules that decide
//! when a session ends are written once and cannot drift apart between
//! SQLite and PostgreSQL.

use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::store::{Committed, RefreshOutcome};

/// What the presented refresh token's row says.
#[derive(Debug)]
pub(in crate::store) struct Presented {
    pub session_id: Uuid,
    pub agent_id: Uuid,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    /// The token's session was revoked.
    pub revoked: bool,
    pub successor_hash: Option<Vec<u8>>,
    pub successor_sealed: Option<Vec<u8>>,
}

/// What a store does with a presented token.
#[derive(Debug, PartialEq, Eq)]
pub(in crate::store) enum Step {
    /// Answer this, changing nothing.
    Answer(RefreshOutcome),
    /// The token was traded in within the grace window: if the successor
    /// with hash `successor_hash` is still unused, answer
    /// [`Presented::replayed`]; otherwise it is a reuse
    /// ([`Step::EndSession`]).
    ReplayIfSuccessorUnused {
        successor_hash: Vec<u8>,
        sealed_successor: Vec<u8>,
    },
    /// Someone holds a copy of a token that was already traded in: either
    /// the legitimate client or an attacker. Revoke the session for both
    /// (OAuth 2.0 Security BCP, refresh token rotation) and answer
    /// [`RefreshOutcome::Reused`].
    EndSession,
    /// Mark the token used and store the successor in its session.
    Rotate,
}

/// Decides what presenting `token` at `now` leads to, `grace` being how
/// long after its use a token may be presented again by a client that
/// lost the answer.
pub(in crate::store) fn decide(token: &Presented, now: DateTime<Utc>, grace: Duration) -> Step {
    if token.revoked {
        return Step::Answer(RefreshOutcome::Revoked);
    }
    if let Some(used_at) = token.used_at {
        let within_grace = (now - used_at).to_std().is_ok_and(|since| since <= grace);
        return match (within_grace, &token.successor_hash, &token.successor_sealed) {
            (true, Some(hash), Some(sealed)) => Step::ReplayIfSuccessorUnused {
                successor_hash: hash.clone(),
                sealed_successor: sealed.clone(),
            },
            _ => Step::EndSession,
        };
    }
    if token.expires_at <= now {
        return Step::Answer(RefreshOutcome::Expired);
    }
    Step::Rotate
}

impl Presented {
    /// The answer for a replay whose successor is still unused.
    pub fn replayed(&self, sealed_successor: Vec<u8>) -> RefreshOutcome {
        RefreshOutcome::Replayed {
            agent_id: self.agent_id,
            session_id: self.session_id,
            sealed_successor,
        }
    }

    /// The answer once the session is revoked for a reuse.
    pub fn reused(&self) -> RefreshOutcome {
        RefreshOutcome::Reused {
            session_id: self.session_id,
        }
    }

    /// The answer once the successor is stored.
    pub fn rotated(&self) -> RefreshOutcome {
        RefreshOutcome::Rotated {
            agent_id: self.agent_id,
            session_id: self.session_id,
        }
    }
}

/// What a rotation's commit announces: the end of a reused token's
/// session, so its sockets close on every node.
pub(in crate::store) fn announced(outcome: &RefreshOutcome) -> Vec<Committed> {
    match outcome {
        RefreshOutcome::Reused { session_id } => vec![Committed::Revoked {
            jti: None,
            session: Some(*session_id),
        }],
        _ => Vec::new(),
    }
}

/// What a logout's commit announces: the access token, and the session
/// when the token had one.
pub(in crate::store) fn logged_out(jti: String, session: Option<Uuid>) -> Vec<Committed> {
    vec![Committed::Revoked {
        jti: Some(jti),
        session,
    }]
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;

    const GRACE: Duration = Duration::from_secs(30);

    fn fresh(now: DateTime<Utc>) -> Presented {
        Presented {
            session_id: Uuid::from_u128(1),
            agent_id: Uuid::from_u128(2),
            expires_at: now + TimeDelta::days(1),
            used_at: None,
            revoked: false,
            successor_hash: None,
            successor_sealed: None,
        }
    }

    fn used(now: DateTime<Utc>, ago: TimeDelta) -> Presented {
        Presented {
            used_at: Some(now - ago),
            successor_hash: Some(vec![7; 32]),
            successor_sealed: Some(vec![9; 48]),
            ..fresh(now)
        }
    }

    #[test]
    fn an_unused_live_token_rotates() {
        let now = Utc::now();
        assert_eq!(decide(&fresh(now), now, GRACE), Step::Rotate);
    }

    #[test]
    fn an_expired_token_is_refused_without_ending_the_session() {
        let now = Utc::now();
        let token = Presented {
            expires_at: now,
            ..fresh(now)
        };
        assert_eq!(
            decide(&token, now, GRACE),
            Step::Answer(RefreshOutcome::Expired)
        );
    }

    #[test]
    fn a_revoked_session_answers_revoked_even_for_a_used_token() {
        let now = Utc::now();
        let token = Presented {
            revoked: true,
            ..used(now, TimeDelta::seconds(1))
        };
        assert_eq!(
            decide(&token, now, GRACE),
            Step::Answer(RefreshOutcome::Revoked)
        );
    }

    #[test]
    fn a_token_presented_again_within_grace_may_be_replayed() {
        let now = Utc::now();
        assert_eq!(
            decide(&used(now, TimeDelta::seconds(30)), now, GRACE),
            Step::ReplayIfSuccessorUnused {
                successor_hash: vec![7; 32],
                sealed_successor: vec![9; 48],
            }
        );
    }

    #[test]
    fn a_token_presented_again_after_grace_ends_the_session() {
        let now = Utc::now();
        assert_eq!(
            decide(&used(now, TimeDelta::seconds(31)), now, GRACE),
            Step::EndSession
        );
    }

    #[test]
    fn a_used_token_without_a_sealed_successor_ends_the_session() {
        // Successors are sealed only for the grace window; the purge drops
        // them after it, and a used token without one is a plain reuse.
        let now = Utc::now();
        let token = Presented {
            successor_sealed: None,
            ..used(now, TimeDelta::seconds(1))
        };
        assert_eq!(decide(&token, now, GRACE), Step::EndSession);
    }

    #[test]
    fn a_use_stamped_after_now_is_not_within_grace() {
        // A clock that stepped back: a negative age is no reason to
        // replay, so the safe side, ending the session, is taken.
        let now = Utc::now();
        assert_eq!(
            decide(&used(now, TimeDelta::seconds(-5)), now, GRACE),
            Step::EndSession
        );
    }

    #[test]
    fn only_a_reuse_is_announced_and_it_ends_the_session() {
        let session_id = Uuid::from_u128(3);
        assert!(matches!(
            announced(&RefreshOutcome::Reused { session_id }).as_slice(),
            [Committed::Revoked { jti: None, session: Some(ended) }] if *ended == session_id
        ));
        assert!(announced(&RefreshOutcome::Expired).is_empty());
        assert!(announced(&fresh(Utc::now()).rotated()).is_empty());
    }

    #[test]
    fn a_logout_announces_its_token_and_its_session() {
        let session = Some(Uuid::from_u128(4));
        assert!(matches!(
            logged_out("jti-1".to_owned(), session).as_slice(),
            [Committed::Revoked { jti: Some(jti), session: ended }]
                if jti == "jti-1" && *ended == session
        ));
    }
}

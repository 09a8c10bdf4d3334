//! Single-use WebSocket tickets, apart from any database: whether a
//! principal may hold another unspent ticket, and whether a ticket taken
//! out of the store was still good.
//!
//! Both stores make a ticket in one transaction that first deletes every
//! expired ticket (so the table holds only live ones, without a task of
//! its own), then counts the principal's tickets and asks [`issue`]:
//! SQLite's single writer runs one such transaction at a time, and
//! PostgreSQL takes a transaction-scoped advisory lock on the principal
//! first, so two nodes cannot both admit the last one. A ticket is spent
//! by one statement that deletes its row and returns it, so two nodes
//! presenting the same ticket cannot both get it; [`redeemable`] then
//! says whether the row had expired. Times are Unix milliseconds of the
//! node's clock.

use std::time::Duration;

/// What a principal holds when it asks for another ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unspent {
    /// Unexpired tickets not yet used.
    pub count: i64,
    /// When the first of them expires; `None` when there are none.
    pub first_expiry: Option<i64>,
}

/// What to do with a request for a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Issue {
    Store,
    /// The principal holds `max_unspent` tickets already; one of them
    /// expires (or is used) after `retry_after` at the latest.
    Refuse {
        retry_after: Duration,
    },
}

/// Whether a principal holding `unspent` tickets at `now` may get one more
/// when it may hold `max_unspent`.
pub(in crate::store) fn issue(unspent: Unspent, max_unspent: u32, now: i64) -> Issue {
    if unspent.count < i64::from(max_unspent) {
        return Issue::Store;
    }
    let wait_ms = unspent
        .first_expiry
        .map_or(0, |first| first.saturating_sub(now))
        .max(0);
    // Whole seconds, rounded up and at least one: a client that waits
    // `Retry-After` must find a place.
    let wait_ms = u64::try_from(wait_ms).unwrap_or(0);
    let seconds = wait_ms.div_ceil(1000).max(1);
    Issue::Refuse {
        retry_after: Duration::from_secs(seconds),
    }
}

/// Whether a ticket that expires at `expires_at` opens a socket at `now`.
pub(in crate::store) fn redeemable(expires_at: i64, now: i64) -> bool {
    now < expires_at
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holding(count: i64, first_expiry: Option<i64>) -> Unspent {
        Unspent {
            count,
            first_expiry,
        }
    }

    #[test]
    fn a_principal_below_the_bound_gets_a_ticket() {
        assert_eq!(issue(holding(0, None), 20, 1_000), Issue::Store);
        assert_eq!(issue(holding(19, Some(5_000)), 20, 1_000), Issue::Store);
    }

    #[test]
    fn at_the_bound_it_waits_for_its_first_ticket_to_expire_rounded_up() {
        assert_eq!(
            issue(holding(20, Some(30_001)), 20, 1_000),
            Issue::Refuse {
                retry_after: Duration::from_secs(30)
            }
        );
        assert_eq!(
            issue(holding(21, Some(31_001)), 20, 1_000),
            Issue::Refuse {
                retry_after: Duration::from_secs(31)
            }
        );
    }

    #[test]
    fn the_wait_is_at_least_one_second() {
        for first in [Some(1_000), Some(500), None] {
            assert_eq!(
                issue(holding(20, first), 20, 1_000),
                Issue::Refuse {
                    retry_after: Duration::from_secs(1)
                }
            );
        }
    }

    #[test]
    fn a_bound_of_zero_refuses_every_ticket() {
        assert!(matches!(
            issue(holding(0, None), 0, 0),
            Issue::Refuse { .. }
        ));
    }

    #[test]
    fn a_ticket_opens_a_socket_only_before_it_expires() {
        assert!(redeemable(2_000, 1_999));
        assert!(!redeemable(2_000, 2_000));
        assert!(!redeemable(2_000, 9_000));
    }
}

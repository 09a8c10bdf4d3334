//! Single-use WebSocket tickets, as `rules::tickets` decides. Both the
//! making and the spending of a ticket are writes, so both go through the
//! writer: one at a time, which is what keeps the bound on unspent
//! tickets exact and a ticket good once.

use chrono::Utc;
use rusqlite::{OptionalExtension, params};

use super::SqliteStore;
use crate::store::rules::tickets::{self, Issue, Unspent};
use crate::store::{NewWsTicket, StoreError, TicketIssue};

impl SqliteStore {
    /// Stores `ticket` unless its principal already holds `max_unspent`
    /// unspent ones; expired tickets of everyone are deleted first.
    pub async fn issue_ws_ticket(
        &self,
        ticket: NewWsTicket,
        max_unspent: u32,
    ) -> Result<TicketIssue, StoreError> {
        self.writer
            .run(
                move |connection| {
                    let now = Utc::now().timestamp_millis();
                    connection
                        .prepare_cached("DELETE FROM ws_tickets WHERE expires_at <= ?1")?
                        .execute([now])?;
                    let unspent = connection
                        .prepare_cached(
                            "SELECT count(*), min(expires_at) FROM ws_tickets WHERE principal = ?1",
                        )?
                        .query_row([ticket.principal.as_bytes()], |row| {
                            Ok(Unspent {
                                count: row.get(0)?,
                                first_expiry: row.get(1)?,
                            })
                        })?;
                    if let Issue::Refuse { retry_after } = tickets::issue(unspent, max_unspent, now)
                    {
                        return Ok(TicketIssue::TooMany { retry_after });
                    }
                    connection
                        .prepare_cached(
                            "INSERT INTO ws_tickets (ticket_hash, principal, claims, expires_at)
                             VALUES (?1, ?2, ?3, ?4)",
                        )?
                        .execute(params![
                            &ticket.hash[..],
                            ticket.principal.as_bytes(),
                            ticket.claims,
                            ticket.expires_at,
                        ])?;
                    Ok(TicketIssue::Issued)
                },
                |_| Vec::new(),
            )
            .await
    }

    /// Spends the ticket with hash `hash`: deletes its row and returns the
    /// claims it carries, or `None` when there was no such ticket or it
    /// had expired.
    pub async fn redeem_ws_ticket(&self, hash: [u8; 32]) -> Result<Option<String>, StoreError> {
        self.writer
            .run(
                move |connection| {
                    let now = Utc::now().timestamp_millis();
                    let spent: Option<(String, i64)> = connection
                        .prepare_cached(
                            "DELETE FROM ws_tickets WHERE ticket_hash = ?1 RETURNING claims, expires_at",
                        )?
                        .query_row([&hash[..]], |row| Ok((row.get(0)?, row.get(1)?)))
                        .optional()?;
                    Ok(spent
                        .filter(|(_, expires_at)| tickets::redeemable(*expires_at, now))
                        .map(|(claims, _)| claims))
                },
                |_| Vec::new(),
            )
            .await
    }
}

//! Single-use WebSocket tickets, as `rules::tickets` decides, on the
//! database every node shares: a ticket made on one node opens a socket
//! on any, and only once.

use chrono::Utc;
use sqlx::PgConnection;

use super::{PostgresStore, store_error};
use crate::store::rules::tickets::{self, Issue, Unspent};
use crate::store::{NewWsTicket, StoreError, TicketIssue};

impl PostgresStore {
    /// Stores `ticket` unless its principal already holds `max_unspent`
    /// unspent ones; expired tickets of everyone are deleted first. The
    /// principal's advisory lock is taken for the transaction, so two
    /// nodes cannot both admit its last ticket.
    pub async fn issue_ws_ticket(
        &self,
        ticket: NewWsTicket,
        max_unspent: u32,
    ) -> Result<TicketIssue, StoreError> {
        self.write(
            move |transaction| {
                Box::pin(async move {
                    let now = Utc::now().timestamp_millis();
                    let unspent = sweep_and_count(transaction, &ticket, now).await?;
                    if let Issue::Refuse { retry_after } = tickets::issue(unspent, max_unspent, now)
                    {
                        return Ok(TicketIssue::TooMany { retry_after });
                    }
                    sqlx::query(
                        "INSERT INTO ws_tickets (ticket_hash, principal, claims, expires_at)
                         VALUES ($1, $2, $3, $4)",
                    )
                    .bind(&ticket.hash[..])
                    .bind(ticket.principal)
                    .bind(&ticket.claims)
                    .bind(ticket.expires_at)
                    .execute(&mut **transaction)
                    .await
                    .map_err(store_error)?;
                    Ok(TicketIssue::Issued)
                })
            },
            |_| Vec::new(),
        )
        .await
    }

    /// Spends the ticket with hash `hash` in one statement, which deletes
    /// its row and returns it: of two nodes presenting one ticket at once,
    /// one gets the row and the other nothing. `None` when there was no
    /// such ticket or it had expired.
    pub async fn redeem_ws_ticket(&self, hash: [u8; 32]) -> Result<Option<String>, StoreError> {
        let now = Utc::now().timestamp_millis();
        let spent: Option<(String, i64)> = sqlx::query_as(
            "DELETE FROM ws_tickets WHERE ticket_hash = $1 RETURNING claims, expires_at",
        )
        .bind(&hash[..])
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(spent
            .filter(|(_, expires_at)| tickets::redeemable(*expires_at, now))
            .map(|(claims, _)| claims))
    }
}

/// Takes the principal's advisory lock, deletes expired tickets, and
/// counts what the principal still holds.
async fn sweep_and_count(
    connection: &mut PgConnection,
    ticket: &NewWsTicket,
    now: i64,
) -> Result<Unspent, StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(format!("ws_ticket:{}", ticket.principal))
        .execute(&mut *connection)
        .await
        .map_err(store_error)?;
    sqlx::query("DELETE FROM ws_tickets WHERE expires_at <= $1")
        .bind(now)
        .execute(&mut *connection)
        .await
        .map_err(store_error)?;
    let (count, first_expiry): (i64, Option<i64>) =
        sqlx::query_as("SELECT count(*), min(expires_at) FROM ws_tickets WHERE principal = $1")
            .bind(ticket.principal)
            .fetch_one(&mut *connection)
            .await
            .map_err(store_error)?;
    Ok(Unspent {
        count,
        first_expiry,
    })
}

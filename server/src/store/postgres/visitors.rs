//! Visitors: finding or creating the visitor of a chat start as
//! `rules::visitors` decides, and a visitor's chats.

use byrd_spec::chat::Chat;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{PostgresStore, store_error};
use crate::store::rows::{CHAT_COLUMNS, CHAT_LOOKUPS, Columns, chat_from_row};
use crate::store::rules::visitors::{self, Continuity, Held};
use crate::store::{ChatVisitor, NewChat, StoreError, VisitorFound};

fn numbered(n: u8) -> String {
    format!("${n}")
}

/// The id of the visitor starting `new`, found or created in the chat
/// start's transaction. Two starts presenting one token both renew it;
/// two starts of one new verified identity meet on its unique key, the
/// second waiting for the first and then updating the row it made.
pub(super) async fn resolve(
    connection: &mut PgConnection,
    new: &NewChat,
    now: DateTime<Utc>,
) -> Result<(Uuid, VisitorFound), StoreError> {
    let name = new.visitor_name.as_ref().map(|n| n.as_str());
    let email = new.visitor_email.as_ref().map(|e| e.as_str());
    match &new.visitor {
        ChatVisitor::Anonymous {
            presented,
            fresh,
            ttl,
        } => {
            let held = match presented {
                Some(hash) => held(connection, hash).await?,
                None => None,
            };
            match visitors::continuity(held, now, *ttl) {
                Continuity::Renew { id, expires_at } => {
                    sqlx::query(&visitors::renew_statement(numbered))
                        .bind(now)
                        .bind(expires_at)
                        .bind(name)
                        .bind(email)
                        .bind(id)
                        .execute(&mut *connection)
                        .await
                        .map_err(store_error)?;
                    Ok((id, VisitorFound::Returning))
                }
                Continuity::Create { id, expires_at } => {
                    sqlx::query(&visitors::create_statement(numbered))
                        .bind(id)
                        .bind(fresh.as_slice())
                        .bind(expires_at)
                        .bind(now)
                        .bind(name)
                        .bind(email)
                        .execute(&mut *connection)
                        .await
                        .map_err(store_error)?;
                    Ok((id, VisitorFound::New))
                }
            }
        }
        ChatVisitor::Verified(identity) => {
            let id: Uuid = sqlx::query_scalar(&visitors::upsert_verified(numbered))
                .bind(Uuid::now_v7())
                .bind(now)
                .bind(identity.name().map(|n| n.as_str()).or(name))
                .bind(identity.email().map(|e| e.as_str()).or(email))
                .bind(identity.issuer())
                .bind(identity.subject())
                .bind(visitors::attributes_text(identity.attributes()))
                .fetch_one(&mut *connection)
                .await
                .map_err(store_error)?;
            Ok((id, VisitorFound::Verified))
        }
    }
}

/// The visitor whose continuity token hashes to `hash`, if any.
async fn held(connection: &mut PgConnection, hash: &[u8; 32]) -> Result<Option<Held>, StoreError> {
    let row = sqlx::query(&visitors::held_statement(numbered))
        .bind(hash.as_slice())
        .fetch_optional(connection)
        .await
        .map_err(store_error)?;
    row.map(|row| {
        Ok(Held {
            id: row.uuid("id")?,
            expires_at: row.time("secret_expires_at")?,
        })
    })
    .transpose()
}

/// Forgets the continuity tokens that lapsed before `now`; see the SQLite
/// store's function.
pub(super) async fn forget_lapsed_tokens(
    connection: &mut PgConnection,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let forgotten = sqlx::query(
        "UPDATE visitors SET secret_hash = NULL, secret_expires_at = NULL
         WHERE secret_expires_at < $1",
    )
    .bind(now)
    .execute(connection)
    .await
    .map_err(store_error)?;
    Ok(forgotten.rows_affected())
}

impl PostgresStore {
    /// The chats of `visitor_id`, newest first, older than `before`.
    pub async fn visitor_chats(
        &self,
        visitor_id: Uuid,
        before: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<Chat>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {CHAT_COLUMNS}, {CHAT_LOOKUPS} FROM chats
             WHERE visitor_id = $1 AND ($2::uuid IS NULL OR id < $2)
             ORDER BY id DESC LIMIT $3"
        ))
        .bind(visitor_id)
        .bind(before)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        rows.iter().map(chat_from_row).collect()
    }

    /// Whether `visitor_id` is a verified visitor; false for an anonymous
    /// one and for an id no visitor has.
    pub async fn is_visitor_verified(&self, visitor_id: Uuid) -> Result<bool, StoreError> {
        let verified: Option<bool> =
            sqlx::query_scalar("SELECT issuer IS NOT NULL FROM visitors WHERE id = $1")
                .bind(visitor_id)
                .fetch_optional(&self.pool)
                .await
                .map_err(store_error)?;
        Ok(verified.unwrap_or(false))
    }
}

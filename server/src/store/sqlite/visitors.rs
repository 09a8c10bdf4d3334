//! Visitors: finding or creating the visitor of a chat start as
//! `rules::visitors` decides, and a visitor's chats.

use byrd_spec::chat::Chat;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use uuid::Uuid;

use super::SqliteStore;
use super::rows::time_text;
use crate::store::rows::{CHAT_COLUMNS, CHAT_LOOKUPS, Columns, chat_from_row};
use crate::store::rules::visitors::{self, Continuity, Held};
use crate::store::{ChatVisitor, NewChat, StoreError, VisitorFound};

fn numbered(n: u8) -> String {
    format!("?{n}")
}

/// The id of the visitor starting `new`, found or created in the chat
/// start's write; the writer runs one write at a time, so nothing comes
/// between the look-up and the insert.
pub(super) fn resolve(
    connection: &Connection,
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
                Some(hash) => held(connection, hash)?,
                None => None,
            };
            match visitors::continuity(held, now, *ttl) {
                Continuity::Renew { id, expires_at } => {
                    connection
                        .prepare_cached(&visitors::renew_statement(numbered))?
                        .execute(params![
                            time_text(&now),
                            time_text(&expires_at),
                            name,
                            email,
                            id.as_bytes(),
                        ])?;
                    Ok((id, VisitorFound::Returning))
                }
                Continuity::Create { id, expires_at } => {
                    connection
                        .prepare_cached(&visitors::create_statement(numbered))?
                        .execute(params![
                            id.as_bytes(),
                            fresh.as_slice(),
                            time_text(&expires_at),
                            time_text(&now),
                            name,
                            email,
                        ])?;
                    Ok((id, VisitorFound::New))
                }
            }
        }
        ChatVisitor::Verified(identity) => {
            let mut statement = connection.prepare_cached(&visitors::upsert_verified(numbered))?;
            let mut rows = statement.query(params![
                Uuid::now_v7().as_bytes(),
                time_text(&now),
                identity.name().map(|n| n.as_str()).or(name),
                identity.email().map(|e| e.as_str()).or(email),
                identity.issuer(),
                identity.subject(),
                visitors::attributes_text(identity.attributes()),
            ])?;
            let row = rows
                .next()?
                .ok_or_else(|| StoreError::Unexpected(anyhow::anyhow!("upsert returned no row")))?;
            Ok((row.uuid("id")?, VisitorFound::Verified))
        }
    }
}

/// The visitor whose continuity token hashes to `hash`, if any.
fn held(connection: &Connection, hash: &[u8; 32]) -> Result<Option<Held>, StoreError> {
    let mut statement = connection.prepare_cached(&visitors::held_statement(numbered))?;
    let mut rows = statement.query([hash.as_slice()])?;
    let Some(row) = rows.next()? else {
        return Ok(None);
    };
    Ok(Some(Held {
        id: row.uuid("id")?,
        expires_at: row.time("secret_expires_at")?,
    }))
}

/// Forgets the continuity tokens that lapsed before `now`: the hash and
/// its expiry go, the visitor and their chats stay (a lapsed token is no
/// different from an unknown one, and its hash need not be kept).
pub(super) fn forget_lapsed_tokens(
    connection: &Connection,
    now: &DateTime<Utc>,
) -> Result<usize, StoreError> {
    Ok(connection
        .prepare_cached(
            "UPDATE visitors SET secret_hash = NULL, secret_expires_at = NULL
             WHERE secret_expires_at < ?1",
        )?
        .execute([time_text(now)])?)
}

impl SqliteStore {
    /// The chats of `visitor_id`, newest first, older than `before`.
    pub async fn visitor_chats(
        &self,
        visitor_id: Uuid,
        before: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<Chat>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {CHAT_COLUMNS}, {CHAT_LOOKUPS} FROM chats
             WHERE visitor_id = ?1 AND (?2 IS NULL OR id < ?2)
             ORDER BY id DESC LIMIT ?3"
        ))
        .bind(visitor_id)
        .bind(before)
        .bind(i64::from(limit))
        .fetch_all(&self.reads)
        .await?;
        rows.iter().map(chat_from_row).collect()
    }

    /// Whether `visitor_id` is a verified visitor; false for an anonymous
    /// one and for an id no visitor has.
    pub async fn is_visitor_verified(&self, visitor_id: Uuid) -> Result<bool, StoreError> {
        let verified: Option<bool> =
            sqlx::query_scalar("SELECT issuer IS NOT NULL FROM visitors WHERE id = ?1")
                .bind(visitor_id)
                .fetch_optional(&self.reads)
                .await?;
        Ok(verified.unwrap_or(false))
    }
}

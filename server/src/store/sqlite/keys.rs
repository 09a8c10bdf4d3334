//! The keyring's rows (`signing_keys`).
//!
//! Changes run on the writer, inside its `BEGIN IMMEDIATE` transaction:
//! the rows are read and the rule decides on them there, so no other
//! process writing the same file can slip a key in between.

use rusqlite::{Connection, params};

use super::SqliteStore;
use super::rows::time_text;
use crate::store::StoreError;
use crate::store::keys::{KEY_COLUMNS, KeyChange, SigningKeyRow, key_from_row};

impl SqliteStore {
    /// Every key, retired ones too, oldest first.
    pub async fn signing_keys(&self) -> Result<Vec<SigningKeyRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {KEY_COLUMNS} FROM signing_keys ORDER BY created_at, kid"
        ))
        .fetch_all(&self.reads)
        .await?;
        rows.iter().map(key_from_row).collect()
    }

    /// Reads the keys, asks `decide` what to change, and changes it, in
    /// one transaction.
    pub async fn change_signing_keys<T, F>(&self, decide: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&[SigningKeyRow]) -> (T, Vec<KeyChange>) + Send + 'static,
    {
        self.writer
            .run(
                move |connection| {
                    let keys = read_keys(connection)?;
                    let (outcome, changes) = decide(&keys);
                    for change in changes {
                        make(connection, change)?;
                    }
                    Ok(outcome)
                },
                |_| Vec::new(),
            )
            .await
    }
}

fn read_keys(connection: &Connection) -> Result<Vec<SigningKeyRow>, StoreError> {
    let mut statement = connection.prepare_cached(&format!(
        "SELECT {KEY_COLUMNS} FROM signing_keys ORDER BY created_at, kid"
    ))?;
    let mut rows = statement.query([])?;
    let mut keys = Vec::new();
    while let Some(row) = rows.next()? {
        keys.push(key_from_row(row)?);
    }
    Ok(keys)
}

fn make(connection: &Connection, change: KeyChange) -> Result<(), StoreError> {
    match change {
        KeyChange::Insert(key) => {
            connection
                .prepare_cached(&format!(
                    "INSERT INTO signing_keys ({KEY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
                ))?
                .execute(params![
                    key.kid,
                    key.alg.jws(),
                    key.public_jwk,
                    key.sealed_private,
                    time_text(&key.created_at),
                    time_text(&key.activates_at),
                    key.verify_until.as_ref().map(time_text),
                    key.retired_at.as_ref().map(time_text),
                ])?;
        }
        KeyChange::VerifyUntil { kid, at } => {
            connection
                .prepare_cached("UPDATE signing_keys SET verify_until = ?1 WHERE kid = ?2")?
                .execute(params![at.as_ref().map(time_text), kid])?;
        }
        KeyChange::ActivatesAt { kid, at } => {
            connection
                .prepare_cached("UPDATE signing_keys SET activates_at = ?1 WHERE kid = ?2")?
                .execute(params![time_text(&at), kid])?;
        }
        KeyChange::Retire { kid, at } => {
            connection
                .prepare_cached("UPDATE signing_keys SET retired_at = ?1 WHERE kid = ?2")?
                .execute(params![time_text(&at), kid])?;
        }
    }
    Ok(())
}

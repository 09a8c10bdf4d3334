//! The keyring's rows (`signing_keys`).
//!
//! A change locks the table first, then reads the rows and lets the rule
//! decide on them: two nodes starting together on an empty keyring take
//! turns, and the second finds the first one's key.

use futures_util::future::BoxFuture;
use sqlx::{Postgres, Transaction};

use super::{PostgresStore, store_error};
use crate::store::StoreError;
use crate::store::keys::{KEY_COLUMNS, KeyChange, SigningKeyRow, key_from_row};

const SELECT_KEYS: &str = "ORDER BY created_at, kid";

impl PostgresStore {
    /// Every key, retired ones too, oldest first.
    pub async fn signing_keys(&self) -> Result<Vec<SigningKeyRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {KEY_COLUMNS} FROM signing_keys {SELECT_KEYS}"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        rows.iter().map(key_from_row).collect()
    }

    /// Reads the keys, asks `decide` what to change, and changes it, in
    /// one transaction that holds the table's lock.
    pub async fn change_signing_keys<T, F>(&self, decide: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&[SigningKeyRow]) -> (T, Vec<KeyChange>) + Send + 'static,
    {
        self.write(
            move |transaction| -> BoxFuture<'_, Result<T, StoreError>> {
                Box::pin(async move {
                    sqlx::query("LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE")
                        .execute(&mut **transaction)
                        .await
                        .map_err(store_error)?;
                    let rows = sqlx::query(&format!(
                        "SELECT {KEY_COLUMNS} FROM signing_keys {SELECT_KEYS}"
                    ))
                    .fetch_all(&mut **transaction)
                    .await
                    .map_err(store_error)?;
                    let keys = rows
                        .iter()
                        .map(key_from_row)
                        .collect::<Result<Vec<_>, _>>()?;
                    let (outcome, changes) = decide(&keys);
                    for change in changes {
                        make(transaction, change).await?;
                    }
                    Ok(outcome)
                })
            },
            |_| Vec::new(),
        )
        .await
    }
}

async fn make(
    transaction: &mut Transaction<'static, Postgres>,
    change: KeyChange,
) -> Result<(), StoreError> {
    let insert =
        format!("INSERT INTO signing_keys ({KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)");
    let query = match change {
        KeyChange::Insert(key) => sqlx::query(&insert)
            .bind(key.kid)
            .bind(key.alg.jws())
            .bind(key.public_jwk)
            .bind(key.sealed_private)
            .bind(key.created_at)
            .bind(key.activates_at)
            .bind(key.verify_until)
            .bind(key.retired_at),
        KeyChange::VerifyUntil { kid, at } => {
            sqlx::query("UPDATE signing_keys SET verify_until = $1 WHERE kid = $2")
                .bind(at)
                .bind(kid)
        }
        KeyChange::ActivatesAt { kid, at } => {
            sqlx::query("UPDATE signing_keys SET activates_at = $1 WHERE kid = $2")
                .bind(at)
                .bind(kid)
        }
        KeyChange::Retire { kid, at } => {
            sqlx::query("UPDATE signing_keys SET retired_at = $1 WHERE kid = $2")
                .bind(at)
                .bind(kid)
        }
    };
    query
        .execute(&mut **transaction)
        .await
        .map_err(store_error)?;
    Ok(())
}

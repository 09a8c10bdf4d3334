//! PostgreSQL's rows as the store's [`Columns`] view, from which records
//! are decoded once for both stores (see `store::rows`). PostgreSQL keeps
//! ids and times in native types, so nothing here parses.

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::postgres::PgRow;
use uuid::Uuid;

use crate::store::StoreError;
use crate::store::rows::{Columns, undecodable};

impl Columns for PgRow {
    fn opt_uuid(&self, column: &str) -> Result<Option<Uuid>, StoreError> {
        self.try_get(column).map_err(|e| undecodable(column, e))
    }

    fn opt_i64(&self, column: &str) -> Result<Option<i64>, StoreError> {
        self.try_get(column).map_err(|e| undecodable(column, e))
    }

    fn opt_text(&self, column: &str) -> Result<Option<String>, StoreError> {
        self.try_get(column).map_err(|e| undecodable(column, e))
    }

    fn opt_time(&self, column: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.try_get(column).map_err(|e| undecodable(column, e))
    }
}

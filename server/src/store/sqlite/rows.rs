//! SQLite's rows and values, whichever binding runs the query.
//!
//! Reads go through sqlx's pool and writes through the writer's rusqlite
//! connection; both read the same tables. Both kinds of row give the
//! store's [`Columns`] view, from which records are decoded once (see
//! `store::rows`), and values are bound in one encoding (ids as 16-byte
//! blobs, times as RFC 3339 text, as sqlx writes them), so either side
//! reads what the other wrote.

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use uuid::Uuid;

use crate::store::StoreError;
use crate::store::rows::{Columns, undecodable};

impl Columns for SqliteRow {
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
        time_from_text(column, self.opt_text(column)?)
    }
}

impl Columns for rusqlite::Row<'_> {
    fn opt_uuid(&self, column: &str) -> Result<Option<Uuid>, StoreError> {
        let value = self.get_ref(column).map_err(|e| undecodable(column, e))?;
        value
            .as_blob_or_null()
            .map_err(|e| undecodable(column, e))?
            .map(|bytes| Uuid::from_slice(bytes).map_err(|e| undecodable(column, e)))
            .transpose()
    }

    fn opt_i64(&self, column: &str) -> Result<Option<i64>, StoreError> {
        self.get(column).map_err(|e| undecodable(column, e))
    }

    fn opt_text(&self, column: &str) -> Result<Option<String>, StoreError> {
        self.get(column).map_err(|e| undecodable(column, e))
    }

    fn opt_time(&self, column: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        time_from_text(column, self.opt_text(column)?)
    }
}

/// A time column read as text.
fn time_from_text(column: &str, text: Option<String>) -> Result<Option<DateTime<Utc>>, StoreError> {
    text.map(|text| parse_time(&text).ok_or_else(|| undecodable(column, text)))
        .transpose()
}

/// A time as stored: RFC 3339 in UTC, exactly as sqlx encodes it, so that
/// text comparisons in SQL order times correctly.
pub(super) fn time_text(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

/// A stored time: RFC 3339, or SQLite's own `YYYY-MM-DD HH:MM:SS` in UTC.
fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|at| at.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(text, "%F %T%.f")
                .ok()
                .map(|naive| naive.and_utc())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip_through_their_stored_text() {
        let at = Utc::now();
        assert_eq!(parse_time(&time_text(&at)), Some(at));
        assert_eq!(
            parse_time("2026-01-02 03:04:05"),
            DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z")
                .ok()
                .map(|t| t.with_timezone(&Utc))
        );
        assert_eq!(parse_time("yesterday"), None);
    }
}

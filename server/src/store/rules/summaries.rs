//! A page of chat summaries, apart from any database: one statement per
//! page, whichever the page size, and one way to read its rows.
//!
//! A queue of a thousand chats must load in a handful of requests, so a
//! page is one query: the page of chats (as the chat list selects it),
//! joined to each chat's newest message (`seq = last_seq`, one row by the
//! `(chat_id, seq)` key) and to the two read markers a queue shows, the
//! caller's and the visitor's. Both stores run the text [`statement`]
//! builds, differing only in how they number parameters, and decode the
//! rows with [`summary_from_row`].

use byrd_spec::chat::ChatSummary;

use crate::store::StoreError;
use crate::store::rows::{CHAT_COLUMNS, CHAT_LOOKUPS, Columns, chat_from_row, message_from_row};

/// The message columns, each read under its name with this prefix, so
/// that they do not collide with the chat's.
const MESSAGE_PREFIX: &str = "m_";

/// The statement of one page. `param(n)` writes parameter `n`: 1 the
/// status (or NULL), 2 the id the page starts below (or NULL), 3 the
/// limit, 4 the calling agent's id.
pub(in crate::store) fn statement(param: impl Fn(u8) -> String) -> String {
    let (status, before, limit, reader) = (param(1), param(2), param(3), param(4));
    format!(
        "SELECT page.*,
                m.id AS m_id, m.chat_id AS m_chat_id, m.seq AS m_seq,
                m.author_type AS m_author_type, m.author_id AS m_author_id,
                m.author_name AS m_author_name, m.body AS m_body,
                m.client_msg_id AS m_client_msg_id, m.created_at AS m_created_at,
                mine.seq AS read_seq, visitor.seq AS visitor_read_seq
         FROM (SELECT {CHAT_COLUMNS}, {CHAT_LOOKUPS} FROM chats
               WHERE ({status} IS NULL OR status = {status}) AND ({before} IS NULL OR id < {before})
               ORDER BY id DESC LIMIT {limit}) AS page
         LEFT JOIN messages m ON m.chat_id = page.id AND m.seq = page.last_seq
         LEFT JOIN read_markers mine ON mine.chat_id = page.id
              AND mine.reader_type = 'agent' AND mine.reader_id = {reader}
         LEFT JOIN read_markers visitor ON visitor.chat_id = page.id
              AND visitor.reader_type = 'guest' AND visitor.reader_id = page.visitor_id
         ORDER BY page.id DESC"
    )
}

/// The row's message columns under their plain names.
struct Prefixed<'a, R>(&'a R);

impl<R: Columns> Columns for Prefixed<'_, R> {
    fn opt_uuid(&self, column: &str) -> Result<Option<uuid::Uuid>, StoreError> {
        self.0.opt_uuid(&format!("{MESSAGE_PREFIX}{column}"))
    }

    fn opt_i64(&self, column: &str) -> Result<Option<i64>, StoreError> {
        self.0.opt_i64(&format!("{MESSAGE_PREFIX}{column}"))
    }

    fn opt_text(&self, column: &str) -> Result<Option<String>, StoreError> {
        self.0.opt_text(&format!("{MESSAGE_PREFIX}{column}"))
    }

    fn opt_time(&self, column: &str) -> Result<Option<chrono::DateTime<chrono::Utc>>, StoreError> {
        self.0.opt_time(&format!("{MESSAGE_PREFIX}{column}"))
    }
}

/// A summary from one row of [`statement`]: a chat without messages has
/// no newest one (the join found none).
pub(in crate::store) fn summary_from_row(row: &impl Columns) -> Result<ChatSummary, StoreError> {
    let chat = chat_from_row(row)?;
    let last_message = match row.opt_uuid("m_id")? {
        Some(_) => Some(message_from_row(&Prefixed(row))?),
        None => None,
    };
    Ok(ChatSummary {
        chat,
        last_message,
        read_seq: row.opt_i64("read_seq")?,
        visitor_read_seq: row.opt_i64("visitor_read_seq")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_statement_numbers_parameters_as_the_store_asks() {
        let sqlite = statement(|n| format!("?{n}"));
        let postgres = statement(|n| format!("${n}"));
        for n in 1..=4 {
            assert!(sqlite.contains(&format!("?{n}")), "{sqlite}");
            assert!(postgres.contains(&format!("${n}")), "{postgres}");
        }
        assert!(!sqlite.contains('$'));
    }
}

//! Rows into records, written once for every database and driver.
//!
//! The SQLite store reads through sqlx and writes through rusqlite; the
//! PostgreSQL store reads and writes through sqlx. Each kind of row gives
//! the [`Columns`] view (by column name, in the store's types), so each
//! record is decoded here once, from the same column lists, and the
//! backends cannot drift apart in what they answer.

use byrd_spec::agent::{Agent, Role};
use byrd_spec::chat::{Chat, ChatContext, ChatStatus, CloseReason, Visitor, VisitorAttribute};
use byrd_spec::message::{Author, Message, PartyType};
use byrd_spec::read::{Party, ReadPosition};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::rules::transitions::Current;
use super::{ChatState, StoreError};

pub(super) const AGENT_COLUMNS: &str = "id, email, name, role, created_at, deactivated_at";

pub(super) const CHAT_COLUMNS: &str = "id, status, visitor_id, visitor_name, visitor_email, \
                                       subject, assigned_agent_id, created_at, updated_at, \
                                       closed_at, last_seq, close_reason, context";

/// What a chat is read with from other tables: its agent's name and who
/// vouched for its visitor. Scalar subqueries by primary key rather than
/// joins, so that `RETURNING` can carry them too.
pub(super) const CHAT_LOOKUPS: &str = "(SELECT name FROM agents WHERE agents.id = chats.assigned_agent_id) AS assigned_agent_name, \
     (SELECT issuer FROM visitors WHERE visitors.id = chats.visitor_id) AS visitor_issuer, \
     (SELECT external_id FROM visitors WHERE visitors.id = chats.visitor_id) \
        AS visitor_external_id, \
     (SELECT attributes FROM visitors WHERE visitors.id = chats.visitor_id) AS visitor_attributes";

/// What a chat's `chat_updated` announces a change of; see [`ChatState`].
pub(super) const CHAT_STATE_COLUMNS: &str = "id, status, assigned_agent_id, updated_at";

pub(super) const MESSAGE_COLUMNS: &str =
    "id, chat_id, seq, author_type, author_id, author_name, body, client_msg_id, created_at";

/// A column that could not be read as the type asked for.
pub(super) fn undecodable(column: &str, cause: impl std::fmt::Display) -> StoreError {
    StoreError::Unexpected(anyhow::anyhow!("cannot decode column {column}: {cause}"))
}

/// The columns of one result row, by name.
pub(super) trait Columns {
    fn opt_uuid(&self, column: &str) -> Result<Option<Uuid>, StoreError>;
    fn opt_i64(&self, column: &str) -> Result<Option<i64>, StoreError>;
    fn opt_text(&self, column: &str) -> Result<Option<String>, StoreError>;
    fn opt_time(&self, column: &str) -> Result<Option<DateTime<Utc>>, StoreError>;

    fn uuid(&self, column: &str) -> Result<Uuid, StoreError> {
        self.opt_uuid(column)?
            .ok_or_else(|| undecodable(column, "NULL"))
    }

    fn i64(&self, column: &str) -> Result<i64, StoreError> {
        self.opt_i64(column)?
            .ok_or_else(|| undecodable(column, "NULL"))
    }

    fn text(&self, column: &str) -> Result<String, StoreError> {
        self.opt_text(column)?
            .ok_or_else(|| undecodable(column, "NULL"))
    }

    fn time(&self, column: &str) -> Result<DateTime<Utc>, StoreError> {
        self.opt_time(column)?
            .ok_or_else(|| undecodable(column, "NULL"))
    }
}

fn unknown(what: &str, value: &str) -> StoreError {
    StoreError::Unexpected(anyhow::anyhow!("unknown {what} {value:?}"))
}

pub(super) fn party_from_str(value: &str) -> Result<PartyType, StoreError> {
    match value {
        "agent" => Ok(PartyType::Agent),
        "guest" => Ok(PartyType::Guest),
        other => Err(unknown("party type", other)),
    }
}

/// Why a chat closed; a closed chat without a reason was closed before
/// reasons were kept, which only agents did.
fn close_reason(
    status: ChatStatus,
    stored: Option<String>,
) -> Result<Option<CloseReason>, StoreError> {
    match (status, stored.as_deref()) {
        (ChatStatus::Closed, None | Some("agent")) => Ok(Some(CloseReason::Agent)),
        (ChatStatus::Closed, Some("idle")) => Ok(Some(CloseReason::Idle)),
        (ChatStatus::Closed, Some(other)) => Err(unknown("close reason", other)),
        (_, _) => Ok(None),
    }
}

pub(super) fn status_from_str(value: &str) -> Result<ChatStatus, StoreError> {
    match value {
        "open" => Ok(ChatStatus::Open),
        "assigned" => Ok(ChatStatus::Assigned),
        "closed" => Ok(ChatStatus::Closed),
        other => Err(unknown("chat status", other)),
    }
}

/// An agent, from [`AGENT_COLUMNS`].
pub(super) fn agent_from_row(row: &impl Columns) -> Result<Agent, StoreError> {
    let role = match row.text("role")?.as_str() {
        "admin" => Role::Admin,
        "agent" => Role::Agent,
        other => return Err(unknown("role", other)),
    };
    let deactivated_at = row.opt_time("deactivated_at")?;
    Ok(Agent {
        id: row.uuid("id")?,
        email: row.text("email")?,
        name: row.text("name")?,
        role,
        created_at: row.time("created_at")?,
        active: deactivated_at.is_none(),
        deactivated_at,
    })
}

/// A JSON text column as `T`; NULL is `T`'s default (rows written
/// before the column was).
fn json_or_default<T: serde::de::DeserializeOwned + Default>(
    row: &impl Columns,
    column: &str,
) -> Result<T, StoreError> {
    row.opt_text(column)?
        .map(|text| serde_json::from_str(&text).map_err(|e| undecodable(column, e)))
        .transpose()
        .map(Option::unwrap_or_default)
}

/// A chat, from [`CHAT_COLUMNS`] and [`CHAT_LOOKUPS`].
pub(super) fn chat_from_row(row: &impl Columns) -> Result<Chat, StoreError> {
    let status = status_from_str(&row.text("status")?)?;
    let issuer = row.opt_text("visitor_issuer")?;
    let attributes: Vec<VisitorAttribute> = json_or_default(row, "visitor_attributes")?;
    Ok(Chat {
        id: row.uuid("id")?,
        status,
        visitor: Visitor {
            id: row.uuid("visitor_id")?,
            name: row.opt_text("visitor_name")?,
            email: row.opt_text("visitor_email")?,
            verified: issuer.is_some(),
            issuer,
            external_id: row.opt_text("visitor_external_id")?,
            attributes,
        },
        subject: row.opt_text("subject")?,
        assigned_agent_id: row.opt_uuid("assigned_agent_id")?,
        assigned_agent_name: row.opt_text("assigned_agent_name")?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
        closed_at: row.opt_time("closed_at")?,
        close_reason: close_reason(status, row.opt_text("close_reason")?)?,
        last_seq: row.i64("last_seq")?,
        context: Box::new(json_or_default::<ChatContext>(row, "context")?),
    })
}

/// A chat's announced state, from [`CHAT_STATE_COLUMNS`].
pub(super) fn chat_state_from_row(row: &impl Columns) -> Result<ChatState, StoreError> {
    Ok(ChatState {
        id: row.uuid("id")?,
        status: status_from_str(&row.text("status")?)?,
        assigned_agent_id: row.opt_uuid("assigned_agent_id")?,
        updated_at: row.time("updated_at")?,
    })
}

/// A message, from [`MESSAGE_COLUMNS`].
pub(super) fn message_from_row(row: &impl Columns) -> Result<Message, StoreError> {
    Ok(Message {
        id: row.uuid("id")?,
        chat_id: row.uuid("chat_id")?,
        seq: row.i64("seq")?,
        author: Author {
            kind: party_from_str(&row.text("author_type")?)?,
            id: row.uuid("author_id")?,
            name: row.opt_text("author_name")?,
        },
        body: row.text("body")?,
        client_msg_id: row.text("client_msg_id")?,
        created_at: row.time("created_at")?,
    })
}

/// A read position, from `reader_type, reader_id, seq, updated_at`.
pub(super) fn read_position_from_row(row: &impl Columns) -> Result<ReadPosition, StoreError> {
    Ok(ReadPosition {
        author: Party {
            kind: party_from_str(&row.text("reader_type")?)?,
            id: row.uuid("reader_id")?,
        },
        seq: row.i64("seq")?,
        updated_at: row.time("updated_at")?,
    })
}

/// What a chat transition depends on, from `status, assigned_agent_id`.
pub(super) fn transition_state_from_row(row: &impl Columns) -> Result<Current, StoreError> {
    Ok(Current {
        status: status_from_str(&row.text("status")?)?,
        assigned_agent_id: row.opt_uuid("assigned_agent_id")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A row of text columns, as a fake of what either database answers.
    struct TextRow(&'static [(&'static str, &'static str)]);

    impl Columns for TextRow {
        fn opt_uuid(&self, column: &str) -> Result<Option<Uuid>, StoreError> {
            self.opt_text(column)?
                .map(|text| text.parse().map_err(|e| undecodable(column, e)))
                .transpose()
        }

        fn opt_i64(&self, column: &str) -> Result<Option<i64>, StoreError> {
            self.opt_text(column)?
                .map(|text| text.parse().map_err(|e| undecodable(column, e)))
                .transpose()
        }

        fn opt_text(&self, column: &str) -> Result<Option<String>, StoreError> {
            let found = self.0.iter().find(|(name, _)| *name == column);
            Ok(found.map(|(_, value)| (*value).to_owned()))
        }

        fn opt_time(&self, column: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
            self.opt_text(column)?
                .map(|text| text.parse().map_err(|e| undecodable(column, e)))
                .transpose()
        }
    }

    const CHAT: &str = "00000000-0000-0000-0000-000000000001";

    #[test]
    fn a_chat_state_is_read_with_its_status_parsed() {
        let row = TextRow(&[
            ("id", CHAT),
            ("status", "assigned"),
            ("assigned_agent_id", "00000000-0000-0000-0000-000000000002"),
            ("updated_at", "2026-01-01T00:00:00Z"),
        ]);
        let state = chat_state_from_row(&row).unwrap();
        assert_eq!(state.id, Uuid::from_u128(1));
        assert_eq!(state.status, ChatStatus::Assigned);
        assert_eq!(state.assigned_agent_id, Some(Uuid::from_u128(2)));
    }

    #[test]
    fn a_closed_chat_says_why_and_one_closed_before_reasons_were_kept_reads_as_agent() {
        let row = |status: &'static str, reason: Option<&'static str>| {
            let mut columns = vec![
                ("id", CHAT),
                ("status", status),
                ("visitor_id", CHAT),
                ("created_at", "2026-01-01T00:00:00Z"),
                ("updated_at", "2026-01-01T00:00:00Z"),
                ("last_seq", "0"),
            ];
            columns.extend(reason.map(|reason| ("close_reason", reason)));
            TextRow(Vec::leak(columns))
        };
        let reason = |status, stored| chat_from_row(&row(status, stored)).map(|c| c.close_reason);
        assert_eq!(
            reason("closed", Some("idle")).unwrap(),
            Some(CloseReason::Idle)
        );
        assert_eq!(
            reason("closed", Some("agent")).unwrap(),
            Some(CloseReason::Agent)
        );
        assert_eq!(reason("closed", None).unwrap(), Some(CloseReason::Agent));
        assert_eq!(reason("open", None).unwrap(), None);
        assert!(reason("closed", Some("bored")).is_err());
    }

    #[test]
    fn a_chat_state_with_an_unknown_status_is_refused() {
        let row = TextRow(&[
            ("id", CHAT),
            ("status", "archived"),
            ("updated_at", "2026-01-01T00:00:00Z"),
        ]);
        assert!(chat_state_from_row(&row).is_err());
    }
}

//! Rows of PostgreSQL into protocol types.

use byrd_spec::agent::{Agent, Role};
use byrd_spec::chat::{Chat, ChatStatus, Visitor};
use byrd_spec::message::{Author, Message, PartyType};
use sqlx::Row;
use sqlx::postgres::PgRow;

pub const AGENT_COLUMNS: &str = "id, email, name, role, created_at";

pub const CHAT_COLUMNS: &str = "id, status, visitor_id, visitor_name, visitor_email, subject, \
                                assigned_agent_id, created_at, updated_at, closed_at, last_seq";

/// The name of a chat's agent, read with it: a scalar subquery rather
/// than a join, so that `RETURNING` can carry it too.
pub const ASSIGNED_AGENT_NAME: &str =
    "(SELECT name FROM agents WHERE agents.id = chats.assigned_agent_id) AS assigned_agent_name";

pub const MESSAGE_COLUMNS: &str =
    "id, chat_id, seq, author_type, author_id, author_name, body, client_msg_id, created_at";

fn decode_error(what: &str, value: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("unknown {what} {value:?}").into())
}

pub fn agent_from_row(row: &PgRow) -> Result<Agent, sqlx::Error> {
    let role: &str = row.try_get("role")?;
    let role = match role {
        "admin" => Role::Admin,
        "agent" => Role::Agent,
        other => return Err(decode_error("role", other)),
    };
    Ok(Agent {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        name: row.try_get("name")?,
        role,
        created_at: row.try_get("created_at")?,
    })
}

pub fn chat_from_row(row: &PgRow) -> Result<Chat, sqlx::Error> {
    let status: &str = row.try_get("status")?;
    let status = match status {
        "open" => ChatStatus::Open,
        "assigned" => ChatStatus::Assigned,
        "closed" => ChatStatus::Closed,
        other => return Err(decode_error("chat status", other)),
    };
    Ok(Chat {
        id: row.try_get("id")?,
        status,
        visitor: Visitor {
            id: row.try_get("visitor_id")?,
            name: row.try_get("visitor_name")?,
            email: row.try_get("visitor_email")?,
        },
        subject: row.try_get("subject")?,
        assigned_agent_id: row.try_get("assigned_agent_id")?,
        assigned_agent_name: row.try_get("assigned_agent_name")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        closed_at: row.try_get("closed_at")?,
        last_seq: row.try_get("last_seq")?,
    })
}

pub fn party_from_str(value: &str) -> Result<PartyType, sqlx::Error> {
    match value {
        "agent" => Ok(PartyType::Agent),
        "guest" => Ok(PartyType::Guest),
        other => Err(decode_error("party type", other)),
    }
}

pub fn message_from_row(row: &PgRow) -> Result<Message, sqlx::Error> {
    Ok(Message {
        id: row.try_get("id")?,
        chat_id: row.try_get("chat_id")?,
        seq: row.try_get("seq")?,
        author: Author {
            kind: party_from_str(row.try_get("author_type")?)?,
            id: row.try_get("author_id")?,
            name: row.try_get("author_name")?,
        },
        body: row.try_get("body")?,
        client_msg_id: row.try_get("client_msg_id")?,
        created_at: row.try_get("created_at")?,
    })
}

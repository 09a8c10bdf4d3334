//! Examples for the documents, built from the protocol types so they
//! cannot drift from them. One cast of characters throughout: Sam, a
//! visitor with a billing question, and Ada, the agent who takes it.

pub mod rest;
pub mod ws;

use byrd_spec::agent::{Agent, Role};
use byrd_spec::chat::{Chat, ChatContext, ChatStatus, Visitor};
use byrd_spec::message::{Author, Message, PartyType};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Ids of the examples: UUIDv7-shaped and easy to tell apart.
fn id(n: u128) -> Uuid {
    Uuid::from_u128(0x0193a5f2_7000_7abc_8def_000000000000 + n)
}

/// 2026-01-01T12:00:00Z plus `second` seconds.
fn at(second: u32) -> DateTime<Utc> {
    DateTime::from_timestamp(1_767_268_800 + i64::from(second), 0).unwrap_or_default()
}

const CHAT: u128 = 1;
const VISITOR: u128 = 2;
const AGENT: u128 = 3;

/// A token-shaped string; examples never carry a real signature.
const GUEST_TOKEN: &str =
    "eyJhbGciOiJIUzI1NiIsImtpZCI6ImJ5cmQtMSJ9.eyJ0eXBlIjoiZ3Vlc3QifQ.c2lnbmF0dXJl";
const AGENT_TOKEN: &str =
    "eyJhbGciOiJIUzI1NiIsImtpZCI6ImJ5cmQtMSJ9.eyJ0eXBlIjoiYWdlbnQifQ.c2lnbmF0dXJl";
const REFRESH_TOKEN: &str = "byrd_rt_3q2-7wEXAMPLEonlyNotARealToken0000000000";
const VISITOR_TOKEN: &str = "byrd_vt_9xY-2kEXAMPLEonlyNotARealToken000000000000";

fn guest_author() -> Author {
    Author {
        kind: PartyType::Guest,
        id: id(VISITOR),
        name: Some("Sam".into()),
    }
}

fn agent_author() -> Author {
    Author {
        kind: PartyType::Agent,
        id: id(AGENT),
        name: Some("Ada".into()),
    }
}

fn agent() -> Agent {
    Agent {
        id: id(AGENT),
        email: "ada@example.com".into(),
        name: "Ada".into(),
        role: Role::Admin,
        created_at: at(0),
        active: true,
        deactivated_at: None,
    }
}

fn message() -> Message {
    Message {
        id: id(10),
        chat_id: id(CHAT),
        seq: 1,
        author: guest_author(),
        body: "Hello, I have a billing question.".into(),
        client_msg_id: "c1".into(),
        created_at: at(1),
    }
}

fn open_chat() -> Chat {
    Chat {
        id: id(CHAT),
        status: ChatStatus::Open,
        visitor: Visitor {
            id: id(VISITOR),
            name: Some("Sam".into()),
            email: None,
            verified: false,
            issuer: None,
            external_id: None,
            attributes: Vec::new(),
        },
        subject: Some("Billing question".into()),
        assigned_agent_id: None,
        assigned_agent_name: None,
        created_at: at(0),
        updated_at: at(0),
        closed_at: None,
        close_reason: None,
        last_seq: 0,
        context: Box::new(ChatContext {
            page_url: Some("https://shop.example/billing".into()),
            page_title: Some("Billing — Shop".into()),
            referrer: Some("https://search.example/".into()),
            locale: Some("en-GB".into()),
            time_zone: Some("Europe/London".into()),
            browser: Some("Firefox 128".into()),
            os: Some("Windows".into()),
        }),
    }
}

fn chat() -> Chat {
    Chat {
        status: ChatStatus::Assigned,
        assigned_agent_id: Some(id(AGENT)),
        assigned_agent_name: Some("Ada".into()),
        updated_at: at(5),
        last_seq: 1,
        ..open_chat()
    }
}

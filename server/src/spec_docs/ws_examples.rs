//! One or more example of every WebSocket frame, built from the Rust types
//! so they cannot drift from them. They appear in `asyncapi.yaml` and the
//! spec tests validate each against `ws.schema.json`.

use byrd_spec::chat::{Chat, ChatStatus, Visitor};
use byrd_spec::error::ErrorCode;
use byrd_spec::message::{Author, Message, PartyType};
use byrd_spec::ws::{
    ClientFrame, PingFrame, PresenceStatus, Principal, ReadFrame, RefreshTokenFrame, SendFrame,
    ServerFrame, SubscribeFrame, TypingFrame, UnsubscribeFrame,
};
use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

fn id(n: u128) -> Uuid {
    Uuid::from_u128(0x0193a5f2_7000_7abc_8def_000000000000 + n)
}

fn at(second: u32) -> DateTime<Utc> {
    DateTime::from_timestamp(1_767_268_800 + i64::from(second), 0).unwrap_or_default()
}

const CHAT: u128 = 1;
const VISITOR: u128 = 2;
const AGENT: u128 = 3;

fn guest() -> Author {
    Author {
        kind: PartyType::Guest,
        id: id(VISITOR),
        name: Some("Sam".into()),
    }
}

fn agent() -> Author {
    Author {
        kind: PartyType::Agent,
        id: id(AGENT),
        name: Some("Ada".into()),
    }
}

fn message() -> Message {
    Message {
        id: id(10),
        chat_id: id(CHAT),
        seq: 1,
        author: guest(),
        body: "Hello, I have a billing question.".into(),
        client_msg_id: "c1".into(),
        created_at: at(1),
    }
}

fn chat() -> Chat {
    Chat {
        id: id(CHAT),
        status: ChatStatus::Assigned,
        visitor: Visitor {
            id: id(VISITOR),
            name: Some("Sam".into()),
            email: None,
        },
        subject: Some("Billing question".into()),
        assigned_agent_id: Some(id(AGENT)),
        created_at: at(0),
        updated_at: at(5),
        closed_at: None,
        last_seq: 1,
    }
}

const TOKEN: &str = "eyJhbGciOiJIUzI1NiIsImtpZCI6ImJ5cmQtMSJ9.eyJ0eXBlIjoiZ3Vlc3QifQ.c2lnbmF0dXJl";

fn client_examples() -> Vec<ClientFrame> {
    vec![
        ClientFrame::Send(SendFrame {
            chat_id: id(CHAT),
            client_msg_id: "c1".into(),
            body: "Hello, I have a billing question.".into(),
            reference: None,
        }),
        ClientFrame::Subscribe(SubscribeFrame {
            chat_id: id(CHAT),
            after_seq: 0,
            reference: Some("sub-1".into()),
        }),
        ClientFrame::Unsubscribe(UnsubscribeFrame {
            chat_id: id(CHAT),
            reference: None,
        }),
        ClientFrame::Typing(TypingFrame {
            chat_id: id(CHAT),
            active: true,
            reference: None,
        }),
        ClientFrame::Read(ReadFrame {
            chat_id: id(CHAT),
            seq: 1,
            reference: None,
        }),
        ClientFrame::Ping(PingFrame {
            nonce: Some("n-42".into()),
            reference: None,
        }),
        ClientFrame::RefreshToken(RefreshTokenFrame {
            token: TOKEN.into(),
            reference: Some("refresh-1".into()),
        }),
    ]
}

fn server_examples() -> Vec<ServerFrame> {
    vec![
        ServerFrame::Hello {
            connection_id: id(20),
            principal: Principal {
                kind: PartyType::Guest,
                id: id(VISITOR),
            },
            heartbeat_interval_ms: 25_000,
            token_expires_at: at(86_400),
        },
        ServerFrame::Message { message: message() },
        ServerFrame::Ack {
            client_msg_id: "c1".into(),
            message: message(),
        },
        ServerFrame::Typing {
            chat_id: id(CHAT),
            author: agent(),
            active: true,
        },
        ServerFrame::Read {
            chat_id: id(CHAT),
            author: agent(),
            seq: 1,
        },
        ServerFrame::Presence {
            agent_id: id(AGENT),
            status: PresenceStatus::Online,
        },
        ServerFrame::ChatUpdated { chat: chat() },
        ServerFrame::Subscribed {
            chat_id: id(CHAT),
            recovered: true,
            last_seq: 1,
        },
        ServerFrame::Unsubscribed { chat_id: id(CHAT) },
        ServerFrame::Error {
            code: ErrorCode::ChatClosed,
            message: ErrorCode::ChatClosed.description().into(),
            reference: Some("c2".into()),
        },
        ServerFrame::Pong {
            nonce: Some("n-42".into()),
        },
        ServerFrame::TokenExpiring {
            expires_at: at(86_400),
        },
        ServerFrame::TokenRefreshed {
            token_expires_at: at(172_800),
        },
    ]
}

/// The examples whose `type` is `ty`, on the wire.
pub fn for_type(client: bool, ty: &str) -> Vec<Value> {
    let all: Vec<Value> = if client {
        client_examples()
            .iter()
            .filter_map(|f| serde_json::to_value(f).ok())
            .collect()
    } else {
        server_examples()
            .iter()
            .filter_map(|f| serde_json::to_value(f).ok())
            .collect()
    };
    all.into_iter().filter(|v| v["type"] == ty).collect()
}

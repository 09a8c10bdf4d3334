//! An example of every WebSocket frame, built from the Rust types so they
//! cannot drift from them. `ws.schema.json` carries them on each frame and
//! `asyncapi.yaml` on each message; the spec tests validate each one and
//! round-trip it through `byrd-spec`.

use byrd_spec::error::ErrorCode;
use byrd_spec::message::PartyType;
use byrd_spec::ws::{
    ClientFrame, ConnectionLimits, PingFrame, PresenceStatus, Principal, ReadFrame,
    RefreshTokenFrame, SendFrame, ServerFrame, SubscribeFrame, SubscribeQueueFrame, TypingFrame,
    UnsubscribeFrame, UnsubscribeQueueFrame,
};
use serde_json::Value;

use super::{AGENT, CHAT, GUEST_TOKEN, VISITOR, agent_author, at, chat, id, message};

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
            token: GUEST_TOKEN.into(),
            reference: Some("refresh-1".into()),
        }),
        ClientFrame::SubscribeQueue(SubscribeQueueFrame {
            reference: Some("queue-1".into()),
        }),
        ClientFrame::UnsubscribeQueue(UnsubscribeQueueFrame {
            reference: Some("queue-2".into()),
        }),
    ]
}

fn server_examples() -> Vec<ServerFrame> {
    vec![
        ServerFrame::Hello {
            protocol_version: byrd_spec::PROTOCOL_VERSION.into(),
            connection_id: id(20),
            principal: Principal {
                kind: PartyType::Guest,
                id: id(VISITOR),
            },
            heartbeat_interval_ms: 25_000,
            token_expires_at: at(86_400),
            limits: ConnectionLimits {
                frames_per_second: 20,
                frame_burst: 40,
                max_frame_bytes: 65_536,
                max_message_chars: 4000,
                replay_cap: 1000,
            },
        },
        ServerFrame::Message { message: message() },
        ServerFrame::Ack {
            client_msg_id: "c1".into(),
            message: message(),
            duplicate: false,
        },
        ServerFrame::Typing {
            chat_id: id(CHAT),
            author: agent_author(),
            active: true,
        },
        ServerFrame::Read {
            chat_id: id(CHAT),
            author: agent_author(),
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
        ServerFrame::QueueSubscribed {},
        ServerFrame::QueueUnsubscribed {},
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

/// Which side sends a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    Client,
    Server,
}

/// The examples of frames of type `ty` sent by `sender`, on the wire.
pub fn frames(sender: Sender, ty: &str) -> Vec<Value> {
    let all: Vec<Value> = match sender {
        Sender::Client => client_examples()
            .iter()
            .filter_map(|f| serde_json::to_value(f).ok())
            .collect(),
        Sender::Server => server_examples()
            .iter()
            .filter_map(|f| serde_json::to_value(f).ok())
            .collect(),
    };
    all.into_iter().filter(|v| v["type"] == ty).collect()
}

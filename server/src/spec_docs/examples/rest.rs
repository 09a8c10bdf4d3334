//! An example of every REST request and response body, by schema name.
//! `openapi.json` shows them on each operation; the spec tests validate
//! each one and round-trip it through `byrd-spec`.

use byrd_spec::agent::{AgentList, CreateAgentRequest, Role};
use byrd_spec::auth::{LoginRequest, RefreshRequest, TokenResponse, TokenType};
use byrd_spec::chat::{
    AssignChatRequest, ChatContextInput, ChatPage, ChatSummary, ChatSummaryPage, CreateChatRequest,
    CreateChatResponse, GuestTokenResponse, VisitorInput,
};
use byrd_spec::error::{ErrorBody, ErrorCode};
use byrd_spec::health::{Health, HealthStatus, Readiness, ReadinessCheck};
use byrd_spec::keys::{Jwk, JwkSet};
use byrd_spec::me::{AgentMe, GuestMe, Me};
use byrd_spec::message::{MessagePage, PartyType, SendMessageRequest};
use byrd_spec::read::{ChatReads, Party, ReadPosition};
use byrd_spec::ticket::WsTicketResponse;
use serde::Serialize;
use serde_json::Value;

use super::{
    AGENT, AGENT_TOKEN, CHAT, GUEST_TOKEN, REFRESH_TOKEN, VISITOR, VISITOR_TOKEN, agent, at, chat,
    id, message, open_chat,
};

fn value(body: impl Serialize) -> Value {
    // These types always serialise; a Null would fail the spec tests.
    serde_json::to_value(body).unwrap_or(Value::Null)
}

/// Named examples of the body schema `name` in a message with HTTP
/// `status` (0 for a request), or none when it has none.
pub fn bodies(name: &str, status: u16) -> Vec<(&'static str, Value)> {
    match name {
        "LoginRequest" => vec![(
            "login",
            value(LoginRequest {
                email: "ada@example.com".into(),
                password: "correct horse battery staple".into(),
            }),
        )],
        "RefreshRequest" => vec![(
            "refresh",
            value(RefreshRequest {
                refresh_token: REFRESH_TOKEN.into(),
            }),
        )],
        "TokenResponse" => vec![(
            "tokens",
            value(TokenResponse {
                access_token: AGENT_TOKEN.into(),
                token_type: TokenType::Bearer,
                expires_in: 900,
                refresh_token: REFRESH_TOKEN.into(),
                agent: agent(),
            }),
        )],
        "CreateChatRequest" => vec![(
            "visitor",
            value(CreateChatRequest {
                visitor: Some(VisitorInput {
                    name: Some("Sam".into()),
                    email: Some("sam@example.org".into()),
                }),
                subject: Some("Billing question".into()),
                visitor_token: Some(VISITOR_TOKEN.into()),
                context: Some(ChatContextInput {
                    page_url: Some("https://shop.example/billing".into()),
                    page_title: Some("Billing — Shop".into()),
                    referrer: Some("https://search.example/".into()),
                    locale: Some("en-GB".into()),
                    time_zone: Some("Europe/London".into()),
                }),
                identity: None,
            }),
        )],
        "CreateChatResponse" => vec![(
            "started",
            value(CreateChatResponse {
                chat: open_chat(),
                guest_token: GUEST_TOKEN.into(),
                expires_in: 86_400,
                visitor_token: Some(VISITOR_TOKEN.into()),
            }),
        )],
        "GuestTokenResponse" => vec![(
            "renewed",
            value(GuestTokenResponse {
                guest_token: GUEST_TOKEN.into(),
                expires_in: 86_400,
            }),
        )],
        "WsTicketResponse" => vec![(
            "ticket",
            value(WsTicketResponse {
                ticket: "byrd_wst_q3X0EXAMPLEonlyNotARealTicket00000000000000".into(),
                expires_in: 30,
            }),
        )],
        "JwkSet" => vec![(
            "keys",
            value(JwkSet {
                keys: vec![Jwk {
                    kty: "OKP".into(),
                    crv: "Ed25519".into(),
                    x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo".into(),
                    y: None,
                    kid: "x3hQ2v1kq9dZr0bWq8aQ7w".into(),
                    alg: "EdDSA".into(),
                    usage: "sig".into(),
                }],
            }),
        )],
        "AssignChatRequest" => vec![(
            "to_agent",
            value(AssignChatRequest {
                agent_id: Some(id(AGENT)),
            }),
        )],
        "Chat" => vec![("assigned", value(chat()))],
        "ChatPage" => vec![(
            "last_page",
            value(ChatPage {
                chats: vec![chat()],
                next_cursor: None,
            }),
        )],
        "ChatSummaryPage" => vec![(
            "last_page",
            value(ChatSummaryPage {
                summaries: vec![ChatSummary {
                    chat: chat(),
                    last_message: Some(message()),
                    read_seq: Some(1),
                    visitor_read_seq: None,
                }],
                next_cursor: None,
            }),
        )],
        "SendMessageRequest" => vec![(
            "hello",
            value(SendMessageRequest {
                client_msg_id: "c1".into(),
                body: "Hello, I have a billing question.".into(),
            }),
        )],
        "Message" => vec![("stored", value(message()))],
        "MessagePage" => vec![(
            "page",
            value(MessagePage {
                messages: vec![message()],
                has_more: false,
            }),
        )],
        "ChatReads" => vec![(
            "both_read",
            value(ChatReads {
                reads: vec![
                    ReadPosition {
                        author: Party {
                            kind: PartyType::Guest,
                            id: id(VISITOR),
                        },
                        seq: 1,
                        updated_at: at(2),
                    },
                    ReadPosition {
                        author: Party {
                            kind: PartyType::Agent,
                            id: id(AGENT),
                        },
                        seq: 1,
                        updated_at: at(6),
                    },
                ],
            }),
        )],
        "Agent" => vec![("agent", value(agent()))],
        "AgentList" => vec![(
            "team",
            value(AgentList {
                agents: vec![agent()],
            }),
        )],
        "CreateAgentRequest" => vec![(
            "new_agent",
            value(CreateAgentRequest {
                email: "grace@example.com".into(),
                name: "Grace".into(),
                role: Role::Agent,
                password: "correct horse battery staple".into(),
            }),
        )],
        "Me" => vec![
            (
                "agent",
                value(Me::Agent(AgentMe {
                    id: id(AGENT),
                    name: "Ada".into(),
                    role: Role::Admin,
                    token_expires_at: at(900),
                })),
            ),
            (
                "guest",
                value(Me::Guest(GuestMe {
                    id: id(VISITOR),
                    chat_id: id(CHAT),
                    token_expires_at: at(86_400),
                })),
            ),
        ],
        "Health" if status == 503 => vec![(
            "unavailable",
            value(Health {
                status: HealthStatus::Unavailable,
            }),
        )],
        "Health" => vec![(
            "ok",
            value(Health {
                status: HealthStatus::Ok,
            }),
        )],
        "Readiness" if status == 503 => vec![(
            "redis_subscription_lost",
            value(Readiness {
                status: HealthStatus::Unavailable,
                failing: vec![ReadinessCheck::RedisSubscription],
            }),
        )],
        "Readiness" => vec![(
            "ready",
            value(Readiness {
                status: HealthStatus::Ok,
                failing: Vec::new(),
            }),
        )],
        _ => Vec::new(),
    }
}

/// The error body a response with `code` carries.
pub fn error(code: ErrorCode) -> Value {
    value(ErrorBody::new(code, code.description()))
}

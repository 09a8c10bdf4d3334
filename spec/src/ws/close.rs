//! WebSocket close codes and what a client does after each.
//!
//! The table is part of the contract: SDKs decide from it whether to
//! reconnect and resume, to fetch a fresh token first, or to stop. Codes
//! not listed here (a newer server's) mean "reconnect with backoff".

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

/// What a client does after the server closed with a given code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CloseAction {
    /// Reconnect with backoff, then resume every chat from its last `seq`.
    Reconnect,
    /// Get a fresh token first (agents: refresh the session; guests: renew
    /// the guest token), then reconnect and resume.
    RefreshTokenThenReconnect,
    /// Do not reconnect: the credentials are gone or the client broke the
    /// protocol, and trying again would end the same way.
    Stop,
}

/// A close code of `GET /v1/ws`: RFC 6455's where one fits, 4000-4999
/// (private use) for Byrd's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u16)]
#[non_exhaustive]
pub enum CloseCode {
    /// The connection was ended on purpose by the side that closed it.
    Normal = 1000,
    /// The server is shutting down.
    GoingAway = 1001,
    /// The client kept breaking the protocol's rules (for example, frame
    /// after frame past its rate limit).
    PolicyViolation = 1008,
    /// A frame was larger than the server accepts.
    MessageTooBig = 1009,
    /// The server could not deliver a chat's messages without leaving a
    /// hole (it failed to read a gap); the client resumes from its last
    /// `seq`.
    ResumeRequired = 1011,
    /// The token expired without a `refresh_token`; `token_expiring` came
    /// first.
    TokenExpired = 4001,
    /// The token or its login session was revoked (logout, or reuse of a
    /// spent refresh token).
    TokenRevoked = 4002,
    /// The client did not read its frames fast enough.
    SlowConsumer = 4008,
    /// Nothing was heard from the client for twice the heartbeat interval.
    HeartbeatTimeout = 4009,
}

impl CloseCode {
    /// Every code, in the order the spec lists them.
    pub const ALL: &'static [CloseCode] = &[
        CloseCode::Normal,
        CloseCode::GoingAway,
        CloseCode::PolicyViolation,
        CloseCode::MessageTooBig,
        CloseCode::ResumeRequired,
        CloseCode::TokenExpired,
        CloseCode::TokenRevoked,
        CloseCode::SlowConsumer,
        CloseCode::HeartbeatTimeout,
    ];

    /// The number on the wire.
    pub fn code(self) -> u16 {
        self as u16
    }

    /// The code for `code`, if this version of the protocol defines it.
    pub fn from_code(code: u16) -> Option<CloseCode> {
        CloseCode::ALL.iter().copied().find(|c| c.code() == code)
    }

    /// The close frame's reason text.
    pub fn reason(self) -> &'static str {
        match self {
            CloseCode::Normal => "normal",
            CloseCode::GoingAway => "server_shutdown",
            CloseCode::PolicyViolation => "policy_violation",
            CloseCode::MessageTooBig => "frame_too_large",
            CloseCode::ResumeRequired => "resume_required",
            CloseCode::TokenExpired => "token_expired",
            CloseCode::TokenRevoked => "token_revoked",
            CloseCode::SlowConsumer => "slow_consumer",
            CloseCode::HeartbeatTimeout => "heartbeat_timeout",
        }
    }

    /// What a client does next.
    pub fn action(self) -> CloseAction {
        match self {
            CloseCode::Normal | CloseCode::PolicyViolation | CloseCode::TokenRevoked => {
                CloseAction::Stop
            }
            CloseCode::TokenExpired => CloseAction::RefreshTokenThenReconnect,
            CloseCode::GoingAway
            | CloseCode::MessageTooBig
            | CloseCode::ResumeRequired
            | CloseCode::SlowConsumer
            | CloseCode::HeartbeatTimeout => CloseAction::Reconnect,
        }
    }

    /// One sentence on when the server closes with this code.
    pub fn description(self) -> &'static str {
        match self {
            CloseCode::Normal => {
                "The connection was ended on purpose by the side that closed it; the server does not send it."
            }
            CloseCode::GoingAway => "The server is shutting down; another instance will answer.",
            CloseCode::PolicyViolation => {
                "The client kept breaking the protocol's rules, such as sending frame after frame past its rate limit."
            }
            CloseCode::MessageTooBig => {
                "A frame was larger than the server accepts (64 KiB by default); do not send it again."
            }
            CloseCode::ResumeRequired => {
                "The server could not read messages the client is owed, and will not skip them; reconnect and resume from the last `seq`."
            }
            CloseCode::TokenExpired => {
                "The token expired without a `refresh_token`; `token_expiring` came first."
            }
            CloseCode::TokenRevoked => {
                "The token or its login session was revoked (logout, or reuse of a spent refresh token); log in again."
            }
            CloseCode::SlowConsumer => {
                "The client did not read its frames fast enough and its outbound queue filled up."
            }
            CloseCode::HeartbeatTimeout => {
                "Nothing was heard from the client for twice `heartbeat_interval_ms`."
            }
        }
    }
}

impl CloseAction {
    pub fn as_str(self) -> &'static str {
        match self {
            CloseAction::Reconnect => "reconnect",
            CloseAction::RefreshTokenThenReconnect => "refresh_token_then_reconnect",
            CloseAction::Stop => "stop",
        }
    }
}

/// An integer with one titled branch per code, each naming its reason text
/// and the client's action (`x-byrd-client-action`), so generators can
/// emit the table and people can read it.
impl JsonSchema for CloseCode {
    fn schema_name() -> Cow<'static, str> {
        "CloseCode".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let branches: Vec<serde_json::Value> = CloseCode::ALL
            .iter()
            .map(|code| {
                serde_json::json!({
                    "const": code.code(),
                    "title": code.reason(),
                    "description": code.description(),
                    "x-byrd-client-action": code.action().as_str(),
                })
            })
            .collect();
        json_schema!({
            "type": "integer",
            "description": "A close code of the WebSocket and what the client does next. Codes not listed here mean `reconnect`.",
            "oneOf": branches,
            "x-byrd-open": true,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_reasons_are_unique() {
        let mut reasons = std::collections::HashSet::new();
        for code in CloseCode::ALL {
            assert_eq!(CloseCode::from_code(code.code()), Some(*code));
            assert!(reasons.insert(code.reason()), "{code:?}");
        }
        assert_eq!(CloseCode::from_code(4999), None);
    }

    #[test]
    fn only_revocation_normal_closure_and_abuse_stop_a_client() {
        let stops: Vec<u16> = CloseCode::ALL
            .iter()
            .filter(|c| c.action() == CloseAction::Stop)
            .map(|c| c.code())
            .collect();
        assert_eq!(stops, [1000, 1008, 4002]);
    }
}

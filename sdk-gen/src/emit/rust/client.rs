//! How Rust writes the client behaviour table (`client_behaviour.rs`):
//! constants and two decision functions over the shared view.

use crate::emit::client_table::Syntax;
use crate::emit::pascal_case;
use crate::model::{
    Backoff, Failure, FrameAction, RuleOperations, RuleWait, SocketCredential, TicketAction,
};

pub struct Rust;

impl Syntax for Rust {
    fn backoff(b: &Backoff) -> String {
        format!(
            "BackoffTable {{ base: Duration::from_millis({}), factor: {}, floor: Duration::from_millis({}), cap: Duration::from_millis({}) }}",
            b.base_ms, b.factor, b.floor_ms, b.cap_ms
        )
    }

    fn failure(on: &Failure) -> String {
        match on {
            Failure::Code(code) => format!(
                "matches!(failed, Failed::Refused {{ code: ErrorCode::{}, .. }})",
                pascal_case(code)
            ),
            Failure::Status(status) => {
                format!("matches!(failed, Failed::Refused {{ status: {status}, .. }})")
            }
            Failure::Transport => "matches!(failed, Failed::Transport)".to_owned(),
        }
    }

    fn operations(operations: RuleOperations) -> &'static str {
        match operations {
            RuleOperations::Every => "Every",
            RuleOperations::Safe => "Safe",
        }
    }

    fn wait(wait: RuleWait) -> &'static str {
        match wait {
            RuleWait::TokenRefresh => "TokenRefresh",
            RuleWait::RetryAfter => "RetryAfter",
            RuleWait::Backoff => "Backoff",
        }
    }

    fn frame(tag: Option<&str>) -> String {
        tag.map_or_else(|| "None".to_owned(), |tag| format!("Some({tag:?})"))
    }

    fn code(wire: &str) -> String {
        pascal_case(wire)
    }

    fn action(action: FrameAction) -> &'static str {
        match action {
            FrameAction::SendAgain => "SendAgain",
            FrameAction::ResendUnanswered => "ResendUnanswered",
        }
    }

    fn socket_credential(credential: SocketCredential) -> &'static str {
        match credential {
            SocketCredential::Ticket => "Ticket",
            SocketCredential::Token => "Token",
        }
    }

    fn ticket_action(action: TicketAction) -> &'static str {
        match action {
            TicketAction::UseToken => "UseToken",
            TicketAction::TokenRefused => "TokenRefused",
            TicketAction::FailAttempt => "FailAttempt",
        }
    }
}

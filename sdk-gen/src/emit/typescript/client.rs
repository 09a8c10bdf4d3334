//! How TypeScript writes the client behaviour table (`client.ts`):
//! constants and two decision functions over the shared view.

use crate::emit::client_table::Syntax;
use crate::model::{
    Backoff, Failure, FrameAction, RuleOperations, RuleWait, SocketCredential, TicketAction,
};

pub struct TypeScript;

/// A number as TypeScript writes it: `30_000` for 30000.
fn ms(value: u64) -> String {
    let digits = value.to_string();
    if digits.len() <= 4 {
        return digits;
    }
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('_');
        }
        out.push(c);
    }
    out
}

impl Syntax for TypeScript {
    fn backoff(b: &Backoff) -> String {
        format!(
            "{{ base: {}, factor: {}, floor: {}, cap: {} }}",
            ms(b.base_ms),
            b.factor,
            ms(b.floor_ms),
            ms(b.cap_ms)
        )
    }

    fn failure(on: &Failure) -> String {
        match on {
            Failure::Code(code) => format!("{{ code: {code:?} }}"),
            Failure::Status(status) => format!("{{ status: {status} }}"),
            Failure::Transport => "\"transport\"".to_owned(),
        }
    }

    fn operations(operations: RuleOperations) -> &'static str {
        match operations {
            RuleOperations::Every => "every",
            RuleOperations::Safe => "safe",
        }
    }

    fn wait(wait: RuleWait) -> &'static str {
        match wait {
            RuleWait::TokenRefresh => "token_refresh",
            RuleWait::RetryAfter => "retry_after",
            RuleWait::Backoff => "backoff",
        }
    }

    fn frame(tag: Option<&str>) -> String {
        tag.map_or_else(|| "null".to_owned(), |tag| format!("{tag:?}"))
    }

    fn code(wire: &str) -> String {
        wire.to_owned()
    }

    fn action(action: FrameAction) -> &'static str {
        match action {
            FrameAction::SendAgain => "send_again",
            FrameAction::ResendUnanswered => "resend_unanswered",
        }
    }

    fn socket_credential(credential: SocketCredential) -> &'static str {
        match credential {
            SocketCredential::Ticket => "ticket",
            SocketCredential::Token => "token",
        }
    }

    fn ticket_action(action: TicketAction) -> &'static str {
        match action {
            TicketAction::UseToken => "use_token",
            TicketAction::TokenRefused => "token_refused",
            TicketAction::FailAttempt => "fail_attempt",
        }
    }
}

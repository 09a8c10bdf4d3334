//! What an attempt to connect does about the refusals on its way, as a
//! pure decision ([`after_refusal`]) the driver carries out: an expired
//! token is refreshed once, a refused ticket is replaced at once as many
//! times in a row as the client behaviour table says, a token refused for
//! good ends the client, and anything else fails the attempt into the
//! reconnect backoff. A refusal comes from the handshake or from the
//! ticket request before it; the table's `ticket_action` says which of
//! the latter are the token's.

use crate::close_codes::CloseCode;
use crate::error::{ApiError, AuthErrorKind, Error};
use crate::generated::client_behaviour::FRESH_TICKETS_AT_ONCE;
use crate::types::ErrorCode;

/// How the task ends: the final state's parts.
pub(super) struct Final {
    pub code: Option<CloseCode>,
    pub reason: String,
    pub error: Option<Error>,
}

/// Why `open` gave no connection.
pub(super) enum Opened {
    /// Try again after a backoff.
    Retry(Error),
    /// Stop for good.
    Final(Final),
}

/// What opens the next handshake.
pub(super) enum Opener {
    /// A single-use ticket, in the URL.
    Ticket(String),
    /// The token, in an `Authorization` header.
    Token,
    /// None: the ticket request refused the token.
    Refused(Refused),
}

/// A refusal of the token or the ticket: by the handshake, or by the
/// ticket request.
pub(super) struct Refused {
    pub status: u16,
    pub api: Option<ApiError>,
}

/// What one attempt has spent of its second chances.
#[derive(Debug, Default)]
pub(super) struct Tries {
    /// The token was refreshed once already.
    refreshed: bool,
    /// Fresh tickets fetched after a handshake refused one.
    fresh_tickets: u32,
}

/// What an attempt does after a refusal.
pub(super) enum Step {
    /// Refresh the token and go again at once.
    RefreshToken,
    /// Fetch a fresh ticket and go again at once.
    FreshTicket,
    /// End the attempt: retry after the backoff, or stop for good.
    Give(Opened),
}

/// The step after `refused`: an expired token is refreshed once; a
/// refused ticket is replaced at once as many times in a row as the table
/// says ([`FRESH_TICKETS_AT_ONCE`]), then the attempt fails into the
/// backoff; a revoked, invalid or forbidden token ends the client; any
/// other refusal fails the attempt.
pub(super) fn after_refusal(refused: Refused, tries: &mut Tries) -> Step {
    let Refused { status, api } = refused;
    let code = api.as_ref().map(|api| api.code.clone());
    match (status, code) {
        (401, Some(ErrorCode::TokenExpired)) if !tries.refreshed => {
            tries.refreshed = true;
            Step::RefreshToken
        }
        (401, Some(ErrorCode::TicketInvalid)) if tries.fresh_tickets < FRESH_TICKETS_AT_ONCE => {
            tries.fresh_tickets += 1;
            Step::FreshTicket
        }
        (401, Some(ErrorCode::TicketInvalid)) => Step::Give(Opened::Retry(Error::Transport {
            message: "the handshake refused fresh tickets".into(),
            source: None,
        })),
        (401, Some(ErrorCode::TokenRevoked)) => Step::Give(Opened::Final(auth_final(
            Error::auth(AuthErrorKind::Revoked, api),
            None,
        ))),
        (401, _) => Step::Give(Opened::Final(auth_final(
            Error::auth(AuthErrorKind::Refused, api),
            None,
        ))),
        (403, _) => Step::Give(Opened::Final(auth_final(
            Error::auth(AuthErrorKind::Forbidden, api),
            None,
        ))),
        (status, api) => Step::Give(Opened::Retry(Error::Transport {
            message: format!("the handshake was refused with {status} ({api:?})"),
            source: None,
        })),
    }
}

pub(super) fn token_failure(error: Error) -> Opened {
    match error {
        Error::Auth(_) => Opened::Final(auth_final(error, None)),
        other => Opened::Retry(other),
    }
}

pub(super) fn auth_final(error: Error, code: Option<CloseCode>) -> Final {
    Final {
        code,
        reason: "authentication ended".into(),
        error: Some(error),
    }
}

pub(super) fn closed_by_application() -> Final {
    Final {
        code: Some(CloseCode::Normal),
        reason: "closed by the application".into(),
        error: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(status: u16, code: Option<ErrorCode>) -> Refused {
        Refused {
            status,
            api: code.map(|code| ApiError {
                status: Some(status),
                code,
                message: "refused".into(),
                request_id: None,
                retry_after: None,
            }),
        }
    }

    fn ended_for_good(step: &Step) -> Option<AuthErrorKind> {
        match step {
            Step::Give(Opened::Final(Final {
                error: Some(Error::Auth(auth)),
                ..
            })) => Some(auth.kind),
            _ => None,
        }
    }

    #[test]
    fn a_refused_ticket_is_replaced_at_once_as_often_as_the_table_says_then_backs_off() {
        let mut tries = Tries::default();
        for _ in 0..FRESH_TICKETS_AT_ONCE {
            let step = after_refusal(refused(401, Some(ErrorCode::TicketInvalid)), &mut tries);
            assert!(matches!(step, Step::FreshTicket));
        }
        let step = after_refusal(refused(401, Some(ErrorCode::TicketInvalid)), &mut tries);
        assert!(
            matches!(step, Step::Give(Opened::Retry(_))),
            "into the backoff"
        );
    }

    #[test]
    fn an_expired_token_is_refreshed_once_then_ends_the_client() {
        let mut tries = Tries::default();
        let step = after_refusal(refused(401, Some(ErrorCode::TokenExpired)), &mut tries);
        assert!(matches!(step, Step::RefreshToken));
        let step = after_refusal(refused(401, Some(ErrorCode::TokenExpired)), &mut tries);
        assert_eq!(ended_for_good(&step), Some(AuthErrorKind::Refused));
    }

    #[test]
    fn a_token_refused_for_good_ends_the_client_and_anything_else_backs_off() {
        let cases = [
            (
                401,
                Some(ErrorCode::TokenRevoked),
                Some(AuthErrorKind::Revoked),
            ),
            (
                401,
                Some(ErrorCode::TokenInvalid),
                Some(AuthErrorKind::Refused),
            ),
            (401, None, Some(AuthErrorKind::Refused)),
            (
                403,
                Some(ErrorCode::Forbidden),
                Some(AuthErrorKind::Forbidden),
            ),
            (429, Some(ErrorCode::LimitExceeded), None),
            (502, None, None),
        ];
        for (status, code, ends) in cases {
            let step = after_refusal(refused(status, code.clone()), &mut Tries::default());
            assert_eq!(ended_for_good(&step), ends, "{status} {code:?}");
            if ends.is_none() {
                assert!(matches!(step, Step::Give(Opened::Retry(_))), "{status}");
            }
        }
    }
}

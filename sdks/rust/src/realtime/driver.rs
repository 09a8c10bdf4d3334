//! The task behind a [`Realtime`](super::Realtime) handle: connect,
//! serve the connection, decide from how it ended whether to reconnect,
//! refresh first, or stop, and back off in between.

use std::collections::HashSet;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::mpsc;
use uuid::Uuid;

use super::backoff::Backoff;
use super::connection::Ended;
use super::delivery::Follows;
use super::opening::{
    Final, Opened, Opener, Refused, Step, Tries, after_refusal, auth_final, closed_by_application,
    token_failure,
};
use super::pacer::{Pace, Pacer};
use super::socket::{OpenError, Socket, handshake, open, untrusted_certificate};
use super::{Command, ConnectionState, Event, Shared};
use crate::Client;
use crate::auth::Credential;
use crate::close_codes::{CloseAction, CloseCode};
use crate::error::{AuthErrorKind, Error};
use crate::generated::client_behaviour::{Failed, TicketAction, ticket_action};
use crate::types::{ErrorCode, ServerHello};

/// Everything the task owns.
pub(crate) struct Driver {
    pub client: Client,
    pub credential: Credential,
    pub shared: Arc<Shared>,
    pub commands: mpsc::UnboundedReceiver<Command>,
    pub events: mpsc::Sender<Event>,
    pub backoff: Backoff,
    pub follows: Follows,
    /// Whether the queue is followed (`subscribe_queue`).
    pub queue: super::queue::QueueFollow,
    /// A guest's chat, followed from the URL rather than by `subscribe`.
    pub guest_chat: Option<Uuid>,
    /// The application's cap on the pace of frames.
    pub pace: Option<Pace>,
    /// The current connection's pace, from its `hello`.
    pub pacer: Option<Pacer>,
    /// The current connection's frame limit, from its `hello`.
    pub max_frame_bytes: usize,
    /// Chats whose `subscribe` (or, for a guest, the replay its URL asked
    /// for) the current connection has not answered with `subscribed`:
    /// what goes again when a refusal names no frame.
    pub unanswered: HashSet<Uuid>,
    /// Whether each handshake is opened by a fresh single-use ticket; off
    /// when the application chose the token, or the server has no tickets.
    pub tickets: bool,
}

impl Driver {
    pub async fn run(mut self) {
        let end = self.connect_loop().await;
        let error = end.error.clone().unwrap_or_else(|| Error::Closed {
            code: end.code,
            reason: end.reason.clone(),
        });
        if let Ok(mut outbox) = self.shared.outbox.lock() {
            outbox.close(error);
        }
        self.set_state(ConnectionState::Closed {
            code: end.code,
            reason: end.reason,
            error: end.error,
        })
        .await;
    }

    async fn connect_loop(&mut self) -> Final {
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            self.set_state(ConnectionState::Connecting { attempt })
                .await;
            match self.open().await {
                Ok((socket, hello, token)) => {
                    self.set_state(ConnectionState::Connected).await;
                    let connected_at = Instant::now();
                    let ended = self.serve(socket, hello, token).await;
                    if let Ok(mut outbox) = self.shared.outbox.lock() {
                        outbox.mark_all_unsent();
                    }
                    // A connection that got its `hello` and held for a
                    // moment starts the count over (the table's rule), so
                    // a flaky link settles instead of climbing to the cap.
                    if connected_at.elapsed() >= self.backoff.reset_after {
                        attempt = 0;
                    }
                    if let ControlFlow::Break(end) = self.after(ended).await {
                        return end;
                    }
                }
                Err(Opened::Final(end)) => return end,
                Err(Opened::Retry(error)) => {
                    tracing::debug!(%error, attempt, "the connection did not open");
                }
            }
            if let ControlFlow::Break(end) = self.wait_to_retry(attempt).await {
                return end;
            }
        }
    }

    /// What follows a connection's end: another attempt, or the end of
    /// the client (closed by the application, the session over, or a
    /// close code whose action is `stop`).
    async fn after(&mut self, ended: Ended) -> ControlFlow<Final> {
        match ended {
            Ended::ByApplication => ControlFlow::Break(closed_by_application()),
            Ended::Auth(error) => ControlFlow::Break(auth_final(error, None)),
            Ended::Lost(error) => {
                tracing::debug!(%error, "the connection was lost");
                ControlFlow::Continue(())
            }
            Ended::Server { code, reason } => match code.action() {
                CloseAction::Reconnect => ControlFlow::Continue(()),
                CloseAction::RefreshTokenThenReconnect => {
                    let stale = self
                        .credential
                        .token(&self.client)
                        .await
                        .unwrap_or_default();
                    match self.credential.refresh_after(&self.client, &stale).await {
                        Err(Error::Auth(auth)) => {
                            ControlFlow::Break(auth_final(Error::Auth(auth), Some(code)))
                        }
                        _ => ControlFlow::Continue(()),
                    }
                }
                CloseAction::Stop => {
                    let error = if code == CloseCode::TokenRevoked {
                        Error::auth(AuthErrorKind::Revoked, None)
                    } else {
                        Error::Closed {
                            code: Some(code),
                            reason: reason.clone(),
                        }
                    };
                    ControlFlow::Break(Final {
                        code: Some(code),
                        reason,
                        error: Some(error),
                    })
                }
            },
        }
    }

    /// Waits the backoff before the attempt after `attempt`, queueing what
    /// the application asks meanwhile; breaks if it closes the client.
    async fn wait_to_retry(&mut self, attempt: u32) -> ControlFlow<Final> {
        let delay = self.backoff.delay(attempt);
        self.set_state(ConnectionState::Reconnecting {
            attempt: attempt + 1,
            delay,
        })
        .await;
        let wake = tokio::time::Instant::now() + delay;
        loop {
            tokio::select! {
                () = tokio::time::sleep_until(wake) => return ControlFlow::Continue(()),
                command = self.commands.recv() => match command {
                    None | Some(Command::Close) => return ControlFlow::Break(closed_by_application()),
                    Some(command) => self.offline(command),
                },
            }
        }
    }

    /// A fresh token, then the socket and its `hello`, by the steps the
    /// refusals on the way call for ([`after_refusal`]).
    async fn open(&mut self) -> Result<(Socket, ServerHello, String), Opened> {
        let mut token = self
            .credential
            .token(&self.client)
            .await
            .map_err(token_failure)?;
        let mut tries = Tries::default();
        loop {
            let connected = match self.opener().await? {
                Opener::Refused(refused) => Err(refused),
                Opener::Ticket(ticket) => self.connect(&token, Some(&ticket)).await?,
                Opener::Token => self.connect(&token, None).await?,
            };
            let refused = match connected {
                Ok((socket, hello)) => return Ok((socket, hello, token)),
                Err(refused) => refused,
            };
            match after_refusal(refused, &mut tries) {
                Step::RefreshToken => {
                    token = self
                        .credential
                        .refresh_after(&self.client, &token)
                        .await
                        .map_err(token_failure)?;
                }
                Step::FreshTicket => {}
                Step::Give(opened) => return Err(opened),
            }
        }
    }

    /// What opens the next handshake: a single-use ticket made right now
    /// (`createWsTicket`; a ticket is never kept for a later connect), or
    /// the token when tickets are off. A ticket request that failed does
    /// what the client behaviour table's [`ticket_action`] says: a server
    /// without tickets (404) gets the token from now on, in a header; a
    /// refusal of the token is the token's (as a refused handshake); any
    /// other failure fails the attempt, so the token never stands in.
    /// The application closing the client meanwhile ends the wait.
    async fn opener(&mut self) -> Result<Opener, Opened> {
        if !self.tickets {
            return Ok(Opener::Token);
        }
        // A request waiting out a `Retry-After` still yields to `close`.
        let client = self.client.clone();
        let made = tokio::select! {
            made = client.create_ws_ticket() => made,
            () = self.wait_for_close() => return Err(Opened::Final(closed_by_application())),
        };
        let error = match made {
            Ok(made) => return Ok(Opener::Ticket(made.ticket)),
            Err(error) => error,
        };
        let (status, api) = match &error {
            Error::Api(api) => (api.status, Some(api)),
            Error::Decode { status, .. } => (*status, None),
            Error::Auth(_) => return Err(token_failure(error)),
            _ => (None, None),
        };
        // An answer without the spec's body (a proxy's 404, say) has no code.
        let no_code = ErrorCode::Unknown(String::new());
        let failed = match (status, api) {
            (Some(status), api) => Failed::Refused {
                code: api.map_or(&no_code, |api| &api.code),
                status,
            },
            (None, _) => Failed::Transport,
        };
        match ticket_action(failed) {
            TicketAction::UseToken => {
                self.tickets = false;
                Ok(Opener::Token)
            }
            TicketAction::TokenRefused => Ok(Opener::Refused(Refused {
                status: status.unwrap_or(401),
                api: api.cloned(),
            })),
            // A refused certificate: every retry would meet the same.
            TicketAction::FailAttempt if untrusted_certificate(&error) => {
                Err(Opened::Final(Final {
                    code: None,
                    reason: "the server's certificate is not trusted".into(),
                    error: Some(error),
                }))
            }
            TicketAction::FailAttempt => Err(Opened::Retry(error)),
        }
    }

    /// Opens the socket with `ticket`, else with `token` in a header, and
    /// waits for its `hello`, unless the application closes the client
    /// meanwhile; a refused handshake is handed back to be read.
    async fn connect(
        &mut self,
        token: &str,
        ticket: Option<&str>,
    ) -> Result<Result<(Socket, ServerHello), Refused>, Opened> {
        let after_seq = self
            .guest_chat
            .and_then(|chat| self.follows.delivered(chat));
        let request = handshake(self.client.base_url(), token, ticket, after_seq).map_err(
            |error| match error {
                Error::Auth(_) => Opened::Final(auth_final(error, None)),
                error => Opened::Final(Final {
                    code: None,
                    reason: "invalid configuration".into(),
                    error: Some(error),
                }),
            },
        )?;
        let timeout = self.client.inner.connect_timeout;
        let opening = open(request, timeout, self.client.inner.tls.clone());
        let outcome = tokio::select! {
            outcome = opening => outcome,
            () = self.wait_for_close() => return Err(Opened::Final(closed_by_application())),
        };
        match outcome {
            Ok(opened) => Ok(Ok(opened)),
            Err(OpenError::Refused { status, api }) => Ok(Err(Refused { status, api })),
            Err(OpenError::Failed(error)) => Err(Opened::Retry(error)),
            Err(OpenError::Untrusted(error)) => Err(Opened::Final(Final {
                code: None,
                reason: "the server's certificate is not trusted".into(),
                error: Some(error),
            })),
        }
    }

    /// Waits, while connecting, for the application to close the client;
    /// other commands are noted for the next connection.
    async fn wait_for_close(&mut self) {
        loop {
            match self.commands.recv().await {
                None | Some(Command::Close) => return,
                Some(command) => self.offline(command),
            }
        }
    }

    /// A command that arrives with no connection: follows are noted, sends
    /// wait in the outbox, typing and read marks are dropped.
    fn offline(&mut self, command: Command) {
        self.shared.took(&command);
        match command {
            Command::Subscribe { chat_id, after_seq } => {
                self.follows.follow(chat_id, after_seq);
            }
            Command::Unsubscribe { chat_id } => self.follows.unfollow(chat_id),
            Command::SubscribeQueue => {
                self.queue.follow();
            }
            Command::UnsubscribeQueue => {
                self.queue.unfollow();
            }
            Command::Flush | Command::Frame(_) | Command::Close => {}
        }
    }

    pub(super) async fn set_state(&mut self, state: ConnectionState) {
        self.shared.state.send_replace(state.clone());
        self.emit(Event::State(state)).await;
    }

    /// Hands an event to the application; if it dropped its stream, the
    /// event is dropped too and the client carries on.
    pub(super) async fn emit(&mut self, event: Event) {
        let _ = self.events.send(event).await;
    }
}

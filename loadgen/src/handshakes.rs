//! The handshakes scenario: authenticated WebSocket connects, open loop.
//!
//! Each call opens a TCP connection, upgrades it with the caller's token in
//! the URL (or, with `--ticket`, first takes a ticket with
//! `POST /v1/ws/tickets` and upgrades with that), waits for `hello`, and
//! then closes on a task of its own: the call is timed from its scheduled
//! moment to `hello`. With the token, the server verifies a signature per
//! handshake; with a ticket, per ticket, and the handshake spends the
//! ticket in the database instead.
//!
//! A connection the load generator closes first leaves its port in
//! `TIME_WAIT` for a minute: at thousands of handshakes a second one
//! source address runs out, so connections take turns over several
//! (`sources`).

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use reqwest::StatusCode;
use reqwest::header::AUTHORIZATION;
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite;

use crate::HandshakesArgs;
use crate::callers;
use crate::open_loop::{self, Outcome, Run};
use crate::rest_sends::status_failure;
use crate::sources::Sources;
use crate::target::Target;
use crate::ws::{self, Socket, string_field};

/// Keep-alive connections at most for `POST /v1/ws/tickets`.
const TICKET_CONNECTIONS: usize = 256;

/// What every handshake of a run shares.
struct Handshakes {
    /// Where connections go and come from.
    sources: Sources,
    /// `ws://host:port`, for the request's URL.
    ws_base: String,
    /// `http://host:port/v1/ws/tickets`.
    tickets_url: String,
    /// Every caller's token.
    tokens: Vec<String>,
    /// Upgrade with a ticket rather than the token.
    ticket: bool,
    /// For the tickets, over keep-alive connections.
    client: reqwest::Client,
    /// One permit per ticket connection: as in `rest_sends`, a connection
    /// per request in flight would bury the server in new connections once
    /// it falls behind.
    ticket_connections: Semaphore,
}

pub async fn run(target: &Target, args: &HandshakesArgs) -> anyhow::Result<()> {
    let callers = callers::set_up(target, args.chats, args.agents).await?;
    let sources = Sources::resolve(&target.ws_base, args.sources).await?;
    let handshakes = Arc::new(Handshakes {
        sources,
        ws_base: target.ws_base.clone(),
        tickets_url: format!("{}/v1/ws/tickets", target.base),
        tokens: callers.into_iter().map(|c| c.token).collect(),
        ticket: args.ticket,
        client: reqwest::Client::builder()
            .tcp_nodelay(true)
            .pool_max_idle_per_host(TICKET_CONNECTIONS)
            .timeout(Duration::from_secs(30))
            .build()?,
        ticket_connections: Semaphore::new(TICKET_CONNECTIONS),
    });
    let setting = format!(
        "WebSocket handshakes of {} guests and {} agents with the {} in the URL, from {} source addresses, each closed at its hello",
        args.chats,
        args.agents,
        if args.ticket { "ticket" } else { "token" },
        handshakes.sources.count()
    );
    let run = Run {
        calls: "handshakes",
        setting,
        rates: &args.rates,
        steps: &args.steps,
        server_pid: target.pid,
    };
    open_loop::run(&run, move |n| {
        let handshakes = handshakes.clone();
        async move { handshakes.handshake(n).await }
    })
    .await;
    Ok(())
}

impl Handshakes {
    /// Handshake `n`, by caller `n % callers`, from source `n % sources`.
    async fn handshake(&self, n: u64) -> Outcome {
        let token = &self.tokens[(n % self.tokens.len() as u64) as usize];
        let query = if self.ticket {
            match self.take_ticket(token).await {
                Ok(ticket) => format!("ticket={ticket}"),
                Err(failure) => return Outcome::Failed(failure),
            }
        } else {
            format!("token={token}")
        };
        let stream = match self.sources.connect(n).await {
            Ok(stream) => stream,
            Err(error) => return Outcome::Failed(format!("connect: {:?}", error.kind())),
        };
        let url = format!("{}/v1/ws?{query}", self.ws_base);
        let mut socket = match ws::upgrade(stream, &url).await {
            Ok(socket) => socket,
            Err(error) => return Outcome::Failed(refusal(&error)),
        };
        let outcome = match ws::next_text(&mut socket).await {
            Ok(first) if first.starts_with(r#"{"type":"hello""#) => Outcome::Done,
            Ok(_) => Outcome::Failed("first frame not hello".into()),
            Err(_) => Outcome::Failed("no hello".into()),
        };
        tokio::spawn(close(socket));
        outcome
    }

    /// A ticket for `token`, or why not.
    async fn take_ticket(&self, token: &str) -> Result<String, String> {
        let Ok(_connection) = self.ticket_connections.acquire().await else {
            return Err("no ticket connection".into());
        };
        let answer = self
            .client
            .post(&self.tickets_url)
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .send()
            .await
            .map_err(|_| "ticket request failed".to_owned())?;
        let status = answer.status();
        let text = answer
            .text()
            .await
            .map_err(|_| "ticket answer cut".to_owned())?;
        match string_field(&text, "ticket") {
            Some(ticket) if status == StatusCode::CREATED => Ok(ticket.to_owned()),
            _ => Err(format!(
                "ticket {}",
                status_failure(status, text.as_bytes())
            )),
        }
    }
}

/// Why an upgrade failed: the answer's status and code, or the kind of
/// failure.
fn refusal(error: &tungstenite::Error) -> String {
    match error {
        tungstenite::Error::Http(response) => status_failure(
            StatusCode::from_u16(response.status().as_u16()).unwrap_or(StatusCode::BAD_REQUEST),
            response.body().as_deref().unwrap_or_default(),
        ),
        tungstenite::Error::Io(error) => format!("upgrade: {:?}", error.kind()),
        _ => "upgrade failed".into(),
    }
}

/// Closes `socket` as a client should, and reads until the server has
/// closed too, for at most 5 s.
async fn close(mut socket: Socket) {
    let _ = socket.close(None).await;
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(Ok(_)) = socket.next().await {}
    })
    .await;
}

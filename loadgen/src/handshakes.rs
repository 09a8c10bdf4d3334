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
//! `TIME_WAIT` for a minute, and one source address has about 28,000
//! ports: at thousands of handshakes a second they run out. Against a
//! server on a loopback address, connections are therefore spread over
//! `127.0.0.1` to `127.0.0.<sources>`, each with its own ports.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use futures_util::StreamExt;
use reqwest::StatusCode;
use reqwest::header::AUTHORIZATION;
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::Semaphore;
use tokio_tungstenite::MaybeTlsStream;
use tokio_tungstenite::tungstenite::{self, protocol::WebSocketConfig};

use crate::HandshakesArgs;
use crate::callers;
use crate::open_loop::{self, Outcome, Run};
use crate::rest_sends::status_failure;
use crate::target::Target;
use crate::ws::{self, Socket, string_field};

/// Keep-alive connections at most for `POST /v1/ws/tickets`.
const TICKET_CONNECTIONS: usize = 256;

/// What every handshake of a run shares.
struct Handshakes {
    /// The server's address, resolved once.
    server: SocketAddr,
    /// `ws://host:port`, for the request's URL.
    ws_base: String,
    /// `http://host:port/v1/ws/tickets`.
    tickets_url: String,
    /// Every caller's token.
    tokens: Vec<String>,
    /// Source addresses to spread connections over; empty: the system's.
    sources: Vec<Ipv4Addr>,
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
    let authority = target
        .ws_base
        .split_once("://")
        .map_or(target.ws_base.as_str(), |(_, rest)| rest);
    let server = tokio::net::lookup_host(authority)
        .await?
        .next()
        .with_context(|| format!("{authority} resolves to no address"))?;
    let sources = source_addresses(server.ip(), args.sources);
    let handshakes = Arc::new(Handshakes {
        server,
        ws_base: target.ws_base.clone(),
        tickets_url: format!("{}/v1/ws/tickets", target.base),
        tokens: callers.into_iter().map(|c| c.token).collect(),
        sources,
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
        handshakes.sources.len().max(1)
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

/// `127.0.0.1` to `127.0.0.<count>` for a server on an IPv4 loopback
/// address, else none (the system chooses).
pub fn source_addresses(server: IpAddr, count: u8) -> Vec<Ipv4Addr> {
    match server {
        IpAddr::V4(ip) if ip.is_loopback() => (1..=count.min(254))
            .map(|i| Ipv4Addr::new(127, 0, 0, i))
            .collect(),
        _ => Vec::new(),
    }
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
        let stream = match self.connect(n).await {
            Ok(stream) => stream,
            Err(error) => return Outcome::Failed(format!("connect: {:?}", error.kind())),
        };
        // Small buffers, as a browser's socket would have.
        let config = WebSocketConfig::default()
            .read_buffer_size(4096)
            .write_buffer_size(0);
        let url = format!("{}/v1/ws?{query}", self.ws_base);
        let upgraded = tokio_tungstenite::client_async_with_config(
            url,
            MaybeTlsStream::Plain(stream),
            Some(config),
        )
        .await;
        let mut socket = match upgraded {
            Ok((socket, _)) => socket,
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

    /// A TCP connection to the server from source `n % sources`.
    async fn connect(&self, n: u64) -> std::io::Result<TcpStream> {
        let socket = match self.server {
            SocketAddr::V4(_) => TcpSocket::new_v4()?,
            SocketAddr::V6(_) => TcpSocket::new_v6()?,
        };
        if !self.sources.is_empty() {
            let source = self.sources[(n % self.sources.len() as u64) as usize];
            socket.bind(SocketAddr::new(IpAddr::V4(source), 0))?;
        }
        let stream = socket.connect(self.server).await?;
        stream.set_nodelay(true)?;
        Ok(stream)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_to_a_loopback_server_spread_over_loopback_sources() {
        let loopback = IpAddr::V4(Ipv4Addr::LOCALHOST);
        assert_eq!(
            source_addresses(loopback, 3),
            vec![
                Ipv4Addr::new(127, 0, 0, 1),
                Ipv4Addr::new(127, 0, 0, 2),
                Ipv4Addr::new(127, 0, 0, 3)
            ]
        );
        assert_eq!(source_addresses(loopback, 255).len(), 254);
        assert!(source_addresses(loopback, 0).is_empty());
        let elsewhere = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 7));
        assert!(source_addresses(elsewhere, 16).is_empty());
        assert!(source_addresses(IpAddr::V6(std::net::Ipv6Addr::LOCALHOST), 16).is_empty());
    }
}

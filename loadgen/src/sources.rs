//! TCP connections spread over loopback source addresses.
//!
//! One source address has about 28,000 ports (`ip_local_port_range`): too
//! few for tens of thousands of sockets held open at once, or for
//! thousands of handshakes a second whose closed ports wait a minute in
//! `TIME_WAIT`. Against a server on an IPv4 loopback address, connections
//! are therefore spread over `127.0.0.1` to `127.0.0.<count>`, each with
//! its own ports; elsewhere the system chooses the source.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use anyhow::Context;
use tokio::net::{TcpSocket, TcpStream};

/// Where a run's connections go, and where they come from.
pub struct Sources {
    /// The server's address, resolved once.
    pub server: SocketAddr,
    /// Source addresses to take turns over; empty: the system's.
    pub addresses: Vec<Ipv4Addr>,
}

impl Sources {
    /// The server behind `ws_base` (`ws://host:port`), reached from up to
    /// `count` loopback sources.
    pub async fn resolve(ws_base: &str, count: u8) -> anyhow::Result<Sources> {
        let authority = ws_base.split_once("://").map_or(ws_base, |(_, rest)| rest);
        let server = tokio::net::lookup_host(authority)
            .await?
            .next()
            .with_context(|| format!("{authority} resolves to no address"))?;
        Ok(Sources {
            server,
            addresses: source_addresses(server.ip(), count),
        })
    }

    /// How many source addresses connections take turns over (the
    /// system's one counts as one).
    pub fn count(&self) -> usize {
        self.addresses.len().max(1)
    }

    /// A TCP connection to the server from source `n % sources`.
    pub async fn connect(&self, n: u64) -> std::io::Result<TcpStream> {
        let socket = match self.server {
            SocketAddr::V4(_) => TcpSocket::new_v4()?,
            SocketAddr::V6(_) => TcpSocket::new_v6()?,
        };
        if !self.addresses.is_empty() {
            let source = self.addresses[(n % self.addresses.len() as u64) as usize];
            socket.bind(SocketAddr::new(IpAddr::V4(source), 0))?;
        }
        let stream = socket.connect(self.server).await?;
        stream.set_nodelay(true)?;
        Ok(stream)
    }
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

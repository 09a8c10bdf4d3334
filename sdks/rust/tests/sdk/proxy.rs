//! A loopback TCP proxy that can cut or stall every connection through it,
//! to put the SDK on a network that fails at chosen moments.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub struct Proxy {
    /// `http://127.0.0.1:<port>`: give it to the SDK as the server.
    pub address: String,
    /// Bumped by every cut; each connection ends when it changes.
    cuts: watch::Sender<u64>,
    /// While true, bytes are held back (connections stay open).
    stalled: watch::Sender<bool>,
    /// Raw HTTP answers for the next connections, one each, in place of
    /// the server's (a `503` from a load balancer, say).
    canned: Arc<Mutex<VecDeque<String>>>,
    accept_loop: JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept_loop.abort();
        self.cuts.send_modify(|n| *n += 1);
    }
}

impl Proxy {
    /// Listens on a free loopback port and forwards to `target_port`.
    pub async fn start(target_port: u16) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let address = format!(
            "http://{}",
            listener.local_addr().expect("a bound listener")
        );
        let (cuts, _) = watch::channel(0u64);
        let (stalled, _) = watch::channel(false);
        let canned: Arc<Mutex<VecDeque<String>>> = Arc::default();
        let accept_loop = {
            let cuts = cuts.clone();
            let stalled = stalled.clone();
            let canned = canned.clone();
            tokio::spawn(async move {
                while let Ok((client, _)) = listener.accept().await {
                    let answer = canned.lock().ok().and_then(|mut c| c.pop_front());
                    if let Some(answer) = answer {
                        tokio::spawn(answer_with(client, answer));
                        continue;
                    }
                    let cut = cuts.subscribe();
                    let stalled = stalled.subscribe();
                    tokio::spawn(forward(client, target_port, cut, stalled));
                }
            })
        };
        Proxy {
            address,
            cuts,
            stalled,
            canned,
            accept_loop,
        }
    }

    /// Resets every open connection at once, both sides.
    pub fn cut(&self) {
        self.cuts.send_modify(|n| *n += 1);
    }

    /// Answers the next connection with `answer` (a whole HTTP response)
    /// and closes it, without reaching the server.
    pub fn answer_next(&self, answer: String) {
        if let Ok(mut canned) = self.canned.lock() {
            canned.push_back(answer);
        }
    }

    /// Holds every byte back (true) or lets them flow again (false).
    pub fn stall(&self, stalled: bool) {
        self.stalled.send_replace(stalled);
    }
}

/// Reads one request and answers `answer` instead of the server.
async fn answer_with(mut client: TcpStream, answer: String) {
    let mut buffer = vec![0u8; 64 * 1024];
    let mut request = Vec::new();
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match client.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => request.extend_from_slice(&buffer[..read]),
        }
    }
    let _ = client.write_all(answer.as_bytes()).await;
    let _ = client.shutdown().await;
}

async fn forward(
    client: TcpStream,
    target_port: u16,
    mut cut: watch::Receiver<u64>,
    stalled: watch::Receiver<bool>,
) {
    cut.mark_unchanged();
    let Ok(server) = TcpStream::connect(("127.0.0.1", target_port)).await else {
        return;
    };
    // Linger 0: dropping the socket resets it, as a network failure would.
    let _ = client.set_zero_linger();
    let _ = server.set_zero_linger();
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    tokio::select! {
        () = pump(client_read, server_write, stalled.clone()) => {}
        () = pump(server_read, client_write, stalled) => {}
        _ = cut.changed() => {}
    }
}

async fn pump(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, mut stalled: watch::Receiver<bool>) {
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let read = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => read,
        };
        while *stalled.borrow_and_update() {
            if stalled.changed().await.is_err() {
                return;
            }
        }
        if to.write_all(&buffer[..read]).await.is_err() {
            return;
        }
    }
}

//! The main listener: connections are accepted on a thread of their own
//! and sorted by their first bytes. Agents' handshakes go first, guests'
//! a few at a time, everything else in between.
//!
//! When a node restarts, its clients come back within a second. Handed to
//! the HTTP server as they arrive, every one of 18,000 guests' requests is
//! read, parsed and run up to the [handshake gate](crate::ws::gate) on
//! the runtime, and an agent's request waits behind all of those that
//! came before it: agents were back 1.6 to 1.8 s after the cut, and the
//! messages of the hundreds of chats each follows waited with them. Here
//! a thread empties the kernel's accept queue, looks at each connection's
//! first bytes, and holds guests' handshakes back: the server is given
//! one only while fewer than [`GUESTS_IN_PROGRESS`] it was given are
//! unanswered (an error, or a 101 and the greeting after it, written).
//! Agents' handshakes and every other connection (REST, tickets, a
//! request not yet sent whole) are handed over at once, agents' first.
//!
//! As with the handshake gate, a token is looked at, not verified: a
//! forged `type` claim gains an earlier or a later turn and nothing else.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::serve::Listener;
use byrd_spec::message::PartyType;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

use crate::ws::gate::claimed_handshake;

/// Guests' handshakes handed to the server and not yet answered: a few
/// times the gate's, so the gate always has the next ones at hand, few
/// enough that an agent's request finds a short queue.
const GUESTS_IN_PROGRESS: usize = 64;

/// Connections sorted and waiting for the server, per lane; past that, a
/// connection waits in the task that sorted it. Guests may wait by the
/// thousand in a storm: they are the storm. What bounds them all is the
/// open-file limit, as it bounded the connections the server accepted
/// itself before.
const AGENTS_WAITING: usize = 1024;
const OTHERS_WAITING: usize = 1024;
const GUESTS_WAITING: usize = 32 * 1024;

/// What is looked at of a request: its request line, token included.
const PEEK_BYTES: usize = 2048;

/// How long a connection's first bytes are waited for. One whose request
/// has not come by then is handed over unsorted, with everything else.
const FIRST_BYTES_WAIT: Duration = Duration::from_millis(200);

type Sorted = (std::net::TcpStream, SocketAddr);

/// The server's side of the listener.
pub struct PriorityListener {
    agents: mpsc::Receiver<Sorted>,
    others: mpsc::Receiver<Sorted>,
    guests: mpsc::Receiver<Sorted>,
    guest_turns: Arc<Semaphore>,
    local_addr: SocketAddr,
}

impl PriorityListener {
    /// Starts accepting `listener`'s connections on a thread of its own,
    /// which ends once the returned listener is dropped.
    pub fn start(listener: TcpListener) -> io::Result<PriorityListener> {
        let local_addr = listener.local_addr()?;
        let listener = listener.into_std()?;
        let (agents_tx, agents) = mpsc::channel(AGENTS_WAITING);
        let (others_tx, others) = mpsc::channel(OTHERS_WAITING);
        let (guests_tx, guests) = mpsc::channel(GUESTS_WAITING);
        let lanes = Lanes {
            agents: agents_tx,
            others: others_tx,
            guests: guests_tx,
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()?;
        std::thread::Builder::new()
            .name("byrd-accept".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = match TcpListener::from_std(listener) {
                        Ok(listener) => listener,
                        Err(error) => {
                            tracing::error!(%error, "cannot accept connections");
                            return;
                        }
                    };
                    let closed = lanes.others.clone();
                    tokio::select! {
                        () = accept_loop(&listener, lanes) => {}
                        () = closed.closed() => {}
                    }
                });
                // Dropping the runtime here closes the connections still
                // being sorted.
            })?;
        Ok(PriorityListener {
            agents,
            others,
            guests,
            guest_turns: Arc::new(Semaphore::new(GUESTS_IN_PROGRESS)),
            local_addr,
        })
    }
}

#[derive(Clone)]
struct Lanes {
    agents: mpsc::Sender<Sorted>,
    others: mpsc::Sender<Sorted>,
    guests: mpsc::Sender<Sorted>,
}

/// Accepts as fast as connections arrive; each is sorted by a task of
/// its own, so one slow to send its request holds up no other.
async fn accept_loop(listener: &TcpListener, lanes: Lanes) {
    loop {
        let (stream, address) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors, most likely: the connections
                // wait in the kernel's queue until some are closed.
                tracing::warn!(%error, "cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let lanes = lanes.clone();
        tokio::spawn(async move {
            let mut head = [0u8; PEEK_BYTES];
            let lane = match tokio::time::timeout(FIRST_BYTES_WAIT, stream.peek(&mut head)).await {
                Ok(Ok(read)) => match claimed_handshake(&head[..read]) {
                    Some(PartyType::Agent) => &lanes.agents,
                    // Only a request already sent whole holds a turn: the
                    // server answers it without waiting on the client, so
                    // no client can keep a turn by sending slowly.
                    Some(PartyType::Guest) if whole_head(&head[..read]) => &lanes.guests,
                    _ => &lanes.others,
                },
                _ => &lanes.others,
            };
            if let Ok(stream) = stream.into_std() {
                let _ = lane.send((stream, address)).await;
            }
        });
    }
}

/// Whether `bytes` hold a request's whole head, up to its empty line.
fn whole_head(bytes: &[u8]) -> bool {
    bytes.windows(4).any(|window| window == b"\r\n\r\n")
}

impl Listener for PriorityListener {
    type Io = Accepted;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Accepted, SocketAddr) {
        let PriorityListener {
            agents,
            others,
            guests,
            guest_turns,
            ..
        } = self;
        loop {
            let ((stream, address), turn) = tokio::select! {
                biased;
                Some(sorted) = agents.recv() => (sorted, None),
                Some(sorted) = others.recv() => (sorted, None),
                Some((sorted, turn)) = async {
                    // The semaphore is never closed.
                    let turn = guest_turns.clone().acquire_owned().await.ok()?;
                    Some((guests.recv().await?, turn))
                } => (sorted, Some(turn)),
                // The thread ended: nothing will be accepted again.
                else => std::future::pending().await,
            };
            match TcpStream::from_std(stream) {
                Ok(stream) => {
                    let accepted = Accepted {
                        stream,
                        turn,
                        upgraded: false,
                    };
                    return (accepted, address);
                }
                Err(error) => tracing::debug!(%error, "cannot serve an accepted connection"),
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.local_addr)
    }
}

/// An accepted connection. A guest's handshake holds its turn until the
/// server has answered it: an error, or a 101 and the greeting after it.
pub struct Accepted {
    stream: TcpStream,
    turn: Option<OwnedSemaphorePermit>,
    upgraded: bool,
}

impl Accepted {
    pub fn tcp(&self) -> &TcpStream {
        &self.stream
    }

    /// Called with what the server has written, once it is.
    fn wrote(&mut self, bytes: &[u8]) {
        if self.turn.is_none() {
            return;
        }
        // Bytes after a 101 are the greeting: the handshake is answered.
        if !self.upgraded && bytes.starts_with(b"HTTP/1.1 101 ") {
            self.upgraded = true;
        } else {
            self.turn = None;
        }
    }
}

impl AsyncRead for Accepted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Accepted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let written = ready!(Pin::new(&mut self.stream).poll_write(cx, buf))?;
        self.wrote(&buf[..written]);
        Poll::Ready(Ok(written))
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let written = ready!(Pin::new(&mut self.stream).poll_write_vectored(cx, bufs))?;
        // Only the start of what was written is looked at.
        let first = bufs.iter().find(|buf| !buf.is_empty());
        let first = first.map_or(&[][..], |buf| &buf[..buf.len().min(written)]);
        self.wrote(first);
        Poll::Ready(Ok(written))
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use futures_util::FutureExt;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    fn handshake(party: &str) -> String {
        let payload = URL_SAFE_NO_PAD.encode(format!(r#"{{"type":"{party}"}}"#));
        format!("GET /v1/ws?token=e30.{payload}.c2ln HTTP/1.1\r\nHost: byrd\r\n\r\n")
    }

    async fn listener() -> PriorityListener {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        PriorityListener::start(listener).unwrap()
    }

    /// Connects and sends `head`; the client end, kept open.
    async fn client(to: SocketAddr, head: &str) -> TcpStream {
        let mut stream = TcpStream::connect(to).await.unwrap();
        stream.write_all(head.as_bytes()).await.unwrap();
        stream
    }

    /// What the server side of `accepted` has read: the request it was sent.
    async fn request_of(accepted: &mut Accepted) -> String {
        let mut head = vec![0u8; PEEK_BYTES];
        let read = accepted.stream.read(&mut head).await.unwrap();
        String::from_utf8_lossy(&head[..read]).into_owned()
    }

    /// Waits until the thread has sorted `count` connections not yet
    /// handed over.
    async fn sorted(listener: &PriorityListener, count: usize) {
        let waiting = || listener.agents.len() + listener.others.len() + listener.guests.len();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while waiting() < count {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{} of {count} sorted",
                waiting()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    #[tokio::test]
    async fn an_agents_handshake_is_handed_over_before_anything_that_came_earlier() {
        let mut listener = listener().await;
        let address = listener.local_addr().unwrap();
        let rest = "GET /v1/chats HTTP/1.1\r\nHost: byrd\r\n\r\n";
        let _clients = [
            client(address, &handshake("guest")).await,
            client(address, rest).await,
            client(address, &handshake("agent")).await,
        ];
        sorted(&listener, 3).await;
        let mut order = Vec::new();
        for _ in 0..3 {
            let (mut accepted, _) = listener.accept().await;
            order.push(request_of(&mut accepted).await);
        }
        assert_eq!(
            order,
            [handshake("agent"), rest.to_owned(), handshake("guest")]
        );
    }

    #[tokio::test]
    async fn guests_handshakes_wait_while_as_many_as_may_be_are_unanswered() {
        let mut listener = listener().await;
        let address = listener.local_addr().unwrap();
        let mut clients = Vec::new();
        for _ in 0..=GUESTS_IN_PROGRESS {
            clients.push(client(address, &handshake("guest")).await);
        }
        sorted(&listener, GUESTS_IN_PROGRESS + 1).await;
        let mut unanswered = Vec::new();
        for _ in 0..GUESTS_IN_PROGRESS {
            unanswered.push(listener.accept().await.0);
        }
        assert!(
            listener.accept().now_or_never().is_none(),
            "one more guest than may be in progress was handed over"
        );
        // A 101 is not the whole answer: the greeting after it is.
        let mut upgraded = unanswered.pop().unwrap();
        upgraded
            .write_all(b"HTTP/1.1 101 Switching Protocols\r\n\r\n")
            .await
            .unwrap();
        assert!(listener.accept().now_or_never().is_none());
        upgraded.write_all(b"\x81\x02hi").await.unwrap();
        let next = tokio::time::timeout(Duration::from_secs(5), listener.accept()).await;
        assert!(next.is_ok(), "the greeting did not free a turn");
        // An error answers at once, and a closed connection frees its turn.
        let mut refused = unanswered.pop().unwrap();
        refused
            .write_all(b"HTTP/1.1 401 Unauthorized\r\n\r\n")
            .await
            .unwrap();
        drop(unanswered.pop());
        let _ = client(address, &handshake("guest")).await;
        let _ = client(address, &handshake("guest")).await;
        sorted(&listener, 2).await;
        for _ in 0..2 {
            let next = tokio::time::timeout(Duration::from_secs(5), listener.accept()).await;
            assert!(
                next.is_ok(),
                "an answered or closed handshake kept its turn"
            );
        }
        assert!(listener.accept().now_or_never().is_none());
    }

    #[tokio::test]
    async fn a_guest_that_has_not_sent_its_whole_request_takes_no_turn() {
        let mut listener = listener().await;
        let address = listener.local_addr().unwrap();
        let mut held = Vec::new();
        let mut clients = Vec::new();
        for _ in 0..GUESTS_IN_PROGRESS {
            clients.push(client(address, &handshake("guest")).await);
        }
        sorted(&listener, GUESTS_IN_PROGRESS).await;
        for _ in 0..GUESTS_IN_PROGRESS {
            held.push(listener.accept().await.0);
        }
        // The request line, and the rest never: it must not wait for a
        // turn it could keep by never finishing.
        let partial = handshake("guest");
        let (line, _) = partial.split_once("\r\n").unwrap();
        let _slow = client(address, line).await;
        let _silent = TcpStream::connect(address).await.unwrap();
        sorted(&listener, 2).await;
        for _ in 0..2 {
            let next = tokio::time::timeout(Duration::from_secs(5), listener.accept()).await;
            assert!(next.is_ok(), "a connection not sorted as a guest's waited");
        }
    }
}

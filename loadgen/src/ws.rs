//! WebSocket clients.

use std::time::Duration;

use anyhow::Context;
use futures_util::StreamExt;
use tokio::net::TcpStream;
use tokio_tungstenite::MaybeTlsStream;
use tokio_tungstenite::tungstenite::{self, Message, protocol::WebSocketConfig};

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Small buffers, as a browser's socket would have: thousands of these
/// live in this one process.
fn config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0)
}

/// Opens an authenticated socket and waits for `hello`.
pub async fn connect(ws_base: &str, token: &str) -> anyhow::Result<Socket> {
    let url = format!("{ws_base}/v1/ws?token={token}");
    let (mut socket, _) = tokio_tungstenite::connect_async_with_config(url, Some(config()), true)
        .await
        .context("WebSocket handshake")?;
    expect_hello(&mut socket).await?;
    Ok(socket)
}

/// Upgrades `stream`, already connected, to a WebSocket at `url`.
pub async fn upgrade(stream: TcpStream, url: &str) -> Result<Socket, tungstenite::Error> {
    let (socket, _) = tokio_tungstenite::client_async_with_config(
        url,
        MaybeTlsStream::Plain(stream),
        Some(config()),
    )
    .await?;
    Ok(socket)
}

/// Reads the first frame, which must be `hello`.
pub async fn expect_hello(socket: &mut Socket) -> anyhow::Result<()> {
    let hello = next_text(socket).await?;
    anyhow::ensure!(
        hello.starts_with(r#"{"type":"hello""#),
        "expected hello, got {hello}"
    );
    Ok(())
}

/// The next text frame, within 10 s.
pub async fn next_text(socket: &mut Socket) -> anyhow::Result<String> {
    loop {
        let next = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .context("no frame within 10 s")?;
        match next.context("socket closed")?.context("socket failed")? {
            Message::Text(text) => return Ok(text.as_str().to_owned()),
            Message::Close(frame) => anyhow::bail!("closed by the server: {frame:?}"),
            _ => {}
        }
    }
}

/// The string value of `"key":"..."` in a frame, without parsing the
/// rest; the frames this tool reads never escape these values.
pub fn string_field<'a>(frame: &'a str, key: &str) -> Option<&'a str> {
    let pattern = format!("\"{key}\":\"");
    let start = frame.find(&pattern)? + pattern.len();
    let end = frame[start..].find('"')?;
    Some(&frame[start..start + end])
}

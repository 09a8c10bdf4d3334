//! Opening the WebSocket and reading its refusals.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use reqwest::Url;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::client::Request;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::http::header::AUTHORIZATION;
use tokio_tungstenite::tungstenite::{self, Message as WsMessage};
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

use crate::WEBSOCKET_PATH;
use crate::error::{ApiError, AuthErrorKind, Error};
use crate::types::{ErrorBody, ServerFrame, ServerHello};

pub(crate) type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Why a connection did not open.
pub(crate) enum OpenError {
    /// The server answered the handshake with an error status.
    Refused { status: u16, api: Option<ApiError> },
    /// The server's certificate was refused, or its name is not one a
    /// certificate can vouch for: every retry would meet the same.
    Untrusted(Error),
    /// Anything else: network, timeout, no `hello`.
    Failed(Error),
}

/// The handshake of `base`'s WebSocket: `ws(s)://host/v1/ws`, and for a
/// guest `after_seq` (its chat is replayed from there), opened by a
/// single-use `ticket` in the query string when there is one, else by the
/// token in an `Authorization: Bearer` header. The spec also takes the
/// token in the query string, for browsers, which cannot set headers; a
/// URL is what proxies and access logs record, so this client keeps the
/// token out of it. A ticket there is spent, or dead, within seconds.
pub(crate) fn handshake(
    base: &Url,
    token: &str,
    ticket: Option<&str>,
    after_seq: Option<i64>,
) -> Result<Request, Error> {
    let mut url = socket_url(base, after_seq)?;
    if let Some(ticket) = ticket {
        url.query_pairs_mut().append_pair("ticket", ticket);
    }
    let mut request = url
        .as_str()
        .into_client_request()
        .map_err(|error| Error::Config(format!("WebSocket URL: {error}")))?;
    if ticket.is_some() {
        return Ok(request);
    }
    let mut bearer = HeaderValue::from_str(&format!("Bearer {token}"))
        .map_err(|_| Error::auth(AuthErrorKind::Provider, None))?;
    bearer.set_sensitive(true);
    request.headers_mut().insert(AUTHORIZATION, bearer);
    Ok(request)
}

/// The WebSocket URL of `base`, without the token.
fn socket_url(base: &Url, after_seq: Option<i64>) -> Result<Url, Error> {
    let mut url = base
        .join(WEBSOCKET_PATH.trim_start_matches('/'))
        .map_err(|error| Error::Config(format!("WebSocket URL: {error}")))?;
    let scheme = if url.scheme() == "https" { "wss" } else { "ws" };
    url.set_scheme(scheme)
        .map_err(|()| Error::Config("cannot make a WebSocket URL of the base URL".into()))?;
    if let Some(after_seq) = after_seq {
        url.query_pairs_mut()
            .append_pair("after_seq", &after_seq.to_string());
    }
    Ok(url)
}

/// Opens the socket of `request` (from [`handshake`]) and waits for
/// `hello`, all within `timeout`; a `wss://` URL is opened with `tls`, the
/// REST client's configuration.
pub(crate) async fn open(
    request: Request,
    timeout: Duration,
    tls: Arc<rustls::ClientConfig>,
) -> Result<(Socket, ServerHello), OpenError> {
    let opening = async {
        let connecting = tokio_tungstenite::connect_async_tls_with_config(
            request,
            None,
            false,
            Some(Connector::Rustls(tls)),
        );
        let socket = match connecting.await {
            Ok((socket, _)) => socket,
            Err(tungstenite::Error::Http(response)) => return Err(refused(&response)),
            Err(error) if is_untrusted(&error) => {
                return Err(OpenError::Untrusted(Error::transport(
                    "the server's TLS certificate is not trusted",
                    error,
                )));
            }
            Err(error) => {
                return Err(OpenError::Failed(Error::transport(
                    "the WebSocket did not open",
                    error,
                )));
            }
        };
        wait_for_hello(socket).await
    };
    tokio::time::timeout(timeout, opening)
        .await
        .unwrap_or_else(|_| {
            Err(OpenError::Failed(Error::Transport {
                message: format!("no `hello` within {timeout:?}"),
                source: None,
            }))
        })
}

/// The handshake answered with an error status, and the spec's error body
/// when it has one.
fn refused(response: &tungstenite::http::Response<Option<Vec<u8>>>) -> OpenError {
    let status = response.status().as_u16();
    let api = response
        .body()
        .as_deref()
        .and_then(|body| serde_json::from_slice::<ErrorBody>(body).ok())
        .map(|body| ApiError {
            status: Some(status),
            code: body.error.code,
            message: body.error.message,
            request_id: response
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            retry_after: None,
        });
    OpenError::Refused { status, api }
}

/// Reads until the first text frame, which must be `hello`.
async fn wait_for_hello(mut socket: Socket) -> Result<(Socket, ServerHello), OpenError> {
    loop {
        match socket.next().await {
            Some(Ok(WsMessage::Text(text))) => {
                return match serde_json::from_str::<ServerFrame>(&text) {
                    Ok(ServerFrame::Hello(hello)) => Ok((socket, hello)),
                    Ok(other) => Err(OpenError::Failed(Error::Decode {
                        status: None,
                        request_id: None,
                        message: format!("the first frame was `{}`, not `hello`", other.tag()),
                    })),
                    Err(error) => Err(OpenError::Failed(Error::Decode {
                        status: None,
                        request_id: None,
                        message: format!("an undecodable `hello`: {error}"),
                    })),
                };
            }
            Some(Ok(_)) => continue,
            Some(Err(error)) => {
                return Err(OpenError::Failed(Error::transport(
                    "the WebSocket failed before `hello`",
                    error,
                )));
            }
            None => {
                return Err(OpenError::Failed(Error::Transport {
                    message: "the WebSocket closed before `hello`".into(),
                    source: None,
                }));
            }
        }
    }
}

/// A TLS failure that retrying cannot mend: the certificate was refused
/// (unknown issuer, wrong name, expired...), or the host is no name a
/// certificate can be checked against. rustls reports the first kind
/// inside the I/O error of the handshake.
fn is_untrusted(error: &tungstenite::Error) -> bool {
    let rustls = match error {
        tungstenite::Error::Tls(tungstenite::error::TlsError::InvalidDnsName) => return true,
        tungstenite::Error::Tls(tungstenite::error::TlsError::Rustls(rustls)) => Some(&**rustls),
        tungstenite::Error::Io(io) => io
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>()),
        _ => None,
    };
    matches!(
        rustls,
        Some(rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented)
    )
}

/// Whether a REST call failed on a refused certificate, as [`is_untrusted`]
/// tells for the handshake: rustls's error, anywhere in the chain,
/// I/O errors' inner errors included.
pub(crate) fn untrusted_certificate(error: &Error) -> bool {
    let Error::Transport {
        source: Some(source),
        ..
    } = error
    else {
        return false;
    };
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(&**source);
    while let Some(error) = next {
        if matches!(
            error.downcast_ref::<rustls::Error>(),
            Some(rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented)
        ) {
            return true;
        }
        // An I/O error's `source` is its inner error's source, which
        // would skip the inner error itself: step into it instead.
        next = match error
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner),
            None => error.source(),
        };
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_socket_url_follows_the_base_url() {
        let base = Url::parse("https://chat.example.com/byrd/").unwrap();
        let request = handshake(&base, "a.b.c", None, Some(7)).unwrap();
        assert_eq!(
            request.uri().to_string(),
            "wss://chat.example.com/byrd/v1/ws?after_seq=7"
        );
        let base = Url::parse("http://127.0.0.1:8080/").unwrap();
        let request = handshake(&base, "t", None, None).unwrap();
        assert_eq!(request.uri().to_string(), "ws://127.0.0.1:8080/v1/ws");
    }

    #[test]
    fn the_token_goes_in_a_sensitive_bearer_header_never_in_the_url() {
        let base = Url::parse("http://127.0.0.1:8080/").unwrap();
        let request = handshake(&base, "a.b.c", None, Some(3)).unwrap();
        assert!(!request.uri().to_string().contains("a.b.c"));
        let bearer = request.headers().get(AUTHORIZATION).unwrap();
        assert_eq!(bearer.to_str().unwrap(), "Bearer a.b.c");
        assert!(bearer.is_sensitive(), "kept out of debug output");
    }

    #[test]
    fn a_ticket_goes_in_the_url_and_the_token_nowhere() {
        let base = Url::parse("http://127.0.0.1:8080/").unwrap();
        let request = handshake(&base, "a.b.c", Some("byrd_wst_x-y"), Some(3)).unwrap();
        assert_eq!(
            request.uri().to_string(),
            "ws://127.0.0.1:8080/v1/ws?after_seq=3&ticket=byrd_wst_x-y"
        );
        assert!(request.headers().get(AUTHORIZATION).is_none());
    }

    #[test]
    fn a_token_no_header_can_carry_is_the_providers_fault() {
        let base = Url::parse("http://127.0.0.1:8080/").unwrap();
        let refused = handshake(&base, "a.b\nc", None, None).map(|_| ());
        assert!(matches!(
            refused,
            Err(Error::Auth(ref auth)) if auth.kind == AuthErrorKind::Provider
        ));
    }
}

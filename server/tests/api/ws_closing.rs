//! Closing from the client's side (`spec/v1/README.md#close-codes`;
//! RFC 6455, section 5.5.1): the server answers a client's close frame
//! with its own, echoing the client's code, and then ends the connection,
//! so the client sees the close it asked for, not an abnormal end (1006).
//!
//! A guest's close with 1000 is the conformance runner's
//! `ws.lifetime.client-close-answered`; here, an agent's application code.

use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::helpers::spawn_app;
use crate::ws_client::WsClient;

async fn close_with(client: &mut WsClient, code: u16, reason: &str) {
    client
        .send_raw(Message::Close(Some(CloseFrame {
            code: CloseCode::from(code),
            reason: reason.into(),
        })))
        .await;
}

#[tokio::test]
async fn an_agent_closing_with_an_application_code_gets_the_same_code_back() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let (mut client, _hello) = WsClient::connect(&app, &token).await;
    client.assert_alive("before-close").await;

    close_with(&mut client, 4321, "leaving").await;

    let (code, _reason) = client.expect_close().await;
    assert_eq!(code, 4321);
}

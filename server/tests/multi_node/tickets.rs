//! Socket tickets across nodes (`spec/v1/openapi.json` operations
//! `createWsTicket` and `connectWebSocket`, its `ticket` parameter; error
//! code `ticket_invalid`; README "Socket tickets"): a ticket made on one
//! node opens a socket on any node sharing the database, and only once,
//! even when two nodes are handed it at the same moment.

use byrd_testkit::ws::{ConnectError, Handshake, WsClient};
use serde_json::Value;

use crate::cluster::{Node, Services, login_admin, serial, start_chat};

/// A ticket made on `node` with `token`.
async fn make_ticket(client: &reqwest::Client, node: &str, token: &str) -> String {
    let response = client
        .post(format!("http://{node}/v1/ws/tickets"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "a ticket is made");
    let made: Value = response.json().await.unwrap();
    made["ticket"].as_str().unwrap().to_owned()
}

/// Opens `/v1/ws?ticket=...` on `node`: the socket's `hello`, or the
/// refusal's status and error code.
async fn spend(node: &str, ticket: &str) -> Result<Value, (u16, String)> {
    let query = format!("ticket={ticket}");
    let handshake = Handshake {
        query: Some(&query),
        ..Handshake::default()
    };
    match WsClient::open(node, handshake).await {
        Ok(mut socket) => Ok(socket.expect_type("hello").await),
        Err(ConnectError::Refused(refusal)) => {
            let code = refusal.body["error"]["code"].as_str().unwrap_or_default();
            Err((refusal.status, code.to_owned()))
        }
        Err(error) => panic!("the handshake on {node} failed: {error:?}"),
    }
}

fn refused() -> Result<Value, (u16, String)> {
    Err((401, "ticket_invalid".to_owned()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_made_on_one_node_opens_a_socket_on_another_once() {
    let Some(services) = Services::from_env() else {
        return;
    };
    let _serial = serial().await;
    let database = services.fresh_database().await;
    let a = Node::start(&database, &services.redis_url, &[]).await;
    let b = Node::start(&database, &services.redis_url, &[]).await;
    let client = reqwest::Client::new();
    let (admin, admin_id) = login_admin(&client, &a.address).await;
    let (_, guest) = start_chat(&client, &a.address).await;

    // Made on A, spent on B: the socket is the token's principal's.
    let ticket = make_ticket(&client, &a.address, &admin).await;
    let hello = spend(&b.address, &ticket)
        .await
        .expect("B opens the socket");
    assert_eq!(hello["principal"]["type"], "agent");
    assert_eq!(hello["principal"]["id"], admin_id);
    assert_eq!(spend(&a.address, &ticket).await, refused(), "again on A");
    assert_eq!(spend(&b.address, &ticket).await, refused(), "again on B");

    // A guest's ticket, made on B and spent on A.
    let ticket = make_ticket(&client, &b.address, &guest).await;
    let hello = spend(&a.address, &ticket)
        .await
        .expect("A opens the socket");
    assert_eq!(hello["principal"]["type"], "guest");
    assert_eq!(spend(&b.address, &ticket).await, refused(), "again on B");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_handed_to_two_nodes_at_once_opens_exactly_one_socket() {
    let Some(services) = Services::from_env() else {
        return;
    };
    let _serial = serial().await;
    let database = services.fresh_database().await;
    let a = Node::start(&database, &services.redis_url, &[]).await;
    let b = Node::start(&database, &services.redis_url, &[]).await;
    let client = reqwest::Client::new();
    let (admin, _) = login_admin(&client, &a.address).await;

    // Several rounds, the ticket made on either node: a race one round
    // happens to win would not show.
    for round in 0..6 {
        let maker = if round % 2 == 0 { &a } else { &b };
        let ticket = make_ticket(&client, &maker.address, &admin).await;
        let (on_a, on_b) = tokio::join!(spend(&a.address, &ticket), spend(&b.address, &ticket));
        let opened = [&on_a, &on_b].iter().filter(|spent| spent.is_ok()).count();
        assert_eq!(opened, 1, "round {round}: A {on_a:?}, B {on_b:?}");
        let loser = if on_a.is_ok() { on_b } else { on_a };
        assert_eq!(loser, refused(), "round {round}");
    }
}

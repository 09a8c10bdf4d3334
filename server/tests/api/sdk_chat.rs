//! A guest and an agent chatting through the Rust SDK's realtime client
//! (with its default, a fresh socket ticket for every connect), for tests
//! that change the server under a live chat and must show nobody noticed:
//! every message each party sent reached the other once and in order, and
//! neither connection reconnected. The multi-node suite shares this file.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use byrd_sdk::Client;
use byrd_sdk::realtime::{ConnectionState, Event, Realtime, RealtimeOptions};
use uuid::Uuid;

/// How long a party waits for what it expects before the test fails.
const WAIT: Duration = Duration::from_secs(10);

/// What a party's event stream brought, in order.
#[derive(Default)]
struct Seen {
    /// The `client_msg_id` of every message delivered, its own included.
    messages: Vec<String>,
    /// Every connection state the client went through.
    states: Vec<ConnectionState>,
}

/// One side of the chat: its realtime client, what it sent (in order,
/// each acked before the next) and what it has been delivered.
pub struct Party {
    pub name: &'static str,
    pub realtime: Realtime,
    sent: Vec<String>,
    seen: Arc<Mutex<Seen>>,
}

impl Party {
    /// Connects `client`'s realtime client with the default options and
    /// records its events from then on, on a task of their own.
    pub fn connect(name: &'static str, client: &Client) -> Party {
        let (realtime, mut events) = client.connect_realtime(RealtimeOptions::default()).unwrap();
        let seen = Arc::new(Mutex::new(Seen::default()));
        let recorder = seen.clone();
        tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                let mut seen = recorder.lock().unwrap();
                match event {
                    Event::Message(message) => seen.messages.push(message.client_msg_id),
                    Event::State(state) => seen.states.push(state),
                    _ => {}
                }
            }
        });
        Party {
            name,
            realtime,
            sent: Vec::new(),
            seen,
        }
    }

    /// Sends one message to `chat` and waits for its `ack`.
    pub async fn say(&mut self, chat: Uuid) {
        let client_msg_id = format!("{}-{}", self.name, self.sent.len() + 1);
        let sent = tokio::time::timeout(
            WAIT,
            self.realtime
                .send_with_id(chat, client_msg_id.clone(), client_msg_id.clone()),
        )
        .await
        .unwrap_or_else(|_| panic!("{client_msg_id} was not acked in time"));
        let message = sent.unwrap_or_else(|error| panic!("{client_msg_id}: {error}"));
        assert_eq!(message.client_msg_id, client_msg_id);
        self.sent.push(client_msg_id);
    }

    /// Waits until the client is connected (its first `hello`).
    pub async fn wait_connected(&self) {
        let mut state = self.realtime.watch_state();
        tokio::time::timeout(WAIT, state.wait_for(ConnectionState::is_connected))
            .await
            .unwrap_or_else(|_| panic!("{} did not connect", self.name))
            .unwrap();
    }

    /// What this party was delivered of `other`'s messages, once every one
    /// `other` sent has arrived (or [`WAIT`] has passed).
    async fn delivered_of(&self, other: &Party) -> Vec<String> {
        let theirs = |seen: &Seen| -> Vec<String> {
            seen.messages
                .iter()
                .filter(|id| other.sent.contains(id))
                .cloned()
                .collect()
        };
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let delivered = theirs(&self.seen.lock().unwrap());
            if delivered.len() >= other.sent.len() || tokio::time::Instant::now() > deadline {
                return delivered;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// How often the client connected, and how often it dropped a
    /// connection (reconnecting or closed).
    fn connections(&self) -> (usize, usize) {
        let seen = self.seen.lock().unwrap();
        let connected = seen.states.iter().filter(|s| s.is_connected()).count();
        let dropped = seen
            .states
            .iter()
            .filter(|s| {
                matches!(
                    s,
                    ConnectionState::Reconnecting { .. } | ConnectionState::Closed { .. }
                )
            })
            .count();
        (connected, dropped)
    }
}

/// A chat between an agent logged in through `agents` and a guest who
/// started it through `guests` (one server, or two nodes), both connected
/// and the agent following the chat; each party's first tokens are kept.
pub struct LiveChat {
    pub chat: Uuid,
    pub guest: Party,
    pub agent: Party,
    /// The agent's access token, then the guest's, as the chat began.
    pub first_tokens: [String; 2],
}

impl LiveChat {
    pub async fn open(agents: &Client, guests: &Client, email: &str, password: &str) -> LiveChat {
        let agent_client = agents.login_agent(email, password).await.unwrap();
        let (guest_client, chat) = guests
            .start_guest(&byrd_sdk::types::CreateChatRequest::default())
            .await
            .unwrap();
        let guest = Party::connect("guest", &guest_client);
        let agent = Party::connect("agent", &agent_client);
        agent.realtime.subscribe(chat.id, 0).unwrap();
        guest.wait_connected().await;
        agent.wait_connected().await;
        let first_tokens = [
            agent_client.token().await.unwrap(),
            guest_client.token().await.unwrap(),
        ];
        LiveChat {
            chat: chat.id,
            guest,
            agent,
            first_tokens,
        }
    }

    /// `converse` in this chat.
    pub async fn converse(&mut self, until: Duration) {
        converse(&mut self.guest, &mut self.agent, self.chat, until).await;
    }

    /// `assert_nothing_noticed` of both parties.
    pub async fn assert_nothing_noticed(&self) {
        assert_nothing_noticed(&self.guest, &self.agent).await;
    }
}

/// Both parties take turns saying something in `chat` until `until`, a
/// message each at least.
pub async fn converse(guest: &mut Party, agent: &mut Party, chat: Uuid, until: Duration) {
    let deadline = tokio::time::Instant::now() + until;
    loop {
        guest.say(chat).await;
        agent.say(chat).await;
        if tokio::time::Instant::now() >= deadline {
            return;
        }
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
}

/// Every message each party sent reached the other exactly once and in
/// the order sent, and neither client left its first connection: it went
/// through `Connected` once and never through `Reconnecting` or `Closed`.
pub async fn assert_nothing_noticed(guest: &Party, agent: &Party) {
    for (reader, writer) in [(guest, agent), (agent, guest)] {
        assert!(!writer.sent.is_empty(), "{} said nothing", writer.name);
        assert_eq!(
            reader.delivered_of(writer).await,
            writer.sent,
            "what {} was delivered of {}'s messages",
            reader.name,
            writer.name
        );
    }
    for party in [guest, agent] {
        assert!(party.realtime.state().is_connected(), "{}", party.name);
        assert_eq!(
            party.connections(),
            (1, 0),
            "{}: (connected, dropped)",
            party.name
        );
    }
}

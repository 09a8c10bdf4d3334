//! What a case works with: the server under test ([`Target`], shared by the
//! whole run) and the case's own record ([`Ctx`]).
//!
//! The fixtures a case needs (an admin session, an agent, chats) are made
//! over the wire like everything else, through the case's context, so the
//! requests that made them are in its transcript.

use std::sync::Arc;

use reqwest::Method;
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use tokio::sync::OnceCell;

use crate::case::{CaseError, Failure};
use crate::config::Config;
use crate::documents::Documents;
use crate::jwt;
use crate::wire::http::{Http, Reply, Request};
use crate::wire::transcript::Recorder;
use crate::wire::ws::{Handshake, Refusal, Ws};

/// An agent's login session, from `POST /v1/auth/login`.
#[derive(Debug, Clone)]
pub struct Session {
    pub agent_id: String,
    pub name: String,
    pub role: String,
    pub access_token: String,
    pub refresh_token: String,
}

/// A chat started with `POST /v1/chats`, with its guest's token.
#[derive(Debug, Clone)]
pub struct Chat {
    pub id: String,
    pub created_at: String,
    pub visitor_id: String,
    pub guest_token: String,
}

/// The server under test and what the run shares.
pub struct Target {
    pub base_url: String,
    pub config: Config,
    pub documents: Arc<Documents>,
    pub http: Http,
    /// Whom a `wss://` server must be certified by (`None`: the public
    /// roots), as for REST.
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// The admin's session, made by the preflight login.
    admin: OnceCell<Session>,
    /// An agent with role `agent`, made on first use.
    agent: OnceCell<Session>,
    /// A chat that cases only read from, made on first use.
    shared_chat: OnceCell<Chat>,
    /// A second one: "another chat" for the cases about chat scope.
    other_chat: OnceCell<Chat>,
}

impl Target {
    pub fn new(
        base_url: &str,
        config: Config,
        documents: Arc<Documents>,
        tls: Option<Arc<rustls::ClientConfig>>,
    ) -> reqwest::Result<Self> {
        let http = Http::new(base_url, documents.clone(), config.timeout, tls.as_deref())?;
        Ok(Target {
            base_url: base_url.trim_end_matches('/').to_owned(),
            tls,
            config,
            documents,
            http,
            admin: OnceCell::new(),
            agent: OnceCell::new(),
            shared_chat: OnceCell::new(),
            other_chat: OnceCell::new(),
        })
    }

    /// Records the admin session the preflight made.
    pub fn set_admin(&self, session: Session) {
        let _ = self.admin.set(session);
    }

    /// The shared chats made so far: they outlive the case that started
    /// them, so only the end of the run closes them.
    pub fn shared_chat_ids(&self) -> Vec<String> {
        [&self.shared_chat, &self.other_chat]
            .into_iter()
            .filter_map(|chat| chat.get().map(|chat| chat.id.clone()))
            .collect()
    }
}

/// A case's view of the run: the target and the case's own record.
#[derive(Clone)]
pub struct Ctx {
    pub target: Arc<Target>,
    pub recorder: Recorder,
}

impl Ctx {
    pub fn new(target: Arc<Target>) -> Ctx {
        Ctx {
            target,
            recorder: Recorder::default(),
        }
    }

    pub fn config(&self) -> &Config {
        &self.target.config
    }

    pub fn get(&self, path: impl Into<String>) -> Request<'_> {
        self.target.http.request(&self.recorder, Method::GET, path)
    }

    pub fn post(&self, path: impl Into<String>) -> Request<'_> {
        self.target.http.request(&self.recorder, Method::POST, path)
    }

    pub fn request(&self, method: Method, path: impl Into<String>) -> Request<'_> {
        self.target.http.request(&self.recorder, method, path)
    }

    /// Opens a WebSocket; a refusal comes back as `Err`.
    pub async fn ws(&self, handshake: Handshake) -> Result<Result<Ws, Refusal>, Failure> {
        Ws::connect(
            &self.target.base_url,
            self.target.documents.clone(),
            &self.recorder,
            self.config().timeout,
            self.target.tls.clone(),
            handshake,
        )
        .await
    }

    /// Opens a WebSocket with `token` in the query string and reads its
    /// `hello`; a refusal or any other first frame is a failure.
    pub async fn connect(&self, who: &'static str, token: &str) -> Result<(Ws, Value), Failure> {
        self.connect_with(Handshake::query(who, token)).await
    }

    pub async fn connect_with(&self, handshake: Handshake) -> Result<(Ws, Value), Failure> {
        let who = handshake.who;
        let mut ws = self.ws(handshake).await?.map_err(|refusal| {
            Failure::new(
                format!("opening a WebSocket as {who}"),
                "101 Switching Protocols",
                refusal.describe(),
            )
        })?;
        let hello = ws.next_event().await?;
        match hello {
            crate::wire::ws::Event::Frame(frame) if crate::wire::ws::kind(&frame) == "hello" => {
                Ok((ws, frame))
            }
            other => Err(Failure::new(
                format!("the first frame on {}", ws.name),
                "`hello`",
                other.describe(),
            )),
        }
    }

    /// The admin session of the preflight login.
    pub fn admin(&self) -> Result<Session, Failure> {
        self.target
            .admin
            .get()
            .cloned()
            .ok_or_else(|| Failure::new("the admin session", "a preflight login", "none was made"))
    }

    /// An agent with role `agent`, created (as the admin) on first use.
    pub async fn agent(&self) -> Result<Session, Failure> {
        self.target
            .agent
            .get_or_try_init(|| self.create_agent())
            .await
            .cloned()
    }

    /// A new agent with role `agent`, created as the admin and logged in.
    pub async fn create_agent(&self) -> Result<Session, Failure> {
        let admin = self.admin()?;
        let email = format!("conformance-{}@example.com", uuid::Uuid::new_v4());
        let password = format!("conformance {}", uuid::Uuid::new_v4());
        let created = self
            .post("/v1/agents")
            .bearer(&admin.access_token)
            .json(json!({"email": email, "name": "Conformance Agent", "role": "agent", "password": password}))
            .send()
            .await?;
        expect_status(
            &created,
            201,
            "creating an agent for the case (POST /v1/agents)",
        )?;
        self.login(&email, &password).await
    }

    /// Logs in; anything but `200` with a token response is a failure.
    pub async fn login(&self, email: &str, password: &str) -> Result<Session, Failure> {
        let reply = self
            .post("/v1/auth/login")
            .json(json!({"email": email, "password": password}))
            .send()
            .await?;
        expect_status(&reply, 200, "logging in (POST /v1/auth/login)")?;
        session_of(&reply)
    }

    /// Logs the configured admin in again: a new session.
    pub async fn admin_login(&self) -> Result<Session, Failure> {
        let config = self.config();
        self.login(&config.admin.email, config.admin.password.expose_secret())
            .await
    }

    /// Starts a new chat; its guest token opens it.
    pub async fn new_chat(&self) -> Result<Chat, Failure> {
        let reply = self
            .post("/v1/chats")
            .json(json!({"visitor": {"name": "Conformance Visitor"}, "subject": "Conformance"}))
            .send()
            .await?;
        expect_status(&reply, 201, "starting a chat for the case (POST /v1/chats)")?;
        chat_of(&reply)
    }

    /// Closes `chat` as the admin, as cases that need a closed chat do.
    pub async fn close_chat(&self, chat: &Chat) -> Result<(), Failure> {
        let admin = self.admin()?;
        let closed = self
            .post(format!("/v1/chats/{}/close", chat.id))
            .bearer(&admin.access_token)
            .send()
            .await?;
        expect_status(&closed, 200, "closing the chat as the admin")
    }

    /// Closes chat `id` as the admin, leaving a chat that is closed
    /// already as it is. Logs the admin in again when the preflight's
    /// session has expired, as it may in a long run.
    pub async fn close_as_admin(&self, id: &str) -> Result<(), Failure> {
        let admin = self.admin()?;
        let path = format!("/v1/chats/{id}/close");
        let mut closed = self.post(&path).bearer(&admin.access_token).send().await?;
        if closed.status == 401 {
            let fresh = self.admin_login().await?;
            closed = self.post(&path).bearer(&fresh.access_token).send().await?;
        }
        if closed.error_code() == Some("chat_closed") {
            return Ok(());
        }
        expect_status(&closed, 200, "closing the chat as the admin")
    }

    /// A chat that no case changes, shared to spare the rate limit.
    pub async fn shared_chat(&self) -> Result<Chat, Failure> {
        self.target
            .shared_chat
            .get_or_try_init(|| self.new_chat())
            .await
            .cloned()
    }

    /// A second shared chat, the "other chat" of the chat-scope cases.
    /// Cases may add messages to it, so they never assume its `seq`s.
    pub async fn other_chat(&self) -> Result<Chat, Failure> {
        self.target
            .other_chat
            .get_or_try_init(|| self.new_chat())
            .await
            .cloned()
    }

    /// Signs tokens like the server, when the config holds the key.
    pub fn minter(&self) -> Result<Minter<'_>, CaseError> {
        let config = self.config();
        match config.jwt_key() {
            Some(key) => Ok(Minter { config, key }),
            None => Err(CaseError::Skipped(
                crate::case::Capability::JwtSecret.missing_reason(),
            )),
        }
    }

    /// The test issuer, when the config names one.
    pub fn test_issuer(&self) -> Result<&crate::issuer::TestIssuer, CaseError> {
        self.config().test_issuer.as_ref().ok_or_else(|| {
            CaseError::Skipped(crate::case::Capability::IdentityIssuer.missing_reason())
        })
    }

    /// Adds a line to the transcript.
    pub fn note(&self, text: impl Into<String>) {
        self.recorder.note(text);
    }
}

/// Signs tokens with the server's key, as a trusted backend would.
pub struct Minter<'a> {
    config: &'a Config,
    key: &'a [u8],
}

impl Minter<'_> {
    pub fn header(&self) -> Value {
        jwt::byrd_header(&self.config.jwt.kid)
    }

    /// Valid agent claims for `session`'s agent, living ten minutes.
    pub fn agent_claims(&self, session: &Session) -> Value {
        json!({
            "type": "agent", "iss": self.config.jwt.issuer, "aud": self.config.jwt.audience,
            "sub": session.agent_id, "role": session.role, "name": session.name,
            "iat": jwt::now(), "exp": jwt::now() + 600, "jti": uuid::Uuid::new_v4().to_string(),
        })
    }

    /// Valid guest claims for `chat`, living ten minutes.
    pub fn guest_claims(&self, chat: &Chat) -> Value {
        json!({
            "type": "guest", "iss": self.config.jwt.issuer, "aud": self.config.jwt.audience,
            "sub": chat.visitor_id, "chat": {"id": chat.id, "created_at": chat.created_at},
            "iat": jwt::now(), "exp": jwt::now() + 600, "jti": uuid::Uuid::new_v4().to_string(),
        })
    }

    /// `claims` under the server's header and key.
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_with_header(&self.header(), claims)
    }

    /// `claims` under any header, with the server's key (HS256).
    pub fn sign_with_header(&self, header: &Value, claims: &Value) -> String {
        jwt::sign(header, claims, &jwt::Hmac::Sha256, self.key)
    }

    /// `claims` under any header and HMAC, with the server's key.
    pub fn sign_with(&self, header: &Value, claims: &Value, hmac: &jwt::Hmac) -> String {
        jwt::sign(header, claims, hmac, self.key)
    }
}

/// `reply` must have `status`; else a failure naming what was being done.
pub fn expect_status(reply: &Reply, status: u16, context: &str) -> Result<(), Failure> {
    if reply.status == status {
        Ok(())
    } else {
        Err(Failure::new(context, status.to_string(), reply.describe()))
    }
}

fn text_at<'a>(reply: &'a Reply, pointer: &str, context: &str) -> Result<&'a str, Failure> {
    reply
        .json()
        .pointer(pointer)
        .and_then(Value::as_str)
        .ok_or_else(|| Failure::new(context, format!("a string at {pointer}"), reply.describe()))
}

/// The session in a token response.
pub fn session_of(reply: &Reply) -> Result<Session, Failure> {
    let context = "reading a token response";
    Ok(Session {
        agent_id: text_at(reply, "/agent/id", context)?.to_owned(),
        name: text_at(reply, "/agent/name", context)?.to_owned(),
        role: text_at(reply, "/agent/role", context)?.to_owned(),
        access_token: text_at(reply, "/access_token", context)?.to_owned(),
        refresh_token: text_at(reply, "/refresh_token", context)?.to_owned(),
    })
}

/// The chat in a `POST /v1/chats` answer.
pub fn chat_of(reply: &Reply) -> Result<Chat, Failure> {
    let context = "reading a started chat";
    Ok(Chat {
        id: text_at(reply, "/chat/id", context)?.to_owned(),
        created_at: text_at(reply, "/chat/created_at", context)?.to_owned(),
        visitor_id: text_at(reply, "/chat/visitor/id", context)?.to_owned(),
        guest_token: text_at(reply, "/guest_token", context)?.to_owned(),
    })
}

//! A session's token, refreshed as a single flight.
//!
//! The state sits behind one async mutex. A caller that needs a token
//! takes the lock; if the token is fresh it gets it at once, otherwise it
//! refreshes while holding the lock, so every other caller waits for that
//! one refresh and then shares its answer. A caller told by the server
//! that its token expired asks for a token "newer than this one"
//! ([`Credential::refresh_after`]): if another caller refreshed meanwhile,
//! it gets that token without a second refresh. For agents this is more
//! than thrift: refresh tokens are single use, and two refreshes racing
//! with the same one would revoke the whole session.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use uuid::Uuid;

use super::claims::token_facts;
use crate::Client;
use crate::error::{ApiError, AuthError, AuthErrorKind, Error};
use crate::operations::TokenKind;
use crate::types::{Agent, ErrorCode, RefreshRequest, TokenResponse};

/// The lifetime of a token the SDK cannot refresh: a century.
const FOREVER: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

/// A boxed error, as a token provider returns it.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A boxed token future, as a token provider returns it.
pub(crate) type TokenFuture = Pin<Box<dyn Future<Output = Result<String, BoxError>> + Send>>;

/// Where fresh tokens come from.
enum Source {
    /// `POST /v1/auth/refresh` with the session's refresh token.
    Agent,
    /// `POST /v1/chats/{chat_id}/token` with the current guest token.
    Guest { chat_id: Uuid },
    /// The application's function (a backend minting tokens, say).
    Provider(Arc<dyn Fn() -> TokenFuture + Send + Sync>),
    /// One token, used as it is until the server refuses it.
    Fixed,
}

/// A session's credential; clones share it.
#[derive(Clone)]
pub(crate) struct Credential(Arc<Inner>);

struct Inner {
    source: Source,
    state: tokio::sync::Mutex<State>,
    /// A copy of what the synchronous accessors show, updated with `state`.
    view: Mutex<View>,
    /// Counts the refreshes, so a live socket learns of a token refreshed
    /// by a REST call and sends it on (`refresh_token`) before expiry.
    refreshes: tokio::sync::watch::Sender<u64>,
}

struct State {
    access: Option<Access>,
    /// The agent session's newest refresh token; each is single use.
    refresh_token: Option<String>,
    /// Set once the session is over; every later call fails with it.
    ended: Option<AuthError>,
}

#[derive(Default, Clone)]
struct View {
    kind: Option<TokenKind>,
    refresh_token: Option<String>,
    agent: Option<Agent>,
}

/// A token and when it stops being fresh.
struct Access {
    token: String,
    expires_at: Instant,
    lifetime: Duration,
}

impl Access {
    fn new(token: String, expires_in: Duration) -> Access {
        let now = Instant::now();
        Access {
            token,
            expires_at: now.checked_add(expires_in).unwrap_or(now + FOREVER),
            lifetime: expires_in,
        }
    }

    /// Fresh while more than `margin` (at most half its lifetime) remains.
    fn is_fresh(&self, margin: Duration) -> bool {
        let margin = margin.min(self.lifetime / 2);
        self.expires_at.saturating_duration_since(Instant::now()) > margin
    }
}

impl Credential {
    fn new(
        source: Source,
        access: Option<Access>,
        refresh_token: Option<String>,
        view: View,
    ) -> Credential {
        Credential(Arc::new(Inner {
            source,
            state: tokio::sync::Mutex::new(State {
                access,
                refresh_token,
                ended: None,
            }),
            view: Mutex::new(view),
            refreshes: tokio::sync::watch::Sender::new(0),
        }))
    }

    /// An agent session from a login or refresh answer.
    pub fn agent(tokens: TokenResponse) -> Credential {
        let view = View {
            kind: Some(TokenKind::Agent),
            refresh_token: Some(tokens.refresh_token.clone()),
            agent: Some(tokens.agent),
        };
        let access = Access::new(tokens.access_token, Duration::from_secs(tokens.expires_in));
        Credential::new(
            Source::Agent,
            Some(access),
            Some(tokens.refresh_token),
            view,
        )
    }

    /// An agent session known only by its refresh token: the first call
    /// refreshes.
    pub fn agent_from_refresh_token(refresh_token: String) -> Credential {
        let view = View {
            kind: Some(TokenKind::Agent),
            refresh_token: Some(refresh_token.clone()),
            agent: None,
        };
        Credential::new(Source::Agent, None, Some(refresh_token), view)
    }

    /// A guest session of `chat_id` with its guest token.
    pub fn guest(chat_id: Uuid, token: String, expires_in: Duration) -> Credential {
        let view = View {
            kind: Some(TokenKind::Guest),
            ..View::default()
        };
        Credential::new(
            Source::Guest { chat_id },
            Some(Access::new(token, expires_in)),
            None,
            view,
        )
    }

    pub fn provider(provider: Arc<dyn Fn() -> TokenFuture + Send + Sync>) -> Credential {
        Credential::new(Source::Provider(provider), None, None, View::default())
    }

    /// One token and nothing to refresh it with.
    pub fn fixed(token: String, kind: TokenKind) -> Credential {
        let view = View {
            kind: Some(kind),
            ..View::default()
        };
        let access = Access::new(token, FOREVER);
        Credential::new(Source::Fixed, Some(access), None, view)
    }

    /// The kind of token, once known (a provider's, after its first token).
    pub fn kind(&self) -> Option<TokenKind> {
        self.view().kind
    }

    /// The chat a guest session opens.
    pub fn guest_chat_id(&self) -> Option<Uuid> {
        match self.0.source {
            Source::Guest { chat_id } => Some(chat_id),
            _ => None,
        }
    }

    pub fn refresh_token(&self) -> Option<String> {
        self.view().refresh_token
    }

    pub fn agent_profile(&self) -> Option<Agent> {
        self.view().agent
    }

    fn view(&self) -> View {
        self.0
            .view
            .lock()
            .map(|view| view.clone())
            .unwrap_or_default()
    }

    /// A fresh token, refreshing first when the current one is stale.
    pub async fn token(&self, client: &Client) -> Result<String, Error> {
        let mut state = self.0.state.lock().await;
        if let Some(ended) = &state.ended {
            return Err(Error::Auth(ended.clone()));
        }
        if let Some(access) = &state.access
            && access.is_fresh(client.inner.refresh_margin)
        {
            return Ok(access.token.clone());
        }
        // Boxed: a refresh makes a REST call, which asks a credential for a token.
        Box::pin(self.refresh(&mut state, client)).await
    }

    /// A token other than `stale`: the current one if someone already
    /// refreshed, else a refresh.
    pub async fn refresh_after(&self, client: &Client, stale: &str) -> Result<String, Error> {
        let mut state = self.0.state.lock().await;
        if let Some(ended) = &state.ended {
            return Err(Error::Auth(ended.clone()));
        }
        if let Some(access) = &state.access
            && access.token != stale
        {
            return Ok(access.token.clone());
        }
        // Boxed: a refresh makes a REST call, which asks a credential for a token.
        Box::pin(self.refresh(&mut state, client)).await
    }

    /// The current access token, as it is: no refresh.
    pub async fn current(&self) -> Option<String> {
        let state = self.0.state.lock().await;
        state.access.as_ref().map(|access| access.token.clone())
    }

    /// A receiver that changes with every successful refresh.
    pub fn watch_refreshes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.0.refreshes.subscribe()
    }

    /// Ends the session: every later call fails with `kind`.
    pub async fn end(&self, kind: AuthErrorKind, api: Option<ApiError>) {
        let mut state = self.0.state.lock().await;
        state.access = None;
        state.refresh_token = None;
        state.ended = Some(AuthError { kind, api });
        if let Ok(mut view) = self.0.view.lock() {
            view.refresh_token = None;
        }
    }

    async fn refresh(&self, state: &mut State, client: &Client) -> Result<String, Error> {
        // Refreshes go out without this credential: the refresh itself
        // must not wait for the lock this caller holds.
        let anonymous = client.with_credential(None);
        let outcome = match &self.0.source {
            Source::Agent => {
                let Some(refresh_token) = state.refresh_token.clone() else {
                    return Err(Error::auth(AuthErrorKind::Refused, None));
                };
                self.refresh_session(state, &anonymous, refresh_token).await
            }
            Source::Guest { chat_id } => {
                let current = state
                    .access
                    .as_ref()
                    .map(|a| a.token.clone())
                    .unwrap_or_default();
                let holder =
                    anonymous.with_credential(Some(Credential::fixed(current, TokenKind::Guest)));
                holder.renew_guest_token(*chat_id).await.map(|renewed| {
                    Access::new(renewed.guest_token, Duration::from_secs(renewed.expires_in))
                })
            }
            Source::Provider(provider) => {
                // A failing provider does not end the session: the next
                // call asks it again.
                let access = self.ask_provider(provider.as_ref()).await?;
                Ok(access)
            }
            Source::Fixed => {
                return Err(Error::auth(AuthErrorKind::Refused, None));
            }
        };
        self.settle(state, outcome)
    }

    /// `POST /v1/auth/refresh`; keeps the successor refresh token.
    async fn refresh_session(
        &self,
        state: &mut State,
        anonymous: &Client,
        refresh_token: String,
    ) -> Result<Access, Error> {
        let tokens = anonymous
            .refresh_session(&RefreshRequest { refresh_token })
            .await?;
        state.refresh_token = Some(tokens.refresh_token.clone());
        if let Ok(mut view) = self.0.view.lock() {
            view.refresh_token = Some(tokens.refresh_token);
            view.agent = Some(tokens.agent);
        }
        Ok(Access::new(
            tokens.access_token,
            Duration::from_secs(tokens.expires_in),
        ))
    }

    /// A token from the application's function, with its lifetime read
    /// from its claims.
    async fn ask_provider(
        &self,
        provider: &(dyn Fn() -> TokenFuture + Send + Sync),
    ) -> Result<Access, Error> {
        let token = provider()
            .await
            .map_err(|error| provider_error(error.to_string()))?;
        let facts = token_facts(&token).map_err(provider_error)?;
        if let Ok(mut view) = self.0.view.lock() {
            view.kind = Some(facts.kind);
        }
        let now = chrono::Utc::now().timestamp();
        let remaining = u64::try_from(facts.expires_at - now).unwrap_or(0);
        let lifetime = u64::try_from(facts.expires_at - facts.issued_at).unwrap_or(0);
        let mut access = Access::new(token, Duration::from_secs(remaining));
        access.lifetime = Duration::from_secs(lifetime);
        Ok(access)
    }

    /// Keeps a fresh token and tells the live socket; ends the session
    /// when the server refused the refresh itself.
    fn settle(&self, state: &mut State, outcome: Result<Access, Error>) -> Result<String, Error> {
        match outcome {
            Ok(access) => {
                let token = access.token.clone();
                state.access = Some(access);
                self.0.refreshes.send_modify(|count| *count += 1);
                Ok(token)
            }
            // The server refused the refresh itself: the session is over.
            Err(Error::Api(api)) if matches!(api.status, Some(401 | 403 | 404 | 409)) => {
                let kind = if api.code == ErrorCode::TokenRevoked {
                    AuthErrorKind::Revoked
                } else {
                    AuthErrorKind::Refused
                };
                let ended = AuthError {
                    kind,
                    api: Some(api),
                };
                state.access = None;
                state.refresh_token = None;
                state.ended = Some(ended.clone());
                Err(Error::Auth(ended))
            }
            Err(Error::Auth(auth)) => {
                state.ended = Some(auth.clone());
                Err(Error::Auth(auth))
            }
            // Transport failures and the like: the next call tries again.
            Err(error) => Err(error),
        }
    }
}

fn provider_error(message: String) -> Error {
    tracing::warn!(%message, "the token provider failed");
    Error::auth(AuthErrorKind::Provider, None)
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token itself.
        f.debug_struct("Credential")
            .field("kind", &self.kind())
            .finish()
    }
}

//! Starting, resuming and ending sessions: the [`Client`] methods that
//! answer a client holding a credential.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use uuid::Uuid;

use super::claims::token_facts;
use super::credential::{BoxError, Credential, TokenFuture};
use crate::Client;
use crate::error::{AuthErrorKind, Error};
use crate::operations::TokenKind;
use crate::types::{Agent, Chat, CreateChatRequest, LoginRequest};

impl Client {
    /// Logs an agent in; the answer is a client holding the session. It
    /// refreshes the access token before expiry (one refresh however many
    /// calls need it) and keeps the newest single-use refresh token.
    pub async fn login_agent(&self, email: &str, password: &str) -> Result<Client, Error> {
        let request = LoginRequest {
            email: email.to_owned(),
            password: password.to_owned(),
        };
        let tokens = self.with_credential(None).login(&request).await?;
        Ok(self.with_credential(Some(Credential::agent(tokens))))
    }

    /// Resumes an agent session from a stored refresh token (see
    /// [`Client::refresh_token`]); spends it at once for a fresh pair.
    pub async fn resume_agent(&self, refresh_token: &str) -> Result<Client, Error> {
        let credential = Credential::agent_from_refresh_token(refresh_token.to_owned());
        let client = self.with_credential(Some(credential.clone()));
        credential.token(&client).await?;
        Ok(client)
    }

    /// Starts a chat as a website visitor; the answer is a client holding
    /// the guest session (which renews its guest token before expiry) and
    /// the new chat.
    pub async fn start_guest(&self, request: &CreateChatRequest) -> Result<(Client, Chat), Error> {
        let created = self.with_credential(None).start_chat(Some(request)).await?;
        let credential = Credential::guest(
            created.chat.id,
            created.guest_token,
            Duration::from_secs(created.expires_in),
        );
        Ok((self.with_credential(Some(credential)), created.chat))
    }

    /// Resumes a guest session from a stored guest token (see
    /// [`Client::token`]); its chat is read from the token. Makes no
    /// request: a token the server no longer accepts fails on first use.
    pub fn resume_guest(&self, guest_token: &str) -> Result<Client, Error> {
        let facts =
            token_facts(guest_token).map_err(|_| Error::auth(AuthErrorKind::Refused, None))?;
        let (TokenKind::Guest, Some(chat_id)) = (facts.kind, facts.chat_id) else {
            return Err(Error::auth(AuthErrorKind::WrongTokenKind, None));
        };
        let remaining = facts.expires_at - chrono::Utc::now().timestamp();
        let credential = Credential::guest(
            chat_id,
            guest_token.to_owned(),
            Duration::from_secs(u64::try_from(remaining).unwrap_or(0)),
        );
        Ok(self.with_credential(Some(credential)))
    }

    /// A client whose tokens come from `provider`, called whenever a fresh
    /// token is needed (a backend minting agent tokens, say); one call at a
    /// time, its answer shared by every caller waiting.
    pub fn with_token_provider<F, Fut>(&self, provider: F) -> Client
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<String, BoxError>> + Send + 'static,
    {
        let provider: Arc<dyn Fn() -> TokenFuture + Send + Sync> =
            Arc::new(move || Box::pin(provider()) as TokenFuture);
        self.with_credential(Some(Credential::provider(provider)))
    }

    /// Ends the session: an agent's is logged out on the server (its access
    /// and refresh tokens are revoked); a guest's is forgotten here. Every
    /// later call of this client, and of its realtime connection, fails
    /// with [`AuthErrorKind::LoggedOut`].
    pub async fn end_session(&self) -> Result<(), Error> {
        let Some(credential) = &self.credential else {
            return Ok(());
        };
        let outcome = if credential.kind() == Some(TokenKind::Agent) {
            self.logout().await
        } else {
            Ok(())
        };
        credential.end(AuthErrorKind::LoggedOut, None).await;
        outcome
    }

    /// The kind of session this client holds, if any (a provider's is known
    /// after its first token).
    pub fn session_kind(&self) -> Option<TokenKind> {
        self.credential.as_ref().and_then(Credential::kind)
    }

    /// The chat of a guest session.
    pub fn guest_chat_id(&self) -> Option<Uuid> {
        self.credential.as_ref().and_then(Credential::guest_chat_id)
    }

    /// The agent of a session started by [`Client::login_agent`] (or
    /// refreshed since).
    pub fn agent(&self) -> Option<Agent> {
        self.credential.as_ref().and_then(Credential::agent_profile)
    }

    /// The session's current token, refreshed first when stale: store a
    /// guest's to resume its chat later with [`Client::resume_guest`].
    pub async fn token(&self) -> Result<String, Error> {
        match &self.credential {
            Some(credential) => credential.token(self).await,
            None => Err(Error::auth(AuthErrorKind::NoCredential, None)),
        }
    }

    /// An agent session's newest refresh token, to resume it later with
    /// [`Client::resume_agent`]. Each is single use: store the newest.
    pub fn refresh_token(&self) -> Option<String> {
        self.credential.as_ref().and_then(Credential::refresh_token)
    }
}

//! Extractors that authenticate a request from its `Authorization` header.
//!
//! [`Authenticated`] accepts any valid, unrevoked token; the others narrow it
//! to one kind of caller and answer `403 forbidden` to the other kind. The
//! kinds are decided by the token's `type` claim alone.
//!
//! A token is Byrd's own unless its `iss` names a trusted issuer
//! (`issuers`): then that issuer's keys verify it, and the agent it names
//! must exist and be active, with the role and name the database gives
//! it, whatever the token says. The WebSocket handshake and its `refresh_token` frame
//! authenticate through [`authenticate_token`] too.

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use byrd_spec::agent::Role;
use byrd_spec::claims::{AgentClaims, Claims, GuestClaims};
use byrd_spec::error::ErrorCode;

use super::TokenKeys;
use super::issuers::{IssuerTokenError, TrustedIssuers};
use super::revocation::ensure_not_revoked;
use crate::error::ApiError;
use crate::store::Store;

/// What authenticating a request needs: the keys that verify tokens, the
/// trusted issuers, and the store that knows agents and revocations. The
/// server's shared state provides them, which keeps `auth` below the state
/// rather than beside it.
pub trait TokenAuthority: Send + Sync {
    fn token_keys(&self) -> &TokenKeys;
    fn trusted_issuers(&self) -> &TrustedIssuers;
    fn store(&self) -> &Store;
}

/// Verifies `token`, Byrd's own or a trusted issuer's, and checks it has
/// not been revoked.
pub async fn authenticate_token(
    state: &impl TokenAuthority,
    token: &str,
) -> Result<Claims, ApiError> {
    let claims = verify_token(state, token).await?;
    ensure_not_revoked(state.store(), &claims).await?;
    Ok(claims)
}

/// Verifies `token`'s signature and claims, revocation aside.
async fn verify_token(state: &impl TokenAuthority, token: &str) -> Result<Claims, ApiError> {
    let issuers = state.trusted_issuers();
    if !issuers.names_issuer_of(token) {
        return Ok(state.token_keys().verify(token)?);
    }
    let claims = issuers.verify_agent(token).await.map_err(refused)?;
    // The backend vouches for who the agent is; what the agent may do
    // and is called is Byrd's to say.
    let Some(agent) = state.store().agent_by_id(claims.sub).await? else {
        return Err(refused(IssuerTokenError::Invalid("no such agent")));
    };
    // A deactivated agent's own tokens end with their sessions; a
    // backend's would not, so they are refused here.
    if !agent.active {
        return Err(refused(IssuerTokenError::Invalid(
            "the agent is deactivated",
        )));
    }
    Ok(Claims::Agent(AgentClaims {
        role: agent.role,
        name: agent.name,
        ..claims
    }))
}

/// A trusted issuer's token refused, answered as Byrd's own would be.
fn refused(error: IssuerTokenError) -> ApiError {
    match error {
        IssuerTokenError::Expired => {
            ApiError::new(ErrorCode::TokenExpired, "The token has expired.")
        }
        // The reason stays in the logs: telling an attacker which check
        // failed helps them, not the integrator.
        IssuerTokenError::Invalid(reason) => {
            tracing::debug!(reason, "trusted issuer's token refused");
            ApiError::new(ErrorCode::TokenInvalid, "The token is not valid.")
        }
    }
}

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer_token(headers: &HeaderMap) -> Result<&str, ApiError> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Err(ApiError::from_code(ErrorCode::TokenMissing));
    };
    let value = value.to_str().map_err(|_| {
        ApiError::new(
            ErrorCode::TokenInvalid,
            "The Authorization header is malformed.",
        )
    })?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim())
        }
        _ => Err(ApiError::new(
            ErrorCode::TokenInvalid,
            "The Authorization header must be `Bearer <token>`.",
        )),
    }
}

/// Any caller with a valid token.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Claims);

impl<S: TokenAuthority> FromRequestParts<S> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let token = bearer_token(&parts.headers)?;
        authenticate_token(state, token).await.map(Authenticated)
    }
}

/// An agent of any role.
#[derive(Debug, Clone)]
pub struct AgentAuth(pub AgentClaims);

impl<S: TokenAuthority> FromRequestParts<S> for AgentAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Authenticated::from_request_parts(parts, state).await?.0 {
            Claims::Agent(claims) => Ok(AgentAuth(claims)),
            Claims::Guest(_) => Err(ApiError::new(
                ErrorCode::Forbidden,
                "This endpoint is for agents.",
            )),
        }
    }
}

/// An agent token presented to log out. It is checked like any other,
/// except that a token already revoked passes: a logout whose answer was
/// lost can be retried with the same token.
#[derive(Debug, Clone)]
pub struct LoggingOut(pub AgentClaims);

impl<S: TokenAuthority> FromRequestParts<S> for LoggingOut {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let token = bearer_token(&parts.headers)?;
        match verify_token(state, token).await? {
            Claims::Agent(claims) => Ok(LoggingOut(claims)),
            Claims::Guest(_) => Err(ApiError::new(
                ErrorCode::Forbidden,
                "This endpoint is for agents.",
            )),
        }
    }
}

/// An agent whose role is `admin`.
#[derive(Debug, Clone)]
pub struct AdminAuth(pub AgentClaims);

impl<S: TokenAuthority> FromRequestParts<S> for AdminAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let AgentAuth(claims) = AgentAuth::from_request_parts(parts, state).await?;
        if claims.role != Role::Admin {
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                "This endpoint is for admins.",
            ));
        }
        Ok(AdminAuth(claims))
    }
}

/// A guest; which chat it may open is in its claims.
#[derive(Debug, Clone)]
pub struct GuestAuth(pub GuestClaims);

impl<S: TokenAuthority> FromRequestParts<S> for GuestAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Authenticated::from_request_parts(parts, state).await?.0 {
            Claims::Guest(claims) => Ok(GuestAuth(claims)),
            Claims::Agent(_) => Err(ApiError::new(
                ErrorCode::Forbidden,
                "This endpoint is for guests.",
            )),
        }
    }
}

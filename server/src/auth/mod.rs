//! Authentication: token issuing and verification, the keyring of signing
//! keys, trusted issuers' tokens, passwords, refresh tokens, and the
//! extractors that turn a request into a verified caller.

mod bootstrap;
mod failed_logins;
pub mod issuers;
pub mod keyring;
pub(crate) mod passwords;
mod principal;
mod refresh;
mod revocation;
mod tokens;

pub use bootstrap::ensure_first_admin;
pub use failed_logins::FailedLogins;
pub use issuers::TrustedIssuers;
pub use passwords::{PasswordSlots, hash_password, hash_password_in, verify_password};
pub use principal::{
    AdminAuth, AgentAuth, Authenticated, GuestAuth, LoggingOut, TokenAuthority, authenticate_token,
    bearer_token,
};
pub use refresh::RefreshToken;
pub use revocation::ensure_not_revoked;
pub use tokens::{IssuedToken, TokenError, TokenKeys, check_secret};

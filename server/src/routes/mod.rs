//! HTTP routes: one file per endpoint.
//!
//! Each handler carries its OpenAPI description (`#[utoipa::path]`) and, in
//! an `OPERATION` beside it (see `crate::operation`), what utoipa cannot
//! say: the error codes it may answer, how it pages. It is registered
//! through `utoipa_axum::routes!`, so the served and committed OpenAPI
//! document (built in `spec_docs`) lists exactly the routes the router has.

mod agents;
mod auth;
mod chats;
pub mod docs;
mod fallback;
mod health;
mod jwks;
mod me;
mod visitors;
pub mod web;
mod ws_tickets;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::operation::Operation;
use crate::state::AppState;

pub use fallback::{method_not_allowed, not_found};

/// Every documented route, before state is attached.
pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(jwks::jwks))
        .routes(routes!(auth::login::login))
        .routes(routes!(auth::refresh::refresh))
        .routes(routes!(auth::logout::logout))
        .routes(routes!(chats::create::start_chat, chats::list::list_chats))
        .routes(routes!(chats::get::get_chat))
        .routes(routes!(chats::token::renew_guest_token))
        .routes(routes!(chats::assign::assign_chat))
        .routes(routes!(chats::close::close_chat))
        .routes(routes!(
            agents::list::list_agents,
            agents::create::create_agent
        ))
        .routes(routes!(agents::activation::deactivate_agent))
        .routes(routes!(agents::activation::reactivate_agent))
        .routes(routes!(
            chats::messages_list::list_messages,
            chats::messages_send::post_message
        ))
        .routes(routes!(chats::reads_list::list_reads))
        .routes(routes!(chats::summaries::list_chat_summaries))
        .routes(routes!(visitors::chats::list_visitor_chats))
        .routes(routes!(visitors::own_chats::list_own_chats))
        .routes(routes!(visitors::own_token::issue_own_chat_token))
        .routes(routes!(me::me))
        .routes(routes!(crate::ws::handshake::upgrade))
        .routes(routes!(ws_tickets::create_ws_ticket))
}

/// The metadata of every operation `api_router` registers.
pub fn operations() -> [&'static Operation; 26] {
    [
        &health::OPERATION,
        &health::READY_OPERATION,
        &jwks::OPERATION,
        &auth::login::OPERATION,
        &auth::refresh::OPERATION,
        &auth::logout::OPERATION,
        &chats::create::OPERATION,
        &chats::list::OPERATION,
        &chats::get::OPERATION,
        &chats::token::OPERATION,
        &chats::assign::OPERATION,
        &chats::close::OPERATION,
        &agents::list::OPERATION,
        &agents::create::OPERATION,
        &agents::activation::DEACTIVATE_OPERATION,
        &agents::activation::REACTIVATE_OPERATION,
        &chats::messages_list::OPERATION,
        &chats::messages_send::OPERATION,
        &chats::reads_list::OPERATION,
        &chats::summaries::OPERATION,
        &visitors::chats::OPERATION,
        &visitors::own_chats::OPERATION,
        &visitors::own_token::OPERATION,
        &me::OPERATION,
        &crate::ws::handshake::OPERATION,
        &ws_tickets::OPERATION,
    ]
}

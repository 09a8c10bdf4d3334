//! Integration tests: the real server on port 0, a fresh database per test
//! (an SQLite file, or with `BYRD_TEST_DATABASE=postgres` a PostgreSQL
//! schema), real HTTP and WebSocket clients. One binary, one module per
//! area.

// Helpers outside `#[test]` functions unwrap as freely as tests: a failed
// unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod abuse;
mod agent_auth;
mod agents;
mod agents_deactivation;
mod cancellation;
mod chat_list;
mod chats;
mod cli;
mod cli_keys;
mod configuration;
mod guest_auth;
mod hardening;
mod helpers;
mod idle_close;
mod keyring;
mod keyring_sdk;
mod logging;
mod messages;
mod meta;
mod metrics;
mod open_chats;
mod queue;
mod read_markers;
mod readiness;
mod reads;
mod sdk_chat;
mod spec_contract;
mod spec_documents;
mod spec_examples;
mod spec_files;
mod spec_schemas;
mod startup;
mod token_properties;
mod token_rejection;
mod trusted_issuers;
mod visitor_text;
mod visitor_tokens;
mod visitors;
mod web;
mod writers;
mod ws_abuse;
mod ws_client;
mod ws_closing;
mod ws_delivery;
mod ws_dropped_connections;
mod ws_errors;
mod ws_handshake;
mod ws_recovery;
mod ws_security;
mod ws_tickets;

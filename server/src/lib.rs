//! The Byrd helpdesk live-chat server.
//!
//! `startup` wires configuration, storage and routes into an
//! [`Application`](startup::Application); `routes` holds one file per
//! endpoint; `auth` issues and verifies tokens; `store` holds every
//! statement Byrd sends to a database: its SQLite and PostgreSQL backends,
//! the business rules both carry out, and the reads a node of a cluster
//! makes (`backup` and `cluster` go through it too).

pub mod accept;
pub mod auth;
pub mod backup;
pub mod cli;
pub mod cluster;
pub mod configuration;
pub mod data_dir;
pub mod domain;
pub mod error;
pub mod extract;
pub mod file_limit;
pub mod hub;
pub mod idle_close;
pub mod messaging;
pub mod metrics;
pub mod operation;
pub mod options;
pub mod rate_limit;
pub mod readiness;
pub mod request_id;
pub mod routes;
pub mod socket_caps;
pub mod spec_docs;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod ws;

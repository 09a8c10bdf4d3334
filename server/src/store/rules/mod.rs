//! The store's business rules, apart from any database.
//!
//! Each rule is a pure decision: a backend reads what the rule needs with
//! its own statements, asks the rule what to do, and carries that out, so
//! a rule is written once and cannot drift apart between SQLite and
//! PostgreSQL. Each is unit-tested here without a database; the API tests
//! run both backends against the same expectations.
//!
//! - `agents`: whether an agent may be deactivated, and what a
//!   deactivation ends and announces.
//! - `append`: storing a message, or answering the one stored under its
//!   `client_msg_id`, or refusing it; what is announced.
//! - `transitions`: how a chat starts, is assigned and is closed; what is
//!   refused from which state; what is announced.
//! - `rotation`: refresh-token rotation and what ends a session.
//! - `open_chats`: how many chats one client address (an IPv6 /64) may
//!   hold open, and the key it is counted by.
//! - `reads`: where a `read` leaves a read marker, and when that is no
//!   write at all.
//! - `keys`: which key of the keyring signs, which verify, which are
//!   published, and what rotating and retiring change.
//! - `summaries`: a page of chats with their newest messages and read
//!   markers, in one statement.
//! - `visitors`: which visitor a chat start is for (a returning one, a
//!   new one, a verified one), and the statements that find them.
//! - `tickets`: how many unspent WebSocket tickets a principal may hold,
//!   and whether a spent one was still good.

pub(super) mod agents;
pub(super) mod append;
pub mod keys;
pub(super) mod open_chats;
pub(super) mod reads;
pub(super) mod rotation;
pub(super) mod summaries;
pub(super) mod tickets;
pub(super) mod transitions;
pub(super) mod visitors;

//! `/v1/chats/*`: starting, reading and handling chats.

pub mod assign;
pub mod close;
pub mod create;
pub mod get;
pub mod identity;
pub mod list;
pub mod messages_list;
pub mod messages_send;
pub mod reads_list;
pub mod summaries;
pub mod token;

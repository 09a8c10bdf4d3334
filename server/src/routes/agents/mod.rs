//! `/v1/agents`: the support team.

pub mod activation;
pub mod create;
pub mod list;

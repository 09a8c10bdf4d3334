//! `/v1/agents`: the support team.

pub mod create;
pub mod list;

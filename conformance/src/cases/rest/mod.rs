//! `rest.*`: conventions, errors, cross-origin requests, agents, chats,
//! pagination and the REST side of messages (spec: "Conventions",
//! "Errors", "Cross-origin requests", "Endpoints", "Pagination", "REST for
//! messages"), one module per endpoint group.

mod agents;
mod chats;
mod conventions;
mod cors;
mod messages;

use crate::case::Case;

/// The REST cases, in the order they run.
pub fn cases() -> Vec<Case> {
    let mut cases = conventions::cases();
    cases.extend(cors::cases());
    cases.extend(agents::cases());
    cases.extend(chats::cases());
    cases.extend(messages::cases());
    cases
}

//! Every conformance case, by area. Ids are stable: a case may be added or
//! retired, never renumbered or given another's id.

mod auth_guest;
mod auth_jwt;
mod auth_scope;
mod auth_session;
mod chat_limits;
mod identity;
mod identity_property;
mod issuer_agent;
mod jwt_attacks;
mod keys_jwks;
mod properties;
mod queue;
mod rate_limits;
mod rest;
mod ws_delivery;
mod ws_events;
mod ws_frames;
mod ws_handshake;
mod ws_lifetime;
mod ws_limits;
mod ws_recovery;
mod ws_steps;
mod ws_tickets;

use crate::case::Case;

/// All cases, in the order they run. The rate-limit cases come last: they
/// use up the allowance every other case shares.
pub fn all() -> Vec<Case> {
    let mut cases = Vec::new();
    cases.extend(auth_jwt::cases());
    cases.extend(auth_scope::cases());
    cases.extend(auth_session::cases());
    cases.extend(auth_guest::cases());
    cases.extend(keys_jwks::cases());
    cases.extend(identity::cases());
    cases.extend(identity_property::cases());
    cases.extend(issuer_agent::cases());
    cases.extend(rest::cases());
    cases.extend(ws_handshake::cases());
    cases.extend(ws_tickets::cases());
    cases.extend(ws_frames::cases());
    cases.extend(ws_delivery::cases());
    cases.extend(ws_events::cases());
    cases.extend(ws_recovery::cases());
    cases.extend(ws_lifetime::cases());
    cases.extend(ws_limits::cases());
    cases.extend(queue::cases());
    cases.extend(properties::cases());
    cases.extend(chat_limits::cases());
    cases.extend(rate_limits::cases());
    cases
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn ids_are_unique_and_well_formed() {
        let cases = all();
        let mut seen = HashSet::new();
        for case in &cases {
            assert!(seen.insert(case.id.clone()), "duplicate id {}", case.id);
            assert!(
                case.id.split('.').count() >= 2
                    && case.id.chars().all(|c| c.is_ascii_lowercase()
                        || c.is_ascii_digit()
                        || c == '.'
                        || c == '-'),
                "malformed id {}",
                case.id
            );
            assert!(
                !case.expectation.is_empty(),
                "{} has no expectation",
                case.id
            );
        }
    }

    #[test]
    fn every_section_is_a_heading_of_the_spec() {
        let readme = include_str!("../../../spec/v1/README.md");
        let anchors: HashSet<String> = readme
            .lines()
            .filter_map(|line| line.strip_prefix('#'))
            .map(|heading| anchor(heading.trim_start_matches('#').trim()))
            .collect();
        for case in all() {
            let section = case.section.trim_end_matches("-1");
            assert!(
                anchors.contains(section),
                "{} cites #{}, which is no heading of spec/v1/README.md",
                case.id,
                case.section
            );
        }
    }

    /// The whole list as a reviewer reads it: run order, id, level,
    /// section, capabilities and expectation. Ids are a contract (the
    /// expected-failures list and the server's own test notes cite them),
    /// so any change to this list shows up as a snapshot diff.
    #[test]
    fn the_case_list_is_stable() {
        let listing: String = all()
            .iter()
            .map(|case| {
                format!(
                    "{} {} #{} {:?}\n    {}\n",
                    case.level, case.id, case.section, case.needs, case.expectation
                )
            })
            .collect();
        insta::assert_snapshot!("case_list", listing);
    }

    /// GitHub's anchor of a heading: lowercase, punctuation dropped,
    /// spaces to hyphens.
    fn anchor(heading: &str) -> String {
        heading
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
            .map(|c| if c == ' ' { '-' } else { c })
            .collect()
    }
}

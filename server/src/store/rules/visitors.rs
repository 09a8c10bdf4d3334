//! Which visitor a chat start is for, apart from any database.
//!
//! An anonymous visitor presents a continuity token (or none): the rule
//! [`continuity`] says whether it still names a visitor, who then keeps
//! their id and has the token's life start again (the same token: two
//! tabs presenting it both keep it), or whether a new visitor is made with
//! the fresh token. A stale or unknown token is no error, since a chat
//! start must never fail over what a browser's storage still holds.
//!
//! A verified visitor is found by issuer and subject with one upsert,
//! [`upsert_verified`]: two chat starts racing for a new identity, on one
//! node or several, meet on the `(issuer, external_id)` key and end with
//! one visitor. Both stores run these statements' text, differing only in
//! how they number parameters, inside the chat start's transaction.

use std::time::Duration;

use byrd_spec::chat::{ChatContext, Visitor, VisitorAttribute};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::store::{ChatVisitor, NewChat};

/// The visitor a presented continuity token names, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::store) struct Held {
    pub id: Uuid,
    pub expires_at: DateTime<Utc>,
}

/// What an anonymous chat start does about its visitor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::store) enum Continuity {
    /// The token presented is valid: the same visitor, whose token now
    /// lapses at `expires_at`.
    Renew { id: Uuid, expires_at: DateTime<Utc> },
    /// A new visitor, holding the fresh token until `expires_at`.
    Create { id: Uuid, expires_at: DateTime<Utc> },
}

/// Renews the visitor `held` names while its token has not lapsed;
/// otherwise (no token, an unknown one, a lapsed one) a new visitor.
pub(in crate::store) fn continuity(
    held: Option<Held>,
    now: DateTime<Utc>,
    ttl: Duration,
) -> Continuity {
    let expires_at = now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX);
    match held {
        Some(held) if held.expires_at > now => Continuity::Renew {
            id: held.id,
            expires_at,
        },
        _ => Continuity::Create {
            id: Uuid::now_v7(),
            expires_at,
        },
    }
}

/// The visitor a valid token names: 1 the token's hash.
pub(in crate::store) fn held_statement(param: impl Fn(u8) -> String) -> String {
    format!(
        "SELECT id, secret_expires_at FROM visitors WHERE secret_hash = {} AND issuer IS NULL",
        param(1)
    )
}

/// Renews a visitor: 1 now, 2 the token's new expiry, 3 the name and 4
/// the email given (kept when not), 5 the id.
pub(in crate::store) fn renew_statement(param: impl Fn(u8) -> String) -> String {
    let [now, expires_at, name, email, id] = [1, 2, 3, 4, 5].map(param);
    format!(
        "UPDATE visitors SET last_seen_at = {now}, secret_expires_at = {expires_at},
                             name = COALESCE({name}, name), email = COALESCE({email}, email)
         WHERE id = {id}"
    )
}

/// A new anonymous visitor: 1 the id, 2 the token's hash, 3 its expiry,
/// 4 now, 5 the name, 6 the email.
pub(in crate::store) fn create_statement(param: impl Fn(u8) -> String) -> String {
    let [id, hash, expires_at, now, name, email] = [1, 2, 3, 4, 5, 6].map(param);
    format!(
        "INSERT INTO visitors (id, secret_hash, secret_expires_at, created_at, last_seen_at,
                               name, email)
         VALUES ({id}, {hash}, {expires_at}, {now}, {now}, {name}, {email})"
    )
}

/// Finds or creates the verified visitor and brings them up to date,
/// answering their id: 1 a new id, 2 now, 3 the name, 4 the email, 5 the
/// issuer, 6 the subject, 7 the attributes (JSON). A name or email the
/// identity leaves out keeps the one stored; the attributes are replaced.
pub(in crate::store) fn upsert_verified(param: impl Fn(u8) -> String) -> String {
    let [id, now, name, email, issuer, subject, attributes] = [1, 2, 3, 4, 5, 6, 7].map(param);
    format!(
        "INSERT INTO visitors (id, created_at, last_seen_at, name, email, issuer, external_id,
                               attributes)
         VALUES ({id}, {now}, {now}, {name}, {email}, {issuer}, {subject}, {attributes})
         ON CONFLICT (issuer, external_id) DO UPDATE
         SET last_seen_at = excluded.last_seen_at,
             name = COALESCE(excluded.name, visitors.name),
             email = COALESCE(excluded.email, visitors.email),
             attributes = excluded.attributes
         RETURNING id"
    )
}

/// Attributes as stored: a JSON array of `{name, value}`.
pub(in crate::store) fn attributes_text(attributes: &[VisitorAttribute]) -> String {
    // A list of string pairs always serialises.
    serde_json::to_string(attributes).unwrap_or_else(|_| "[]".to_owned())
}

/// A chat's context as stored: a JSON object of strings.
pub(in crate::store) fn context_text(context: &ChatContext) -> String {
    // An object of optional strings always serialises.
    serde_json::to_string(context).unwrap_or_else(|_| "{}".to_owned())
}

/// The chat's visitor once `id` is known: a verified identity's name and
/// email win over what the visitor typed.
pub(in crate::store) fn chat_visitor(new: &NewChat, id: Uuid) -> Visitor {
    let typed_name = new.visitor_name.as_ref().map(|n| n.as_str().to_owned());
    let typed_email = new.visitor_email.as_ref().map(|e| e.as_str().to_owned());
    match &new.visitor {
        ChatVisitor::Anonymous { .. } => Visitor {
            id,
            name: typed_name,
            email: typed_email,
            verified: false,
            issuer: None,
            external_id: None,
            attributes: Vec::new(),
        },
        ChatVisitor::Verified(identity) => Visitor {
            id,
            name: identity
                .name()
                .map(|n| n.as_str().to_owned())
                .or(typed_name),
            email: identity
                .email()
                .map(|e| e.as_str().to_owned())
                .or(typed_email),
            verified: true,
            issuer: Some(identity.issuer().to_owned()),
            external_id: Some(identity.subject().to_owned()),
            attributes: identity.attributes().to_vec(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TTL: Duration = Duration::from_secs(180 * 24 * 60 * 60);

    #[test]
    fn a_valid_token_keeps_its_visitor_and_starts_its_life_again() {
        let now = Utc::now();
        let held = Held {
            id: Uuid::from_u128(7),
            expires_at: now + chrono::Duration::seconds(1),
        };
        let step = continuity(Some(held), now, TTL);
        assert_eq!(
            step,
            Continuity::Renew {
                id: held.id,
                expires_at: now + chrono::Duration::days(180),
            }
        );
    }

    #[test]
    fn no_token_or_a_lapsed_one_makes_a_new_visitor() {
        let now = Utc::now();
        let lapsed = Held {
            id: Uuid::from_u128(7),
            expires_at: now,
        };
        for held in [None, Some(lapsed)] {
            match continuity(held, now, TTL) {
                Continuity::Create { id, expires_at } => {
                    assert_ne!(id, lapsed.id);
                    assert_eq!(expires_at, now + chrono::Duration::days(180));
                }
                other => panic!("{held:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn statements_number_their_parameters_as_the_store_asks() {
        let dollar = |n: u8| format!("${n}");
        assert!(upsert_verified(dollar).contains("VALUES ($1, $2, $2, $3, $4, $5, $6, $7)"));
        assert!(renew_statement(|n| format!("?{n}")).contains("WHERE id = ?5"));
    }
}

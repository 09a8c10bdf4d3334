//! How many chats one client address may hold open, apart from any
//! database.
//!
//! A chat remembers the address it was started from only as an
//! [`AddressKey`]: an IPv4 address, or the /64 prefix of an IPv6 one (an
//! IPv6 client usually holds a whole /64 and could take a fresh address
//! for every chat), the same key the rate limits use. Nothing finer is
//! stored, and the key is cleared when the chat closes, so the store holds
//! no more of a visitor's address than the bound needs, for no longer.
//!
//! Both stores count the chats not closed under the new chat's key and ask
//! [`admit`] in the transaction that inserts it: SQLite's single writer
//! runs one insert at a time, and PostgreSQL takes a transaction-scoped
//! advisory lock on the key first, so two nodes cannot both admit the
//! last place.

use std::net::IpAddr;

use crate::rate_limit::limit_key;
use crate::store::StoreError;

/// What the bound counts a chat's start under; see the module comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressKey(String);

impl AddressKey {
    /// The key of `address`: IPv4 (IPv4-mapped IPv6 included) as it is,
    /// IPv6 as its /64 (`2001:db8:1:2::/64`).
    pub fn of(address: IpAddr) -> AddressKey {
        AddressKey(match limit_key(address) {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => format!("{v6}/64"),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The bound a new chat is held to.
#[derive(Debug, Clone)]
pub struct AddressBound {
    pub key: AddressKey,
    /// Most chats not closed under `key`; 0 means no bound.
    pub max_open: u32,
}

/// Whether a chat may start when `open` chats are already open under its
/// key.
pub(in crate::store) fn admit(open: i64, bound: &AddressBound) -> Result<(), StoreError> {
    if bound.max_open == 0 || open < i64::from(bound.max_open) {
        Ok(())
    } else {
        Err(StoreError::TooManyOpenChats)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(text: &str) -> AddressKey {
        AddressKey::of(text.parse().unwrap())
    }

    #[test]
    fn ipv4_counts_by_address_and_ipv6_by_its_64() {
        assert_eq!(key("203.0.113.7").as_str(), "203.0.113.7");
        assert_ne!(key("203.0.113.7"), key("203.0.113.8"));
        assert_eq!(key("::ffff:203.0.113.7"), key("203.0.113.7"));
        assert_eq!(key("2001:db8:1:2::1").as_str(), "2001:db8:1:2::/64");
        assert_eq!(
            key("2001:db8:1:2::1"),
            key("2001:db8:1:2:ffff:ffff:ffff:ffff")
        );
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
    }

    #[test]
    fn a_chat_starts_below_the_bound_and_is_refused_at_it() {
        let bound = AddressBound {
            key: key("203.0.113.7"),
            max_open: 3,
        };
        for open in 0..3 {
            assert!(admit(open, &bound).is_ok(), "{open}");
        }
        for open in [3, 4, 100] {
            assert!(
                matches!(admit(open, &bound), Err(StoreError::TooManyOpenChats)),
                "{open}"
            );
        }
    }

    #[test]
    fn zero_means_no_bound() {
        let bound = AddressBound {
            key: key("2001:db8::1"),
            max_open: 0,
        };
        assert!(admit(1_000_000, &bound).is_ok());
    }
}

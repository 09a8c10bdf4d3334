//! Caps on open WebSockets, per principal and per client address.
//!
//! A handshake takes a [`SocketSlot`] before upgrading and the connection
//! holds it for its whole life; dropping it frees the slot. One principal
//! (a leaked guest token, say) or one address cannot hold thousands of
//! sockets, each costing memory and a task.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use uuid::Uuid;

use crate::error::ApiError;
use crate::rate_limit::limit_key;

#[derive(Debug)]
pub struct SocketCaps {
    per_principal: usize,
    per_address: usize,
    open: Mutex<Open>,
}

#[derive(Debug, Default)]
struct Open {
    principals: HashMap<Uuid, usize>,
    addresses: HashMap<IpAddr, usize>,
}

/// One open socket's share of the caps; freed on drop.
#[derive(Debug)]
pub struct SocketSlot {
    caps: Arc<SocketCaps>,
    principal: Uuid,
    address: IpAddr,
}

impl SocketCaps {
    pub fn new(per_principal: usize, per_address: usize) -> Arc<Self> {
        Arc::new(SocketCaps {
            per_principal,
            per_address,
            open: Mutex::default(),
        })
    }

    fn open(&self) -> std::sync::MutexGuard<'_, Open> {
        self.open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A slot for one more socket of `principal` from `address`, or
    /// `429 limit_exceeded` when either is at its cap.
    pub fn acquire(
        self: &Arc<Self>,
        principal: Uuid,
        address: IpAddr,
    ) -> Result<SocketSlot, ApiError> {
        let address = limit_key(address);
        let mut open = self.open();
        let by_principal = open.principals.get(&principal).copied().unwrap_or(0);
        let by_address = open.addresses.get(&address).copied().unwrap_or(0);
        if by_principal >= self.per_principal || by_address >= self.per_address {
            return Err(ApiError::limit_exceeded(
                "Too many WebSockets are open for this token's principal or this address.",
            ));
        }
        *open.principals.entry(principal).or_default() += 1;
        *open.addresses.entry(address).or_default() += 1;
        Ok(SocketSlot {
            caps: self.clone(),
            principal,
            address,
        })
    }
}

impl Drop for SocketSlot {
    fn drop(&mut self) {
        let mut open = self.caps.open();
        release(&mut open.principals, &self.principal);
        release(&mut open.addresses, &self.address);
    }
}

fn release<K: std::hash::Hash + Eq>(counts: &mut HashMap<K, usize>, key: &K) {
    if let Some(count) = counts.get_mut(key) {
        *count -= 1;
        if *count == 0 {
            counts.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use byrd_spec::error::ErrorCode;

    use super::*;

    fn is_limit(error: &ApiError) -> bool {
        error.code() == ErrorCode::LimitExceeded
    }

    #[test]
    fn slots_are_capped_per_principal_and_per_address_and_freed_on_drop() {
        let caps = SocketCaps::new(2, 3);
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let here: IpAddr = [10, 0, 0, 1].into();
        let first = caps.acquire(a, here).unwrap();
        let _second = caps.acquire(a, here).unwrap();
        assert!(is_limit(&caps.acquire(a, here).unwrap_err()));
        let _third = caps.acquire(b, here).unwrap();
        assert!(is_limit(&caps.acquire(b, here).unwrap_err()), "address cap");
        drop(first);
        assert!(caps.acquire(b, here).is_ok());
    }
}

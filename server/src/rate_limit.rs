//! Rate limits (GCRA, through `governor`), per client address or per
//! principal.
//!
//! Every limiter names the limit it enforces, so its refusals are
//! counted under that name (`byrd_rate_limited_total{limit}`).
//!
//! Client addresses are limited by their network, not their exact address:
//! an IPv6 client usually holds a whole /64 and could otherwise take a
//! fresh address for every request.

use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::error::ApiError;
use crate::metrics::{Limit, handles};

#[derive(Debug)]
pub struct RateLimiter<K: Hash + Eq + Clone = IpAddr> {
    limiter: DefaultKeyedRateLimiter<K>,
    clock: DefaultClock,
    /// The limit its refusals are counted under.
    limit: Limit,
}

/// The key an address is limited under: IPv4 addresses (IPv4-mapped IPv6
/// ones included) as they are, IPv6 addresses by their /64.
pub fn limit_key(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(v6.to_bits() & !u128::from(u64::MAX))),
        },
    }
}

impl<K: Hash + Eq + Clone> RateLimiter<K> {
    /// Allows `per_minute` requests a minute per key, all of them in a
    /// burst if they come at once. Zero is read as one.
    pub fn per_minute(limit: Limit, per_minute: u32) -> Self {
        let quota = Quota::per_minute(NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN));
        RateLimiter {
            limiter: DefaultKeyedRateLimiter::keyed(quota),
            clock: DefaultClock::default(),
            limit,
        }
    }

    /// Counts one request under `key`, or says how long to wait.
    pub fn check_key(&self, key: &K) -> Result<(), ApiError> {
        self.limiter.check_key(key).map_err(|not_until| {
            handles().refused(self.limit);
            let wait = not_until.wait_time_from(self.clock.now());
            // Round up: a client that waits exactly `Retry-After` must pass.
            ApiError::rate_limited(wait.as_secs() + u64::from(wait.subsec_nanos() > 0))
        })
    }

    /// Forgets keys whose limit has fully recovered, so the table does not
    /// grow with every key ever seen.
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

impl RateLimiter<IpAddr> {
    /// Counts one request from `address` (by its [`limit_key`]).
    pub fn check(&self, address: IpAddr) -> Result<(), ApiError> {
        self.check_key(&limit_key(address))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_past_the_quota_with_a_retry_delay_per_address() {
        let limiter = RateLimiter::per_minute(Limit::ChatCreate, 2);
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        assert!(limiter.check(a).is_ok());
        assert!(limiter.check(a).is_ok());
        let refused = limiter.check(a).unwrap_err();
        assert_eq!(refused.code(), byrd_spec::error::ErrorCode::RateLimited);
        assert!(
            limiter.check(b).is_ok(),
            "another address has its own quota"
        );
    }

    #[test]
    fn ipv6_addresses_share_their_64_and_mapped_ipv4_is_ipv4() {
        let key = |text: &str| limit_key(text.parse().unwrap());
        assert_eq!(key("2001:db8::1"), key("2001:db8::ffff:2"));
        assert_ne!(key("2001:db8::1"), key("2001:db8:0:1::1"));
        assert_eq!(key("::ffff:10.0.0.1"), key("10.0.0.1"));
        assert_ne!(key("10.0.0.1"), key("10.0.0.2"));
    }
}

//! A throttle on failed logins per account.
//!
//! The per-address login limit does not stop a password being guessed
//! from many addresses; this one counts failures per email, whatever the
//! address. Past the limit within the window, logins for that email are
//! refused with `429` until the window ends, before any password is
//! hashed. Unknown emails are counted alike, so the throttle tells nothing
//! about which emails exist.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::ApiError;

#[derive(Debug)]
pub struct FailedLogins {
    limit: u32,
    window: Duration,
    accounts: Mutex<HashMap<String, Failures>>,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    since: Instant,
    count: u32,
}

/// Longest account key kept, so junk emails cost bounded memory.
const MAX_KEY_CHARS: usize = 254;

fn key(account: &str) -> String {
    account
        .trim()
        .chars()
        .take(MAX_KEY_CHARS)
        .collect::<String>()
        .to_lowercase()
}

impl FailedLogins {
    pub fn new(limit: u32, window: Duration) -> Self {
        FailedLogins {
            limit: limit.max(1),
            window,
            accounts: Mutex::default(),
        }
    }

    fn accounts(&self) -> std::sync::MutexGuard<'_, HashMap<String, Failures>> {
        self.accounts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Refuses a login for `account` while it is throttled.
    pub fn check(&self, account: &str) -> Result<(), ApiError> {
        let now = Instant::now();
        match self.accounts().get(&key(account)) {
            Some(failures)
                if failures.count >= self.limit
                    && now.duration_since(failures.since) < self.window =>
            {
                let left = self.window - now.duration_since(failures.since);
                Err(ApiError::rate_limited(left.as_secs().max(1)))
            }
            _ => Ok(()),
        }
    }

    pub fn failed(&self, account: &str) {
        let now = Instant::now();
        let mut accounts = self.accounts();
        let failures = accounts.entry(key(account)).or_insert(Failures {
            since: now,
            count: 0,
        });
        if now.duration_since(failures.since) >= self.window {
            *failures = Failures {
                since: now,
                count: 0,
            };
        }
        failures.count += 1;
    }

    pub fn succeeded(&self, account: &str) {
        self.accounts().remove(&key(account));
    }

    /// Drops accounts whose window has passed.
    pub fn forget_old(&self) {
        let now = Instant::now();
        let window = self.window;
        self.accounts()
            .retain(|_, failures| now.duration_since(failures.since) < window);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_throttled_after_its_failures_whatever_the_case() {
        let throttle = FailedLogins::new(2, Duration::from_secs(60));
        throttle.failed("Ada@example.com");
        assert!(throttle.check("ada@example.com").is_ok());
        throttle.failed("ada@example.com");
        assert!(throttle.check("ADA@example.com").is_err());
        assert!(throttle.check("grace@example.com").is_ok());
        throttle.succeeded("ada@example.com");
        assert!(throttle.check("ada@example.com").is_ok());
    }
}

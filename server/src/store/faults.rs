//! Faults a test can inject into the store's reads of messages.
//!
//! Recovery paths (a replay that cannot be read, a read that takes long
//! while live traffic goes on) cannot be reached with a healthy SQLite
//! file, so tests reach them through this switch: hold message reads until
//! released, or make the next few fail. It lives on [`StoreSettings`],
//! which only code builds; no flag or environment variable sets it, and
//! left at its default it costs one branch per read.
//!
//! [`StoreSettings`]: super::StoreSettings

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use tokio::sync::watch;

use super::StoreError;

/// Shared by every clone: a test keeps one and passes a clone in the
/// settings.
#[derive(Debug, Clone, Default)]
pub struct ReadFaults(Option<Arc<Switches>>);

#[derive(Debug)]
struct Switches {
    /// True while message reads wait.
    held: watch::Sender<bool>,
    /// Message reads still to fail.
    failures: AtomicU32,
    /// Message reads waiting for a release now.
    waiting: AtomicU32,
}

/// Counts a held read for as long as it waits, dropped or not.
struct Waiting<'a>(&'a AtomicU32);

impl<'a> Waiting<'a> {
    fn start(count: &'a AtomicU32) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        Waiting(count)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl ReadFaults {
    /// A switch that starts with every read passing.
    pub fn armed() -> Self {
        ReadFaults(Some(Arc::new(Switches {
            held: watch::Sender::new(false),
            failures: AtomicU32::new(0),
            waiting: AtomicU32::new(0),
        })))
    }

    /// Message reads from now on wait until [`release`](Self::release).
    pub fn hold(&self) {
        if let Some(switches) = &self.0 {
            switches.held.send_replace(true);
        }
    }

    /// Lets held and later reads go on.
    pub fn release(&self) {
        if let Some(switches) = &self.0 {
            switches.held.send_replace(false);
        }
    }

    /// The next `count` message reads fail, held ones included.
    pub fn fail_next(&self, count: u32) {
        if let Some(switches) = &self.0 {
            switches.failures.store(count, Ordering::SeqCst);
        }
    }

    /// How many message reads are held now: a test waits for its read to
    /// have started before it does what must happen during it.
    pub fn waiting(&self) -> u32 {
        self.0
            .as_ref()
            .map_or(0, |switches| switches.waiting.load(Ordering::SeqCst))
    }

    /// Called before every read of messages.
    pub(super) async fn before_message_read(&self) -> Result<(), StoreError> {
        let Some(switches) = &self.0 else {
            return Ok(());
        };
        let mut held = switches.held.subscribe();
        if *held.borrow_and_update() {
            let _counted = Waiting::start(&switches.waiting);
            // The sender lives in `switches`, so this wait cannot fail.
            let _ = held.wait_for(|held| !held).await;
        }
        let failed = switches
            .failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if failed {
            return Err(StoreError::Unexpected(anyhow::anyhow!(
                "a message read failed (injected)"
            )));
        }
        Ok(())
    }
}

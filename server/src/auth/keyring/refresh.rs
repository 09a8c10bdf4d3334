//! The reloader: keeps a node's keyring in step with the database.
//!
//! It reloads every refresh interval, which bounds how long a node takes
//! to see a published key or a retirement; and, at most once every
//! [`UNKNOWN_KID_GAP`], sooner when a token names a `kid` the node does not
//! know, so that a flood of made-up `kid`s costs one query per gap.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use super::KeyringHandle;
use super::manage::KeyringSource;

/// The least time between two reloads.
pub const UNKNOWN_KID_GAP: Duration = Duration::from_secs(5);

/// The reloader's task; stops when dropped.
#[derive(Debug)]
pub struct RefreshTask(JoinHandle<()>);

impl Drop for RefreshTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl RefreshTask {
    /// Reloads `handle`'s keyring from `source` every `interval`.
    pub fn start(
        handle: Arc<KeyringHandle>,
        source: KeyringSource,
        interval: Duration,
    ) -> RefreshTask {
        RefreshTask(tokio::spawn(run(handle, source, interval)))
    }
}

async fn run(handle: Arc<KeyringHandle>, source: KeyringSource, interval: Duration) {
    let gap = interval.min(UNKNOWN_KID_GAP);
    loop {
        tokio::time::sleep(gap).await;
        tokio::select! {
            () = tokio::time::sleep(interval - gap) => {}
            () = handle.unknown_kid.notified() => {}
        }
        match source.load().await {
            Ok(keyring) => handle.replace(keyring),
            // The keys loaded before keep working; a retirement waits.
            Err(error) => tracing::warn!(
                error = format!("{error:#}"),
                "cannot reload the keyring; keeping the keys loaded before"
            ),
        }
    }
}

//! Checkpoints, off the writer's path.
//!
//! In WAL mode every commit appends the pages it changed to the WAL, and a
//! checkpoint copies them back into the database file. SQLite's automatic
//! checkpoint runs inside a commit, every 1000 WAL pages: under load that
//! is every few batches, and each one stalls the writer for the copy and
//! two more fsyncs. Here the writer's automatic checkpoints are off and a
//! thread of its own, with its own connection, checkpoints at most every
//! [`INTERVAL`] while commits happen. A passive checkpoint runs beside the
//! writer without blocking it, and copies each page once however many
//! commits rewrote it in between.
//!
//! The WAL only starts over when a checkpoint has copied all of it and the
//! writer then begins a transaction, which a checkpoint beside a busy
//! writer rarely manages. So once the WAL passes [`RESTART_FRAMES`], the
//! writer itself checkpoints between two batches, right after this thread
//! has copied almost everything: that copy is short, and the next commit
//! starts the WAL over.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use anyhow::Context;
use rusqlite::{Connection, OpenFlags};

/// Shortest time between two background checkpoints.
const INTERVAL: Duration = Duration::from_millis(200);

/// WAL pages (4 KiB each) past which the writer starts the WAL over.
const RESTART_FRAMES: i64 = 16_384;

#[derive(Debug, Default)]
struct Shared {
    /// What the writer has told the checkpointer since its last run.
    state: Mutex<Signals>,
    wake: Condvar,
    /// Set by the checkpointer when the WAL is long; taken by the writer.
    restart_due: AtomicBool,
}

#[derive(Debug, Default)]
struct Signals {
    committed: bool,
    stopped: bool,
}

/// The writer's end. Dropping it stops the checkpointer.
#[derive(Debug)]
pub(super) struct Checkpoints(Arc<Shared>);

impl Checkpoints {
    /// Starts the checkpointer on its own connection to `path`.
    pub fn start(path: &Path) -> anyhow::Result<Checkpoints> {
        Checkpoints::start_with(path, INTERVAL, RESTART_FRAMES)
    }

    /// [`start`](Self::start) with other pacing, for tests.
    fn start_with(
        path: &Path,
        interval: Duration,
        restart_frames: i64,
    ) -> anyhow::Result<Checkpoints> {
        let connection = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .context("cannot open the SQLite database for checkpoints")?;
        // The checkpoint's own syncs (WAL before copying, database after)
        // follow this connection's setting.
        connection
            .execute_batch("PRAGMA synchronous = FULL;")
            .context("cannot configure the checkpoint connection")?;
        let shared = Arc::new(Shared::default());
        let theirs = shared.clone();
        std::thread::Builder::new()
            .name("byrd-checkpoint".into())
            .spawn(move || run(connection, &theirs, interval, restart_frames))
            .context("cannot start the database checkpoint thread")?;
        Ok(Checkpoints(shared))
    }

    /// Tells the checkpointer that a batch committed.
    pub fn committed(&self) {
        let mut signals = lock(&self.0.state);
        if !signals.committed {
            signals.committed = true;
            self.0.wake.notify_one();
        }
    }

    /// Starts the WAL over if it grew long: a passive checkpoint on the
    /// writer's connection, between two transactions, so that nothing is
    /// appended while it runs and the next commit can start the WAL over.
    pub fn restart_if_due(&self, writer: &Connection) {
        if !self.0.restart_due.swap(false, Ordering::AcqRel) {
            return;
        }
        match checkpoint(writer) {
            // The checkpointer held the checkpoint lock, or a reader kept
            // frames from being copied: try again after the next batch.
            Ok(wal) if wal.busy || wal.copied < wal.frames => {
                self.0.restart_due.store(true, Ordering::Release);
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "the writer's checkpoint failed"),
        }
    }
}

impl Drop for Checkpoints {
    fn drop(&mut self) {
        lock(&self.0.state).stopped = true;
        self.0.wake.notify_one();
    }
}

fn lock(state: &Mutex<Signals>) -> std::sync::MutexGuard<'_, Signals> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn run(connection: Connection, shared: &Shared, interval: Duration, restart_frames: i64) {
    loop {
        {
            let mut signals = lock(&shared.state);
            while !signals.committed && !signals.stopped {
                signals = shared
                    .wake
                    .wait(signals)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
            }
            if signals.stopped {
                return;
            }
            signals.committed = false;
        }
        match checkpoint(&connection) {
            Ok(wal) if wal.frames >= restart_frames => {
                shared.restart_due.store(true, Ordering::Release);
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "a background checkpoint failed"),
        }
        // Commits meanwhile rewrite the same pages; copying them once per
        // interval is cheaper than once per commit.
        std::thread::sleep(interval);
    }
}

/// What a checkpoint found and did.
struct WalState {
    /// Another checkpoint was running, so this one did nothing.
    busy: bool,
    /// Pages in the WAL.
    frames: i64,
    /// Pages of the WAL copied into the database, by now.
    copied: i64,
}

/// A passive checkpoint: copies what no reader still needs, waiting for
/// nobody.
fn checkpoint(connection: &Connection) -> rusqlite::Result<WalState> {
    connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
        Ok(WalState {
            busy: row.get::<_, i64>(0)? != 0,
            frames: row.get(1)?,
            copied: row.get(2)?,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With SQLite's automatic checkpoints off, only the checkpointer
    /// keeps the WAL from growing by every page ever written. The writes
    /// come in rounds, and each round waits for the checkpointer to ask for
    /// a restart before the writer takes it, so the test does not depend on
    /// how fast this machine syncs.
    #[test]
    fn the_wal_starts_over_under_steady_writes() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("byrd.db");
        let writer = Connection::open(&path).expect("the database opens");
        writer
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
                 PRAGMA wal_autocheckpoint = 0; CREATE TABLE pages (body BLOB);",
            )
            .expect("the database is set up");
        let checkpoints = Checkpoints::start_with(&path, Duration::from_millis(1), 64)
            .expect("the checkpointer starts");
        let (rounds, rows_per_round) = (8, 50);
        for _ in 0..rounds {
            for _ in 0..rows_per_round {
                writer
                    .execute("INSERT INTO pages (body) VALUES (zeroblob(4000))", [])
                    .expect("a row is written");
                checkpoints.committed();
            }
            // A round writes well past 64 pages: the checkpointer asks for
            // a restart, and the writer takes it before the next round.
            wait_until(|| checkpoints.0.restart_due.load(Ordering::Acquire));
            wait_until(|| {
                checkpoints.restart_if_due(&writer);
                !checkpoints.0.restart_due.load(Ordering::Acquire)
            });
        }
        drop(checkpoints);

        // Without restarts the WAL would hold every page each commit wrote:
        // two or more a row, over 3 MB. With them it holds about a round.
        let wal = std::fs::metadata(dir.path().join("byrd.db-wal"))
            .expect("the WAL exists")
            .len();
        assert!(wal < 1_000_000, "the WAL grew to {wal} bytes");
        let stored: i64 = Connection::open(&path)
            .expect("the database opens again")
            .query_row("SELECT COUNT(*) FROM pages", [], |row| row.get(0))
            .expect("the rows are counted");
        assert_eq!(stored, rounds * rows_per_round);
    }

    /// Polls `done` until it holds; panics if it never does.
    fn wait_until(mut done: impl FnMut() -> bool) {
        for _ in 0..5_000 {
            if done() {
                return;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        panic!("the checkpointer never got there");
    }
}

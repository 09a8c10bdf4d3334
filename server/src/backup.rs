//! `byrd backup`: a consistent copy of a SQLite deployment, taken while
//! the server runs.
//!
//! The database is copied by the SQLite store (`store::sqlite::backup`:
//! one snapshot, written out and checked while the writer carries on).
//! This command claims the new folder, refuses PostgreSQL deployments,
//! which have their own tools, and copies the generated JWT key along, so
//! tokens issued before the backup are still honoured by a server restored
//! from it. The folder is claimed by creating it, in one step that fails
//! when it exists, so of two runs started at once with the same `--to` one
//! is refused before it touches anything. A backup that fails half-way is
//! removed, and only ever by the run that created its folder.

use std::fs;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail, ensure};

use crate::data_dir::JWT_SECRET_FILE;
use crate::store::sqlite;

/// The database file's name in a backup folder, as in a data folder.
pub const DATABASE_FILE: &str = "byrd.db";

/// What a backup holds.
#[derive(Debug)]
pub struct Backup {
    pub folder: PathBuf,
    pub chats: i64,
    pub messages: i64,
    /// Whether the data folder's generated JWT key was copied.
    pub jwt_key: bool,
}

/// Backs up the SQLite database at `database_url`, and the JWT key of
/// `data_dir` if there is one, into the new folder `to`.
pub fn run(database_url: &str, data_dir: &Path, to: &Path) -> anyhow::Result<Backup> {
    let source = sqlite_path(database_url)?;
    ensure!(
        source.is_file(),
        "no database at {}: nothing to back up",
        source.display()
    );
    claim_folder(to)?;
    // From here on the folder is this run's own, and so is removing it.
    let target = to.join(DATABASE_FILE);
    let result = sqlite::write_snapshot(&source, &target).and_then(|snapshot| {
        let jwt_key = copy_jwt_key(data_dir, to)?;
        Ok(Backup {
            folder: to.to_owned(),
            chats: snapshot.chats,
            messages: snapshot.messages,
            jwt_key,
        })
    });
    if result.is_err() {
        // A half-written backup must not pass for a good one.
        let _ = fs::remove_dir_all(to);
    }
    result
}

/// The file a `sqlite:` URL names; other databases have their own tools.
fn sqlite_path(database_url: &str) -> anyhow::Result<PathBuf> {
    if database_url.starts_with("postgres:") || database_url.starts_with("postgresql:") {
        bail!(
            "this deployment's database is PostgreSQL: back it up with pg_dump or the \
             provider's snapshots, and keep BYRD_JWT_SECRET with it"
        );
    }
    // An in-memory database names no file, which `run` finds missing.
    sqlite::database_file(database_url)
}

/// Creates `to`, owner-only, its parents as needed; refuses one that
/// exists, so that no earlier backup, nor one another run is writing, is
/// overwritten or removed. Creating the folder itself is the check: a test
/// for its existence before creating it would let two runs both pass.
fn claim_folder(to: &Path) -> anyhow::Result<()> {
    if let Some(parent) = to.parent().filter(|parent| !parent.as_os_str().is_empty()) {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    match fs::DirBuilder::new().mode(0o700).create(to) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            bail!("{} exists already; back up into a new folder", to.display())
        }
        Err(error) => Err(error).with_context(|| format!("cannot create {}", to.display())),
    }
}

/// Copies the generated JWT key, owner-only; false when the data folder
/// has none (the key then comes from `BYRD_JWT_SECRET`).
fn copy_jwt_key(data_dir: &Path, to: &Path) -> anyhow::Result<bool> {
    let key = data_dir.join(JWT_SECRET_FILE);
    if !key.is_file() {
        return Ok(false);
    }
    let contents =
        fs::read_to_string(&key).with_context(|| format!("cannot read {}", key.display()))?;
    crate::data_dir::write_private_file(&to.join(JWT_SECRET_FILE), &contents)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sqlite_files_are_backed_up() {
        let postgres = sqlite_path("postgres://byrd@db/byrd").unwrap_err();
        assert!(postgres.to_string().contains("pg_dump"), "{postgres}");
        assert!(sqlite_path("mysql://db/byrd").is_err());
        let dir = tempfile::tempdir().unwrap();
        let memory = run("sqlite::memory:", dir.path(), &dir.path().join("to")).unwrap_err();
        assert!(
            memory.to_string().contains("nothing to back up"),
            "{memory}"
        );
        assert_eq!(
            sqlite_path("sqlite:///var/lib/byrd/byrd.db?mode=rwc").unwrap(),
            PathBuf::from("/var/lib/byrd/byrd.db")
        );
    }

    #[test]
    fn an_existing_folder_is_never_written_into() {
        let dir = tempfile::tempdir().unwrap();
        let error = claim_folder(dir.path()).unwrap_err();
        assert!(error.to_string().contains("exists already"), "{error}");
    }

    /// A database big enough that writing it out takes a while.
    fn database_with_messages(path: &Path) {
        let connection = rusqlite::Connection::open(path).unwrap();
        connection
            .execute_batch(
                "CREATE TABLE chats (id INTEGER PRIMARY KEY);
                 CREATE TABLE messages (id INTEGER PRIMARY KEY, body TEXT);
                 INSERT INTO chats VALUES (1);
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
                 INSERT INTO messages (body) SELECT printf('message %d of a long chat', i) FROM n;",
            )
            .unwrap();
    }

    #[test]
    fn of_overlapping_runs_into_one_folder_one_writes_and_the_others_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join(DATABASE_FILE);
        database_with_messages(&source);
        let url = format!("sqlite://{}", source.display());
        // Several rounds, each with runs released together: the window
        // between checking for a folder and creating it is narrow.
        for round in 0..10 {
            let to = dir.path().join("backups").join(format!("nightly-{round}"));
            let runs = 6;
            let start = std::sync::Barrier::new(runs);
            let results: Vec<_> = std::thread::scope(|scope| {
                let handles: Vec<_> = (0..runs)
                    .map(|_| {
                        scope.spawn(|| {
                            start.wait();
                            run(&url, dir.path(), &to)
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            let written: Vec<&Backup> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
            assert_eq!(written.len(), 1, "round {round}: {results:?}");
            assert_eq!(written[0].messages, 20000);
            for refused in results.iter().filter_map(|r| r.as_ref().err()) {
                assert!(
                    refused.to_string().contains("exists already"),
                    "{refused:#}"
                );
            }
            // The one backup written is whole, and still there.
            let copy = rusqlite::Connection::open(to.join(DATABASE_FILE)).unwrap();
            let count: i64 = copy
                .query_row("SELECT COUNT(*) FROM messages", [], |row| row.get(0))
                .unwrap();
            assert_eq!(count, 20000, "round {round}");
        }
    }
}

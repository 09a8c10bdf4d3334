//! The open-file limit.
//!
//! Every WebSocket, HTTP connection, database connection and open file is
//! a descriptor. A node that runs out cannot accept a connection, nor open
//! one to its database, and shows it only as failures under load. Many
//! systems start services with a soft limit of 1,024 and a far higher
//! hard one, so `byrd serve` raises its soft limit to the hard limit at
//! start, and warns when what that leaves for sockets is below what a node
//! is expected to hold (README, "Open files and sockets").

use crate::configuration::Settings;

/// Sockets a node should have room for before it warns.
pub const SOCKETS_EXPECTED: u64 = 10_000;

/// Descriptors a node holds besides sockets and database connections:
/// listeners, Redis, the data folder's files, the runtime's own.
const SPARE: u64 = 64;

/// Sockets `limit` descriptors leave room for, beside the database's
/// connections and the spare.
pub fn room_for_sockets(limit: u64, database_connections: u64) -> u64 {
    limit.saturating_sub(database_connections + SPARE)
}

/// What to tell the operator about `limit`: a warning when it leaves room
/// for fewer than [`SOCKETS_EXPECTED`] sockets.
pub fn advice(limit: u64, database_connections: u64) -> Option<String> {
    let room = room_for_sockets(limit, database_connections);
    (room < SOCKETS_EXPECTED).then(|| {
        format!(
            "the open-file limit is {limit}: room for about {room} WebSockets and HTTP connections \
             (a node should hold at least {SOCKETS_EXPECTED}); raise it with `ulimit -n` or \
             systemd's LimitNOFILE (README, \"Open files and sockets\")"
        )
    })
}

/// Raises the soft limit to the hard one and says what the node has room
/// for, warning when it is too little.
pub fn raise_and_check(settings: &Settings) {
    let limit = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => limit,
        Err(error) => {
            tracing::warn!(%error, "cannot read or raise the open-file limit");
            return;
        }
    };
    let connections = settings.store.database_connections();
    match advice(limit, connections) {
        Some(warning) => tracing::warn!("{warning}"),
        None => tracing::info!(
            limit,
            sockets = room_for_sockets(limit, connections),
            "open-file limit"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_leaving_room_for_ten_thousand_sockets_is_enough() {
        assert_eq!(room_for_sockets(1_048_576, 14), 1_048_576 - 78);
        assert_eq!(advice(1_048_576, 14), None);
        assert_eq!(advice(SOCKETS_EXPECTED + 78, 14), None);
    }

    #[test]
    fn a_lower_limit_is_named_with_the_room_it_leaves() {
        let warning = advice(1024, 14).unwrap();
        assert!(warning.contains("limit is 1024"), "{warning}");
        assert!(warning.contains("about 946 WebSockets"), "{warning}");
        assert!(advice(SOCKETS_EXPECTED + 77, 14).is_some());
        assert_eq!(room_for_sockets(10, 14), 0);
    }
}

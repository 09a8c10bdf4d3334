//! Where a `read` frame leaves its sender's read marker, apart from any
//! database.
//!
//! A marker is clamped to the chat's last message and never moves back.
//! Clients send `read` often (a widget marks each message it shows, up to
//! the frame rate) and most of those repeat a marker already stored, so
//! both stores read the chat's `last_seq` and the stored marker with one
//! plain query, ask [`decide`], and write only when the marker moves: a
//! marker that stays costs no transaction on the PostgreSQL pool and no
//! place in the SQLite writer's queue, and its `updated_at` keeps saying
//! when it last moved. The write itself still refuses to move a marker
//! back, since another connection of the same reader may have moved it
//! between the read and the write.

/// What a store does with a `read` frame's `seq`.
#[derive(Debug, PartialEq, Eq)]
pub(in crate::store) enum Mark {
    /// The stored marker already covers it: answer this `seq`, write
    /// nothing.
    Keep(i64),
    /// Store this `seq` (insert the marker, or move it forward), unless
    /// the marker moved at least as far meanwhile.
    Move(i64),
}

/// Decides what a `read` up to `requested` does, the chat's newest message
/// being `last_seq` and the reader's stored marker `stored` (`None` before
/// its first `read`).
pub(in crate::store) fn decide(requested: i64, last_seq: i64, stored: Option<i64>) -> Mark {
    let target = requested.min(last_seq);
    match stored {
        Some(stored) if stored >= target => Mark::Keep(stored),
        _ => Mark::Move(target),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_first_read_stores_a_marker_clamped_to_the_last_message() {
        assert_eq!(decide(3, 5, None), Mark::Move(3));
        assert_eq!(decide(99, 5, None), Mark::Move(5));
        // A chat without messages still records that its reader was there.
        assert_eq!(decide(0, 0, None), Mark::Move(0));
    }

    #[test]
    fn a_marker_only_moves_forward() {
        assert_eq!(decide(4, 5, Some(2)), Mark::Move(4));
        assert_eq!(decide(99, 5, Some(2)), Mark::Move(5));
    }

    #[test]
    fn a_read_that_does_not_move_the_marker_writes_nothing() {
        assert_eq!(decide(3, 5, Some(3)), Mark::Keep(3));
        assert_eq!(decide(1, 5, Some(3)), Mark::Keep(3));
        // Past the end, clamped to a marker already at the end.
        assert_eq!(decide(99, 5, Some(5)), Mark::Keep(5));
    }
}

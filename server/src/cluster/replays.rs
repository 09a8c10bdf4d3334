//! Which events of each node this node has taken already, so that a
//! recorded event published again is dropped rather than acted on twice.
//!
//! Every node numbers its events from 0 at its start (a node id is new at
//! every start, so a number is never reused under one id). Per sending
//! node this keeps the highest number taken and a bitmap of the
//! [`SPAN`] numbers below it, as IPsec does: a number above the highest
//! is new; one within the span is new unless its bit is set; one below
//! the span is refused, since events from one node arrive almost in order
//! (its publisher and its presence rounds share one connection), so only
//! a replay reaches that far back.
//!
//! A node that has sent nothing for twice the time window is forgotten:
//! any event of it recorded before then is outside the window, refused for
//! its age. So memory follows the live nodes, and a replay cannot slip in
//! between forgetting and the window.

use std::collections::HashMap;

use uuid::Uuid;

use super::wire::WINDOW;

/// How many numbers below the highest are remembered one by one.
const SPAN: u64 = 4096;
const WORDS: usize = (SPAN / 64) as usize;

#[derive(Debug, Default)]
pub struct Replays {
    nodes: HashMap<Uuid, Seen>,
    /// When (Unix milliseconds) silent nodes were last forgotten.
    last_forget: i64,
}

#[derive(Debug)]
struct Seen {
    highest: u64,
    /// Bit `i` set: number `highest - i` was taken.
    bits: [u64; WORDS],
    /// When (Unix milliseconds) this node's last event arrived.
    last: i64,
}

impl Seen {
    fn new(n: u64, now_ms: i64) -> Seen {
        let mut bits = [0; WORDS];
        bits[0] = 1;
        Seen {
            highest: n,
            bits,
            last: now_ms,
        }
    }

    fn take(&mut self, n: u64) -> bool {
        if n > self.highest {
            self.shift(n - self.highest);
            self.highest = n;
            self.bits[0] |= 1;
            return true;
        }
        let back = self.highest - n;
        if back >= SPAN {
            return false;
        }
        let (word, bit) = (usize::try_from(back / 64).unwrap_or(WORDS), back % 64);
        let mask = 1u64 << bit;
        if self.bits[word] & mask != 0 {
            return false;
        }
        self.bits[word] |= mask;
        true
    }

    /// Moves every bit `by` places further back.
    fn shift(&mut self, by: u64) {
        if by >= SPAN {
            self.bits = [0; WORDS];
            return;
        }
        let (words, bits) = (usize::try_from(by / 64).unwrap_or(WORDS), by % 64);
        for i in (0..WORDS).rev() {
            let from = |j: usize| self.bits.get(j).copied().unwrap_or(0);
            let high = i.checked_sub(words).map_or(0, from);
            let carry = match (bits, i.checked_sub(words + 1)) {
                (0, _) | (_, None) => 0,
                (_, Some(j)) => from(j) >> (64 - bits),
            };
            self.bits[i] = (high << bits) | carry;
        }
    }
}

impl Replays {
    /// Whether event `n` of `node`, arriving at `now_ms`, is taken for the
    /// first time (and remembers it).
    pub fn first_time(&mut self, node: Uuid, n: u64, now_ms: i64) -> bool {
        self.forget_silent(now_ms);
        match self.nodes.get_mut(&node) {
            Some(seen) => {
                seen.last = now_ms;
                seen.take(n)
            }
            None => {
                self.nodes.insert(node, Seen::new(n, now_ms));
                true
            }
        }
    }

    fn forget_silent(&mut self, now_ms: i64) {
        let window = i64::try_from(WINDOW.as_millis()).unwrap_or(i64::MAX / 4);
        if now_ms - self.last_forget < window {
            return;
        }
        self.last_forget = now_ms;
        self.nodes
            .retain(|_, seen| now_ms - seen.last <= 2 * window);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_number_is_taken_once_even_out_of_order() {
        let mut replays = Replays::default();
        let node = Uuid::now_v7();
        for n in [5, 3, 4, 9, 6, 2] {
            assert!(replays.first_time(node, n, 0), "{n}");
        }
        for n in [5, 3, 4, 9, 6, 2] {
            assert!(!replays.first_time(node, n, 0), "{n} again");
        }
        assert!(replays.first_time(node, 7, 0));
        assert!(replays.first_time(Uuid::now_v7(), 5, 0), "another node's");
    }

    #[test]
    fn numbers_further_back_than_the_span_are_refused_and_bits_survive_shifts() {
        let mut replays = Replays::default();
        let node = Uuid::now_v7();
        assert!(replays.first_time(node, 100, 0));
        assert!(replays.first_time(node, 100 + 70, 0));
        assert!(replays.first_time(node, 100 + 70 + 130, 0));
        assert!(!replays.first_time(node, 100, 0));
        assert!(!replays.first_time(node, 170, 0));
        assert!(replays.first_time(node, 101, 0));
        assert!(replays.first_time(node, 100 + SPAN + 1, 0));
        assert!(!replays.first_time(node, 100, 0), "out of the span");
        assert!(
            !replays.first_time(node, 300, 0),
            "within it, taken before the shift"
        );
        assert!(replays.first_time(node, 299, 0), "within it, never taken");
        assert!(!replays.first_time(node, 299, 0));
    }

    #[test]
    fn a_silent_node_is_forgotten_after_twice_the_window() {
        let mut replays = Replays::default();
        let node = Uuid::now_v7();
        let window = i64::try_from(WINDOW.as_millis()).unwrap();
        assert!(replays.first_time(node, 1, 0));
        assert!(replays.first_time(Uuid::now_v7(), 1, 2 * window));
        assert_eq!(replays.nodes.len(), 2);
        assert!(replays.first_time(Uuid::now_v7(), 1, 3 * window));
        assert!(!replays.nodes.contains_key(&node));
    }
}

//! Read-ahead for consumers working through a backlog.
//!
//! A consumer sends its next Fetch only once it has the previous answer, and
//! while it decodes that answer the broker and PostgreSQL sit idle; then,
//! while they read the next chunk, the consumer sits idle. Kafka hides this
//! behind the page cache: the next segment bytes are usually in memory
//! already. Here a connection's Fetch that returned records, where more are
//! already committed, queues the read the consumer will most likely ask for
//! next (each partition from where this answer ended, with the same byte
//! limit), so the database works while the consumer decodes.
//!
//! The next Fetch uses a queued read only if it asks for exactly that
//! (partition, offset, limit, isolation level); reads it does not use are
//! dropped. Nothing read ahead can go stale in a way a consumer would
//! notice: committed records never change, and the Fetch still checks the
//! offset against the current log start before it uses one.
//!
//! Each connection owns its [`ReadAhead`]; the bytes queued by all of them
//! together are bounded by [`ReadAheadBudget`], so a thousand consumers
//! cannot make the broker hold a thousand answers.

use crate::notifier::PartitionKey;
use crate::storage::StorageError;
use crossbeam_channel::Receiver;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Most bytes all connections together may have queued in reads ahead.
pub const READ_AHEAD_MAX_BYTES: usize = 64 * 1024 * 1024;

/// What one partition's read produced.
#[derive(Debug, Default)]
pub struct PartitionRead {
    /// Record batches, as they go into the Fetch response.
    pub records: Vec<u8>,
    /// Records in `records`.
    pub record_count: i64,
    /// Offset after the last record read.
    pub next_offset: i64,
    /// For read_committed reads, the aborted transactions overlapping what
    /// was read, as (producer id, first offset).
    pub aborted: Option<Vec<(i64, i64)>>,
}

/// The reply channel of a partition read queued in the pool.
pub type PendingRead = Receiver<Result<PartitionRead, StorageError>>;

/// What a read was asked for; a Fetch uses a read ahead only if it would
/// ask for exactly the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadSpec {
    pub partition: PartitionKey,
    pub from: i64,
    pub max_bytes: usize,
    pub read_committed: bool,
}

/// The reads one connection has queued ahead of its consumer.
#[derive(Default)]
pub struct ReadAhead {
    queued: Vec<(ReadSpec, PendingRead, Reservation)>,
}

impl ReadAhead {
    /// Takes the read queued for `spec`, if there is one.
    pub fn take(&mut self, spec: &ReadSpec) -> Option<PendingRead> {
        let index = self.queued.iter().position(|(s, _, _)| s == spec)?;
        let (_, read, _reservation) = self.queued.swap_remove(index);
        Some(read)
    }

    /// How many reads are queued and not taken.
    pub fn untaken(&self) -> usize {
        self.queued.len()
    }

    pub fn push(&mut self, spec: ReadSpec, read: PendingRead, reservation: Reservation) {
        self.queued.push((spec, read, reservation));
    }
}

/// The broker-wide bound on bytes read ahead.
#[derive(Default)]
pub struct ReadAheadBudget {
    in_use: Arc<AtomicUsize>,
}

impl ReadAheadBudget {
    /// Reserves `bytes` if they fit under [`READ_AHEAD_MAX_BYTES`]; the
    /// reservation is given back when it is dropped.
    pub fn reserve(&self, bytes: usize) -> Option<Reservation> {
        self.in_use
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(bytes)
                    .filter(|&total| total <= READ_AHEAD_MAX_BYTES)
            })
            .ok()?;
        Some(Reservation {
            in_use: Arc::clone(&self.in_use),
            bytes,
        })
    }

    /// Bytes reserved right now.
    #[cfg(test)]
    fn in_use(&self) -> usize {
        self.in_use.load(Ordering::Acquire)
    }
}

/// Bytes held out of the [`ReadAheadBudget`] until dropped.
pub struct Reservation {
    in_use: Arc<AtomicUsize>,
    bytes: usize,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.in_use.fetch_sub(self.bytes, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::TopicId;

    fn spec(from: i64) -> ReadSpec {
        ReadSpec {
            partition: (TopicId::from_bytes([7; 16]), 0),
            from,
            max_bytes: 1024,
            read_committed: false,
        }
    }

    #[test]
    fn budget_refuses_what_does_not_fit_and_gets_bytes_back_on_drop() {
        let budget = ReadAheadBudget::default();
        let most = budget.reserve(READ_AHEAD_MAX_BYTES - 10).expect("fits");
        assert!(budget.reserve(11).is_none());
        let rest = budget.reserve(10).expect("exactly fits");
        drop(most);
        assert_eq!(budget.in_use(), 10);
        drop(rest);
        assert_eq!(budget.in_use(), 0);
        assert!(budget.reserve(usize::MAX).is_none());
    }

    #[test]
    fn only_an_exact_match_is_taken_and_taking_releases_its_bytes() {
        let budget = ReadAheadBudget::default();
        let mut ahead = ReadAhead::default();
        let (_tx, rx) = crossbeam_channel::bounded(1);
        ahead.push(spec(100), rx, budget.reserve(1024).expect("fits"));
        assert!(ahead.take(&spec(99)).is_none());
        assert!(ahead
            .take(&ReadSpec {
                max_bytes: 512,
                ..spec(100)
            })
            .is_none());
        assert_eq!(budget.in_use(), 1024);
        assert!(ahead.take(&spec(100)).is_some());
        assert_eq!(budget.in_use(), 0);
        assert!(ahead.take(&spec(100)).is_none());
    }
}

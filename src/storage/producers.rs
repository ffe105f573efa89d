//! Idempotent producers: producer ids and per-partition sequence state.
//!
//! Kafka's rules (`ProducerAppendInfo.checkSequence`, `ProducerStateEntry`;
//! kafka-notes §3.5), applied inside the append transaction while the
//! partition row is locked, so the state and the records commit together:
//! - a batch equal to one of the producer's last five batches on this
//!   partition is a retry: it is not written again and is answered with
//!   its original base offset;
//! - with the same epoch, the batch must start right after the last
//!   sequence (wrapping from `i32::MAX` to 0), else OUT_OF_ORDER_SEQUENCE_NUMBER;
//! - a newer epoch must start at sequence 0; an older epoch is
//!   INVALID_PRODUCER_EPOCH;
//! - a producer with no state here (never seen, or its records deleted) may
//!   start at any sequence (KIP-360).

use super::{Db, StorageError, TopicId};
use crate::protocol::ErrorCode;
use std::collections::HashMap;

/// Batches remembered per producer and partition (Kafka's
/// `NUM_BATCHES_TO_RETAIN`, tied to `max.in.flight.requests.per.connection <= 5`).
pub const BATCHES_TO_RETAIN: usize = 5;

/// One remembered batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchMetadata {
    pub first_sequence: i32,
    pub last_sequence: i32,
    pub base_offset: i64,
}

/// A producer's state on one partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProducerState {
    pub epoch: i16,
    /// Oldest first.
    pub batches: Vec<BatchMetadata>,
}

/// What to do with an idempotent batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SequenceCheck {
    Append,
    /// A retry of a batch already written at this base offset.
    Duplicate {
        base_offset: i64,
    },
    Reject(ErrorCode),
}

/// The last sequence of a batch of `count` records starting at `first`.
pub fn last_sequence(first: i32, count: usize) -> i32 {
    ((i64::from(first) + count as i64 - 1) % (i64::from(i32::MAX) + 1)) as i32
}

fn in_sequence(last: i32, next: i32) -> bool {
    next == last.wrapping_add(1) || (last == i32::MAX && next == 0)
}

/// Kafka's decision for a batch `(epoch, first..=last)` given the state.
pub fn check(state: Option<&ProducerState>, epoch: i16, first: i32, last: i32) -> SequenceCheck {
    let Some(state) = state else {
        return SequenceCheck::Append;
    };
    if epoch < state.epoch {
        return SequenceCheck::Reject(ErrorCode::InvalidProducerEpoch);
    }
    if epoch > state.epoch {
        return if first == 0 {
            SequenceCheck::Append
        } else {
            SequenceCheck::Reject(ErrorCode::OutOfOrderSequenceNumber)
        };
    }
    if let Some(dup) = state
        .batches
        .iter()
        .find(|b| b.first_sequence == first && b.last_sequence == last)
    {
        return SequenceCheck::Duplicate {
            base_offset: dup.base_offset,
        };
    }
    match state.batches.last() {
        Some(latest) if !in_sequence(latest.last_sequence, first) => {
            SequenceCheck::Reject(ErrorCode::OutOfOrderSequenceNumber)
        }
        _ => SequenceCheck::Append,
    }
}

/// Records an appended batch in the state (creating or resetting it for a
/// new epoch).
pub fn record(state: &mut Option<ProducerState>, epoch: i16, batch: BatchMetadata) {
    let entry = state.get_or_insert_with(|| ProducerState {
        epoch,
        batches: Vec::new(),
    });
    if entry.epoch != epoch {
        entry.epoch = epoch;
        entry.batches.clear();
    }
    entry.batches.push(batch);
    if entry.batches.len() > BATCHES_TO_RETAIN {
        entry.batches.remove(0);
    }
}

/// A new producer id, unique across restarts and across brokers sharing
/// the database.
pub fn allocate_producer_id(db: &mut Db) -> Result<i64, StorageError> {
    let stmt = db.statement("SELECT nextval('kafkaesque.producer_ids')")?;
    Ok(db.client.query_one(&stmt, &[])?.get(0))
}

/// The state of `producers` on one partition. Call inside the append
/// transaction, with the partition row locked.
pub fn load(
    db: &mut Db,
    topic_id: TopicId,
    partition: i32,
    producers: &[i64],
) -> Result<HashMap<i64, ProducerState>, StorageError> {
    let stmt = db.statement(
        "SELECT producer_id, producer_epoch, first_sequences, last_sequences, base_offsets
           FROM kafkaesque.producer_state
          WHERE topic_id = $1 AND partition = $2 AND producer_id = ANY($3)",
    )?;
    let rows = db
        .client
        .query(&stmt, &[&topic_id, &partition, &producers])?;
    let mut states = HashMap::with_capacity(rows.len());
    for row in rows {
        let firsts: Vec<i32> = row.try_get(2)?;
        let lasts: Vec<i32> = row.try_get(3)?;
        let offsets: Vec<i64> = row.try_get(4)?;
        let batches = firsts
            .into_iter()
            .zip(lasts)
            .zip(offsets)
            .map(
                |((first_sequence, last_sequence), base_offset)| BatchMetadata {
                    first_sequence,
                    last_sequence,
                    base_offset,
                },
            )
            .collect();
        states.insert(
            row.try_get(0)?,
            ProducerState {
                epoch: row.try_get(1)?,
                batches,
            },
        );
    }
    Ok(states)
}

/// Writes a producer's state on one partition (same transaction as the
/// records it describes).
pub fn save(
    db: &mut Db,
    topic_id: TopicId,
    partition: i32,
    producer_id: i64,
    state: &ProducerState,
) -> Result<(), StorageError> {
    let stmt = db.statement(
        "INSERT INTO kafkaesque.producer_state
                (topic_id, partition, producer_id, producer_epoch, first_sequences, last_sequences, base_offsets)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (topic_id, partition, producer_id) DO UPDATE
            SET producer_epoch = EXCLUDED.producer_epoch,
                first_sequences = EXCLUDED.first_sequences,
                last_sequences = EXCLUDED.last_sequences,
                base_offsets = EXCLUDED.base_offsets,
                updated_at = now()",
    )?;
    let firsts: Vec<i32> = state.batches.iter().map(|b| b.first_sequence).collect();
    let lasts: Vec<i32> = state.batches.iter().map(|b| b.last_sequence).collect();
    let offsets: Vec<i64> = state.batches.iter().map(|b| b.base_offset).collect();
    db.client.execute(
        &stmt,
        &[
            &topic_id,
            &partition,
            &producer_id,
            &state.epoch,
            &firsts,
            &lasts,
            &offsets,
        ],
    )?;
    Ok(())
}

/// The producers with state on one partition, as (producer id, epoch, last
/// sequence), for DescribeProducers.
pub fn describe(
    db: &mut Db,
    topic_id: TopicId,
    partition: i32,
) -> Result<Vec<(i64, i16, i32)>, StorageError> {
    let rows = db.client.query(
        "SELECT producer_id, producer_epoch, last_sequences[array_length(last_sequences, 1)]
           FROM kafkaesque.producer_state WHERE topic_id = $1 AND partition = $2 ORDER BY producer_id",
        &[&topic_id, &partition],
    )?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get(0)?,
                r.try_get(1)?,
                r.try_get::<_, Option<i32>>(2)?.unwrap_or(-1),
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(epoch: i16, batches: &[(i32, i32, i64)]) -> ProducerState {
        ProducerState {
            epoch,
            batches: batches
                .iter()
                .map(
                    |&(first_sequence, last_sequence, base_offset)| BatchMetadata {
                        first_sequence,
                        last_sequence,
                        base_offset,
                    },
                )
                .collect(),
        }
    }

    #[test]
    fn unknown_producer_may_start_anywhere() {
        assert_eq!(check(None, 0, 42, 50), SequenceCheck::Append);
    }

    #[test]
    fn next_sequence_appends_and_gaps_are_out_of_order() {
        let s = state(3, &[(0, 9, 100)]);
        assert_eq!(check(Some(&s), 3, 10, 19), SequenceCheck::Append);
        assert_eq!(
            check(Some(&s), 3, 11, 19),
            SequenceCheck::Reject(ErrorCode::OutOfOrderSequenceNumber)
        );
        assert_eq!(
            check(Some(&s), 3, 5, 14),
            SequenceCheck::Reject(ErrorCode::OutOfOrderSequenceNumber)
        );
    }

    #[test]
    fn retries_of_the_last_five_batches_are_duplicates() {
        let s = state(1, &[(0, 4, 10), (5, 9, 15), (10, 14, 20)]);
        assert_eq!(
            check(Some(&s), 1, 5, 9),
            SequenceCheck::Duplicate { base_offset: 15 }
        );
    }

    #[test]
    fn epochs_are_fenced_and_a_new_epoch_starts_at_zero() {
        let s = state(5, &[(0, 4, 10)]);
        assert_eq!(
            check(Some(&s), 4, 5, 9),
            SequenceCheck::Reject(ErrorCode::InvalidProducerEpoch)
        );
        assert_eq!(check(Some(&s), 6, 0, 3), SequenceCheck::Append);
        assert_eq!(
            check(Some(&s), 6, 5, 9),
            SequenceCheck::Reject(ErrorCode::OutOfOrderSequenceNumber)
        );
    }

    #[test]
    fn sequences_wrap_at_int_max() {
        let s = state(0, &[(i32::MAX - 4, i32::MAX, 7)]);
        assert_eq!(check(Some(&s), 0, 0, 3), SequenceCheck::Append);
        assert_eq!(last_sequence(i32::MAX - 1, 4), 1);
    }

    #[test]
    fn only_five_batches_are_remembered() {
        let mut s = None;
        for i in 0..7 {
            record(
                &mut s,
                0,
                BatchMetadata {
                    first_sequence: i * 10,
                    last_sequence: i * 10 + 9,
                    base_offset: i64::from(i) * 10,
                },
            );
        }
        let s = s.unwrap();
        assert_eq!(s.batches.len(), BATCHES_TO_RETAIN);
        assert_eq!(s.batches[0].first_sequence, 20);
    }
}

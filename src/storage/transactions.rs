//! Transactions (KIP-98): transactional ids, the partitions and consumer
//! offsets a transaction touches, and the markers that end it.
//!
//! Ending a transaction is one PostgreSQL transaction: a COMMIT or ABORT
//! control record is appended to every partition the transaction wrote to,
//! aborted ranges are indexed for read_committed fetches, and on commit the
//! transaction's consumer offsets become the group's committed offsets. It
//! all happens, or none of it does.

use super::{Db, StorageError, TopicId};
use crate::protocol::records::{attributes, control_value, ControlType};
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A transactional id's durable facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionRow {
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub timeout_ms: i32,
    /// Kafka's state names: Empty, Ongoing, CompleteCommit, CompleteAbort.
    pub state: String,
    /// When the ongoing transaction began.
    pub started_at: Option<SystemTime>,
    pub partitions: Vec<(TopicId, i32)>,
    /// Groups with pending offsets.
    pub groups: Vec<String>,
}

/// One consumer offset committed inside a transaction.
#[derive(Debug, Clone)]
pub struct PendingOffset {
    pub group_id: String,
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub leader_epoch: i32,
    pub metadata: Option<String>,
}

fn to_system_time(ms: Option<i64>) -> Option<SystemTime> {
    ms.map(|ms| UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0)))
}

/// Every transactional id, for the coordinator at start-up.
pub fn load_all(db: &mut Db) -> Result<Vec<(String, TransactionRow)>, StorageError> {
    let rows = db.client.query(
        "SELECT t.transactional_id, t.producer_id, t.producer_epoch, t.timeout_ms, t.state,
                (extract(epoch FROM t.started_at) * 1000)::bigint,
                coalesce(array_agg(p.topic_id) FILTER (WHERE p.topic_id IS NOT NULL), '{}'),
                coalesce(array_agg(p.partition) FILTER (WHERE p.topic_id IS NOT NULL), '{}'),
                coalesce((SELECT array_agg(DISTINCT o.group_id) FROM kafkaesque.transaction_offsets o
                           WHERE o.transactional_id = t.transactional_id), '{}')
           FROM kafkaesque.transactions t
           LEFT JOIN kafkaesque.transaction_partitions p USING (transactional_id)
          GROUP BY t.transactional_id",
        &[],
    )?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let topics: Vec<TopicId> = row.try_get(6)?;
        let partitions: Vec<i32> = row.try_get(7)?;
        out.push((
            row.try_get(0)?,
            TransactionRow {
                producer_id: row.try_get(1)?,
                producer_epoch: row.try_get(2)?,
                timeout_ms: row.try_get(3)?,
                state: row.try_get(4)?,
                started_at: to_system_time(row.try_get(5)?),
                partitions: topics.into_iter().zip(partitions).collect(),
                groups: row.try_get(8)?,
            },
        ));
    }
    Ok(out)
}

/// First offsets of open transactions on each partition (for the last
/// stable offset), as (topic id, partition, producer id, first offset).
pub fn open_first_offsets(db: &mut Db) -> Result<Vec<(TopicId, i32, i64, i64)>, StorageError> {
    let rows = db.client.query(
        "SELECT topic_id, partition, producer_id, first_offset
           FROM kafkaesque.transaction_partitions WHERE first_offset IS NOT NULL",
        &[],
    )?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)))
        .collect()
}

/// Creates or updates a transactional id's row (not its partitions).
pub fn save(db: &mut Db, transactional_id: &str, row: &TransactionRow) -> Result<(), StorageError> {
    let started_ms = row
        .started_at
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_millis() as i64);
    db.client.execute(
        "INSERT INTO kafkaesque.transactions
                (transactional_id, producer_id, producer_epoch, timeout_ms, state, started_at)
         VALUES ($1, $2, $3, $4, $5, to_timestamp($6::bigint / 1000.0))
         ON CONFLICT (transactional_id) DO UPDATE
            SET producer_id = EXCLUDED.producer_id, producer_epoch = EXCLUDED.producer_epoch,
                timeout_ms = EXCLUDED.timeout_ms, state = EXCLUDED.state,
                started_at = EXCLUDED.started_at, updated_at = now()",
        &[
            &transactional_id,
            &row.producer_id,
            &row.producer_epoch,
            &row.timeout_ms,
            &row.state,
            &started_ms,
        ],
    )?;
    Ok(())
}

/// Registers partitions with an ongoing transaction and saves its row.
pub fn add_partitions(
    db: &mut Db,
    transactional_id: &str,
    row: &TransactionRow,
    partitions: &[(TopicId, i32)],
) -> Result<(), StorageError> {
    db.client.batch_execute("BEGIN")?;
    let result = (|| {
        save(db, transactional_id, row)?;
        for (topic_id, partition) in partitions {
            db.client.execute(
                "INSERT INTO kafkaesque.transaction_partitions (transactional_id, topic_id, partition, producer_id)
                 VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                &[&transactional_id, topic_id, partition, &row.producer_id],
            )?;
        }
        Ok(())
    })();
    finish(db, result)
}

/// Stores consumer offsets committed inside a transaction.
pub fn add_offsets(
    db: &mut Db,
    transactional_id: &str,
    offsets: &[PendingOffset],
) -> Result<(), StorageError> {
    db.client.batch_execute("BEGIN")?;
    let result = (|| {
        for o in offsets {
            db.client.execute(
                "INSERT INTO kafkaesque.transaction_offsets
                        (transactional_id, group_id, topic, partition, committed_offset, leader_epoch, metadata)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (transactional_id, group_id, topic, partition) DO UPDATE
                    SET committed_offset = EXCLUDED.committed_offset,
                        leader_epoch = EXCLUDED.leader_epoch, metadata = EXCLUDED.metadata",
                &[
                    &transactional_id,
                    &o.group_id,
                    &o.topic,
                    &o.partition,
                    &o.offset,
                    &o.leader_epoch,
                    &o.metadata.as_deref().unwrap_or("").as_bytes(),
                ],
            )?;
        }
        Ok(())
    })();
    finish(db, result)
}

/// Makes a committed transaction's consumer offsets the groups' committed
/// offsets (the same rows OffsetCommit writes).
fn apply_offsets(db: &mut Db, offsets: &[PendingOffset]) -> Result<(), StorageError> {
    for o in offsets {
        db.client.execute(
            "INSERT INTO kafkaesque.consumer_groups (group_id) VALUES ($1) ON CONFLICT DO NOTHING",
            &[&o.group_id],
        )?;
        db.client.execute(
            "INSERT INTO kafkaesque.committed_offsets
                    (group_id, topic, partition, committed_offset, leader_epoch, metadata)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (group_id, topic, partition) DO UPDATE
                SET committed_offset = EXCLUDED.committed_offset, leader_epoch = EXCLUDED.leader_epoch,
                    metadata = EXCLUDED.metadata, committed_at = now()",
            &[
                &o.group_id,
                &o.topic,
                &o.partition,
                &o.offset,
                &o.leader_epoch,
                &o.metadata.as_deref().unwrap_or("").as_bytes(),
            ],
        )?;
    }
    Ok(())
}

/// Partitions of a group with consumer offsets committed inside a still
/// open transaction, as (topic, partition). OffsetFetch with
/// `require_stable` answers UNSTABLE_OFFSET_COMMIT for them (KIP-447).
pub fn pending_offsets(db: &mut Db, group_id: &str) -> Result<Vec<(String, i32)>, StorageError> {
    let stmt = db.statement(
        "SELECT DISTINCT topic, partition FROM kafkaesque.transaction_offsets WHERE group_id = $1",
    )?;
    db.client
        .query(&stmt, &[&group_id])?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}

/// Ends a transaction: appends a COMMIT or ABORT marker (with
/// `marker_epoch`) to each partition it wrote to, indexes aborted ranges,
/// applies its consumer offsets on commit, and saves
/// `row` as the new state. Returns each partition's offset after its marker.
pub fn complete(
    db: &mut Db,
    transactional_id: &str,
    row: &TransactionRow,
    marker_epoch: i16,
    commit: bool,
) -> Result<Vec<((TopicId, i32), i64)>, StorageError> {
    db.client.batch_execute("BEGIN")?;
    let result = (|| {
        let mut touched: BTreeMap<(TopicId, i32), Option<i64>> = BTreeMap::new();
        for r in db.client.query(
            "SELECT topic_id, partition, first_offset FROM kafkaesque.transaction_partitions
              WHERE transactional_id = $1",
            &[&transactional_id],
        )? {
            touched.insert((r.try_get(0)?, r.try_get(1)?), r.try_get(2)?);
        }
        let control_type = if commit {
            ControlType::Commit
        } else {
            ControlType::Abort
        };
        let key = control_type.key_bytes();
        let value = control_value(0);
        let marker_attributes = attributes::CONTROL | attributes::TRANSACTIONAL;
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        let mut ends = Vec::new();
        // Partitions lock in (topic id, partition) order, like appends.
        for (&(topic_id, partition), first_offset) in &touched {
            let Some(first_offset) = first_offset else {
                continue; // registered but never written to: no marker needed
            };
            let Some(locked) = db.client.query_opt(
                "SELECT next_offset FROM kafkaesque.partitions
                  WHERE topic_id = $1 AND partition = $2 FOR UPDATE",
                &[&topic_id, &partition],
            )?
            else {
                continue; // the topic was deleted meanwhile
            };
            let marker_offset: i64 = locked.try_get(0)?;
            db.client.execute(
                "INSERT INTO kafkaesque.record (topic_id, partition, \"offset\", timestamp, key, value,
                        batch_attributes, producer_id, producer_epoch, sequence)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, -1)",
                &[
                    &topic_id,
                    &partition,
                    &marker_offset,
                    &now_ms,
                    &key,
                    &value,
                    &marker_attributes,
                    &row.producer_id,
                    &marker_epoch,
                ],
            )?;
            db.client.execute(
                "UPDATE kafkaesque.partitions SET next_offset = $3 WHERE topic_id = $1 AND partition = $2",
                &[&topic_id, &partition, &(marker_offset + 1)],
            )?;
            if !commit {
                db.client.execute(
                    "INSERT INTO kafkaesque.aborted_transactions
                            (topic_id, partition, producer_id, first_offset, last_offset)
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                    &[
                        &topic_id,
                        &partition,
                        &row.producer_id,
                        first_offset,
                        &marker_offset,
                    ],
                )?;
            }
            ends.push(((topic_id, partition), marker_offset + 1));
        }
        if commit {
            let mut pending = Vec::new();
            for r in db.client.query(
                "SELECT group_id, topic, partition, committed_offset, leader_epoch, metadata
                   FROM kafkaesque.transaction_offsets WHERE transactional_id = $1",
                &[&transactional_id],
            )? {
                pending.push(PendingOffset {
                    group_id: r.try_get(0)?,
                    topic: r.try_get(1)?,
                    partition: r.try_get(2)?,
                    offset: r.try_get(3)?,
                    leader_epoch: r.try_get(4)?,
                    metadata: Some(String::from_utf8_lossy(r.try_get::<_, &[u8]>(5)?).into_owned()),
                });
            }
            apply_offsets(db, &pending)?;
        }
        db.client.execute(
            "DELETE FROM kafkaesque.transaction_partitions WHERE transactional_id = $1",
            &[&transactional_id],
        )?;
        db.client.execute(
            "DELETE FROM kafkaesque.transaction_offsets WHERE transactional_id = $1",
            &[&transactional_id],
        )?;
        save(db, transactional_id, row)?;
        Ok(ends)
    })();
    finish(db, result)
}

/// Aborted transactions overlapping `[from, to)` of a partition, as
/// (producer id, first offset), for a read_committed fetch.
pub fn aborted_in_range(
    db: &mut Db,
    topic_id: TopicId,
    partition: i32,
    from: i64,
    to: i64,
) -> Result<Vec<(i64, i64)>, StorageError> {
    let stmt = db.statement(
        "SELECT producer_id, first_offset FROM kafkaesque.aborted_transactions
          WHERE topic_id = $1 AND partition = $2 AND last_offset >= $3 AND first_offset < $4
          ORDER BY first_offset",
    )?;
    db.client
        .query(&stmt, &[&topic_id, &partition, &from, &to])?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}

/// Commits or rolls back the explicit transaction a caller began.
fn finish<T>(db: &mut Db, result: Result<T, StorageError>) -> Result<T, StorageError> {
    match result {
        Ok(value) => {
            db.client.batch_execute("COMMIT")?;
            Ok(value)
        }
        Err(err) => {
            let _ = db.client.batch_execute("ROLLBACK");
            Err(err)
        }
    }
}

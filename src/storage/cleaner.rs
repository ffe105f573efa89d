//! The SQL behind retention, compaction, DeleteRecords and log sizes.
//!
//! Every statement here touches a bounded number of rows (a `LIMIT` or an
//! offset window), so the log cleaner and DeleteRecords never hold a pool
//! connection, or row locks producers need, for long.
//!
//! The log start offset (`partitions.log_start_offset`) is what makes
//! records disappear for clients: it moves first, in its own short
//! transaction, and the rows below it are deleted afterwards, batch by
//! batch ([`delete_below_log_start`]). Compaction deletes rows in the middle
//! of the log and never moves it; surviving records keep their offsets.

use super::topics::PartitionRow;
use super::{Db, StorageError, TopicId};

/// The size a record counts for in retention.bytes and DescribeLogDirs:
/// its key, value and header bytes plus 70 bytes, about what a record costs
/// in a Kafka log (the record's own framing plus its share of a batch
/// header).
macro_rules! record_size {
    () => {
        "(70 + coalesce(octet_length(key), 0) + coalesce(octet_length(value), 0)
             + coalesce(octet_length(array_to_string(header_keys, '')), 0)
             + coalesce((SELECT sum(octet_length(v)) FROM unnest(header_values) v), 0))::bigint"
    };
}

/// Moves a partition's log start offset forward to `offset` (never back,
/// never past the log end). Returns the partition's watermarks afterwards,
/// or `None` if the partition does not exist.
pub fn move_log_start(
    db: &mut Db,
    topic_id: TopicId,
    partition: i32,
    offset: i64,
) -> Result<Option<PartitionRow>, StorageError> {
    let stmt = db.statement(
        "UPDATE kafkaesque.partitions
            SET log_start_offset = GREATEST(log_start_offset, LEAST($3, next_offset))
          WHERE topic_id = $1 AND partition = $2
      RETURNING next_offset, log_start_offset, leader_epoch",
    )?;
    Ok(db
        .client
        .query_opt(&stmt, &[&topic_id, &partition, &offset])?
        .map(|r| PartitionRow {
            next_offset: r.get(0),
            log_start_offset: r.get(1),
            leader_epoch: r.get(2),
        }))
}

/// Deletes up to `limit` records below the partition's log start offset.
/// Returns how many went; fewer than `limit` means none are left.
pub fn delete_below_log_start(
    db: &mut Db,
    topic_id: TopicId,
    partition: i32,
    limit: i64,
) -> Result<u64, StorageError> {
    let stmt = db.statement(
        "DELETE FROM kafkaesque.record
          WHERE topic_id = $1 AND partition = $2 AND \"offset\" IN (
                SELECT \"offset\" FROM kafkaesque.record
                 WHERE topic_id = $1 AND partition = $2
                   AND \"offset\" < (SELECT log_start_offset FROM kafkaesque.partitions
                                      WHERE topic_id = $1 AND partition = $2)
                 ORDER BY \"offset\" LIMIT $3)",
    )?;
    Ok(db.client.execute(&stmt, &[&topic_id, &partition, &limit])?)
}

/// One record as retention sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordFacts {
    pub offset: i64,
    pub timestamp: i64,
    pub size: i64,
}

/// Up to `limit` records from `from` on, in offset order.
pub fn records_from(
    db: &mut Db,
    topic_id: TopicId,
    partition: i32,
    from: i64,
    limit: i64,
) -> Result<Vec<RecordFacts>, StorageError> {
    let stmt = db.statement(concat!(
        "SELECT \"offset\", timestamp, ",
        record_size!(),
        " FROM kafkaesque.record
          WHERE topic_id = $1 AND partition = $2 AND \"offset\" >= $3
          ORDER BY \"offset\" LIMIT $4"
    ))?;
    Ok(db
        .client
        .query(&stmt, &[&topic_id, &partition, &from, &limit])?
        .iter()
        .map(|r| RecordFacts {
            offset: r.get(0),
            timestamp: r.get(1),
            size: r.get(2),
        })
        .collect())
}

/// The size of a partition's records from `from` on.
pub fn partition_size(
    db: &mut Db,
    topic_id: TopicId,
    partition: i32,
    from: i64,
) -> Result<i64, StorageError> {
    let stmt = db.statement(concat!(
        "SELECT coalesce(sum(",
        record_size!(),
        "), 0)::bigint FROM kafkaesque.record
          WHERE topic_id = $1 AND partition = $2 AND \"offset\" >= $3"
    ))?;
    Ok(db
        .client
        .query_one(&stmt, &[&topic_id, &partition, &from])?
        .get(0))
}

/// The size of every partition of a topic that has records above its log
/// start offset, as (partition, bytes), for DescribeLogDirs.
pub fn topic_sizes(db: &mut Db, topic_id: TopicId) -> Result<Vec<(i32, i64)>, StorageError> {
    let stmt = db.statement(concat!(
        "SELECT r.partition, sum(",
        record_size!(),
        ")::bigint FROM kafkaesque.record r
           JOIN kafkaesque.partitions p USING (topic_id, partition)
          WHERE r.topic_id = $1 AND r.\"offset\" >= p.log_start_offset
          GROUP BY r.partition"
    ))?;
    Ok(db
        .client
        .query(&stmt, &[&topic_id])?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
}

/// The first offset at or after `from` whose record is newer than
/// `timestamp`, if any (where min.compaction.lag.ms stops compaction).
pub fn first_newer_than(
    db: &mut Db,
    topic_id: TopicId,
    partition: i32,
    from: i64,
    timestamp: i64,
) -> Result<Option<i64>, StorageError> {
    let stmt = db.statement(
        "SELECT min(\"offset\") FROM kafkaesque.record
          WHERE topic_id = $1 AND partition = $2 AND \"offset\" >= $3 AND timestamp > $4",
    )?;
    Ok(db
        .client
        .query_one(&stmt, &[&topic_id, &partition, &from, &timestamp])?
        .get(0))
}

/// What one compaction step may look at and remove.
#[derive(Debug, Clone, Copy)]
pub struct CompactionWindow {
    /// Records in `[from, until)` may be deleted.
    pub from: i64,
    pub until: i64,
    /// Records in `[from, cleanable_end)` count as newer versions of a key
    /// (records past it are too young to be compacted, or not there yet).
    pub cleanable_end: i64,
    /// Tombstones (null values) older than this timestamp are deleted once
    /// nothing older of their key is left to hide.
    pub tombstone_cutoff: i64,
}

/// Compacts one window of a partition: deletes every data record in it
/// that has a newer record with the same key before `cleanable_end`, every
/// record without a key (Kafka's cleaner drops those too), and tombstones
/// past their retention. Control records (transaction markers) stay.
/// Returns the number of records deleted.
pub fn compact_window(
    db: &mut Db,
    topic_id: TopicId,
    partition: i32,
    window: CompactionWindow,
) -> Result<u64, StorageError> {
    let stmt = db.statement(
        "WITH newest AS (
             SELECT key, max(\"offset\") AS newest FROM kafkaesque.record
              WHERE topic_id = $1 AND partition = $2
                AND \"offset\" >= $3 AND \"offset\" < $5
                AND key IS NOT NULL AND (batch_attributes & 32) = 0
              GROUP BY key)
         DELETE FROM kafkaesque.record r
          WHERE r.topic_id = $1 AND r.partition = $2
            AND r.\"offset\" >= $3 AND r.\"offset\" < $4
            AND (r.batch_attributes & 32) = 0
            AND (r.key IS NULL
                 OR EXISTS (SELECT 1 FROM newest n
                             WHERE n.key = r.key
                               AND (n.newest > r.\"offset\"
                                    OR (r.value IS NULL AND r.timestamp < $6))))",
    )?;
    Ok(db.client.execute(
        &stmt,
        &[
            &topic_id,
            &partition,
            &window.from,
            &window.until,
            &window.cleanable_end,
            &window.tombstone_cutoff,
        ],
    )?)
}

/// The size of the whole database in bytes (DescribeLogDirs' total_bytes).
pub fn database_size(db: &mut Db) -> Result<i64, StorageError> {
    Ok(db
        .client
        .query_one("SELECT pg_database_size(current_database())", &[])?
        .get(0))
}

//! The partition log: appending records and reading them back as batches.
//!
//! **Append** (group commit). Pool workers hand [`append_group`] every
//! append waiting in the queue. One PostgreSQL transaction then:
//! 1. locks each touched partition row in (topic id, partition) order, so
//!    two workers can never deadlock, and moves its `next_offset` past the
//!    new records (the row lock makes offsets dense and commit in order);
//! 2. inserts every record of every append with one binary `COPY`;
//! 3. commits, after which each waiting producer gets its base offset.
//!
//! Nothing is acknowledged before that COMMIT returns.
//!
//! **Read.** One indexed range query per partition (`offset >= from AND
//! offset < until`), fetched in chunks until the byte budget is spent, and
//! encoded straight into wire batches. Records of one producer batch are
//! regrouped by their stored producer id/epoch/attributes and contiguous
//! sequence numbers, so idempotence and transaction markers survive the trip.

use super::copy::CopyBuffer;
use super::producers::{self, BatchMetadata, ProducerState, SequenceCheck};
use super::{Db, StorageError, TopicId};
use crate::protocol::records::{attributes, BatchBuilder, RecordBatch};
use crate::protocol::ErrorCode;
use crossbeam_channel::{bounded, Receiver, Sender};
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::ToSql;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;

/// One record batch to append to one partition. The batch is decoded,
/// decompressed and validated; its timestamps are final.
#[derive(Debug)]
pub struct PartitionAppend {
    pub topic_id: TopicId,
    pub partition: i32,
    pub batch: RecordBatch,
}

/// What happened to one [`PartitionAppend`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppendOutcome {
    Appended {
        base_offset: i64,
        /// The partition's log end offset right after this commit.
        next_offset: i64,
        log_start_offset: i64,
    },
    /// The partition does not exist (any more).
    UnknownPartition,
    /// The batch breaks a rule checked under the partition lock
    /// (idempotent sequence or epoch).
    Rejected(ErrorCode),
}

pub type AppendReply = Result<Vec<AppendOutcome>, StorageError>;

/// The appends of one produce request, with the channel its answer goes to.
pub struct AppendJob {
    appends: Vec<PartitionAppend>,
    reply: Sender<AppendReply>,
}

impl AppendJob {
    pub fn new(appends: Vec<PartitionAppend>) -> (AppendJob, Receiver<AppendReply>) {
        let (reply, rx) = bounded(1);
        (AppendJob { appends, reply }, rx)
    }
}

/// Commits a group of appends in one transaction and answers each job. If
/// the database rejects the group (not an outage), each job is retried on
/// its own so one bad append cannot fail its neighbours.
pub fn append_group(db: Result<&mut Db, StorageError>, jobs: Vec<AppendJob>) {
    let db = match db {
        Ok(db) => db,
        Err(err) => {
            for job in jobs {
                let _ = job.reply.send(Err(err.clone()));
            }
            return;
        }
    };
    match append_in_transaction(db, &jobs) {
        Ok(outcomes) => {
            for (job, outcome) in jobs.into_iter().zip(outcomes) {
                let _ = job.reply.send(Ok(outcome));
            }
        }
        Err(StorageError::Database(why)) if jobs.len() > 1 => {
            log::warn!(
                "group commit of {} appends failed ({why}); retrying one by one",
                jobs.len()
            );
            for job in jobs {
                let result = append_in_transaction(db, std::slice::from_ref(&job));
                let _ = job.reply.send(result.map(|mut o| o.remove(0)));
            }
        }
        Err(err) => {
            for job in jobs {
                let _ = job.reply.send(Err(err.clone()));
            }
        }
    }
}

fn append_in_transaction(
    db: &mut Db,
    jobs: &[AppendJob],
) -> Result<Vec<Vec<AppendOutcome>>, StorageError> {
    // Generic plans: the statements of an append are prepared, but
    // PostgreSQL keeps planning the two over `unnest` of the partitions
    // anew at every execution (it judges its generic plan, which assumes
    // 10 partitions, dearer than one made for the actual one). That
    // planning was a fifth of a one-record append's time in PostgreSQL.
    // The generic plans are the ones a real workload wants anyway: an
    // index lookup per partition on a large table, a scan of a small one.
    // Sent with BEGIN, in the same round trip.
    db.client
        .batch_execute("BEGIN; SET LOCAL plan_cache_mode = force_generic_plan")?;
    match append_rows(db, jobs) {
        Ok(outcomes) => {
            db.client.batch_execute("COMMIT")?;
            Ok(outcomes)
        }
        Err(err) => {
            let _ = db.client.batch_execute("ROLLBACK");
            Err(err)
        }
    }
}

const COPY_RECORDS: &str =
    "COPY kafkaesque.record (topic_id, partition, \"offset\", timestamp, key, value,
     header_keys, header_values, batch_attributes, producer_id, producer_epoch, sequence)
     FROM STDIN (FORMAT binary)";

fn append_rows(db: &mut Db, jobs: &[AppendJob]) -> Result<Vec<Vec<AppendOutcome>>, StorageError> {
    // 1. Lock every touched partition, in (topic id, partition) order so
    //    that two workers never wait on each other.
    let mut partitions: BTreeMap<(TopicId, i32), PartitionCursor> = BTreeMap::new();
    for append in jobs.iter().flat_map(|j| &j.appends) {
        partitions
            .entry((append.topic_id, append.partition))
            .or_default();
    }
    // One statement locks them all: rows are locked as the sorted result is
    // produced, so the order holds.
    let lock = db.statement(
        "SELECT p.topic_id, p.partition, p.next_offset, p.log_start_offset
           FROM kafkaesque.partitions p
           JOIN unnest($1::uuid[], $2::int4[]) AS wanted (topic_id, partition)
                USING (topic_id, partition)
          ORDER BY p.topic_id, p.partition
            FOR UPDATE OF p",
    )?;
    let (topic_ids, partition_numbers): (Vec<TopicId>, Vec<i32>) =
        partitions.keys().copied().unzip();
    for row in db.client.query(&lock, &[&topic_ids, &partition_numbers])? {
        let key: (TopicId, i32) = (row.try_get(0)?, row.try_get(1)?);
        if let Some(cursor) = partitions.get_mut(&key) {
            cursor.exists = true;
            cursor.next_offset = row.try_get(2)?;
            cursor.log_start_offset = row.try_get(3)?;
            cursor.start_offset = cursor.next_offset;
        }
    }

    // 2. Load the sequence state of the idempotent producers involved.
    for (&(topic_id, partition), cursor) in partitions.iter_mut() {
        let mut producers: Vec<i64> = jobs
            .iter()
            .flat_map(|j| &j.appends)
            .filter(|a| {
                a.topic_id == topic_id && a.partition == partition && a.batch.producer_id >= 0
            })
            .map(|a| a.batch.producer_id)
            .collect();
        if cursor.exists && !producers.is_empty() {
            producers.sort_unstable();
            producers.dedup();
            cursor.producers = producers::load(db, topic_id, partition, &producers)?
                .into_iter()
                .map(|(id, state)| (id, Some(state)))
                .collect();
        }
    }

    // 3. Decide each append and hand out offsets, in job order.
    let mut outcomes = Vec::with_capacity(jobs.len());
    let mut accepted: Vec<(&PartitionAppend, i64)> = Vec::new();
    for job in jobs {
        let mut job_outcomes = Vec::with_capacity(job.appends.len());
        for append in &job.appends {
            let cursor = partitions
                .get_mut(&(append.topic_id, append.partition))
                .filter(|c| c.exists);
            let Some(cursor) = cursor else {
                job_outcomes.push(AppendOutcome::UnknownPartition);
                continue;
            };
            job_outcomes.push(cursor.admit(append, &mut accepted));
        }
        outcomes.push(job_outcomes);
    }

    // 4. Insert the accepted records with one binary COPY.
    if !accepted.is_empty() {
        let copy = db.statement(COPY_RECORDS)?;
        let mut writer = db.client.copy_in(&copy)?;
        let mut rows = CopyBuffer::with_capacity(CopyBuffer::CHUNK);
        let sent = accepted
            .iter()
            .try_for_each(|(append, base_offset)| {
                write_batch_rows(&mut rows, &mut writer, append, *base_offset)
            })
            .and_then(|()| rows.finish(&mut writer));
        sent.map_err(|err| StorageError::Unavailable(format!("sending records: {err}")))?;
        writer.finish()?;
    }

    // 5. Move the log end offsets and save the producers' new state.
    let mark_first_write = db.statement(
        "UPDATE kafkaesque.transaction_partitions SET first_offset = $4
          WHERE topic_id = $1 AND partition = $2 AND producer_id = $3 AND first_offset IS NULL",
    )?;
    for (append, base_offset) in &accepted {
        if append.batch.is_transactional() {
            db.client.execute(
                &mark_first_write,
                &[
                    &append.topic_id,
                    &append.partition,
                    &append.batch.producer_id,
                    base_offset,
                ],
            )?;
        }
    }
    let moved: Vec<(&(TopicId, i32), &PartitionCursor)> = partitions
        .iter()
        .filter(|(_, cursor)| cursor.next_offset != cursor.start_offset)
        .collect();
    if !moved.is_empty() {
        let advance = db.statement(
            "UPDATE kafkaesque.partitions p SET next_offset = moved.next_offset
               FROM unnest($1::uuid[], $2::int4[], $3::int8[])
                    AS moved (topic_id, partition, next_offset)
              WHERE p.topic_id = moved.topic_id AND p.partition = moved.partition",
        )?;
        let topic_ids: Vec<TopicId> = moved.iter().map(|((t, _), _)| *t).collect();
        let partition_numbers: Vec<i32> = moved.iter().map(|((_, p), _)| *p).collect();
        let next_offsets: Vec<i64> = moved.iter().map(|(_, c)| c.next_offset).collect();
        db.client
            .execute(&advance, &[&topic_ids, &partition_numbers, &next_offsets])?;
    }
    for (&(topic_id, partition), cursor) in &partitions {
        for (&producer_id, state) in &cursor.producers {
            if let (Some(state), true) = (state, cursor.changed_producers.contains(&producer_id)) {
                producers::save(db, topic_id, partition, producer_id, state)?;
            }
        }
    }

    // Every outcome reports the log end as it will be after this commit.
    let mut fixed = Vec::with_capacity(outcomes.len());
    for (job, job_outcomes) in jobs.iter().zip(outcomes) {
        fixed.push(
            job.appends
                .iter()
                .zip(job_outcomes)
                .map(|(append, outcome)| {
                    match (
                        outcome,
                        partitions.get(&(append.topic_id, append.partition)),
                    ) {
                        (AppendOutcome::Appended { base_offset, .. }, Some(cursor)) => {
                            AppendOutcome::Appended {
                                base_offset,
                                next_offset: cursor.next_offset,
                                log_start_offset: cursor.log_start_offset,
                            }
                        }
                        (other, _) => other,
                    }
                })
                .collect(),
        );
    }
    Ok(fixed)
}

/// One locked partition while a group of appends is decided.
#[derive(Default)]
struct PartitionCursor {
    exists: bool,
    /// Log end offset when the partition was locked.
    start_offset: i64,
    /// Next offset to hand out.
    next_offset: i64,
    log_start_offset: i64,
    /// Sequence state of the idempotent producers writing here (`None`:
    /// no state yet).
    producers: HashMap<i64, Option<ProducerState>>,
    changed_producers: Vec<i64>,
}

impl PartitionCursor {
    /// Decides one append (Kafka's idempotence rules for producer batches)
    /// and, if it is to be written, gives it its offsets.
    fn admit<'a>(
        &mut self,
        append: &'a PartitionAppend,
        accepted: &mut Vec<(&'a PartitionAppend, i64)>,
    ) -> AppendOutcome {
        let batch = &append.batch;
        let count = batch.records.len();
        let idempotent = batch.producer_id >= 0 && batch.base_sequence >= 0;
        if idempotent {
            let first = batch.base_sequence;
            let last = producers::last_sequence(first, count);
            let state = self.producers.entry(batch.producer_id).or_default();
            match producers::check(state.as_ref(), batch.producer_epoch, first, last) {
                SequenceCheck::Reject(code) => return AppendOutcome::Rejected(code),
                SequenceCheck::Duplicate { base_offset } => {
                    return AppendOutcome::Appended {
                        base_offset,
                        next_offset: self.next_offset,
                        log_start_offset: self.log_start_offset,
                    };
                }
                SequenceCheck::Append => {
                    producers::record(
                        state,
                        batch.producer_epoch,
                        BatchMetadata {
                            first_sequence: first,
                            last_sequence: last,
                            base_offset: self.next_offset,
                        },
                    );
                    if !self.changed_producers.contains(&batch.producer_id) {
                        self.changed_producers.push(batch.producer_id);
                    }
                }
            }
        }
        let base_offset = self.next_offset;
        self.next_offset += count as i64;
        accepted.push((append, base_offset));
        AppendOutcome::Appended {
            base_offset,
            next_offset: self.next_offset,
            log_start_offset: self.log_start_offset,
        }
    }
}

/// The sequence number of the record `index` places after `base`; sequences
/// wrap from `i32::MAX` to 0 as Kafka's do.
fn sequence_at(base: i32, index: usize) -> i32 {
    if base < 0 {
        return -1;
    }
    ((i64::from(base) + index as i64) % (i64::from(i32::MAX) + 1)) as i32
}

/// Writes the rows of one batch, sending each full chunk to `sink`.
fn write_batch_rows(
    rows: &mut CopyBuffer,
    sink: &mut impl Write,
    append: &PartitionAppend,
    base_offset: i64,
) -> std::io::Result<()> {
    let batch = &append.batch;
    let stored_attributes =
        batch.attributes & !(attributes::COMPRESSION_MASK | attributes::DELETE_HORIZON);
    let log_append_time = batch.is_log_append_time();
    for (index, record) in batch.records.iter().enumerate() {
        let timestamp = if log_append_time {
            batch.max_timestamp
        } else {
            batch.base_timestamp.wrapping_add(record.timestamp_delta)
        };
        rows.row(12);
        rows.uuid(append.topic_id.as_bytes());
        rows.int4(append.partition);
        rows.int8(base_offset + index as i64);
        rows.int8(timestamp);
        rows.bytes(record.key.as_deref());
        rows.bytes(record.value.as_deref());
        if record.headers.is_empty() {
            rows.null();
            rows.null();
        } else {
            rows.text_array(record.headers.iter().map(|h| h.key.as_str()));
            rows.bytea_array(record.headers.iter().map(|h| h.value.as_deref()));
        }
        rows.int2(stored_attributes);
        rows.int8(batch.producer_id);
        rows.int2(batch.producer_epoch);
        rows.int4(sequence_at(batch.base_sequence, index));
        if rows.is_full() {
            rows.send_to(sink)?;
        }
    }
    Ok(())
}

/// Most rows fetched per round trip while reading.
const READ_CHUNK_MAX_ROWS: i64 = 10_000;

/// Rows fetched by the first round trip of a read, before anything is known
/// about the size of this partition's records. Later round trips ask for
/// about as many rows as the rest of the byte budget holds, judged by the
/// records read so far, so a fetch of a few 1 MB records does not drag a
/// thousand of them out of PostgreSQL.
const READ_FIRST_CHUNK_ROWS: i64 = 16;

/// What a read produced.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ReadSummary {
    pub records: i64,
    /// Offset after the last record returned.
    pub next_offset: i64,
}

/// Appends to `out` record batches holding the records of one partition from
/// `from` up to (not including) `until`, stopping before `max_bytes` would
/// be exceeded. With `first_may_exceed`, the first record is returned
/// however large it is (KIP-74), so a consumer can always make progress.
#[allow(clippy::too_many_arguments)]
pub fn read_batches(
    db: &mut Db,
    topic_id: TopicId,
    partition: i32,
    from: i64,
    until: i64,
    max_bytes: usize,
    first_may_exceed: bool,
    out: &mut Vec<u8>,
) -> Result<ReadSummary, StorageError> {
    let stmt = db.statement(
        "SELECT \"offset\", timestamp, key, value, header_keys, header_values,
                batch_attributes, producer_id, producer_epoch, sequence
           FROM kafkaesque.record
          WHERE topic_id = $1 AND partition = $2 AND \"offset\" >= $3 AND \"offset\" < $4
          ORDER BY \"offset\" LIMIT $5",
    )?;
    let start_len = out.len();
    let mut summary = ReadSummary {
        records: 0,
        next_offset: from,
    };
    let mut open: Option<(BatchBuilder, BatchKey)> = None;
    let mut next = from;
    let mut chunk_rows = READ_FIRST_CHUNK_ROWS;
    'chunks: while next < until {
        // Rows are streamed: each is encoded as it arrives, while
        // PostgreSQL produces the next, and leaving early (budget spent)
        // just discards the rest of the answer.
        let params: [&(dyn ToSql + Sync); 5] = [&topic_id, &partition, &next, &until, &chunk_rows];
        let mut rows = db.client.query_raw(&stmt, params)?;
        let mut fetched = 0;
        while let Some(row) = rows.next()? {
            fetched += 1;
            let offset: i64 = row.get(0);
            let timestamp: i64 = row.get(1);
            let key: Option<&[u8]> = row.get(2);
            let value: Option<&[u8]> = row.get(3);
            let header_keys: Option<Vec<&str>> = row.get(4);
            let header_values: Option<Vec<Option<&[u8]>>> = row.get(5);
            let batch_key = BatchKey {
                attributes: row.get(6),
                producer_id: row.get(7),
                producer_epoch: row.get(8),
                sequence: row.get(9),
            };
            let headers: Vec<(&str, Option<&[u8]>)> = match (header_keys, header_values) {
                (Some(k), Some(v)) => k.into_iter().zip(v).collect(),
                _ => Vec::new(),
            };
            let size = 32
                + key.map_or(0, <[u8]>::len)
                + value.map_or(0, <[u8]>::len)
                + headers
                    .iter()
                    .map(|(k, v)| k.len() + v.map_or(0, <[u8]>::len) + 8)
                    .sum::<usize>();
            let may_exceed = summary.records == 0 && first_may_exceed;
            if !may_exceed && out.len() - start_len + size > max_bytes {
                break 'chunks;
            }
            let continues = open.as_ref().is_some_and(|(builder, prev)| {
                prev.continued_by(&batch_key) && builder.record_count() < i32::MAX
            });
            if !continues {
                if let Some((builder, _)) = open.take() {
                    builder.finish(out);
                }
                let builder = BatchBuilder::start(
                    out,
                    offset,
                    timestamp,
                    batch_key.attributes,
                    batch_key.producer_id,
                    batch_key.producer_epoch,
                    batch_key.sequence,
                    0,
                );
                open = Some((builder, batch_key));
            } else if let Some((_, prev)) = open.as_mut() {
                *prev = batch_key;
            }
            if let Some((builder, _)) = open.as_mut() {
                builder.push(out, offset, timestamp, key, value, &headers);
            }
            summary.records += 1;
            summary.next_offset = offset + 1;
            next = offset + 1;
        }
        if fetched < chunk_rows {
            break;
        }
        let written = (out.len() - start_len).max(1);
        let average = (written / summary.records.max(1) as usize).max(1);
        let rows_left_in_budget = max_bytes.saturating_sub(written) / average + 1;
        chunk_rows = (rows_left_in_budget as i64).clamp(1, READ_CHUNK_MAX_ROWS);
    }
    if let Some((builder, _)) = open.take() {
        builder.finish(out);
    }
    Ok(summary)
}

/// The batch-level facts of a stored record; consecutive records with
/// matching facts are returned in one batch.
#[derive(Debug, Clone, Copy)]
struct BatchKey {
    attributes: i16,
    producer_id: i64,
    producer_epoch: i16,
    sequence: i32,
}

impl BatchKey {
    /// True if `next` may follow `self` in the same batch.
    fn continued_by(&self, next: &BatchKey) -> bool {
        let is_control = self.attributes & attributes::CONTROL != 0;
        !is_control
            && self.attributes == next.attributes
            && self.producer_id == next.producer_id
            && self.producer_epoch == next.producer_epoch
            && (self.sequence < 0 || next.sequence == sequence_at(self.sequence, 1))
    }
}

/// ListOffsets by timestamp: the first record whose timestamp is at or after
/// `timestamp` (KIP-79), as (offset, timestamp).
pub fn offset_for_timestamp(
    db: &mut Db,
    topic_id: TopicId,
    partition: i32,
    timestamp: i64,
) -> Result<Option<(i64, i64)>, StorageError> {
    let stmt = db.statement(
        "SELECT \"offset\", timestamp FROM kafkaesque.record
          WHERE topic_id = $1 AND partition = $2 AND timestamp >= $3
          ORDER BY \"offset\" LIMIT 1",
    )?;
    Ok(db
        .client
        .query_opt(&stmt, &[&topic_id, &partition, &timestamp])?
        .map(|r| (r.get(0), r.get(1))))
}

/// ListOffsets MAX_TIMESTAMP (KIP-734): the first record with the largest
/// timestamp, as (offset, timestamp).
pub fn max_timestamp(
    db: &mut Db,
    topic_id: TopicId,
    partition: i32,
) -> Result<Option<(i64, i64)>, StorageError> {
    let stmt = db.statement(
        "SELECT \"offset\", timestamp FROM kafkaesque.record
          WHERE topic_id = $1 AND partition = $2
          ORDER BY timestamp DESC, \"offset\" ASC LIMIT 1",
    )?;
    Ok(db
        .client
        .query_opt(&stmt, &[&topic_id, &partition])?
        .map(|r| (r.get(0), r.get(1))))
}

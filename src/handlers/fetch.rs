//! Fetch: read record batches, long-polling when there is nothing new.
//!
//! The long poll holds no database connection. The fetch subscribes to its
//! partitions in the [`crate::notifier::Notifier`], checks the in-memory
//! watermarks, and sleeps until a produce commits to one of them or
//! `max_wait_ms` runs out; only then does it take a pool connection, for
//! one job that reads every partition with new data.
//!
//! Rules clients depend on (kafka-notes §3.6): every requested partition is
//! answered; empty records are present-but-empty; the first record batch
//! of the response is returned even if it exceeds the limits (KIP-74);
//! OFFSET_OUT_OF_RANGE outside `[log start, high watermark]`.

use super::{log_storage_error, storage_error_code, Ctx};
use crate::broker::PartitionMarks;
use crate::protocol::messages::fetch::{
    AbortedTransaction, FetchRequest, FetchResponse, FetchResponsePartition, FetchResponseTopic,
};
use crate::protocol::ErrorCode;
use crate::read_ahead::{PartitionRead, PendingRead, ReadAhead, ReadSpec};
use crate::storage::log::read_batches;
use crate::storage::transactions;
use crate::storage::{StorageError, TopicId};
use std::time::{Duration, Instant};

/// `isolation_level` of a read_committed consumer.
const READ_COMMITTED: i8 = 1;

/// Longest slice a long poll sleeps before looking at the shutdown flag.
const WAIT_SLICE: Duration = Duration::from_millis(250);

/// One requested partition and what we know of it.
struct Slot {
    topic_index: usize,
    partition_index: usize,
    key: Option<(TopicId, i32)>,
    fetch_offset: i64,
    partition_max_bytes: usize,
}

pub fn handle(ctx: &Ctx<'_>, request: FetchRequest) -> FetchResponse {
    let broker = ctx.broker;
    let by_id = ctx.version >= 13;
    let started = Instant::now();
    let max_wait = Duration::from_millis(u64::try_from(request.max_wait_ms).unwrap_or(0));
    let min_bytes = usize::try_from(request.min_bytes).unwrap_or(0);
    let max_bytes = usize::try_from(request.max_bytes).unwrap_or(0);
    let read_committed = request.isolation_level == READ_COMMITTED;

    let mut responses = Vec::with_capacity(request.topics.len());
    let mut slots = Vec::new();
    for (topic_index, wanted) in request.topics.iter().enumerate() {
        let topic = if by_id {
            let id = TopicId::from_bytes(wanted.topic_id);
            Ok(broker.topics.get_by_id(&id))
                .transpose()
                .unwrap_or(Err(ErrorCode::UnknownTopicId))
        } else {
            match broker.topic(&wanted.topic) {
                Ok(Some(topic)) => Ok(topic),
                Ok(None) => Err(ErrorCode::UnknownTopicOrPartition),
                Err(err) => {
                    log_storage_error(ctx, "looking up a topic", &err);
                    Err(storage_error_code(&err))
                }
            }
        };
        let mut partitions = Vec::with_capacity(wanted.partitions.len());
        for (partition_index, p) in wanted.partitions.iter().enumerate() {
            let mut answer = empty_partition(p.partition, read_committed);
            let key = match &topic {
                Ok(topic) => match broker.partition(topic, p.partition) {
                    Ok(Some(_)) => Some((topic.id, p.partition)),
                    Ok(None) => {
                        answer.error_code = ErrorCode::UnknownTopicOrPartition.code();
                        None
                    }
                    Err(err) => {
                        answer.error_code = storage_error_code(&err).code();
                        None
                    }
                },
                Err(code) => {
                    answer.error_code = code.code();
                    None
                }
            };
            slots.push(Slot {
                topic_index,
                partition_index,
                key,
                fetch_offset: p.fetch_offset,
                partition_max_bytes: usize::try_from(p.partition_max_bytes).unwrap_or(0),
            });
            partitions.push(answer);
        }
        responses.push(FetchResponseTopic {
            topic: wanted.topic.clone(),
            topic_id: wanted.topic_id,
            partitions,
        });
    }

    // What this connection read ahead is used by this Fetch or not at all.
    let mut queued = std::mem::take(&mut *ctx.read_ahead.borrow_mut());
    let mut continuations = Vec::new();
    let subscription = broker
        .notifier
        .subscribe(slots.iter().filter_map(|s| s.key).collect());
    loop {
        let mut has_error = false;
        let mut has_data = false;
        for slot in &slots {
            let answer = &mut responses[slot.topic_index].partitions[slot.partition_index];
            let Some(key) = slot.key else {
                has_error = true;
                continue;
            };
            let Some(marks) = broker.watermarks.get(&key) else {
                continue;
            };
            fill_watermarks(answer, &marks);
            if slot.fetch_offset < marks.log_start_offset || slot.fetch_offset > marks.next_offset {
                answer.error_code = ErrorCode::OffsetOutOfRange.code();
                has_error = true;
            } else if slot.fetch_offset < readable_end(answer, read_committed) {
                has_data = true;
            }
        }
        let expired = started.elapsed() >= max_wait || broker.shutdown.is_requested();
        if has_data {
            match read_all(
                ctx,
                &slots,
                &mut responses,
                max_bytes,
                read_committed,
                &mut queued,
            ) {
                Ok((bytes, read)) if bytes >= min_bytes || expired => {
                    continuations = read;
                    break;
                }
                Ok(_) => {}
                Err(err) => {
                    log_storage_error(ctx, "reading records", &err);
                    for slot in slots.iter().filter(|s| s.key.is_some()) {
                        let answer =
                            &mut responses[slot.topic_index].partitions[slot.partition_index];
                        answer.error_code = storage_error_code(&err).code();
                        answer.records = Some(Vec::new());
                    }
                    break;
                }
            }
        }
        if has_error || expired {
            break;
        }
        let remaining = max_wait.saturating_sub(started.elapsed());
        subscription.wait(remaining.min(WAIT_SLICE));
    }

    drop(subscription);
    crate::metrics::read_ahead_unused(broker, queued.untaken());
    drop(queued);
    if !broker.shutdown.is_requested() {
        *ctx.read_ahead.borrow_mut() = read_ahead(ctx, continuations);
    }
    crate::metrics::fetched(broker, &responses);
    FetchResponse {
        throttle_time_ms: 0,
        error_code: ErrorCode::None.code(),
        session_id: 0,
        responses,
        ..Default::default()
    }
}

fn empty_partition(partition_index: i32, read_committed: bool) -> FetchResponsePartition {
    FetchResponsePartition {
        partition_index,
        error_code: ErrorCode::None.code(),
        high_watermark: -1,
        last_stable_offset: -1,
        log_start_offset: -1,
        aborted_transactions: read_committed.then(Vec::new),
        preferred_read_replica: -1,
        records: Some(Vec::new()),
        ..Default::default()
    }
}

fn fill_watermarks(answer: &mut FetchResponsePartition, marks: &PartitionMarks) {
    answer.high_watermark = marks.next_offset;
    answer.last_stable_offset = marks.last_stable_offset();
    answer.log_start_offset = marks.log_start_offset;
}

/// Where a consumer's reading stops: the last stable offset for
/// read_committed (no records of open transactions), else the high watermark.
fn readable_end(answer: &FetchResponsePartition, read_committed: bool) -> i64 {
    if read_committed {
        answer.last_stable_offset
    } else {
        answer.high_watermark
    }
}

/// Reads every partition that has data, each in its own pool job so that
/// the partitions are read side by side by several PostgreSQL backends.
/// A read queued ahead for exactly this partition, offset and limit (see
/// [`crate::read_ahead`]) is used instead of a new one. Returns the bytes
/// of record batches put in the response, and for each partition that
/// returned records, what was read and where it ended. read_committed
/// consumers also get the aborted transactions overlapping what they read,
/// so they can drop those records themselves.
///
/// The response's `max_bytes` is shared out before reading, in request
/// order: each partition may use its own limit out of what the partitions
/// before it could use at most. Only the first partition with data may
/// return a first batch larger than its share (KIP-74), so a consumer
/// always makes progress.
fn read_all(
    ctx: &Ctx<'_>,
    slots: &[Slot],
    responses: &mut [FetchResponseTopic],
    max_bytes: usize,
    read_committed: bool,
    queued: &mut ReadAhead,
) -> Result<(usize, Vec<Continuation>), StorageError> {
    let mut reads = Vec::new();
    let mut shared_out = 0usize;
    for (index, slot) in slots.iter().enumerate() {
        let Some(partition) = slot.key else {
            continue;
        };
        let answer = &responses[slot.topic_index].partitions[slot.partition_index];
        let end = readable_end(answer, read_committed);
        if answer.error_code != ErrorCode::None.code() || slot.fetch_offset >= end {
            continue;
        }
        let first = reads.is_empty();
        let budget = slot
            .partition_max_bytes
            .min(max_bytes.saturating_sub(shared_out));
        if budget == 0 && !first {
            continue;
        }
        shared_out += budget;
        let spec = ReadSpec {
            partition,
            from: slot.fetch_offset,
            max_bytes: budget,
            read_committed,
        };
        let (reply, ahead) = match queued.take(&spec) {
            Some(reply) => {
                crate::metrics::read_ahead_used(ctx.broker);
                (reply, true)
            }
            None => (queue_read(ctx, spec, end, first)?, false),
        };
        reads.push(Reading {
            slot: index,
            spec,
            end,
            first,
            reply,
            ahead,
        });
    }
    let mut total = 0;
    let mut continuations = Vec::new();
    for reading in reads {
        let Reading {
            spec, end, first, ..
        } = reading;
        let read = match crate::pool::wait(&reading.reply) {
            // Read ahead without KIP-74's allowance, and its first record
            // did not fit: this answer must carry it, so read it again.
            Ok(read) if reading.ahead && first && read.record_count == 0 => {
                crate::pool::wait(&queue_read(ctx, spec, end, true)?)?
            }
            Ok(read) => read,
            // A read ahead may have met a database that has since come
            // back; only a read made for this Fetch decides its answer.
            Err(_) if reading.ahead => crate::pool::wait(&queue_read(ctx, spec, end, first)?)?,
            Err(err) => return Err(err),
        };
        let slot = &slots[reading.slot];
        total += read.records.len();
        if read.record_count > 0 {
            continuations.push(Continuation {
                read: spec,
                next_offset: read.next_offset,
                end,
            });
        }
        let answer = &mut responses[slot.topic_index].partitions[slot.partition_index];
        answer.records = Some(read.records);
        if let Some(aborted) = read.aborted {
            answer.aborted_transactions = Some(
                aborted
                    .into_iter()
                    .map(|(producer_id, first_offset)| AbortedTransaction {
                        producer_id,
                        first_offset,
                    })
                    .collect(),
            );
        }
    }
    Ok((total, continuations))
}

/// One partition read of a Fetch: what was asked, and where its reply comes.
struct Reading {
    /// Index into the request's slots.
    slot: usize,
    spec: ReadSpec,
    /// Where the partition was readable to when the read was queued.
    end: i64,
    /// The first partition read by this Fetch (KIP-74's allowance).
    first: bool,
    reply: PendingRead,
    /// Taken from the reads queued ahead rather than queued for this Fetch.
    ahead: bool,
}

/// A partition read that returned records, and where its log was readable
/// to at the time.
struct Continuation {
    read: ReadSpec,
    next_offset: i64,
    end: i64,
}

/// Queues one partition read in the pool: records from `spec.from` up to
/// `end`, within `spec.max_bytes` (the first record whatever its size, if
/// `first_may_exceed`).
fn queue_read(
    ctx: &Ctx<'_>,
    spec: ReadSpec,
    end: i64,
    first_may_exceed: bool,
) -> Result<PendingRead, StorageError> {
    ctx.broker.pool.queue(move |db| {
        let (topic_id, partition) = spec.partition;
        let mut read = PartitionRead::default();
        let summary = read_batches(
            db,
            topic_id,
            partition,
            spec.from,
            end,
            spec.max_bytes,
            first_may_exceed,
            &mut read.records,
        )?;
        read.record_count = summary.records;
        read.next_offset = summary.next_offset;
        if spec.read_committed && summary.records > 0 {
            read.aborted = Some(transactions::aborted_in_range(
                db,
                topic_id,
                partition,
                spec.from,
                summary.next_offset,
            )?);
        }
        Ok(read)
    })
}

/// Queues, for each partition this answer left more committed records
/// behind, the read the consumer's next Fetch will most likely ask for: on
/// from where this one ended, with the same limit. Reads that do not fit in
/// the broker's read-ahead budget are not queued.
fn read_ahead(ctx: &Ctx<'_>, continuations: Vec<Continuation>) -> ReadAhead {
    let mut queued = ReadAhead::default();
    for c in continuations {
        if c.next_offset >= c.end {
            continue;
        }
        let Some(reservation) = ctx.broker.read_ahead_budget.reserve(c.read.max_bytes) else {
            continue;
        };
        let spec = ReadSpec {
            from: c.next_offset,
            ..c.read
        };
        match queue_read(ctx, spec, c.end, false) {
            Ok(read) => queued.push(spec, read, reservation),
            Err(_) => break,
        }
    }
    queued
}

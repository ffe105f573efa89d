//! Produce: validate each partition's record batch as Kafka's log validator
//! does, then append every valid batch of the request in one group-commit
//! job. The answer goes out only after PostgreSQL has committed
//! (acks=1 and acks=all alike; acks=0 gets no answer at all).

use super::{log_storage_error, storage_error_code, Ctx};
use crate::protocol::messages::produce::{
    BatchIndexAndErrorMessage, PartitionProduceResponse, ProduceRequest, ProduceResponse,
    TopicProduceResponse,
};
use crate::protocol::records::{attributes, decode_batches_within, RecordBatch};
use crate::protocol::ErrorCode;
use crate::storage::log::{AppendJob, AppendOutcome, PartitionAppend};
use crate::storage::{StorageError, TopicId};
use crate::topic_config::{check_records, Rejected, TopicSettings};
use std::time::{SystemTime, UNIX_EPOCH};

/// Upper bound on the memory one request's compressed batches may take once
/// decoded (inflated bytes plus the records built from them), shared by all
/// its partitions. A compressed "bomb" that expands past it is refused with
/// MESSAGE_TOO_LARGE before it is fully inflated, however many partitions
/// the request repeats it in.
pub const MAX_DECODED_REQUEST_BYTES: usize = 128 * 1024 * 1024;

/// A Produce request validated and decoded, its batches ready to append.
pub struct Prepared {
    acks: i16,
    now_ms: i64,
    /// Partition answers in request order.
    answers: Vec<(String, Vec<PartitionProduceResponse>)>,
    /// The answers whose outcome depends on the append, one per append.
    pending: Vec<Pending>,
    appends: Vec<PartitionAppend>,
    /// Records and bytes of each append, for the metrics.
    sizes: Vec<(usize, usize)>,
}

/// Validates every partition's batch of `request` (Kafka's `LogValidator`
/// checks); nothing is written yet.
pub fn prepare(ctx: &Ctx<'_>, request: ProduceRequest) -> Prepared {
    let acks = request.acks;
    let now_ms = now_ms();
    let mut decode_budget = MAX_DECODED_REQUEST_BYTES;

    // Partition answers in request order; `pending` marks the ones whose
    // outcome depends on the append below.
    let mut answers: Vec<(String, Vec<PartitionProduceResponse>)> = Vec::new();
    let mut pending: Vec<Pending> = Vec::new();
    let mut appends: Vec<PartitionAppend> = Vec::new();
    // Records and bytes of each pending append, for the metrics.
    let mut sizes: Vec<(usize, usize)> = Vec::new();

    for topic_data in request.topic_data {
        let topic_index = answers.len();
        let mut partitions = Vec::with_capacity(topic_data.partition_data.len());
        let topic = if acks != 0 && acks != 1 && acks != -1 {
            Err(ErrorCode::InvalidRequiredAcks)
        } else {
            match ctx.broker.topic(&topic_data.name) {
                Ok(Some(topic)) => Ok(topic),
                Ok(None) => Err(ErrorCode::UnknownTopicOrPartition),
                Err(err) => {
                    log_storage_error(ctx, "looking up a topic", &err);
                    Err(storage_error_code(&err))
                }
            }
        };
        for partition_data in topic_data.partition_data {
            let index = partition_data.index;
            let validated = topic.clone().map_err(Rejected::from).and_then(|topic| {
                if index < 0 || index >= topic.partitions {
                    return Err(ErrorCode::UnknownTopicOrPartition.into());
                }
                let settings = TopicSettings::of(ctx.broker, &topic);
                let batch = validate(
                    &settings,
                    partition_data.records.as_deref(),
                    now_ms,
                    &mut decode_budget,
                )?;
                check_records(&settings, &batch, now_ms, &topic.name, index)?;
                if batch.is_transactional() {
                    // KIP-890: a transaction may only write to partitions
                    // it registered with AddPartitionsToTxn.
                    let id = request
                        .transactional_id
                        .as_deref()
                        .ok_or(ErrorCode::InvalidRecord)?;
                    ctx.broker.transactions.check_produce(
                        id,
                        batch.producer_id,
                        batch.producer_epoch,
                        (topic.id, index),
                    )?;
                }
                Ok((topic, batch))
            });
            match validated {
                Ok((topic, batch)) => {
                    let log_append_time = batch.is_log_append_time();
                    let raw_bytes = partition_data.records.as_ref().map_or(0, Vec::len);
                    sizes.push((batch.records.len(), raw_bytes));
                    pending.push(Pending {
                        topic_index,
                        slot: partitions.len(),
                        topic_id: topic.id,
                        partition: index,
                        log_append_time,
                        transaction: batch.is_transactional().then_some(batch.producer_id),
                    });
                    appends.push(PartitionAppend {
                        topic_id: topic.id,
                        partition: index,
                        batch,
                    });
                    partitions.push(partition_answer(index, ErrorCode::None));
                }
                Err(rejected) => partitions.push(rejected_answer(index, rejected)),
            }
        }
        answers.push((topic_data.name, partitions));
    }

    Prepared {
        acks,
        now_ms,
        answers,
        pending,
        appends,
        sizes,
    }
}

/// Appends the batches of consecutive Produce requests of one connection
/// with one group-commit job, and answers each request once PostgreSQL has
/// committed (`None`: acks=0, no answer). `ctx` is the first request's, for
/// logging a storage failure.
pub fn append_all(ctx: &Ctx<'_>, mut requests: Vec<Prepared>) -> Vec<Option<ProduceResponse>> {
    let appends: Vec<PartitionAppend> = requests
        .iter_mut()
        .flat_map(|r| r.appends.drain(..))
        .collect();
    let outcome = if appends.is_empty() {
        Ok(Vec::new())
    } else {
        let (job, reply) = AppendJob::new(appends);
        ctx.broker
            .pool
            .append(job)
            .and_then(|()| crate::pool::wait(&reply))
    };
    if let Err(err) = &outcome {
        log_storage_error(ctx, "appending records", err);
    }
    let mut outcomes = outcome.map(Vec::into_iter);
    requests
        .into_iter()
        .map(|request| {
            let mine = match &mut outcomes {
                Ok(all) => Ok(all.by_ref().take(request.pending.len()).collect()),
                Err(err) => Err(err.clone()),
            };
            answer(ctx, request, mine)
        })
        .collect()
}

/// Fills in a request's answers from the outcomes of its appends.
fn answer(
    ctx: &Ctx<'_>,
    request: Prepared,
    outcome: Result<Vec<AppendOutcome>, StorageError>,
) -> Option<ProduceResponse> {
    let Prepared {
        acks,
        now_ms,
        mut answers,
        pending,
        sizes,
        ..
    } = request;
    match outcome {
        Ok(outcomes) => {
            for (done, outcome) in pending.iter().zip(outcomes) {
                let key = (done.topic_id, done.partition);
                let answer = &mut answers[done.topic_index].1[done.slot];
                match outcome {
                    AppendOutcome::Appended {
                        base_offset,
                        next_offset,
                        log_start_offset,
                    } => {
                        // The transaction's first offset must be known
                        // before the high watermark passes it, so that
                        // read_committed fetches stop in front of it.
                        if let Some(producer_id) = done.transaction {
                            ctx.broker
                                .watermarks
                                .transaction_wrote(key, producer_id, base_offset);
                        }
                        ctx.broker.committed(key, next_offset, log_start_offset);
                        answer.base_offset = base_offset;
                        answer.log_start_offset = log_start_offset;
                        answer.log_append_time_ms = if done.log_append_time { now_ms } else { -1 };
                    }
                    AppendOutcome::UnknownPartition => {
                        answer.error_code = ErrorCode::UnknownTopicOrPartition.code();
                    }
                    AppendOutcome::Rejected(code) => answer.error_code = code.code(),
                }
            }
        }
        Err(err) => {
            for done in &pending {
                answers[done.topic_index].1[done.slot].error_code = storage_error_code(&err).code();
            }
        }
    }

    for (done, &(records, bytes)) in pending.iter().zip(&sizes) {
        let (topic, partitions) = &answers[done.topic_index];
        if partitions[done.slot].error_code == ErrorCode::None.code() {
            crate::metrics::produced(&ctx.broker.metrics, topic, records, bytes);
        }
    }

    if acks == 0 {
        return None;
    }
    Some(ProduceResponse {
        responses: answers
            .into_iter()
            .map(|(name, partition_responses)| TopicProduceResponse {
                name,
                partition_responses,
            })
            .collect(),
        throttle_time_ms: 0,
        ..Default::default()
    })
}

/// A partition answer that waits for the append.
struct Pending {
    topic_index: usize,
    slot: usize,
    topic_id: TopicId,
    partition: i32,
    log_append_time: bool,
    /// The producer id of a transactional batch.
    transaction: Option<i64>,
}

fn partition_answer(index: i32, code: ErrorCode) -> PartitionProduceResponse {
    PartitionProduceResponse {
        index,
        error_code: code.code(),
        base_offset: -1,
        log_append_time_ms: -1,
        log_start_offset: -1,
        ..Default::default()
    }
}

fn rejected_answer(index: i32, rejected: Rejected) -> PartitionProduceResponse {
    PartitionProduceResponse {
        error_message: rejected.message,
        record_errors: rejected
            .record_errors
            .into_iter()
            .map(|(batch_index, message)| BatchIndexAndErrorMessage {
                batch_index,
                batch_index_error_message: Some(message),
            })
            .collect(),
        ..partition_answer(index, rejected.code)
    }
}

/// Kafka's checks on a client's record batch (`LogValidator`), and the
/// LogAppendTime rewrite. Returns the decoded batch ready to append.
fn validate(
    settings: &TopicSettings,
    records: Option<&[u8]>,
    now_ms: i64,
    decode_budget: &mut usize,
) -> Result<RecordBatch, ErrorCode> {
    let bytes = records.ok_or(ErrorCode::CorruptMessage)?;
    if bytes.len() as i64 > settings.max_message_bytes {
        return Err(ErrorCode::MessageTooLarge);
    }
    let mut batches = decode_batches_within(bytes, decode_budget).map_err(|e| e.error_code())?;
    // Since message format v2, a produce carries exactly one batch per
    // partition (LogValidator.getFirstBatchAndMaybeValidateNoMoreBatches).
    if batches.len() != 1 {
        return Err(ErrorCode::InvalidRecord);
    }
    let mut batch = batches.remove(0);
    if batch.is_control() || batch.records.is_empty() {
        return Err(ErrorCode::InvalidRecord);
    }
    if batch.producer_id >= 0 && batch.base_sequence < 0 {
        return Err(ErrorCode::InvalidRecord);
    }
    // PostgreSQL text cannot hold NUL; Kafka header keys are strings.
    if batch
        .records
        .iter()
        .any(|r| r.headers.iter().any(|h| h.key.contains('\0')))
    {
        return Err(ErrorCode::InvalidRecord);
    }
    if settings.log_append_time {
        batch.attributes |= attributes::TIMESTAMP_LOG_APPEND;
        batch.max_timestamp = now_ms;
    } else if batch.is_log_append_time() {
        // A client may not claim the broker's timestamp.
        return Err(ErrorCode::InvalidTimestamp);
    }
    Ok(batch)
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

//! Produce: validate each partition's record batch as Kafka's log validator
//! does, then append every valid batch of the request in one group-commit
//! job. The answer goes out only after PostgreSQL has committed
//! (acks=1 and acks=all alike; acks=0 gets no answer at all).

use super::{log_storage_error, storage_error_code, Ctx};
use crate::protocol::messages::produce::{
    PartitionProduceResponse, ProduceRequest, ProduceResponse, TopicProduceResponse,
};
use crate::protocol::records::{attributes, decode_batches, RecordBatch};
use crate::protocol::ErrorCode;
use crate::storage::log::{AppendJob, AppendOutcome, PartitionAppend};
use crate::storage::topics::TopicMeta;
use crate::storage::TopicId;
use std::time::{SystemTime, UNIX_EPOCH};

/// Upper bound on the bytes a batch may decompress to. A compressed
/// "bomb" that expands past it is refused before it is fully inflated.
pub const MAX_DECOMPRESSED_BATCH_BYTES: usize = 64 * 1024 * 1024;

/// Topic config naming the timestamp type ("CreateTime" or "LogAppendTime").
const TIMESTAMP_TYPE_CONFIG: &str = "message.timestamp.type";
const MAX_MESSAGE_BYTES_CONFIG: &str = "max.message.bytes";

pub fn handle(ctx: &Ctx<'_>, request: ProduceRequest) -> Option<ProduceResponse> {
    let acks = request.acks;
    let now_ms = now_ms();
    let default_max_bytes = usize::try_from(ctx.broker.config.message_max_bytes).unwrap_or(0);

    // Partition answers in request order; `pending` marks the ones whose
    // outcome depends on the append below.
    let mut answers: Vec<(String, Vec<PartitionProduceResponse>)> = Vec::new();
    let mut pending: Vec<(usize, usize, TopicId, bool)> = Vec::new();
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
            let validated = topic.clone().and_then(|topic| {
                if index < 0 || index >= topic.partitions {
                    return Err(ErrorCode::UnknownTopicOrPartition);
                }
                let batch = validate(
                    &topic,
                    partition_data.records.as_deref(),
                    now_ms,
                    default_max_bytes,
                )?;
                Ok((topic, batch))
            });
            match validated {
                Ok((topic, batch)) => {
                    let log_append_time = batch.is_log_append_time();
                    let raw_bytes = partition_data.records.as_ref().map_or(0, Vec::len);
                    sizes.push((batch.records.len(), raw_bytes));
                    pending.push((topic_index, partitions.len(), topic.id, log_append_time));
                    appends.push(PartitionAppend {
                        topic_id: topic.id,
                        partition: index,
                        batch,
                    });
                    partitions.push(partition_answer(index, ErrorCode::None));
                }
                Err(code) => partitions.push(partition_answer(index, code)),
            }
        }
        answers.push((topic_data.name, partitions));
    }

    if !appends.is_empty() {
        let keys: Vec<(TopicId, i32)> = appends.iter().map(|a| (a.topic_id, a.partition)).collect();
        let (job, reply) = AppendJob::new(appends);
        let outcome = ctx
            .broker
            .pool
            .append(job)
            .and_then(|()| crate::pool::wait(&reply));
        match outcome {
            Ok(outcomes) => {
                for ((&(topic_index, slot, _, log_append_time), key), outcome) in
                    pending.iter().zip(&keys).zip(outcomes)
                {
                    let answer = &mut answers[topic_index].1[slot];
                    match outcome {
                        AppendOutcome::Appended {
                            base_offset,
                            next_offset,
                            log_start_offset,
                        } => {
                            ctx.broker.committed(*key, next_offset, log_start_offset);
                            answer.base_offset = base_offset;
                            answer.log_start_offset = log_start_offset;
                            answer.log_append_time_ms = if log_append_time { now_ms } else { -1 };
                        }
                        AppendOutcome::UnknownPartition => {
                            answer.error_code = ErrorCode::UnknownTopicOrPartition.code();
                        }
                        AppendOutcome::Rejected(code) => answer.error_code = code.code(),
                    }
                }
            }
            Err(err) => {
                log_storage_error(ctx, "appending records", &err);
                for &(topic_index, slot, _, _) in &pending {
                    answers[topic_index].1[slot].error_code = storage_error_code(&err).code();
                }
            }
        }
    }

    for (&(topic_index, slot, _, _), &(records, bytes)) in pending.iter().zip(&sizes) {
        let (topic, partitions) = &answers[topic_index];
        if partitions[slot].error_code == ErrorCode::None.code() {
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

/// Kafka's checks on a client's record batch (`LogValidator`), and the
/// LogAppendTime rewrite. Returns the decoded batch ready to append.
fn validate(
    topic: &TopicMeta,
    records: Option<&[u8]>,
    now_ms: i64,
    default_max_bytes: usize,
) -> Result<RecordBatch, ErrorCode> {
    let bytes = records.ok_or(ErrorCode::CorruptMessage)?;
    let max_message_bytes = topic
        .configs
        .get(MAX_MESSAGE_BYTES_CONFIG)
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(default_max_bytes);
    if bytes.len() > max_message_bytes {
        return Err(ErrorCode::MessageTooLarge);
    }
    let mut batches =
        decode_batches(bytes, MAX_DECOMPRESSED_BATCH_BYTES).map_err(|e| e.error_code())?;
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
    let log_append_time = topic
        .configs
        .get(TIMESTAMP_TYPE_CONFIG)
        .is_some_and(|v| v == "LogAppendTime");
    if log_append_time {
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

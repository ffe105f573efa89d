//! ListOffsets: earliest, latest, by timestamp (KIP-79) and max timestamp
//! (KIP-734) offsets of partitions.

use super::{log_storage_error, storage_error_code, Ctx};
use crate::protocol::messages::list_offsets::{
    ListOffsetsPartitionResponse, ListOffsetsRequest, ListOffsetsResponse, ListOffsetsTopicResponse,
};
use crate::protocol::ErrorCode;
use crate::storage::{self, StorageError};

/// The special timestamps of a ListOffsets query.
const LATEST: i64 = -1;
const EARLIEST: i64 = -2;
const MAX_TIMESTAMP: i64 = -3;
const EARLIEST_LOCAL: i64 = -4;
const LATEST_TIERED: i64 = -5;

pub fn handle(ctx: &Ctx<'_>, request: ListOffsetsRequest) -> ListOffsetsResponse {
    // isolation_level 1 = read_committed (v2+).
    let read_committed = request.isolation_level == 1;
    let topics = request
        .topics
        .into_iter()
        .map(|wanted| {
            let topic = ctx.broker.topic(&wanted.name);
            let partitions = wanted
                .partitions
                .iter()
                .map(|p| {
                    let mut answer = ListOffsetsPartitionResponse {
                        partition_index: p.partition_index,
                        error_code: ErrorCode::None.code(),
                        timestamp: -1,
                        offset: -1,
                        leader_epoch: -1,
                    };
                    let topic = match &topic {
                        Ok(Some(topic)) => topic,
                        Ok(None) => {
                            answer.error_code = ErrorCode::UnknownTopicOrPartition.code();
                            return answer;
                        }
                        Err(err) => {
                            answer.error_code = storage_error_code(err).code();
                            return answer;
                        }
                    };
                    match lookup(ctx, topic, p.partition_index, p.timestamp, read_committed) {
                        Ok(Some((offset, timestamp))) => {
                            answer.offset = offset;
                            answer.timestamp = timestamp;
                            answer.leader_epoch = if offset >= 0 { 0 } else { -1 };
                        }
                        Ok(None) => answer.error_code = ErrorCode::UnknownTopicOrPartition.code(),
                        Err(err) => {
                            log_storage_error(ctx, "listing offsets", &err);
                            answer.error_code = storage_error_code(&err).code();
                        }
                    }
                    answer
                })
                .collect();
            ListOffsetsTopicResponse {
                name: wanted.name,
                partitions,
            }
        })
        .collect();
    ListOffsetsResponse {
        throttle_time_ms: 0,
        topics,
    }
}

/// (offset, timestamp) for one partition, or `None` if it does not exist.
/// A timestamp query that matches nothing answers offset -1 (KIP-79).
fn lookup(
    ctx: &Ctx<'_>,
    topic: &storage::topics::TopicMeta,
    partition: i32,
    timestamp: i64,
    read_committed: bool,
) -> Result<Option<(i64, i64)>, StorageError> {
    let Some(marks) = ctx.broker.partition(topic, partition)? else {
        return Ok(None);
    };
    let id = topic.id;
    let found = match timestamp {
        // read_committed callers see the last stable offset (KIP-98).
        LATEST if read_committed => (marks.last_stable_offset(), -1),
        LATEST => (marks.next_offset, -1),
        EARLIEST | EARLIEST_LOCAL => (marks.log_start_offset, -1),
        LATEST_TIERED => (-1, -1),
        MAX_TIMESTAMP => ctx
            .broker
            .pool
            .run(move |db| storage::log::max_timestamp(db, id, partition))?
            .unwrap_or((-1, -1)),
        wanted if wanted >= 0 => ctx
            .broker
            .pool
            .run(move |db| storage::log::offset_for_timestamp(db, id, partition, wanted))?
            .unwrap_or((-1, -1)),
        _ => (-1, -1),
    };
    Ok(Some(found))
}

//! DeleteRecords (KIP-107): move partitions' log start offset forward.
//! Records below it disappear for consumers at once (a fetch below it is
//! OFFSET_OUT_OF_RANGE); their rows are then deleted in bounded batches.

use super::{log_storage_error, storage_error_code, Ctx};
use crate::log_cleaner;
use crate::protocol::messages::delete_records::{
    DeleteRecordsPartitionResult, DeleteRecordsRequest, DeleteRecordsResponse,
    DeleteRecordsTopicResult,
};
use crate::protocol::ErrorCode;
use crate::storage::cleaner;

/// The offset meaning "the high watermark".
const HIGH_WATERMARK: i64 = -1;

pub fn handle(ctx: &Ctx<'_>, request: DeleteRecordsRequest) -> DeleteRecordsResponse {
    let topics = request
        .topics
        .iter()
        .map(|t| DeleteRecordsTopicResult {
            name: t.name.clone(),
            partitions: t
                .partitions
                .iter()
                .map(|p| {
                    let (low_watermark, error) =
                        match delete(ctx, &t.name, p.partition_index, p.offset) {
                            Ok(low) => (low, ErrorCode::None),
                            Err(code) => (-1, code),
                        };
                    DeleteRecordsPartitionResult {
                        partition_index: p.partition_index,
                        low_watermark,
                        error_code: error.code(),
                    }
                })
                .collect(),
        })
        .collect();
    DeleteRecordsResponse {
        throttle_time_ms: 0,
        topics,
    }
}

/// Deletes the records of one partition below `offset`; returns the new
/// low watermark (log start offset).
fn delete(ctx: &Ctx<'_>, topic: &str, partition: i32, offset: i64) -> Result<i64, ErrorCode> {
    let broker = ctx.broker;
    let storage_failed = |err| {
        log_storage_error(ctx, "deleting records", &err);
        storage_error_code(&err)
    };
    let topic = broker
        .topic(topic)
        .map_err(storage_failed)?
        .ok_or(ErrorCode::UnknownTopicOrPartition)?;
    let marks = broker
        .partition(&topic, partition)
        .map_err(storage_failed)?
        .ok_or(ErrorCode::UnknownTopicOrPartition)?;
    let target = if offset == HIGH_WATERMARK {
        marks.next_offset
    } else if offset < 0 || offset > marks.next_offset {
        return Err(ErrorCode::OffsetOutOfRange);
    } else {
        offset
    };
    let id = topic.id;
    let moved = broker
        .pool
        .run(move |db| cleaner::move_log_start(db, id, partition, target))
        .map_err(storage_failed)?
        .ok_or(ErrorCode::UnknownTopicOrPartition)?;
    broker
        .watermarks
        .advance((id, partition), moved.next_offset, moved.log_start_offset);
    log::info!(
        "{}: DeleteRecords moved the log start offset of {}-{partition} to {}",
        ctx.peer,
        topic.name,
        moved.log_start_offset
    );
    // The rows go now, batch by batch; the log cleaner finishes the job if
    // this is interrupted.
    log_cleaner::delete_below_log_start(broker, id, partition, &|| true).map_err(storage_failed)?;
    Ok(moved.log_start_offset)
}

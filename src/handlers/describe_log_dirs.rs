//! DescribeLogDirs: one log directory, the kafkaesque schema in PostgreSQL
//! ([`LOG_DIR`]), holding every partition, each with the size of its
//! records as retention.bytes counts them.

use super::{log_storage_error, Ctx};
use crate::protocol::messages::describe_log_dirs::{
    DescribeLogDirsPartition, DescribeLogDirsRequest, DescribeLogDirsResponse,
    DescribeLogDirsResult, DescribeLogDirsTopic,
};
use crate::protocol::ErrorCode;
use crate::resource_configs::LOG_DIR;
use crate::storage::cleaner;
use std::collections::HashMap;

/// `total_bytes`/`usable_bytes` when unknown.
const UNKNOWN_BYTES: i64 = -1;

pub fn handle(ctx: &Ctx<'_>, request: DescribeLogDirsRequest) -> DescribeLogDirsResponse {
    let broker = ctx.broker;
    // (topic, the partitions asked for; None = all of them)
    let wanted: Vec<(String, Option<Vec<i32>>)> = match request.topics {
        None => match broker.pool.run(crate::storage::topics::load_all) {
            Ok(all) => all.into_iter().map(|t| (t.name, None)).collect(),
            Err(err) => {
                log_storage_error(ctx, "listing topics", &err);
                return failed(ErrorCode::KafkaStorageError);
            }
        },
        Some(topics) => topics
            .into_iter()
            .map(|t| (t.topic, Some(t.partitions)))
            .collect(),
    };
    let mut topics = Vec::new();
    for (name, partitions) in wanted {
        let topic = match broker.topic(&name) {
            Ok(Some(topic)) => topic,
            // Kafka leaves out partitions it does not host.
            Ok(None) => continue,
            Err(err) => {
                log_storage_error(ctx, "describing log dirs", &err);
                return failed(ErrorCode::KafkaStorageError);
            }
        };
        let id = topic.id;
        let sizes: HashMap<i32, i64> = match broker.pool.run(move |db| cleaner::topic_sizes(db, id))
        {
            Ok(sizes) => sizes.into_iter().collect(),
            Err(err) => {
                log_storage_error(ctx, "describing log dirs", &err);
                return failed(ErrorCode::KafkaStorageError);
            }
        };
        let indexes: Vec<i32> = match partitions {
            None => (0..topic.partitions).collect(),
            Some(list) => list
                .into_iter()
                .filter(|p| (0..topic.partitions).contains(p))
                .collect(),
        };
        if indexes.is_empty() {
            continue;
        }
        topics.push(DescribeLogDirsTopic {
            name,
            partitions: indexes
                .into_iter()
                .map(|p| DescribeLogDirsPartition {
                    partition_index: p,
                    partition_size: sizes.get(&p).copied().unwrap_or(0),
                    offset_lag: 0,
                    is_future_key: false,
                })
                .collect(),
        });
    }
    let total_bytes = broker
        .pool
        .run(cleaner::database_size)
        .unwrap_or(UNKNOWN_BYTES);
    DescribeLogDirsResponse {
        throttle_time_ms: 0,
        error_code: 0,
        results: vec![DescribeLogDirsResult {
            error_code: 0,
            log_dir: LOG_DIR.to_string(),
            topics,
            total_bytes,
            usable_bytes: UNKNOWN_BYTES,
        }],
    }
}

fn failed(code: ErrorCode) -> DescribeLogDirsResponse {
    DescribeLogDirsResponse {
        throttle_time_ms: 0,
        error_code: code.code(),
        results: vec![DescribeLogDirsResult {
            error_code: code.code(),
            log_dir: LOG_DIR.to_string(),
            topics: Vec::new(),
            total_bytes: UNKNOWN_BYTES,
            usable_bytes: UNKNOWN_BYTES,
        }],
    }
}

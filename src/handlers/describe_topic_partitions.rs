//! DescribeTopicPartitions (KIP-966): topics and their partitions in name
//! order, at most `response_partition_limit` partitions per answer, with a
//! cursor where the next request continues.

use super::metadata::TOPIC_OPERATIONS_ALL;
use super::{log_storage_error, Ctx};
use crate::protocol::messages::describe_topic_partitions::{
    Cursor, DescribeTopicPartitionsPartition, DescribeTopicPartitionsRequest,
    DescribeTopicPartitionsResponse, DescribeTopicPartitionsTopic,
};
use crate::protocol::ErrorCode;
use crate::storage;

/// Kafka's `max.request.partition.size.limit`: the most partitions one
/// answer holds, whatever the client asks for.
const MAX_PARTITIONS_PER_RESPONSE: i32 = 2000;

pub fn handle(
    ctx: &Ctx<'_>,
    request: DescribeTopicPartitionsRequest,
) -> DescribeTopicPartitionsResponse {
    let broker = ctx.broker;
    let mut names: Vec<String> = if request.topics.is_empty() {
        match broker.pool.run(storage::topics::load_all) {
            Ok(all) => {
                broker.topics.replace_all(all);
                broker.topics.all().iter().map(|t| t.name.clone()).collect()
            }
            Err(err) => {
                log_storage_error(ctx, "listing topics", &err);
                Vec::new()
            }
        }
    } else {
        request.topics.clone()
    };
    names.sort();
    names.dedup();
    if let Some(cursor) = &request.cursor {
        names.retain(|n| *n >= cursor.topic_name);
    }
    let mut remaining = if request.response_partition_limit > 0 {
        request
            .response_partition_limit
            .min(MAX_PARTITIONS_PER_RESPONSE)
    } else {
        MAX_PARTITIONS_PER_RESPONSE
    };
    let node = broker.node_id();
    let mut topics = Vec::new();
    let mut next_cursor = None;
    for name in names {
        let topic = match broker.topic(&name) {
            Ok(Some(topic)) => topic,
            Ok(None) | Err(_) => {
                topics.push(DescribeTopicPartitionsTopic {
                    error_code: ErrorCode::UnknownTopicOrPartition.code(),
                    name: Some(name),
                    topic_id: [0; 16],
                    is_internal: false,
                    partitions: Vec::new(),
                    topic_authorized_operations: TOPIC_OPERATIONS_ALL,
                });
                continue;
            }
        };
        let start = match &request.cursor {
            Some(c) if c.topic_name == name => c.partition_index.max(0),
            _ => 0,
        };
        if remaining == 0 {
            next_cursor = Some(Cursor {
                topic_name: name,
                partition_index: start,
            });
            break;
        }
        let end = topic.partitions.min(start.saturating_add(remaining));
        let partitions = (start..end)
            .map(|partition_index| DescribeTopicPartitionsPartition {
                error_code: 0,
                partition_index,
                leader_id: node,
                leader_epoch: 0,
                replica_nodes: vec![node],
                isr_nodes: vec![node],
                eligible_leader_replicas: Some(Vec::new()),
                last_known_elr: Some(Vec::new()),
                offline_replicas: Vec::new(),
            })
            .collect();
        remaining -= (end - start).max(0);
        topics.push(DescribeTopicPartitionsTopic {
            error_code: 0,
            name: Some(name.clone()),
            topic_id: *topic.id.as_bytes(),
            is_internal: false,
            partitions,
            topic_authorized_operations: TOPIC_OPERATIONS_ALL,
        });
        if end < topic.partitions {
            next_cursor = Some(Cursor {
                topic_name: name,
                partition_index: end,
            });
            break;
        }
    }
    DescribeTopicPartitionsResponse {
        throttle_time_ms: 0,
        topics,
        next_cursor,
    }
}

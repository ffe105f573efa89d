//! CreatePartitions (KIP-195): grow a topic's partition count. Kafka never
//! shrinks a topic, so a count that is not larger is INVALID_PARTITIONS.
//! New partitions start empty at offset 0; every replica is this node.

use super::{log_storage_error, storage_error_code, Ctx};
use crate::protocol::messages::create_partitions::{
    CreatePartitionsRequest, CreatePartitionsResponse, CreatePartitionsTopic,
    CreatePartitionsTopicResult,
};
use crate::protocol::ErrorCode;
use crate::storage;
use crate::storage::topics::TopicMeta;
use std::collections::HashSet;

/// Largest partition count a topic may grow to (as CreateTopics).
const MAX_PARTITIONS: i32 = 100_000;

pub fn handle(ctx: &Ctx<'_>, request: CreatePartitionsRequest) -> CreatePartitionsResponse {
    let mut seen = HashSet::new();
    let duplicated: HashSet<&str> = request
        .topics
        .iter()
        .map(|t| t.name.as_str())
        .filter(|name| !seen.insert(*name))
        .collect();
    let results = request
        .topics
        .iter()
        .map(|topic| {
            let outcome = if duplicated.contains(topic.name.as_str()) {
                Err((
                    ErrorCode::InvalidRequest,
                    "Duplicate topic in request.".to_string(),
                ))
            } else {
                grow(ctx, topic, request.validate_only)
            };
            let (error_code, error_message) = match outcome {
                Ok(()) => (ErrorCode::None.code(), None),
                Err((code, message)) => (code.code(), Some(message)),
            };
            CreatePartitionsTopicResult {
                name: topic.name.clone(),
                error_code,
                error_message,
            }
        })
        .collect();
    CreatePartitionsResponse {
        throttle_time_ms: 0,
        results,
    }
}

fn grow(
    ctx: &Ctx<'_>,
    wanted: &CreatePartitionsTopic,
    validate_only: bool,
) -> Result<(), (ErrorCode, String)> {
    let broker = ctx.broker;
    let name = &wanted.name;
    let topic = match broker.topic(name) {
        Ok(Some(topic)) => topic,
        Ok(None) => {
            return Err((
                ErrorCode::UnknownTopicOrPartition,
                format!("The topic '{name}' does not exist."),
            ))
        }
        Err(err) => {
            log_storage_error(ctx, "looking up a topic", &err);
            return Err((storage_error_code(&err), err.to_string()));
        }
    };
    let (current, count) = (topic.partitions, wanted.count);
    check_count(name, current, count)?;
    if let Some(assignments) = &wanted.assignments {
        let added = count - current;
        if assignments.len() as i64 != i64::from(added) {
            return Err((
                ErrorCode::InvalidReplicaAssignment,
                format!(
                    "Increasing the number of partitions by {added} but {} assignments provided.",
                    assignments.len()
                ),
            ));
        }
        let node = broker.node_id();
        let unknown: Vec<String> = assignments
            .iter()
            .flatten()
            .filter(|id| **id != node)
            .map(i32::to_string)
            .collect();
        if !unknown.is_empty() {
            return Err((
                ErrorCode::InvalidReplicaAssignment,
                format!(
                    "Unknown broker(s) in replica assignment: {}.",
                    unknown.join(", ")
                ),
            ));
        }
    }
    if validate_only {
        return Ok(());
    }
    let id = topic.id;
    match broker
        .pool
        .run(move |db| storage::topics::add_partitions(db, id, count))
    {
        Ok(Some(before)) => {
            // Someone else may have grown it meanwhile.
            check_count(name, before, count)?;
            broker.topics.insert(TopicMeta {
                partitions: count,
                ..(*topic).clone()
            });
            log::info!(
                "{}: topic {name} grown from {before} to {count} partitions",
                ctx.peer
            );
            Ok(())
        }
        Ok(None) => Err((
            ErrorCode::UnknownTopicOrPartition,
            format!("The topic '{name}' does not exist."),
        )),
        Err(err) => {
            log_storage_error(ctx, "adding partitions", &err);
            Err((storage_error_code(&err), err.to_string()))
        }
    }
}

/// Kafka's messages for a count that does not grow the topic.
fn check_count(name: &str, current: i32, count: i32) -> Result<(), (ErrorCode, String)> {
    if count == current {
        return Err((
            ErrorCode::InvalidPartitions,
            format!("Topic already has {current} partition(s)."),
        ));
    }
    if count < current {
        return Err((
            ErrorCode::InvalidPartitions,
            format!("The topic {name} currently has {current} partition(s); {count} would not be an increase."),
        ));
    }
    if count > MAX_PARTITIONS {
        return Err((
            ErrorCode::InvalidPartitions,
            format!("Number of partitions must be at most {MAX_PARTITIONS}, got {count}."),
        ));
    }
    Ok(())
}

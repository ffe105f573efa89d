//! OffsetDelete (KIP-496): removes some of a group's committed offsets.
//! Offsets of topics a live member still subscribes to stay, with
//! GROUP_SUBSCRIBED_TO_TOPIC.

use super::{coordinator_storage_error_code, log_storage_error, Ctx};
use crate::protocol::messages::offset_delete::{
    OffsetDeleteRequest, OffsetDeleteResponse, OffsetDeleteResponsePartition,
    OffsetDeleteResponseTopic,
};
use crate::protocol::ErrorCode;
use crate::storage;

pub fn handle(ctx: &Ctx<'_>, request: OffsetDeleteRequest) -> OffsetDeleteResponse {
    let broker = ctx.broker;
    let subscribed = match broker.groups.subscribed_topics(&request.group_id) {
        Ok(topics) => topics,
        Err(code) => {
            return OffsetDeleteResponse {
                error_code: code.code(),
                throttle_time_ms: 0,
                topics: Vec::new(),
            }
        }
    };
    let mut doomed: Vec<(String, i32)> = Vec::new();
    let mut doomed_at: Vec<(usize, usize)> = Vec::new();
    let mut topics = Vec::with_capacity(request.topics.len());
    for (t, topic) in request.topics.into_iter().enumerate() {
        let meta = broker.topic(&topic.name);
        let partitions = topic
            .partition_indexes
            .iter()
            .enumerate()
            .map(|(p, &partition)| {
                let error = match &meta {
                    Err(err) => coordinator_storage_error_code(err),
                    Ok(Some(found)) if (0..found.partitions).contains(&partition) => {
                        if subscribed.contains(&topic.name) {
                            ErrorCode::GroupSubscribedToTopic
                        } else {
                            doomed.push((topic.name.clone(), partition));
                            doomed_at.push((t, p));
                            ErrorCode::None
                        }
                    }
                    Ok(_) => ErrorCode::UnknownTopicOrPartition,
                };
                OffsetDeleteResponsePartition {
                    partition_index: partition,
                    error_code: error.code(),
                }
            })
            .collect();
        topics.push(OffsetDeleteResponseTopic {
            name: topic.name,
            partitions,
        });
    }
    if !doomed.is_empty() {
        let group_id = request.group_id.clone();
        if let Err(err) = broker
            .pool
            .run(move |db| storage::groups::delete_offsets(db, &group_id, &doomed))
        {
            log_storage_error(ctx, "deleting offsets", &err);
            let code = coordinator_storage_error_code(&err).code();
            for (t, p) in doomed_at {
                topics[t].partitions[p].error_code = code;
            }
        }
    }
    OffsetDeleteResponse {
        error_code: ErrorCode::None.code(),
        throttle_time_ms: 0,
        topics,
    }
}

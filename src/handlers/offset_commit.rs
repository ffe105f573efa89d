//! OffsetCommit: validate the committer against its group, check every
//! partition, store the offsets in PostgreSQL, then answer.

use super::{coordinator_storage_error_code, log_storage_error, Ctx};
use crate::protocol::messages::offset_commit::{
    OffsetCommitRequest, OffsetCommitResponse, OffsetCommitResponsePartition,
    OffsetCommitResponseTopic,
};
use crate::protocol::ErrorCode;
use crate::storage;
use crate::storage::groups::CommittedOffset;

pub fn handle(ctx: &Ctx<'_>, request: OffsetCommitRequest) -> OffsetCommitResponse {
    let broker = ctx.broker;
    // Kafka accepts the empty group id here, for old clients.
    let validation = broker.groups.validate_commit(
        &request.group_id,
        &request.member_id,
        request.group_instance_id.as_deref(),
        request.generation_id_or_member_epoch,
        ctx.version,
    );
    let max_metadata = broker.config.offset_metadata_max_bytes;
    let mut to_store: Vec<CommittedOffset> = Vec::new();
    // (topic index, partition index) of each offset in `to_store`.
    let mut stored_at: Vec<(usize, usize)> = Vec::new();
    let mut topics: Vec<OffsetCommitResponseTopic> = Vec::with_capacity(request.topics.len());
    for (t, topic) in request.topics.into_iter().enumerate() {
        let meta = validation.map(|()| broker.topic(&topic.name));
        let mut partitions = Vec::with_capacity(topic.partitions.len());
        for (p, partition) in topic.partitions.into_iter().enumerate() {
            let error = match &meta {
                Err(code) => *code,
                Ok(Err(err)) => {
                    log_storage_error(ctx, "looking up a topic", err);
                    coordinator_storage_error_code(err)
                }
                Ok(Ok(Some(found)))
                    if (0..found.partitions).contains(&partition.partition_index) =>
                {
                    let metadata = partition.committed_metadata.unwrap_or_default();
                    if metadata.len() > max_metadata {
                        ErrorCode::OffsetMetadataTooLarge
                    } else {
                        to_store.push(CommittedOffset {
                            topic: topic.name.clone(),
                            partition: partition.partition_index,
                            offset: partition.committed_offset,
                            leader_epoch: partition.committed_leader_epoch,
                            metadata,
                        });
                        stored_at.push((t, p));
                        ErrorCode::None
                    }
                }
                Ok(Ok(_)) => ErrorCode::UnknownTopicOrPartition,
            };
            partitions.push(OffsetCommitResponsePartition {
                partition_index: partition.partition_index,
                error_code: error.code(),
            });
        }
        topics.push(OffsetCommitResponseTopic {
            name: topic.name,
            partitions,
        });
    }
    if !to_store.is_empty() {
        let group_id = request.group_id.clone();
        if let Err(err) = broker
            .pool
            .run(move |db| storage::groups::commit(db, &group_id, &to_store))
        {
            log_storage_error(ctx, "committing offsets", &err);
            let code = coordinator_storage_error_code(&err).code();
            for (t, p) in stored_at {
                topics[t].partitions[p].error_code = code;
            }
        }
    }
    OffsetCommitResponse {
        throttle_time_ms: 0,
        topics,
    }
}

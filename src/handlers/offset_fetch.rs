//! OffsetFetch: a group's committed offsets, from PostgreSQL. Partitions
//! without a commit answer offset -1; a null topic list (v2+) asks for
//! everything the group has committed; v8+ asks for several groups.

use super::{coordinator_storage_error_code, log_storage_error, Ctx};
use crate::protocol::messages::offset_fetch::{
    OffsetFetchRequest, OffsetFetchRequestTopic, OffsetFetchResponse, OffsetFetchResponseGroup,
    OffsetFetchResponsePartition, OffsetFetchResponseTopic,
};
use crate::protocol::ErrorCode;
use crate::storage;
use crate::storage::groups::CommittedOffset;
use std::collections::HashMap;

pub fn handle(ctx: &Ctx<'_>, request: OffsetFetchRequest) -> OffsetFetchResponse {
    if ctx.version <= 7 {
        let (topics, error) = fetch_group(
            ctx,
            &request.group_id,
            request.topics,
            request.require_stable,
        );
        return OffsetFetchResponse {
            throttle_time_ms: 0,
            topics,
            error_code: error.code(),
            groups: Vec::new(),
        };
    }
    let groups = request
        .groups
        .into_iter()
        .map(|group| {
            let (topics, error) =
                fetch_group(ctx, &group.group_id, group.topics, request.require_stable);
            OffsetFetchResponseGroup {
                group_id: group.group_id,
                topics,
                error_code: error.code(),
            }
        })
        .collect();
    OffsetFetchResponse {
        throttle_time_ms: 0,
        topics: Vec::new(),
        error_code: ErrorCode::None.code(),
        groups,
    }
}

/// The answer for one group, and its group-level error.
fn fetch_group(
    ctx: &Ctx<'_>,
    group_id: &str,
    wanted: Option<Vec<OffsetFetchRequestTopic>>,
    require_stable: bool,
) -> (Vec<OffsetFetchResponseTopic>, ErrorCode) {
    let names: Option<Vec<String>> = wanted
        .as_ref()
        .map(|topics| topics.iter().map(|t| t.name.clone()).collect());
    let owned_id = group_id.to_string();
    let found = ctx.broker.pool.run(move |db| {
        let committed = storage::groups::fetch(db, &owned_id, names.as_deref())?;
        let unstable = if require_stable {
            storage::transactions::pending_offsets(db, &owned_id)?
        } else {
            Vec::new()
        };
        Ok((committed, unstable))
    });
    let (committed, unstable) = match found {
        Ok(found) => found,
        Err(err) => {
            log_storage_error(ctx, "fetching committed offsets", &err);
            let code = coordinator_storage_error_code(&err);
            let topics = wanted
                .unwrap_or_default()
                .into_iter()
                .map(|t| OffsetFetchResponseTopic {
                    name: t.name,
                    partitions: t
                        .partition_indexes
                        .into_iter()
                        .map(|p| answer(p, None, code))
                        .collect(),
                })
                .collect();
            return (topics, code);
        }
    };
    let Some(wanted) = wanted else {
        // Everything committed, grouped by topic (rows come sorted).
        let mut topics: Vec<OffsetFetchResponseTopic> = Vec::new();
        for row in committed {
            if topics.last().is_none_or(|t| t.name != row.topic) {
                topics.push(OffsetFetchResponseTopic {
                    name: row.topic.clone(),
                    partitions: Vec::new(),
                });
            }
            if let Some(topic) = topics.last_mut() {
                topic
                    .partitions
                    .push(answer(row.partition, Some(&row), ErrorCode::None));
            }
        }
        return (topics, ErrorCode::None);
    };
    let by_partition: HashMap<(&str, i32), &CommittedOffset> = committed
        .iter()
        .map(|row| ((row.topic.as_str(), row.partition), row))
        .collect();
    let topics = wanted
        .iter()
        .map(|t| OffsetFetchResponseTopic {
            name: t.name.clone(),
            partitions: t
                .partition_indexes
                .iter()
                .map(|&p| {
                    if unstable
                        .iter()
                        .any(|(topic, partition)| *topic == t.name && *partition == p)
                    {
                        return answer(p, None, ErrorCode::UnstableOffsetCommit);
                    }
                    let row = by_partition.get(&(t.name.as_str(), p)).copied();
                    answer(p, row, ErrorCode::None)
                })
                .collect(),
        })
        .collect();
    (topics, ErrorCode::None)
}

/// One partition's answer: its commit, or offset -1 and empty metadata.
fn answer(
    partition: i32,
    committed: Option<&CommittedOffset>,
    error: ErrorCode,
) -> OffsetFetchResponsePartition {
    match committed {
        Some(row) => OffsetFetchResponsePartition {
            partition_index: partition,
            committed_offset: row.offset,
            committed_leader_epoch: row.leader_epoch,
            metadata: Some(row.metadata.clone()),
            error_code: error.code(),
        },
        None => OffsetFetchResponsePartition {
            partition_index: partition,
            committed_offset: -1,
            committed_leader_epoch: -1,
            metadata: Some(String::new()),
            error_code: error.code(),
        },
    }
}

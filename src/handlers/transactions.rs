//! The producer side of transactions: AddPartitionsToTxn, AddOffsetsToTxn,
//! TxnOffsetCommit and EndTxn, all answered by the
//! [`crate::transactions::TransactionCoordinator`].

use super::Ctx;
use crate::protocol::messages::add_offsets_to_txn::{
    AddOffsetsToTxnRequest, AddOffsetsToTxnResponse,
};
use crate::protocol::messages::add_partitions_to_txn::{
    AddPartitionsToTxnPartitionResult, AddPartitionsToTxnRequest, AddPartitionsToTxnResponse,
    AddPartitionsToTxnTopicResult,
};
use crate::protocol::messages::end_txn::{EndTxnRequest, EndTxnResponse};
use crate::protocol::messages::txn_offset_commit::{
    TxnOffsetCommitRequest, TxnOffsetCommitResponse, TxnOffsetCommitResponsePartition,
    TxnOffsetCommitResponseTopic,
};
use crate::protocol::ErrorCode;
use crate::storage::transactions::PendingOffset;
use crate::storage::TopicId;

pub fn add_partitions(
    ctx: &Ctx<'_>,
    request: AddPartitionsToTxnRequest,
) -> AddPartitionsToTxnResponse {
    // Resolve every partition first: Kafka adds all of them or none, naming
    // the unknown ones and marking the rest OPERATION_NOT_ATTEMPTED.
    let mut known: Vec<(TopicId, i32)> = Vec::new();
    let mut unknown: Vec<(String, i32)> = Vec::new();
    for topic in &request.topics {
        let meta = ctx.broker.topic(&topic.name).ok().flatten();
        for &partition in &topic.partitions {
            match &meta {
                Some(meta) if partition >= 0 && partition < meta.partitions => {
                    known.push((meta.id, partition))
                }
                _ => unknown.push((topic.name.clone(), partition)),
            }
        }
    }
    let outcome = if unknown.is_empty() {
        ctx.broker.transactions.add_partitions(
            ctx.broker,
            &request.transactional_id,
            request.producer_id,
            request.producer_epoch,
            &known,
            ctx.version,
        )
    } else {
        Err(ErrorCode::OperationNotAttempted)
    };
    let results_by_topic = request
        .topics
        .iter()
        .map(|topic| AddPartitionsToTxnTopicResult {
            name: topic.name.clone(),
            results_by_partition: topic
                .partitions
                .iter()
                .map(|&partition_index| {
                    let code = if unknown
                        .iter()
                        .any(|(n, p)| *n == topic.name && *p == partition_index)
                    {
                        ErrorCode::UnknownTopicOrPartition
                    } else {
                        outcome.err().unwrap_or(ErrorCode::None)
                    };
                    AddPartitionsToTxnPartitionResult {
                        partition_index,
                        partition_error_code: code.code(),
                    }
                })
                .collect(),
        })
        .collect();
    AddPartitionsToTxnResponse {
        throttle_time_ms: 0,
        results_by_topic,
    }
}

pub fn add_offsets(ctx: &Ctx<'_>, request: AddOffsetsToTxnRequest) -> AddOffsetsToTxnResponse {
    let outcome = ctx.broker.transactions.add_offsets(
        ctx.broker,
        &request.transactional_id,
        request.producer_id,
        request.producer_epoch,
        &request.group_id,
        ctx.version,
    );
    AddOffsetsToTxnResponse {
        throttle_time_ms: 0,
        error_code: outcome.err().unwrap_or(ErrorCode::None).code(),
    }
}

pub fn commit_offsets(ctx: &Ctx<'_>, request: TxnOffsetCommitRequest) -> TxnOffsetCommitResponse {
    let mut pending = Vec::new();
    let mut unknown = Vec::new();
    for topic in &request.topics {
        let meta = ctx.broker.topic(&topic.name).ok().flatten();
        for p in &topic.partitions {
            if meta
                .as_ref()
                .is_some_and(|m| p.partition_index >= 0 && p.partition_index < m.partitions)
            {
                pending.push(PendingOffset {
                    group_id: request.group_id.clone(),
                    topic: topic.name.clone(),
                    partition: p.partition_index,
                    offset: p.committed_offset,
                    leader_epoch: p.committed_leader_epoch,
                    metadata: p.committed_metadata.clone(),
                });
            } else {
                unknown.push((topic.name.clone(), p.partition_index));
            }
        }
    }
    let outcome = ctx.broker.transactions.commit_offsets(
        ctx.broker,
        &request.transactional_id,
        request.producer_id,
        request.producer_epoch,
        pending,
        ctx.version,
    );
    let topics = request
        .topics
        .iter()
        .map(|topic| TxnOffsetCommitResponseTopic {
            name: topic.name.clone(),
            partitions: topic
                .partitions
                .iter()
                .map(|p| {
                    let code = if unknown
                        .iter()
                        .any(|(n, i)| *n == topic.name && *i == p.partition_index)
                    {
                        ErrorCode::UnknownTopicOrPartition
                    } else {
                        outcome.err().unwrap_or(ErrorCode::None)
                    };
                    TxnOffsetCommitResponsePartition {
                        partition_index: p.partition_index,
                        error_code: code.code(),
                    }
                })
                .collect(),
        })
        .collect();
    TxnOffsetCommitResponse {
        throttle_time_ms: 0,
        topics,
    }
}

pub fn end(ctx: &Ctx<'_>, request: EndTxnRequest) -> EndTxnResponse {
    let outcome = ctx.broker.transactions.end(
        ctx.broker,
        &request.transactional_id,
        request.producer_id,
        request.producer_epoch,
        request.committed,
        ctx.version,
    );
    if let Err(code) = outcome {
        log::debug!(
            "EndTxn for {:?} refused: {code:?}",
            request.transactional_id
        );
    }
    EndTxnResponse {
        throttle_time_ms: 0,
        error_code: outcome.err().unwrap_or(ErrorCode::None).code(),
    }
}

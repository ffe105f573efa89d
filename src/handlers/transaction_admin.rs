//! The admin side of transactions and producers: DescribeTransactions,
//! ListTransactions (KIP-664) and DescribeProducers.

use super::{storage_error_code, Ctx};
use crate::protocol::messages::describe_producers::{
    ActiveProducer, DescribeProducersRequest, DescribeProducersResponse,
    DescribeProducersResponsePartition, DescribeProducersResponseTopic,
};
use crate::protocol::messages::describe_transactions::{
    DescribeTransactionsRequest, DescribeTransactionsResponse, DescribedTransaction,
    DescribedTransactionTopic,
};
use crate::protocol::messages::list_transactions::{
    ListTransactionsRequest, ListTransactionsResponse, ListedTransaction,
};
use crate::protocol::ErrorCode;
use crate::storage::producers;
use crate::storage::transactions::TransactionRow;
use crate::transactions::{COMPLETE_ABORT, COMPLETE_COMMIT, EMPTY, ONGOING};
use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

const KNOWN_STATES: &[&str] = &[
    EMPTY,
    ONGOING,
    "PrepareCommit",
    "PrepareAbort",
    COMPLETE_COMMIT,
    COMPLETE_ABORT,
    "PrepareEpochFence",
    "Dead",
];

fn millis(t: Option<SystemTime>) -> i64 {
    t.and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(-1, |d| d.as_millis() as i64)
}

pub fn describe_transactions(
    ctx: &Ctx<'_>,
    request: DescribeTransactionsRequest,
) -> DescribeTransactionsResponse {
    let known: BTreeMap<String, TransactionRow> =
        ctx.broker.transactions.snapshot().into_iter().collect();
    let transaction_states = request
        .transactional_ids
        .into_iter()
        .map(|id| match known.get(&id) {
            Some(row) => {
                let mut topics: BTreeMap<String, Vec<i32>> = BTreeMap::new();
                for (topic_id, partition) in &row.partitions {
                    if let Some(topic) = ctx.broker.topics.get_by_id(topic_id) {
                        topics
                            .entry(topic.name.clone())
                            .or_default()
                            .push(*partition);
                    }
                }
                DescribedTransaction {
                    error_code: ErrorCode::None.code(),
                    transactional_id: id,
                    transaction_state: row.state.clone(),
                    transaction_timeout_ms: row.timeout_ms,
                    transaction_start_time_ms: millis(row.started_at),
                    producer_id: row.producer_id,
                    producer_epoch: row.producer_epoch,
                    topics: topics
                        .into_iter()
                        .map(|(topic, partitions)| DescribedTransactionTopic { topic, partitions })
                        .collect(),
                }
            }
            None => DescribedTransaction {
                error_code: ErrorCode::TransactionalIdNotFound.code(),
                transactional_id: id,
                transaction_start_time_ms: -1,
                producer_id: -1,
                producer_epoch: -1,
                ..Default::default()
            },
        })
        .collect();
    DescribeTransactionsResponse {
        throttle_time_ms: 0,
        transaction_states,
    }
}

pub fn list_transactions(
    ctx: &Ctx<'_>,
    request: ListTransactionsRequest,
) -> ListTransactionsResponse {
    let now = SystemTime::now();
    let unknown_state_filters: Vec<String> = request
        .state_filters
        .iter()
        .filter(|s| !KNOWN_STATES.contains(&s.as_str()))
        .cloned()
        .collect();
    let transaction_states = ctx
        .broker
        .transactions
        .snapshot()
        .into_iter()
        .filter(|(_, row)| {
            request.state_filters.is_empty() || request.state_filters.contains(&row.state)
        })
        .filter(|(_, row)| {
            request.producer_id_filters.is_empty()
                || request.producer_id_filters.contains(&row.producer_id)
        })
        // v1 (KIP-994): only transactions running longer than the filter.
        .filter(|(_, row)| {
            request.duration_filter < 0
                || row.started_at.is_some_and(|t| {
                    now.duration_since(t).map_or(0, |d| d.as_millis() as i64)
                        >= request.duration_filter
                })
        })
        .map(|(transactional_id, row)| ListedTransaction {
            transactional_id,
            producer_id: row.producer_id,
            transaction_state: row.state,
        })
        .collect();
    ListTransactionsResponse {
        throttle_time_ms: 0,
        error_code: ErrorCode::None.code(),
        unknown_state_filters,
        transaction_states,
    }
}

pub fn describe_producers(
    ctx: &Ctx<'_>,
    request: DescribeProducersRequest,
) -> DescribeProducersResponse {
    let topics = request
        .topics
        .into_iter()
        .map(|wanted| {
            let topic = ctx.broker.topic(&wanted.name).ok().flatten();
            let partitions = wanted
                .partition_indexes
                .iter()
                .map(|&partition_index| {
                    let mut answer = DescribeProducersResponsePartition {
                        partition_index,
                        error_code: ErrorCode::None.code(),
                        error_message: None,
                        active_producers: Vec::new(),
                    };
                    let Some(topic) = topic
                        .as_ref()
                        .filter(|t| partition_index >= 0 && partition_index < t.partitions)
                    else {
                        answer.error_code = ErrorCode::UnknownTopicOrPartition.code();
                        return answer;
                    };
                    let id = topic.id;
                    match ctx
                        .broker
                        .pool
                        .run(move |db| producers::describe(db, id, partition_index))
                    {
                        Ok(found) => {
                            let marks = ctx
                                .broker
                                .watermarks
                                .get(&(id, partition_index))
                                .unwrap_or_default();
                            answer.active_producers = found
                                .into_iter()
                                .map(|(producer_id, epoch, last_sequence)| ActiveProducer {
                                    producer_id,
                                    producer_epoch: i32::from(epoch),
                                    last_sequence,
                                    last_timestamp: -1,
                                    coordinator_epoch: -1,
                                    current_txn_start_offset: marks
                                        .open_transactions
                                        .get(&producer_id)
                                        .filter(|t| t.written)
                                        .map_or(-1, |t| t.first_offset),
                                })
                                .collect();
                        }
                        Err(err) => answer.error_code = storage_error_code(&err).code(),
                    }
                    answer
                })
                .collect();
            DescribeProducersResponseTopic {
                name: wanted.name,
                partitions,
            }
        })
        .collect();
    DescribeProducersResponse {
        throttle_time_ms: 0,
        topics,
    }
}

//! DescribeTransactions (key 65), version 0: an admin tool asks a
//! transaction coordinator for the state of the transactions it owns
//! (KIP-664): who the producer is, how long the transaction has been open and
//! which partitions it has touched.
//!
//! Flexible from v0.

use crate::protocol::primitives::{Reader, Result, Writer};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribeTransactionsRequest {
    pub transactional_ids: Vec<String>,
}

impl DescribeTransactionsRequest {
    pub fn read(r: &mut Reader<'_>, _version: i16) -> Result<Self> {
        let flexible = true;
        let req = DescribeTransactionsRequest {
            transactional_ids: r.array(flexible, |r| r.string(flexible))?,
        };
        r.skip_tagged_fields(flexible)?;
        Ok(req)
    }
}

/// The partitions of one topic that a transaction has added.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribedTransactionTopic {
    pub topic: String,
    pub partitions: Vec<i32>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribedTransaction {
    /// Per transaction: e.g. `TRANSACTIONAL_ID_NOT_FOUND` or
    /// `NOT_COORDINATOR` when another broker owns this id.
    pub error_code: i16,
    pub transactional_id: String,
    /// The coordinator's state name, as Java's `TransactionState` spells it:
    /// "Empty", "Ongoing", "PrepareCommit", "PrepareAbort", "CompleteCommit",
    /// "CompleteAbort", "Dead" or "PrepareEpochFence".
    pub transaction_state: String,
    pub transaction_timeout_ms: i32,
    /// When the open transaction started (epoch ms), or -1 when none is open.
    pub transaction_start_time_ms: i64,
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub topics: Vec<DescribedTransactionTopic>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribeTransactionsResponse {
    pub throttle_time_ms: i32,
    pub transaction_states: Vec<DescribedTransaction>,
}

impl DescribeTransactionsResponse {
    pub fn write(&self, w: &mut Writer, _version: i16) {
        let flexible = true;
        w.i32(self.throttle_time_ms);
        w.array(flexible, &self.transaction_states, |w, txn| {
            w.i16(txn.error_code);
            w.string(flexible, &txn.transactional_id);
            w.string(flexible, &txn.transaction_state);
            w.i32(txn.transaction_timeout_ms);
            w.i64(txn.transaction_start_time_ms);
            w.i64(txn.producer_id);
            w.i16(txn.producer_epoch);
            w.array(flexible, &txn.topics, |w, topic| {
                w.string(flexible, &topic.topic);
                w.array(flexible, &topic.partitions, |w, p| w.i32(*p));
                w.empty_tagged_fields(flexible);
            });
            w.empty_tagged_fields(flexible);
        });
        w.empty_tagged_fields(flexible);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::oracle::*;
    use bytes::Bytes;
    use kafka_protocol::messages::describe_transactions_response as kp_resp;
    use kafka_protocol::messages::{
        DescribeTransactionsRequest as KpRequest, DescribeTransactionsResponse as KpResponse,
    };
    use kafka_protocol::protocol::StrBytes;

    const VERSIONS: std::ops::RangeInclusive<i16> = 0..=0;

    fn oracle_request() -> KpRequest {
        let mut m = KpRequest::default();
        m.transactional_ids = vec![
            StrBytes::from_static_str("payments-txn-0").into(),
            StrBytes::from_static_str("").into(),
        ];
        // A field from a future version, which must be skipped.
        m.unknown_tagged_fields
            .insert(999, Bytes::from_static(b"future"));
        m
    }

    #[test]
    fn request_matches_oracle_in_every_version() {
        for version in VERSIONS {
            let m = oracle_request();
            let bytes = encode(&m, version);
            let ours = read_all(&bytes, version, DescribeTransactionsRequest::read);
            let expected = DescribeTransactionsRequest {
                transactional_ids: m.transactional_ids.iter().map(|t| t.to_string()).collect(),
            };
            assert_eq!(ours, expected, "v{version}");
        }
    }

    #[test]
    fn truncated_requests_are_errors() {
        assert_truncations_fail_in(
            VERSIONS,
            |version| encode(&oracle_request(), version),
            DescribeTransactionsRequest::read,
        );
    }

    fn response() -> DescribeTransactionsResponse {
        DescribeTransactionsResponse {
            throttle_time_ms: 11,
            transaction_states: vec![
                DescribedTransaction {
                    error_code: 0,
                    transactional_id: "payments-txn-0".into(),
                    transaction_state: "Ongoing".into(),
                    transaction_timeout_ms: 60_000,
                    transaction_start_time_ms: 1_700_000_000_000,
                    producer_id: 4_000_000_123,
                    producer_epoch: 7,
                    topics: vec![
                        DescribedTransactionTopic {
                            topic: "orders".into(),
                            partitions: vec![0, 3],
                        },
                        DescribedTransactionTopic {
                            topic: "payments".into(),
                            partitions: vec![],
                        },
                    ],
                },
                DescribedTransaction {
                    error_code: 105,
                    transactional_id: "unknown-txn".into(),
                    transaction_start_time_ms: -1,
                    producer_id: -1,
                    producer_epoch: -1,
                    ..Default::default()
                },
            ],
        }
    }

    fn to_oracle(resp: &DescribeTransactionsResponse) -> KpResponse {
        let mut m = KpResponse::default();
        m.throttle_time_ms = resp.throttle_time_ms;
        m.transaction_states = resp
            .transaction_states
            .iter()
            .map(|txn| {
                let mut s = kp_resp::TransactionState::default();
                s.error_code = txn.error_code;
                s.transactional_id = StrBytes::from(txn.transactional_id.clone()).into();
                s.transaction_state = StrBytes::from(txn.transaction_state.clone());
                s.transaction_timeout_ms = txn.transaction_timeout_ms;
                s.transaction_start_time_ms = txn.transaction_start_time_ms;
                s.producer_id = txn.producer_id.into();
                s.producer_epoch = txn.producer_epoch;
                s.topics = txn
                    .topics
                    .iter()
                    .map(|topic| {
                        let mut t = kp_resp::TopicData::default();
                        t.topic = StrBytes::from(topic.topic.clone()).into();
                        t.partitions = topic.partitions.clone();
                        t
                    })
                    .collect();
                s
            })
            .collect();
        m
    }

    #[test]
    fn response_matches_oracle_in_every_version() {
        for version in VERSIONS {
            let resp = response();
            let bytes = write(&resp, version, DescribeTransactionsResponse::write);
            let decoded: KpResponse = decode(&bytes, version);
            assert_eq!(decoded, to_oracle(&resp), "v{version}");
        }
    }
}

//! AddPartitionsToTxn (key 24), versions 0-3: a transactional producer tells
//! its transaction coordinator which partitions it is about to write to, so
//! the coordinator can put commit/abort markers in them when the transaction
//! ends (KIP-98). The producer must do this before its first produce to a
//! partition in each transaction.
//!
//! Flexible from v3. Version notes:
//! - v1 is v0 with KIP-219 throttling (the broker answers first, then mutes).
//! - v2 lets the broker answer `PRODUCER_FENCED` (KIP-588).
//! - v4+ (KIP-890) batch several transactions per request for broker-to-
//!   broker verification and move these fields under `Transactions`; that
//!   form is not supported here, so the structs model v0-3 only.

use crate::protocol::primitives::{Reader, Result, Writer};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddPartitionsToTxnTopic {
    pub name: String,
    /// The partitions of `name` joining the transaction.
    pub partitions: Vec<i32>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddPartitionsToTxnRequest {
    /// The transaction whose partition set grows.
    pub transactional_id: String,
    /// The producer id and epoch from InitProducerId; a stale epoch means a
    /// newer instance of this producer exists and this one is fenced.
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub topics: Vec<AddPartitionsToTxnTopic>,
}

impl AddPartitionsToTxnRequest {
    pub fn read(r: &mut Reader<'_>, version: i16) -> Result<Self> {
        let flexible = version >= 3;
        let req = AddPartitionsToTxnRequest {
            transactional_id: r.string(flexible)?,
            producer_id: r.i64()?,
            producer_epoch: r.i16()?,
            topics: r.array(flexible, |r| {
                let topic = AddPartitionsToTxnTopic {
                    name: r.string(flexible)?,
                    partitions: r.array(flexible, |r| r.i32())?,
                };
                r.skip_tagged_fields(flexible)?;
                Ok(topic)
            })?,
        };
        r.skip_tagged_fields(flexible)?;
        Ok(req)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddPartitionsToTxnPartitionResult {
    pub partition_index: i32,
    pub partition_error_code: i16,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddPartitionsToTxnTopicResult {
    pub name: String,
    pub results_by_partition: Vec<AddPartitionsToTxnPartitionResult>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddPartitionsToTxnResponse {
    pub throttle_time_ms: i32,
    /// One entry per requested topic (Kafka's `ResultsByTopicV3AndBelow`).
    /// Kafka adds all partitions or none: if any partition fails, the others
    /// carry `OPERATION_NOT_ATTEMPTED`.
    pub results_by_topic: Vec<AddPartitionsToTxnTopicResult>,
}

impl AddPartitionsToTxnResponse {
    pub fn write(&self, w: &mut Writer, version: i16) {
        let flexible = version >= 3;
        w.i32(self.throttle_time_ms);
        w.array(flexible, &self.results_by_topic, |w, topic| {
            w.string(flexible, &topic.name);
            w.array(flexible, &topic.results_by_partition, |w, partition| {
                w.i32(partition.partition_index);
                w.i16(partition.partition_error_code);
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
    use kafka_protocol::messages::add_partitions_to_txn_request as kp_req;
    use kafka_protocol::messages::add_partitions_to_txn_response as kp_resp;
    use kafka_protocol::messages::{
        AddPartitionsToTxnRequest as KpRequest, AddPartitionsToTxnResponse as KpResponse,
    };
    use kafka_protocol::protocol::StrBytes;

    const VERSIONS: std::ops::RangeInclusive<i16> = 0..=3;

    fn oracle_request(version: i16) -> KpRequest {
        let flexible = version >= 3;
        let topic = |name: &'static str, partitions: Vec<i32>| {
            let mut t = kp_req::AddPartitionsToTxnTopic::default();
            t.name = StrBytes::from_static_str(name).into();
            t.partitions = partitions;
            if flexible {
                t.unknown_tagged_fields.insert(5, Bytes::from_static(b"x"));
            }
            t
        };
        let mut m = KpRequest::default();
        m.v3_and_below_transactional_id = StrBytes::from_static_str("payments-txn-0").into();
        m.v3_and_below_producer_id = 4_000_000_123.into();
        m.v3_and_below_producer_epoch = 7;
        m.v3_and_below_topics = vec![
            topic("orders", vec![0, 3, 2_000_000]),
            topic("payments", vec![]),
        ];
        if flexible {
            // A field from a future version, which must be skipped.
            m.unknown_tagged_fields
                .insert(999, Bytes::from_static(b"future"));
        }
        m
    }

    #[test]
    fn request_matches_oracle_in_every_version() {
        for version in VERSIONS {
            let m = oracle_request(version);
            let bytes = encode(&m, version);
            let ours = read_all(&bytes, version, AddPartitionsToTxnRequest::read);
            let expected = AddPartitionsToTxnRequest {
                transactional_id: m.v3_and_below_transactional_id.to_string(),
                producer_id: m.v3_and_below_producer_id.0,
                producer_epoch: m.v3_and_below_producer_epoch,
                topics: m
                    .v3_and_below_topics
                    .iter()
                    .map(|t| AddPartitionsToTxnTopic {
                        name: t.name.to_string(),
                        partitions: t.partitions.clone(),
                    })
                    .collect(),
            };
            assert_eq!(ours, expected, "v{version}");
        }
    }

    #[test]
    fn truncated_requests_are_errors() {
        assert_truncations_fail_in(
            VERSIONS,
            |version| encode(&oracle_request(version), version),
            AddPartitionsToTxnRequest::read,
        );
    }

    fn response() -> AddPartitionsToTxnResponse {
        let partition = |partition_index, partition_error_code| AddPartitionsToTxnPartitionResult {
            partition_index,
            partition_error_code,
        };
        AddPartitionsToTxnResponse {
            throttle_time_ms: 11,
            results_by_topic: vec![
                AddPartitionsToTxnTopicResult {
                    name: "orders".into(),
                    results_by_partition: vec![partition(0, 0), partition(3, 55)],
                },
                AddPartitionsToTxnTopicResult {
                    name: "payments".into(),
                    results_by_partition: vec![],
                },
            ],
        }
    }

    fn to_oracle(resp: &AddPartitionsToTxnResponse) -> KpResponse {
        let mut m = KpResponse::default();
        m.throttle_time_ms = resp.throttle_time_ms;
        m.results_by_topic_v3_and_below = resp
            .results_by_topic
            .iter()
            .map(|topic| {
                let mut t = kp_resp::AddPartitionsToTxnTopicResult::default();
                t.name = StrBytes::from(topic.name.clone()).into();
                t.results_by_partition = topic
                    .results_by_partition
                    .iter()
                    .map(|partition| {
                        let mut p = kp_resp::AddPartitionsToTxnPartitionResult::default();
                        p.partition_index = partition.partition_index;
                        p.partition_error_code = partition.partition_error_code;
                        p
                    })
                    .collect();
                t
            })
            .collect();
        m
    }

    #[test]
    fn response_matches_oracle_in_every_version() {
        for version in VERSIONS {
            let resp = response();
            let bytes = write(&resp, version, AddPartitionsToTxnResponse::write);
            let decoded: KpResponse = decode(&bytes, version);
            assert_eq!(decoded, to_oracle(&resp), "v{version}");
        }
    }
}

//! DescribeProducers (key 61), version 0: an admin tool asks a partition
//! leader which producers currently have state on a partition, including any
//! transaction they hold open (KIP-664). Its purpose is finding the producer
//! behind a "hanging" transaction, one whose open transaction pins the last
//! stable offset and so stalls every `read_committed` consumer.
//!
//! Flexible from v0.

use crate::protocol::primitives::{Reader, Result, Writer};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribeProducersRequestTopic {
    pub name: String,
    pub partition_indexes: Vec<i32>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribeProducersRequest {
    pub topics: Vec<DescribeProducersRequestTopic>,
}

impl DescribeProducersRequest {
    pub fn read(r: &mut Reader<'_>, _version: i16) -> Result<Self> {
        let flexible = true;
        let req = DescribeProducersRequest {
            topics: r.array(flexible, |r| {
                let topic = DescribeProducersRequestTopic {
                    name: r.string(flexible)?,
                    partition_indexes: r.array(flexible, |r| r.i32())?,
                };
                r.skip_tagged_fields(flexible)?;
                Ok(topic)
            })?,
        };
        r.skip_tagged_fields(flexible)?;
        Ok(req)
    }
}

/// What the partition leader remembers about one producer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveProducer {
    pub producer_id: i64,
    /// An i32 on the wire here, although producer epochs are i16 elsewhere.
    pub producer_epoch: i32,
    /// The sequence number of the producer's last appended record, or -1.
    pub last_sequence: i32,
    /// The timestamp of the producer's last appended batch, or -1.
    pub last_timestamp: i64,
    /// The epoch of the transaction coordinator that last wrote a marker for
    /// this producer.
    pub coordinator_epoch: i32,
    /// The offset of the first record of the producer's open transaction, or
    /// -1 when it has none.
    pub current_txn_start_offset: i64,
}

impl Default for ActiveProducer {
    fn default() -> Self {
        ActiveProducer {
            producer_id: 0,
            producer_epoch: 0,
            last_sequence: -1,
            last_timestamp: -1,
            coordinator_epoch: 0,
            current_txn_start_offset: -1,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribeProducersResponsePartition {
    pub partition_index: i32,
    pub error_code: i16,
    pub error_message: Option<String>,
    pub active_producers: Vec<ActiveProducer>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribeProducersResponseTopic {
    pub name: String,
    pub partitions: Vec<DescribeProducersResponsePartition>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribeProducersResponse {
    pub throttle_time_ms: i32,
    pub topics: Vec<DescribeProducersResponseTopic>,
}

impl DescribeProducersResponse {
    pub fn write(&self, w: &mut Writer, _version: i16) {
        let flexible = true;
        w.i32(self.throttle_time_ms);
        w.array(flexible, &self.topics, |w, topic| {
            w.string(flexible, &topic.name);
            w.array(flexible, &topic.partitions, |w, partition| {
                w.i32(partition.partition_index);
                w.i16(partition.error_code);
                w.nullable_string(flexible, partition.error_message.as_deref());
                w.array(flexible, &partition.active_producers, |w, producer| {
                    w.i64(producer.producer_id);
                    w.i32(producer.producer_epoch);
                    w.i32(producer.last_sequence);
                    w.i64(producer.last_timestamp);
                    w.i32(producer.coordinator_epoch);
                    w.i64(producer.current_txn_start_offset);
                    w.empty_tagged_fields(flexible);
                });
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
    use kafka_protocol::messages::describe_producers_request as kp_req;
    use kafka_protocol::messages::describe_producers_response as kp_resp;
    use kafka_protocol::messages::{
        DescribeProducersRequest as KpRequest, DescribeProducersResponse as KpResponse,
    };
    use kafka_protocol::protocol::StrBytes;

    const VERSIONS: std::ops::RangeInclusive<i16> = 0..=0;

    fn oracle_request() -> KpRequest {
        let topic = |name: &'static str, partition_indexes: Vec<i32>| {
            let mut t = kp_req::TopicRequest::default();
            t.name = StrBytes::from_static_str(name).into();
            t.partition_indexes = partition_indexes;
            t.unknown_tagged_fields.insert(5, Bytes::from_static(b"x"));
            t
        };
        let mut m = KpRequest::default();
        m.topics = vec![topic("orders", vec![0, 3, 9]), topic("payments", vec![])];
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
            let ours = read_all(&bytes, version, DescribeProducersRequest::read);
            let expected = DescribeProducersRequest {
                topics: m
                    .topics
                    .iter()
                    .map(|t| DescribeProducersRequestTopic {
                        name: t.name.to_string(),
                        partition_indexes: t.partition_indexes.clone(),
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
            |version| encode(&oracle_request(), version),
            DescribeProducersRequest::read,
        );
    }

    fn response() -> DescribeProducersResponse {
        let producer = |producer_id| ActiveProducer {
            producer_id,
            producer_epoch: 3,
            last_sequence: 41,
            last_timestamp: 1_700_000_000_000,
            coordinator_epoch: 2,
            current_txn_start_offset: 1_000,
        };
        DescribeProducersResponse {
            throttle_time_ms: 11,
            topics: vec![
                DescribeProducersResponseTopic {
                    name: "orders".into(),
                    partitions: vec![
                        DescribeProducersResponsePartition {
                            partition_index: 0,
                            error_code: 0,
                            error_message: None,
                            active_producers: vec![
                                producer(4_000_000_123),
                                ActiveProducer {
                                    producer_id: 5,
                                    ..Default::default()
                                },
                            ],
                        },
                        DescribeProducersResponsePartition {
                            partition_index: 3,
                            error_code: 6,
                            error_message: Some("not the leader".into()),
                            active_producers: vec![],
                        },
                    ],
                },
                DescribeProducersResponseTopic {
                    name: "payments".into(),
                    partitions: vec![],
                },
            ],
        }
    }

    fn to_oracle(resp: &DescribeProducersResponse) -> KpResponse {
        let mut m = KpResponse::default();
        m.throttle_time_ms = resp.throttle_time_ms;
        m.topics = resp
            .topics
            .iter()
            .map(|topic| {
                let mut t = kp_resp::TopicResponse::default();
                t.name = StrBytes::from(topic.name.clone()).into();
                t.partitions = topic
                    .partitions
                    .iter()
                    .map(|partition| {
                        let mut p = kp_resp::PartitionResponse::default();
                        p.partition_index = partition.partition_index;
                        p.error_code = partition.error_code;
                        p.error_message = partition.error_message.clone().map(StrBytes::from);
                        p.active_producers = partition
                            .active_producers
                            .iter()
                            .map(|producer| {
                                let mut s = kp_resp::ProducerState::default();
                                s.producer_id = producer.producer_id.into();
                                s.producer_epoch = producer.producer_epoch;
                                s.last_sequence = producer.last_sequence;
                                s.last_timestamp = producer.last_timestamp;
                                s.coordinator_epoch = producer.coordinator_epoch;
                                s.current_txn_start_offset = producer.current_txn_start_offset;
                                s
                            })
                            .collect();
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
            let bytes = write(&resp, version, DescribeProducersResponse::write);
            let decoded: KpResponse = decode(&bytes, version);
            assert_eq!(decoded, to_oracle(&resp), "v{version}");
        }
    }
}

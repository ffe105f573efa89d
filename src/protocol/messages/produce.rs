//! Produce (key 0), versions 3-11: append record batches to partitions.
//! Flexible from v9. v3 is the first version that carries record batch v2
//! (magic 2), the only format this broker stores.
//!
//! The records stay as the raw bytes the client sent; decoding and
//! validating batches is [`crate::protocol::records`]' job.

use crate::protocol::primitives::{Reader, Result, Writer};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProduceRequest {
    /// The transactional id of a transactional producer, null otherwise.
    pub transactional_id: Option<String>,
    /// How many acknowledgements the leader needs before answering:
    /// 0 (none, and no response at all), 1 (the leader) or -1 (all ISRs).
    pub acks: i16,
    /// How long the leader may wait for the acknowledgements.
    pub timeout_ms: i32,
    pub topic_data: Vec<TopicProduceData>,
}

impl Default for ProduceRequest {
    fn default() -> Self {
        ProduceRequest {
            transactional_id: None,
            acks: -1,
            timeout_ms: 0,
            topic_data: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TopicProduceData {
    pub name: String,
    pub partition_data: Vec<PartitionProduceData>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartitionProduceData {
    pub index: i32,
    /// The encoded record batches, or null.
    pub records: Option<Vec<u8>>,
}

impl ProduceRequest {
    pub fn read(r: &mut Reader<'_>, version: i16) -> Result<Self> {
        let flexible = version >= 9;
        let transactional_id = r.nullable_string(flexible)?;
        let acks = r.i16()?;
        let timeout_ms = r.i32()?;
        let topic_data = r.array(flexible, |r| {
            let name = r.string(flexible)?;
            let partition_data = r.array(flexible, |r| {
                let index = r.i32()?;
                let records = r.nullable_bytes(flexible)?.map(<[u8]>::to_vec);
                r.skip_tagged_fields(flexible)?;
                Ok(PartitionProduceData { index, records })
            })?;
            r.skip_tagged_fields(flexible)?;
            Ok(TopicProduceData {
                name,
                partition_data,
            })
        })?;
        r.skip_tagged_fields(flexible)?;
        Ok(ProduceRequest {
            transactional_id,
            acks,
            timeout_ms,
            topic_data,
        })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProduceResponse {
    pub responses: Vec<TopicProduceResponse>,
    pub throttle_time_ms: i32,
    /// v10+, tagged field 0: endpoints of the brokers named in any
    /// `current_leader`, so the client can redirect without a Metadata round
    /// trip (KIP-951). Written only when non-empty.
    pub node_endpoints: Vec<NodeEndpoint>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TopicProduceResponse {
    pub name: String,
    pub partition_responses: Vec<PartitionProduceResponse>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionProduceResponse {
    pub index: i32,
    pub error_code: i16,
    /// The offset given to the first record appended.
    pub base_offset: i64,
    /// The append time when the topic uses `LogAppendTime`, -1 otherwise.
    pub log_append_time_ms: i64,
    /// v5+: the partition's log start offset.
    pub log_start_offset: i64,
    /// v8+: which batches made the request fail (KIP-467).
    pub record_errors: Vec<BatchIndexAndErrorMessage>,
    /// v8+: a message for the error code, null if none.
    pub error_message: Option<String>,
    /// v10+, tagged field 0: the new leader after NOT_LEADER_OR_FOLLOWER
    /// (KIP-951). Written only when it differs from the default.
    pub current_leader: LeaderIdAndEpoch,
}

impl Default for PartitionProduceResponse {
    fn default() -> Self {
        PartitionProduceResponse {
            index: 0,
            error_code: 0,
            base_offset: 0,
            log_append_time_ms: -1,
            log_start_offset: -1,
            record_errors: Vec::new(),
            error_message: None,
            current_leader: LeaderIdAndEpoch::default(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchIndexAndErrorMessage {
    /// The index of the failing record within the batch.
    pub batch_index: i32,
    pub batch_index_error_message: Option<String>,
}

/// A partition leader and its epoch; shared by the Produce and Fetch
/// responses, where it is a tagged field and only written when it differs
/// from the default (-1, -1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaderIdAndEpoch {
    pub leader_id: i32,
    pub leader_epoch: i32,
}

impl Default for LeaderIdAndEpoch {
    fn default() -> Self {
        LeaderIdAndEpoch {
            leader_id: -1,
            leader_epoch: -1,
        }
    }
}

impl LeaderIdAndEpoch {
    /// Encodes the value of the tagged field (always a flexible struct).
    pub(crate) fn tagged_value(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.i32(self.leader_id);
        w.i32(self.leader_epoch);
        w.empty_tagged_fields(true);
        w.into_inner()
    }
}

/// How to reach a broker; shared by the Produce and Fetch responses
/// (KIP-951).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeEndpoint {
    pub node_id: i32,
    pub host: String,
    pub port: i32,
    pub rack: Option<String>,
}

impl NodeEndpoint {
    /// Encodes a list of endpoints as the value of a tagged field.
    pub(crate) fn tagged_value(endpoints: &[NodeEndpoint]) -> Vec<u8> {
        let mut w = Writer::new();
        w.array(true, endpoints, |w, e| {
            w.i32(e.node_id);
            w.string(true, &e.host);
            w.i32(e.port);
            w.nullable_string(true, e.rack.as_deref());
            w.empty_tagged_fields(true);
        });
        w.into_inner()
    }
}

impl ProduceResponse {
    pub fn write(&self, w: &mut Writer, version: i16) {
        let flexible = version >= 9;
        w.array(flexible, &self.responses, |w, topic| {
            w.string(flexible, &topic.name);
            w.array(flexible, &topic.partition_responses, |w, p| {
                p.write(w, version)
            });
            w.empty_tagged_fields(flexible);
        });
        w.i32(self.throttle_time_ms);
        let mut tagged = Vec::new();
        if version >= 10 && !self.node_endpoints.is_empty() {
            tagged.push((0, NodeEndpoint::tagged_value(&self.node_endpoints)));
        }
        w.tagged_fields(flexible, &tagged);
    }
}

impl PartitionProduceResponse {
    fn write(&self, w: &mut Writer, version: i16) {
        let flexible = version >= 9;
        w.i32(self.index);
        w.i16(self.error_code);
        w.i64(self.base_offset);
        w.i64(self.log_append_time_ms);
        if version >= 5 {
            w.i64(self.log_start_offset);
        }
        if version >= 8 {
            w.array(flexible, &self.record_errors, |w, e| {
                w.i32(e.batch_index);
                w.nullable_string(flexible, e.batch_index_error_message.as_deref());
                w.empty_tagged_fields(flexible);
            });
            w.nullable_string(flexible, self.error_message.as_deref());
        }
        let mut tagged = Vec::new();
        if version >= 10 && self.current_leader != LeaderIdAndEpoch::default() {
            tagged.push((0, self.current_leader.tagged_value()));
        }
        w.tagged_fields(flexible, &tagged);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::oracle::*;
    use kafka_protocol::messages::produce_request as kreq;
    use kafka_protocol::messages::produce_response as kres;
    use kafka_protocol::messages::{BrokerId, TopicName, TransactionalId};

    const VERSIONS: std::ops::RangeInclusive<i16> = 3..=11;

    fn sample_request(version: i16) -> ProduceRequest {
        ProduceRequest {
            transactional_id: (version % 2 == 0).then(|| "txn-1".to_owned()),
            acks: 1,
            timeout_ms: 30_000,
            topic_data: vec![
                TopicProduceData {
                    name: "orders".into(),
                    partition_data: vec![
                        PartitionProduceData {
                            index: 0,
                            records: Some(vec![1, 2, 3, 4]),
                        },
                        PartitionProduceData {
                            index: 5,
                            records: None,
                        },
                    ],
                },
                TopicProduceData {
                    name: "payments".into(),
                    partition_data: vec![PartitionProduceData {
                        index: 2,
                        records: Some(Vec::new()),
                    }],
                },
            ],
        }
    }

    fn encode_request(req: &ProduceRequest, version: i16) -> Vec<u8> {
        let oracle = kreq::ProduceRequest::default()
            .with_transactional_id(
                req.transactional_id
                    .as_deref()
                    .map(|t| TransactionalId(s(t))),
            )
            .with_acks(req.acks)
            .with_timeout_ms(req.timeout_ms)
            .with_topic_data(
                req.topic_data
                    .iter()
                    .map(|t| {
                        kreq::TopicProduceData::default()
                            .with_name(TopicName(s(&t.name)))
                            .with_partition_data(
                                t.partition_data
                                    .iter()
                                    .map(|p| {
                                        kreq::PartitionProduceData::default()
                                            .with_index(p.index)
                                            .with_records(p.records.clone().map(Into::into))
                                    })
                                    .collect(),
                            )
                    })
                    .collect(),
            );
        encode(&oracle, version)
    }

    #[test]
    fn reads_every_request_version_encoded_by_the_oracle() {
        for version in VERSIONS {
            let expected = sample_request(version);
            let buf = encode_request(&expected, version);
            assert_eq!(
                read_all(&buf, version, ProduceRequest::read),
                expected,
                "v{version}"
            );
        }
    }

    #[test]
    fn truncated_requests_are_errors() {
        assert_truncations_fail_in(
            VERSIONS,
            |version| encode_request(&sample_request(version), version),
            ProduceRequest::read,
        );
    }

    fn sample_response(version: i16) -> ProduceResponse {
        let moved = PartitionProduceResponse {
            index: 1,
            error_code: 6,
            current_leader: if version >= 10 {
                LeaderIdAndEpoch {
                    leader_id: 2,
                    leader_epoch: 9,
                }
            } else {
                LeaderIdAndEpoch::default()
            },
            ..PartitionProduceResponse::default()
        };
        let appended = PartitionProduceResponse {
            index: 0,
            error_code: if version >= 8 { 87 } else { 0 },
            base_offset: 1234,
            log_append_time_ms: 1_700_000_000_000,
            log_start_offset: if version >= 5 { 100 } else { -1 },
            record_errors: if version >= 8 {
                vec![
                    BatchIndexAndErrorMessage {
                        batch_index: 3,
                        batch_index_error_message: Some("bad key".into()),
                    },
                    BatchIndexAndErrorMessage {
                        batch_index: 4,
                        batch_index_error_message: None,
                    },
                ]
            } else {
                Vec::new()
            },
            error_message: (version >= 8).then(|| "invalid record".into()),
            current_leader: LeaderIdAndEpoch::default(),
        };
        ProduceResponse {
            responses: vec![TopicProduceResponse {
                name: "orders".into(),
                partition_responses: vec![appended, moved],
            }],
            throttle_time_ms: 12,
            node_endpoints: if version >= 10 {
                vec![
                    NodeEndpoint {
                        node_id: 2,
                        host: "broker-2".into(),
                        port: 9093,
                        rack: Some("rack-b".into()),
                    },
                    NodeEndpoint {
                        node_id: 3,
                        host: "broker-3".into(),
                        port: 9094,
                        rack: None,
                    },
                ]
            } else {
                Vec::new()
            },
        }
    }

    fn to_oracle_response(res: &ProduceResponse) -> kres::ProduceResponse {
        kres::ProduceResponse::default()
            .with_responses(
                res.responses
                    .iter()
                    .map(|t| {
                        kres::TopicProduceResponse::default()
                            .with_name(TopicName(s(&t.name)))
                            .with_partition_responses(
                                t.partition_responses
                                    .iter()
                                    .map(|p| {
                                        kres::PartitionProduceResponse::default()
                                            .with_index(p.index)
                                            .with_error_code(p.error_code)
                                            .with_base_offset(p.base_offset)
                                            .with_log_append_time_ms(p.log_append_time_ms)
                                            .with_log_start_offset(p.log_start_offset)
                                            .with_record_errors(
                                                p.record_errors
                                                    .iter()
                                                    .map(|e| {
                                                        kres::BatchIndexAndErrorMessage::default()
                                                            .with_batch_index(e.batch_index)
                                                            .with_batch_index_error_message(
                                                                e.batch_index_error_message
                                                                    .as_deref()
                                                                    .map(s),
                                                            )
                                                    })
                                                    .collect(),
                                            )
                                            .with_error_message(p.error_message.as_deref().map(s))
                                            .with_current_leader(
                                                kres::LeaderIdAndEpoch::default()
                                                    .with_leader_id(BrokerId(
                                                        p.current_leader.leader_id,
                                                    ))
                                                    .with_leader_epoch(
                                                        p.current_leader.leader_epoch,
                                                    ),
                                            )
                                    })
                                    .collect(),
                            )
                    })
                    .collect(),
            )
            .with_throttle_time_ms(res.throttle_time_ms)
            .with_node_endpoints(
                res.node_endpoints
                    .iter()
                    .map(|e| {
                        kres::NodeEndpoint::default()
                            .with_node_id(BrokerId(e.node_id))
                            .with_host(s(&e.host))
                            .with_port(e.port)
                            .with_rack(e.rack.as_deref().map(s))
                    })
                    .collect(),
            )
    }

    #[test]
    fn every_response_version_is_read_back_by_the_oracle() {
        for version in VERSIONS {
            let res = sample_response(version);
            let bytes = write(&res, version, ProduceResponse::write);
            let decoded: kres::ProduceResponse = decode(&bytes, version);
            let oracle = to_oracle_response(&res);
            assert_eq!(decoded, oracle, "v{version}");
            // Byte equality also proves that tagged fields holding their
            // default are left out, as Kafka does.
            let expected = encode(&oracle, version);
            assert_eq!(bytes, expected, "v{version}");
        }
    }
}

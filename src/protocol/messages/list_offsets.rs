//! ListOffsets (key 2), versions 1-9: find an offset by timestamp. Flexible
//! from v6.
//!
//! Consumers use it to reset their position: timestamp -2 asks for the
//! earliest offset, -1 for the latest, -3 for the offset of the record with
//! the largest timestamp (KIP-734, v7+), -4 for the local log start (KIP-405,
//! v8+) and -5 for the latest tiered offset (KIP-1005, v9+). Any other
//! value asks for the first offset whose timestamp is at least that value.

use crate::protocol::primitives::{Reader, Result, Writer};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListOffsetsRequest {
    /// The asking follower's broker id, -1 for a consumer.
    pub replica_id: i32,
    /// v2+: 0 = READ_UNCOMMITTED, 1 = READ_COMMITTED ("latest" then means
    /// the last stable offset).
    pub isolation_level: i8,
    pub topics: Vec<ListOffsetsTopic>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListOffsetsTopic {
    pub name: String,
    pub partitions: Vec<ListOffsetsPartition>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListOffsetsPartition {
    pub partition_index: i32,
    /// v4+: the leader epoch the client knows (KIP-320), -1 if unknown.
    pub current_leader_epoch: i32,
    /// The timestamp to look up, or one of the special values above.
    pub timestamp: i64,
}

impl Default for ListOffsetsPartition {
    fn default() -> Self {
        ListOffsetsPartition {
            partition_index: 0,
            current_leader_epoch: -1,
            timestamp: 0,
        }
    }
}

impl ListOffsetsRequest {
    pub fn read(r: &mut Reader<'_>, version: i16) -> Result<Self> {
        let flexible = version >= 6;
        let replica_id = r.i32()?;
        let isolation_level = if version >= 2 { r.i8()? } else { 0 };
        let topics = r.array(flexible, |r| {
            let name = r.string(flexible)?;
            let partitions = r.array(flexible, |r| {
                let mut p = ListOffsetsPartition {
                    partition_index: r.i32()?,
                    ..ListOffsetsPartition::default()
                };
                if version >= 4 {
                    p.current_leader_epoch = r.i32()?;
                }
                p.timestamp = r.i64()?;
                r.skip_tagged_fields(flexible)?;
                Ok(p)
            })?;
            r.skip_tagged_fields(flexible)?;
            Ok(ListOffsetsTopic { name, partitions })
        })?;
        r.skip_tagged_fields(flexible)?;
        Ok(ListOffsetsRequest {
            replica_id,
            isolation_level,
            topics,
        })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListOffsetsResponse {
    /// v2+
    pub throttle_time_ms: i32,
    pub topics: Vec<ListOffsetsTopicResponse>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListOffsetsTopicResponse {
    pub name: String,
    pub partitions: Vec<ListOffsetsPartitionResponse>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListOffsetsPartitionResponse {
    pub partition_index: i32,
    pub error_code: i16,
    /// The timestamp of the record found, -1 if none or not applicable.
    pub timestamp: i64,
    /// The offset found, -1 if none.
    pub offset: i64,
    /// v4+: the leader epoch of the record found, -1 if unknown.
    pub leader_epoch: i32,
}

impl Default for ListOffsetsPartitionResponse {
    fn default() -> Self {
        ListOffsetsPartitionResponse {
            partition_index: 0,
            error_code: 0,
            timestamp: -1,
            offset: -1,
            leader_epoch: -1,
        }
    }
}

impl ListOffsetsResponse {
    pub fn write(&self, w: &mut Writer, version: i16) {
        let flexible = version >= 6;
        if version >= 2 {
            w.i32(self.throttle_time_ms);
        }
        w.array(flexible, &self.topics, |w, topic| {
            w.string(flexible, &topic.name);
            w.array(flexible, &topic.partitions, |w, p| {
                w.i32(p.partition_index);
                w.i16(p.error_code);
                w.i64(p.timestamp);
                w.i64(p.offset);
                if version >= 4 {
                    w.i32(p.leader_epoch);
                }
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
    use kafka_protocol::messages::list_offsets_request as kreq;
    use kafka_protocol::messages::list_offsets_response as kres;
    use kafka_protocol::messages::{BrokerId, TopicName};

    const VERSIONS: std::ops::RangeInclusive<i16> = 1..=9;

    fn sample_request(version: i16) -> ListOffsetsRequest {
        ListOffsetsRequest {
            replica_id: -1,
            isolation_level: if version >= 2 { 1 } else { 0 },
            topics: vec![
                ListOffsetsTopic {
                    name: "orders".into(),
                    partitions: vec![
                        ListOffsetsPartition {
                            partition_index: 0,
                            current_leader_epoch: if version >= 4 { 7 } else { -1 },
                            timestamp: -2,
                        },
                        ListOffsetsPartition {
                            partition_index: 1,
                            current_leader_epoch: -1,
                            timestamp: 1_700_000_000_000,
                        },
                    ],
                },
                ListOffsetsTopic {
                    name: "empty".into(),
                    partitions: Vec::new(),
                },
            ],
        }
    }

    fn encode_request(req: &ListOffsetsRequest, version: i16) -> Vec<u8> {
        let oracle = kreq::ListOffsetsRequest::default()
            .with_replica_id(BrokerId(req.replica_id))
            .with_isolation_level(req.isolation_level)
            .with_topics(
                req.topics
                    .iter()
                    .map(|t| {
                        kreq::ListOffsetsTopic::default()
                            .with_name(TopicName(s(&t.name)))
                            .with_partitions(
                                t.partitions
                                    .iter()
                                    .map(|p| {
                                        kreq::ListOffsetsPartition::default()
                                            .with_partition_index(p.partition_index)
                                            .with_current_leader_epoch(p.current_leader_epoch)
                                            .with_timestamp(p.timestamp)
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
                read_all(&buf, version, ListOffsetsRequest::read),
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
            ListOffsetsRequest::read,
        );
    }

    fn sample_response(version: i16) -> ListOffsetsResponse {
        ListOffsetsResponse {
            throttle_time_ms: if version >= 2 { 9 } else { 0 },
            topics: vec![ListOffsetsTopicResponse {
                name: "orders".into(),
                partitions: vec![
                    ListOffsetsPartitionResponse {
                        partition_index: 0,
                        error_code: 0,
                        timestamp: 1_700_000_000_123,
                        offset: 4242,
                        leader_epoch: if version >= 4 { 7 } else { -1 },
                    },
                    ListOffsetsPartitionResponse {
                        partition_index: 1,
                        error_code: 6,
                        ..ListOffsetsPartitionResponse::default()
                    },
                ],
            }],
        }
    }

    fn to_oracle_response(res: &ListOffsetsResponse) -> kres::ListOffsetsResponse {
        kres::ListOffsetsResponse::default()
            .with_throttle_time_ms(res.throttle_time_ms)
            .with_topics(
                res.topics
                    .iter()
                    .map(|t| {
                        kres::ListOffsetsTopicResponse::default()
                            .with_name(TopicName(s(&t.name)))
                            .with_partitions(
                                t.partitions
                                    .iter()
                                    .map(|p| {
                                        kres::ListOffsetsPartitionResponse::default()
                                            .with_partition_index(p.partition_index)
                                            .with_error_code(p.error_code)
                                            .with_timestamp(p.timestamp)
                                            .with_offset(p.offset)
                                            .with_leader_epoch(p.leader_epoch)
                                    })
                                    .collect(),
                            )
                    })
                    .collect(),
            )
    }

    #[test]
    fn every_response_version_is_read_back_by_the_oracle() {
        for version in VERSIONS {
            let res = sample_response(version);
            let bytes = write(&res, version, ListOffsetsResponse::write);
            let decoded: kres::ListOffsetsResponse = decode(&bytes, version);
            let oracle = to_oracle_response(&res);
            assert_eq!(decoded, oracle, "v{version}");
            let expected = encode(&oracle, version);
            assert_eq!(bytes, expected, "v{version}");
        }
    }
}

//! OffsetForLeaderEpoch (key 23), versions 2-4: the end offset of a leader
//! epoch. Flexible from v4.
//!
//! After a leader change a consumer asks for the end offset of the epoch
//! of the last record it consumed; if the log was truncated below its
//! position it detects it and resets instead of silently skipping or
//! re-reading data (KIP-320).

use crate::protocol::primitives::{Reader, Result, Writer};

/// The `replica_id` read from v2, which has no such field: Kafka's schema
/// default, its "debugging" replica id (consumers send -1 from v3).
pub const REPLICA_ID_ABSENT: i32 = -2;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetForLeaderEpochRequest {
    /// v3+: the follower's broker id, -1 for a consumer, or
    /// [`REPLICA_ID_ABSENT`] in v2.
    pub replica_id: i32,
    pub topics: Vec<OffsetForLeaderTopic>,
}

impl Default for OffsetForLeaderEpochRequest {
    fn default() -> Self {
        OffsetForLeaderEpochRequest {
            replica_id: REPLICA_ID_ABSENT,
            topics: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OffsetForLeaderTopic {
    pub topic: String,
    pub partitions: Vec<OffsetForLeaderPartition>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OffsetForLeaderPartition {
    pub partition: i32,
    /// The leader epoch the client knows, to fence a stale leader; -1 if
    /// unknown.
    pub current_leader_epoch: i32,
    /// The epoch whose end offset is wanted.
    pub leader_epoch: i32,
}

impl OffsetForLeaderEpochRequest {
    pub fn read(r: &mut Reader<'_>, version: i16) -> Result<Self> {
        let flexible = version >= 4;
        let mut req = OffsetForLeaderEpochRequest::default();
        if version >= 3 {
            req.replica_id = r.i32()?;
        }
        req.topics = r.array(flexible, |r| {
            let topic = r.string(flexible)?;
            let partitions = r.array(flexible, |r| {
                let p = OffsetForLeaderPartition {
                    partition: r.i32()?,
                    current_leader_epoch: r.i32()?,
                    leader_epoch: r.i32()?,
                };
                r.skip_tagged_fields(flexible)?;
                Ok(p)
            })?;
            r.skip_tagged_fields(flexible)?;
            Ok(OffsetForLeaderTopic { topic, partitions })
        })?;
        r.skip_tagged_fields(flexible)?;
        Ok(req)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OffsetForLeaderEpochResponse {
    pub throttle_time_ms: i32,
    pub topics: Vec<OffsetForLeaderTopicResult>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OffsetForLeaderTopicResult {
    pub topic: String,
    pub partitions: Vec<EpochEndOffset>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EpochEndOffset {
    pub error_code: i16,
    pub partition: i32,
    /// The largest epoch not greater than the one asked for, -1 if none.
    pub leader_epoch: i32,
    /// The offset where that epoch ends, -1 if unknown.
    pub end_offset: i64,
}

impl Default for EpochEndOffset {
    fn default() -> Self {
        EpochEndOffset {
            error_code: 0,
            partition: 0,
            leader_epoch: -1,
            end_offset: -1,
        }
    }
}

impl OffsetForLeaderEpochResponse {
    pub fn write(&self, w: &mut Writer, version: i16) {
        let flexible = version >= 4;
        w.i32(self.throttle_time_ms);
        w.array(flexible, &self.topics, |w, topic| {
            w.string(flexible, &topic.topic);
            w.array(flexible, &topic.partitions, |w, p| {
                w.i16(p.error_code);
                w.i32(p.partition);
                w.i32(p.leader_epoch);
                w.i64(p.end_offset);
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
    use kafka_protocol::messages::offset_for_leader_epoch_request as kreq;
    use kafka_protocol::messages::offset_for_leader_epoch_response as kres;
    use kafka_protocol::messages::{BrokerId, TopicName};

    const VERSIONS: std::ops::RangeInclusive<i16> = 2..=4;

    fn sample_request(version: i16) -> OffsetForLeaderEpochRequest {
        OffsetForLeaderEpochRequest {
            replica_id: if version >= 3 { -1 } else { REPLICA_ID_ABSENT },
            topics: vec![OffsetForLeaderTopic {
                topic: "orders".into(),
                partitions: vec![
                    OffsetForLeaderPartition {
                        partition: 0,
                        current_leader_epoch: 9,
                        leader_epoch: 7,
                    },
                    OffsetForLeaderPartition {
                        partition: 2,
                        current_leader_epoch: -1,
                        leader_epoch: 3,
                    },
                ],
            }],
        }
    }

    fn encode_request(req: &OffsetForLeaderEpochRequest, version: i16) -> Vec<u8> {
        let oracle = kreq::OffsetForLeaderEpochRequest::default()
            .with_replica_id(BrokerId(req.replica_id))
            .with_topics(
                req.topics
                    .iter()
                    .map(|t| {
                        kreq::OffsetForLeaderTopic::default()
                            .with_topic(TopicName(s(&t.topic)))
                            .with_partitions(
                                t.partitions
                                    .iter()
                                    .map(|p| {
                                        kreq::OffsetForLeaderPartition::default()
                                            .with_partition(p.partition)
                                            .with_current_leader_epoch(p.current_leader_epoch)
                                            .with_leader_epoch(p.leader_epoch)
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
            let got = read_all(&buf, version, OffsetForLeaderEpochRequest::read);
            assert_eq!(got, expected, "v{version}");
        }
    }

    #[test]
    fn truncated_requests_are_errors() {
        assert_truncations_fail_in(
            VERSIONS,
            |version| encode_request(&sample_request(version), version),
            OffsetForLeaderEpochRequest::read,
        );
    }

    fn sample_response() -> OffsetForLeaderEpochResponse {
        OffsetForLeaderEpochResponse {
            throttle_time_ms: 4,
            topics: vec![OffsetForLeaderTopicResult {
                topic: "orders".into(),
                partitions: vec![
                    EpochEndOffset {
                        error_code: 0,
                        partition: 0,
                        leader_epoch: 7,
                        end_offset: 1234,
                    },
                    EpochEndOffset {
                        error_code: 74,
                        partition: 2,
                        ..EpochEndOffset::default()
                    },
                ],
            }],
        }
    }

    fn to_oracle_response(
        res: &OffsetForLeaderEpochResponse,
    ) -> kres::OffsetForLeaderEpochResponse {
        kres::OffsetForLeaderEpochResponse::default()
            .with_throttle_time_ms(res.throttle_time_ms)
            .with_topics(
                res.topics
                    .iter()
                    .map(|t| {
                        kres::OffsetForLeaderTopicResult::default()
                            .with_topic(TopicName(s(&t.topic)))
                            .with_partitions(
                                t.partitions
                                    .iter()
                                    .map(|p| {
                                        kres::EpochEndOffset::default()
                                            .with_error_code(p.error_code)
                                            .with_partition(p.partition)
                                            .with_leader_epoch(p.leader_epoch)
                                            .with_end_offset(p.end_offset)
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
            let res = sample_response();
            let bytes = write(&res, version, OffsetForLeaderEpochResponse::write);
            let decoded: kres::OffsetForLeaderEpochResponse = decode(&bytes, version);
            let oracle = to_oracle_response(&res);
            assert_eq!(decoded, oracle, "v{version}");
            let expected = encode(&oracle, version);
            assert_eq!(bytes, expected, "v{version}");
        }
    }
}

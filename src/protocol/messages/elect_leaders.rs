//! ElectLeaders (key 43), versions 0-2: ask the controller to elect the
//! preferred (or, v1+, an unclean) leader for partitions (KIP-460).
//! Flexible from v2.

use crate::protocol::primitives::{Reader, Result, Writer};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ElectLeadersRequest {
    /// v1+: 0 = preferred, 1 = unclean. Always preferred in v0.
    pub election_type: i8,
    /// The partitions; null for every partition.
    pub topic_partitions: Option<Vec<TopicPartitions>>,
    pub timeout_ms: i32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TopicPartitions {
    pub topic: String,
    pub partitions: Vec<i32>,
}

impl ElectLeadersRequest {
    pub fn read(r: &mut Reader<'_>, version: i16) -> Result<Self> {
        let flexible = version >= 2;
        let election_type = if version >= 1 { r.i8()? } else { 0 };
        let topic_partitions = r.nullable_array(flexible, |r| {
            let topic = r.string(flexible)?;
            let partitions = r.array(flexible, |r| r.i32())?;
            r.skip_tagged_fields(flexible)?;
            Ok(TopicPartitions { topic, partitions })
        })?;
        let timeout_ms = r.i32()?;
        r.skip_tagged_fields(flexible)?;
        Ok(ElectLeadersRequest {
            election_type,
            topic_partitions,
            timeout_ms,
        })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ElectLeadersResponse {
    pub throttle_time_ms: i32,
    /// v1+: an error for the whole request.
    pub error_code: i16,
    pub replica_election_results: Vec<ReplicaElectionResult>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplicaElectionResult {
    pub topic: String,
    pub partition_result: Vec<PartitionResult>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartitionResult {
    pub partition_id: i32,
    pub error_code: i16,
    pub error_message: Option<String>,
}

impl ElectLeadersResponse {
    pub fn write(&self, w: &mut Writer, version: i16) {
        let flexible = version >= 2;
        w.i32(self.throttle_time_ms);
        if version >= 1 {
            w.i16(self.error_code);
        }
        w.array(flexible, &self.replica_election_results, |w, t| {
            w.string(flexible, &t.topic);
            w.array(flexible, &t.partition_result, |w, p| {
                w.i32(p.partition_id);
                w.i16(p.error_code);
                w.nullable_string(flexible, p.error_message.as_deref());
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
    use kafka_protocol::messages::elect_leaders_request as kreq;
    use kafka_protocol::messages::elect_leaders_response as kres;
    use kafka_protocol::messages::TopicName;

    const VERSIONS: std::ops::RangeInclusive<i16> = 0..=2;

    #[test]
    fn reads_every_request_version_encoded_by_the_oracle() {
        for version in VERSIONS {
            for topic_partitions in [
                None,
                Some(vec![TopicPartitions {
                    topic: "orders".into(),
                    partitions: vec![0, 1],
                }]),
            ] {
                let expected = ElectLeadersRequest {
                    election_type: if version >= 1 { 1 } else { 0 },
                    topic_partitions,
                    timeout_ms: 3000,
                };
                let oracle = oracle!(kreq::ElectLeadersRequest {
                    election_type: expected.election_type,
                    topic_partitions: expected.topic_partitions.as_ref().map(|ts| {
                        ts.iter()
                            .map(|t| {
                                oracle!(kreq::TopicPartitions {
                                    topic: TopicName(s(&t.topic)),
                                    partitions: t.partitions.clone(),
                                })
                            })
                            .collect()
                    }),
                    timeout_ms: 3000,
                });
                let buf = encode(&oracle, version);
                assert_eq!(
                    read_all(&buf, version, ElectLeadersRequest::read),
                    expected,
                    "v{version}"
                );
                assert_truncations_fail(&buf, version, ElectLeadersRequest::read);
            }
        }
    }

    #[test]
    fn every_response_version_is_read_back_by_the_oracle() {
        let res = ElectLeadersResponse {
            throttle_time_ms: 0,
            error_code: 0,
            replica_election_results: vec![ReplicaElectionResult {
                topic: "orders".into(),
                partition_result: vec![PartitionResult {
                    partition_id: 0,
                    error_code: 84,
                    error_message: Some("Leader election not needed for topic partition.".into()),
                }],
            }],
        };
        let oracle = oracle!(kres::ElectLeadersResponse {
            throttle_time_ms: 0,
            error_code: 0,
            replica_election_results: vec![oracle!(kres::ReplicaElectionResult {
                topic: TopicName(s("orders")),
                partition_result: vec![oracle!(kres::PartitionResult {
                    partition_id: 0,
                    error_code: 84,
                    error_message: Some(s("Leader election not needed for topic partition.")),
                })],
            })],
        });
        for version in VERSIONS {
            let bytes = write(&res, version, ElectLeadersResponse::write);
            let decoded: kres::ElectLeadersResponse = decode(&bytes, version);
            assert_eq!(decoded, oracle, "v{version}");
        }
    }
}

//! CreatePartitions (key 37), versions 0-3: grow topics to a new partition
//! count (KIP-195). Partitions can only be added, never removed. Flexible
//! from v2.

use crate::protocol::primitives::{Reader, Result, Writer};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreatePartitionsRequest {
    pub topics: Vec<CreatePartitionsTopic>,
    pub timeout_ms: i32,
    /// Check that the partitions could be created without creating them.
    pub validate_only: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreatePartitionsTopic {
    pub name: String,
    /// The new total partition count.
    pub count: i32,
    /// Replica brokers for each new partition; null to let the broker choose.
    pub assignments: Option<Vec<Vec<i32>>>,
}

impl CreatePartitionsRequest {
    pub fn read(r: &mut Reader<'_>, version: i16) -> Result<Self> {
        let flexible = version >= 2;
        let topics = r.array(flexible, |r| {
            let name = r.string(flexible)?;
            let count = r.i32()?;
            let assignments = r.nullable_array(flexible, |r| {
                let broker_ids = r.array(flexible, |r| r.i32())?;
                r.skip_tagged_fields(flexible)?;
                Ok(broker_ids)
            })?;
            r.skip_tagged_fields(flexible)?;
            Ok(CreatePartitionsTopic {
                name,
                count,
                assignments,
            })
        })?;
        let timeout_ms = r.i32()?;
        let validate_only = r.bool()?;
        r.skip_tagged_fields(flexible)?;
        Ok(CreatePartitionsRequest {
            topics,
            timeout_ms,
            validate_only,
        })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreatePartitionsResponse {
    pub throttle_time_ms: i32,
    pub results: Vec<CreatePartitionsTopicResult>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreatePartitionsTopicResult {
    pub name: String,
    pub error_code: i16,
    pub error_message: Option<String>,
}

impl CreatePartitionsResponse {
    pub fn write(&self, w: &mut Writer, version: i16) {
        let flexible = version >= 2;
        w.i32(self.throttle_time_ms);
        w.array(flexible, &self.results, |w, r| {
            w.string(flexible, &r.name);
            w.i16(r.error_code);
            w.nullable_string(flexible, r.error_message.as_deref());
            w.empty_tagged_fields(flexible);
        });
        w.empty_tagged_fields(flexible);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::oracle::*;
    use kafka_protocol::messages::create_partitions_request as kreq;
    use kafka_protocol::messages::create_partitions_response as kres;
    use kafka_protocol::messages::{BrokerId, TopicName};

    const VERSIONS: std::ops::RangeInclusive<i16> = 0..=3;

    fn sample_request() -> CreatePartitionsRequest {
        CreatePartitionsRequest {
            topics: vec![
                CreatePartitionsTopic {
                    name: "orders".into(),
                    count: 6,
                    assignments: None,
                },
                CreatePartitionsTopic {
                    name: "placed".into(),
                    count: 3,
                    assignments: Some(vec![vec![1], vec![1, 2]]),
                },
            ],
            timeout_ms: 5000,
            validate_only: true,
        }
    }

    fn encode_request(req: &CreatePartitionsRequest, version: i16) -> Vec<u8> {
        let oracle = oracle!(kreq::CreatePartitionsRequest {
            topics: req
                .topics
                .iter()
                .map(|t| oracle!(kreq::CreatePartitionsTopic {
                    name: TopicName(s(&t.name)),
                    count: t.count,
                    assignments: t.assignments.as_ref().map(|a| {
                        a.iter()
                            .map(|ids| {
                                oracle!(kreq::CreatePartitionsAssignment {
                                    broker_ids: ids.iter().copied().map(BrokerId).collect(),
                                })
                            })
                            .collect()
                    }),
                }))
                .collect(),
            timeout_ms: req.timeout_ms,
            validate_only: req.validate_only,
        });
        encode(&oracle, version)
    }

    #[test]
    fn reads_every_request_version_encoded_by_the_oracle() {
        for version in VERSIONS {
            let expected = sample_request();
            let buf = encode_request(&expected, version);
            assert_eq!(
                read_all(&buf, version, CreatePartitionsRequest::read),
                expected,
                "v{version}"
            );
            assert_truncations_fail(&buf, version, CreatePartitionsRequest::read);
        }
    }

    #[test]
    fn every_response_version_is_read_back_by_the_oracle() {
        let res = CreatePartitionsResponse {
            throttle_time_ms: 0,
            results: vec![
                CreatePartitionsTopicResult {
                    name: "orders".into(),
                    error_code: 0,
                    error_message: None,
                },
                CreatePartitionsTopicResult {
                    name: "placed".into(),
                    error_code: 37,
                    error_message: Some(
                        "Topic currently has 3 partitions, which is higher than the requested 2."
                            .into(),
                    ),
                },
            ],
        };
        let oracle = oracle!(kres::CreatePartitionsResponse {
            throttle_time_ms: 0,
            results: res
                .results
                .iter()
                .map(|r| oracle!(kres::CreatePartitionsTopicResult {
                    name: TopicName(s(&r.name)),
                    error_code: r.error_code,
                    error_message: r.error_message.as_deref().map(s),
                }))
                .collect(),
        });
        for version in VERSIONS {
            let bytes = write(&res, version, CreatePartitionsResponse::write);
            let decoded: kres::CreatePartitionsResponse = decode(&bytes, version);
            assert_eq!(decoded, oracle, "v{version}");
        }
    }
}

//! ListPartitionReassignments (key 46), version 0: the replica moves in
//! progress (KIP-455). Flexible in every version.

use crate::protocol::primitives::{Reader, Result, Writer};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListPartitionReassignmentsRequest {
    pub timeout_ms: i32,
    /// The partitions to list; null for all of them.
    pub topics: Option<Vec<ListPartitionReassignmentsTopic>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListPartitionReassignmentsTopic {
    pub name: String,
    pub partition_indexes: Vec<i32>,
}

impl ListPartitionReassignmentsRequest {
    pub fn read(r: &mut Reader<'_>, _version: i16) -> Result<Self> {
        let timeout_ms = r.i32()?;
        let topics = r.nullable_array(true, |r| {
            let name = r.string(true)?;
            let partition_indexes = r.array(true, |r| r.i32())?;
            r.skip_tagged_fields(true)?;
            Ok(ListPartitionReassignmentsTopic {
                name,
                partition_indexes,
            })
        })?;
        r.skip_tagged_fields(true)?;
        Ok(ListPartitionReassignmentsRequest { timeout_ms, topics })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListPartitionReassignmentsResponse {
    pub throttle_time_ms: i32,
    pub error_code: i16,
    pub error_message: Option<String>,
    pub topics: Vec<OngoingTopicReassignment>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OngoingTopicReassignment {
    pub name: String,
    pub partitions: Vec<OngoingPartitionReassignment>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OngoingPartitionReassignment {
    pub partition_index: i32,
    pub replicas: Vec<i32>,
    pub adding_replicas: Vec<i32>,
    pub removing_replicas: Vec<i32>,
}

impl ListPartitionReassignmentsResponse {
    pub fn write(&self, w: &mut Writer, _version: i16) {
        w.i32(self.throttle_time_ms);
        w.i16(self.error_code);
        w.nullable_string(true, self.error_message.as_deref());
        w.array(true, &self.topics, |w, t| {
            w.string(true, &t.name);
            w.array(true, &t.partitions, |w, p| {
                w.i32(p.partition_index);
                w.array(true, &p.replicas, |w, id| w.i32(*id));
                w.array(true, &p.adding_replicas, |w, id| w.i32(*id));
                w.array(true, &p.removing_replicas, |w, id| w.i32(*id));
                w.empty_tagged_fields(true);
            });
            w.empty_tagged_fields(true);
        });
        w.empty_tagged_fields(true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::oracle::*;
    use kafka_protocol::messages::list_partition_reassignments_request as kreq;
    use kafka_protocol::messages::list_partition_reassignments_response as kres;
    use kafka_protocol::messages::{BrokerId, TopicName};

    #[test]
    fn reads_the_request_encoded_by_the_oracle() {
        for topics in [
            None,
            Some(vec![ListPartitionReassignmentsTopic {
                name: "orders".into(),
                partition_indexes: vec![0, 4],
            }]),
        ] {
            let oracle = oracle!(kreq::ListPartitionReassignmentsRequest {
                timeout_ms: 60_000,
                topics: topics.as_ref().map(|ts| {
                    ts.iter()
                        .map(|t| {
                            oracle!(kreq::ListPartitionReassignmentsTopics {
                                name: TopicName(s(&t.name)),
                                partition_indexes: t.partition_indexes.clone(),
                            })
                        })
                        .collect()
                }),
            });
            let buf = encode(&oracle, 0);
            let expected = ListPartitionReassignmentsRequest {
                timeout_ms: 60_000,
                topics,
            };
            assert_eq!(
                read_all(&buf, 0, ListPartitionReassignmentsRequest::read),
                expected
            );
            assert_truncations_fail(&buf, 0, ListPartitionReassignmentsRequest::read);
        }
    }

    #[test]
    fn the_response_is_read_back_by_the_oracle() {
        let res = ListPartitionReassignmentsResponse {
            throttle_time_ms: 0,
            error_code: 0,
            error_message: None,
            topics: vec![OngoingTopicReassignment {
                name: "orders".into(),
                partitions: vec![OngoingPartitionReassignment {
                    partition_index: 2,
                    replicas: vec![1, 2],
                    adding_replicas: vec![2],
                    removing_replicas: Vec::new(),
                }],
            }],
        };
        let oracle = oracle!(kres::ListPartitionReassignmentsResponse {
            error_message: None,
            topics: vec![oracle!(kres::OngoingTopicReassignment {
                name: TopicName(s("orders")),
                partitions: vec![oracle!(kres::OngoingPartitionReassignment {
                    partition_index: 2,
                    replicas: vec![BrokerId(1), BrokerId(2)],
                    adding_replicas: vec![BrokerId(2)],
                    removing_replicas: Vec::new(),
                })],
            })],
        });
        let bytes = write(&res, 0, ListPartitionReassignmentsResponse::write);
        let decoded: kres::ListPartitionReassignmentsResponse = decode(&bytes, 0);
        assert_eq!(decoded, oracle);
    }
}

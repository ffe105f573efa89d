//! DescribeTopicPartitions (key 75), version 0: topics and their
//! partitions, paginated with a cursor so a topic with many partitions need
//! not fit in one answer (KIP-966). Flexible in every version. Clients
//! (the Java AdminClient's describeTopics since 3.8) prefer it to Metadata.

use crate::protocol::primitives::{Reader, Result, Writer};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribeTopicPartitionsRequest {
    /// Topic names to describe; empty for every topic.
    pub topics: Vec<String>,
    /// Most partitions to return in this answer.
    pub response_partition_limit: i32,
    /// Where to start: the first topic and partition to return.
    pub cursor: Option<Cursor>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cursor {
    pub topic_name: String,
    pub partition_index: i32,
}

fn read_cursor(r: &mut Reader<'_>) -> Result<Option<Cursor>> {
    // A nullable struct: -1 for null, 1 followed by the struct.
    if r.i8()? < 0 {
        return Ok(None);
    }
    let topic_name = r.string(true)?;
    let partition_index = r.i32()?;
    r.skip_tagged_fields(true)?;
    Ok(Some(Cursor {
        topic_name,
        partition_index,
    }))
}

fn write_cursor(w: &mut Writer, cursor: Option<&Cursor>) {
    match cursor {
        None => w.i8(-1),
        Some(c) => {
            w.i8(1);
            w.string(true, &c.topic_name);
            w.i32(c.partition_index);
            w.empty_tagged_fields(true);
        }
    }
}

impl DescribeTopicPartitionsRequest {
    pub fn read(r: &mut Reader<'_>, _version: i16) -> Result<Self> {
        let topics = r.array(true, |r| {
            let name = r.string(true)?;
            r.skip_tagged_fields(true)?;
            Ok(name)
        })?;
        let response_partition_limit = r.i32()?;
        let cursor = read_cursor(r)?;
        r.skip_tagged_fields(true)?;
        Ok(DescribeTopicPartitionsRequest {
            topics,
            response_partition_limit,
            cursor,
        })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribeTopicPartitionsResponse {
    pub throttle_time_ms: i32,
    pub topics: Vec<DescribeTopicPartitionsTopic>,
    /// Where the next request should continue; null when done.
    pub next_cursor: Option<Cursor>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribeTopicPartitionsTopic {
    pub error_code: i16,
    pub name: Option<String>,
    pub topic_id: [u8; 16],
    pub is_internal: bool,
    pub partitions: Vec<DescribeTopicPartitionsPartition>,
    /// Bitfield of permitted ACL operations (KIP-430).
    pub topic_authorized_operations: i32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribeTopicPartitionsPartition {
    pub error_code: i16,
    pub partition_index: i32,
    pub leader_id: i32,
    pub leader_epoch: i32,
    pub replica_nodes: Vec<i32>,
    pub isr_nodes: Vec<i32>,
    /// Eligible leader replicas (KIP-966); null when the feature is off.
    pub eligible_leader_replicas: Option<Vec<i32>>,
    /// Last known eligible leader replicas; null when the feature is off.
    pub last_known_elr: Option<Vec<i32>>,
    pub offline_replicas: Vec<i32>,
}

impl DescribeTopicPartitionsResponse {
    pub fn write(&self, w: &mut Writer, _version: i16) {
        w.i32(self.throttle_time_ms);
        w.array(true, &self.topics, |w, t| {
            w.i16(t.error_code);
            w.nullable_string(true, t.name.as_deref());
            w.uuid(&t.topic_id);
            w.bool(t.is_internal);
            w.array(true, &t.partitions, |w, p| {
                w.i16(p.error_code);
                w.i32(p.partition_index);
                w.i32(p.leader_id);
                w.i32(p.leader_epoch);
                w.array(true, &p.replica_nodes, |w, id| w.i32(*id));
                w.array(true, &p.isr_nodes, |w, id| w.i32(*id));
                w.nullable_array(true, p.eligible_leader_replicas.as_deref(), |w, id| {
                    w.i32(*id)
                });
                w.nullable_array(true, p.last_known_elr.as_deref(), |w, id| w.i32(*id));
                w.array(true, &p.offline_replicas, |w, id| w.i32(*id));
                w.empty_tagged_fields(true);
            });
            w.i32(t.topic_authorized_operations);
            w.empty_tagged_fields(true);
        });
        write_cursor(w, self.next_cursor.as_ref());
        w.empty_tagged_fields(true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::oracle::*;
    use kafka_protocol::messages::describe_topic_partitions_request as kreq;
    use kafka_protocol::messages::describe_topic_partitions_response as kres;
    use kafka_protocol::messages::{BrokerId, TopicName};

    #[test]
    fn reads_the_request_encoded_by_the_oracle() {
        for cursor in [
            None,
            Some(Cursor {
                topic_name: "orders".into(),
                partition_index: 7,
            }),
        ] {
            let expected = DescribeTopicPartitionsRequest {
                topics: vec!["orders".into(), "payments".into()],
                response_partition_limit: 2000,
                cursor,
            };
            let oracle = oracle!(kreq::DescribeTopicPartitionsRequest {
                topics: expected
                    .topics
                    .iter()
                    .map(|t| oracle!(kreq::TopicRequest {
                        name: TopicName(s(t)),
                    }))
                    .collect(),
                response_partition_limit: 2000,
                cursor: expected.cursor.as_ref().map(|c| oracle!(kreq::Cursor {
                    topic_name: TopicName(s(&c.topic_name)),
                    partition_index: c.partition_index,
                })),
            });
            let buf = encode(&oracle, 0);
            assert_eq!(
                read_all(&buf, 0, DescribeTopicPartitionsRequest::read),
                expected
            );
            assert_truncations_fail(&buf, 0, DescribeTopicPartitionsRequest::read);
        }
    }

    #[test]
    fn the_response_is_read_back_by_the_oracle() {
        for next_cursor in [
            None,
            Some(Cursor {
                topic_name: "orders".into(),
                partition_index: 1,
            }),
        ] {
            let res = DescribeTopicPartitionsResponse {
                throttle_time_ms: 0,
                topics: vec![DescribeTopicPartitionsTopic {
                    error_code: 0,
                    name: Some("orders".into()),
                    topic_id: [9; 16],
                    is_internal: false,
                    partitions: vec![DescribeTopicPartitionsPartition {
                        error_code: 0,
                        partition_index: 0,
                        leader_id: 1,
                        leader_epoch: 0,
                        replica_nodes: vec![1],
                        isr_nodes: vec![1],
                        eligible_leader_replicas: None,
                        last_known_elr: Some(Vec::new()),
                        offline_replicas: Vec::new(),
                    }],
                    topic_authorized_operations: i32::MIN,
                }],
                next_cursor,
            };
            let oracle = oracle!(kres::DescribeTopicPartitionsResponse {
                topics: vec![oracle!(kres::DescribeTopicPartitionsResponseTopic {
                    error_code: 0,
                    name: Some(TopicName(s("orders"))),
                    topic_id: uuid::Uuid::from_bytes([9; 16]),
                    is_internal: false,
                    partitions: vec![oracle!(kres::DescribeTopicPartitionsResponsePartition {
                        error_code: 0,
                        partition_index: 0,
                        leader_id: BrokerId(1),
                        leader_epoch: 0,
                        replica_nodes: vec![BrokerId(1)],
                        isr_nodes: vec![BrokerId(1)],
                        eligible_leader_replicas: None,
                        last_known_elr: Some(Vec::new()),
                        offline_replicas: Vec::new(),
                    })],
                    topic_authorized_operations: i32::MIN,
                })],
                next_cursor: res.next_cursor.as_ref().map(|c| oracle!(kres::Cursor {
                    topic_name: TopicName(s(&c.topic_name)),
                    partition_index: c.partition_index,
                })),
            });
            let bytes = write(&res, 0, DescribeTopicPartitionsResponse::write);
            let decoded: kres::DescribeTopicPartitionsResponse = decode(&bytes, 0);
            assert_eq!(decoded, oracle);
        }
    }
}

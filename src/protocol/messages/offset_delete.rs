//! OffsetDelete (key 47), version 0: removes a group's committed offsets for
//! some partitions (KIP-496), e.g. for topics the group no longer consumes.
//! Offsets of topics the group is still subscribed to are refused with
//! GROUP_SUBSCRIBED_TO_TOPIC. Never flexible.

use crate::protocol::primitives::{Reader, Result, Writer};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OffsetDeleteRequestTopic {
    pub name: String,
    pub partition_indexes: Vec<i32>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OffsetDeleteRequest {
    pub group_id: String,
    pub topics: Vec<OffsetDeleteRequestTopic>,
}

impl OffsetDeleteRequest {
    /// Only version 0 exists; the version is accepted for symmetry with the
    /// other messages.
    pub fn read(r: &mut Reader<'_>, _version: i16) -> Result<Self> {
        Ok(OffsetDeleteRequest {
            group_id: r.string(false)?,
            topics: r.array(false, |r| {
                Ok(OffsetDeleteRequestTopic {
                    name: r.string(false)?,
                    // Each partition is a one-field struct on the wire, which
                    // encodes exactly like a bare i32.
                    partition_indexes: r.array(false, |r| r.i32())?,
                })
            })?,
        })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OffsetDeleteResponsePartition {
    pub partition_index: i32,
    pub error_code: i16,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OffsetDeleteResponseTopic {
    pub name: String,
    pub partitions: Vec<OffsetDeleteResponsePartition>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OffsetDeleteResponse {
    /// A group-level error, e.g. GROUP_ID_NOT_FOUND.
    pub error_code: i16,
    pub throttle_time_ms: i32,
    pub topics: Vec<OffsetDeleteResponseTopic>,
}

impl OffsetDeleteResponse {
    pub fn write(&self, w: &mut Writer, _version: i16) {
        w.i16(self.error_code);
        w.i32(self.throttle_time_ms);
        w.array(false, &self.topics, |w, topic| {
            w.string(false, &topic.name);
            w.array(false, &topic.partitions, |w, partition| {
                w.i32(partition.partition_index);
                w.i16(partition.error_code);
            });
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::oracle::*;
    use kafka_protocol::messages::offset_delete_request as kp_req;
    use kafka_protocol::messages::offset_delete_response as kp_resp;
    use kafka_protocol::messages::{
        OffsetDeleteRequest as KpRequest, OffsetDeleteResponse as KpResponse,
    };
    use kafka_protocol::protocol::StrBytes;

    fn oracle_request() -> KpRequest {
        let topic = |name: &'static str, indexes: &[i32]| {
            let mut t = kp_req::OffsetDeleteRequestTopic::default();
            t.name = StrBytes::from_static_str(name).into();
            t.partitions = indexes
                .iter()
                .map(|&i| {
                    let mut p = kp_req::OffsetDeleteRequestPartition::default();
                    p.partition_index = i;
                    p
                })
                .collect();
            t
        };
        let mut m = KpRequest::default();
        m.group_id = StrBytes::from_static_str("orders-consumers").into();
        m.topics = vec![topic("orders", &[0, 4, 7]), topic("payments", &[])];
        m
    }

    #[test]
    fn request_matches_oracle() {
        let m = oracle_request();
        let bytes = encode(&m, 0);
        let ours = read_all(&bytes, 0, OffsetDeleteRequest::read);
        let expected = OffsetDeleteRequest {
            group_id: m.group_id.to_string(),
            topics: m
                .topics
                .iter()
                .map(|t| OffsetDeleteRequestTopic {
                    name: t.name.to_string(),
                    partition_indexes: t.partitions.iter().map(|p| p.partition_index).collect(),
                })
                .collect(),
        };
        assert_eq!(ours, expected);
    }

    #[test]
    fn truncated_requests_are_errors() {
        let bytes = encode(&oracle_request(), 0);
        assert_truncations_fail(&bytes, 0, OffsetDeleteRequest::read);
    }

    #[test]
    fn response_matches_oracle() {
        let resp = OffsetDeleteResponse {
            error_code: 69,
            throttle_time_ms: 21,
            topics: vec![
                OffsetDeleteResponseTopic {
                    name: "orders".into(),
                    partitions: vec![
                        OffsetDeleteResponsePartition {
                            partition_index: 0,
                            error_code: 0,
                        },
                        OffsetDeleteResponsePartition {
                            partition_index: 4,
                            error_code: 86,
                        },
                    ],
                },
                OffsetDeleteResponseTopic {
                    name: "payments".into(),
                    partitions: Vec::new(),
                },
            ],
        };
        let bytes = write(&resp, 0, OffsetDeleteResponse::write);
        let decoded: KpResponse = decode(&bytes, 0);

        let mut expected = KpResponse::default();
        expected.error_code = resp.error_code;
        expected.throttle_time_ms = resp.throttle_time_ms;
        expected.topics = resp
            .topics
            .iter()
            .map(|topic| {
                let mut t = kp_resp::OffsetDeleteResponseTopic::default();
                t.name = StrBytes::from(topic.name.clone()).into();
                t.partitions = topic
                    .partitions
                    .iter()
                    .map(|partition| {
                        let mut p = kp_resp::OffsetDeleteResponsePartition::default();
                        p.partition_index = partition.partition_index;
                        p.error_code = partition.error_code;
                        p
                    })
                    .collect();
                t
            })
            .collect();
        assert_eq!(decoded, expected);
    }
}

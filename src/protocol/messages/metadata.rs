//! Metadata (key 3), versions 0-12: which brokers exist, which topics and
//! partitions exist, and who leads each partition. Flexible from v9.
//!
//! Clients call this first and again whenever a leader moves, so the answer
//! decides where every later Produce and Fetch is sent.

use crate::protocol::primitives::{Reader, Result, Writer};

/// "Not requested" for the authorized-operations bitfields (KIP-430).
pub const AUTHORIZED_OPERATIONS_OMITTED: i32 = i32::MIN;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataRequest {
    /// The topics to describe; `None` means every topic. On the wire v1+
    /// says "all" with a null array and "none" with an empty one; v0 has no
    /// null and says "all" with an empty array, which is read as `None` here
    /// so the broker sees a single meaning.
    pub topics: Option<Vec<MetadataRequestTopic>>,
    /// v4+: whether the broker may create requested topics that do not
    /// exist (if `auto.create.topics.enable` allows). Older clients always
    /// implied true.
    pub allow_auto_topic_creation: bool,
    /// v8-10: whether to fill `cluster_authorized_operations` (KIP-430);
    /// v11+ moved this to DescribeCluster (KIP-700).
    pub include_cluster_authorized_operations: bool,
    /// v8+: whether to fill each topic's `topic_authorized_operations`.
    pub include_topic_authorized_operations: bool,
}

impl Default for MetadataRequest {
    fn default() -> Self {
        MetadataRequest {
            topics: None,
            allow_auto_topic_creation: true,
            include_cluster_authorized_operations: false,
            include_topic_authorized_operations: false,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetadataRequestTopic {
    /// v10+: the topic id (KIP-516); all zeros when the client asks by name.
    pub topic_id: [u8; 16],
    /// The topic name; null only in v10+, when the client asks by id.
    pub name: Option<String>,
}

impl MetadataRequest {
    pub fn read(r: &mut Reader<'_>, version: i16) -> Result<Self> {
        let flexible = version >= 9;
        let mut req = MetadataRequest::default();
        let topics = r.nullable_array(flexible, |r| {
            let mut topic = MetadataRequestTopic::default();
            if version >= 10 {
                topic.topic_id = r.uuid()?;
            }
            topic.name = r.nullable_string(flexible)?;
            r.skip_tagged_fields(flexible)?;
            Ok(topic)
        })?;
        req.topics = match topics {
            Some(topics) if version == 0 && topics.is_empty() => None,
            topics => topics,
        };
        if version >= 4 {
            req.allow_auto_topic_creation = r.bool()?;
        }
        if (8..=10).contains(&version) {
            req.include_cluster_authorized_operations = r.bool()?;
        }
        if version >= 8 {
            req.include_topic_authorized_operations = r.bool()?;
        }
        r.skip_tagged_fields(flexible)?;
        Ok(req)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataResponse {
    /// v3+: how long the client was throttled for quota reasons.
    pub throttle_time_ms: i32,
    pub brokers: Vec<MetadataResponseBroker>,
    /// v2+: the cluster id; null if unknown.
    pub cluster_id: Option<String>,
    /// v1+: the controller's broker id, -1 if none.
    pub controller_id: i32,
    pub topics: Vec<MetadataResponseTopic>,
    /// v8-10: bitfield of ACL operations the client may perform on the
    /// cluster, or [`AUTHORIZED_OPERATIONS_OMITTED`].
    pub cluster_authorized_operations: i32,
}

impl Default for MetadataResponse {
    fn default() -> Self {
        MetadataResponse {
            throttle_time_ms: 0,
            brokers: Vec::new(),
            cluster_id: None,
            controller_id: -1,
            topics: Vec::new(),
            cluster_authorized_operations: AUTHORIZED_OPERATIONS_OMITTED,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetadataResponseBroker {
    pub node_id: i32,
    pub host: String,
    pub port: i32,
    /// v1+: the broker's rack, null if it has none.
    pub rack: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataResponseTopic {
    pub error_code: i16,
    /// The topic name; null only in v12+, for a topic asked for by an
    /// unknown id.
    pub name: Option<String>,
    /// v10+: the topic id (KIP-516).
    pub topic_id: [u8; 16],
    /// v1+: whether this is an internal topic such as `__consumer_offsets`.
    pub is_internal: bool,
    pub partitions: Vec<MetadataResponsePartition>,
    /// v8+: bitfield of ACL operations the client may perform on the topic,
    /// or [`AUTHORIZED_OPERATIONS_OMITTED`].
    pub topic_authorized_operations: i32,
}

impl Default for MetadataResponseTopic {
    fn default() -> Self {
        MetadataResponseTopic {
            error_code: 0,
            name: None,
            topic_id: [0; 16],
            is_internal: false,
            partitions: Vec::new(),
            topic_authorized_operations: AUTHORIZED_OPERATIONS_OMITTED,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataResponsePartition {
    pub error_code: i16,
    pub partition_index: i32,
    /// The leader's broker id, -1 if there is none.
    pub leader_id: i32,
    /// v7+: the leader epoch, which clients use to fence stale metadata
    /// (KIP-320); -1 if unknown.
    pub leader_epoch: i32,
    pub replica_nodes: Vec<i32>,
    /// The in-sync replicas.
    pub isr_nodes: Vec<i32>,
    /// v5+: replicas that are offline.
    pub offline_replicas: Vec<i32>,
}

impl Default for MetadataResponsePartition {
    fn default() -> Self {
        MetadataResponsePartition {
            error_code: 0,
            partition_index: 0,
            leader_id: -1,
            leader_epoch: -1,
            replica_nodes: Vec::new(),
            isr_nodes: Vec::new(),
            offline_replicas: Vec::new(),
        }
    }
}

impl MetadataResponse {
    pub fn write(&self, w: &mut Writer, version: i16) {
        let flexible = version >= 9;
        if version >= 3 {
            w.i32(self.throttle_time_ms);
        }
        w.array(flexible, &self.brokers, |w, b| b.write(w, version));
        if version >= 2 {
            w.nullable_string(flexible, self.cluster_id.as_deref());
        }
        if version >= 1 {
            w.i32(self.controller_id);
        }
        w.array(flexible, &self.topics, |w, t| t.write(w, version));
        if (8..=10).contains(&version) {
            w.i32(self.cluster_authorized_operations);
        }
        w.empty_tagged_fields(flexible);
    }
}

impl MetadataResponseBroker {
    fn write(&self, w: &mut Writer, version: i16) {
        let flexible = version >= 9;
        w.i32(self.node_id);
        w.string(flexible, &self.host);
        w.i32(self.port);
        if version >= 1 {
            w.nullable_string(flexible, self.rack.as_deref());
        }
        w.empty_tagged_fields(flexible);
    }
}

impl MetadataResponseTopic {
    fn write(&self, w: &mut Writer, version: i16) {
        let flexible = version >= 9;
        w.i16(self.error_code);
        w.nullable_string(flexible, self.name.as_deref());
        if version >= 10 {
            w.uuid(&self.topic_id);
        }
        if version >= 1 {
            w.bool(self.is_internal);
        }
        w.array(flexible, &self.partitions, |w, p| p.write(w, version));
        if version >= 8 {
            w.i32(self.topic_authorized_operations);
        }
        w.empty_tagged_fields(flexible);
    }
}

impl MetadataResponsePartition {
    fn write(&self, w: &mut Writer, version: i16) {
        let flexible = version >= 9;
        w.i16(self.error_code);
        w.i32(self.partition_index);
        w.i32(self.leader_id);
        if version >= 7 {
            w.i32(self.leader_epoch);
        }
        w.array(flexible, &self.replica_nodes, |w, n| w.i32(*n));
        w.array(flexible, &self.isr_nodes, |w, n| w.i32(*n));
        if version >= 5 {
            w.array(flexible, &self.offline_replicas, |w, n| w.i32(*n));
        }
        w.empty_tagged_fields(flexible);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::oracle::*;
    use kafka_protocol::messages::metadata_request as kreq;
    use kafka_protocol::messages::metadata_response as kres;
    use kafka_protocol::messages::{BrokerId, TopicName};
    use uuid::Uuid;

    const VERSIONS: std::ops::RangeInclusive<i16> = 0..=12;

    fn sample_request(version: i16) -> MetadataRequest {
        let mut topics = vec![MetadataRequestTopic {
            topic_id: [0; 16],
            name: Some("orders".into()),
        }];
        if version >= 10 {
            topics.push(MetadataRequestTopic {
                topic_id: [7; 16],
                name: None,
            });
        }
        MetadataRequest {
            topics: Some(topics),
            allow_auto_topic_creation: version < 4,
            include_cluster_authorized_operations: (8..=10).contains(&version),
            include_topic_authorized_operations: version >= 8,
        }
    }

    fn to_oracle_request(req: &MetadataRequest) -> kreq::MetadataRequest {
        kreq::MetadataRequest::default()
            .with_topics(req.topics.as_ref().map(|topics| {
                topics
                    .iter()
                    .map(|t| {
                        kreq::MetadataRequestTopic::default()
                            .with_topic_id(Uuid::from_bytes(t.topic_id))
                            .with_name(t.name.as_deref().map(|n| TopicName(s(n))))
                    })
                    .collect()
            }))
            .with_allow_auto_topic_creation(req.allow_auto_topic_creation)
            .with_include_cluster_authorized_operations(req.include_cluster_authorized_operations)
            .with_include_topic_authorized_operations(req.include_topic_authorized_operations)
    }

    fn encode_request(req: &MetadataRequest, version: i16) -> Vec<u8> {
        encode(&to_oracle_request(req), version)
    }

    #[test]
    fn reads_every_request_version_encoded_by_the_oracle() {
        for version in VERSIONS {
            let expected = sample_request(version);
            let buf = encode_request(&expected, version);
            let got = read_all(&buf, version, MetadataRequest::read);
            assert_eq!(got, expected, "v{version}");
        }
    }

    #[test]
    fn null_and_empty_topic_lists() {
        for version in 1..=12 {
            for topics in [None, Some(Vec::new())] {
                let req = MetadataRequest {
                    topics,
                    ..sample_request(version)
                };
                let buf = encode_request(&req, version);
                let got = read_all(&buf, version, MetadataRequest::read);
                assert_eq!(got, req, "v{version}");
            }
        }
        // v0 has no null: an empty list means every topic.
        let req = MetadataRequest {
            topics: Some(Vec::new()),
            ..sample_request(0)
        };
        let buf = encode_request(&req, 0);
        let got = read_all(&buf, 0, MetadataRequest::read);
        assert_eq!(got.topics, None);
    }

    #[test]
    fn truncated_requests_are_errors() {
        assert_truncations_fail_in(
            VERSIONS,
            |version| encode_request(&sample_request(version), version),
            MetadataRequest::read,
        );
    }

    fn sample_response(version: i16) -> MetadataResponse {
        MetadataResponse {
            throttle_time_ms: if version >= 3 { 17 } else { 0 },
            brokers: vec![
                MetadataResponseBroker {
                    node_id: 1,
                    host: "broker-1".into(),
                    port: 9092,
                    rack: (version >= 1).then(|| "rack-a".into()),
                },
                MetadataResponseBroker {
                    node_id: 2,
                    host: "broker-2".into(),
                    port: 9093,
                    rack: None,
                },
            ],
            cluster_id: (version >= 2).then(|| "kafkaesque".into()),
            controller_id: if version >= 1 { 1 } else { -1 },
            topics: vec![
                MetadataResponseTopic {
                    error_code: 0,
                    name: Some("orders".into()),
                    topic_id: if version >= 10 { [9; 16] } else { [0; 16] },
                    is_internal: version >= 1,
                    partitions: vec![MetadataResponsePartition {
                        error_code: 0,
                        partition_index: 3,
                        leader_id: 1,
                        leader_epoch: if version >= 7 { 5 } else { -1 },
                        replica_nodes: vec![1, 2],
                        isr_nodes: vec![1],
                        offline_replicas: if version >= 5 { vec![2] } else { vec![] },
                    }],
                    topic_authorized_operations: if version >= 8 {
                        0b1010
                    } else {
                        AUTHORIZED_OPERATIONS_OMITTED
                    },
                },
                MetadataResponseTopic {
                    error_code: 3,
                    name: if version >= 12 {
                        None
                    } else {
                        Some("missing".into())
                    },
                    ..MetadataResponseTopic::default()
                },
            ],
            cluster_authorized_operations: if (8..=10).contains(&version) {
                0b0110
            } else {
                AUTHORIZED_OPERATIONS_OMITTED
            },
        }
    }

    fn to_oracle_response(res: &MetadataResponse) -> kres::MetadataResponse {
        kres::MetadataResponse::default()
            .with_throttle_time_ms(res.throttle_time_ms)
            .with_brokers(
                res.brokers
                    .iter()
                    .map(|b| {
                        kres::MetadataResponseBroker::default()
                            .with_node_id(BrokerId(b.node_id))
                            .with_host(s(&b.host))
                            .with_port(b.port)
                            .with_rack(b.rack.as_deref().map(s))
                    })
                    .collect(),
            )
            .with_cluster_id(res.cluster_id.as_deref().map(s))
            .with_controller_id(BrokerId(res.controller_id))
            .with_topics(
                res.topics
                    .iter()
                    .map(|t| {
                        kres::MetadataResponseTopic::default()
                            .with_error_code(t.error_code)
                            .with_name(t.name.as_deref().map(|n| TopicName(s(n))))
                            .with_topic_id(Uuid::from_bytes(t.topic_id))
                            .with_is_internal(t.is_internal)
                            .with_partitions(
                                t.partitions
                                    .iter()
                                    .map(|p| {
                                        kres::MetadataResponsePartition::default()
                                            .with_error_code(p.error_code)
                                            .with_partition_index(p.partition_index)
                                            .with_leader_id(BrokerId(p.leader_id))
                                            .with_leader_epoch(p.leader_epoch)
                                            .with_replica_nodes(
                                                p.replica_nodes
                                                    .iter()
                                                    .copied()
                                                    .map(BrokerId)
                                                    .collect(),
                                            )
                                            .with_isr_nodes(
                                                p.isr_nodes.iter().copied().map(BrokerId).collect(),
                                            )
                                            .with_offline_replicas(
                                                p.offline_replicas
                                                    .iter()
                                                    .copied()
                                                    .map(BrokerId)
                                                    .collect(),
                                            )
                                    })
                                    .collect(),
                            )
                            .with_topic_authorized_operations(t.topic_authorized_operations)
                    })
                    .collect(),
            )
            .with_cluster_authorized_operations(res.cluster_authorized_operations)
    }

    #[test]
    fn every_response_version_is_read_back_by_the_oracle() {
        for version in VERSIONS {
            let res = sample_response(version);
            let bytes = write(&res, version, MetadataResponse::write);
            let decoded: kres::MetadataResponse = decode(&bytes, version);
            let oracle = to_oracle_response(&res);
            assert_eq!(decoded, oracle, "v{version}");
            let expected = encode(&oracle, version);
            assert_eq!(bytes, expected, "v{version}");
        }
    }
}

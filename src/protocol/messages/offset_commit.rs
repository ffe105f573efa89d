//! OffsetCommit (key 8), versions 2-9: a consumer records how far it has
//! read, per partition, in its group. Versions 0-1 (ZooKeeper-era) are not
//! supported.
//!
//! Flexible from v8. Version notes:
//! - v2-4 carry a `retention_time_ms`; v5 drops it (KIP-211), and the broker's
//!   `offsets.retention.minutes` applies instead.
//! - v6 (KIP-320) adds the leader epoch of the committed offset, so a
//!   consumer can detect log truncation when it resumes.
//! - v7 (KIP-345) adds `group_instance_id`.
//! - v9 (KIP-848) reinterprets the generation as the member epoch for groups
//!   using the new consumer protocol; the wire format is unchanged.

use crate::protocol::primitives::{Reader, Result, Writer};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetCommitRequestPartition {
    pub partition_index: i32,
    /// The next offset to consume, i.e. one past the last processed record.
    pub committed_offset: i64,
    /// v6+: the leader epoch of the last consumed record, or -1 if unknown.
    pub committed_leader_epoch: i32,
    /// Free-form text the client stores with the offset.
    pub committed_metadata: Option<String>,
}

impl Default for OffsetCommitRequestPartition {
    fn default() -> Self {
        OffsetCommitRequestPartition {
            partition_index: 0,
            committed_offset: 0,
            committed_leader_epoch: -1,
            committed_metadata: None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OffsetCommitRequestTopic {
    pub name: String,
    pub partitions: Vec<OffsetCommitRequestPartition>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetCommitRequest {
    pub group_id: String,
    /// The member's generation (classic protocol) or member epoch (KIP-848).
    /// -1 when a client that is not a group member commits (a standalone
    /// consumer with manual assignment).
    pub generation_id_or_member_epoch: i32,
    /// Empty when the committer is not a group member.
    pub member_id: String,
    /// v7+: the static member id (KIP-345), if any.
    pub group_instance_id: Option<String>,
    /// v2-4: how long to keep the offsets, or -1 for the broker default.
    pub retention_time_ms: i64,
    pub topics: Vec<OffsetCommitRequestTopic>,
}

impl Default for OffsetCommitRequest {
    fn default() -> Self {
        OffsetCommitRequest {
            group_id: String::new(),
            generation_id_or_member_epoch: -1,
            member_id: String::new(),
            group_instance_id: None,
            retention_time_ms: -1,
            topics: Vec::new(),
        }
    }
}

impl OffsetCommitRequest {
    pub fn read(r: &mut Reader<'_>, version: i16) -> Result<Self> {
        let flexible = version >= 8;
        let mut req = OffsetCommitRequest {
            group_id: r.string(flexible)?,
            generation_id_or_member_epoch: r.i32()?,
            member_id: r.string(flexible)?,
            ..Default::default()
        };
        if version >= 7 {
            req.group_instance_id = r.nullable_string(flexible)?;
        }
        if version <= 4 {
            req.retention_time_ms = r.i64()?;
        }
        req.topics = r.array(flexible, |r| {
            let topic = OffsetCommitRequestTopic {
                name: r.string(flexible)?,
                partitions: r.array(flexible, |r| {
                    let mut partition = OffsetCommitRequestPartition {
                        partition_index: r.i32()?,
                        committed_offset: r.i64()?,
                        ..Default::default()
                    };
                    if version >= 6 {
                        partition.committed_leader_epoch = r.i32()?;
                    }
                    partition.committed_metadata = r.nullable_string(flexible)?;
                    r.skip_tagged_fields(flexible)?;
                    Ok(partition)
                })?,
            };
            r.skip_tagged_fields(flexible)?;
            Ok(topic)
        })?;
        r.skip_tagged_fields(flexible)?;
        Ok(req)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OffsetCommitResponsePartition {
    pub partition_index: i32,
    pub error_code: i16,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OffsetCommitResponseTopic {
    pub name: String,
    pub partitions: Vec<OffsetCommitResponsePartition>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OffsetCommitResponse {
    /// v3+
    pub throttle_time_ms: i32,
    pub topics: Vec<OffsetCommitResponseTopic>,
}

impl OffsetCommitResponse {
    pub fn write(&self, w: &mut Writer, version: i16) {
        let flexible = version >= 8;
        if version >= 3 {
            w.i32(self.throttle_time_ms);
        }
        w.array(flexible, &self.topics, |w, topic| {
            w.string(flexible, &topic.name);
            w.array(flexible, &topic.partitions, |w, partition| {
                w.i32(partition.partition_index);
                w.i16(partition.error_code);
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
    use kafka_protocol::messages::offset_commit_request as kp_req;
    use kafka_protocol::messages::offset_commit_response as kp_resp;
    use kafka_protocol::messages::{
        OffsetCommitRequest as KpRequest, OffsetCommitResponse as KpResponse,
    };
    use kafka_protocol::protocol::StrBytes;

    const VERSIONS: std::ops::RangeInclusive<i16> = 2..=9;

    fn oracle_request(version: i16, nulls: bool) -> KpRequest {
        let mut m = KpRequest::default();
        m.group_id = StrBytes::from_static_str("orders-consumers").into();
        m.generation_id_or_member_epoch = 12;
        m.member_id = StrBytes::from_static_str("rdkafka-5b1c");
        if version >= 7 && !nulls {
            m.group_instance_id = Some("instance-7".into());
        }
        if version <= 4 {
            m.retention_time_ms = 86_400_000;
        }
        let partition = |index: i32, offset: i64, metadata: Option<&'static str>| {
            let mut p = kp_req::OffsetCommitRequestPartition::default();
            p.partition_index = index;
            p.committed_offset = offset;
            if version >= 6 {
                p.committed_leader_epoch = 4 + index;
            }
            p.committed_metadata = metadata.map(StrBytes::from);
            if version >= 8 {
                p.unknown_tagged_fields.insert(7, Bytes::from_static(b"x"));
            }
            p
        };
        let topic = |name: &'static str, partitions| {
            let mut t = kp_req::OffsetCommitRequestTopic::default();
            t.name = StrBytes::from_static_str(name).into();
            t.partitions = partitions;
            t
        };
        m.topics = vec![
            topic(
                "orders",
                vec![
                    partition(0, 1_000_000_000_000, Some("checkpoint")),
                    partition(3, 42, if nulls { None } else { Some("") }),
                ],
            ),
            topic("payments", vec![partition(1, 7, None)]),
        ];
        if version >= 8 {
            // A field from a future version, which must be skipped.
            m.unknown_tagged_fields
                .insert(999, Bytes::from_static(b"future"));
        }
        m
    }

    #[test]
    fn request_matches_oracle_in_every_version() {
        for version in VERSIONS {
            for nulls in [false, true] {
                let m = oracle_request(version, nulls);
                let bytes = encode(&m, version);
                let ours = read_all(&bytes, version, OffsetCommitRequest::read);
                let expected = OffsetCommitRequest {
                    group_id: m.group_id.to_string(),
                    generation_id_or_member_epoch: m.generation_id_or_member_epoch,
                    member_id: m.member_id.to_string(),
                    group_instance_id: text(&m.group_instance_id),
                    retention_time_ms: m.retention_time_ms,
                    topics: m
                        .topics
                        .iter()
                        .map(|t| OffsetCommitRequestTopic {
                            name: t.name.to_string(),
                            partitions: t
                                .partitions
                                .iter()
                                .map(|p| OffsetCommitRequestPartition {
                                    partition_index: p.partition_index,
                                    committed_offset: p.committed_offset,
                                    committed_leader_epoch: p.committed_leader_epoch,
                                    committed_metadata: text(&p.committed_metadata),
                                })
                                .collect(),
                        })
                        .collect(),
                };
                assert_eq!(ours, expected, "v{version} nulls={nulls}");
            }
        }
    }

    #[test]
    fn truncated_requests_are_errors() {
        assert_truncations_fail_in(
            VERSIONS,
            |version| encode(&oracle_request(version, false), version),
            OffsetCommitRequest::read,
        );
    }

    fn response(version: i16) -> OffsetCommitResponse {
        let partition = |partition_index, error_code| OffsetCommitResponsePartition {
            partition_index,
            error_code,
        };
        OffsetCommitResponse {
            throttle_time_ms: if version >= 3 { 11 } else { 0 },
            topics: vec![
                OffsetCommitResponseTopic {
                    name: "orders".into(),
                    partitions: vec![partition(0, 0), partition(3, 22)],
                },
                OffsetCommitResponseTopic {
                    name: "payments".into(),
                    partitions: vec![partition(1, 25)],
                },
            ],
        }
    }

    fn to_oracle(resp: &OffsetCommitResponse) -> KpResponse {
        let mut m = KpResponse::default();
        m.throttle_time_ms = resp.throttle_time_ms;
        m.topics = resp
            .topics
            .iter()
            .map(|topic| {
                let mut t = kp_resp::OffsetCommitResponseTopic::default();
                t.name = StrBytes::from(topic.name.clone()).into();
                t.partitions = topic
                    .partitions
                    .iter()
                    .map(|partition| {
                        let mut p = kp_resp::OffsetCommitResponsePartition::default();
                        p.partition_index = partition.partition_index;
                        p.error_code = partition.error_code;
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
            let resp = response(version);
            let bytes = write(&resp, version, OffsetCommitResponse::write);
            let decoded: KpResponse = decode(&bytes, version);
            assert_eq!(decoded, to_oracle(&resp), "v{version}");
        }
    }
}

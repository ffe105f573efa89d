//! OffsetFetch (key 9), versions 1-9: a consumer asks where it left off, per
//! partition, in its group. Version 0 (ZooKeeper-stored offsets) is not
//! supported.
//!
//! Flexible from v6. Version notes:
//! - v2+: a null topic list asks for every partition the group has offsets
//!   for; the response gains a group-level error code.
//! - v5 (KIP-320) returns the leader epoch of each committed offset.
//! - v7 (KIP-447) adds `require_stable`: offsets with a pending transactional
//!   commit are answered with UNSTABLE_OFFSET_COMMIT instead of a stale value.
//! - v8 (KIP-709) batches several groups in one request; the top-level
//!   `group_id`/`topics` move into `groups`, and the response answers per group.
//! - v9 (KIP-848) adds the member id and epoch, checked for groups using the
//!   new consumer protocol.

use crate::protocol::primitives::{Reader, Result, Writer};

/// The partitions of one topic whose offsets are wanted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OffsetFetchRequestTopic {
    pub name: String,
    pub partition_indexes: Vec<i32>,
}

impl OffsetFetchRequestTopic {
    fn read(r: &mut Reader<'_>, flexible: bool) -> Result<Self> {
        let topic = OffsetFetchRequestTopic {
            name: r.string(flexible)?,
            partition_indexes: r.array(flexible, |r| r.i32())?,
        };
        r.skip_tagged_fields(flexible)?;
        Ok(topic)
    }
}

/// v8+: one group to fetch offsets for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetFetchRequestGroup {
    pub group_id: String,
    /// v9+: the member asking, or `None` when the caller is not a member.
    pub member_id: Option<String>,
    /// v9+: the member's epoch, or -1 when the caller is not a member.
    pub member_epoch: i32,
    /// `None` asks for every partition the group has offsets for.
    pub topics: Option<Vec<OffsetFetchRequestTopic>>,
}

impl Default for OffsetFetchRequestGroup {
    fn default() -> Self {
        OffsetFetchRequestGroup {
            group_id: String::new(),
            member_id: None,
            member_epoch: -1,
            topics: Some(Vec::new()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetFetchRequest {
    /// v1-7: the group to fetch offsets for.
    pub group_id: String,
    /// v1-7: the partitions wanted; `None` (v2+) asks for all of them.
    pub topics: Option<Vec<OffsetFetchRequestTopic>>,
    /// v8+: the groups to fetch offsets for.
    pub groups: Vec<OffsetFetchRequestGroup>,
    /// v7+: answer UNSTABLE_OFFSET_COMMIT for partitions with a pending
    /// transactional commit rather than the last stable offset (KIP-447).
    pub require_stable: bool,
}

impl Default for OffsetFetchRequest {
    fn default() -> Self {
        OffsetFetchRequest {
            group_id: String::new(),
            topics: Some(Vec::new()),
            groups: Vec::new(),
            require_stable: false,
        }
    }
}

impl OffsetFetchRequest {
    pub fn read(r: &mut Reader<'_>, version: i16) -> Result<Self> {
        let flexible = version >= 6;
        let mut req = OffsetFetchRequest::default();
        if version <= 7 {
            req.group_id = r.string(flexible)?;
            req.topics =
                r.nullable_array(flexible, |r| OffsetFetchRequestTopic::read(r, flexible))?;
        } else {
            req.groups = r.array(flexible, |r| {
                let mut group = OffsetFetchRequestGroup {
                    group_id: r.string(flexible)?,
                    ..Default::default()
                };
                if version >= 9 {
                    group.member_id = r.nullable_string(flexible)?;
                    group.member_epoch = r.i32()?;
                }
                group.topics =
                    r.nullable_array(flexible, |r| OffsetFetchRequestTopic::read(r, flexible))?;
                r.skip_tagged_fields(flexible)?;
                Ok(group)
            })?;
        }
        if version >= 7 {
            req.require_stable = r.bool()?;
        }
        r.skip_tagged_fields(flexible)?;
        Ok(req)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetFetchResponsePartition {
    pub partition_index: i32,
    /// The committed offset, or -1 if the group has none for this partition.
    pub committed_offset: i64,
    /// v5+: the leader epoch stored with the offset, or -1.
    pub committed_leader_epoch: i32,
    /// The metadata string stored with the offset.
    pub metadata: Option<String>,
    pub error_code: i16,
}

impl Default for OffsetFetchResponsePartition {
    fn default() -> Self {
        OffsetFetchResponsePartition {
            partition_index: 0,
            committed_offset: 0,
            committed_leader_epoch: -1,
            metadata: None,
            error_code: 0,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OffsetFetchResponseTopic {
    pub name: String,
    pub partitions: Vec<OffsetFetchResponsePartition>,
}

/// v8+: the answer for one requested group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OffsetFetchResponseGroup {
    pub group_id: String,
    pub topics: Vec<OffsetFetchResponseTopic>,
    /// A group-level error, e.g. COORDINATOR_LOAD_IN_PROGRESS.
    pub error_code: i16,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OffsetFetchResponse {
    /// v3+
    pub throttle_time_ms: i32,
    /// v1-7
    pub topics: Vec<OffsetFetchResponseTopic>,
    /// v2-7: a group-level error.
    pub error_code: i16,
    /// v8+: one entry per requested group.
    pub groups: Vec<OffsetFetchResponseGroup>,
}

impl OffsetFetchResponse {
    pub fn write(&self, w: &mut Writer, version: i16) {
        let flexible = version >= 6;
        if version >= 3 {
            w.i32(self.throttle_time_ms);
        }
        if version <= 7 {
            write_topics(w, version, &self.topics);
            if version >= 2 {
                w.i16(self.error_code);
            }
        } else {
            w.array(flexible, &self.groups, |w, group| {
                w.string(flexible, &group.group_id);
                write_topics(w, version, &group.topics);
                w.i16(group.error_code);
                w.empty_tagged_fields(flexible);
            });
        }
        w.empty_tagged_fields(flexible);
    }
}

/// The topic list, laid out the same way at the top level (v1-7) and
/// inside each group (v8+).
fn write_topics(w: &mut Writer, version: i16, topics: &[OffsetFetchResponseTopic]) {
    let flexible = version >= 6;
    w.array(flexible, topics, |w, topic| {
        w.string(flexible, &topic.name);
        w.array(flexible, &topic.partitions, |w, partition| {
            w.i32(partition.partition_index);
            w.i64(partition.committed_offset);
            if version >= 5 {
                w.i32(partition.committed_leader_epoch);
            }
            w.nullable_string(flexible, partition.metadata.as_deref());
            w.i16(partition.error_code);
            w.empty_tagged_fields(flexible);
        });
        w.empty_tagged_fields(flexible);
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::oracle::*;
    use bytes::Bytes;
    use kafka_protocol::messages::offset_fetch_request as kp_req;
    use kafka_protocol::messages::offset_fetch_response as kp_resp;
    use kafka_protocol::messages::{
        OffsetFetchRequest as KpRequest, OffsetFetchResponse as KpResponse,
    };
    use kafka_protocol::protocol::StrBytes;

    const VERSIONS: std::ops::RangeInclusive<i16> = 1..=9;

    fn oracle_request(version: i16, nulls: bool) -> KpRequest {
        // A null topic list means "all topics", from v2 on.
        let all_topics = nulls && version >= 2;
        let mut m = KpRequest::default();
        if version <= 7 {
            m.group_id = StrBytes::from_static_str("orders-consumers").into();
            m.topics = if all_topics {
                None
            } else {
                let topic = |name: &'static str, partition_indexes| {
                    let mut t = kp_req::OffsetFetchRequestTopic::default();
                    t.name = StrBytes::from_static_str(name).into();
                    t.partition_indexes = partition_indexes;
                    t
                };
                Some(vec![
                    topic("orders", vec![0, 3, 5]),
                    topic("payments", vec![]),
                ])
            };
        } else {
            let topic = |name: &'static str, partition_indexes| {
                let mut t = kp_req::OffsetFetchRequestTopics::default();
                t.name = StrBytes::from_static_str(name).into();
                t.partition_indexes = partition_indexes;
                t
            };
            let group = |id: &'static str, member: Option<&'static str>, topics| {
                let mut g = kp_req::OffsetFetchRequestGroup::default();
                g.group_id = StrBytes::from_static_str(id).into();
                if version >= 9 {
                    g.member_id = member.map(StrBytes::from);
                    g.member_epoch = if member.is_some() { 5 } else { -1 };
                }
                g.topics = topics;
                g.unknown_tagged_fields.insert(7, Bytes::from_static(b"x"));
                g
            };
            m.groups = vec![
                group(
                    "orders-consumers",
                    Some("member-a"),
                    Some(vec![topic("orders", vec![0, 3]), topic("payments", vec![])]),
                ),
                group("audit", None, None),
                group("empty", Some("member-b"), Some(vec![])),
            ];
        }
        if version >= 7 {
            m.require_stable = true;
        }
        if version >= 6 {
            // A field from a future version, which must be skipped.
            m.unknown_tagged_fields
                .insert(999, Bytes::from_static(b"future"));
        }
        m
    }

    fn expected_request(m: &KpRequest) -> OffsetFetchRequest {
        OffsetFetchRequest {
            group_id: m.group_id.to_string(),
            topics: m.topics.as_ref().map(|topics| {
                topics
                    .iter()
                    .map(|t| OffsetFetchRequestTopic {
                        name: t.name.to_string(),
                        partition_indexes: t.partition_indexes.clone(),
                    })
                    .collect()
            }),
            groups: m
                .groups
                .iter()
                .map(|g| OffsetFetchRequestGroup {
                    group_id: g.group_id.to_string(),
                    member_id: g.member_id.as_ref().map(|s| s.to_string()),
                    member_epoch: g.member_epoch,
                    topics: g.topics.as_ref().map(|topics| {
                        topics
                            .iter()
                            .map(|t| OffsetFetchRequestTopic {
                                name: t.name.to_string(),
                                partition_indexes: t.partition_indexes.clone(),
                            })
                            .collect()
                    }),
                })
                .collect(),
            require_stable: m.require_stable,
        }
    }

    #[test]
    fn request_matches_oracle_in_every_version() {
        for version in VERSIONS {
            for nulls in [false, true] {
                let m = oracle_request(version, nulls);
                let bytes = encode(&m, version);
                let ours = read_all(&bytes, version, OffsetFetchRequest::read);
                assert_eq!(ours, expected_request(&m), "v{version} nulls={nulls}");
            }
        }
    }

    #[test]
    fn truncated_requests_are_errors() {
        assert_truncations_fail_in(
            VERSIONS,
            |version| encode(&oracle_request(version, false), version),
            OffsetFetchRequest::read,
        );
    }

    fn topics(version: i16, nulls: bool) -> Vec<OffsetFetchResponseTopic> {
        let epoch = |e: i32| if version >= 5 { e } else { -1 };
        vec![
            OffsetFetchResponseTopic {
                name: "orders".into(),
                partitions: vec![
                    OffsetFetchResponsePartition {
                        partition_index: 0,
                        committed_offset: 1_000_000_000_000,
                        committed_leader_epoch: epoch(4),
                        metadata: Some("checkpoint".into()),
                        error_code: 0,
                    },
                    OffsetFetchResponsePartition {
                        partition_index: 3,
                        committed_offset: -1,
                        committed_leader_epoch: epoch(-1),
                        metadata: if nulls { None } else { Some(String::new()) },
                        error_code: 88,
                    },
                ],
            },
            OffsetFetchResponseTopic {
                name: "payments".into(),
                partitions: Vec::new(),
            },
        ]
    }

    fn response(version: i16, nulls: bool) -> OffsetFetchResponse {
        let mut resp = OffsetFetchResponse::default();
        if version >= 3 {
            resp.throttle_time_ms = 6;
        }
        if version <= 7 {
            resp.topics = topics(version, nulls);
            if version >= 2 {
                resp.error_code = 14;
            }
        } else {
            resp.groups = vec![
                OffsetFetchResponseGroup {
                    group_id: "orders-consumers".into(),
                    topics: topics(version, nulls),
                    error_code: 0,
                },
                OffsetFetchResponseGroup {
                    group_id: "audit".into(),
                    topics: Vec::new(),
                    error_code: 14,
                },
            ];
        }
        resp
    }

    fn to_oracle(resp: &OffsetFetchResponse) -> KpResponse {
        let mut m = KpResponse::default();
        m.throttle_time_ms = resp.throttle_time_ms;
        m.error_code = resp.error_code;
        m.topics = resp
            .topics
            .iter()
            .map(|topic| {
                let mut t = kp_resp::OffsetFetchResponseTopic::default();
                t.name = StrBytes::from(topic.name.clone()).into();
                t.partitions = topic
                    .partitions
                    .iter()
                    .map(|partition| {
                        let mut p = kp_resp::OffsetFetchResponsePartition::default();
                        p.partition_index = partition.partition_index;
                        p.committed_offset = partition.committed_offset;
                        p.committed_leader_epoch = partition.committed_leader_epoch;
                        p.metadata = partition.metadata.clone().map(StrBytes::from);
                        p.error_code = partition.error_code;
                        p
                    })
                    .collect();
                t
            })
            .collect();
        m.groups = resp
            .groups
            .iter()
            .map(|group| {
                let mut g = kp_resp::OffsetFetchResponseGroup::default();
                g.group_id = StrBytes::from(group.group_id.clone()).into();
                g.error_code = group.error_code;
                g.topics = group
                    .topics
                    .iter()
                    .map(|topic| {
                        let mut t = kp_resp::OffsetFetchResponseTopics::default();
                        t.name = StrBytes::from(topic.name.clone()).into();
                        t.partitions = topic
                            .partitions
                            .iter()
                            .map(|partition| {
                                let mut p = kp_resp::OffsetFetchResponsePartitions::default();
                                p.partition_index = partition.partition_index;
                                p.committed_offset = partition.committed_offset;
                                p.committed_leader_epoch = partition.committed_leader_epoch;
                                p.metadata = partition.metadata.clone().map(StrBytes::from);
                                p.error_code = partition.error_code;
                                p
                            })
                            .collect();
                        t
                    })
                    .collect();
                g
            })
            .collect();
        m
    }

    #[test]
    fn response_matches_oracle_in_every_version() {
        for version in VERSIONS {
            for nulls in [false, true] {
                let resp = response(version, nulls);
                let bytes = write(&resp, version, OffsetFetchResponse::write);
                let decoded: KpResponse = decode(&bytes, version);
                assert_eq!(decoded, to_oracle(&resp), "v{version} nulls={nulls}");
            }
        }
    }
}

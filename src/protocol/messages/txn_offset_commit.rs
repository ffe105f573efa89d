//! TxnOffsetCommit (key 28), versions 0-3: a transactional producer commits
//! consumer offsets to the group coordinator as part of its transaction
//! (KIP-98), after registering the group with AddOffsetsToTxn. The offsets
//! stay pending, invisible to OffsetFetch, until EndTxn commits them; an
//! abort discards them.
//!
//! Flexible from v3. Version notes:
//! - v1 is v0 with KIP-219 throttling.
//! - v2 adds the leader epoch of the committed offset (KIP-320).
//! - v3 (KIP-447) adds the consumer's group metadata (generation, member id,
//!   static instance id) so the coordinator can fence a zombie producer that
//!   still commits for partitions its consumer no longer owns.

use crate::protocol::primitives::{Reader, Result, Writer};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxnOffsetCommitRequestPartition {
    pub partition_index: i32,
    /// The next offset to consume, i.e. one past the last processed record.
    pub committed_offset: i64,
    /// v2+: the leader epoch of the last consumed record, or -1 if unknown.
    pub committed_leader_epoch: i32,
    /// Free-form text the client stores with the offset.
    pub committed_metadata: Option<String>,
}

impl Default for TxnOffsetCommitRequestPartition {
    fn default() -> Self {
        TxnOffsetCommitRequestPartition {
            partition_index: 0,
            committed_offset: 0,
            committed_leader_epoch: -1,
            committed_metadata: None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TxnOffsetCommitRequestTopic {
    pub name: String,
    pub partitions: Vec<TxnOffsetCommitRequestPartition>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxnOffsetCommitRequest {
    pub transactional_id: String,
    /// The consumer group the offsets belong to.
    pub group_id: String,
    /// The producer id and epoch from InitProducerId.
    pub producer_id: i64,
    pub producer_epoch: i16,
    /// v3+: the consumer's generation, or -1 when the client does not send
    /// its group metadata (then the coordinator skips the generation check).
    pub generation_id: i32,
    /// v3+: the consumer's member id, or empty.
    pub member_id: String,
    /// v3+: the consumer's static member id (KIP-345), if any.
    pub group_instance_id: Option<String>,
    pub topics: Vec<TxnOffsetCommitRequestTopic>,
}

impl Default for TxnOffsetCommitRequest {
    fn default() -> Self {
        TxnOffsetCommitRequest {
            transactional_id: String::new(),
            group_id: String::new(),
            producer_id: 0,
            producer_epoch: 0,
            generation_id: -1,
            member_id: String::new(),
            group_instance_id: None,
            topics: Vec::new(),
        }
    }
}

impl TxnOffsetCommitRequest {
    pub fn read(r: &mut Reader<'_>, version: i16) -> Result<Self> {
        let flexible = version >= 3;
        let mut req = TxnOffsetCommitRequest {
            transactional_id: r.string(flexible)?,
            group_id: r.string(flexible)?,
            producer_id: r.i64()?,
            producer_epoch: r.i16()?,
            ..Default::default()
        };
        if version >= 3 {
            req.generation_id = r.i32()?;
            req.member_id = r.string(flexible)?;
            req.group_instance_id = r.nullable_string(flexible)?;
        }
        req.topics = r.array(flexible, |r| {
            let topic = TxnOffsetCommitRequestTopic {
                name: r.string(flexible)?,
                partitions: r.array(flexible, |r| {
                    let mut partition = TxnOffsetCommitRequestPartition {
                        partition_index: r.i32()?,
                        committed_offset: r.i64()?,
                        ..Default::default()
                    };
                    if version >= 2 {
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
pub struct TxnOffsetCommitResponsePartition {
    pub partition_index: i32,
    pub error_code: i16,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TxnOffsetCommitResponseTopic {
    pub name: String,
    pub partitions: Vec<TxnOffsetCommitResponsePartition>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TxnOffsetCommitResponse {
    pub throttle_time_ms: i32,
    pub topics: Vec<TxnOffsetCommitResponseTopic>,
}

impl TxnOffsetCommitResponse {
    pub fn write(&self, w: &mut Writer, version: i16) {
        let flexible = version >= 3;
        w.i32(self.throttle_time_ms);
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
    use kafka_protocol::messages::txn_offset_commit_request as kp_req;
    use kafka_protocol::messages::txn_offset_commit_response as kp_resp;
    use kafka_protocol::messages::{
        TxnOffsetCommitRequest as KpRequest, TxnOffsetCommitResponse as KpResponse,
    };
    use kafka_protocol::protocol::StrBytes;

    const VERSIONS: std::ops::RangeInclusive<i16> = 0..=3;

    fn oracle_request(version: i16, nulls: bool) -> KpRequest {
        let flexible = version >= 3;
        let mut m = KpRequest::default();
        m.transactional_id = StrBytes::from_static_str("payments-txn-0").into();
        m.group_id = StrBytes::from_static_str("orders-consumers").into();
        m.producer_id = 4_000_000_123.into();
        m.producer_epoch = 7;
        if version >= 3 {
            m.generation_id = 12;
            m.member_id = StrBytes::from_static_str("rdkafka-5b1c");
            if !nulls {
                m.group_instance_id = Some("instance-7".into());
            }
        }
        let partition = |index: i32, offset: i64, metadata: Option<&'static str>| {
            let mut p = kp_req::TxnOffsetCommitRequestPartition::default();
            p.partition_index = index;
            p.committed_offset = offset;
            if version >= 2 {
                p.committed_leader_epoch = 4 + index;
            }
            p.committed_metadata = metadata.map(StrBytes::from);
            if flexible {
                p.unknown_tagged_fields.insert(7, Bytes::from_static(b"x"));
            }
            p
        };
        let topic = |name: &'static str, partitions| {
            let mut t = kp_req::TxnOffsetCommitRequestTopic::default();
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
        if flexible {
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
                let ours = read_all(&bytes, version, TxnOffsetCommitRequest::read);
                let expected = TxnOffsetCommitRequest {
                    transactional_id: m.transactional_id.to_string(),
                    group_id: m.group_id.to_string(),
                    producer_id: m.producer_id.0,
                    producer_epoch: m.producer_epoch,
                    generation_id: m.generation_id,
                    member_id: m.member_id.to_string(),
                    group_instance_id: text(&m.group_instance_id),
                    topics: m
                        .topics
                        .iter()
                        .map(|t| TxnOffsetCommitRequestTopic {
                            name: t.name.to_string(),
                            partitions: t
                                .partitions
                                .iter()
                                .map(|p| TxnOffsetCommitRequestPartition {
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
            TxnOffsetCommitRequest::read,
        );
    }

    fn response() -> TxnOffsetCommitResponse {
        let partition = |partition_index, error_code| TxnOffsetCommitResponsePartition {
            partition_index,
            error_code,
        };
        TxnOffsetCommitResponse {
            throttle_time_ms: 11,
            topics: vec![
                TxnOffsetCommitResponseTopic {
                    name: "orders".into(),
                    partitions: vec![partition(0, 0), partition(3, 22)],
                },
                TxnOffsetCommitResponseTopic {
                    name: "payments".into(),
                    partitions: vec![partition(1, 25)],
                },
            ],
        }
    }

    fn to_oracle(resp: &TxnOffsetCommitResponse) -> KpResponse {
        let mut m = KpResponse::default();
        m.throttle_time_ms = resp.throttle_time_ms;
        m.topics = resp
            .topics
            .iter()
            .map(|topic| {
                let mut t = kp_resp::TxnOffsetCommitResponseTopic::default();
                t.name = StrBytes::from(topic.name.clone()).into();
                t.partitions = topic
                    .partitions
                    .iter()
                    .map(|partition| {
                        let mut p = kp_resp::TxnOffsetCommitResponsePartition::default();
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
            let resp = response();
            let bytes = write(&resp, version, TxnOffsetCommitResponse::write);
            let decoded: KpResponse = decode(&bytes, version);
            assert_eq!(decoded, to_oracle(&resp), "v{version}");
        }
    }
}

//! JoinGroup (key 11), versions 0-9: the first step of a consumer-group
//! rebalance. Every member sends the assignment protocols it supports (with
//! opaque, client-defined metadata); the coordinator picks one protocol and a
//! leader, and hands the leader every member's metadata so it can compute the
//! assignment it then sends back in SyncGroup.
//!
//! Flexible from v6. Version notes:
//! - v0 has no rebalance timeout: the coordinator uses the session timeout.
//! - v4 (KIP-394): a join without a member id is answered with
//!   MEMBER_ID_REQUIRED and the id to rejoin with.
//! - v5 (KIP-345): static membership via `group_instance_id`.
//! - v7 (KIP-559): the response echoes `protocol_type`; `protocol_name`
//!   becomes nullable.
//! - v8 (KIP-800): the client may say why it (re)joins.
//! - v9 (KIP-814): `skip_assignment` tells a static leader that rejoined
//!   without a change that the assignment is already in place.

use crate::protocol::primitives::{Reader, Result, Writer};

/// One assignment protocol the member supports, e.g. "range" or "cooperative-sticky".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JoinGroupRequestProtocol {
    pub name: String,
    /// Opaque to the broker: the consumer's subscription, kept verbatim and
    /// relayed to the leader.
    pub metadata: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinGroupRequest {
    pub group_id: String,
    /// A member that sends no heartbeat for this long is removed.
    pub session_timeout_ms: i32,
    /// v1+: how long the coordinator waits for members to rejoin during a
    /// rebalance. -1 in v0, where the session timeout plays this role.
    pub rebalance_timeout_ms: i32,
    /// Empty on a member's first join.
    pub member_id: String,
    /// v5+: the static member id (KIP-345), or `None` for a dynamic member.
    pub group_instance_id: Option<String>,
    /// The kind of group, "consumer" for Kafka consumers.
    pub protocol_type: String,
    pub protocols: Vec<JoinGroupRequestProtocol>,
    /// v8+: why the member is joining, for the coordinator's log.
    pub reason: Option<String>,
}

impl Default for JoinGroupRequest {
    fn default() -> Self {
        JoinGroupRequest {
            group_id: String::new(),
            session_timeout_ms: 0,
            rebalance_timeout_ms: -1,
            member_id: String::new(),
            group_instance_id: None,
            protocol_type: String::new(),
            protocols: Vec::new(),
            reason: None,
        }
    }
}

impl JoinGroupRequest {
    pub fn read(r: &mut Reader<'_>, version: i16) -> Result<Self> {
        let flexible = version >= 6;
        let mut req = JoinGroupRequest {
            group_id: r.string(flexible)?,
            session_timeout_ms: r.i32()?,
            ..Default::default()
        };
        if version >= 1 {
            req.rebalance_timeout_ms = r.i32()?;
        }
        req.member_id = r.string(flexible)?;
        if version >= 5 {
            req.group_instance_id = r.nullable_string(flexible)?;
        }
        req.protocol_type = r.string(flexible)?;
        req.protocols = r.array(flexible, |r| {
            let protocol = JoinGroupRequestProtocol {
                name: r.string(flexible)?,
                metadata: r.bytes(flexible)?.to_vec(),
            };
            r.skip_tagged_fields(flexible)?;
            Ok(protocol)
        })?;
        if version >= 8 {
            req.reason = r.nullable_string(flexible)?;
        }
        r.skip_tagged_fields(flexible)?;
        Ok(req)
    }
}

/// One member of the group, as the leader sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JoinGroupResponseMember {
    pub member_id: String,
    /// v5+
    pub group_instance_id: Option<String>,
    /// The member's metadata for the chosen protocol, exactly as it sent it.
    pub metadata: Vec<u8>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JoinGroupResponse {
    /// v2+
    pub throttle_time_ms: i32,
    pub error_code: i16,
    /// The generation the member joined, or -1 on error.
    pub generation_id: i32,
    /// v7+: the group's protocol type.
    pub protocol_type: Option<String>,
    /// The chosen assignment protocol. Nullable only from v7; earlier
    /// versions write `None` as an empty string.
    pub protocol_name: Option<String>,
    /// The leader's member id.
    pub leader: String,
    /// v9+: true when the leader must not compute a new assignment (KIP-814).
    pub skip_assignment: bool,
    /// The id the member was given (or must rejoin with, in v4+).
    pub member_id: String,
    /// Every member's metadata; only the leader receives a non-empty list.
    pub members: Vec<JoinGroupResponseMember>,
}

impl JoinGroupResponse {
    pub fn write(&self, w: &mut Writer, version: i16) {
        let flexible = version >= 6;
        if version >= 2 {
            w.i32(self.throttle_time_ms);
        }
        w.i16(self.error_code);
        w.i32(self.generation_id);
        if version >= 7 {
            w.nullable_string(flexible, self.protocol_type.as_deref());
            w.nullable_string(flexible, self.protocol_name.as_deref());
        } else {
            w.string(flexible, self.protocol_name.as_deref().unwrap_or(""));
        }
        w.string(flexible, &self.leader);
        if version >= 9 {
            w.bool(self.skip_assignment);
        }
        w.string(flexible, &self.member_id);
        w.array(flexible, &self.members, |w, m| {
            w.string(flexible, &m.member_id);
            if version >= 5 {
                w.nullable_string(flexible, m.group_instance_id.as_deref());
            }
            w.bytes(flexible, &m.metadata);
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
    use kafka_protocol::messages::join_group_request as kp_req;
    use kafka_protocol::messages::join_group_response as kp_resp;
    use kafka_protocol::messages::{
        JoinGroupRequest as KpRequest, JoinGroupResponse as KpResponse,
    };
    use kafka_protocol::protocol::StrBytes;

    const VERSIONS: std::ops::RangeInclusive<i16> = 0..=9;

    fn oracle_request(version: i16, nulls: bool) -> KpRequest {
        let mut m = KpRequest::default();
        m.group_id = StrBytes::from_static_str("orders-consumers").into();
        m.session_timeout_ms = 45_000;
        if version >= 1 {
            m.rebalance_timeout_ms = 300_000;
        }
        m.member_id = StrBytes::from_static_str("rdkafka-5b1c");
        if version >= 5 && !nulls {
            m.group_instance_id = Some("instance-7".into());
        }
        m.protocol_type = StrBytes::from_static_str("consumer");
        let protocol = |name: &'static str, metadata: &'static [u8]| {
            let mut p = kp_req::JoinGroupRequestProtocol::default();
            p.name = name.into();
            p.metadata = Bytes::from_static(metadata);
            if version >= 6 {
                p.unknown_tagged_fields.insert(7, Bytes::from_static(b"x"));
            }
            p
        };
        m.protocols = vec![
            protocol("range", b"\x00\x03\x00\x00\x00\x01\x00\x06orders"),
            protocol("cooperative-sticky", b""),
        ];
        if version >= 8 && !nulls {
            m.reason = Some("rebalance failed due to timeout".into());
        }
        if version >= 6 {
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
                let ours = read_all(&bytes, version, JoinGroupRequest::read);
                let expected = JoinGroupRequest {
                    group_id: m.group_id.to_string(),
                    session_timeout_ms: m.session_timeout_ms,
                    rebalance_timeout_ms: m.rebalance_timeout_ms,
                    member_id: m.member_id.to_string(),
                    group_instance_id: text(&m.group_instance_id),
                    protocol_type: m.protocol_type.to_string(),
                    protocols: m
                        .protocols
                        .iter()
                        .map(|p| JoinGroupRequestProtocol {
                            name: p.name.to_string(),
                            metadata: p.metadata.to_vec(),
                        })
                        .collect(),
                    reason: text(&m.reason),
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
            JoinGroupRequest::read,
        );
    }

    fn response(version: i16, nulls: bool) -> JoinGroupResponse {
        let mut resp = JoinGroupResponse {
            error_code: 79,
            generation_id: 12,
            protocol_name: Some("range".into()),
            leader: "rdkafka-leader".into(),
            member_id: "rdkafka-5b1c".into(),
            ..Default::default()
        };
        if version >= 2 {
            resp.throttle_time_ms = 25;
        }
        if version >= 7 {
            resp.protocol_type = (!nulls).then(|| "consumer".to_owned());
            if nulls {
                resp.protocol_name = None;
            }
        }
        if version >= 9 {
            resp.skip_assignment = true;
        }
        let instance = |id: &str| (version >= 5 && !nulls).then(|| id.to_owned());
        resp.members = vec![
            JoinGroupResponseMember {
                member_id: "rdkafka-leader".into(),
                group_instance_id: instance("instance-1"),
                metadata: b"\x00\x03subscription".to_vec(),
            },
            JoinGroupResponseMember {
                member_id: "rdkafka-5b1c".into(),
                group_instance_id: instance("instance-7"),
                metadata: Vec::new(),
            },
        ];
        resp
    }

    fn to_oracle(resp: &JoinGroupResponse) -> KpResponse {
        let mut m = KpResponse::default();
        m.throttle_time_ms = resp.throttle_time_ms;
        m.error_code = resp.error_code;
        m.generation_id = resp.generation_id;
        m.protocol_type = resp.protocol_type.clone().map(StrBytes::from);
        m.protocol_name = resp.protocol_name.clone().map(StrBytes::from);
        m.leader = resp.leader.clone().into();
        m.skip_assignment = resp.skip_assignment;
        m.member_id = resp.member_id.clone().into();
        m.members = resp
            .members
            .iter()
            .map(|member| {
                let mut k = kp_resp::JoinGroupResponseMember::default();
                k.member_id = member.member_id.clone().into();
                k.group_instance_id = member.group_instance_id.clone().map(StrBytes::from);
                k.metadata = Bytes::from(member.metadata.clone());
                k
            })
            .collect();
        m
    }

    #[test]
    fn response_matches_oracle_in_every_version() {
        for version in VERSIONS {
            for nulls in [false, true] {
                let resp = response(version, nulls);
                let bytes = write(&resp, version, JoinGroupResponse::write);
                let decoded: KpResponse = decode(&bytes, version);
                assert_eq!(decoded, to_oracle(&resp), "v{version} nulls={nulls}");
            }
        }
    }

    #[test]
    fn missing_protocol_name_is_written_as_empty_before_v7() {
        let resp = JoinGroupResponse::default();
        let decoded: KpResponse = decode(&write(&resp, 6, JoinGroupResponse::write), 6);
        assert_eq!(decoded.protocol_name.as_deref(), Some(""));
    }
}

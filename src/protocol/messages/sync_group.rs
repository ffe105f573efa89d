//! SyncGroup (key 14), versions 0-5: the second step of a rebalance. The
//! leader sends the assignment it computed for every member; every member
//! (leader included) receives its own assignment in the response.
//!
//! Flexible from v4. v3 (KIP-345) adds `group_instance_id`; v5 (KIP-559)
//! adds `protocol_type`/`protocol_name` in both directions so the client can
//! check that it got the assignment for the protocol it expects.

use crate::protocol::primitives::{Reader, Result, Writer};

/// The leader's assignment for one member.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncGroupRequestAssignment {
    pub member_id: String,
    /// Opaque to the broker: kept verbatim and returned to that member.
    pub assignment: Vec<u8>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncGroupRequest {
    pub group_id: String,
    pub generation_id: i32,
    pub member_id: String,
    /// v3+: the static member id (KIP-345), if any.
    pub group_instance_id: Option<String>,
    /// v5+
    pub protocol_type: Option<String>,
    /// v5+
    pub protocol_name: Option<String>,
    /// Empty unless the sender is the leader.
    pub assignments: Vec<SyncGroupRequestAssignment>,
}

impl SyncGroupRequest {
    pub fn read(r: &mut Reader<'_>, version: i16) -> Result<Self> {
        let flexible = version >= 4;
        let mut req = SyncGroupRequest {
            group_id: r.string(flexible)?,
            generation_id: r.i32()?,
            member_id: r.string(flexible)?,
            ..Default::default()
        };
        if version >= 3 {
            req.group_instance_id = r.nullable_string(flexible)?;
        }
        if version >= 5 {
            req.protocol_type = r.nullable_string(flexible)?;
            req.protocol_name = r.nullable_string(flexible)?;
        }
        req.assignments = r.array(flexible, |r| {
            let assignment = SyncGroupRequestAssignment {
                member_id: r.string(flexible)?,
                assignment: r.bytes(flexible)?.to_vec(),
            };
            r.skip_tagged_fields(flexible)?;
            Ok(assignment)
        })?;
        r.skip_tagged_fields(flexible)?;
        Ok(req)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncGroupResponse {
    /// v1+
    pub throttle_time_ms: i32,
    pub error_code: i16,
    /// v5+
    pub protocol_type: Option<String>,
    /// v5+
    pub protocol_name: Option<String>,
    /// This member's assignment, verbatim from the leader. Never null on the
    /// wire: an empty assignment is written as zero bytes.
    pub assignment: Vec<u8>,
}

impl SyncGroupResponse {
    pub fn write(&self, w: &mut Writer, version: i16) {
        let flexible = version >= 4;
        if version >= 1 {
            w.i32(self.throttle_time_ms);
        }
        w.i16(self.error_code);
        if version >= 5 {
            w.nullable_string(flexible, self.protocol_type.as_deref());
            w.nullable_string(flexible, self.protocol_name.as_deref());
        }
        w.bytes(flexible, &self.assignment);
        w.empty_tagged_fields(flexible);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::oracle::*;
    use bytes::Bytes;
    use kafka_protocol::messages::sync_group_request as kp_req;
    use kafka_protocol::messages::{
        SyncGroupRequest as KpRequest, SyncGroupResponse as KpResponse,
    };
    use kafka_protocol::protocol::StrBytes;

    const VERSIONS: std::ops::RangeInclusive<i16> = 0..=5;

    fn oracle_request(version: i16, nulls: bool) -> KpRequest {
        let mut m = KpRequest::default();
        m.group_id = StrBytes::from_static_str("orders-consumers").into();
        m.generation_id = 12;
        m.member_id = StrBytes::from_static_str("rdkafka-leader");
        if version >= 3 && !nulls {
            m.group_instance_id = Some("instance-1".into());
        }
        if version >= 5 && !nulls {
            m.protocol_type = Some("consumer".into());
            m.protocol_name = Some("range".into());
        }
        let assignment = |member: &'static str, bytes: &'static [u8]| {
            let mut a = kp_req::SyncGroupRequestAssignment::default();
            a.member_id = member.into();
            a.assignment = Bytes::from_static(bytes);
            a
        };
        m.assignments = vec![
            assignment("rdkafka-leader", b"\x00\x03\x00\x00\x00\x01\x00\x06orders"),
            assignment("rdkafka-5b1c", b""),
        ];
        if version >= 4 {
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
                let ours = read_all(&bytes, version, SyncGroupRequest::read);
                let expected = SyncGroupRequest {
                    group_id: m.group_id.to_string(),
                    generation_id: m.generation_id,
                    member_id: m.member_id.to_string(),
                    group_instance_id: text(&m.group_instance_id),
                    protocol_type: text(&m.protocol_type),
                    protocol_name: text(&m.protocol_name),
                    assignments: m
                        .assignments
                        .iter()
                        .map(|a| SyncGroupRequestAssignment {
                            member_id: a.member_id.to_string(),
                            assignment: a.assignment.to_vec(),
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
            SyncGroupRequest::read,
        );
    }

    fn response(version: i16, nulls: bool, assignment: &[u8]) -> SyncGroupResponse {
        let mut resp = SyncGroupResponse {
            error_code: 27,
            assignment: assignment.to_vec(),
            ..Default::default()
        };
        if version >= 1 {
            resp.throttle_time_ms = 8;
        }
        if version >= 5 && !nulls {
            resp.protocol_type = Some("consumer".into());
            resp.protocol_name = Some("range".into());
        }
        resp
    }

    fn to_oracle(resp: &SyncGroupResponse) -> KpResponse {
        let mut m = KpResponse::default();
        m.throttle_time_ms = resp.throttle_time_ms;
        m.error_code = resp.error_code;
        m.protocol_type = resp.protocol_type.clone().map(StrBytes::from);
        m.protocol_name = resp.protocol_name.clone().map(StrBytes::from);
        m.assignment = Bytes::from(resp.assignment.clone());
        m
    }

    #[test]
    fn response_matches_oracle_in_every_version() {
        for version in VERSIONS {
            for nulls in [false, true] {
                for assignment in [&b"\x00\x03\x00\x00\x00\x01"[..], b""] {
                    let resp = response(version, nulls, assignment);
                    let bytes = write(&resp, version, SyncGroupResponse::write);
                    let decoded: KpResponse = decode(&bytes, version);
                    assert_eq!(decoded, to_oracle(&resp), "v{version} nulls={nulls}");
                }
            }
        }
    }

    /// An empty assignment is a zero-length byte string, not null: clients
    /// treat a null assignment as a protocol error.
    #[test]
    fn empty_assignment_is_written_as_zero_bytes() {
        let resp = SyncGroupResponse::default();
        assert_eq!(
            write(&resp, 0, SyncGroupResponse::write),
            [0, 0, 0, 0, 0, 0]
        );
        assert_eq!(
            write(&resp, 4, SyncGroupResponse::write),
            [0, 0, 0, 0, 0, 0, 1, 0]
        );
    }
}

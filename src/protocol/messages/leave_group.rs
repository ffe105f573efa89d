//! LeaveGroup (key 13), versions 0-5: members leave a group at once rather
//! than waiting for their session to expire, which starts a rebalance.
//!
//! Flexible from v4. v3 (KIP-345) replaces the single `member_id` with a
//! batch of `members`, so an operator can remove static members by instance
//! id, and answers per member; v5 (KIP-800) adds a reason per member.

use crate::protocol::primitives::{Reader, Result, Writer};

/// v3+: one member to remove.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberIdentity {
    /// May be empty when `group_instance_id` names a static member.
    pub member_id: String,
    pub group_instance_id: Option<String>,
    /// v5+: why the member leaves, for the coordinator's log.
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeaveGroupRequest {
    pub group_id: String,
    /// v0-2: the one member leaving.
    pub member_id: String,
    /// v3+: the members leaving.
    pub members: Vec<MemberIdentity>,
}

impl LeaveGroupRequest {
    pub fn read(r: &mut Reader<'_>, version: i16) -> Result<Self> {
        let flexible = version >= 4;
        let mut req = LeaveGroupRequest {
            group_id: r.string(flexible)?,
            ..Default::default()
        };
        if version <= 2 {
            req.member_id = r.string(flexible)?;
        } else {
            req.members = r.array(flexible, |r| {
                let mut member = MemberIdentity {
                    member_id: r.string(flexible)?,
                    group_instance_id: r.nullable_string(flexible)?,
                    reason: None,
                };
                if version >= 5 {
                    member.reason = r.nullable_string(flexible)?;
                }
                r.skip_tagged_fields(flexible)?;
                Ok(member)
            })?;
        }
        r.skip_tagged_fields(flexible)?;
        Ok(req)
    }
}

/// v3+: the outcome for one member of the request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberResponse {
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub error_code: i16,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeaveGroupResponse {
    /// v1+
    pub throttle_time_ms: i32,
    /// A group-level error; per-member errors are in `members` (v3+).
    pub error_code: i16,
    /// v3+
    pub members: Vec<MemberResponse>,
}

impl LeaveGroupResponse {
    pub fn write(&self, w: &mut Writer, version: i16) {
        let flexible = version >= 4;
        if version >= 1 {
            w.i32(self.throttle_time_ms);
        }
        w.i16(self.error_code);
        if version >= 3 {
            w.array(flexible, &self.members, |w, m| {
                w.string(flexible, &m.member_id);
                w.nullable_string(flexible, m.group_instance_id.as_deref());
                w.i16(m.error_code);
                w.empty_tagged_fields(flexible);
            });
        }
        w.empty_tagged_fields(flexible);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::oracle::*;
    use bytes::Bytes;
    use kafka_protocol::messages::leave_group_request as kp_req;
    use kafka_protocol::messages::leave_group_response as kp_resp;
    use kafka_protocol::messages::{
        LeaveGroupRequest as KpRequest, LeaveGroupResponse as KpResponse,
    };
    use kafka_protocol::protocol::StrBytes;

    const VERSIONS: std::ops::RangeInclusive<i16> = 0..=5;

    fn oracle_request(version: i16) -> KpRequest {
        let mut m = KpRequest::default();
        m.group_id = StrBytes::from_static_str("orders-consumers").into();
        if version <= 2 {
            m.member_id = StrBytes::from_static_str("rdkafka-5b1c");
        } else {
            let member =
                |id: &'static str, instance: Option<&'static str>, reason: Option<&'static str>| {
                    let mut k = kp_req::MemberIdentity::default();
                    k.member_id = id.into();
                    k.group_instance_id = instance.map(StrBytes::from);
                    if version >= 4 {
                        k.unknown_tagged_fields.insert(7, Bytes::from_static(b"x"));
                    }
                    if version >= 5 {
                        k.reason = reason.map(StrBytes::from);
                    }
                    k
                };
            m.members = vec![
                member("rdkafka-5b1c", None, Some("consumer closed")),
                member("", Some("instance-7"), None),
            ];
        }
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
            let m = oracle_request(version);
            let bytes = encode(&m, version);
            let ours = read_all(&bytes, version, LeaveGroupRequest::read);
            let expected = LeaveGroupRequest {
                group_id: m.group_id.to_string(),
                member_id: m.member_id.to_string(),
                members: m
                    .members
                    .iter()
                    .map(|k| MemberIdentity {
                        member_id: k.member_id.to_string(),
                        group_instance_id: text(&k.group_instance_id),
                        reason: text(&k.reason),
                    })
                    .collect(),
            };
            assert_eq!(ours, expected, "v{version}");
        }
    }

    #[test]
    fn truncated_requests_are_errors() {
        assert_truncations_fail_in(
            VERSIONS,
            |version| encode(&oracle_request(version), version),
            LeaveGroupRequest::read,
        );
    }

    fn response(version: i16) -> LeaveGroupResponse {
        let mut resp = LeaveGroupResponse {
            error_code: 16,
            ..Default::default()
        };
        if version >= 1 {
            resp.throttle_time_ms = 3;
        }
        if version >= 3 {
            resp.members = vec![
                MemberResponse {
                    member_id: "rdkafka-5b1c".into(),
                    group_instance_id: None,
                    error_code: 0,
                },
                MemberResponse {
                    member_id: String::new(),
                    group_instance_id: Some("instance-7".into()),
                    error_code: 82,
                },
            ];
        }
        resp
    }

    fn to_oracle(resp: &LeaveGroupResponse) -> KpResponse {
        let mut m = KpResponse::default();
        m.throttle_time_ms = resp.throttle_time_ms;
        m.error_code = resp.error_code;
        m.members = resp
            .members
            .iter()
            .map(|member| {
                let mut k = kp_resp::MemberResponse::default();
                k.member_id = member.member_id.clone().into();
                k.group_instance_id = member.group_instance_id.clone().map(StrBytes::from);
                k.error_code = member.error_code;
                k
            })
            .collect();
        m
    }

    #[test]
    fn response_matches_oracle_in_every_version() {
        for version in VERSIONS {
            let resp = response(version);
            let bytes = write(&resp, version, LeaveGroupResponse::write);
            let decoded: KpResponse = decode(&bytes, version);
            assert_eq!(decoded, to_oracle(&resp), "v{version}");
        }
    }
}

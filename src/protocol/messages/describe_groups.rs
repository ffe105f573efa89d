//! DescribeGroups (key 15), versions 0-5: the state, protocol and members of
//! classic groups, as `kafka-consumer-groups --describe` shows them.
//!
//! Flexible from v5. v3 (KIP-430) can ask for the operations the caller is
//! authorized to perform on each group; v4 (KIP-345) adds each member's
//! `group_instance_id`.

use crate::protocol::primitives::{Reader, Result, Writer};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribeGroupsRequest {
    pub groups: Vec<String>,
    /// v3+: also return `authorized_operations` for each group.
    pub include_authorized_operations: bool,
}

impl DescribeGroupsRequest {
    pub fn read(r: &mut Reader<'_>, version: i16) -> Result<Self> {
        let flexible = version >= 5;
        let mut req = DescribeGroupsRequest {
            groups: r.array(flexible, |r| r.string(flexible))?,
            include_authorized_operations: false,
        };
        if version >= 3 {
            req.include_authorized_operations = r.bool()?;
        }
        r.skip_tagged_fields(flexible)?;
        Ok(req)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribedGroupMember {
    pub member_id: String,
    /// v4+: the static member id (KIP-345), if any.
    pub group_instance_id: Option<String>,
    /// The client id the member connected with.
    pub client_id: String,
    /// The member's host, as seen by the coordinator.
    pub client_host: String,
    /// The metadata the member sent in JoinGroup for the chosen protocol.
    pub member_metadata: Vec<u8>,
    /// The assignment the leader gave this member in SyncGroup.
    pub member_assignment: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribedGroup {
    pub error_code: i16,
    pub group_id: String,
    /// "Empty", "PreparingRebalance", "CompletingRebalance", "Stable" or
    /// "Dead", or "" when the group does not exist.
    pub group_state: String,
    /// "consumer" for consumer groups.
    pub protocol_type: String,
    /// The chosen assignment protocol, e.g. "range", when the group is stable.
    pub protocol_data: String,
    pub members: Vec<DescribedGroupMember>,
    /// v3+: a bit field of the ACL operations the caller may perform on the
    /// group (KIP-430), or `i32::MIN` when not requested.
    pub authorized_operations: i32,
}

impl Default for DescribedGroup {
    fn default() -> Self {
        DescribedGroup {
            error_code: 0,
            group_id: String::new(),
            group_state: String::new(),
            protocol_type: String::new(),
            protocol_data: String::new(),
            members: Vec::new(),
            authorized_operations: i32::MIN,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribeGroupsResponse {
    /// v1+
    pub throttle_time_ms: i32,
    pub groups: Vec<DescribedGroup>,
}

impl DescribeGroupsResponse {
    pub fn write(&self, w: &mut Writer, version: i16) {
        let flexible = version >= 5;
        if version >= 1 {
            w.i32(self.throttle_time_ms);
        }
        w.array(flexible, &self.groups, |w, group| {
            w.i16(group.error_code);
            w.string(flexible, &group.group_id);
            w.string(flexible, &group.group_state);
            w.string(flexible, &group.protocol_type);
            w.string(flexible, &group.protocol_data);
            w.array(flexible, &group.members, |w, member| {
                w.string(flexible, &member.member_id);
                if version >= 4 {
                    w.nullable_string(flexible, member.group_instance_id.as_deref());
                }
                w.string(flexible, &member.client_id);
                w.string(flexible, &member.client_host);
                w.bytes(flexible, &member.member_metadata);
                w.bytes(flexible, &member.member_assignment);
                w.empty_tagged_fields(flexible);
            });
            if version >= 3 {
                w.i32(group.authorized_operations);
            }
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
    use kafka_protocol::messages::describe_groups_response as kp_resp;
    use kafka_protocol::messages::{
        DescribeGroupsRequest as KpRequest, DescribeGroupsResponse as KpResponse,
    };
    use kafka_protocol::protocol::StrBytes;

    const VERSIONS: std::ops::RangeInclusive<i16> = 0..=5;

    fn oracle_request(version: i16) -> KpRequest {
        let mut m = KpRequest::default();
        m.groups = vec![
            StrBytes::from_static_str("orders-consumers").into(),
            StrBytes::from_static_str("").into(),
            StrBytes::from_static_str("audit").into(),
        ];
        if version >= 3 {
            m.include_authorized_operations = true;
        }
        if version >= 5 {
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
            let ours = read_all(&bytes, version, DescribeGroupsRequest::read);
            let expected = DescribeGroupsRequest {
                groups: m.groups.iter().map(|g| g.to_string()).collect(),
                include_authorized_operations: m.include_authorized_operations,
            };
            assert_eq!(ours, expected, "v{version}");
        }
    }

    #[test]
    fn truncated_requests_are_errors() {
        assert_truncations_fail_in(
            VERSIONS,
            |version| encode(&oracle_request(version), version),
            DescribeGroupsRequest::read,
        );
    }

    fn response(version: i16) -> DescribeGroupsResponse {
        let instance = |id: &str| (version >= 4).then(|| id.to_owned());
        let stable = DescribedGroup {
            error_code: 0,
            group_id: "orders-consumers".into(),
            group_state: "Stable".into(),
            protocol_type: "consumer".into(),
            protocol_data: "range".into(),
            members: vec![
                DescribedGroupMember {
                    member_id: "rdkafka-leader".into(),
                    group_instance_id: instance("instance-1"),
                    client_id: "orders-app".into(),
                    client_host: "/10.0.0.7".into(),
                    member_metadata: b"\x00\x03subscription".to_vec(),
                    member_assignment: b"\x00\x03assignment".to_vec(),
                },
                DescribedGroupMember {
                    member_id: "rdkafka-5b1c".into(),
                    group_instance_id: None,
                    client_id: "orders-app".into(),
                    client_host: "/10.0.0.8".into(),
                    member_metadata: Vec::new(),
                    member_assignment: Vec::new(),
                },
            ],
            authorized_operations: if version >= 3 {
                0b1_0110_0000
            } else {
                i32::MIN
            },
        };
        let missing = DescribedGroup {
            error_code: 69,
            group_id: "audit".into(),
            group_state: "Dead".into(),
            ..Default::default()
        };
        DescribeGroupsResponse {
            throttle_time_ms: if version >= 1 { 9 } else { 0 },
            groups: vec![stable, missing],
        }
    }

    fn to_oracle(resp: &DescribeGroupsResponse) -> KpResponse {
        let mut m = KpResponse::default();
        m.throttle_time_ms = resp.throttle_time_ms;
        m.groups = resp
            .groups
            .iter()
            .map(|group| {
                let mut g = kp_resp::DescribedGroup::default();
                g.error_code = group.error_code;
                g.group_id = StrBytes::from(group.group_id.clone()).into();
                g.group_state = group.group_state.clone().into();
                g.protocol_type = group.protocol_type.clone().into();
                g.protocol_data = group.protocol_data.clone().into();
                g.authorized_operations = group.authorized_operations;
                g.members = group
                    .members
                    .iter()
                    .map(|member| {
                        let mut k = kp_resp::DescribedGroupMember::default();
                        k.member_id = member.member_id.clone().into();
                        k.group_instance_id = member.group_instance_id.clone().map(StrBytes::from);
                        k.client_id = member.client_id.clone().into();
                        k.client_host = member.client_host.clone().into();
                        k.member_metadata = Bytes::from(member.member_metadata.clone());
                        k.member_assignment = Bytes::from(member.member_assignment.clone());
                        k
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
            let resp = response(version);
            let bytes = write(&resp, version, DescribeGroupsResponse::write);
            let decoded: KpResponse = decode(&bytes, version);
            assert_eq!(decoded, to_oracle(&resp), "v{version}");
        }
    }
}

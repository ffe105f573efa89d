//! ListGroups (key 16), versions 0-5: every group this broker coordinates.
//!
//! Flexible from v3. v4 (KIP-518) can filter by group state and returns each
//! group's state; v5 (KIP-848) can filter by group type ("classic",
//! "consumer", ...) and returns each group's type.

use crate::protocol::primitives::{Reader, Result, Writer};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListGroupsRequest {
    /// v4+: only list groups in one of these states; empty lists all.
    pub states_filter: Vec<String>,
    /// v5+: only list groups of one of these types; empty lists all.
    pub types_filter: Vec<String>,
}

impl ListGroupsRequest {
    pub fn read(r: &mut Reader<'_>, version: i16) -> Result<Self> {
        let flexible = version >= 3;
        let mut req = ListGroupsRequest::default();
        if version >= 4 {
            req.states_filter = r.array(flexible, |r| r.string(flexible))?;
        }
        if version >= 5 {
            req.types_filter = r.array(flexible, |r| r.string(flexible))?;
        }
        r.skip_tagged_fields(flexible)?;
        Ok(req)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListedGroup {
    pub group_id: String,
    /// "consumer" for consumer groups; empty for groups that only commit
    /// offsets.
    pub protocol_type: String,
    /// v4+: the group's state, e.g. "Stable".
    pub group_state: String,
    /// v5+: the group's type, e.g. "classic".
    pub group_type: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListGroupsResponse {
    /// v1+
    pub throttle_time_ms: i32,
    pub error_code: i16,
    pub groups: Vec<ListedGroup>,
}

impl ListGroupsResponse {
    pub fn write(&self, w: &mut Writer, version: i16) {
        let flexible = version >= 3;
        if version >= 1 {
            w.i32(self.throttle_time_ms);
        }
        w.i16(self.error_code);
        w.array(flexible, &self.groups, |w, group| {
            w.string(flexible, &group.group_id);
            w.string(flexible, &group.protocol_type);
            if version >= 4 {
                w.string(flexible, &group.group_state);
            }
            if version >= 5 {
                w.string(flexible, &group.group_type);
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
    use kafka_protocol::messages::list_groups_response as kp_resp;
    use kafka_protocol::messages::{
        ListGroupsRequest as KpRequest, ListGroupsResponse as KpResponse,
    };
    use kafka_protocol::protocol::StrBytes;

    const VERSIONS: std::ops::RangeInclusive<i16> = 0..=5;

    fn oracle_request(version: i16) -> KpRequest {
        let mut m = KpRequest::default();
        if version >= 4 {
            m.states_filter = vec!["Stable".into(), "Empty".into()];
        }
        if version >= 5 {
            m.types_filter = vec!["classic".into()];
        }
        if version >= 3 {
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
            let ours = read_all(&bytes, version, ListGroupsRequest::read);
            let expected = ListGroupsRequest {
                states_filter: m.states_filter.iter().map(|s| s.to_string()).collect(),
                types_filter: m.types_filter.iter().map(|s| s.to_string()).collect(),
            };
            assert_eq!(ours, expected, "v{version}");
        }
    }

    #[test]
    fn truncated_requests_are_errors() {
        assert_truncations_fail_in(
            VERSIONS,
            |version| encode(&oracle_request(version), version),
            ListGroupsRequest::read,
        );
    }

    fn response(version: i16) -> ListGroupsResponse {
        let group = |id: &str, protocol_type: &str, state: &str, kind: &str| ListedGroup {
            group_id: id.into(),
            protocol_type: protocol_type.into(),
            group_state: if version >= 4 {
                state.into()
            } else {
                String::new()
            },
            group_type: if version >= 5 {
                kind.into()
            } else {
                String::new()
            },
        };
        ListGroupsResponse {
            throttle_time_ms: if version >= 1 { 2 } else { 0 },
            error_code: 14,
            groups: vec![
                group("orders-consumers", "consumer", "Stable", "classic"),
                group("offsets-only", "", "Empty", "classic"),
            ],
        }
    }

    fn to_oracle(resp: &ListGroupsResponse) -> KpResponse {
        let mut m = KpResponse::default();
        m.throttle_time_ms = resp.throttle_time_ms;
        m.error_code = resp.error_code;
        m.groups = resp
            .groups
            .iter()
            .map(|group| {
                let mut g = kp_resp::ListedGroup::default();
                g.group_id = StrBytes::from(group.group_id.clone()).into();
                g.protocol_type = group.protocol_type.clone().into();
                g.group_state = group.group_state.clone().into();
                g.group_type = group.group_type.clone().into();
                g
            })
            .collect();
        m
    }

    #[test]
    fn response_matches_oracle_in_every_version() {
        for version in VERSIONS {
            let resp = response(version);
            let bytes = write(&resp, version, ListGroupsResponse::write);
            let decoded: KpResponse = decode(&bytes, version);
            assert_eq!(decoded, to_oracle(&resp), "v{version}");
        }
    }
}

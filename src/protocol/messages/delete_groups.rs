//! DeleteGroups (key 42), versions 0-2: removes empty groups and their
//! committed offsets (KIP-229). A group with live members is refused with
//! NON_EMPTY_GROUP. Flexible from v2.

use crate::protocol::primitives::{Reader, Result, Writer};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeleteGroupsRequest {
    pub groups_names: Vec<String>,
}

impl DeleteGroupsRequest {
    pub fn read(r: &mut Reader<'_>, version: i16) -> Result<Self> {
        let flexible = version >= 2;
        let req = DeleteGroupsRequest {
            groups_names: r.array(flexible, |r| r.string(flexible))?,
        };
        r.skip_tagged_fields(flexible)?;
        Ok(req)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeletableGroupResult {
    pub group_id: String,
    pub error_code: i16,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeleteGroupsResponse {
    pub throttle_time_ms: i32,
    /// One result per requested group.
    pub results: Vec<DeletableGroupResult>,
}

impl DeleteGroupsResponse {
    pub fn write(&self, w: &mut Writer, version: i16) {
        let flexible = version >= 2;
        w.i32(self.throttle_time_ms);
        w.array(flexible, &self.results, |w, result| {
            w.string(flexible, &result.group_id);
            w.i16(result.error_code);
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
    use kafka_protocol::messages::delete_groups_response as kp_resp;
    use kafka_protocol::messages::{
        DeleteGroupsRequest as KpRequest, DeleteGroupsResponse as KpResponse,
    };
    use kafka_protocol::protocol::StrBytes;

    const VERSIONS: std::ops::RangeInclusive<i16> = 0..=2;

    fn oracle_request(version: i16) -> KpRequest {
        let mut m = KpRequest::default();
        m.groups_names = vec![
            StrBytes::from_static_str("orders-consumers").into(),
            StrBytes::from_static_str("").into(),
            StrBytes::from_static_str("audit").into(),
        ];
        if version >= 2 {
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
            let ours = read_all(&bytes, version, DeleteGroupsRequest::read);
            let expected = DeleteGroupsRequest {
                groups_names: m.groups_names.iter().map(|g| g.to_string()).collect(),
            };
            assert_eq!(ours, expected, "v{version}");
        }
    }

    #[test]
    fn truncated_requests_are_errors() {
        assert_truncations_fail_in(
            VERSIONS,
            |version| encode(&oracle_request(version), version),
            DeleteGroupsRequest::read,
        );
    }

    #[test]
    fn response_matches_oracle_in_every_version() {
        let resp = DeleteGroupsResponse {
            throttle_time_ms: 13,
            results: vec![
                DeletableGroupResult {
                    group_id: "orders-consumers".into(),
                    error_code: 68,
                },
                DeletableGroupResult {
                    group_id: "audit".into(),
                    error_code: 0,
                },
            ],
        };
        let mut expected = KpResponse::default();
        expected.throttle_time_ms = resp.throttle_time_ms;
        expected.results = resp
            .results
            .iter()
            .map(|result| {
                let mut k = kp_resp::DeletableGroupResult::default();
                k.group_id = StrBytes::from(result.group_id.clone()).into();
                k.error_code = result.error_code;
                k
            })
            .collect();
        for version in VERSIONS {
            let bytes = write(&resp, version, DeleteGroupsResponse::write);
            let decoded: KpResponse = decode(&bytes, version);
            assert_eq!(decoded, expected, "v{version}");
        }
    }
}

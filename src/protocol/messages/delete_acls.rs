//! DeleteAcls (key 31), versions 1-3: remove every ACL binding matching
//! each filter and report, per filter, the bindings it matched (KIP-140;
//! pattern types from v1, KIP-290). Flexible from v2. Version 0 was removed
//! in Kafka 4.0 (KIP-896).
//!
//! The filters have DescribeAcls' layout ([`AclFilterData`]); as in
//! Kafka's request class, a filter carrying the UNKNOWN code (0) in one of
//! its enums does not parse, which closes the connection.

use super::describe_acls::AclFilterData;
use crate::protocol::primitives::{DecodeError, Reader, Result, Writer};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeleteAclsRequest {
    pub filters: Vec<AclFilterData>,
}

impl DeleteAclsRequest {
    pub fn read(r: &mut Reader<'_>, version: i16) -> Result<Self> {
        let flexible = version >= 2;
        let filters = r.array(flexible, |r| {
            let filter = AclFilterData::read(r, flexible)?;
            r.skip_tagged_fields(flexible)?;
            Ok(filter)
        })?;
        r.skip_tagged_fields(flexible)?;
        if filters.iter().any(AclFilterData::has_unknown_code) {
            return Err(DecodeError::Invalid(
                "Filters contain UNKNOWN elements".into(),
            ));
        }
        Ok(DeleteAclsRequest { filters })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeleteAclsResponse {
    pub throttle_time_ms: i32,
    /// One per filter, in request order.
    pub filter_results: Vec<DeleteAclsFilterResult>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeleteAclsFilterResult {
    pub error_code: i16,
    pub error_message: Option<String>,
    /// The bindings this filter matched, all of them now deleted.
    pub matching_acls: Vec<DeleteAclsMatchingAcl>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeleteAclsMatchingAcl {
    pub error_code: i16,
    pub error_message: Option<String>,
    pub resource_type: i8,
    pub resource_name: String,
    pub pattern_type: i8,
    pub principal: String,
    pub host: String,
    pub operation: i8,
    pub permission_type: i8,
}

impl DeleteAclsResponse {
    pub fn write(&self, w: &mut Writer, version: i16) {
        let flexible = version >= 2;
        w.i32(self.throttle_time_ms);
        w.array(flexible, &self.filter_results, |w, result| {
            w.i16(result.error_code);
            w.nullable_string(flexible, result.error_message.as_deref());
            w.array(flexible, &result.matching_acls, |w, acl| {
                w.i16(acl.error_code);
                w.nullable_string(flexible, acl.error_message.as_deref());
                w.i8(acl.resource_type);
                w.string(flexible, &acl.resource_name);
                w.i8(acl.pattern_type);
                w.string(flexible, &acl.principal);
                w.string(flexible, &acl.host);
                w.i8(acl.operation);
                w.i8(acl.permission_type);
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
    use kafka_protocol::messages::delete_acls_request as kreq;
    use kafka_protocol::messages::delete_acls_response as kres;

    const VERSIONS: std::ops::RangeInclusive<i16> = 1..=3;

    fn oracle_of(request: &DeleteAclsRequest) -> kreq::DeleteAclsRequest {
        oracle!(kreq::DeleteAclsRequest {
            filters: request
                .filters
                .iter()
                .map(|f| oracle!(kreq::DeleteAclsFilter {
                    resource_type_filter: f.resource_type,
                    resource_name_filter: f.resource_name.as_deref().map(s),
                    pattern_type_filter: f.pattern_type,
                    principal_filter: f.principal.as_deref().map(s),
                    host_filter: f.host.as_deref().map(s),
                    operation: f.operation,
                    permission_type: f.permission_type,
                }))
                .collect(),
        })
    }

    fn sample() -> DeleteAclsRequest {
        DeleteAclsRequest {
            filters: vec![
                AclFilterData {
                    resource_type: 2,
                    resource_name: Some("orders".into()),
                    pattern_type: 2,
                    principal: None,
                    host: None,
                    operation: 1,
                    permission_type: 1,
                },
                AclFilterData {
                    resource_type: 3,
                    resource_name: None,
                    pattern_type: 4,
                    principal: Some("User:bob".into()),
                    host: Some("*".into()),
                    operation: 8,
                    permission_type: 3,
                },
            ],
        }
    }

    #[test]
    fn reads_every_request_version_encoded_by_the_oracle() {
        let expected = sample();
        let oracle = oracle_of(&expected);
        for version in VERSIONS {
            let buf = encode(&oracle, version);
            assert_eq!(
                read_all(&buf, version, DeleteAclsRequest::read),
                expected,
                "v{version}"
            );
            assert_truncations_fail(&buf, version, DeleteAclsRequest::read);
        }
    }

    #[test]
    fn a_filter_with_an_unknown_code_does_not_parse() {
        let mut request = sample();
        request.filters[1].permission_type = 0;
        for version in VERSIONS {
            let buf = encode(&oracle_of(&request), version);
            assert!(DeleteAclsRequest::read(&mut Reader::new(&buf), version).is_err());
        }
    }

    #[test]
    fn every_response_version_is_read_back_by_the_oracle() {
        let res = DeleteAclsResponse {
            throttle_time_ms: 0,
            filter_results: vec![
                DeleteAclsFilterResult {
                    error_code: 0,
                    error_message: None,
                    matching_acls: vec![DeleteAclsMatchingAcl {
                        error_code: 0,
                        error_message: None,
                        resource_type: 2,
                        resource_name: "orders".into(),
                        pattern_type: 4,
                        principal: "User:alice".into(),
                        host: "*".into(),
                        operation: 3,
                        permission_type: 3,
                    }],
                },
                DeleteAclsFilterResult {
                    error_code: 42,
                    error_message: Some("Unknown patternFilter.".into()),
                    matching_acls: vec![],
                },
            ],
        };
        let oracle = oracle!(kres::DeleteAclsResponse {
            filter_results: res
                .filter_results
                .iter()
                .map(|r| oracle!(kres::DeleteAclsFilterResult {
                    error_code: r.error_code,
                    error_message: r.error_message.as_deref().map(s),
                    matching_acls: r
                        .matching_acls
                        .iter()
                        .map(|a| oracle!(kres::DeleteAclsMatchingAcl {
                            error_code: a.error_code,
                            error_message: a.error_message.as_deref().map(s),
                            resource_type: a.resource_type,
                            resource_name: s(&a.resource_name),
                            pattern_type: a.pattern_type,
                            principal: s(&a.principal),
                            host: s(&a.host),
                            operation: a.operation,
                            permission_type: a.permission_type,
                        }))
                        .collect(),
                }))
                .collect(),
        });
        for version in VERSIONS {
            let bytes = write(&res, version, DeleteAclsResponse::write);
            let decoded: kres::DeleteAclsResponse = decode(&bytes, version);
            assert_eq!(decoded, oracle, "v{version}");
        }
    }
}

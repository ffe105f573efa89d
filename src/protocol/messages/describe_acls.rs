//! DescribeAcls (key 29), versions 1-3: the ACL bindings matching one filter
//! (KIP-140; pattern types from v1, KIP-290), grouped by resource pattern.
//! Flexible from v2. Version 0 was removed in Kafka 4.0 (KIP-896).
//!
//! The filter's layout is shared with DeleteAcls ([`AclFilterData::read`]).
//! As in Kafka's request classes, a filter carrying the UNKNOWN code (0) in
//! one of its enums does not parse, which closes the connection.

use crate::protocol::primitives::{DecodeError, Reader, Result, Writer};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribeAclsRequest {
    pub filter: AclFilterData,
}

/// An ACL binding filter: the codes are those of [`crate::acl`]; ANY (1)
/// and, for the pattern type, MATCH (2) widen it; a null string matches
/// every value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AclFilterData {
    pub resource_type: i8,
    pub resource_name: Option<String>,
    pub pattern_type: i8,
    pub principal: Option<String>,
    pub host: Option<String>,
    pub operation: i8,
    pub permission_type: i8,
}

/// The UNKNOWN code of every ACL enum.
const UNKNOWN: i8 = 0;

impl AclFilterData {
    /// Reads one filter (its fields only; the caller reads the struct's
    /// tagged fields where there are any).
    pub fn read(r: &mut Reader<'_>, flexible: bool) -> Result<Self> {
        Ok(AclFilterData {
            resource_type: r.i8()?,
            resource_name: r.nullable_string(flexible)?,
            pattern_type: r.i8()?,
            principal: r.nullable_string(flexible)?,
            host: r.nullable_string(flexible)?,
            operation: r.i8()?,
            permission_type: r.i8()?,
        })
    }

    /// Whether one of the enums is UNKNOWN (0), which Kafka refuses to parse.
    pub fn has_unknown_code(&self) -> bool {
        [
            self.resource_type,
            self.pattern_type,
            self.operation,
            self.permission_type,
        ]
        .contains(&UNKNOWN)
    }
}

impl DescribeAclsRequest {
    pub fn read(r: &mut Reader<'_>, version: i16) -> Result<Self> {
        let flexible = version >= 2;
        let filter = AclFilterData::read(r, flexible)?;
        r.skip_tagged_fields(flexible)?;
        if filter.has_unknown_code() {
            return Err(DecodeError::Invalid(
                "DescribeAclsRequest contains UNKNOWN elements".into(),
            ));
        }
        Ok(DescribeAclsRequest { filter })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribeAclsResponse {
    pub throttle_time_ms: i32,
    pub error_code: i16,
    pub error_message: Option<String>,
    pub resources: Vec<DescribeAclsResource>,
}

/// One resource pattern and the ACL entries bound to it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribeAclsResource {
    pub resource_type: i8,
    pub resource_name: String,
    pub pattern_type: i8,
    pub acls: Vec<AclDescription>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AclDescription {
    pub principal: String,
    pub host: String,
    pub operation: i8,
    pub permission_type: i8,
}

impl DescribeAclsResponse {
    pub fn write(&self, w: &mut Writer, version: i16) {
        let flexible = version >= 2;
        w.i32(self.throttle_time_ms);
        w.i16(self.error_code);
        w.nullable_string(flexible, self.error_message.as_deref());
        w.array(flexible, &self.resources, |w, resource| {
            w.i8(resource.resource_type);
            w.string(flexible, &resource.resource_name);
            w.i8(resource.pattern_type);
            w.array(flexible, &resource.acls, |w, acl| {
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
    use kafka_protocol::messages::describe_acls_request as kreq;
    use kafka_protocol::messages::describe_acls_response as kres;

    const VERSIONS: std::ops::RangeInclusive<i16> = 1..=3;

    fn oracle_of(f: &AclFilterData) -> kreq::DescribeAclsRequest {
        oracle!(kreq::DescribeAclsRequest {
            resource_type_filter: f.resource_type,
            resource_name_filter: f.resource_name.as_deref().map(s),
            pattern_type_filter: f.pattern_type,
            principal_filter: f.principal.as_deref().map(s),
            host_filter: f.host.as_deref().map(s),
            operation: f.operation,
            permission_type: f.permission_type,
        })
    }

    #[test]
    fn reads_every_request_version_encoded_by_the_oracle() {
        for filter in [
            AclFilterData {
                resource_type: 2,
                resource_name: Some("orders".into()),
                pattern_type: 2,
                principal: Some("User:alice".into()),
                host: Some("*".into()),
                operation: 3,
                permission_type: 3,
            },
            AclFilterData {
                resource_type: 1,
                resource_name: None,
                pattern_type: 1,
                principal: None,
                host: None,
                operation: 1,
                permission_type: 1,
            },
        ] {
            let oracle = oracle_of(&filter);
            let expected = DescribeAclsRequest { filter };
            for version in VERSIONS {
                let buf = encode(&oracle, version);
                assert_eq!(
                    read_all(&buf, version, DescribeAclsRequest::read),
                    expected,
                    "v{version}"
                );
                assert_truncations_fail(&buf, version, DescribeAclsRequest::read);
            }
        }
    }

    #[test]
    fn a_filter_with_an_unknown_code_does_not_parse() {
        let filter = AclFilterData {
            resource_type: 0,
            pattern_type: 1,
            operation: 1,
            permission_type: 1,
            ..AclFilterData::default()
        };
        for version in VERSIONS {
            let buf = encode(&oracle_of(&filter), version);
            assert!(DescribeAclsRequest::read(&mut Reader::new(&buf), version).is_err());
        }
    }

    #[test]
    fn every_response_version_is_read_back_by_the_oracle() {
        let res = DescribeAclsResponse {
            throttle_time_ms: 0,
            error_code: 0,
            error_message: None,
            resources: vec![
                DescribeAclsResource {
                    resource_type: 2,
                    resource_name: "orders".into(),
                    pattern_type: 4,
                    acls: vec![
                        AclDescription {
                            principal: "User:alice".into(),
                            host: "*".into(),
                            operation: 3,
                            permission_type: 3,
                        },
                        AclDescription {
                            principal: "User:bob".into(),
                            host: "10.0.0.1".into(),
                            operation: 4,
                            permission_type: 2,
                        },
                    ],
                },
                DescribeAclsResource {
                    resource_type: 4,
                    resource_name: "kafka-cluster".into(),
                    pattern_type: 3,
                    acls: vec![],
                },
            ],
        };
        let oracle = oracle!(kres::DescribeAclsResponse {
            error_message: None,
            resources: res
                .resources
                .iter()
                .map(|r| oracle!(kres::DescribeAclsResource {
                    resource_type: r.resource_type,
                    resource_name: s(&r.resource_name),
                    pattern_type: r.pattern_type,
                    acls: r
                        .acls
                        .iter()
                        .map(|a| oracle!(kres::AclDescription {
                            principal: s(&a.principal),
                            host: s(&a.host),
                            operation: a.operation,
                            permission_type: a.permission_type,
                        }))
                        .collect(),
                }))
                .collect(),
        });
        let error = DescribeAclsResponse {
            error_code: 54,
            error_message: Some("No Authorizer is configured on the broker".into()),
            ..DescribeAclsResponse::default()
        };
        let error_oracle = oracle!(kres::DescribeAclsResponse {
            error_code: 54,
            error_message: Some(s("No Authorizer is configured on the broker")),
        });
        for version in VERSIONS {
            let bytes = write(&res, version, DescribeAclsResponse::write);
            let decoded: kres::DescribeAclsResponse = decode(&bytes, version);
            assert_eq!(decoded, oracle, "v{version}");
            let bytes = write(&error, version, DescribeAclsResponse::write);
            let decoded: kres::DescribeAclsResponse = decode(&bytes, version);
            assert_eq!(decoded, error_oracle, "v{version}");
        }
    }
}

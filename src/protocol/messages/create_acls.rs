//! CreateAcls (key 30), versions 1-3: add ACL bindings (KIP-140; pattern
//! types from v1, KIP-290). Flexible from v2. Version 0 was removed in
//! Kafka 4.0 (KIP-896) and is not served.
//!
//! Kafka's request class refuses, while parsing, any creation carrying the
//! UNKNOWN code (0) in one of its enums; a parse failure closes the
//! connection. [`CreateAclsRequest::read`] does the same. Codes that are
//! merely unrecognised (say 99) parse, and the handler answers them with
//! INVALID_REQUEST, as Kafka's controller does.

use crate::protocol::primitives::{DecodeError, Reader, Result, Writer};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreateAclsRequest {
    pub creations: Vec<AclCreation>,
}

/// One ACL binding to create; the codes are those of [`crate::acl`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AclCreation {
    pub resource_type: i8,
    pub resource_name: String,
    /// LITERAL (3) or PREFIXED (4); anything else is refused.
    pub resource_pattern_type: i8,
    /// "Type:name", e.g. "User:alice".
    pub principal: String,
    /// A host, or "*" for every host.
    pub host: String,
    pub operation: i8,
    pub permission_type: i8,
}

impl CreateAclsRequest {
    pub fn read(r: &mut Reader<'_>, version: i16) -> Result<Self> {
        let flexible = version >= 2;
        let creations = r.array(flexible, |r| {
            let creation = AclCreation {
                resource_type: r.i8()?,
                resource_name: r.string(flexible)?,
                resource_pattern_type: r.i8()?,
                principal: r.string(flexible)?,
                host: r.string(flexible)?,
                operation: r.i8()?,
                permission_type: r.i8()?,
            };
            r.skip_tagged_fields(flexible)?;
            Ok(creation)
        })?;
        r.skip_tagged_fields(flexible)?;
        if creations.iter().any(|c| {
            [
                c.resource_type,
                c.resource_pattern_type,
                c.operation,
                c.permission_type,
            ]
            .contains(&UNKNOWN)
        }) {
            return Err(DecodeError::Invalid(
                "CreatableAcls contain unknown elements".into(),
            ));
        }
        Ok(CreateAclsRequest { creations })
    }
}

/// The UNKNOWN code of every ACL enum.
const UNKNOWN: i8 = 0;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreateAclsResponse {
    pub throttle_time_ms: i32,
    /// One per creation, in request order.
    pub results: Vec<AclCreationResult>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AclCreationResult {
    pub error_code: i16,
    pub error_message: Option<String>,
}

impl CreateAclsResponse {
    pub fn write(&self, w: &mut Writer, version: i16) {
        let flexible = version >= 2;
        w.i32(self.throttle_time_ms);
        w.array(flexible, &self.results, |w, result| {
            w.i16(result.error_code);
            w.nullable_string(flexible, result.error_message.as_deref());
            w.empty_tagged_fields(flexible);
        });
        w.empty_tagged_fields(flexible);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::oracle::*;
    use kafka_protocol::messages::create_acls_request as kreq;
    use kafka_protocol::messages::create_acls_response as kres;

    const VERSIONS: std::ops::RangeInclusive<i16> = 1..=3;

    fn sample() -> CreateAclsRequest {
        CreateAclsRequest {
            creations: vec![
                AclCreation {
                    resource_type: 2,
                    resource_name: "orders".into(),
                    resource_pattern_type: 4,
                    principal: "User:alice".into(),
                    host: "*".into(),
                    operation: 3,
                    permission_type: 3,
                },
                AclCreation {
                    resource_type: 3,
                    resource_name: "billing".into(),
                    resource_pattern_type: 3,
                    principal: "User:bob".into(),
                    host: "10.0.0.1".into(),
                    operation: 8,
                    permission_type: 2,
                },
            ],
        }
    }

    fn oracle_of(request: &CreateAclsRequest) -> kreq::CreateAclsRequest {
        oracle!(kreq::CreateAclsRequest {
            creations: request
                .creations
                .iter()
                .map(|c| oracle!(kreq::AclCreation {
                    resource_type: c.resource_type,
                    resource_name: s(&c.resource_name),
                    resource_pattern_type: c.resource_pattern_type,
                    principal: s(&c.principal),
                    host: s(&c.host),
                    operation: c.operation,
                    permission_type: c.permission_type,
                }))
                .collect(),
        })
    }

    #[test]
    fn reads_every_request_version_encoded_by_the_oracle() {
        let expected = sample();
        let oracle = oracle_of(&expected);
        for version in VERSIONS {
            let buf = encode(&oracle, version);
            assert_eq!(
                read_all(&buf, version, CreateAclsRequest::read),
                expected,
                "v{version}"
            );
            assert_truncations_fail(&buf, version, CreateAclsRequest::read);
        }
    }

    #[test]
    fn an_unknown_code_is_a_decode_error_but_an_unrecognised_one_is_not() {
        for version in VERSIONS {
            let mut request = sample();
            request.creations[1].operation = 0;
            let buf = encode(&oracle_of(&request), version);
            assert!(CreateAclsRequest::read(&mut Reader::new(&buf), version).is_err());
            request.creations[1].operation = 99;
            let buf = encode(&oracle_of(&request), version);
            assert_eq!(read_all(&buf, version, CreateAclsRequest::read), request);
        }
    }

    #[test]
    fn every_response_version_is_read_back_by_the_oracle() {
        let res = CreateAclsResponse {
            throttle_time_ms: 0,
            results: vec![
                AclCreationResult::default(),
                AclCreationResult {
                    error_code: 42,
                    error_message: Some("Invalid operation ANY".into()),
                },
            ],
        };
        let oracle = oracle!(kres::CreateAclsResponse {
            results: res
                .results
                .iter()
                .map(|r| oracle!(kres::AclCreationResult {
                    error_code: r.error_code,
                    error_message: r.error_message.as_deref().map(s),
                }))
                .collect(),
        });
        for version in VERSIONS {
            let bytes = write(&res, version, CreateAclsResponse::write);
            let decoded: kres::CreateAclsResponse = decode(&bytes, version);
            assert_eq!(decoded, oracle, "v{version}");
        }
    }
}

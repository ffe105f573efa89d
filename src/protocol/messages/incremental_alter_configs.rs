//! IncrementalAlterConfigs (key 44), versions 0-1: change single configs of
//! a resource with SET, DELETE, APPEND or SUBTRACT (the last two on list
//! configs), leaving the others alone (KIP-339). What `kafka-configs.sh`
//! sends since Kafka 4.0. Flexible from v1. The response has the shape of
//! AlterConfigs'.

use super::alter_configs::AlterConfigsResponse;
use crate::protocol::primitives::{Reader, Result, Writer};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IncrementalAlterConfigsRequest {
    pub resources: Vec<AlterConfigsResource>,
    /// Validate the changes without applying them.
    pub validate_only: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlterConfigsResource {
    /// 2 = topic, 4 = broker, 32 = group.
    pub resource_type: i8,
    pub resource_name: String,
    pub configs: Vec<AlterableConfig>,
}

/// `config_operation` values.
pub const OP_SET: i8 = 0;
pub const OP_DELETE: i8 = 1;
pub const OP_APPEND: i8 = 2;
pub const OP_SUBTRACT: i8 = 3;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlterableConfig {
    pub name: String,
    /// [`OP_SET`], [`OP_DELETE`], [`OP_APPEND`] or [`OP_SUBTRACT`].
    pub config_operation: i8,
    pub value: Option<String>,
}

impl IncrementalAlterConfigsRequest {
    pub fn read(r: &mut Reader<'_>, version: i16) -> Result<Self> {
        let flexible = version >= 1;
        let resources = r.array(flexible, |r| {
            let resource_type = r.i8()?;
            let resource_name = r.string(flexible)?;
            let configs = r.array(flexible, |r| {
                let name = r.string(flexible)?;
                let config_operation = r.i8()?;
                let value = r.nullable_string(flexible)?;
                r.skip_tagged_fields(flexible)?;
                Ok(AlterableConfig {
                    name,
                    config_operation,
                    value,
                })
            })?;
            r.skip_tagged_fields(flexible)?;
            Ok(AlterConfigsResource {
                resource_type,
                resource_name,
                configs,
            })
        })?;
        let validate_only = r.bool()?;
        r.skip_tagged_fields(flexible)?;
        Ok(IncrementalAlterConfigsRequest {
            resources,
            validate_only,
        })
    }
}

/// The IncrementalAlterConfigs response: AlterConfigs' shape, flexible
/// from v1.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IncrementalAlterConfigsResponse(pub AlterConfigsResponse);

impl IncrementalAlterConfigsResponse {
    pub fn write(&self, w: &mut Writer, version: i16) {
        self.0.write_body(w, version >= 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::alter_configs::AlterConfigsResourceResponse;
    use crate::protocol::messages::oracle::*;
    use kafka_protocol::messages::incremental_alter_configs_request as kreq;
    use kafka_protocol::messages::incremental_alter_configs_response as kres;

    const VERSIONS: std::ops::RangeInclusive<i16> = 0..=1;

    fn sample_request() -> IncrementalAlterConfigsRequest {
        IncrementalAlterConfigsRequest {
            resources: vec![AlterConfigsResource {
                resource_type: 2,
                resource_name: "orders".into(),
                configs: vec![
                    AlterableConfig {
                        name: "cleanup.policy".into(),
                        config_operation: OP_APPEND,
                        value: Some("compact".into()),
                    },
                    AlterableConfig {
                        name: "retention.ms".into(),
                        config_operation: OP_DELETE,
                        value: None,
                    },
                ],
            }],
            validate_only: false,
        }
    }

    fn encode_request(req: &IncrementalAlterConfigsRequest, version: i16) -> Vec<u8> {
        let oracle = oracle!(kreq::IncrementalAlterConfigsRequest {
            resources: req
                .resources
                .iter()
                .map(|r| oracle!(kreq::AlterConfigsResource {
                    resource_type: r.resource_type,
                    resource_name: s(&r.resource_name),
                    configs: r
                        .configs
                        .iter()
                        .map(|c| oracle!(kreq::AlterableConfig {
                            name: s(&c.name),
                            config_operation: c.config_operation,
                            value: c.value.as_deref().map(s),
                        }))
                        .collect(),
                }))
                .collect(),
            validate_only: req.validate_only,
        });
        encode(&oracle, version)
    }

    #[test]
    fn reads_every_request_version_encoded_by_the_oracle() {
        for version in VERSIONS {
            let expected = sample_request();
            let buf = encode_request(&expected, version);
            assert_eq!(
                read_all(&buf, version, IncrementalAlterConfigsRequest::read),
                expected,
                "v{version}"
            );
            assert_truncations_fail(&buf, version, IncrementalAlterConfigsRequest::read);
        }
    }

    #[test]
    fn every_response_version_is_read_back_by_the_oracle() {
        let res = IncrementalAlterConfigsResponse(AlterConfigsResponse {
            throttle_time_ms: 0,
            responses: vec![AlterConfigsResourceResponse {
                error_code: 40,
                error_message: Some("Unknown topic config name: nope".into()),
                resource_type: 2,
                resource_name: "orders".into(),
            }],
        });
        let oracle = oracle!(kres::IncrementalAlterConfigsResponse {
            throttle_time_ms: 0,
            responses: vec![oracle!(kres::AlterConfigsResourceResponse {
                error_code: 40,
                error_message: Some(s("Unknown topic config name: nope")),
                resource_type: 2,
                resource_name: s("orders"),
            })],
        });
        for version in VERSIONS {
            let bytes = write(&res, version, IncrementalAlterConfigsResponse::write);
            let decoded: kres::IncrementalAlterConfigsResponse = decode(&bytes, version);
            assert_eq!(decoded, oracle, "v{version}");
        }
    }
}

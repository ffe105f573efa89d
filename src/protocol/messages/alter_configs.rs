//! AlterConfigs (key 33), versions 0-2: replace the whole dynamic config of
//! each resource with the given set (configs left out return to their
//! defaults). Superseded by IncrementalAlterConfigs (KIP-339) but still what
//! kafkajs, kafka-python and librdkafka's AlterConfigs send. Flexible from v2.

use crate::protocol::primitives::{Reader, Result, Writer};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlterConfigsRequest {
    pub resources: Vec<AlterConfigsResource>,
    /// Validate the new configs without applying them.
    pub validate_only: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlterConfigsResource {
    /// 2 = topic, 4 = broker, 32 = group.
    pub resource_type: i8,
    pub resource_name: String,
    pub configs: Vec<AlterableConfig>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlterableConfig {
    pub name: String,
    /// Null leaves the config at its default.
    pub value: Option<String>,
}

impl AlterConfigsRequest {
    pub fn read(r: &mut Reader<'_>, version: i16) -> Result<Self> {
        let flexible = version >= 2;
        let resources = r.array(flexible, |r| {
            let resource_type = r.i8()?;
            let resource_name = r.string(flexible)?;
            let configs = r.array(flexible, |r| {
                let name = r.string(flexible)?;
                let value = r.nullable_string(flexible)?;
                r.skip_tagged_fields(flexible)?;
                Ok(AlterableConfig { name, value })
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
        Ok(AlterConfigsRequest {
            resources,
            validate_only,
        })
    }
}

/// The answer for each resource; IncrementalAlterConfigs answers the same.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlterConfigsResponse {
    pub throttle_time_ms: i32,
    pub responses: Vec<AlterConfigsResourceResponse>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlterConfigsResourceResponse {
    pub error_code: i16,
    pub error_message: Option<String>,
    pub resource_type: i8,
    pub resource_name: String,
}

impl AlterConfigsResponse {
    /// Writes the response; `flexible` is v2+ for AlterConfigs and v1+ for
    /// IncrementalAlterConfigs, which is otherwise identical.
    pub fn write_body(&self, w: &mut Writer, flexible: bool) {
        w.i32(self.throttle_time_ms);
        w.array(flexible, &self.responses, |w, r| {
            w.i16(r.error_code);
            w.nullable_string(flexible, r.error_message.as_deref());
            w.i8(r.resource_type);
            w.string(flexible, &r.resource_name);
            w.empty_tagged_fields(flexible);
        });
        w.empty_tagged_fields(flexible);
    }

    pub fn write(&self, w: &mut Writer, version: i16) {
        self.write_body(w, version >= 2);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::oracle::*;
    use kafka_protocol::messages::alter_configs_request as kreq;
    use kafka_protocol::messages::alter_configs_response as kres;

    const VERSIONS: std::ops::RangeInclusive<i16> = 0..=2;

    fn sample_request() -> AlterConfigsRequest {
        AlterConfigsRequest {
            resources: vec![
                AlterConfigsResource {
                    resource_type: 2,
                    resource_name: "orders".into(),
                    configs: vec![
                        AlterableConfig {
                            name: "retention.ms".into(),
                            value: Some("1000".into()),
                        },
                        AlterableConfig {
                            name: "cleanup.policy".into(),
                            value: None,
                        },
                    ],
                },
                AlterConfigsResource {
                    resource_type: 4,
                    resource_name: "1".into(),
                    configs: Vec::new(),
                },
            ],
            validate_only: true,
        }
    }

    fn encode_request(req: &AlterConfigsRequest, version: i16) -> Vec<u8> {
        let oracle = oracle!(kreq::AlterConfigsRequest {
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
                read_all(&buf, version, AlterConfigsRequest::read),
                expected,
                "v{version}"
            );
            assert_truncations_fail(&buf, version, AlterConfigsRequest::read);
        }
    }

    #[test]
    fn every_response_version_is_read_back_by_the_oracle() {
        let res = AlterConfigsResponse {
            throttle_time_ms: 0,
            responses: vec![
                AlterConfigsResourceResponse {
                    error_code: 0,
                    error_message: None,
                    resource_type: 2,
                    resource_name: "orders".into(),
                },
                AlterConfigsResourceResponse {
                    error_code: 40,
                    error_message: Some("Invalid value x for configuration retention.ms".into()),
                    resource_type: 2,
                    resource_name: "bad".into(),
                },
            ],
        };
        let oracle = oracle!(kres::AlterConfigsResponse {
            throttle_time_ms: 0,
            responses: res
                .responses
                .iter()
                .map(|r| oracle!(kres::AlterConfigsResourceResponse {
                    error_code: r.error_code,
                    error_message: r.error_message.as_deref().map(s),
                    resource_type: r.resource_type,
                    resource_name: s(&r.resource_name),
                }))
                .collect(),
        });
        for version in VERSIONS {
            let bytes = write(&res, version, AlterConfigsResponse::write);
            let decoded: kres::AlterConfigsResponse = decode(&bytes, version);
            assert_eq!(decoded, oracle, "v{version}");
        }
    }
}

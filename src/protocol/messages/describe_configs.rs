//! DescribeConfigs (key 32), versions 1-4: the configs of topics, brokers
//! and groups, each with its value, where the value comes from (KIP-226),
//! its synonyms, and from v3 its type and documentation (KIP-569).
//! Flexible from v4.

use crate::protocol::primitives::{Reader, Result, Writer};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribeConfigsRequest {
    pub resources: Vec<DescribeConfigsResource>,
    /// Whether to list each config's synonyms (broker settings it falls
    /// back to), in order of precedence.
    pub include_synonyms: bool,
    /// v3+: whether to fill `documentation`.
    pub include_documentation: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribeConfigsResource {
    /// 2 = topic, 4 = broker, 8 = broker logger, 32 = group.
    pub resource_type: i8,
    pub resource_name: String,
    /// The config names wanted; null for all of them.
    pub configuration_keys: Option<Vec<String>>,
}

impl DescribeConfigsRequest {
    pub fn read(r: &mut Reader<'_>, version: i16) -> Result<Self> {
        let flexible = version >= 4;
        let resources = r.array(flexible, |r| {
            let resource_type = r.i8()?;
            let resource_name = r.string(flexible)?;
            let configuration_keys = r.nullable_array(flexible, |r| r.string(flexible))?;
            r.skip_tagged_fields(flexible)?;
            Ok(DescribeConfigsResource {
                resource_type,
                resource_name,
                configuration_keys,
            })
        })?;
        let include_synonyms = r.bool()?;
        let include_documentation = if version >= 3 { r.bool()? } else { false };
        r.skip_tagged_fields(flexible)?;
        Ok(DescribeConfigsRequest {
            resources,
            include_synonyms,
            include_documentation,
        })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribeConfigsResponse {
    pub throttle_time_ms: i32,
    pub results: Vec<DescribeConfigsResult>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribeConfigsResult {
    pub error_code: i16,
    pub error_message: Option<String>,
    pub resource_type: i8,
    pub resource_name: String,
    pub configs: Vec<DescribeConfigsEntry>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribeConfigsEntry {
    pub name: String,
    /// Null for sensitive configs and for unset nullable ones.
    pub value: Option<String>,
    pub read_only: bool,
    /// Where the value comes from: 1 = dynamic topic, 2 = dynamic broker,
    /// 4 = static broker, 5 = default, ...
    pub config_source: i8,
    pub is_sensitive: bool,
    pub synonyms: Vec<DescribeConfigsSynonym>,
    /// v3+: 1 = boolean, 2 = string, 3 = int, 5 = long, 6 = double, 7 = list...
    pub config_type: i8,
    /// v3+: what the config means.
    pub documentation: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribeConfigsSynonym {
    pub name: String,
    pub value: Option<String>,
    pub source: i8,
}

impl DescribeConfigsResponse {
    pub fn write(&self, w: &mut Writer, version: i16) {
        let flexible = version >= 4;
        w.i32(self.throttle_time_ms);
        w.array(flexible, &self.results, |w, result| {
            w.i16(result.error_code);
            w.nullable_string(flexible, result.error_message.as_deref());
            w.i8(result.resource_type);
            w.string(flexible, &result.resource_name);
            w.array(flexible, &result.configs, |w, c| c.write(w, version));
            w.empty_tagged_fields(flexible);
        });
        w.empty_tagged_fields(flexible);
    }
}

impl DescribeConfigsEntry {
    fn write(&self, w: &mut Writer, version: i16) {
        let flexible = version >= 4;
        w.string(flexible, &self.name);
        w.nullable_string(flexible, self.value.as_deref());
        w.bool(self.read_only);
        w.i8(self.config_source);
        w.bool(self.is_sensitive);
        w.array(flexible, &self.synonyms, |w, s| {
            w.string(flexible, &s.name);
            w.nullable_string(flexible, s.value.as_deref());
            w.i8(s.source);
            w.empty_tagged_fields(flexible);
        });
        if version >= 3 {
            w.i8(self.config_type);
            w.nullable_string(flexible, self.documentation.as_deref());
        }
        w.empty_tagged_fields(flexible);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::oracle::*;
    use kafka_protocol::messages::describe_configs_request as kreq;
    use kafka_protocol::messages::describe_configs_response as kres;

    const VERSIONS: std::ops::RangeInclusive<i16> = 1..=4;

    fn sample_request(version: i16) -> DescribeConfigsRequest {
        DescribeConfigsRequest {
            resources: vec![
                DescribeConfigsResource {
                    resource_type: 2,
                    resource_name: "orders".into(),
                    configuration_keys: None,
                },
                DescribeConfigsResource {
                    resource_type: 4,
                    resource_name: "1".into(),
                    configuration_keys: Some(vec!["log.retention.hours".into()]),
                },
            ],
            include_synonyms: true,
            include_documentation: version >= 3,
        }
    }

    fn encode_request(req: &DescribeConfigsRequest, version: i16) -> Vec<u8> {
        let oracle = oracle!(kreq::DescribeConfigsRequest {
            resources: req
                .resources
                .iter()
                .map(|r| oracle!(kreq::DescribeConfigsResource {
                    resource_type: r.resource_type,
                    resource_name: s(&r.resource_name),
                    configuration_keys: r
                        .configuration_keys
                        .as_ref()
                        .map(|keys| keys.iter().map(|k| s(k)).collect()),
                }))
                .collect(),
            include_synonyms: req.include_synonyms,
            include_documentation: req.include_documentation,
        });
        encode(&oracle, version)
    }

    #[test]
    fn reads_every_request_version_encoded_by_the_oracle() {
        for version in VERSIONS {
            let expected = sample_request(version);
            let buf = encode_request(&expected, version);
            assert_eq!(
                read_all(&buf, version, DescribeConfigsRequest::read),
                expected,
                "v{version}"
            );
            assert_truncations_fail(&buf, version, DescribeConfigsRequest::read);
        }
    }

    fn sample_response(version: i16) -> DescribeConfigsResponse {
        let v3 = version >= 3;
        DescribeConfigsResponse {
            throttle_time_ms: 0,
            results: vec![
                DescribeConfigsResult {
                    error_code: 0,
                    error_message: None,
                    resource_type: 2,
                    resource_name: "orders".into(),
                    configs: vec![DescribeConfigsEntry {
                        name: "retention.ms".into(),
                        value: Some("1000".into()),
                        read_only: false,
                        config_source: 1,
                        is_sensitive: false,
                        synonyms: vec![
                            DescribeConfigsSynonym {
                                name: "retention.ms".into(),
                                value: Some("1000".into()),
                                source: 1,
                            },
                            DescribeConfigsSynonym {
                                name: "log.retention.hours".into(),
                                value: Some("168".into()),
                                source: 5,
                            },
                        ],
                        config_type: if v3 { 5 } else { 0 },
                        documentation: v3.then(|| "How long to keep records.".into()),
                    }],
                },
                DescribeConfigsResult {
                    error_code: 3,
                    error_message: Some("Topic 'gone' does not exist.".into()),
                    resource_type: 2,
                    resource_name: "gone".into(),
                    configs: Vec::new(),
                },
            ],
        }
    }

    fn to_oracle(res: &DescribeConfigsResponse, version: i16) -> kres::DescribeConfigsResponse {
        oracle!(kres::DescribeConfigsResponse {
            throttle_time_ms: res.throttle_time_ms,
            results: res
                .results
                .iter()
                .map(|r| oracle!(kres::DescribeConfigsResult {
                    error_code: r.error_code,
                    error_message: r.error_message.as_deref().map(s),
                    resource_type: r.resource_type,
                    resource_name: s(&r.resource_name),
                    configs: r
                        .configs
                        .iter()
                        .map(|c| oracle!(kres::DescribeConfigsResourceResult {
                            name: s(&c.name),
                            value: c.value.as_deref().map(s),
                            read_only: c.read_only,
                            config_source: c.config_source,
                            is_sensitive: c.is_sensitive,
                            synonyms: c
                                .synonyms
                                .iter()
                                .map(|y| oracle!(kres::DescribeConfigsSynonym {
                                    name: s(&y.name),
                                    value: y.value.as_deref().map(s),
                                    source: y.source,
                                }))
                                .collect(),
                            config_type: c.config_type,
                            // Before v3 the field is absent and the oracle reads its default.
                            documentation: if version >= 3 {
                                c.documentation.as_deref().map(s)
                            } else {
                                Some(s(""))
                            },
                        }))
                        .collect(),
                }))
                .collect(),
        })
    }

    #[test]
    fn every_response_version_is_read_back_by_the_oracle() {
        for version in VERSIONS {
            let res = sample_response(version);
            let bytes = write(&res, version, DescribeConfigsResponse::write);
            let decoded: kres::DescribeConfigsResponse = decode(&bytes, version);
            assert_eq!(decoded, to_oracle(&res, version), "v{version}");
        }
    }
}

//! CreateTopics (key 19), versions 2-7: create topics, or with
//! `validate_only` just check that they could be created. Flexible from v5.

use crate::protocol::primitives::{Reader, Result, Writer};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateTopicsRequest {
    pub topics: Vec<CreatableTopic>,
    /// How long to wait for the topics to be created.
    pub timeout_ms: i32,
    /// Validate the request without creating anything.
    pub validate_only: bool,
}

impl Default for CreateTopicsRequest {
    fn default() -> Self {
        CreateTopicsRequest {
            topics: Vec::new(),
            timeout_ms: 60_000,
            validate_only: false,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreatableTopic {
    pub name: String,
    /// The partition count, or -1 for the broker default (v4+, KIP-464);
    /// must be -1 when `assignments` is given.
    pub num_partitions: i32,
    /// The replication factor, or -1 for the broker default (v4+).
    pub replication_factor: i16,
    /// Explicit replica placement per partition; empty to let the broker
    /// choose.
    pub assignments: Vec<CreatableReplicaAssignment>,
    /// Topic configs such as `retention.ms`.
    pub configs: Vec<CreatableTopicConfig>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreatableReplicaAssignment {
    pub partition_index: i32,
    pub broker_ids: Vec<i32>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreatableTopicConfig {
    pub name: String,
    /// The value; null asks for the default.
    pub value: Option<String>,
}

impl CreateTopicsRequest {
    pub fn read(r: &mut Reader<'_>, version: i16) -> Result<Self> {
        let flexible = version >= 5;
        let topics = r.array(flexible, |r| {
            let name = r.string(flexible)?;
            let num_partitions = r.i32()?;
            let replication_factor = r.i16()?;
            let assignments = r.array(flexible, |r| {
                let partition_index = r.i32()?;
                let broker_ids = r.array(flexible, |r| r.i32())?;
                r.skip_tagged_fields(flexible)?;
                Ok(CreatableReplicaAssignment {
                    partition_index,
                    broker_ids,
                })
            })?;
            let configs = r.array(flexible, |r| {
                let name = r.string(flexible)?;
                let value = r.nullable_string(flexible)?;
                r.skip_tagged_fields(flexible)?;
                Ok(CreatableTopicConfig { name, value })
            })?;
            r.skip_tagged_fields(flexible)?;
            Ok(CreatableTopic {
                name,
                num_partitions,
                replication_factor,
                assignments,
                configs,
            })
        })?;
        let timeout_ms = r.i32()?;
        let validate_only = r.bool()?;
        r.skip_tagged_fields(flexible)?;
        Ok(CreateTopicsRequest {
            topics,
            timeout_ms,
            validate_only,
        })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreateTopicsResponse {
    pub throttle_time_ms: i32,
    pub topics: Vec<CreatableTopicResult>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatableTopicResult {
    pub name: String,
    /// v7+: the new topic's id (KIP-516).
    pub topic_id: [u8; 16],
    pub error_code: i16,
    pub error_message: Option<String>,
    /// v5+, tagged field 0: why the configs below could not be returned
    /// (KIP-525). Written only when non-zero.
    pub topic_config_error_code: i16,
    /// v5+: the partition count, -1 if unknown.
    pub num_partitions: i32,
    /// v5+: the replication factor, -1 if unknown.
    pub replication_factor: i16,
    /// v5+: the topic's configs after creation, so a client need not call
    /// DescribeConfigs (KIP-525); null if they cannot be returned.
    pub configs: Option<Vec<CreatableTopicConfigs>>,
}

impl Default for CreatableTopicResult {
    fn default() -> Self {
        CreatableTopicResult {
            name: String::new(),
            topic_id: [0; 16],
            error_code: 0,
            error_message: None,
            topic_config_error_code: 0,
            num_partitions: -1,
            replication_factor: -1,
            configs: None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreatableTopicConfigs {
    pub name: String,
    pub value: Option<String>,
    pub read_only: bool,
    /// Where the value comes from (DescribeConfigs' ConfigSource), -1 if
    /// unknown.
    pub config_source: i8,
    /// Whether the value is sensitive and therefore null.
    pub is_sensitive: bool,
}

impl CreateTopicsResponse {
    pub fn write(&self, w: &mut Writer, version: i16) {
        let flexible = version >= 5;
        w.i32(self.throttle_time_ms);
        w.array(flexible, &self.topics, |w, t| t.write(w, version));
        w.empty_tagged_fields(flexible);
    }
}

impl CreatableTopicResult {
    fn write(&self, w: &mut Writer, version: i16) {
        let flexible = version >= 5;
        w.string(flexible, &self.name);
        if version >= 7 {
            w.uuid(&self.topic_id);
        }
        w.i16(self.error_code);
        w.nullable_string(flexible, self.error_message.as_deref());
        if version >= 5 {
            w.i32(self.num_partitions);
            w.i16(self.replication_factor);
            w.nullable_array(flexible, self.configs.as_deref(), |w, c| {
                w.string(flexible, &c.name);
                w.nullable_string(flexible, c.value.as_deref());
                w.bool(c.read_only);
                w.i8(c.config_source);
                w.bool(c.is_sensitive);
                w.empty_tagged_fields(flexible);
            });
        }
        let mut tagged = Vec::new();
        if self.topic_config_error_code != 0 {
            tagged.push((0, self.topic_config_error_code.to_be_bytes().to_vec()));
        }
        w.tagged_fields(flexible, &tagged);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::oracle::*;
    use kafka_protocol::messages::create_topics_request as kreq;
    use kafka_protocol::messages::create_topics_response as kres;
    use kafka_protocol::messages::{BrokerId, TopicName};

    use uuid::Uuid;

    const VERSIONS: std::ops::RangeInclusive<i16> = 2..=7;

    fn sample_request() -> CreateTopicsRequest {
        CreateTopicsRequest {
            topics: vec![
                CreatableTopic {
                    name: "orders".into(),
                    num_partitions: 6,
                    replication_factor: 1,
                    assignments: Vec::new(),
                    configs: vec![
                        CreatableTopicConfig {
                            name: "retention.ms".into(),
                            value: Some("86400000".into()),
                        },
                        CreatableTopicConfig {
                            name: "cleanup.policy".into(),
                            value: None,
                        },
                    ],
                },
                CreatableTopic {
                    name: "placed".into(),
                    num_partitions: -1,
                    replication_factor: -1,
                    assignments: vec![
                        CreatableReplicaAssignment {
                            partition_index: 0,
                            broker_ids: vec![1, 2],
                        },
                        CreatableReplicaAssignment {
                            partition_index: 1,
                            broker_ids: vec![2, 1],
                        },
                    ],
                    configs: Vec::new(),
                },
            ],
            timeout_ms: 15_000,
            validate_only: true,
        }
    }

    fn encode_request(req: &CreateTopicsRequest, version: i16) -> Vec<u8> {
        let oracle = kreq::CreateTopicsRequest::default()
            .with_topics(
                req.topics
                    .iter()
                    .map(|t| {
                        kreq::CreatableTopic::default()
                            .with_name(TopicName(s(&t.name)))
                            .with_num_partitions(t.num_partitions)
                            .with_replication_factor(t.replication_factor)
                            .with_assignments(
                                t.assignments
                                    .iter()
                                    .map(|a| {
                                        kreq::CreatableReplicaAssignment::default()
                                            .with_partition_index(a.partition_index)
                                            .with_broker_ids(
                                                a.broker_ids
                                                    .iter()
                                                    .copied()
                                                    .map(BrokerId)
                                                    .collect(),
                                            )
                                    })
                                    .collect(),
                            )
                            .with_configs(
                                t.configs
                                    .iter()
                                    .map(|c| {
                                        kreq::CreatableTopicConfig::default()
                                            .with_name(s(&c.name))
                                            .with_value(c.value.as_deref().map(s))
                                    })
                                    .collect(),
                            )
                    })
                    .collect(),
            )
            .with_timeout_ms(req.timeout_ms)
            .with_validate_only(req.validate_only);
        encode(&oracle, version)
    }

    #[test]
    fn reads_every_request_version_encoded_by_the_oracle() {
        for version in VERSIONS {
            let expected = sample_request();
            let buf = encode_request(&expected, version);
            assert_eq!(
                read_all(&buf, version, CreateTopicsRequest::read),
                expected,
                "v{version}"
            );
        }
    }

    #[test]
    fn truncated_requests_are_errors() {
        assert_truncations_fail_in(
            VERSIONS,
            |version| encode_request(&sample_request(), version),
            CreateTopicsRequest::read,
        );
    }

    fn sample_response(version: i16) -> CreateTopicsResponse {
        let since_v5 = version >= 5;
        let created = CreatableTopicResult {
            name: "orders".into(),
            topic_id: if version >= 7 { [4; 16] } else { [0; 16] },
            error_code: 0,
            error_message: None,
            topic_config_error_code: if since_v5 { 29 } else { 0 },
            num_partitions: if since_v5 { 6 } else { -1 },
            replication_factor: if since_v5 { 1 } else { -1 },
            // Before v5 the oracle reads the absent list as empty.
            configs: Some(if since_v5 {
                vec![
                    CreatableTopicConfigs {
                        name: "retention.ms".into(),
                        value: Some("86400000".into()),
                        read_only: false,
                        config_source: 1,
                        is_sensitive: false,
                    },
                    CreatableTopicConfigs {
                        name: "sasl.jaas.config".into(),
                        value: None,
                        read_only: true,
                        config_source: 5,
                        is_sensitive: true,
                    },
                ]
            } else {
                Vec::new()
            }),
        };
        let failed = CreatableTopicResult {
            name: "exists".into(),
            error_code: 36,
            error_message: Some("Topic 'exists' already exists.".into()),
            configs: if since_v5 { None } else { Some(Vec::new()) },
            ..CreatableTopicResult::default()
        };
        CreateTopicsResponse {
            throttle_time_ms: 3,
            topics: vec![created, failed],
        }
    }

    fn to_oracle_response(res: &CreateTopicsResponse) -> kres::CreateTopicsResponse {
        kres::CreateTopicsResponse::default()
            .with_throttle_time_ms(res.throttle_time_ms)
            .with_topics(
                res.topics
                    .iter()
                    .map(|t| {
                        kres::CreatableTopicResult::default()
                            .with_name(TopicName(s(&t.name)))
                            .with_topic_id(Uuid::from_bytes(t.topic_id))
                            .with_error_code(t.error_code)
                            .with_error_message(t.error_message.as_deref().map(s))
                            .with_topic_config_error_code(t.topic_config_error_code)
                            .with_num_partitions(t.num_partitions)
                            .with_replication_factor(t.replication_factor)
                            .with_configs(t.configs.as_ref().map(|cs| {
                                cs.iter()
                                    .map(|c| {
                                        kres::CreatableTopicConfigs::default()
                                            .with_name(s(&c.name))
                                            .with_value(c.value.as_deref().map(s))
                                            .with_read_only(c.read_only)
                                            .with_config_source(c.config_source)
                                            .with_is_sensitive(c.is_sensitive)
                                    })
                                    .collect()
                            }))
                    })
                    .collect(),
            )
    }

    #[test]
    fn every_response_version_is_read_back_by_the_oracle() {
        for version in VERSIONS {
            let res = sample_response(version);
            let bytes = write(&res, version, CreateTopicsResponse::write);
            let decoded: kres::CreateTopicsResponse = decode(&bytes, version);
            let oracle = to_oracle_response(&res);
            assert_eq!(decoded, oracle, "v{version}");
            // Byte equality also proves that a zero topic_config_error_code
            // is left out, as Kafka does.
            let expected = encode(&oracle, version);
            assert_eq!(bytes, expected, "v{version}");
        }
    }
}

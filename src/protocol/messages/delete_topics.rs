//! DeleteTopics (key 20), versions 1-6: delete topics. Flexible from v4.
//! v6 can name topics by id (KIP-516); earlier versions send a plain list
//! of names, which is read into the same shape here.

use crate::protocol::primitives::{Reader, Result, Writer};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeleteTopicsRequest {
    pub topics: Vec<DeleteTopicState>,
    /// How long to wait for the deletions to complete.
    pub timeout_ms: i32,
}

/// One topic to delete, by name or (v6+) by id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeleteTopicState {
    /// The topic name; null in v6+ when the topic is named by id.
    pub name: Option<String>,
    /// v6+: the topic id; all zeros when the topic is named by name.
    pub topic_id: [u8; 16],
}

impl DeleteTopicsRequest {
    pub fn read(r: &mut Reader<'_>, version: i16) -> Result<Self> {
        let flexible = version >= 4;
        let topics = if version >= 6 {
            r.array(flexible, |r| {
                let name = r.nullable_string(flexible)?;
                let topic_id = r.uuid()?;
                r.skip_tagged_fields(flexible)?;
                Ok(DeleteTopicState { name, topic_id })
            })?
        } else {
            r.array(flexible, |r| {
                Ok(DeleteTopicState {
                    name: Some(r.string(flexible)?),
                    topic_id: [0; 16],
                })
            })?
        };
        let timeout_ms = r.i32()?;
        r.skip_tagged_fields(flexible)?;
        Ok(DeleteTopicsRequest { topics, timeout_ms })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeleteTopicsResponse {
    pub throttle_time_ms: i32,
    pub responses: Vec<DeletableTopicResult>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeletableTopicResult {
    /// The topic name; null only in v6+, for an unknown topic id.
    pub name: Option<String>,
    /// v6+: the topic id.
    pub topic_id: [u8; 16],
    pub error_code: i16,
    /// v5+: a message for the error code, null if none.
    pub error_message: Option<String>,
}

impl DeleteTopicsResponse {
    pub fn write(&self, w: &mut Writer, version: i16) {
        let flexible = version >= 4;
        w.i32(self.throttle_time_ms);
        w.array(flexible, &self.responses, |w, t| {
            w.nullable_string(flexible, t.name.as_deref());
            if version >= 6 {
                w.uuid(&t.topic_id);
            }
            w.i16(t.error_code);
            if version >= 5 {
                w.nullable_string(flexible, t.error_message.as_deref());
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
    use kafka_protocol::messages::delete_topics_request as kreq;
    use kafka_protocol::messages::delete_topics_response as kres;
    use kafka_protocol::messages::TopicName;

    use uuid::Uuid;

    const VERSIONS: std::ops::RangeInclusive<i16> = 1..=6;

    fn sample_request(version: i16) -> DeleteTopicsRequest {
        let mut topics = vec![
            DeleteTopicState {
                name: Some("orders".into()),
                topic_id: [0; 16],
            },
            DeleteTopicState {
                name: Some("payments".into()),
                topic_id: [0; 16],
            },
        ];
        if version >= 6 {
            topics.push(DeleteTopicState {
                name: None,
                topic_id: [5; 16],
            });
        }
        DeleteTopicsRequest {
            topics,
            timeout_ms: 30_000,
        }
    }

    fn encode_request(req: &DeleteTopicsRequest, version: i16) -> Vec<u8> {
        let oracle = if version >= 6 {
            kreq::DeleteTopicsRequest::default().with_topics(
                req.topics
                    .iter()
                    .map(|t| {
                        kreq::DeleteTopicState::default()
                            .with_name(t.name.as_deref().map(|n| TopicName(s(n))))
                            .with_topic_id(Uuid::from_bytes(t.topic_id))
                    })
                    .collect(),
            )
        } else {
            kreq::DeleteTopicsRequest::default().with_topic_names(
                req.topics
                    .iter()
                    .map(|t| TopicName(s(t.name.as_deref().unwrap_or_default())))
                    .collect(),
            )
        }
        .with_timeout_ms(req.timeout_ms);
        encode(&oracle, version)
    }

    #[test]
    fn reads_every_request_version_encoded_by_the_oracle() {
        for version in VERSIONS {
            let expected = sample_request(version);
            let buf = encode_request(&expected, version);
            assert_eq!(
                read_all(&buf, version, DeleteTopicsRequest::read),
                expected,
                "v{version}"
            );
        }
    }

    #[test]
    fn truncated_requests_are_errors() {
        assert_truncations_fail_in(
            VERSIONS,
            |version| encode_request(&sample_request(version), version),
            DeleteTopicsRequest::read,
        );
    }

    fn sample_response(version: i16) -> DeleteTopicsResponse {
        let mut responses = vec![
            DeletableTopicResult {
                name: Some("orders".into()),
                topic_id: if version >= 6 { [1; 16] } else { [0; 16] },
                error_code: 0,
                error_message: None,
            },
            DeletableTopicResult {
                name: Some("missing".into()),
                topic_id: [0; 16],
                error_code: 3,
                error_message: (version >= 5).then(|| "unknown topic".into()),
            },
        ];
        if version >= 6 {
            responses.push(DeletableTopicResult {
                name: None,
                topic_id: [9; 16],
                error_code: 100,
                error_message: None,
            });
        }
        DeleteTopicsResponse {
            throttle_time_ms: 8,
            responses,
        }
    }

    fn to_oracle_response(res: &DeleteTopicsResponse) -> kres::DeleteTopicsResponse {
        kres::DeleteTopicsResponse::default()
            .with_throttle_time_ms(res.throttle_time_ms)
            .with_responses(
                res.responses
                    .iter()
                    .map(|t| {
                        kres::DeletableTopicResult::default()
                            .with_name(t.name.as_deref().map(|n| TopicName(s(n))))
                            .with_topic_id(Uuid::from_bytes(t.topic_id))
                            .with_error_code(t.error_code)
                            .with_error_message(t.error_message.as_deref().map(s))
                    })
                    .collect(),
            )
    }

    #[test]
    fn every_response_version_is_read_back_by_the_oracle() {
        for version in VERSIONS {
            let res = sample_response(version);
            let bytes = write(&res, version, DeleteTopicsResponse::write);
            let decoded: kres::DeleteTopicsResponse = decode(&bytes, version);
            let oracle = to_oracle_response(&res);
            assert_eq!(decoded, oracle, "v{version}");
            let expected = encode(&oracle, version);
            assert_eq!(bytes, expected, "v{version}");
        }
    }
}

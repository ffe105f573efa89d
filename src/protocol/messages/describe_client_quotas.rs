//! DescribeClientQuotas (key 48), versions 0-1: the quotas set for users
//! and client ids matching a filter (KIP-546). Flexible from v1.

use crate::protocol::primitives::{Reader, Result, Writer};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribeClientQuotasRequest {
    pub components: Vec<ComponentData>,
    /// Whether only entities with exactly these components match.
    pub strict: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ComponentData {
    /// "user", "client-id" or "ip".
    pub entity_type: String,
    /// 0 = exact name, 1 = the default entity, 2 = any specified entity.
    pub match_type: i8,
    /// The name to match when `match_type` is 0.
    pub match_name: Option<String>,
}

impl DescribeClientQuotasRequest {
    pub fn read(r: &mut Reader<'_>, version: i16) -> Result<Self> {
        let flexible = version >= 1;
        let components = r.array(flexible, |r| {
            let entity_type = r.string(flexible)?;
            let match_type = r.i8()?;
            let match_name = r.nullable_string(flexible)?;
            r.skip_tagged_fields(flexible)?;
            Ok(ComponentData {
                entity_type,
                match_type,
                match_name,
            })
        })?;
        let strict = r.bool()?;
        r.skip_tagged_fields(flexible)?;
        Ok(DescribeClientQuotasRequest { components, strict })
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DescribeClientQuotasResponse {
    pub throttle_time_ms: i32,
    pub error_code: i16,
    pub error_message: Option<String>,
    /// The matching entities and their quotas; null on error.
    pub entries: Option<Vec<EntryData>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct EntryData {
    /// (entity type, entity name; null for the default entity).
    pub entity: Vec<(String, Option<String>)>,
    /// (quota key, value).
    pub values: Vec<(String, f64)>,
}

impl DescribeClientQuotasResponse {
    pub fn write(&self, w: &mut Writer, version: i16) {
        let flexible = version >= 1;
        w.i32(self.throttle_time_ms);
        w.i16(self.error_code);
        w.nullable_string(flexible, self.error_message.as_deref());
        w.nullable_array(flexible, self.entries.as_deref(), |w, e| {
            w.array(flexible, &e.entity, |w, (entity_type, entity_name)| {
                w.string(flexible, entity_type);
                w.nullable_string(flexible, entity_name.as_deref());
                w.empty_tagged_fields(flexible);
            });
            w.array(flexible, &e.values, |w, (key, value)| {
                w.string(flexible, key);
                w.f64(*value);
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
    use kafka_protocol::messages::describe_client_quotas_request as kreq;
    use kafka_protocol::messages::describe_client_quotas_response as kres;

    const VERSIONS: std::ops::RangeInclusive<i16> = 0..=1;

    #[test]
    fn reads_every_request_version_encoded_by_the_oracle() {
        let expected = DescribeClientQuotasRequest {
            components: vec![
                ComponentData {
                    entity_type: "user".into(),
                    match_type: 0,
                    match_name: Some("alice".into()),
                },
                ComponentData {
                    entity_type: "client-id".into(),
                    match_type: 2,
                    match_name: None,
                },
            ],
            strict: true,
        };
        let oracle = oracle!(kreq::DescribeClientQuotasRequest {
            components: expected
                .components
                .iter()
                .map(|c| oracle!(kreq::ComponentData {
                    entity_type: s(&c.entity_type),
                    match_type: c.match_type,
                    _match: c.match_name.as_deref().map(s),
                }))
                .collect(),
            strict: true,
        });
        for version in VERSIONS {
            let buf = encode(&oracle, version);
            assert_eq!(
                read_all(&buf, version, DescribeClientQuotasRequest::read),
                expected,
                "v{version}"
            );
            assert_truncations_fail(&buf, version, DescribeClientQuotasRequest::read);
        }
    }

    #[test]
    fn every_response_version_is_read_back_by_the_oracle() {
        for entries in [
            None,
            Some(vec![EntryData {
                entity: vec![
                    ("user".into(), Some("alice".into())),
                    ("client-id".into(), None),
                ],
                values: vec![("producer_byte_rate".into(), 1024.0)],
            }]),
        ] {
            let res = DescribeClientQuotasResponse {
                throttle_time_ms: 0,
                error_code: 0,
                error_message: None,
                entries,
            };
            let oracle = oracle!(kres::DescribeClientQuotasResponse {
                error_message: None,
                entries: res.entries.as_ref().map(|es| {
                    es.iter()
                        .map(|e| {
                            oracle!(kres::EntryData {
                                entity: e
                                    .entity
                                    .iter()
                                    .map(|(t, n)| oracle!(kres::EntityData {
                                        entity_type: s(t),
                                        entity_name: n.as_deref().map(s),
                                    }))
                                    .collect(),
                                values: e
                                    .values
                                    .iter()
                                    .map(|(k, v)| oracle!(kres::ValueData {
                                        key: s(k),
                                        value: *v,
                                    }))
                                    .collect(),
                            })
                        })
                        .collect()
                }),
            });
            for version in VERSIONS {
                let bytes = write(&res, version, DescribeClientQuotasResponse::write);
                let decoded: kres::DescribeClientQuotasResponse = decode(&bytes, version);
                assert_eq!(decoded, oracle, "v{version}");
            }
        }
    }
}

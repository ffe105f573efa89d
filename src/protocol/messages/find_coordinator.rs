//! FindCoordinator (key 10), versions 0-6: which broker coordinates a
//! consumer group (key type 0) or a transactional id (key type 1).
//!
//! Flexible from v3. KIP-699 (v4+) batches the lookup: the request carries
//! `coordinator_keys` instead of one `key`, and the response answers with one
//! `coordinators` entry per key instead of the top-level node fields.

use crate::protocol::primitives::{Reader, Result, Writer};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FindCoordinatorRequest {
    /// v0-3: the group id or transactional id to look up.
    pub key: String,
    /// v1+: 0 for a consumer group, 1 for a transactional id.
    pub key_type: i8,
    /// v4+: every key to look up, all of the same `key_type`.
    pub coordinator_keys: Vec<String>,
}

impl FindCoordinatorRequest {
    pub fn read(r: &mut Reader<'_>, version: i16) -> Result<Self> {
        let flexible = version >= 3;
        let mut req = FindCoordinatorRequest::default();
        if version <= 3 {
            req.key = r.string(flexible)?;
        }
        if version >= 1 {
            req.key_type = r.i8()?;
        }
        if version >= 4 {
            req.coordinator_keys = r.array(flexible, |r| r.string(flexible))?;
        }
        r.skip_tagged_fields(flexible)?;
        Ok(req)
    }
}

/// v4+: the answer for one of the requested keys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coordinator {
    pub key: String,
    pub node_id: i32,
    pub host: String,
    pub port: i32,
    pub error_code: i16,
    pub error_message: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FindCoordinatorResponse {
    /// v1+
    pub throttle_time_ms: i32,
    /// v0-3
    pub error_code: i16,
    /// v1-3
    pub error_message: Option<String>,
    /// v0-3: the coordinator's broker id.
    pub node_id: i32,
    /// v0-3
    pub host: String,
    /// v0-3
    pub port: i32,
    /// v4+: one entry per requested key.
    pub coordinators: Vec<Coordinator>,
}

impl FindCoordinatorResponse {
    pub fn write(&self, w: &mut Writer, version: i16) {
        let flexible = version >= 3;
        if version >= 1 {
            w.i32(self.throttle_time_ms);
        }
        if version <= 3 {
            w.i16(self.error_code);
            if version >= 1 {
                w.nullable_string(flexible, self.error_message.as_deref());
            }
            w.i32(self.node_id);
            w.string(flexible, &self.host);
            w.i32(self.port);
        } else {
            w.array(flexible, &self.coordinators, |w, c| {
                w.string(flexible, &c.key);
                w.i32(c.node_id);
                w.string(flexible, &c.host);
                w.i32(c.port);
                w.i16(c.error_code);
                w.nullable_string(flexible, c.error_message.as_deref());
                w.empty_tagged_fields(flexible);
            });
        }
        w.empty_tagged_fields(flexible);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::oracle::*;
    use bytes::Bytes;
    use kafka_protocol::messages::find_coordinator_response as kp_resp;
    use kafka_protocol::messages::{
        FindCoordinatorRequest as KpRequest, FindCoordinatorResponse as KpResponse,
    };
    use kafka_protocol::protocol::StrBytes;

    const VERSIONS: std::ops::RangeInclusive<i16> = 0..=6;

    fn oracle_request(version: i16) -> KpRequest {
        let mut m = KpRequest::default();
        if version <= 3 {
            m.key = StrBytes::from_static_str("orders-consumers");
        }
        if version >= 1 {
            m.key_type = 1;
        }
        if version >= 4 {
            m.coordinator_keys = vec!["txn-a".into(), "".into(), "txn-c".into()];
        }
        if version >= 3 {
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
            let ours = read_all(&bytes, version, FindCoordinatorRequest::read);
            let expected = FindCoordinatorRequest {
                key: m.key.to_string(),
                key_type: m.key_type,
                coordinator_keys: m.coordinator_keys.iter().map(|k| k.to_string()).collect(),
            };
            assert_eq!(ours, expected, "v{version}");
        }
    }

    #[test]
    fn truncated_requests_are_errors() {
        assert_truncations_fail_in(
            VERSIONS,
            |version| encode(&oracle_request(version), version),
            FindCoordinatorRequest::read,
        );
    }

    fn response(version: i16, nulls: bool) -> FindCoordinatorResponse {
        let message = |s: &str| (!nulls).then(|| s.to_owned());
        let mut resp = FindCoordinatorResponse::default();
        if version >= 1 {
            resp.throttle_time_ms = 17;
        }
        if version <= 3 {
            resp.error_code = 15;
            resp.node_id = 3;
            resp.host = "broker-3.example".into();
            resp.port = 9094;
            if version >= 1 {
                resp.error_message = message("coordinator loading");
            }
        } else {
            resp.coordinators = vec![
                Coordinator {
                    key: "txn-a".into(),
                    node_id: 2,
                    host: "broker-2".into(),
                    port: 9093,
                    error_code: 0,
                    error_message: message("ok"),
                },
                Coordinator {
                    key: "txn-c".into(),
                    node_id: -1,
                    host: String::new(),
                    port: -1,
                    error_code: 15,
                    error_message: message("not available"),
                },
            ];
        }
        resp
    }

    fn to_oracle(resp: &FindCoordinatorResponse, version: i16) -> KpResponse {
        let mut m = KpResponse::default();
        m.throttle_time_ms = resp.throttle_time_ms;
        if version <= 3 {
            m.error_code = resp.error_code;
            m.node_id = resp.node_id.into();
            m.host = resp.host.clone().into();
            m.port = resp.port;
            if version >= 1 {
                m.error_message = resp.error_message.clone().map(StrBytes::from);
            }
        }
        m.coordinators = resp
            .coordinators
            .iter()
            .map(|c| {
                let mut k = kp_resp::Coordinator::default();
                k.key = c.key.clone().into();
                k.node_id = c.node_id.into();
                k.host = c.host.clone().into();
                k.port = c.port;
                k.error_code = c.error_code;
                k.error_message = c.error_message.clone().map(StrBytes::from);
                k
            })
            .collect();
        m
    }

    #[test]
    fn response_matches_oracle_in_every_version() {
        for version in VERSIONS {
            for nulls in [false, true] {
                let resp = response(version, nulls);
                let bytes = write(&resp, version, FindCoordinatorResponse::write);
                let decoded: KpResponse = decode(&bytes, version);
                assert_eq!(
                    decoded,
                    to_oracle(&resp, version),
                    "v{version} nulls={nulls}"
                );
            }
        }
    }
}

//! Heartbeat (key 12), versions 0-4: a group member proves it is alive. The
//! error code is how the coordinator tells members a rebalance has begun
//! (REBALANCE_IN_PROGRESS), so they rejoin.
//!
//! Flexible from v4; v3 (KIP-345) adds `group_instance_id`.

use crate::protocol::primitives::{Reader, Result, Writer};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeartbeatRequest {
    pub group_id: String,
    /// The generation the member believes it is in.
    pub generation_id: i32,
    pub member_id: String,
    /// v3+: the static member id (KIP-345), if any.
    pub group_instance_id: Option<String>,
}

impl HeartbeatRequest {
    pub fn read(r: &mut Reader<'_>, version: i16) -> Result<Self> {
        let flexible = version >= 4;
        let mut req = HeartbeatRequest {
            group_id: r.string(flexible)?,
            generation_id: r.i32()?,
            member_id: r.string(flexible)?,
            group_instance_id: None,
        };
        if version >= 3 {
            req.group_instance_id = r.nullable_string(flexible)?;
        }
        r.skip_tagged_fields(flexible)?;
        Ok(req)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeartbeatResponse {
    /// v1+
    pub throttle_time_ms: i32,
    pub error_code: i16,
}

impl HeartbeatResponse {
    pub fn write(&self, w: &mut Writer, version: i16) {
        let flexible = version >= 4;
        if version >= 1 {
            w.i32(self.throttle_time_ms);
        }
        w.i16(self.error_code);
        w.empty_tagged_fields(flexible);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::oracle::*;
    use bytes::Bytes;
    use kafka_protocol::messages::{
        HeartbeatRequest as KpRequest, HeartbeatResponse as KpResponse,
    };
    use kafka_protocol::protocol::StrBytes;

    const VERSIONS: std::ops::RangeInclusive<i16> = 0..=4;

    fn oracle_request(version: i16, nulls: bool) -> KpRequest {
        let mut m = KpRequest::default();
        m.group_id = StrBytes::from_static_str("orders-consumers").into();
        m.generation_id = 12;
        m.member_id = StrBytes::from_static_str("rdkafka-5b1c");
        if version >= 3 && !nulls {
            m.group_instance_id = Some("instance-7".into());
        }
        if version >= 4 {
            // A field from a future version, which must be skipped.
            m.unknown_tagged_fields
                .insert(999, Bytes::from_static(b"future"));
        }
        m
    }

    #[test]
    fn request_matches_oracle_in_every_version() {
        for version in VERSIONS {
            for nulls in [false, true] {
                let m = oracle_request(version, nulls);
                let bytes = encode(&m, version);
                let ours = read_all(&bytes, version, HeartbeatRequest::read);
                let expected = HeartbeatRequest {
                    group_id: m.group_id.to_string(),
                    generation_id: m.generation_id,
                    member_id: m.member_id.to_string(),
                    group_instance_id: m.group_instance_id.as_ref().map(|s| s.to_string()),
                };
                assert_eq!(ours, expected, "v{version} nulls={nulls}");
            }
        }
    }

    #[test]
    fn truncated_requests_are_errors() {
        assert_truncations_fail_in(
            VERSIONS,
            |version| encode(&oracle_request(version, false), version),
            HeartbeatRequest::read,
        );
    }

    #[test]
    fn response_matches_oracle_in_every_version() {
        for version in VERSIONS {
            let resp = HeartbeatResponse {
                throttle_time_ms: if version >= 1 { 40 } else { 0 },
                error_code: 27,
            };
            let bytes = write(&resp, version, HeartbeatResponse::write);
            let decoded: KpResponse = decode(&bytes, version);
            let mut expected = KpResponse::default();
            expected.throttle_time_ms = resp.throttle_time_ms;
            expected.error_code = resp.error_code;
            assert_eq!(decoded, expected, "v{version}");
        }
    }
}

//! InitProducerId (key 22), versions 0-5: hands a producer the id and epoch
//! it stamps on every batch, which lets the broker drop retried duplicates
//! (idempotence, KIP-98). With a `transactional_id`, the id is stable across
//! restarts and the epoch is bumped to fence older instances.
//!
//! Flexible from v2. v3 (KIP-360) lets a producer send its current id and
//! epoch so the broker can bump the epoch instead of issuing a new id after
//! an error; v4 adds PRODUCER_FENCED to the error codes (KIP-588), with no
//! format change.

use crate::protocol::primitives::{Reader, Result, Writer};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitProducerIdRequest {
    /// The transactional id, or `None` for an idempotent-only producer.
    pub transactional_id: Option<String>,
    /// How long a transaction may stay open before the coordinator aborts it.
    pub transaction_timeout_ms: i32,
    /// v3+: the producer's current id, or -1 when it has none yet.
    pub producer_id: i64,
    /// v3+: the producer's current epoch, or -1 when it has none yet.
    pub producer_epoch: i16,
}

impl Default for InitProducerIdRequest {
    fn default() -> Self {
        InitProducerIdRequest {
            transactional_id: None,
            transaction_timeout_ms: 0,
            producer_id: -1,
            producer_epoch: -1,
        }
    }
}

impl InitProducerIdRequest {
    pub fn read(r: &mut Reader<'_>, version: i16) -> Result<Self> {
        let flexible = version >= 2;
        let mut req = InitProducerIdRequest {
            transactional_id: r.nullable_string(flexible)?,
            transaction_timeout_ms: r.i32()?,
            ..Default::default()
        };
        if version >= 3 {
            req.producer_id = r.i64()?;
            req.producer_epoch = r.i16()?;
        }
        r.skip_tagged_fields(flexible)?;
        Ok(req)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitProducerIdResponse {
    pub throttle_time_ms: i32,
    pub error_code: i16,
    /// The producer id to use, or -1 on error.
    pub producer_id: i64,
    /// The epoch to use with it.
    pub producer_epoch: i16,
}

impl Default for InitProducerIdResponse {
    fn default() -> Self {
        InitProducerIdResponse {
            throttle_time_ms: 0,
            error_code: 0,
            producer_id: -1,
            producer_epoch: 0,
        }
    }
}

impl InitProducerIdResponse {
    pub fn write(&self, w: &mut Writer, version: i16) {
        let flexible = version >= 2;
        w.i32(self.throttle_time_ms);
        w.i16(self.error_code);
        w.i64(self.producer_id);
        w.i16(self.producer_epoch);
        w.empty_tagged_fields(flexible);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::oracle::*;
    use bytes::Bytes;
    use kafka_protocol::messages::{
        InitProducerIdRequest as KpRequest, InitProducerIdResponse as KpResponse,
    };
    use kafka_protocol::protocol::StrBytes;

    const VERSIONS: std::ops::RangeInclusive<i16> = 0..=5;

    fn oracle_request(version: i16, nulls: bool) -> KpRequest {
        let mut m = KpRequest::default();
        m.transactional_id = (!nulls).then(|| StrBytes::from_static_str("payments-txn-0").into());
        m.transaction_timeout_ms = 60_000;
        if version >= 3 {
            m.producer_id = 4_000_000_123.into();
            m.producer_epoch = 7;
        }
        if version >= 2 {
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
                let ours = read_all(&bytes, version, InitProducerIdRequest::read);
                let expected = InitProducerIdRequest {
                    transactional_id: m.transactional_id.as_ref().map(|t| t.to_string()),
                    transaction_timeout_ms: m.transaction_timeout_ms,
                    producer_id: m.producer_id.0,
                    producer_epoch: m.producer_epoch,
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
            InitProducerIdRequest::read,
        );
    }

    #[test]
    fn response_matches_oracle_in_every_version() {
        let resp = InitProducerIdResponse {
            throttle_time_ms: 5,
            error_code: 51,
            producer_id: 4_000_000_123,
            producer_epoch: 8,
        };
        let mut expected = KpResponse::default();
        expected.throttle_time_ms = resp.throttle_time_ms;
        expected.error_code = resp.error_code;
        expected.producer_id = resp.producer_id.into();
        expected.producer_epoch = resp.producer_epoch;
        for version in VERSIONS {
            let bytes = write(&resp, version, InitProducerIdResponse::write);
            let decoded: KpResponse = decode(&bytes, version);
            assert_eq!(decoded, expected, "v{version}");
        }
    }
}

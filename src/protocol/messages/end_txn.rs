//! EndTxn (key 26), versions 0-3: a transactional producer asks its
//! transaction coordinator to commit or abort the current transaction
//! (KIP-98). The coordinator records the decision, then writes a commit or
//! abort control marker into every partition added to the transaction, which
//! is what makes the records visible to (or hidden from) `read_committed`
//! consumers.
//!
//! Flexible from v3. v1 is v0 with KIP-219 throttling; v2 lets the broker
//! answer `PRODUCER_FENCED` (KIP-588).

use crate::protocol::primitives::{Reader, Result, Writer};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndTxnRequest {
    pub transactional_id: String,
    /// The producer id and epoch from InitProducerId.
    pub producer_id: i64,
    pub producer_epoch: i16,
    /// `true` to commit the transaction, `false` to abort it.
    pub committed: bool,
}

impl EndTxnRequest {
    pub fn read(r: &mut Reader<'_>, version: i16) -> Result<Self> {
        let flexible = version >= 3;
        let req = EndTxnRequest {
            transactional_id: r.string(flexible)?,
            producer_id: r.i64()?,
            producer_epoch: r.i16()?,
            committed: r.bool()?,
        };
        r.skip_tagged_fields(flexible)?;
        Ok(req)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndTxnResponse {
    pub throttle_time_ms: i32,
    pub error_code: i16,
}

impl EndTxnResponse {
    pub fn write(&self, w: &mut Writer, version: i16) {
        let flexible = version >= 3;
        w.i32(self.throttle_time_ms);
        w.i16(self.error_code);
        w.empty_tagged_fields(flexible);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::oracle::*;
    use bytes::Bytes;
    use kafka_protocol::messages::{EndTxnRequest as KpRequest, EndTxnResponse as KpResponse};
    use kafka_protocol::protocol::StrBytes;

    const VERSIONS: std::ops::RangeInclusive<i16> = 0..=3;

    fn oracle_request(version: i16, committed: bool) -> KpRequest {
        let mut m = KpRequest::default();
        m.transactional_id = StrBytes::from_static_str("payments-txn-0").into();
        m.producer_id = 4_000_000_123.into();
        m.producer_epoch = 7;
        m.committed = committed;
        if version >= 3 {
            m.unknown_tagged_fields
                .insert(999, Bytes::from_static(b"future"));
        }
        m
    }

    #[test]
    fn request_matches_oracle_in_every_version() {
        for version in VERSIONS {
            for committed in [true, false] {
                let m = oracle_request(version, committed);
                let bytes = encode(&m, version);
                let ours = read_all(&bytes, version, EndTxnRequest::read);
                let expected = EndTxnRequest {
                    transactional_id: m.transactional_id.to_string(),
                    producer_id: m.producer_id.0,
                    producer_epoch: m.producer_epoch,
                    committed: m.committed,
                };
                assert_eq!(ours, expected, "v{version} committed={committed}");
            }
        }
    }

    #[test]
    fn truncated_requests_are_errors() {
        assert_truncations_fail_in(
            VERSIONS,
            |version| encode(&oracle_request(version, true), version),
            EndTxnRequest::read,
        );
    }

    #[test]
    fn response_matches_oracle_in_every_version() {
        for version in VERSIONS {
            let resp = EndTxnResponse {
                throttle_time_ms: 11,
                error_code: 48,
            };
            let bytes = write(&resp, version, EndTxnResponse::write);
            let decoded: KpResponse = decode(&bytes, version);
            let mut expected = KpResponse::default();
            expected.throttle_time_ms = resp.throttle_time_ms;
            expected.error_code = resp.error_code;
            assert_eq!(decoded, expected, "v{version}");
        }
    }
}

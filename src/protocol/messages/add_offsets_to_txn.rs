//! AddOffsetsToTxn (key 25), versions 0-3: a transactional producer that
//! will commit consumer offsets as part of its transaction (the
//! consume-transform-produce loop, KIP-98) first tells its transaction
//! coordinator which consumer group's offsets it will commit. The
//! coordinator then treats that group's `__consumer_offsets` partition as a
//! member of the transaction; the offsets themselves follow in
//! TxnOffsetCommit, sent to the group coordinator.
//!
//! Flexible from v3. v1 is v0 with KIP-219 throttling; v2 lets the broker
//! answer `PRODUCER_FENCED` (KIP-588).

use crate::protocol::primitives::{Reader, Result, Writer};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddOffsetsToTxnRequest {
    pub transactional_id: String,
    /// The producer id and epoch from InitProducerId.
    pub producer_id: i64,
    pub producer_epoch: i16,
    /// The consumer group whose offsets join the transaction.
    pub group_id: String,
}

impl AddOffsetsToTxnRequest {
    pub fn read(r: &mut Reader<'_>, version: i16) -> Result<Self> {
        let flexible = version >= 3;
        let req = AddOffsetsToTxnRequest {
            transactional_id: r.string(flexible)?,
            producer_id: r.i64()?,
            producer_epoch: r.i16()?,
            group_id: r.string(flexible)?,
        };
        r.skip_tagged_fields(flexible)?;
        Ok(req)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddOffsetsToTxnResponse {
    pub throttle_time_ms: i32,
    pub error_code: i16,
}

impl AddOffsetsToTxnResponse {
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
    use kafka_protocol::messages::{
        AddOffsetsToTxnRequest as KpRequest, AddOffsetsToTxnResponse as KpResponse,
    };
    use kafka_protocol::protocol::StrBytes;

    const VERSIONS: std::ops::RangeInclusive<i16> = 0..=3;

    fn oracle_request(version: i16) -> KpRequest {
        let mut m = KpRequest::default();
        m.transactional_id = StrBytes::from_static_str("payments-txn-0").into();
        m.producer_id = 4_000_000_123.into();
        m.producer_epoch = 7;
        m.group_id = StrBytes::from_static_str("orders-consumers").into();
        if version >= 3 {
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
            let ours = read_all(&bytes, version, AddOffsetsToTxnRequest::read);
            let expected = AddOffsetsToTxnRequest {
                transactional_id: m.transactional_id.to_string(),
                producer_id: m.producer_id.0,
                producer_epoch: m.producer_epoch,
                group_id: m.group_id.to_string(),
            };
            assert_eq!(ours, expected, "v{version}");
        }
    }

    #[test]
    fn truncated_requests_are_errors() {
        assert_truncations_fail_in(
            VERSIONS,
            |version| encode(&oracle_request(version), version),
            AddOffsetsToTxnRequest::read,
        );
    }

    #[test]
    fn response_matches_oracle_in_every_version() {
        for version in VERSIONS {
            let resp = AddOffsetsToTxnResponse {
                throttle_time_ms: 11,
                error_code: 90,
            };
            let bytes = write(&resp, version, AddOffsetsToTxnResponse::write);
            let decoded: KpResponse = decode(&bytes, version);
            let mut expected = KpResponse::default();
            expected.throttle_time_ms = resp.throttle_time_ms;
            expected.error_code = resp.error_code;
            assert_eq!(decoded, expected, "v{version}");
        }
    }
}

//! ListTransactions (key 66), versions 0-1: an admin tool asks a transaction
//! coordinator for the transactions it owns (KIP-664), optionally filtered.
//! Each filter that is empty (or -1) matches everything; given filters must
//! all match.
//!
//! Flexible from v0. v1 adds `duration_filter` (KIP-994), to find
//! transactions open for suspiciously long.

use crate::protocol::primitives::{Reader, Result, Writer};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListTransactionsRequest {
    /// Only transactions in one of these states ("Ongoing", ...), or all.
    pub state_filters: Vec<String>,
    /// Only transactions of one of these producers, or all.
    pub producer_id_filters: Vec<i64>,
    /// v1+: only transactions running longer than this many milliseconds,
    /// or -1 for all.
    pub duration_filter: i64,
}

impl Default for ListTransactionsRequest {
    fn default() -> Self {
        ListTransactionsRequest {
            state_filters: Vec::new(),
            producer_id_filters: Vec::new(),
            duration_filter: -1,
        }
    }
}

impl ListTransactionsRequest {
    pub fn read(r: &mut Reader<'_>, version: i16) -> Result<Self> {
        let flexible = true;
        let mut req = ListTransactionsRequest {
            state_filters: r.array(flexible, |r| r.string(flexible))?,
            producer_id_filters: r.array(flexible, |r| r.i64())?,
            ..Default::default()
        };
        if version >= 1 {
            req.duration_filter = r.i64()?;
        }
        r.skip_tagged_fields(flexible)?;
        Ok(req)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListedTransaction {
    pub transactional_id: String,
    pub producer_id: i64,
    /// The coordinator's state name, e.g. "Ongoing" (see DescribeTransactions).
    pub transaction_state: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListTransactionsResponse {
    pub throttle_time_ms: i32,
    pub error_code: i16,
    /// The requested state filters that name no known state, echoed back so
    /// the client can warn instead of silently matching nothing.
    pub unknown_state_filters: Vec<String>,
    pub transaction_states: Vec<ListedTransaction>,
}

impl ListTransactionsResponse {
    pub fn write(&self, w: &mut Writer, _version: i16) {
        let flexible = true;
        w.i32(self.throttle_time_ms);
        w.i16(self.error_code);
        w.array(flexible, &self.unknown_state_filters, |w, state| {
            w.string(flexible, state)
        });
        w.array(flexible, &self.transaction_states, |w, txn| {
            w.string(flexible, &txn.transactional_id);
            w.i64(txn.producer_id);
            w.string(flexible, &txn.transaction_state);
            w.empty_tagged_fields(flexible);
        });
        w.empty_tagged_fields(flexible);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::oracle::*;
    use bytes::Bytes;
    use kafka_protocol::messages::list_transactions_response as kp_resp;
    use kafka_protocol::messages::{
        ListTransactionsRequest as KpRequest, ListTransactionsResponse as KpResponse,
    };
    use kafka_protocol::protocol::StrBytes;

    const VERSIONS: std::ops::RangeInclusive<i16> = 0..=1;

    fn oracle_request(version: i16) -> KpRequest {
        let mut m = KpRequest::default();
        m.state_filters = vec![
            StrBytes::from_static_str("Ongoing"),
            StrBytes::from_static_str("PrepareCommit"),
        ];
        m.producer_id_filters = vec![4_000_000_123.into(), 5.into()];
        if version >= 1 {
            m.duration_filter = 600_000;
        }
        // A field from a future version, which must be skipped.
        m.unknown_tagged_fields
            .insert(999, Bytes::from_static(b"future"));
        m
    }

    #[test]
    fn request_matches_oracle_in_every_version() {
        for version in VERSIONS {
            let m = oracle_request(version);
            let bytes = encode(&m, version);
            let ours = read_all(&bytes, version, ListTransactionsRequest::read);
            let expected = ListTransactionsRequest {
                state_filters: m.state_filters.iter().map(|s| s.to_string()).collect(),
                producer_id_filters: m.producer_id_filters.iter().map(|p| p.0).collect(),
                duration_filter: m.duration_filter,
            };
            assert_eq!(ours, expected, "v{version}");
        }
    }

    #[test]
    fn truncated_requests_are_errors() {
        assert_truncations_fail_in(
            VERSIONS,
            |version| encode(&oracle_request(version), version),
            ListTransactionsRequest::read,
        );
    }

    fn response() -> ListTransactionsResponse {
        ListTransactionsResponse {
            throttle_time_ms: 11,
            error_code: 15,
            unknown_state_filters: vec!["Bogus".into(), "".into()],
            transaction_states: vec![
                ListedTransaction {
                    transactional_id: "payments-txn-0".into(),
                    producer_id: 4_000_000_123,
                    transaction_state: "Ongoing".into(),
                },
                ListedTransaction {
                    transactional_id: "orders-txn-1".into(),
                    producer_id: 5,
                    transaction_state: "CompleteCommit".into(),
                },
            ],
        }
    }

    fn to_oracle(resp: &ListTransactionsResponse) -> KpResponse {
        let mut m = KpResponse::default();
        m.throttle_time_ms = resp.throttle_time_ms;
        m.error_code = resp.error_code;
        m.unknown_state_filters = resp
            .unknown_state_filters
            .iter()
            .map(|s| StrBytes::from(s.clone()))
            .collect();
        m.transaction_states = resp
            .transaction_states
            .iter()
            .map(|txn| {
                let mut s = kp_resp::TransactionState::default();
                s.transactional_id = StrBytes::from(txn.transactional_id.clone()).into();
                s.producer_id = txn.producer_id.into();
                s.transaction_state = StrBytes::from(txn.transaction_state.clone());
                s
            })
            .collect();
        m
    }

    #[test]
    fn response_matches_oracle_in_every_version() {
        for version in VERSIONS {
            let resp = response();
            let bytes = write(&resp, version, ListTransactionsResponse::write);
            let decoded: KpResponse = decode(&bytes, version);
            assert_eq!(decoded, to_oracle(&resp), "v{version}");
        }
    }
}

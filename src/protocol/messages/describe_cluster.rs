//! DescribeCluster (key 60), versions 0-1: the cluster id, controller and
//! brokers, for admin clients (KIP-700). Flexible in every version.

use super::metadata::AUTHORIZED_OPERATIONS_OMITTED;
use crate::protocol::primitives::{Reader, Result, Writer};

/// `endpoint_type` asking for, or answering with, broker endpoints.
pub const ENDPOINT_TYPE_BROKERS: i8 = 1;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribeClusterRequest {
    /// Whether to fill `cluster_authorized_operations`.
    pub include_cluster_authorized_operations: bool,
    /// v1+: 1 = brokers, 2 = controllers (KIP-919).
    pub endpoint_type: i8,
}

impl Default for DescribeClusterRequest {
    fn default() -> Self {
        DescribeClusterRequest {
            include_cluster_authorized_operations: false,
            endpoint_type: ENDPOINT_TYPE_BROKERS,
        }
    }
}

impl DescribeClusterRequest {
    pub fn read(r: &mut Reader<'_>, version: i16) -> Result<Self> {
        let mut req = DescribeClusterRequest {
            include_cluster_authorized_operations: r.bool()?,
            ..DescribeClusterRequest::default()
        };
        if version >= 1 {
            req.endpoint_type = r.i8()?;
        }
        r.skip_tagged_fields(true)?;
        Ok(req)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribeClusterResponse {
    pub throttle_time_ms: i32,
    pub error_code: i16,
    pub error_message: Option<String>,
    /// v1+: the kind of endpoints listed in `brokers`.
    pub endpoint_type: i8,
    pub cluster_id: String,
    /// The controller's id, -1 if unknown.
    pub controller_id: i32,
    pub brokers: Vec<DescribeClusterBroker>,
    /// Bitfield of ACL operations the client may perform on the cluster, or
    /// [`AUTHORIZED_OPERATIONS_OMITTED`].
    pub cluster_authorized_operations: i32,
}

impl Default for DescribeClusterResponse {
    fn default() -> Self {
        DescribeClusterResponse {
            throttle_time_ms: 0,
            error_code: 0,
            error_message: None,
            endpoint_type: ENDPOINT_TYPE_BROKERS,
            cluster_id: String::new(),
            controller_id: -1,
            brokers: Vec::new(),
            cluster_authorized_operations: AUTHORIZED_OPERATIONS_OMITTED,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribeClusterBroker {
    pub broker_id: i32,
    pub host: String,
    pub port: i32,
    pub rack: Option<String>,
}

impl DescribeClusterResponse {
    pub fn write(&self, w: &mut Writer, version: i16) {
        w.i32(self.throttle_time_ms);
        w.i16(self.error_code);
        w.nullable_string(true, self.error_message.as_deref());
        if version >= 1 {
            w.i8(self.endpoint_type);
        }
        w.string(true, &self.cluster_id);
        w.i32(self.controller_id);
        w.array(true, &self.brokers, |w, b| {
            w.i32(b.broker_id);
            w.string(true, &b.host);
            w.i32(b.port);
            w.nullable_string(true, b.rack.as_deref());
            w.empty_tagged_fields(true);
        });
        w.i32(self.cluster_authorized_operations);
        w.empty_tagged_fields(true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::oracle::*;
    use kafka_protocol::messages::describe_cluster_request as kreq;
    use kafka_protocol::messages::describe_cluster_response as kres;
    use kafka_protocol::messages::BrokerId;

    const VERSIONS: std::ops::RangeInclusive<i16> = 0..=1;

    fn sample_request(version: i16) -> DescribeClusterRequest {
        DescribeClusterRequest {
            include_cluster_authorized_operations: true,
            endpoint_type: if version >= 1 {
                2
            } else {
                ENDPOINT_TYPE_BROKERS
            },
        }
    }

    fn encode_request(req: &DescribeClusterRequest, version: i16) -> Vec<u8> {
        let oracle = kreq::DescribeClusterRequest::default()
            .with_include_cluster_authorized_operations(req.include_cluster_authorized_operations)
            .with_endpoint_type(req.endpoint_type);
        encode(&oracle, version)
    }

    #[test]
    fn reads_every_request_version_encoded_by_the_oracle() {
        for version in VERSIONS {
            let expected = sample_request(version);
            let buf = encode_request(&expected, version);
            let got = read_all(&buf, version, DescribeClusterRequest::read);
            assert_eq!(got, expected, "v{version}");
        }
    }

    #[test]
    fn truncated_requests_are_errors() {
        assert_truncations_fail_in(
            VERSIONS,
            |version| encode_request(&sample_request(version), version),
            DescribeClusterRequest::read,
        );
    }

    fn sample_response(version: i16) -> DescribeClusterResponse {
        DescribeClusterResponse {
            throttle_time_ms: 2,
            error_code: 0,
            error_message: Some("all good".into()),
            endpoint_type: if version >= 1 {
                2
            } else {
                ENDPOINT_TYPE_BROKERS
            },
            cluster_id: "kafkaesque".into(),
            controller_id: 1,
            brokers: vec![
                DescribeClusterBroker {
                    broker_id: 1,
                    host: "broker-1".into(),
                    port: 9092,
                    rack: Some("rack-a".into()),
                },
                DescribeClusterBroker {
                    broker_id: 2,
                    host: "broker-2".into(),
                    port: 9093,
                    rack: None,
                },
            ],
            cluster_authorized_operations: 0b1100,
        }
    }

    fn to_oracle_response(res: &DescribeClusterResponse) -> kres::DescribeClusterResponse {
        kres::DescribeClusterResponse::default()
            .with_throttle_time_ms(res.throttle_time_ms)
            .with_error_code(res.error_code)
            .with_error_message(res.error_message.as_deref().map(s))
            .with_endpoint_type(res.endpoint_type)
            .with_cluster_id(s(&res.cluster_id))
            .with_controller_id(BrokerId(res.controller_id))
            .with_brokers(
                res.brokers
                    .iter()
                    .map(|b| {
                        kres::DescribeClusterBroker::default()
                            .with_broker_id(BrokerId(b.broker_id))
                            .with_host(s(&b.host))
                            .with_port(b.port)
                            .with_rack(b.rack.as_deref().map(s))
                    })
                    .collect(),
            )
            .with_cluster_authorized_operations(res.cluster_authorized_operations)
    }

    #[test]
    fn every_response_version_is_read_back_by_the_oracle() {
        for version in VERSIONS {
            let res = sample_response(version);
            let bytes = write(&res, version, DescribeClusterResponse::write);
            let decoded: kres::DescribeClusterResponse = decode(&bytes, version);
            let oracle = to_oracle_response(&res);
            assert_eq!(decoded, oracle, "v{version}");
            let expected = encode(&oracle, version);
            assert_eq!(bytes, expected, "v{version}");
        }
    }
}

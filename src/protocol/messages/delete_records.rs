//! DeleteRecords (key 21), versions 0-2: move partitions' log start offset
//! forward, deleting every record before it (KIP-107). Flexible from v2.

use crate::protocol::primitives::{Reader, Result, Writer};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeleteRecordsRequest {
    pub topics: Vec<DeleteRecordsTopic>,
    pub timeout_ms: i32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeleteRecordsTopic {
    pub name: String,
    pub partitions: Vec<DeleteRecordsPartition>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeleteRecordsPartition {
    pub partition_index: i32,
    /// Delete every record before this offset; -1 means the high watermark.
    pub offset: i64,
}

impl DeleteRecordsRequest {
    pub fn read(r: &mut Reader<'_>, version: i16) -> Result<Self> {
        let flexible = version >= 2;
        let topics = r.array(flexible, |r| {
            let name = r.string(flexible)?;
            let partitions = r.array(flexible, |r| {
                let partition_index = r.i32()?;
                let offset = r.i64()?;
                r.skip_tagged_fields(flexible)?;
                Ok(DeleteRecordsPartition {
                    partition_index,
                    offset,
                })
            })?;
            r.skip_tagged_fields(flexible)?;
            Ok(DeleteRecordsTopic { name, partitions })
        })?;
        let timeout_ms = r.i32()?;
        r.skip_tagged_fields(flexible)?;
        Ok(DeleteRecordsRequest { topics, timeout_ms })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeleteRecordsResponse {
    pub throttle_time_ms: i32,
    pub topics: Vec<DeleteRecordsTopicResult>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeleteRecordsTopicResult {
    pub name: String,
    pub partitions: Vec<DeleteRecordsPartitionResult>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeleteRecordsPartitionResult {
    pub partition_index: i32,
    /// The partition's log start offset after the deletion, -1 on error.
    pub low_watermark: i64,
    pub error_code: i16,
}

impl DeleteRecordsResponse {
    pub fn write(&self, w: &mut Writer, version: i16) {
        let flexible = version >= 2;
        w.i32(self.throttle_time_ms);
        w.array(flexible, &self.topics, |w, t| {
            w.string(flexible, &t.name);
            w.array(flexible, &t.partitions, |w, p| {
                w.i32(p.partition_index);
                w.i64(p.low_watermark);
                w.i16(p.error_code);
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
    use kafka_protocol::messages::delete_records_request as kreq;
    use kafka_protocol::messages::delete_records_response as kres;
    use kafka_protocol::messages::TopicName;

    const VERSIONS: std::ops::RangeInclusive<i16> = 0..=2;

    #[test]
    fn reads_every_request_version_encoded_by_the_oracle() {
        let expected = DeleteRecordsRequest {
            topics: vec![DeleteRecordsTopic {
                name: "orders".into(),
                partitions: vec![
                    DeleteRecordsPartition {
                        partition_index: 0,
                        offset: 17,
                    },
                    DeleteRecordsPartition {
                        partition_index: 3,
                        offset: -1,
                    },
                ],
            }],
            timeout_ms: 1500,
        };
        let oracle = oracle!(kreq::DeleteRecordsRequest {
            topics: vec![oracle!(kreq::DeleteRecordsTopic {
                name: TopicName(s("orders")),
                partitions: vec![
                    oracle!(kreq::DeleteRecordsPartition {
                        partition_index: 0,
                        offset: 17,
                    }),
                    oracle!(kreq::DeleteRecordsPartition {
                        partition_index: 3,
                        offset: -1,
                    }),
                ],
            })],
            timeout_ms: 1500,
        });
        for version in VERSIONS {
            let buf = encode(&oracle, version);
            assert_eq!(
                read_all(&buf, version, DeleteRecordsRequest::read),
                expected,
                "v{version}"
            );
            assert_truncations_fail(&buf, version, DeleteRecordsRequest::read);
        }
    }

    #[test]
    fn every_response_version_is_read_back_by_the_oracle() {
        let res = DeleteRecordsResponse {
            throttle_time_ms: 0,
            topics: vec![DeleteRecordsTopicResult {
                name: "orders".into(),
                partitions: vec![
                    DeleteRecordsPartitionResult {
                        partition_index: 0,
                        low_watermark: 17,
                        error_code: 0,
                    },
                    DeleteRecordsPartitionResult {
                        partition_index: 3,
                        low_watermark: -1,
                        error_code: 1,
                    },
                ],
            }],
        };
        let oracle = oracle!(kres::DeleteRecordsResponse {
            throttle_time_ms: 0,
            topics: vec![oracle!(kres::DeleteRecordsTopicResult {
                name: TopicName(s("orders")),
                partitions: vec![
                    oracle!(kres::DeleteRecordsPartitionResult {
                        partition_index: 0,
                        low_watermark: 17,
                        error_code: 0,
                    }),
                    oracle!(kres::DeleteRecordsPartitionResult {
                        partition_index: 3,
                        low_watermark: -1,
                        error_code: 1,
                    }),
                ],
            })],
        });
        for version in VERSIONS {
            let bytes = write(&res, version, DeleteRecordsResponse::write);
            let decoded: kres::DeleteRecordsResponse = decode(&bytes, version);
            assert_eq!(decoded, oracle, "v{version}");
        }
    }
}

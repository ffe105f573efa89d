//! DescribeLogDirs (key 35), versions 1-4: the log directories of a broker
//! and the size of each partition in them (KIP-113). Flexible from v2; v3
//! adds a top-level error code, v4 the directory's total and usable bytes
//! (KIP-827).

use crate::protocol::primitives::{Reader, Result, Writer};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribeLogDirsRequest {
    /// The partitions to describe; null for all of them.
    pub topics: Option<Vec<DescribableLogDirTopic>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribableLogDirTopic {
    pub topic: String,
    pub partitions: Vec<i32>,
}

impl DescribeLogDirsRequest {
    pub fn read(r: &mut Reader<'_>, version: i16) -> Result<Self> {
        let flexible = version >= 2;
        let topics = r.nullable_array(flexible, |r| {
            let topic = r.string(flexible)?;
            let partitions = r.array(flexible, |r| r.i32())?;
            r.skip_tagged_fields(flexible)?;
            Ok(DescribableLogDirTopic { topic, partitions })
        })?;
        r.skip_tagged_fields(flexible)?;
        Ok(DescribeLogDirsRequest { topics })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribeLogDirsResponse {
    pub throttle_time_ms: i32,
    /// v3+: an error for the whole request.
    pub error_code: i16,
    pub results: Vec<DescribeLogDirsResult>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribeLogDirsResult {
    pub error_code: i16,
    /// The directory's absolute path.
    pub log_dir: String,
    pub topics: Vec<DescribeLogDirsTopic>,
    /// v4+: the directory's size in bytes, -1 if unknown.
    pub total_bytes: i64,
    /// v4+: free bytes in the directory, -1 if unknown.
    pub usable_bytes: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribeLogDirsTopic {
    pub name: String,
    pub partitions: Vec<DescribeLogDirsPartition>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribeLogDirsPartition {
    pub partition_index: i32,
    /// Bytes the partition's log takes.
    pub partition_size: i64,
    /// How far this replica is behind the log end (0 for a leader).
    pub offset_lag: i64,
    /// Whether this is a future replica being moved between directories.
    pub is_future_key: bool,
}

impl DescribeLogDirsResponse {
    pub fn write(&self, w: &mut Writer, version: i16) {
        let flexible = version >= 2;
        w.i32(self.throttle_time_ms);
        if version >= 3 {
            w.i16(self.error_code);
        }
        w.array(flexible, &self.results, |w, d| {
            w.i16(d.error_code);
            w.string(flexible, &d.log_dir);
            w.array(flexible, &d.topics, |w, t| {
                w.string(flexible, &t.name);
                w.array(flexible, &t.partitions, |w, p| {
                    w.i32(p.partition_index);
                    w.i64(p.partition_size);
                    w.i64(p.offset_lag);
                    w.bool(p.is_future_key);
                    w.empty_tagged_fields(flexible);
                });
                w.empty_tagged_fields(flexible);
            });
            if version >= 4 {
                w.i64(d.total_bytes);
                w.i64(d.usable_bytes);
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
    use kafka_protocol::messages::describe_log_dirs_request as kreq;
    use kafka_protocol::messages::describe_log_dirs_response as kres;
    use kafka_protocol::messages::TopicName;

    const VERSIONS: std::ops::RangeInclusive<i16> = 1..=4;

    #[test]
    fn reads_every_request_version_encoded_by_the_oracle() {
        for topics in [
            None,
            Some(vec![DescribableLogDirTopic {
                topic: "orders".into(),
                partitions: vec![0, 2],
            }]),
        ] {
            let oracle = oracle!(kreq::DescribeLogDirsRequest {
                topics: topics.as_ref().map(|ts| {
                    ts.iter()
                        .map(|t| {
                            oracle!(kreq::DescribableLogDirTopic {
                                topic: TopicName(s(&t.topic)),
                                partitions: t.partitions.clone(),
                            })
                        })
                        .collect()
                }),
            });
            let expected = DescribeLogDirsRequest { topics };
            for version in VERSIONS {
                let buf = encode(&oracle, version);
                assert_eq!(
                    read_all(&buf, version, DescribeLogDirsRequest::read),
                    expected,
                    "v{version}"
                );
                assert_truncations_fail(&buf, version, DescribeLogDirsRequest::read);
            }
        }
    }

    #[test]
    fn every_response_version_is_read_back_by_the_oracle() {
        for version in VERSIONS {
            let res = DescribeLogDirsResponse {
                throttle_time_ms: 0,
                error_code: 0,
                results: vec![DescribeLogDirsResult {
                    error_code: 0,
                    log_dir: "/postgresql/kafkaesque".into(),
                    topics: vec![DescribeLogDirsTopic {
                        name: "orders".into(),
                        partitions: vec![DescribeLogDirsPartition {
                            partition_index: 1,
                            partition_size: 8192,
                            offset_lag: 0,
                            is_future_key: false,
                        }],
                    }],
                    total_bytes: if version >= 4 { 1 << 30 } else { -1 },
                    usable_bytes: if version >= 4 { 1 << 29 } else { -1 },
                }],
            };
            let oracle = oracle!(kres::DescribeLogDirsResponse {
                throttle_time_ms: 0,
                error_code: 0,
                results: vec![oracle!(kres::DescribeLogDirsResult {
                    error_code: 0,
                    log_dir: s("/postgresql/kafkaesque"),
                    topics: vec![oracle!(kres::DescribeLogDirsTopic {
                        name: TopicName(s("orders")),
                        partitions: vec![oracle!(kres::DescribeLogDirsPartition {
                            partition_index: 1,
                            partition_size: 8192,
                            offset_lag: 0,
                            is_future_key: false,
                        })],
                    })],
                    total_bytes: res.results[0].total_bytes,
                    usable_bytes: res.results[0].usable_bytes,
                })],
            });
            let bytes = write(&res, version, DescribeLogDirsResponse::write);
            let decoded: kres::DescribeLogDirsResponse = decode(&bytes, version);
            assert_eq!(decoded, oracle, "v{version}");
        }
    }
}

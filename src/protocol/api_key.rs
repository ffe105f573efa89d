//! The API keys this broker understands and the versions it advertises.
//!
//! This is the single table behind ApiVersions, the request-header version
//! and the response-header version. Clients pick `min(their max, our max)`,
//! so a version is listed here only once its codec and handler are complete
//! (`../shared/docs/protocol-targets.md` has the targets).

/// A Kafka API key (the first field of every request header).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(i16)]
pub enum ApiKey {
    Produce = 0,
    Fetch = 1,
    ListOffsets = 2,
    Metadata = 3,
    OffsetCommit = 8,
    OffsetFetch = 9,
    FindCoordinator = 10,
    JoinGroup = 11,
    Heartbeat = 12,
    LeaveGroup = 13,
    SyncGroup = 14,
    DescribeGroups = 15,
    ListGroups = 16,
    ApiVersions = 18,
    CreateTopics = 19,
    DeleteTopics = 20,
    DeleteRecords = 21,
    InitProducerId = 22,
    OffsetForLeaderEpoch = 23,
    AddPartitionsToTxn = 24,
    AddOffsetsToTxn = 25,
    EndTxn = 26,
    TxnOffsetCommit = 28,
    DescribeAcls = 29,
    CreateAcls = 30,
    DeleteAcls = 31,
    DescribeConfigs = 32,
    AlterConfigs = 33,
    DescribeLogDirs = 35,
    CreatePartitions = 37,
    DeleteGroups = 42,
    ElectLeaders = 43,
    IncrementalAlterConfigs = 44,
    ListPartitionReassignments = 46,
    OffsetDelete = 47,
    DescribeClientQuotas = 48,
    DescribeUserScramCredentials = 50,
    AlterUserScramCredentials = 51,
    DescribeCluster = 60,
    DescribeProducers = 61,
    DescribeTransactions = 65,
    ListTransactions = 66,
    DescribeTopicPartitions = 75,
}

/// One advertised API: its key, version range and first flexible version.
#[derive(Debug, Clone, Copy)]
pub struct ApiSupport {
    pub key: ApiKey,
    pub min_version: i16,
    pub max_version: i16,
    /// First version using compact encodings and tagged fields (KIP-482);
    /// `i16::MAX` for APIs that never became flexible (OffsetDelete).
    pub flexible_from: i16,
}

const fn api(key: ApiKey, min_version: i16, max_version: i16, flexible_from: i16) -> ApiSupport {
    ApiSupport {
        key,
        min_version,
        max_version,
        flexible_from,
    }
}

/// Everything this broker advertises in ApiVersions, in key order.
pub const SUPPORTED_APIS: &[ApiSupport] = &[
    api(ApiKey::Produce, 3, 11, 9),
    api(ApiKey::Fetch, 4, 17, 12),
    api(ApiKey::ListOffsets, 1, 9, 6),
    api(ApiKey::Metadata, 0, 12, 9),
    api(ApiKey::OffsetCommit, 2, 9, 8),
    api(ApiKey::OffsetFetch, 1, 9, 6),
    api(ApiKey::FindCoordinator, 0, 6, 3),
    api(ApiKey::JoinGroup, 0, 9, 6),
    api(ApiKey::Heartbeat, 0, 4, 4),
    api(ApiKey::LeaveGroup, 0, 5, 4),
    api(ApiKey::SyncGroup, 0, 5, 4),
    api(ApiKey::DescribeGroups, 0, 5, 5),
    api(ApiKey::ListGroups, 0, 5, 3),
    api(ApiKey::ApiVersions, 0, 4, 3),
    api(ApiKey::CreateTopics, 2, 7, 5),
    api(ApiKey::DeleteTopics, 1, 6, 4),
    api(ApiKey::DeleteRecords, 0, 2, 2),
    api(ApiKey::InitProducerId, 0, 5, 2),
    api(ApiKey::OffsetForLeaderEpoch, 2, 4, 4),
    api(ApiKey::AddPartitionsToTxn, 0, 3, 3),
    api(ApiKey::AddOffsetsToTxn, 0, 3, 3),
    api(ApiKey::EndTxn, 0, 3, 3),
    api(ApiKey::TxnOffsetCommit, 0, 3, 3),
    api(ApiKey::DescribeAcls, 1, 3, 2),
    api(ApiKey::CreateAcls, 1, 3, 2),
    api(ApiKey::DeleteAcls, 1, 3, 2),
    api(ApiKey::DescribeConfigs, 1, 4, 4),
    api(ApiKey::AlterConfigs, 0, 2, 2),
    api(ApiKey::DescribeLogDirs, 1, 4, 2),
    api(ApiKey::CreatePartitions, 0, 3, 2),
    api(ApiKey::DeleteGroups, 0, 2, 2),
    api(ApiKey::ElectLeaders, 0, 2, 2),
    api(ApiKey::IncrementalAlterConfigs, 0, 1, 1),
    api(ApiKey::ListPartitionReassignments, 0, 0, 0),
    api(ApiKey::OffsetDelete, 0, 0, i16::MAX),
    api(ApiKey::DescribeClientQuotas, 0, 1, 1),
    api(ApiKey::DescribeUserScramCredentials, 0, 0, 0),
    api(ApiKey::AlterUserScramCredentials, 0, 0, 0),
    api(ApiKey::DescribeCluster, 0, 1, 0),
    api(ApiKey::DescribeProducers, 0, 0, 0),
    api(ApiKey::DescribeTransactions, 0, 0, 0),
    api(ApiKey::ListTransactions, 0, 1, 0),
    api(ApiKey::DescribeTopicPartitions, 0, 0, 0),
];

impl ApiKey {
    pub fn from_i16(key: i16) -> Option<ApiKey> {
        ALL_KEYS.iter().copied().find(|k| *k as i16 == key)
    }

    /// The advertised range of this key, if it is advertised at all.
    pub fn support(self) -> Option<&'static ApiSupport> {
        SUPPORTED_APIS.iter().find(|a| a.key == self)
    }

    /// True if `version` of this API is advertised.
    pub fn supports(self, version: i16) -> bool {
        self.support()
            .is_some_and(|s| (s.min_version..=s.max_version).contains(&version))
    }

    /// True if `version` of this API uses the flexible encoding.
    pub fn is_flexible(self, version: i16) -> bool {
        self.support().is_some_and(|s| version >= s.flexible_from)
    }

    /// Request header version: v2 for flexible requests, else v1.
    pub fn request_header_version(self, version: i16) -> i16 {
        if self.is_flexible(version) {
            2
        } else {
            1
        }
    }

    /// Response header version: v1 (with tagged fields) for flexible
    /// responses, except ApiVersions, which always answers with v0 so a
    /// client that does not yet know our versions can read it (KIP-511).
    pub fn response_header_version(self, version: i16) -> i16 {
        if self != ApiKey::ApiVersions && self.is_flexible(version) {
            1
        } else {
            0
        }
    }
}

const ALL_KEYS: &[ApiKey] = &[
    ApiKey::Produce,
    ApiKey::Fetch,
    ApiKey::ListOffsets,
    ApiKey::Metadata,
    ApiKey::OffsetCommit,
    ApiKey::OffsetFetch,
    ApiKey::FindCoordinator,
    ApiKey::JoinGroup,
    ApiKey::Heartbeat,
    ApiKey::LeaveGroup,
    ApiKey::SyncGroup,
    ApiKey::DescribeGroups,
    ApiKey::ListGroups,
    ApiKey::ApiVersions,
    ApiKey::CreateTopics,
    ApiKey::DeleteTopics,
    ApiKey::DeleteRecords,
    ApiKey::InitProducerId,
    ApiKey::OffsetForLeaderEpoch,
    ApiKey::AddPartitionsToTxn,
    ApiKey::AddOffsetsToTxn,
    ApiKey::EndTxn,
    ApiKey::TxnOffsetCommit,
    ApiKey::DescribeAcls,
    ApiKey::CreateAcls,
    ApiKey::DeleteAcls,
    ApiKey::DescribeConfigs,
    ApiKey::AlterConfigs,
    ApiKey::DescribeLogDirs,
    ApiKey::CreatePartitions,
    ApiKey::DeleteGroups,
    ApiKey::ElectLeaders,
    ApiKey::IncrementalAlterConfigs,
    ApiKey::ListPartitionReassignments,
    ApiKey::OffsetDelete,
    ApiKey::DescribeClientQuotas,
    ApiKey::DescribeUserScramCredentials,
    ApiKey::AlterUserScramCredentials,
    ApiKey::DescribeCluster,
    ApiKey::DescribeProducers,
    ApiKey::DescribeTransactions,
    ApiKey::ListTransactions,
    ApiKey::DescribeTopicPartitions,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn supported_apis_are_unique_and_in_key_order() {
        for pair in SUPPORTED_APIS.windows(2) {
            assert!(
                (pair[0].key as i16) < (pair[1].key as i16),
                "{:?} and {:?} out of order or duplicated",
                pair[0].key,
                pair[1].key
            );
        }
    }
}

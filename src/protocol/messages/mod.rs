//! One module per Kafka API: the request as the broker reads it and the
//! response as the broker writes it, for every advertised version.
//!
//! Conventions (the JSON schemas in Kafka's
//! `clients/src/main/resources/common/message/` are the reference):
//! - `XRequest::read(r, version)` decodes the body after the header;
//!   `XResponse::write(&self, w, version)` encodes the body.
//! - Fields that only exist from some version on are plain fields with their
//!   Kafka default when absent, documented with "vN+".
//! - Flexible versions end every struct with a tagged-field section; unknown
//!   tagged fields in requests are skipped, and responses write tagged fields
//!   only when they differ from their default.

pub mod add_offsets_to_txn;
pub mod add_partitions_to_txn;
pub mod alter_configs;
pub mod alter_user_scram_credentials;
pub mod api_versions;
pub mod create_acls;
pub mod create_partitions;
pub mod create_topics;
pub mod delete_acls;
pub mod delete_groups;
pub mod delete_records;
pub mod delete_topics;
pub mod describe_acls;
pub mod describe_client_quotas;
pub mod describe_cluster;
pub mod describe_configs;
pub mod describe_groups;
pub mod describe_log_dirs;
pub mod describe_producers;
pub mod describe_topic_partitions;
pub mod describe_transactions;
pub mod describe_user_scram_credentials;
pub mod elect_leaders;
pub mod end_txn;
pub mod fetch;
pub mod find_coordinator;
pub mod heartbeat;
pub mod incremental_alter_configs;
pub mod init_producer_id;
pub mod join_group;
pub mod leave_group;
pub mod list_groups;
pub mod list_offsets;
pub mod list_partition_reassignments;
pub mod list_transactions;
pub mod metadata;
pub mod offset_commit;
pub mod offset_delete;
pub mod offset_fetch;
pub mod offset_for_leader_epoch;
pub mod produce;
pub mod sync_group;
pub mod txn_offset_commit;

#[cfg(test)]
mod oracle;

use super::primitives::{Reader, Result};
use super::ApiKey;

/// Declares [`Request`]: one variant per API, each holding that API's
/// decoded request, and the one place a body is decoded by (key, version).
macro_rules! requests {
    ($($key:ident => $module:ident::$request:ident,)*) => {
        /// A decoded request body, by API.
        #[derive(Debug)]
        pub enum Request {
            $($key($module::$request),)*
        }

        impl Request {
            /// Decodes the body of a `key` request at `version` (the
            /// caller checks the version is one we advertise).
            pub fn read(key: ApiKey, r: &mut Reader<'_>, version: i16) -> Result<Request> {
                Ok(match key {
                    $(ApiKey::$key => Request::$key($module::$request::read(r, version)?),)*
                })
            }
        }
    };
}

requests! {
    AddOffsetsToTxn => add_offsets_to_txn::AddOffsetsToTxnRequest,
    AddPartitionsToTxn => add_partitions_to_txn::AddPartitionsToTxnRequest,
    AlterConfigs => alter_configs::AlterConfigsRequest,
    AlterUserScramCredentials => alter_user_scram_credentials::AlterUserScramCredentialsRequest,
    ApiVersions => api_versions::ApiVersionsRequest,
    CreateAcls => create_acls::CreateAclsRequest,
    CreatePartitions => create_partitions::CreatePartitionsRequest,
    CreateTopics => create_topics::CreateTopicsRequest,
    DeleteAcls => delete_acls::DeleteAclsRequest,
    DeleteGroups => delete_groups::DeleteGroupsRequest,
    DeleteRecords => delete_records::DeleteRecordsRequest,
    DeleteTopics => delete_topics::DeleteTopicsRequest,
    DescribeAcls => describe_acls::DescribeAclsRequest,
    DescribeClientQuotas => describe_client_quotas::DescribeClientQuotasRequest,
    DescribeCluster => describe_cluster::DescribeClusterRequest,
    DescribeConfigs => describe_configs::DescribeConfigsRequest,
    DescribeGroups => describe_groups::DescribeGroupsRequest,
    DescribeLogDirs => describe_log_dirs::DescribeLogDirsRequest,
    DescribeProducers => describe_producers::DescribeProducersRequest,
    DescribeTopicPartitions => describe_topic_partitions::DescribeTopicPartitionsRequest,
    DescribeTransactions => describe_transactions::DescribeTransactionsRequest,
    DescribeUserScramCredentials => describe_user_scram_credentials::DescribeUserScramCredentialsRequest,
    ElectLeaders => elect_leaders::ElectLeadersRequest,
    EndTxn => end_txn::EndTxnRequest,
    Fetch => fetch::FetchRequest,
    FindCoordinator => find_coordinator::FindCoordinatorRequest,
    Heartbeat => heartbeat::HeartbeatRequest,
    IncrementalAlterConfigs => incremental_alter_configs::IncrementalAlterConfigsRequest,
    InitProducerId => init_producer_id::InitProducerIdRequest,
    JoinGroup => join_group::JoinGroupRequest,
    LeaveGroup => leave_group::LeaveGroupRequest,
    ListGroups => list_groups::ListGroupsRequest,
    ListOffsets => list_offsets::ListOffsetsRequest,
    ListPartitionReassignments => list_partition_reassignments::ListPartitionReassignmentsRequest,
    ListTransactions => list_transactions::ListTransactionsRequest,
    Metadata => metadata::MetadataRequest,
    OffsetCommit => offset_commit::OffsetCommitRequest,
    OffsetDelete => offset_delete::OffsetDeleteRequest,
    OffsetFetch => offset_fetch::OffsetFetchRequest,
    OffsetForLeaderEpoch => offset_for_leader_epoch::OffsetForLeaderEpochRequest,
    Produce => produce::ProduceRequest,
    SyncGroup => sync_group::SyncGroupRequest,
    TxnOffsetCommit => txn_offset_commit::TxnOffsetCommitRequest,
}

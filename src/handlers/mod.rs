//! Request handlers: one module per API (or per small family of APIs).
//!
//! [`dispatch`] reads the request header, refuses what we do not speak (the
//! way Kafka does), decodes the body with [`crate::protocol::messages`],
//! hands it to the API's `handle` function, and encodes the response behind
//! the right response header. Each handler validates, calls storage through
//! the pool, and builds its response; none of them touches bytes or SQL.

mod alter_configs;
mod api_versions;
mod create_partitions;
mod create_topics;
mod delete_groups;
mod delete_records;
mod delete_topics;
mod describe_client_quotas;
mod describe_cluster;
mod describe_configs;
mod describe_groups;
mod describe_log_dirs;
mod describe_topic_partitions;
mod elect_leaders;
mod fetch;
mod find_coordinator;
mod heartbeat;
mod incremental_alter_configs;
mod init_producer_id;
mod join_group;
mod leave_group;
mod list_groups;
mod list_offsets;
mod list_partition_reassignments;
mod metadata;
mod offset_commit;
mod offset_delete;
mod offset_fetch;
mod offset_for_leader_epoch;
mod produce;
mod sync_group;
pub mod topic_names;
mod transaction_admin;
mod transactions;

use crate::broker::Broker;
use crate::metrics;
use crate::protocol::header::{write_response_header, RequestHeader};
use crate::protocol::messages as m;
use crate::protocol::{ApiKey, DecodeError, ErrorCode, Reader, Writer};
use crate::storage::StorageError;
use std::net::SocketAddr;
use std::time::Instant;

/// What the connection should do after a request.
pub enum Outcome {
    /// Send these bytes (a complete, size-prefixed response frame).
    Respond(Vec<u8>),
    /// Send nothing (Produce with acks=0).
    NoResponse,
    /// Close the connection, logging why.
    Close(String),
}

/// Everything a handler knows about the request it is serving.
pub struct Ctx<'a> {
    pub broker: &'a Broker,
    pub peer: SocketAddr,
    pub client_id: Option<&'a str>,
    pub api: ApiKey,
    pub version: i16,
}

/// Decodes one request frame, runs its handler and encodes the answer.
/// Every request is counted here ([`metrics::request_served`],
/// [`metrics::request_failed`]).
pub fn dispatch(broker: &Broker, peer: SocketAddr, frame: &[u8]) -> Outcome {
    let started = Instant::now();
    let mut reader = Reader::new(frame);
    let header = match RequestHeader::read(&mut reader) {
        Ok(header) => header,
        Err(err) => {
            metrics::request_failed(&broker.metrics, "unknown", -1, "malformed");
            return Outcome::Close(format!("malformed request header: {err}"));
        }
    };
    let Some(key) = ApiKey::from_i16(header.api_key).filter(|k| k.support().is_some()) else {
        // Kafka closes the connection on an API key it does not serve.
        let api = header.api_key.to_string();
        metrics::request_failed(&broker.metrics, &api, header.api_version, "unsupported_api");
        return Outcome::Close(format!("unsupported API key {}", header.api_key));
    };
    let version = header.api_version;
    if !key.supports(version) {
        metrics::request_failed(
            &broker.metrics,
            &format!("{key:?}"),
            version,
            "unsupported_version",
        );
        if key == ApiKey::ApiVersions {
            // KIP-511: answer an unknown ApiVersions version in v0 format
            // with UNSUPPORTED_VERSION and our ranges, so the client can
            // retry with a version we know.
            return Outcome::Respond(frame_response(header.correlation_id, 0, |w| {
                api_versions::unsupported_version().write(w, 0)
            }));
        }
        return Outcome::Close(format!("unsupported version {version} of {key:?}"));
    }
    let ctx = Ctx {
        broker,
        peer,
        client_id: header.client_id.as_deref(),
        api: key,
        version,
    };
    let header_version = key.response_header_version(version);
    let result = route(&ctx, key, &mut reader);
    metrics::request_served(&broker.metrics, key, version, started.elapsed());
    match result {
        Ok(Some(write_body)) => Outcome::Respond(frame_response(
            header.correlation_id,
            header_version,
            write_body,
        )),
        Ok(None) => Outcome::NoResponse,
        Err(err) => {
            metrics::request_failed(&broker.metrics, &format!("{key:?}"), version, "malformed");
            Outcome::Close(format!("malformed {key:?} v{version} request: {err}"))
        }
    }
}

/// A response body, ready to be encoded.
type Body = Box<dyn FnOnce(&mut Writer)>;

/// Decodes the body, runs the handler; returns how to write the response.
fn route(ctx: &Ctx<'_>, key: ApiKey, r: &mut Reader<'_>) -> Result<Option<Body>, DecodeError> {
    let v = ctx.version;
    macro_rules! answer {
        ($request:ty, $handler:path) => {{
            let request = <$request>::read(r, v)?;
            let response = $handler(ctx, request);
            Some(Box::new(move |w: &mut Writer| response.write(w, v)) as Body)
        }};
    }
    Ok(match key {
        ApiKey::ApiVersions => answer!(m::api_versions::ApiVersionsRequest, api_versions::handle),
        ApiKey::Metadata => answer!(m::metadata::MetadataRequest, metadata::handle),
        ApiKey::Produce => {
            let request = m::produce::ProduceRequest::read(r, v)?;
            produce::handle(ctx, request)
                .map(|response| Box::new(move |w: &mut Writer| response.write(w, v)) as Body)
        }
        ApiKey::Fetch => answer!(m::fetch::FetchRequest, fetch::handle),
        ApiKey::ListOffsets => answer!(m::list_offsets::ListOffsetsRequest, list_offsets::handle),
        ApiKey::OffsetForLeaderEpoch => answer!(
            m::offset_for_leader_epoch::OffsetForLeaderEpochRequest,
            offset_for_leader_epoch::handle
        ),
        ApiKey::CreateTopics => {
            answer!(m::create_topics::CreateTopicsRequest, create_topics::handle)
        }
        ApiKey::DeleteTopics => {
            answer!(m::delete_topics::DeleteTopicsRequest, delete_topics::handle)
        }
        ApiKey::InitProducerId => answer!(
            m::init_producer_id::InitProducerIdRequest,
            init_producer_id::handle
        ),
        ApiKey::AddPartitionsToTxn => answer!(
            m::add_partitions_to_txn::AddPartitionsToTxnRequest,
            transactions::add_partitions
        ),
        ApiKey::AddOffsetsToTxn => answer!(
            m::add_offsets_to_txn::AddOffsetsToTxnRequest,
            transactions::add_offsets
        ),
        ApiKey::EndTxn => answer!(m::end_txn::EndTxnRequest, transactions::end),
        ApiKey::TxnOffsetCommit => answer!(
            m::txn_offset_commit::TxnOffsetCommitRequest,
            transactions::commit_offsets
        ),
        ApiKey::DescribeProducers => answer!(
            m::describe_producers::DescribeProducersRequest,
            transaction_admin::describe_producers
        ),
        ApiKey::DescribeTransactions => answer!(
            m::describe_transactions::DescribeTransactionsRequest,
            transaction_admin::describe_transactions
        ),
        ApiKey::ListTransactions => answer!(
            m::list_transactions::ListTransactionsRequest,
            transaction_admin::list_transactions
        ),
        ApiKey::DescribeCluster => answer!(
            m::describe_cluster::DescribeClusterRequest,
            describe_cluster::handle
        ),
        ApiKey::FindCoordinator => answer!(
            m::find_coordinator::FindCoordinatorRequest,
            find_coordinator::handle
        ),
        ApiKey::JoinGroup => answer!(m::join_group::JoinGroupRequest, join_group::handle),
        ApiKey::SyncGroup => answer!(m::sync_group::SyncGroupRequest, sync_group::handle),
        ApiKey::Heartbeat => answer!(m::heartbeat::HeartbeatRequest, heartbeat::handle),
        ApiKey::LeaveGroup => answer!(m::leave_group::LeaveGroupRequest, leave_group::handle),
        ApiKey::OffsetCommit => {
            answer!(m::offset_commit::OffsetCommitRequest, offset_commit::handle)
        }
        ApiKey::OffsetFetch => answer!(m::offset_fetch::OffsetFetchRequest, offset_fetch::handle),
        ApiKey::DescribeGroups => answer!(
            m::describe_groups::DescribeGroupsRequest,
            describe_groups::handle
        ),
        ApiKey::ListGroups => answer!(m::list_groups::ListGroupsRequest, list_groups::handle),
        ApiKey::DeleteGroups => {
            answer!(m::delete_groups::DeleteGroupsRequest, delete_groups::handle)
        }
        ApiKey::OffsetDelete => {
            answer!(m::offset_delete::OffsetDeleteRequest, offset_delete::handle)
        }
        ApiKey::DescribeConfigs => answer!(
            m::describe_configs::DescribeConfigsRequest,
            describe_configs::handle
        ),
        ApiKey::AlterConfigs => {
            answer!(m::alter_configs::AlterConfigsRequest, alter_configs::handle)
        }
        ApiKey::IncrementalAlterConfigs => answer!(
            m::incremental_alter_configs::IncrementalAlterConfigsRequest,
            incremental_alter_configs::handle
        ),
        ApiKey::CreatePartitions => answer!(
            m::create_partitions::CreatePartitionsRequest,
            create_partitions::handle
        ),
        ApiKey::DeleteRecords => {
            answer!(
                m::delete_records::DeleteRecordsRequest,
                delete_records::handle
            )
        }
        ApiKey::DescribeLogDirs => answer!(
            m::describe_log_dirs::DescribeLogDirsRequest,
            describe_log_dirs::handle
        ),
        ApiKey::ElectLeaders => {
            answer!(m::elect_leaders::ElectLeadersRequest, elect_leaders::handle)
        }
        ApiKey::ListPartitionReassignments => answer!(
            m::list_partition_reassignments::ListPartitionReassignmentsRequest,
            list_partition_reassignments::handle
        ),
        ApiKey::DescribeClientQuotas => answer!(
            m::describe_client_quotas::DescribeClientQuotasRequest,
            describe_client_quotas::handle
        ),
        ApiKey::DescribeTopicPartitions => answer!(
            m::describe_topic_partitions::DescribeTopicPartitionsRequest,
            describe_topic_partitions::handle
        ),
    })
}

/// Encodes a size-prefixed response frame.
fn frame_response(
    correlation_id: i32,
    header_version: i16,
    body: impl FnOnce(&mut Writer),
) -> Vec<u8> {
    let mut w = Writer::with_capacity(256);
    let size_at = w.reserve_i32();
    write_response_header(&mut w, correlation_id, header_version);
    body(&mut w);
    let size = (w.len() - 4) as i32;
    w.patch_i32(size_at, size);
    w.into_inner()
}

/// The Kafka error a client sees when PostgreSQL is unreachable or failed:
/// a retriable one, so clients retry by themselves.
pub fn storage_error_code(err: &StorageError) -> ErrorCode {
    match err {
        StorageError::Unavailable(_) => ErrorCode::KafkaStorageError,
        StorageError::Database(_) => ErrorCode::KafkaStorageError,
    }
}

/// The error group APIs answer when PostgreSQL failed: what Kafka answers
/// when the coordinator cannot write its log, which makes clients retry.
pub fn coordinator_storage_error_code(_err: &StorageError) -> ErrorCode {
    ErrorCode::CoordinatorNotAvailable
}

/// Logs a storage failure with the request it broke, and counts it.
pub fn log_storage_error(ctx: &Ctx<'_>, what: &str, err: &StorageError) {
    log::warn!(
        "{} ({:?}) {:?} v{}: {what}: {err}",
        ctx.peer,
        ctx.client_id.unwrap_or(""),
        ctx.api,
        ctx.version
    );
    metrics::request_failed(
        &ctx.broker.metrics,
        &format!("{:?}", ctx.api),
        ctx.version,
        "storage",
    );
}

/// `include_*_authorized_operations` not asked for: Kafka's sentinel.
pub const AUTHORIZED_OPERATIONS_OMITTED: i32 = i32::MIN;

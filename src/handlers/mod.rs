//! Request handlers: one module per API (or per small family of APIs).
//!
//! [`dispatch`] reads the request header, refuses what we do not speak (the
//! way Kafka does), decodes the body with [`crate::protocol::messages`],
//! hands it to the API's `handle` function, and encodes the response behind
//! the right response header. Each handler validates, calls storage through
//! the pool, and builds its response; none of them touches bytes or SQL.

mod alter_configs;
mod alter_user_scram_credentials;
mod api_versions;
mod create_acls;
mod create_partitions;
mod create_topics;
mod delete_acls;
mod delete_groups;
mod delete_records;
mod delete_topics;
mod describe_acls;
mod describe_client_quotas;
mod describe_cluster;
mod describe_configs;
mod describe_groups;
mod describe_log_dirs;
mod describe_topic_partitions;
mod describe_user_scram_credentials;
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
use crate::protocol::messages::Request;
use crate::protocol::{ApiKey, ErrorCode, Reader, Writer};
use crate::read_ahead::ReadAhead;
use crate::storage::StorageError;
use std::cell::RefCell;
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
    /// Partition reads this connection queued ahead of its next Fetch.
    pub read_ahead: &'a RefCell<ReadAhead>,
}

/// Serves the request frames a connection has read, in order, and returns
/// one [`Outcome`] per frame (fewer if one of them closes the connection).
/// Every request is counted here ([`metrics::request_served`],
/// [`metrics::request_failed`]).
///
/// Consecutive Produce requests (a client pipelining them, or sending more
/// while its previous one was being committed) are appended by a single
/// group-commit job, so they share one PostgreSQL transaction and one
/// fsync; their answers still go out in request order.
pub fn dispatch(
    broker: &Broker,
    peer: SocketAddr,
    read_ahead: &RefCell<ReadAhead>,
    frames: &[Vec<u8>],
) -> Vec<Outcome> {
    let started = Instant::now();
    // Decode everything first: the contexts borrow the headers.
    let mut decoded = Vec::with_capacity(frames.len());
    for frame in frames {
        let result = decode(broker, frame);
        let closes = matches!(result, Err(Outcome::Close(_)));
        decoded.push(result);
        if closes {
            break;
        }
    }
    let mut outcomes = Vec::with_capacity(decoded.len());
    let mut appends: Vec<(Ctx<'_>, i32, i16, produce::Prepared)> = Vec::new();
    for slot in &mut decoded {
        let (header, key, request) = match slot {
            Ok(Decoded {
                header,
                key,
                request,
            }) => (&*header, *key, request.take()),
            Err(outcome) => {
                answer_appends(&mut appends, &mut outcomes, started);
                outcomes.push(std::mem::replace(outcome, Outcome::NoResponse));
                continue;
            }
        };
        let Some(request) = request else { continue };
        let ctx = Ctx {
            broker,
            peer,
            client_id: header.client_id.as_deref(),
            api: key,
            version: header.api_version,
            read_ahead,
        };
        let header_version = key.response_header_version(header.api_version);
        match route(&ctx, request) {
            Routed::Append(prepared) => {
                appends.push((ctx, header.correlation_id, header_version, prepared));
            }
            Routed::Respond(body) => {
                answer_appends(&mut appends, &mut outcomes, started);
                metrics::request_served(&broker.metrics, key, ctx.version, started.elapsed());
                outcomes.push(Outcome::Respond(frame_response(
                    header.correlation_id,
                    header_version,
                    body,
                )));
            }
        }
    }
    answer_appends(&mut appends, &mut outcomes, started);
    outcomes
}

/// A request whose header and body decoded.
struct Decoded {
    header: RequestHeader,
    key: ApiKey,
    /// Taken when the request is routed.
    request: Option<Request>,
}

/// Reads the header, refuses what we do not speak (the way Kafka does) and
/// decodes the body; `Err` is what to do instead of handling it.
fn decode(broker: &Broker, frame: &[u8]) -> Result<Decoded, Outcome> {
    let mut reader = Reader::new(frame);
    let header = match RequestHeader::read(&mut reader) {
        Ok(header) => header,
        Err(err) => {
            metrics::request_failed(&broker.metrics, "unknown", -1, "malformed");
            return Err(Outcome::Close(format!("malformed request header: {err}")));
        }
    };
    let Some(key) = ApiKey::from_i16(header.api_key).filter(|k| k.support().is_some()) else {
        // Kafka closes the connection on an API key it does not serve.
        let api = header.api_key.to_string();
        metrics::request_failed(&broker.metrics, &api, header.api_version, "unsupported_api");
        return Err(Outcome::Close(format!(
            "unsupported API key {}",
            header.api_key
        )));
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
            return Err(Outcome::Respond(frame_response(
                header.correlation_id,
                0,
                |w| api_versions::unsupported_version().write(w, 0),
            )));
        }
        return Err(Outcome::Close(format!(
            "unsupported version {version} of {key:?}"
        )));
    }
    match Request::read(key, &mut reader, version) {
        Ok(request) => Ok(Decoded {
            header,
            key,
            request: Some(request),
        }),
        Err(err) => {
            metrics::request_failed(&broker.metrics, &format!("{key:?}"), version, "malformed");
            Err(Outcome::Close(format!(
                "malformed {key:?} v{version} request: {err}"
            )))
        }
    }
}

/// Commits the Produce requests gathered so far in one job and queues their
/// answers (none for acks=0).
fn answer_appends(
    appends: &mut Vec<(Ctx<'_>, i32, i16, produce::Prepared)>,
    outcomes: &mut Vec<Outcome>,
    started: Instant,
) {
    if appends.is_empty() {
        return;
    }
    let (contexts, prepared): (Vec<_>, Vec<_>) = appends
        .drain(..)
        .map(|(ctx, correlation_id, header_version, prepared)| {
            ((ctx, correlation_id, header_version), prepared)
        })
        .unzip();
    let responses = produce::append_all(&contexts[0].0, prepared);
    for ((ctx, correlation_id, header_version), response) in contexts.iter().zip(responses) {
        metrics::request_served(&ctx.broker.metrics, ctx.api, ctx.version, started.elapsed());
        let version = ctx.version;
        outcomes.push(match response {
            Some(response) => {
                Outcome::Respond(frame_response(*correlation_id, *header_version, |w| {
                    response.write(w, version)
                }))
            }
            None => Outcome::NoResponse,
        });
    }
}

/// A response body, ready to be encoded.
type Body = Box<dyn FnOnce(&mut Writer)>;

/// What routing a request produced.
enum Routed {
    /// The answer, to send now.
    Respond(Body),
    /// A validated Produce request, to be appended together with the
    /// Produce requests that follow it.
    Append(produce::Prepared),
}

/// Runs the handler of a decoded request.
fn route(ctx: &Ctx<'_>, request: Request) -> Routed {
    let v = ctx.version;
    macro_rules! respond {
        ($response:expr) => {{
            let response = $response;
            Routed::Respond(Box::new(move |w: &mut Writer| response.write(w, v)))
        }};
    }
    match request {
        Request::Produce(request) => Routed::Append(produce::prepare(ctx, request)),
        Request::ApiVersions(request) => respond!(api_versions::handle(ctx, request)),
        Request::Metadata(request) => respond!(metadata::handle(ctx, request)),
        Request::Fetch(request) => respond!(fetch::handle(ctx, request)),
        Request::ListOffsets(request) => respond!(list_offsets::handle(ctx, request)),
        Request::OffsetForLeaderEpoch(request) => {
            respond!(offset_for_leader_epoch::handle(ctx, request))
        }
        Request::CreateTopics(request) => respond!(create_topics::handle(ctx, request)),
        Request::DeleteTopics(request) => respond!(delete_topics::handle(ctx, request)),
        Request::InitProducerId(request) => respond!(init_producer_id::handle(ctx, request)),
        Request::AddPartitionsToTxn(request) => {
            respond!(transactions::add_partitions(ctx, request))
        }
        Request::AddOffsetsToTxn(request) => respond!(transactions::add_offsets(ctx, request)),
        Request::EndTxn(request) => respond!(transactions::end(ctx, request)),
        Request::TxnOffsetCommit(request) => respond!(transactions::commit_offsets(ctx, request)),
        Request::DescribeProducers(request) => {
            respond!(transaction_admin::describe_producers(ctx, request))
        }
        Request::DescribeTransactions(request) => {
            respond!(transaction_admin::describe_transactions(ctx, request))
        }
        Request::ListTransactions(request) => {
            respond!(transaction_admin::list_transactions(ctx, request))
        }
        Request::DescribeCluster(request) => respond!(describe_cluster::handle(ctx, request)),
        Request::FindCoordinator(request) => respond!(find_coordinator::handle(ctx, request)),
        Request::JoinGroup(request) => respond!(join_group::handle(ctx, request)),
        Request::SyncGroup(request) => respond!(sync_group::handle(ctx, request)),
        Request::Heartbeat(request) => respond!(heartbeat::handle(ctx, request)),
        Request::LeaveGroup(request) => respond!(leave_group::handle(ctx, request)),
        Request::OffsetCommit(request) => respond!(offset_commit::handle(ctx, request)),
        Request::OffsetFetch(request) => respond!(offset_fetch::handle(ctx, request)),
        Request::DescribeGroups(request) => respond!(describe_groups::handle(ctx, request)),
        Request::ListGroups(request) => respond!(list_groups::handle(ctx, request)),
        Request::DeleteGroups(request) => respond!(delete_groups::handle(ctx, request)),
        Request::OffsetDelete(request) => respond!(offset_delete::handle(ctx, request)),
        Request::DescribeConfigs(request) => respond!(describe_configs::handle(ctx, request)),
        Request::AlterConfigs(request) => respond!(alter_configs::handle(ctx, request)),
        Request::IncrementalAlterConfigs(request) => {
            respond!(incremental_alter_configs::handle(ctx, request))
        }
        Request::CreatePartitions(request) => respond!(create_partitions::handle(ctx, request)),
        Request::DeleteRecords(request) => respond!(delete_records::handle(ctx, request)),
        Request::DescribeLogDirs(request) => respond!(describe_log_dirs::handle(ctx, request)),
        Request::ElectLeaders(request) => respond!(elect_leaders::handle(ctx, request)),
        Request::ListPartitionReassignments(request) => {
            respond!(list_partition_reassignments::handle(ctx, request))
        }
        Request::DescribeClientQuotas(request) => {
            respond!(describe_client_quotas::handle(ctx, request))
        }
        Request::DescribeTopicPartitions(request) => {
            respond!(describe_topic_partitions::handle(ctx, request))
        }
        Request::CreateAcls(request) => respond!(create_acls::handle(ctx, request)),
        Request::DescribeAcls(request) => respond!(describe_acls::handle(ctx, request)),
        Request::DeleteAcls(request) => respond!(delete_acls::handle(ctx, request)),
        Request::DescribeUserScramCredentials(request) => {
            respond!(describe_user_scram_credentials::handle(ctx, request))
        }
        Request::AlterUserScramCredentials(request) => {
            respond!(alter_user_scram_credentials::handle(ctx, request))
        }
    }
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

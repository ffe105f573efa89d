//! Request handlers: one module per API (or per small family of APIs).
//!
//! [`dispatch`] reads the request header, refuses what we do not speak (the
//! way Kafka does), decodes the body with [`crate::protocol::messages`],
//! hands it to the API's `handle` function, and encodes the response behind
//! the right response header. Each handler validates, calls storage through
//! the pool, and builds its response; none of them touches bytes or SQL.

mod api_versions;
mod create_topics;
mod delete_topics;
mod describe_cluster;
mod fetch;
mod init_producer_id;
mod list_offsets;
mod metadata;
mod offset_for_leader_epoch;
mod produce;
pub mod topic_names;

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
        ApiKey::DescribeCluster => answer!(
            m::describe_cluster::DescribeClusterRequest,
            describe_cluster::handle
        ),
        other => {
            return Err(DecodeError::Invalid(format!(
                "{other:?} is advertised but has no handler"
            )));
        }
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

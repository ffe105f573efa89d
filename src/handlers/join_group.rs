//! JoinGroup: the first step of a rebalance. Blocks until the coordinator
//! has a generation for the member (see [`crate::coordinator`]).

use super::Ctx;
use crate::coordinator::group::{join_error, JoinParams};
use crate::protocol::messages::join_group::{JoinGroupRequest, JoinGroupResponse};
use crate::protocol::ErrorCode;
use std::time::Duration;

pub fn handle(ctx: &Ctx<'_>, request: JoinGroupRequest) -> JoinGroupResponse {
    if request.group_id.is_empty() {
        return join_error(ErrorCode::InvalidGroupId, &request.member_id);
    }
    // The coordinator keeps every member's metadata; Kafka's limit is the
    // largest record its group log takes, and a larger one fails the write
    // with an error clients see as UNKNOWN_SERVER_ERROR.
    let metadata_bytes: usize = request.protocols.iter().map(|p| p.metadata.len()).sum();
    if metadata_bytes > ctx.broker.config.message_max_bytes.max(0) as usize {
        return join_error(ErrorCode::UnknownServerError, &request.member_id);
    }
    let millis = |ms: i32| Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    // v0 has no rebalance timeout: the session timeout plays its part.
    let rebalance_timeout = if ctx.version == 0 {
        request.session_timeout_ms
    } else {
        request.rebalance_timeout_ms
    };
    let params = JoinParams {
        member_id: request.member_id,
        instance_id: request.group_instance_id,
        client_id: ctx.client_id.unwrap_or("").to_string(),
        client_host: format!("/{}", ctx.peer.ip()),
        session_timeout: millis(request.session_timeout_ms),
        rebalance_timeout: millis(rebalance_timeout),
        protocol_type: request.protocol_type,
        protocols: request.protocols,
        require_known_member_id: ctx.version >= 4,
        supports_skip_assignment: ctx.version >= 9,
    };
    if let Some(reason) = &request.reason {
        log::debug!("{} joins group {}: {reason}", ctx.peer, request.group_id);
    }
    ctx.broker
        .groups
        .join(&request.group_id, params, &ctx.broker.shutdown)
}

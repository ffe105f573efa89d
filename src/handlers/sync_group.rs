//! SyncGroup: the second step of a rebalance. The leader brings the
//! assignment; everyone blocks until it has arrived and gets their part.

use super::Ctx;
use crate::coordinator::group::{sync_error, SyncParams};
use crate::protocol::messages::sync_group::{SyncGroupRequest, SyncGroupResponse};
use crate::protocol::ErrorCode;

pub fn handle(ctx: &Ctx<'_>, request: SyncGroupRequest) -> SyncGroupResponse {
    if request.group_id.is_empty() {
        return sync_error(ErrorCode::InvalidGroupId);
    }
    // As for JoinGroup's metadata: an assignment Kafka could not write to
    // its group log fails with UNKNOWN_SERVER_ERROR.
    let assignment_bytes: usize = request.assignments.iter().map(|a| a.assignment.len()).sum();
    if assignment_bytes > ctx.broker.config.message_max_bytes.max(0) as usize {
        return sync_error(ErrorCode::UnknownServerError);
    }
    let params = SyncParams {
        member_id: request.member_id,
        instance_id: request.group_instance_id,
        generation: request.generation_id,
        protocol_type: request.protocol_type,
        protocol_name: request.protocol_name,
        assignments: request
            .assignments
            .into_iter()
            .map(|a| (a.member_id, a.assignment))
            .collect(),
    };
    ctx.broker
        .groups
        .sync(&request.group_id, params, &ctx.broker.shutdown)
}

//! Heartbeat: answered at once. REBALANCE_IN_PROGRESS is how members learn
//! that they must rejoin.

use super::Ctx;
use crate::protocol::messages::heartbeat::{HeartbeatRequest, HeartbeatResponse};
use crate::protocol::ErrorCode;

pub fn handle(ctx: &Ctx<'_>, request: HeartbeatRequest) -> HeartbeatResponse {
    let error = if request.group_id.is_empty() {
        ErrorCode::InvalidGroupId
    } else {
        ctx.broker.groups.heartbeat(
            &request.group_id,
            &request.member_id,
            request.group_instance_id.as_deref(),
            request.generation_id,
        )
    };
    HeartbeatResponse {
        throttle_time_ms: 0,
        error_code: error.code(),
    }
}

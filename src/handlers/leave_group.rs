//! LeaveGroup: members leave at once instead of waiting for their session
//! to expire. v3+ (KIP-345) removes a batch, by member id or instance id.

use super::Ctx;
use crate::protocol::messages::leave_group::{
    LeaveGroupRequest, LeaveGroupResponse, MemberResponse,
};
use crate::protocol::ErrorCode;

pub fn handle(ctx: &Ctx<'_>, request: LeaveGroupRequest) -> LeaveGroupResponse {
    let leaving: Vec<(String, Option<String>)> = if ctx.version <= 2 {
        vec![(request.member_id, None)]
    } else {
        request
            .members
            .into_iter()
            .map(|m| (m.member_id, m.group_instance_id))
            .collect()
    };
    let outcome = if request.group_id.is_empty() {
        Err(ErrorCode::InvalidGroupId)
    } else {
        ctx.broker.groups.leave(&request.group_id, &leaving)
    };
    let (error, per_member) = match outcome {
        Ok(codes) => (ErrorCode::None, codes),
        Err(code) => (code, Vec::new()),
    };
    if ctx.version <= 2 {
        // One member, one error, at the top level.
        let error = per_member
            .first()
            .copied()
            .filter(|_| error == ErrorCode::None)
            .unwrap_or(error);
        return LeaveGroupResponse {
            throttle_time_ms: 0,
            error_code: error.code(),
            members: Vec::new(),
        };
    }
    LeaveGroupResponse {
        throttle_time_ms: 0,
        error_code: error.code(),
        members: leaving
            .into_iter()
            .zip(per_member)
            .map(|((member_id, group_instance_id), code)| MemberResponse {
                member_id,
                group_instance_id,
                error_code: code.code(),
            })
            .collect(),
    }
}

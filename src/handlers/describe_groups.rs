//! DescribeGroups: state, assignor and members of groups, from the
//! coordinator's live view.

use super::{Ctx, AUTHORIZED_OPERATIONS_OMITTED};
use crate::protocol::messages::describe_groups::{DescribeGroupsRequest, DescribeGroupsResponse};

/// Every group operation (READ, DELETE, DESCRIBE) as an ACL bit set: with
/// no authorizer, everything is allowed.
const GROUP_OPERATIONS_ALL: i32 = (1 << 3) | (1 << 6) | (1 << 8);

pub fn handle(ctx: &Ctx<'_>, request: DescribeGroupsRequest) -> DescribeGroupsResponse {
    let groups = request
        .groups
        .iter()
        .map(|id| {
            let mut described = ctx.broker.groups.describe(id);
            described.authorized_operations = if request.include_authorized_operations {
                GROUP_OPERATIONS_ALL
            } else {
                AUTHORIZED_OPERATIONS_OMITTED
            };
            described
        })
        .collect();
    DescribeGroupsResponse {
        throttle_time_ms: 0,
        groups,
    }
}

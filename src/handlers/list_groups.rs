//! ListGroups: every group this broker coordinates, optionally filtered by
//! state (v4+, KIP-518) and type (v5+, KIP-848). Filters match without
//! regard to case, as Kafka's do.

use super::Ctx;
use crate::protocol::messages::list_groups::{ListGroupsRequest, ListGroupsResponse, ListedGroup};
use crate::protocol::ErrorCode;

/// Every group here speaks the classic protocol.
const GROUP_TYPE: &str = "classic";

pub fn handle(ctx: &Ctx<'_>, request: ListGroupsRequest) -> ListGroupsResponse {
    let wanted = |filter: &[String], value: &str| {
        filter.is_empty() || filter.iter().any(|f| f.eq_ignore_ascii_case(value))
    };
    let groups = ctx
        .broker
        .groups
        .list()
        .into_iter()
        .filter(|g| wanted(&request.states_filter, g.state.name()))
        .filter(|_| wanted(&request.types_filter, GROUP_TYPE))
        .map(|g| ListedGroup {
            group_id: g.group_id,
            protocol_type: g.protocol_type,
            group_state: g.state.name().to_string(),
            group_type: GROUP_TYPE.to_string(),
        })
        .collect();
    ListGroupsResponse {
        throttle_time_ms: 0,
        error_code: ErrorCode::None.code(),
        groups,
    }
}

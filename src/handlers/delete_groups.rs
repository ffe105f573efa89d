//! DeleteGroups (KIP-229): removes empty groups and their committed
//! offsets. A group with members is refused with NON_EMPTY_GROUP.

use super::{coordinator_storage_error_code, log_storage_error, Ctx};
use crate::protocol::messages::delete_groups::{
    DeletableGroupResult, DeleteGroupsRequest, DeleteGroupsResponse,
};
use crate::protocol::ErrorCode;

pub fn handle(ctx: &Ctx<'_>, request: DeleteGroupsRequest) -> DeleteGroupsResponse {
    let groups = &ctx.broker.groups;
    let mut results: Vec<DeletableGroupResult> = request
        .groups_names
        .into_iter()
        .map(|group_id| {
            let error = match groups.remove_if_empty(&group_id) {
                Ok(()) => ErrorCode::None,
                Err(code) => code,
            };
            DeletableGroupResult {
                group_id,
                error_code: error.code(),
            }
        })
        .collect();
    let removed: Vec<String> = results
        .iter()
        .filter(|r| r.error_code == ErrorCode::None.code())
        .map(|r| r.group_id.clone())
        .collect();
    if !removed.is_empty() {
        match groups.forget(removed) {
            Ok(()) => log::info!("{} deleted group(s) for {}", results.len(), ctx.peer),
            Err(err) => {
                log_storage_error(ctx, "deleting groups", &err);
                let code = coordinator_storage_error_code(&err).code();
                for result in results.iter_mut().filter(|r| r.error_code == 0) {
                    result.error_code = code;
                }
            }
        }
    }
    DeleteGroupsResponse {
        throttle_time_ms: 0,
        results,
    }
}

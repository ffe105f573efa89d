//! ListPartitionReassignments (KIP-455): replicas never move between
//! brokers here, so no reassignment is ever in progress.

use super::Ctx;
use crate::protocol::messages::list_partition_reassignments::{
    ListPartitionReassignmentsRequest, ListPartitionReassignmentsResponse,
};

pub fn handle(
    _ctx: &Ctx<'_>,
    _request: ListPartitionReassignmentsRequest,
) -> ListPartitionReassignmentsResponse {
    ListPartitionReassignmentsResponse {
        throttle_time_ms: 0,
        error_code: 0,
        error_message: None,
        topics: Vec::new(),
    }
}

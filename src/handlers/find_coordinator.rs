//! FindCoordinator: which broker coordinates a group (key type 0) or a
//! transactional id (key type 1). Every broker can serve every group and
//! transaction from the shared database, so the answer is always this node.
//! v4+ (KIP-699) answers a batch of keys.

use super::Ctx;
use crate::protocol::messages::find_coordinator::{
    Coordinator, FindCoordinatorRequest, FindCoordinatorResponse,
};
use crate::protocol::ErrorCode;

const GROUP: i8 = 0;
const TRANSACTION: i8 = 1;

pub fn handle(ctx: &Ctx<'_>, request: FindCoordinatorRequest) -> FindCoordinatorResponse {
    let broker = ctx.broker;
    let answer = |key: String| {
        let mut coordinator = Coordinator {
            key,
            node_id: broker.node_id(),
            host: broker.advertised_host.clone(),
            port: broker.advertised_port,
            error_code: ErrorCode::None.code(),
            error_message: None,
        };
        if !matches!(request.key_type, GROUP | TRANSACTION) {
            coordinator = Coordinator {
                key: coordinator.key,
                node_id: -1,
                host: String::new(),
                port: -1,
                error_code: ErrorCode::InvalidRequest.code(),
                error_message: Some(format!("Unknown coordinator type {}", request.key_type)),
            };
        }
        coordinator
    };
    if ctx.version >= 4 {
        return FindCoordinatorResponse {
            coordinators: request
                .coordinator_keys
                .iter()
                .cloned()
                .map(answer)
                .collect(),
            ..Default::default()
        };
    }
    let one = answer(request.key.clone());
    FindCoordinatorResponse {
        throttle_time_ms: 0,
        error_code: one.error_code,
        error_message: one.error_message,
        node_id: one.node_id,
        host: one.host,
        port: one.port,
        coordinators: Vec::new(),
    }
}

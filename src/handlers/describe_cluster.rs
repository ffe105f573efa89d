//! DescribeCluster: this one node, which is also the controller.

use super::metadata::CLUSTER_OPERATIONS_ALL;
use super::{Ctx, AUTHORIZED_OPERATIONS_OMITTED};
use crate::protocol::messages::describe_cluster::{
    DescribeClusterBroker, DescribeClusterRequest, DescribeClusterResponse,
};
use crate::protocol::ErrorCode;

/// `endpoint_type` asking for brokers (2 would be controllers).
const BROKERS: i8 = 1;

pub fn handle(ctx: &Ctx<'_>, request: DescribeClusterRequest) -> DescribeClusterResponse {
    let broker = ctx.broker;
    let mut response = DescribeClusterResponse {
        throttle_time_ms: 0,
        error_code: ErrorCode::None.code(),
        error_message: None,
        endpoint_type: request.endpoint_type,
        cluster_id: broker.cluster_id.clone(),
        controller_id: broker.node_id(),
        brokers: vec![DescribeClusterBroker {
            broker_id: broker.node_id(),
            host: broker.advertised_host.clone(),
            port: broker.advertised_port,
            rack: None,
        }],
        cluster_authorized_operations: if request.include_cluster_authorized_operations {
            CLUSTER_OPERATIONS_ALL
        } else {
            AUTHORIZED_OPERATIONS_OMITTED
        },
    };
    if ctx.version >= 1 && request.endpoint_type != BROKERS {
        // Kafka: UNSUPPORTED_ENDPOINT_TYPE when a broker is asked for controllers.
        response.error_code = ErrorCode::InvalidRequest.code();
        response.error_message = Some("The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type CONTROLLER".into());
        response.brokers.clear();
    }
    response
}

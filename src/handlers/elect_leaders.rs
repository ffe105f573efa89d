//! ElectLeaders (KIP-460): with one replica per partition, its leader is
//! always the preferred one and always alive, so no election is ever
//! needed: ELECTION_NOT_NEEDED for each partition asked for, and (as Kafka
//! does when asked for all partitions) nothing at all otherwise.

use super::Ctx;
use crate::protocol::messages::elect_leaders::{
    ElectLeadersRequest, ElectLeadersResponse, PartitionResult, ReplicaElectionResult,
};
use crate::protocol::ErrorCode;

pub fn handle(ctx: &Ctx<'_>, request: ElectLeadersRequest) -> ElectLeadersResponse {
    let results = request
        .topic_partitions
        .unwrap_or_default()
        .into_iter()
        .map(|wanted| {
            let topic = ctx.broker.topic(&wanted.topic).ok().flatten();
            ReplicaElectionResult {
                partition_result: wanted
                    .partitions
                    .iter()
                    .map(|&partition_id| {
                        let exists = topic
                            .as_ref()
                            .is_some_and(|t| (0..t.partitions).contains(&partition_id));
                        let (code, message) = if exists {
                            (
                                ErrorCode::ElectionNotNeeded,
                                "Leader election not needed for topic partition.",
                            )
                        } else {
                            (
                                ErrorCode::UnknownTopicOrPartition,
                                "The partition does not exist.",
                            )
                        };
                        PartitionResult {
                            partition_id,
                            error_code: code.code(),
                            error_message: Some(message.to_string()),
                        }
                    })
                    .collect(),
                topic: wanted.topic,
            }
        })
        .collect();
    ElectLeadersResponse {
        throttle_time_ms: 0,
        error_code: 0,
        replica_election_results: results,
    }
}

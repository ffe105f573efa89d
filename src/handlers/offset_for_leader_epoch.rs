//! OffsetForLeaderEpoch: clients validate their position after a leader
//! change (KIP-320). Every partition here has had one leader, at epoch 0,
//! so epoch 0 (or any older one) ends at the log end offset.

use super::{storage_error_code, Ctx};
use crate::protocol::messages::offset_for_leader_epoch::{
    EpochEndOffset, OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse,
    OffsetForLeaderTopicResult,
};
use crate::protocol::ErrorCode;

/// The only leader epoch a partition ever has.
const LEADER_EPOCH: i32 = 0;

pub fn handle(ctx: &Ctx<'_>, request: OffsetForLeaderEpochRequest) -> OffsetForLeaderEpochResponse {
    let topics = request
        .topics
        .into_iter()
        .map(|wanted| {
            let topic = ctx.broker.topic(&wanted.topic);
            let partitions = wanted
                .partitions
                .iter()
                .map(|p| {
                    let mut answer = EpochEndOffset {
                        error_code: ErrorCode::None.code(),
                        partition: p.partition,
                        leader_epoch: -1,
                        end_offset: -1,
                    };
                    // The client's view of the current epoch must match ours.
                    if p.current_leader_epoch > LEADER_EPOCH {
                        answer.error_code = ErrorCode::UnknownLeaderEpoch.code();
                        return answer;
                    }
                    let marks = match &topic {
                        Ok(Some(topic)) => ctx.broker.partition(topic, p.partition),
                        Ok(None) => Ok(None),
                        Err(err) => Err(err.clone()),
                    };
                    match marks {
                        Ok(Some(marks)) if p.leader_epoch <= LEADER_EPOCH => {
                            answer.leader_epoch = LEADER_EPOCH;
                            answer.end_offset = marks.next_offset;
                        }
                        // An epoch newer than any we had: undefined (-1, -1).
                        Ok(Some(_)) => {}
                        Ok(None) => answer.error_code = ErrorCode::UnknownTopicOrPartition.code(),
                        Err(err) => answer.error_code = storage_error_code(&err).code(),
                    }
                    answer
                })
                .collect();
            OffsetForLeaderTopicResult {
                topic: wanted.topic,
                partitions,
            }
        })
        .collect();
    OffsetForLeaderEpochResponse {
        throttle_time_ms: 0,
        topics,
    }
}

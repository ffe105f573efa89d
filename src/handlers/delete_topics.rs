//! DeleteTopics, by name (v1+) or by topic id (v6+). The topic's records
//! are deleted with it.

use super::{log_storage_error, storage_error_code, Ctx};
use crate::protocol::messages::delete_topics::{
    DeletableTopicResult, DeleteTopicsRequest, DeleteTopicsResponse,
};
use crate::protocol::ErrorCode;
use crate::storage::{self, TopicId};

pub fn handle(ctx: &Ctx<'_>, request: DeleteTopicsRequest) -> DeleteTopicsResponse {
    let broker = ctx.broker;
    let responses = request
        .topics
        .into_iter()
        .map(|wanted| {
            let mut result = DeletableTopicResult {
                name: wanted.name.clone(),
                topic_id: wanted.topic_id,
                error_code: ErrorCode::None.code(),
                error_message: None,
            };
            let found = match &wanted.name {
                Some(name) => broker
                    .topic(name)
                    .map(|t| t.ok_or(ErrorCode::UnknownTopicOrPartition)),
                None => {
                    let id = TopicId::from_bytes(wanted.topic_id);
                    let cached = broker.topics.get_by_id(&id);
                    let found = match cached {
                        Some(t) => Ok(Some(t)),
                        None => broker.pool.run(storage::topics::load_all).map(|all| {
                            broker.topics.replace_all(all);
                            broker.topics.get_by_id(&id)
                        }),
                    };
                    found.map(|t| t.ok_or(ErrorCode::UnknownTopicId))
                }
            };
            let topic = match found {
                Ok(Ok(topic)) => topic,
                Ok(Err(code)) => {
                    result.error_code = code.code();
                    return result;
                }
                Err(err) => {
                    log_storage_error(ctx, "looking up a topic", &err);
                    result.error_code = storage_error_code(&err).code();
                    return result;
                }
            };
            result.name = Some(topic.name.clone());
            result.topic_id = *topic.id.as_bytes();
            let id = topic.id;
            match broker.pool.run(move |db| storage::topics::delete(db, id)) {
                Ok(_) => {
                    broker.topics.remove(&id);
                    broker.watermarks.remove_topic(&id);
                    log::info!("deleted topic {} for {}", topic.name, ctx.peer);
                }
                Err(err) => {
                    log_storage_error(ctx, "deleting a topic", &err);
                    result.error_code = storage_error_code(&err).code();
                }
            }
            result
        })
        .collect();
    DeleteTopicsResponse {
        throttle_time_ms: 0,
        responses,
    }
}

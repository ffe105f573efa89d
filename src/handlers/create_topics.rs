//! CreateTopics, and the one function every path that creates a topic uses
//! (this API and Metadata's auto-create).

use super::{log_storage_error, storage_error_code, topic_names, Ctx};
use crate::broker::Broker;
use crate::protocol::messages::create_topics::{
    CreatableTopicConfigs, CreatableTopicResult, CreateTopicsRequest, CreateTopicsResponse,
};
use crate::protocol::ErrorCode;
use crate::resource_configs::{self, RESOURCE_TOPIC};
use crate::storage;
use crate::storage::topics::TopicMeta;
use crate::topic_config;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

/// Largest partition count one request may ask for; bounds the rows one
/// request can make PostgreSQL write.
const MAX_PARTITIONS: i32 = 100_000;

/// Creates a topic (name already validated or not: it is checked here).
/// Errors are Kafka's code plus a message for the client.
pub fn create_topic(
    broker: &Broker,
    name: &str,
    partitions: i32,
    replication_factor: i16,
    configs: &BTreeMap<String, String>,
) -> Result<Arc<TopicMeta>, (ErrorCode, String)> {
    if let Some(reason) = topic_names::invalid_reason(name) {
        return Err((ErrorCode::InvalidTopicException, reason));
    }
    let owned_name = name.to_string();
    let owned_configs = configs.clone();
    let created = broker.pool.run(move |db| {
        storage::topics::create(
            db,
            &owned_name,
            partitions,
            replication_factor,
            &owned_configs,
        )
    });
    match created {
        Ok(Some(topic)) => Ok(broker.topics.insert(topic)),
        Ok(None) => {
            // Created meanwhile by someone else: refresh our view of it.
            let _ = broker.topics.get(name).map(|t| broker.topics.remove(&t.id));
            let _ = broker.topic(name);
            Err((
                ErrorCode::TopicAlreadyExists,
                format!("Topic '{name}' already exists."),
            ))
        }
        Err(err) => Err((
            storage_error_code(&err),
            format!("could not create topic '{name}': {err}"),
        )),
    }
}

pub fn handle(ctx: &Ctx<'_>, request: CreateTopicsRequest) -> CreateTopicsResponse {
    let broker = ctx.broker;
    // A name given twice in one request is an error for each copy.
    let mut seen = HashSet::new();
    let duplicated: HashSet<String> = request
        .topics
        .iter()
        .filter(|t| !seen.insert(t.name.clone()))
        .map(|t| t.name.clone())
        .collect();

    let topics = request
        .topics
        .into_iter()
        .map(|topic| {
            let mut result = CreatableTopicResult {
                name: topic.name.clone(),
                error_code: ErrorCode::None.code(),
                num_partitions: -1,
                replication_factor: -1,
                ..Default::default()
            };
            let fail = |result: &mut CreatableTopicResult, code: ErrorCode, message: String| {
                result.error_code = code.code();
                result.error_message = Some(message);
            };
            if duplicated.contains(&topic.name) {
                fail(&mut result, ErrorCode::InvalidRequest, format!("Create topics request from client `{}` contains multiple entries for the following topics: {}", ctx.client_id.unwrap_or(""), topic.name));
                return result;
            }
            if let Some(reason) = topic_names::invalid_reason(&topic.name) {
                fail(&mut result, ErrorCode::InvalidTopicException, reason);
                return result;
            }
            // Manual assignments fix the partition count; otherwise -1 means
            // the broker default (KIP-464).
            let partitions = if !topic.assignments.is_empty() {
                if topic.num_partitions != -1 || topic.replication_factor != -1 {
                    fail(&mut result, ErrorCode::InvalidRequest, "Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.".into());
                    return result;
                }
                topic.assignments.len() as i32
            } else if topic.num_partitions == -1 {
                broker.config.num_partitions
            } else {
                topic.num_partitions
            };
            if partitions <= 0 || partitions > MAX_PARTITIONS {
                fail(&mut result, ErrorCode::InvalidPartitions, format!("Number of partitions must be between 1 and {MAX_PARTITIONS}, got {partitions}."));
                return result;
            }
            // Every replica is this one node; any requested factor is
            // accepted (and recorded) so tools written for clusters work.
            let replication_factor = if topic.replication_factor == -1 { 1 } else { topic.replication_factor };
            if replication_factor <= 0 {
                fail(&mut result, ErrorCode::InvalidReplicationFactor, "Replication factor must be larger than 0.".into());
                return result;
            }
            let configs: BTreeMap<String, String> = topic
                .configs
                .iter()
                .filter_map(|c| c.value.clone().map(|v| (c.name.clone(), v)))
                .collect();
            let unknown = topic.configs.iter().find(|c| topic_config::topic_config(&c.name).is_none());
            let valid = match unknown {
                Some(c) => Err(format!("Unknown topic config name: {}", c.name)),
                None => topic_config::validate_topic_configs(&configs),
            };
            if let Err(message) = valid {
                fail(&mut result, ErrorCode::InvalidConfig, message);
                return result;
            }
            result.num_partitions = partitions;
            result.replication_factor = replication_factor;
            // KIP-525: every config of the new topic, as DescribeConfigs
            // would show it.
            result.configs = Some(
                resource_configs::describe(broker, RESOURCE_TOPIC, &topic.name, &configs)
                    .into_iter()
                    .map(|d| CreatableTopicConfigs {
                        name: d.def.name.to_string(),
                        value: d.resolved.value,
                        read_only: d.read_only,
                        config_source: d.resolved.source as i8,
                        is_sensitive: false,
                    })
                    .collect(),
            );
            if request.validate_only {
                match broker.topic(&topic.name) {
                    Ok(Some(_)) => fail(&mut result, ErrorCode::TopicAlreadyExists, format!("Topic '{}' already exists.", topic.name)),
                    Ok(None) => {}
                    Err(err) => {
                        log_storage_error(ctx, "validating a topic", &err);
                        fail(&mut result, storage_error_code(&err), err.to_string());
                    }
                }
                return result;
            }
            match create_topic(broker, &topic.name, partitions, replication_factor, &configs) {
                Ok(created) => {
                    log::info!("created topic {} with {partitions} partitions for {}", topic.name, ctx.peer);
                    result.topic_id = *created.id.as_bytes();
                }
                Err((code, message)) => fail(&mut result, code, message),
            }
            result
        })
        .collect();
    CreateTopicsResponse {
        throttle_time_ms: 0,
        topics,
    }
}

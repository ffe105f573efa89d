//! Metadata: brokers (just this node), topics with their partitions, and
//! topic auto-creation (Kafka's `auto.create.topics.enable`).

use super::{
    create_topics, log_storage_error, storage_error_code, topic_names, Ctx,
    AUTHORIZED_OPERATIONS_OMITTED,
};
use crate::protocol::messages::metadata::{
    MetadataRequest, MetadataResponse, MetadataResponseBroker, MetadataResponsePartition,
    MetadataResponseTopic,
};
use crate::protocol::ErrorCode;
use crate::storage::topics::TopicMeta;
use crate::storage::{self, TopicId};

/// Every topic operation (READ..ALTER_CONFIGS) as an ACL bit set: with no
/// authorizer, everything is allowed.
pub const TOPIC_OPERATIONS_ALL: i32 =
    (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 10) | (1 << 11);
/// Every cluster operation as an ACL bit set.
pub const CLUSTER_OPERATIONS_ALL: i32 =
    (1 << 5) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 12) | (1 << 13);

pub fn handle(ctx: &Ctx<'_>, request: MetadataRequest) -> MetadataResponse {
    let broker = ctx.broker;
    // v0 sends an empty list for "all topics"; v1+ sends null.
    let all_topics = request.topics.is_none()
        || (ctx.version == 0 && request.topics.as_ref().is_some_and(Vec::is_empty));
    // Before v4 there was no flag and every request could auto-create.
    let may_create =
        broker.config.auto_create_topics && (ctx.version < 4 || request.allow_auto_topic_creation);

    let mut topics = Vec::new();
    if all_topics {
        match broker.pool.run(storage::topics::load_all) {
            Ok(all) => {
                broker.topics.replace_all(all);
                for topic in broker.topics.all() {
                    topics.push(describe(ctx, &topic, &request));
                }
            }
            Err(err) => log_storage_error(ctx, "listing topics", &err),
        }
    } else {
        for wanted in request.topics.iter().flatten() {
            topics.push(match &wanted.name {
                Some(name) => by_name(ctx, name, may_create, &request),
                None => by_id(ctx, wanted.topic_id, &request),
            });
        }
    }

    MetadataResponse {
        throttle_time_ms: 0,
        brokers: vec![MetadataResponseBroker {
            node_id: broker.node_id(),
            host: broker.advertised_host.clone(),
            port: broker.advertised_port,
            rack: None,
        }],
        cluster_id: Some(broker.cluster_id.clone()),
        controller_id: broker.node_id(),
        topics,
        cluster_authorized_operations: if request.include_cluster_authorized_operations {
            CLUSTER_OPERATIONS_ALL
        } else {
            AUTHORIZED_OPERATIONS_OMITTED
        },
    }
}

fn by_name(
    ctx: &Ctx<'_>,
    name: &str,
    may_create: bool,
    request: &MetadataRequest,
) -> MetadataResponseTopic {
    if topic_names::invalid_reason(name).is_some() {
        return error_topic(Some(name), [0; 16], ErrorCode::InvalidTopicException);
    }
    match ctx.broker.topic(name) {
        Ok(Some(topic)) => describe(ctx, &topic, request),
        Ok(None) if may_create => {
            let partitions = ctx.broker.config.num_partitions;
            match create_topics::create_topic(ctx.broker, name, partitions, 1, &Default::default())
            {
                Ok(topic) => {
                    log::info!(
                        "auto-created topic {name} with {partitions} partitions for {}",
                        ctx.peer
                    );
                    describe(ctx, &topic, request)
                }
                Err((code, message)) => {
                    log::warn!("auto-creating topic {name} failed: {message}");
                    error_topic(Some(name), [0; 16], code)
                }
            }
        }
        Ok(None) => error_topic(Some(name), [0; 16], ErrorCode::UnknownTopicOrPartition),
        Err(err) => {
            log_storage_error(ctx, "looking up a topic", &err);
            error_topic(Some(name), [0; 16], ErrorCode::LeaderNotAvailable)
        }
    }
}

fn by_id(ctx: &Ctx<'_>, id: [u8; 16], request: &MetadataRequest) -> MetadataResponseTopic {
    let topic_id = TopicId::from_bytes(id);
    if let Some(topic) = ctx.broker.topics.get_by_id(&topic_id) {
        return describe(ctx, &topic, request);
    }
    // Not cached: refresh from the database, which holds every topic.
    match ctx.broker.pool.run(storage::topics::load_all) {
        Ok(all) => ctx.broker.topics.replace_all(all),
        Err(err) => {
            log_storage_error(ctx, "looking up a topic id", &err);
            return error_topic(None, id, storage_error_code(&err));
        }
    }
    match ctx.broker.topics.get_by_id(&topic_id) {
        Some(topic) => describe(ctx, &topic, request),
        None => error_topic(None, id, ErrorCode::UnknownTopicId),
    }
}

fn describe(ctx: &Ctx<'_>, topic: &TopicMeta, request: &MetadataRequest) -> MetadataResponseTopic {
    let node = ctx.broker.node_id();
    MetadataResponseTopic {
        error_code: ErrorCode::None.code(),
        name: Some(topic.name.clone()),
        topic_id: *topic.id.as_bytes(),
        is_internal: false,
        partitions: (0..topic.partitions)
            .map(|partition| MetadataResponsePartition {
                error_code: ErrorCode::None.code(),
                partition_index: partition,
                leader_id: node,
                leader_epoch: 0,
                replica_nodes: vec![node],
                isr_nodes: vec![node],
                offline_replicas: Vec::new(),
            })
            .collect(),
        topic_authorized_operations: if request.include_topic_authorized_operations {
            TOPIC_OPERATIONS_ALL
        } else {
            AUTHORIZED_OPERATIONS_OMITTED
        },
    }
}

fn error_topic(name: Option<&str>, topic_id: [u8; 16], code: ErrorCode) -> MetadataResponseTopic {
    MetadataResponseTopic {
        error_code: code.code(),
        name: name.map(str::to_string),
        topic_id,
        is_internal: false,
        partitions: Vec::new(),
        topic_authorized_operations: AUTHORIZED_OPERATIONS_OMITTED,
    }
}

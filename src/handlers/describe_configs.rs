//! DescribeConfigs: every config of a topic, broker or group, with its
//! value, source, synonyms, type and documentation (Kafka's
//! `ConfigHelper.describeConfigs`).

use super::{log_storage_error, storage_error_code, topic_names, Ctx};
use crate::protocol::messages::describe_configs::{
    DescribeConfigsEntry, DescribeConfigsRequest, DescribeConfigsResource, DescribeConfigsResponse,
    DescribeConfigsResult, DescribeConfigsSynonym,
};
use crate::protocol::ErrorCode;
use crate::resource_configs::{self, RESOURCE_BROKER, RESOURCE_GROUP, RESOURCE_TOPIC};
use std::collections::BTreeMap;

pub fn handle(ctx: &Ctx<'_>, request: DescribeConfigsRequest) -> DescribeConfigsResponse {
    let results = request
        .resources
        .iter()
        .map(|resource| {
            let mut result = DescribeConfigsResult {
                error_code: 0,
                error_message: None,
                resource_type: resource.resource_type,
                resource_name: resource.resource_name.clone(),
                configs: Vec::new(),
            };
            match own_configs(ctx, resource.resource_type, &resource.resource_name) {
                Ok(own) => {
                    result.configs = entries(ctx, resource, &own, &request);
                }
                Err((code, message)) => {
                    result.error_code = code.code();
                    result.error_message = Some(message);
                }
            }
            result
        })
        .collect();
    DescribeConfigsResponse {
        throttle_time_ms: 0,
        results,
    }
}

/// What is set on the resource itself, after checking that it exists and
/// that this broker answers for it.
pub fn own_configs(
    ctx: &Ctx<'_>,
    resource_type: i8,
    name: &str,
) -> Result<BTreeMap<String, String>, (ErrorCode, String)> {
    match resource_type {
        RESOURCE_TOPIC => {
            if let Some(reason) = topic_names::invalid_reason(name) {
                return Err((ErrorCode::InvalidTopicException, reason));
            }
            match ctx.broker.topic(name) {
                Ok(Some(topic)) => Ok(topic.configs.clone()),
                Ok(None) => Err((
                    ErrorCode::UnknownTopicOrPartition,
                    format!("The topic '{name}' does not exist."),
                )),
                Err(err) => {
                    log_storage_error(ctx, "describing topic configs", &err);
                    Err((storage_error_code(&err), err.to_string()))
                }
            }
        }
        RESOURCE_BROKER => {
            check_broker_name(ctx, name)?;
            Ok(ctx.broker.dynamic_configs.get(RESOURCE_BROKER, name))
        }
        RESOURCE_GROUP => {
            if name.is_empty() {
                return Err((
                    ErrorCode::InvalidRequest,
                    "Group id must not be empty".into(),
                ));
            }
            Ok(ctx.broker.dynamic_configs.get(RESOURCE_GROUP, name))
        }
        other => Err((
            ErrorCode::InvalidRequest,
            format!("Unsupported resource type {other}"),
        )),
    }
}

/// A broker resource names this node, or is empty for the cluster-wide
/// defaults; any other id belongs to a broker that is not us.
pub fn check_broker_name(ctx: &Ctx<'_>, name: &str) -> Result<(), (ErrorCode, String)> {
    if name.is_empty() {
        return Ok(());
    }
    match name.parse::<i32>() {
        Ok(id) if id == ctx.broker.node_id() => Ok(()),
        Ok(id) => Err((
            ErrorCode::InvalidRequest,
            format!(
                "Unexpected broker id, expected {} or empty string, but received {id}",
                ctx.broker.node_id()
            ),
        )),
        Err(_) => Err((
            ErrorCode::InvalidRequest,
            format!("Broker id must be an integer, but it is: {name}"),
        )),
    }
}

fn entries(
    ctx: &Ctx<'_>,
    resource: &DescribeConfigsResource,
    own: &BTreeMap<String, String>,
    request: &DescribeConfigsRequest,
) -> Vec<DescribeConfigsEntry> {
    let wanted = resource.configuration_keys.as_ref();
    resource_configs::describe(
        ctx.broker,
        resource.resource_type,
        &resource.resource_name,
        own,
    )
    .into_iter()
    .filter(|d| wanted.is_none_or(|keys| keys.iter().any(|k| k == d.def.name)))
    .map(|d| DescribeConfigsEntry {
        name: d.def.name.to_string(),
        value: d.resolved.value,
        read_only: d.read_only,
        config_source: d.resolved.source as i8,
        is_sensitive: false,
        synonyms: if request.include_synonyms {
            d.resolved
                .synonyms
                .into_iter()
                .map(|(name, value, source)| DescribeConfigsSynonym {
                    name,
                    value,
                    source: source as i8,
                })
                .collect()
        } else {
            Vec::new()
        },
        config_type: d.def.config_type as i8,
        documentation: request
            .include_documentation
            .then(|| d.def.documentation.to_string()),
    })
    .collect()
}

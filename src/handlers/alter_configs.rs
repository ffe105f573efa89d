//! AlterConfigs: replace every dynamic config of a resource (configs left
//! out go back to their defaults), and the one function both AlterConfigs
//! and IncrementalAlterConfigs apply changes with: validate the resulting
//! set, then (unless `validate_only`) store it in PostgreSQL and update the
//! caches, so the change takes effect on the next request.

use super::describe_configs::own_configs;
use super::{log_storage_error, storage_error_code, Ctx};
use crate::protocol::messages::alter_configs::{
    AlterConfigsRequest, AlterConfigsResourceResponse, AlterConfigsResponse,
};
use crate::protocol::ErrorCode;
use crate::resource_configs::{self, RESOURCE_TOPIC};
use crate::storage;
use crate::storage::topics::TopicMeta;
use crate::topic_config;
use std::collections::{BTreeMap, HashSet};

pub fn handle(ctx: &Ctx<'_>, request: AlterConfigsRequest) -> AlterConfigsResponse {
    let duplicated = duplicates(
        request
            .resources
            .iter()
            .map(|r| (r.resource_type, r.resource_name.as_str())),
    );
    let responses = request
        .resources
        .iter()
        .map(|resource| {
            let outcome = if duplicated
                .contains(&(resource.resource_type, resource.resource_name.as_str()))
            {
                Err((
                    ErrorCode::InvalidRequest,
                    "Error due to duplicate resources".to_string(),
                ))
            } else {
                apply(
                    ctx,
                    resource.resource_type,
                    &resource.resource_name,
                    request.validate_only,
                    |_| {
                        let mut configs = BTreeMap::new();
                        for config in &resource.configs {
                            let value = config.value.clone().ok_or_else(|| {
                                (
                                    ErrorCode::InvalidRequest,
                                    format!("Null value not supported for : {}", config.name),
                                )
                            })?;
                            if configs.insert(config.name.clone(), value).is_some() {
                                return Err((
                                    ErrorCode::InvalidRequest,
                                    "Error due to duplicate config keys".into(),
                                ));
                            }
                        }
                        Ok(configs)
                    },
                )
            };
            answer(resource.resource_type, &resource.resource_name, outcome)
        })
        .collect();
    AlterConfigsResponse {
        throttle_time_ms: 0,
        responses,
    }
}

/// The (type, name) pairs that occur more than once.
pub fn duplicates<'a>(resources: impl Iterator<Item = (i8, &'a str)>) -> HashSet<(i8, &'a str)> {
    let mut seen = HashSet::new();
    resources.filter(|r| !seen.insert(*r)).collect()
}

pub fn answer(
    resource_type: i8,
    resource_name: &str,
    outcome: Result<(), (ErrorCode, String)>,
) -> AlterConfigsResourceResponse {
    let (error_code, error_message) = match outcome {
        Ok(()) => (ErrorCode::None.code(), None),
        Err((code, message)) => (code.code(), Some(message)),
    };
    AlterConfigsResourceResponse {
        error_code,
        error_message,
        resource_type,
        resource_name: resource_name.to_string(),
    }
}

/// Computes a resource's new config set with `change` (given the current
/// one), validates it, and stores it unless `validate_only`.
pub fn apply(
    ctx: &Ctx<'_>,
    resource_type: i8,
    resource_name: &str,
    validate_only: bool,
    change: impl FnOnce(
        &BTreeMap<String, String>,
    ) -> Result<BTreeMap<String, String>, (ErrorCode, String)>,
) -> Result<(), (ErrorCode, String)> {
    let current = own_configs(ctx, resource_type, resource_name)?;
    let configs = change(&current)?;
    let valid = if resource_type == RESOURCE_TOPIC {
        topic_config::validate_topic_configs(&configs)
    } else {
        resource_configs::validate_dynamic(resource_type, &configs)
    };
    valid.map_err(|message| (ErrorCode::InvalidConfig, message))?;
    if validate_only {
        return Ok(());
    }
    let broker = ctx.broker;
    let stored = if resource_type == RESOURCE_TOPIC {
        store_topic_configs(ctx, resource_name, configs.clone())
    } else {
        let name = resource_name.to_string();
        let to_store = configs.clone();
        let stored = broker
            .pool
            .run(move |db| storage::configs::replace_dynamic(db, resource_type, &name, &to_store));
        match stored {
            Ok(()) => {
                broker
                    .dynamic_configs
                    .replace(resource_type, resource_name, configs.clone());
                Ok(())
            }
            Err(err) => {
                log_storage_error(ctx, "storing configs", &err);
                Err((storage_error_code(&err), err.to_string()))
            }
        }
    };
    if stored.is_ok() {
        log::info!(
            "{} ({:?}): configs of resource type {resource_type} '{resource_name}' are now {configs:?}",
            ctx.peer,
            ctx.client_id.unwrap_or("")
        );
    }
    stored
}

fn store_topic_configs(
    ctx: &Ctx<'_>,
    name: &str,
    configs: BTreeMap<String, String>,
) -> Result<(), (ErrorCode, String)> {
    let broker = ctx.broker;
    let unknown = || {
        (
            ErrorCode::UnknownTopicOrPartition,
            format!("The topic '{name}' does not exist."),
        )
    };
    let topic = broker
        .topic(name)
        .map_err(|err| (storage_error_code(&err), err.to_string()))?
        .ok_or_else(unknown)?;
    let id = topic.id;
    let to_store = configs.clone();
    match broker
        .pool
        .run(move |db| storage::configs::replace_topic_configs(db, id, &to_store))
    {
        Ok(true) => {
            broker.topics.insert(TopicMeta {
                configs,
                ..(*topic).clone()
            });
            Ok(())
        }
        Ok(false) => Err(unknown()),
        Err(err) => {
            log_storage_error(ctx, "storing topic configs", &err);
            Err((storage_error_code(&err), err.to_string()))
        }
    }
}

//! IncrementalAlterConfigs (KIP-339): SET, DELETE, APPEND and SUBTRACT
//! single configs of a resource. APPEND and SUBTRACT work on list configs
//! and start from the current value, the default included: APPEND
//! `compact` to an unset cleanup.policy gives `delete,compact`, as Kafka.

use super::alter_configs::{answer, apply, duplicates};
use super::Ctx;
use crate::protocol::messages::alter_configs::AlterConfigsResponse;
use crate::protocol::messages::incremental_alter_configs::{
    AlterConfigsResource, IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse,
    OP_APPEND, OP_DELETE, OP_SET, OP_SUBTRACT,
};
use crate::protocol::ErrorCode;
use crate::resource_configs;
use crate::topic_config::{list_items, ConfigType};
use std::collections::{BTreeMap, HashSet};

pub fn handle(
    ctx: &Ctx<'_>,
    request: IncrementalAlterConfigsRequest,
) -> IncrementalAlterConfigsResponse {
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
            let key = (resource.resource_type, resource.resource_name.as_str());
            let outcome = if duplicated.contains(&key) {
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
                    |current| changed(ctx, resource, current),
                )
            };
            answer(resource.resource_type, &resource.resource_name, outcome)
        })
        .collect();
    IncrementalAlterConfigsResponse(AlterConfigsResponse {
        throttle_time_ms: 0,
        responses,
    })
}

/// The resource's configs after the request's operations.
fn changed(
    ctx: &Ctx<'_>,
    resource: &AlterConfigsResource,
    current: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, (ErrorCode, String)> {
    let mut seen = HashSet::new();
    if !resource
        .configs
        .iter()
        .all(|c| seen.insert(c.name.as_str()))
    {
        return Err((
            ErrorCode::InvalidRequest,
            "Error due to duplicate config keys".into(),
        ));
    }
    let defs = resource_configs::definitions(resource.resource_type).unwrap_or(&[]);
    // The values in effect now, defaults included, for APPEND and SUBTRACT.
    let effective: BTreeMap<&str, Option<String>> = resource_configs::describe(
        ctx.broker,
        resource.resource_type,
        &resource.resource_name,
        current,
    )
    .into_iter()
    .map(|d| (d.def.name, d.resolved.value))
    .collect();
    let mut configs = current.clone();
    for op in &resource.configs {
        let name = op.name.as_str();
        let def = defs.iter().find(|d| d.name == name);
        let value = || {
            op.value.clone().ok_or_else(|| {
                (
                    ErrorCode::InvalidRequest,
                    format!("Null value not supported for : {name}"),
                )
            })
        };
        match op.config_operation {
            OP_SET => {
                configs.insert(op.name.clone(), value()?);
            }
            OP_DELETE => {
                if def.is_none() {
                    return Err((
                        ErrorCode::InvalidConfig,
                        format!("Unknown config name: {name}"),
                    ));
                }
                configs.remove(name);
            }
            OP_APPEND | OP_SUBTRACT => {
                let Some(def) = def else {
                    // Unknown names are reported by the validation after.
                    configs.insert(op.name.clone(), value()?);
                    continue;
                };
                if def.config_type != ConfigType::List {
                    let verb = if op.config_operation == OP_APPEND {
                        "append"
                    } else {
                        "subtract"
                    };
                    return Err((
                        ErrorCode::InvalidConfig,
                        format!("Config value {verb} is not allowed for config key: {name}"),
                    ));
                }
                let base = configs
                    .get(name)
                    .cloned()
                    .or_else(|| effective.get(name).cloned().flatten())
                    .unwrap_or_default();
                let mut items: Vec<&str> = list_items(&base).collect();
                let given = value()?;
                let operands: Vec<&str> = list_items(&given).collect();
                if op.config_operation == OP_APPEND {
                    for item in operands {
                        if !items.contains(&item) {
                            items.push(item);
                        }
                    }
                } else {
                    items.retain(|item| !operands.contains(item));
                }
                configs.insert(op.name.clone(), items.join(","));
            }
            other => {
                return Err((
                    ErrorCode::InvalidRequest,
                    format!("Unknown config operation {other} for config key: {name}"),
                ));
            }
        }
    }
    Ok(configs)
}

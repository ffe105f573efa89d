//! CreateAcls (KIP-140): stores new ACL bindings. Each creation is
//! validated as Kafka's controller does ([`AclBinding::invalid_reason`]);
//! the valid ones are stored together, and one that exists already counts
//! as created. ACLs are administered, not enforced (no SASL yet).

use super::{log_storage_error, storage_error_code, Ctx};
use crate::acl::{AclBinding, MAX_CHANGES_PER_REQUEST};
use crate::protocol::messages::create_acls::{
    AclCreation, AclCreationResult, CreateAclsRequest, CreateAclsResponse,
};
use crate::protocol::ErrorCode;
use crate::storage;

pub fn handle(ctx: &Ctx<'_>, request: CreateAclsRequest) -> CreateAclsResponse {
    let bindings: Vec<AclBinding> = request.creations.into_iter().map(binding).collect();
    let mut results: Vec<AclCreationResult> = bindings
        .iter()
        .map(|acl| match acl.invalid_reason() {
            Some(message) => failure(ErrorCode::InvalidRequest, Some(message)),
            None => AclCreationResult::default(),
        })
        .collect();
    let valid: Vec<AclBinding> = bindings
        .iter()
        .zip(&results)
        .filter(|(_, r)| r.error_code == ErrorCode::None.code())
        .map(|(acl, _)| acl.clone())
        .collect();
    if !valid.is_empty() {
        let count = valid.len();
        let stored = ctx
            .broker
            .pool
            .run(move |db| storage::acls::create(db, &valid, MAX_CHANGES_PER_REQUEST));
        match stored {
            Ok(true) => log::info!("{} created {count} ACL(s)", ctx.peer),
            Ok(false) => {
                // Kafka's controller refuses the whole batch.
                let error = failure(
                    ErrorCode::PolicyViolation,
                    Some("Unable to perform excessively large batch operation.".into()),
                );
                results.iter_mut().for_each(|r| *r = error.clone());
            }
            Err(err) => {
                log_storage_error(ctx, "creating ACLs", &err);
                let error = failure(storage_error_code(&err), Some(err.to_string()));
                for result in results.iter_mut().filter(|r| r.error_code == 0) {
                    *result = error.clone();
                }
            }
        }
    }
    CreateAclsResponse {
        throttle_time_ms: 0,
        results,
    }
}

fn binding(c: AclCreation) -> AclBinding {
    AclBinding {
        resource_type: c.resource_type,
        resource_name: c.resource_name,
        pattern_type: c.resource_pattern_type,
        principal: c.principal,
        host: c.host,
        operation: c.operation,
        permission_type: c.permission_type,
    }
}

fn failure(code: ErrorCode, message: Option<String>) -> AclCreationResult {
    AclCreationResult {
        error_code: code.code(),
        error_message: message,
    }
}

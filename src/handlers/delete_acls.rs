//! DeleteAcls (KIP-140): deletes every stored ACL binding each filter
//! matches and reports, per filter, the bindings it matched (a binding two
//! filters match is reported under both and deleted once), as Kafka's
//! `AclControlManager.deleteAcls`. A filter with an unrecognised code is
//! refused with INVALID_REQUEST; the others are applied together.

use super::describe_acls::filter;
use super::{log_storage_error, storage_error_code, Ctx};
use crate::acl::{AclBinding, AclFilter, MAX_CHANGES_PER_REQUEST};
use crate::protocol::messages::delete_acls::{
    DeleteAclsFilterResult, DeleteAclsMatchingAcl, DeleteAclsRequest, DeleteAclsResponse,
};
use crate::protocol::ErrorCode;
use crate::storage::{self, acls::Deleted};

pub fn handle(ctx: &Ctx<'_>, request: DeleteAclsRequest) -> DeleteAclsResponse {
    let filters: Vec<AclFilter> = request.filters.into_iter().map(filter).collect();
    let mut results: Vec<DeleteAclsFilterResult> = filters
        .iter()
        .map(|f| match f.invalid_reason() {
            Some(message) => failure(ErrorCode::InvalidRequest, message.to_string()),
            None => DeleteAclsFilterResult::default(),
        })
        .collect();
    let valid: Vec<AclFilter> = filters
        .into_iter()
        .filter(|f| f.invalid_reason().is_none())
        .collect();
    if valid.is_empty() {
        return response(results);
    }
    let deleted = ctx
        .broker
        .pool
        .run(move |db| storage::acls::delete_matching(db, &valid, MAX_CHANGES_PER_REQUEST));
    match deleted {
        Ok(Deleted::Matches(matches)) => {
            let count: usize = matches.iter().map(Vec::len).sum();
            if count > 0 {
                log::info!("{} deleted ACLs ({count} match(es))", ctx.peer);
            }
            let valid_results = results.iter_mut().filter(|r| r.error_code == 0);
            for (result, acls) in valid_results.zip(matches) {
                result.matching_acls = acls.into_iter().map(matching_acl).collect();
            }
        }
        Ok(Deleted::TooMany) => {
            // Kafka's controller fails the whole request.
            let error = failure(
                ErrorCode::InvalidRequest,
                format!(
                    "Cannot remove more than {MAX_CHANGES_PER_REQUEST} acls in a single delete operation."
                ),
            );
            results.iter_mut().for_each(|r| *r = error.clone());
        }
        Err(err) => {
            log_storage_error(ctx, "deleting ACLs", &err);
            let error = failure(storage_error_code(&err), err.to_string());
            for result in results.iter_mut().filter(|r| r.error_code == 0) {
                *result = error.clone();
            }
        }
    }
    response(results)
}

fn response(filter_results: Vec<DeleteAclsFilterResult>) -> DeleteAclsResponse {
    DeleteAclsResponse {
        throttle_time_ms: 0,
        filter_results,
    }
}

fn failure(code: ErrorCode, message: String) -> DeleteAclsFilterResult {
    DeleteAclsFilterResult {
        error_code: code.code(),
        error_message: Some(message),
        matching_acls: Vec::new(),
    }
}

fn matching_acl(acl: AclBinding) -> DeleteAclsMatchingAcl {
    DeleteAclsMatchingAcl {
        error_code: 0,
        error_message: None,
        resource_type: acl.resource_type,
        resource_name: acl.resource_name,
        pattern_type: acl.pattern_type,
        principal: acl.principal,
        host: acl.host,
        operation: acl.operation,
        permission_type: acl.permission_type,
    }
}

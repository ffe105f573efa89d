//! DescribeAcls (KIP-140): the stored ACL bindings a filter matches,
//! grouped by resource pattern, as a broker with an authorizer answers
//! (never SECURITY_DISABLED). A filter with an unrecognised code matches
//! nothing, as in Kafka.

use super::{log_storage_error, storage_error_code, Ctx};
use crate::acl::{AclBinding, AclFilter};
use crate::protocol::messages::describe_acls::{
    AclDescription, AclFilterData, DescribeAclsRequest, DescribeAclsResource, DescribeAclsResponse,
};
use crate::storage;

pub fn handle(ctx: &Ctx<'_>, request: DescribeAclsRequest) -> DescribeAclsResponse {
    let filter = filter(request.filter);
    match ctx
        .broker
        .pool
        .run(move |db| storage::acls::matching(db, &filter))
    {
        Ok(acls) => DescribeAclsResponse {
            throttle_time_ms: 0,
            error_code: 0,
            error_message: None,
            resources: by_pattern(acls),
        },
        Err(err) => {
            log_storage_error(ctx, "describing ACLs", &err);
            DescribeAclsResponse {
                throttle_time_ms: 0,
                error_code: storage_error_code(&err).code(),
                error_message: Some(err.to_string()),
                resources: Vec::new(),
            }
        }
    }
}

/// The domain filter of a wire filter (shared with DeleteAcls).
pub fn filter(f: AclFilterData) -> AclFilter {
    AclFilter {
        resource_type: f.resource_type,
        resource_name: f.resource_name,
        pattern_type: f.pattern_type,
        principal: f.principal,
        host: f.host,
        operation: f.operation,
        permission_type: f.permission_type,
    }
}

/// One resource per pattern, with its entries; `acls` is sorted by
/// pattern, so equal patterns are adjacent.
fn by_pattern(acls: Vec<AclBinding>) -> Vec<DescribeAclsResource> {
    let mut resources: Vec<DescribeAclsResource> = Vec::new();
    for acl in acls {
        let entry = AclDescription {
            principal: acl.principal,
            host: acl.host,
            operation: acl.operation,
            permission_type: acl.permission_type,
        };
        match resources.last_mut() {
            Some(last)
                if last.resource_type == acl.resource_type
                    && last.resource_name == acl.resource_name
                    && last.pattern_type == acl.pattern_type =>
            {
                last.acls.push(entry);
            }
            _ => resources.push(DescribeAclsResource {
                resource_type: acl.resource_type,
                resource_name: acl.resource_name,
                pattern_type: acl.pattern_type,
                acls: vec![entry],
            }),
        }
    }
    resources
}

//! DescribeClientQuotas (KIP-546): no client quotas are enforced or stored,
//! so every valid filter matches nothing. Filters Kafka would refuse are
//! refused the same way.

use super::Ctx;
use crate::protocol::messages::describe_client_quotas::{
    DescribeClientQuotasRequest, DescribeClientQuotasResponse,
};
use crate::protocol::ErrorCode;

/// The entity types Kafka knows.
const ENTITY_TYPES: &[&str] = &["user", "client-id", "ip"];
/// `match_type`: an exact name, the default entity, any specified entity.
const MATCH_EXACT: i8 = 0;
const MATCH_SPECIFIED: i8 = 2;

pub fn handle(
    _ctx: &Ctx<'_>,
    request: DescribeClientQuotasRequest,
) -> DescribeClientQuotasResponse {
    let invalid = request.components.iter().find_map(|c| {
        if !ENTITY_TYPES.contains(&c.entity_type.as_str()) {
            Some(format!(
                "Custom entity type '{}' not supported",
                c.entity_type
            ))
        } else if !(MATCH_EXACT..=MATCH_SPECIFIED).contains(&c.match_type) {
            Some(format!("Unknown match type {}", c.match_type))
        } else if c.match_type == MATCH_EXACT && c.match_name.is_none() {
            Some("Match name must be set for an exact match".into())
        } else {
            None
        }
    });
    match invalid {
        Some(message) => DescribeClientQuotasResponse {
            throttle_time_ms: 0,
            error_code: ErrorCode::InvalidRequest.code(),
            error_message: Some(message),
            entries: None,
        },
        None => DescribeClientQuotasResponse {
            throttle_time_ms: 0,
            error_code: 0,
            error_message: None,
            entries: Some(Vec::new()),
        },
    }
}

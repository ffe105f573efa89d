//! ApiVersions: the first request of every client, answered from the one
//! table in [`crate::protocol::api_key`].

use super::Ctx;
use crate::protocol::api_key::SUPPORTED_APIS;
use crate::protocol::messages::api_versions::{
    ApiVersionRange, ApiVersionsRequest, ApiVersionsResponse,
};
use crate::protocol::ErrorCode;

pub fn handle(ctx: &Ctx<'_>, request: ApiVersionsRequest) -> ApiVersionsResponse {
    if !request.client_software_name.is_empty() {
        log::debug!(
            "{}: client {} {}",
            ctx.peer,
            request.client_software_name,
            request.client_software_version
        );
    }
    ApiVersionsResponse {
        error_code: ErrorCode::None.code(),
        api_keys: advertised(),
        throttle_time_ms: 0,
    }
}

/// The answer to an ApiVersions request at a version we do not know.
pub fn unsupported_version() -> ApiVersionsResponse {
    ApiVersionsResponse {
        error_code: ErrorCode::UnsupportedVersion.code(),
        api_keys: advertised(),
        throttle_time_ms: 0,
    }
}

fn advertised() -> Vec<ApiVersionRange> {
    SUPPORTED_APIS
        .iter()
        .map(|api| ApiVersionRange {
            api_key: api.key as i16,
            min_version: api.min_version,
            max_version: api.max_version,
        })
        .collect()
}

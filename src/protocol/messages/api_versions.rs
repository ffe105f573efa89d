//! ApiVersions (key 18), versions 0-4. KIP-511 adds the client software
//! name/version (v3+). The response always uses response header v0.

use crate::protocol::primitives::{Reader, Result, Writer};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiVersionsRequest {
    /// v3+: the client library's name, e.g. "librdkafka".
    pub client_software_name: String,
    /// v3+: the client library's version.
    pub client_software_version: String,
}

impl ApiVersionsRequest {
    pub fn read(r: &mut Reader<'_>, version: i16) -> Result<Self> {
        let flexible = version >= 3;
        let mut req = ApiVersionsRequest::default();
        if version >= 3 {
            req.client_software_name = r.string(flexible)?;
            req.client_software_version = r.string(flexible)?;
        }
        r.skip_tagged_fields(flexible)?;
        Ok(req)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiVersionRange {
    pub api_key: i16,
    pub min_version: i16,
    pub max_version: i16,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiVersionsResponse {
    pub error_code: i16,
    pub api_keys: Vec<ApiVersionRange>,
    /// v1+
    pub throttle_time_ms: i32,
}

impl ApiVersionsResponse {
    pub fn write(&self, w: &mut Writer, version: i16) {
        let flexible = version >= 3;
        w.i16(self.error_code);
        w.array(flexible, &self.api_keys, |w, k| {
            w.i16(k.api_key);
            w.i16(k.min_version);
            w.i16(k.max_version);
            w.empty_tagged_fields(flexible);
        });
        if version >= 1 {
            w.i32(self.throttle_time_ms);
        }
        // SupportedFeatures, FinalizedFeaturesEpoch, FinalizedFeatures and
        // ZkMigrationReady are tagged fields whose defaults we keep, so none
        // is written: librdkafka before 2.2 cannot parse them.
        w.empty_tagged_fields(flexible);
    }
}

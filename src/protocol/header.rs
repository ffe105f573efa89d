//! Request and response headers.
//!
//! Request header v1 is `api_key i16, api_version i16, correlation_id i32,
//! client_id nullable string`; v2 (flexible requests) adds a tagged-field
//! section. The client id stays a classic int16-length string even in v2
//! (`RequestHeader.json`: `"flexibleVersions": "none"` on ClientId).
//! Response header v0 is the correlation id; v1 adds tagged fields.

use super::api_key::ApiKey;
use super::primitives::{Reader, Result, Writer};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHeader {
    pub api_key: i16,
    pub api_version: i16,
    pub correlation_id: i32,
    pub client_id: Option<String>,
}

impl RequestHeader {
    /// Reads the header at the front of a request frame. The header version
    /// follows from the API key and version; for a key or version we do not
    /// know, the tagged-field section (if any) is left unread, since such a
    /// request is answered (ApiVersions) or refused without reading its body.
    pub fn read(r: &mut Reader<'_>) -> Result<RequestHeader> {
        let api_key = r.i16()?;
        let api_version = r.i16()?;
        let correlation_id = r.i32()?;
        let client_id = r.nullable_string(false)?;
        if let Some(key) = ApiKey::from_i16(api_key) {
            if key.supports(api_version) && key.request_header_version(api_version) >= 2 {
                r.skip_tagged_fields(true)?;
            }
        }
        Ok(RequestHeader {
            api_key,
            api_version,
            correlation_id,
            client_id,
        })
    }

    pub fn write(&self, w: &mut Writer, header_version: i16) {
        w.i16(self.api_key);
        w.i16(self.api_version);
        w.i32(self.correlation_id);
        w.nullable_string(false, self.client_id.as_deref());
        w.empty_tagged_fields(header_version >= 2);
    }
}

/// Writes a response header of the given version.
pub fn write_response_header(w: &mut Writer, correlation_id: i32, header_version: i16) {
    w.i32(correlation_id);
    w.empty_tagged_fields(header_version >= 1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flexible_request_header_skips_tagged_fields() {
        let header = RequestHeader {
            api_key: ApiKey::Metadata as i16,
            api_version: 12,
            correlation_id: 7,
            client_id: Some("rdkafka".into()),
        };
        let mut w = Writer::new();
        header.write(&mut w, 2);
        w.i8(42);
        let mut r = Reader::new(&w.buf);
        assert_eq!(RequestHeader::read(&mut r).unwrap(), header);
        assert_eq!(r.i8().unwrap(), 42);
    }
}

//! The shared harness of the oracle tests.
//!
//! Every message module checks its codec against kafka-protocol, an
//! independent implementation generated from Kafka's JSON schemas: requests
//! are encoded by kafka-protocol and decoded by us, responses are encoded by
//! us and decoded by kafka-protocol. These helpers are the scaffolding those
//! tests share, so each module's tests only say what is particular to its
//! API: the sample values and the field-by-field comparison.

use std::fmt::Debug;
use std::ops::RangeInclusive;

use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};

use crate::protocol::primitives::{Reader, Result, Writer};

/// Builds a kafka-protocol struct (they are `#[non_exhaustive]`, so struct
/// literals are not allowed) field by field from its default.
macro_rules! oracle {
    ($t:path { $($f:ident : $v:expr),* $(,)? }) => {{
        let mut x = <$t>::default();
        $(x.$f = $v;)*
        x
    }};
}
pub(crate) use oracle;

/// A kafka-protocol string from a borrowed one.
pub fn s(v: &str) -> StrBytes {
    StrBytes::from_string(v.to_owned())
}

/// Encodes `message` with kafka-protocol, as a client would send it.
pub fn encode<M: Encodable>(message: &M, version: i16) -> Vec<u8> {
    let mut buf = Vec::new();
    message
        .encode(&mut buf, version)
        .unwrap_or_else(|e| panic!("v{version}: oracle cannot encode: {e}"));
    buf
}

/// Decodes `bytes` with kafka-protocol, as a client would read them, and
/// checks that the whole buffer was consumed.
pub fn decode<M: Decodable>(bytes: &[u8], version: i16) -> M {
    let mut rest = bytes;
    let message = M::decode(&mut rest, version)
        .unwrap_or_else(|e| panic!("v{version}: oracle cannot decode: {e}"));
    assert!(rest.is_empty(), "v{version}: oracle left bytes");
    message
}

/// Decodes `bytes` with our `read` and checks that the whole buffer was
/// consumed.
pub fn read_all<T>(
    bytes: &[u8],
    version: i16,
    read: impl Fn(&mut Reader<'_>, i16) -> Result<T>,
) -> T {
    let mut r = Reader::new(bytes);
    let value = read(&mut r, version).unwrap_or_else(|e| panic!("v{version}: {e:?}"));
    assert!(r.is_empty(), "v{version}: bytes left over");
    value
}

/// Encodes `value` with our `write`.
pub fn write<T>(value: &T, version: i16, write: impl Fn(&T, &mut Writer, i16)) -> Vec<u8> {
    let mut w = Writer::new();
    write(value, &mut w, version);
    w.buf
}

/// Checks that every strict prefix of a valid encoding is a decode error,
/// never a panic nor a shorter message.
pub fn assert_truncations_fail<T: Debug>(
    bytes: &[u8],
    version: i16,
    read: impl Fn(&mut Reader<'_>, i16) -> Result<T>,
) {
    for len in 0..bytes.len() {
        let decoded = read(&mut Reader::new(&bytes[..len]), version);
        assert!(
            decoded.is_err(),
            "v{version}: prefix of {len} bytes decoded as {decoded:?}"
        );
    }
}

/// Our optional string from a kafka-protocol nullable one.
pub fn text(s: &Option<StrBytes>) -> Option<String> {
    s.as_ref().map(|s| s.to_string())
}

/// [`assert_truncations_fail`] for each version, on the valid encoding
/// `encode` gives for it.
pub fn assert_truncations_fail_in<T: Debug>(
    versions: RangeInclusive<i16>,
    encode: impl Fn(i16) -> Vec<u8>,
    read: impl Fn(&mut Reader<'_>, i16) -> Result<T>,
) {
    for version in versions {
        assert_truncations_fail(&encode(version), version, &read);
    }
}

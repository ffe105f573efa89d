//! The Kafka wire codec: bytes in, structs out, structs in, bytes out.
//!
//! Pure by design: nothing here does I/O, touches the database or knows
//! about the broker's state, so every piece can be tested (and fuzzed) on its
//! own. The handlers in [`crate::handlers`] act on what this module decodes.
//!
//! - [`primitives`]: the wire types (ints, varints, strings, arrays, tagged fields).
//! - [`api_key`]: the API keys and the versions we advertise.
//! - [`error`]: Kafka's error codes.
//! - [`header`]: request and response headers.
//! - [`messages`]: one module per API, each with a versioned request reader
//!   and response writer.
//! - [`records`] and [`compression`]: record batch v2 and its codecs.

pub mod api_key;
pub mod compression;
pub mod error;
pub mod header;
pub mod messages;
pub mod primitives;
pub mod records;

pub use api_key::ApiKey;
pub use error::ErrorCode;
pub use primitives::{DecodeError, Reader, Writer};

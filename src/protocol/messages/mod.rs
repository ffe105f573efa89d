//! One module per Kafka API: the request as the broker reads it and the
//! response as the broker writes it, for every advertised version.
//!
//! Conventions (the JSON schemas in Kafka's
//! `clients/src/main/resources/common/message/` are the reference):
//! - `XRequest::read(r, version)` decodes the body after the header;
//!   `XResponse::write(&self, w, version)` encodes the body.
//! - Fields that only exist from some version on are plain fields with their
//!   Kafka default when absent, documented with "vN+".
//! - Flexible versions end every struct with a tagged-field section; unknown
//!   tagged fields in requests are skipped, and responses write tagged fields
//!   only when they differ from their default.

pub mod api_versions;
pub mod fetch;
pub mod list_offsets;
pub mod metadata;
pub mod produce;
pub mod offset_for_leader_epoch;
pub mod create_topics;
pub mod delete_topics;
pub mod describe_cluster;

//! Kafkaesque: a Kafka-protocol broker that keeps every byte in PostgreSQL.
pub mod protocol;

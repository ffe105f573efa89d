//! Kafkaesque: a broker that speaks the Apache Kafka wire protocol and keeps
//! every byte in PostgreSQL.
//!
//! A map of the components, in the order a request meets them:
//!
//! - [`server`]: the blocking accept loop, one thread per client connection.
//! - [`connection`]: reads size-prefixed frames from one socket and writes
//!   the responses back, in order.
//! - [`protocol`]: the pure wire codec: primitives, headers, one module per
//!   API, record batches and compression. Bytes in, structs out.
//! - [`handlers`]: one module per API: validate, act, build the response.
//! - [`broker`]: the state every connection shares (config, pool, caches).
//! - [`coordinator`]: consumer groups: membership, rebalances, and the
//!   threads that enforce their timeouts and record their state.
//! - [`pool`]: the fixed pool of PostgreSQL connections, each owned by a
//!   worker thread fed by a channel; group commit for appends.
//! - [`storage`]: all SQL: schema check, topics, the record log.
//! - [`notifier`]: wakes long-polling fetches when a produce commits.
//! - [`read_ahead`]: reads queued for a consumer's next Fetch while it
//!   decodes the last answer.
//! - [`shutdown`]: SIGINT/SIGTERM handling and the shutdown flag.
//! - [`config`]: the settings table; flags, `KAFKA_*` environment
//!   variables and `server.properties` files resolved into one `Config`.
//! - [`dev`]: `kafkaesque dev`, a private PostgreSQL for development.
//! - [`topic_config`]: every topic config, validation, and what a topic's
//!   configs resolve to; [`resource_configs`]: broker and group configs and
//!   the dynamic values set on them.
//! - [`acl`]: ACL bindings, their validation and filter matching;
//!   [`scram`]: SCRAM credentials and the keys kept of them.
//! - [`log_cleaner`]: the background thread applying retention and
//!   compaction.
//! - [`metrics`]: counters and gauges any module feeds;
//!   [`metrics_endpoint`] serves them to Prometheus.
//!
//! `src/main.rs` wires them together.

pub mod acl;
pub mod broker;
pub mod config;
pub mod connection;
pub mod coordinator;
pub mod dev;
pub mod handlers;
pub mod log_cleaner;
pub mod metrics;
pub mod metrics_endpoint;
pub mod notifier;
pub mod pool;
pub mod protocol;
pub mod read_ahead;
pub mod resource_configs;
pub mod scram;
pub mod server;
pub mod shutdown;
pub mod storage;
pub mod topic_config;
pub mod transactions;

/// This build's version (Cargo.toml).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The git commit this build was made from, or "unknown" outside a git
/// checkout (see `build.rs`).
pub const GIT_COMMIT: &str = env!("KAFKAESQUE_GIT_COMMIT");

//! Command-line flags. Each flag names the Kafka setting it mirrors, so a
//! person who knows `server.properties` knows what to pass.

use argh::FromArgs;
use std::net::{SocketAddr, ToSocketAddrs};

/// Kafkaesque: a Kafka-protocol broker that keeps every byte in PostgreSQL.
#[derive(FromArgs, Debug, Clone)]
pub struct Config {
    /// postgreSQL connection URL (also read from DATABASE_URL); default
    /// postgres://postgres@127.0.0.1:5432/postgres
    #[argh(option)]
    pub database_url: Option<String>,

    /// if PostgreSQL is unreachable at start-up, keep retrying (with
    /// backoff) for up to this many seconds instead of exiting at once;
    /// default 0
    #[argh(option, default = "0")]
    pub wait_for_database: u64,

    /// address to accept Kafka clients on, HOST:PORT (Kafka: listeners);
    /// default 0.0.0.0:9092
    #[argh(option, default = "String::from(\"0.0.0.0:9092\")")]
    pub listener: String,

    /// address Metadata tells clients to connect to, HOST:PORT (Kafka:
    /// advertised.listeners); default: the listener, with 0.0.0.0 replaced
    /// by this machine's host name
    #[argh(option)]
    pub advertised_listener: Option<String>,

    /// apply the bundled schema.sql if the schema is missing or older
    /// (harmless if it is current)
    #[argh(switch)]
    pub init_schema: bool,

    /// this broker's node id (Kafka: node.id); default 1
    #[argh(option, default = "1")]
    pub node_id: i32,

    /// partitions of an auto-created topic, and of a CreateTopics request
    /// that says -1 (Kafka: num.partitions); default 1
    #[argh(option, default = "1")]
    pub num_partitions: i32,

    /// create a topic when a client asks for metadata of an unknown one
    /// (Kafka: auto.create.topics.enable); default true
    #[argh(option, default = "true")]
    pub auto_create_topics: bool,

    /// largest record batch a topic accepts unless its max.message.bytes
    /// says otherwise (Kafka: message.max.bytes); default 1048588
    #[argh(option, default = "1048588")]
    pub message_max_bytes: i32,

    /// how long to keep records before the log cleaner deletes them, in
    /// hours, unless a topic's retention.ms says otherwise (Kafka:
    /// log.retention.hours); default 168
    #[argh(option, default = "168")]
    pub log_retention_hours: i64,

    /// as --log-retention-hours, in minutes; takes precedence over it
    /// (Kafka: log.retention.minutes)
    #[argh(option)]
    pub log_retention_minutes: Option<i64>,

    /// as --log-retention-hours, in milliseconds; takes precedence over
    /// both; -1 keeps records forever (Kafka: log.retention.ms)
    #[argh(option)]
    pub log_retention_ms: Option<i64>,

    /// largest size of a partition before the oldest records are deleted,
    /// unless a topic's retention.bytes says otherwise; -1 for no limit
    /// (Kafka: log.retention.bytes); default -1
    #[argh(option, default = "-1")]
    pub log_retention_bytes: i64,

    /// how often the log cleaner applies retention and compaction (Kafka:
    /// log.retention.check.interval.ms); default 300000
    #[argh(option, default = "300000")]
    pub log_retention_check_interval_ms: u64,

    /// cleanup.policy of topics that do not set one: delete, compact or
    /// compact,delete (Kafka: log.cleanup.policy); default delete
    #[argh(option, default = "String::from(\"delete\")")]
    pub log_cleanup_policy: String,

    /// how long tombstones of compacted topics are kept (Kafka:
    /// log.cleaner.delete.retention.ms); default 86400000
    #[argh(option, default = "86400000")]
    pub log_cleaner_delete_retention_ms: i64,

    /// how long a record stays uncompacted at least (Kafka:
    /// log.cleaner.min.compaction.lag.ms); default 0
    #[argh(option, default = "0")]
    pub log_cleaner_min_compaction_lag_ms: i64,

    /// message.timestamp.type of topics that do not set one: CreateTime or
    /// LogAppendTime (Kafka: log.message.timestamp.type); default CreateTime
    #[argh(option, default = "String::from(\"CreateTime\")")]
    pub log_message_timestamp_type: String,

    /// how far in the past a CreateTime timestamp may be (Kafka:
    /// log.message.timestamp.before.max.ms); default: unlimited
    #[argh(option, default = "i64::MAX")]
    pub log_message_timestamp_before_max_ms: i64,

    /// how far in the future a CreateTime timestamp may be (Kafka:
    /// log.message.timestamp.after.max.ms); default 3600000
    #[argh(option, default = "3600000")]
    pub log_message_timestamp_after_max_ms: i64,

    /// postgreSQL connections in the fixed pool; default 8
    #[argh(option, default = "8")]
    pub pool_size: usize,

    /// most client connections served at once (Kafka:
    /// max.connections); default 10000
    #[argh(option, default = "10000")]
    pub max_connections: usize,

    /// largest request frame accepted; larger ones close the connection
    /// (Kafka: socket.request.max.bytes); default 104857600
    #[argh(option, default = "104857600")]
    pub max_request_bytes: usize,

    /// longest transaction timeout a producer may ask for, in ms (Kafka:
    /// transaction.max.timeout.ms); default 900000
    #[argh(option, default = "900000")]
    pub transaction_max_timeout_ms: i32,

    /// how long the first rebalance of an empty group waits for more
    /// members (Kafka: group.initial.rebalance.delay.ms, whose default is
    /// 3000; Kafka's dev configs use 0); default 0
    #[argh(option, default = "0")]
    pub group_initial_rebalance_delay_ms: u64,

    /// shortest session timeout a group member may ask for (Kafka:
    /// group.min.session.timeout.ms); default 6000
    #[argh(option, default = "6000")]
    pub group_min_session_timeout_ms: u64,

    /// longest session timeout a group member may ask for (Kafka:
    /// group.max.session.timeout.ms); default 1800000
    #[argh(option, default = "1800000")]
    pub group_max_session_timeout_ms: u64,

    /// longest metadata string stored with a committed offset (Kafka:
    /// offset.metadata.max.bytes); default 4096
    #[argh(option, default = "4096")]
    pub offset_metadata_max_bytes: usize,

    /// log level: error, warn, info, debug or trace; default info
    #[argh(option, default = "String::from(\"info\")")]
    pub log_level: String,

    /// serve Prometheus metrics on http://HOST:PORT/metrics; default off
    #[argh(option)]
    pub metrics_listener: Option<String>,

    /// print the version and git commit, then exit
    #[argh(switch)]
    pub version: bool,
}

pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

impl Config {
    /// The group settings the coordinator applies.
    pub fn group_config(&self) -> crate::coordinator::group::GroupConfig {
        use std::time::Duration;
        crate::coordinator::group::GroupConfig {
            min_session_timeout: Duration::from_millis(self.group_min_session_timeout_ms),
            max_session_timeout: Duration::from_millis(self.group_max_session_timeout_ms),
            initial_rebalance_delay: Duration::from_millis(self.group_initial_rebalance_delay_ms),
        }
    }

    /// The database URL from the flag, else `DATABASE_URL`, else the default.
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .or_else(|| std::env::var("DATABASE_URL").ok().filter(|s| !s.is_empty()))
            .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_string())
    }

    /// The value of broker setting `name` (Kafka's `server.properties`
    /// name) if it was set: a flag given a value other than Kafka's
    /// default, or one Kafka always requires (node.id, listeners, ...).
    /// DescribeConfigs reports these as STATIC_BROKER_CONFIG, and topic
    /// configs fall back to them through their synonyms.
    pub fn static_broker_config(&self, name: &str) -> Option<String> {
        fn set<T: PartialEq + ToString>(value: T, kafka_default: T) -> Option<String> {
            (value != kafka_default).then(|| value.to_string())
        }
        match name {
            "node.id" | "broker.id" => Some(self.node_id.to_string()),
            "listeners" => Some(format!("PLAINTEXT://{}", self.listener)),
            "advertised.listeners" => self
                .advertised_listener
                .as_ref()
                .map(|a| format!("PLAINTEXT://{a}")),
            "num.partitions" => set(self.num_partitions, 1),
            "auto.create.topics.enable" => set(self.auto_create_topics, true),
            "message.max.bytes" => set(self.message_max_bytes, 1_048_588),
            "max.connections" => set(self.max_connections, i32::MAX as usize),
            "socket.request.max.bytes" => set(self.max_request_bytes, 104_857_600),
            "log.retention.hours" => set(self.log_retention_hours, 168),
            "log.retention.minutes" => self.log_retention_minutes.map(|v| v.to_string()),
            "log.retention.ms" => self.log_retention_ms.map(|v| v.to_string()),
            "log.retention.bytes" => set(self.log_retention_bytes, -1),
            "log.retention.check.interval.ms" => set(self.log_retention_check_interval_ms, 300_000),
            "log.cleanup.policy" => set(self.log_cleanup_policy.as_str(), "delete"),
            "log.cleaner.delete.retention.ms" => {
                set(self.log_cleaner_delete_retention_ms, 86_400_000)
            }
            "log.cleaner.min.compaction.lag.ms" => set(self.log_cleaner_min_compaction_lag_ms, 0),
            "log.message.timestamp.type" => {
                set(self.log_message_timestamp_type.as_str(), "CreateTime")
            }
            "log.message.timestamp.before.max.ms" => {
                set(self.log_message_timestamp_before_max_ms, i64::MAX)
            }
            "log.message.timestamp.after.max.ms" => {
                set(self.log_message_timestamp_after_max_ms, 3_600_000)
            }
            _ => None,
        }
    }

    pub fn listener_addr(&self) -> Result<SocketAddr, String> {
        socket_addr("--listener", &self.listener)
    }

    /// Where to serve metrics, if anywhere.
    pub fn metrics_addr(&self) -> Result<Option<SocketAddr>, String> {
        self.metrics_listener
            .as_deref()
            .map(|addr| socket_addr("--metrics-listener", addr))
            .transpose()
    }

    /// Host and port that Metadata advertises. A wildcard listener is
    /// advertised by host name so that clients elsewhere can reach it.
    pub fn advertised(&self, bound: SocketAddr) -> Result<(String, i32), String> {
        if let Some(adv) = &self.advertised_listener {
            let (host, port) = adv
                .rsplit_once(':')
                .ok_or_else(|| format!("--advertised-listener {adv:?} is not HOST:PORT"))?;
            let port: u16 = port
                .parse()
                .map_err(|_| format!("--advertised-listener {adv:?} has an invalid port"))?;
            return Ok((
                host.trim_matches(|c| c == '[' || c == ']').to_string(),
                i32::from(port),
            ));
        }
        let host = if bound.ip().is_unspecified() {
            local_host_name().unwrap_or_else(|| "localhost".to_string())
        } else {
            bound.ip().to_string()
        };
        Ok((host, i32::from(bound.port())))
    }
}

fn socket_addr(flag: &str, addr: &str) -> Result<SocketAddr, String> {
    addr.to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .ok_or_else(|| format!("{flag} {addr:?} is not a HOST:PORT address"))
}

/// This machine's host name, if it resolves (as Kafka advertises a wildcard
/// listener by its canonical host name).
fn local_host_name() -> Option<String> {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    let name = name.trim();
    let resolves = (name, 0)
        .to_socket_addrs()
        .is_ok_and(|mut a| a.next().is_some());
    (!name.is_empty() && resolves).then(|| name.to_string())
}

//! The broker's settings: one table ([`SETTINGS`], declared below) gives
//! each its Kafka name, its flag, its type (which parses and checks it) and
//! whether it is secret. From it come the typed [`Config`] the broker
//! reads, the command-line [`Flags`] and the loader ([`load`]) that merges
//! flags, `KAFKA_*` environment variables ([`environment`]) and a
//! `server.properties` file ([`properties`]).
//!
//! Adding a setting is one row here. A Kafka setting without a row is
//! accepted and reported as ignored (it has no effect here); a name that is
//! no Kafka setting at all is an error.

#[macro_use]
mod setting;
pub mod environment;
pub mod listeners;
pub mod load;
pub mod properties;

pub use load::{Loaded, Origin};
pub use setting::{mask_url_password, Setting, SettingValue, Shown};

use std::net::{SocketAddr, ToSocketAddrs};

pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Kafka's default `listener.security.protocol.map`.
const DEFAULT_SECURITY_PROTOCOL_MAP: &str =
    "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL";

settings! {
    options {
        /// postgreSQL connection URL (also read from DATABASE_URL); default
        /// postgres://postgres@127.0.0.1:5432/postgres
        database_url: String = DEFAULT_DATABASE_URL.to_string()
            => "kafkaesque.database.url", UrlPassword;

        /// if PostgreSQL is unreachable at start-up, keep retrying (with
        /// backoff) for up to this many seconds instead of exiting at once;
        /// default 0
        wait_for_database: u64 = 0 => "kafkaesque.wait.for.database", Plain;

        /// where to accept Kafka clients: HOST:PORT, or Kafka's
        /// NAME://HOST:PORT list (Kafka: listeners); default 0.0.0.0:9092
        listener: String = "0.0.0.0:9092".to_string() => "listeners", Plain;

        /// address Metadata tells clients to connect to, HOST:PORT or
        /// NAME://HOST:PORT (Kafka: advertised.listeners); default: the
        /// listener, with 0.0.0.0 replaced by this machine's host name
        advertised_listener: Option<String> = None => "advertised.listeners", Plain;

        /// names of listeners that are KRaft controller listeners, which
        /// this broker leaves out (Kafka: controller.listener.names)
        controller_listener_names: String = String::new()
            => "controller.listener.names", Plain;

        /// security protocol of each listener name, NAME:PROTOCOL,...; only
        /// PLAINTEXT is served (Kafka: listener.security.protocol.map)
        listener_security_protocol_map: String = DEFAULT_SECURITY_PROTOCOL_MAP.to_string()
            => "listener.security.protocol.map", Plain;

        /// this broker's node id (Kafka: node.id, or broker.id); default 1
        node_id: i32 = 1 => "node.id", Plain;

        /// partitions of an auto-created topic, and of a CreateTopics request
        /// that says -1 (Kafka: num.partitions); default 1
        num_partitions: i32 = 1 => "num.partitions", Plain;

        /// create a topic when a client asks for metadata of an unknown one
        /// (Kafka: auto.create.topics.enable); default true
        auto_create_topics: bool = true => "auto.create.topics.enable", Plain;

        /// largest record batch a topic accepts unless its max.message.bytes
        /// says otherwise (Kafka: message.max.bytes); default 1048588
        message_max_bytes: i32 = 1_048_588 => "message.max.bytes", Plain;

        /// how long to keep records before the log cleaner deletes them, in
        /// hours, unless a topic's retention.ms says otherwise (Kafka:
        /// log.retention.hours); default 168
        log_retention_hours: i64 = 168 => "log.retention.hours", Plain;

        /// as --log-retention-hours, in minutes; takes precedence over it
        /// (Kafka: log.retention.minutes)
        log_retention_minutes: Option<i64> = None => "log.retention.minutes", Plain;

        /// as --log-retention-hours, in milliseconds; takes precedence over
        /// both; -1 keeps records forever (Kafka: log.retention.ms)
        log_retention_ms: Option<i64> = None => "log.retention.ms", Plain;

        /// largest size of a partition before the oldest records are deleted,
        /// unless a topic's retention.bytes says otherwise; -1 for no limit
        /// (Kafka: log.retention.bytes); default -1
        log_retention_bytes: i64 = -1 => "log.retention.bytes", Plain;

        /// how often the log cleaner applies retention and compaction (Kafka:
        /// log.retention.check.interval.ms); default 300000
        log_retention_check_interval_ms: u64 = 300_000
            => "log.retention.check.interval.ms", Plain;

        /// cleanup.policy of topics that do not set one: delete, compact or
        /// compact,delete (Kafka: log.cleanup.policy); default delete
        log_cleanup_policy: String = "delete".to_string() => "log.cleanup.policy", Plain;

        /// how long tombstones of compacted topics are kept (Kafka:
        /// log.cleaner.delete.retention.ms); default 86400000
        log_cleaner_delete_retention_ms: i64 = 86_400_000
            => "log.cleaner.delete.retention.ms", Plain;

        /// how long a record stays uncompacted at least (Kafka:
        /// log.cleaner.min.compaction.lag.ms); default 0
        log_cleaner_min_compaction_lag_ms: i64 = 0
            => "log.cleaner.min.compaction.lag.ms", Plain;

        /// message.timestamp.type of topics that do not set one: CreateTime or
        /// LogAppendTime (Kafka: log.message.timestamp.type); default CreateTime
        log_message_timestamp_type: String = "CreateTime".to_string()
            => "log.message.timestamp.type", Plain;

        /// how far in the past a CreateTime timestamp may be (Kafka:
        /// log.message.timestamp.before.max.ms); default: unlimited
        log_message_timestamp_before_max_ms: i64 = i64::MAX
            => "log.message.timestamp.before.max.ms", Plain;

        /// how far in the future a CreateTime timestamp may be (Kafka:
        /// log.message.timestamp.after.max.ms); default 3600000
        log_message_timestamp_after_max_ms: i64 = 3_600_000
            => "log.message.timestamp.after.max.ms", Plain;

        /// postgreSQL connections in the fixed pool; default 8
        pool_size: usize = 8 => "kafkaesque.pool.size", Plain;

        /// most client connections served at once (Kafka:
        /// max.connections); default 10000
        max_connections: usize = 10_000 => "max.connections", Plain;

        /// largest request frame accepted; larger ones close the connection
        /// (Kafka: socket.request.max.bytes); default 104857600
        max_request_bytes: usize = 104_857_600 => "socket.request.max.bytes", Plain;

        /// longest transaction timeout a producer may ask for, in ms (Kafka:
        /// transaction.max.timeout.ms); default 900000
        transaction_max_timeout_ms: i32 = 900_000 => "transaction.max.timeout.ms", Plain;

        /// how long the first rebalance of an empty group waits for more
        /// members (Kafka: group.initial.rebalance.delay.ms, whose default is
        /// 3000; Kafka's dev configs use 0); default 0
        group_initial_rebalance_delay_ms: u64 = 0
            => "group.initial.rebalance.delay.ms", Plain;

        /// shortest session timeout a group member may ask for (Kafka:
        /// group.min.session.timeout.ms); default 6000
        group_min_session_timeout_ms: u64 = 6_000 => "group.min.session.timeout.ms", Plain;

        /// longest session timeout a group member may ask for (Kafka:
        /// group.max.session.timeout.ms); default 1800000
        group_max_session_timeout_ms: u64 = 1_800_000
            => "group.max.session.timeout.ms", Plain;

        /// longest metadata string stored with a committed offset (Kafka:
        /// offset.metadata.max.bytes); default 4096
        offset_metadata_max_bytes: usize = 4_096 => "offset.metadata.max.bytes", Plain;

        /// log level: error, warn, info, debug, trace or off (also read from
        /// KAFKA_LOG4J_ROOT_LOGLEVEL); default info
        log_level: log::LevelFilter = log::LevelFilter::Info => "kafkaesque.log.level", Plain;

        /// serve Prometheus metrics on http://HOST:PORT/metrics; default off
        metrics_listener: Option<String> = None => "kafkaesque.metrics.listener", Plain;
    }
    switches {
        /// apply the bundled schema.sql if the schema is missing or older
        /// (harmless if it is current)
        init_schema => "kafkaesque.init.schema";
    }
    cli {
        /// dev: also run a private PostgreSQL for development, created on
        /// first use in --data-dir (see the README)
        #[argh(positional)]
        pub command: Option<String>,

        /// read settings from this file, in Kafka's server.properties
        /// format; flags and KAFKA_* variables override it
        #[argh(option)]
        pub config: Option<String>,

        /// print the effective settings, each with where it came from
        /// (passwords masked), then exit
        #[argh(switch)]
        pub print_config: bool,

        /// kafkaesque dev: the directory of its PostgreSQL cluster; default
        /// ./kafkaesque-data
        #[argh(option)]
        pub data_dir: Option<String>,

        /// print the version and git commit, then exit
        #[argh(switch)]
        pub version: bool,
    }
}

/// Kafka names that set another setting's row: `broker.id` is the ZooKeeper
/// era's name of `node.id` (both must agree if both are set).
pub const ALIASES: &[(&str, &str)] = &[("broker.id", "node.id")];

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
            "listeners" => Some(with_listener_name(&self.listener)),
            "advertised.listeners" => self.advertised_listener.as_deref().map(with_listener_name),
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

    /// The listener clients connect to ([`listeners::client_listener`]).
    pub fn client_listener(&self) -> Result<listeners::Listener, String> {
        listeners::client_listener(
            &self.listener,
            &self.controller_listener_names,
            &self.listener_security_protocol_map,
        )
    }

    /// The address to accept clients on.
    pub fn listener_addr(&self) -> Result<SocketAddr, String> {
        let listener = self.client_listener()?;
        socket_addr("listeners", &listener.bind_address())
    }

    /// Where to serve metrics, if anywhere.
    pub fn metrics_addr(&self) -> Result<Option<SocketAddr>, String> {
        self.metrics_listener
            .as_deref()
            .map(|addr| socket_addr("--metrics-listener", addr))
            .transpose()
    }

    /// Host and port that Metadata advertises: the `advertised.listeners`
    /// entry of the client listener's name, else the listener itself. A
    /// wildcard or empty host is advertised by this machine's host name so
    /// that clients elsewhere can reach it.
    pub fn advertised(&self, bound: SocketAddr) -> Result<(String, i32), String> {
        let listener = self.client_listener()?;
        let (host, port) = match &self.advertised_listener {
            Some(advertised) => {
                let entry = listeners::advertised_for(advertised, &listener.name)?;
                (entry.host, entry.port)
            }
            None => (bound.ip().to_string(), bound.port()),
        };
        let wildcard = host.is_empty()
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_unspecified());
        let host = if wildcard {
            local_host_name().unwrap_or_else(|| "localhost".to_string())
        } else {
            host
        };
        Ok((host, i32::from(port)))
    }
}

/// A listener list as Kafka writes it: a bare HOST:PORT gets its name.
fn with_listener_name(listeners: &str) -> String {
    if listeners.contains("://") {
        listeners.to_string()
    } else {
        format!("PLAINTEXT://{listeners}")
    }
}

fn socket_addr(setting: &str, addr: &str) -> Result<SocketAddr, String> {
    addr.to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .ok_or_else(|| format!("{setting} {addr:?} is not a HOST:PORT address"))
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

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

    pub fn listener_addr(&self) -> Result<SocketAddr, String> {
        self.listener
            .to_socket_addrs()
            .ok()
            .and_then(|mut addrs| addrs.next())
            .ok_or_else(|| format!("--listener {:?} is not a HOST:PORT address", self.listener))
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
